//! The portal over HTTP, as a browser without JavaScript uses it: sign in with the
//! form, see the account's repositories, nothing of other accounts, sign out.

mod common;
use common::*;

const PW: &str = "portal password 1";

#[test]
fn sign_in_and_see_only_ones_own_repositories() {
    let s = Server::start();
    s.tenant("acme", "alice", PW, "admin");
    s.tenant("globex", "bob", PW, "admin");
    let a = Client::with_bearer(
        &s,
        &token(
            &s,
            "alice",
            PW,
            &[
                "repository:acme/web:pull,push",
                "repository:acme/api:pull,push",
            ],
        ),
    );
    push_image(&a, "acme/web", "1.0", &[b"web layer"]);
    push_image(&a, "acme/web", "1.1", &[b"web layer 2"]);
    push_image(&a, "acme/api", "v1", &[b"api layer"]);

    let r = sign_in(&s, "alice", PW);
    assert!(matches!(r.status, 302 | 303), "{} {}", r.status, r.text());
    // A member of exactly one account lands on its Repositories page.
    assert_eq!(r.header("location"), Some("/a/acme"));
    let cookie = session_cookie(&r);
    let set = r.headers_all("set-cookie").join("\n");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );

    let home = page(&s, "/", &cookie).text();
    assert!(home.contains("Signed in as alice"), "{home}");
    assert!(home.contains("href=\"/a/acme\""), "{home}");

    let list = page(&s, "/a/acme", &cookie);
    assert_eq!(list.status, 200);
    let html = list.text();
    assert!(
        html.contains("<title>acme — Repositories — Berth</title>"),
        "{html}"
    );
    for name in ["acme/api", "acme/web"] {
        assert!(html.contains(name), "{name} missing: {html}");
    }
    assert!(
        html.contains(&format!("{}/acme/web", s.addr)),
        "pull URI: {html}"
    );
    assert!(html.contains("2 repositories"), "{html}");
    let filtered = page(&s, "/a/acme?q=web", &cookie).text();
    assert!(
        filtered.contains("acme/web") && !filtered.contains("acme/api"),
        "{filtered}"
    );

    // Another account's member sees nothing of acme, even by typing its address.
    let bob = session_cookie(&sign_in(&s, "bob", PW));
    let other = page(&s, "/a/acme", &bob).text();
    assert!(other.contains("You do not have access to that."), "{other}");
    // Nothing of its repositories: no link to one, no pull URI (the page's own
    // buttons name the account, as its address does, and `/a/acme/webhooks`).
    assert!(
        !other.contains("/r/acme/web") && !other.contains(&format!("{}/acme/web", s.addr)),
        "{other}"
    );
    // Without a session: sent to sign in, and back here afterwards.
    let anon = Client::new(&s).get("/a/acme?sort=size");
    assert_eq!(anon.status, 303, "{}", anon.text());
    assert_eq!(
        anon.header("location"),
        Some("/sign-in?next=%2Fa%2Facme%3Fsort%3Dsize")
    );
    assert!(!anon.text().contains("acme/web"));
    let back = sign_in_to(&s, "alice", PW, "/a/acme?sort=size");
    assert_eq!(back.header("location"), Some("/a/acme?sort=size"));
    // Only paths on this site: anything else lands where it would anyway.
    let away = sign_in_to(&s, "alice", PW, "//evil.example/x");
    assert_eq!(away.header("location"), Some("/a/acme"));

    // Sign out ends the session.
    let out = Client::new(&s).send(
        "POST",
        "/api/sign_out",
        &[
            ("Cookie", &cookie),
            ("Origin", &s.url("")),
            ("Accept", "text/html"),
        ],
        Some(b""),
    );
    assert!(matches!(out.status, 302 | 303), "{}", out.status);
    let after = page(&s, "/a/acme", &cookie).text();
    assert!(!after.contains("acme/web"), "{after}");
}

#[test]
fn wrong_passwords_and_cross_origin_posts_are_refused() {
    let s = Server::start();
    s.tenant("acme", "alice", PW, "read");
    let r = sign_in(&s, "alice", "not the password");
    assert!(
        !r.headers_all("set-cookie")
            .iter()
            .any(|c| c.starts_with("berth_session=")),
        "{:?}",
        r.headers
    );
    assert_eq!(r.header("location"), Some("/sign-in?error=credentials"));
    let form = Client::new(&s).get("/sign-in?error=credentials").text();
    assert!(form.contains("Wrong username or password."), "{form}");
    // Only known codes are shown, never text from the link.
    let odd = Client::new(&s).get("/sign-in?error=Call+555").text();
    assert!(!odd.contains("555"), "{odd}");

    let c = Client::new(&s);
    let body = format!("username=alice&password={}", PW.replace(' ', "+"));
    let r = c.send(
        "POST",
        "/api/sign_in",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Origin", "http://evil.example"),
        ],
        Some(body.as_bytes()),
    );
    assert_eq!(r.status, 403, "{}", r.text());
}

#[test]
fn the_docker_login_button_mints_a_working_day_long_credential() {
    let s = Server::start();
    s.tenant("acme", "alice", PW, "write");
    s.tenant("globex", "bob", PW, "admin");
    let cookie = session_cookie(&sign_in(&s, "alice", PW));
    let call = |cookie: &str, account: &str| {
        post_form(
            &s,
            cookie,
            "/api/docker_login",
            &format!("account={account}"),
        )
    };
    let r = call(&cookie, "acme");
    assert_eq!(r.status, 200, "{}", r.text());
    let body = r.json();
    let command = body["command"].as_str().unwrap();
    let prefix = "echo ";
    assert!(command.starts_with(prefix), "{command}");
    assert!(
        command.ends_with(&format!(
            "| docker login {} -u alice --password-stdin",
            s.addr
        )),
        "{command}"
    );
    let secret = command[prefix.len()..].split_whitespace().next().unwrap();
    assert!(secret.starts_with("berth_login_"), "{secret}");
    let day = 24 * 3600 * 1000;
    let expires = body["expires_at_ms"].as_i64().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    assert!(
        (expires - now - day).abs() < 60_000,
        "expires in 24 h: {expires}"
    );
    // The credential is what docker login will send.
    let t = token(&s, "alice", secret, &["repository:acme/app:pull,push"]);
    assert_eq!(
        token_access(&t)[0]["actions"],
        serde_json::json!(["pull", "push"])
    );
    // Nobody mints one for an account they are not in.
    let bob = session_cookie(&sign_in(&s, "bob", PW));
    let r = call(&bob, "acme");
    assert_ne!(r.status, 200);
    assert!(
        r.text().contains("You do not have access to that."),
        "{}",
        r.text()
    );
}

#[test]
fn a_tag_is_deleted_only_with_its_name_typed_and_the_right_to_delete() {
    let s = Server::start();
    s.tenant("acme", "alice", PW, "write");
    s.member("acme", "rita", PW, "read");
    s.tenant("globex", "bob", PW, "admin");
    let a = Client::with_bearer(
        &s,
        &token(&s, "alice", PW, &["repository:acme/web:pull,push"]),
    );
    push_image(&a, "acme/web", "1.0", &[b"one"]);
    push_image(&a, "acme/web", "2.0", &[b"two"]);
    let delete = |cookie: &str, tag: &str, typed: &str| {
        post_form(
            &s,
            cookie,
            "/api/delete_tag",
            &format!("repository=acme%2Fweb&tag={tag}&confirm={typed}"),
        )
    };
    let alice = session_cookie(&sign_in(&s, "alice", PW));
    let page_html = page(&s, "/r/acme/web", &alice).text();
    assert!(
        page_html.contains("1.0") && page_html.contains("2.0"),
        "{page_html}"
    );

    let r = delete(&alice, "1.0", "1.");
    assert_ne!(r.status, 200);
    assert!(
        r.text().contains("Type the tag's name, 1.0, to confirm."),
        "{}",
        r.text()
    );
    for (who, cookie) in [
        ("bob", session_cookie(&sign_in(&s, "bob", PW))),
        ("rita", session_cookie(&sign_in(&s, "rita", PW))),
    ] {
        let r = delete(&cookie, "1.0", "1.0");
        assert!(
            r.text().contains("You do not have access to that."),
            "{who}: {}",
            r.text()
        );
    }
    assert_eq!(
        a.send("HEAD", "/v2/acme/web/manifests/1.0", &[], None)
            .status,
        200,
        "still there"
    );

    let r = delete(&alice, "1.0", "1.0");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        a.send("HEAD", "/v2/acme/web/manifests/1.0", &[], None)
            .status,
        404
    );
    assert_eq!(
        a.send("HEAD", "/v2/acme/web/manifests/2.0", &[], None)
            .status,
        200
    );
    let after = page(&s, "/r/acme/web", &alice).text();
    assert!(
        !after.contains(">1.0<") && after.contains(">2.0<"),
        "{after}"
    );
}

#[test]
fn only_an_admin_deletes_a_repository_and_only_by_its_full_name() {
    let s = Server::start();
    s.tenant("acme", "alice", PW, "admin");
    s.member("acme", "wes", PW, "write");
    let a = Client::with_bearer(
        &s,
        &token(
            &s,
            "alice",
            PW,
            &["repository:acme/web:pull,push", "registry:catalog:*"],
        ),
    );
    push_image(&a, "acme/web", "1.0", &[b"one"]);
    let delete = |cookie: &str, typed: &str| {
        post_form(
            &s,
            cookie,
            "/api/delete_repository",
            &format!("repository=acme%2Fweb&confirm={typed}"),
        )
    };
    let wes = session_cookie(&sign_in(&s, "wes", PW));
    assert!(
        delete(&wes, "acme%2Fweb")
            .text()
            .contains("You do not have access to that.")
    );
    let alice = session_cookie(&sign_in(&s, "alice", PW));
    assert!(
        delete(&alice, "web")
            .text()
            .contains("Type the repository's name, acme/web, to confirm.")
    );
    assert_eq!(
        a.get("/v2/_catalog").json()["repositories"],
        serde_json::json!(["acme/web"])
    );
    let r = delete(&alice, "acme%2Fweb");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        a.get("/v2/_catalog").json()["repositories"],
        serde_json::json!([])
    );
    assert_eq!(
        a.send("HEAD", "/v2/acme/web/manifests/1.0", &[], None)
            .status,
        404
    );
}

#[test]
fn tokens_are_created_listed_without_their_secret_and_revoked() {
    let s = Server::start();
    s.tenant("acme", "alice", PW, "write");
    s.tenant("globex", "bob", PW, "admin");
    let alice = session_cookie(&sign_in(&s, "alice", PW));
    let post = |cookie: &str, path: &str, body: &str| post_form(&s, cookie, path, body);
    let r = post(
        &alice,
        "/api/create_token",
        "label=ci&access=pull&expires_days=30",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let created = r.json();
    let secret = created["secret"].as_str().unwrap().to_owned();
    let id = created["id"].as_i64().unwrap();
    let t = token(&s, "alice", &secret, &["repository:acme/app:pull,push"]);
    assert_eq!(
        token_access(&t)[0]["actions"],
        serde_json::json!(["pull"]),
        "a pull token"
    );

    let html = page(&s, "/tokens", &alice).text();
    assert!(html.contains(">ci<") && html.contains(">pull<"), "{html}");
    assert!(
        !html.contains(&secret),
        "the secret is shown once, never in the list"
    );

    let bob = session_cookie(&sign_in(&s, "bob", PW));
    assert!(
        post(&bob, "/api/revoke_token", &format!("id={id}"))
            .text()
            .contains("You do not have access to that.")
    );
    assert_eq!(token_resp(&s, "alice", &secret, &[]).status, 200);
    assert_eq!(
        post(&alice, "/api/revoke_token", &format!("id={id}")).status,
        200
    );
    assert_eq!(
        token_resp(&s, "alice", &secret, &[]).status,
        401,
        "revoked at once"
    );
    assert!(page(&s, "/tokens", &alice).text().contains("revoked"));
}

#[test]
fn the_first_start_setup_link_creates_one_site_admin_once() {
    let s = Server::start();
    let link = s
        .log
        .lock()
        .unwrap()
        .iter()
        .find_map(|l| {
            l.split_whitespace()
                .find(|w| w.contains("/setup?token="))
                .map(str::to_owned)
        })
        .expect("the setup link is logged when there is no user");
    let token = link.split("token=").nth(1).unwrap().to_owned();
    assert!(
        Client::new(&s)
            .get(&format!("/setup?token={token}"))
            .text()
            .contains("Create administrator")
    );
    let setup = |token: &str, user: &str| {
        Client::new(&s).send(
            "POST",
            "/api/setup",
            &[
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Accept", "text/html"),
                ("Origin", &s.url("")),
            ],
            Some(format!("token={token}&username={user}&password=first+admin+pw").as_bytes()),
        )
    };
    let wrong = setup("wrong", "mallory");
    assert!(wrong.text().contains("no longer valid"), "{}", wrong.text());
    assert!(
        !wrong
            .headers_all("set-cookie")
            .iter()
            .any(|c| c.starts_with("berth_session="))
    );
    let r = setup(&token, "root");
    assert_eq!(r.status, 302, "{}", r.text());
    let cookie = session_cookie(&r);
    assert!(page(&s, "/", &cookie).text().contains("Signed in as root"));
    // A site admin: every account's repositories are theirs to push to.
    s.admin_json(&["account", "create", "acme"], None);
    let t = token_access(&token_str(&s));
    assert_eq!(t[0]["actions"], serde_json::json!(["push"]));
    // The link worked once.
    let again = setup(&token, "root2");
    assert!(again.text().contains("no longer valid"), "{}", again.text());
}

fn token_str(s: &Server) -> String {
    token(s, "root", "first admin pw", &["repository:acme/x:push"])
}

#[test]
fn the_repository_list_is_paginated_on_the_server() {
    let s = Server::start();
    s.tenant("acme", "alice", PW, "admin");
    let scopes: Vec<String> = (0..30)
        .map(|i| format!("repository:acme/r{i:02}:pull,push"))
        .collect();
    let scope_refs: Vec<&str> = scopes.iter().map(String::as_str).collect();
    let a = Client::with_bearer(&s, &token(&s, "alice", PW, &scope_refs));
    for i in 0..30 {
        push_blob(&a, &format!("acme/r{i:02}"), b"x");
    }
    let cookie = session_cookie(&sign_in(&s, "alice", PW));
    let first = page(&s, "/a/acme", &cookie).text();
    assert_eq!(first.matches("<td class=\"name\">").count(), 25, "{first}");
    assert!(
        first.contains("30 repositories — page 1 of 2") && first.contains("rel=\"next\""),
        "{first}"
    );
    let second = page(&s, "/a/acme?page=2&q=", &cookie).text();
    assert_eq!(second.matches("<td class=\"name\">").count(), 5, "{second}");
    assert!(
        second.contains("acme/r29") && !second.contains(">acme/r00<"),
        "{second}"
    );
}

#[test]
fn account_admins_create_and_revoke_nodes_that_only_pull() {
    let s = Server::start();
    s.tenant("acme", "alice", PW, "admin");
    s.member("acme", "wes", PW, "write");
    let a = Client::with_bearer(
        &s,
        &token(&s, "alice", PW, &["repository:acme/web:pull,push"]),
    );
    push_image(&a, "acme/web", "1.0", &[b"one"]);
    let wes = session_cookie(&sign_in(&s, "wes", PW));
    let r = post_form(&s, &wes, "/api/create_node", "account=acme&name=edge-1");
    assert!(
        r.text().contains("You do not have access to that."),
        "{}",
        r.text()
    );

    let alice = session_cookie(&sign_in(&s, "alice", PW));
    let r = post_form(&s, &alice, "/api/create_node", "account=acme&name=edge-1");
    assert_eq!(r.status, 200, "{}", r.text());
    let node = r.json();
    assert_eq!(node["username"], "acme+edge-1");
    let secret = node["secret"].as_str().unwrap().to_owned();
    let t = token(
        &s,
        "acme+edge-1",
        &secret,
        &["repository:acme/web:pull,push"],
    );
    assert_eq!(token_access(&t)[0]["actions"], serde_json::json!(["pull"]));

    let html = page(&s, "/a/acme/nodes", &wes).text();
    assert!(
        html.contains("acme+edge-1") && !html.contains(&secret),
        "members see nodes, never secrets"
    );
    let id = s.admin_json(&["node", "create", "edge-2", "--account", "acme"], None)["id"]
        .as_i64()
        .unwrap();
    assert!(
        post_form(
            &s,
            &wes,
            "/api/revoke_node",
            &format!("account=acme&id={id}")
        )
        .text()
        .contains("You do not have access")
    );
    let listed = page(&s, "/a/acme/nodes", &alice).text();
    let first_id = listed
        .split("name=\"id\" value=\"")
        .nth(2)
        .and_then(|x| x.split('"').next())
        .unwrap_or_default()
        .to_owned();
    assert!(!first_id.is_empty(), "{listed}");
    assert_eq!(
        post_form(
            &s,
            &alice,
            "/api/revoke_node",
            &format!("account=acme&id={first_id}")
        )
        .status,
        200
    );
    assert_eq!(
        token_resp(&s, "acme+edge-1", &secret, &[]).status,
        401,
        "revoked at once"
    );
}

#[test]
fn the_activity_page_shows_the_accounts_audit_log_newest_first() {
    let s = Server::start();
    s.tenant("acme", "alice", PW, "admin");
    s.tenant("globex", "bob", PW, "admin");
    let a = Client::with_bearer(
        &s,
        &token(&s, "alice", PW, &["repository:acme/web:pull,push,delete"]),
    );
    push_image(&a, "acme/web", "1.0", &[b"one"]);
    assert_eq!(
        a.send("DELETE", "/v2/acme/web/manifests/1.0", &[], None)
            .status,
        202
    );
    let alice = session_cookie(&sign_in(&s, "alice", PW));
    let html = page(&s, "/a/acme/activity", &alice).text();
    let push = html.find(">manifest.push<").expect("the push is listed");
    let delete = html.find(">tag.delete<").expect("the deletion is listed");
    assert!(delete < push, "newest first: {html}");
    let only_deletes = page(&s, "/a/acme/activity?kind=delete&repository=", &alice).text();
    assert!(
        only_deletes.contains(">tag.delete<") && !only_deletes.contains(">manifest.push<"),
        "{only_deletes}"
    );
    let bob = session_cookie(&sign_in(&s, "bob", PW));
    let other = page(&s, "/a/acme/activity", &bob).text();
    assert!(
        other.contains("You do not have access to that.") && !other.contains("manifest.push"),
        "{other}"
    );
}
