//! HTTPS on Berth's own port: rustls (no OpenSSL) with the ring provider, TLS 1.2 and
//! 1.3 only, HTTP/2 and HTTP/1.1 offered by ALPN. The certificate chain and key are
//! read from PEM files and read again when either file changes, so a renewed
//! certificate is served within [`RELOAD_EVERY`] without a restart; a new pair that
//! does not load (unreadable, or a key that does not match) keeps the old one serving
//! and is logged.

use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

/// How often the certificate files are looked at.
pub const RELOAD_EVERY: Duration = Duration::from_secs(2);

/// The certificate being served, and where it comes from.
#[derive(Debug)]
pub struct Certificates {
    cert_path: PathBuf,
    key_path: PathBuf,
    current: RwLock<Arc<CertifiedKey>>,
    /// What the files looked like when last read (or last failed to load), so a
    /// broken pair is reported once, not every few seconds.
    seen: RwLock<Option<Stamp>>,
}

/// A file pair's modification times and lengths.
type Stamp = [(Option<SystemTime>, u64); 2];

fn stamp(cert: &Path, key: &Path) -> Stamp {
    let one = |p: &Path| std::fs::metadata(p).map_or((None, 0), |m| (m.modified().ok(), m.len()));
    [one(cert), one(key)]
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Reads and checks a PEM chain and its private key.
pub fn load_pair(cert: &Path, key: &Path) -> Result<CertifiedKey, String> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| format!("reading {}: {e}", cert.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("reading {}: {e}", cert.display()))?;
    if chain.is_empty() {
        return Err(format!("{} holds no certificate", cert.display()));
    }
    let private = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| format!("reading the private key {}: {e}", key.display()))?;
    let signing = provider()
        .key_provider
        .load_private_key(private)
        .map_err(|e| format!("the private key {} is not usable: {e}", key.display()))?;
    let pair = CertifiedKey::new(chain, signing);
    pair.keys_match().map_err(|e| {
        format!(
            "the key {} does not belong to the certificate {}: {e}",
            key.display(),
            cert.display()
        )
    })?;
    Ok(pair)
}

impl Certificates {
    /// Loads the pair, failing when it cannot be served.
    pub fn open(cert: &Path, key: &Path) -> Result<Arc<Self>, String> {
        let seen = stamp(cert, key);
        let pair = load_pair(cert, key)?;
        Ok(Arc::new(Certificates {
            cert_path: cert.to_owned(),
            key_path: key.to_owned(),
            current: RwLock::new(Arc::new(pair)),
            seen: RwLock::new(Some(seen)),
        }))
    }

    /// Reads the files again if they changed since last time; true when a new pair
    /// is now served.
    pub fn reload_if_changed(&self) -> bool {
        let now = stamp(&self.cert_path, &self.key_path);
        if self.seen.read().unwrap_or_else(|e| e.into_inner()).as_ref() == Some(&now) {
            return false;
        }
        *self.seen.write().unwrap_or_else(|e| e.into_inner()) = Some(now);
        match load_pair(&self.cert_path, &self.key_path) {
            Ok(pair) => {
                *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(pair);
                tracing::info!(cert = %self.cert_path.display(), "serving the renewed TLS certificate");
                true
            }
            Err(why) => {
                // Files are often written one after the other: the next change is
                // read again.
                tracing::warn!(%why, "the new TLS certificate was not loaded; still serving the previous one");
                false
            }
        }
    }

    /// A server configuration that always serves the current pair.
    pub fn server_config(self: &Arc<Self>) -> Result<rustls::ServerConfig, String> {
        let mut config = rustls::ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| e.to_string())?
            .with_no_client_auth()
            .with_cert_resolver(self.clone());
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(config)
    }

    /// Looks at the files every [`RELOAD_EVERY`], for as long as the server runs.
    pub fn watch(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let certs = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(RELOAD_EVERY);
            loop {
                tick.tick().await;
                let certs = certs.clone();
                let _ = tokio::task::spawn_blocking(move || certs.reload_if_changed()).await;
            }
        })
    }
}

impl ResolvesServerCert for Certificates {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(
            self.current
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        )
    }
}
