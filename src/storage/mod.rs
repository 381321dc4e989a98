//! Bytes only: where blob contents and in-progress uploads live. The database decides
//! what exists; the store only keeps bytes under their digest.

mod filesystem;
mod object;

pub use filesystem::FilesystemStore;
pub use object::ObjectBlobStore;

use crate::domain::Digest;
use async_trait::async_trait;
use bytes::Bytes;
use futures_util::Stream;
use std::io;
use std::pin::Pin;
use tokio::io::AsyncRead;

pub type BoxedReader = Pin<Box<dyn AsyncRead + Send>>;
/// A blob's bytes, in large chunks read ahead of the client.
pub type BlobStream = Pin<Box<dyn Stream<Item = io::Result<Bytes>> + Send>>;

/// Where one request's bytes of an upload go. Writing happens beside the caller (on
/// another thread for the filesystem), so hashing and writing overlap.
#[async_trait]
pub trait UploadSink: Send {
    async fn write(&mut self, chunk: Bytes) -> io::Result<()>;
    /// Waits until everything written is in the file.
    async fn finish(self: Box<Self>) -> io::Result<()>;
}

/// A content-addressed blob store with a temp area for uploads.
///
/// Contract every implementation keeps: a blob becomes visible under its digest only
/// through `commit_upload`, atomically and durably, so a reader never sees part of a
/// blob and a crash never loses one that was committed.
#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// Creates the empty temp file of a new upload.
    async fn create_upload(&self, id: &str) -> io::Result<()>;
    /// A sink appending at `offset`, the upload's current length (anything past it is
    /// cut off first).
    async fn upload_sink(&self, id: &str, offset: u64) -> io::Result<Box<dyn UploadSink>>;
    /// How many bytes the upload holds.
    async fn upload_size(&self, id: &str) -> io::Result<u64>;
    /// Reads the upload's bytes from the start, to recompute a hash after a restart.
    async fn upload_reader(&self, id: &str) -> io::Result<BoxedReader>;
    /// The slow part of a commit, done before the transaction that records the blob:
    /// the folder store makes the bytes durable where they are, an object store puts
    /// them at `digest`'s key.
    async fn sync_upload(&self, id: &str, digest: &Digest) -> io::Result<()>;
    /// Makes the upload's bytes durable and moves them to `digest`'s place (or drops
    /// them when the store has that blob already).
    async fn commit_upload(&self, id: &str, digest: &Digest) -> io::Result<()>;
    async fn delete_upload(&self, id: &str) -> io::Result<()>;
    /// Streams `len` bytes of a blob from `offset`.
    async fn read_blob(&self, digest: &Digest, offset: u64, len: u64) -> io::Result<BlobStream>;
    async fn blob_exists(&self, digest: &Digest) -> io::Result<bool>;
    async fn delete_blob(&self, digest: &Digest) -> io::Result<()>;
    /// Fails when the store cannot be written, for health checks.
    async fn check(&self) -> io::Result<()>;
    /// Every blob the store holds, with its length, for consistency checks.
    async fn list_blobs(&self) -> io::Result<Vec<(Digest, u64)>>;
    /// Every upload's temp file, with when it was last written.
    async fn list_uploads(&self) -> io::Result<Vec<(String, std::time::SystemTime)>>;
    /// Files in the store that are neither a blob nor an upload (left by a crash or by
    /// hand), as paths relative to the store.
    async fn list_strays(&self) -> io::Result<Vec<String>>;
    /// Removes a stray file found by `list_strays`.
    async fn remove_stray(&self, path: &str) -> io::Result<()>;
    /// A URL that reads the blob straight from the store for `valid_for`, for stores
    /// clients can reach themselves (object stores); `None` for the others.
    async fn presigned_url(
        &self,
        _digest: &Digest,
        _valid_for: std::time::Duration,
    ) -> io::Result<Option<String>> {
        Ok(None)
    }
}

/// Where a blob lives in a store, as parts of a path relative to the store's root; both
/// stores use this layout: `blobs/<algorithm>/<first two hex digits>/<hex>`.
fn blob_location(digest: &Digest) -> [String; 4] {
    let hex = digest.hex();
    [
        "blobs".to_owned(),
        digest.algorithm().as_str().to_owned(),
        hex[..2].to_owned(),
        hex.to_string(),
    ]
}

/// The digest a path relative to the store's root (as its parts) stands for, if it is
/// where that blob belongs (see [`blob_location`]).
fn digest_at<S: AsRef<str>>(parts: &[S]) -> Option<Digest> {
    let [blobs, algorithm, shard, hex] = parts else {
        return None;
    };
    let (algorithm, shard, hex) = (algorithm.as_ref(), shard.as_ref(), hex.as_ref());
    let d = Digest::parse(&format!("{algorithm}:{hex}")).ok()?;
    (blobs.as_ref() == "blobs" && shard.len() == 2 && hex.starts_with(shard)).then_some(d)
}

/// Where blobs live, as `--storage` names it: parsed once, at the edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// `file://PATH`: a local folder.
    Folder(std::path::PathBuf),
    /// `s3://BUCKET[/PREFIX]`: an S3-compatible object store, configured by the
    /// standard `AWS_*` environment.
    S3 { bucket: String, prefix: String },
}

impl std::str::FromStr for Location {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if let Some(path) = s.strip_prefix("file://") {
            if path.is_empty() {
                return Err("file:// needs a path, e.g. file:///var/lib/berth/store".into());
            }
            return Ok(Location::Folder(path.into()));
        }
        if let Some(rest) = s.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            // Bucket names: 3 to 63 lowercase letters, digits, dots and hyphens.
            let valid_bucket = (3..=63).contains(&bucket.len())
                && bucket.bytes().all(|c| {
                    c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'.' || c == b'-'
                });
            if !valid_bucket {
                return Err(format!("{bucket:?} is not an S3 bucket name"));
            }
            let prefix = prefix.trim_matches('/');
            if prefix.split('/').any(|p| p == "." || p == "..") || prefix.contains("//") {
                return Err(format!("{prefix:?} is not a key prefix"));
            }
            return Ok(Location::S3 {
                bucket: bucket.to_owned(),
                prefix: prefix.to_owned(),
            });
        }
        Err(format!(
            "{s:?}: storage is s3://BUCKET[/PREFIX] or file://PATH"
        ))
    }
}

/// The location as `--storage` writes it, for messages.
impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Folder(path) => write!(f, "file://{}", path.display()),
            Location::S3 { bucket, prefix } if prefix.is_empty() => write!(f, "s3://{bucket}"),
            Location::S3 { bucket, prefix } => write!(f, "s3://{bucket}/{prefix}"),
        }
    }
}

/// Opens the store at `location`; an object store stages uploads in `scratch`.
pub async fn open(
    location: &Location,
    scratch: &std::path::Path,
) -> io::Result<std::sync::Arc<dyn BlobStore>> {
    match location {
        Location::Folder(path) => Ok(std::sync::Arc::new(FilesystemStore::open(path).await?)),
        Location::S3 { bucket, prefix } => {
            // reqwest's TLS needs a process-wide provider; it is already set when a
            // second store is opened in the same process.
            let _ = rustls::crypto::ring::default_provider().install_default();
            let s3 = std::sync::Arc::new(
                object_store::aws::AmazonS3Builder::from_env()
                    .with_bucket_name(bucket)
                    .build()
                    .map_err(io::Error::other)?,
            );
            let store = ObjectBlobStore::open(s3.clone(), prefix, scratch).await?;
            Ok(std::sync::Arc::new(store.with_signer(s3)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Location;

    #[test]
    fn storage_urls_parse_into_a_folder_or_a_bucket_and_prefix() {
        assert_eq!(
            "file:///srv/blobs".parse(),
            Ok(Location::Folder("/srv/blobs".into()))
        );
        assert_eq!(
            "s3://my-bucket".parse(),
            Ok(Location::S3 {
                bucket: "my-bucket".into(),
                prefix: String::new()
            })
        );
        assert_eq!(
            "s3://my-bucket/team/registry/".parse(),
            Ok(Location::S3 {
                bucket: "my-bucket".into(),
                prefix: "team/registry".into()
            })
        );
        for url in [
            "file:///srv/blobs",
            "s3://my-bucket",
            "s3://my-bucket/team/registry",
        ] {
            assert_eq!(url.parse::<Location>().unwrap().to_string(), url);
        }
        for bad in [
            "s3://",
            "s3://UPPER",
            "s3://b/../x",
            "s3://bb/a//b",
            "file://",
            "/srv",
            "gs://b",
        ] {
            assert!(bad.parse::<Location>().is_err(), "{bad}");
        }
    }
}
