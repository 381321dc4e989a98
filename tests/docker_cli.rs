//! The real docker CLI and engine against Berth, as two tenants, plus skopeo copying a
//! multi-arch index through Berth byte for byte.

mod common;
use common::docker::{Dockerd, make_image, text};
use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

const PW: &str = "docker password 1";

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

    // Made public, the image pulls with no login at all, and with another tenant's;
    // pushing still needs acme's. Private again, it is refused again.
    s.admin_json(&["repo", "set-visibility", "acme/app", "public"], None);
    d.ok(&["pull", &image]);
    d.ok(&["rmi", &image]);
    let err = d.fails(&["push", &evil]);
    assert!(
        err.contains("denied")
            || err.contains("unauthorized")
            || err.contains("authentication required"),
        "{err}"
    );
    assert!(text(&d.login(&host, "bob", PW).stdout).contains("Login Succeeded"));
    d.ok(&["pull", &image]);
    d.ok(&["rmi", &image]);
    d.ok(&["logout", &host]);
    s.admin_json(&["repo", "set-visibility", "acme/app", "private"], None);
    let err = d.fails(&["pull", &image]);
    assert!(
        err.contains("denied")
            || err.contains("unauthorized")
            || err.contains("authentication required"),
        "{err}"
    );

    // An immutable tag: docker prints why another image may not take it.
    s.admin_json(&["immutability", "add", "acme", "1.*"], None);
    assert!(text(&d.login(&host, "alice", PW).stdout).contains("Login Succeeded"));
    let other = format!("{host}/acme/app:other");
    make_image(&d, &other);
    d.ok(&["tag", &other, &image]);
    let err = d.fails(&["push", &image]);
    assert!(
        err.contains("the tag 1.0 of acme/app is immutable"),
        "{err}"
    );
    d.ok(&["push", &other]);
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
