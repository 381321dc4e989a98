//! Garbage collection's queries. Marking reads a consistent picture on the read pool;
//! every deletion then happens in its own short transaction that first locks the row
//! (PostgreSQL; SQLite has one writer) and re-checks, with fresh reads, that nothing
//! references it any more, so a concurrent push either wins or waits.

use super::entity::{
    blobs, manifest_references, manifests, repository_blobs, tags, trash_blobs, trash_manifests,
    uploads,
};
use super::{Db, DbResult};
use sea_orm::{
    ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, QueryTrait,
    TransactionTrait,
};
use std::collections::{HashMap, HashSet};
use std::future::Future;

/// A manifest as marking sees it.
#[derive(Debug, Clone)]
pub struct ManifestNode {
    pub id: i64,
    pub repository_id: i64,
    pub digest: String,
    pub subject: Option<String>,
    pub created_at: i64,
}

/// Everything marking needs, read once.
#[derive(Debug, Default)]
pub struct GcGraph {
    pub manifests: Vec<ManifestNode>,
    /// Manifest ids that a tag points at.
    pub tagged: HashSet<i64>,
    /// (repository id, digest) of manifests a trashed tag keeps.
    pub trashed: HashSet<(i64, String)>,
    /// Manifest id → digests of the manifests it lists (an index's children).
    pub children: HashMap<i64, Vec<String>>,
}

/// A blob link or a blob with its size, as sweeping sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkCandidate {
    pub repository_id: i64,
    pub digest: String,
}

impl Db {
    /// (manifest id, digest) of every reference of a kind: "blob" or "manifest".
    pub(super) async fn references_of_kind(&self, kind: &str) -> DbResult<Vec<(i64, String)>> {
        Ok(manifest_references::Entity::find()
            .select_only()
            .columns([
                manifest_references::Column::ManifestId,
                manifest_references::Column::Digest,
            ])
            .filter(manifest_references::Column::Kind.eq(kind))
            .into_tuple()
            .all(&self.read)
            .await?)
    }

    /// (repository id, digest) of every blob link.
    pub(super) async fn all_links(&self) -> DbResult<Vec<(i64, String)>> {
        Ok(repository_blobs::Entity::find()
            .select_only()
            .columns([
                repository_blobs::Column::RepositoryId,
                repository_blobs::Column::Digest,
            ])
            .into_tuple()
            .all(&self.read)
            .await?)
    }

    pub async fn gc_graph(&self) -> DbResult<GcGraph> {
        let manifests = manifests::Entity::find()
            .select_only()
            .columns([
                manifests::Column::Id,
                manifests::Column::RepositoryId,
                manifests::Column::Digest,
                manifests::Column::Subject,
                manifests::Column::CreatedAt,
            ])
            .into_tuple::<(i64, i64, String, Option<String>, i64)>()
            .all(&self.read)
            .await?
            .into_iter()
            .map(
                |(id, repository_id, digest, subject, created_at)| ManifestNode {
                    id,
                    repository_id,
                    digest,
                    subject,
                    created_at,
                },
            )
            .collect();
        let tagged = tags::Entity::find()
            .select_only()
            .column(tags::Column::ManifestId)
            .into_tuple::<i64>()
            .all(&self.read)
            .await?
            .into_iter()
            .collect();
        let trashed = trash_manifests::Entity::find()
            .select_only()
            .columns([
                trash_manifests::Column::RepositoryId,
                trash_manifests::Column::Digest,
            ])
            .into_tuple::<(i64, String)>()
            .all(&self.read)
            .await?
            .into_iter()
            .collect();
        let mut children: HashMap<i64, Vec<String>> = HashMap::new();
        for (id, digest) in self.references_of_kind("manifest").await? {
            children.entry(id).or_default().push(digest);
        }
        Ok(GcGraph {
            manifests,
            tagged,
            trashed,
            children,
        })
    }

    /// Deletes an unreferenced manifest after locking it and checking again that no
    /// tag, trashed tag, parent index or subject keeps it, and that it is older than
    /// `cutoff`. Returns whether it went.
    pub async fn gc_delete_manifest(&self, id: i64, cutoff: i64) -> DbResult<bool> {
        let txn = self.conn.begin().await?;
        let Some(m) = manifests::Entity::find_by_id(id)
            .lock_exclusive()
            .one(&txn)
            .await?
        else {
            return Ok(false);
        };
        let tagged = tags::Entity::find()
            .filter(tags::Column::ManifestId.eq(id))
            .count(&txn)
            .await?
            > 0;
        let trashed = trash_manifests::Entity::find()
            .filter(trash_manifests::Column::RepositoryId.eq(m.repository_id))
            .filter(trash_manifests::Column::Digest.eq(&m.digest))
            .count(&txn)
            .await?
            > 0;
        let siblings = manifests::Entity::find()
            .select_only()
            .column(manifests::Column::Id)
            .filter(manifests::Column::RepositoryId.eq(m.repository_id))
            .into_query();
        let listed = manifest_references::Entity::find()
            .filter(manifest_references::Column::Kind.eq("manifest"))
            .filter(manifest_references::Column::Digest.eq(&m.digest))
            .filter(manifest_references::Column::ManifestId.in_subquery(siblings))
            .count(&txn)
            .await?
            > 0;
        // A referrer goes only after its subject: conservative, and the next run
        // finishes the job.
        let subject_present = match &m.subject {
            Some(s) => {
                manifests::Entity::find()
                    .filter(manifests::Column::RepositoryId.eq(m.repository_id))
                    .filter(manifests::Column::Digest.eq(s))
                    .count(&txn)
                    .await?
                    > 0
            }
            None => false,
        };
        if tagged || trashed || listed || subject_present || m.created_at >= cutoff {
            return Ok(false);
        }
        manifest_references::Entity::delete_many()
            .filter(manifest_references::Column::ManifestId.eq(id))
            .exec(&txn)
            .await?;
        manifests::Entity::delete_by_id(id).exec(&txn).await?;
        txn.commit().await?;
        Ok(true)
    }

    /// Blob links older than `cutoff` that no manifest of their repository references,
    /// counting the manifests in `ignoring` as gone (for dry runs).
    pub async fn gc_link_candidates(
        &self,
        cutoff: i64,
        ignoring: &HashSet<i64>,
    ) -> DbResult<Vec<LinkCandidate>> {
        let owners: HashMap<i64, i64> = manifests::Entity::find()
            .select_only()
            .columns([manifests::Column::Id, manifests::Column::RepositoryId])
            .into_tuple::<(i64, i64)>()
            .all(&self.read)
            .await?
            .into_iter()
            .collect();
        let referenced: HashSet<(i64, String)> = self
            .references_of_kind("blob")
            .await?
            .into_iter()
            .filter(|(m, _)| !ignoring.contains(m))
            .filter_map(|(m, d)| Some((*owners.get(&m)?, d)))
            .collect();
        Ok(repository_blobs::Entity::find()
            .select_only()
            .columns([
                repository_blobs::Column::RepositoryId,
                repository_blobs::Column::Digest,
            ])
            .filter(repository_blobs::Column::CreatedAt.lt(cutoff))
            .into_tuple::<(i64, String)>()
            .all(&self.read)
            .await?
            .into_iter()
            .filter(|link| !referenced.contains(link))
            .map(|(repository_id, digest)| LinkCandidate {
                repository_id,
                digest,
            })
            .collect())
    }

    /// Removes a repository's unreferenced link to a blob after locking and checking
    /// again; the repository's size shrinks by the blob's.
    pub async fn gc_delete_link(&self, link: &LinkCandidate, cutoff: i64) -> DbResult<bool> {
        let txn = self.conn.begin().await?;
        super::repositories::lock_repository(&txn, link.repository_id).await?;
        let Some(row) =
            repository_blobs::Entity::find_by_id((link.repository_id, link.digest.clone()))
                .lock_exclusive()
                .one(&txn)
                .await?
        else {
            return Ok(false);
        };
        let manifests_of_repository = manifests::Entity::find()
            .select_only()
            .column(manifests::Column::Id)
            .filter(manifests::Column::RepositoryId.eq(link.repository_id))
            .into_query();
        let referenced = manifest_references::Entity::find()
            .filter(manifest_references::Column::Digest.eq(&link.digest))
            .filter(manifest_references::Column::ManifestId.in_subquery(manifests_of_repository))
            .count(&txn)
            .await?
            > 0;
        if referenced || row.created_at >= cutoff {
            return Ok(false);
        }
        super::usage::links_removing(&txn, link.repository_id, Some(&link.digest)).await?;
        repository_blobs::Entity::delete_by_id((link.repository_id, link.digest.clone()))
            .exec(&txn)
            .await?;
        let size = blobs::Entity::find_by_id(link.digest.clone())
            .one(&txn)
            .await?
            .map_or(0, |b| b.size);
        super::repositories::add_repository_size(&txn, link.repository_id, -size).await?;
        txn.commit().await?;
        Ok(true)
    }

    /// Blobs older than `cutoff` that no repository links and no trash entry holds,
    /// with their sizes, counting the links in `ignoring` and the manifests in
    /// `ignoring_manifests` as gone (for dry runs).
    pub async fn gc_blob_candidates(
        &self,
        cutoff: i64,
        ignoring: &[LinkCandidate],
        ignoring_manifests: &HashSet<i64>,
    ) -> DbResult<Vec<(String, i64)>> {
        let ignored: HashSet<(i64, &str)> = ignoring
            .iter()
            .map(|l| (l.repository_id, l.digest.as_str()))
            .collect();
        let linked: HashSet<String> = self
            .all_links()
            .await?
            .into_iter()
            .filter(|(r, d)| !ignored.contains(&(*r, d.as_str())))
            .map(|(_, d)| d)
            .collect();
        let referenced: HashSet<String> = self
            .references_of_kind("blob")
            .await?
            .into_iter()
            .filter(|(m, _)| !ignoring_manifests.contains(m))
            .map(|(_, d)| d)
            .collect();
        let held: HashSet<String> = trash_blobs::Entity::find()
            .select_only()
            .column(trash_blobs::Column::Digest)
            .distinct()
            .into_tuple::<String>()
            .all(&self.read)
            .await?
            .into_iter()
            .collect();
        Ok(blobs::Entity::find()
            .select_only()
            .columns([blobs::Column::Digest, blobs::Column::Size])
            .filter(blobs::Column::CreatedAt.lt(cutoff))
            .into_tuple::<(String, i64)>()
            .all(&self.read)
            .await?
            .into_iter()
            .filter(|(d, _)| !linked.contains(d) && !held.contains(d) && !referenced.contains(d))
            .collect())
    }

    /// Deletes a blob's row and, through `remove`, its bytes, in one transaction that
    /// holds the row and re-checks that nothing links or holds it. A push of the same
    /// blob (see [`Db::link_blob_placed`]) waits for this transaction or runs before it.
    /// `remove` gets the object the row maps the digest to, if any.
    pub async fn gc_delete_blob<F, Fut>(
        &self,
        digest: &str,
        cutoff: i64,
        remove: F,
    ) -> DbResult<std::io::Result<bool>>
    where
        F: FnOnce(Option<String>) -> Fut,
        Fut: Future<Output = std::io::Result<()>>,
    {
        let txn = self.conn.begin().await?;
        let Some(row) = blobs::Entity::find_by_id(digest.to_owned())
            .lock_exclusive()
            .one(&txn)
            .await?
        else {
            return Ok(Ok(false));
        };
        let linked = repository_blobs::Entity::find()
            .filter(repository_blobs::Column::Digest.eq(digest))
            .count(&txn)
            .await?
            > 0;
        let held = trash_blobs::Entity::find()
            .filter(trash_blobs::Column::Digest.eq(digest))
            .count(&txn)
            .await?
            > 0;
        // A manifest that lists the blob keeps it even without a link (the API lets a
        // client delete a blob from a repository whose image still needs it).
        let referenced = manifest_references::Entity::find()
            .filter(manifest_references::Column::Digest.eq(digest))
            .count(&txn)
            .await?
            > 0;
        if linked || held || referenced || row.created_at >= cutoff {
            return Ok(Ok(false));
        }
        blobs::Entity::delete_by_id(digest.to_owned())
            .exec(&txn)
            .await?;
        // The bytes go before the row's deletion commits: a crash in between leaves a
        // row without bytes for an unreferenced blob, which the next run removes.
        if let Err(e) = remove(row.object_key).await {
            txn.rollback().await?;
            return Ok(Err(e));
        }
        txn.commit().await?;
        Ok(Ok(true))
    }

    /// Upload sessions started before `cutoff`.
    pub async fn uploads_started_before(&self, cutoff: i64) -> DbResult<Vec<String>> {
        Ok(uploads::Entity::find()
            .select_only()
            .column(uploads::Column::Id)
            .filter(uploads::Column::CreatedAt.lt(cutoff))
            .into_tuple::<String>()
            .all(&self.read)
            .await?)
    }
}
