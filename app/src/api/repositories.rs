//! The repositories of an account.

use crate::model::{ManifestDetail, RepositoryDetail, RepositoryList};
use leptos::prelude::*;
use leptos::server_fn;

#[server(endpoint = "repositories")]
pub async fn list_repositories(
    account: String,
    filter: String,
    order: String,
    page: u64,
    per_page: u64,
) -> Result<RepositoryList, ServerFnError> {
    use super::session::{request_host, session_user_id};
    use crate::server::Ports;
    let user_id = session_user_id().await?;
    let account = super::parse::account(&account)?;
    let page = page.max(1);
    let query = crate::server::RepositoryQuery {
        filter: filter.trim(),
        order: super::parse::typed(domain::RepositoryOrder::parse(&order))?,
        page,
        per_page,
    };
    let (rows, total) = expect_context::<Ports>()
        .repositories
        .list(user_id, &account, &query, &request_host())
        .await
        .map_err(super::refused)?;
    Ok(RepositoryList {
        rows,
        total,
        page,
        per_page: per_page.clamp(1, 100),
        now_ms: super::now_ms(),
    })
}

/// A page of every public repository, for anyone (the Explore page).
#[server(endpoint = "explore")]
pub async fn explore_repositories(
    filter: String,
    page: u64,
    per_page: u64,
) -> Result<RepositoryList, ServerFnError> {
    use super::session::request_host;
    use crate::server::Ports;
    let page = page.max(1);
    let query = crate::server::RepositoryQuery {
        filter: filter.trim(),
        order: domain::RepositoryOrder::Name,
        page,
        per_page,
    };
    let (rows, total) = expect_context::<Ports>()
        .repositories
        .explore(&query, &request_host())
        .await
        .map_err(super::refused)?;
    Ok(RepositoryList {
        rows,
        total,
        page,
        per_page: per_page.clamp(1, 100),
        now_ms: super::now_ms(),
    })
}

/// A repository's page; visitors without a session see public ones.
#[server(endpoint = "repository")]
pub async fn get_repository(name: String) -> Result<RepositoryDetail, ServerFnError> {
    use super::session::{request_host, session_user_id_if_any};
    use crate::server::Ports;
    let user_id = session_user_id_if_any().await?;
    let repository = super::parse::repository(&name, user_id.is_some())?;
    let port = expect_context::<Ports>().repositories;
    let (tags, size) = port
        .tags(user_id, &repository)
        .await
        .map_err(super::refused)?;
    let standing = port
        .standing(user_id, &repository)
        .await
        .map_err(super::refused)?;
    let (referrers, untagged) = port
        .untagged(user_id, &repository)
        .await
        .map_err(super::refused)?
        .into_iter()
        .partition(|m| m.manifest.subject.is_some());
    Ok(RepositoryDetail {
        pull_uri: format!("{}/{name}", request_host()),
        name,
        size,
        tags,
        untagged,
        referrers,
        standing,
        now_ms: super::now_ms(),
    })
}

/// Makes a repository public (`confirm` must be its full name) or private.
#[server(endpoint = "set_visibility")]
pub async fn set_visibility(
    repository: String,
    visibility: String,
    confirm: String,
) -> Result<(), ServerFnError> {
    use super::session::session_user_id;
    use crate::server::Ports;
    let user_id = session_user_id().await?;
    let repository = super::parse::repository(&repository, true)?;
    let visibility = super::parse::typed(domain::Visibility::parse(&visibility))?;
    expect_context::<Ports>()
        .repositories
        .set_visibility(user_id, &repository, visibility, &confirm)
        .await
        .map_err(super::refused)
}

/// A manifest by `repository:tag` or `repository@digest`.
#[server(endpoint = "manifest")]
pub async fn get_manifest(reference: String) -> Result<ManifestDetail, ServerFnError> {
    use super::session::{request_host, session_user_id_if_any};
    use crate::server::Ports;
    let user_id = session_user_id_if_any().await?;
    let (repository, reference) = super::parse::named_reference(&reference)?;
    expect_context::<Ports>()
        .repositories
        .manifest(user_id, &repository, &reference, &request_host())
        .await
        .map_err(super::refused)
}

#[server(endpoint = "delete_tag")]
pub async fn delete_tag(
    repository: String,
    tag: String,
    confirm: String,
) -> Result<(), ServerFnError> {
    use super::session::session_user_id;
    use crate::server::Ports;
    let user_id = session_user_id().await?;
    let repository = super::parse::repository(&repository, true)?;
    let tag = super::parse::tag(&tag)?;
    expect_context::<Ports>()
        .repositories
        .delete_tag(user_id, &repository, &tag, &confirm)
        .await
        .map_err(super::refused)
}

#[server(endpoint = "delete_repository")]
pub async fn delete_repository(repository: String, confirm: String) -> Result<(), ServerFnError> {
    use super::session::session_user_id;
    use crate::server::Ports;
    let user_id = session_user_id().await?;
    let repository = super::parse::repository(&repository, true)?;
    expect_context::<Ports>()
        .repositories
        .delete_repository(user_id, &repository, &confirm)
        .await
        .map_err(super::refused)
}

/// Deletes the checked repositories of the list; `confirm` must be their count.
#[server(endpoint = "delete_repositories", input = server_fn::codec::Json)]
pub async fn delete_repositories(
    repositories: Vec<String>,
    confirm: String,
) -> Result<(), ServerFnError> {
    use super::session::session_user_id;
    use crate::server::Ports;
    let user_id = session_user_id().await?;
    let repositories = repositories
        .iter()
        .map(|r| super::parse::repository(r, true))
        .collect::<Result<Vec<_>, _>>()?;
    expect_context::<Ports>()
        .repositories
        .delete_repositories(user_id, &repositories, &confirm)
        .await
        .map_err(super::refused)
}
