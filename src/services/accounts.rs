//! Accounts (tenants) and their people.

use super::access::{Caller, Permission, Resource};
use super::{Error, Result, Services, Thing, now_ms};
use crate::db::{Account, DbError, User};
use crate::domain::{AccountName, Role, Username};
use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};

/// Shortest password we accept.
pub const MIN_PASSWORD_LEN: usize = 8;
/// Longest password we accept (what a login may send, see `credentials`).
pub const MAX_PASSWORD_BYTES: usize = 1024;

impl Services {
    /// Creates an account, for site admins and the operator.
    pub async fn create_account(&self, caller: &Caller, name: &AccountName) -> Result<Account> {
        let actor = self
            .decide(caller, Permission::Administer, Resource::Site)
            .await?
            .actor;
        let account = match self.db.create_account(name.as_str(), now_ms()).await {
            Err(DbError::Conflict) => {
                return Err(Error::Conflict(format!("account {name} exists already")));
            }
            r => r?,
        };
        self.audit(
            Some(account.id),
            &actor,
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

    /// Creates a user, optionally as a member of an account with a role, for site
    /// admins and the operator.
    pub async fn create_user(
        &self,
        caller: &Caller,
        username: &Username,
        password: &str,
        membership: Option<(&AccountName, Role)>,
        site_admin: bool,
    ) -> Result<User> {
        let actor = self
            .decide(caller, Permission::Administer, Resource::Site)
            .await?
            .actor;
        self.insert_user(username, password, membership, site_admin, &actor)
            .await
    }

    /// Creates a user; the caller decided who may.
    pub(super) async fn insert_user(
        &self,
        username: &Username,
        password: &str,
        membership: Option<(&AccountName, Role)>,
        site_admin: bool,
        actor: &str,
    ) -> Result<User> {
        check_new_password(password)?;
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

/// The name of the setup link's secret among the site's secrets.
const SETUP_TOKEN: &str = "setup_token";

impl Services {
    /// When no user exists yet, the secret of the one-time setup link: minted by the
    /// first process to start and kept in the database, so the link works on every
    /// replica (once).
    pub async fn begin_setup(&self) -> Result<Option<String>> {
        if self.db.count_users().await? > 0 {
            return Ok(None);
        }
        let candidate = uuid::Uuid::new_v4().simple().to_string();
        let token = self
            .db
            .site_secret_or_insert(SETUP_TOKEN, &candidate, super::now_ms())
            .await?;
        Ok(Some(token))
    }

    /// Creates the first site admin through the setup link, which then stops working.
    /// The link's secret is taken before the user is created, so two submissions at
    /// once create one admin: the second finds no secret. A refused creation (a short
    /// password, say) puts it back.
    pub async fn finish_setup(
        &self,
        token: &str,
        username: &Username,
        password: &str,
    ) -> Result<User> {
        if token.is_empty() || !self.db.take_site_secret(SETUP_TOKEN, token).await? {
            return Err(Error::Forbidden);
        }
        let created = async {
            if self.db.count_users().await? > 0 {
                return Err(Error::Forbidden);
            }
            self.insert_user(username, password, None, true, "setup")
                .await
        }
        .await;
        if let Err(e) = &created
            && !matches!(e, Error::Forbidden)
        {
            self.db
                .site_secret_or_insert(SETUP_TOKEN, token, super::now_ms())
                .await?;
        }
        created
    }
}

/// Refuses a password we would not accept at sign-in: too short, too long, or
/// looking like a secret we mint (it would be taken for one at login and never match).
pub fn check_new_password(password: &str) -> Result<()> {
    let refuse = |m: String| Err(Error::Invalid(super::Invalid::Request(m)));
    if password.chars().count() < MIN_PASSWORD_LEN {
        return refuse(format!(
            "A password has at least {MIN_PASSWORD_LEN} characters."
        ));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return refuse(format!(
            "A password has at most {MAX_PASSWORD_BYTES} bytes."
        ));
    }
    if password.starts_with(super::credentials::SECRET_PREFIX) {
        return refuse(format!(
            "A password may not start with {:?}.",
            super::credentials::SECRET_PREFIX
        ));
    }
    Ok(())
}

/// Hashes a password with argon2id off the async threads: it is deliberately slow.
pub async fn hash_password(password: &str) -> Result<String> {
    let _turn = hashing_turn().await?;
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
/// At most this many more wait for a turn; beyond, a request is refused at once
/// (`TooManyRequests`) rather than held open while a flood of sign-ins drains.
const HASHING_QUEUE: usize = 32;
static HASHING_WAITING: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
/// How long a client refused for a full queue is asked to wait.
const BUSY_RETRY: std::time::Duration = std::time::Duration::from_secs(1);

/// A turn at hashing, or `TooManyRequests` when the queue is full.
async fn hashing_turn() -> Result<tokio::sync::SemaphorePermit<'static>> {
    use std::sync::atomic::Ordering;
    if let Ok(turn) = HASHING.try_acquire() {
        return Ok(turn);
    }
    if HASHING_WAITING.fetch_add(1, Ordering::AcqRel) >= HASHING_QUEUE {
        HASHING_WAITING.fetch_sub(1, Ordering::AcqRel);
        return Err(Error::TooManyRequests {
            retry_after: BUSY_RETRY,
        });
    }
    let turn = HASHING.acquire().await;
    HASHING_WAITING.fetch_sub(1, Ordering::AcqRel);
    turn.map_err(|e| Error::Internal(e.into()))
}

/// Checks a password against a stored argon2 hash, off the async threads;
/// `TooManyRequests` when too many checks wait already.
pub async fn verify_password(password: &str, hash: &str) -> Result<bool> {
    let _turn = hashing_turn().await?;
    let (password, hash) = (password.to_owned(), hash.to_owned());
    Ok(tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|h| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The only test in this process that takes hashing turns, so it owns the queue.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_hashing_queue_refuses_at_once() {
        let mut running = Vec::new();
        for _ in 0..4 {
            running.push(hashing_turn().await.unwrap());
        }
        let waiting: Vec<_> = (0..HASHING_QUEUE)
            .map(|_| tokio::spawn(async { hashing_turn().await.map(drop) }))
            .collect();
        while HASHING_WAITING.load(std::sync::atomic::Ordering::Acquire) < HASHING_QUEUE {
            tokio::task::yield_now().await;
        }
        let started = std::time::Instant::now();
        match hashing_turn().await {
            Err(Error::TooManyRequests { retry_after }) => assert_eq!(retry_after, BUSY_RETRY),
            other => panic!("expected a refusal, got {:?}", other.map(drop)),
        }
        assert!(
            started.elapsed() < std::time::Duration::from_millis(100),
            "at once"
        );
        drop(running);
        for w in waiting {
            assert!(w.await.unwrap().is_ok(), "the queued ones get their turn");
        }
        assert!(hashing_turn().await.is_ok());
    }
}
