//! Blobs in an S3-compatible object store (`--storage s3://…`), against a real S3 server
//! (moto's) on loopback: small pushes land as objects at their digest's key, large ones
//! stay where their multipart upload put them, pulls and ranges read them back, garbage
//! collection and fsck work on the bucket, and the local data folder keeps nothing.

mod common;
use common::s3::S3Server;
use common::*;
use std::path::Path;
use std::process::Command;

const PW: &str = "s3 test password";
const PREFIX: &str = "site/registry";

/// Runs a `berth` command on the data folder (and its database, on PostgreSQL) with
/// the bucket as its store.
fn berth(data: &Path, s3: &S3Server, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .args(database_flags(data))
        .args([
            "--storage",
            &format!("s3://{}/{PREFIX}", common::s3::BUCKET),
        ])
        .envs(s3.env())
        .output()
        .expect("berth")
}

/// The bucket's key for a blob.
fn key(digest: &str) -> String {
    let hex = digest.trim_start_matches("sha256:");
    format!("{PREFIX}/blobs/sha256/{}/{hex}", &hex[..2])
}

/// Every file under `dir`.
fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.file_type().unwrap().is_dir() {
                out.extend(files_under(&e.path()));
            } else {
                out.push(e.path());
            }
        }
    }
    out
}

#[test]
fn blobs_live_in_the_bucket_and_everything_reads_them_there() {
    let s3 = S3Server::start();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path();
    let env = s3.env();
    let env_refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let storage = format!("s3://{}/{PREFIX}", common::s3::BUCKET);
    let s = Server::start_in_env(
        data,
        &["--storage", &storage, "--grace", "0", "--gc-interval", "0"],
        &env_refs,
    );
    s.tenant("acme", "alice", PW, "admin");
    let a = Client::with_bearer(
        &s,
        &token(
            &s,
            "alice",
            PW,
            &[
                "repository:acme/app:pull,push,delete",
                "repository:acme/copy:pull,push",
            ],
        ),
    );
    assert_eq!(a.get("/healthz").status, 200);

    // A small image in single requests.
    let small = b"a small layer".to_vec();
    let (manifest, _) = push_image(&a, "acme/app", "v1", &[&small]);
    assert_eq!(a.get("/v2/acme/app/manifests/v1").body, manifest);

    // A 21 MiB layer in chunks above and below S3's 5 MiB part minimum: it goes up as
    // a multipart upload, part by part while the chunks arrive.
    let big: Vec<u8> = (0..(21u32 << 20))
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let big_digest = push_in_chunks(
        &a,
        "acme/app",
        &big,
        &[3 << 20, 9 << 20, 1 << 20, (21 << 20) - (13 << 20)],
    );
    // The same bytes again, to another repository: the bucket keeps one copy.
    assert_eq!(
        push_in_chunks(&a, "acme/copy", &big, &[9 << 20, 12 << 20]),
        big_digest
    );

    // The small blob is an object at its digest's key; the big one is where its
    // parts went, whole, and no upload left anything behind.
    let objects = s3.list(PREFIX);
    assert!(objects.contains(&(key(&sha256(&small)), small.len() as u64)));
    let completed: Vec<&(String, u64)> = objects
        .iter()
        .filter(|(k, _)| k.starts_with(&format!("{PREFIX}/objects/")))
        .collect();
    assert_eq!(completed.len(), 1, "{objects:?}");
    let big_key = completed[0].0.clone();
    assert_eq!(completed[0].1, big.len() as u64);
    assert!(
        !objects
            .iter()
            .any(|(k, _)| k.starts_with(&format!("{PREFIX}/uploads/")) || *k == key(&big_digest)),
        "{objects:?}"
    );
    // The data folder holds no blob bytes and no leftover upload.
    let local: Vec<_> = files_under(data)
        .into_iter()
        .filter(|p| p.starts_with(data.join("store")) || p.starts_with(data.join("scratch")))
        .collect();
    assert_eq!(local, Vec::<std::path::PathBuf>::new());

    // Pulls read them back, whole and by range.
    let got = a.get(&format!("/v2/acme/app/blobs/{big_digest}"));
    assert_eq!(got.status, 200);
    assert_eq!(sha256(&got.body), big_digest);
    let r = a.send(
        "GET",
        &format!("/v2/acme/app/blobs/{big_digest}"),
        &[("Range", "bytes=10485750-10485769")],
        None,
    );
    assert_eq!(r.status, 206);
    assert_eq!(r.body, &big[10485750..10485770]);
    let head = a.send(
        "HEAD",
        &format!("/v2/acme/app/blobs/{big_digest}"),
        &[],
        None,
    );
    assert_eq!(
        head.header("content-length"),
        Some(big.len().to_string().as_str())
    );

    // A manifest takes the big layer (pushed again in one request: the bucket has it,
    // so the bytes are only checked), and keeps it from garbage collection.
    push_image(&a, "acme/app", "big", &[&big]);
    assert_eq!(a.get("/v2/acme/app/manifests/big").status, 200);

    // Garbage collection removes the object of a blob nothing references.
    let alone = b"referenced by nothing".to_vec();
    let alone_digest = push_blob(&a, "acme/app", &alone);
    assert!(
        s3.list(PREFIX)
            .iter()
            .any(|(k, _)| *k == key(&alone_digest))
    );
    let gc = berth(data, &s3, &["gc", "--grace", "0", "--json"]);
    assert!(
        gc.status.success(),
        "{}",
        String::from_utf8_lossy(&gc.stderr)
    );
    let after = s3.list(PREFIX);
    assert!(
        !after.iter().any(|(k, _)| *k == key(&alone_digest)),
        "{after:?}"
    );
    assert!(after.iter().any(|(k, _)| *k == big_key));
    assert_eq!(
        a.get(&format!("/v2/acme/app/blobs/{alone_digest}")).status,
        404
    );

    // fsck reads every object back and finds the bucket consistent.
    let fsck = berth(data, &s3, &["fsck"]);
    let out = String::from_utf8_lossy(&fsck.stdout).into_owned();
    assert!(
        fsck.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&fsck.stderr)
    );
    assert!(out.contains("all consistent"), "{out}");
}

#[test]
fn a_bad_storage_url_is_refused_in_words() {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["fsck", "--storage", "s3://Not_A_Bucket"])
        .arg("--data-dir")
        .arg(tmp.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is not an S3 bucket name"), "{err}");
}

#[test]
fn with_blob_redirect_a_pull_reads_from_a_presigned_url_of_the_bucket() {
    let s3 = S3Server::start();
    let tmp = tempfile::tempdir().unwrap();
    let env = s3.env();
    let env_refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let storage = format!("s3://{}/{PREFIX}", common::s3::BUCKET);
    let s = Server::start_in_env(
        tmp.path(),
        &["--storage", &storage, "--blob-redirect"],
        &env_refs,
    );
    s.tenant("acme", "alice", PW, "admin");
    let a = Client::with_bearer(
        &s,
        &token(&s, "alice", PW, &["repository:acme/app:pull,push"]),
    );
    let layer = b"read me from the bucket".repeat(1000);
    push_image(&a, "acme/app", "v1", &[&layer]);
    let digest = sha256(&layer);

    let r = a.get(&format!("/v2/acme/app/blobs/{digest}"));
    assert_eq!(r.status, 307, "{}", r.text());
    assert_eq!(r.header("docker-content-digest"), Some(digest.as_str()));
    let url = r.header("location").unwrap().to_owned();
    assert!(url.starts_with(&s3.endpoint), "{url}");
    assert!(url.contains(&key(&digest)), "{url}");
    assert!(
        url.contains("X-Amz-Signature=") && url.contains("X-Amz-Expires=300"),
        "{url}"
    );
    let mut body = Vec::new();
    use std::io::Read;
    ureq::get(&url)
        .call()
        .expect("the presigned URL")
        .into_reader()
        .read_to_end(&mut body)
        .unwrap();
    assert_eq!(body, layer);
    // HEAD is answered by Berth itself, and no redirect leaks a blob of another
    // repository: without pull on it there is no URL.
    let head = a.send("HEAD", &format!("/v2/acme/app/blobs/{digest}"), &[], None);
    assert_eq!(head.status, 200);
    assert_eq!(
        head.header("content-length"),
        Some(layer.len().to_string().as_str())
    );
    let other = a.get(&format!("/v2/acme/other/blobs/{digest}"));
    assert_eq!(other.status, 401);
}
