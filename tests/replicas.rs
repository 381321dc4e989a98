//! Several Berth processes on one database and one store are one Berth: what they
//! share lives in the database, not in a replica's data folder.

mod common;
use common::*;

const PW: &str = "replica password";

/// Two replicas on one database and one store, with `alice` an admin of `acme`.
fn two_replicas(one: &std::path::Path, two: &std::path::Path) -> (Server, Server) {
    replicas(one, two, &[], PW)
}

#[test]
fn replicas_on_one_database_share_the_token_signing_key() {
    let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let database = shared_database(one.path());
    let a = Server::start_in(one.path());
    a.tenant("acme", "alice", PW, "admin");
    // The second replica has a key file of its own (as a data folder from before keys
    // moved into the database would): the database's key wins.
    std::fs::write(two.path().join("token.key"), [9u8; 32]).unwrap();
    // And the first one's store: its folder, or its prefix of the run's bucket.
    let store = storage_flags(one.path())
        .pop()
        .unwrap_or_else(|| format!("file://{}", one.path().join("store").display()));
    let b = Server::start_in_with(
        two.path(),
        &["--database-url", &database, "--storage", &store],
    );

    let scope = ["repository:acme/app:pull,push"];
    let from_a = token(&a, "alice", PW, &scope);
    let (manifest, _) = push_image(
        &Client::with_bearer(&a, &from_a),
        "acme/app",
        "v1",
        &[b"layer"],
    );
    // A token from one replica works on the other, both ways.
    let on_b = Client::with_bearer(&b, &from_a);
    let got = on_b.get("/v2/acme/app/manifests/v1");
    assert_eq!(got.status, 200, "{}", got.text());
    assert_eq!(got.body, manifest);
    assert_eq!(
        on_b.get(&format!("/v2/acme/app/blobs/{}", sha256(b"layer")))
            .body,
        b"layer"
    );
    let from_b = token(&b, "alice", PW, &scope);
    assert_eq!(
        Client::with_bearer(&a, &from_b)
            .get("/v2/acme/app/manifests/v1")
            .status,
        200
    );
    // A forged token is refused by both.
    let forged = format!("{}x", &from_a[..from_a.len() - 1]);
    for s in [&a, &b] {
        assert_eq!(
            Client::with_bearer(s, &forged)
                .get("/v2/acme/app/manifests/v1")
                .status,
            401
        );
    }
    // The key lives in the database: a restart without any key file keeps tokens valid.
    drop(b);
    let _ = std::fs::remove_file(one.path().join("token.key"));
    let mut a = a;
    a.stop();
    let a = Server::start_in(one.path());
    assert_eq!(
        Client::with_bearer(&a, &from_a)
            .get("/v2/acme/app/manifests/v1")
            .status,
        200
    );
}

#[test]
fn the_setup_link_works_on_any_replica_and_only_once() {
    let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let database = shared_database(one.path());
    let a = Server::start_in(one.path());
    let b = Server::start_in_with(two.path(), &["--database-url", &database]);
    // Both print the one link the first of them made.
    let token = setup_token(&a);
    assert_eq!(setup_token(&b), token);
    // A wrong secret is refused and does not use the link up.
    assert_eq!(submit_setup(&b, &"0".repeat(32), "mallory"), 403);
    // Used on one replica, it is gone on both.
    assert_eq!(submit_setup(&b, &token, "root"), 200);
    assert_eq!(submit_setup(&a, &token, "other"), 403);
    assert_eq!(submit_setup(&b, &token, "other"), 403);
    let signed_in = sign_in(&a, "root", "long enough 1")
        .headers_all("set-cookie")
        .iter()
        .any(|c| c.starts_with("berth_session="));
    assert!(
        signed_in,
        "the admin made on one replica signs in on the other"
    );
}

#[test]
fn an_upload_moves_between_replicas_and_is_read_back_on_the_other() {
    let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, b) = two_replicas(one.path(), two.path());
    let scope = ["repository:acme/big:pull,push"];
    let (on_a, on_b) = (
        Client::with_bearer(&a, &token(&a, "alice", PW, &scope)),
        Client::with_bearer(&b, &token(&b, "alice", PW, &scope)),
    );
    let blob: Vec<u8> = (0..13u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let digest = sha256(&blob);
    let started = on_a.send("POST", "/v2/acme/big/blobs/uploads/", &[], None);
    assert_eq!(started.status, 202, "{}", started.text());
    let mut location = started.header("location").unwrap().to_owned();
    // Chunks above and below 5 MiB, each on the other replica than the one before.
    let cuts = [0usize, 6 << 20, (6 << 20) + 1000, 12 << 20, blob.len()];
    for (i, w) in cuts.windows(2).enumerate() {
        let client = if i % 2 == 0 { &on_b } else { &on_a };
        let (start, end) = (w[0], w[1]);
        let range = format!("{start}-{}", end - 1);
        if i == cuts.len() - 2 {
            let sep = if location.contains('?') { '&' } else { '?' };
            let r = client.send(
                "PUT",
                &format!("{location}{sep}digest={digest}"),
                &[
                    ("Content-Range", &range),
                    ("Content-Type", "application/octet-stream"),
                ],
                Some(&blob[start..end]),
            );
            assert_eq!(r.status, 201, "{}", r.text());
            break;
        }
        let r = client.send(
            "PATCH",
            &location,
            &[
                ("Content-Range", &range),
                ("Content-Type", "application/octet-stream"),
            ],
            Some(&blob[start..end]),
        );
        assert_eq!(r.status, 202, "chunk {i}: {}", r.text());
        assert_eq!(r.header("range"), Some(format!("0-{}", end - 1).as_str()));
        location = r.header("location").unwrap().to_owned();
        // The other replica knows the new length at once, and refuses a chunk that
        // does not start there.
        let other = if i % 2 == 0 { &on_a } else { &on_b };
        let status = other.get(&location);
        assert_eq!(status.status, 204);
        assert_eq!(
            status.header("range"),
            Some(format!("0-{}", end - 1).as_str())
        );
        let wrong = other.send(
            "PATCH",
            &location,
            &[
                ("Content-Range", "0-0"),
                ("Content-Type", "application/octet-stream"),
            ],
            Some(b"x"),
        );
        assert_eq!(wrong.status, 416, "{}", wrong.text());
    }
    // Finished on one, read back byte for byte, and by range, on the other.
    let got = on_a.get(&format!("/v2/acme/big/blobs/{digest}"));
    assert_eq!(got.status, 200);
    assert_eq!(sha256(&got.body), digest);
    let r = on_a.send(
        "GET",
        &format!("/v2/acme/big/blobs/{digest}"),
        &[("Range", "bytes=6291450-6292500")],
        None,
    );
    assert_eq!(r.status, 206);
    assert_eq!(r.body, &blob[6_291_450..6_292_501]);
}

#[test]
fn one_request_at_a_time_writes_an_upload_whichever_replica_it_reaches() {
    use std::io::{Read, Write};
    let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, b) = two_replicas(one.path(), two.path());
    let scope = ["repository:acme/app:pull,push"];
    let bearer = token(&a, "alice", PW, &scope);
    let on_a = Client::with_bearer(&a, &bearer);
    let started = on_a.send("POST", "/v2/acme/app/blobs/uploads/", &[], None);
    let location = started.header("location").unwrap().to_owned();
    let first: Vec<u8> = vec![b'a'; 200_000];
    // A PATCH to the first replica whose body arrives slowly.
    let mut slow = std::net::TcpStream::connect(&a.addr).unwrap();
    write!(
        slow,
        "PATCH {location} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {bearer}\r\n\
         Content-Type: application/octet-stream\r\nContent-Range: 0-{}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        a.addr,
        first.len() - 1,
        first.len()
    )
    .unwrap();
    slow.write_all(&first[..100_000]).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(400));
    // Meanwhile the same chunk position on the second replica waits for it ...
    let (done, result) = std::sync::mpsc::channel();
    let (b_client, b_location) = (Client::with_bearer(&b, &bearer), location.clone());
    std::thread::spawn(move || {
        let r = b_client.send(
            "PATCH",
            &b_location,
            &[
                ("Content-Range", "0-9"),
                ("Content-Type", "application/octet-stream"),
            ],
            Some(b"bbbbbbbbbb"),
        );
        let _ = done.send((r.status, r.header("range").map(str::to_owned)));
    });
    std::thread::sleep(std::time::Duration::from_millis(600));
    assert!(result.try_recv().is_err(), "the second writer did not wait");
    slow.write_all(&first[100_000..]).unwrap();
    let mut answer = String::new();
    slow.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 202"), "{answer}");
    // ... and is then told where the upload really ends, writing nothing.
    let (status, range) = result
        .recv_timeout(std::time::Duration::from_secs(30))
        .unwrap();
    assert_eq!(status, 416);
    assert_eq!(range.as_deref(), Some("0-199999"));
    let sep = if location.contains('?') { '&' } else { '?' };
    let digest = sha256(&first);
    let r = Client::with_bearer(&b, &bearer).send(
        "PUT",
        &format!("{location}{sep}digest={digest}"),
        &[],
        Some(b""),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        on_a.get(&format!("/v2/acme/app/blobs/{digest}")).body,
        first
    );
}

#[test]
fn password_guesses_spread_over_replicas_are_throttled_as_on_one() {
    let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, b) = replicas(
        one.path(),
        two.path(),
        &["--trusted-proxy", "127.0.0.1"],
        PW,
    );
    let token_from = |s: &Server, client: &str, password: &str| {
        Client::new(s).send(
            "GET",
            "/auth/token?service=berth&scope=repository%3Aacme%2Fapp%3Apull",
            &[
                ("Authorization", &basic("alice", password)),
                ("X-Forwarded-For", client),
            ],
            None,
        )
    };
    // Five wrong passwords from one address, alternating between the replicas ...
    for i in 0..5 {
        let s = if i % 2 == 0 { &a } else { &b };
        assert_eq!(token_from(s, "203.0.113.7", "nope").status, 401);
    }
    // ... and on either one the next attempt from there waits, even the right one.
    for s in [&a, &b] {
        let r = token_from(s, "203.0.113.7", PW);
        assert_eq!(r.status, 429, "{}", r.text());
        assert!(r.header("retry-after").is_some());
    }
    // Nobody else is locked out.
    assert_eq!(token_from(&b, "203.0.113.8", PW).status, 200);
    // Once the wait is over, the right password is let in on the other replica, and
    // that forgives the earlier mistakes on both.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(token_from(&a, "203.0.113.7", PW).status, 200);
    for _ in 0..4 {
        assert_eq!(token_from(&b, "203.0.113.7", "nope").status, 401);
    }
    assert_eq!(token_from(&b, "203.0.113.7", PW).status, 200);
}

#[test]
fn a_push_on_one_replica_reaches_a_page_open_on_the_other_within_a_second() {
    // Processes hear each other through PostgreSQL's NOTIFY; on SQLite each hears only
    // itself, so this runs in the PostgreSQL pass.
    if std::env::var_os("BERTH_TEST_POSTGRES_PORT").is_none() {
        return;
    }
    let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, b) = two_replicas(one.path(), two.path());
    // Signed in on the second replica, the account's page listening there ...
    let alice = session_cookie(&sign_in(&b, "alice", PW));
    let (status, mut events) = EventStream::open(&b, "/events/a/acme", &alice);
    assert_eq!(status, 200);
    // ... hears of a push to the first, and of a deletion there.
    let on_a = Client::with_bearer(
        &a,
        &token(&a, "alice", PW, &["repository:acme/live:pull,push,delete"]),
    );
    push_image(&on_a, "acme/live", "1.0", &[b"live on a"]);
    let pushed = events.wait_for("acme/live", std::time::Duration::from_secs(1));
    assert!(
        pushed
            .as_deref()
            .is_some_and(|l| l.contains("manifest.push")),
        "{pushed:?}"
    );
    on_a.send("DELETE", "/v2/acme/live/manifests/1.0", &[], None);
    assert!(
        events
            .wait_for("tag.delete", std::time::Duration::from_secs(1))
            .is_some()
    );
}
