//! Access tokens, login tokens and node credentials, and checking what `docker login`
//! was given.

use super::access::Principal;
use super::accounts::verify_password;
use super::{Error, Result, Services, Thing, now_ms};
use crate::db::{Credential, NewCredential};
use crate::domain::{AccountName, NodeName, TokenAccess};
use rand::Rng;
use rand::distributions::Alphanumeric;
use sha2::{Digest as _, Sha256};
use std::net::IpAddr;
use std::time::Duration;

/// Every secret we mint starts with this, so a password can never be mistaken for one
/// and leaked secrets are easy to scan for.
pub(crate) const SECRET_PREFIX: &str = "berth_";

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
        user_id: i64,
        account: &AccountName,
    ) -> Result<NewSecret> {
        let (account, user) = self.member_of(user_id, account).await?;
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
            &user.username,
            "login_token.create",
            None,
            None,
        )
        .await;
        Ok(new)
    }

    /// Creates a personal access token for a user.
    pub async fn create_token(
        &self,
        username: &str,
        label: &str,
        access: TokenAccess,
        lifetime: Option<Duration>,
        actor: &str,
    ) -> Result<NewSecret> {
        let user = self
            .db
            .user_by_name(username)
            .await?
            .ok_or(Error::NotFound(Thing::User))?;
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
            actor,
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

    /// Creates a node: a machine that may pull every repository of its account.
    pub async fn create_node(
        &self,
        name: &NodeName,
        account: &AccountName,
        actor: &str,
    ) -> Result<NewSecret> {
        let account = self.account(account).await?;
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
            actor,
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

    /// Revokes a token or node; effective for the next request that uses it.
    pub async fn revoke_credential(&self, id: i64, actor: &str) -> Result<Credential> {
        let c = self
            .db
            .credential_by_id(id)
            .await?
            .ok_or(Error::NotFound(Thing::Credential))?;
        if !self.db.revoke_credential(id, now_ms()).await? {
            return Err(Error::Conflict(format!(
                "credential {id} is revoked already"
            )));
        }
        self.audit(
            c.account_id,
            actor,
            &format!("{}.revoke", c.kind),
            None,
            Some(format!("#{id} {}", c.name)),
        )
        .await;
        Ok(c)
    }

    /// A signed-in user's personal access tokens, newest first.
    pub async fn user_tokens(&self, user_id: i64) -> Result<Vec<Credential>> {
        Ok(self
            .db
            .credentials_of_user(user_id, CredentialKind::Token.as_str())
            .await?)
    }

    /// Creates a token for the signed-in user.
    pub async fn create_own_token(
        &self,
        user_id: i64,
        label: &str,
        access: TokenAccess,
        lifetime: Option<Duration>,
    ) -> Result<NewSecret> {
        let user = self
            .db
            .user_by_id(user_id)
            .await?
            .ok_or(Error::Unauthenticated)?;
        let label = label.trim();
        if label.is_empty() || label.chars().count() > 64 {
            return Err(Error::Invalid(super::Invalid::Request(
                "Give the token a name of 1 to 64 characters.".into(),
            )));
        }
        self.create_token(&user.username, label, access, lifetime, &user.username)
            .await
    }

    /// Revokes one of the signed-in user's own tokens (site admins: anyone's).
    pub async fn revoke_own_token(&self, user_id: i64, credential_id: i64) -> Result<()> {
        let user = self
            .db
            .user_by_id(user_id)
            .await?
            .ok_or(Error::Unauthenticated)?;
        let c = self
            .db
            .credential_by_id(credential_id)
            .await?
            .ok_or(Error::NotFound(Thing::Credential))?;
        if c.user_id != Some(user_id) && !user.site_admin {
            return Err(Error::Forbidden);
        }
        self.revoke_credential(credential_id, &user.username)
            .await
            .map(|_| ())
    }

    /// The nodes of an account, for its members.
    pub async fn account_nodes(
        &self,
        user_id: i64,
        account: &AccountName,
    ) -> Result<Vec<Credential>> {
        let (account, _) = self.member_of(user_id, account).await?;
        Ok(self
            .db
            .credentials_of_account(account.id, CredentialKind::Node.as_str())
            .await?)
    }

    /// Creates a node of an account; its admins only.
    pub async fn create_account_node(
        &self,
        user_id: i64,
        account: &AccountName,
        name: &NodeName,
    ) -> Result<NewSecret> {
        let (_, user) = self.admin_of(user_id, account).await?;
        self.create_node(name, account, &user.username).await
    }

    /// Revokes a node of an account; its admins only.
    pub async fn revoke_account_node(
        &self,
        user_id: i64,
        account: &AccountName,
        id: i64,
    ) -> Result<()> {
        let (account, user) = self.admin_of(user_id, account).await?;
        let c = self
            .db
            .credential_by_id(id)
            .await?
            .ok_or(Error::NotFound(Thing::Credential))?;
        if c.account_id != Some(account.id) || c.kind != CredentialKind::Node.as_str() {
            return Err(Error::Forbidden);
        }
        self.revoke_credential(id, &user.username).await.map(|_| ())
    }

    /// Checks what a client presented as username and password (a password, an access
    /// token, a login token or a node secret) and says who it is.
    pub async fn authenticate(
        &self,
        username: &str,
        secret: &str,
        client: Option<IpAddr>,
    ) -> Result<Principal> {
        if self.limiter.is_blocked(username, client) {
            return Err(Error::TooManyRequests);
        }
        match self.check_secret(username, secret).await? {
            Some(p) => {
                self.limiter.record_success(username);
                Ok(p)
            }
            None => {
                self.limiter.record_failure(username, client);
                tracing::info!(username, client = ?client, "failed login");
                Err(Error::Unauthenticated)
            }
        }
    }

    async fn check_secret(&self, username: &str, secret: &str) -> Result<Option<Principal>> {
        if secret.starts_with(SECRET_PREFIX) {
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
                }
            } else {
                let Some(user) = self.db.user_by_id(c.user_id.unwrap_or_default()).await? else {
                    return Ok(None);
                };
                if user.username != username {
                    return Ok(None);
                }
                Principal {
                    name: user.username,
                    user_id: Some(user.id),
                    credential_id: Some(c.id),
                    node_account_id: None,
                    // An unreadable level fails closed, to the least access.
                    ceiling: Some(TokenAccess::parse(&c.access).unwrap_or(TokenAccess::Pull)),
                }
            };
            if let Err(e) = self.db.touch_credential(c.id, now).await {
                tracing::warn!(error = %e, "could not record credential use");
            }
            return Ok(Some(principal));
        }
        let Some(user) = self.db.user_by_name(username).await? else {
            // Spend the same time as a real check so timing does not reveal names.
            verify_password(secret, DUMMY_HASH).await;
            return Ok(None);
        };
        if !verify_password(secret, &user.password_hash).await {
            return Ok(None);
        }
        Ok(Some(Principal {
            name: user.username,
            user_id: Some(user.id),
            credential_id: None,
            node_account_id: None,
            ceiling: None,
        }))
    }

    /// Rebuilds a principal from its ids, for refresh tokens.
    pub async fn principal_by_ids(&self, p: &Principal) -> Result<Option<Principal>> {
        if !self.principal_is_current(p).await? {
            return Ok(None);
        }
        if let Some(uid) = p.user_id
            && self.db.user_by_id(uid).await?.is_none()
        {
            return Ok(None);
        }
        Ok(Some(p.clone()))
    }
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
