//! Disabled users: `berth user disable` stops a user everywhere at once (sign-in,
//! sessions, docker logins, tokens) and `enable` restores what they had.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    DisabledAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Users::Table)
                .add_column(big_integer_null(Users::DisabledAt))
                .to_owned(),
        )
        .await
    }
}
