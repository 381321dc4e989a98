//! Credentials: the Docker Login button.

use crate::model::DockerLoginCommand;
use leptos::prelude::*;

#[server(endpoint = "docker_login")]
pub async fn docker_login(account: String) -> Result<DockerLoginCommand, ServerFnError> {
    use super::session::{request_host, session_user_id};
    use crate::server::Ports;
    let user_id = session_user_id().await?;
    let (username, secret, expires_at_ms) = expect_context::<Ports>()
        .credentials
        .docker_login(user_id, &account)
        .await
        .map_err(ServerFnError::new)?;
    let host = request_host();
    Ok(DockerLoginCommand {
        command: format!("echo {secret} | docker login {host} -u {username} --password-stdin"),
        expires_at_ms,
        push_example: format!(
            "docker tag alpine:3.20 {host}/{account}/alpine:3.20\ndocker push {host}/{account}/alpine:3.20"
        ),
    })
}
