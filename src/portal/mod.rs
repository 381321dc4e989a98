//! The portal's server side: Leptos rendering of the `app` crate and its compiled
//! assets (JS, WebAssembly, CSS, `public/`), embedded in the binary at build time;
//! sessions; the app's ports implemented over the services.

mod live;
mod ports;
mod sessions;
mod sso;

use crate::services::Services;
use app::server::Ports;
use std::sync::Arc;
use tower_sessions::{Expiry, SessionManagerLayer};

use app::{App, shell};
use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use leptos::config::{Env, LeptosOptions};
use leptos_axum::{LeptosRoutes, generate_route_list};

/// The site folder `.ci/build-site` produced (`pkg/` plus the files of `public/`), as it
/// was when this binary was built.
#[derive(rust_embed::RustEmbed)]
#[folder = "$BERTH_SITE_DIR"]
struct Site;

/// How long a portal session lives without activity.
const IDLE_EXPIRY_HOURS: i64 = 12;

/// The portal's routes. `secure_cookies` when the public URL is https.
pub fn router(services: Services, secure_cookies: bool) -> Router {
    let port = Arc::new(ports::ServicePorts(services.clone()));
    let events = Router::new()
        .route("/events/a/{account}", get(live::get_account_events))
        .route("/auth/oidc/start", get(sso::get_oidc_start))
        .route("/auth/oidc/callback", get(sso::get_oidc_callback))
        .route("/auth/oidc/signed-out", get(sso::get_oidc_signed_out))
        .with_state(services.clone());
    let ports = Ports {
        auth: port.clone(),
        repositories: port.clone(),
        credentials: port.clone(),
        activity: port.clone(),
        accounts: port.clone(),
        webhooks: port,
    };
    let context = move || leptos::prelude::provide_context(ports.clone());
    let sessions = SessionManagerLayer::new(sessions::DbSessionStore(services.clone()))
        .with_name("berth_session")
        .with_http_only(true)
        .with_same_site(tower_sessions::cookie::SameSite::Lax)
        .with_secure(secure_cookies)
        .with_expiry(Expiry::OnInactivity(
            tower_sessions::cookie::time::Duration::hours(IDLE_EXPIRY_HOURS),
        ));
    let options = LeptosOptions::builder()
        .output_name("berth")
        .site_pkg_dir("pkg")
        .env(Env::PROD)
        .build();
    let routes = generate_route_list(App);
    Router::new()
        .leptos_routes_with_context(&options, routes, context.clone(), {
            let options = options.clone();
            move || shell(options.clone())
        })
        .route("/pkg/{*path}", get(get_pkg_asset))
        .route("/favicon.svg", get(|| async { asset("favicon.svg") }))
        // Any other path renders the app, whose router shows the not-found page (404).
        .fallback(leptos_axum::render_app_to_stream_with_context(context, {
            let options = options.clone();
            move || shell(options.clone())
        }))
        .with_state(options)
        .merge(events)
        .layer(axum::middleware::from_fn_with_state(
            services.clone(),
            sign_in_first,
        ))
        .layer(axum::middleware::from_fn(framework_refusals))
        .layer(axum::middleware::from_fn(browser_hardening))
        .layer(axum::middleware::from_fn(same_origin))
        .layer(axum::middleware::from_fn(limit_body))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .layer(sessions)
}

/// The largest request body the portal takes: forms and server function calls are
/// small (a bulk delete of 100 repositories is about 10 KiB).
const MAX_BODY: usize = 256 * 1024;

/// Answers a body declared larger than [`MAX_BODY`] with 413 before reading any of it;
/// a body without a length is cut at the limit by `DefaultBodyLimit`.
async fn limit_body(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY as u64) {
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("a request to the portal has at most {MAX_BODY} bytes"),
        )
            .into_response();
    }
    next.run(req).await
}

/// Pages that show an account's or a person's things.
const SIGNED_IN_PAGES: [&str; 6] = ["/a/", "/r/", "/t/", "/tokens", "/accounts", "/password"];

/// A signed-out visitor asking for a page that needs a session is sent to sign in,
/// and comes back to that page afterwards (`?next=`). The Repository and Tag pages of
/// a public repository are for everyone; for any other name (private or not there)
/// the visitor is asked to sign in alike.
async fn sign_in_first(
    axum::extract::State(services): axum::extract::State<Services>,
    session: tower_sessions::Session,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let path = req.uri().path();
    let page = matches!(
        req.method(),
        &axum::http::Method::GET | &axum::http::Method::HEAD
    ) && SIGNED_IN_PAGES
        .iter()
        .any(|p| path.starts_with(p) || path == p.trim_end_matches('/'));
    // What visitors may read (public repositories) counts against the same limit as
    // anonymous pulls.
    let open_to_visitors = matches!(
        path,
        "/explore" | "/api/explore" | "/api/repository" | "/api/manifest"
    ) || path.starts_with("/r/")
        || path.starts_with("/t/");
    if !page && !open_to_visitors {
        return next.run(req).await;
    }
    let visitor = app::api::session::user_in_session(&session).await.is_none();
    if visitor && open_to_visitors {
        let client = req
            .extensions()
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip());
        if let Err(wait) = services.anonymous.admit(client) {
            let secs = wait.as_secs().max(1);
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [(axum::http::header::RETRY_AFTER, secs.to_string())],
                format!(
                    "Too many requests from your network. Wait {} and try again, or sign in.",
                    app::model::human_wait(secs)
                ),
            )
                .into_response();
        }
    }
    if page && visitor && !public_page(&services, path).await {
        let wanted = req
            .uri()
            .path_and_query()
            .map_or(path, |pq| pq.as_str())
            .to_owned();
        let encoded: String = url::form_urlencoded::byte_serialize(wanted.as_bytes()).collect();
        return axum::response::Redirect::to(&format!("/sign-in?next={encoded}")).into_response();
    }
    next.run(req).await
}

/// Whether the path is the Repository or Tag page of a public repository.
async fn public_page(services: &Services, path: &str) -> bool {
    let name = if let Some(name) = path.strip_prefix("/r/") {
        name
    } else if let Some(reference) = path.strip_prefix("/t/") {
        match crate::domain::reference::split_named_reference(reference) {
            Some((name, _)) => name,
            None => return false,
        }
    } else {
        return false;
    };
    // Repository names need no percent-encoding; an encoded one is no public page.
    let Ok(repo) = crate::domain::RepositoryName::parse(name) else {
        return false;
    };
    services
        .decide(
            &crate::services::access::Caller::Anonymous,
            crate::services::access::Permission::Pull,
            crate::services::access::Resource::Repository(&repo),
        )
        .await
        .is_ok()
}

/// Server function calls the framework refuses before they run (arguments missing or
/// unreadable, a wrong method) are the caller's mistake: 400 or 405, not 500.
async fn framework_refusals(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let resp = next.run(req).await;
    if !api || resp.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let kind = bytes.split(|b| *b == b'|').next().unwrap_or_default();
    match kind {
        b"Args" | b"MissingArg" | b"Deserialization" => parts.status = StatusCode::BAD_REQUEST,
        b"UnsupportedRequestMethod" => parts.status = StatusCode::METHOD_NOT_ALLOWED,
        _ => {}
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// Headers on every portal response (pages add their Content-Security-Policy, see
/// `app::shell`): never framed, content types taken as sent, and no URLs leaked to
/// other sites in `Referer`.
async fn browser_hardening(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    resp
}

/// Refuses state-changing requests that a browser sent from another origin (CSRF);
/// the session cookie is also `SameSite=Lax`.
async fn same_origin(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let safe = matches!(
        req.method(),
        &axum::http::Method::GET | &axum::http::Method::HEAD
    );
    if !safe {
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok());
        let origin = req
            .headers()
            .get(header::ORIGIN)
            .or_else(|| req.headers().get(header::REFERER))
            .and_then(|h| h.to_str().ok());
        if let (Some(origin), Some(host)) = (origin, host) {
            let origin_host = origin
                .split("://")
                .nth(1)
                .unwrap_or("")
                .split('/')
                .next()
                .unwrap_or("");
            if origin_host != host {
                return (StatusCode::FORBIDDEN, "cross-origin request refused").into_response();
            }
        }
    }
    next.run(req).await
}

async fn get_pkg_asset(Path(path): Path<String>) -> Response {
    asset(&format!("pkg/{path}"))
}

fn asset(path: &str) -> Response {
    match Site::get(path) {
        Some(file) => {
            let mime = mime_guess::from_path(path).first_or_octet_stream();
            let mut resp = file.data.into_owned().into_response();
            let h = resp.headers_mut();
            if let Ok(v) = HeaderValue::from_str(mime.as_ref()) {
                h.insert(header::CONTENT_TYPE, v);
            }
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            if let Ok(v) =
                HeaderValue::from_str(&format!("\"{}\"", hex::encode(file.metadata.sha256_hash())))
            {
                h.insert(header::ETAG, v);
            }
            resp
        }
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}
