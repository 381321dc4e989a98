//! The registry over HTTP: token flow, push and pull, errors, tenancy.

mod common;
use common::*;

const PW: &str = "correct horse battery";

fn acme(server: &Server) -> Client {
    server.tenant("acme", "alice", PW, "admin");
    let t = token(
        server,
        "alice",
        PW,
        &["repository:acme/app:pull,push,delete", "registry:catalog:*"],
    );
    Client::with_bearer(server, &t)
}

#[test]
fn health_and_challenge() {
    let s = Server::start();
    let c = Client::new(&s);
    assert_eq!(c.get("/healthz").status, 200);
    let r = c.get("/v2/");
    assert_eq!(r.status, 401);
    let chal = r.header("www-authenticate").unwrap();
    assert!(chal.starts_with("Bearer realm=\""), "{chal}");
    assert!(
        chal.contains(&format!("realm=\"http://{}/auth/token\"", s.addr)),
        "{chal}"
    );
    assert_eq!(r.error_code(), "UNAUTHORIZED");
    assert_eq!(
        r.header("docker-distribution-api-version"),
        Some("registry/2.0")
    );

    s.tenant("acme", "alice", PW, "read");
    let t = token(&s, "alice", PW, &[]);
    assert_eq!(Client::with_bearer(&s, &t).get("/v2/").status, 200);
    // A forged token is refused.
    let forged = format!("{}x", t);
    assert_eq!(Client::with_bearer(&s, &forged).get("/v2/").status, 401);
}

#[test]
fn token_endpoint_grants_exactly_what_is_held() {
    let s = Server::start();
    s.tenant("acme", "alice", PW, "read");
    s.tenant("globex", "bob", PW, "admin");

    let bad = token_resp(&s, "alice", "wrong password", &[]);
    assert_eq!(bad.status, 401);
    assert_eq!(bad.error_code(), "UNAUTHORIZED");
    assert_eq!(token_resp(&s, "nobody", PW, &[]).status, 401);

    let t = token(
        &s,
        "alice",
        PW,
        &[
            "repository:acme/app:pull,push",
            "repository:globex/app:pull",
        ],
    );
    let access = token_access(&t);
    assert_eq!(access[0]["name"], "acme/app");
    assert_eq!(
        access[0]["actions"],
        serde_json::json!(["pull"]),
        "read role: pull only"
    );
    assert_eq!(
        access.as_array().unwrap().len(),
        1,
        "another tenant's namespace: left out of the token: {access}"
    );

    // The OAuth2 form that containerd uses, with a refresh token.
    let c = Client::new(&s);
    let form = format!(
        "grant_type=password&service=berth&client_id=test&username=bob&password={}&scope=repository%3Aglobex%2Fapp%3Apush",
        PW.replace(' ', "+")
    );
    let r = c.send(
        "POST",
        "/auth/token",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        Some(form.as_bytes()),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let body = r.json();
    assert_eq!(
        token_access(body["access_token"].as_str().unwrap())[0]["actions"],
        serde_json::json!(["push"])
    );
    let refresh = body["refresh_token"].as_str().unwrap().to_owned();
    let form = format!(
        "grant_type=refresh_token&service=berth&client_id=test&refresh_token={refresh}&scope=repository%3Aglobex%2Fapp%3Apull"
    );
    let r = c.send(
        "POST",
        "/auth/token",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        Some(form.as_bytes()),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        token_access(r.json()["access_token"].as_str().unwrap())[0]["actions"],
        serde_json::json!(["pull"])
    );
    // An access token is no refresh token.
    let form = format!(
        "grant_type=refresh_token&refresh_token={}",
        body["access_token"].as_str().unwrap()
    );
    let r = c.send(
        "POST",
        "/auth/token",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        Some(form.as_bytes()),
    );
    assert_eq!(r.status, 401);
}

#[test]
fn push_and_pull_round_trip() {
    let s = Server::start();
    let c = acme(&s);
    let layer1 = vec![7u8; 300_000];
    let layer2 = b"second layer".to_vec();
    let (manifest, digest) = push_image(&c, "acme/app", "v1", &[&layer1, &layer2]);

    let r = c.send(
        "GET",
        "/v2/acme/app/manifests/v1",
        &[("Accept", "application/vnd.oci.image.manifest.v1+json")],
        None,
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.body, manifest, "the exact bytes pushed");
    assert_eq!(
        r.header("content-type"),
        Some("application/vnd.oci.image.manifest.v1+json")
    );
    assert_eq!(r.header("docker-content-digest"), Some(digest.as_str()));
    let by_digest = c.get(&format!("/v2/acme/app/manifests/{digest}"));
    assert_eq!(by_digest.body, manifest);
    let head = c.send("HEAD", "/v2/acme/app/manifests/v1", &[], None);
    assert_eq!(head.status, 200);
    assert_eq!(
        head.header("content-length"),
        Some(manifest.len().to_string().as_str())
    );

    let d1 = sha256(&layer1);
    let blob = c.get(&format!("/v2/acme/app/blobs/{d1}"));
    assert_eq!(blob.status, 200);
    assert_eq!(blob.body, layer1);
    assert_eq!(blob.header("docker-content-digest"), Some(d1.as_str()));
    let part = c.send(
        "GET",
        &format!("/v2/acme/app/blobs/{d1}"),
        &[("Range", "bytes=10-19")],
        None,
    );
    assert_eq!(part.status, 206);
    assert_eq!(part.body, &layer1[10..20]);
    assert_eq!(part.header("content-range"), Some("bytes 10-19/300000"));
    let bad = c.send(
        "GET",
        &format!("/v2/acme/app/blobs/{d1}"),
        &[("Range", "bytes=300000-")],
        None,
    );
    assert_eq!(bad.status, 416);

    let tags = c.get("/v2/acme/app/tags/list").json();
    assert_eq!(
        tags,
        serde_json::json!({"name": "acme/app", "tags": ["v1"]})
    );
    let cat = c.get("/v2/_catalog").json();
    assert_eq!(cat["repositories"], serde_json::json!(["acme/app"]));
}

#[test]
fn chunked_upload_enforces_order_and_digest() {
    let s = Server::start();
    let c = acme(&s);
    let data: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
    let r = c.send("POST", "/v2/acme/app/blobs/uploads/", &[], Some(b""));
    assert_eq!(r.status, 202);
    let loc = r.header("location").unwrap().to_owned();
    assert!(loc.starts_with("/v2/acme/app/blobs/uploads/"), "{loc}");

    let r = c.send(
        "PATCH",
        &loc,
        &[("Content-Range", "0-1999")],
        Some(&data[..2000]),
    );
    assert_eq!(r.status, 202);
    assert_eq!(r.header("range"), Some("0-1999"));
    // Out of order, and a resend of stored bytes: 416, nothing appended.
    let r = c.send(
        "PATCH",
        &loc,
        &[("Content-Range", "3000-3999")],
        Some(&data[3000..4000]),
    );
    assert_eq!(r.status, 416);
    assert_eq!(r.header("range"), Some("0-1999"));
    let r = c.send(
        "PATCH",
        &loc,
        &[("Content-Range", "0-999")],
        Some(&data[..1000]),
    );
    assert_eq!(r.status, 416);
    let st = c.get(&loc);
    assert_eq!(st.status, 204);
    assert_eq!(st.header("range"), Some("0-1999"));

    let r = c.send("PATCH", &loc, &[], Some(&data[2000..4000]));
    assert_eq!(r.status, 202, "a streamed chunk without Content-Range");
    let d = sha256(&data);
    let r = c.send(
        "PUT",
        &format!("{loc}?digest={d}"),
        &[("Content-Range", "4000-4999")],
        Some(&data[4000..]),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        r.header("location"),
        Some(format!("/v2/acme/app/blobs/{d}").as_str())
    );
    assert_eq!(c.get(&format!("/v2/acme/app/blobs/{d}")).body, data);
    assert_eq!(c.get(&loc).status, 404, "a finished upload is gone");

    // A wrong digest keeps nothing.
    let r = c.send(
        "POST",
        &format!("/v2/acme/app/blobs/uploads/?digest={}", sha256(b"other")),
        &[],
        Some(b"content"),
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.error_code(), "DIGEST_INVALID");
    assert_eq!(
        c.send(
            "HEAD",
            &format!("/v2/acme/app/blobs/{}", sha256(b"content")),
            &[],
            None
        )
        .status,
        404
    );

    // The same bytes again (the store has them): verified, linked, not stored twice.
    let t = token(&s, "alice", PW, &["repository:acme/copy:pull,push"]);
    let other = Client::with_bearer(&s, &t);
    let r = other.send(
        "POST",
        &format!("/v2/acme/copy/blobs/uploads/?digest={d}"),
        &[],
        Some(&data),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(other.get(&format!("/v2/acme/copy/blobs/{d}")).body, data);
    // Wrong bytes for a digest the store has are refused, and the session is gone.
    let loc2 = other
        .send("POST", "/v2/acme/copy/blobs/uploads/", &[], Some(b""))
        .header("location")
        .unwrap()
        .to_owned();
    let r = other.send("PUT", &format!("{loc2}?digest={d}"), &[], Some(b"not it"));
    assert_eq!((r.status, r.error_code().as_str()), (400, "DIGEST_INVALID"));
    assert_eq!(other.get(&loc2).status, 404);

    // Cancel.
    let loc = c
        .send("POST", "/v2/acme/app/blobs/uploads/", &[], Some(b""))
        .header("location")
        .unwrap()
        .to_owned();
    assert_eq!(c.send("DELETE", &loc, &[], None).status, 204);
    let r = c.get(&loc);
    assert_eq!(r.status, 404);
    assert_eq!(r.error_code(), "BLOB_UPLOAD_UNKNOWN");
}

#[test]
fn sha512_blobs_and_manifest_validation() {
    let s = Server::start();
    let c = acme(&s);
    use sha2::Digest;
    let d512 = format!(
        "sha512:{}",
        hex::encode(sha2::Sha512::digest(b"five twelve"))
    );
    let r = c.send(
        "POST",
        &format!("/v2/acme/app/blobs/uploads/?digest={d512}"),
        &[],
        Some(b"five twelve"),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        c.get(&format!("/v2/acme/app/blobs/{d512}")).body,
        b"five twelve"
    );

    let missing = sha256(b"never pushed");
    let m = serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": missing, "size": 12},
        "layers": []
    });
    let r = c.send(
        "PUT",
        "/v2/acme/app/manifests/x",
        &[("Content-Type", "application/vnd.oci.image.manifest.v1+json")],
        Some(m.to_string().as_bytes()),
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.error_code(), "MANIFEST_BLOB_UNKNOWN");
    let r = c.send(
        "PUT",
        "/v2/acme/app/manifests/x",
        &[("Content-Type", "application/vnd.oci.image.manifest.v1+json")],
        Some(b"{not json"),
    );
    assert_eq!(r.error_code(), "MANIFEST_INVALID");
    let r = c.send(
        "PUT",
        &format!("/v2/acme/app/manifests/{}", sha256(b"x")),
        &[("Content-Type", "application/vnd.oci.image.manifest.v1+json")],
        Some(m.to_string().as_bytes()),
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.error_code(), "DIGEST_INVALID");
    let r = c.get("/v2/acme/app/manifests/nope");
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (404, "MANIFEST_UNKNOWN")
    );
}

#[test]
fn tags_pagination_deletes_and_referrers() {
    let s = Server::start();
    let c = acme(&s);
    let (_, d) = push_image(&c, "acme/app", "a", &[b"l1"]);
    for t in ["b", "c", "d"] {
        let m = c.get("/v2/acme/app/manifests/a").body;
        let r = c.send(
            "PUT",
            &format!("/v2/acme/app/manifests/{t}"),
            &[("Content-Type", "application/vnd.oci.image.manifest.v1+json")],
            Some(&m),
        );
        assert_eq!(r.status, 201);
    }
    let r = c.get("/v2/acme/app/tags/list?n=2");
    assert_eq!(r.json()["tags"], serde_json::json!(["a", "b"]));
    assert_eq!(
        r.header("link"),
        Some("</v2/acme/app/tags/list?n=2&last=b>; rel=\"next\"")
    );
    let r = c.get("/v2/acme/app/tags/list?n=2&last=b");
    assert_eq!(r.json()["tags"], serde_json::json!(["c", "d"]));

    // A referrer (signature-like artifact) of the image.
    let empty = push_blob(&c, "acme/app", b"{}");
    let sig = serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": "application/vnd.example.sig",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty, "size": 2},
        "layers": [{"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty, "size": 2}],
        "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": d, "size": 1},
        "annotations": {"org.example.by": "test"}
    });
    let sig_bytes = sig.to_string();
    let sig_digest = sha256(sig_bytes.as_bytes());
    let r = c.send(
        "PUT",
        &format!("/v2/acme/app/manifests/{sig_digest}"),
        &[("Content-Type", "application/vnd.oci.image.manifest.v1+json")],
        Some(sig_bytes.as_bytes()),
    );
    assert_eq!(r.status, 201);
    assert_eq!(r.header("oci-subject"), Some(d.as_str()));
    let refs = c.get(&format!("/v2/acme/app/referrers/{d}"));
    assert_eq!(
        refs.header("content-type"),
        Some("application/vnd.oci.image.index.v1+json")
    );
    let idx = refs.json();
    assert_eq!(idx["manifests"][0]["digest"], sig_digest.as_str());
    assert_eq!(
        idx["manifests"][0]["artifactType"],
        "application/vnd.example.sig"
    );
    assert_eq!(idx["manifests"][0]["annotations"]["org.example.by"], "test");
    let filtered = c.get(&format!(
        "/v2/acme/app/referrers/{d}?artifactType=application%2Fother"
    ));
    assert_eq!(filtered.header("oci-filters-applied"), Some("artifactType"));
    assert_eq!(filtered.json()["manifests"], serde_json::json!([]));

    // Delete a tag: only that tag goes. Delete by digest: the manifest and its tags go.
    assert_eq!(
        c.send("DELETE", "/v2/acme/app/manifests/a", &[], None)
            .status,
        202
    );
    assert_eq!(
        c.send("HEAD", "/v2/acme/app/manifests/a", &[], None).status,
        404
    );
    assert_eq!(
        c.send("HEAD", "/v2/acme/app/manifests/b", &[], None).status,
        200
    );
    assert_eq!(
        c.send("DELETE", &format!("/v2/acme/app/manifests/{d}"), &[], None)
            .status,
        202
    );
    assert_eq!(
        c.send("HEAD", "/v2/acme/app/manifests/b", &[], None).status,
        404
    );
    assert_eq!(
        c.get("/v2/acme/app/tags/list").json()["tags"],
        serde_json::json!([])
    );
}

#[test]
fn tenants_see_nothing_of_each_other() {
    let s = Server::start();
    let a = acme(&s);
    let (_, digest) = push_image(&a, "acme/app", "v1", &[b"secret layer"]);
    let layer = sha256(b"secret layer");
    let upload = a
        .send("POST", "/v2/acme/app/blobs/uploads/", &[], Some(b""))
        .header("location")
        .unwrap()
        .to_owned();

    s.tenant("globex", "bob", PW, "admin");
    let t = token(
        &s,
        "bob",
        PW,
        &[
            "repository:acme/app:pull,push,delete",
            "repository:globex/app:pull,push",
            "registry:catalog:*",
        ],
    );
    let b = Client::with_bearer(&s, &t);
    for (method, path) in [
        ("GET", "/v2/acme/app/manifests/v1".to_owned()),
        ("GET", format!("/v2/acme/app/blobs/{layer}")),
        ("GET", "/v2/acme/app/tags/list".to_owned()),
        ("GET", format!("/v2/acme/app/referrers/{digest}")),
        ("POST", "/v2/acme/app/blobs/uploads/".to_owned()),
        ("DELETE", "/v2/acme/app/manifests/v1".to_owned()),
        ("GET", upload.clone()),
    ] {
        let r = b.send(
            method,
            &path,
            &[],
            if method == "POST" { Some(b"") } else { None },
        );
        assert_eq!(r.status, 403, "{method} {path}");
        assert_eq!(r.error_code(), "DENIED");
    }
    // Bob's own repository cannot read acme's blob by digest, mount it, or use acme's upload.
    assert_eq!(b.get(&format!("/v2/globex/app/blobs/{layer}")).status, 404);
    let r = b.send(
        "POST",
        &format!("/v2/globex/app/blobs/uploads/?mount={layer}&from=acme/app"),
        &[],
        Some(b""),
    );
    assert_eq!(
        r.status, 202,
        "no mount across tenants, a plain upload instead"
    );
    let r = b.send(
        "POST",
        &format!("/v2/globex/app/blobs/uploads/?mount={layer}"),
        &[],
        Some(b""),
    );
    assert_eq!(r.status, 202);
    let id = upload.rsplit('/').next().unwrap();
    assert_eq!(
        b.get(&format!("/v2/globex/app/blobs/uploads/{id}")).status,
        404
    );
    assert_eq!(b.get(&format!("/v2/globex/app/blobs/{layer}")).status, 404);
    assert_eq!(
        b.get("/v2/_catalog").json()["repositories"],
        serde_json::json!(["globex/app"])
    );
    let mut basic_b = Client::new(&s);
    basic_b.auth = Some(basic("bob", PW));
    let search = basic_b.get("/v1/search?q=app");
    assert_eq!(search.status, 200);
    let names: Vec<_> = search.json()["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].clone())
        .collect();
    assert_eq!(names, vec![serde_json::json!("globex/app")]);

    // Mounting inside one tenant works.
    let r = a.send(
        "POST",
        &format!("/v2/acme/app/blobs/uploads/?mount={layer}&from=acme/app"),
        &[],
        Some(b""),
    );
    assert_eq!(r.status, 201);
    let t2 = token(&s, "alice", PW, &["repository:acme/other:pull,push"]);
    let a2 = Client::with_bearer(&s, &t2);
    let r = a2.send(
        "POST",
        &format!("/v2/acme/other/blobs/uploads/?mount={layer}"),
        &[],
        Some(b""),
    );
    assert_eq!(
        r.status, 201,
        "mount without from, from a repository alice may pull"
    );
    assert_eq!(
        a2.get(&format!("/v2/acme/other/blobs/{layer}")).body,
        b"secret layer"
    );
}

#[test]
fn tokens_nodes_and_revocation() {
    let s = Server::start();
    let a = acme(&s);
    push_image(&a, "acme/app", "v1", &[b"layer"]);

    let tok = s.admin_json(
        &[
            "token", "create", "--user", "alice", "--name", "ci", "--access", "pull",
        ],
        None,
    );
    let secret = tok["secret"].as_str().unwrap();
    assert!(secret.starts_with("berth_token_"));
    let t = token(&s, "alice", secret, &["repository:acme/app:pull,push"]);
    assert_eq!(
        token_access(&t)[0]["actions"],
        serde_json::json!(["pull"]),
        "a pull token cannot push"
    );
    let c = Client::with_bearer(&s, &t);
    assert_eq!(c.get("/v2/acme/app/manifests/v1").status, 200);
    // Another user name with the same secret is refused.
    assert_eq!(token_resp(&s, "mallory", secret, &[]).status, 401);

    s.admin_json(&["token", "revoke", &tok["id"].to_string()], None);
    assert_eq!(token_resp(&s, "alice", secret, &[]).status, 401);
    assert_eq!(
        c.get("/v2/acme/app/manifests/v1").status,
        401,
        "tokens minted before revocation die at once"
    );
    assert_eq!(c.get("/v2/").status, 401, "and /v2/ no longer accepts them");

    let node = s.admin_json(&["node", "create", "edge-1", "--account", "acme"], None);
    assert_eq!(node["username"], "acme+edge-1");
    let ns = node["secret"].as_str().unwrap();
    let t = token(
        &s,
        "acme+edge-1",
        ns,
        &["repository:acme/app:pull,push", "repository:acme/new:push"],
    );
    let access = token_access(&t);
    assert_eq!(access[0]["actions"], serde_json::json!(["pull"]));
    assert_eq!(access.as_array().unwrap().len(), 1, "{access}");
    let n = Client::with_bearer(&s, &t);
    assert_eq!(n.get("/v2/acme/app/manifests/v1").status, 200);
    assert_eq!(
        n.send("POST", "/v2/acme/app/blobs/uploads/", &[], Some(b""))
            .status,
        403
    );
    assert_eq!(token_resp(&s, "acme+other", ns, &[]).status, 401);
}

#[test]
fn uploads_survive_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let mut s = Server::start_in(tmp.path());
    let a = acme(&s);
    let loc = a
        .send("POST", "/v2/acme/app/blobs/uploads/", &[], Some(b""))
        .header("location")
        .unwrap()
        .to_owned();
    assert_eq!(
        a.send("PATCH", &loc, &[("Content-Range", "0-4")], Some(b"hello"))
            .status,
        202
    );
    s.stop();
    let s2 = Server::start_in(tmp.path());
    let t = token(&s2, "alice", PW, &["repository:acme/app:pull,push"]);
    let a = Client::with_bearer(&s2, &t);
    let st = a.get(&loc);
    assert_eq!(st.status, 204);
    assert_eq!(st.header("range"), Some("0-4"));
    assert_eq!(
        a.send("PATCH", &loc, &[("Content-Range", "5-10")], Some(b" world"))
            .status,
        202
    );
    let d = sha256(b"hello world");
    assert_eq!(
        a.send("PUT", &format!("{loc}?digest={d}"), &[], Some(b""))
            .status,
        201
    );
    assert_eq!(
        a.get(&format!("/v2/acme/app/blobs/{d}")).body,
        b"hello world"
    );
}

#[test]
fn admin_commands_refuse_bad_input() {
    let s = Server::start();
    let ok = s.admin_json(&["account", "create", "acme"], None);
    assert_eq!(ok["name"], "acme");
    for (args, stdin) in [
        (vec!["account", "create", "acme"], None),
        (vec!["account", "create", "Bad_Name!"], None),
        (vec!["account", "create", "v2"], None),
        (
            vec!["user", "create", "alice", "--account", "nope"],
            Some(PW),
        ),
        (
            vec![
                "user",
                "create",
                "alice",
                "--account",
                "acme",
                "--role",
                "owner",
            ],
            Some(PW),
        ),
        (
            vec!["user", "create", "alice", "--account", "acme"],
            Some("short"),
        ),
        (vec!["token", "create", "--user", "ghost"], None),
        (
            vec!["user", "create", "eve", "--account", "acme"],
            Some("berth_token_looks_like_a_secret"),
        ),
        (vec!["token", "revoke", "999"], None),
        (vec!["node", "create", "n1", "--account", "nope"], None),
    ] {
        let out = s.admin(&args, stdin);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    s.admin_json(&["user", "create", "root", "--site-admin"], Some(PW));
    // A site admin may push anywhere that is an account.
    let t = token(
        &s,
        "root",
        PW,
        &["repository:acme/x:push", "repository:nobody/x:push"],
    );
    let access = token_access(&t);
    assert_eq!(access[0]["actions"], serde_json::json!(["push"]));
    assert_eq!(access.as_array().unwrap().len(), 1, "{access}");
}

#[test]
fn the_portal_shell_is_served() {
    let s = Server::start();
    let c = Client::new(&s);
    let r = c.get("/");
    assert_eq!(r.status, 200);
    let html = r.text();
    assert!(
        html.contains("<title>Berth — private container registry</title>"),
        "{html}"
    );
    assert!(html.contains(&format!("docker login {}", s.addr)), "{html}");
    assert!(html.contains("/pkg/berth.js"), "{html}");
    let r = c.get("/no/such/page");
    assert_eq!(r.status, 404);
    assert!(r.text().contains("Page not found"));
    let css = c.get("/pkg/berth.css");
    assert_eq!(css.status, 200);
    assert_eq!(css.header("content-type"), Some("text/css"));
}
