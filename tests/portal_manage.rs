//! The portal's management pages over HTTP: sorting and bulk deletion of repositories,
//! live updates, the Tag page, members, accounts and one's own password.

mod common;
use common::*;

use std::time::Duration;

const PW: &str = "portal password 1";

/// The names of the repository rows of a list page, in order.
fn listed(html: &str) -> Vec<String> {
    html.split("<td class=\"name\"><a href=\"/r/")
        .skip(1)
        .filter_map(|rest| rest.split('"').next().map(str::to_owned))
        .collect()
}

/// Pushes a manifest document (already JSON) to `repo:reference`.
fn put_manifest(c: &Client, repo: &str, reference: &str, media_type: &str, body: &[u8]) -> String {
    let r = c.send(
        "PUT",
        &format!("/v2/{repo}/manifests/{reference}"),
        &[("Content-Type", media_type)],
        Some(body),
    );
    assert_eq!(r.status, 201, "push manifest: {}", r.text());
    sha256(body)
}

#[test]
fn repositories_sort_by_size_or_last_push_and_pages_hold_25_50_or_100() {
    let s = Server::start();
    s.tenant("acme", "alice", PW, "admin");
    let scopes: Vec<String> = (0..60)
        .map(|i| format!("repository:acme/r{i:02}:pull,push"))
        .collect();
    let scope_refs: Vec<&str> = scopes.iter().map(String::as_str).collect();
    let a = Client::with_bearer(&s, &token(&s, "alice", PW, &scope_refs));
    for i in 0..60 {
        push_blob(&a, &format!("acme/r{i:02}"), format!("blob {i}").as_bytes());
    }
    // r07 is the largest (two distinct blobs), r03 the most recently pushed.
    push_image(&a, "acme/r07", "big", &[&[7u8; 5000]]);
    std::thread::sleep(Duration::from_millis(20));
    push_image(&a, "acme/r03", "new", &[b"small"]);
    let cookie = session_cookie(&sign_in(&s, "alice", PW));

    let by_name = listed(&page(&s, "/a/acme", &cookie).text());
    assert_eq!(by_name.len(), 25);
    assert_eq!(by_name[0], "acme/r00");
    let by_size = listed(&page(&s, "/a/acme?sort=size", &cookie).text());
    assert_eq!(by_size[0], "acme/r07", "{by_size:?}");
    assert_eq!(by_size[1], "acme/r03", "{by_size:?}");
    let by_push = listed(&page(&s, "/a/acme?sort=pushed", &cookie).text());
    assert_eq!(&by_push[..2], ["acme/r03", "acme/r07"], "{by_push:?}");

    let fifty = page(&s, "/a/acme?per=50", &cookie).text();
    assert_eq!(listed(&fifty).len(), 50);
    assert!(fifty.contains("60 repositories — page 1 of 2"), "{fifty}");
    assert!(
        fifty.contains("href=\"?q=&amp;sort=name&amp;per=50&amp;page=2\""),
        "the next link keeps the page size: {fifty}"
    );
    assert_eq!(
        listed(&page(&s, "/a/acme?per=100", &cookie).text()).len(),
        60
    );
    // A page size nobody offered falls back to the default.
    assert_eq!(listed(&page(&s, "/a/acme?per=7", &cookie).text()).len(), 25);
    // Sizes are the stored bytes of each repository's distinct blobs.
    let sized = page(&s, "/a/acme?sort=size&q=r07", &cookie).text();
    assert!(sized.contains("5.0 KiB"), "{sized}");
}

#[test]
fn checked_repositories_are_deleted_together_after_typing_their_count() {
    let s = Server::start();
    s.tenant("acme", "alice", PW, "admin");
    s.member("acme", "walt", PW, "write");
    s.tenant("globex", "bob", PW, "admin");
    let a = Client::with_bearer(
        &s,
        &token(
            &s,
            "alice",
            PW,
            &[
                "repository:acme/a:pull,push",
                "repository:acme/b:pull,push",
                "repository:acme/c:pull,push",
            ],
        ),
    );
    for r in ["acme/a", "acme/b", "acme/c"] {
        push_image(&a, r, "1", &[r.as_bytes()]);
    }
    let delete = |cookie: &str, names: &[&str], typed: &str| {
        Client::new(&s).send(
            "POST",
            "/api/delete_repositories",
            &[
                ("Cookie", cookie),
                ("Origin", &s.url("")),
                ("Accept", "application/json"),
                ("Content-Type", "application/json"),
            ],
            Some(
                serde_json::json!({"repositories": names, "confirm": typed})
                    .to_string()
                    .as_bytes(),
            ),
        )
    };
    let alice = session_cookie(&sign_in(&s, "alice", PW));
    let r = delete(&alice, &["acme/a", "acme/b"], "3");
    assert!(
        r.text()
            .contains("Type the number of repositories, 2, to confirm."),
        "{}",
        r.text()
    );
    // Not an admin of acme, or another tenant: refused, and nothing goes.
    for who in ["walt", "bob"] {
        let cookie = session_cookie(&sign_in(&s, who, PW));
        let r = delete(&cookie, &["acme/a", "acme/b"], "2");
        assert!(
            r.text().contains("You do not have access to that."),
            "{who}: {}",
            r.text()
        );
    }
    let catalog = |c: &Client| c.get("/v2/_catalog").json()["repositories"].clone();
    let root = Client::with_bearer(&s, &token(&s, "alice", PW, &["registry:catalog:*"]));
    assert_eq!(catalog(&root).as_array().unwrap().len(), 3);

    let r = delete(&alice, &["acme/a", "acme/b"], "2");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(catalog(&root), serde_json::json!(["acme/c"]));
    let list = page(&s, "/a/acme", &alice).text();
    assert_eq!(listed(&list), ["acme/c"]);
    let activity = page(&s, "/a/acme/activity?kind=delete", &alice).text();
    assert_eq!(
        activity
            .matches("<td class=\"action\">repository.delete")
            .count(),
        2,
        "{activity}"
    );
}

/// Reads server-sent events from `path` until `want` appears or `within` passes.
#[test]
fn open_pages_hear_of_pushes_and_deletions_within_a_second() {
    let s = Server::start();
    s.tenant("acme", "alice", PW, "admin");
    s.tenant("globex", "bob", PW, "admin");
    let alice = session_cookie(&sign_in(&s, "alice", PW));
    let bob = session_cookie(&sign_in(&s, "bob", PW));
    assert_eq!(EventStream::open(&s, "/events/a/acme", "x=y").0, 401);
    assert_eq!(EventStream::open(&s, "/events/a/acme", &bob).0, 403);
    let (status, mut acme) = EventStream::open(&s, "/events/a/acme", &alice);
    assert_eq!(status, 200);
    let (_, mut globex) = EventStream::open(&s, "/events/a/globex", &bob);

    let a = Client::with_bearer(
        &s,
        &token(&s, "alice", PW, &["repository:acme/live:pull,push,delete"]),
    );
    push_image(&a, "acme/live", "1.0", &[b"live"]);
    let pushed = acme.wait_for("acme/live", Duration::from_secs(1));
    assert!(
        pushed
            .as_deref()
            .is_some_and(|l| l.contains("manifest.push")),
        "{pushed:?}"
    );
    a.send("DELETE", "/v2/acme/live/manifests/1.0", &[], None);
    let deleted = acme.wait_for("tag.delete", Duration::from_secs(1));
    assert!(deleted.is_some());
    // Another tenant hears nothing of it.
    assert_eq!(
        globex.wait_for("acme/live", Duration::from_millis(500)),
        None
    );
}

#[test]
fn the_tag_page_shows_the_manifest_layers_config_platforms_and_referrers() {
    let s = Server::start();
    s.tenant("acme", "alice", PW, "write");
    s.tenant("globex", "bob", PW, "admin");
    let a = Client::with_bearer(
        &s,
        &token(&s, "alice", PW, &["repository:acme/app:pull,push,delete"]),
    );
    let config = br#"{"created":"2026-11-25T10:00:00Z","os":"linux","architecture":"arm64",
        "config":{"Entrypoint":["/bin/app"],"Cmd":["--serve"],"Env":["MODE=production"],
        "Labels":{"org.opencontainers.image.source":"https://example.com/app"},"ExposedPorts":{"8080/tcp":{}}},
        "rootfs":{"type":"layers","diff_ids":[]},
        "history":[{"created_by":"COPY app /bin/app"}]}"#;
    let config_digest = push_blob(&a, "acme/app", config);
    let layer_digest = push_blob(&a, "acme/app", &[1u8; 3000]);
    let image = serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer_digest, "size": 3000}],
    })
    .to_string();
    let oci = "application/vnd.oci.image.manifest.v1+json";
    let image_digest = put_manifest(&a, "acme/app", "1.0", oci, image.as_bytes());
    let index = serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": oci, "digest": image_digest, "size": image.len(),
                       "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}}],
    })
    .to_string();
    put_manifest(
        &a,
        "acme/app",
        "multi",
        "application/vnd.oci.image.index.v1+json",
        index.as_bytes(),
    );
    let empty = push_blob(&a, "acme/app", b"{}");
    let signature = serde_json::json!({
        "schemaVersion": 2, "mediaType": oci,
        "artifactType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty, "size": 2},
        "layers": [],
        "subject": {"mediaType": oci, "digest": image_digest, "size": image.len()},
    })
    .to_string();
    let signature_digest = sha256(signature.as_bytes());
    put_manifest(&a, "acme/app", &signature_digest, oci, signature.as_bytes());
    // An untagged image: pushed by digest only.
    let (_, old) = push_image(&a, "acme/app", "old", &[b"old layer"]);
    a.send("DELETE", "/v2/acme/app/manifests/old", &[], None);
    // Pulled once, by tag.
    assert_eq!(a.get("/v2/acme/app/manifests/1.0").status, 200);

    let alice = session_cookie(&sign_in(&s, "alice", PW));
    let tag = page(&s, "/t/acme/app:1.0", &alice);
    assert_eq!(tag.status, 200);
    let html = tag.text();
    for want in [
        "<title>acme/app:1.0 — Berth</title>",
        &format!("docker pull {}/acme/app:1.0", s.addr),
        &format!("docker pull {}/acme/app@{image_digest}", s.addr),
        &layer_digest,
        &config_digest,
        "2.9 KiB",
        "/bin/app",
        "--serve",
        "MODE=production",
        "org.opencontainers.image.source",
        "8080/tcp",
        "COPY app /bin/app",
        "linux/arm64",
        "application/vnd.dev.sigstore.bundle.v0.3+json",
    ] {
        assert!(html.contains(want), "{want} missing: {html}");
    }
    let multi = page(&s, "/t/acme/app:multi", &alice).text();
    assert!(
        multi.contains("linux/arm64/v8") && multi.contains(&format!("/t/acme/app@{image_digest}")),
        "{multi}"
    );
    let by_digest = page(&s, &format!("/t/acme/app@{signature_digest}"), &alice).text();
    assert!(by_digest.contains("artifact"), "{by_digest}");

    let repo = page(&s, "/r/acme/app", &alice).text();
    let untagged = repo.split("Untagged manifests").nth(1).unwrap_or_default();
    assert!(
        untagged.contains(&old[..19]),
        "untagged image listed: {repo}"
    );
    let referrers = repo.split("Referrers").nth(1).unwrap_or_default();
    assert!(
        referrers.contains(&signature_digest[..19]),
        "signature listed apart: {repo}"
    );
    assert!(
        !untagged
            .split("Referrers")
            .next()
            .unwrap_or_default()
            .contains(&signature_digest[..19]),
        "a referrer is not an untagged image: {repo}"
    );
    assert!(
        repo.contains("linux/arm64/v8"),
        "index platforms in the tags table: {repo}"
    );
    // 1.0 was pulled; multi never was.
    let row = |tag: &str| {
        repo.split(&format!("/t/acme/app:{tag}\""))
            .nth(1)
            .and_then(|r| r.split("</tr>").next())
            .unwrap_or_default()
            .to_owned()
    };
    assert!(row("1.0").contains("just now"), "{}", row("1.0"));
    assert!(row("multi").contains("never"), "{}", row("multi"));

    // Another tenant cannot read it.
    let bob = session_cookie(&sign_in(&s, "bob", PW));
    let refused = page(&s, "/t/acme/app:1.0", &bob).text();
    assert!(
        refused.contains("You do not have access to that.") && !refused.contains(&layer_digest),
        "{refused}"
    );
    let missing = page(&s, "/t/acme/app:nope", &alice).text();
    assert!(
        missing.contains("There is no such tag or manifest."),
        "{missing}"
    );
}

#[test]
fn account_admins_add_members_set_roles_and_remove_them() {
    let s = Server::start();
    s.tenant("acme", "alice", PW, "admin");
    s.member("acme", "walt", PW, "write");
    s.tenant("globex", "bob", PW, "admin");
    let alice = session_cookie(&sign_in(&s, "alice", PW));
    let members = page(&s, "/a/acme/members", &alice).text();
    assert!(
        members.contains(">alice<") && members.contains(">walt<"),
        "{members}"
    );
    // Members who are not admins, and other tenants, may not see or change it.
    let walt = session_cookie(&sign_in(&s, "walt", PW));
    assert!(
        page(&s, "/a/acme/members", &walt)
            .text()
            .contains("You do not have access to that.")
    );
    let bob = session_cookie(&sign_in(&s, "bob", PW));
    let r = post_form(
        &s,
        &bob,
        "/api/add_member",
        "account=acme&username=bob&role=admin&password=",
    );
    assert!(
        r.text().contains("You do not have access to that."),
        "{}",
        r.text()
    );

    // A new person: a first password creates their user.
    let r = post_form(
        &s,
        &alice,
        "/api/add_member",
        "account=acme&username=nina&role=read&password=",
    );
    assert!(r.text().contains("Give a first password"), "{}", r.text());
    let r = post_form(
        &s,
        &alice,
        "/api/add_member",
        "account=acme&username=nina&role=read&password=nina+password+1",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let nina_token = token_resp(
        &s,
        "nina",
        "nina password 1",
        &["repository:acme/x:pull,push"],
    );
    assert_eq!(nina_token.status, 200);
    assert_eq!(
        token_access(nina_token.json()["token"].as_str().unwrap())[0]["actions"],
        serde_json::json!(["pull"])
    );
    // An existing user of another account joins with a role; then the role changes.
    post_form(
        &s,
        &alice,
        "/api/add_member",
        "account=acme&username=bob&role=write&password=",
    );
    let bob_token = token(&s, "bob", PW, &["repository:acme/x:pull,push"]);
    assert_eq!(
        token_access(&bob_token)[0]["actions"],
        serde_json::json!(["pull", "push"])
    );
    // The only admin cannot demote or remove themself.
    let r = post_form(
        &s,
        &alice,
        "/api/add_member",
        "account=acme&username=alice&role=read&password=",
    );
    assert!(r.text().contains("only admin"), "{}", r.text());
    let r = post_form(
        &s,
        &alice,
        "/api/remove_member",
        "account=acme&username=alice",
    );
    assert!(r.text().contains("only admin"), "{}", r.text());

    let r = post_form(
        &s,
        &alice,
        "/api/remove_member",
        "account=acme&username=walt",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let walt_token = token(&s, "walt", PW, &["repository:acme/x:pull"]);
    assert_eq!(token_access(&walt_token), serde_json::json!([]));
    let after = page(&s, "/a/acme/members", &alice).text();
    assert!(
        !after.contains(">walt<") && after.contains(">nina<") && after.contains(">bob<"),
        "{after}"
    );
}

#[test]
fn site_admins_see_every_accounts_usage_and_create_accounts() {
    let s = Server::start();
    let setup = s.admin_json(
        &["user", "create", "root", "--site-admin"],
        Some("root password 1"),
    );
    assert!(setup.is_object());
    s.tenant("acme", "alice", PW, "admin");
    let a = Client::with_bearer(
        &s,
        &token(
            &s,
            "alice",
            PW,
            &[
                "repository:acme/one:pull,push",
                "repository:acme/two:pull,push",
            ],
        ),
    );
    // The same 4000-byte layer in two repositories is stored, and counted, once.
    let layer = [9u8; 4000];
    push_blob(&a, "acme/one", &layer);
    push_blob(&a, "acme/two", &layer);
    let root = session_cookie(&sign_in(&s, "root", "root password 1"));
    let html = page(&s, "/accounts", &root).text();
    let acme = html
        .split("href=\"/a/acme\"")
        .nth(1)
        .and_then(|r| r.split("</tr>").next())
        .unwrap_or_default();
    assert!(
        acme.contains("<td>2</td>") && acme.contains("3.9 KiB"),
        "{html}"
    );

    let r = post_form(&s, &root, "/api/create_account", "name=initech");
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        page(&s, "/accounts", &root)
            .text()
            .contains("href=\"/a/initech\"")
    );
    let r = post_form(&s, &root, "/api/create_account", "name=initech");
    assert!(r.text().contains("exists already"), "{}", r.text());

    let alice = session_cookie(&sign_in(&s, "alice", PW));
    assert!(
        page(&s, "/accounts", &alice)
            .text()
            .contains("You do not have access to that.")
    );
    let r = post_form(&s, &alice, "/api/create_account", "name=evil");
    assert!(
        r.text().contains("You do not have access to that."),
        "{}",
        r.text()
    );
}

#[test]
fn people_change_their_own_password_with_the_current_one() {
    let s = Server::start();
    s.tenant("acme", "alice", PW, "admin");
    let alice = session_cookie(&sign_in(&s, "alice", PW));
    let r = post_form(
        &s,
        &alice,
        "/api/change_password",
        "current=wrong+one&new=brand+new+pw",
    );
    assert!(
        r.text().contains("The current password is wrong."),
        "{}",
        r.text()
    );
    let r = post_form(
        &s,
        &alice,
        "/api/change_password",
        "current=portal+password+1&new=short",
    );
    assert!(r.text().contains("at least 8 characters"), "{}", r.text());
    let r = post_form(
        &s,
        &alice,
        "/api/change_password",
        "current=portal+password+1&new=brand+new+pw",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(token_resp(&s, "alice", PW, &[]).status, 401);
    assert_eq!(token_resp(&s, "alice", "brand new pw", &[]).status, 200);
    let home = page(&s, "/password", &alice).text();
    assert!(
        home.contains("<title>Change password — Berth</title>"),
        "{home}"
    );
}
