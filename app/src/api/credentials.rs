//! Credentials: the Docker Login button and personal access tokens.

use crate::model::{CreatedNode, CreatedToken, DockerLoginCommand, NodeRow, TokenRow};
use leptos::prelude::*;

#[server(endpoint = "docker_login")]
pub async fn docker_login(account: String) -> Result<DockerLoginCommand, ServerFnError> {
    use super::session::{request_host, session_user_id};
    use crate::server::Ports;
    let user_id = session_user_id().await?;
    let account = super::parse::account(&account)?;
    let (username, secret, expires_at_ms) = expect_context::<Ports>()
        .credentials
        .docker_login(user_id, &account)
        .await
        .map_err(super::refused)?;
    let host = request_host();
    Ok(DockerLoginCommand {
        command: format!("echo {secret} | docker login {host} -u {username} --password-stdin"),
        expires_at_ms,
        push_example: format!(
            "docker tag alpine:3.20 {host}/{account}/alpine:3.20\ndocker push {host}/{account}/alpine:3.20"
        ),
    })
}

#[server(endpoint = "tokens")]
pub async fn list_tokens() -> Result<Vec<TokenRow>, ServerFnError> {
    use crate::server::Ports;
    let user_id = super::session::session_user_id().await?;
    expect_context::<Ports>()
        .credentials
        .tokens(user_id)
        .await
        .map_err(super::refused)
}

/// `expires_days` 0 means the token does not expire.
#[server(endpoint = "create_token")]
pub async fn create_token(
    label: String,
    access: String,
    expires_days: u32,
) -> Result<CreatedToken, ServerFnError> {
    use crate::server::Ports;
    let user_id = super::session::session_user_id().await?;
    let days = (expires_days > 0).then_some(expires_days);
    let access = super::parse::typed(domain::TokenAccess::parse(&access))?;
    expect_context::<Ports>()
        .credentials
        .create_token(user_id, &label, access, days)
        .await
        .map_err(super::refused)
}

#[server(endpoint = "revoke_token")]
pub async fn revoke_token(id: i64) -> Result<(), ServerFnError> {
    use crate::server::Ports;
    let user_id = super::session::session_user_id().await?;
    expect_context::<Ports>()
        .credentials
        .revoke_token(user_id, id)
        .await
        .map_err(super::refused)
}

#[server(endpoint = "nodes")]
pub async fn list_nodes(account: String) -> Result<Vec<NodeRow>, ServerFnError> {
    use crate::server::Ports;
    let user_id = super::session::session_user_id().await?;
    let account = super::parse::account(&account)?;
    expect_context::<Ports>()
        .credentials
        .nodes(user_id, &account)
        .await
        .map_err(super::refused)
}

#[server(endpoint = "create_node")]
pub async fn create_node(account: String, name: String) -> Result<CreatedNode, ServerFnError> {
    use crate::server::Ports;
    let user_id = super::session::session_user_id().await?;
    let account = super::parse::account(&account)?;
    let name = super::parse::typed(domain::NodeName::parse(name.trim()))?;
    expect_context::<Ports>()
        .credentials
        .create_node(user_id, &account, &name)
        .await
        .map_err(super::refused)
}

#[server(endpoint = "revoke_node")]
pub async fn revoke_node(account: String, id: i64) -> Result<(), ServerFnError> {
    use crate::server::Ports;
    let user_id = super::session::session_user_id().await?;
    let account = super::parse::account(&account)?;
    expect_context::<Ports>()
        .credentials
        .revoke_node(user_id, &account, id)
        .await
        .map_err(super::refused)
}
