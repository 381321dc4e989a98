//! A consistent copy of the embedded SQLite database, taken while the server runs.

use super::{Db, DbResult};
use sea_orm::ConnectionTrait;
use std::path::Path;

impl Db {
    /// Whether this is the embedded SQLite (rather than PostgreSQL).
    pub fn is_sqlite(&self) -> bool {
        self.conn.get_database_backend() == sea_orm::DatabaseBackend::Sqlite
    }

    /// Writes the whole database as one transaction saw it to a new file at `path`
    /// (SQLite's `VACUUM INTO`: a read transaction, so pushes go on meanwhile). Only
    /// for SQLite; PostgreSQL has `pg_dump`.
    pub async fn snapshot_into(&self, path: &Path) -> DbResult<()> {
        let target = path.to_string_lossy().replace('\'', "''");
        self.read
            .execute_unprepared(&format!("VACUUM INTO '{target}'"))
            .await?;
        Ok(())
    }
}
