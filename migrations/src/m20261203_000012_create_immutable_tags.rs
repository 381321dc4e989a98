//! Immutability rules: per account, a tag glob (and optionally one repository, named
//! within the account) whose matching tags may be neither re-pointed nor deleted.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ImmutableTags {
    Table,
    Id,
    AccountId,
    /// The repository's name within the account; empty for every repository.
    Repository,
    Pattern,
    CreatedAt,
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
                .table(ImmutableTags::Table)
                .col(big_pk_auto(ImmutableTags::Id))
                .col(big_integer(ImmutableTags::AccountId))
                .col(string(ImmutableTags::Repository))
                .col(string(ImmutableTags::Pattern))
                .col(big_integer(ImmutableTags::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(ImmutableTags::Table, ImmutableTags::AccountId)
                        .to(Accounts::Table, Accounts::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("immutable_tags_rule")
                .table(ImmutableTags::Table)
                .col(ImmutableTags::AccountId)
                .col(ImmutableTags::Repository)
                .col(ImmutableTags::Pattern)
                .unique()
                .to_owned(),
        )
        .await
    }
}
