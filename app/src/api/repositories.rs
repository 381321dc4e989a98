//! The repositories of an account.

use crate::model::RepositoryList;
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
