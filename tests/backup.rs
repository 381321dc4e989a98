//! `berth backup` while clients push, and `berth restore` into a fresh folder: every
//! push acknowledged before the backup began pulls back from the restored copy, and
//! fsck finds it consistent.

mod common;
use common::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

const PW: &str = "backup password 1";

fn one_line(out: &std::process::Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    err
}

#[test]
fn a_backup_taken_during_pushes_restores_every_push_acknowledged_before_it() {
    let s = Server::start();
    s.tenant("acme", "alice", PW, "admin");
    let tmp = tempfile::tempdir().unwrap();
    let backup_dir = tmp.path().join("backup");
    if on_postgres() {
        let out = s.admin(&["backup", "--to", backup_dir.to_str().unwrap()], None);
        assert_eq!(out.status.code(), Some(1));
        assert!(one_line(&out).contains("pg_dump"));
        return;
    }
    let scopes: Vec<String> = (0..6)
        .map(|i| format!("repository:acme/c{i}:pull,push"))
        .collect();
    let refs: Vec<&str> = scopes.iter().map(String::as_str).collect();
    let bearer = token(&s, "alice", PW, &refs);
    let c = Client::with_bearer(&s, &bearer);
    let mut before = Vec::new();
    for i in 0..12 {
        let repo = format!("acme/c{}", i % 6);
        let layer = format!("layer {i} ").repeat(4000).into_bytes();
        let (manifest, _) = push_image(&c, &repo, &format!("t{i}"), &[&layer, b"shared base"]);
        before.push((repo, format!("t{i}"), manifest, layer));
    }
    // Clients go on pushing while the backup runs.
    let stop = Arc::new(AtomicBool::new(false));
    let pushed_during = Arc::new(AtomicUsize::new(0));
    let pushers: Vec<_> = (0..4)
        .map(|n| {
            let (stop, pushed, addr, bearer) = (
                stop.clone(),
                pushed_during.clone(),
                s.addr.clone(),
                bearer.clone(),
            );
            std::thread::spawn(move || {
                let c = Client::at(&addr, &bearer);
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    let layer = format!("during {n} {i} ").repeat(20_000).into_bytes();
                    if try_push_image(&c, &format!("acme/c{n}"), &format!("d{i}"), &[&layer])
                        .is_some()
                    {
                        pushed.fetch_add(1, Ordering::Relaxed);
                    }
                    i += 1;
                }
            })
        })
        .collect();
    while pushed_during.load(Ordering::Relaxed) < 4 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let backed = s.admin_json(&["backup", "--to", backup_dir.to_str().unwrap()], None);
    stop.store(true, Ordering::Relaxed);
    for p in pushers {
        p.join().unwrap();
    }
    assert!(backed["blobs"].as_u64().unwrap() >= 25, "{backed}");
    assert!(backup_dir.join("backup.json").is_file());

    // Refused, each with a one-line reason and exit 1: a backup into a folder that is
    // not empty, a restore into the folder a running server uses, and into a folder
    // that is not empty.
    let out = s.admin(&["backup", "--to", backup_dir.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(one_line(&out).contains("not empty"));
    let out = admin_in(
        &s.data,
        &["restore", "--from", backup_dir.to_str().unwrap()],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(one_line(&out).contains("running server uses"));
    let busy = tmp.path().join("busy");
    std::fs::create_dir_all(&busy).unwrap();
    std::fs::write(busy.join("something"), "x").unwrap();
    let out = admin_in(
        &busy,
        &["restore", "--from", backup_dir.to_str().unwrap()],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(one_line(&out).contains("not empty"));
    let out = admin_in(&busy, &["restore", "--from", busy.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(one_line(&out).contains("not a Berth backup"));
    // Nor can a second server use the folder at the same time.
    let second = std::process::Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&s.data)
        .output()
        .unwrap();
    assert_eq!(second.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&second.stderr).contains("another berth serve uses"));
    drop(s);

    // Restored into a fresh folder, every push acknowledged before the backup pulls.
    let fresh = tmp.path().join("restored");
    let out = admin_in(
        &fresh,
        &["restore", "--from", backup_dir.to_str().unwrap(), "--json"],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let restored: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(restored["blobs"], backed["blobs"], "{restored} {backed}");
    println!(
        "backup beside {} acknowledged pushes: {backed}; restore: {restored}",
        pushed_during.load(Ordering::Relaxed)
    );
    let r = Server::start_in(&fresh);
    // The token key came along: the bearer issued before the backup still works.
    let c = Client::with_bearer(&r, &bearer);
    for (repo, tag, manifest, layer) in &before {
        let m = c.get(&format!("/v2/{repo}/manifests/{tag}"));
        assert_eq!(m.status, 200, "{repo}:{tag}");
        assert_eq!(&m.body, manifest, "{repo}:{tag}");
        let l = c.get(&format!("/v2/{repo}/blobs/{}", sha256(layer)));
        assert_eq!(&l.body, layer, "{repo}:{tag}'s layer");
    }
    let fsck = r.admin(&["fsck"], None);
    assert!(
        fsck.status.success(),
        "{}{}",
        String::from_utf8_lossy(&fsck.stdout),
        String::from_utf8_lossy(&fsck.stderr)
    );
    assert!(String::from_utf8_lossy(&fsck.stdout).contains("all consistent"));
}
