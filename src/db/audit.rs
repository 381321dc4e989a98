//! The audit log: who did what, when, in which account.

use super::entity::audit_events;
use super::{Db, DbResult};
use sea_orm::{ActiveModelTrait, Set};

pub struct NewAuditEvent<'a> {
    pub account_id: Option<i64>,
    pub actor: &'a str,
    pub action: &'a str,
    pub repository: Option<&'a str>,
    pub detail: Option<String>,
    pub client: Option<String>,
    pub created_at: i64,
}

impl Db {
    pub async fn record_audit(&self, e: NewAuditEvent<'_>) -> DbResult<()> {
        audit_events::ActiveModel {
            account_id: Set(e.account_id),
            actor: Set(e.actor.to_owned()),
            action: Set(e.action.to_owned()),
            repository: Set(e.repository.map(str::to_owned)),
            detail: Set(e.detail),
            client: Set(e.client),
            created_at: Set(e.created_at),
            ..Default::default()
        }
        .insert(&self.conn)
        .await?;
        Ok(())
    }
}

impl Db {
    /// A page of an account's audit events, newest first, optionally only actions
    /// starting with one of `action_prefixes` and only one repository; with the total.
    pub async fn audit_page(
        &self,
        account_id: i64,
        action_prefixes: &[&str],
        repository: Option<&str>,
        offset: u64,
        limit: u64,
    ) -> DbResult<(Vec<super::AuditEvent>, u64)> {
        use sea_orm::{
            ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
            QuerySelect,
        };
        let mut q =
            audit_events::Entity::find().filter(audit_events::Column::AccountId.eq(account_id));
        if !action_prefixes.is_empty() {
            let any = action_prefixes.iter().fold(Condition::any(), |c, p| {
                c.add(audit_events::Column::Action.starts_with(*p))
            });
            q = q.filter(any);
        }
        if let Some(r) = repository {
            q = q.filter(audit_events::Column::Repository.eq(r));
        }
        let total = q.clone().count(&self.read).await?;
        let rows = q
            .order_by_desc(audit_events::Column::Id)
            .offset(offset)
            .limit(limit)
            .all(&self.read)
            .await?;
        Ok((rows, total))
    }
}
