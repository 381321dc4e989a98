//! Crash safety: 30 clients push images (different sizes, shared layers) while the
//! server is killed with SIGKILL at random moments, several rounds, each followed by a
//! restart. Every push acknowledged with a 201 must pull back byte for byte, no blob
//! may ever be served with the wrong bytes, and after a garbage collection (which
//! removes bytes that a killed process's last request to an object store put there
//! after the restart had looked) `berth fsck` must find nothing wrong.

mod common;
use common::*;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const PW: &str = "crash test password";
const CLIENTS: usize = 30;
const ROUNDS: usize = 5;
/// How long a round waits for its first ten acknowledged pushes before the kill anyway.
const LANDING_LIMIT: Duration = Duration::from_secs(60);

/// A small deterministic generator, so a failure can be replayed from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Bytes that differ per (client, push), cheap to make.
fn layer(seed: u64, len: usize) -> Vec<u8> {
    let mut r = Rng(seed | 1);
    (0..len).map(|_| r.next() as u8).collect()
}

type Acked = Arc<Mutex<Vec<(String, String, Vec<u8>)>>>;

#[test]
fn pushes_acknowledged_before_a_sigkill_survive_it() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().to_path_buf();
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    eprintln!("crash test seed {seed}");
    let mut rng = Rng(seed | 1);
    let shared: Arc<Vec<Vec<u8>>> =
        Arc::new(vec![layer(1, 1 << 20), layer(2, 300_000), layer(3, 40_000)]);
    let acked: Acked = Arc::default();
    let bad_reads = Arc::new(AtomicUsize::new(0));
    let attempts = Arc::new(AtomicUsize::new(0));
    let mut first_landings = Vec::new();
    let mut server = Server::start_in(&data);
    server.tenant("acme", "alice", PW, "admin");
    for round in 0..ROUNDS {
        let scopes: Vec<String> = (0..CLIENTS)
            .map(|c| format!("repository:acme/c{c}:pull,push"))
            .collect();
        let scope_refs: Vec<&str> = scopes.iter().map(String::as_str).collect();
        let bearer = token(&server, "alice", PW, &scope_refs);
        let stop = Arc::new(AtomicBool::new(false));
        let clients: Vec<_> = (0..CLIENTS)
            .map(|c| {
                let (bearer, addr, stop) = (bearer.clone(), server.addr.clone(), stop.clone());
                let (acked, bad_reads, attempts, shared) = (
                    acked.clone(),
                    bad_reads.clone(),
                    attempts.clone(),
                    shared.clone(),
                );
                let client_seed = seed ^ ((round * 1000 + c) as u64).wrapping_mul(0x9E37_79B9);
                std::thread::spawn(move || {
                    let client = Client::at(&addr, &bearer);
                    let repo = format!("acme/c{c}");
                    let mut r = Rng(client_seed | 1);
                    let mut n = 0;
                    while !stop.load(Ordering::Relaxed) {
                        n += 1;
                        attempts.fetch_add(1, Ordering::Relaxed);
                        let own = layer(r.next(), 1 + r.below(2 << 20) as usize);
                        let base = &shared[r.below(shared.len() as u64) as usize];
                        let tag = format!("r{round}-{n}");
                        // A server gone mid-request fails the push: it is simply not
                        // acknowledged.
                        let pushed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            try_push_image(&client, &repo, &tag, &[base, &own])
                        }));
                        match pushed {
                            Ok(Some((manifest, _))) => {
                                acked.lock().unwrap().push((repo.clone(), tag, manifest))
                            }
                            Ok(None) => {}
                            Err(_) => break,
                        }
                        // Whatever a pull returns with 200 must be the right bytes.
                        let d = sha256(base);
                        if let Ok(got) =
                            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                                client.get(&format!("/v2/{repo}/blobs/{d}"))
                            }))
                            && got.status == 200
                            && sha256(&got.body) != d
                        {
                            bad_reads.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                })
            })
            .collect();
        // The kill comes at a random moment once pushes are landing, so a slow machine
        // (where the first pushes of 30 clients take longer) still kills mid-traffic
        // rather than before anything could be acknowledged.
        let before = acked.lock().unwrap().len();
        let started = Instant::now();
        while acked.lock().unwrap().len() < before + 10 && started.elapsed() < LANDING_LIMIT {
            std::thread::sleep(Duration::from_millis(10));
        }
        first_landings.push(started.elapsed());
        std::thread::sleep(Duration::from_millis(rng.below(1200)));
        server.kill();
        stop.store(true, Ordering::Relaxed);
        for c in clients {
            let _ = c.join();
        }
        server = Server::start_in(&data);
    }

    // Every acknowledged push, byte for byte.
    let acked = acked.lock().unwrap();
    let scopes: Vec<String> = (0..CLIENTS)
        .map(|c| format!("repository:acme/c{c}:pull"))
        .collect();
    let scope_refs: Vec<&str> = scopes.iter().map(String::as_str).collect();
    let reader = Client::with_bearer(&server, &token(&server, "alice", PW, &scope_refs));
    let started = Instant::now();
    let lost = lost_pushes(&reader, &acked);
    server.stop();
    let gc = admin_in(&data, &["gc", "--json"], None);
    assert!(
        gc.status.success(),
        "{}",
        String::from_utf8_lossy(&gc.stderr)
    );
    let fsck = admin_in(&data, &["fsck"], None);
    let fsck_out = String::from_utf8_lossy(&fsck.stdout).into_owned();
    eprintln!(
        "crash test: {ROUNDS} rounds, {} push attempts, {} acknowledged, {} lost, {} bad reads; ten pushes landed after {:?}; verified in {:?}; gc: {}; fsck: {}",
        attempts.load(Ordering::Relaxed),
        acked.len(),
        lost.len(),
        bad_reads.load(Ordering::Relaxed),
        first_landings,
        started.elapsed(),
        String::from_utf8_lossy(&gc.stdout).trim(),
        fsck_out.lines().last().unwrap_or_default()
    );
    assert!(
        acked.len() >= ROUNDS * 10,
        "too few pushes got through: {}",
        acked.len()
    );
    assert_eq!(lost, Vec::<String>::new(), "seed {seed}");
    assert_eq!(bad_reads.load(Ordering::Relaxed), 0, "seed {seed}");
    assert!(
        fsck.status.success(),
        "fsck after the crashes (seed {seed}):\n{fsck_out}"
    );
}
