//! Accounts, people and credentials; repositories with their blobs, manifests and tags;
//! upload sessions; the audit log. Times are Unix milliseconds in BIGINT columns so the
//! schema is the same on SQLite and PostgreSQL.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
    Name,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Username,
    PasswordHash,
    SiteAdmin,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Memberships {
    Table,
    AccountId,
    UserId,
    Role,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Credentials {
    Table,
    Id,
    Kind,
    AccountId,
    UserId,
    Name,
    SecretHash,
    Access,
    CreatedAt,
    ExpiresAt,
    LastUsedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum Repositories {
    Table,
    Id,
    AccountId,
    Name,
    CreatedAt,
    PushedAt,
}

#[derive(DeriveIden)]
enum Blobs {
    Table,
    Digest,
    Size,
    CreatedAt,
}

#[derive(DeriveIden)]
enum RepositoryBlobs {
    Table,
    RepositoryId,
    Digest,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Manifests {
    Table,
    Id,
    RepositoryId,
    Digest,
    MediaType,
    ArtifactType,
    Subject,
    Size,
    Content,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ManifestReferences {
    Table,
    ManifestId,
    Digest,
    Kind,
}

#[derive(DeriveIden)]
enum Tags {
    Table,
    Id,
    RepositoryId,
    Name,
    ManifestId,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Uploads {
    Table,
    Id,
    RepositoryId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    AccountId,
    Actor,
    Action,
    Repository,
    Detail,
    CreatedAt,
}

fn fk(
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
                .table(Accounts::Table)
                .col(big_pk_auto(Accounts::Id))
                .col(string_uniq(Accounts::Name))
                .col(big_integer(Accounts::CreatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Users::Table)
                .col(big_pk_auto(Users::Id))
                .col(string_uniq(Users::Username))
                .col(string(Users::PasswordHash))
                .col(boolean(Users::SiteAdmin))
                .col(big_integer(Users::CreatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Memberships::Table)
                .col(big_integer(Memberships::AccountId))
                .col(big_integer(Memberships::UserId))
                .col(string(Memberships::Role))
                .col(big_integer(Memberships::CreatedAt))
                .primary_key(
                    Index::create()
                        .col(Memberships::AccountId)
                        .col(Memberships::UserId),
                )
                .foreign_key(&mut fk(
                    Memberships::Table,
                    Memberships::AccountId,
                    Accounts::Table,
                    Accounts::Id,
                ))
                .foreign_key(&mut fk(
                    Memberships::Table,
                    Memberships::UserId,
                    Users::Table,
                    Users::Id,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_memberships_user")
                .table(Memberships::Table)
                .col(Memberships::UserId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Credentials::Table)
                .col(big_pk_auto(Credentials::Id))
                .col(string(Credentials::Kind))
                .col(big_integer_null(Credentials::AccountId))
                .col(big_integer_null(Credentials::UserId))
                .col(string(Credentials::Name))
                .col(string_uniq(Credentials::SecretHash))
                .col(string(Credentials::Access))
                .col(big_integer(Credentials::CreatedAt))
                .col(big_integer_null(Credentials::ExpiresAt))
                .col(big_integer_null(Credentials::LastUsedAt))
                .col(big_integer_null(Credentials::RevokedAt))
                .foreign_key(&mut fk(
                    Credentials::Table,
                    Credentials::AccountId,
                    Accounts::Table,
                    Accounts::Id,
                ))
                .foreign_key(&mut fk(
                    Credentials::Table,
                    Credentials::UserId,
                    Users::Table,
                    Users::Id,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_credentials_account_kind")
                .table(Credentials::Table)
                .col(Credentials::AccountId)
                .col(Credentials::Kind)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Repositories::Table)
                .col(big_pk_auto(Repositories::Id))
                .col(big_integer(Repositories::AccountId))
                .col(string_uniq(Repositories::Name))
                .col(big_integer(Repositories::CreatedAt))
                .col(big_integer(Repositories::PushedAt))
                .foreign_key(&mut fk(
                    Repositories::Table,
                    Repositories::AccountId,
                    Accounts::Table,
                    Accounts::Id,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_repositories_account_name")
                .table(Repositories::Table)
                .col(Repositories::AccountId)
                .col(Repositories::Name)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Blobs::Table)
                .col(string(Blobs::Digest).primary_key())
                .col(big_integer(Blobs::Size))
                .col(big_integer(Blobs::CreatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(RepositoryBlobs::Table)
                .col(big_integer(RepositoryBlobs::RepositoryId))
                .col(string(RepositoryBlobs::Digest))
                .col(big_integer(RepositoryBlobs::CreatedAt))
                .primary_key(
                    Index::create()
                        .col(RepositoryBlobs::RepositoryId)
                        .col(RepositoryBlobs::Digest),
                )
                .foreign_key(&mut fk(
                    RepositoryBlobs::Table,
                    RepositoryBlobs::RepositoryId,
                    Repositories::Table,
                    Repositories::Id,
                ))
                .foreign_key(&mut fk(
                    RepositoryBlobs::Table,
                    RepositoryBlobs::Digest,
                    Blobs::Table,
                    Blobs::Digest,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_repository_blobs_digest")
                .table(RepositoryBlobs::Table)
                .col(RepositoryBlobs::Digest)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Manifests::Table)
                .col(big_pk_auto(Manifests::Id))
                .col(big_integer(Manifests::RepositoryId))
                .col(string(Manifests::Digest))
                .col(string(Manifests::MediaType))
                .col(string_null(Manifests::ArtifactType))
                .col(string_null(Manifests::Subject))
                .col(big_integer(Manifests::Size))
                .col(blob(Manifests::Content))
                .col(big_integer(Manifests::CreatedAt))
                .foreign_key(&mut fk(
                    Manifests::Table,
                    Manifests::RepositoryId,
                    Repositories::Table,
                    Repositories::Id,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_manifests_repository_digest")
                .table(Manifests::Table)
                .col(Manifests::RepositoryId)
                .col(Manifests::Digest)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_manifests_repository_subject")
                .table(Manifests::Table)
                .col(Manifests::RepositoryId)
                .col(Manifests::Subject)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ManifestReferences::Table)
                .col(big_integer(ManifestReferences::ManifestId))
                .col(string(ManifestReferences::Digest))
                .col(string(ManifestReferences::Kind))
                .primary_key(
                    Index::create()
                        .col(ManifestReferences::ManifestId)
                        .col(ManifestReferences::Digest),
                )
                .foreign_key(&mut fk(
                    ManifestReferences::Table,
                    ManifestReferences::ManifestId,
                    Manifests::Table,
                    Manifests::Id,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_manifest_references_digest")
                .table(ManifestReferences::Table)
                .col(ManifestReferences::Digest)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Tags::Table)
                .col(big_pk_auto(Tags::Id))
                .col(big_integer(Tags::RepositoryId))
                .col(string(Tags::Name))
                .col(big_integer(Tags::ManifestId))
                .col(big_integer(Tags::UpdatedAt))
                .foreign_key(&mut fk(
                    Tags::Table,
                    Tags::RepositoryId,
                    Repositories::Table,
                    Repositories::Id,
                ))
                .foreign_key(&mut fk(
                    Tags::Table,
                    Tags::ManifestId,
                    Manifests::Table,
                    Manifests::Id,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_tags_repository_name")
                .table(Tags::Table)
                .col(Tags::RepositoryId)
                .col(Tags::Name)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_tags_manifest")
                .table(Tags::Table)
                .col(Tags::ManifestId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Uploads::Table)
                .col(string(Uploads::Id).primary_key())
                .col(big_integer(Uploads::RepositoryId))
                .col(big_integer(Uploads::CreatedAt))
                .foreign_key(&mut fk(
                    Uploads::Table,
                    Uploads::RepositoryId,
                    Repositories::Table,
                    Repositories::Id,
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(AuditEvents::Table)
                .col(big_pk_auto(AuditEvents::Id))
                .col(big_integer_null(AuditEvents::AccountId))
                .col(string(AuditEvents::Actor))
                .col(string(AuditEvents::Action))
                .col(string_null(AuditEvents::Repository))
                .col(text_null(AuditEvents::Detail))
                .col(big_integer(AuditEvents::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_audit_events_account_created")
                .table(AuditEvents::Table)
                .col(AuditEvents::AccountId)
                .col(AuditEvents::CreatedAt)
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
