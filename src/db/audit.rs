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
            created_at: Set(e.created_at),
            ..Default::default()
        }
        .insert(&self.conn)
        .await?;
        Ok(())
    }
}
