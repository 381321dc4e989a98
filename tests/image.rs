//! The container image: built with `.ci/image` by a dockerd of our own from the static
//! (musl) binary, run with host networking, and pushed to and pulled from by the real
//! docker CLI.

mod common;
use common::docker::{Dockerd, make_image, text};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

const PW: &str = "image password 1";

/// The static binary `make test` builds before the tests (`.ci/build-static`).
fn static_binary() -> PathBuf {
    let target = std::env::var("CARGO_TARGET_DIR").map_or_else(
        |_| PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/berth-target"),
        PathBuf::from,
    );
    let bin = target.join("x86_64-unknown-linux-musl/release/berth");
    assert!(
        bin.exists(),
        "{} is missing: make test builds it first (bash .ci/build-static)",
        bin.display()
    );
    bin
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn the_image_runs_as_non_root_from_scratch_and_serves_docker() {
    let bin = static_binary();
    let linked = Command::new("file").arg(&bin).output();
    if let Ok(out) = linked {
        let what = text(&out.stdout);
        assert!(
            what.contains("statically linked") || what.contains("static-pie"),
            "{what}"
        );
    }
    let d = Dockerd::start();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("bash")
        .arg(root.join(".ci/image"))
        .arg(&bin)
        .env("DOCKER_HOST", d.host())
        .env("BERTH_IMAGE", "berth-test:1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let config = d.ok(&[
        "image",
        "inspect",
        "-f",
        "{{.Config.User}} {{json .Config.Volumes}} {{json .Config.Env}} {{json .Config.Entrypoint}}",
        "berth-test:1",
    ]);
    assert!(config.starts_with("65532:65532 "), "{config}");
    assert!(config.contains("\"/data\""), "{config}");
    assert!(config.contains("BERTH_LISTEN=0.0.0.0:5000"), "{config}");
    assert!(config.contains("[\"/berth\"]"), "{config}");
    // Nothing but the binary, the CA roots and the data folder.
    let version = d.ok(&["run", "--rm", "berth-test:1", "--version"]);
    assert!(version.starts_with("berth 0."), "{version}");
    assert!(
        version.contains('(') && !version.contains("(unknown)"),
        "{version}"
    );

    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let cid = d
        .ok(&[
            "run",
            "-d",
            "--network",
            "host",
            "berth-test:1",
            "serve",
            "--listen",
            &addr,
        ])
        .trim()
        .to_owned();
    let stop = scopeguard(&d, &cid);
    let deadline = Instant::now() + Duration::from_secs(30);
    let health = loop {
        let ok = Command::new("curl")
            .args(["-s", "-o", "/dev/null", "-w", "%{http_code}"])
            .arg(format!("http://{addr}/healthz"))
            .output()
            .map(|o| text(&o.stdout))
            .unwrap_or_default();
        if ok == "200" || Instant::now() > deadline {
            break ok;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(health, "200", "{}", d.ok(&["logs", &cid]));
    // The operator's commands run inside, as the same user, on /data.
    d.ok(&["exec", &cid, "/berth", "account", "create", "acme"]);
    let out = d.docker_stdin(
        &[
            "exec",
            "-i",
            &cid,
            "/berth",
            "user",
            "create",
            "alice",
            "--account",
            "acme",
        ],
        PW,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let owner = d.ok(&["exec", &cid, "/berth", "account", "list", "--json"]);
    assert!(owner.contains("\"acme\""), "{owner}");

    let image = format!("{addr}/acme/app:1");
    make_image(&d, &image);
    let out = d.login(&addr, "alice", PW);
    assert!(
        text(&out.stdout).contains("Login Succeeded"),
        "{}",
        text(&out.stderr)
    );
    let pushed = d.ok(&["push", &image]);
    assert!(pushed.contains("digest: sha256:"), "{pushed}");
    d.ok(&["rmi", &image]);
    d.ok(&["pull", &image]);
    drop(stop);
}

/// Removes the container when the test ends, pass or fail.
fn scopeguard<'a>(d: &'a Dockerd, cid: &str) -> impl Drop + 'a {
    struct Remove<'a>(&'a Dockerd, String);
    impl Drop for Remove<'_> {
        fn drop(&mut self) {
            let _ = self.0.docker(&["rm", "-f", &self.1]);
        }
    }
    Remove(d, cid.to_owned())
}
