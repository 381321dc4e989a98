//! Accounts, users and memberships.

use super::entity::{accounts, memberships, users};
use super::{Account, Db, DbResult, Membership, User};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

impl Db {
    pub async fn create_account(&self, name: &str, now: i64) -> DbResult<Account> {
        let row = accounts::ActiveModel {
            name: Set(name.to_owned()),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&self.conn)
        .await?;
        Ok(row)
    }

    pub async fn account_by_name(&self, name: &str) -> DbResult<Option<Account>> {
        Ok(accounts::Entity::find()
            .filter(accounts::Column::Name.eq(name))
            .one(&self.read)
            .await?)
    }

    pub async fn account_by_id(&self, id: i64) -> DbResult<Option<Account>> {
        Ok(accounts::Entity::find_by_id(id).one(&self.read).await?)
    }

    pub async fn create_user(
        &self,
        username: &str,
        password_hash: &str,
        site_admin: bool,
        now: i64,
    ) -> DbResult<User> {
        let row = users::ActiveModel {
            username: Set(username.to_owned()),
            password_hash: Set(password_hash.to_owned()),
            site_admin: Set(site_admin),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&self.conn)
        .await?;
        Ok(row)
    }

    pub async fn user_by_name(&self, username: &str) -> DbResult<Option<User>> {
        Ok(users::Entity::find()
            .filter(users::Column::Username.eq(username))
            .one(&self.read)
            .await?)
    }

    pub async fn user_by_id(&self, id: i64) -> DbResult<Option<User>> {
        Ok(users::Entity::find_by_id(id).one(&self.read).await?)
    }

    pub async fn count_users(&self) -> DbResult<u64> {
        Ok(users::Entity::find().count(&self.read).await?)
    }

    pub async fn add_membership(
        &self,
        account_id: i64,
        user_id: i64,
        role: &str,
        now: i64,
    ) -> DbResult<Membership> {
        let row = memberships::ActiveModel {
            account_id: Set(account_id),
            user_id: Set(user_id),
            role: Set(role.to_owned()),
            created_at: Set(now),
        }
        .insert(&self.conn)
        .await?;
        Ok(row)
    }

    /// Every account the user belongs to, with the role held there.
    pub async fn memberships_of(&self, user_id: i64) -> DbResult<Vec<(Membership, Account)>> {
        let rows = memberships::Entity::find()
            .filter(memberships::Column::UserId.eq(user_id))
            .all(&self.read)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for m in rows {
            if let Some(a) = accounts::Entity::find_by_id(m.account_id)
                .one(&self.read)
                .await?
            {
                out.push((m, a));
            }
        }
        Ok(out)
    }

    pub async fn membership(&self, account_id: i64, user_id: i64) -> DbResult<Option<Membership>> {
        Ok(memberships::Entity::find_by_id((account_id, user_id))
            .one(&self.read)
            .await?)
    }
}
