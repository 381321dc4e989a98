//! The only module that imports `sea_orm`. It connects, runs migrations and offers
//! one function per query or transaction; rows come back as the entities' plain
//! `Model` structs, which carry no database handle.

pub mod entity;

mod accounts;
mod audit;
mod backup;
mod credentials;
mod fsck;
mod gc;
mod immutability;
mod leases;
mod logins;
mod manifests;
mod notify;
mod repositories;
mod retention;
mod secrets;
mod sessions;
mod sso;
mod trash;
mod uploads;
mod usage;
mod webhooks;

pub use accounts::AccountOverview;
pub use audit::*;
pub use credentials::*;
pub use fsck::SizeDrift;
pub use gc::{GcGraph, LinkCandidate, ManifestNode};
pub use immutability::{FrozenTag, ImmutabilityRule};
pub use manifests::*;
pub use repositories::{
    LinkRefused, PlacedBlob, RepositorySet, RepositorySummary, StorageTotals, UploadClaim,
};
pub use retention::{ManifestFacts, NewRetention, RepositoryFacts, RetentionRow};
pub use sso::{GroupMapping, GroupRole, RoleChanges};
pub use trash::{Deletion, RestoreRefused, TrashEntry, trashed_manifest};
pub use uploads::UploadProgress;
pub use usage::UsageDrift;
pub use webhooks::{
    Attempt, DELIVERED, Event, FAILED, NewWebhook, PENDING, Webhook, WebhookDelivery, hears,
};

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbErr, SqlErr};
use std::time::Duration;

pub type Account = entity::accounts::Model;
pub type User = entity::users::Model;
pub type Membership = entity::memberships::Model;
pub type Credential = entity::credentials::Model;
pub type Repository = entity::repositories::Model;
pub type Manifest = entity::manifests::Model;
pub type Tag = entity::tags::Model;
pub type Upload = entity::uploads::Model;
pub type AuditEvent = entity::audit_events::Model;

/// A database failure. Unique-constraint violations are told apart because they mean
/// "that name is taken", which callers report as a conflict rather than a fault.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("a row with the same unique value exists")]
    Conflict,
    #[error("database error: {0}")]
    Other(DbErr),
}

impl From<DbErr> for DbError {
    fn from(e: DbErr) -> Self {
        match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => DbError::Conflict,
            _ => DbError::Other(e),
        }
    }
}

pub type DbResult<T> = Result<T, DbError>;

/// A pooled connection to SQLite or PostgreSQL.
#[derive(Clone)]
pub struct Db {
    /// For writes and transactions. With SQLite a single connection: SQLite allows one
    /// writer, and queueing in the pool beats failing with SQLITE_BUSY.
    conn: DatabaseConnection,
    /// For plain reads, which WAL lets run beside the writer.
    read: DatabaseConnection,
}

impl Db {
    /// Connects and brings the schema up to date. `sqlite://` files are created when
    /// missing and run in WAL mode.
    pub async fn connect(url: &str) -> DbResult<Self> {
        let sqlite = url.starts_with("sqlite:");
        let mut opt = ConnectOptions::new(url.to_owned());
        opt.sqlx_logging(false)
            .acquire_timeout(Duration::from_secs(30))
            .max_connections(if sqlite { 1 } else { 20 })
            .min_connections(1);
        opt.map_sqlx_sqlite_opts(|o| {
            o.create_if_missing(true)
                .journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(30))
                .foreign_keys(true)
        });
        let conn = Database::connect(opt.clone()).await?;
        Migrator::up(&conn, None).await?;
        let read = if sqlite {
            opt.max_connections(4).min_connections(1);
            Database::connect(opt).await?
        } else {
            conn.clone()
        };
        Ok(Self { conn, read })
    }

    /// A cheap round trip, for health checks.
    pub async fn ping(&self) -> DbResult<()> {
        self.conn.execute_unprepared("SELECT 1").await?;
        Ok(())
    }

    pub async fn close(self) {
        let _ = self.read.close().await;
        let _ = self.conn.close().await;
    }
}

/// Rows per statement when a list is written or matched in parts: SQLite binds at
/// most 32766 values per statement, PostgreSQL 65535.
const CHUNK: usize = 1000;

/// Raw SQL is written with `?` placeholders; PostgreSQL numbers them (`$1`, `$2`, …).
fn placeholders(backend: sea_orm::DatabaseBackend, sql: &str) -> String {
    if backend != sea_orm::DatabaseBackend::Postgres {
        return sql.to_owned();
    }
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for ch in sql.chars() {
        if ch == '?' {
            n += 1;
            out.push_str(&format!("${n}"));
        } else {
            out.push(ch);
        }
    }
    out
}
