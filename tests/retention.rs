//! Retention over the command line, the registry and the portal: a policy keeps the
//! tags its rules keep and moves the rest to the trash (restorable), never an immutable
//! tag nor the signature of an image; the dry run equals the run; a repository's own
//! policy replaces its account's; the server applies policies on its own schedule.

mod common;
use common::*;

const PW: &str = "retention password 1";

fn run(s: &Server, dry: bool) -> serde_json::Value {
    let mut args = vec!["retention", "run", "--account", "acme"];
    if dry {
        args.push("--dry-run");
    }
    s.admin_json(&args, None)
}

/// Config plus layer bytes of an image `push_image` pushed.
fn image_bytes(manifest: &[u8]) -> u64 {
    let v: serde_json::Value = serde_json::from_slice(manifest).unwrap();
    let layers: u64 = v["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["size"].as_u64().unwrap())
        .sum();
    layers + v["config"]["size"].as_u64().unwrap()
}

/// An image pushed by its digest, with no tag.
fn untagged_image(c: &Client, repo: &str, layer: &[u8]) -> (Vec<u8>, String) {
    let config =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": push_blob(c, repo, config), "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": push_blob(c, repo, layer), "size": layer.len()}],
    }))
    .unwrap();
    let digest = sha256(&manifest);
    let r = c.send(
        "PUT",
        &format!("/v2/{repo}/manifests/{digest}"),
        &[("Content-Type", "application/vnd.oci.image.manifest.v1+json")],
        Some(&manifest),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    (manifest, digest)
}

/// Pushes a signature-like referrer of `subject`; its digest.
fn sign(c: &Client, repo: &str, subject: &str) -> String {
    let empty = push_blob(c, repo, b"{}");
    let sig = serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": "application/vnd.example.sig",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty, "size": 2},
        "layers": [{"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty, "size": 2}],
        "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": subject, "size": 1},
    })
    .to_string();
    let digest = sha256(sig.as_bytes());
    let r = c.send(
        "PUT",
        &format!("/v2/{repo}/manifests/{digest}"),
        &[("Content-Type", "application/vnd.oci.image.manifest.v1+json")],
        Some(sig.as_bytes()),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    digest
}

fn tags(c: &Client, repo: &str) -> serde_json::Value {
    c.get(&format!("/v2/{repo}/tags/list")).json()["tags"].clone()
}

#[test]
fn a_policy_keeps_what_its_rules_keep_and_trashes_the_rest() {
    let s = Server::start_with(&["--gc-interval", "0"]);
    s.tenant("acme", "alice", PW, "admin");
    s.member("acme", "bob", PW, "write");
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
    // Oldest first: an immutable release, then v1..v5, each with a layer of its own
    // over a shared base.
    let (_, stable) = push_image(&c, "acme/app", "stable", &[b"base", b"stable layer"]);
    let mut pushed = Vec::new();
    for i in 1..=5 {
        std::thread::sleep(std::time::Duration::from_millis(5));
        let layer = format!("layer of v{i}");
        pushed.push(push_image(
            &c,
            "acme/app",
            &format!("v{i}"),
            &[b"base", layer.as_bytes()],
        ));
    }
    s.admin_json(&["immutability", "add", "acme", "stable"], None);
    // A signature of v2: it stays with its image, which the trash keeps.
    let v2 = pushed[1].1.clone();
    let sig_digest = sign(&c, "acme/app", &v2);
    // An untagged image, pushed by digest, signed too.
    let (untagged, untagged_digest) = untagged_image(&c, "acme/app", b"scratch layer");
    let untagged_sig = sign(&c, "acme/app", &untagged_digest);
    let scratch_layer = sha256(b"scratch layer");
    let alice = session_cookie(&sign_in(&s, "alice", PW));
    assert!(
        page(&s, "/r/acme/app", &alice)
            .text()
            .contains(&format!("/t/acme/app@{untagged_digest}"))
    );
    let (_, tool) = push_image(&c, "acme/tool", "old", &[b"tool layer"]);

    // Bad policies are refused in words and nothing is stored.
    let r = s.admin(&["retention", "set", "acme", "--tag", "v*"], None);
    assert!(!r.status.success());
    assert!(
        String::from_utf8_lossy(&r.stderr).contains("a policy needs"),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
    let r = s.admin(&["retention", "set", "acme", "--keep-days", "3y"], None);
    assert!(!r.status.success());

    let set = s.admin_json(
        &[
            "retention",
            "set",
            "acme",
            "--keep-last",
            "2",
            "--untagged-older-than",
            "0s",
        ],
        None,
    );
    assert_eq!(set["keep_last"], 2, "{set}");
    // The tool repository's own policy replaces the account's: nothing of it goes.
    s.admin_json(
        &[
            "retention",
            "set",
            "acme",
            "--repository",
            "tool",
            "--keep-days",
            "30",
        ],
        None,
    );
    let list = s.admin_json(&["retention", "list", "acme"], None);
    assert_eq!(list.as_array().map(Vec::len), Some(2), "{list}");
    assert_eq!(list[0]["repository"], serde_json::Value::Null);
    assert_eq!(list[1]["keep_days"], "30d", "{list}");

    // v1..v3 go (stable is immutable, v4 and v5 are the last two), and the untagged
    // image; each image's own layer and config count, the shared base does not.
    let expected_bytes: u64 = pushed[..3]
        .iter()
        .map(|(m, _)| image_bytes(m) - 4)
        .sum::<u64>()
        + image_bytes(&untagged);
    let dry = run(&s, true);
    assert_eq!(
        dry,
        serde_json::json!({"tags": 3, "manifests": 1, "bytes": expected_bytes})
    );
    assert_eq!(tags(&c, "acme/app").as_array().map(Vec::len), Some(6));
    let done = run(&s, false);
    assert_eq!(done, dry, "the dry run equals the run");
    assert_eq!(
        tags(&c, "acme/app"),
        serde_json::json!(["stable", "v4", "v5"])
    );
    assert_eq!(tags(&c, "acme/tool"), serde_json::json!(["old"]));
    assert_eq!(
        c.get(&format!("/v2/acme/tool/manifests/{tool}")).status,
        200
    );
    assert_eq!(
        c.get(&format!("/v2/acme/app/manifests/{stable}")).status,
        200
    );
    // The untagged image left the Repository page for the trash; garbage collection
    // with no grace leaves it, its blobs and signatures, and v2's, for the trash holds
    // them.
    assert!(
        !page(&s, "/r/acme/app", &alice)
            .text()
            .contains(&format!("/t/acme/app@{untagged_digest}"))
    );
    let freed = s.admin_json(&["gc", "--grace", "0"], None);
    assert_eq!(freed["manifests"], 0, "{freed}");
    for (subject, signature) in [(&v2, &sig_digest), (&untagged_digest, &untagged_sig)] {
        let refs = c.get(&format!("/v2/acme/app/referrers/{subject}")).json();
        assert_eq!(refs["manifests"][0]["digest"], signature.as_str(), "{refs}");
    }
    // Nothing more to do: a second run removes nothing.
    assert_eq!(
        run(&s, false),
        serde_json::json!({"tags": 0, "manifests": 0, "bytes": 0})
    );

    // The trash names retention, and each entry comes back.
    let trash = page(&s, "/a/acme/trash", &alice).text();
    assert!(
        trash.contains("acme/app:v1") && trash.contains(">retention<"),
        "{trash}"
    );
    assert!(
        trash.contains(&format!("acme/app@{untagged_digest} (untagged image)")),
        "{trash}"
    );
    let entry = |trash: &str, what: &str| -> String {
        let row = trash.split("<tr>").find(|r| r.contains(what)).unwrap();
        row.split("name=\"id\" value=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap()
            .to_owned()
    };
    for what in ["acme/app:v1<", "(untagged image)"] {
        let id = entry(&trash, what);
        let r = post_form(&s, &alice, "/api/restore", &format!("account=acme&id={id}"));
        assert_eq!(r.status, 200, "{what}: {}", r.text());
    }
    assert_eq!(
        tags(&c, "acme/app"),
        serde_json::json!(["stable", "v1", "v4", "v5"])
    );
    let back = c.get(&format!("/v2/acme/app/manifests/{untagged_digest}"));
    assert_eq!(
        (back.status, sha256(&back.body)),
        (200, untagged_digest.clone())
    );
    let layer = c.get(&format!("/v2/acme/app/blobs/{scratch_layer}"));
    assert_eq!(
        (layer.status, layer.body.as_slice()),
        (200, &b"scratch layer"[..])
    );
    assert!(
        page(&s, "/r/acme/app", &alice)
            .text()
            .contains(&format!("/t/acme/app@{untagged_digest}"))
    );

    // Runs are audited.
    let activity = page(&s, "/a/acme/activity", &alice).text();
    assert!(activity.contains("retention.run"), "{activity}");
    assert!(activity.contains("retention.set"), "{activity}");

    // The portal previews a draft without saving it; only admins save.
    let r = post_form(
        &s,
        &alice,
        "/api/preview_retention",
        "account=acme&repository=app&keep_last=1&keep_days=&tag=v*&exclude=&untagged_older_than=",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let preview = r.json();
    let gone: Vec<&str> = preview["removals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["tag"].as_str().unwrap())
        .collect();
    assert_eq!(gone, vec!["v1", "v4"], "{preview}");
    assert_eq!(preview["fields"]["repository"], "app");
    assert_eq!(tags(&c, "acme/app").as_array().map(Vec::len), Some(4));
    let bob = session_cookie(&sign_in(&s, "bob", PW));
    let form =
        "account=acme&repository=app&keep_last=1&keep_days=&tag=v*&exclude=&untagged_older_than=";
    let r = post_form(&s, &bob, "/api/save_retention", form);
    assert_eq!(r.status, 403, "{}", r.text());
    let r = post_form(&s, &bob, "/api/preview_retention", form);
    assert_eq!(r.status, 403, "{}", r.text());
    let r = post_form(&s, &alice, "/api/save_retention", form);
    assert_eq!(r.status, 200, "{}", r.text());
    let page_text = page(&s, "/a/acme/retention", &bob).text();
    assert!(
        page_text.contains("keeps the last 1 pushed of the tags matching v*"),
        "{page_text}"
    );
    let r = post_form(
        &s,
        &alice,
        "/api/remove_retention",
        "account=acme&repository=app",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = s.admin(&["retention", "unset", "acme", "--repository", "app"], None);
    assert!(!r.status.success(), "a second removal finds nothing");
}

#[test]
fn the_server_applies_policies_on_its_garbage_collection_schedule() {
    let s = Server::start_with(&["--gc-interval", "1s"]);
    s.tenant("acme", "alice", PW, "admin");
    let c = Client::with_bearer(
        &s,
        &token(&s, "alice", PW, &["repository:acme/app:pull,push,delete"]),
    );
    push_image(&c, "acme/app", "old", &[b"old layer"]);
    std::thread::sleep(std::time::Duration::from_millis(5));
    push_image(&c, "acme/app", "new", &[b"new layer"]);
    s.admin_json(&["retention", "set", "acme", "--keep-last", "1"], None);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        if tags(&c, "acme/app") == serde_json::json!(["new"]) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the scheduled run did not apply the policy: {}",
            tags(&c, "acme/app")
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}
