//! Manifests, what they reference, and tags.

use super::entity::{
    manifest_references, manifests, repositories, repository_blobs, tags, trash, trash_manifests,
};
use super::{Db, DbResult, Manifest};
use sea_orm::{
    ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
    sea_query::{Expr, ExprTrait, OnConflict, Query, SelectStatement},
};
use std::collections::HashSet;

fn repository_id_of(name: &str) -> SelectStatement {
    Query::select()
        .column(repositories::Column::Id)
        .from(repositories::Entity)
        .and_where(repositories::Column::Name.eq(name))
        .to_owned()
}

/// Marks a repository as pushed to now; as a transaction's first statement it also
/// takes the write lock.
pub(super) async fn touch_repository<C: sea_orm::ConnectionTrait>(
    c: &C,
    repository_id: i64,
    now: i64,
) -> DbResult<()> {
    repositories::Entity::update_many()
        .col_expr(repositories::Column::PushedAt, Expr::value(now))
        .filter(repositories::Column::Id.eq(repository_id))
        .exec(c)
        .await?;
    Ok(())
}

/// A manifest about to be stored, already parsed and checked by the caller.
pub struct NewManifest<'a> {
    pub repository_id: i64,
    pub digest: &'a str,
    pub media_type: &'a str,
    pub artifact_type: Option<&'a str>,
    pub subject: Option<&'a str>,
    pub content: &'a [u8],
    /// Blobs that must be readable from the repository.
    pub blobs: &'a [String],
    /// Non-distributable blobs: referenced, but the registry need not hold them.
    pub foreign_blobs: &'a [String],
    /// Manifests (of an index) that must exist in the repository.
    pub children: &'a [String],
    pub tags: &'a [String],
    /// Those of `tags` that are immutable: they may point nowhere else than here.
    pub frozen: &'a [String],
    pub now: i64,
    /// Webhook events of the push, written with it.
    pub events: &'a [super::Event],
}

/// Why a manifest was not stored although the database worked.
#[derive(Debug, PartialEq, Eq)]
pub enum PutManifestRefused {
    /// A referenced blob or child manifest is not in the repository.
    MissingReference(String),
    /// An immutable tag already points at another manifest.
    ImmutableTag(String),
}

impl Db {
    /// The manifest a tag of the named repository points at, in one query.
    pub async fn manifest_by_repository_tag(
        &self,
        repository: &str,
        tag: &str,
    ) -> DbResult<Option<Manifest>> {
        let tag_rows = Query::select()
            .column(tags::Column::ManifestId)
            .from(tags::Entity)
            .and_where(tags::Column::RepositoryId.in_subquery(repository_id_of(repository)))
            .and_where(tags::Column::Name.eq(tag))
            .to_owned();
        Ok(manifests::Entity::find()
            .filter(manifests::Column::Id.in_subquery(tag_rows))
            .one(&self.read)
            .await?)
    }

    /// A manifest of the named repository by digest, in one query.
    pub async fn manifest_by_repository_digest(
        &self,
        repository: &str,
        digest: &str,
    ) -> DbResult<Option<Manifest>> {
        Ok(manifests::Entity::find()
            .filter(manifests::Column::RepositoryId.in_subquery(repository_id_of(repository)))
            .filter(manifests::Column::Digest.eq(digest))
            .one(&self.read)
            .await?)
    }

    /// Stores a manifest, its references and its tags in one transaction, after checking
    /// inside that transaction that everything it references is present.
    pub async fn put_manifest(
        &self,
        m: NewManifest<'_>,
    ) -> DbResult<Result<Manifest, PutManifestRefused>> {
        let txn = self.conn.begin().await?;
        // Write first: the transaction takes the database's write lock (SQLite) or the
        // repository's row (PostgreSQL) before it reads, so a writer in another process
        // (`berth gc`) makes it wait instead of failing on a stale snapshot.
        touch_repository(&txn, m.repository_id, m.now).await?;
        if !m.blobs.is_empty() {
            let present: HashSet<String> = repository_blobs::Entity::find()
                .select_only()
                .column(repository_blobs::Column::Digest)
                .filter(repository_blobs::Column::RepositoryId.eq(m.repository_id))
                .filter(repository_blobs::Column::Digest.is_in(m.blobs.iter().cloned()))
                // Held until commit, so garbage collection cannot unlink them meanwhile.
                .lock_shared()
                .into_tuple::<String>()
                .all(&txn)
                .await?
                .into_iter()
                .collect();
            if let Some(missing) = m.blobs.iter().find(|d| !present.contains(*d)) {
                return Ok(Err(PutManifestRefused::MissingReference(missing.clone())));
            }
        }
        if !m.children.is_empty() {
            let present: HashSet<String> = manifests::Entity::find()
                .select_only()
                .column(manifests::Column::Digest)
                .filter(manifests::Column::RepositoryId.eq(m.repository_id))
                .filter(manifests::Column::Digest.is_in(m.children.iter().cloned()))
                .lock_shared()
                .into_tuple::<String>()
                .all(&txn)
                .await?
                .into_iter()
                .collect();
            if let Some(missing) = m.children.iter().find(|d| !present.contains(*d)) {
                return Ok(Err(PutManifestRefused::MissingReference(missing.clone())));
            }
        }

        // Insert the manifest, or make an existing one young again (a re-push is a
        // push: garbage collection's grace protects it until the index or tag that
        // needs it arrives). The refresh waits for a collection holding the row; if
        // that deleted it, the second round inserts.
        for _ in 0..2 {
            manifests::Entity::insert(manifests::ActiveModel {
                repository_id: Set(m.repository_id),
                digest: Set(m.digest.to_owned()),
                media_type: Set(m.media_type.to_owned()),
                artifact_type: Set(m.artifact_type.map(str::to_owned)),
                subject: Set(m.subject.map(str::to_owned)),
                size: Set(m.content.len() as i64),
                content: Set(m.content.to_vec()),
                created_at: Set(m.now),
                ..Default::default()
            })
            .on_conflict_do_nothing_on([manifests::Column::RepositoryId, manifests::Column::Digest])
            .exec_without_returning(&txn)
            .await?;
            let refreshed = manifests::Entity::update_many()
                .col_expr(manifests::Column::CreatedAt, Expr::value(m.now))
                .filter(manifests::Column::RepositoryId.eq(m.repository_id))
                .filter(manifests::Column::Digest.eq(m.digest))
                .exec(&txn)
                .await?;
            if refreshed.rows_affected > 0 {
                break;
            }
        }
        let row = manifests::Entity::find()
            .filter(manifests::Column::RepositoryId.eq(m.repository_id))
            .filter(manifests::Column::Digest.eq(m.digest))
            .one(&txn)
            .await?
            .ok_or(sea_orm::DbErr::RecordNotFound(
                "manifest just inserted".into(),
            ))?;

        let refs = m
            .blobs
            .iter()
            .chain(m.foreign_blobs)
            .map(|d| (d, "blob"))
            .chain(m.children.iter().map(|d| (d, "manifest")));
        let mut seen = HashSet::new();
        let rows: Vec<_> = refs
            .filter(|(d, _)| seen.insert(d.as_str()))
            .map(|(d, kind)| manifest_references::ActiveModel {
                manifest_id: Set(row.id),
                digest: Set(d.clone()),
                kind: Set(kind.to_owned()),
            })
            .collect();
        if !rows.is_empty() {
            manifest_references::Entity::insert_many(rows)
                .on_conflict_do_nothing()
                .exec_without_returning(&txn)
                .await?;
        }

        // Checked after the repository's row was taken, so two pushes of one immutable
        // tag cannot both see it free.
        if !m.frozen.is_empty() {
            let taken = tags::Entity::find()
                .filter(tags::Column::RepositoryId.eq(m.repository_id))
                .filter(tags::Column::Name.is_in(m.frozen.iter().cloned()))
                .filter(tags::Column::ManifestId.ne(row.id))
                .one(&txn)
                .await?;
            if let Some(t) = taken {
                return Ok(Err(PutManifestRefused::ImmutableTag(t.name)));
            }
        }
        for tag in m.tags {
            tags::Entity::insert(tags::ActiveModel {
                repository_id: Set(m.repository_id),
                name: Set(tag.clone()),
                manifest_id: Set(row.id),
                updated_at: Set(m.now),
                ..Default::default()
            })
            .on_conflict(
                OnConflict::columns([tags::Column::RepositoryId, tags::Column::Name])
                    .update_columns([tags::Column::ManifestId, tags::Column::UpdatedAt])
                    .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
        }
        super::webhooks::enqueue_in(&txn, m.events, m.now).await?;
        txn.commit().await?;
        Ok(Ok(row))
    }

    /// Deletes a manifest and every tag that points at it; false when it was not there,
    /// refused when one of those tags matches a `frozen` pattern.
    pub async fn delete_manifest(
        &self,
        repository_id: i64,
        digest: &str,
        frozen: &[crate::domain::TagPattern],
        events: &[super::Event],
        now: i64,
    ) -> DbResult<Result<bool, super::FrozenTag>> {
        let txn = self.conn.begin().await?;
        super::repositories::lock_repository(&txn, repository_id).await?;
        let Some(row) = manifests::Entity::find()
            .filter(manifests::Column::RepositoryId.eq(repository_id))
            .filter(manifests::Column::Digest.eq(digest))
            .one(&txn)
            .await?
        else {
            return Ok(Ok(false));
        };
        if let Some(tag) =
            super::immutability::frozen_tag_in(&txn, repository_id, Some((row.id, digest)), frozen)
                .await?
        {
            return Ok(Err(tag));
        }
        tags::Entity::delete_many()
            .filter(tags::Column::ManifestId.eq(row.id))
            .exec(&txn)
            .await?;
        manifest_references::Entity::delete_many()
            .filter(manifest_references::Column::ManifestId.eq(row.id))
            .exec(&txn)
            .await?;
        manifests::Entity::delete_by_id(row.id).exec(&txn).await?;
        super::webhooks::enqueue_in(&txn, events, now).await?;
        txn.commit().await?;
        Ok(Ok(true))
    }

    /// Deletes a tag for good (no trash), with its webhook events.
    pub async fn delete_tag(
        &self,
        repository_id: i64,
        name: &str,
        events: &[super::Event],
        now: i64,
    ) -> DbResult<bool> {
        let txn = self.conn.begin().await?;
        let res = tags::Entity::delete_many()
            .filter(tags::Column::RepositoryId.eq(repository_id))
            .filter(tags::Column::Name.eq(name))
            .exec(&txn)
            .await?;
        if res.rows_affected == 0 {
            return Ok(false);
        }
        super::webhooks::enqueue_in(&txn, events, now).await?;
        txn.commit().await?;
        Ok(true)
    }

    /// Tag names after `last`, in lexical order.
    pub async fn tag_names(
        &self,
        repository_id: i64,
        last: Option<&str>,
        limit: u64,
    ) -> DbResult<Vec<String>> {
        let mut q = tags::Entity::find()
            .select_only()
            .column(tags::Column::Name)
            .filter(tags::Column::RepositoryId.eq(repository_id));
        if let Some(last) = last {
            q = q.filter(tags::Column::Name.gt(last));
        }
        Ok(q.order_by_asc(tags::Column::Name)
            .limit(limit)
            .into_tuple::<String>()
            .all(&self.read)
            .await?)
    }

    /// Manifests of the repository whose `subject` is the given digest.
    pub async fn referrers(&self, repository_id: i64, subject: &str) -> DbResult<Vec<Manifest>> {
        Ok(manifests::Entity::find()
            .filter(manifests::Column::RepositoryId.eq(repository_id))
            .filter(manifests::Column::Subject.eq(subject))
            .order_by_asc(manifests::Column::Id)
            .all(&self.read)
            .await?)
    }
}

impl Db {
    /// Stores when manifests were last pulled, in one transaction. A time is merged,
    /// never moved backwards: replicas flush their pulls in any order.
    /// The webhook events of those pulls are written in the same transaction.
    pub async fn record_pulls(
        &self,
        pulls: &[(i64, i64)],
        events: &[super::Event],
    ) -> DbResult<()> {
        use sea_orm::sea_query::Condition;
        let txn = self.conn.begin().await?;
        for (id, at) in pulls {
            manifests::Entity::update_many()
                .col_expr(manifests::Column::PulledAt, Expr::value(*at))
                .filter(manifests::Column::Id.eq(*id))
                .filter(
                    Condition::any()
                        .add(manifests::Column::PulledAt.is_null())
                        .add(manifests::Column::PulledAt.lt(*at)),
                )
                .exec(&txn)
                .await?;
        }
        let latest = pulls.iter().map(|(_, at)| *at).max().unwrap_or_default();
        super::webhooks::enqueue_in(&txn, events, latest).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Names of the tags pointing at a manifest.
    pub async fn tags_of_manifest(&self, manifest_id: i64) -> DbResult<Vec<String>> {
        Ok(tags::Entity::find()
            .select_only()
            .column(tags::Column::Name)
            .filter(tags::Column::ManifestId.eq(manifest_id))
            .order_by_asc(tags::Column::Name)
            .into_tuple::<String>()
            .all(&self.read)
            .await?)
    }

    /// Manifests of a repository that no tag points at and that are not a child of
    /// another manifest of it (an index's platforms), newest first: untagged images
    /// and referrers (signatures, SBOMs).
    pub async fn untagged_manifests(
        &self,
        repository_id: i64,
        limit: u64,
    ) -> DbResult<Vec<Manifest>> {
        let tagged = Query::select()
            .column(tags::Column::ManifestId)
            .from(tags::Entity)
            .and_where(tags::Column::RepositoryId.eq(repository_id))
            .to_owned();
        let children = Query::select()
            .column((
                manifest_references::Entity,
                manifest_references::Column::Digest,
            ))
            .from(manifest_references::Entity)
            .inner_join(
                manifests::Entity,
                Expr::col((manifests::Entity, manifests::Column::Id)).equals((
                    manifest_references::Entity,
                    manifest_references::Column::ManifestId,
                )),
            )
            .and_where(
                Expr::col((manifests::Entity, manifests::Column::RepositoryId)).eq(repository_id),
            )
            .and_where(
                Expr::col((
                    manifest_references::Entity,
                    manifest_references::Column::Kind,
                ))
                .eq("manifest"),
            )
            .to_owned();
        // Images retention moved to the trash wait there, not here.
        let trashed = Query::select()
            .column(trash_manifests::Column::Digest)
            .from(trash_manifests::Entity)
            .and_where(trash_manifests::Column::RepositoryId.eq(repository_id))
            .and_where(
                trash_manifests::Column::TrashId.in_subquery(
                    Query::select()
                        .column(trash::Column::Id)
                        .from(trash::Entity)
                        .and_where(trash::Column::Kind.eq("manifest"))
                        .to_owned(),
                ),
            )
            .to_owned();
        Ok(manifests::Entity::find()
            .filter(manifests::Column::RepositoryId.eq(repository_id))
            .filter(manifests::Column::Id.not_in_subquery(tagged))
            .filter(manifests::Column::Digest.not_in_subquery(children))
            .filter(manifests::Column::Digest.not_in_subquery(trashed))
            .order_by_desc(manifests::Column::CreatedAt)
            .limit(limit)
            .all(&self.read)
            .await?)
    }
}

/// A tag with what it points at, for the portal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagDetail {
    pub name: String,
    pub updated_at: i64,
    pub manifest_id: i64,
    pub pulled_at: Option<i64>,
    pub digest: String,
    pub media_type: String,
    pub artifact_type: Option<String>,
    pub content: Vec<u8>,
}

impl Db {
    /// Every tag of a repository with its manifest, by tag name, in two queries.
    pub async fn tag_details(&self, repository_id: i64) -> DbResult<Vec<TagDetail>> {
        let tag_rows = tags::Entity::find()
            .filter(tags::Column::RepositoryId.eq(repository_id))
            .order_by_asc(tags::Column::Name)
            .all(&self.read)
            .await?;
        let ids: Vec<i64> = tag_rows.iter().map(|t| t.manifest_id).collect();
        let by_id: std::collections::HashMap<i64, Manifest> = manifests::Entity::find()
            .filter(manifests::Column::Id.is_in(ids))
            .all(&self.read)
            .await?
            .into_iter()
            .map(|m| (m.id, m))
            .collect();
        Ok(tag_rows
            .into_iter()
            .filter_map(|t| {
                let m = by_id.get(&t.manifest_id)?;
                Some(TagDetail {
                    name: t.name,
                    updated_at: t.updated_at,
                    manifest_id: m.id,
                    pulled_at: m.pulled_at,
                    digest: m.digest.clone(),
                    media_type: m.media_type.clone(),
                    artifact_type: m.artifact_type.clone(),
                    content: m.content.clone(),
                })
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_pull_time_is_merged_and_never_moves_backwards() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&format!("sqlite://{}", dir.path().join("t.db").display()))
            .await
            .unwrap();
        let account = db.create_account("acme", 1).await.unwrap();
        let repo = db
            .ensure_repository(account.id, "acme/app", false, 1)
            .await
            .unwrap();
        let m = db
            .put_manifest(NewManifest {
                repository_id: repo.id,
                digest: "sha256:0000000000000000000000000000000000000000000000000000000000000001",
                media_type: "application/vnd.oci.image.manifest.v1+json",
                artifact_type: None,
                subject: None,
                content: b"{}",
                blobs: &[],
                foreign_blobs: &[],
                children: &[],
                tags: &["v1".to_owned()],
                frozen: &[],
                now: 1,
                events: &[],
            })
            .await
            .unwrap()
            .unwrap();
        let pulled = async || {
            manifests::Entity::find_by_id(m.id)
                .one(&db.conn)
                .await
                .unwrap()
                .unwrap()
                .pulled_at
        };
        // One replica flushes a later pull before another flushes an earlier one.
        db.record_pulls(&[(m.id, 200)], &[]).await.unwrap();
        db.record_pulls(&[(m.id, 100)], &[]).await.unwrap();
        assert_eq!(pulled().await, Some(200));
        db.record_pulls(&[(m.id, 300)], &[]).await.unwrap();
        assert_eq!(pulled().await, Some(300));
    }
}
