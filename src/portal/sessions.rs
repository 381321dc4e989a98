//! tower-sessions records kept in Berth's database.

use crate::services::Services;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{Error, Result, SessionStore};

#[derive(Clone)]
pub struct DbSessionStore(pub Services);

/// Who is signed in on a session record, kept beside it so that a user's sessions
/// can be found (and ended) without reading every record.
fn user_of(record: &Record) -> Option<i64> {
    record
        .data
        .get(app::api::session::USER_KEY)
        .and_then(|v| v.as_i64())
}

impl std::fmt::Debug for DbSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DbSessionStore")
    }
}

#[async_trait::async_trait]
impl SessionStore for DbSessionStore {
    /// A new session gets an id nobody holds: on the (astronomically rare) collision a
    /// new id is drawn instead of overwriting someone's session.
    async fn create(&self, record: &mut Record) -> Result<()> {
        loop {
            let data = serde_json::to_string(record).map_err(|e| Error::Encode(e.to_string()))?;
            let expires_ms = record.expiry_date.unix_timestamp().saturating_mul(1000);
            let created = self
                .0
                .create_session(&record.id.to_string(), &data, expires_ms, user_of(record))
                .await
                .map_err(|e| Error::Backend(e.to_string()))?;
            if created {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> Result<()> {
        let data = serde_json::to_string(record).map_err(|e| Error::Encode(e.to_string()))?;
        let expires_ms = record.expiry_date.unix_timestamp().saturating_mul(1000);
        self.0
            .save_session(&record.id.to_string(), &data, expires_ms, user_of(record))
            .await
            .map_err(|e| Error::Backend(e.to_string()))
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        let data = self
            .0
            .session_data(&id.to_string())
            .await
            .map_err(|e| Error::Backend(e.to_string()))?;
        data.map(|d| serde_json::from_str(&d).map_err(|e| Error::Decode(e.to_string())))
            .transpose()
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        self.0
            .delete_session(&id.to_string())
            .await
            .map_err(|e| Error::Backend(e.to_string()))
    }
}
