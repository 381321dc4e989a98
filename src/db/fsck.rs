//! Queries for `berth fsck`: the database's view of what the store should hold.

use super::entity::{blobs, repositories, trash_blobs, uploads};
use super::{Db, DbResult};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect, Set, TransactionTrait};
use std::collections::HashMap;
use std::future::Future;

/// A repository whose stored size differs from the sum of its blobs.
pub struct SizeDrift {
    pub id: i64,
    pub name: String,
    pub stored: i64,
    pub actual: i64,
}

impl Db {
    /// Every blob row: digest and size.
    pub async fn all_blobs(&self) -> DbResult<Vec<(String, i64)>> {
        Ok(blobs::Entity::find()
            .select_only()
            .columns([blobs::Column::Digest, blobs::Column::Size])
            .into_tuple()
            .all(&self.read)
            .await?)
    }

    /// Digest → names of the repositories linking it.
    pub async fn blob_owners(&self) -> DbResult<HashMap<String, Vec<String>>> {
        let names: HashMap<i64, String> = repositories::Entity::find()
            .select_only()
            .columns([repositories::Column::Id, repositories::Column::Name])
            .into_tuple::<(i64, String)>()
            .all(&self.read)
            .await?
            .into_iter()
            .collect();
        let mut out: HashMap<String, Vec<String>> = HashMap::new();
        for (repo, digest) in self.all_links().await? {
            out.entry(digest)
                .or_default()
                .push(names.get(&repo).cloned().unwrap_or_default());
        }
        Ok(out)
    }

    /// Digests the trash holds.
    pub async fn trashed_blobs(&self) -> DbResult<Vec<String>> {
        Ok(trash_blobs::Entity::find()
            .select_only()
            .column(trash_blobs::Column::Digest)
            .distinct()
            .into_tuple()
            .all(&self.read)
            .await?)
    }

    /// Every upload session: id and when a request last wrote it.
    pub async fn all_uploads(&self) -> DbResult<Vec<(String, i64)>> {
        Ok(uploads::Entity::find()
            .select_only()
            .columns([uploads::Column::Id, uploads::Column::UpdatedAt])
            .into_tuple()
            .all(&self.read)
            .await?)
    }

    /// Digest → the object its bytes are in, for the blobs not at their digest's
    /// usual place.
    pub async fn blob_objects(&self) -> DbResult<HashMap<String, String>> {
        Ok(blobs::Entity::find()
            .select_only()
            .columns([blobs::Column::Digest, blobs::Column::ObjectKey])
            .filter(blobs::Column::ObjectKey.is_not_null())
            .into_tuple::<(String, String)>()
            .all(&self.read)
            .await?
            .into_iter()
            .collect())
    }

    /// Runs `remove` (of a second copy at the digest's key) only while the blob's row
    /// maps it to another object, holding the row until `remove` is done; whether it
    /// ran.
    pub async fn with_blob_mapped_elsewhere<F, Fut>(
        &self,
        digest: &str,
        remove: F,
    ) -> DbResult<std::io::Result<bool>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = std::io::Result<()>>,
    {
        use sea_orm::sea_query::Expr;
        let txn = self.conn.begin().await?;
        // A write first: it takes the row (and SQLite's write lock) for the transaction.
        let held = blobs::Entity::update_many()
            .col_expr(
                blobs::Column::CreatedAt,
                Expr::col(blobs::Column::CreatedAt),
            )
            .filter(blobs::Column::Digest.eq(digest))
            .filter(blobs::Column::ObjectKey.is_not_null())
            .exec(&txn)
            .await?;
        if held.rows_affected != 1 {
            txn.rollback().await?;
            return Ok(Ok(false));
        }
        if let Err(e) = remove().await {
            txn.rollback().await?;
            return Ok(Err(e));
        }
        txn.commit().await?;
        Ok(Ok(true))
    }

    /// Records where a blob's bytes are (after a restore put them in another store).
    pub async fn set_blob_object(&self, digest: &str, object: Option<&str>) -> DbResult<()> {
        use sea_orm::sea_query::Expr;
        blobs::Entity::update_many()
            .col_expr(
                blobs::Column::ObjectKey,
                Expr::value(object.map(str::to_owned)),
            )
            .filter(blobs::Column::Digest.eq(digest))
            .exec(&self.conn)
            .await?;
        Ok(())
    }

    /// Repositories whose stored size is not the sum of their distinct blobs.
    pub async fn repository_size_drift(&self) -> DbResult<Vec<SizeDrift>> {
        let sizes: HashMap<String, i64> = self.all_blobs().await?.into_iter().collect();
        let mut actual: HashMap<i64, i64> = HashMap::new();
        for (repo, digest) in self.all_links().await? {
            *actual.entry(repo).or_default() += sizes.get(&digest).copied().unwrap_or(0);
        }
        Ok(repositories::Entity::find()
            .all(&self.read)
            .await?
            .into_iter()
            .filter_map(|r| {
                let a = actual.get(&r.id).copied().unwrap_or(0);
                (a != r.size_bytes).then_some(SizeDrift {
                    id: r.id,
                    name: r.name,
                    stored: r.size_bytes,
                    actual: a,
                })
            })
            .collect())
    }

    pub async fn set_repository_size(&self, id: i64, size: i64) -> DbResult<()> {
        repositories::Entity::update_many()
            .col_expr(
                repositories::Column::SizeBytes,
                sea_orm::sea_query::Expr::value(size),
            )
            .filter(repositories::Column::Id.eq(id))
            .exec(&self.conn)
            .await?;
        Ok(())
    }

    /// Runs `remove` on a blob the database does not know, while holding its row's
    /// place (a placeholder row, deleted again), so a push of that blob waits instead
    /// of racing. False, and nothing runs, when the database knows the blob after all.
    pub async fn with_unknown_blob<F, Fut>(
        &self,
        digest: &str,
        remove: F,
    ) -> DbResult<std::io::Result<bool>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = std::io::Result<()>>,
    {
        let txn = self.conn.begin().await?;
        let claimed = blobs::Entity::insert(blobs::ActiveModel {
            digest: Set(digest.to_owned()),
            size: Set(-1),
            created_at: Set(0),
            object_key: Set(None),
        })
        .on_conflict_do_nothing()
        .exec_without_returning(&txn)
        .await?;
        if !matches!(claimed, sea_orm::TryInsertResult::Inserted(n) if n > 0) {
            txn.rollback().await?;
            return Ok(Ok(false));
        }
        if let Err(e) = remove().await {
            txn.rollback().await?;
            return Ok(Err(e));
        }
        blobs::Entity::delete_by_id(digest.to_owned())
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(Ok(true))
    }
}
