//! Immutable tags over HTTP and the command line: a tag matching a rule cannot be
//! re-pointed nor deleted (by tag, by digest, with its repository), the same digest
//! may be pushed again, and only the operator or a site admin removes a rule.

mod common;
use common::*;

const PW: &str = "immutable password 1";

fn image_manifest(c: &Client, repo: &str, layer: &[u8]) -> Vec<u8> {
    let config =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let config_digest = push_blob(c, repo, config);
    let layer_digest = push_blob(c, repo, layer);
    serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer_digest, "size": layer.len()}],
    }))
    .unwrap()
}

fn put(c: &Client, repo: &str, reference: &str, manifest: &[u8]) -> Resp {
    c.send(
        "PUT",
        &format!("/v2/{repo}/manifests/{reference}"),
        &[("Content-Type", "application/vnd.oci.image.manifest.v1+json")],
        Some(manifest),
    )
}

#[test]
fn immutable_tags_are_neither_overwritten_nor_deleted() {
    let s = Server::start();
    s.tenant("acme", "alice", PW, "admin");
    let c = Client::with_bearer(
        &s,
        &token(
            &s,
            "alice",
            PW,
            &[
                "repository:acme/app:pull,push,delete",
                "repository:acme/tool:pull,push,delete",
            ],
        ),
    );
    let one = image_manifest(&c, "acme/app", b"layer one");
    let two = image_manifest(&c, "acme/app", b"layer two");
    assert_eq!(put(&c, "acme/app", "v1.0", &one).status, 201);
    assert_eq!(put(&c, "acme/app", "latest", &one).status, 201);
    let tool = image_manifest(&c, "acme/tool", b"tool layer");
    assert_eq!(put(&c, "acme/tool", "v1.0", &tool).status, 201);

    // A rule for acme/app only.
    let out = s.admin_json(
        &["immutability", "add", "acme", "v*", "--repository", "app"],
        None,
    );
    assert_eq!(out["pattern"], "v*");
    let dup = s.admin(
        &["immutability", "add", "acme", "v*", "--repository", "app"],
        None,
    );
    assert!(!dup.status.success());
    let bad = s.admin(&["immutability", "add", "acme", "v/*"], None);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("invalid tag pattern"));
    let rules = s.admin_json(&["immutability", "list", "acme"], None);
    assert_eq!(rules.as_array().map(Vec::len), Some(1), "{rules}");
    assert_eq!(
        (
            rules[0]["pattern"].as_str(),
            rules[0]["repository"].as_str()
        ),
        (Some("v*"), Some("app"))
    );

    // The same digest again is fine; another one is refused in words docker prints.
    assert_eq!(put(&c, "acme/app", "v1.0", &one).status, 201);
    let refused = put(&c, "acme/app", "v1.0", &two);
    assert_eq!(refused.status, 403, "{}", refused.text());
    assert_eq!(refused.error_code(), "DENIED");
    assert!(
        refused
            .text()
            .contains("the tag v1.0 of acme/app is immutable"),
        "{}",
        refused.text()
    );
    // Nor can a push of another digest sneak it in through `?tag=`.
    let digest_two = sha256(&two);
    let sneaky = put(&c, "acme/app", &format!("{digest_two}?tag=v1.0"), &two);
    assert_eq!(sneaky.status, 403, "{}", sneaky.text());
    assert_eq!(
        c.get("/v2/acme/app/manifests/v1.0")
            .header("docker-content-digest"),
        Some(sha256(&one).as_str())
    );
    // A tag the rule does not match moves freely; so does v1.0 of another repository.
    assert_eq!(put(&c, "acme/app", "latest", &two).status, 201);
    let tool_two = image_manifest(&c, "acme/tool", b"tool layer two");
    assert_eq!(put(&c, "acme/tool", "v1.0", &tool_two).status, 201);

    // Deleting it by tag, or the manifest it points at by digest, is refused.
    let unknown = c.send("DELETE", "/v2/acme/app/manifests/v9", &[], None);
    assert_eq!(
        (unknown.status, unknown.error_code().as_str()),
        (404, "MANIFEST_UNKNOWN")
    );
    let by_tag = c.send("DELETE", "/v2/acme/app/manifests/v1.0", &[], None);
    assert_eq!(
        (by_tag.status, by_tag.error_code().as_str()),
        (403, "DENIED")
    );
    let by_digest = c.send(
        "DELETE",
        &format!("/v2/acme/app/manifests/{}", sha256(&one)),
        &[],
        None,
    );
    assert_eq!(by_digest.status, 403, "{}", by_digest.text());
    assert!(by_digest.text().contains("immutable"));
    // Nor can a platform's manifest that an immutable index lists go by its digest.
    let child = image_manifest(&c, "acme/app", b"arm layer");
    let child_digest = sha256(&child);
    assert_eq!(put(&c, "acme/app", &child_digest, &child).status, 201);
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": child_digest, "size": child.len(),
            "platform": {"architecture": "arm64", "os": "linux"}}],
    }))
    .unwrap();
    let r = c.send(
        "PUT",
        "/v2/acme/app/manifests/v2.0",
        &[("Content-Type", "application/vnd.oci.image.index.v1+json")],
        Some(&index),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let r = c.send(
        "DELETE",
        &format!("/v2/acme/app/manifests/{child_digest}"),
        &[],
        None,
    );
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(
        r.text().contains("the tag v2.0 of acme/app is immutable"),
        "{}",
        r.text()
    );
    // The manifest of the free tag goes.
    assert_eq!(
        c.send(
            "DELETE",
            &format!("/v2/acme/app/manifests/{digest_two}"),
            &[],
            None
        )
        .status,
        202
    );

    // Nor does the repository go with it, from the portal.
    let alice = session_cookie(&sign_in(&s, "alice", PW));
    let delete_repo = post_form(
        &s,
        &alice,
        "/api/delete_repository",
        "repository=acme%2Fapp&confirm=acme%2Fapp",
    );
    assert_eq!(delete_repo.status, 403, "{}", delete_repo.text());
    assert!(
        delete_repo.text().contains("immutable"),
        "{}",
        delete_repo.text()
    );
    // The Repository page marks the tag and offers no delete button for it.
    let html = page(&s, "/r/acme/app", &alice).text();
    assert!(html.contains(">immutable<"), "{html}");
    assert!(!html.contains("Delete tag v1.0"), "{html}");

    // The operator removes the rule; then the tag moves and goes like any other.
    let out = s.admin_json(
        &[
            "immutability",
            "remove",
            "acme",
            "v*",
            "--repository",
            "app",
        ],
        None,
    );
    assert_eq!(out["removed"], true);
    assert_eq!(
        s.admin_json(&["immutability", "list", "acme"], None),
        serde_json::json!([])
    );
    assert_eq!(put(&c, "acme/app", "v1.0", &two).status, 201);
    assert_eq!(
        c.send("DELETE", "/v2/acme/app/manifests/v1.0", &[], None)
            .status,
        202
    );
    let missing = s.admin(&["immutability", "remove", "acme", "v*"], None);
    assert!(!missing.status.success());
}

#[test]
fn account_admins_add_rules_in_the_portal_and_only_site_admins_remove_them() {
    let s = Server::start();
    s.tenant("acme", "alice", PW, "admin");
    s.member("acme", "wes", PW, "write");
    s.admin_json(&["user", "create", "root", "--site-admin"], Some(PW));
    let alice = session_cookie(&sign_in(&s, "alice", PW));
    let wes = session_cookie(&sign_in(&s, "wes", PW));
    let root = session_cookie(&sign_in(&s, "root", PW));
    let add = |cookie: &str, body: &str| post_form(&s, cookie, "/api/add_immutability", body);
    let remove = |cookie: &str, body: &str| post_form(&s, cookie, "/api/remove_immutability", body);

    assert_eq!(add(&wes, "account=acme&pattern=v*&repository=").status, 403);
    let r = add(&alice, "account=acme&pattern=v%2F1&repository=");
    assert_eq!(r.status, 400);
    assert!(r.text().contains("invalid tag pattern"), "{}", r.text());
    let r = add(&alice, "account=acme&pattern=release-*&repository=app");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        add(&alice, "account=acme&pattern=release-*&repository=app").status,
        409
    );

    // Members see the rule; its admin cannot remove it, a site admin can.
    let html = page(&s, "/a/acme/immutability", &wes).text();
    assert!(
        html.contains("release-*") && html.contains(">app<"),
        "{html}"
    );
    assert!(!html.contains("Remove rule"), "{html}");
    assert!(
        page(&s, "/a/acme/immutability", &root)
            .text()
            .contains("Remove rule release-* in app")
    );
    let body = "account=acme&pattern=release-*&repository=app";
    assert_eq!(remove(&alice, body).status, 403);
    assert_eq!(
        s.admin_json(&["immutability", "list", "acme"], None)
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    let r = remove(&root, body);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        s.admin_json(&["immutability", "list", "acme"], None),
        serde_json::json!([])
    );
    assert!(
        page(&s, "/a/acme/immutability", &alice)
            .text()
            .contains("No rule yet")
    );
}
