//! The audit log of an account.

use crate::model::ActivityLog;
use leptos::prelude::*;

#[server(endpoint = "activity")]
pub async fn list_activity(
    account: String,
    kind: String,
    repository: String,
    page: u64,
) -> Result<ActivityLog, ServerFnError> {
    use crate::server::Ports;
    let user_id = super::session::session_user_id().await?;
    let account = super::parse::account(&account)?;
    let repository = match repository.trim() {
        "" => None,
        r => Some(super::parse::typed(domain::RepositoryName::parse(r))?),
    };
    expect_context::<Ports>()
        .activity
        .activity(user_id, &account, &kind, repository.as_ref(), page.max(1))
        .await
        .map_err(super::refused)
}
