//! Webhooks and their outbox: an account's endpoints (with the events and repository
//! and tag globs they hear), and one row per message to deliver, written in the
//! transaction that records the event, so a crash loses none.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Webhooks {
    Table,
    Id,
    AccountId,
    Url,
    /// Comma-separated event names.
    Events,
    RepositoryGlob,
    TagGlob,
    Secret,
    /// The secret before the last rotation, which also signs until `previous_until`.
    PreviousSecret,
    PreviousUntil,
    Enabled,
    /// Why the endpoint was disabled, in words.
    DisabledReason,
    /// Since when every delivery failed; none while the last one succeeded.
    FailingSince,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Id,
    WebhookId,
    /// The message's id (`webhook-id`), the same on every attempt.
    MessageId,
    Event,
    Payload,
    CreatedAt,
    /// `pending`, `delivered` or `failed` (given up).
    State,
    Attempts,
    NextAttemptAt,
    ClaimedBy,
    ClaimedUntil,
    LastAttemptAt,
    LastStatus,
    LastLatencyMs,
    /// The first bytes of the last response, or the error in words.
    LastResponse,
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Webhooks::Table)
                .col(big_pk_auto(Webhooks::Id))
                .col(big_integer(Webhooks::AccountId))
                .col(string(Webhooks::Url))
                .col(string(Webhooks::Events))
                .col(string_null(Webhooks::RepositoryGlob))
                .col(string_null(Webhooks::TagGlob))
                .col(string(Webhooks::Secret))
                .col(string_null(Webhooks::PreviousSecret))
                .col(big_integer_null(Webhooks::PreviousUntil))
                .col(boolean(Webhooks::Enabled))
                .col(string_null(Webhooks::DisabledReason))
                .col(big_integer_null(Webhooks::FailingSince))
                .col(string(Webhooks::CreatedBy))
                .col(big_integer(Webhooks::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Webhooks::Table, Webhooks::AccountId)
                        .to(Accounts::Table, Accounts::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("webhooks_account")
                .table(Webhooks::Table)
                .col(Webhooks::AccountId)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(WebhookDeliveries::Table)
                .col(big_pk_auto(WebhookDeliveries::Id))
                .col(big_integer(WebhookDeliveries::WebhookId))
                .col(string(WebhookDeliveries::MessageId))
                .col(string(WebhookDeliveries::Event))
                .col(text(WebhookDeliveries::Payload))
                .col(big_integer(WebhookDeliveries::CreatedAt))
                .col(string(WebhookDeliveries::State))
                .col(integer(WebhookDeliveries::Attempts))
                .col(big_integer(WebhookDeliveries::NextAttemptAt))
                .col(string_null(WebhookDeliveries::ClaimedBy))
                .col(big_integer_null(WebhookDeliveries::ClaimedUntil))
                .col(big_integer_null(WebhookDeliveries::LastAttemptAt))
                .col(integer_null(WebhookDeliveries::LastStatus))
                .col(big_integer_null(WebhookDeliveries::LastLatencyMs))
                .col(text_null(WebhookDeliveries::LastResponse))
                .foreign_key(
                    ForeignKey::create()
                        .from(WebhookDeliveries::Table, WebhookDeliveries::WebhookId)
                        .to(Webhooks::Table, Webhooks::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        // What the deliverer asks for: the pending messages that are due.
        m.create_index(
            Index::create()
                .name("webhook_deliveries_due")
                .table(WebhookDeliveries::Table)
                .col(WebhookDeliveries::State)
                .col(WebhookDeliveries::NextAttemptAt)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("webhook_deliveries_of")
                .table(WebhookDeliveries::Table)
                .col(WebhookDeliveries::WebhookId)
                .col(WebhookDeliveries::Id)
                .to_owned(),
        )
        .await
    }
}
