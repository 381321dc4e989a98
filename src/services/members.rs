//! The people of an account (managed by its admins), the accounts of the site
//! (managed by site admins) and a person's own password.

use super::accounts::{check_new_password, hash_password, verify_password};
use super::{Error, Invalid, Result, Services, Thing, now_ms};
use crate::db::{AccountOverview, Membership, User};
use crate::domain::{AccountName, Role, Username};

/// A member as the Members page lists them.
pub struct Member {
    pub username: String,
    pub role: Role,
    pub since: i64,
}

impl Services {
    /// The members of an account, for its admins.
    pub async fn account_members(
        &self,
        user_id: i64,
        account: &AccountName,
    ) -> Result<Vec<Member>> {
        let (account, _) = self.admin_of(user_id, account).await?;
        Ok(self
            .db
            .account_members(account.id)
            .await?
            .into_iter()
            .map(|(u, m)| Member {
                username: u.username,
                role: Role::parse(&m.role).unwrap_or(Role::Read),
                since: m.created_at,
            })
            .collect())
    }

    /// Adds a person to an account with a role (or changes their role). Someone who has
    /// no user yet is created with `new_password`, which is then required.
    pub async fn add_member(
        &self,
        user_id: i64,
        account: &AccountName,
        username: &Username,
        role: Role,
        new_password: Option<&str>,
    ) -> Result<()> {
        let (account_row, actor) = self.admin_of(user_id, account).await?;
        match self.db.user_by_name(username.as_str()).await? {
            Some(user) => {
                self.keep_an_admin(account_row.id, &user, Some(role))
                    .await?;
                self.db
                    .set_membership(account_row.id, user.id, role.as_str(), now_ms())
                    .await?;
            }
            None => {
                let Some(password) = new_password.filter(|p| !p.is_empty()) else {
                    return Err(Error::Invalid(Invalid::Request(format!(
                        "There is no user named {username}. Give a first password to create them."
                    ))));
                };
                self.create_user(
                    username,
                    password,
                    Some((account, role)),
                    false,
                    &actor.username,
                )
                .await?;
            }
        }
        self.audit(
            Some(account_row.id),
            &actor.username,
            "user.membership",
            None,
            Some(format!("{username} is {}", role.as_str())),
        )
        .await;
        Ok(())
    }

    /// Removes a person from an account; the last admin stays.
    pub async fn remove_member(
        &self,
        user_id: i64,
        account: &AccountName,
        username: &Username,
    ) -> Result<()> {
        let (account_row, actor) = self.admin_of(user_id, account).await?;
        let user = self
            .db
            .user_by_name(username.as_str())
            .await?
            .ok_or(Error::NotFound(Thing::User))?;
        self.keep_an_admin(account_row.id, &user, None).await?;
        if !self.db.remove_membership(account_row.id, user.id).await? {
            return Err(Error::NotFound(Thing::User));
        }
        self.audit(
            Some(account_row.id),
            &actor.username,
            "user.membership",
            None,
            Some(format!("{username} removed")),
        )
        .await;
        Ok(())
    }

    /// Refuses a change that would leave the account without an admin (`role` None:
    /// removal).
    async fn keep_an_admin(&self, account_id: i64, user: &User, role: Option<Role>) -> Result<()> {
        if role == Some(Role::Admin) {
            return Ok(());
        }
        let members = self.db.account_members(account_id).await?;
        let is_admin = |m: &Membership| m.role == Role::Admin.as_str();
        let admins = members.iter().filter(|(_, m)| is_admin(m)).count();
        let was_admin = members.iter().any(|(u, m)| u.id == user.id && is_admin(m));
        if was_admin && admins == 1 {
            return Err(Error::Conflict(format!(
                "{} is the account's only admin; make someone else admin first.",
                user.username
            )));
        }
        Ok(())
    }

    /// Changes the signed-in person's password after checking the current one. Their
    /// other portal sessions end (`keep_session` is the one asking) and so does every
    /// `docker login` made with the old password.
    pub async fn change_own_password(
        &self,
        user_id: i64,
        current: &str,
        new: &str,
        keep_session: Option<&str>,
    ) -> Result<()> {
        let user = self
            .db
            .user_by_id(user_id)
            .await?
            .ok_or(Error::Unauthenticated)?;
        if !verify_password(current, &user.password_hash).await? {
            return Err(Error::Invalid(Invalid::Request(
                "The current password is wrong.".into(),
            )));
        }
        self.set_password(&user, new, keep_session, &user.username)
            .await
    }

    /// Sets a user's password (`berth user set-password`, for an operator resetting
    /// it): every portal session of theirs and every `docker login` made with the old
    /// password ends.
    pub async fn reset_password(&self, username: &Username, new: &str, actor: &str) -> Result<()> {
        let user = self
            .db
            .user_by_name(username.as_str())
            .await?
            .ok_or(Error::NotFound(Thing::User))?;
        self.set_password(&user, new, None, actor).await
    }

    async fn set_password(
        &self,
        user: &User,
        new: &str,
        keep_session: Option<&str>,
        actor: &str,
    ) -> Result<()> {
        check_new_password(new)?;
        let hash = hash_password(new).await?;
        self.db.set_password_hash(user.id, &hash).await?;
        // The old password's logins end with it: refresh grants first (docker), then
        // the portal's sessions.
        let logins = self.db.delete_refresh_grants_of_user(user.id).await?;
        let sessions = self
            .db
            .delete_sessions_of_user(user.id, keep_session)
            .await?;
        self.audit(
            None,
            actor,
            "user.password",
            None,
            Some(format!(
                "{}: ended {} and {}",
                user.username,
                app::model::count(sessions, "portal session"),
                app::model::count(logins, "docker login")
            )),
        )
        .await;
        Ok(())
    }

    /// Every account with its usage, for site admins.
    pub async fn accounts_overview(&self, user_id: i64) -> Result<Vec<AccountOverview>> {
        self.site_admin(user_id).await?;
        self.all_accounts().await
    }

    /// Every account with its usage, for the operator (`berth account list`).
    pub async fn all_accounts(&self) -> Result<Vec<AccountOverview>> {
        Ok(self.db.accounts_overview().await?)
    }

    /// Sets or removes an account's storage quota (`berth account set-quota`).
    pub async fn set_quota(
        &self,
        account: &AccountName,
        quota: Option<u64>,
        actor: &str,
    ) -> Result<()> {
        let a = self.account(account).await?;
        self.db
            .set_quota(a.id, quota.map(|q| q.min(i64::MAX as u64) as i64))
            .await?;
        self.audit(
            Some(a.id),
            actor,
            "account.quota",
            None,
            Some(quota.map_or("no quota".to_owned(), |q| format!("{q} bytes"))),
        )
        .await;
        Ok(())
    }

    /// Sets an account's quota from the portal, for site admins.
    pub async fn set_quota_as(
        &self,
        user_id: i64,
        account: &AccountName,
        quota: Option<u64>,
    ) -> Result<()> {
        let admin = self.site_admin(user_id).await?;
        self.set_quota(account, quota, &admin.username).await
    }

    /// Creates an account from the portal, for site admins.
    pub async fn create_account_as(&self, user_id: i64, name: &AccountName) -> Result<()> {
        let admin = self.site_admin(user_id).await?;
        self.create_account(name, &admin.username).await?;
        Ok(())
    }

    pub(super) async fn site_admin(&self, user_id: i64) -> Result<User> {
        match self.db.user_by_id(user_id).await? {
            Some(u) if u.site_admin => Ok(u),
            Some(_) => Err(Error::Forbidden),
            None => Err(Error::Unauthenticated),
        }
    }
}
