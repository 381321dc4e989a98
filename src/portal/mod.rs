//! The portal's server side: Leptos rendering of the `app` crate and its compiled
//! assets (JS, WebAssembly, CSS, `public/`), embedded in the binary at build time.

use app::{App, shell};
use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use leptos::config::{Env, LeptosOptions};
use leptos_axum::{LeptosRoutes, generate_route_list};

/// The site folder cargo-leptos produced (`pkg/` plus the files of `public/`), as it
/// was when this binary was built.
#[derive(rust_embed::RustEmbed)]
#[folder = "$BERTH_SITE_DIR"]
struct Site;

/// The portal's routes.
pub fn router() -> Router {
    let options = LeptosOptions::builder()
        .output_name("berth")
        .site_pkg_dir("pkg")
        .env(Env::PROD)
        .build();
    let routes = generate_route_list(App);
    Router::new()
        .leptos_routes(&options, routes, {
            let options = options.clone();
            move || shell(options.clone())
        })
        .route("/pkg/{*path}", get(get_pkg_asset))
        .route("/favicon.svg", get(|| async { asset("favicon.svg") }))
        // Any other path renders the app, whose router shows the not-found page (404).
        .fallback(leptos_axum::render_app_to_stream({
            let options = options.clone();
            move || shell(options.clone())
        }))
        .with_state(options)
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
