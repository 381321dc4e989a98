//! Two replicas behind nginx's round robin, configured as the README says, are one
//! Berth: the OCI conformance suite passes through the balancer, an upload's chunks
//! alternate between the replicas, what one replica acknowledged the other serves at
//! once, a revoked token stops working on both, a portal session (and, on PostgreSQL,
//! its live updates) works whichever replica each request reaches, and killing one
//! replica while clients push and garbage collection runs loses nothing acknowledged.

mod common;
use common::balancer::Balancer;
use common::*;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PW: &str = "balanced password";

/// Two replicas behind nginx, told its address as their public URL and as a proxy to
/// trust. `front` reaches them through nginx (its admin commands run on the first
/// replica's data folder, which reach both).
struct Cluster {
    front: Server,
    nginx: Balancer,
    a: Server,
    b: Server,
    /// What the second replica was started with, to start it again.
    b_flags: Vec<String>,
    dirs: (tempfile::TempDir, tempfile::TempDir),
}

fn cluster() -> Cluster {
    cluster_with(&[])
}

/// [`cluster`], both replicas started with `extra` flags too.
fn cluster_with(extra: &[&str]) -> Cluster {
    let addr = Balancer::free_addr();
    let url = format!("http://{addr}");
    let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let flags = [
        &["--public-url", url.as_str(), "--trusted-proxy", "127.0.0.1"],
        extra,
    ]
    .concat();
    let (a, b) = replicas(one.path(), two.path(), &flags, PW);
    let nginx = Balancer::start(&addr, &[&a.addr, &b.addr]);
    let b_flags = flags.iter().map(|f| f.to_string()).collect();
    Cluster {
        front: Server::at(&addr, one.path()),
        nginx,
        a,
        b,
        b_flags,
        dirs: (one, two),
    }
}

impl Cluster {
    /// Starts the second replica again, at its address (where nginx sends requests).
    fn restart_b(&mut self) {
        let mut flags: Vec<&str> = self.b_flags.iter().map(String::as_str).collect();
        let addr = self.b.addr.clone();
        flags.extend(["--listen", addr.as_str()]);
        self.b = another_replica(self.dirs.0.path(), self.dirs.1.path(), &flags);
    }

    /// Whether requests whose log line starts with `prefix` reached both replicas.
    fn both_served(&self, prefix: &str) -> bool {
        let used = self.served_by(prefix, 2);
        used.contains(&self.a.addr) && used.contains(&self.b.addr)
    }

    /// The replicas that served requests whose log line starts with `prefix`, once at
    /// least `n` are logged (nginx logs a request just after answering it, so the line
    /// may come a moment after the answer).
    fn served_by(&self, prefix: &str, n: usize) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            let used = self.nginx.served_by(prefix);
            if used.len() >= n || Instant::now() > deadline {
                return used;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

#[test]
fn the_conformance_suite_passes_through_the_balancer() {
    let c = cluster();
    c.front
        .tenant("conformance", "oci", "conformance password", "admin");
    let Some(((passed, failed, skipped), output)) =
        run_conformance(&c.front.addr, "oci", "conformance password")
    else {
        return;
    };
    println!("through the balancer: {passed} passed, {failed} failed, {skipped} skipped");
    assert_eq!((failed, skipped), (0, 0), "{output}");
    assert!(c.both_served("PATCH /v2/"), "{:?}", c.nginx.requests());
}

#[test]
fn uploads_alternate_between_replicas_and_each_serves_what_the_other_acknowledged() {
    let c = cluster();
    let bearer = token(&c.front, "alice", PW, &["repository:acme/app:pull,push"]);
    let on = Client::with_bearer(&c.front, &bearer);
    // A blob in chunks above and below S3's 5 MiB part minimum, each on the next
    // replica.
    let blob: Vec<u8> = (0..(15u32 << 20))
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect();
    let digest = push_in_chunks(
        &on,
        "acme/app",
        &blob,
        &[6 << 20, 1 << 20, 6 << 20, 1 << 20],
    );
    assert!(
        c.both_served("PATCH /v2/acme/app/blobs/uploads/"),
        "{:?}",
        c.nginx.requests()
    );
    // Read back whole, twice: once from each replica.
    for _ in 0..2 {
        let got = on.get(&format!("/v2/acme/app/blobs/{digest}"));
        assert_eq!(got.status, 200);
        assert_eq!(sha256(&got.body), digest);
    }
    assert!(c.both_served("GET /v2/acme/app/blobs/sha256:"));

    // And by range, on both.
    for _ in 0..2 {
        let r = on.send(
            "GET",
            &format!("/v2/acme/app/blobs/{digest}"),
            &[("Range", "bytes=6291450-7340039")],
            None,
        );
        assert_eq!(r.status, 206);
        assert_eq!(r.body, &blob[6_291_450..7_340_040]);
    }

    // A tag is served and listed by both replicas right after the 201.
    for round in 0..3 {
        let tag = format!("v{round}");
        let (manifest, _) = push_image(&on, "acme/app", &tag, &[tag.as_bytes()]);
        for _ in 0..2 {
            let r = on.get(&format!("/v2/acme/app/manifests/{tag}"));
            assert_eq!(r.status, 200, "{}", r.text());
            assert_eq!(r.body, manifest);
            let listed = on.get("/v2/acme/app/tags/list").json();
            assert!(
                listed["tags"]
                    .as_array()
                    .unwrap()
                    .contains(&serde_json::json!(tag)),
                "{listed}"
            );
        }
    }
    assert!(c.both_served("GET /v2/acme/app/manifests/v"));
    assert!(c.both_served("GET /v2/acme/app/tags/list"));
}

#[test]
fn a_revoked_token_stops_working_on_both_replicas_at_once() {
    let c = cluster();
    let pat = c.front.admin_json(
        &["token", "create", "--user", "alice", "--access", "pull"],
        None,
    );
    let secret = pat["secret"].as_str().unwrap().to_owned();
    let ask = || token_resp(&c.front, "alice", &secret, &["repository:acme/app:pull"]).status;
    assert_eq!((ask(), ask()), (200, 200));
    assert!(c.both_served("GET /auth/token"), "{:?}", c.nginx.requests());
    c.front
        .admin_json(&["token", "revoke", &pat["id"].to_string()], None);
    let revoked = Instant::now();
    let after: Vec<u16> = (0..4).map(|_| ask()).collect();
    assert_eq!(after, [401, 401, 401, 401]);
    assert!(revoked.elapsed() < Duration::from_secs(1));
    let used = c.served_by("GET /auth/token", 6);
    let last: Vec<&String> = used.iter().skip(2).collect();
    assert!(
        last.contains(&&c.a.addr) && last.contains(&&c.b.addr),
        "{used:?}"
    );
}

#[test]
fn a_portal_session_works_on_both_replicas_and_hears_pushes_made_on_either() {
    let c = cluster();
    let cookie = session_cookie(&sign_in(&c.front, "alice", PW));
    for _ in 0..2 {
        let r = page(&c.front, "/", &cookie);
        assert_eq!(r.status, 200);
        assert!(r.text().contains("Signed in as alice"), "{}", r.text());
    }
    assert!(c.both_served("GET / "), "{:?}", c.nginx.requests());
    // Live updates travel between replicas through PostgreSQL's NOTIFY; on SQLite each
    // process hears only itself.
    if std::env::var_os("BERTH_TEST_POSTGRES_PORT").is_none() {
        return;
    }
    let (status, mut events) = EventStream::open(&c.front, "/events/a/acme", &cookie);
    assert_eq!(status, 200);
    let scopes = [
        "repository:acme/live-1:pull,push",
        "repository:acme/live-2:pull,push",
    ];
    let on = Client::with_bearer(&c.front, &token(&c.front, "alice", PW, &scopes));
    // Two pushes: whichever replica holds the stream, one of them lands on the other.
    for repo in ["acme/live-1", "acme/live-2"] {
        push_image(&on, repo, "1.0", &[repo.as_bytes()]);
        let heard = events.wait_for(&format!("\"{repo}\""), Duration::from_secs(1));
        assert!(heard.is_some(), "no event for the push to {repo}");
    }
}

/// Pushes that got their 201: (repository, tag, manifest).
type Acked = Arc<Mutex<Vec<(String, String, Vec<u8>)>>>;

#[test]
fn a_replica_killed_while_clients_push_and_garbage_is_collected_loses_nothing_acknowledged() {
    const CLIENTS: usize = 30;
    // A one-second grace and collection every second on the replicas (one at a time)
    // and from `berth gc` beside them: a push slower than the grace may fail, but none
    // that got its 201 may lose a byte, whichever replica served it or collected.
    let mut c = cluster_with(&[
        "--grace",
        "1s",
        "--gc-interval",
        "1s",
        "--trash-retention",
        "0",
    ]);
    let scopes: Vec<String> = (0..CLIENTS)
        .map(|i| format!("repository:acme/c{i}:pull,push,delete"))
        .collect();
    let scope_refs: Vec<&str> = scopes.iter().map(String::as_str).collect();
    let bearer = token(&c.front, "alice", PW, &scope_refs);
    let stop = Arc::new(AtomicBool::new(false));
    let acked: Acked = Arc::default();
    let gc_runs = Arc::new(AtomicUsize::new(0));
    let collector = {
        let (stop, runs, data) = (stop.clone(), gc_runs.clone(), c.front.data.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if admin_in(&data, &["gc", "--grace", "1s"], None)
                    .status
                    .success()
                {
                    runs.fetch_add(1, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };
    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let (bearer, addr) = (bearer.clone(), c.front.addr.clone());
            let (stop, acked) = (stop.clone(), acked.clone());
            std::thread::spawn(move || {
                let client = Client::at(&addr, &bearer);
                let repo = format!("acme/c{i}");
                let shared = vec![b's'; 300_000];
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let own = format!("{repo} push {n}")
                        .repeat(1 + n * 97 % 5000)
                        .into_bytes();
                    let tag = format!("p{n}");
                    // A replica gone mid-request fails the push: it is simply not
                    // acknowledged.
                    let pushed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        try_push_image(&client, &repo, &tag, &[&shared, &own])
                    }));
                    if let Ok(Some((manifest, _))) = pushed {
                        acked.lock().unwrap().push((repo.clone(), tag, manifest));
                    }
                    if n % 4 == 0 {
                        // Untagged images become garbage while the pushes go on.
                        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            client.send(
                                "DELETE",
                                &format!("/v2/{repo}/manifests/p{}", n - 3),
                                &[],
                                None,
                            )
                        }));
                        acked
                            .lock()
                            .unwrap()
                            .retain(|(r, t, _)| !(r == &repo && *t == format!("p{}", n - 3)));
                    }
                }
            })
        })
        .collect();
    let landed = |n: usize| {
        let started = Instant::now();
        while acked.lock().unwrap().len() < n && started.elapsed() < Duration::from_secs(60) {
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    landed(30);
    c.b.kill();
    let at_kill = acked.lock().unwrap().len();
    // The other replica carries on alone.
    landed(at_kill + 30);
    std::thread::sleep(Duration::from_secs(1));
    stop.store(true, Ordering::Relaxed);
    for t in clients {
        let _ = t.join();
    }
    collector.join().unwrap();
    let acked = acked.lock().unwrap();
    assert!(
        acked.len() >= at_kill + 30,
        "pushes after the kill: {}",
        acked.len() - at_kill
    );
    assert!(gc_runs.load(Ordering::Relaxed) > 0);

    let reader = Client::with_bearer(&c.front, &token(&c.front, "alice", PW, &scope_refs));
    let lost = lost_pushes(&reader, &acked);
    println!(
        "replica killed under load: {} acknowledged ({at_kill} before the kill), {} lost, {} gc runs beside",
        acked.len(),
        lost.len(),
        gc_runs.load(Ordering::Relaxed)
    );
    assert!(lost.is_empty(), "{lost:?}");
    // Started again, the replica clears what it left half-done at start-up, beside
    // normal service; then fsck finds the store (the bucket, in the S3 pass)
    // consistent.
    c.restart_b();
    let started = Instant::now();
    let fsck = loop {
        let fsck = admin_in(&c.front.data, &["fsck"], None);
        if fsck.status.success() || started.elapsed() > Duration::from_secs(20) {
            break fsck;
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    let out = String::from_utf8_lossy(&fsck.stdout);
    println!(
        "fsck after the restart: {}",
        out.lines().last().unwrap_or_default()
    );
    assert!(
        fsck.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&fsck.stderr)
    );
    assert!(lost_pushes(&reader, &acked).is_empty());
}
