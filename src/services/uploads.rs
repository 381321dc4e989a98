//! Blob upload sessions: monolithic, chunked and streamed.
//!
//! Bytes stream into the store's temp file while they are hashed; nothing is buffered
//! whole. The session row records the acknowledged length, so a session survives a
//! restart; the running hash lives in memory and is recomputed from the file when it
//! was lost or does not fit (a sha512 digest, say).

use super::{Error, Invalid, Result, Services, Thing, now_ms};
use crate::db::Upload;
use crate::domain::digest::Hasher;
use crate::domain::{Algorithm, ContentRange, Digest, RepositoryName};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::io::AsyncReadExt;

/// The running hash of an upload, valid for exactly `size` bytes.
struct RunningHash {
    size: u64,
    hasher: Hasher,
}

/// Per-upload locks, so two requests never write one upload at once, plus the
/// running hashes.
#[derive(Default)]
pub struct UploadLocks {
    map: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<RunningHash>>>>>,
}

impl UploadLocks {
    fn lock_for(&self, id: &str) -> Arc<tokio::sync::Mutex<Option<RunningHash>>> {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(id.to_owned()).or_default().clone()
    }

    fn forget(&self, id: &str) {
        self.map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
    }
}

/// A body stream as the HTTP layer gives it.
pub trait BodyStream:
    Stream<Item = std::result::Result<Bytes, std::io::Error>> + Send + Unpin
{
}
impl<T: Stream<Item = std::result::Result<Bytes, std::io::Error>> + Send + Unpin> BodyStream for T {}

impl Services {
    pub async fn start_upload(&self, repo: &RepositoryName) -> Result<Upload> {
        let r = self.repository_for_push(repo).await?;
        let id = uuid::Uuid::new_v4().to_string();
        self.store.create_upload(&id).await?;
        Ok(self.db.create_upload(&id, r.id, now_ms()).await?)
    }

    /// The session, only through the repository that started it.
    pub async fn upload(&self, repo: &RepositoryName, id: &str) -> Result<Upload> {
        let r = self
            .repository(repo)
            .await
            .map_err(|_| Error::NotFound(Thing::Upload))?;
        self.db
            .upload(id, r.id)
            .await?
            .ok_or(Error::NotFound(Thing::Upload))
    }

    /// Appends a chunk; with a `Content-Range` it must start where the upload ends.
    /// Returns the new length.
    pub async fn append_upload(
        &self,
        repo: &RepositoryName,
        id: &str,
        range: Option<ContentRange>,
        body: impl BodyStream,
    ) -> Result<u64> {
        let lock = self.uploads.lock_for(id);
        let mut running = lock.lock().await;
        let upload = self.upload(repo, id).await?;
        let size = upload.size as u64;
        if let Some(r) = range
            && r.start != size
        {
            return Err(Error::Invalid(Invalid::Range { size }));
        }
        let new_size = self.write_chunk(id, size, &mut running, body).await?;
        self.db
            .set_upload_size(id, new_size as i64, now_ms())
            .await?;
        Ok(new_size)
    }

    async fn write_chunk(
        &self,
        id: &str,
        size: u64,
        running: &mut Option<RunningHash>,
        mut body: impl BodyStream,
    ) -> Result<u64> {
        let mut hash = match running.take() {
            Some(h) if h.size == size => Some(h.hasher),
            _ if size == 0 => Some(Hasher::new(Algorithm::Sha256)),
            _ => None,
        };
        let mut sink = self.store.upload_sink(id, size).await?;
        let mut written = 0u64;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| {
                Error::Invalid(Invalid::Request(format!("reading the request body: {e}")))
            })?;
            // The sink writes this chunk on its own thread while the next one is hashed.
            if let Some(h) = hash.as_mut() {
                h.update(&chunk);
            }
            written += chunk.len() as u64;
            sink.write(chunk).await?;
        }
        sink.finish().await?;
        let new_size = size + written;
        *running = hash.map(|hasher| RunningHash {
            size: new_size,
            hasher,
        });
        Ok(new_size)
    }

    /// Completes an upload with its last chunk (possibly empty): checks the digest,
    /// moves the bytes into place and links the blob to the repository.
    pub async fn finish_upload(
        &self,
        repo: &RepositoryName,
        id: &str,
        digest: &Digest,
        range: Option<ContentRange>,
        body: impl BodyStream,
    ) -> Result<u64> {
        let lock = self.uploads.lock_for(id);
        let mut running = lock.lock().await;
        let upload = self.upload(repo, id).await?;
        if let Some(r) = range
            && r.start != upload.size as u64
        {
            return Err(Error::Invalid(Invalid::Range {
                size: upload.size as u64,
            }));
        }
        let size = self
            .write_chunk(id, upload.size as u64, &mut running, body)
            .await?;
        let actual = match running.take() {
            Some(h) if h.size == size && h.hasher.algorithm() == digest.algorithm() => {
                h.hasher.finish()
            }
            _ => self.hash_upload(id, digest.algorithm()).await?,
        };
        if &actual != digest {
            self.discard_upload(id).await?;
            return Err(Error::Invalid(Invalid::DigestMismatch));
        }
        self.store.commit_upload(id, digest).await?;
        self.db
            .complete_upload(
                id,
                upload.repository_id,
                &digest.to_string(),
                size as i64,
                now_ms(),
            )
            .await?;
        drop(running);
        self.uploads.forget(id);
        Ok(size)
    }

    /// Cancels an upload and deletes what it received.
    pub async fn cancel_upload(&self, repo: &RepositoryName, id: &str) -> Result<()> {
        let lock = self.uploads.lock_for(id);
        let _guard = lock.lock().await;
        self.upload(repo, id).await?;
        self.discard_upload(id).await?;
        drop(_guard);
        self.uploads.forget(id);
        Ok(())
    }

    async fn discard_upload(&self, id: &str) -> Result<()> {
        self.db.delete_upload(id).await?;
        self.store.delete_upload(id).await?;
        Ok(())
    }

    async fn hash_upload(&self, id: &str, algorithm: Algorithm) -> Result<Digest> {
        let mut r = self.store.upload_reader(id).await?;
        let mut h = Hasher::new(algorithm);
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = r.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
        Ok(h.finish())
    }
}
