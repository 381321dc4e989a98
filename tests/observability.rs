//! What operators see: `/metrics` in the Prometheus text format, request ids.

mod common;
use common::*;

#[test]
fn metrics_count_requests_bytes_storage_and_garbage_collection() {
    let s = Server::start_with(&["--grace", "0", "--trash-retention", "0"]);
    s.tenant("acme", "alice", "metrics password", "admin");
    let a = Client::with_bearer(
        &s,
        &token(
            &s,
            "alice",
            "metrics password",
            &["repository:acme/app:pull,push,delete"],
        ),
    );
    let layer = vec![5u8; 100_000];
    push_image(&a, "acme/app", "1.0", &[&layer]);
    let pulled = a.get(&format!("/v2/acme/app/blobs/{}", sha256(&layer)));
    assert_eq!(pulled.body.len(), 100_000);
    assert!(pulled.header("x-request-id").is_some());
    assert_eq!(a.get("/v2/acme/app/manifests/nope").status, 404);

    let m = Client::new(&s).get("/metrics");
    assert_eq!(m.status, 200);
    assert!(m.header("content-type").unwrap().starts_with("text/plain"));
    let text = m.text();
    for want in [
        "berth_http_requests_total{route=\"registry.blob\",method=\"GET\",status=\"200\"} 1",
        "berth_http_requests_total{route=\"registry.manifest\",method=\"GET\",status=\"404\"} 1",
        "berth_http_requests_total{route=\"registry.manifest\",method=\"PUT\",status=\"201\"} 1",
        "berth_http_request_duration_seconds_count{route=\"registry.blob\"}",
        "berth_repositories 1",
        "berth_uploads_in_progress 0",
        "berth_gc_runs_total 0",
    ] {
        assert!(text.contains(want), "{want} missing:\n{text}");
    }
    let number_in = |text: &str, name: &str| -> u64 {
        text.lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} missing:\n{text}"))
    };
    let number = |name: &str| number_in(&text, name);
    assert!(number("berth_storage_bytes") >= 100_000);
    assert!(number("berth_http_sent_bytes_total") >= 100_000);
    assert!(number("berth_http_received_bytes_total") >= 100_000);
    // No repository or account name ever appears in a label.
    assert!(!text.contains("acme"), "{text}");

    a.send("DELETE", "/v2/acme/app/manifests/1.0", &[], None);
    let root = s.admin_json(
        &["user", "create", "root", "--site-admin"],
        Some("root password 1"),
    );
    assert!(root.is_object());
    let cookie = session_cookie(&sign_in(&s, "root", "root password 1"));
    assert_eq!(
        post_form(&s, &cookie, "/api/collect_garbage", "").status,
        200
    );
    let after = Client::new(&s).get("/metrics").text();
    assert!(after.contains("berth_gc_runs_total 1"), "{after}");
    assert!(
        number_in(&after, "berth_gc_freed_bytes_total") >= 100_000,
        "{after}"
    );
    assert!(
        number_in(&after, "berth_storage_bytes") < 100_000,
        "{after}"
    );
}
