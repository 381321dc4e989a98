//! Live updates for open portal pages: a server-sent event stream per account that
//! says which repository changed. Pages then refetch what they show.

use crate::domain::AccountName;
use crate::services::Services;
use crate::services::access::{Caller, Grant, Permission, Resource};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

/// How often an open stream checks that its session and membership still hold.
const RECHECK: Duration = Duration::from_secs(15);

/// `GET /events/a/{account}`: `change` events (`{"repository", "action"}`) for a member
/// of the account; 401 without a session, 403 for anyone else. The stream ends within
/// [`RECHECK`] of the session ending (sign-out, expiry, a password change) or the
/// membership being removed.
pub async fn get_account_events(
    State(services): State<Services>,
    session: tower_sessions::Session,
    Path(account): Path<String>,
) -> Response {
    let Some(user_id) = app::api::session::user_in_session(&session).await else {
        return (StatusCode::UNAUTHORIZED, "sign in first").into_response();
    };
    let Ok(account_name) = AccountName::parse(&account) else {
        return (StatusCode::FORBIDDEN, "no access").into_response();
    };
    let caller = Caller::User { user_id };
    let account = match services
        .decide(&caller, Permission::View, Resource::Account(&account_name))
        .await
    {
        Ok(Grant {
            account: Some(account),
            ..
        }) => account,
        _ => return (StatusCode::FORBIDDEN, "no access").into_response(),
    };
    let Some(session_id) = session.id().map(|id| id.to_string()) else {
        return (StatusCode::UNAUTHORIZED, "sign in first").into_response();
    };
    let mut recheck = tokio::time::interval_at(tokio::time::Instant::now() + RECHECK, RECHECK);
    recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let state = (services.changes.watch(), recheck);
    let events = stream::unfold(state, move |(mut changes, mut recheck)| {
        let services = services.clone();
        let session = session.clone();
        let session_id = session_id.clone();
        let account_name = account_name.clone();
        let caller = caller.clone();
        async move {
            loop {
                let change = tokio::select! {
                    change = changes.recv() => change,
                    _ = recheck.tick() => {
                        let still = app::api::session::user_in_session(&session).await == Some(user_id)
                            && services.session_is_current(&session_id).await.unwrap_or(false)
                            && services
                                .decide(&caller, Permission::View, Resource::Account(&account_name))
                                .await
                                .is_ok();
                        if !still {
                            return None;
                        }
                        continue;
                    }
                };
                let event = match change {
                    Ok(c) if c.account_id == account.id => Event::default().event("change").data(
                        serde_json::json!({ "repository": c.repository, "action": c.action })
                            .to_string(),
                    ),
                    Ok(_) => continue,
                    // Some changes were missed: the page refreshes everything once.
                    Err(RecvError::Lagged(_)) => Event::default().event("change").data("{}"),
                    Err(RecvError::Closed) => return None,
                };
                return Some((Ok::<_, Infallible>(event), (changes, recheck)));
            }
        }
    });
    Sse::new(events)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}
