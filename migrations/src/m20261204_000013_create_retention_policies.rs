//! Retention policies: per account, and optionally per repository (named within the
//! account), which tags to keep and when untagged manifests go.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RetentionPolicies {
    Table,
    Id,
    AccountId,
    /// The repository's name within the account; empty for the account's policy.
    Repository,
    KeepLast,
    /// Seconds: keep tags pushed or pulled within this period.
    KeepWithin,
    TagPattern,
    ExcludePattern,
    /// Seconds: untagged manifests older than this go.
    UntaggedOlderThan,
    UpdatedBy,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(RetentionPolicies::Table)
                .col(big_pk_auto(RetentionPolicies::Id))
                .col(big_integer(RetentionPolicies::AccountId))
                .col(string(RetentionPolicies::Repository))
                .col(integer_null(RetentionPolicies::KeepLast))
                .col(big_integer_null(RetentionPolicies::KeepWithin))
                .col(string_null(RetentionPolicies::TagPattern))
                .col(string_null(RetentionPolicies::ExcludePattern))
                .col(big_integer_null(RetentionPolicies::UntaggedOlderThan))
                .col(string(RetentionPolicies::UpdatedBy))
                .col(big_integer(RetentionPolicies::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(RetentionPolicies::Table, RetentionPolicies::AccountId)
                        .to(Accounts::Table, Accounts::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("retention_policies_scope")
                .table(RetentionPolicies::Table)
                .col(RetentionPolicies::AccountId)
                .col(RetentionPolicies::Repository)
                .unique()
                .to_owned(),
        )
        .await
    }
}
