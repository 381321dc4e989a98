//! Who the caller is and what they may do: the one access decision that the registry,
//! the portal and the command line all ask.

use super::{Error, Result, Services};
use crate::db::{Account, User};
use crate::domain::{AccountName, Action, RepositoryName, Role, TokenAccess};
use serde::{Deserialize, Serialize};

/// Who asks. Every access decision starts from one of these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// No credentials at all.
    Anonymous,
    /// A person: signed in to the portal, or logged in to the registry with their
    /// password. Their role in each account, uncapped.
    User { user_id: i64 },
    /// A personal access token or a Docker Login button token: the owner's role,
    /// capped by the token's access level, and for a login token only in its account.
    Token {
        user_id: i64,
        ceiling: TokenAccess,
        only_account_id: Option<i64>,
    },
    /// A node (machine credential): pulls from its account's repositories.
    Node { account_id: i64 },
    /// The operator at the command line, who may do everything.
    Operator,
}

/// What is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Pull from a repository (or any of an account's).
    Pull,
    /// Push to a repository.
    Push,
    /// Delete tags and manifests of a repository.
    Delete,
    /// See an account: its repositories, usage, activity, nodes and trash.
    View,
    /// Administer: an account's members, nodes and trash and the deletion of its
    /// repositories; the site's accounts, quotas and garbage collection.
    Administer,
}

impl From<Action> for Permission {
    fn from(a: Action) -> Self {
        match a {
            Action::Pull => Permission::Pull,
            Action::Push => Permission::Push,
            Action::Delete => Permission::Delete,
        }
    }
}

/// What the permission is asked on.
#[derive(Debug, Clone, Copy)]
pub enum Resource<'a> {
    Repository(&'a RepositoryName),
    Account(&'a AccountName),
    /// The whole site.
    Site,
}

/// The actions a caller holds on a repository.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Held {
    pub actions: Vec<Action>,
    /// Pull is held only because the repository is public.
    pub through_public: bool,
}

impl Held {
    pub fn contains(&self, action: Action) -> bool {
        self.actions.contains(&action)
    }
}

/// What an allowed decision found, for the caller of the service to use.
#[derive(Debug, Clone)]
pub struct Grant {
    /// The account the resource belongs to; `None` for the site.
    pub account: Option<Account>,
    /// The name audit events carry: the username, `cli` for the operator, or for
    /// nodes and anonymous callers (who change nothing) a description.
    pub actor: String,
}

impl Caller {
    /// The caller a registry token or a login names; `None` is anonymous.
    pub fn of(principal: Option<&Principal>) -> Caller {
        let Some(p) = principal else {
            return Caller::Anonymous;
        };
        if let Some(account_id) = p.node_account_id {
            return Caller::Node { account_id };
        }
        let Some(user_id) = p.user_id else {
            return Caller::Anonymous;
        };
        if p.ceiling.is_none() && p.only_account_id.is_none() {
            return Caller::User { user_id };
        }
        Caller::Token {
            user_id,
            ceiling: p.ceiling.unwrap_or(TokenAccess::Delete),
            only_account_id: p.only_account_id,
        }
    }

    /// The person behind the call, for users and their tokens.
    pub fn user_id(&self) -> Option<i64> {
        match self {
            Caller::User { user_id } | Caller::Token { user_id, .. } => Some(*user_id),
            _ => None,
        }
    }
}

/// A caller's standing in one account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Standing {
    Nothing,
    /// A node of the account.
    Node,
    /// A role (site admins: admin everywhere), capped for tokens.
    Role(Role, Option<TokenAccess>),
    Operator,
}

impl Standing {
    fn allows(self, permission: Permission) -> bool {
        let capped = |ceiling: Option<TokenAccess>, a: Action| ceiling.is_none_or(|c| c.allows(a));
        match (self, permission) {
            (Standing::Nothing, _) => false,
            (Standing::Operator, _) => true,
            // Nodes pull; seeing an account's pages is for people.
            (Standing::Node, p) => p == Permission::Pull,
            (Standing::Role(_, _), Permission::View) => true,
            (Standing::Role(role, ceiling), Permission::Administer) => {
                role == Role::Admin && capped(ceiling, Action::Delete)
            }
            (Standing::Role(role, ceiling), p) => {
                let a = match p {
                    Permission::Pull => Action::Pull,
                    Permission::Push => Action::Push,
                    _ => Action::Delete,
                };
                role.allows(a) && capped(ceiling, a)
            }
        }
    }
}

impl Services {
    /// The one access decision: whether `caller` may do `permission` on `resource`.
    /// An account's people and nodes have their role's rights (site admins are admins
    /// everywhere, tokens are capped); a public repository may be pulled and seen by
    /// everyone, anonymous callers too. Refused with `Forbidden`, also for an account,
    /// a namespace or a repository that does not exist (so nothing is revealed), or
    /// `Unauthenticated` for no credentials or a user who no longer exists.
    pub async fn decide(
        &self,
        caller: &Caller,
        permission: Permission,
        resource: Resource<'_>,
    ) -> Result<Grant> {
        let user = self.caller_user(caller).await?;
        let refused = || match caller {
            Caller::Anonymous => Error::Unauthenticated,
            _ => Error::Forbidden,
        };
        let actor = actor_name(caller, user.as_ref());
        let account = match resource {
            Resource::Site => {
                let allowed = match caller {
                    Caller::Operator => true,
                    Caller::User { .. } => user.as_ref().is_some_and(|u| u.site_admin),
                    _ => false,
                };
                return if allowed {
                    Ok(Grant {
                        account: None,
                        actor,
                    })
                } else {
                    Err(refused())
                };
            }
            Resource::Account(name) => self.db.account_by_name(name.as_str()).await?,
            Resource::Repository(repo) => match repo.namespace() {
                Some(ns) => self.db.account_by_name(ns).await?,
                None => None,
            },
        };
        let Some(account) = account else {
            // The operator is told what is missing; anyone else learns nothing.
            return Err(match caller {
                Caller::Operator => Error::NotFound(super::Thing::Account),
                _ => refused(),
            });
        };
        let allowed = self
            .standing(caller, user.as_ref(), &account)
            .await?
            .allows(permission)
            || match resource {
                Resource::Repository(repo) if reads(permission) => self.is_public(repo).await?,
                _ => false,
            };
        if allowed {
            Ok(Grant {
                account: Some(account),
                actor,
            })
        } else {
            Err(refused())
        }
    }

    /// The actions (of `wanted`) that the caller holds on the repository, for the
    /// token endpoint, which grants each scope exactly what is held. The same rules
    /// as [`Self::decide`]: a public repository's pull is held by everyone.
    pub async fn held_actions(
        &self,
        caller: &Caller,
        repository: &RepositoryName,
        wanted: &[Action],
    ) -> Result<Held> {
        let Some(ns) = repository.namespace() else {
            return Ok(Held::default());
        };
        let Some(account) = self.db.account_by_name(ns).await? else {
            return Ok(Held::default());
        };
        let user = match self.caller_user(caller).await {
            Ok(u) => u,
            Err(Error::Unauthenticated) => return Ok(Held::default()),
            Err(e) => return Err(e),
        };
        let standing = self.standing(caller, user.as_ref(), &account).await?;
        let through_public = !standing.allows(Permission::Pull)
            && wanted.contains(&Action::Pull)
            && self.is_public(repository).await?;
        Ok(Held {
            actions: wanted
                .iter()
                .copied()
                .filter(|&a| standing.allows(a.into()) || (through_public && a == Action::Pull))
                .collect(),
            through_public,
        })
    }

    /// Whether the repository exists and is public: what a grant that came only from
    /// its being public is checked against again, in one query.
    pub async fn is_public(&self, repository: &RepositoryName) -> Result<bool> {
        Ok(self
            .db
            .repository_by_name(repository.as_str())
            .await?
            .is_some_and(|r| r.public))
    }

    /// The accounts whose repositories the caller may list: `None` means all (site
    /// admins and the operator).
    pub async fn visible_accounts(&self, caller: &Caller) -> Result<Option<Vec<i64>>> {
        let user = match caller {
            Caller::Anonymous => return Ok(Some(vec![])),
            Caller::Operator => return Ok(None),
            Caller::Node { account_id } => return Ok(Some(vec![*account_id])),
            Caller::User { .. } | Caller::Token { .. } => match self.caller_user(caller).await {
                Ok(Some(u)) => u,
                Ok(None) | Err(Error::Unauthenticated) => return Ok(Some(vec![])),
                Err(e) => return Err(e),
            },
        };
        if let Caller::Token {
            only_account_id: Some(only),
            ..
        } = caller
        {
            let member = user.site_admin || self.db.membership(*only, user.id).await?.is_some();
            return Ok(Some(if member { vec![*only] } else { vec![] }));
        }
        if user.site_admin {
            return Ok(None);
        }
        Ok(Some(
            self.db
                .memberships_of(user.id)
                .await?
                .into_iter()
                .map(|(m, _)| m.account_id)
                .collect(),
        ))
    }

    /// The user row of a user or token caller; `Unauthenticated` when it is gone.
    async fn caller_user(&self, caller: &Caller) -> Result<Option<User>> {
        match caller.user_id() {
            Some(id) => match self.db.user_by_id(id).await? {
                Some(u) => Ok(Some(u)),
                None => Err(Error::Unauthenticated),
            },
            None => Ok(None),
        }
    }

    async fn standing(
        &self,
        caller: &Caller,
        user: Option<&User>,
        account: &Account,
    ) -> Result<Standing> {
        let ceiling = match caller {
            Caller::Anonymous => return Ok(Standing::Nothing),
            Caller::Operator => return Ok(Standing::Operator),
            Caller::Node { account_id } => {
                return Ok(if *account_id == account.id {
                    Standing::Node
                } else {
                    Standing::Nothing
                });
            }
            Caller::User { .. } => None,
            Caller::Token {
                ceiling,
                only_account_id,
                ..
            } => {
                if only_account_id.is_some_and(|only| only != account.id) {
                    return Ok(Standing::Nothing);
                }
                Some(*ceiling)
            }
        };
        // A disabled user holds nothing anywhere, whatever their sessions or tokens.
        let Some(user) = user.filter(|u| u.disabled_at.is_none()) else {
            return Ok(Standing::Nothing);
        };
        let role = if user.site_admin {
            Some(Role::Admin)
        } else {
            self.db
                .membership(account.id, user.id)
                .await?
                .and_then(|m| Role::parse(&m.role).ok())
        };
        Ok(role.map_or(Standing::Nothing, |r| Standing::Role(r, ceiling)))
    }
}

/// Permissions a public repository gives everyone.
fn reads(permission: Permission) -> bool {
    matches!(permission, Permission::Pull | Permission::View)
}

/// The name audit events carry for a caller.
fn actor_name(caller: &Caller, user: Option<&User>) -> String {
    match (caller, user) {
        (_, Some(u)) => u.username.clone(),
        (Caller::Operator, _) => "cli".to_owned(),
        (Caller::Node { account_id }, _) => format!("node of account {account_id}"),
        _ => "anonymous".to_owned(),
    }
}

/// An authenticated caller as it travels inside registry tokens, so it is small and
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
}

impl Services {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standings() {
        let admin = Standing::Role(Role::Admin, None);
        assert!(admin.allows(Permission::Administer));
        assert!(
            !Standing::Role(Role::Admin, Some(TokenAccess::Push)).allows(Permission::Administer)
        );
        assert!(!Standing::Role(Role::Write, None).allows(Permission::Administer));
        assert!(Standing::Role(Role::Write, None).allows(Permission::Delete));
        assert!(!Standing::Role(Role::Write, Some(TokenAccess::Push)).allows(Permission::Delete));
        assert!(Standing::Role(Role::Read, Some(TokenAccess::Delete)).allows(Permission::View));
        assert!(!Standing::Role(Role::Read, None).allows(Permission::Push));
        assert!(Standing::Node.allows(Permission::Pull));
        assert!(!Standing::Node.allows(Permission::View));
        assert!(!Standing::Node.allows(Permission::Push));
        assert!(!Standing::Nothing.allows(Permission::View));
        assert!(Standing::Operator.allows(Permission::Administer));
    }

    #[test]
    fn callers_of_principals() {
        assert_eq!(Caller::of(None), Caller::Anonymous);
        assert_eq!(
            Caller::of(Some(&Principal::person("alice", 7))),
            Caller::User { user_id: 7 }
        );
        let mut token = Principal::person("alice", 7);
        token.credential_id = Some(3);
        token.ceiling = Some(TokenAccess::Pull);
        assert_eq!(
            Caller::of(Some(&token)),
            Caller::Token {
                user_id: 7,
                ceiling: TokenAccess::Pull,
                only_account_id: None
            }
        );
        let node = Principal {
            node_account_id: Some(2),
            user_id: None,
            ..token
        };
        assert_eq!(Caller::of(Some(&node)), Caller::Node { account_id: 2 });
    }
}
