//! Personal access tokens, 24-hour login tokens and node credentials. Only the SHA-256
//! of a secret is stored; the secret itself is shown once and never kept.

use super::entity::credentials;
use super::{Credential, Db, DbResult};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set, sea_query::Expr,
};

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
}
