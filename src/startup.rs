//! Wiring: data folder, database, store, signing key, routers, listener. The only
//! module that knows every other one.

use crate::config::{DataArgs, LogFormat, ServeArgs};
use crate::db::Db;
use crate::forwarded::TrustedProxies;
use crate::portal;
use crate::registry::{self, Registry};
use crate::services::Services;
use crate::services::tokens::TokenKeys;
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
    let location = data.storage();
    let store = crate::storage::open(&location)
        .await
        .with_context(|| format!("opening the blob store {location}"))?;
    let keys = TokenKeys::load_or_create(&db, &data.key_file())
        .await
        .context("loading the token signing key")?;
    Ok(Services::new(db, store, keys))
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

/// How Berth faces the network.
#[derive(Debug, Clone, Default)]
pub struct Edge {
    /// The URL people and clients reach Berth at, when configured.
    pub public_url: Option<String>,
    /// Proxies whose forwarding headers are believed.
    pub trusted_proxies: TrustedProxies,
    /// The bearer `/metrics` requires; `None`: direct loopback requests only.
    pub metrics_token: Option<String>,
    /// Whether Berth's own port speaks TLS.
    pub tls: bool,
}

/// The whole application: registry, portal, health check and metrics.
pub fn app(services: Services, edge: &Edge) -> Router {
    let secure = edge.tls
        || edge
            .public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"));
    let reg = Registry {
        services: services.clone(),
        public_url: edge.public_url.clone(),
        service: "berth".into(),
    };
    let metrics = MetricsAccess {
        services: services.clone(),
        token: edge.metrics_token.clone(),
        trusted_proxies: edge.trusted_proxies.clone(),
    };
    Router::new()
        .route("/healthz", get(get_healthz).with_state(services.clone()))
        .route("/metrics", get(get_metrics).with_state(metrics))
        .merge(registry::router(reg))
        .merge(portal::router(services.clone(), secure))
        .layer(axum::middleware::from_fn_with_state(
            services,
            observe_request,
        ))
        .layer(axum::middleware::from_fn(strict_transport))
        .layer(axum::middleware::from_fn_with_state(
            edge.trusted_proxies.clone(),
            crate::forwarded::resolve_client,
        ))
}

/// A client that reached us over HTTPS is told to come back only that way.
async fn strict_transport(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let https = req
        .headers()
        .get("x-forwarded-proto")
        .is_some_and(|p| p == "https");
    let mut resp = next.run(req).await;
    if https {
        resp.headers_mut().insert(
            axum::http::header::STRICT_TRANSPORT_SECURITY,
            axum::http::HeaderValue::from_static("max-age=31536000"),
        );
    }
    resp
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
    let client = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
    let span = tracing::info_span!(
        "request",
        id,
        %method,
        path,
        %client,
        account,
        repository = repository.as_deref().unwrap_or(""),
    );
    let bytes_in = content_length(req.headers());
    let started = std::time::Instant::now();
    let mut resp = crate::services::audit::CLIENT
        .scope(client, next.run(req))
        .instrument(span.clone())
        .await;
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

/// What `/metrics` needs to answer, and whom it answers.
#[derive(Clone)]
struct MetricsAccess {
    services: Services,
    token: Option<String>,
    trusted_proxies: TrustedProxies,
}

impl MetricsAccess {
    /// With a token, only its bearer; without, only a request made directly from
    /// loopback (a trusted proxy on loopback relays others, so it does not count).
    fn allows(&self, req: &axum::extract::Request) -> bool {
        match &self.token {
            Some(token) => req
                .headers()
                .get(axum::http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .is_some_and(|given| constant_time_eq(given.trim().as_bytes(), token.as_bytes())),
            None => req
                .extensions()
                .get::<crate::forwarded::Peer>()
                .is_some_and(|p| p.0.ip().is_loopback() && !self.trusted_proxies.trusts(p.0.ip())),
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `GET /metrics`: the Prometheus text format. Counts only, never names.
async fn get_metrics(
    State(access): State<MetricsAccess>,
    req: axum::extract::Request,
) -> axum::response::Response {
    if !access.allows(&req) {
        let mut resp = (
            StatusCode::UNAUTHORIZED,
            "metrics need the bearer token given by --metrics-token, or a request from loopback",
        )
            .into_response();
        resp.headers_mut().insert(
            axum::http::header::WWW_AUTHENTICATE,
            axum::http::HeaderValue::from_static("Bearer realm=\"metrics\""),
        );
        return resp;
    }
    let services = access.services;
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

/// The lock a running server holds on its data folder, so that a second server (or a
/// restore) cannot use the folder at the same time. The kernel releases it when the
/// process ends, however it ends.
pub struct DataDirLock(#[allow(dead_code)] std::fs::File);

const LOCK_FILE: &str = "berth.lock";

/// Takes the data folder's lock, or says that another server holds it.
pub fn lock_data_dir(dir: &std::path::Path) -> anyhow::Result<DataDirLock> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("creating the data folder {}", dir.display()))?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(LOCK_FILE))
        .with_context(|| format!("opening {}", dir.join(LOCK_FILE).display()))?;
    if !try_lock(&file) {
        anyhow::bail!("another berth serve uses the data folder {}", dir.display());
    }
    Ok(DataDirLock(file))
}

/// Whether a running server holds the data folder's lock.
pub fn data_dir_in_use(dir: &std::path::Path) -> bool {
    match std::fs::File::open(dir.join(LOCK_FILE)) {
        // Taking it succeeds only when nobody holds it; closing the file gives it back.
        Ok(file) => !try_lock(&file),
        Err(_) => false,
    }
}

fn try_lock(file: &std::fs::File) -> bool {
    use std::os::fd::AsRawFd;
    // SAFETY: flock only reads the descriptor, which `file` keeps open.
    unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
}

/// `berth serve`.
pub async fn serve(data: &DataArgs, args: &ServeArgs) -> anyhow::Result<()> {
    init_logging(args.log_format);
    let _lock = lock_data_dir(&data.data_dir)?;
    let mut services = open(data).await?;
    services.lifecycle = crate::services::gc::Lifecycle {
        trash_retention: args.trash_retention,
        grace: args.grace,
        upload_expiry: args.upload_expiry,
    };
    services.max_open_uploads = args.max_open_uploads;
    services.blob_redirect = args.blob_redirect;
    services.webhooks = std::sync::Arc::new(crate::services::webhooks::Deliverer::new(
        args.webhook_allow_private,
    ));
    services.anonymous = std::sync::Arc::new(crate::services::throttle::AnonymousThrottle::new(
        args.anonymous_rate,
    ));
    match services.recover_uploads().await? {
        0 => {}
        n => tracing::info!(forgotten = n, "forgot upload sessions a crash interrupted"),
    }
    // A certificate that cannot be served stops the start, before anything listens.
    let certificates = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => {
            Some(crate::tls::Certificates::open(cert, key).map_err(anyhow::Error::msg)?)
        }
        _ => None,
    };
    let tls = certificates
        .as_ref()
        .map(|c| c.server_config().map(Arc::new))
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let addr = listener.local_addr()?;
    let url = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("{scheme}://{addr}"));
    if let Some(issuer) = &args.oidc_issuer {
        services.sso = Some(std::sync::Arc::new(crate::services::sso::Sso::new(
            sso_settings(args, issuer, &url)?,
        )));
        tracing::info!(
            issuer,
            redirect_uri = %format!("{}{}", url.trim_end_matches('/'), crate::services::sso::CALLBACK_PATH),
            "single sign-on"
        );
    }
    if let Some(token) = services.begin_setup().await? {
        tracing::info!(
            "No users yet. Create the first admin at {url}/setup?token={token} (the link works once)"
        );
    }
    tracing::info!(data_dir = %data.data_dir.display(), "Berth is listening on {scheme}://{addr}; open {url}");
    let edge = Edge {
        public_url: args.public_url.clone(),
        trusted_proxies: TrustedProxies::new(args.trusted_proxies.clone()),
        metrics_token: args.metrics_token.clone(),
        tls: tls.is_some(),
    };
    let reloader = certificates.as_ref().map(|c| c.watch());
    let app = app(services.clone(), &edge);
    // Bytes of uploads a crash interrupted are removed beside normal service.
    tokio::spawn({
        let services = services.clone();
        async move {
            match services.remove_orphan_blobs(false).await {
                Ok(o) if o.files == 0 => {}
                Ok(o) => tracing::info!(
                    removed = o.files,
                    bytes = o.bytes,
                    "removed blob files of interrupted uploads"
                ),
                Err(e) => tracing::warn!(error = ?e, "could not look for interrupted uploads"),
            }
        }
    });
    // On PostgreSQL, what other replicas change reaches the pages open on this one.
    let relay = tokio::spawn({
        let services = services.clone();
        async move { services.relay_changes().await }
    });
    // Garbage collection runs on its own schedule, beside pushes and pulls.
    let collector = (!args.gc_interval.is_zero()).then(|| {
        let services = services.clone();
        let every = args.gc_interval;
        tokio::spawn(async move {
            let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            loop {
                tick.tick().await;
                if let Err(e) = services.collect_garbage_scheduled().await {
                    tracing::error!(error = ?e, "garbage collection failed");
                }
            }
        })
    });
    // Webhook messages leave the outbox beside service; on several replicas each
    // message is claimed by one.
    let deliverer = tokio::spawn({
        let services = services.clone();
        async move { services.deliver_webhooks().await }
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
    crate::connections::serve(listener, app, limits, tls, shutdown_signal()).await;
    if let Some(r) = reloader {
        r.abort();
    }
    flusher.abort();
    relay.abort();
    deliverer.abort();
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

/// The single sign-on settings of `berth serve`, with the client secret read from its
/// file.
fn sso_settings(
    args: &ServeArgs,
    issuer: &str,
    public_url: &str,
) -> anyhow::Result<crate::services::sso::SsoSettings> {
    let file = args
        .oidc_client_secret_file
        .as_ref()
        .context("--oidc-issuer needs --oidc-client-secret-file")?;
    let secret = std::fs::read_to_string(file)
        .with_context(|| format!("reading the client secret from {}", file.display()))?
        .trim()
        .to_owned();
    anyhow::ensure!(!secret.is_empty(), "{} is empty", file.display());
    Ok(crate::services::sso::SsoSettings {
        issuer: issuer.to_owned(),
        client_id: args
            .oidc_client_id
            .clone()
            .context("--oidc-issuer needs --oidc-client-id")?,
        client_secret: secret,
        name: args.oidc_name.clone(),
        groups_claim: args.oidc_groups_claim.clone(),
        admin_group: args.oidc_admin_group.clone(),
        scopes: args
            .oidc_scopes
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
        public_url: public_url.trim_end_matches('/').to_owned(),
        password_sign_in: args.password_sign_in,
    })
}
