//! An account's immutability rules: tags matching them can be neither overwritten nor
//! deleted.

use crate::model::ImmutabilityRow;
use leptos::prelude::*;

#[server(endpoint = "immutability")]
pub async fn list_immutability(account: String) -> Result<Vec<ImmutabilityRow>, ServerFnError> {
    use crate::server::Ports;
    let user_id = super::session::session_user_id().await?;
    let account = super::parse::account(&account)?;
    expect_context::<Ports>()
        .accounts
        .immutability(user_id, &account)
        .await
        .map_err(super::refused)
}

/// Adds a rule (account admins); `repository` empty for every repository.
#[server(endpoint = "add_immutability")]
pub async fn add_immutability(
    account: String,
    pattern: String,
    repository: String,
) -> Result<(), ServerFnError> {
    use crate::server::Ports;
    let user_id = super::session::session_user_id().await?;
    let account = super::parse::account(&account)?;
    let pattern = super::parse::typed(domain::TagPattern::parse(pattern.trim()))?;
    expect_context::<Ports>()
        .accounts
        .add_immutability(user_id, &account, &pattern, &repository)
        .await
        .map_err(super::refused)
}

/// Removes a rule (site admins only).
#[server(endpoint = "remove_immutability")]
pub async fn remove_immutability(
    account: String,
    pattern: String,
    repository: String,
) -> Result<(), ServerFnError> {
    use crate::server::Ports;
    let user_id = super::session::session_user_id().await?;
    let account = super::parse::account(&account)?;
    let pattern = super::parse::typed(domain::TagPattern::parse(&pattern))?;
    expect_context::<Ports>()
        .accounts
        .remove_immutability(user_id, &account, &pattern, &repository)
        .await
        .map_err(super::refused)
}
