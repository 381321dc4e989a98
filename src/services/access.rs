//! Who the caller is and what they may do to a repository.

use super::{Result, Services};
use crate::domain::{Action, RepositoryName, Role, TokenAccess};
use serde::{Deserialize, Serialize};

/// An authenticated caller. It travels inside registry tokens, so it is small and
/// refers to rows by id. Token grants are computed from the database when a token is
/// issued; a credential's revocation is checked on every request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// The name shown in audit events: a username or `account+node`.
    pub name: String,
    /// The person behind the request; `None` for nodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<i64>,
    /// The credential used, when it was not a password; revoking it ends access at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_id: Option<i64>,
    /// For nodes: the account whose repositories they may pull.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_account_id: Option<i64>,
    /// A personal access token's access level, a ceiling on the owner's role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ceiling: Option<TokenAccess>,
    /// For a Docker Login button credential: the one account it works in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub only_account_id: Option<i64>,
    /// The refresh grant of the password login this came from; forgetting the grant
    /// (the password changed) ends access at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_id: Option<i64>,
}

impl Principal {
    /// A person who gave their password (or holds a portal session): their role,
    /// uncapped, in every account they belong to.
    pub fn person(name: impl Into<String>, user_id: i64) -> Self {
        Principal {
            name: name.into(),
            user_id: Some(user_id),
            credential_id: None,
            node_account_id: None,
            ceiling: None,
            only_account_id: None,
            grant_id: None,
        }
    }

    fn capped(&self, action: Action) -> bool {
        self.ceiling.is_none_or(|c| c.allows(action))
    }
}

impl Services {
    /// The actions (of `wanted`) that the principal holds on the repository. A name
    /// without a namespace, or in a namespace that is not an account, grants nothing.
    pub async fn granted_actions(
        &self,
        principal: &Principal,
        repository: &RepositoryName,
        wanted: &[Action],
    ) -> Result<Vec<Action>> {
        let Some(ns) = repository.namespace() else {
            return Ok(vec![]);
        };
        let Some(account) = self.db.account_by_name(ns).await? else {
            return Ok(vec![]);
        };
        if principal
            .only_account_id
            .is_some_and(|only| only != account.id)
        {
            return Ok(vec![]);
        }
        let allowed = |a: Action| -> bool { principal.capped(a) };
        if let Some(node_account) = principal.node_account_id {
            return Ok(
                if node_account == account.id && wanted.contains(&Action::Pull) {
                    vec![Action::Pull]
                } else {
                    vec![]
                },
            );
        }
        let Some(user_id) = principal.user_id else {
            return Ok(vec![]);
        };
        let Some(user) = self.db.user_by_id(user_id).await? else {
            return Ok(vec![]);
        };
        let role = if user.site_admin {
            Some(Role::Admin)
        } else {
            self.db
                .membership(account.id, user_id)
                .await?
                .and_then(|m| Role::parse(&m.role).ok())
        };
        let Some(role) = role else {
            return Ok(vec![]);
        };
        Ok(wanted
            .iter()
            .copied()
            .filter(|&a| role.allows(a) && allowed(a))
            .collect())
    }

    /// The accounts whose repositories the principal may list: `None` means all (site
    /// admins).
    pub async fn visible_accounts(&self, principal: &Principal) -> Result<Option<Vec<i64>>> {
        if let Some(node_account) = principal.node_account_id {
            return Ok(Some(vec![node_account]));
        }
        let Some(user_id) = principal.user_id else {
            return Ok(Some(vec![]));
        };
        let Some(user) = self.db.user_by_id(user_id).await? else {
            return Ok(Some(vec![]));
        };
        if let Some(only) = principal.only_account_id {
            let member = user.site_admin || self.db.membership(only, user_id).await?.is_some();
            return Ok(Some(if member { vec![only] } else { vec![] }));
        }
        if user.site_admin {
            return Ok(None);
        }
        Ok(Some(
            self.db
                .memberships_of(user_id)
                .await?
                .into_iter()
                .map(|(m, _)| m.account_id)
                .collect(),
        ))
    }

    /// The account and the user, when the user belongs to it or is a site admin;
    /// `Forbidden` otherwise, also for an account that does not exist.
    pub async fn member_of(
        &self,
        user_id: i64,
        account: &crate::domain::AccountName,
    ) -> Result<(crate::db::Account, crate::db::User)> {
        let account = self
            .account(account)
            .await
            .map_err(|_| super::Error::Forbidden)?;
        let user = self
            .db
            .user_by_id(user_id)
            .await?
            .ok_or(super::Error::Unauthenticated)?;
        if !user.site_admin && self.db.membership(account.id, user_id).await?.is_none() {
            return Err(super::Error::Forbidden);
        }
        Ok((account, user))
    }

    /// Like [`Self::member_of`], but the user must be an admin of the account.
    pub async fn admin_of(
        &self,
        user_id: i64,
        account: &crate::domain::AccountName,
    ) -> Result<(crate::db::Account, crate::db::User)> {
        let (account, user) = self.member_of(user_id, account).await?;
        let admin = user.site_admin
            || self
                .db
                .membership(account.id, user_id)
                .await?
                .is_some_and(|m| m.role == Role::Admin.as_str());
        if !admin {
            return Err(super::Error::Forbidden);
        }
        Ok((account, user))
    }

    /// Whether a principal is still valid: its credential not revoked nor expired, its
    /// refresh grant not forgotten.
    pub async fn principal_is_current(&self, principal: &Principal) -> Result<bool> {
        if let Some(grant) = principal.grant_id
            && self.db.refresh_grant(grant).await?.is_none()
        {
            return Ok(false);
        }
        let Some(id) = principal.credential_id else {
            return Ok(true);
        };
        let now = super::now_ms();
        Ok(self
            .db
            .credential_by_id(id)
            .await?
            .is_some_and(|c| c.revoked_at.is_none() && c.expires_at.is_none_or(|e| e > now)))
    }
}
