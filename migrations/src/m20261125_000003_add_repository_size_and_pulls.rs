//! Each repository's storage size (bytes of the distinct blobs it may read), kept
//! current on push and delete so lists can sort by it without summing per view; and
//! indexes for the portal's sort orders; when each manifest was last pulled.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Repositories {
    Table,
    AccountId,
    PushedAt,
    SizeBytes,
}

#[derive(DeriveIden)]
enum Manifests {
    Table,
    PulledAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Repositories::Table)
                .add_column(big_integer(Repositories::SizeBytes).default(0))
                .to_owned(),
        )
        .await?;
        m.get_connection()
            .execute_unprepared(
                "UPDATE repositories SET size_bytes = COALESCE((SELECT SUM(b.size) \
                 FROM repository_blobs rb JOIN blobs b ON b.digest = rb.digest \
                 WHERE rb.repository_id = repositories.id), 0)",
            )
            .await?;
        for (name, column) in [
            ("idx_repositories_account_pushed", Repositories::PushedAt),
            ("idx_repositories_account_size", Repositories::SizeBytes),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(Repositories::Table)
                    .col(Repositories::AccountId)
                    .col(column)
                    .to_owned(),
            )
            .await?;
        }
        m.alter_table(
            Table::alter()
                .table(Manifests::Table)
                .add_column(big_integer_null(Manifests::PulledAt))
                .to_owned(),
        )
        .await
    }
}
