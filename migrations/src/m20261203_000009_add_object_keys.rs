//! Object-store uploads: each upload's store state (its multipart upload, parts and
//! tail), and, for a blob completed from parts, the object its digest maps to (an
//! object store has no rename, so such a blob stays where its parts went).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Uploads {
    Table,
    StoreState,
}

#[derive(DeriveIden)]
enum Blobs {
    Table,
    ObjectKey,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Uploads::Table)
                .add_column(text_null(Uploads::StoreState))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Blobs::Table)
                .add_column(string_null(Blobs::ObjectKey))
                .to_owned(),
        )
        .await
    }
}
