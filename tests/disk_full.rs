//! A full disk: an upload that hits ENOSPC fails with a clear 5xx error body, leaves
//! no temp file, and the server goes on serving reads (and writes, once there is room).
//! The data folder is a small tmpfs mounted for the test (tests run as root, as the
//! docker tests do).

mod common;
use common::*;
use std::process::Command;

/// A size-limited tmpfs, unmounted on drop.
struct SmallDisk(tempfile::TempDir);

impl SmallDisk {
    fn mount(size: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .expect("mount");
        assert!(
            out.status.success(),
            "mounting a tmpfs needs root: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Self(dir)
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.0.path()).status();
    }
}

#[test]
fn an_upload_that_fills_the_disk_fails_clearly_and_nothing_else_breaks() {
    let disk = SmallDisk::mount("24m");
    let mut s = Server::start_in(disk.0.path());
    s.tenant("acme", "alice", "disk full password", "admin");
    let a = Client::with_bearer(
        &s,
        &token(
            &s,
            "alice",
            "disk full password",
            &["repository:acme/app:pull,push"],
        ),
    );
    let small = vec![3u8; 100_000];
    push_image(&a, "acme/app", "small", &[&small]);

    let huge = vec![4u8; 40 << 20];
    let r = a.send(
        "POST",
        &format!("/v2/acme/app/blobs/uploads/?digest={}", sha256(&huge)),
        &[("Content-Type", "application/octet-stream")],
        Some(&huge),
    );
    assert_eq!(r.status, 507, "{}", r.text());
    assert_eq!(r.error_code(), "UNKNOWN");
    assert!(r.text().contains("storage is full"), "{}", r.text());
    let leftovers: Vec<_> = std::fs::read_dir(disk.0.path().join("store/uploads"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n != ".healthz")
        .collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");

    // Reads go on, and so do writes that fit.
    assert_eq!(
        a.get(&format!("/v2/acme/app/blobs/{}", sha256(&small)))
            .body,
        small
    );
    assert_eq!(a.get("/v2/acme/app/manifests/small").status, 200);
    assert_eq!(Client::new(&s).get("/healthz").status, 200);
    push_image(&a, "acme/app", "after", &[b"fits"]);
    s.stop();
    let fsck = admin_in(disk.0.path(), &["fsck"], None);
    assert!(
        fsck.status.success(),
        "{}",
        String::from_utf8_lossy(&fsck.stdout)
    );
}
