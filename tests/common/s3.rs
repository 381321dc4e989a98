//! An S3-compatible server for the tests: moto's, from PyPI (`.ci/install-s3`), on
//! 127.0.0.1 with a free port, stopped by its PID when dropped.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The bucket every test server gets (`.ci/with-s3` makes the same one).
pub const BUCKET: &str = "berth-test";

/// The `AWS_*` environment pointing Berth at the run's S3 server, if this run keeps
/// blobs in one (`BERTH_TEST_S3_ENDPOINT`); empty otherwise.
pub fn client_env() -> Vec<(String, String)> {
    match std::env::var("BERTH_TEST_S3_ENDPOINT") {
        Ok(endpoint) => env_for(&endpoint),
        Err(_) => Vec::new(),
    }
}

/// The `AWS_*` environment for an S3 server at `endpoint` (moto takes any keys).
pub fn env_for(endpoint: &str) -> Vec<(String, String)> {
    [
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_ALLOW_HTTP", "true"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "berth-test"),
        ("AWS_SECRET_ACCESS_KEY", "berth-test-secret"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// A private moto S3 server with the bucket [`BUCKET`] made.
pub struct S3Server {
    child: Child,
    pub endpoint: String,
}

impl S3Server {
    pub fn start() -> Self {
        let tools = std::env::var("BERTH_TOOLS")
            .unwrap_or_else(|_| format!("{}/.cache/berth-tools", std::env::var("HOME").unwrap()));
        let mut child = Command::new(format!("{tools}/moto/bin/moto_server"))
            .args(["-H", "127.0.0.1", "-p", "0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("moto_server (installed by .ci/install-s3)");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(i) = line.find("http://127.0.0.1:")
                    && let Some(t) = tx.take()
                {
                    let url: String = line[i..]
                        .chars()
                        .take_while(|c| !c.is_whitespace())
                        .collect();
                    let _ = t.send(url);
                }
            }
        });
        let endpoint = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("moto_server did not start");
        let made = ureq::put(&format!("{endpoint}/{BUCKET}")).call();
        assert!(made.is_ok(), "creating the bucket: {made:?}");
        S3Server { child, endpoint }
    }

    /// The environment Berth needs to use this server.
    pub fn env(&self) -> Vec<(String, String)> {
        env_for(&self.endpoint)
    }

    /// Every object's key under `prefix`, with its size, as the server lists them.
    pub fn list(&self, prefix: &str) -> Vec<(String, u64)> {
        let body = ureq::get(&format!(
            "{}/{BUCKET}?list-type=2&prefix={prefix}",
            self.endpoint
        ))
        .call()
        .expect("listing the bucket")
        .into_string()
        .unwrap();
        // The listing is small, flat XML: each <Contents> has a <Key> and a <Size>.
        body.split("<Contents>")
            .skip(1)
            .map(|c| {
                let field = |name: &str| {
                    let start = c.find(&format!("<{name}>")).unwrap() + name.len() + 2;
                    let end = c.find(&format!("</{name}>")).unwrap();
                    c[start..end].to_owned()
                };
                (field("Key"), field("Size").parse().unwrap())
            })
            .collect()
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
