//! The production edge over HTTP: throttling that locks no one else out, trusted
//! proxies, the token endpoint's bounds, `/metrics` access, browser hardening headers,
//! and credential lifecycles (with a test clock that runs days ahead).

mod common;
use common::*;
use std::time::Duration;

const PW: &str = "correct horse battery";

/// A token request as if it came from `client` through a trusted proxy on loopback.
fn token_from(s: &Server, client: &str, user: &str, password: &str) -> Resp {
    Client::new(s).send(
        "GET",
        "/auth/token?service=berth&scope=repository%3Aacme%2Fapp%3Apull",
        &[
            ("Authorization", &basic(user, password)),
            ("X-Forwarded-For", client),
        ],
        None,
    )
}

#[test]
fn password_guesses_are_throttled_per_user_and_address_and_lock_no_one_else_out() {
    let s = Server::start_with(&["--trusted-proxy", "127.0.0.1"]);
    s.tenant("acme", "alice", PW, "read");
    s.member("acme", "bob", PW, "read");
    s.member("acme", "carol", PW, "read");
    let pat = s.admin_json(
        &["token", "create", "--user", "alice", "--access", "pull"],
        None,
    );
    let pat = pat["secret"].as_str().unwrap().to_owned();

    // Five wrong passwords for alice from one address…
    for _ in 0..5 {
        assert_eq!(token_from(&s, "203.0.113.1", "alice", "nope").status, 401);
    }
    // …and from there even her right password waits, told for how long, at once.
    let started = std::time::Instant::now();
    let r = token_from(&s, "203.0.113.1", "alice", PW);
    assert_eq!(r.status, 429, "{}", r.text());
    assert_eq!(r.error_code(), "TOOMANYREQUESTS");
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=900).contains(&wait), "{wait}");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "refused, not held"
    );
    // Nobody else is locked out: alice from another address, her token from the same
    // one, and another user from the same one.
    assert_eq!(token_from(&s, "203.0.113.2", "alice", PW).status, 200);
    assert_eq!(token_from(&s, "203.0.113.1", "alice", &pat).status, 200);
    assert_eq!(token_from(&s, "203.0.113.1", "bob", PW).status, 200);
    // Once the wait is over, one more try is let in, and the next wait is longer.
    std::thread::sleep(Duration::from_secs(wait));
    assert_eq!(token_from(&s, "203.0.113.1", "alice", "nope").status, 401);
    let longer: u64 = token_from(&s, "203.0.113.1", "alice", PW)
        .header("retry-after")
        .unwrap()
        .parse()
        .unwrap();
    assert!(longer > wait, "{longer} after {wait}");

    // A burst of parallel guesses gets no more tries than a sequence.
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..30)
            .map(|_| scope.spawn(|| token_from(&s, "203.0.113.3", "carol", "nope").status))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let tried = statuses.iter().filter(|s| **s == 401).count();
    assert!(
        tried <= 5,
        "{tried} of 30 parallel guesses were tried: {statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| matches!(s, 401 | 429)),
        "{statuses:?}"
    );

    // Guessed names count against the address; a real user from there still works.
    for i in 0..20 {
        assert_eq!(
            token_from(&s, "203.0.113.4", &format!("nobody{i}"), "x").status,
            401
        );
    }
    assert_eq!(token_from(&s, "203.0.113.4", "nobody20", "x").status, 429);
    assert_eq!(token_from(&s, "203.0.113.4", "bob", PW).status, 200);
    // IPv6 counts per /64: another address of the same /64 shares the count.
    for _ in 0..5 {
        assert_eq!(token_from(&s, "2001:db8:1:2::1", "bob", "nope").status, 401);
    }
    assert_eq!(token_from(&s, "2001:db8:1:2::99", "bob", PW).status, 429);
    assert_eq!(token_from(&s, "2001:db8:1:3::1", "bob", PW).status, 200);
    // A name longer than 256 bytes is refused unread.
    let long = "a".repeat(300);
    assert_eq!(token_from(&s, "203.0.113.5", &long, PW).status, 401);
}

#[test]
fn the_token_endpoint_bounds_scopes_forms_and_credentials() {
    let s = Server::start();
    s.tenant("acme", "alice", PW, "admin");
    let scopes: Vec<String> = (0..65)
        .map(|i| format!("repository:acme/r{i}:pull"))
        .collect();
    let refs: Vec<&str> = scopes.iter().map(String::as_str).collect();
    let r = token_resp(&s, "alice", PW, &refs);
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("at most 64 scopes"), "{}", r.text());
    let r = token_resp(&s, "alice", PW, &refs[..64]);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        token_access(r.json()["token"].as_str().unwrap())
            .as_array()
            .unwrap()
            .len(),
        64
    );
    // Scopes that grant nothing are left out of the token.
    let t = token(
        &s,
        "alice",
        PW,
        &["repository:acme/a:pull", "repository:other/b:pull"],
    );
    let access = token_access(&t);
    assert_eq!(access.as_array().unwrap().len(), 1, "{access}");
    assert_eq!(access[0]["name"], "acme/a");
    // A credential that cannot be read is refused like a wrong one, never anonymous.
    let r = Client::new(&s).send(
        "GET",
        "/auth/token?service=berth",
        &[("Authorization", "Basic !!!not-base64")],
        None,
    );
    assert_eq!(r.status, 401, "{}", r.text());
    assert_eq!(r.error_code(), "UNAUTHORIZED");
    // The OAuth2 form is read up to 64 KiB, and refused beyond in JSON.
    let form = format!(
        "grant_type=password&username=alice&password=x&pad={}",
        "a".repeat(70_000)
    );
    let r = Client::new(&s).send(
        "POST",
        "/auth/token",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        Some(form.as_bytes()),
    );
    assert_eq!(r.status, 413, "{}", r.text());
    assert!(r.json()["errors"][0]["message"].is_string());
}

#[test]
fn forwarding_headers_count_only_from_trusted_proxies() {
    let forged = [
        ("X-Forwarded-For", "198.51.100.7"),
        ("X-Forwarded-Proto", "https"),
        ("X-Forwarded-Host", "registry.example.com"),
    ];
    // Nobody is trusted: the headers are ignored.
    let s = Server::start();
    s.tenant("acme", "alice", PW, "admin");
    let r = Client::new(&s).send("GET", "/v2/", &forged, None);
    let realm = r.header("www-authenticate").unwrap().to_owned();
    assert!(
        realm.contains(&format!("realm=\"http://{}/auth/token\"", s.addr)),
        "{realm}"
    );
    let mut c = Client::new(&s);
    c.auth = Some(basic("alice", PW));
    assert_eq!(
        c.send("GET", "/auth/token?service=berth", &forged, None)
            .status,
        200
    );
    let cookie = session_cookie(&sign_in(&s, "alice", PW));
    let activity = page(&s, "/a/acme/activity?kind=login", &cookie).text();
    assert!(activity.contains("127.0.0.1"), "{activity}");
    assert!(!activity.contains("198.51.100.7"), "{activity}");
    drop(s);

    // Loopback is a trusted proxy: its headers say who the client is and what it asked.
    let s = Server::start_with(&["--trusted-proxy", "127.0.0.0/8"]);
    s.tenant("acme", "alice", PW, "admin");
    let r = Client::new(&s).send("GET", "/v2/", &forged, None);
    let realm = r.header("www-authenticate").unwrap().to_owned();
    assert!(
        realm.contains("realm=\"https://registry.example.com/auth/token\""),
        "{realm}"
    );
    assert_eq!(
        r.header("strict-transport-security"),
        Some("max-age=31536000"),
        "the client used https"
    );
    let mut c = Client::new(&s);
    c.auth = Some(basic("alice", PW));
    assert_eq!(
        c.send("GET", "/auth/token?service=berth", &forged, None)
            .status,
        200
    );
    let cookie = session_cookie(&sign_in(&s, "alice", PW));
    let activity = page(&s, "/a/acme/activity?kind=login", &cookie).text();
    assert!(activity.contains("198.51.100.7"), "{activity}");
    // The right-most address that is not a trusted proxy is the client.
    let chain = [("X-Forwarded-For", "6.6.6.6, 198.51.100.8, 127.0.0.5")];
    assert_eq!(
        c.send("GET", "/auth/token?service=berth", &chain, None)
            .status,
        200
    );
    let activity = page(&s, "/a/acme/activity?kind=login", &cookie).text();
    assert!(
        activity.contains("198.51.100.8") && !activity.contains("6.6.6.6"),
        "{activity}"
    );
}

#[test]
fn metrics_need_the_token_or_a_direct_loopback_request() {
    let s = Server::start();
    assert_eq!(
        Client::new(&s).get("/metrics").status,
        200,
        "direct from loopback"
    );
    drop(s);
    // Relayed by a trusted proxy on loopback: not a loopback client.
    let s = Server::start_with(&["--trusted-proxy", "127.0.0.1"]);
    let r = Client::new(&s).send("GET", "/metrics", &[("X-Forwarded-For", "127.0.0.1")], None);
    assert_eq!(r.status, 401, "{}", r.text());
    drop(s);
    let s = Server::start_with(&["--metrics-token", "s3cret-metrics"]);
    assert_eq!(Client::new(&s).get("/metrics").status, 401);
    let r = Client::new(&s).send(
        "GET",
        "/metrics",
        &[("Authorization", "Bearer wrong")],
        None,
    );
    assert_eq!(r.status, 401);
    let r = Client::new(&s).send(
        "GET",
        "/metrics",
        &[("Authorization", "Bearer s3cret-metrics")],
        None,
    );
    assert_eq!(r.status, 200);
    assert!(r.text().contains("berth_"), "{}", r.text());
}

#[test]
fn pages_carry_a_content_security_policy_with_the_hydration_scripts_nonce() {
    let s = Server::start();
    let r = Client::new(&s).get("/sign-in");
    assert_eq!(r.status, 200);
    let csp = r.header("content-security-policy").unwrap().to_owned();
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|n| n.split('\'').next())
        .unwrap_or_else(|| panic!("no nonce: {csp}"));
    assert!(nonce.len() >= 16, "{csp}");
    assert!(
        r.text().contains(&format!("nonce=\"{nonce}\"")),
        "the script carries it"
    );
    for part in [
        "'wasm-unsafe-eval'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(part), "{part} in {csp}");
    }
    assert_eq!(r.header("x-frame-options"), Some("DENY"));
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(r.header("referrer-policy"), Some("same-origin"));
    // A new nonce for every page.
    let again = Client::new(&s).get("/sign-in");
    assert_ne!(again.header("content-security-policy"), Some(csp.as_str()));
    // No HSTS over plain HTTP.
    assert_eq!(r.header("strict-transport-security"), None);
}

/// A refresh token from the token endpoint, as `docker login` obtains it.
fn refresh_token(s: &Server, user: &str, secret: &str) -> String {
    let mut c = Client::new(s);
    c.auth = Some(basic(user, secret));
    let r = c.get("/auth/token?service=berth&offline_token=true&client_id=docker");
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["refresh_token"].as_str().unwrap().to_owned()
}

/// What the refresh token gets, as docker uses it on every pull: the status and the
/// granted pull, if any.
fn refresh(s: &Server, token: &str) -> (u16, bool) {
    let form = format!(
        "grant_type=refresh_token&service=berth&client_id=docker&scope=repository%3Aacme%2Fapp%3Apull&refresh_token={token}"
    );
    let r = Client::new(s).send(
        "POST",
        "/auth/token",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        Some(form.as_bytes()),
    );
    let pull = r.status == 200
        && token_access(r.json()["access_token"].as_str().unwrap())
            .as_array()
            .is_some_and(|a| a.len() == 1);
    (r.status, pull)
}

#[test]
fn a_docker_login_lives_as_long_as_what_it_came_from() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Server::start_in(tmp.path());
    s.tenant("acme", "alice", PW, "read");
    let node = s.admin_json(&["node", "create", "edge-1", "--account", "acme"], None);
    let node_secret = node["secret"].as_str().unwrap().to_owned();
    let short = s.admin_json(
        &[
            "token",
            "create",
            "--user",
            "alice",
            "--access",
            "pull",
            "--expires-in",
            "1d",
        ],
        None,
    );
    let short = short["secret"].as_str().unwrap().to_owned();
    let by_password = refresh_token(&s, "alice", PW);
    let by_node = refresh_token(&s, "acme+edge-1", &node_secret);
    let by_short_token = refresh_token(&s, "alice", &short);
    let idle = refresh_token(&s, "alice", PW);
    assert_eq!(refresh(&s, &by_password), (200, true));
    drop(s);

    // Two days later: the password's and the node's logins still work; the one-day
    // token's has ended with it.
    let days = |d: u64| (d * 86_400).to_string();
    let s = Server::start_in_env(
        tmp.path(),
        &[],
        &[("BERTH_TEST_CLOCK_OFFSET_SECS", &days(2))],
    );
    assert_eq!(refresh(&s, &by_password), (200, true));
    assert_eq!(refresh(&s, &by_node), (200, true));
    assert_eq!(refresh(&s, &by_short_token).0, 401);
    // A new password ends the password's logins; revoking the node ends the node's.
    let out = s.admin(
        &["user", "set-password", "alice"],
        Some("another long password"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(refresh(&s, &by_password).0, 401);
    assert_eq!(refresh(&s, &idle).0, 401);
    assert_eq!(refresh(&s, &by_node), (200, true));
    let id = node["id"].as_i64().unwrap().to_string();
    assert!(s.admin(&["token", "revoke", &id], None).status.success());
    assert_eq!(refresh(&s, &by_node).0, 401);
    // A password login unused for 30 days ends; each use renews it.
    let renewed = refresh_token(&s, "alice", "another long password");
    let unused = refresh_token(&s, "alice", "another long password");
    drop(s);
    let s = Server::start_in_env(
        tmp.path(),
        &[],
        &[("BERTH_TEST_CLOCK_OFFSET_SECS", &days(20))],
    );
    assert_eq!(refresh(&s, &renewed), (200, true));
    drop(s);
    let s = Server::start_in_env(
        tmp.path(),
        &[],
        &[("BERTH_TEST_CLOCK_OFFSET_SECS", &days(40))],
    );
    assert_eq!(refresh(&s, &renewed), (200, true), "used 20 days ago");
    assert_eq!(refresh(&s, &unused).0, 401, "unused for 38 days");
}

#[test]
fn changing_a_password_ends_the_other_sessions_and_keeps_this_one() {
    let s = Server::start();
    s.tenant("acme", "alice", PW, "admin");
    let here = session_cookie(&sign_in(&s, "alice", PW));
    let elsewhere = session_cookie(&sign_in(&s, "alice", PW));
    assert_eq!(page(&s, "/a/acme", &elsewhere).status, 200);
    let r = post_form(
        &s,
        &here,
        "/api/change_password",
        &format!("current={}&new=a+new+long+password", PW.replace(' ', "+")),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(page(&s, "/a/acme", &here).status, 200, "this session stays");
    let gone = page(&s, "/a/acme", &elsewhere);
    assert_eq!(gone.status, 303, "the other one ended");
    // Without a session a server function is refused with 401, not 500.
    let r = post_form(&s, "", "/api/change_password", "current=a&new=b");
    assert_eq!(r.status, 401, "{}", r.text());
    assert!(r.text().contains("Please sign in."));
}

#[test]
fn a_docker_login_button_credential_works_only_in_its_account_and_is_listed() {
    let s = Server::start();
    s.tenant("acme", "alice", PW, "admin");
    s.admin_json(&["account", "create", "globex"], None);
    let out = s.admin(
        &[
            "user",
            "create",
            "walt",
            "--account",
            "globex",
            "--role",
            "write",
        ],
        Some(PW),
    );
    assert!(out.status.success());
    let alice = session_cookie(&sign_in(&s, "alice", PW));
    // alice is in globex too.
    s.admin_json(&["user", "create", "root", "--site-admin"], Some(PW));
    let root = session_cookie(&sign_in(&s, "root", PW));
    let r = post_form(
        &s,
        &root,
        "/api/add_member",
        "account=globex&username=alice&role=write&password=",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = post_form(&s, &alice, "/api/docker_login", "account=acme");
    assert_eq!(r.status, 200, "{}", r.text());
    let command = r.json()["command"].as_str().unwrap().to_owned();
    let secret = command
        .split_whitespace()
        .find(|w| w.starts_with("berth_login_"))
        .unwrap_or_else(|| panic!("{command}"))
        .trim_matches('\'')
        .to_owned();
    let t = token(
        &s,
        "alice",
        &secret,
        &[
            "repository:acme/app:pull,push",
            "repository:globex/app:pull,push",
        ],
    );
    let access = token_access(&t);
    assert_eq!(access.as_array().unwrap().len(), 1, "{access}");
    assert_eq!(access[0]["name"], "acme/app");
    // The Tokens page lists it, and revoking it there ends it.
    let tokens = post_form(&s, &alice, "/api/tokens", "");
    assert_eq!(tokens.status, 200, "{}", tokens.text());
    let list = tokens.json();
    let login = list
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["kind"] == "login")
        .unwrap_or_else(|| panic!("{list}"));
    assert!(
        login["expires_at_ms"].is_i64() && login["last_used_at_ms"].is_i64(),
        "{login}"
    );
    let page_text = page(&s, "/tokens", &alice).text();
    assert!(page_text.contains("Docker Login"), "{page_text}");
    let r = post_form(
        &s,
        &alice,
        "/api/revoke_token",
        &format!("id={}", login["id"]),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(token_resp(&s, "alice", &secret, &[]).status, 401);
}

#[test]
fn the_setup_link_creates_one_admin_even_when_submitted_twice_at_once() {
    let s = Server::start();
    let link = setup_token(&s);
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = ["first", "second"]
            .into_iter()
            .map(|name| {
                let (s, link) = (&s, &link);
                scope.spawn(move || submit_setup(s, link, name))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut sorted = statuses.clone();
    sorted.sort();
    assert_eq!(sorted, vec![200, 403], "{statuses:?}");
    let users = s.admin(&["account", "list"], None);
    assert!(users.status.success());
    // Exactly one of the two can sign in.
    let signed: Vec<bool> = ["first", "second"]
        .iter()
        .map(|u| {
            sign_in(&s, u, "long enough 1")
                .headers_all("set-cookie")
                .iter()
                .any(|c| c.starts_with("berth_session="))
        })
        .collect();
    assert_eq!(signed.iter().filter(|b| **b).count(), 1, "{signed:?}");
}

#[test]
fn an_account_holds_at_most_max_open_uploads() {
    let s = Server::start_with(&["--max-open-uploads", "3"]);
    s.tenant("acme", "alice", PW, "write");
    let a = Client::with_bearer(
        &s,
        &token(
            &s,
            "alice",
            PW,
            &["repository:acme/a:pull,push", "repository:acme/b:pull,push"],
        ),
    );
    let mut open = Vec::new();
    for repo in ["acme/a", "acme/a", "acme/b"] {
        let r = a.send("POST", &format!("/v2/{repo}/blobs/uploads/"), &[], None);
        assert_eq!(r.status, 202, "{}", r.text());
        open.push(r.header("location").unwrap().to_owned());
    }
    let r = a.send("POST", "/v2/acme/b/blobs/uploads/", &[], None);
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(r.error_code(), "DENIED");
    assert!(r.text().contains("3 uploads open"), "{}", r.text());
    // Finishing or cancelling one makes room.
    assert_eq!(a.send("DELETE", &open[0], &[], None).status, 204);
    assert_eq!(
        a.send("POST", "/v2/acme/b/blobs/uploads/", &[], None)
            .status,
        202
    );
}

#[test]
fn restoring_from_the_trash_is_refused_when_it_would_exceed_the_quota() {
    let s = Server::start();
    s.tenant("acme", "alice", PW, "admin");
    let a = Client::with_bearer(
        &s,
        &token(
            &s,
            "alice",
            PW,
            &["repository:acme/a:pull,push", "repository:acme/b:pull,push"],
        ),
    );
    push_image(&a, "acme/a", "1", &[&vec![1u8; 30_000]]);
    let alice = session_cookie(&sign_in(&s, "alice", PW));
    let r = post_form(
        &s,
        &alice,
        "/api/delete_repository",
        "repository=acme/a&confirm=acme/a",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    push_image(&a, "acme/b", "1", &[&vec![2u8; 30_000]]);
    s.admin_json(&["account", "set-quota", "acme", "50KB"], None);
    let trash = post_form(&s, &alice, "/api/trash", "account=acme").json();
    let id = trash[0]["id"].as_i64().unwrap();
    let r = post_form(&s, &alice, "/api/restore", &format!("account=acme&id={id}"));
    assert_eq!(r.status, 409, "{}", r.text());
    assert!(r.text().contains("storage quota"), "{}", r.text());
    // Nothing came back, and with room it does.
    assert_eq!(a.get("/v2/acme/a/manifests/1").status, 404);
    s.admin_json(&["account", "set-quota", "acme", "none"], None);
    let r = post_form(&s, &alice, "/api/restore", &format!("account=acme&id={id}"));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(a.get("/v2/acme/a/manifests/1").status, 200);
}

#[test]
fn a_live_stream_ends_when_the_membership_is_removed() {
    let s = Server::start();
    s.tenant("acme", "alice", PW, "admin");
    s.member("acme", "bob", PW, "read");
    let alice = session_cookie(&sign_in(&s, "alice", PW));
    let bob = session_cookie(&sign_in(&s, "bob", PW));
    let (status, mut stream) = EventStream::open(&s, "/events/a/acme", &bob);
    assert_eq!(status, 200);
    let r = post_form(
        &s,
        &alice,
        "/api/remove_member",
        "account=acme&username=bob",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        stream.wait_for_end(Duration::from_secs(35)),
        "the stream ended within the recheck"
    );
}

#[test]
fn refused_server_function_calls_carry_their_status() {
    let s = Server::start();
    s.tenant("acme", "alice", PW, "admin");
    let json = |body: &str| {
        Client::new(&s).send(
            "POST",
            "/api/sign_in",
            &[
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Accept", "application/json"),
                ("Origin", &s.url("")),
            ],
            Some(body.as_bytes()),
        )
    };
    let r = json("");
    assert_eq!(r.status, 400, "a missing field: {}", r.text());
    let r = json("username=alice&password=wrong");
    assert_eq!(r.status, 401, "{}", r.text());
    assert!(
        r.text().contains("Wrong username or password."),
        "{}",
        r.text()
    );
    let r = json(&format!("username=alice&password={}", PW.replace(' ', "+")));
    assert_eq!(r.status, 200, "{}", r.text());
}

#[test]
fn a_disabled_user_is_stopped_everywhere_at_once_and_enabling_restores_what_they_had() {
    let s = Server::start();
    s.tenant("acme", "alice", PW, "write");
    let t = s.admin_json(
        &["token", "create", "--user", "alice", "--name", "ci"],
        None,
    );
    let secret = t["secret"].as_str().unwrap().to_owned();
    let docker_login = refresh_token(&s, "alice", PW);
    let by_token = refresh_token(&s, "alice", &secret);
    let cookie = session_cookie(&sign_in(&s, "alice", PW));
    assert_eq!(page(&s, "/a/acme", &cookie).status, 200);

    let out = s.admin_json(&["user", "disable", "alice"], None);
    assert_eq!(out["disabled"], true, "{out}");
    // The password and the token are refused in words docker prints; wrong ones are
    // still plain 401s, so the state is told only to who knows the secret.
    for secret in [PW, secret.as_str()] {
        let r = token_resp(&s, "alice", secret, &["repository:acme/app:pull"]);
        assert_eq!(r.status, 403, "{}", r.text());
        assert!(r.text().contains("alice is disabled"), "{}", r.text());
    }
    assert_eq!(token_resp(&s, "alice", "wrong", &[]).status, 401);
    assert_eq!(refresh(&s, &docker_login).0, 401);
    assert_eq!(refresh(&s, &by_token).0, 401);
    // The portal session ended; signing in again says why it cannot.
    let r = page(&s, "/a/acme", &cookie);
    assert_ne!(r.status, 200, "{}", r.text());
    let r = sign_in(&s, "alice", PW);
    assert!(
        r.header("location")
            .unwrap_or_default()
            .contains("error=disabled"),
        "{:?}",
        r.headers
    );
    assert!(
        page(&s, "/sign-in?error=disabled", "")
            .text()
            .contains("This user is disabled")
    );
    let again = s.admin(&["user", "disable", "alice"], None);
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("disabled already"),
        "{again:?}"
    );

    // Enabled again: the token and the earlier docker logins work as before.
    let out = s.admin_json(&["user", "enable", "alice"], None);
    assert_eq!(out["disabled"], false, "{out}");
    assert_eq!(refresh(&s, &docker_login), (200, true));
    assert_eq!(refresh(&s, &by_token), (200, true));
    token(&s, "alice", &secret, &["repository:acme/app:pull"]);
    let cookie = session_cookie(&sign_in(&s, "alice", PW));
    assert_eq!(page(&s, "/a/acme", &cookie).status, 200);
}

#[test]
fn single_sign_on_groups_are_mapped_to_roles_by_site_admins_from_the_cli() {
    let s = Server::start();
    s.admin_json(&["account", "create", "acme"], None);
    let out = s.admin_json(
        &["account", "map-group", "acme", "acme-devs", "write"],
        None,
    );
    assert_eq!(out["role"], "write", "{out}");
    s.admin_json(
        &["account", "map-group", "acme", "acme-leads", "admin"],
        None,
    );
    // Mapping a group again replaces its role.
    s.admin_json(&["account", "map-group", "acme", "acme-devs", "read"], None);
    let listed = s.admin_json(&["account", "groups", "acme"], None);
    let pairs: Vec<(String, String)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["group"].as_str().unwrap().to_owned(),
                m["role"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        pairs,
        [
            ("acme-devs".to_owned(), "read".to_owned()),
            ("acme-leads".to_owned(), "admin".to_owned())
        ]
    );
    s.admin_json(&["account", "unmap-group", "acme", "acme-devs"], None);
    assert_eq!(
        s.admin_json(&["account", "groups", "acme"], None)
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    // Unknown things and bad roles are refused in words.
    for (args, said) in [
        (
            vec!["account", "unmap-group", "acme", "acme-devs"],
            "not found",
        ),
        (
            vec!["account", "map-group", "nope", "g", "read"],
            "not found",
        ),
        (
            vec!["account", "map-group", "acme", "g", "owner"],
            "unknown role",
        ),
    ] {
        let out = s.admin(&args, None);
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr).to_lowercase();
        assert!(err.contains(said), "{args:?}: {err}");
    }
}
