//! Public repositories over HTTP: pulled by anyone without credentials and from any
//! account's login, listed in the catalog and search, while private ones reveal
//! nothing; anonymous requests are rate-limited per client.

mod common;
use common::*;

const PW: &str = "public password 1";

/// Asks the token endpoint without credentials, as `docker pull` does before any login.
fn anonymous_token(s: &Server, scopes: &[&str]) -> Resp {
    let mut q = String::from("/auth/token?service=berth");
    for scope in scopes {
        q.push_str("&scope=");
        q.push_str(&url_encoded(scope));
    }
    Client::new(s).get(&q)
}

fn url_encoded(v: &str) -> String {
    v.replace(':', "%3A")
        .replace('/', "%2F")
        .replace(',', "%2C")
}

fn anonymous(s: &Server, scopes: &[&str]) -> Client {
    let r = anonymous_token(s, scopes);
    assert_eq!(r.status, 200, "anonymous token: {}", r.text());
    Client::with_bearer(s, r.json()["token"].as_str().unwrap())
}

fn pushed_by_alice(s: &Server, repo: &str, tag: &str, layer: &[u8]) -> (Vec<u8>, String) {
    let t = token(s, "alice", PW, &[&format!("repository:{repo}:pull,push")]);
    push_image(&Client::with_bearer(s, &t), repo, tag, &[layer])
}

fn metric(s: &Server, line_prefix: &str) -> u64 {
    let text = Client::new(s).get("/metrics").text();
    text.lines()
        .find_map(|l| l.strip_prefix(line_prefix))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {line_prefix} in metrics:\n{text}"))
}

#[test]
fn public_repositories_are_pulled_by_anyone_and_private_ones_reveal_nothing() {
    let s = Server::start();
    s.tenant("acme", "alice", PW, "admin");
    s.tenant("globex", "bob", PW, "admin");
    let (manifest, digest) = pushed_by_alice(&s, "acme/web", "1.0", b"public layer");
    pushed_by_alice(&s, "acme/secret", "1.0", b"private layer");

    // Private by default: an anonymous token holds nothing, and a private repository
    // answers exactly like one that does not exist.
    let scopes = ["repository:acme/web:pull", "repository:acme/secret:pull"];
    assert_eq!(
        token_access(
            anonymous_token(&s, &scopes).json()["token"]
                .as_str()
                .unwrap()
        ),
        serde_json::json!([])
    );
    let anon = anonymous(
        &s,
        &["repository:acme/secret:pull", "repository:acme/none:pull"],
    );
    let secret = anon.get("/v2/acme/secret/manifests/1.0");
    let missing = anon.get("/v2/acme/none/manifests/1.0");
    assert_eq!((secret.status, missing.status), (401, 401));
    assert_eq!(secret.error_code(), missing.error_code());
    assert_eq!(
        secret
            .header("www-authenticate")
            .map(|h| h.replace("secret", "none")),
        missing.header("www-authenticate").map(str::to_owned)
    );

    // The operator makes one public; it is audited.
    let out = s.admin_json(&["repo", "set-visibility", "acme/web", "public"], None);
    assert_eq!(
        out,
        serde_json::json!({"name": "acme/web", "visibility": "public"})
    );
    let refused = s.admin(&["repo", "set-visibility", "acme/web", "open"], None);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("use public or private"));

    // Anyone pulls it: manifests, blobs, the tags list and referrers; nothing more.
    let pulls_before = metric(&s, "berth_manifest_pulls_total{caller=\"anonymous\"}");
    let access = token_access(
        anonymous_token(
            &s,
            &[
                "repository:acme/web:pull,push,delete",
                "repository:acme/secret:pull",
            ],
        )
        .json()["token"]
            .as_str()
            .unwrap(),
    );
    assert_eq!(
        access,
        serde_json::json!([{"type": "repository", "name": "acme/web", "actions": ["pull"], "public": true}])
    );
    let anon = anonymous(&s, &["repository:acme/web:pull,push"]);
    let got = anon.get("/v2/acme/web/manifests/1.0");
    assert_eq!(got.status, 200, "{}", got.text());
    assert_eq!(got.body, manifest);
    assert_eq!(got.header("docker-content-digest"), Some(digest.as_str()));
    let layer = sha256(b"public layer");
    let blob = anon.get(&format!("/v2/acme/web/blobs/{layer}"));
    assert_eq!(
        (blob.status, blob.body.as_slice()),
        (200, b"public layer".as_slice())
    );
    assert_eq!(
        anon.get("/v2/acme/web/tags/list").json()["tags"],
        serde_json::json!(["1.0"])
    );
    assert_eq!(
        anon.get(&format!("/v2/acme/web/referrers/{digest}")).status,
        200
    );
    assert_eq!(
        metric(&s, "berth_manifest_pulls_total{caller=\"anonymous\"}"),
        pulls_before + 1
    );
    // Pushing and deleting stay refused, and so does the private neighbour.
    let push = anon.send("POST", "/v2/acme/web/blobs/uploads/", &[], None);
    assert_eq!(push.status, 401, "{}", push.text());
    let delete = anon.send(
        "DELETE",
        &format!("/v2/acme/web/manifests/{digest}"),
        &[],
        None,
    );
    assert_eq!(delete.status, 401);
    assert_eq!(anon.get("/v2/acme/secret/manifests/1.0").status, 401);

    // Another tenant's user pulls it with their own login; wrong credentials are still
    // refused rather than taken for anonymous.
    let bob = token(
        &s,
        "bob",
        PW,
        &[
            "repository:acme/web:pull,push",
            "repository:acme/secret:pull",
        ],
    );
    assert_eq!(
        token_access(&bob),
        serde_json::json!([{"type": "repository", "name": "acme/web", "actions": ["pull"], "public": true}])
    );
    let bob = Client::with_bearer(&s, &bob);
    assert_eq!(bob.get("/v2/acme/web/manifests/1.0").body, manifest);
    assert_eq!(bob.get("/v2/acme/secret/manifests/1.0").status, 403);
    assert_eq!(
        token_resp(&s, "bob", "wrong", &["repository:acme/web:pull"]).status,
        401
    );
    // So does another account's node.
    let node = s.admin_json(&["node", "create", "edge", "--account", "globex"], None);
    let node_token = token(
        &s,
        "globex+edge",
        node["secret"].as_str().unwrap(),
        &["repository:acme/web:pull"],
    );
    assert_eq!(
        Client::with_bearer(&s, &node_token)
            .get("/v2/acme/web/manifests/1.0")
            .status,
        200
    );

    // The catalog and search show public repositories to everyone, private ones only
    // to their account.
    let catalog = anonymous(&s, &["registry:catalog:*"]).get("/v2/_catalog");
    assert_eq!(
        catalog.json()["repositories"],
        serde_json::json!(["acme/web"])
    );
    let bob_catalog =
        Client::with_bearer(&s, &token(&s, "bob", PW, &["registry:catalog:*"])).get("/v2/_catalog");
    assert_eq!(
        bob_catalog.json()["repositories"],
        serde_json::json!(["acme/web"])
    );
    let alice_catalog = Client::with_bearer(&s, &token(&s, "alice", PW, &["registry:catalog:*"]))
        .get("/v2/_catalog");
    assert_eq!(
        alice_catalog.json()["repositories"],
        serde_json::json!(["acme/secret", "acme/web"])
    );
    let mut search = Client::new(&s);
    search.auth = Some(basic("bob", PW));
    let names: Vec<String> = search.get("/v1/search?q=acme").json()["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["acme/web"]);
    // Without any credentials the catalog still asks for a token first.
    assert_eq!(Client::new(&s).get("/v2/_catalog").status, 401);

    // Private again: the anonymous token already issued stops working at once, and a
    // new one holds nothing.
    s.admin_json(&["repo", "set-visibility", "acme/web", "private"], None);
    assert_eq!(anon.get("/v2/acme/web/manifests/1.0").status, 401);
    assert_eq!(anon.get(&format!("/v2/acme/web/blobs/{layer}")).status, 401);
    let fresh = anonymous_token(&s, &["repository:acme/web:pull"]);
    assert_eq!(
        token_access(fresh.json()["token"].as_str().unwrap()),
        serde_json::json!([])
    );
    assert_eq!(bob.get("/v2/acme/web/manifests/1.0").status, 403);
}

#[test]
fn an_accounts_new_repositories_can_start_public() {
    let s = Server::start();
    s.tenant("acme", "alice", PW, "admin");
    let out = s.admin_json(
        &["account", "set-default-visibility", "acme", "public"],
        None,
    );
    assert_eq!(
        out,
        serde_json::json!({"name": "acme", "default_visibility": "public"})
    );
    pushed_by_alice(&s, "acme/fresh", "1", b"fresh layer");
    let anon = anonymous(&s, &["repository:acme/fresh:pull"]);
    assert_eq!(anon.get("/v2/acme/fresh/manifests/1").status, 200);

    s.admin_json(
        &["account", "set-default-visibility", "acme", "private"],
        None,
    );
    pushed_by_alice(&s, "acme/later", "1", b"later layer");
    let anon = anonymous(
        &s,
        &["repository:acme/later:pull", "repository:acme/fresh:pull"],
    );
    assert_eq!(anon.get("/v2/acme/later/manifests/1").status, 401);
    // A repository that already exists keeps what it was.
    assert_eq!(anon.get("/v2/acme/fresh/manifests/1").status, 200);
    let unknown = s.admin(
        &["account", "set-default-visibility", "nobody", "public"],
        None,
    );
    assert!(!unknown.status.success());
    assert!(
        String::from_utf8_lossy(&unknown.stderr).contains("account not found"),
        "{}",
        String::from_utf8_lossy(&unknown.stderr)
    );
}

#[test]
fn anonymous_requests_are_rate_limited_per_client() {
    let s = Server::start_with(&["--anonymous-rate", "6"]);
    s.tenant("acme", "alice", PW, "admin");
    pushed_by_alice(&s, "acme/web", "1.0", b"limited layer");
    s.admin_json(&["repo", "set-visibility", "acme/web", "public"], None);

    let anon = anonymous(&s, &["repository:acme/web:pull"]);
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(anon.get("/v2/acme/web/manifests/1.0").status);
    }
    // The token request took one of the six.
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429, 429, 429]);
    let refused = anon.get("/v2/acme/web/tags/list");
    assert_eq!(refused.error_code(), "TOOMANYREQUESTS");
    assert!(
        refused
            .header("retry-after")
            .is_some_and(|v| v.parse::<u64>().unwrap() >= 1)
    );
    assert_eq!(
        anonymous_token(&s, &["repository:acme/web:pull"]).status,
        429
    );
    // Visitors of the portal's public pages count against the same limit.
    let explore = page(&s, "/explore", "");
    assert_eq!(explore.status, 429);
    assert!(explore.header("retry-after").is_some());

    // Callers with credentials are not counted against it.
    let alice = Client::with_bearer(&s, &token(&s, "alice", PW, &["repository:acme/web:pull"]));
    for _ in 0..10 {
        assert_eq!(alice.get("/v2/acme/web/manifests/1.0").status, 200);
    }
}

#[test]
fn visitors_see_public_repositories_in_the_portal_and_admins_choose_what_is_public() {
    let s = Server::start();
    s.tenant("acme", "alice", PW, "admin");
    s.member("acme", "wes", PW, "write");
    pushed_by_alice(&s, "acme/web", "1.0", b"portal public layer");
    pushed_by_alice(&s, "acme/secret", "1.0", b"portal private layer");
    let alice = session_cookie(&sign_in(&s, "alice", PW));
    let wes = session_cookie(&sign_in(&s, "wes", PW));
    let set = |cookie: &str, visibility: &str, typed: &str| {
        post_form(
            &s,
            cookie,
            "/api/set_visibility",
            &format!("repository=acme%2Fweb&visibility={visibility}&confirm={typed}"),
        )
    };

    // Before anything is public, visitors are asked to sign in for either name, and the
    // Explore page says nothing is public.
    for path in [
        "/r/acme/web",
        "/r/acme/secret",
        "/r/acme/none",
        "/t/acme/web:1.0",
    ] {
        let r = page(&s, path, "");
        assert_eq!(r.status, 303, "{path}");
        assert!(
            r.header("location").unwrap().starts_with("/sign-in?next="),
            "{path}"
        );
    }
    let explore = page(&s, "/explore", "");
    assert_eq!(explore.status, 200);
    assert!(explore.text().contains("No repository is public yet."));

    // Only an admin of the account makes it public, and only after typing its name.
    let r = set(&wes, "public", "acme%2Fweb");
    assert_eq!(r.status, 403, "{}", r.text());
    let r = set(&alice, "public", "web");
    assert_eq!(r.status, 400);
    assert!(
        r.text()
            .contains("Type the repository's name, acme/web, to make it public.")
    );
    let r = set(&alice, "public", "acme%2Fweb");
    assert_eq!(r.status, 200, "{}", r.text());

    // Now visitors read its Repository and Tag pages (without delete buttons) and find
    // it on Explore; the private one still asks them to sign in.
    let repo = page(&s, "/r/acme/web", "");
    assert_eq!(repo.status, 200);
    let html = repo.text();
    assert!(html.contains("1.0") && html.contains("Public"), "{html}");
    assert!(
        !html.contains("Delete repository") && !html.contains("Make private"),
        "{html}"
    );
    assert!(!html.contains("Delete tag"), "{html}");
    assert_eq!(page(&s, "/t/acme/web:1.0", "").status, 200);
    assert_eq!(page(&s, "/r/acme/secret", "").status, 303);
    let explore = page(&s, "/explore", "").text();
    assert!(explore.contains("href=\"/r/acme/web\""), "{explore}");
    assert!(!explore.contains("acme/secret"), "{explore}");
    assert!(
        page(&s, "/explore?q=sec", "")
            .text()
            .contains("No public repository matches that filter.")
    );
    let anonymous_call = Client::new(&s).send(
        "POST",
        "/api/repository",
        &[
            ("Origin", &s.url("")),
            ("Accept", "application/json"),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        Some(b"name=acme%2Fsecret"),
    );
    assert_eq!(anonymous_call.status, 401, "{}", anonymous_call.text());

    // The admin sees the switch back; a writer sees the tag delete buttons but not it.
    let html = page(&s, "/r/acme/web", &alice).text();
    assert!(
        html.contains("Make private") && html.contains("Delete repository"),
        "{html}"
    );
    let html = page(&s, "/r/acme/web", &wes).text();
    assert!(
        html.contains("Delete tag 1.0") && !html.contains("Make private"),
        "{html}"
    );
    let r = set(&alice, "private", "");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(page(&s, "/r/acme/web", "").status, 303);
    assert!(
        page(&s, "/explore", "")
            .text()
            .contains("No repository is public yet.")
    );
}
