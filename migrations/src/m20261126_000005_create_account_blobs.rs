//! Account usage kept current: which blobs each account's repositories link (and how
//! many of them do), and the bytes of those distinct blobs on the account's row.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AccountBlobs {
    Table,
    AccountId,
    Digest,
    Links,
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
    SizeBytes,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(AccountBlobs::Table)
                .col(big_integer(AccountBlobs::AccountId))
                .col(string(AccountBlobs::Digest))
                .col(big_integer(AccountBlobs::Links))
                .primary_key(
                    Index::create()
                        .col(AccountBlobs::AccountId)
                        .col(AccountBlobs::Digest),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(AccountBlobs::Table, AccountBlobs::AccountId)
                        .to(Accounts::Table, Accounts::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Accounts::Table)
                .add_column(big_integer(Accounts::SizeBytes).default(0))
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        db.execute_unprepared(
            "INSERT INTO account_blobs (account_id, digest, links) \
             SELECT r.account_id, rb.digest, COUNT(*) FROM repository_blobs rb \
             JOIN repositories r ON r.id = rb.repository_id GROUP BY r.account_id, rb.digest",
        )
        .await?;
        db.execute_unprepared(
            "UPDATE accounts SET size_bytes = COALESCE((SELECT SUM(b.size) \
             FROM account_blobs ab JOIN blobs b ON b.digest = ab.digest \
             WHERE ab.account_id = accounts.id), 0)",
        )
        .await?;
        Ok(())
    }
}
