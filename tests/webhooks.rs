//! Webhooks, against a real HTTP receiver on loopback: signed messages for pushes,
//! deletions, pulls, refused pushes and retention runs; retries with the same id; a
//! 3xx is a failure and is not followed; 410 disables the endpoint; private targets
//! are refused without `--webhook-allow-private`; and a message written before a
//! SIGKILL is delivered after the restart.

mod common;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use common::*;
use hmac::{KeyInit, Mac};
use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const PW: &str = "webhooks password";

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    headers: HashMap<String, String>,
    body: String,
}

impl Received {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }

    fn header(&self, name: &str) -> &str {
        self.headers.get(name).map(String::as_str).unwrap_or("")
    }
}

/// Statuses to answer with, in order, each with extra headers.
type Answers = Arc<Mutex<VecDeque<(u16, Vec<(String, String)>)>>>;

/// An HTTP/1.1 endpoint on loopback that records what it is sent and answers with
/// the statuses queued (200 when none is).
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Received>>>,
    answers: Answers,
}

impl Receiver {
    fn start() -> Self {
        Self::on(TcpListener::bind("127.0.0.1:0").unwrap())
    }

    fn on(listener: TcpListener) -> Self {
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let got: Arc<Mutex<Vec<Received>>> = Arc::default();
        let answers: Answers = Arc::default();
        let (g, a) = (got.clone(), answers.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                let path = line.split(' ').nth(1).unwrap_or_default().to_owned();
                let mut headers = HashMap::new();
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
                        break;
                    }
                    if let Some((k, v)) = h.trim_end().split_once(':') {
                        headers.insert(k.to_ascii_lowercase(), v.trim().to_owned());
                    }
                }
                let len: usize = headers
                    .get("content-length")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                let mut body = vec![0; len];
                let _ = reader.read_exact(&mut body);
                g.lock().unwrap().push(Received {
                    path,
                    headers,
                    body: String::from_utf8_lossy(&body).into_owned(),
                });
                let (status, extra) = a.lock().unwrap().pop_front().unwrap_or((200, vec![]));
                let mut resp =
                    format!("HTTP/1.1 {status} X\r\nContent-Length: 13\r\nConnection: close\r\n");
                for (k, v) in extra {
                    resp.push_str(&format!("{k}: {v}\r\n"));
                }
                resp.push_str("\r\nreceived: yes");
                let _ = stream.write_all(resp.as_bytes());
            }
        });
        Self { url, got, answers }
    }

    fn answer(&self, status: u16, headers: &[(&str, &str)]) {
        self.answers.lock().unwrap().push_back((
            status,
            headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ));
    }

    /// Waits until `n` requests arrived, returning all.
    fn wait_for(&self, n: usize, within: Duration) -> Vec<Received> {
        let started = Instant::now();
        loop {
            let got = self.got.lock().unwrap().clone();
            if got.len() >= n {
                return got;
            }
            assert!(
                started.elapsed() < within,
                "{} of {n} messages within {within:?}: {got:#?}",
                got.len()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn count(&self) -> usize {
        self.got.lock().unwrap().len()
    }
}

/// Checks a message's signature as a receiver following the specification would.
fn verify(secret: &str, r: &Received) -> bool {
    let key = B64.decode(secret.strip_prefix("whsec_").unwrap()).unwrap();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(
        format!(
            "{}.{}.{}",
            r.header("webhook-id"),
            r.header("webhook-timestamp"),
            r.body
        )
        .as_bytes(),
    );
    let want = format!("v1,{}", B64.encode(mac.finalize().into_bytes()));
    r.header("webhook-signature").split(' ').any(|s| s == want)
}

fn create(s: &Server, account: &str, url: &str, extra: &[&str]) -> (i64, String) {
    let mut args = vec!["webhook", "create", "--account", account, "--url", url];
    args.extend_from_slice(extra);
    let out = s.admin_json(&args, None);
    (
        out["id"].as_i64().expect("an id"),
        out["secret"].as_str().expect("a secret").to_owned(),
    )
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[test]
fn pushes_deletions_pulls_and_refused_pushes_reach_a_signed_webhook() {
    let s = Server::start_with(&["--webhook-allow-private"]);
    s.tenant("acme", "alice", PW, "admin");
    let hook = Receiver::start();
    let other = Receiver::start();
    let (id, secret) = create(
        &s,
        "acme",
        &hook.url,
        &["--events", "push,delete,pull,quota"],
    );
    assert!(secret.starts_with("whsec_"), "{secret}");
    // Narrowed to another repository and to delete events: it hears none of this.
    create(
        &s,
        "acme",
        &other.url,
        &["--events", "delete", "--repository", "team/*"],
    );
    let listed = s.admin_json(&["webhook", "list", "--account", "acme"], None);
    assert_eq!(listed[0]["id"], id);
    assert_eq!(listed[0]["url"], hook.url.as_str());
    assert_eq!(
        listed[0]["events"],
        serde_json::json!(["push", "delete", "pull", "quota"])
    );
    assert_eq!(listed[0]["enabled"], true);
    assert_eq!(listed[1]["repository"], "team/*");
    assert!(
        !listed.to_string().contains("whsec_"),
        "no secret is listed: {listed}"
    );

    let a = Client::with_bearer(
        &s,
        &token(&s, "alice", PW, &["repository:acme/app:pull,push,delete"]),
    );
    let (manifest, digest) = push_image(&a, "acme/app", "1.0", &[b"webhook layer"]);
    let push = &hook.wait_for(1, Duration::from_secs(10))[0];
    assert_eq!(push.path, "/hook");
    assert_eq!(push.header("content-type"), "application/json");
    assert!(verify(&secret, push), "signature: {push:#?}");
    let ts: i64 = push.header("webhook-timestamp").parse().unwrap();
    assert!((ts - unix_now()).abs() < 60, "timestamp {ts}");
    let body = push.json();
    assert_eq!(body["id"], push.header("webhook-id"));
    assert!(body["id"].as_str().unwrap().starts_with("evt_"), "{body}");
    assert_eq!(body["type"], "push");
    assert_eq!(body["account"], "acme");
    assert_eq!(body["repository"], "acme/app");
    assert_eq!(body["tag"], "1.0");
    assert_eq!(body["digest"], digest.as_str());
    assert_eq!(
        body["media_type"],
        "application/vnd.oci.image.manifest.v1+json"
    );
    assert_eq!(body["size"], manifest.len() as u64);
    assert_eq!(body["actor"], "alice");
    assert!(body["timestamp"].as_str().unwrap().ends_with('Z'), "{body}");

    // A pull, written with the batch of pull times (every 5 s).
    assert_eq!(a.get("/v2/acme/app/manifests/1.0").status, 200);
    let got = hook.wait_for(2, Duration::from_secs(15));
    let pull = got[1].json();
    assert_eq!(pull["type"], "pull", "{pull}");
    assert_eq!(pull["tag"], "1.0");
    assert_eq!(pull["digest"], digest.as_str());
    assert!(verify(&secret, &got[1]));

    assert_eq!(
        a.send("DELETE", "/v2/acme/app/manifests/1.0", &[], None)
            .status,
        202
    );
    let got = hook.wait_for(3, Duration::from_secs(10));
    let delete = got[2].json();
    assert_eq!(delete["type"], "delete", "{delete}");
    assert_eq!(delete["tag"], "1.0");
    assert_eq!(delete["digest"], digest.as_str());
    assert_ne!(delete["id"], body["id"], "every event has its own id");

    // A push the quota refuses.
    s.admin_json(&["account", "set-quota", "acme", "1KiB"], None);
    let big = vec![7u8; 4096];
    let r = a.send(
        "POST",
        &format!("/v2/acme/app/blobs/uploads/?digest={}", sha256(&big)),
        &[],
        Some(&big),
    );
    assert_eq!(r.status, 403, "{}", r.text());
    let got = hook.wait_for(4, Duration::from_secs(10));
    let quota = got[3].json();
    assert_eq!(quota["type"], "quota", "{quota}");
    assert_eq!(quota["repository"], "acme/app");
    assert_eq!(quota["quota"], 1024);
    assert_eq!(quota["actor"], "alice");

    let deliveries = s.admin_json(&["webhook", "deliveries", &id.to_string()], None);
    assert_eq!(deliveries.as_array().unwrap().len(), 4, "{deliveries}");
    assert_eq!(deliveries[0]["state"], "delivered");
    assert_eq!(deliveries[0]["status"], 200);
    assert_eq!(deliveries[0]["response"], "received: yes");
    assert_eq!(other.count(), 0, "the narrowed webhook heard nothing");

    // After a rotation both secrets sign, for a day.
    let rotated = s.admin_json(&["webhook", "rotate-secret", &id.to_string()], None);
    let new_secret = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, secret);
    s.admin_json(&["account", "set-quota", "acme", "none"], None);
    push_image(&a, "acme/app", "2.0", &[b"after the rotation"]);
    let got = hook.wait_for(5, Duration::from_secs(10));
    assert_eq!(got[4].json()["tag"], "2.0");
    assert!(verify(&new_secret, &got[4]) && verify(&secret, &got[4]));
    assert_eq!(got[4].header("webhook-signature").split(' ').count(), 2);

    let out = s.admin(&["webhook", "delete", &id.to_string()], None);
    assert!(out.status.success());
    let listed = s.admin_json(&["webhook", "list", "--account", "acme"], None);
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
}

#[test]
fn failures_are_retried_with_the_same_id_a_redirect_is_not_followed_and_410_disables() {
    let s = Server::start_with(&["--webhook-allow-private"]);
    s.tenant("acme", "alice", PW, "admin");
    let hook = Receiver::start();
    let (id, secret) = create(&s, "acme", &hook.url, &[]);
    hook.answer(500, &[]);
    hook.answer(302, &[("Location", "/moved")]);
    let a = Client::with_bearer(
        &s,
        &token(&s, "alice", PW, &["repository:acme/app:pull,push"]),
    );
    push_image(&a, "acme/app", "1.0", &[b"retried layer"]);
    let first = hook.wait_for(1, Duration::from_secs(10));
    // The first retry comes within 5 s (plus the outbox's one-second look), the
    // second within 30 s; each is signed afresh for its own time.
    let started = Instant::now();
    let got = hook.wait_for(3, Duration::from_secs(45));
    assert!(
        started.elapsed() >= Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert!(
        got.iter().all(|r| r.path == "/hook"),
        "the redirect is not followed: {got:#?}"
    );
    for r in &got {
        assert_eq!(r.header("webhook-id"), first[0].header("webhook-id"));
        assert_eq!(r.body, first[0].body);
        assert!(verify(&secret, r));
    }
    assert_ne!(
        got[0].header("webhook-timestamp"),
        got[1].header("webhook-timestamp")
    );
    let deliveries = s.admin_json(&["webhook", "deliveries", &id.to_string()], None);
    assert_eq!(deliveries[0]["attempts"], 3, "{deliveries}");
    assert_eq!(deliveries[0]["state"], "delivered");

    // 410 Gone: the endpoint is disabled at once, audited, and hears nothing more.
    hook.answer(410, &[]);
    push_image(&a, "acme/app", "2.0", &[b"gone layer"]);
    hook.wait_for(4, Duration::from_secs(10));
    let started = Instant::now();
    let listed = loop {
        let listed = s.admin_json(&["webhook", "list", "--account", "acme"], None);
        if listed[0]["enabled"] == false || started.elapsed() > Duration::from_secs(10) {
            break listed;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(listed[0]["enabled"], false, "{listed}");
    assert!(
        listed[0]["disabled_reason"]
            .as_str()
            .unwrap_or_default()
            .contains("410"),
        "{listed}"
    );
    push_image(&a, "acme/app", "3.0", &[b"unheard layer"]);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(hook.count(), 4);
    let alice = session_cookie(&sign_in(&s, "alice", PW));
    let activity = page(&s, "/a/acme/activity", &alice).text();
    assert!(activity.contains("webhook.disable"), "{activity}");
    assert!(activity.contains("webhook.create"), "{activity}");

    // Turned on again by the operator, it hears the next push (not the one it missed).
    let on = s.admin_json(&["webhook", "enable", &id.to_string()], None);
    assert_eq!(on["enabled"], true, "{on}");
    let listed = s.admin_json(&["webhook", "list", "--account", "acme"], None);
    assert_eq!(
        listed[0]["disabled_reason"],
        serde_json::Value::Null,
        "{listed}"
    );
    push_image(&a, "acme/app", "4.0", &[b"heard again layer"]);
    let got = hook.wait_for(5, Duration::from_secs(10));
    assert_eq!(got[4].json()["tag"], "4.0");
}

#[test]
fn private_targets_are_refused_without_the_flag() {
    let s = Server::start();
    s.tenant("acme", "alice", PW, "admin");
    let hook = Receiver::start();
    // An address literal is refused before anything is sent; a name on the address it
    // resolves to, the one that would be connected to.
    let by_name = hook.url.replace("127.0.0.1", "localhost");
    let (literal, _) = create(&s, "acme", &hook.url, &[]);
    let (named, _) = create(&s, "acme", &by_name, &[]);
    let a = Client::with_bearer(
        &s,
        &token(&s, "alice", PW, &["repository:acme/app:pull,push"]),
    );
    push_image(&a, "acme/app", "1.0", &[b"private layer"]);
    for id in [literal, named] {
        let started = Instant::now();
        let deliveries = loop {
            let d = s.admin_json(&["webhook", "deliveries", &id.to_string()], None);
            if d[0]["attempts"].as_i64().unwrap_or(0) > 0
                || started.elapsed() > Duration::from_secs(10)
            {
                break d;
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        assert_eq!(
            deliveries[0]["state"], "pending",
            "retried later: {deliveries}"
        );
        let why = deliveries[0]["response"].as_str().unwrap_or_default();
        assert!(
            why.contains("private") && why.contains("--webhook-allow-private"),
            "{deliveries}"
        );
        assert_eq!(deliveries[0]["status"], serde_json::Value::Null);
    }
    assert_eq!(hook.count(), 0, "nothing reached the private address");
}

#[test]
fn a_message_written_before_a_sigkill_is_delivered_after_the_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let flags = ["--webhook-allow-private"];
    let mut s = Server::start_in_with(tmp.path(), &flags);
    s.tenant("acme", "alice", PW, "admin");
    // A port nothing listens on yet: the first attempt fails.
    let reserved = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = reserved.local_addr().unwrap();
    drop(reserved);
    let url = format!("http://{addr}/hook");
    let (id, secret) = create(&s, "acme", &url, &[]);
    let a = Client::with_bearer(
        &s,
        &token(&s, "alice", PW, &["repository:acme/app:pull,push"]),
    );
    let (_, digest) = push_image(&a, "acme/app", "1.0", &[b"survivor layer"]);
    // Killed once the first attempt failed, its retry scheduled.
    let started = Instant::now();
    loop {
        let d = s.admin_json(&["webhook", "deliveries", &id.to_string()], None);
        if d[0]["attempts"].as_i64().unwrap_or(0) > 0 {
            assert_eq!(d[0]["state"], "pending", "{d}");
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{d}");
        std::thread::sleep(Duration::from_millis(50));
    }
    s.kill();
    let hook = Receiver::on(TcpListener::bind(addr).unwrap());
    let s = Server::start_in_with(tmp.path(), &flags);
    let got = hook.wait_for(1, Duration::from_secs(20));
    assert_eq!(got[0].json()["digest"], digest.as_str());
    assert!(verify(&secret, &got[0]));
    let d = s.admin_json(&["webhook", "deliveries", &id.to_string()], None);
    assert_eq!(d[0]["attempts"], 2, "{d}");
    assert_eq!(d[0]["state"], "delivered", "{d}");
    drop(s);
}

#[test]
fn account_admins_manage_webhooks_and_redeliver_from_the_portal() {
    let s = Server::start_with(&["--webhook-allow-private"]);
    s.tenant("acme", "alice", PW, "admin");
    s.member("acme", "wes", PW, "write");
    s.tenant("other", "olga", PW, "admin");
    let rx = Receiver::start();
    let alice = session_cookie(&sign_in(&s, "alice", PW));
    let wes = session_cookie(&sign_in(&s, "wes", PW));
    let olga = session_cookie(&sign_in(&s, "olga", PW));
    let call =
        |cookie: &str, f: &str, body: &str| post_form(&s, cookie, &format!("/api/{f}"), body);

    // Only the account's admins create one; what they type is checked in words.
    let body = format!(
        "account=acme&url={}&push=on&retention=on&repository=team%2F*&tag=",
        url_encode(&rx.url)
    );
    assert_eq!(call(&wes, "create_webhook", &body).status, 403);
    assert_eq!(call(&olga, "create_webhook", &body).status, 403);
    let r = call(
        &alice,
        "create_webhook",
        "account=acme&url=ftp%3A%2F%2Fx%2F&push=on&repository=&tag=",
    );
    assert_eq!(r.status, 400);
    assert!(r.text().contains("use http"), "{}", r.text());
    let r = call(
        &alice,
        "create_webhook",
        &format!("account=acme&url={}&repository=&tag=", url_encode(&rx.url)),
    );
    assert_eq!(r.status, 400);
    assert!(r.text().contains("at least one event"), "{}", r.text());
    let r = call(&alice, "create_webhook", &body);
    assert_eq!(r.status, 200, "{}", r.text());
    let created = r.json();
    let id = created["id"].as_i64().unwrap();
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");

    // The list shows what it hears, never its secret; nobody else sees it.
    let html = page(&s, "/a/acme/webhooks", &alice).text();
    for want in [rx.url.as_str(), "push, retention", "team/*", "Active"] {
        assert!(html.contains(want), "{want} in {html}");
    }
    assert!(!html.contains(&secret[6..]), "{html}");
    assert!(!page(&s, "/a/acme/webhooks", &wes).text().contains(&rx.url));
    // Another account's admin cannot reach it, not even under her own account's path.
    for path in [
        format!("/a/acme/webhooks/{id}"),
        format!("/a/other/webhooks/{id}"),
    ] {
        let html = page(&s, &path, &olga).text();
        assert!(
            !html.contains(&rx.url) && html.contains("do not have access"),
            "{html}"
        );
    }
    for account in ["acme", "other"] {
        let b = format!("account={account}&id={id}");
        assert_eq!(call(&olga, "send_test_webhook", &b).status, 403);
        assert_eq!(call(&olga, "delete_webhook", &b).status, 403);
    }

    // Send test: a signed ping arrives and its delivery is listed with its answer.
    let r = call(
        &alice,
        "send_test_webhook",
        &format!("account=acme&id={id}"),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let got = rx.wait_for(1, Duration::from_secs(10));
    assert_eq!(got[0].json()["type"], "ping");
    assert_eq!(got[0].json()["account"], "acme");
    assert!(verify(&secret, &got[0]), "{got:?}");
    let message_id = got[0].header("webhook-id").to_owned();
    let deliveries_page = || page(&s, &format!("/a/acme/webhooks/{id}"), &alice).text();
    let started = Instant::now();
    let html = loop {
        let html = deliveries_page();
        if html.contains("delivered (1 attempt)") || started.elapsed() > Duration::from_secs(10) {
            break html;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    for want in [
        "delivered (1 attempt)",
        &message_id,
        ">200<",
        "received: yes",
        " ms<",
    ] {
        assert!(html.contains(want), "{want} in {html}");
    }

    // Redeliver sends the same message, with its id, again; only from its account.
    let listed = s.admin_json(&["webhook", "deliveries", &id.to_string()], None);
    let delivery = listed[0]["id"].as_i64().unwrap();
    assert_eq!(
        call(
            &olga,
            "redeliver_webhook",
            &format!("account=other&delivery={delivery}")
        )
        .status,
        403
    );
    let r = call(
        &alice,
        "redeliver_webhook",
        &format!("account=acme&delivery={delivery}"),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let got = rx.wait_for(2, Duration::from_secs(10));
    assert_eq!(got[1].header("webhook-id"), message_id);
    assert_eq!(got[1].body, got[0].body);

    // Turned off, it is sent nothing; turned on again, what waited arrives.
    let r = call(
        &alice,
        "set_webhook_enabled",
        &format!("account=acme&id={id}&enabled=false"),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        page(&s, "/a/acme/webhooks", &alice)
            .text()
            .contains("Off: turned off by alice")
    );
    assert_eq!(
        call(
            &alice,
            "send_test_webhook",
            &format!("account=acme&id={id}")
        )
        .status,
        200
    );
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(rx.count(), 2);
    let r = call(
        &alice,
        "set_webhook_enabled",
        &format!("account=acme&id={id}&enabled=true"),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let got = rx.wait_for(3, Duration::from_secs(10));
    assert_eq!(got[2].json()["type"], "ping");
    assert_ne!(got[2].header("webhook-id"), message_id);

    // Deleted, it is gone from the page and the CLI; the audit log has each step.
    assert_eq!(
        call(&alice, "delete_webhook", &format!("account=acme&id={id}")).status,
        200
    );
    assert!(
        page(&s, "/a/acme/webhooks", &alice)
            .text()
            .contains("No webhook yet")
    );
    assert_eq!(
        s.admin_json(&["webhook", "list", "--account", "acme"], None),
        serde_json::json!([])
    );
    let activity = page(&s, "/a/acme/activity", &alice).text();
    for action in [
        "webhook.create",
        "webhook.disable",
        "webhook.enable",
        "webhook.delete",
    ] {
        assert!(activity.contains(action), "{action} in {activity}");
    }
}
