//! The repositories of an account.

use crate::model::{RepositoryDetail, RepositoryList};
use leptos::prelude::*;

#[server(endpoint = "repositories")]
pub async fn list_repositories(
    account: String,
    filter: String,
    page: u64,
    per_page: u64,
) -> Result<RepositoryList, ServerFnError> {
    use super::session::{request_host, session_user_id};
    use crate::server::Ports;
    let user_id = session_user_id().await?;
    let page = page.max(1);
    let (rows, total) = expect_context::<Ports>()
        .repositories
        .list(
            user_id,
            &account,
            filter.trim(),
            page,
            per_page,
            &request_host(),
        )
        .await
        .map_err(ServerFnError::new)?;
    Ok(RepositoryList {
        rows,
        total,
        page,
        per_page,
    })
}

#[server(endpoint = "repository")]
pub async fn get_repository(name: String) -> Result<RepositoryDetail, ServerFnError> {
    use super::session::{request_host, session_user_id};
    use crate::server::Ports;
    let user_id = session_user_id().await?;
    let tags = expect_context::<Ports>()
        .repositories
        .tags(user_id, &name)
        .await
        .map_err(ServerFnError::new)?;
    Ok(RepositoryDetail {
        pull_uri: format!("{}/{name}", request_host()),
        name,
        tags,
    })
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
    expect_context::<Ports>()
        .repositories
        .delete_tag(user_id, &repository, &tag, &confirm)
        .await
        .map_err(ServerFnError::new)
}

#[server(endpoint = "delete_repository")]
pub async fn delete_repository(repository: String, confirm: String) -> Result<(), ServerFnError> {
    use super::session::session_user_id;
    use crate::server::Ports;
    let user_id = session_user_id().await?;
    expect_context::<Ports>()
        .repositories
        .delete_repository(user_id, &repository, &confirm)
        .await
        .map_err(ServerFnError::new)
}
