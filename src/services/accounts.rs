//! Accounts (tenants) and their people.

use super::{Error, Result, Services, Thing, now_ms};
use crate::db::{Account, DbError, User};
use crate::domain::{AccountName, Role, Username};
use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};

/// Shortest password we accept.
pub const MIN_PASSWORD_LEN: usize = 8;

impl Services {
    pub async fn create_account(&self, name: &AccountName, actor: &str) -> Result<Account> {
        let account = match self.db.create_account(name.as_str(), now_ms()).await {
            Err(DbError::Conflict) => {
                return Err(Error::Conflict(format!("account {name} exists already")));
            }
            r => r?,
        };
        self.audit(
            Some(account.id),
            actor,
            "account.create",
            None,
            Some(name.to_string()),
        )
        .await;
        Ok(account)
    }

    pub async fn account(&self, name: &AccountName) -> Result<Account> {
        self.db
            .account_by_name(name.as_str())
            .await?
            .ok_or(Error::NotFound(Thing::Account))
    }

    /// Creates a user, optionally as a member of an account with a role.
    pub async fn create_user(
        &self,
        username: &Username,
        password: &str,
        membership: Option<(&AccountName, Role)>,
        site_admin: bool,
        actor: &str,
    ) -> Result<User> {
        if password.chars().count() < MIN_PASSWORD_LEN {
            return Err(Error::Invalid(super::Invalid::Request(format!(
                "a password has at least {MIN_PASSWORD_LEN} characters"
            ))));
        }
        if password.starts_with(super::credentials::SECRET_PREFIX) {
            // Such a password would be taken for a token at login and never match.
            return Err(Error::Invalid(super::Invalid::Request(format!(
                "a password may not start with {:?}",
                super::credentials::SECRET_PREFIX
            ))));
        }
        let account = match membership {
            Some((name, _)) => Some(self.account(name).await?),
            None => None,
        };
        let hash = hash_password(password).await?;
        let user = match self
            .db
            .create_user(username.as_str(), &hash, site_admin, now_ms())
            .await
        {
            Err(DbError::Conflict) => {
                return Err(Error::Conflict(format!("user {username} exists already")));
            }
            r => r?,
        };
        if let (Some(account), Some((_, role))) = (&account, membership) {
            self.db
                .add_membership(account.id, user.id, role.as_str(), now_ms())
                .await?;
        }
        self.audit(
            account.as_ref().map(|a| a.id),
            actor,
            "user.create",
            None,
            Some(format!(
                "{username}{}",
                if site_admin { " (site admin)" } else { "" }
            )),
        )
        .await;
        Ok(user)
    }
}

impl Services {
    /// When no user exists yet, mints the secret of the one-time setup link.
    pub async fn begin_setup(&self) -> Result<Option<String>> {
        if self.db.count_users().await? > 0 {
            return Ok(None);
        }
        let token = uuid::Uuid::new_v4().simple().to_string();
        *self.setup_token.lock().unwrap_or_else(|e| e.into_inner()) = Some(token.clone());
        Ok(Some(token))
    }

    /// Creates the first site admin through the setup link, which then stops working.
    pub async fn finish_setup(
        &self,
        token: &str,
        username: &Username,
        password: &str,
    ) -> Result<User> {
        let expected = self
            .setup_token
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let valid = expected.is_some_and(|t| !token.is_empty() && t == token);
        if !valid || self.db.count_users().await? > 0 {
            return Err(Error::Forbidden);
        }
        let user = self
            .create_user(username, password, None, true, "setup")
            .await?;
        *self.setup_token.lock().unwrap_or_else(|e| e.into_inner()) = None;
        Ok(user)
    }
}

/// Hashes a password with argon2id off the async threads: it is deliberately slow.
pub async fn hash_password(password: &str) -> Result<String> {
    let _turn = HASHING
        .acquire()
        .await
        .map_err(|e| Error::Internal(e.into()))?;
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| Error::Internal(anyhow::anyhow!("hashing a password: {e}")))
    })
    .await
    .map_err(|e| Error::Internal(e.into()))?
}

/// At most this many password hashes or checks run at once: each takes 19 MiB and a
/// core for tens of milliseconds, and more in parallel would only queue on the cores.
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);

/// Checks a password against a stored argon2 hash, off the async threads.
pub async fn verify_password(password: &str, hash: &str) -> bool {
    let Ok(_turn) = HASHING.acquire().await else {
        return false;
    };
    let (password, hash) = (password.to_owned(), hash.to_owned());
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|h| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}
