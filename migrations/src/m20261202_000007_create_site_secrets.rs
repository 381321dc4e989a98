//! Secrets the whole site shares, in the database rather than a replica's data folder,
//! so that every replica on one database signs and checks tokens with the same key.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SiteSecrets {
    Table,
    Name,
    Value,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(SiteSecrets::Table)
                .col(string(SiteSecrets::Name).primary_key())
                // Hex, so both databases hold it as plain text.
                .col(string(SiteSecrets::Value))
                .col(big_integer(SiteSecrets::CreatedAt))
                .to_owned(),
        )
        .await
    }
}
