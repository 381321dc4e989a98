//! Accounts and people: an account's members, the site's accounts, one's password.

use crate::model::{AccountRow, MemberRow, TrashRow};
use leptos::prelude::*;

#[server(endpoint = "members")]
pub async fn list_members(account: String) -> Result<Vec<MemberRow>, ServerFnError> {
    use crate::server::Ports;
    let user_id = super::session::session_user_id().await?;
    let account = super::parse::account(&account)?;
    expect_context::<Ports>()
        .accounts
        .members(user_id, &account)
        .await
        .map_err(super::refused)
}

/// Adds a member or changes their role; `password` creates a user who has none.
#[server(endpoint = "add_member")]
pub async fn add_member(
    account: String,
    username: String,
    role: String,
    password: String,
) -> Result<(), ServerFnError> {
    use crate::server::Ports;
    let user_id = super::session::session_user_id().await?;
    let account = super::parse::account(&account)?;
    let username = super::parse::typed(domain::Username::parse(username.trim()))?;
    let role = super::parse::typed(domain::Role::parse(&role))?;
    expect_context::<Ports>()
        .accounts
        .add_member(user_id, &account, &username, role, &password)
        .await
        .map_err(super::refused)
}

#[server(endpoint = "remove_member")]
pub async fn remove_member(account: String, username: String) -> Result<(), ServerFnError> {
    use crate::server::Ports;
    let user_id = super::session::session_user_id().await?;
    let account = super::parse::account(&account)?;
    let username = super::parse::typed(domain::Username::parse(&username))?;
    expect_context::<Ports>()
        .accounts
        .remove_member(user_id, &account, &username)
        .await
        .map_err(super::refused)
}

#[server(endpoint = "accounts")]
pub async fn list_accounts() -> Result<Vec<AccountRow>, ServerFnError> {
    use crate::server::Ports;
    let user_id = super::session::session_user_id().await?;
    expect_context::<Ports>()
        .accounts
        .accounts(user_id)
        .await
        .map_err(super::refused)
}

#[server(endpoint = "create_account")]
pub async fn create_account(name: String) -> Result<(), ServerFnError> {
    use crate::server::Ports;
    let user_id = super::session::session_user_id().await?;
    let name = super::parse::typed(domain::AccountName::parse(name.trim()))?;
    expect_context::<Ports>()
        .accounts
        .create_account(user_id, &name)
        .await
        .map_err(super::refused)
}

#[server(endpoint = "change_password")]
pub async fn change_password(current: String, new: String) -> Result<(), ServerFnError> {
    use crate::server::Ports;
    let user_id = super::session::session_user_id().await?;
    // The person's other sessions end; this one stays signed in.
    let session: tower_sessions::Session = leptos_axum::extract().await?;
    let this_session = session.id().map(|id| id.to_string());
    expect_context::<Ports>()
        .accounts
        .change_password(user_id, &current, &new, this_session.as_deref())
        .await
        .map_err(super::refused)
}

#[server(endpoint = "trash")]
pub async fn list_trash(account: String) -> Result<Vec<TrashRow>, ServerFnError> {
    use crate::server::Ports;
    let user_id = super::session::session_user_id().await?;
    let account = super::parse::account(&account)?;
    expect_context::<Ports>()
        .accounts
        .trash(user_id, &account)
        .await
        .map_err(super::refused)
}

#[server(endpoint = "restore")]
pub async fn restore(account: String, id: i64) -> Result<(), ServerFnError> {
    use crate::server::Ports;
    let user_id = super::session::session_user_id().await?;
    let account = super::parse::account(&account)?;
    expect_context::<Ports>()
        .accounts
        .restore(user_id, &account, id)
        .await
        .map_err(super::refused)
}

/// Empties an account's trash; `confirm` must be the account's name.
#[server(endpoint = "empty_trash")]
pub async fn empty_trash(account: String, confirm: String) -> Result<u64, ServerFnError> {
    use crate::server::Ports;
    let user_id = super::session::session_user_id().await?;
    let account = super::parse::account(&account)?;
    expect_context::<Ports>()
        .accounts
        .empty_trash(user_id, &account, &confirm)
        .await
        .map_err(super::refused)
}

#[server(endpoint = "collect_garbage")]
pub async fn collect_garbage() -> Result<String, ServerFnError> {
    use crate::server::Ports;
    let user_id = super::session::session_user_id().await?;
    expect_context::<Ports>()
        .accounts
        .collect_garbage(user_id)
        .await
        .map_err(super::refused)
}

/// Sets an account's quota: a size like `50GiB`, or `none`.
#[server(endpoint = "set_quota")]
pub async fn set_quota(account: String, quota: String) -> Result<(), ServerFnError> {
    use crate::server::Ports;
    let user_id = super::session::session_user_id().await?;
    let account = super::parse::account(&account)?;
    let quota = super::parse::typed(domain::size::parse_size(&quota))?;
    expect_context::<Ports>()
        .accounts
        .set_quota(user_id, &account, quota)
        .await
        .map_err(super::refused)
}
