//! Access tokens, login tokens and node credentials, and checking what `docker login`
//! was given.

use super::access::{Caller, Permission, Principal, Resource};
use super::accounts::verify_password;
use super::limiter::{Key, Network};
use super::tokens::{Claims, OPEN_ENDED_SECONDS, unix_now};
use super::{Error, Result, Services, Thing, now_ms};
use crate::db::{Credential, NewCredential};
use crate::domain::{AccountName, NodeName, TokenAccess, Username};
use rand::Rng;
use rand::distributions::Alphanumeric;
use sha2::{Digest as _, Sha256};
use std::net::IpAddr;
use std::time::Duration;

/// Every secret we mint starts with this, so a password can never be mistaken for one
/// and leaked secrets are easy to scan for.
pub(crate) const SECRET_PREFIX: &str = "berth_";

/// The longest user name a login may give; longer ones are refused unread, so
/// nothing long is hashed, looked up or remembered by the throttle.
pub const MAX_LOGIN_NAME: usize = 256;
/// The longest password or secret a login may give (argon2 hashes whatever it gets).
const MAX_SECRET: usize = super::accounts::MAX_PASSWORD_BYTES;

/// How long a refresh token from a password login lives unused; each use renews it.
pub const REFRESH_IDLE_LIFETIME: Duration = Duration::from_secs(30 * 86_400);
/// A refresh grant's use is written at most this often (milliseconds).
const GRANT_TOUCH_EVERY_MS: i64 = 60_000;

/// How long a login token from the portal's Docker Login button lives.
pub const LOGIN_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// The kinds of credential rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind {
    /// A personal access token of a user.
    Token,
    /// A 24-hour token minted by the Docker Login button.
    Login,
    /// A machine credential of an account.
    Node,
}

impl CredentialKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKind::Token => "token",
            CredentialKind::Login => "login",
            CredentialKind::Node => "node",
        }
    }
}

/// A credential just created, with its secret, which is never shown again.
pub struct NewSecret {
    pub credential: Credential,
    pub secret: String,
}

fn mint_secret(kind: CredentialKind) -> String {
    let random: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(40)
        .map(char::from)
        .collect();
    format!("{SECRET_PREFIX}{}_{random}", kind.as_str())
}

fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

impl Services {
    /// Mints the 24-hour credential of the portal's Docker Login button, with the
    /// user's full rights in the account (their role still decides what it may do).
    pub async fn create_login_token(
        &self,
        caller: &Caller,
        account: &AccountName,
    ) -> Result<NewSecret> {
        let Caller::User { user_id } = *caller else {
            return Err(Error::Forbidden);
        };
        let grant = self
            .decide(caller, Permission::View, Resource::Account(account))
            .await?;
        let account = grant.account.ok_or(Error::Forbidden)?;
        let new = self
            .insert_credential(
                CredentialKind::Login,
                Some(account.id),
                Some(user_id),
                "docker login",
                TokenAccess::Delete,
                Some(LOGIN_TOKEN_LIFETIME),
            )
            .await?;
        self.audit(
            Some(account.id),
            &grant.actor,
            "login_token.create",
            None,
            None,
        )
        .await;
        Ok(new)
    }

    /// Creates a personal access token for a user: by that person themself, a site
    /// admin or the operator.
    pub async fn create_token(
        &self,
        caller: &Caller,
        owner: &Username,
        label: &str,
        access: TokenAccess,
        lifetime: Option<Duration>,
    ) -> Result<NewSecret> {
        let user = self.db.user_by_name(owner.as_str()).await?;
        let actor = match (caller, &user) {
            (Caller::User { user_id }, Some(u)) if *user_id == u.id => u.username.clone(),
            _ => {
                self.decide(caller, Permission::Administer, Resource::Site)
                    .await?
                    .actor
            }
        };
        let user = user.ok_or(Error::NotFound(Thing::User))?;
        let label = label.trim();
        if label.is_empty() || label.chars().count() > 64 {
            return Err(Error::Invalid(super::Invalid::Request(
                "Give the token a name of 1 to 64 characters.".into(),
            )));
        }
        let account_id = self
            .db
            .memberships_of(user.id)
            .await?
            .first()
            .map(|(m, _)| m.account_id);
        let new = self
            .insert_credential(
                CredentialKind::Token,
                account_id,
                Some(user.id),
                label,
                access,
                lifetime,
            )
            .await?;
        self.audit(
            account_id,
            &actor,
            "token.create",
            None,
            Some(format!(
                "#{} {label} ({})",
                new.credential.id,
                access.as_str()
            )),
        )
        .await;
        Ok(new)
    }

    /// Creates a node: a machine that may pull every repository of its account. For
    /// the account's admins.
    pub async fn create_node(
        &self,
        caller: &Caller,
        name: &NodeName,
        account: &AccountName,
    ) -> Result<NewSecret> {
        let (account, actor) = self.administered(caller, account).await?;
        let existing = self
            .db
            .credentials_of_account(account.id, CredentialKind::Node.as_str())
            .await?;
        if existing
            .iter()
            .any(|c| c.name == name.as_str() && c.revoked_at.is_none())
        {
            return Err(Error::Conflict(format!(
                "node {name} exists already in {}",
                account.name
            )));
        }
        let new = self
            .insert_credential(
                CredentialKind::Node,
                Some(account.id),
                None,
                name.as_str(),
                TokenAccess::Pull,
                None,
            )
            .await?;
        self.audit(
            Some(account.id),
            &actor,
            "node.create",
            None,
            Some(name.to_string()),
        )
        .await;
        Ok(new)
    }

    async fn insert_credential(
        &self,
        kind: CredentialKind,
        account_id: Option<i64>,
        user_id: Option<i64>,
        name: &str,
        access: TokenAccess,
        lifetime: Option<Duration>,
    ) -> Result<NewSecret> {
        let secret = mint_secret(kind);
        let now = now_ms();
        let credential = self
            .db
            .create_credential(NewCredential {
                kind: kind.as_str(),
                account_id,
                user_id,
                name,
                secret_hash: &secret_hash(&secret),
                access: access.as_str(),
                created_at: now,
                expires_at: match lifetime {
                    None => None,
                    Some(d) => Some(
                        i64::try_from(d.as_millis())
                            .ok()
                            .and_then(|ms| now.checked_add(ms))
                            .ok_or_else(|| {
                                Error::Invalid(super::Invalid::Request(
                                    "that lifetime is too long".into(),
                                ))
                            })?,
                    ),
                },
            })
            .await?;
        Ok(NewSecret { credential, secret })
    }

    /// Revokes a token or node; effective for the next request that uses it. A token
    /// by its owner, a site admin or the operator; a node by its account's admins.
    pub async fn revoke_credential(&self, caller: &Caller, id: i64) -> Result<Credential> {
        let c = self
            .db
            .credential_by_id(id)
            .await?
            .ok_or(Error::NotFound(Thing::Credential))?;
        let actor = self.may_revoke(caller, &c).await?;
        if !self.db.revoke_credential(id, now_ms()).await? {
            return Err(Error::Conflict(format!(
                "credential {id} is revoked already"
            )));
        }
        self.audit(
            c.account_id,
            &actor,
            &format!("{}.revoke", c.kind),
            None,
            Some(format!("#{id} {}", c.name)),
        )
        .await;
        Ok(c)
    }

    /// A signed-in user's personal access tokens and live Docker Login button
    /// credentials (with the account each works in), newest first.
    pub async fn user_tokens(&self, caller: &Caller) -> Result<Vec<(Credential, Option<String>)>> {
        let Caller::User { user_id } = *caller else {
            return Err(Error::Forbidden);
        };
        let mut all: Vec<(Credential, Option<String>)> = self
            .db
            .credentials_of_user(user_id, CredentialKind::Token.as_str())
            .await?
            .into_iter()
            .map(|c| (c, None))
            .collect();
        let now = now_ms();
        for c in self
            .db
            .credentials_of_user(user_id, CredentialKind::Login.as_str())
            .await?
        {
            if c.revoked_at.is_some() || c.expires_at.is_some_and(|e| e <= now) {
                continue;
            }
            let account = match c.account_id {
                Some(id) => self.db.account_by_id(id).await?.map(|a| a.name),
                None => None,
            };
            all.push((c, account));
        }
        all.sort_by_key(|(c, _)| std::cmp::Reverse(c.id));
        Ok(all)
    }

    /// The actor's name when the caller may revoke the credential.
    async fn may_revoke(&self, caller: &Caller, c: &Credential) -> Result<String> {
        if c.kind == CredentialKind::Node.as_str() {
            let account = match c.account_id {
                Some(id) => self.db.account_by_id(id).await?,
                None => None,
            };
            let name = account
                .and_then(|a| AccountName::parse(&a.name).ok())
                .ok_or(Error::Forbidden)?;
            return Ok(self.administered(caller, &name).await?.1);
        }
        if let Caller::User { user_id } = caller
            && c.user_id == Some(*user_id)
        {
            let user = self
                .db
                .user_by_id(*user_id)
                .await?
                .ok_or(Error::Unauthenticated)?;
            return Ok(user.username);
        }
        Ok(self
            .decide(caller, Permission::Administer, Resource::Site)
            .await?
            .actor)
    }

    /// The nodes of an account, for those who may see it.
    pub async fn account_nodes(
        &self,
        caller: &Caller,
        account: &AccountName,
    ) -> Result<Vec<Credential>> {
        let account = self
            .decide(caller, Permission::View, Resource::Account(account))
            .await?
            .account
            .ok_or(Error::Forbidden)?;
        Ok(self
            .db
            .credentials_of_account(account.id, CredentialKind::Node.as_str())
            .await?)
    }

    /// Revokes a node of the named account (refused for any other credential), for
    /// its admins. Who may not is refused before anything is looked up, so that no one
    /// learns which credentials exist.
    pub async fn revoke_node(&self, caller: &Caller, account: &AccountName, id: i64) -> Result<()> {
        let (a, _) = self.administered(caller, account).await?;
        // A missing id and another account's credential are refused alike.
        self.db
            .credential_by_id(id)
            .await?
            .filter(|c| c.account_id == Some(a.id) && c.kind == CredentialKind::Node.as_str())
            .ok_or(Error::Forbidden)?;
        self.revoke_credential(caller, id).await.map(|_| ())
    }

    /// Checks what a client presented as username and password (a password, an access
    /// token, a login token or a node secret) and says who it is. Passwords are
    /// throttled per (user, client network) (see [`super::limiter`]); secrets we
    /// minted are not, and a name longer than [`MAX_LOGIN_NAME`] bytes is refused
    /// before anything is looked up.
    pub async fn authenticate(
        &self,
        username: &str,
        secret: &str,
        client: Option<IpAddr>,
    ) -> Result<Principal> {
        if username.len() > MAX_LOGIN_NAME || secret.len() > MAX_SECRET {
            return Err(Error::Unauthenticated);
        }
        let found = if secret.starts_with(SECRET_PREFIX) {
            self.check_minted_secret(username, secret).await?
        } else {
            self.check_password(username, secret, client).await?
        };
        match found {
            Some(p) => Ok(p),
            None => {
                tracing::info!(username, client = ?client, "failed login");
                Err(Error::Unauthenticated)
            }
        }
    }

    async fn check_password(
        &self,
        username: &str,
        password: &str,
        client: Option<IpAddr>,
    ) -> Result<Option<Principal>> {
        let network = Network::of(client.unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)));
        let user = self.db.user_by_name(username).await?;
        let key = match &user {
            Some(u) => Key::Pair(u.username.clone(), network),
            None => Key::Address(network),
        };
        // What other processes on the database counted against the key, first.
        let shared_key = key.as_text();
        let now = now_ms();
        let shared = self.db.login_failures(&shared_key).await?;
        let counted = shared.map(|(failures, last_at)| {
            let ago = std::time::Duration::from_millis((now - last_at).max(0) as u64);
            (failures, ago)
        });
        self.limiter.sync(&key, counted);
        let attempt = self
            .limiter
            .begin(key)
            .map_err(|retry_after| Error::TooManyRequests { retry_after })?;
        let right = match &user {
            Some(u) => verify_password(password, &u.password_hash).await?,
            None => {
                // Spend the same time as a real check so timing does not reveal names.
                verify_password(password, DUMMY_HASH).await?;
                false
            }
        };
        let Some(user) = user.filter(|_| right) else {
            // The database first: a process reading it meanwhile then counts this
            // failure too (once more at most), never fewer.
            let failed_at = now_ms();
            let forget_before = failed_at - super::limiter::FORGET_AFTER.as_millis() as i64;
            self.db
                .count_login_failure(&shared_key, failed_at, forget_before)
                .await?;
            attempt.failed();
            return Ok(None);
        };
        attempt.succeeded();
        if shared.is_some() {
            self.db.forget_login_failures(&shared_key).await?;
        }
        // Said only to someone who knows the password.
        if user.disabled_at.is_some() {
            return Err(disabled(&user.username));
        }
        Ok(Some(Principal::person(user.username, user.id)))
    }

    /// A token, login token or node secret: one indexed lookup of its hash.
    async fn check_minted_secret(&self, username: &str, secret: &str) -> Result<Option<Principal>> {
        let Some(c) = self
            .db
            .credential_by_secret_hash(&secret_hash(secret))
            .await?
        else {
            return Ok(None);
        };
        let now = now_ms();
        if c.revoked_at.is_some() || c.expires_at.is_some_and(|e| e <= now) {
            return Ok(None);
        }
        let principal = if c.kind == CredentialKind::Node.as_str() {
            let Some(account) = self
                .db
                .account_by_id(c.account_id.unwrap_or_default())
                .await?
            else {
                return Ok(None);
            };
            let login = format!("{}+{}", account.name, c.name);
            if username != login {
                return Ok(None);
            }
            Principal {
                name: login,
                user_id: None,
                credential_id: Some(c.id),
                node_account_id: Some(account.id),
                ceiling: Some(TokenAccess::Pull),
                only_account_id: None,
                grant_id: None,
            }
        } else {
            let Some(user) = self.db.user_by_id(c.user_id.unwrap_or_default()).await? else {
                return Ok(None);
            };
            if user.username != username {
                return Ok(None);
            }
            if user.disabled_at.is_some() {
                return Err(disabled(&user.username));
            }
            Principal {
                name: user.username,
                user_id: Some(user.id),
                credential_id: Some(c.id),
                node_account_id: None,
                // An unreadable level fails closed, to the least access.
                ceiling: Some(TokenAccess::parse(&c.access).unwrap_or(TokenAccess::Pull)),
                only_account_id: if c.kind == CredentialKind::Login.as_str() {
                    // A Docker Login button credential without its account works in no
                    // account (public repositories it may pull, as anyone may).
                    Some(c.account_id.unwrap_or(-1))
                } else {
                    None
                },
                grant_id: None,
            }
        };
        if let Err(e) = self.db.touch_credential(c.id, now).await {
            tracing::warn!(error = %e, "could not record credential use");
        }
        Ok(Some(principal))
    }

    /// A refresh token for a fresh login, living as long as what it came from: after a
    /// password, until the password changes, the user is removed, or it goes unused
    /// for [`REFRESH_IDLE_LIFETIME`] (each use renews it); after a personal access
    /// token, a node secret or a Docker Login button credential, as long as that
    /// credential lives. docker keeps only this token (its `identitytoken`), never the
    /// password, so a `docker login` lasts exactly this long.
    pub async fn issue_refresh_token(
        &self,
        principal: &Principal,
        service: &str,
    ) -> Result<String> {
        let (grant, expires_at) = match principal.credential_id {
            Some(id) => {
                let c = self
                    .db
                    .credential_by_id(id)
                    .await?
                    .ok_or(Error::Unauthenticated)?;
                let expires_at = c.expires_at.map_or(unix_now() + OPEN_ENDED_SECONDS, |ms| {
                    (ms / 1000).max(0) as u64
                });
                (None, expires_at)
            }
            None => {
                let user_id = principal.user_id.ok_or(Error::Unauthenticated)?;
                let grant = self.db.create_refresh_grant(user_id, now_ms()).await?;
                (Some(grant.id), unix_now() + OPEN_ENDED_SECONDS)
            }
        };
        self.tokens
            .issue_refresh(principal, service, grant, expires_at)
    }

    /// Who a verified refresh token stands for, when what it came from is still valid.
    pub async fn redeem_refresh_token(&self, claims: &Claims) -> Result<Option<Principal>> {
        let Some(p) = &claims.prn else {
            return Ok(None);
        };
        match (claims.rid, p.credential_id) {
            (Some(rid), None) => {
                let Some(grant) = self.db.refresh_grant(rid).await? else {
                    return Ok(None);
                };
                let now = now_ms();
                let idle_ms = REFRESH_IDLE_LIFETIME.as_millis() as i64;
                if Some(grant.user_id) != p.user_id || grant.last_used_at + idle_ms <= now {
                    return Ok(None);
                }
                self.db
                    .touch_refresh_grant(rid, now, GRANT_TOUCH_EVERY_MS)
                    .await?;
            }
            (None, Some(_)) => {}
            // A password refresh token without a grant predates grants: its password
            // may have changed since, so it is not honoured.
            _ => return Ok(None),
        }
        let mut p = p.clone();
        p.grant_id = claims.rid;
        self.principal_by_ids(&p).await
    }

    /// Forgets refresh grants unused for [`REFRESH_IDLE_LIFETIME`] (they no longer
    /// work anyway).
    pub(super) async fn expire_refresh_grants(&self, now: i64) -> Result<u64> {
        let cutoff = now - REFRESH_IDLE_LIFETIME.as_millis() as i64;
        Ok(self.db.delete_refresh_grants_unused_since(cutoff).await?)
    }

    /// Rebuilds a principal from its ids, for refresh tokens.
    pub async fn principal_by_ids(&self, p: &Principal) -> Result<Option<Principal>> {
        if !self.principal_is_current(p).await? {
            return Ok(None);
        }
        if let Some(uid) = p.user_id
            && self
                .db
                .user_by_id(uid)
                .await?
                .is_none_or(|u| u.disabled_at.is_some())
        {
            return Ok(None);
        }
        Ok(Some(p.clone()))
    }
}

/// The refusal of a disabled user's login, in words docker prints.
fn disabled(username: &str) -> Error {
    Error::Denied(format!(
        "the user {username} is disabled; a site admin can enable it again"
    ))
}

/// An argon2id hash of a random password, verified against when the user is unknown.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3Vd2VX0r6Zb6eNwzG0m9Nq7R0O3dZb0pJ1b7qk1p8Zk";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_prefixed_random_and_hashed() {
        let a = mint_secret(CredentialKind::Token);
        let b = mint_secret(CredentialKind::Token);
        assert!(a.starts_with("berth_token_"));
        assert_ne!(a, b);
        assert_eq!(secret_hash(&a).len(), 64);
        assert_ne!(secret_hash(&a), secret_hash(&b));
    }
}
