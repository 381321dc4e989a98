//! Wiring: data folder, database, store, signing key, routers, listener. The only
//! module that knows every other one.

use crate::config::{DataArgs, LogFormat, ServeArgs};
use crate::db::Db;
use crate::portal;
use crate::registry::{self, Registry};
use crate::services::Services;
use crate::services::tokens::TokenKeys;
use crate::storage::FilesystemStore;
use anyhow::Context;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use std::sync::Arc;

/// Opens the data folder: creates it, runs pending migrations, loads (or creates) the
/// token signing key.
pub async fn open(data: &DataArgs) -> anyhow::Result<Services> {
    std::fs::create_dir_all(&data.data_dir)
        .with_context(|| format!("creating the data folder {}", data.data_dir.display()))?;
    let db = Db::connect(&data.database_url())
        .await
        .with_context(|| "opening the database".to_string())?;
    let store = FilesystemStore::open(data.blob_dir())
        .await
        .with_context(|| format!("opening the blob store in {}", data.blob_dir().display()))?;
    let keys = TokenKeys::load_or_create(&data.key_file())
        .with_context(|| format!("loading the token key {}", data.key_file().display()))?;
    Ok(Services::new(db, Arc::new(store), keys))
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("BERTH_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// The whole application: registry, portal and health check.
pub fn app(services: Services, public_url: Option<String>) -> Router {
    let secure = public_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"));
    let reg = Registry {
        services: services.clone(),
        public_url,
        service: "berth".into(),
    };
    Router::new()
        .route("/healthz", get(get_healthz).with_state(services.clone()))
        .route("/metrics", get(get_metrics).with_state(services.clone()))
        .merge(registry::router(reg))
        .merge(portal::router(services.clone(), secure))
        .layer(axum::middleware::from_fn_with_state(
            services,
            observe_request,
        ))
}

/// Every request runs in a span with its id, account and repository (so every log
/// line it causes carries them), is counted for `/metrics`, and is logged at debug.
async fn observe_request(
    State(services): State<Services>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use tracing::Instrument;
    static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let id = NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let route = crate::services::metrics::route_of(method.as_str(), &path);
    let repository = registry_repository(&path);
    let account = repository
        .as_deref()
        .and_then(|r| r.split('/').next())
        .unwrap_or("");
    let span = tracing::info_span!(
        "request",
        id,
        %method,
        path,
        account,
        repository = repository.as_deref().unwrap_or(""),
    );
    let bytes_in = content_length(req.headers());
    let started = std::time::Instant::now();
    let mut resp = next.run(req).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let status = resp.status().as_u16();
    services.metrics.record_request(
        route,
        method.as_str(),
        status,
        elapsed,
        bytes_in,
        content_length(resp.headers()),
    );
    if let Ok(v) = axum::http::HeaderValue::from_str(&id.to_string()) {
        resp.headers_mut().insert("x-request-id", v);
    }
    span.in_scope(|| {
        tracing::debug!(status, ms = elapsed.as_millis() as u64, "request");
    });
    resp
}

/// The repository a registry path is about: what is between `/v2/` and the last
/// `/blobs/`, `/manifests/`, `/tags/` or `/referrers/`.
fn registry_repository(path: &str) -> Option<String> {
    let rest = path.strip_prefix("/v2/")?;
    ["/blobs/", "/manifests/", "/tags/", "/referrers/"]
        .iter()
        .filter_map(|marker| rest.rfind(marker))
        .max()
        .map(|end| rest[..end].to_owned())
}

fn content_length(h: &axum::http::HeaderMap) -> u64 {
    h.get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// `GET /metrics`: the Prometheus text format. Counts only, never names.
async fn get_metrics(State(services): State<Services>) -> axum::response::Response {
    let totals = match services.db.storage_totals().await {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "metrics: database");
            return (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response();
        }
    };
    let body = services.metrics.render(&crate::services::metrics::Gauges {
        storage_bytes: totals.bytes,
        blobs: totals.blobs,
        uploads_in_progress: totals.uploads,
        repositories: totals.repositories,
    });
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// `GET /healthz`: 200 when the database answers and the store can be written.
async fn get_healthz(State(services): State<Services>) -> impl IntoResponse {
    if let Err(e) = services.db.ping().await {
        tracing::error!(error = %e, "health check: database");
        return (StatusCode::SERVICE_UNAVAILABLE, "database unavailable");
    }
    if let Err(e) = services.store.check().await {
        tracing::error!(error = %e, "health check: store");
        return (StatusCode::SERVICE_UNAVAILABLE, "storage unavailable");
    }
    (StatusCode::OK, "ok")
}

/// `berth serve`.
pub async fn serve(data: &DataArgs, args: &ServeArgs) -> anyhow::Result<()> {
    init_logging(args.log_format);
    let mut services = open(data).await?;
    services.lifecycle = crate::services::gc::Lifecycle {
        trash_retention: args.trash_retention,
        grace: args.grace,
        upload_expiry: args.upload_expiry,
    };
    match services.recover_uploads().await? {
        0 => {}
        n => tracing::info!(forgotten = n, "forgot upload sessions a crash interrupted"),
    }
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let addr = listener.local_addr()?;
    let url = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    if let Some(token) = services.begin_setup().await? {
        tracing::info!(
            "No users yet. Create the first admin at {url}/setup?token={token} (the link works once)"
        );
    }
    tracing::info!(data_dir = %data.data_dir.display(), "Berth is listening on http://{addr}; open {url}");
    let app = app(services.clone(), args.public_url.clone());
    // Bytes of uploads a crash interrupted are removed beside normal service.
    tokio::spawn({
        let services = services.clone();
        async move {
            match services.remove_orphan_blobs().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(removed = n, "removed blob files of interrupted uploads"),
                Err(e) => tracing::warn!(error = ?e, "could not look for interrupted uploads"),
            }
        }
    });
    // Garbage collection runs on its own schedule, beside pushes and pulls.
    let collector = (!args.gc_interval.is_zero()).then(|| {
        let services = services.clone();
        let every = args.gc_interval;
        tokio::spawn(async move {
            let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            loop {
                tick.tick().await;
                if let Err(e) = services.collect_garbage(false).await {
                    tracing::error!(error = ?e, "garbage collection failed");
                }
            }
        })
    });
    // Pull times are written in batches, off the pull path.
    let flusher = tokio::spawn({
        let services = services.clone();
        async move {
            let mut tick = tokio::time::interval(crate::services::pulls::FLUSH_INTERVAL);
            loop {
                tick.tick().await;
                if let Err(e) = services.flush_pulls().await {
                    tracing::warn!(error = %e, "could not record pull times");
                }
            }
        }
    });
    let limits = crate::connections::Limits {
        header_timeout: args.header_timeout,
        body_timeout: args.body_timeout,
        ..Default::default()
    };
    crate::connections::serve(listener, app, limits, shutdown_signal()).await;
    flusher.abort();
    if let Some(gc) = collector {
        gc.abort();
    }
    if let Err(e) = services.flush_pulls().await {
        tracing::warn!(error = %e, "could not record pull times");
    }
    services.db.close().await;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
