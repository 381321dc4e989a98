//! Single sign-on: users an OpenID Provider vouches for are keyed by (issuer,
//! subject); an account maps the provider's groups to roles; a membership that came
//! from a group says which, and when it was last synced.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    OidcIssuer,
    OidcSubject,
}

#[derive(DeriveIden)]
enum Memberships {
    Table,
    SsoGroup,
    SyncedAt,
}

#[derive(DeriveIden)]
enum GroupMappings {
    Table,
    AccountId,
    GroupName,
    Role,
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
        // SQLite alters one column per statement.
        for column in [Users::OidcIssuer, Users::OidcSubject] {
            m.alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(string_null(column))
                    .to_owned(),
            )
            .await?;
        }
        // One user per (issuer, subject): never two, never merged by e-mail.
        m.create_index(
            Index::create()
                .name("users_oidc_identity")
                .table(Users::Table)
                .col(Users::OidcIssuer)
                .col(Users::OidcSubject)
                .unique()
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Memberships::Table)
                .add_column(string_null(Memberships::SsoGroup))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Memberships::Table)
                .add_column(big_integer_null(Memberships::SyncedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(GroupMappings::Table)
                .col(big_integer(GroupMappings::AccountId))
                .col(string(GroupMappings::GroupName))
                .col(string(GroupMappings::Role))
                .col(big_integer(GroupMappings::CreatedAt))
                .primary_key(
                    Index::create()
                        .col(GroupMappings::AccountId)
                        .col(GroupMappings::GroupName),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(GroupMappings::Table, GroupMappings::AccountId)
                        .to(Accounts::Table, Accounts::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        // Sign-in looks mappings up by the person's groups.
        m.create_index(
            Index::create()
                .name("group_mappings_group")
                .table(GroupMappings::Table)
                .col(GroupMappings::GroupName)
                .to_owned(),
        )
        .await
    }
}
