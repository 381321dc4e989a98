//! The real docker CLI and engine against Berth, as two tenants, plus skopeo copying a
//! multi-arch index through Berth byte for byte.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const PW: &str = "docker password 1";

/// A dockerd of our own on a unix socket in a temp folder, stopped by PID on drop.
struct Dockerd {
    child: Child,
    dir: tempfile::TempDir,
}

impl Dockerd {
    fn start() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("bd")
            .tempdir_in("/tmp")
            .unwrap();
        let p = dir.path();
        let log = std::fs::File::create(p.join("dockerd.log")).unwrap();
        let child = Command::new("dockerd")
            .args([
                "--iptables=false",
                "--ip6tables=false",
                "--bridge=none",
                "--storage-driver=vfs",
            ])
            .arg("--data-root")
            .arg(p.join("root"))
            .arg("--exec-root")
            .arg(p.join("exec"))
            .arg("--pidfile")
            .arg(p.join("docker.pid"))
            .arg("-H")
            .arg(format!("unix://{}", p.join("docker.sock").display()))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("dockerd (make test installs docker.io)");
        let d = Dockerd { child, dir };
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            if d.docker(&["version"]).status.success() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "dockerd did not start: {}",
                d.log()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
        d
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dockerd.log")).unwrap_or_default()
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new("docker");
        c.args(args)
            .env(
                "DOCKER_HOST",
                format!("unix://{}", self.dir.path().join("docker.sock").display()),
            )
            .env("DOCKER_CONFIG", self.dir.path().join("config"));
        c
    }

    fn docker(&self, args: &[&str]) -> Output {
        self.cmd(args)
            .stdin(Stdio::null())
            .output()
            .expect("docker CLI")
    }

    fn docker_stdin(&self, args: &[&str], input: &str) -> Output {
        use std::io::Write;
        let mut child = self
            .cmd(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    /// Runs docker and insists it succeeds; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.docker(args);
        assert!(
            out.status.success(),
            "docker {args:?}: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        text(&out.stdout)
    }

    /// Runs docker and insists it fails; returns stdout + stderr.
    fn fails(&self, args: &[&str]) -> String {
        let out = self.docker(args);
        assert!(
            !out.status.success(),
            "docker {args:?} should have failed: {}",
            text(&out.stdout)
        );
        format!("{}{}", text(&out.stdout), text(&out.stderr))
    }

    fn login(&self, host: &str, user: &str, secret: &str) -> Output {
        self.docker_stdin(&["login", host, "-u", user, "--password-stdin"], secret)
    }
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Imports a tiny root filesystem as an image, then adds a second layer with
/// `docker create` + `docker cp` + `docker commit` (no container ever runs).
fn make_image(d: &Dockerd, name: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("rootfs");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::write(root.join("etc/os-release"), "NAME=berth-test\n").unwrap();
    std::fs::write(root.join("hello.txt"), format!("hello from {name}\n")).unwrap();
    let tar = Command::new("tar")
        .arg("-C")
        .arg(&root)
        .args(["-cf", "-", "."])
        .output()
        .unwrap();
    assert!(tar.status.success());
    let base = "berth-test-base:1".to_owned();
    let mut imp = d
        .cmd(&["import", "--change", "CMD [\"/hello\"]", "-", &base])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        imp.stdin.take().unwrap().write_all(&tar.stdout).unwrap();
    }
    let out = imp.wait_with_output().unwrap();
    assert!(out.status.success(), "docker import: {}", text(&out.stderr));
    let cid = d.ok(&["create", &base]).trim().to_owned();
    let extra = tmp.path().join("second.txt");
    std::fs::write(&extra, "second layer\n").unwrap();
    d.ok(&["cp", extra.to_str().unwrap(), &format!("{cid}:/second.txt")]);
    d.ok(&["commit", &cid, name]);
    d.ok(&["rm", &cid]);
    let layers = d.ok(&["image", "inspect", "-f", "{{len .RootFS.Layers}}", name]);
    assert_eq!(layers.trim(), "2", "a multi-layer image");
}

#[test]
fn docker_login_push_pull_as_two_tenants() {
    let s = Server::start();
    s.tenant("acme", "alice", PW, "admin");
    s.tenant("globex", "bob", PW, "admin");
    let host = s.addr.clone();
    let d = Dockerd::start();

    let image = format!("{host}/acme/app:1.0");
    make_image(&d, &image);

    // Password login, push, pull back after removing the local copy.
    let out = d.login(&host, "alice", PW);
    assert!(
        text(&out.stdout).contains("Login Succeeded"),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let pushed = d.ok(&["push", &image]);
    assert!(pushed.contains("digest: sha256:"), "{pushed}");
    let digest = pushed
        .split("digest: ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    d.ok(&["rmi", &image]);
    d.ok(&["pull", &image]);
    let repo_digests = d.ok(&[
        "image",
        "inspect",
        "-f",
        "{{join .RepoDigests \",\"}}",
        &image,
    ]);
    assert!(
        repo_digests.contains(&format!("{host}/acme/app@{digest}")),
        "{repo_digests}"
    );
    let c = Client::with_bearer(&s, &token(&s, "alice", PW, &["repository:acme/app:pull"]));
    assert_eq!(
        c.get("/v2/acme/app/tags/list").json()["tags"],
        serde_json::json!(["1.0"])
    );

    // The other tenant can neither push into nor pull from acme.
    d.ok(&["logout", &host]);
    assert!(text(&d.login(&host, "bob", PW).stdout).contains("Login Succeeded"));
    let evil = format!("{host}/acme/app:evil");
    d.ok(&["tag", &image, &evil]);
    let err = d.fails(&["push", &evil]);
    assert!(
        err.contains("requested access to the resource is denied"),
        "{err}"
    );
    d.ok(&["rmi", &image]);
    let err = d.fails(&["pull", &image]);
    assert!(err.contains("denied"), "{err}");
    let own = format!("{host}/globex/tool:2");
    d.ok(&["tag", &evil, &own]);
    d.ok(&["push", &own]);
    let found = d.ok(&["search", &format!("{host}/tool")]);
    assert!(found.contains("globex/tool"), "{found}");
    let found = d.ok(&["search", &format!("{host}/app")]);
    assert!(
        !found.contains("acme/app"),
        "search must not show another tenant's repository: {found}"
    );

    // A personal access token logs in and pushes; revoked, it fails at once.
    d.ok(&["logout", &host]);
    let tok = s.admin_json(
        &[
            "token", "create", "--user", "alice", "--access", "push", "--name", "laptop",
        ],
        None,
    );
    let out = d.login(&host, "alice", tok["secret"].as_str().unwrap());
    assert!(
        text(&out.stdout).contains("Login Succeeded"),
        "{}",
        text(&out.stderr)
    );
    let v2 = format!("{host}/acme/app:2.0");
    d.ok(&["tag", &evil, &v2]);
    d.ok(&["push", &v2]);
    s.admin_json(&["token", "revoke", &tok["id"].to_string()], None);
    d.ok(&["rmi", &v2]);
    let err = d.fails(&["pull", &v2]);
    assert!(
        err.contains("unauthorized")
            || err.contains("denied")
            || err.contains("authentication required"),
        "{err}"
    );

    // A node pulls but cannot push.
    d.ok(&["logout", &host]);
    let node = s.admin_json(&["node", "create", "edge-1", "--account", "acme"], None);
    let out = d.login(&host, "acme+edge-1", node["secret"].as_str().unwrap());
    assert!(
        text(&out.stdout).contains("Login Succeeded"),
        "{}",
        text(&out.stderr)
    );
    d.ok(&["pull", &v2]);
    let err = d.fails(&["push", &evil]);
    assert!(
        err.contains("requested access to the resource is denied"),
        "{err}"
    );
    let out = d.ok(&["logout", &host]);
    assert!(out.contains("Removing login credentials"), "{out}");
    let err = d.fails(&["pull", &image]);
    assert!(
        err.contains("denied")
            || err.contains("unauthorized")
            || err.contains("authentication required"),
        "{err}"
    );
}

/// Writes an OCI layout with a two-platform index; returns the index digest.
fn write_oci_layout(dir: &Path) -> String {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let put = |bytes: &[u8]| -> (String, usize) {
        let d = sha256(bytes);
        std::fs::write(blobs.join(&d[7..]), bytes).unwrap();
        (d, bytes.len())
    };
    let mut manifests = vec![];
    for arch in ["amd64", "arm64"] {
        let layer: Vec<u8> = format!("layer for {arch}").repeat(1000).into_bytes();
        let (ld, ls) = put(&layer);
        let config = format!(
            r#"{{"architecture":"{arch}","os":"linux","rootfs":{{"type":"layers","diff_ids":["{ld}"]}}}}"#
        );
        let (cd, cs) = put(config.as_bytes());
        let m = serde_json::json!({
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": ld, "size": ls}]
        });
        let (md, ms) = put(serde_json::to_string_pretty(&m).unwrap().as_bytes());
        manifests.push(
            serde_json::json!({"mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": md, "size": ms, "platform": {"architecture": arch, "os": "linux"}}),
        );
    }
    let index = serde_json::json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests});
    let (idx, is) = put(serde_json::to_string_pretty(&index).unwrap().as_bytes());
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let top = serde_json::json!({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.index.v1+json",
        "digest": idx, "size": is, "annotations": {"org.opencontainers.image.ref.name": "multi"}}]});
    std::fs::write(dir.join("index.json"), top.to_string()).unwrap();
    idx
}

fn blob_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(dir.join("blobs/sha256"))
        .unwrap()
        .map(|e| {
            let p: PathBuf = e.unwrap().path();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn skopeo_copies_a_multi_arch_index_byte_for_byte() {
    let s = Server::start();
    s.tenant("acme", "alice", PW, "write");
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    let dst = tmp.path().join("dst");
    let index = write_oci_layout(&src);
    let creds = format!("alice:{PW}");
    let dest = format!("docker://{}/acme/multi:1", s.addr);
    let run = |args: &[&str]| {
        let out = Command::new("skopeo")
            .args(args)
            .output()
            .expect("skopeo (make test installs it)");
        assert!(
            out.status.success(),
            "skopeo {args:?}: {}",
            text(&out.stderr)
        );
    };
    run(&[
        "copy",
        "--all",
        "--preserve-digests",
        "--dest-tls-verify=false",
        "--dest-creds",
        &creds,
        &format!("oci:{}:multi", src.display()),
        &dest,
    ]);
    let c = Client::with_bearer(&s, &token(&s, "alice", PW, &["repository:acme/multi:pull"]));
    let r = c.get("/v2/acme/multi/manifests/1");
    assert_eq!(r.header("docker-content-digest"), Some(index.as_str()));
    run(&[
        "copy",
        "--all",
        "--preserve-digests",
        "--src-tls-verify=false",
        "--src-creds",
        &creds,
        &dest,
        &format!("oci:{}:multi", dst.display()),
    ]);
    assert_eq!(
        blob_files(&src),
        blob_files(&dst),
        "every blob and manifest round-trips byte for byte"
    );
}

/// `docker login` over HTTPS (the port speaks only TLS), and the logins' lifetimes
/// seen with a test clock: docker keeps only Berth's refresh token, which lives as long
/// as the password or node secret it came from, not a day.
#[test]
fn docker_over_https_keeps_its_login_as_long_as_the_password_or_node_secret() {
    let ca = common::tls::TestCa::new();
    let (cert, key) = ca.issue("server", "127.0.0.1");
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let tls = [
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ];
    let s = Server::start_in_env(&data, &tls, &[]);
    s.tenant("acme", "alice", PW, "admin");
    let node = s.admin_json(&["node", "create", "edge-1", "--account", "acme"], None);
    let host = s.addr.clone();
    let d = Dockerd::start();
    let image = format!("{host}/acme/app:1.0");
    make_image(&d, &image);
    let out = d.login(&host, "alice", PW);
    assert!(
        text(&out.stdout).contains("Login Succeeded"),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let config = std::fs::read_to_string(d.dir.path().join("config/config.json")).unwrap();
    assert!(
        config.contains("identitytoken"),
        "docker kept the refresh token: {config}"
    );
    use base64::Engine;
    let stored_password = base64::engine::general_purpose::STANDARD.encode(format!("alice:{PW}"));
    assert!(
        !config.contains(&stored_password),
        "and not the password: {config}"
    );
    d.ok(&["push", &image]);
    d.ok(&["rmi", &image]);
    d.ok(&["pull", &image]);

    // Two days later, on the same port: the password's login still pulls.
    let listen = ["--listen", host.as_str()];
    let later = |days: u64, s: Server| {
        drop(s);
        let flags: Vec<&str> = tls.iter().chain(listen.iter()).copied().collect();
        Server::start_in_env(
            &data,
            &flags,
            &[("BERTH_TEST_CLOCK_OFFSET_SECS", &(days * 86_400).to_string())],
        )
    };
    let s = later(2, s);
    d.ok(&["rmi", &image]);
    d.ok(&["pull", &image]);
    // Until the password changes.
    let out = s.admin(&["user", "set-password", "alice"], Some("a new password 2"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = d.fails(&["pull", &image]);
    assert!(err.contains("unauthorized"), "{err}");

    // A node's login lives as long as the node.
    d.ok(&["logout", &host]);
    let out = d.login(&host, "acme+edge-1", node["secret"].as_str().unwrap());
    assert!(
        text(&out.stdout).contains("Login Succeeded"),
        "{}",
        text(&out.stderr)
    );
    let s = later(4, s);
    d.ok(&["pull", &image]);
    d.ok(&["rmi", &image]);
    s.admin_json(&["token", "revoke", &node["id"].to_string()], None);
    let err = d.fails(&["pull", &image]);
    assert!(err.contains("unauthorized"), "{err}");
}
