//! State every replica on one database shares: failed password attempts, so that a
//! run of wrong passwords spread over replicas behind a balancer waits as long as one
//! sent to a single replica; and leases on site-wide background work, so that one
//! replica at a time runs it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LoginFailures {
    Table,
    Key,
    Failures,
    LastAt,
}

#[derive(DeriveIden)]
enum SiteLeases {
    Table,
    Name,
    Holder,
    Until,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(LoginFailures::Table)
                // What the failures count against: a (user, network) pair or a network.
                .col(string(LoginFailures::Key).primary_key())
                .col(integer(LoginFailures::Failures))
                .col(big_integer(LoginFailures::LastAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(SiteLeases::Table)
                .col(string(SiteLeases::Name).primary_key())
                .col(string(SiteLeases::Holder))
                .col(big_integer(SiteLeases::Until))
                .to_owned(),
        )
        .await
    }
}
