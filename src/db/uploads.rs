//! Upload sessions. The row says which repository a session belongs to and holds its
//! progress: the bytes received and the running hash's state, saved after every request, so any process can continue it. One request writes
//! an upload at a time: it takes the row's lease first (a short claim renewed while
//! the body streams, so a crashed process's claim runs out), and saves its progress
//! only if it still holds the lease and the length is still the one it started from.
//! No transaction stays open across a request body.

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
            received: Set(0),
            hash_state: Set(None),
            updated_at: Set(now),
            lease_holder: Set(None),
            lease_until: Set(0),
            store_state: Set(None),
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

    /// Claims the upload for `holder` until `until` unless another holder's claim is
    /// still good at `now`; true when the claim is `holder`'s.
    pub async fn take_upload_lease(
        &self,
        id: &str,
        holder: &str,
        now: i64,
        until: i64,
    ) -> DbResult<bool> {
        use sea_orm::sea_query::{Condition, Expr};
        let res = uploads::Entity::update_many()
            .col_expr(uploads::Column::LeaseHolder, Expr::value(holder))
            .col_expr(uploads::Column::LeaseUntil, Expr::value(until))
            .filter(uploads::Column::Id.eq(id))
            .filter(
                Condition::any()
                    .add(uploads::Column::LeaseHolder.is_null())
                    .add(uploads::Column::LeaseHolder.eq(holder))
                    .add(uploads::Column::LeaseUntil.lt(now)),
            )
            .exec(&self.conn)
            .await?;
        Ok(res.rows_affected > 0)
    }

    /// Extends `holder`'s claim; false when it is no longer theirs.
    pub async fn renew_upload_lease(&self, id: &str, holder: &str, until: i64) -> DbResult<bool> {
        use sea_orm::sea_query::Expr;
        let res = uploads::Entity::update_many()
            .col_expr(uploads::Column::LeaseUntil, Expr::value(until))
            .filter(uploads::Column::Id.eq(id))
            .filter(uploads::Column::LeaseHolder.eq(holder))
            .exec(&self.conn)
            .await?;
        Ok(res.rows_affected > 0)
    }

    /// Gives the claim up without changing the upload.
    pub async fn release_upload_lease(&self, id: &str, holder: &str) -> DbResult<()> {
        without_lease(uploads::Entity::update_many())
            .filter(uploads::Column::Id.eq(id))
            .filter(uploads::Column::LeaseHolder.eq(holder))
            .exec(&self.conn)
            .await?;
        Ok(())
    }

    /// Records a request's progress, only while `holder` holds the claim and the
    /// upload is still `from` bytes long (a compare-and-set); false when it was not
    /// recorded. The claim is given up with it unless the request goes on to finish
    /// the upload (`keep_claim`).
    pub async fn save_upload_progress(
        &self,
        id: &str,
        holder: &str,
        from: i64,
        progress: UploadProgress,
        now: i64,
        keep_claim: bool,
    ) -> DbResult<bool> {
        use sea_orm::sea_query::Expr;
        let update = uploads::Entity::update_many();
        let update = if keep_claim {
            update
        } else {
            without_lease(update)
        };
        let res = update
            .col_expr(uploads::Column::Received, Expr::value(progress.received))
            .col_expr(uploads::Column::HashState, Expr::value(progress.hash_state))
            .col_expr(
                uploads::Column::StoreState,
                Expr::value(progress.store_state),
            )
            .col_expr(uploads::Column::UpdatedAt, Expr::value(now))
            .filter(uploads::Column::Id.eq(id))
            .filter(uploads::Column::LeaseHolder.eq(holder))
            .filter(uploads::Column::Received.eq(from))
            .exec(&self.conn)
            .await?;
        Ok(res.rows_affected > 0)
    }

    /// The session by id alone, whatever its repository (for background work).
    pub async fn upload_by_id(&self, id: &str) -> DbResult<Option<Upload>> {
        Ok(uploads::Entity::find_by_id(id.to_owned())
            .one(&self.conn)
            .await?)
    }

    pub async fn delete_upload(&self, id: &str) -> DbResult<bool> {
        let res = uploads::Entity::delete_by_id(id.to_owned())
            .exec(&self.conn)
            .await?;
        Ok(res.rows_affected > 0)
    }

    /// Every upload session with the account it belongs to and its length.
    pub async fn uploads_by_account(&self) -> DbResult<Vec<(String, i64, i64)>> {
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
            .filter_map(|u| {
                accounts
                    .get(&u.repository_id)
                    .map(|a| (u.id, *a, u.received))
            })
            .collect())
    }
}

/// The update with the upload's claim cleared.
fn without_lease(
    update: sea_orm::UpdateMany<uploads::Entity>,
) -> sea_orm::UpdateMany<uploads::Entity> {
    use sea_orm::sea_query::Expr;
    update
        .col_expr(
            uploads::Column::LeaseHolder,
            Expr::value(Option::<String>::None),
        )
        .col_expr(uploads::Column::LeaseUntil, Expr::value(0i64))
}

/// What one request leaves of an upload: its length and the running hash over it.
pub struct UploadProgress {
    pub received: i64,
    pub hash_state: Option<Vec<u8>>,
    /// What the blob store keeps about the upload (see `storage::UploadState`).
    pub store_state: Option<String>,
}
