//! Messages between the processes on one PostgreSQL database (`NOTIFY` and `LISTEN`),
//! so that what one replica changes reaches the pages open on another. SQLite has no
//! such thing; each process then hears only itself.

use super::{Db, DbResult};
use sea_orm::sqlx::postgres::PgListener;
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};

/// A subscription to one channel; the connection reconnects by itself when lost
/// (what was sent meanwhile is missed).
pub struct Listener(PgListener);

impl Listener {
    /// The next message's payload; `None` once the database is gone for good.
    pub async fn next(&mut self) -> Option<String> {
        loop {
            match self.0.recv().await {
                Ok(n) => return Some(n.payload().to_owned()),
                Err(sea_orm::sqlx::Error::PoolClosed) => return None,
                Err(e) => {
                    tracing::warn!(error = %e, "listening to the database failed; retrying");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
            }
        }
    }
}

impl Db {
    /// Whether other processes can be told things through the database.
    pub fn can_notify(&self) -> bool {
        self.conn.get_database_backend() == DatabaseBackend::Postgres
    }

    /// Sends `payload` to every process listening on `channel` (PostgreSQL only).
    pub async fn notify(&self, channel: &str, payload: &str) -> DbResult<()> {
        self.conn
            .execute_raw(Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                "SELECT pg_notify($1, $2)",
                [channel.into(), payload.into()],
            ))
            .await?;
        Ok(())
    }

    /// Listens on `channel`; `None` on SQLite.
    pub async fn listen(&self, channel: &str) -> DbResult<Option<Listener>> {
        if !self.can_notify() {
            return Ok(None);
        }
        let mut listener = PgListener::connect_with(self.conn.get_postgres_connection_pool())
            .await
            .map_err(|e| sea_orm::DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e.into())))?;
        listener
            .listen(channel)
            .await
            .map_err(|e| sea_orm::DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e.into())))?;
        Ok(Some(Listener(listener)))
    }
}
