//! Immutability rules of accounts.

use super::entity::{immutable_tags, tags};
use super::{Db, DbError, DbResult};
use crate::domain::TagPattern;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
    Set,
};

/// An immutability rule.
pub type ImmutabilityRule = immutable_tags::Model;

/// A deletion refused because it would remove this immutable tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrozenTag(pub String);

/// The first tag of the repository that a pattern matches: of any manifest, or, given
/// one, of that manifest or of an index listing it (deleting a platform's manifest
/// would break the image the tag names). Run inside the deleting transaction, after it
/// took the repository's row, so a tag pushed meanwhile is seen.
pub(super) async fn frozen_tag_in(
    c: &impl ConnectionTrait,
    repository_id: i64,
    manifest: Option<(i64, &str)>,
    frozen: &[TagPattern],
) -> DbResult<Option<FrozenTag>> {
    use super::entity::{manifest_references, manifests};
    use sea_orm::sea_query::Condition;
    if frozen.is_empty() {
        return Ok(None);
    }
    let mut q = tags::Entity::find()
        .select_only()
        .column(tags::Column::Name)
        .filter(tags::Column::RepositoryId.eq(repository_id));
    if let Some((id, digest)) = manifest {
        let listing_it = manifest_references::Entity::find()
            .select_only()
            .column(manifest_references::Column::ManifestId)
            .filter(manifest_references::Column::Digest.eq(digest))
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
            .into_query();
        q = q.filter(
            Condition::any()
                .add(tags::Column::ManifestId.eq(id))
                .add(tags::Column::ManifestId.in_subquery(listing_it)),
        );
    }
    let names: Vec<String> = q.into_tuple().all(c).await?;
    Ok(names
        .into_iter()
        .find(|n| frozen.iter().any(|p| p.matches(n)))
        .map(FrozenTag))
}

impl Db {
    /// Adds a rule; `Conflict` when the account has it already.
    pub async fn add_immutability_rule(
        &self,
        account_id: i64,
        repository: &str,
        pattern: &str,
        now: i64,
    ) -> DbResult<()> {
        let inserted = immutable_tags::Entity::insert(immutable_tags::ActiveModel {
            account_id: Set(account_id),
            repository: Set(repository.to_owned()),
            pattern: Set(pattern.to_owned()),
            created_at: Set(now),
            ..Default::default()
        })
        .on_conflict_do_nothing_on([
            immutable_tags::Column::AccountId,
            immutable_tags::Column::Repository,
            immutable_tags::Column::Pattern,
        ])
        .exec_without_returning(&self.conn)
        .await?;
        match inserted {
            sea_orm::TryInsertResult::Inserted(n) if n > 0 => Ok(()),
            _ => Err(DbError::Conflict),
        }
    }

    /// Removes a rule; false when there was none.
    pub async fn remove_immutability_rule(
        &self,
        account_id: i64,
        repository: &str,
        pattern: &str,
    ) -> DbResult<bool> {
        let r = immutable_tags::Entity::delete_many()
            .filter(immutable_tags::Column::AccountId.eq(account_id))
            .filter(immutable_tags::Column::Repository.eq(repository))
            .filter(immutable_tags::Column::Pattern.eq(pattern))
            .exec(&self.conn)
            .await?;
        Ok(r.rows_affected > 0)
    }

    /// An account's rules, by repository then pattern.
    pub async fn immutability_rules(&self, account_id: i64) -> DbResult<Vec<ImmutabilityRule>> {
        Ok(immutable_tags::Entity::find()
            .filter(immutable_tags::Column::AccountId.eq(account_id))
            .order_by_asc(immutable_tags::Column::Repository)
            .order_by_asc(immutable_tags::Column::Pattern)
            .all(&self.read)
            .await?)
    }
}
