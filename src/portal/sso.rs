//! The browser's side of single sign-on: `/auth/oidc/start` sends the person to the
//! provider (the session keeps `state`, `nonce` and the PKCE verifier), and
//! `/auth/oidc/callback` takes the provider's answer, signs them in on a fresh
//! session id and lands them where they were going, or on their one account.

use crate::services::sso::PendingLogin;
use crate::services::{Error, Services};
use app::api::session::{NOTICE_KEY, SIGNED_IN_KEY, SSO_ID_TOKEN_KEY, USER_KEY, safe_return_path};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;

/// The session key of a sign-in under way at the provider.
const PENDING_KEY: &str = "oidc_pending";

#[derive(Deserialize)]
pub struct StartQuery {
    next: Option<String>,
}

/// Sends the browser to the provider's authorization endpoint.
pub async fn get_oidc_start(
    State(services): State<Services>,
    session: Session,
    Query(q): Query<StartQuery>,
) -> Response {
    if services.sso.is_none() {
        return axum::http::StatusCode::NOT_FOUND.into_response();
    }
    let next = q
        .next
        .as_deref()
        .and_then(safe_return_path)
        .map(str::to_owned);
    let (url, pending) = match services.begin_sso(next).await {
        Ok(v) => v,
        Err(_) => return refused("sso"),
    };
    if let Err(e) = session.insert(PENDING_KEY, &pending).await {
        tracing::error!(error = %e, "single sign-on: could not keep the sign-in in the session");
        return refused("sso");
    }
    Redirect::to(&url).into_response()
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// The provider's answer: checked, and the person signed in.
pub async fn get_oidc_callback(
    State(services): State<Services>,
    session: Session,
    Query(q): Query<CallbackQuery>,
) -> Response {
    // Used once: a replayed answer finds nothing to match.
    let pending: Option<PendingLogin> = session.remove(PENDING_KEY).await.ok().flatten();
    let Some(pending) = pending else {
        tracing::info!("single sign-on: an answer came to a session that began none");
        return refused("sso");
    };
    if let Some(error) = &q.error {
        tracing::info!(error, description = ?q.error_description, "single sign-on: the provider said no");
        return refused("sso");
    }
    let (Some(code), Some(state)) = (&q.code, &q.state) else {
        return refused("sso");
    };
    let next = pending.next.clone();
    let signed_in = match services.finish_sso(pending, code, state).await {
        Ok(s) => s,
        Err(Error::Forbidden) => return refused("disabled"),
        Err(e) => {
            tracing::info!(error = %e, "single sign-on refused");
            return refused("sso");
        }
    };
    let started = async {
        session.cycle_id().await?;
        session.insert(USER_KEY, signed_in.user_id).await?;
        session
            .insert(SIGNED_IN_KEY, crate::services::now_ms() / 1000)
            .await?;
        session.insert(SSO_ID_TOKEN_KEY, &signed_in.id_token).await
    };
    if let Err(e) = started.await {
        tracing::error!(error = %e, "single sign-on: could not start the session");
        return refused("sso");
    }
    // A new person whose name was taken is told, once, on the home page.
    let renamed = signed_in.wanted_username.as_ref().map(|wanted| {
        format!(
            "The username {wanted} was taken here, so yours is {}. Use it for docker login.",
            signed_in.username
        )
    });
    if let Some(notice) = &renamed
        && let Err(e) = session.insert(NOTICE_KEY, notice).await
    {
        tracing::warn!(error = %e, "single sign-on: could not keep a notice");
    }
    let destination = match (next, renamed) {
        (Some(n), None) => n,
        (_, Some(_)) => "/".to_owned(),
        (None, None) => landing(&services, signed_in.user_id).await,
    };
    Redirect::to(&destination).into_response()
}

#[derive(Deserialize)]
pub struct SignedOutQuery {
    to: Option<String>,
}

/// After signing out of a single sign-on: on to the provider's logout, which sends
/// the browser back to the sign-in page. Only the provider's own logout endpoint is
/// followed; anything else goes to the sign-in page.
pub async fn get_oidc_signed_out(
    State(services): State<Services>,
    Query(q): Query<SignedOutQuery>,
) -> Response {
    let Some(to) = q.to else {
        return Redirect::to("/sign-in").into_response();
    };
    if !services.is_end_session_url(&to).await {
        return Redirect::to("/sign-in").into_response();
    }
    let to = html_escape(&to);
    axum::response::Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"0;url={to}\"><title>Signed out — Berth</title></head>\
         <body><p>Signed out. <a href=\"{to}\">Sign out at the identity provider too</a>.</p></body></html>"
    ))
    .into_response()
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A member of exactly one account lands on it; anyone else on the home page, which
/// lists their accounts or says who can give them one.
async fn landing(services: &Services, user_id: i64) -> String {
    match services.portal_user(user_id).await {
        Ok(Some(u)) if !u.site_admin && u.accounts.len() == 1 => {
            format!("/a/{}", u.accounts[0].0)
        }
        _ => "/".to_owned(),
    }
}

/// Back to the sign-in page, which says why in words.
fn refused(code: &str) -> Response {
    Redirect::to(&format!("/sign-in?error={code}")).into_response()
}
