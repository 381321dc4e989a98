//! Settings from flags and `BERTH_*` environment variables.

use clap::{Args, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Parses sizes like `50GiB`, `500MiB`, `10GB`, `4096`; `none` means no limit.
pub fn parse_size(s: &str) -> Result<Option<u64>, String> {
    crate::domain::size::parse_size(s).map_err(|e| e.0)
}

/// Parses periods like `7d`, `12h`, `90m`, `45s`, `2w`, or `0`.
pub fn parse_period(s: &str) -> Result<Duration, String> {
    crate::domain::retention::parse_period(s).map_err(|e| e.0)
}

/// Where the data lives; every command takes these.
#[derive(Debug, Clone, Args)]
pub struct DataArgs {
    /// Folder for the SQLite database, the blob store and the token signing key.
    #[arg(
        long,
        env = "BERTH_DATA_DIR",
        default_value = "./berth-data",
        global = true
    )]
    pub data_dir: PathBuf,
    /// Database URL (`sqlite://…` or `postgres://…`); defaults to `<data-dir>/berth.db`.
    #[arg(long, env = "BERTH_DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// Where blobs live: `s3://BUCKET[/PREFIX]` (configured by the standard `AWS_*`
    /// environment) or `file://PATH`; defaults to `<data-dir>/store`.
    #[arg(long, env = "BERTH_STORAGE", global = true)]
    pub storage: Option<crate::storage::Location>,
}

impl DataArgs {
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(u) => u.clone(),
            None => format!("sqlite://{}", self.data_dir.join("berth.db").display()),
        }
    }

    pub fn blob_dir(&self) -> PathBuf {
        self.data_dir.join("store")
    }

    /// The blob store: `--storage`, or the folder store in the data folder.
    pub fn storage(&self) -> crate::storage::Location {
        self.storage
            .clone()
            .unwrap_or_else(|| crate::storage::Location::Folder(self.blob_dir()))
    }

    pub fn key_file(&self) -> PathBuf {
        self.data_dir.join("token.key")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// `berth serve` settings.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port (tests read it from the log).
    #[arg(long, env = "BERTH_LISTEN", default_value = "127.0.0.1:5000")]
    pub listen: SocketAddr,
    /// The URL people and clients reach Berth at, e.g. `https://registry.example.com`.
    /// Without it, each request's `Host` header is used.
    #[arg(long, env = "BERTH_PUBLIC_URL")]
    pub public_url: Option<String>,
    #[arg(long, env = "BERTH_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// How long deleted tags and repositories stay restorable in the trash; 0: no trash.
    #[arg(long, env = "BERTH_TRASH_RETENTION", default_value = "7d", value_parser = parse_period)]
    pub trash_retention: Duration,
    /// How often garbage collection runs inside the server; 0: never on its own.
    #[arg(long, env = "BERTH_GC_INTERVAL", default_value = "1h", value_parser = parse_period)]
    pub gc_interval: Duration,
    /// Blobs and manifests younger than this are never collected.
    #[arg(long, env = "BERTH_GC_GRACE", default_value = "1h", value_parser = parse_period)]
    pub grace: Duration,
    /// Upload sessions older than this are abandoned and removed.
    #[arg(long, env = "BERTH_UPLOAD_EXPIRY", default_value = "24h", value_parser = parse_period)]
    pub upload_expiry: Duration,
    /// A client must send a request's headers within this time; an idle connection is
    /// closed after it too; 0: no limit.
    #[arg(long, env = "BERTH_HEADER_TIMEOUT", default_value = "30s", value_parser = parse_period)]
    pub header_timeout: Duration,
    /// A request body that sends nothing for this long ends the request (an upload
    /// keeps what arrived and can resume), and a response the client stops reading for
    /// this long ends the connection; 0: no limit.
    #[arg(long, env = "BERTH_BODY_TIMEOUT", default_value = "60s", value_parser = parse_period)]
    pub body_timeout: Duration,
    /// A network (CIDR, or one address) of proxies in front of Berth; only their
    /// `Forwarded` / `X-Forwarded-*` headers are believed. Repeat for several.
    #[arg(
        long = "trusted-proxy",
        env = "BERTH_TRUSTED_PROXIES",
        value_delimiter = ',',
        value_parser = crate::forwarded::parse_network
    )]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// The bearer token `/metrics` requires; without it, only requests made directly
    /// from loopback get metrics.
    #[arg(long, env = "BERTH_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// The PEM certificate chain to serve HTTPS with (reloaded when the file changes).
    #[arg(long, env = "BERTH_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of `--tls-cert`.
    #[arg(long, env = "BERTH_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// How many uploads an account may have open at once.
    #[arg(long, env = "BERTH_MAX_OPEN_UPLOADS", default_value_t = crate::services::DEFAULT_MAX_OPEN_UPLOADS)]
    pub max_open_uploads: u32,
    /// Answer blob GETs with a `307` to a presigned URL of the object store (valid 5
    /// minutes), for deployments whose clients can reach the store.
    #[arg(long, env = "BERTH_BLOB_REDIRECT")]
    pub blob_redirect: bool,
    /// Let webhooks reach loopback and private-network addresses (checked on the
    /// address connected to); off, they are refused.
    #[arg(long, env = "BERTH_WEBHOOK_ALLOW_PRIVATE")]
    pub webhook_allow_private: bool,
    /// The OpenID Provider people sign in with (its issuer URL); register
    /// `<public-url>/auth/oidc/callback` there as the redirect URI.
    #[arg(long, env = "BERTH_OIDC_ISSUER", requires_all = ["oidc_client_id", "oidc_client_secret_file"])]
    pub oidc_issuer: Option<String>,
    /// Berth's client id at the provider.
    #[arg(long, env = "BERTH_OIDC_CLIENT_ID")]
    pub oidc_client_id: Option<String>,
    /// A file holding the client's secret (never on the command line).
    #[arg(long, env = "BERTH_OIDC_CLIENT_SECRET_FILE")]
    pub oidc_client_secret_file: Option<PathBuf>,
    /// What the sign-in button says: "Sign in with NAME".
    #[arg(long, env = "BERTH_OIDC_NAME", default_value = "SSO")]
    pub oidc_name: String,
    /// The claim listing a person's groups (from the ID token or userinfo).
    #[arg(long, env = "BERTH_OIDC_GROUPS_CLAIM", default_value = "groups")]
    pub oidc_groups_claim: String,
    /// Members of this group are site admins.
    #[arg(long, env = "BERTH_OIDC_ADMIN_GROUP")]
    pub oidc_admin_group: Option<String>,
    /// The scopes asked for, space-separated.
    #[arg(
        long,
        env = "BERTH_OIDC_SCOPES",
        default_value = "openid profile email groups"
    )]
    pub oidc_scopes: String,
    /// With single sign-on: whether site admins may still sign in with a password (a
    /// way in while the provider is down).
    #[arg(long, env = "BERTH_PASSWORD_SIGN_IN", default_value = "on", value_parser = parse_on_off)]
    pub password_sign_in: bool,
    /// Anonymous requests (pulls of public repositories) a client network may make per
    /// minute, in each process; 0 refuses anonymous pulls.
    #[arg(long, env = "BERTH_ANONYMOUS_RATE", default_value_t = crate::services::throttle::DEFAULT_ANONYMOUS_RATE)]
    pub anonymous_rate: u32,
}

/// `on` or `off`.
pub fn parse_on_off(s: &str) -> Result<bool, String> {
    match s {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(format!("{s:?}: use on or off")),
    }
}
