//! Rules and transactions. Every function takes already-parsed domain values and
//! returns a domain result or an [`Error`] that says what went wrong in the caller's
//! terms; the registry and the portal each translate these once.

pub mod access;
pub mod accounts;
pub mod audit;
pub mod blobs;
pub mod changes;
pub mod credentials;
pub mod fsck;
pub mod gc;
pub mod immutability;
pub mod limiter;
pub mod manifests;
pub mod members;
pub mod metrics;
pub mod pulls;
pub mod repositories;
pub mod retention;
pub mod sessions;
pub mod sso;
pub mod throttle;
pub mod tokens;
pub mod trash;
pub mod uploads;
pub mod webhooks;

use crate::db::{Db, DbError};
use crate::storage::BlobStore;
use std::sync::Arc;

/// What a service call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0} not found")]
    NotFound(Thing),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(Invalid),
    #[error("requested access to the resource is denied")]
    Forbidden,
    #[error("authentication required")]
    Unauthenticated,
    /// Throttled: too many failed attempts, or too many at once.
    #[error("too many failed attempts, try again later")]
    TooManyRequests { retry_after: std::time::Duration },
    /// Refused by a limit or rule, with words saying which.
    #[error("{0}")]
    Denied(String),
    /// The account's storage quota would be exceeded.
    #[error("the account's storage quota is exceeded")]
    QuotaExceeded { used: u64, quota: u64 },
    /// The disk is full; what the request wrote was discarded.
    #[error("the registry's storage is full")]
    StorageFull,
    /// A fault of ours (database, disk). The cause is logged, never shown.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

/// The kinds of things a lookup can miss.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Thing {
    Account,
    User,
    Credential,
    Repository,
    Blob,
    Manifest,
    Upload,
    Rule,
    Policy,
    Webhook,
    Delivery,
}

impl std::fmt::Display for Thing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Thing::Account => "account",
            Thing::User => "user",
            Thing::Credential => "credential",
            Thing::Repository => "repository",
            Thing::Blob => "blob",
            Thing::Manifest => "manifest",
            Thing::Upload => "upload",
            Thing::Rule => "rule",
            Thing::Policy => "retention policy",
            Thing::Webhook => "webhook",
            Thing::Delivery => "webhook delivery",
        })
    }
}

/// Ways a request can be malformed or inconsistent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalid {
    Name(String),
    Digest(String),
    /// The uploaded bytes do not hash to the digest the client gave.
    DigestMismatch,
    Manifest(String),
    /// A manifest references a blob or manifest that the repository does not have.
    ManifestReference(String),
    /// A chunk does not start where the upload ends; carries the current size.
    Range {
        size: u64,
    },
    Size(String),
    Request(String),
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Invalid::Name(m)
            | Invalid::Digest(m)
            | Invalid::Manifest(m)
            | Invalid::Size(m)
            | Invalid::Request(m) => f.write_str(m),
            Invalid::DigestMismatch => f.write_str("the content does not match the digest"),
            Invalid::ManifestReference(d) => write!(f, "manifest references unknown {d}"),
            Invalid::Range { size } => write!(
                f,
                "chunk does not start at the end of the upload ({size} bytes)"
            ),
        }
    }
}

impl From<DbError> for Error {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Conflict => Error::Conflict("that name is taken".into()),
            DbError::Other(e) => Error::Internal(anyhow::Error::new(e)),
        }
    }
}

impl From<crate::db::LinkRefused> for Error {
    fn from(r: crate::db::LinkRefused) -> Self {
        match r {
            crate::db::LinkRefused::Io(e) => e.into(),
            crate::db::LinkRefused::TakenOver => uploads::taken_over(),
            crate::db::LinkRefused::OverQuota { used, quota } => Error::QuotaExceeded {
                used: used.max(0) as u64,
                quota: quota.max(0) as u64,
            },
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::StorageFull {
            Error::StorageFull
        } else {
            Error::Internal(e.into())
        }
    }
}

impl From<crate::domain::ParseError> for Error {
    fn from(e: crate::domain::ParseError) -> Self {
        Error::Invalid(Invalid::Request(e.0))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How many uploads an account may have open at once, unless configured.
pub const DEFAULT_MAX_OPEN_UPLOADS: u32 = 100;

/// Everything the services need, shared by the registry, the portal and the CLI.
#[derive(Clone)]
pub struct Services {
    pub db: Db,
    pub store: Arc<dyn BlobStore>,
    pub tokens: Arc<tokens::TokenKeys>,
    pub limiter: Arc<limiter::LoginLimiter>,
    /// The rate limit of anonymous requests.
    pub anonymous: Arc<throttle::AnonymousThrottle>,
    pub uploads: Arc<uploads::UploadLocks>,
    /// Pushes and deletions, for live portal pages.
    pub changes: changes::Changes,
    /// Pull times not yet written to the database.
    pub pulls: Arc<pulls::PendingPulls>,
    /// Retention, grace and expiry periods.
    pub lifecycle: gc::Lifecycle,
    /// Held while garbage collection runs: one run at a time.
    pub gc_running: Arc<tokio::sync::Mutex<()>>,
    pub metrics: Arc<metrics::Metrics>,
    /// How many uploads an account may have open at once.
    pub max_open_uploads: u32,
    /// Whether blob GETs are redirected to a presigned URL of the store.
    pub blob_redirect: bool,
    /// Sends the outbox's webhook messages.
    pub webhooks: Arc<webhooks::Deliverer>,
    /// The OpenID Provider people sign in with, when configured.
    pub sso: Option<Arc<sso::Sso>>,
}

/// How long a presigned blob URL works: long enough to start a download, short
/// enough that a URL copied out of a log soon stops working.
pub const BLOB_REDIRECT_LIFETIME: std::time::Duration = std::time::Duration::from_secs(300);

impl Services {
    pub fn new(db: Db, store: Arc<dyn BlobStore>, tokens: tokens::TokenKeys) -> Self {
        Self {
            db,
            store,
            tokens: Arc::new(tokens),
            limiter: Arc::new(limiter::LoginLimiter::default()),
            anonymous: Arc::default(),
            uploads: Arc::new(uploads::UploadLocks::default()),
            changes: changes::Changes::default(),
            pulls: Arc::default(),
            lifecycle: gc::Lifecycle::default(),
            gc_running: Arc::default(),
            metrics: Arc::default(),
            max_open_uploads: DEFAULT_MAX_OPEN_UPLOADS,
            blob_redirect: false,
            webhooks: Arc::default(),
            sso: None,
        }
    }
}

/// Milliseconds since the Unix epoch, by the server's clock: every lifetime (tokens,
/// refresh grants, credentials, trash) is measured with it.
///
/// `BERTH_TEST_CLOCK_OFFSET_SECS` moves this clock ahead by that many seconds, read
/// once per process, so that tests can see how Berth behaves days later without
/// waiting; nothing but a test should set it.
pub fn now_ms() -> i64 {
    static OFFSET_MS: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    let offset = *OFFSET_MS.get_or_init(|| {
        std::env::var("BERTH_TEST_CLOCK_OFFSET_SECS")
            .ok()
            .and_then(|v| v.trim().parse::<i64>().ok())
            .map_or(0, |s| s.saturating_mul(1000))
    });
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
        .saturating_add(offset)
}

/// RFC 3339 UTC text for a time in Unix milliseconds, e.g. `2026-11-25T20:05:00Z`.
pub fn format_rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil-from-days (Howard Hinnant's algorithm), valid for all dates we will see.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_times_as_rfc3339() {
        assert_eq!(super::format_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(
            super::format_rfc3339(1_795_564_800_000),
            "2026-11-25T00:00:00Z"
        );
        assert_eq!(
            super::format_rfc3339(951_782_400_000 + 3_723_000),
            "2000-02-29T01:02:03Z"
        );
    }
}
