//! HTTPS on Berth's own port, with a test CA: the chain verified by curl and skopeo,
//! HTTP/2 and HTTP/1.1 by ALPN, no plain-HTTP fallback, secure cookies and HSTS, and a
//! certificate renewed on disk served without a restart (a broken one is not).

mod common;
use common::tls::{TestCa, curl_tls};
use common::*;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const PW: &str = "correct horse battery";

/// The subject of the certificate the server presents.
fn served_subject(addr: &str) -> String {
    let s_client = Command::new("openssl")
        .args(["s_client", "-connect", addr, "-servername", "localhost"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("openssl s_client");
    let mut x509 = Command::new("openssl")
        .args(["x509", "-noout", "-subject"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    x509.stdin
        .take()
        .unwrap()
        .write_all(&s_client.stdout)
        .unwrap();
    String::from_utf8_lossy(&x509.wait_with_output().unwrap().stdout).into_owned()
}

/// A one-layer OCI image layout for skopeo to copy.
fn oci_layout(dir: &Path) {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let put = |bytes: &[u8]| -> String {
        let d = sha256(bytes);
        std::fs::write(blobs.join(d.trim_start_matches("sha256:")), bytes).unwrap();
        d
    };
    let layer = b"a layer served over https".to_vec();
    let config =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": put(config), "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": put(&layer), "size": layer.len()}],
    }))
    .unwrap();
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": put(&manifest), "size": manifest.len()}],
    });
    std::fs::write(dir.join("index.json"), index.to_string()).unwrap();
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
}

#[test]
fn https_with_a_test_ca_serves_http2_and_http1_and_renews_without_a_restart() {
    let ca = TestCa::new();
    let (cert, key) = ca.issue("server", "berth-first");
    let tmp = tempfile::tempdir().unwrap();
    let (live_cert, live_key) = (tmp.path().join("tls.crt"), tmp.path().join("tls.key"));
    std::fs::copy(&cert, &live_cert).unwrap();
    std::fs::copy(&key, &live_key).unwrap();
    let data = tmp.path().join("data");
    let s = Server::start_in_env(
        &data,
        &[
            "--tls-cert",
            live_cert.to_str().unwrap(),
            "--tls-key",
            live_key.to_str().unwrap(),
        ],
        &[],
    );
    s.tenant("acme", "alice", PW, "admin");
    let base = format!("https://{}", s.addr);
    assert!(
        s.log
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains(&format!("listening on {base}"))),
        "the printed URL is https"
    );

    // The chain verifies against the test CA; HTTP/2 by ALPN, HTTP/1.1 when asked.
    let (status, version, text) = curl_tls(&ca.cert(), &format!("{base}/v2/"), &[]);
    assert_eq!((status, version.as_str()), (401, "2"), "{text}");
    assert!(
        text.contains(&format!("realm=\"{base}/auth/token\"")),
        "the challenge points at https: {text}"
    );
    assert!(
        text.to_ascii_lowercase()
            .contains("strict-transport-security: max-age=31536000"),
        "{text}"
    );
    let (status, version, _) = curl_tls(&ca.cert(), &format!("{base}/healthz"), &["--http1.1"]);
    assert_eq!((status, version.as_str()), (200, "1.1"));
    let (status, _, text) = curl_tls(
        &ca.cert(),
        &format!("{base}/auth/token?service=berth&scope=repository:acme/app:pull"),
        &["-u", &format!("alice:{PW}")],
    );
    assert_eq!(status, 200, "{text}");
    // The port speaks only TLS: plain HTTP gets no answer, never a fallback.
    let plain = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--max-time",
            "5",
        ])
        .arg(format!("http://{}/v2/", s.addr))
        .output()
        .unwrap();
    assert_ne!(
        String::from_utf8_lossy(&plain.stdout),
        "401",
        "no plain HTTP"
    );
    // Portal cookies are Secure over TLS.
    let (status, _, text) = curl_tls(
        &ca.cert(),
        &format!("{base}/api/sign_in"),
        &[
            "-H",
            "Accept: text/html",
            "-H",
            &format!("Origin: {base}"),
            "--data",
            &format!("username=alice&password={}", PW.replace(' ', "+")),
        ],
    );
    assert!(matches!(status, 302 | 303), "{text}");
    let cookie = text
        .lines()
        .find(|l| {
            l.to_ascii_lowercase()
                .starts_with("set-cookie: berth_session=")
        })
        .unwrap_or_else(|| panic!("{text}"));
    assert!(cookie.contains("Secure"), "{cookie}");

    // skopeo copies an image in and reads it back, verifying the chain with --cert-dir.
    let layout = tmp.path().join("layout");
    oci_layout(&layout);
    let certs = ca.cert_dir();
    let out = Command::new("skopeo")
        .args([
            "copy",
            "--dest-creds",
            &format!("alice:{PW}"),
            "--dest-cert-dir",
        ])
        .arg(&certs)
        .arg(format!("oci:{}", layout.display()))
        .arg(format!("docker://{}/acme/tls:1", s.addr))
        .output()
        .expect("skopeo (make test installs it)");
    assert!(
        out.status.success(),
        "skopeo copy: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new("skopeo")
        .args([
            "inspect",
            "--raw",
            "--creds",
            &format!("alice:{PW}"),
            "--cert-dir",
        ])
        .arg(&certs)
        .arg(format!("docker://{}/acme/tls:1", s.addr))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "skopeo inspect: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("application/vnd.oci.image.manifest.v1+json")
    );
    // Without the CA, the chain is not trusted: it really is verified.
    let out = Command::new("skopeo")
        .args(["inspect", "--raw", "--creds", &format!("alice:{PW}")])
        .arg(format!("docker://{}/acme/tls:1", s.addr))
        .output()
        .unwrap();
    assert!(!out.status.success(), "an unknown CA is refused");

    // A renewed certificate written over the files is served within 10 s.
    assert!(served_subject(&s.addr).contains("berth-first"));
    let (renewed_cert, renewed_key) = ca.issue("renewed", "berth-renewed");
    std::fs::copy(&renewed_key, &live_key).unwrap();
    std::fs::copy(&renewed_cert, &live_cert).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !served_subject(&s.addr).contains("berth-renewed") {
        assert!(
            Instant::now() < deadline,
            "the renewed certificate was not served in 10 s"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    let (status, _, text) = curl_tls(&ca.cert(), &format!("{base}/healthz"), &[]);
    assert_eq!(status, 200, "{text}");
    // A broken pair keeps the old one serving, and says why in the log.
    std::fs::write(&live_key, "not a key\n").unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !s
        .log
        .lock()
        .unwrap()
        .iter()
        .any(|l| l.contains("was not loaded"))
    {
        assert!(
            Instant::now() < deadline,
            "the broken pair was not reported"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    assert!(served_subject(&s.addr).contains("berth-renewed"));
    let (status, _, _) = curl_tls(&ca.cert(), &format!("{base}/healthz"), &[]);
    assert_eq!(status, 200);
}

#[test]
fn a_certificate_that_cannot_be_served_stops_the_start() {
    let ca = TestCa::new();
    let (cert, _) = ca.issue("one", "one");
    let (_, other_key) = ca.issue("two", "two");
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(tmp.path())
        .arg("--tls-cert")
        .arg(&cert)
        .arg("--tls-key")
        .arg(&other_key)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("does not belong to the certificate"), "{err}");
}

/// Reads until the server closes the connection; how long that took.
fn closed_within(mut read: impl std::io::Read, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buf = [0u8; 4096];
    while started.elapsed() < limit {
        match read.read(&mut buf) {
            Ok(0) => return Some(started.elapsed()),
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return Some(started.elapsed()),
        }
    }
    None
}

#[test]
fn silent_handshakes_and_idle_http2_connections_are_closed() {
    let ca = TestCa::new();
    let (cert, key) = ca.issue("server", "127.0.0.1");
    let s = Server::start_with(&[
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
        "--header-timeout",
        "2s",
    ]);
    // A client that connects and never starts the handshake.
    let silent = std::net::TcpStream::connect(&s.addr).unwrap();
    silent
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let took = closed_within(&silent, Duration::from_secs(10)).expect("closed");
    assert!(
        took >= Duration::from_millis(1500),
        "not before the timeout: {took:?}"
    );

    // An HTTP/2 client that sends its preface and settings, then no request.
    let mut roots = rustls::RootCertStore::empty();
    let pem = std::fs::read(ca.cert()).unwrap();
    use rustls_pki_types::pem::PemObject;
    for c in rustls_pki_types::CertificateDer::pem_slice_iter(&pem) {
        roots.add(c.unwrap()).unwrap();
    }
    let mut config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec()];
    let name = rustls_pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let conn = rustls::ClientConnection::new(std::sync::Arc::new(config), name).unwrap();
    let tcp = std::net::TcpStream::connect(&s.addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    use std::io::Write;
    tls.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .unwrap();
    tls.flush().unwrap();
    assert_eq!(tls.conn.alpn_protocol(), Some(&b"h2"[..]));
    let took = closed_within(&mut tls, Duration::from_secs(15)).expect("idle HTTP/2 closed");
    assert!(
        took >= Duration::from_millis(1500),
        "not before the timeout: {took:?}"
    );
}
