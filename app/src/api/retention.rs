//! An account's retention policies: which tags its repositories keep, previewed
//! before they are saved. The form's fields are parsed here, into the domain's
//! policy, before they reach the services.

#[cfg(feature = "ssr")]
use crate::model::RetentionFields;
use crate::model::{RetentionPreview, RetentionRow};
use leptos::prelude::*;

#[server(endpoint = "retention")]
pub async fn list_retention(account: String) -> Result<Vec<RetentionRow>, ServerFnError> {
    use crate::server::Ports;
    let user_id = super::session::session_user_id().await?;
    let account = super::parse::account(&account)?;
    expect_context::<Ports>()
        .accounts
        .retention(user_id, &account)
        .await
        .map_err(super::refused)
}

/// What the draft would remove now (account admins).
#[server(endpoint = "preview_retention")]
pub async fn preview_retention(
    account: String,
    repository: String,
    keep_last: String,
    keep_days: String,
    tag: String,
    exclude: String,
    untagged_older_than: String,
) -> Result<RetentionPreview, ServerFnError> {
    use crate::server::Ports;
    let fields = RetentionFields {
        repository,
        keep_last,
        keep_days,
        tag,
        exclude,
        untagged_older_than,
    };
    let user_id = super::session::session_user_id().await?;
    let account = super::parse::account(&account)?;
    let policy = parse_policy(&fields)?;
    expect_context::<Ports>()
        .accounts
        .preview_retention(user_id, &account, &fields.repository, &policy)
        .await
        .map_err(super::refused)
}

/// Saves the draft, replacing the policy of its account or repository (account admins).
#[server(endpoint = "save_retention")]
pub async fn save_retention(
    account: String,
    repository: String,
    keep_last: String,
    keep_days: String,
    tag: String,
    exclude: String,
    untagged_older_than: String,
) -> Result<(), ServerFnError> {
    use crate::server::Ports;
    let fields = RetentionFields {
        repository,
        keep_last,
        keep_days,
        tag,
        exclude,
        untagged_older_than,
    };
    let user_id = super::session::session_user_id().await?;
    let account = super::parse::account(&account)?;
    let policy = parse_policy(&fields)?;
    expect_context::<Ports>()
        .accounts
        .save_retention(user_id, &account, &fields.repository, &policy)
        .await
        .map_err(super::refused)
}

/// Removes the policy of the account (`repository` blank) or of one repository.
#[server(endpoint = "remove_retention")]
pub async fn remove_retention(account: String, repository: String) -> Result<(), ServerFnError> {
    use crate::server::Ports;
    let user_id = super::session::session_user_id().await?;
    let account = super::parse::account(&account)?;
    expect_context::<Ports>()
        .accounts
        .remove_retention(user_id, &account, &repository)
        .await
        .map_err(super::refused)
}

#[cfg(feature = "ssr")]
fn parse_policy(f: &RetentionFields) -> Result<domain::RetentionPolicy, ServerFnError> {
    domain::RetentionPolicy::from_fields(
        Some(&f.keep_last),
        Some(&f.keep_days),
        Some(&f.tag),
        Some(&f.exclude),
        Some(&f.untagged_older_than),
    )
    .map_err(|e| super::refused(e.0.into()))
}
