//! Several Berth processes on one database and one store are one Berth: what they
//! share lives in the database, not in a replica's data folder.

mod common;
use common::*;

const PW: &str = "replica password";

/// The database URL of the first replica's data folder, for the others to share.
fn shared_database(first: &std::path::Path) -> String {
    database_url(first).unwrap_or_else(|| format!("sqlite://{}", first.join("berth.db").display()))
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
