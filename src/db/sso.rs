//! Single sign-on's rows: users keyed by (issuer, subject), the groups an account
//! maps to roles, and the sync of a person's group roles at each sign-in.

use super::entity::{group_mappings, memberships, users};
use super::{Db, DbResult, User};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};

/// A group of an account's mapped to a role.
pub type GroupMapping = group_mappings::Model;

/// A role sign-in gives a person in an account, and the group it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRole {
    pub account_id: i64,
    pub role: String,
    pub group: String,
}

/// What a sync changed: accounts whose role was given or changed, and accounts left.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleChanges {
    pub given: Vec<i64>,
    pub removed: Vec<i64>,
}

impl Db {
    pub async fn user_by_subject(&self, issuer: &str, subject: &str) -> DbResult<Option<User>> {
        Ok(users::Entity::find()
            .filter(users::Column::OidcIssuer.eq(issuer))
            .filter(users::Column::OidcSubject.eq(subject))
            .one(&self.conn)
            .await?)
    }

    /// Creates a single sign-on user; `password_hash` is of a secret nobody knows.
    pub async fn create_sso_user(
        &self,
        username: &str,
        issuer: &str,
        subject: &str,
        password_hash: &str,
        now: i64,
    ) -> DbResult<User> {
        Ok(users::ActiveModel {
            username: Set(username.to_owned()),
            password_hash: Set(password_hash.to_owned()),
            site_admin: Set(false),
            created_at: Set(now),
            oidc_issuer: Set(Some(issuer.to_owned())),
            oidc_subject: Set(Some(subject.to_owned())),
            ..Default::default()
        }
        .insert(&self.conn)
        .await?)
    }

    /// Site admins not disabled, by name.
    pub async fn site_admin_names(&self) -> DbResult<Vec<String>> {
        Ok(users::Entity::find()
            .filter(users::Column::SiteAdmin.eq(true))
            .filter(users::Column::DisabledAt.is_null())
            .order_by_asc(users::Column::Username)
            .all(&self.read)
            .await?
            .into_iter()
            .map(|u| u.username)
            .collect())
    }

    pub async fn set_site_admin(&self, user_id: i64, site_admin: bool) -> DbResult<()> {
        users::Entity::update_many()
            .col_expr(users::Column::SiteAdmin, Expr::value(site_admin))
            .filter(users::Column::Id.eq(user_id))
            .exec(&self.conn)
            .await?;
        Ok(())
    }

    /// Maps a group to a role in an account, replacing the role it had.
    pub async fn map_group(
        &self,
        account_id: i64,
        group: &str,
        role: &str,
        now: i64,
    ) -> DbResult<()> {
        group_mappings::Entity::insert(group_mappings::ActiveModel {
            account_id: Set(account_id),
            group_name: Set(group.to_owned()),
            role: Set(role.to_owned()),
            created_at: Set(now),
        })
        .on_conflict(
            OnConflict::columns([
                group_mappings::Column::AccountId,
                group_mappings::Column::GroupName,
            ])
            .update_column(group_mappings::Column::Role)
            .to_owned(),
        )
        .exec_without_returning(&self.conn)
        .await?;
        Ok(())
    }

    /// False when the group was not mapped.
    pub async fn unmap_group(&self, account_id: i64, group: &str) -> DbResult<bool> {
        let res = group_mappings::Entity::delete_by_id((account_id, group.to_owned()))
            .exec(&self.conn)
            .await?;
        Ok(res.rows_affected > 0)
    }

    pub async fn group_mappings(&self, account_id: i64) -> DbResult<Vec<GroupMapping>> {
        Ok(group_mappings::Entity::find()
            .filter(group_mappings::Column::AccountId.eq(account_id))
            .order_by_asc(group_mappings::Column::GroupName)
            .all(&self.read)
            .await?)
    }

    /// Every mapping of any of these groups, in any account.
    pub async fn mappings_of_groups(&self, groups: &[String]) -> DbResult<Vec<GroupMapping>> {
        if groups.is_empty() {
            return Ok(Vec::new());
        }
        Ok(group_mappings::Entity::find()
            .filter(group_mappings::Column::GroupName.is_in(groups.iter().take(super::CHUNK)))
            .all(&self.conn)
            .await?)
    }

    /// Makes the user's roles that came from groups exactly `wanted` (one per
    /// account), in one transaction: a role from a group the person left goes; a
    /// role given by hand stays, unless a group now gives one in that account, which
    /// replaces it.
    pub async fn sync_group_roles(
        &self,
        user_id: i64,
        wanted: &[GroupRole],
        now: i64,
    ) -> DbResult<RoleChanges> {
        let txn = self.conn.begin().await?;
        let had = memberships::Entity::find()
            .filter(memberships::Column::UserId.eq(user_id))
            .all(&txn)
            .await?;
        let mut changes = RoleChanges::default();
        for m in had.iter().filter(|m| m.sso_group.is_some()) {
            if !wanted.iter().any(|w| w.account_id == m.account_id) {
                memberships::Entity::delete_by_id((m.account_id, user_id))
                    .exec(&txn)
                    .await?;
                changes.removed.push(m.account_id);
            }
        }
        for w in wanted {
            let existing = had.iter().find(|m| m.account_id == w.account_id);
            if existing
                .is_some_and(|m| m.role != w.role || m.sso_group.as_deref() != Some(&w.group))
                || existing.is_none()
            {
                changes.given.push(w.account_id);
            }
            memberships::Entity::insert(memberships::ActiveModel {
                account_id: Set(w.account_id),
                user_id: Set(user_id),
                role: Set(w.role.clone()),
                created_at: Set(now),
                sso_group: Set(Some(w.group.clone())),
                synced_at: Set(Some(now)),
            })
            .on_conflict(
                OnConflict::columns([memberships::Column::AccountId, memberships::Column::UserId])
                    .update_columns([
                        memberships::Column::Role,
                        memberships::Column::SsoGroup,
                        memberships::Column::SyncedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
        }
        txn.commit().await?;
        Ok(changes)
    }
}
