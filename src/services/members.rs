//! The people of an account (managed by its admins), the accounts of the site
//! (managed by site admins) and a person's own password.

use super::access::{Caller, Permission, Resource};
use super::accounts::{check_new_password, hash_password, verify_password};
use super::{Error, Invalid, Result, Services, Thing, now_ms};
use crate::db::{Account, AccountOverview, Membership, User};
use crate::domain::{AccountName, Role, Username};

/// A member as the Members page lists them.
pub struct Member {
    pub username: String,
    pub role: Role,
    pub since: i64,
    /// The single sign-on group the role came from, and when it was last synced.
    pub sso_group: Option<String>,
    pub synced_at: Option<i64>,
    /// Whether a site admin disabled the user.
    pub disabled: bool,
}

impl Services {
    /// The members of an account, for its admins.
    pub async fn account_members(
        &self,
        caller: &Caller,
        account: &AccountName,
    ) -> Result<Vec<Member>> {
        let (account, _) = self.administered(caller, account).await?;
        Ok(self
            .db
            .account_members(account.id)
            .await?
            .into_iter()
            .map(|(u, m)| Member {
                username: u.username,
                role: Role::parse(&m.role).unwrap_or(Role::Read),
                since: m.created_at,
                sso_group: m.sso_group,
                synced_at: m.synced_at,
                disabled: u.disabled_at.is_some(),
            })
            .collect())
    }

    /// Adds a person to an account with a role (or changes their role). Someone who has
    /// no user yet is created with `new_password`, which is then required.
    pub async fn add_member(
        &self,
        caller: &Caller,
        account: &AccountName,
        username: &Username,
        role: Role,
        new_password: Option<&str>,
    ) -> Result<()> {
        let (account_row, actor) = self.administered(caller, account).await?;
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
                self.insert_user(username, password, Some((account, role)), false, &actor)
                    .await?;
            }
        }
        self.audit(
            Some(account_row.id),
            &actor,
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
        caller: &Caller,
        account: &AccountName,
        username: &Username,
    ) -> Result<()> {
        let (account_row, actor) = self.administered(caller, account).await?;
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
            &actor,
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
        caller: &Caller,
        current: &str,
        new: &str,
        keep_session: Option<&str>,
    ) -> Result<()> {
        let Caller::User { user_id } = caller else {
            return Err(Error::Forbidden);
        };
        let user = self
            .db
            .user_by_id(*user_id)
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
    pub async fn reset_password(
        &self,
        caller: &Caller,
        username: &Username,
        new: &str,
    ) -> Result<()> {
        let actor = self
            .decide(caller, Permission::Administer, Resource::Site)
            .await?
            .actor;
        let user = self
            .db
            .user_by_name(username.as_str())
            .await?
            .ok_or(Error::NotFound(Thing::User))?;
        self.set_password(&user, new, None, &actor).await
    }

    /// Disables a user everywhere at once (site admins and the operator): their
    /// sign-in and docker logins are refused, their portal sessions end, their tokens
    /// and sessions give nothing; or enables them again, and their tokens and docker
    /// logins work as before. Audited.
    pub async fn set_user_disabled(
        &self,
        caller: &Caller,
        username: &Username,
        disabled: bool,
    ) -> Result<()> {
        let actor = self
            .decide(caller, Permission::Administer, Resource::Site)
            .await?
            .actor;
        let user = self
            .db
            .user_by_name(username.as_str())
            .await?
            .ok_or(Error::NotFound(Thing::User))?;
        let at = disabled.then(now_ms);
        if !self.db.set_user_disabled(user.id, at).await? {
            return Err(Error::Conflict(format!(
                "{username} is {} already",
                if disabled { "disabled" } else { "enabled" }
            )));
        }
        let sessions = if disabled {
            self.db.delete_sessions_of_user(user.id, None).await?
        } else {
            0
        };
        self.audit(
            None,
            &actor,
            if disabled {
                "user.disable"
            } else {
                "user.enable"
            },
            None,
            Some(if disabled {
                format!("{username}: {sessions} portal sessions ended")
            } else {
                username.to_string()
            }),
        )
        .await;
        Ok(())
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

    /// Every account with its usage, for site admins and the operator.
    pub async fn accounts_overview(&self, caller: &Caller) -> Result<Vec<AccountOverview>> {
        self.decide(caller, Permission::Administer, Resource::Site)
            .await?;
        Ok(self.db.accounts_overview().await?)
    }

    /// Sets or removes an account's storage quota, for site admins and the operator.
    pub async fn set_quota(
        &self,
        caller: &Caller,
        account: &AccountName,
        quota: Option<u64>,
    ) -> Result<()> {
        let actor = self
            .decide(caller, Permission::Administer, Resource::Site)
            .await?
            .actor;
        let a = self.account(account).await?;
        self.db
            .set_quota(a.id, quota.map(|q| q.min(i64::MAX as u64) as i64))
            .await?;
        self.audit(
            Some(a.id),
            &actor,
            "account.quota",
            None,
            Some(quota.map_or("no quota".to_owned(), |q| format!("{q} bytes"))),
        )
        .await;
        Ok(())
    }

    /// The account and the actor's name, when the caller administers the account.
    pub(super) async fn administered(
        &self,
        caller: &Caller,
        account: &AccountName,
    ) -> Result<(Account, String)> {
        let grant = self
            .decide(caller, Permission::Administer, Resource::Account(account))
            .await?;
        Ok((grant.account.ok_or(Error::Forbidden)?, grant.actor))
    }
}
