//! Upload sessions. The row says which repository a session belongs to; the bytes, and
//! so its length, live in the store's temp area, so a session survives a restart.

use super::entity::{repositories, uploads};
use super::{Db, DbResult, Upload};
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set, TransactionTrait,
};
use std::collections::HashMap;

impl Db {
    /// Opens an upload session unless the repository's account has `max_open` open
    /// already; then `Err` with how many. Counting and inserting happen under the
    /// account's row lock, so two at once cannot both take the last place.
    pub async fn create_upload(
        &self,
        id: &str,
        repository_id: i64,
        account_id: i64,
        max_open: u64,
        now: i64,
    ) -> DbResult<Result<Upload, u64>> {
        let txn = self.conn.begin().await?;
        // The lock is the first statement: on SQLite the transaction then writes from
        // its start, so another process's commit cannot invalidate what it read.
        super::usage::lock_account(&txn, account_id).await?;
        let open = uploads::Entity::find()
            .filter(
                uploads::Column::RepositoryId.in_subquery(
                    Query::select()
                        .column(repositories::Column::Id)
                        .from(repositories::Entity)
                        .and_where(repositories::Column::AccountId.eq(account_id))
                        .to_owned(),
                ),
            )
            .count(&txn)
            .await?;
        if open >= max_open {
            txn.rollback().await?;
            return Ok(Err(open));
        }
        let row = uploads::ActiveModel {
            id: Set(id.to_owned()),
            repository_id: Set(repository_id),
            created_at: Set(now),
        }
        .insert(&txn)
        .await?;
        txn.commit().await?;
        Ok(Ok(row))
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

    /// Every upload session with the account it belongs to.
    pub async fn uploads_by_account(&self) -> DbResult<Vec<(String, i64)>> {
        let accounts: HashMap<i64, i64> = repositories::Entity::find()
            .all(&self.read)
            .await?
            .into_iter()
            .map(|r| (r.id, r.account_id))
            .collect();
        Ok(uploads::Entity::find()
            .all(&self.read)
            .await?
            .into_iter()
            .filter_map(|u| accounts.get(&u.repository_id).map(|a| (u.id, *a)))
            .collect())
    }
}
