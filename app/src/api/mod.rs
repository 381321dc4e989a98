//! Server functions, grouped by resource.

pub mod accounts;
pub mod activity;
pub mod credentials;
pub mod immutability;
pub mod repositories;
pub mod retention;
pub mod session;

/// Turns a port's refusal into the server function's error, answering with its HTTP
/// status, so a refused request is a 403 (or 400, 409…) and never looks like a crash.
#[cfg(feature = "ssr")]
pub fn refused(r: crate::server::Refusal) -> leptos::prelude::ServerFnError {
    use leptos::prelude::use_context;
    if let (Some(response), Ok(status)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::StatusCode::from_u16(r.status),
    ) {
        response.set_status(status);
    }
    leptos::prelude::ServerFnError::new(r.message)
}

/// The server's clock in Unix milliseconds.
#[cfg(feature = "ssr")]
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
