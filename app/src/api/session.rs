//! Signing in and out, and who is signed in.

use crate::model::SessionUser;
use leptos::prelude::*;

/// The session key holding the signed-in user's id.
#[cfg(feature = "ssr")]
pub const USER_KEY: &str = "uid";

/// The session key holding when the user signed in (Unix seconds).
#[cfg(feature = "ssr")]
const SIGNED_IN_KEY: &str = "since";

/// How long a sign-in lasts however active the session is; then people sign in again.
#[cfg(feature = "ssr")]
pub const ABSOLUTE_EXPIRY_SECS: i64 = 7 * 24 * 3600;

/// The user signed in on this session, if any. A session past its absolute expiry is
/// deleted.
#[cfg(feature = "ssr")]
pub async fn user_in_session(session: &tower_sessions::Session) -> Option<i64> {
    let user_id = session.get::<i64>(USER_KEY).await.ok()??;
    let since = session.get::<i64>(SIGNED_IN_KEY).await.ok()?.unwrap_or(0);
    if super::now_ms() / 1000 - since > ABSOLUTE_EXPIRY_SECS {
        let _ = session.flush().await;
        return None;
    }
    Some(user_id)
}

/// The signed-in user's id, or an error asking to sign in.
#[cfg(feature = "ssr")]
pub async fn session_user_id() -> Result<i64, ServerFnError> {
    let session: tower_sessions::Session = leptos_axum::extract().await?;
    user_in_session(&session)
        .await
        .ok_or_else(|| ServerFnError::new("Please sign in."))
}

/// The host the browser reached us at, for pull URIs and commands.
#[cfg(feature = "ssr")]
pub fn request_host() -> String {
    use_context::<http::request::Parts>()
        .and_then(|p| {
            p.headers
                .get(http::header::HOST)
                .and_then(|h| h.to_str().ok())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "localhost".to_owned())
}

/// Signs the user in on this session and sends them to the start page. The session
/// gets a new id, so an id planted before sign-in cannot be ridden.
#[cfg(feature = "ssr")]
async fn start_session(
    session: &tower_sessions::Session,
    user_id: i64,
) -> Result<(), ServerFnError> {
    session
        .cycle_id()
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))?;
    session
        .insert(USER_KEY, user_id)
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))?;
    session
        .insert(SIGNED_IN_KEY, super::now_ms() / 1000)
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))?;
    leptos_axum::redirect("/");
    Ok(())
}

#[server(endpoint = "sign_in")]
pub async fn sign_in(username: String, password: String) -> Result<(), ServerFnError> {
    use crate::server::Ports;
    let ports = expect_context::<Ports>();
    let session: tower_sessions::Session = leptos_axum::extract().await?;
    let client = leptos_axum::extract::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .await
        .ok()
        .map(|c| c.0.ip());
    let user_id = match ports.auth.sign_in(username.trim(), &password, client).await {
        Ok(id) => id,
        Err(refusal) => {
            // Back to the form, which says why; works with and without JavaScript.
            leptos_axum::redirect(&format!("/sign-in?error={}", refusal.code()));
            return Ok(());
        }
    };
    start_session(&session, user_id).await
}

#[server(endpoint = "setup")]
pub async fn setup(token: String, username: String, password: String) -> Result<(), ServerFnError> {
    use crate::server::Ports;
    let session: tower_sessions::Session = leptos_axum::extract().await?;
    let user_id = expect_context::<Ports>()
        .auth
        .create_first_admin(&token, username.trim(), &password)
        .await
        .map_err(super::refused)?;
    start_session(&session, user_id).await
}

#[server(endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), ServerFnError> {
    let session: tower_sessions::Session = leptos_axum::extract().await?;
    session
        .flush()
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))?;
    leptos_axum::redirect("/sign-in");
    Ok(())
}

#[server(endpoint = "me")]
pub async fn current_user() -> Result<Option<SessionUser>, ServerFnError> {
    use crate::server::Ports;
    let Ok(user_id) = session_user_id().await else {
        return Ok(None);
    };
    Ok(expect_context::<Ports>().auth.user(user_id).await)
}

/// The message of a server function error, without the framework's prefix.
pub fn error_text(e: &ServerFnError) -> String {
    match e {
        ServerFnError::ServerError(m) => m.clone(),
        other => other.to_string(),
    }
}
