//! Repositories, blobs and which repository may read which blob.

use super::entity::{blobs, repositories, repository_blobs};
use super::{Db, DbError, DbResult, Repository};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    TransactionTrait,
};

/// The upload session a blob's bytes came from, and the request holding its claim.
pub struct UploadClaim<'a> {
    pub id: &'a str,
    pub holder: &'a str,
}

/// A blob whose bytes a push put in the store.
pub struct PlacedBlob<'a> {
    pub digest: &'a str,
    pub size: i64,
    /// Where the bytes are when not at the digest's usual place.
    pub object: Option<&'a str>,
}

impl Db {
    pub async fn repository_by_name(&self, name: &str) -> DbResult<Option<Repository>> {
        Ok(repositories::Entity::find()
            .filter(repositories::Column::Name.eq(name))
            .one(&self.read)
            .await?)
    }

    /// The repository with this name, created on first use (public when `public`).
    pub async fn ensure_repository(
        &self,
        account_id: i64,
        name: &str,
        public: bool,
        now: i64,
    ) -> DbResult<Repository> {
        if let Some(r) = self.repository_by_name(name).await? {
            return Ok(r);
        }
        let am = repositories::ActiveModel {
            account_id: Set(account_id),
            name: Set(name.to_owned()),
            created_at: Set(now),
            pushed_at: Set(now),
            public: Set(public),
            ..Default::default()
        };
        // Two first pushes may race; the loser reads the winner's row.
        repositories::Entity::insert(am)
            .on_conflict_do_nothing_on([repositories::Column::Name])
            .exec_without_returning(&self.conn)
            .await?;
        self.repository_by_name(name)
            .await?
            .ok_or(DbError::Conflict)
    }

    /// Makes a repository public or private.
    pub async fn set_repository_public(&self, repository_id: i64, public: bool) -> DbResult<()> {
        repositories::Entity::update_many()
            .col_expr(
                repositories::Column::Public,
                sea_orm::sea_query::Expr::value(public),
            )
            .filter(repositories::Column::Id.eq(repository_id))
            .exec(&self.conn)
            .await?;
        Ok(())
    }

    /// Repository names after `last`, in order, limited to the given accounts and the
    /// public repositories (`None`: every account, for site admins).
    pub async fn repository_names(
        &self,
        account_ids: Option<&[i64]>,
        last: Option<&str>,
        limit: u64,
    ) -> DbResult<Vec<String>> {
        let mut q = repositories::Entity::find()
            .select_only()
            .column(repositories::Column::Name);
        if let Some(ids) = account_ids {
            q = q.filter(visible_in(ids));
        }
        if let Some(last) = last {
            q = q.filter(repositories::Column::Name.gt(last));
        }
        Ok(q.order_by_asc(repositories::Column::Name)
            .limit(limit)
            .into_tuple::<String>()
            .all(&self.read)
            .await?)
    }

    /// Repositories of the given accounts, and public ones, whose name contains
    /// `needle`.
    pub async fn search_repositories(
        &self,
        account_ids: Option<&[i64]>,
        needle: &str,
        limit: u64,
    ) -> DbResult<Vec<String>> {
        let mut q = repositories::Entity::find()
            .select_only()
            .column(repositories::Column::Name);
        if let Some(ids) = account_ids {
            q = q.filter(visible_in(ids));
        }
        if !needle.is_empty() {
            q = q.filter(repositories::Column::Name.contains(needle));
        }
        Ok(q.order_by_asc(repositories::Column::Name)
            .limit(limit)
            .into_tuple::<String>()
            .all(&self.read)
            .await?)
    }

    /// The size of a blob if this repository may read it.
    pub async fn blob_in_repository(
        &self,
        repository_id: i64,
        digest: &str,
    ) -> DbResult<Option<(i64, Option<String>)>> {
        let linked = repository_blobs::Entity::find_by_id((repository_id, digest.to_owned()))
            .one(&self.read)
            .await?;
        if linked.is_none() {
            return Ok(None);
        }
        Ok(blobs::Entity::find_by_id(digest.to_owned())
            .one(&self.read)
            .await?
            .map(|b| (b.size, b.object_key)))
    }

    /// The object a known blob's bytes are in: `Some(None)` for its digest's usual
    /// place, `None` when the database does not know the blob.
    pub async fn blob_object(&self, digest: &str) -> DbResult<Option<Option<String>>> {
        Ok(blobs::Entity::find_by_id(digest.to_owned())
            .one(&self.read)
            .await?
            .map(|b| b.object_key))
    }

    /// Names of repositories that may read a blob.
    pub async fn repositories_with_blob(&self, digest: &str, limit: u64) -> DbResult<Vec<String>> {
        let ids: Vec<i64> = repository_blobs::Entity::find()
            .select_only()
            .column(repository_blobs::Column::RepositoryId)
            .filter(repository_blobs::Column::Digest.eq(digest))
            .limit(limit)
            .into_tuple::<i64>()
            .all(&self.read)
            .await?;
        Ok(repositories::Entity::find()
            .select_only()
            .column(repositories::Column::Name)
            .filter(repositories::Column::Id.is_in(ids))
            .into_tuple::<String>()
            .all(&self.read)
            .await?)
    }

    /// Lets a repository read a blob whose bytes `place` puts in the store (or finds
    /// there), and drops the upload session that brought them, in one transaction that
    /// first takes the blob's row. Garbage collection deletes a blob's bytes only while
    /// holding that row too, so it never removes bytes this call has just relied on.
    /// Returns where the recorded blob's bytes are, which is elsewhere than
    /// `blob.object` when the blob was recorded before (the caller then discards its
    /// own copy).
    pub async fn link_blob_placed<F, Fut>(
        &self,
        repository_id: i64,
        blob: PlacedBlob<'_>,
        now: i64,
        upload: Option<UploadClaim<'_>>,
        place: F,
    ) -> DbResult<Result<Option<String>, LinkRefused>>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = std::io::Result<()>>,
    {
        use sea_orm::sea_query::OnConflict;
        let PlacedBlob {
            digest,
            size,
            object,
        } = blob;
        let txn = self.conn.begin().await?;
        // A pushed blob is young again, whatever its row's age: garbage collection's
        // grace then protects it until the manifest that needs it arrives. A blob
        // recorded before keeps its bytes where they are; a concurrent insert of the
        // same digest waits for this one, then finds it.
        blobs::Entity::insert(blobs::ActiveModel {
            digest: Set(digest.to_owned()),
            size: Set(size),
            created_at: Set(now),
            object_key: Set(object.map(str::to_owned)),
        })
        .on_conflict(
            OnConflict::column(blobs::Column::Digest)
                .update_columns([blobs::Column::Size, blobs::Column::CreatedAt])
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
        let kept_at = blobs::Entity::find_by_id(digest.to_owned())
            .one(&txn)
            .await?
            .and_then(|b| b.object_key);
        // The link and the account's usage first: the quota is then checked against the
        // usage this transaction holds locked, so two pushes cannot both squeeze in.
        if let Some((account_id, added)) =
            link_blob_in(&txn, repository_id, digest, size, now).await?
            && added > 0
            && let Some(account) = super::entity::accounts::Entity::find_by_id(account_id)
                .one(&txn)
                .await?
            && let Some(quota) = account.quota_bytes
            && account.size_bytes > quota
        {
            txn.rollback().await?;
            return Ok(Err(LinkRefused::OverQuota {
                used: account.size_bytes - added,
                quota,
            }));
        }
        if let Err(e) = place().await {
            txn.rollback().await?;
            return Ok(Err(LinkRefused::Io(e)));
        }
        if let Some(UploadClaim { id, holder }) = upload {
            // Only while the claim is this request's: another request that took the
            // upload over may be discarding its bytes.
            let deleted = super::entity::uploads::Entity::delete_many()
                .filter(super::entity::uploads::Column::Id.eq(id))
                .filter(super::entity::uploads::Column::LeaseHolder.eq(holder))
                .exec(&txn)
                .await?;
            if deleted.rows_affected != 1 {
                txn.rollback().await?;
                return Ok(Err(LinkRefused::TakenOver));
            }
        }
        txn.commit().await?;
        Ok(Ok(kept_at))
    }

    /// Removes a repository's right to read a blob; the bytes stay until garbage
    /// collection finds nothing else needs them.
    pub async fn unlink_blob(&self, repository_id: i64, digest: &str) -> DbResult<bool> {
        let txn = self.conn.begin().await?;
        lock_repository(&txn, repository_id).await?;
        super::usage::links_removing(&txn, repository_id, Some(digest)).await?;
        let res = repository_blobs::Entity::delete_many()
            .filter(repository_blobs::Column::RepositoryId.eq(repository_id))
            .filter(repository_blobs::Column::Digest.eq(digest))
            .exec(&txn)
            .await?;
        if res.rows_affected > 0 {
            let size = blobs::Entity::find_by_id(digest.to_owned())
                .one(&txn)
                .await?
                .map_or(0, |b| b.size);
            add_repository_size(&txn, repository_id, -size).await?;
        }
        txn.commit().await?;
        Ok(res.rows_affected > 0)
    }
}

/// Links a blob to a repository, or refreshes the link; the caller has upserted the
/// blob's row (which makes a pushed blob young again for garbage collection's grace).
/// A new link returns the repository's account and the bytes its usage grew by.
pub(super) async fn link_blob_in<C: ConnectionTrait>(
    c: &C,
    repository_id: i64,
    digest: &str,
    size: i64,
    now: i64,
) -> DbResult<Option<(i64, i64)>> {
    use sea_orm::sea_query::Expr;
    // The repository before its links, as deletions and garbage collection take them:
    // then a push into a repository being deleted waits instead of deadlocking.
    lock_repository(c, repository_id).await?;
    // Insert the link, or refresh an existing one. The refresh waits for a collection
    // that holds the link (PostgreSQL); if that deleted it, the second round inserts.
    for _ in 0..2 {
        let linked = repository_blobs::Entity::insert(repository_blobs::ActiveModel {
            repository_id: Set(repository_id),
            digest: Set(digest.to_owned()),
            created_at: Set(now),
        })
        .on_conflict_do_nothing()
        .exec_without_returning(c)
        .await?;
        // The repository's size counts each blob once: only a new link adds to it.
        if matches!(linked, sea_orm::TryInsertResult::Inserted(n) if n > 0) {
            add_repository_size(c, repository_id, size).await?;
            return super::usage::links_added(c, repository_id, Some(digest))
                .await
                .map(Some);
        }
        let refreshed = repository_blobs::Entity::update_many()
            .col_expr(repository_blobs::Column::CreatedAt, Expr::value(now))
            .filter(repository_blobs::Column::RepositoryId.eq(repository_id))
            .filter(repository_blobs::Column::Digest.eq(digest))
            .exec(c)
            .await?;
        if refreshed.rows_affected > 0 {
            return Ok(None);
        }
    }
    Err(DbError::Conflict)
}

/// Takes a repository's row lock (a no-op write): every transaction that touches a
/// repository and its links takes the repository first, so they never deadlock.
pub(super) async fn lock_repository<C: ConnectionTrait>(c: &C, repository_id: i64) -> DbResult<()> {
    use sea_orm::sea_query::Expr;
    repositories::Entity::update_many()
        .col_expr(
            repositories::Column::SizeBytes,
            Expr::col(repositories::Column::SizeBytes),
        )
        .filter(repositories::Column::Id.eq(repository_id))
        .exec(c)
        .await?;
    Ok(())
}

/// Adds (or with a negative delta, subtracts) bytes to a repository's stored size.
pub(super) async fn add_repository_size<C: ConnectionTrait>(
    c: &C,
    repository_id: i64,
    delta: i64,
) -> DbResult<()> {
    use sea_orm::sea_query::{Expr, ExprTrait};
    repositories::Entity::update_many()
        .col_expr(
            repositories::Column::SizeBytes,
            Expr::col(repositories::Column::SizeBytes).add(delta),
        )
        .filter(repositories::Column::Id.eq(repository_id))
        .exec(c)
        .await?;
    Ok(())
}

/// Why a blob was not linked although the database worked.
#[derive(Debug)]
pub enum LinkRefused {
    /// The store could not place the bytes.
    Io(std::io::Error),
    /// The upload's claim went to another request meanwhile.
    TakenOver,
    /// The account's quota would be exceeded.
    OverQuota { used: i64, quota: i64 },
}

/// Repositories of the given accounts, or public.
fn visible_in(account_ids: &[i64]) -> sea_orm::Condition {
    sea_orm::Condition::any()
        .add(repositories::Column::AccountId.is_in(account_ids.iter().copied()))
        .add(repositories::Column::Public.eq(true))
}

/// Which repositories a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepositorySet {
    /// One account's.
    Account(i64),
    /// Every public repository (the Explore page).
    Public,
}

/// One row of a repository list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepositorySummary {
    pub name: String,
    pub tags: u64,
    pub size: u64,
    pub pushed_at: i64,
    pub public: bool,
}

impl Db {
    /// A page of repositories whose name contains `filter`, in the given order, with
    /// their tag counts, in three queries whatever the page size.
    pub async fn repository_page(
        &self,
        set: RepositorySet,
        filter: &str,
        order: crate::domain::RepositoryOrder,
        offset: u64,
        limit: u64,
    ) -> DbResult<(Vec<RepositorySummary>, u64)> {
        use super::entity::tags as t;
        use crate::domain::RepositoryOrder;
        use sea_orm::PaginatorTrait;
        let mut q = repositories::Entity::find().filter(match set {
            RepositorySet::Account(id) => repositories::Column::AccountId.eq(id),
            RepositorySet::Public => repositories::Column::Public.eq(true),
        });
        if !filter.is_empty() {
            q = q.filter(repositories::Column::Name.contains(filter));
        }
        let total = q.clone().count(&self.read).await?;
        q = match order {
            RepositoryOrder::Name => q,
            RepositoryOrder::LastPushed => q.order_by_desc(repositories::Column::PushedAt),
            RepositoryOrder::Size => q.order_by_desc(repositories::Column::SizeBytes),
        };
        let rows = q
            .order_by_asc(repositories::Column::Name)
            .offset(offset)
            .limit(limit)
            .all(&self.read)
            .await?;
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let tag_counts: std::collections::HashMap<i64, i64> = t::Entity::find()
            .select_only()
            .column(t::Column::RepositoryId)
            .column_as(t::Column::Id.count(), "n")
            .filter(t::Column::RepositoryId.is_in(ids))
            .group_by(t::Column::RepositoryId)
            .into_tuple::<(i64, i64)>()
            .all(&self.read)
            .await?
            .into_iter()
            .collect();
        Ok((
            rows.into_iter()
                .map(|r| RepositorySummary {
                    tags: tag_counts.get(&r.id).copied().unwrap_or(0) as u64,
                    size: r.size_bytes.max(0) as u64,
                    pushed_at: r.pushed_at,
                    public: r.public,
                    name: r.name,
                })
                .collect(),
            total,
        ))
    }
}

impl Db {
    /// Deletes a repository with its tags, manifests, blob links and uploads (the
    /// foreign keys cascade); false when it was not there.
    pub async fn delete_repository(
        &self,
        repository_id: i64,
        frozen: &[crate::domain::TagPattern],
        events: &[super::Event],
        now: i64,
    ) -> DbResult<Result<bool, super::FrozenTag>> {
        let txn = self.conn.begin().await?;
        lock_repository(&txn, repository_id).await?;
        if repositories::Entity::find_by_id(repository_id)
            .one(&txn)
            .await?
            .is_none()
        {
            return Ok(Ok(false));
        }
        if let Some(tag) =
            super::immutability::frozen_tag_in(&txn, repository_id, None, frozen).await?
        {
            return Ok(Err(tag));
        }
        super::usage::links_removing(&txn, repository_id, None).await?;
        let res = repositories::Entity::delete_by_id(repository_id)
            .exec(&txn)
            .await?;
        super::webhooks::enqueue_in(&txn, events, now).await?;
        txn.commit().await?;
        Ok(Ok(res.rows_affected > 0))
    }
}

/// Totals for monitoring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorageTotals {
    pub bytes: u64,
    pub blobs: u64,
    pub repositories: u64,
    pub uploads: u64,
}

impl Db {
    /// Bytes and count of stored blobs, repositories and open uploads.
    pub async fn storage_totals(&self) -> DbResult<StorageTotals> {
        use super::entity::uploads;
        use sea_orm::PaginatorTrait;
        // PostgreSQL sums BIGINTs into NUMERIC; the cast keeps one type for both.
        let bytes: Option<i64> = blobs::Entity::find()
            .select_only()
            .column_as(
                sea_orm::sea_query::Expr::cust("CAST(COALESCE(SUM(size), 0) AS BIGINT)"),
                "bytes",
            )
            .into_tuple::<i64>()
            .one(&self.read)
            .await?;
        Ok(StorageTotals {
            bytes: bytes.unwrap_or(0).max(0) as u64,
            blobs: blobs::Entity::find().count(&self.read).await?,
            repositories: repositories::Entity::find().count(&self.read).await?,
            uploads: uploads::Entity::find().count(&self.read).await?,
        })
    }
}
