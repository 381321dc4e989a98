//! Database migrations for Berth, portable across SQLite and PostgreSQL.
//! Files are named `mYYYYMMDD_NNNNNN_verb_noun.rs`; never edit one that has shipped,
//! add a new one instead.

pub use sea_orm_migration::prelude::*;

mod m20261125_000001_create_core_tables;
mod m20261125_000002_create_sessions;
mod m20261125_000003_add_repository_size_and_pulls;
mod m20261125_000004_create_trash;
mod m20261126_000005_create_account_blobs;
mod m20261202_000006_add_credential_lifecycle;
mod m20261202_000007_create_site_secrets;
mod m20261202_000008_add_upload_state;
mod m20261203_000009_add_object_keys;
mod m20261203_000010_create_shared_state;
mod m20261203_000011_add_visibility;
mod m20261203_000012_create_immutable_tags;
mod m20261204_000013_create_retention_policies;
mod m20261204_000014_create_webhooks;
mod m20261204_000015_add_user_disabled;
mod m20261204_000016_create_single_sign_on;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_create_core_tables::Migration),
            Box::new(m20261125_000002_create_sessions::Migration),
            Box::new(m20261125_000003_add_repository_size_and_pulls::Migration),
            Box::new(m20261125_000004_create_trash::Migration),
            Box::new(m20261126_000005_create_account_blobs::Migration),
            Box::new(m20261202_000006_add_credential_lifecycle::Migration),
            Box::new(m20261202_000007_create_site_secrets::Migration),
            Box::new(m20261202_000008_add_upload_state::Migration),
            Box::new(m20261203_000009_add_object_keys::Migration),
            Box::new(m20261203_000010_create_shared_state::Migration),
            Box::new(m20261203_000011_add_visibility::Migration),
            Box::new(m20261203_000012_create_immutable_tags::Migration),
            Box::new(m20261204_000013_create_retention_policies::Migration),
            Box::new(m20261204_000014_create_webhooks::Migration),
            Box::new(m20261204_000015_add_user_disabled::Migration),
            Box::new(m20261204_000016_create_single_sign_on::Migration),
        ]
    }
}
