//! The blob store's bytes as the tests reach them behind Berth's back (to damage, lose
//! or plant blobs): files in `<data>/store`, or objects in the run's S3 bucket when
//! `.ci/with-s3` keeps blobs there (at the prefix `storage_flags` gives the folder).

use super::Server;
use object_store::path::Path as Key;
use object_store::{ObjectStore, ObjectStoreExt};
use std::path::PathBuf;

/// Where a blob's bytes live, relative to the store: the same in both layouts.
fn blob_path(digest: &str) -> String {
    let hex = digest.trim_start_matches("sha256:");
    format!("blobs/sha256/{}/{hex}", &hex[..2])
}

/// The bucket of this run, when it keeps blobs in one.
fn bucket() -> Option<impl ObjectStore> {
    let endpoint = std::env::var("BERTH_TEST_S3_ENDPOINT").ok()?;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut b = object_store::aws::AmazonS3Builder::new().with_bucket_name(super::s3::BUCKET);
    for (k, v) in super::s3::env_for(&endpoint) {
        b = b.with_config(k.to_ascii_lowercase().parse().unwrap(), v);
    }
    Some(b.build().unwrap())
}

fn key(s: &Server, rel: &str) -> Key {
    Key::from(format!("{}/{rel}", super::folder_name(&s.data)))
}

fn file(s: &Server, rel: &str) -> PathBuf {
    s.data.join("store").join(rel)
}

fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// Whether the store holds bytes at `rel` (a path relative to the store).
pub fn stored(s: &Server, rel: &str) -> bool {
    match bucket() {
        Some(b) => block_on(b.head(&key(s, rel))).is_ok(),
        None => file(s, rel).exists(),
    }
}

/// Puts `bytes` at `rel`, replacing what is there.
pub fn store_bytes(s: &Server, rel: &str, bytes: &[u8]) {
    match bucket() {
        Some(b) => {
            block_on(b.put(&key(s, rel), bytes.to_vec().into())).unwrap();
        }
        None => {
            let path = file(s, rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, bytes).unwrap();
        }
    }
}

/// Removes the bytes at `rel`.
pub fn unstore(s: &Server, rel: &str) {
    match bucket() {
        Some(b) => block_on(b.delete(&key(s, rel))).unwrap(),
        None => std::fs::remove_file(file(s, rel)).unwrap(),
    }
}

/// Whether the store holds the blob's bytes.
pub fn blob_stored(s: &Server, digest: &str) -> bool {
    stored(s, &blob_path(digest))
}

/// Replaces (or plants) a blob's bytes.
pub fn store_blob(s: &Server, digest: &str, bytes: &[u8]) {
    store_bytes(s, &blob_path(digest), bytes)
}

/// Loses a blob's bytes.
pub fn unstore_blob(s: &Server, digest: &str) {
    unstore(s, &blob_path(digest))
}

/// The lengths of what the store holds for uploads in progress: their files, or, in a
/// bucket, their tails (the bytes past their last part; these tests' uploads are
/// smaller than a part).
pub fn upload_bytes(s: &Server) -> Vec<u64> {
    match bucket() {
        Some(b) => block_on(async {
            use futures_util::TryStreamExt;
            b.list(Some(&key(s, "uploads")))
                .map_ok(|meta| meta.size)
                .try_collect()
                .await
                .unwrap()
        }),
        None => std::fs::read_dir(file(s, "uploads"))
            .unwrap()
            .map(|e| e.unwrap())
            .filter(|e| e.file_name() != ".healthz")
            .map(|e| e.metadata().unwrap().len())
            .collect(),
    }
}
