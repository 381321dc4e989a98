//! Upload sessions. The row says which repository a session belongs to; the bytes, and
//! so its length, live in the store's temp area, so a session survives a restart.

use super::entity::uploads;
use super::{Db, DbResult, Upload};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

impl Db {
    pub async fn create_upload(&self, id: &str, repository_id: i64, now: i64) -> DbResult<Upload> {
        let row = uploads::ActiveModel {
            id: Set(id.to_owned()),
            repository_id: Set(repository_id),
            created_at: Set(now),
        }
        .insert(&self.conn)
        .await?;
        Ok(row)
    }

    /// The session, only if it belongs to this repository: an upload id must never let
    /// one repository (or tenant) touch another's upload.
    pub async fn upload(&self, id: &str, repository_id: i64) -> DbResult<Option<Upload>> {
        Ok(uploads::Entity::find_by_id(id.to_owned())
            .filter(uploads::Column::RepositoryId.eq(repository_id))
            .one(&self.read)
            .await?)
    }

    pub async fn delete_upload(&self, id: &str) -> DbResult<bool> {
        let res = uploads::Entity::delete_by_id(id.to_owned())
            .exec(&self.conn)
            .await?;
        Ok(res.rows_affected > 0)
    }
}
