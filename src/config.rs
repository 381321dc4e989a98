//! Settings from flags and `BERTH_*` environment variables.

use clap::{Args, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;

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
}
