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
/// another thread for the filesystem, as parts in flight for an object store), so
/// hashing and writing overlap.
#[async_trait]
pub trait UploadSink: Send {
    async fn write(&mut self, chunk: Bytes) -> io::Result<()>;
    /// Waits until everything written is durable in the store, and returns the
    /// upload's state to record beside its length (see [`UploadState`]).
    async fn finish(self: Box<Self>) -> io::Result<UploadState>;
    /// Ends a request whose progress will not be recorded: waits for what is under
    /// way and adds nothing a later request could trip over.
    async fn abandon(self: Box<Self>) {
        let _ = self.finish().await;
    }
}

/// What a store needs to know about an upload between requests, kept in the upload's
/// row so that any process continues it: nothing for the folder store (the file says
/// it all), the multipart upload and its parts for an object store. Opaque outside
/// the store that wrote it.
pub type UploadState = Option<String>;

/// An upload ready to become a blob: the state to finish from, and where the blob's
/// bytes will be (`None`: at the digest's usual place; else the object the database
/// must map the digest to).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub state: UploadState,
    pub object: Option<String>,
}

/// A blob as the store finds it: by its digest, and by the object the database maps
/// it to when its bytes are not at the digest's usual place (an object-store upload
/// completed from parts stays where its parts were put; S3 has no rename).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBlob {
    pub digest: Digest,
    /// The object's key relative to the store, `None` for the digest's usual place.
    pub object: Option<String>,
}

impl StoredBlob {
    /// A blob at its digest's usual place.
    pub fn at_digest(digest: Digest) -> Self {
        Self {
            digest,
            object: None,
        }
    }
}

/// An object that holds (or held) an upload's bytes under a key of its own, with the
/// upload it belongs to: it is needed while that upload's session exists or while a
/// blob's row maps to it, and is an orphan otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadObject {
    pub key: String,
    pub upload: String,
    pub size: u64,
}

/// A content-addressed blob store with a temp area for uploads.
///
/// Contract every implementation keeps: a blob becomes visible only through
/// `seal_upload` then `commit_upload`, atomically and durably, so a reader never sees
/// part of a blob and a crash never loses one that was committed; and what
/// `UploadSink::finish` returns is durable before the caller records it.
#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// Prepares a new upload (the folder store creates its empty file).
    async fn create_upload(&self, id: &str) -> io::Result<()>;
    /// A sink appending at `offset`, the upload's current length as recorded with
    /// `state` (anything the folder store holds past it is cut off first).
    async fn upload_sink(
        &self,
        id: &str,
        offset: u64,
        state: Option<&str>,
    ) -> io::Result<Box<dyn UploadSink>>;
    /// Removes what `before` kept that `after` does not, once `after` is recorded.
    async fn release_state(
        &self,
        _id: &str,
        _before: Option<&str>,
        _after: Option<&str>,
    ) -> io::Result<()> {
        Ok(())
    }
    /// The slow part of finishing an upload, done before the transaction that records
    /// the blob: makes the bytes durable and readable as one piece. `digest` is given
    /// when the bytes were checked against it (an object store then puts a small
    /// upload straight at the digest's key).
    async fn seal_upload(
        &self,
        id: &str,
        state: Option<&str>,
        digest: Option<&Digest>,
    ) -> io::Result<Sealed>;
    /// Reads a sealed upload's bytes from the start, to compute a hash the running one
    /// could not give.
    async fn upload_reader(&self, id: &str, state: Option<&str>) -> io::Result<BoxedReader>;
    /// Inside the transaction that records the blob: makes the sealed bytes the blob
    /// `digest` at the place sealing named (the folder store renames; an object store
    /// checks they are still there).
    async fn commit_upload(&self, id: &str, state: Option<&str>, digest: &Digest)
    -> io::Result<()>;
    /// Removes everything the upload left (whatever its state; a missing part is no
    /// error).
    async fn delete_upload(&self, id: &str, state: Option<&str>) -> io::Result<()>;
    /// Streams `len` bytes of a blob from `offset`.
    async fn read_blob(&self, blob: &StoredBlob, offset: u64, len: u64) -> io::Result<BlobStream>;
    async fn blob_exists(&self, blob: &StoredBlob) -> io::Result<bool>;
    async fn delete_blob(&self, blob: &StoredBlob) -> io::Result<()>;
    /// Fails when the store cannot be written, for health checks.
    async fn check(&self) -> io::Result<()>;
    /// Every blob the store holds at its digest's place, with its length, for
    /// consistency checks.
    async fn list_blobs(&self) -> io::Result<Vec<(Digest, u64)>>;
    /// Every object named after an upload rather than a digest (none in the folder
    /// store).
    async fn list_upload_objects(&self) -> io::Result<Vec<UploadObject>> {
        Ok(Vec::new())
    }
    /// Removes an object found by `list_upload_objects`.
    async fn delete_upload_object(&self, _key: &str) -> io::Result<()> {
        Ok(())
    }
    /// Every upload's temp file, with when it was last written; `None` for a store that
    /// keeps no file per upload (an object store's uploads are their rows' state).
    async fn list_uploads(&self) -> io::Result<Option<Vec<(String, std::time::SystemTime)>>>;
    /// Files in the store that are neither a blob nor an upload (left by a crash or by
    /// hand), as paths relative to the store.
    async fn list_strays(&self) -> io::Result<Vec<String>>;
    /// Removes a stray file found by `list_strays`.
    async fn remove_stray(&self, path: &str) -> io::Result<()>;
    /// A URL that reads the blob straight from the store for `valid_for`, for stores
    /// clients can reach themselves (object stores); `None` for the others.
    async fn presigned_url(
        &self,
        _blob: &StoredBlob,
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

/// Opens the store at `location`.
pub async fn open(location: &Location) -> io::Result<std::sync::Arc<dyn BlobStore>> {
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
            let store = ObjectBlobStore::new(s3.clone(), prefix);
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
