//! Personal access tokens, 24-hour login tokens and node credentials. Only the SHA-256
//! of a secret is stored; the secret itself is shown once and never kept.

use super::entity::{credentials, refresh_grants};
use super::{Credential, Db, DbResult};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::Expr,
};

/// A refresh grant: what a refresh token from a password login lives by.
pub type RefreshGrant = refresh_grants::Model;

/// The most refresh grants one user keeps; logging in again beyond forgets the one
/// used least lately, so logins in a loop cannot grow the table.
pub const MAX_REFRESH_GRANTS_PER_USER: u64 = 100;

/// What a new credential row holds.
pub struct NewCredential<'a> {
    pub kind: &'a str,
    pub account_id: Option<i64>,
    pub user_id: Option<i64>,
    pub name: &'a str,
    pub secret_hash: &'a str,
    pub access: &'a str,
    pub created_at: i64,
    pub expires_at: Option<i64>,
}

impl Db {
    pub async fn create_credential(&self, c: NewCredential<'_>) -> DbResult<Credential> {
        let row = credentials::ActiveModel {
            kind: Set(c.kind.to_owned()),
            account_id: Set(c.account_id),
            user_id: Set(c.user_id),
            name: Set(c.name.to_owned()),
            secret_hash: Set(c.secret_hash.to_owned()),
            access: Set(c.access.to_owned()),
            created_at: Set(c.created_at),
            expires_at: Set(c.expires_at),
            last_used_at: Set(None),
            revoked_at: Set(None),
            ..Default::default()
        }
        .insert(&self.conn)
        .await?;
        Ok(row)
    }

    pub async fn credential_by_secret_hash(&self, hash: &str) -> DbResult<Option<Credential>> {
        Ok(credentials::Entity::find()
            .filter(credentials::Column::SecretHash.eq(hash))
            .one(&self.read)
            .await?)
    }

    pub async fn credential_by_id(&self, id: i64) -> DbResult<Option<Credential>> {
        Ok(credentials::Entity::find_by_id(id).one(&self.read).await?)
    }

    /// Credentials of one kind in an account, newest first.
    pub async fn credentials_of_account(
        &self,
        account_id: i64,
        kind: &str,
    ) -> DbResult<Vec<Credential>> {
        Ok(credentials::Entity::find()
            .filter(credentials::Column::AccountId.eq(account_id))
            .filter(credentials::Column::Kind.eq(kind))
            .order_by_desc(credentials::Column::Id)
            .all(&self.read)
            .await?)
    }

    /// A user's credentials of one kind, newest first.
    pub async fn credentials_of_user(&self, user_id: i64, kind: &str) -> DbResult<Vec<Credential>> {
        Ok(credentials::Entity::find()
            .filter(credentials::Column::UserId.eq(user_id))
            .filter(credentials::Column::Kind.eq(kind))
            .order_by_desc(credentials::Column::Id)
            .all(&self.read)
            .await?)
    }

    /// Marks a credential revoked; returns false when it did not exist or was revoked already.
    pub async fn revoke_credential(&self, id: i64, now: i64) -> DbResult<bool> {
        let res = credentials::Entity::update_many()
            .col_expr(credentials::Column::RevokedAt, Expr::value(now))
            .filter(credentials::Column::Id.eq(id))
            .filter(credentials::Column::RevokedAt.is_null())
            .exec(&self.conn)
            .await?;
        Ok(res.rows_affected == 1)
    }

    pub async fn touch_credential(&self, id: i64, now: i64) -> DbResult<()> {
        credentials::Entity::update_many()
            .col_expr(credentials::Column::LastUsedAt, Expr::value(now))
            .filter(credentials::Column::Id.eq(id))
            .exec(&self.conn)
            .await?;
        Ok(())
    }

    /// A grant for a new password login, forgetting the user's least recently used
    /// ones beyond [`MAX_REFRESH_GRANTS_PER_USER`].
    pub async fn create_refresh_grant(&self, user_id: i64, now: i64) -> DbResult<RefreshGrant> {
        let grant = refresh_grants::ActiveModel {
            user_id: Set(user_id),
            created_at: Set(now),
            last_used_at: Set(now),
            ..Default::default()
        }
        .insert(&self.conn)
        .await?;
        let ids: Vec<i64> = refresh_grants::Entity::find()
            .select_only()
            .column(refresh_grants::Column::Id)
            .filter(refresh_grants::Column::UserId.eq(user_id))
            .order_by_desc(refresh_grants::Column::LastUsedAt)
            .order_by_desc(refresh_grants::Column::Id)
            .into_tuple()
            .all(&self.conn)
            .await?;
        let stale: Vec<i64> = ids
            .into_iter()
            .skip(MAX_REFRESH_GRANTS_PER_USER as usize)
            .collect();
        if !stale.is_empty() {
            refresh_grants::Entity::delete_many()
                .filter(refresh_grants::Column::Id.is_in(stale))
                .exec(&self.conn)
                .await?;
        }
        Ok(grant)
    }

    pub async fn refresh_grant(&self, id: i64) -> DbResult<Option<RefreshGrant>> {
        Ok(refresh_grants::Entity::find_by_id(id)
            .one(&self.read)
            .await?)
    }

    /// Records a grant's use; writes only when the last one is older than `every`, so
    /// a pull per second costs no write per second.
    pub async fn touch_refresh_grant(&self, id: i64, now: i64, every: i64) -> DbResult<()> {
        refresh_grants::Entity::update_many()
            .col_expr(refresh_grants::Column::LastUsedAt, Expr::value(now))
            .filter(refresh_grants::Column::Id.eq(id))
            .filter(refresh_grants::Column::LastUsedAt.lt(now - every))
            .exec(&self.conn)
            .await?;
        Ok(())
    }

    /// Forgets every refresh grant of a user (their password changed).
    pub async fn delete_refresh_grants_of_user(&self, user_id: i64) -> DbResult<u64> {
        Ok(refresh_grants::Entity::delete_many()
            .filter(refresh_grants::Column::UserId.eq(user_id))
            .exec(&self.conn)
            .await?
            .rows_affected)
    }

    /// Forgets grants unused since `cutoff`.
    pub async fn delete_refresh_grants_unused_since(&self, cutoff: i64) -> DbResult<u64> {
        Ok(refresh_grants::Entity::delete_many()
            .filter(refresh_grants::Column::LastUsedAt.lt(cutoff))
            .exec(&self.conn)
            .await?
            .rows_affected)
    }
}
