//! Test harness: the real `berth` binary on 127.0.0.1:0 with a temp data folder, and a
//! small HTTP client that speaks the Docker token flow.
#![allow(dead_code, unused_imports)]

use base64::Engine;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub mod balancer;
pub mod docker;
mod portal;
pub mod s3;
pub mod store;
pub mod tls;
pub use portal::*;

pub const BIN: &str = env!("CARGO_BIN_EXE_berth");

/// A running server. Dropping it stops the process (by PID) and removes the data.
pub struct Server {
    child: Option<Child>,
    pub addr: String,
    pub data: PathBuf,
    _tmp: Option<tempfile::TempDir>,
    pub log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    pub fn start() -> Self {
        let tmp = tempfile::tempdir().expect("temp dir");
        let data = tmp.path().to_path_buf();
        let mut s = Self::start_in(&data);
        s._tmp = Some(tmp);
        s
    }

    /// Starts a server with extra `serve` flags.
    pub fn start_with(flags: &[&str]) -> Self {
        let tmp = tempfile::tempdir().expect("temp dir");
        let data = tmp.path().to_path_buf();
        let mut s = Self::start_in_with(&data, flags);
        s._tmp = Some(tmp);
        s
    }

    /// Starts a server on an existing data folder (to test restarts).
    pub fn start_in(data: &Path) -> Self {
        Self::start_in_with(data, &[])
    }

    pub fn start_in_with(data: &Path, flags: &[&str]) -> Self {
        Self::start_in_env(data, flags, &[])
    }

    /// Starts a server on a data folder with extra flags and environment variables
    /// (`BERTH_TEST_CLOCK_OFFSET_SECS` to see days ahead). A `--listen` in `flags`
    /// overrides the free port, a `--database-url` or `--storage` the run's own.
    pub fn start_in_env(data: &Path, flags: &[&str], env: &[(&str, &str)]) -> Self {
        let listen = if flags.contains(&"--listen") {
            vec![]
        } else {
            vec!["--listen", "127.0.0.1:0"]
        };
        let mut child = Command::new(BIN)
            .arg("serve")
            .args(listen)
            .arg("--data-dir")
            .arg(data)
            .args(if flags.contains(&"--database-url") {
                Vec::new()
            } else {
                database_flags(data)
            })
            .args(if flags.contains(&"--storage") {
                Vec::new()
            } else {
                storage_flags(data)
            })
            .args(flags)
            .envs(s3::client_env())
            .envs(env.iter().copied())
            .env(
                "BERTH_LOG",
                std::env::var("BERTH_TEST_LOG").unwrap_or_else(|_| "info".into()),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn berth");
        let stderr = child.stderr.take().expect("stderr");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let log2 = log.clone();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let marker = ["listening on http://", "listening on https://"]
                    .into_iter()
                    .find_map(|m| line.find(m).map(|i| i + m.len()));
                if let Some(i) = marker
                    && let Some(t) = tx.take()
                {
                    let rest = &line[i..];
                    let addr: String = rest
                        .chars()
                        .take_while(|c| *c != ';' && !c.is_whitespace())
                        .collect();
                    let _ = t.send(addr);
                }
                log2.lock().unwrap().push(line);
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| {
                panic!("berth did not start: {:?}", log.lock().unwrap());
            });
        Server {
            child: Some(child),
            addr,
            data: data.to_path_buf(),
            _tmp: None,
            log,
        }
    }

    /// A server at `addr` that the test does not own (a balancer in front of
    /// replicas), whose admin commands run on the data folder `data`: helpers that
    /// take a server reach it; dropping it stops nothing.
    pub fn at(addr: &str, data: &Path) -> Self {
        Server {
            child: None,
            addr: addr.to_owned(),
            data: data.to_path_buf(),
            _tmp: None,
            log: Arc::default(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Kills the process at once (SIGKILL), as a crash would, keeping the data folder.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            unsafe_kill(c.id(), 9);
            let _ = c.wait();
        }
    }

    /// Stops the process and waits for it, keeping the data folder.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            unsafe_kill(c.id(), 15);
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Runs an admin command on this server's data, with optional stdin.
    pub fn admin(&self, args: &[&str], stdin: Option<&str>) -> Output {
        admin_in(&self.data, args, stdin)
    }

    /// Runs an admin command with `--json` and returns the parsed object; panics on failure.
    pub fn admin_json(&self, args: &[&str], stdin: Option<&str>) -> serde_json::Value {
        let mut a = args.to_vec();
        a.push("--json");
        let out = self.admin(&a, stdin);
        assert!(
            out.status.success(),
            "berth {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("one JSON object")
    }

    /// Creates an account and a user in it with the given role.
    pub fn tenant(&self, account: &str, user: &str, password: &str, role: &str) {
        self.admin_json(&["account", "create", account], None);
        self.member(account, user, password, role);
    }

    /// Creates a user in an existing account with the given role.
    pub fn member(&self, account: &str, user: &str, password: &str, role: &str) {
        self.admin_json(
            &["user", "create", user, "--account", account, "--role", role],
            Some(password),
        );
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
        if std::thread::panicking() {
            for line in self.log.lock().unwrap().iter() {
                eprintln!("berth: {line}");
            }
        }
    }
}

fn unsafe_kill(pid: u32, signal: i32) {
    let _ = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status();
}

/// Whether this run stores in PostgreSQL (`.ci/with-postgres` sets
/// `BERTH_TEST_POSTGRES_PORT`) rather than the embedded SQLite.
pub fn on_postgres() -> bool {
    std::env::var_os("BERTH_TEST_POSTGRES_PORT").is_some()
}

/// `--database-url` for a data folder on PostgreSQL: each folder gets a database of
/// its own, named after the folder, created on first use. Nothing on SQLite.
pub fn database_flags(data: &Path) -> Vec<String> {
    database_url(data)
        .map(|u| vec!["--database-url".to_owned(), u])
        .unwrap_or_default()
}

/// The database URL a data folder's servers use on PostgreSQL; `None` on SQLite (the
/// folder's own `berth.db`).
pub fn database_url(data: &Path) -> Option<String> {
    let port = std::env::var("BERTH_TEST_POSTGRES_PORT").ok()?;
    static CREATED: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let name = folder_name(data);
    let mut created = CREATED.lock().unwrap();
    if !created.contains(&name) {
        let bin = std::env::var("BERTH_TEST_POSTGRES_BIN").unwrap_or_default();
        let out = Command::new(Path::new(&bin).join("createdb"))
            .args(["-h", "127.0.0.1", "-p", &port, "-U", "berth", &name])
            .output()
            .expect("createdb (from BERTH_TEST_POSTGRES_BIN)");
        assert!(
            out.status.success() || String::from_utf8_lossy(&out.stderr).contains("already exists"),
            "createdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        created.push(name.clone());
    }
    Some(format!("postgres://berth@127.0.0.1:{port}/{name}"))
}

/// `--storage` for a data folder when this run keeps blobs in S3 (`.ci/with-s3` sets
/// `BERTH_TEST_S3_ENDPOINT`): each folder gets a prefix of its own in the bucket.
pub fn storage_flags(data: &Path) -> Vec<String> {
    if std::env::var_os("BERTH_TEST_S3_ENDPOINT").is_none() {
        return Vec::new();
    }
    vec![
        "--storage".to_owned(),
        format!("s3://{}/{}", s3::BUCKET, folder_name(data)),
    ]
}

/// A short name that stands for a data folder, for its database and its prefix.
fn folder_name(data: &Path) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    data.hash(&mut hasher);
    format!("t{:016x}", hasher.finish())
}

pub fn admin_in(data: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .arg("--data-dir")
        .arg(data)
        .args(database_flags(data))
        .args(storage_flags(data))
        .envs(s3::client_env());
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn berth");
    if let Some(s) = stdin {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    }
    child.wait_with_output().expect("berth output")
}

/// A response with its status, headers and body, whatever the status.
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn headers_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// The first OCI error code of the body.
    pub fn error_code(&self) -> String {
        self.json()["errors"][0]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// An HTTP client bound to one server.
pub struct Client {
    agent: ureq::Agent,
    base: String,
    pub auth: Option<String>,
}

impl Client {
    pub fn new(server: &Server) -> Self {
        Self::new_at(&server.addr)
    }

    fn new_at(addr: &str) -> Self {
        Self {
            agent: ureq::AgentBuilder::new().redirects(0).build(),
            base: format!("http://{addr}"),
            auth: None,
        }
    }

    /// A client of the server at `addr` with a bearer token (for other threads).
    pub fn at(addr: &str, token: &str) -> Self {
        let mut c = Self::new_at(addr);
        c.auth = Some(format!("Bearer {token}"));
        c
    }

    pub fn with_bearer(server: &Server, token: &str) -> Self {
        let mut c = Self::new(server);
        c.auth = Some(format!("Bearer {token}"));
        c
    }

    pub fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Resp {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{}", self.base, path)
        };
        let mut req = self.agent.request(method, &url);
        if let Some(a) = &self.auth {
            req = req.set("Authorization", a);
        }
        for (k, v) in headers {
            req = req.set(k, v);
        }
        let result = match body {
            Some(b) => req.send_bytes(b),
            None => req.call(),
        };
        let resp = match result {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{method} {url}: {e}"),
        };
        let status = resp.status();
        let headers = resp
            .headers_names()
            .into_iter()
            .flat_map(|n| {
                resp.all(&n)
                    .into_iter()
                    .map(|v| (n.clone(), v.to_owned()))
                    .collect::<Vec<_>>()
            })
            .collect();
        let mut body = Vec::new();
        resp.into_reader().read_to_end(&mut body).unwrap();
        Resp {
            status,
            headers,
            body,
        }
    }

    pub fn get(&self, path: &str) -> Resp {
        self.send("GET", path, &[], None)
    }
}

pub fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

/// Asks the token endpoint for a token with the given scopes.
pub fn token_resp(server: &Server, user: &str, password: &str, scopes: &[&str]) -> Resp {
    let mut q = String::from("/auth/token?service=berth");
    for s in scopes {
        q.push_str("&scope=");
        q.push_str(
            &s.replace(':', "%3A")
                .replace('/', "%2F")
                .replace(',', "%2C"),
        );
    }
    let mut c = Client::new(server);
    c.auth = Some(basic(user, password));
    c.get(&q)
}

pub fn token(server: &Server, user: &str, password: &str, scopes: &[&str]) -> String {
    let r = token_resp(server, user, password, scopes);
    assert_eq!(r.status, 200, "token: {}", r.text());
    r.json()["token"].as_str().unwrap().to_owned()
}

/// The granted access list of a token (its JWT payload).
pub fn token_access(token: &str) -> serde_json::Value {
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice::<serde_json::Value>(&bytes).unwrap()["access"].clone()
}

pub fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(bytes)))
}

/// Uploads a blob in one request.
pub fn push_blob(c: &Client, repo: &str, bytes: &[u8]) -> String {
    let d = sha256(bytes);
    let r = c.send(
        "POST",
        &format!("/v2/{repo}/blobs/uploads/?digest={d}"),
        &[],
        Some(bytes),
    );
    assert_eq!(r.status, 201, "push blob: {}", r.text());
    d
}

/// A minimal image: config + layers, all pushed; returns (manifest bytes, digest).
pub fn push_image(c: &Client, repo: &str, tag: &str, layers: &[&[u8]]) -> (Vec<u8>, String) {
    let config = format!(
        r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":[]}},"created":"{tag}"}}"#
    );
    let config_digest = push_blob(c, repo, config.as_bytes());
    let layer_descs: Vec<_> = layers
        .iter()
        .map(|l| {
            serde_json::json!({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                               "digest": push_blob(c, repo, l), "size": l.len()})
        })
        .collect();
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
        "layers": layer_descs,
    });
    let bytes = serde_json::to_vec_pretty(&manifest).unwrap();
    let r = c.send(
        "PUT",
        &format!("/v2/{repo}/manifests/{tag}"),
        &[("Content-Type", "application/vnd.oci.image.manifest.v1+json")],
        Some(&bytes),
    );
    assert_eq!(r.status, 201, "push manifest: {}", r.text());
    let d = sha256(&bytes);
    assert_eq!(r.header("docker-content-digest"), Some(d.as_str()));
    (bytes, d)
}

/// The shared folder beside the repository (conformance suite, benchmarks), if present.
/// The database URL of the first replica's data folder, for the others to share.
pub fn shared_database(first: &Path) -> String {
    database_url(first).unwrap_or_else(|| format!("sqlite://{}", first.join("berth.db").display()))
}

/// Two replicas on one database and one store, both started with `flags`, with
/// `alice` (password `password`) an admin of `acme`: the run's bucket (at the first
/// replica's prefix) when it keeps blobs in S3, else the first replica's folder store,
/// as a shared volume would be. Admin commands on the first one's data folder reach
/// both.
pub fn replicas(one: &Path, two: &Path, flags: &[&str], password: &str) -> (Server, Server) {
    let store = shared_store(one);
    let a = Server::start_in_with(one, &[&["--storage", store.as_str()], flags].concat());
    a.tenant("acme", "alice", password, "admin");
    (a, another_replica(one, two, flags))
}

/// The store replicas of the first one's data folder share (see [`replicas`]).
fn shared_store(one: &Path) -> String {
    storage_flags(one)
        .pop()
        .unwrap_or_else(|| format!("file://{}", one.join("store").display()))
}

/// A replica on `two` beside the first one's (see [`replicas`]): its database and
/// store, with `flags`.
pub fn another_replica(one: &Path, two: &Path, flags: &[&str]) -> Server {
    let (database, store) = (shared_database(one), shared_store(one));
    let shared = [
        "--database-url",
        database.as_str(),
        "--storage",
        store.as_str(),
    ];
    Server::start_in_with(two, &[&shared, flags].concat())
}

/// Runs the official OCI conformance suite (`../shared/oci-conformance`) against the
/// registry at `addr` as `user`; returns (passed, failed, skipped) and its output, or
/// `None` where the suite is not here (CI has it).
pub fn run_conformance(
    addr: &str,
    user: &str,
    password: &str,
) -> Option<((u64, u64, u64), String)> {
    let Some(shared) = shared_dir() else {
        eprintln!("../shared/oci-conformance is not here; the suite runs where it is (CI has it)");
        return None;
    };
    let run = shared.join("oci-conformance/run");
    assert!(run.exists(), "{} is missing", run.display());
    let results = tempfile::tempdir().unwrap();
    let out = Command::new("bash")
        .arg(&run)
        .args([addr, user, password])
        .env("OCI_RESULTS_DIR", results.path())
        .output()
        .expect("run the conformance suite");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    println!("{stdout}");
    let summary = stdout
        .lines()
        .find(|l| l.starts_with("conformance: "))
        .unwrap_or_else(|| {
            panic!(
                "no summary line:\n{stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
        .to_owned();
    // "conformance: N passed, N failed, N skipped"
    let n = |word: &str| -> u64 {
        summary["conformance: ".len()..]
            .split(", ")
            .find_map(|part| part.strip_suffix(word).and_then(|x| x.trim().parse().ok()))
            .unwrap_or(u64::MAX)
    };
    let counts = (n("passed"), n("failed"), n("skipped"));
    assert!(counts.0 > 0 && counts.0 != u64::MAX, "{summary}");
    assert!(
        out.status.success() || counts.1 > 0,
        "{summary}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some((counts, stdout))
}

pub fn shared_dir() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    p.exists().then_some(p)
}

/// Uploads `blob` to `repo` in PATCHes of `lens` bytes, then a PUT with the digest
/// and the rest of the bytes (none when `lens` covers them); returns the digest.
pub fn push_in_chunks(c: &Client, repo: &str, blob: &[u8], lens: &[usize]) -> String {
    let digest = sha256(blob);
    let r = c.send(
        "POST",
        &format!("/v2/{repo}/blobs/uploads/"),
        &[],
        Some(b""),
    );
    assert_eq!(r.status, 202, "{}", r.text());
    let mut location = r.header("location").unwrap().to_owned();
    let mut start = 0;
    for len in lens {
        let range = format!("{}-{}", start, start + len - 1);
        let r = c.send(
            "PATCH",
            &location,
            &[
                ("Content-Range", &range),
                ("Content-Type", "application/octet-stream"),
            ],
            Some(&blob[start..start + len]),
        );
        assert_eq!(r.status, 202, "{}", r.text());
        location = r.header("location").unwrap().to_owned();
        start += len;
    }
    let sep = if location.contains('?') { '&' } else { '?' };
    let r = c.send(
        "PUT",
        &format!("{location}{sep}digest={digest}"),
        &[("Content-Type", "application/octet-stream")],
        Some(&blob[start..]),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    digest
}

/// Of pushes acknowledged with a 201 — (repository, tag, manifest) — what does not
/// pull back byte for byte: the manifest by its tag, and every blob it lists.
pub fn lost_pushes(reader: &Client, acked: &[(String, String, Vec<u8>)]) -> Vec<String> {
    let mut lost = Vec::new();
    for (repo, tag, manifest) in acked {
        let m = reader.get(&format!("/v2/{repo}/manifests/{tag}"));
        if m.status != 200 || &m.body != manifest {
            lost.push(format!("{repo}:{tag} manifest ({})", m.status));
            continue;
        }
        let v: serde_json::Value = serde_json::from_slice(manifest).unwrap();
        for d in v["layers"]
            .as_array()
            .unwrap()
            .iter()
            .chain(std::iter::once(&v["config"]))
        {
            let digest = d["digest"].as_str().unwrap();
            let b = reader.get(&format!("/v2/{repo}/blobs/{digest}"));
            if b.status != 200 || sha256(&b.body) != digest {
                lost.push(format!("{repo}:{tag} blob {digest} ({})", b.status));
            }
        }
    }
    lost
}

/// Like [`push_image`], but `None` when any step is refused (the push was not
/// acknowledged); returns the manifest and its digest when it was.
pub fn try_push_image(
    c: &Client,
    repo: &str,
    tag: &str,
    layers: &[&[u8]],
) -> Option<(Vec<u8>, String)> {
    let blob = |bytes: &[u8]| -> Option<String> {
        let d = sha256(bytes);
        let r = c.send(
            "POST",
            &format!("/v2/{repo}/blobs/uploads/?digest={d}"),
            &[],
            Some(bytes),
        );
        (r.status == 201).then_some(d)
    };
    let config = format!(
        r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":[]}},"created":"{tag}"}}"#
    );
    let config_digest = blob(config.as_bytes())?;
    let mut descs = Vec::new();
    for l in layers {
        descs.push(
            serde_json::json!({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                                      "digest": blob(l)?, "size": l.len()}),
        );
    }
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
        "layers": descs,
    }))
    .unwrap();
    let r = c.send(
        "PUT",
        &format!("/v2/{repo}/manifests/{tag}"),
        &[("Content-Type", "application/vnd.oci.image.manifest.v1+json")],
        Some(&manifest),
    );
    (r.status == 201).then(|| {
        let d = sha256(&manifest);
        (manifest, d)
    })
}
