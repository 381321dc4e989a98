//! Retention policies and what a run reads of a repository to apply one.

use super::entity::trash_manifests;
use super::entity::{manifest_references, manifests, repositories, retention_policies, tags};
use super::{Db, DbResult, Repository};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Set};
use std::collections::{HashMap, HashSet};

/// A stored policy.
pub type RetentionRow = retention_policies::Model;

/// A policy to store, as its columns hold it.
pub struct NewRetention<'a> {
    pub account_id: i64,
    pub repository: &'a str,
    pub keep_last: Option<i32>,
    pub keep_within: Option<i64>,
    pub tag_pattern: Option<&'a str>,
    pub exclude_pattern: Option<&'a str>,
    pub untagged_older_than: Option<i64>,
    pub updated_by: &'a str,
    pub updated_at: i64,
}

/// Everything a retention run needs to know of one repository, read at once.
#[derive(Debug, Default)]
pub struct RepositoryFacts {
    /// (name, manifest id, pushed at) of every tag.
    pub tags: Vec<(String, i64, i64)>,
    pub manifests: HashMap<i64, ManifestFacts>,
    /// Digests of manifests of the repository that another one lists (an index's
    /// platforms): they live and go with their index.
    pub listed: HashSet<String>,
    /// Digests the trash holds in this repository.
    pub trashed: HashSet<String>,
}

#[derive(Debug, Clone)]
pub struct ManifestFacts {
    pub digest: String,
    pub subject: Option<String>,
    pub created_at: i64,
    pub pulled_at: Option<i64>,
    pub content: Vec<u8>,
}

impl Db {
    /// Stores an account's or a repository's policy, replacing the one it had.
    pub async fn put_retention_policy(&self, p: NewRetention<'_>) -> DbResult<()> {
        use retention_policies::Column as C;
        retention_policies::Entity::insert(retention_policies::ActiveModel {
            account_id: Set(p.account_id),
            repository: Set(p.repository.to_owned()),
            keep_last: Set(p.keep_last),
            keep_within: Set(p.keep_within),
            tag_pattern: Set(p.tag_pattern.map(str::to_owned)),
            exclude_pattern: Set(p.exclude_pattern.map(str::to_owned)),
            untagged_older_than: Set(p.untagged_older_than),
            updated_by: Set(p.updated_by.to_owned()),
            updated_at: Set(p.updated_at),
            ..Default::default()
        })
        .on_conflict(
            OnConflict::columns([C::AccountId, C::Repository])
                .update_columns([
                    C::KeepLast,
                    C::KeepWithin,
                    C::TagPattern,
                    C::ExcludePattern,
                    C::UntaggedOlderThan,
                    C::UpdatedBy,
                    C::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(&self.conn)
        .await?;
        Ok(())
    }

    /// Removes a policy; false when there was none.
    pub async fn remove_retention_policy(
        &self,
        account_id: i64,
        repository: &str,
    ) -> DbResult<bool> {
        let r = retention_policies::Entity::delete_many()
            .filter(retention_policies::Column::AccountId.eq(account_id))
            .filter(retention_policies::Column::Repository.eq(repository))
            .exec(&self.conn)
            .await?;
        Ok(r.rows_affected > 0)
    }

    /// One account's policies, or every account's, the account's own first.
    pub async fn retention_policies(&self, account_id: Option<i64>) -> DbResult<Vec<RetentionRow>> {
        let mut q = retention_policies::Entity::find();
        if let Some(a) = account_id {
            q = q.filter(retention_policies::Column::AccountId.eq(a));
        }
        Ok(q.order_by_asc(retention_policies::Column::AccountId)
            .order_by_asc(retention_policies::Column::Repository)
            .all(&self.read)
            .await?)
    }

    /// Every repository of an account, by name.
    pub async fn account_repositories(&self, account_id: i64) -> DbResult<Vec<Repository>> {
        Ok(repositories::Entity::find()
            .filter(repositories::Column::AccountId.eq(account_id))
            .order_by_asc(repositories::Column::Name)
            .all(&self.read)
            .await?)
    }

    /// Tags, manifests, index children and trashed digests of one repository.
    pub async fn repository_facts(&self, repository_id: i64) -> DbResult<RepositoryFacts> {
        let tags = tags::Entity::find()
            .select_only()
            .columns([
                tags::Column::Name,
                tags::Column::ManifestId,
                tags::Column::UpdatedAt,
            ])
            .filter(tags::Column::RepositoryId.eq(repository_id))
            .into_tuple::<(String, i64, i64)>()
            .all(&self.read)
            .await?;
        let manifests: HashMap<i64, ManifestFacts> = manifests::Entity::find()
            .filter(manifests::Column::RepositoryId.eq(repository_id))
            .all(&self.read)
            .await?
            .into_iter()
            .map(|m| {
                (
                    m.id,
                    ManifestFacts {
                        digest: m.digest,
                        subject: m.subject,
                        created_at: m.created_at,
                        pulled_at: m.pulled_at,
                        content: m.content,
                    },
                )
            })
            .collect();
        let listed = manifest_references::Entity::find()
            .select_only()
            .column(manifest_references::Column::Digest)
            .filter(manifest_references::Column::Kind.eq("manifest"))
            .filter(
                manifest_references::Column::ManifestId.in_subquery(
                    manifests::Entity::find()
                        .select_only()
                        .column(manifests::Column::Id)
                        .filter(manifests::Column::RepositoryId.eq(repository_id))
                        .into_query(),
                ),
            )
            .into_tuple::<String>()
            .all(&self.read)
            .await?
            .into_iter()
            .collect();
        let trashed = trash_manifests::Entity::find()
            .select_only()
            .column(trash_manifests::Column::Digest)
            .filter(trash_manifests::Column::RepositoryId.eq(repository_id))
            .into_tuple::<String>()
            .all(&self.read)
            .await?
            .into_iter()
            .collect();
        Ok(RepositoryFacts {
            tags,
            manifests,
            listed,
            trashed,
        })
    }
}
