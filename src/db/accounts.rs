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

    /// Whether the account's new repositories start public.
    pub async fn set_public_by_default(&self, account_id: i64, public: bool) -> DbResult<()> {
        accounts::Entity::update_many()
            .col_expr(
                accounts::Column::PublicByDefault,
                sea_orm::sea_query::Expr::value(public),
            )
            .filter(accounts::Column::Id.eq(account_id))
            .exec(&self.conn)
            .await?;
        Ok(())
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
            sso_group: Set(None),
            synced_at: Set(None),
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

/// An account with what the Accounts page shows of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountOverview {
    pub account: Account,
    pub repositories: u64,
    pub members: u64,
    /// Bytes of the distinct blobs across its repositories.
    pub storage: u64,
}

impl Db {
    /// The members of an account with their roles, by username.
    pub async fn account_members(&self, account_id: i64) -> DbResult<Vec<(User, Membership)>> {
        let rows = memberships::Entity::find()
            .filter(memberships::Column::AccountId.eq(account_id))
            .all(&self.read)
            .await?;
        let users: std::collections::HashMap<i64, User> = users::Entity::find()
            .filter(users::Column::Id.is_in(rows.iter().map(|m| m.user_id)))
            .all(&self.read)
            .await?
            .into_iter()
            .map(|u| (u.id, u))
            .collect();
        let mut out: Vec<(User, Membership)> = rows
            .into_iter()
            .filter_map(|m| Some((users.get(&m.user_id)?.clone(), m)))
            .collect();
        out.sort_by(|a, b| a.0.username.cmp(&b.0.username));
        Ok(out)
    }

    /// Gives a user a role in an account, adding the membership if needed; a role
    /// given by hand is no longer one a single sign-on group gave.
    pub async fn set_membership(
        &self,
        account_id: i64,
        user_id: i64,
        role: &str,
        now: i64,
    ) -> DbResult<()> {
        use sea_orm::sea_query::OnConflict;
        memberships::Entity::insert(memberships::ActiveModel {
            account_id: Set(account_id),
            user_id: Set(user_id),
            role: Set(role.to_owned()),
            created_at: Set(now),
            sso_group: Set(None),
            synced_at: Set(None),
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
        .exec_without_returning(&self.conn)
        .await?;
        Ok(())
    }

    /// Removes a user from an account; false when they were not a member.
    pub async fn remove_membership(&self, account_id: i64, user_id: i64) -> DbResult<bool> {
        let res = memberships::Entity::delete_by_id((account_id, user_id))
            .exec(&self.conn)
            .await?;
        Ok(res.rows_affected > 0)
    }

    /// Disables a user as of `at`, or enables them (`None`); false when nothing
    /// changed (no such user, or already so).
    pub async fn set_user_disabled(&self, user_id: i64, at: Option<i64>) -> DbResult<bool> {
        let unchanged = match at {
            Some(_) => users::Column::DisabledAt.is_null(),
            None => users::Column::DisabledAt.is_not_null(),
        };
        let res = users::Entity::update_many()
            .col_expr(
                users::Column::DisabledAt,
                sea_orm::sea_query::Expr::value(at),
            )
            .filter(users::Column::Id.eq(user_id))
            .filter(unchanged)
            .exec(&self.conn)
            .await?;
        Ok(res.rows_affected > 0)
    }

    pub async fn set_password_hash(&self, user_id: i64, hash: &str) -> DbResult<()> {
        users::Entity::update_many()
            .col_expr(
                users::Column::PasswordHash,
                sea_orm::sea_query::Expr::value(hash.to_owned()),
            )
            .filter(users::Column::Id.eq(user_id))
            .exec(&self.conn)
            .await?;
        Ok(())
    }

    /// Every account with its repository and member counts and its storage, in four
    /// queries.
    pub async fn accounts_overview(&self) -> DbResult<Vec<AccountOverview>> {
        use super::entity::repositories;
        use sea_orm::{QueryOrder, QuerySelect};
        let accounts = accounts::Entity::find()
            .order_by_asc(accounts::Column::Name)
            .all(&self.read)
            .await?;
        let count_by = |rows: Vec<(i64, i64)>| -> std::collections::HashMap<i64, u64> {
            rows.into_iter()
                .map(|(a, n)| (a, n.max(0) as u64))
                .collect()
        };
        let repositories = count_by(
            repositories::Entity::find()
                .select_only()
                .column(repositories::Column::AccountId)
                .column_as(repositories::Column::Id.count(), "n")
                .group_by(repositories::Column::AccountId)
                .into_tuple()
                .all(&self.read)
                .await?,
        );
        let members = count_by(
            memberships::Entity::find()
                .select_only()
                .column(memberships::Column::AccountId)
                .column_as(memberships::Column::UserId.count(), "n")
                .group_by(memberships::Column::AccountId)
                .into_tuple()
                .all(&self.read)
                .await?,
        );
        Ok(accounts
            .into_iter()
            .map(|a| AccountOverview {
                repositories: repositories.get(&a.id).copied().unwrap_or(0),
                members: members.get(&a.id).copied().unwrap_or(0),
                storage: a.size_bytes.max(0) as u64,
                account: a,
            })
            .collect())
    }
}

impl Db {
    /// Sets (or with `None` removes) an account's storage quota.
    pub async fn set_quota(&self, account_id: i64, quota: Option<i64>) -> DbResult<()> {
        accounts::Entity::update_many()
            .col_expr(
                accounts::Column::QuotaBytes,
                sea_orm::sea_query::Expr::value(quota),
            )
            .filter(accounts::Column::Id.eq(account_id))
            .exec(&self.conn)
            .await?;
        Ok(())
    }

    /// The usage and quota of the account a repository belongs to, when it has a quota.
    pub async fn quota_of_repository(&self, repository_id: i64) -> DbResult<Option<(i64, i64)>> {
        use super::entity::repositories;
        let Some(r) = repositories::Entity::find_by_id(repository_id)
            .one(&self.read)
            .await?
        else {
            return Ok(None);
        };
        Ok(accounts::Entity::find_by_id(r.account_id)
            .one(&self.read)
            .await?
            .and_then(|a| a.quota_bytes.map(|q| (a.size_bytes, q))))
    }
}
