//! The OCI Distribution API (`/v2/…`), the Docker token endpoint (`/auth/token`) and
//! `docker search` (`/v1/search`).

mod auth;
mod blobs;
mod catalog;
mod errors;
mod manifests;
mod paths;
mod token;

pub use errors::OciError;

use crate::services::Services;
use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use paths::Route;
use std::net::SocketAddr;

/// The registry's shared state.
#[derive(Clone)]
pub struct Registry {
    pub services: Services,
    /// The URL clients reach us at, when configured; otherwise taken from each
    /// request's `Host`.
    pub public_url: Option<String>,
    /// The `service` of token challenges.
    pub service: String,
}

impl Registry {
    /// `scheme://host[:port]` as the client sees us.
    pub fn base_url(&self, headers: &HeaderMap) -> String {
        if let Some(u) = &self.public_url {
            return u.trim_end_matches('/').to_owned();
        }
        let host = headers
            .get(axum::http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost");
        let proto = headers
            .get("x-forwarded-proto")
            .and_then(|h| h.to_str().ok())
            .filter(|p| *p == "https")
            .unwrap_or("http");
        format!("{proto}://{host}")
    }
}

/// The registry's routes.
pub fn router(reg: Registry) -> Router {
    Router::new()
        .route("/v2", any(dispatch))
        .route("/v2/", any(dispatch))
        .route("/v2/{*rest}", any(dispatch))
        .route(
            "/auth/token",
            get(token::get_token)
                .post(token::post_token)
                .layer(axum::extract::DefaultBodyLimit::max(token::MAX_FORM_BYTES)),
        )
        .route("/v1/search", get(catalog::get_search))
        .with_state(reg)
}

/// What every registry handler receives.
pub(crate) struct Ctx {
    pub reg: Registry,
    pub headers: HeaderMap,
    pub client: Option<std::net::IpAddr>,
    pub query: Option<String>,
}

impl Ctx {
    /// One query parameter, percent-decoded.
    pub fn param(&self, name: &str) -> Option<String> {
        self.params(name).into_iter().next()
    }

    /// Every value of a repeated query parameter, percent-decoded.
    pub fn params(&self, name: &str) -> Vec<String> {
        let Some(q) = &self.query else { return vec![] };
        url::form_urlencoded::parse(q.as_bytes())
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .collect()
    }
}

async fn dispatch(State(reg): State<Registry>, req: Request) -> Response {
    let client = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let (parts, body) = req.into_parts();
    let ctx = Ctx {
        reg,
        headers: parts.headers,
        client,
        query: parts.uri.query().map(str::to_owned),
    };
    let path = parts.uri.path();
    let mut resp = match Route::parse(path) {
        Ok(route) => handle(ctx, &parts.method, route, body).await,
        Err(e) => e.into_response(),
    };
    resp.headers_mut().insert(
        "docker-distribution-api-version",
        HeaderValue::from_static("registry/2.0"),
    );
    resp
}

async fn handle(ctx: Ctx, method: &Method, route: Route, body: Body) -> Response {
    let result = match (route, method.clone()) {
        (Route::Base, Method::GET | Method::HEAD) => base(&ctx).await,
        (Route::Catalog, Method::GET) => catalog::get_catalog(&ctx).await,
        (Route::Tags { name }, Method::GET) => manifests::get_tags(&ctx, name).await,
        (Route::Manifest { name, reference }, Method::GET) => {
            manifests::get_manifest(&ctx, name, reference, true).await
        }
        (Route::Manifest { name, reference }, Method::HEAD) => {
            manifests::get_manifest(&ctx, name, reference, false).await
        }
        (Route::Manifest { name, reference }, Method::PUT) => {
            manifests::put_manifest(&ctx, name, reference, body).await
        }
        (Route::Manifest { name, reference }, Method::DELETE) => {
            manifests::delete_manifest(&ctx, name, reference).await
        }
        (Route::Referrers { name, digest }, Method::GET) => {
            manifests::get_referrers(&ctx, name, digest).await
        }
        (Route::Blob { name, digest }, Method::GET) => {
            blobs::get_blob(&ctx, name, digest, true).await
        }
        (Route::Blob { name, digest }, Method::HEAD) => {
            blobs::get_blob(&ctx, name, digest, false).await
        }
        (Route::Blob { name, digest }, Method::DELETE) => {
            blobs::delete_blob(&ctx, name, digest).await
        }
        (Route::Uploads { name }, Method::POST) => blobs::post_upload(&ctx, name, body).await,
        (Route::Upload { name, id }, Method::GET) => blobs::get_upload(&ctx, name, id).await,
        (Route::Upload { name, id }, Method::PATCH) => {
            blobs::patch_upload(&ctx, name, id, body).await
        }
        (Route::Upload { name, id }, Method::PUT) => blobs::put_upload(&ctx, name, id, body).await,
        (Route::Upload { name, id }, Method::DELETE) => blobs::delete_upload(&ctx, name, id).await,
        _ => Err(OciError::unsupported()),
    };
    result.unwrap_or_else(IntoResponse::into_response)
}

/// `GET /v2/`: 200 for a valid token, else the challenge that starts `docker login`.
async fn base(ctx: &Ctx) -> Result<Response, OciError> {
    if let Ok(Some(c)) = auth::bearer_claims(&ctx.reg, &ctx.headers)
        && let Some(p) = &c.prn
        && ctx.reg.services.principal_is_current(p).await?
    {
        return Ok((StatusCode::OK, axum::Json(serde_json::json!({}))).into_response());
    }
    Err(auth::challenge(&ctx.reg, &ctx.headers, None, None))
}
