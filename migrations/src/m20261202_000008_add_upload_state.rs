//! Upload state in the database, so that any process can continue an upload another
//! began: the bytes received, the running hash's serialised state, when it was last
//! written, and the lease of the one request writing it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Uploads {
    Table,
    Received,
    HashState,
    UpdatedAt,
    LeaseHolder,
    LeaseUntil,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds columns one at a time.
        let columns = [
            big_integer(Uploads::Received).default(0).to_owned(),
            blob_null(Uploads::HashState),
            big_integer(Uploads::UpdatedAt).default(0).to_owned(),
            string_null(Uploads::LeaseHolder),
            big_integer(Uploads::LeaseUntil).default(0).to_owned(),
        ];
        for mut column in columns {
            m.alter_table(
                Table::alter()
                    .table(Uploads::Table)
                    .add_column(&mut column)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
