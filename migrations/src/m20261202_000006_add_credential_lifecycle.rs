//! Credential lifecycle: portal sessions findable per user (so a password change ends
//! them), refresh grants (what a `docker login` with a password stays valid by), and
//! the client address of every audit event.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Sessions {
    Table,
    UserId,
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Client,
}

#[derive(DeriveIden)]
enum RefreshGrants {
    Table,
    Id,
    UserId,
    CreatedAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Sessions::Table)
                .add_column(big_integer_null(Sessions::UserId))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_sessions_user_id")
                .table(Sessions::Table)
                .col(Sessions::UserId)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(AuditEvents::Table)
                .add_column(string_null(AuditEvents::Client))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(RefreshGrants::Table)
                .col(
                    big_integer(RefreshGrants::Id)
                        .auto_increment()
                        .primary_key(),
                )
                .col(big_integer(RefreshGrants::UserId))
                .col(big_integer(RefreshGrants::CreatedAt))
                .col(big_integer(RefreshGrants::LastUsedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(RefreshGrants::Table, RefreshGrants::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_refresh_grants_user_id")
                .table(RefreshGrants::Table)
                .col(RefreshGrants::UserId)
                .to_owned(),
        )
        .await
    }
}
