//! The trash: deleted tags and repositories, restorable until they expire. A tag in
//! the trash keeps its manifest alive in its repository; a repository in the trash is
//! gone from every table but this one, and keeps its blobs alive.

use super::entity::{
    blobs, manifest_references, manifests, repositories, repository_blobs, tags, trash,
    trash_blobs, trash_manifests,
};
use super::{CHUNK, Db, DbResult, Repository};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};

pub type TrashEntry = trash::Model;

/// Why a trash entry could not be restored, in words for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreRefused(pub String);

/// A deleted repository's rows, as restoring puts them back.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Snapshot {
    /// The repository's id when it was deleted, so trashed tags of it follow it back.
    #[serde(default)]
    repository_id: i64,
    /// (name, manifest digest, updated at)
    tags: Vec<(String, String, i64)>,
    manifests: Vec<SnapshotManifest>,
    /// (digest, size, linked at)
    blobs: Vec<(String, i64, i64)>,
}

#[derive(Debug, Serialize, Deserialize)]
struct SnapshotManifest {
    digest: String,
    media_type: String,
    artifact_type: Option<String>,
    subject: Option<String>,
    /// The exact bytes, hex-encoded.
    content: String,
    created_at: i64,
    pulled_at: Option<i64>,
    /// (digest, kind)
    references: Vec<(String, String)>,
}

/// Who deleted something, when, and until when it can come back.
pub struct Deletion<'a> {
    pub actor: &'a str,
    pub now: i64,
    pub expires_at: i64,
    /// Webhook events of the deletion, written with it.
    pub events: &'a [super::Event],
}

impl Db {
    /// Moves a tag to the trash: it disappears from the repository, its manifest stays
    /// for as long as the trash holds it. False when the tag was not there, or, given
    /// `expect` (manifest id, pushed at), when it was pushed again since it was read.
    pub async fn trash_tag(
        &self,
        repository: &Repository,
        tag: &str,
        bytes: i64,
        d: &Deletion<'_>,
        expect: Option<(i64, i64)>,
    ) -> DbResult<bool> {
        let txn = self.conn.begin().await?;
        // Write first, so the reads below are under the write lock.
        super::repositories::lock_repository(&txn, repository.id).await?;
        let Some(row) = tags::Entity::find()
            .filter(tags::Column::RepositoryId.eq(repository.id))
            .filter(tags::Column::Name.eq(tag))
            .one(&txn)
            .await?
        else {
            return Ok(false);
        };
        if expect.is_some_and(|e| e != (row.manifest_id, row.updated_at)) {
            return Ok(false);
        }
        let Some(manifest) = manifests::Entity::find_by_id(row.manifest_id)
            .one(&txn)
            .await?
        else {
            return Ok(false);
        };
        tags::Entity::delete_by_id(row.id).exec(&txn).await?;
        let snapshot = Snapshot {
            tags: vec![(row.name.clone(), manifest.digest.clone(), row.updated_at)],
            ..Default::default()
        };
        let entry = insert_entry(&txn, repository, Some(tag), "tag", bytes, &snapshot, d).await?;
        trash_manifests::ActiveModel {
            trash_id: Set(entry),
            repository_id: Set(repository.id),
            digest: Set(manifest.digest),
        }
        .insert(&txn)
        .await?;
        super::webhooks::enqueue_in(&txn, d.events, d.now).await?;
        txn.commit().await?;
        Ok(true)
    }

    /// Moves an untagged image to the trash: its row stays, held by the entry, so its
    /// blobs, their links, an index's platforms and the image's referrers all stay
    /// with it (garbage collection reaches them through it) and it can come back as
    /// it was; it leaves the Repository page's untagged list. When the entry expires,
    /// garbage collection frees it. False unless, checked under the repository's lock,
    /// it is still there, untagged, listed by no index, no referrer itself, older than
    /// `cutoff` and not already held by the trash.
    pub async fn trash_manifest(
        &self,
        repository: &Repository,
        manifest_id: i64,
        cutoff: i64,
        bytes: i64,
        d: &Deletion<'_>,
    ) -> DbResult<bool> {
        let txn = self.conn.begin().await?;
        super::repositories::lock_repository(&txn, repository.id).await?;
        let Some(m) = manifests::Entity::find_by_id(manifest_id)
            .filter(manifests::Column::RepositoryId.eq(repository.id))
            .one(&txn)
            .await?
        else {
            return Ok(false);
        };
        if m.created_at >= cutoff || m.subject.is_some() {
            return Ok(false);
        }
        let tagged = tags::Entity::find()
            .filter(tags::Column::ManifestId.eq(m.id))
            .count(&txn)
            .await?
            > 0;
        let held = trash_manifests::Entity::find()
            .filter(trash_manifests::Column::RepositoryId.eq(repository.id))
            .filter(trash_manifests::Column::Digest.eq(&m.digest))
            .count(&txn)
            .await?
            > 0;
        let listed = manifest_references::Entity::find()
            .filter(manifest_references::Column::Kind.eq("manifest"))
            .filter(manifest_references::Column::Digest.eq(&m.digest))
            .filter(
                manifest_references::Column::ManifestId.in_subquery(
                    manifests::Entity::find()
                        .select_only()
                        .column(manifests::Column::Id)
                        .filter(manifests::Column::RepositoryId.eq(repository.id))
                        .into_query(),
                ),
            )
            .count(&txn)
            .await?
            > 0;
        if tagged || held || listed {
            return Ok(false);
        }
        // The snapshot only names the image (its row stays); the Trash page shows it.
        let snapshot = Snapshot {
            repository_id: repository.id,
            manifests: vec![SnapshotManifest {
                digest: m.digest.clone(),
                media_type: m.media_type.clone(),
                artifact_type: m.artifact_type.clone(),
                subject: None,
                content: String::new(),
                created_at: m.created_at,
                pulled_at: m.pulled_at,
                references: vec![],
            }],
            ..Default::default()
        };
        let entry = insert_entry(&txn, repository, None, "manifest", bytes, &snapshot, d).await?;
        trash_manifests::ActiveModel {
            trash_id: Set(entry),
            repository_id: Set(repository.id),
            digest: Set(m.digest),
        }
        .insert(&txn)
        .await?;
        super::webhooks::enqueue_in(&txn, d.events, d.now).await?;
        txn.commit().await?;
        Ok(true)
    }

    /// Moves a whole repository to the trash: its rows are copied into the entry and
    /// deleted, its blobs stay for as long as the trash holds it. Refused when one of
    /// its tags matches a `frozen` pattern.
    pub async fn trash_repository(
        &self,
        repository: &Repository,
        d: &Deletion<'_>,
        frozen: &[crate::domain::TagPattern],
    ) -> DbResult<Result<bool, super::FrozenTag>> {
        let txn = self.conn.begin().await?;
        // Write first, so the reads below are under the write lock.
        super::repositories::lock_repository(&txn, repository.id).await?;
        let Some(repository) = repositories::Entity::find_by_id(repository.id)
            .one(&txn)
            .await?
        else {
            return Ok(Ok(false));
        };
        if let Some(tag) =
            super::immutability::frozen_tag_in(&txn, repository.id, None, frozen).await?
        {
            return Ok(Err(tag));
        }
        let rows = manifests::Entity::find()
            .filter(manifests::Column::RepositoryId.eq(repository.id))
            .all(&txn)
            .await?;
        let references = manifest_references::Entity::find()
            .filter(
                manifest_references::Column::ManifestId.in_subquery(
                    manifests::Entity::find()
                        .select_only()
                        .column(manifests::Column::Id)
                        .filter(manifests::Column::RepositoryId.eq(repository.id))
                        .into_query(),
                ),
            )
            .all(&txn)
            .await?;
        let by_id: std::collections::HashMap<i64, &str> =
            rows.iter().map(|m| (m.id, m.digest.as_str())).collect();
        let tag_rows = tags::Entity::find()
            .filter(tags::Column::RepositoryId.eq(repository.id))
            .all(&txn)
            .await?;
        let links = repository_blobs::Entity::find()
            .filter(repository_blobs::Column::RepositoryId.eq(repository.id))
            .all(&txn)
            .await?;
        let sizes: std::collections::HashMap<String, i64> = blobs::Entity::find()
            .filter(
                blobs::Column::Digest.in_subquery(
                    repository_blobs::Entity::find()
                        .select_only()
                        .column(repository_blobs::Column::Digest)
                        .filter(repository_blobs::Column::RepositoryId.eq(repository.id))
                        .into_query(),
                ),
            )
            .all(&txn)
            .await?
            .into_iter()
            .map(|b| (b.digest, b.size))
            .collect();
        let snapshot = Snapshot {
            repository_id: repository.id,
            tags: tag_rows
                .iter()
                .filter_map(|t| {
                    Some((
                        t.name.clone(),
                        by_id.get(&t.manifest_id)?.to_string(),
                        t.updated_at,
                    ))
                })
                .collect(),
            manifests: rows
                .iter()
                .map(|m| SnapshotManifest {
                    digest: m.digest.clone(),
                    media_type: m.media_type.clone(),
                    artifact_type: m.artifact_type.clone(),
                    subject: m.subject.clone(),
                    content: hex::encode(&m.content),
                    created_at: m.created_at,
                    pulled_at: m.pulled_at,
                    references: references
                        .iter()
                        .filter(|r| r.manifest_id == m.id)
                        .map(|r| (r.digest.clone(), r.kind.clone()))
                        .collect(),
                })
                .collect(),
            blobs: links
                .iter()
                .map(|l| {
                    (
                        l.digest.clone(),
                        sizes.get(&l.digest).copied().unwrap_or(0),
                        l.created_at,
                    )
                })
                .collect(),
        };
        let entry = insert_entry(
            &txn,
            &repository,
            None,
            "repository",
            repository.size_bytes,
            &snapshot,
            d,
        )
        .await?;
        // Everything the images need stays: the links, and any blob a manifest lists
        // even if the repository no longer linked it.
        let digests: std::collections::BTreeSet<&str> = links
            .iter()
            .map(|l| l.digest.as_str())
            .chain(
                references
                    .iter()
                    .filter(|r| r.kind == "blob")
                    .map(|r| r.digest.as_str()),
            )
            .collect();
        let held: Vec<trash_blobs::ActiveModel> = digests
            .into_iter()
            .map(|d| trash_blobs::ActiveModel {
                trash_id: Set(entry),
                digest: Set(d.to_owned()),
            })
            .collect();
        // In chunks: a repository may hold more blobs than a statement may bind.
        for chunk in held.chunks(CHUNK) {
            trash_blobs::Entity::insert_many(chunk.iter().cloned())
                .exec_without_returning(&txn)
                .await?;
        }
        super::usage::links_removing(&txn, repository.id, None).await?;
        repositories::Entity::delete_by_id(repository.id)
            .exec(&txn)
            .await?;
        super::webhooks::enqueue_in(&txn, d.events, d.now).await?;
        txn.commit().await?;
        Ok(Ok(true))
    }

    /// An account's trash, newest first.
    pub async fn trash_entries(&self, account_id: i64) -> DbResult<Vec<TrashEntry>> {
        Ok(trash::Entity::find()
            .filter(trash::Column::AccountId.eq(account_id))
            .order_by_desc(trash::Column::DeletedAt)
            .order_by_desc(trash::Column::Id)
            .all(&self.read)
            .await?)
    }

    pub async fn trash_entry(&self, id: i64) -> DbResult<Option<TrashEntry>> {
        Ok(trash::Entity::find_by_id(id).one(&self.read).await?)
    }

    /// Puts a trash entry back where it was, in one transaction, unless its name was
    /// taken meanwhile.
    pub async fn restore_trash(&self, id: i64, now: i64) -> DbResult<Result<(), RestoreRefused>> {
        let txn = self.conn.begin().await?;
        // The entry first and locked: emptying the trash or garbage collection cannot
        // take it (and what it holds) while it is being restored.
        let Some(entry) = trash::Entity::find_by_id(id)
            .lock_exclusive()
            .one(&txn)
            .await?
        else {
            return Ok(Err(RestoreRefused(
                "That is no longer in the trash.".into(),
            )));
        };
        if entry.expires_at < now {
            return Ok(Err(RestoreRefused(
                "That expired and is no longer restorable.".into(),
            )));
        }
        let Ok(snapshot) = serde_json::from_str::<Snapshot>(&entry.snapshot) else {
            tracing::error!(entry = entry.id, "unreadable trash snapshot");
            return Ok(Err(RestoreRefused(
                "That cannot be restored: its record is damaged.".into(),
            )));
        };
        let existing = repositories::Entity::find()
            .filter(repositories::Column::Name.eq(&entry.repository))
            .one(&txn)
            .await?;
        match entry.kind.as_str() {
            "tag" => {
                let Some(repository) = existing else {
                    return Ok(Err(RestoreRefused(format!(
                        "The repository {} no longer exists; restore it first.",
                        entry.repository
                    ))));
                };
                for (name, digest, updated_at) in &snapshot.tags {
                    let taken = tags::Entity::find()
                        .filter(tags::Column::RepositoryId.eq(repository.id))
                        .filter(tags::Column::Name.eq(name))
                        .one(&txn)
                        .await?;
                    if taken.is_some() {
                        return Ok(Err(RestoreRefused(format!(
                            "The tag {name} was pushed again since it was deleted; delete the new one first to restore the old."
                        ))));
                    }
                    let Some(manifest) = manifests::Entity::find()
                        .filter(manifests::Column::RepositoryId.eq(repository.id))
                        .filter(manifests::Column::Digest.eq(digest))
                        .one(&txn)
                        .await?
                    else {
                        return Ok(Err(RestoreRefused(format!(
                            "The image of tag {name} is gone from {}.",
                            entry.repository
                        ))));
                    };
                    tags::ActiveModel {
                        repository_id: Set(repository.id),
                        name: Set(name.clone()),
                        manifest_id: Set(manifest.id),
                        updated_at: Set(*updated_at),
                        ..Default::default()
                    }
                    .insert(&txn)
                    .await?;
                }
            }
            "manifest" => {
                let Some(repository) = existing else {
                    return Ok(Err(RestoreRefused(format!(
                        "The repository {} no longer exists; restore it first.",
                        entry.repository
                    ))));
                };
                for m in &snapshot.manifests {
                    // Back as if pushed now, so garbage collection's grace and the
                    // policy's period give its owner time to tag it.
                    let back = manifests::Entity::update_many()
                        .col_expr(
                            manifests::Column::CreatedAt,
                            sea_orm::sea_query::Expr::value(now),
                        )
                        .filter(manifests::Column::RepositoryId.eq(repository.id))
                        .filter(manifests::Column::Digest.eq(&m.digest))
                        .exec(&txn)
                        .await?
                        .rows_affected;
                    if back == 0 {
                        return Ok(Err(RestoreRefused(format!(
                            "That image of {} is gone: it was deleted by its digest.",
                            entry.repository
                        ))));
                    }
                }
            }
            _ => {
                if existing.is_some() {
                    return Ok(Err(RestoreRefused(format!(
                        "A repository named {} was created since; delete or rename it first.",
                        entry.repository
                    ))));
                }
                let before = usage_of(&txn, entry.account_id).await?;
                if let Err(refused) = restore_repository(&txn, &entry, &snapshot).await? {
                    return Ok(Err(refused));
                }
                // The repository's blobs count again; beyond the quota, nothing is restored.
                let (used, quota) = usage_of(&txn, entry.account_id).await?;
                if let Some(quota) = quota
                    && used > before.0
                    && used > quota
                {
                    return Ok(Err(RestoreRefused(format!(
                        "Restoring {} would take the account past its storage quota: it would use {} of {} bytes. Delete something or ask for a larger quota first.",
                        entry.repository, used, quota
                    ))));
                }
            }
        }
        trash::Entity::delete_by_id(entry.id).exec(&txn).await?;
        txn.commit().await?;
        Ok(Ok(()))
    }

    /// Deletes trash entries for good: one account's (`Some`), or every expired one.
    pub async fn purge_trash(&self, account_id: Option<i64>, now: i64) -> DbResult<u64> {
        let q = trash::Entity::delete_many();
        let q = match account_id {
            Some(a) => q.filter(trash::Column::AccountId.eq(a)),
            None => q.filter(trash::Column::ExpiresAt.lt(now)),
        };
        Ok(q.exec(&self.conn).await?.rows_affected)
    }
}

/// An account's usage and quota, read inside a transaction.
async fn usage_of<C: sea_orm::ConnectionTrait>(
    c: &C,
    account_id: i64,
) -> DbResult<(i64, Option<i64>)> {
    Ok(super::entity::accounts::Entity::find_by_id(account_id)
        .one(c)
        .await?
        .map_or((0, None), |a| (a.size_bytes, a.quota_bytes)))
}

async fn insert_entry<C: sea_orm::ConnectionTrait>(
    c: &C,
    repository: &Repository,
    tag: Option<&str>,
    kind: &str,
    bytes: i64,
    snapshot: &Snapshot,
    d: &Deletion<'_>,
) -> DbResult<i64> {
    let row = trash::ActiveModel {
        account_id: Set(repository.account_id),
        kind: Set(kind.to_owned()),
        repository: Set(repository.name.clone()),
        tag: Set(tag.map(str::to_owned)),
        deleted_by: Set(d.actor.to_owned()),
        deleted_at: Set(d.now),
        expires_at: Set(d.expires_at),
        bytes: Set(bytes),
        snapshot: Set(serde_json::to_string(snapshot).unwrap_or_default()),
        ..Default::default()
    }
    .insert(c)
    .await?;
    Ok(row.id)
}

async fn restore_repository<C: sea_orm::ConnectionTrait>(
    c: &C,
    entry: &TrashEntry,
    snapshot: &Snapshot,
) -> DbResult<Result<(), RestoreRefused>> {
    // The trash held the blobs; if one went anyway, restoring would serve images that
    // cannot be pulled.
    let wanted: Vec<String> = snapshot.blobs.iter().map(|b| b.0.clone()).collect();
    let mut present = 0;
    for chunk in wanted.chunks(CHUNK) {
        present += blobs::Entity::find()
            .filter(blobs::Column::Digest.is_in(chunk.iter().cloned()))
            .count(c)
            .await?;
    }
    if present != wanted.len() as u64 {
        return Ok(Err(RestoreRefused(format!(
            "{} cannot be restored: some of its data is gone.",
            entry.repository
        ))));
    }
    let size: i64 = snapshot.blobs.iter().map(|(_, s, _)| s).sum();
    let repository = repositories::ActiveModel {
        account_id: Set(entry.account_id),
        name: Set(entry.repository.clone()),
        created_at: Set(entry.deleted_at),
        pushed_at: Set(snapshot
            .tags
            .iter()
            .map(|t| t.2)
            .max()
            .unwrap_or(entry.deleted_at)),
        size_bytes: Set(size),
        ..Default::default()
    }
    .insert(c)
    .await?;
    for chunk in snapshot.blobs.chunks(CHUNK) {
        repository_blobs::Entity::insert_many(chunk.iter().map(|(digest, _, linked_at)| {
            repository_blobs::ActiveModel {
                repository_id: Set(repository.id),
                digest: Set(digest.clone()),
                created_at: Set(*linked_at),
            }
        }))
        .exec_without_returning(c)
        .await?;
    }
    super::usage::links_added(c, repository.id, None).await?;
    let mut ids = std::collections::HashMap::new();
    for m in &snapshot.manifests {
        let Some(id) = insert_manifest(c, repository.id, m).await? else {
            return Ok(Err(RestoreRefused(format!(
                "{} cannot be restored: its record is damaged.",
                entry.repository
            ))));
        };
        ids.insert(m.digest.clone(), id);
    }
    // Tags of this repository that are in the trash themselves follow it to its new id.
    trash_manifests::Entity::update_many()
        .col_expr(
            trash_manifests::Column::RepositoryId,
            sea_orm::sea_query::Expr::value(repository.id),
        )
        .filter(trash_manifests::Column::RepositoryId.eq(snapshot.repository_id))
        .exec(c)
        .await?;
    for (name, digest, updated_at) in &snapshot.tags {
        if let Some(id) = ids.get(digest) {
            tags::ActiveModel {
                repository_id: Set(repository.id),
                name: Set(name.clone()),
                manifest_id: Set(*id),
                updated_at: Set(*updated_at),
                ..Default::default()
            }
            .insert(c)
            .await?;
        }
    }
    Ok(Ok(()))
}

/// Puts a snapshot's manifest and its references back; `None` when its bytes are
/// unreadable.
async fn insert_manifest<C: sea_orm::ConnectionTrait>(
    c: &C,
    repository_id: i64,
    m: &SnapshotManifest,
) -> DbResult<Option<i64>> {
    let Ok(content) = hex::decode(&m.content) else {
        return Ok(None);
    };
    let row = manifests::ActiveModel {
        repository_id: Set(repository_id),
        digest: Set(m.digest.clone()),
        media_type: Set(m.media_type.clone()),
        artifact_type: Set(m.artifact_type.clone()),
        subject: Set(m.subject.clone()),
        size: Set(content.len() as i64),
        content: Set(content),
        created_at: Set(m.created_at),
        pulled_at: Set(m.pulled_at),
        ..Default::default()
    }
    .insert(c)
    .await?;
    let refs: Vec<manifest_references::ActiveModel> = m
        .references
        .iter()
        .map(|(digest, kind)| manifest_references::ActiveModel {
            manifest_id: Set(row.id),
            digest: Set(digest.clone()),
            kind: Set(kind.clone()),
        })
        .collect();
    if !refs.is_empty() {
        manifest_references::Entity::insert_many(refs)
            .exec_without_returning(c)
            .await?;
    }
    Ok(Some(row.id))
}

/// The digest of the image a "manifest" entry holds, for showing it.
pub fn trashed_manifest(entry: &TrashEntry) -> Option<String> {
    if entry.kind != "manifest" {
        return None;
    }
    serde_json::from_str::<Snapshot>(&entry.snapshot)
        .ok()?
        .manifests
        .into_iter()
        .next()
        .map(|m| m.digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// More links than SQLite binds in one statement (32766) must still trash and
    /// restore, with the account's usage following.
    #[tokio::test]
    async fn a_repository_with_more_blobs_than_a_statement_binds_goes_to_the_trash_and_back() {
        const N: usize = 40_000;
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let db = Db::connect(&url).await.unwrap();
        let account = db.create_account("acme", 1).await.unwrap();
        let repo = db
            .ensure_repository(account.id, "acme/big", false, 1)
            .await
            .unwrap();
        let digests: Vec<String> = (0..N).map(|i| format!("sha256:{i:064x}")).collect();
        let txn = db.conn.begin().await.unwrap();
        for chunk in digests.chunks(CHUNK) {
            blobs::Entity::insert_many(chunk.iter().map(|d| blobs::ActiveModel {
                digest: Set(d.clone()),
                size: Set(10),
                created_at: Set(1),
                object_key: Set(None),
            }))
            .exec_without_returning(&txn)
            .await
            .unwrap();
            repository_blobs::Entity::insert_many(chunk.iter().map(|d| {
                repository_blobs::ActiveModel {
                    repository_id: Set(repo.id),
                    digest: Set(d.clone()),
                    created_at: Set(1),
                }
            }))
            .exec_without_returning(&txn)
            .await
            .unwrap();
        }
        super::super::usage::links_added(&txn, repo.id, None)
            .await
            .unwrap();
        txn.commit().await.unwrap();
        let used = async || {
            db.account_by_id(account.id)
                .await
                .unwrap()
                .unwrap()
                .size_bytes
        };
        assert_eq!(used().await, 10 * N as i64);

        let deletion = Deletion {
            actor: "test",
            now: 2,
            expires_at: 1_000,
            events: &[],
        };
        assert_eq!(
            db.trash_repository(&repo, &deletion, &[]).await.unwrap(),
            Ok(true)
        );
        assert_eq!(used().await, 0);
        assert!(db.repository_by_name("acme/big").await.unwrap().is_none());
        let entries = db.trash_entries(account.id).await.unwrap();
        assert_eq!(entries.len(), 1);
        assert!(db.restore_trash(entries[0].id, 3).await.unwrap().is_ok());
        assert_eq!(used().await, 10 * N as i64);
        let restored = db.repository_by_name("acme/big").await.unwrap().unwrap();
        assert_eq!(restored.size_bytes, 10 * N as i64);
        assert!(db.usage_drift().await.unwrap().is_empty());
    }
}
