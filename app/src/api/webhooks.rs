//! An account's webhooks: create (the secret is shown once), list, turn on and off,
//! delete; a webhook's deliveries, Redeliver and Send test. For the account's admins.

use crate::model::{CreatedWebhook, WebhookDeliveries, WebhookRow};
use leptos::prelude::*;

#[server(endpoint = "webhooks")]
pub async fn list_webhooks(account: String) -> Result<Vec<WebhookRow>, ServerFnError> {
    use crate::server::Ports;
    let user_id = super::session::session_user_id().await?;
    let account = super::parse::account(&account)?;
    expect_context::<Ports>()
        .webhooks
        .webhooks(user_id, &account)
        .await
        .map_err(super::refused)
}

/// Creates a webhook hearing the events whose boxes are ticked (a form sends only
/// those); blank globs for every repository and tag.
#[allow(clippy::too_many_arguments)]
#[server(endpoint = "create_webhook")]
pub async fn create_webhook(
    account: String,
    url: String,
    push: Option<String>,
    delete: Option<String>,
    pull: Option<String>,
    quota: Option<String>,
    retention: Option<String>,
    repository: String,
    tag: String,
) -> Result<CreatedWebhook, ServerFnError> {
    use crate::server::Ports;
    let user_id = super::session::session_user_id().await?;
    let account = super::parse::account(&account)?;
    let ticked: Vec<&str> = [
        ("push", &push),
        ("delete", &delete),
        ("pull", &pull),
        ("quota", &quota),
        ("retention", &retention),
    ]
    .into_iter()
    .filter(|(_, v)| v.is_some())
    .map(|(name, _)| name)
    .collect();
    let events = super::parse::typed(domain::EventSet::parse(&ticked.join(",")))?;
    let repository = match repository.trim() {
        "" => None,
        g => Some(super::parse::typed(domain::RepositoryGlob::parse(g))?),
    };
    let tag = match tag.trim() {
        "" => None,
        g => Some(super::parse::typed(domain::TagPattern::parse(g))?),
    };
    expect_context::<Ports>()
        .webhooks
        .create_webhook(
            user_id,
            &account,
            url.trim(),
            &events,
            repository.as_ref(),
            tag.as_ref(),
        )
        .await
        .map_err(super::refused)
}

#[server(endpoint = "delete_webhook")]
pub async fn delete_webhook(account: String, id: i64) -> Result<(), ServerFnError> {
    use crate::server::Ports;
    let user_id = super::session::session_user_id().await?;
    let account = super::parse::account(&account)?;
    expect_context::<Ports>()
        .webhooks
        .delete_webhook(user_id, &account, id)
        .await
        .map_err(super::refused)
}

/// Turns a webhook on (`enabled` "true") or off.
#[server(endpoint = "set_webhook_enabled")]
pub async fn set_webhook_enabled(
    account: String,
    id: i64,
    enabled: bool,
) -> Result<(), ServerFnError> {
    use crate::server::Ports;
    let user_id = super::session::session_user_id().await?;
    let account = super::parse::account(&account)?;
    expect_context::<Ports>()
        .webhooks
        .set_webhook_enabled(user_id, &account, id, enabled)
        .await
        .map_err(super::refused)
}

#[server(endpoint = "webhook_deliveries")]
pub async fn list_deliveries(account: String, id: i64) -> Result<WebhookDeliveries, ServerFnError> {
    use crate::server::Ports;
    let user_id = super::session::session_user_id().await?;
    let account = super::parse::account(&account)?;
    expect_context::<Ports>()
        .webhooks
        .deliveries(user_id, &account, id)
        .await
        .map_err(super::refused)
}

/// Sends one message again, with the same `webhook-id`.
#[server(endpoint = "redeliver_webhook")]
pub async fn redeliver_webhook(account: String, delivery: i64) -> Result<(), ServerFnError> {
    use crate::server::Ports;
    let user_id = super::session::session_user_id().await?;
    let account = super::parse::account(&account)?;
    expect_context::<Ports>()
        .webhooks
        .redeliver(user_id, &account, delivery)
        .await
        .map_err(super::refused)
}

/// Sends a `ping` message to the webhook.
#[server(endpoint = "send_test_webhook")]
pub async fn send_test_webhook(account: String, id: i64) -> Result<(), ServerFnError> {
    use crate::server::Ports;
    let user_id = super::session::session_user_id().await?;
    let account = super::parse::account(&account)?;
    expect_context::<Ports>()
        .webhooks
        .send_test(user_id, &account, id)
        .await
        .map_err(super::refused)
}
