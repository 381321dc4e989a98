//! Signing in and out, and who is signed in.

use crate::model::SessionUser;
#[cfg(feature = "ssr")]
use crate::model::SignInRefusal;
use leptos::prelude::*;

/// The session key holding the signed-in user's id.
#[cfg(feature = "ssr")]
pub const USER_KEY: &str = "uid";

/// The session key holding when the user signed in (Unix seconds).
#[cfg(feature = "ssr")]
pub const SIGNED_IN_KEY: &str = "since";

/// The session key holding the ID token of a single sign-on, for the provider's
/// logout.
#[cfg(feature = "ssr")]
pub const SSO_ID_TOKEN_KEY: &str = "oidc_id_token";

/// The session key of a notice for the home page, shown once (a single sign-on
/// whose wanted username was taken).
#[cfg(feature = "ssr")]
pub const NOTICE_KEY: &str = "notice";

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

/// The signed-in user's id, or an error asking to sign in (answered with 401).
#[cfg(feature = "ssr")]
pub async fn session_user_id() -> Result<i64, ServerFnError> {
    let session: tower_sessions::Session = leptos_axum::extract().await?;
    user_in_session(&session)
        .await
        .ok_or_else(|| super::refused(crate::server::Refusal::new(401, "Please sign in.")))
}

/// The signed-in user's id, or `None` for a visitor without a session (who may read
/// public repositories).
#[cfg(feature = "ssr")]
pub async fn session_user_id_if_any() -> Result<Option<i64>, ServerFnError> {
    let session: tower_sessions::Session = leptos_axum::extract().await?;
    Ok(user_in_session(&session).await)
}

/// Where a sign-in may send someone back to: a path on this site (`/r/acme/app`),
/// never another site (`//evil.example`, `https://…`, `/\evil.example`).
pub fn safe_return_path(next: &str) -> Option<&str> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && next.len() <= 2048
        && !next.chars().any(|c| c.is_control() || c == '\\')
        && !next.starts_with("/sign-in");
    ok.then_some(next)
}

/// Where people land after signing in when they asked for no page: a member of exactly
/// one account sees that account's repositories; anyone else the list of accounts.
#[cfg(feature = "ssr")]
fn landing(user: Option<&SessionUser>) -> String {
    match user {
        Some(u) if !u.site_admin && u.accounts.len() == 1 => {
            format!("/a/{}", u.accounts[0].account)
        }
        _ => "/".to_owned(),
    }
}

/// Whether a server function was posted by a plain HTML form (no JavaScript).
#[cfg(feature = "ssr")]
fn from_plain_form() -> bool {
    use_context::<http::request::Parts>()
        .and_then(|p| {
            p.headers
                .get(http::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.contains("text/html"))
        })
        .unwrap_or(false)
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

/// Signs the user in on this session and sends them to `destination`. The session
/// gets a new id, so an id planted before sign-in cannot be ridden.
#[cfg(feature = "ssr")]
async fn start_session(
    session: &tower_sessions::Session,
    user_id: i64,
    destination: &str,
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
    leptos_axum::redirect(destination);
    Ok(())
}

/// Signs in; `next` is the page to return to (see [`safe_return_path`]). A refusal
/// sends a plain form back to the sign-in page, which says why; a script is answered
/// with the refusal and its status (401, or 429 when throttled).
#[server(endpoint = "sign_in")]
pub async fn sign_in(
    username: String,
    password: String,
    #[server(default)] next: Option<String>,
) -> Result<(), ServerFnError> {
    use crate::server::{Ports, Refusal};
    let ports = expect_context::<Ports>();
    let session: tower_sessions::Session = leptos_axum::extract().await?;
    let client = leptos_axum::extract::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .await
        .ok()
        .map(|c| c.0.ip());
    let next = next.as_deref().and_then(safe_return_path);
    let user_id = match ports.auth.sign_in(username.trim(), &password, client).await {
        Ok(id) => id,
        Err(refusal) => {
            if from_plain_form() {
                let back = match next {
                    Some(n) => format!(
                        "/sign-in?error={}&next={}",
                        refusal.code(),
                        crate::model::query_escape(n)
                    ),
                    None => format!("/sign-in?error={}", refusal.code()),
                };
                leptos_axum::redirect(&back);
                return Ok(());
            }
            let status = match refusal {
                SignInRefusal::BadCredentials => 401,
                SignInRefusal::TooManyAttempts => 429,
                SignInRefusal::Unavailable => 503,
                SignInRefusal::Disabled | SignInRefusal::PasswordOff => 403,
                SignInRefusal::SsoFailed => 502,
            };
            return Err(super::refused(Refusal::new(status, refusal.message())));
        }
    };
    let destination = match next {
        Some(n) => n.to_owned(),
        None => landing(ports.auth.user(user_id).await.as_ref()),
    };
    start_session(&session, user_id, &destination).await
}

#[server(endpoint = "setup")]
pub async fn setup(token: String, username: String, password: String) -> Result<(), ServerFnError> {
    use crate::server::Ports;
    let session: tower_sessions::Session = leptos_axum::extract().await?;
    let username = super::parse::typed(domain::Username::parse(username.trim()))?;
    let user_id = expect_context::<Ports>()
        .auth
        .create_first_admin(&token, &username, &password)
        .await
        .map_err(super::refused)?;
    start_session(&session, user_id, "/").await
}

/// Signs out; after a single sign-on, also at the provider when it offers logout
/// (it sends the browser back to the sign-in page).
#[server(endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), ServerFnError> {
    use crate::server::Ports;
    let session: tower_sessions::Session = leptos_axum::extract().await?;
    let id_token = session.get::<String>(SSO_ID_TOKEN_KEY).await.ok().flatten();
    session
        .flush()
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))?;
    let provider = match id_token {
        Some(t) => expect_context::<Ports>().auth.end_session_url(&t).await,
        None => None,
    };
    // A plain form goes through a page of ours: its redirect may not leave the site
    // (the page's `form-action 'self'`), a page's refresh may. The app's script goes
    // to the provider directly.
    match provider {
        Some(url) if from_plain_form() => leptos_axum::redirect(&format!(
            "/auth/oidc/signed-out?to={}",
            crate::model::query_escape(&url)
        )),
        Some(url) => leptos_axum::redirect(&url),
        None => leptos_axum::redirect("/sign-in"),
    }
    Ok(())
}

/// The session's notice, if any, taken from it: it is shown once.
#[server(endpoint = "take_notice")]
pub async fn take_notice() -> Result<Option<String>, ServerFnError> {
    let session: tower_sessions::Session = leptos_axum::extract().await?;
    Ok(session.remove::<String>(NOTICE_KEY).await.ok().flatten())
}

/// What the sign-in page offers: single sign-on, the password form, or both.
#[server(endpoint = "sign_in_options")]
pub async fn sign_in_options() -> Result<crate::model::SignInOptions, ServerFnError> {
    use crate::server::Ports;
    Ok(expect_context::<Ports>().auth.sign_in_options())
}

#[server(endpoint = "me")]
pub async fn current_user() -> Result<Option<SessionUser>, ServerFnError> {
    use crate::server::Ports;
    // No session is an answer here, not a refusal: the page renders signed out.
    let session: tower_sessions::Session = leptos_axum::extract().await?;
    let Some(user_id) = user_in_session(&session).await else {
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

#[cfg(test)]
mod tests {
    use super::safe_return_path;

    #[test]
    fn only_paths_on_this_site_are_returned_to() {
        assert_eq!(safe_return_path("/r/acme/app"), Some("/r/acme/app"));
        assert_eq!(
            safe_return_path("/a/acme?sort=size"),
            Some("/a/acme?sort=size")
        );
        for bad in [
            "//evil.example/x",
            "https://evil.example",
            "/\\evil.example",
            "evil",
            "",
            "/a\nb",
            "/sign-in?next=/x",
        ] {
            assert_eq!(safe_return_path(bad), None, "{bad:?}");
        }
    }
}
