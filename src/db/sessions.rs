//! Portal sessions: an opaque JSON record per session id, with its expiry.

use super::entity::sessions;
use super::{Db, DbResult};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set, sea_query::OnConflict};

impl Db {
    /// The record of a session that has not expired.
    pub async fn session_data(&self, id: &str, now: i64) -> DbResult<Option<String>> {
        Ok(sessions::Entity::find_by_id(id.to_owned())
            .filter(sessions::Column::ExpiresAt.gt(now))
            .one(&self.read)
            .await?
            .map(|s| s.data))
    }

    pub async fn save_session(
        &self,
        id: &str,
        data: &str,
        expires_at: i64,
        user_id: Option<i64>,
    ) -> DbResult<()> {
        sessions::Entity::insert(sessions::ActiveModel {
            id: Set(id.to_owned()),
            data: Set(data.to_owned()),
            expires_at: Set(expires_at),
            user_id: Set(user_id),
        })
        .on_conflict(
            OnConflict::column(sessions::Column::Id)
                .update_columns([
                    sessions::Column::Data,
                    sessions::Column::ExpiresAt,
                    sessions::Column::UserId,
                ])
                .to_owned(),
        )
        .exec_without_returning(&self.conn)
        .await?;
        Ok(())
    }

    /// Inserts a new session; false when the id is taken (the caller draws another).
    pub async fn create_session(
        &self,
        id: &str,
        data: &str,
        expires_at: i64,
        user_id: Option<i64>,
    ) -> DbResult<bool> {
        let inserted = sessions::Entity::insert(sessions::ActiveModel {
            id: Set(id.to_owned()),
            data: Set(data.to_owned()),
            expires_at: Set(expires_at),
            user_id: Set(user_id),
        })
        .on_conflict_do_nothing()
        .exec_without_returning(&self.conn)
        .await?;
        Ok(matches!(inserted, sea_orm::TryInsertResult::Inserted(n) if n > 0))
    }

    pub async fn delete_session(&self, id: &str) -> DbResult<()> {
        sessions::Entity::delete_by_id(id.to_owned())
            .exec(&self.conn)
            .await?;
        Ok(())
    }

    /// Ends every session of a user but `keep` (the one that asked, if any).
    pub async fn delete_sessions_of_user(&self, user_id: i64, keep: Option<&str>) -> DbResult<u64> {
        let mut q = sessions::Entity::delete_many().filter(sessions::Column::UserId.eq(user_id));
        if let Some(keep) = keep {
            q = q.filter(sessions::Column::Id.ne(keep));
        }
        Ok(q.exec(&self.conn).await?.rows_affected)
    }

    /// Whether a session exists and has not expired.
    pub async fn session_exists(&self, id: &str, now: i64) -> DbResult<bool> {
        Ok(sessions::Entity::find_by_id(id.to_owned())
            .filter(sessions::Column::ExpiresAt.gt(now))
            .one(&self.read)
            .await?
            .is_some())
    }

    /// Removes sessions that expired before `now`.
    pub async fn delete_expired_sessions(&self, now: i64) -> DbResult<u64> {
        let res = sessions::Entity::delete_many()
            .filter(sessions::Column::ExpiresAt.lte(now))
            .exec(&self.conn)
            .await?;
        Ok(res.rows_affected)
    }
}
