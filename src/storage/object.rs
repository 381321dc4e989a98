//! The blob store in an object store (S3 or any S3-compatible server), through the
//! `object_store` crate.
//!
//! ```text
//! <bucket>/<prefix>/
//!   blobs/sha256/ab/ab12…ef     one object a blob, at the same path as in the folder store
//!   healthz                     written and removed by health checks
//! ```
//!
//! Uploads in progress are staged in a local folder (the replica's scratch space), as
//! the folder store keeps them; finishing one puts the bytes at the blob's key before
//! the database transaction that records it, so that transaction holds no network
//! transfer. An object store has no rename, but a PUT (or a completed multipart
//! upload) is atomic: an object is visible whole or not at all, and durable once
//! acknowledged, which is the contract `BlobStore` asks for.

use super::{
    BlobStore, BlobStream, BoxedReader, FilesystemStore, UploadSink, blob_location, digest_at,
};
use crate::domain::Digest;
use async_trait::async_trait;
use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::signer::Signer;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt, WriteMultipart};
use std::io;
use std::sync::Arc;
use tokio::io::AsyncReadExt;

/// Blobs up to this size go up in one PUT; larger ones as a multipart upload.
const SINGLE_PUT_LIMIT: u64 = 16 << 20;
/// The smallest part of a multipart upload we send (S3's minimum is 5 MiB).
const MIN_PART: u64 = 8 << 20;
/// S3 allows 10,000 parts; part sizes grow so that a blob always fits in fewer.
const MAX_PARTS: u64 = 9_000;
/// Parts in flight at once for one blob.
const PART_CONCURRENCY: usize = 4;
/// How much of the staged file is read at a time.
const READ_CHUNK: usize = 1 << 20;

pub struct ObjectBlobStore {
    objects: Arc<dyn ObjectStore>,
    prefix: Path,
    staging: FilesystemStore,
    /// Presigns reads, where the object store can (S3 can).
    signer: Option<Arc<dyn Signer>>,
}

impl ObjectBlobStore {
    /// A store keeping blobs under `prefix` in `objects` and uploads in progress in
    /// the local folder `staging`.
    pub async fn open(
        objects: Arc<dyn ObjectStore>,
        prefix: &str,
        staging: impl Into<std::path::PathBuf>,
    ) -> io::Result<Self> {
        Ok(Self {
            objects,
            prefix: Path::from(prefix),
            staging: FilesystemStore::open(staging).await?,
            signer: None,
        })
    }

    /// The same store, presigning blob reads with `signer`.
    pub fn with_signer(mut self, signer: Arc<dyn Signer>) -> Self {
        self.signer = Some(signer);
        self
    }

    fn blob_key(&self, digest: &Digest) -> Path {
        blob_location(digest)
            .iter()
            .fold(self.prefix.clone(), |key, part| key.join(part.as_str()))
    }

    /// The digest an object's key stands for, if it sits where that blob belongs.
    fn digest_of(&self, key: &Path) -> Option<Digest> {
        let parts: Vec<String> = key
            .prefix_match(&self.prefix)?
            .map(|p| p.as_ref().to_owned())
            .collect();
        digest_at(&parts)
    }

    /// Whether the object at `key` exists.
    async fn exists(&self, key: &Path) -> io::Result<bool> {
        match self.objects.head(key).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(to_io(e)),
        }
    }

    /// Puts the staged bytes of upload `id` at `key`: one PUT when small, else a
    /// multipart upload whose parts grow with the blob (aborted on failure, so no
    /// parts are left behind by this process).
    async fn put_staged(&self, id: &str, key: &Path) -> io::Result<()> {
        let size = self.staging.upload_size(id).await?;
        let mut file = self.staging.upload_reader(id).await?;
        if size <= SINGLE_PUT_LIMIT {
            let mut bytes = Vec::with_capacity(size as usize);
            file.read_to_end(&mut bytes).await?;
            self.objects
                .put(key, Bytes::from(bytes).into())
                .await
                .map_err(to_io)?;
            return Ok(());
        }
        let upload = self.objects.put_multipart(key).await.map_err(to_io)?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, part_size(size) as usize);
        let sent: io::Result<()> = async {
            loop {
                let mut buf = vec![0; READ_CHUNK];
                let n = file.read(&mut buf).await?;
                if n == 0 {
                    return Ok(());
                }
                buf.truncate(n);
                writer
                    .wait_for_capacity(PART_CONCURRENCY)
                    .await
                    .map_err(to_io)?;
                writer.put(Bytes::from(buf));
            }
        }
        .await;
        match sent {
            Ok(()) => writer.finish().await.map(|_| ()).map_err(to_io),
            Err(e) => {
                if let Err(abort) = writer.abort().await {
                    tracing::warn!(%key, error = %abort, "aborting a multipart upload failed");
                }
                Err(e)
            }
        }
    }
}

/// The part size for a blob of `size` bytes: at least `MIN_PART`, and large enough
/// that the blob needs at most `MAX_PARTS` parts.
fn part_size(size: u64) -> u64 {
    MIN_PART.max(size.div_ceil(MAX_PARTS))
}

/// The object store's errors in the store's vocabulary: a missing object is
/// `NotFound`, as a missing file is.
fn to_io(e: object_store::Error) -> io::Error {
    match e {
        object_store::Error::NotFound { .. } => io::Error::new(io::ErrorKind::NotFound, e),
        e => io::Error::other(e),
    }
}

#[async_trait]
impl BlobStore for ObjectBlobStore {
    async fn create_upload(&self, id: &str) -> io::Result<()> {
        self.staging.create_upload(id).await
    }

    async fn upload_sink(&self, id: &str, offset: u64) -> io::Result<Box<dyn UploadSink>> {
        self.staging.upload_sink(id, offset).await
    }

    async fn upload_size(&self, id: &str) -> io::Result<u64> {
        self.staging.upload_size(id).await
    }

    async fn upload_reader(&self, id: &str) -> io::Result<BoxedReader> {
        self.staging.upload_reader(id).await
    }

    async fn sync_upload(&self, id: &str, digest: &Digest) -> io::Result<()> {
        let key = self.blob_key(digest);
        // Same digest, same bytes: an object already there is this blob.
        if self.exists(&key).await? {
            return Ok(());
        }
        self.put_staged(id, &key).await
    }

    async fn commit_upload(&self, id: &str, digest: &Digest) -> io::Result<()> {
        let key = self.blob_key(digest);
        // `sync_upload` put it there; orphan removal may have taken it since, before
        // the transaction calling this claimed the blob's row, so look again.
        if !self.exists(&key).await? {
            self.put_staged(id, &key).await?;
        }
        self.staging.delete_upload(id).await
    }

    async fn delete_upload(&self, id: &str) -> io::Result<()> {
        self.staging.delete_upload(id).await
    }

    async fn read_blob(&self, digest: &Digest, offset: u64, len: u64) -> io::Result<BlobStream> {
        let key = self.blob_key(digest);
        if len == 0 {
            // An empty range is no range S3 can express; the object must exist still.
            self.objects.head(&key).await.map_err(to_io)?;
            return Ok(Box::pin(futures_util::stream::empty()));
        }
        let options = GetOptions {
            range: Some(GetRange::Bounded(offset..offset + len)),
            ..Default::default()
        };
        let got = self.objects.get_opts(&key, options).await.map_err(to_io)?;
        Ok(Box::pin(got.into_stream().map_err(to_io)))
    }

    async fn blob_exists(&self, digest: &Digest) -> io::Result<bool> {
        self.exists(&self.blob_key(digest)).await
    }

    async fn delete_blob(&self, digest: &Digest) -> io::Result<()> {
        match self.objects.delete(&self.blob_key(digest)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(to_io(e)),
        }
    }

    async fn check(&self) -> io::Result<()> {
        let probe = self.prefix.clone().join("healthz");
        self.objects
            .put(&probe, Bytes::from_static(b"ok").into())
            .await
            .map_err(to_io)?;
        self.objects.delete(&probe).await.map_err(to_io)?;
        self.staging.check().await
    }

    async fn list_blobs(&self) -> io::Result<Vec<(Digest, u64)>> {
        let blobs = self.prefix.clone().join("blobs");
        let mut listing = self.objects.list(Some(&blobs));
        let mut out = Vec::new();
        while let Some(meta) = listing.next().await {
            let meta = meta.map_err(to_io)?;
            if let Some(d) = self.digest_of(&meta.location) {
                out.push((d, meta.size));
            }
        }
        Ok(out)
    }

    async fn list_uploads(&self) -> io::Result<Vec<(String, std::time::SystemTime)>> {
        self.staging.list_uploads().await
    }

    async fn list_strays(&self) -> io::Result<Vec<String>> {
        // Of the staging folder only its uploads are used (see `remove_stray`).
        let mut out: Vec<String> = self
            .staging
            .list_strays()
            .await?
            .into_iter()
            .filter(|p| p.starts_with("uploads/"))
            .collect();
        let mut listing = self.objects.list(Some(&self.prefix));
        while let Some(meta) = listing.next().await {
            let key = meta.map_err(to_io)?.location;
            if self.digest_of(&key).is_some() {
                continue;
            }
            let Some(rel) = key.prefix_match(&self.prefix) else {
                continue;
            };
            let rel: Vec<String> = rel.map(|p| p.as_ref().to_owned()).collect();
            if rel != ["healthz"] {
                out.push(rel.join("/"));
            }
        }
        Ok(out)
    }

    async fn presigned_url(
        &self,
        digest: &Digest,
        valid_for: std::time::Duration,
    ) -> io::Result<Option<String>> {
        let Some(signer) = &self.signer else {
            return Ok(None);
        };
        let url = signer
            .signed_url(
                object_store::signer::Method::GET,
                &self.blob_key(digest),
                valid_for,
            )
            .await
            .map_err(to_io)?;
        Ok(Some(url.to_string()))
    }

    async fn remove_stray(&self, path: &str) -> io::Result<()> {
        // Paths are relative to the store, as in the folder store: staged uploads
        // under `uploads/`, everything else in the bucket.
        if path.starts_with("uploads/") {
            return self.staging.remove_stray(path).await;
        }
        if path.split('/').any(|p| p == ".." || p.is_empty()) {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "bad path"));
        }
        let mut key = self.prefix.clone();
        for part in path.split('/') {
            key = key.join(part);
        }
        self.objects.delete(&key).await.map_err(to_io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::memory::InMemory;

    async fn store(objects: Arc<InMemory>, dir: &std::path::Path) -> ObjectBlobStore {
        ObjectBlobStore::open(objects, "team/registry", dir)
            .await
            .unwrap()
    }

    async fn stage(store: &ObjectBlobStore, id: &str, bytes: &[u8]) {
        store.create_upload(id).await.unwrap();
        let mut w = store.upload_sink(id, 0).await.unwrap();
        w.write(Bytes::copy_from_slice(bytes)).await.unwrap();
        w.finish().await.unwrap();
    }

    #[tokio::test]
    async fn a_blob_is_an_object_only_once_synced_and_reads_back_by_range() {
        let dir = tempfile::tempdir().unwrap();
        let objects = Arc::new(InMemory::new());
        let store = store(objects.clone(), dir.path()).await;
        let bytes: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let digest = Digest::sha256_of(&bytes);
        stage(&store, "0123abcd-0001", &bytes).await;
        assert!(!store.blob_exists(&digest).await.unwrap());
        store.sync_upload("0123abcd-0001", &digest).await.unwrap();
        store.commit_upload("0123abcd-0001", &digest).await.unwrap();
        assert!(store.blob_exists(&digest).await.unwrap());
        // The staged copy is gone; the object sits at the folder store's path.
        assert!(store.upload_size("0123abcd-0001").await.is_err());
        let key = format!(
            "team/registry/blobs/sha256/{}/{}",
            &digest.hex()[..2],
            digest.hex()
        );
        let raw = objects.get(&Path::from(key)).await.unwrap();
        assert_eq!(raw.bytes().await.unwrap(), bytes);
        let part: Vec<Bytes> = store
            .read_blob(&digest, 1000, 5)
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(part.concat(), &bytes[1000..1005]);
        assert_eq!(
            store.list_blobs().await.unwrap(),
            vec![(digest.clone(), bytes.len() as u64)]
        );
        store.delete_blob(&digest).await.unwrap();
        assert!(!store.blob_exists(&digest).await.unwrap());
        let missing = store.read_blob(&digest, 0, 1).await.err().unwrap();
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);
    }

    #[tokio::test]
    async fn a_large_blob_goes_up_in_parts_and_a_commit_puts_back_what_was_taken() {
        let dir = tempfile::tempdir().unwrap();
        let objects = Arc::new(InMemory::new());
        let store = store(objects.clone(), dir.path()).await;
        let bytes: Vec<u8> = (0..(SINGLE_PUT_LIMIT as usize + 3 * (MIN_PART as usize) + 7))
            .map(|i| (i * 7 % 253) as u8)
            .collect();
        let digest = Digest::sha256_of(&bytes);
        stage(&store, "0123abcd-0002", &bytes).await;
        store.sync_upload("0123abcd-0002", &digest).await.unwrap();
        // Something removed the object between the sync and the commit.
        store.delete_blob(&digest).await.unwrap();
        store.commit_upload("0123abcd-0002", &digest).await.unwrap();
        let all: Vec<Bytes> = store
            .read_blob(&digest, 0, bytes.len() as u64)
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(Digest::sha256_of(&all.concat()), digest);
    }

    #[tokio::test]
    async fn strays_are_what_is_neither_a_blob_nor_the_probe() {
        let dir = tempfile::tempdir().unwrap();
        let objects = Arc::new(InMemory::new());
        let store = store(objects.clone(), dir.path()).await;
        store.check().await.unwrap();
        for key in [
            "team/registry/blobs/sha256/zz/not-a-digest",
            "team/registry/notes.txt",
            "elsewhere/blobs/x",
        ] {
            objects
                .put(&Path::from(key), Bytes::from_static(b"x").into())
                .await
                .unwrap();
        }
        let mut strays = store.list_strays().await.unwrap();
        strays.sort();
        assert_eq!(strays, ["blobs/sha256/zz/not-a-digest", "notes.txt"]);
        store.remove_stray("notes.txt").await.unwrap();
        assert_eq!(store.list_strays().await.unwrap().len(), 1);
        assert!(store.remove_stray("blobs/../x").await.is_err());
    }

    #[test]
    fn parts_grow_so_that_a_tebibyte_fits() {
        assert_eq!(part_size(20 << 20), MIN_PART);
        assert!(part_size(1 << 40) * MAX_PARTS >= 1 << 40);
        assert!((1u64 << 40).div_ceil(part_size(1 << 40)) <= 10_000);
    }
}
