//! The trash: deleted tags and repositories kept restorable for the retention period,
//! with what they keep alive for garbage collection; and per-account quotas.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Trash {
    Table,
    Id,
    AccountId,
    Kind,
    Repository,
    Tag,
    DeletedBy,
    DeletedAt,
    ExpiresAt,
    Bytes,
    Snapshot,
}

#[derive(DeriveIden)]
enum TrashBlobs {
    Table,
    TrashId,
    Digest,
}

#[derive(DeriveIden)]
enum TrashManifests {
    Table,
    TrashId,
    RepositoryId,
    Digest,
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
    QuotaBytes,
}

fn cascade(
    from_table: impl IntoIden,
    from_col: impl IntoIden,
    to_table: impl IntoIden,
    to_col: impl IntoIden,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from_table, from_col)
        .to(to_table, to_col)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Trash::Table)
                .col(big_pk_auto(Trash::Id))
                .col(big_integer(Trash::AccountId))
                .col(string(Trash::Kind))
                .col(string(Trash::Repository))
                .col(string_null(Trash::Tag))
                .col(string(Trash::DeletedBy))
                .col(big_integer(Trash::DeletedAt))
                .col(big_integer(Trash::ExpiresAt))
                .col(big_integer(Trash::Bytes))
                .col(text(Trash::Snapshot))
                .foreign_key(&mut cascade(
                    Trash::Table,
                    Trash::AccountId,
                    Accounts::Table,
                    Accounts::Id,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_trash_account_deleted")
                .table(Trash::Table)
                .col(Trash::AccountId)
                .col(Trash::DeletedAt)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(TrashBlobs::Table)
                .col(big_integer(TrashBlobs::TrashId))
                .col(string(TrashBlobs::Digest))
                .primary_key(
                    Index::create()
                        .col(TrashBlobs::TrashId)
                        .col(TrashBlobs::Digest),
                )
                .foreign_key(&mut cascade(
                    TrashBlobs::Table,
                    TrashBlobs::TrashId,
                    Trash::Table,
                    Trash::Id,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_trash_blobs_digest")
                .table(TrashBlobs::Table)
                .col(TrashBlobs::Digest)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(TrashManifests::Table)
                .col(big_integer(TrashManifests::TrashId))
                .col(big_integer(TrashManifests::RepositoryId))
                .col(string(TrashManifests::Digest))
                .primary_key(
                    Index::create()
                        .col(TrashManifests::TrashId)
                        .col(TrashManifests::RepositoryId)
                        .col(TrashManifests::Digest),
                )
                .foreign_key(&mut cascade(
                    TrashManifests::Table,
                    TrashManifests::TrashId,
                    Trash::Table,
                    Trash::Id,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_trash_manifests_repository_digest")
                .table(TrashManifests::Table)
                .col(TrashManifests::RepositoryId)
                .col(TrashManifests::Digest)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Accounts::Table)
                .add_column(big_integer_null(Accounts::QuotaBytes))
                .to_owned(),
        )
        .await
    }
}
