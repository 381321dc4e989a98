//! Public repositories: each repository is private (the default) or public, and an
//! account says which new repositories start as.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Repositories {
    Table,
    Public,
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    PublicByDefault,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Repositories::Table)
                .add_column(boolean(Repositories::Public).default(false))
                .to_owned(),
        )
        .await?;
        // The Explore page lists public repositories by name.
        m.create_index(
            Index::create()
                .name("repositories_public_name")
                .table(Repositories::Table)
                .col(Repositories::Public)
                .col(Alias::new("name"))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Accounts::Table)
                .add_column(boolean(Accounts::PublicByDefault).default(false))
                .to_owned(),
        )
        .await
    }
}
