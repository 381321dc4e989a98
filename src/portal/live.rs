//! Live updates for open portal pages: a server-sent event stream per account that
//! says which repository changed. Pages then refetch what they show.

use crate::domain::AccountName;
use crate::services::Services;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

/// `GET /events/a/{account}`: `change` events (`{"repository", "action"}`) for a member
/// of the account; 401 without a session, 403 for anyone else.
pub async fn get_account_events(
    State(services): State<Services>,
    session: tower_sessions::Session,
    Path(account): Path<String>,
) -> Response {
    let Some(user_id) = app::api::session::user_in_session(&session).await else {
        return (StatusCode::UNAUTHORIZED, "sign in first").into_response();
    };
    let Ok(account) = AccountName::parse(&account) else {
        return (StatusCode::FORBIDDEN, "no access").into_response();
    };
    let account = match services.member_of(user_id, &account).await {
        Ok((account, _)) => account,
        Err(_) => return (StatusCode::FORBIDDEN, "no access").into_response(),
    };
    let changes = services.changes.watch();
    let events = stream::unfold(changes, move |mut changes| async move {
        loop {
            let event = match changes.recv().await {
                Ok(c) if c.account_id == account.id => Event::default().event("change").data(
                    serde_json::json!({ "repository": c.repository, "action": c.action })
                        .to_string(),
                ),
                Ok(_) => continue,
                // Some changes were missed: the page refreshes everything once.
                Err(RecvError::Lagged(_)) => Event::default().event("change").data("{}"),
                Err(RecvError::Closed) => return None,
            };
            return Some((Ok::<_, Infallible>(event), changes));
        }
    });
    Sse::new(events)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}
