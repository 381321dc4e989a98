//! The blob store in an object store (S3 or any S3-compatible server), through the
//! `object_store` crate.
//!
//! ```text
//! <bucket>/<prefix>/
//!   blobs/sha256/ab/ab12…ef     a blob put whole, at the same path as in the folder store
//!   objects/<upload id>         a blob completed from a multipart upload, where its parts
//!                               went (the database maps its digest here: S3 has no rename)
//!   uploads/<upload id>/<name>  an upload's tail: the bytes past its last part
//!   healthz                     written and removed by health checks
//! ```
//!
//! An upload's bytes go straight into the bucket, with nothing staged on the replica:
//! every full part is put into a multipart upload at `objects/<upload id>` while the
//! body streams, and what is left at the end of a request (less than a part) is kept as
//! the tail object, read back by the next request (whichever replica it reaches) to
//! start its first part. The multipart id, the parts' ids and the tail's name are the
//! upload's state, recorded in its row, so no process ever re-reads more than one part.
//! Finishing an upload completes the multipart upload (or, for an upload smaller than
//! a part, puts the tail at the digest's key) before the database transaction that
//! records the blob, so that transaction holds no transfer; a completed multipart
//! upload, like a PUT, is atomic and durable once acknowledged, which is the contract
//! `BlobStore` asks for.

use super::{
    BlobStore, BlobStream, BoxedReader, Sealed, StoredBlob, UploadObject, UploadSink, UploadState,
    blob_location, digest_at,
};
use crate::domain::Digest;
use async_trait::async_trait;
use bytes::Bytes;
use futures_util::stream::FuturesOrdered;
use futures_util::{StreamExt, TryStreamExt};
use object_store::multipart::{MultipartStore, PartId};
use object_store::path::Path;
use object_store::signer::Signer;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutPayload};
use serde::{Deserialize, Serialize};
use std::io;
use std::sync::Arc;

/// S3's smallest part, for all parts but the last.
const MIN_PART: u64 = 5 << 20;
/// The first part's size; each next part is [`PART_GROWTH`] larger, so that 10,000
/// parts hold at least 1 TiB even when every request ends a part early.
const FIRST_PART: u64 = 8 << 20;
const PART_GROWTH: u64 = 40 << 10;
/// S3 allows 10,000 parts.
const MAX_PARTS: usize = 10_000;
/// Parts being put at once for one request.
const PARTS_IN_FLIGHT: usize = 3;

/// The size a part is cut at once the upload has `index` parts.
fn part_target(index: usize) -> u64 {
    FIRST_PART + index as u64 * PART_GROWTH
}

/// Whether `len` bytes left at the end of a request go up as a part of their own
/// rather than as the tail: they must be a valid part, and not so small that parts
/// stop growing toward 1 TiB.
fn ends_a_part(len: u64, index: usize) -> bool {
    len >= MIN_PART && len * 8 >= part_target(index) * 5
}

pub struct ObjectBlobStore {
    objects: Arc<dyn ObjectStore>,
    multipart: Arc<dyn MultipartStore>,
    prefix: Path,
    /// Presigns reads, where the object store can (S3 can).
    signer: Option<Arc<dyn Signer>>,
}

/// An upload's state, as its row records it (JSON).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct State {
    /// The multipart upload at `objects/<upload id>`, once a part was cut.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    multipart: Option<String>,
    /// The parts' ids, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    parts: Vec<String>,
    /// The bytes those parts hold.
    #[serde(default)]
    parted: u64,
    /// The object under `uploads/<upload id>/` holding the bytes past the parts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tail: Option<String>,
    /// Set by sealing: where the whole bytes are now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sealed: Option<SealedAt>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum SealedAt {
    /// Completed at `objects/<upload id>`.
    Object,
    /// Put at the digest's key.
    Digest,
}

impl State {
    fn parse(state: Option<&str>) -> io::Result<Self> {
        match state {
            None => Ok(Self::default()),
            Some(s) => serde_json::from_str(s).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("an upload's store state: {e}"),
                )
            }),
        }
    }

    fn to_text(&self) -> UploadState {
        (self != &Self::default()).then(|| serde_json::to_string(self).expect("plain data"))
    }
}

impl ObjectBlobStore {
    /// A store keeping blobs, and the bytes of uploads in progress, under `prefix`.
    pub fn new<S: ObjectStore + MultipartStore>(objects: Arc<S>, prefix: &str) -> Self {
        Self {
            objects: objects.clone(),
            multipart: objects,
            prefix: Path::from(prefix),
            signer: None,
        }
    }

    /// The same store, presigning blob reads with `signer`.
    pub fn with_signer(mut self, signer: Arc<dyn Signer>) -> Self {
        self.signer = Some(signer);
        self
    }

    /// The key of a path relative to the store.
    fn key(&self, rel: &str) -> Path {
        rel.split('/')
            .fold(self.prefix.clone(), |key, part| key.join(part))
    }

    fn blob_key(&self, blob: &StoredBlob) -> Path {
        match &blob.object {
            Some(object) => self.key(object),
            None => self.key(&blob_location(&blob.digest).join("/")),
        }
    }

    /// Where a multipart upload's blob is completed, relative to the store.
    fn object_of(id: &str) -> String {
        format!("objects/{id}")
    }

    /// The key of [`Self::object_of`].
    fn object_key(&self, id: &str) -> Path {
        self.key(&Self::object_of(id))
    }

    /// The folder of an upload's tails.
    fn tails_of(&self, id: &str) -> Path {
        self.prefix.clone().join("uploads").join(id)
    }

    fn tail_key(&self, id: &str, tail: &str) -> Path {
        self.tails_of(id).join(tail)
    }

    /// The path of `key` relative to the store, as parts.
    fn relative(&self, key: &Path) -> Option<Vec<String>> {
        Some(
            key.prefix_match(&self.prefix)?
                .map(|p| p.as_ref().to_owned())
                .collect(),
        )
    }

    /// Whether the object at `key` exists.
    async fn exists(&self, key: &Path) -> io::Result<bool> {
        match self.objects.head(key).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(to_io(e)),
        }
    }

    /// The upload's tail bytes (empty without a tail), checked to be `len` long.
    async fn read_tail(&self, id: &str, state: &State, len: u64) -> io::Result<Bytes> {
        let bytes = self.whole_tail(id, state).await?;
        if bytes.len() as u64 != len {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "upload {id}'s tail holds {} bytes, its row says {len}",
                    bytes.len()
                ),
            ));
        }
        Ok(bytes)
    }

    /// The tail's bytes, however long it is (sealing needs no offset).
    async fn whole_tail(&self, id: &str, state: &State) -> io::Result<Bytes> {
        match &state.tail {
            None => Ok(Bytes::new()),
            Some(tail) => self
                .objects
                .get(&self.tail_key(id, tail))
                .await
                .map_err(to_io)?
                .bytes()
                .await
                .map_err(to_io),
        }
    }

    async fn delete_quietly(&self, key: &Path) -> io::Result<()> {
        match self.objects.delete(key).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(to_io(e)),
        }
    }

    /// Puts the tail at the digest's key, unless a blob is there already (same
    /// digest, same bytes).
    async fn put_at_digest(&self, id: &str, state: &State, digest: &Digest) -> io::Result<()> {
        let key = self.blob_key(&StoredBlob::at_digest(digest.clone()));
        if self.exists(&key).await? {
            return Ok(());
        }
        let bytes = self.whole_tail(id, state).await?;
        self.objects
            .put(&key, bytes.into())
            .await
            .map(|_| ())
            .map_err(to_io)
    }
}

/// The object store's errors in the store's vocabulary: a missing object is
/// `NotFound`, as a missing file is.
fn to_io(e: object_store::Error) -> io::Error {
    match e {
        object_store::Error::NotFound { .. } => io::Error::new(io::ErrorKind::NotFound, e),
        e => io::Error::other(e),
    }
}

/// One request's bytes of an upload, cut into parts as they arrive.
struct PartSink {
    objects: Arc<dyn ObjectStore>,
    multipart: Arc<dyn MultipartStore>,
    /// Where the multipart upload completes: `objects/<upload id>`.
    object: Path,
    /// Where the tail goes: `uploads/<upload id>/`.
    tails: Path,
    state: State,
    /// Bytes not yet in a part, in order.
    pending: Vec<Bytes>,
    pending_len: u64,
    /// Parts being put, in order, with their lengths.
    in_flight: FuturesOrdered<tokio::task::JoinHandle<io::Result<(PartId, u64)>>>,
}

impl PartSink {
    /// The index the next part gets.
    fn next_index(&self) -> usize {
        self.state.parts.len() + self.in_flight.len()
    }

    /// Starts putting `pending` as the next part.
    async fn cut_part(&mut self) -> io::Result<()> {
        let index = self.next_index();
        if index + 1 >= MAX_PARTS {
            return Err(io::Error::new(
                io::ErrorKind::FileTooLarge,
                "the upload is larger than the object store takes in one object",
            ));
        }
        let id = match &self.state.multipart {
            Some(id) => id.clone(),
            None => {
                let id = self
                    .multipart
                    .create_multipart(&self.object)
                    .await
                    .map_err(to_io)?;
                self.state.multipart = Some(id.clone());
                id
            }
        };
        if self.in_flight.len() >= PARTS_IN_FLIGHT {
            self.settle_one().await?;
        }
        let payload: PutPayload = std::mem::take(&mut self.pending).into_iter().collect();
        let len = std::mem::take(&mut self.pending_len);
        let (multipart, object) = (self.multipart.clone(), self.object.clone());
        self.in_flight.push_back(tokio::spawn(async move {
            let part = multipart
                .put_part(&object, &id, index, payload)
                .await
                .map_err(to_io)?;
            Ok((part, len))
        }));
        Ok(())
    }

    /// Waits for the oldest part in flight and records it.
    async fn settle_one(&mut self) -> io::Result<()> {
        if let Some(done) = self.in_flight.next().await {
            let (part, len) = done.map_err(io::Error::other)??;
            self.state.parts.push(part.content_id);
            self.state.parted += len;
        }
        Ok(())
    }
}

#[async_trait]
impl UploadSink for PartSink {
    async fn write(&mut self, mut chunk: Bytes) -> io::Result<()> {
        loop {
            let room = part_target(self.next_index()).saturating_sub(self.pending_len);
            if (chunk.len() as u64) < room {
                self.pending_len += chunk.len() as u64;
                if !chunk.is_empty() {
                    self.pending.push(chunk);
                }
                return Ok(());
            }
            self.pending.push(chunk.split_to(room as usize));
            self.pending_len += room;
            self.cut_part().await?;
        }
    }

    async fn abandon(mut self: Box<Self>) {
        self.drain().await;
    }

    async fn finish(mut self: Box<Self>) -> io::Result<UploadState> {
        let finished = self.put_rest().await;
        if finished.is_err() {
            self.drain().await;
        }
        finished
    }
}

impl PartSink {
    /// Waits for every part under way, whatever comes of it. Parts already sent carry
    /// numbers past what the row records, which the next request puts its own under,
    /// so none may land after this request ends.
    async fn drain(&mut self) {
        while let Some(done) = self.in_flight.next().await {
            if let Ok(Err(e)) = done {
                tracing::debug!(error = %e, "a part of a failed request failed too");
            }
        }
    }

    /// Puts what is left as a last part or as the tail; returns the state to record.
    async fn put_rest(&mut self) -> io::Result<UploadState> {
        if ends_a_part(self.pending_len, self.next_index()) {
            self.cut_part().await?;
        }
        while !self.in_flight.is_empty() {
            self.settle_one().await?;
        }
        self.state.tail = None;
        if self.pending_len > 0 {
            // A fresh name: the tail the row records now stays whole until the new
            // state is recorded (a request that lost its claim must not touch it).
            let name = uuid::Uuid::new_v4().simple().to_string();
            let payload: PutPayload = std::mem::take(&mut self.pending).into_iter().collect();
            self.objects
                .put(&self.tails.clone().join(name.as_str()), payload)
                .await
                .map_err(to_io)?;
            self.state.tail = Some(name);
        }
        Ok(self.state.to_text())
    }
}

#[async_trait]
impl BlobStore for ObjectBlobStore {
    async fn create_upload(&self, _: &str) -> io::Result<()> {
        // Nothing exists for an upload until its first bytes.
        Ok(())
    }

    async fn upload_sink(
        &self,
        id: &str,
        offset: u64,
        state: Option<&str>,
    ) -> io::Result<Box<dyn UploadSink>> {
        let mut state = State::parse(state)?;
        if state.sealed.is_some() || offset < state.parted {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("upload {id} cannot take more bytes at {offset}"),
            ));
        }
        let tail = self.read_tail(id, &state, offset - state.parted).await?;
        // The tail becomes the start of the next part; the name stays in `state` only
        // until `finish` replaces it.
        state.tail = None;
        let pending_len = tail.len() as u64;
        Ok(Box::new(PartSink {
            objects: self.objects.clone(),
            multipart: self.multipart.clone(),
            object: self.object_key(id),
            tails: self.tails_of(id),
            state,
            pending: if tail.is_empty() { vec![] } else { vec![tail] },
            pending_len,
            in_flight: FuturesOrdered::new(),
        }))
    }

    async fn release_state(
        &self,
        id: &str,
        before: Option<&str>,
        after: Option<&str>,
    ) -> io::Result<()> {
        let (before, after) = (State::parse(before)?, State::parse(after)?);
        match before.tail {
            Some(old) if after.tail.as_ref() != Some(&old) => {
                self.delete_quietly(&self.tail_key(id, &old)).await
            }
            _ => Ok(()),
        }
    }

    async fn seal_upload(
        &self,
        id: &str,
        state: Option<&str>,
        digest: Option<&Digest>,
    ) -> io::Result<Sealed> {
        let mut st = State::parse(state)?;
        let object = Self::object_of(id);
        let sealed = |st: &State| Sealed {
            state: st.to_text(),
            object: (st.sealed == Some(SealedAt::Object)).then(|| object.clone()),
        };
        if st.sealed.is_some() {
            return Ok(sealed(&st));
        }
        if let Some(multipart) = st.multipart.clone() {
            let key = self.key(&object);
            let tail = self.whole_tail(id, &st).await?;
            // Completed already, by a request that died (or whose transaction failed)
            // before the blob was recorded: the row's state is still the one before.
            if let Ok(meta) = self.objects.head(&key).await
                && meta.size == st.parted + tail.len() as u64
            {
                st.sealed = Some(SealedAt::Object);
                return Ok(sealed(&st));
            }
            let mut parts: Vec<PartId> = st
                .parts
                .iter()
                .map(|p| PartId {
                    content_id: p.clone(),
                })
                .collect();
            if !tail.is_empty() {
                // The last part may be smaller than S3's minimum.
                let part = self
                    .multipart
                    .put_part(&key, &multipart, parts.len(), tail.into())
                    .await
                    .map_err(to_io)?;
                parts.push(part);
            }
            if let Err(e) = self
                .multipart
                .complete_multipart(&key, &multipart, parts)
                .await
            {
                // The answer was lost, not the completion (a timeout after S3 acted):
                // the object is then there.
                if !self.exists(&key).await? {
                    return Err(to_io(e));
                }
            }
            st.sealed = Some(SealedAt::Object);
        } else if let Some(digest) = digest {
            self.put_at_digest(id, &st, digest).await?;
            st.sealed = Some(SealedAt::Digest);
        }
        // Otherwise the tail holds every byte and is read as it is.
        Ok(sealed(&st))
    }

    async fn upload_reader(&self, id: &str, state: Option<&str>) -> io::Result<BoxedReader> {
        let st = State::parse(state)?;
        let key = match (st.sealed, &st.tail) {
            (Some(SealedAt::Object), _) => self.object_key(id),
            (None, Some(tail)) if st.multipart.is_none() => self.tail_key(id, tail),
            (None, None) if st.multipart.is_none() => {
                return Ok(Box::pin(tokio::io::empty()));
            }
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("upload {id} is not readable in this state"),
                ));
            }
        };
        let got = self.objects.get(&key).await.map_err(to_io)?;
        Ok(Box::pin(tokio_util::io::StreamReader::new(
            got.into_stream().map_err(to_io),
        )))
    }

    async fn commit_upload(
        &self,
        id: &str,
        state: Option<&str>,
        digest: &Digest,
    ) -> io::Result<()> {
        let st = State::parse(state)?;
        match st.sealed {
            Some(SealedAt::Object) => {
                if !self.exists(&self.object_key(id)).await? {
                    return Err(io::Error::new(
                        io::ErrorKind::NotFound,
                        format!("upload {id}'s object is gone"),
                    ));
                }
                Ok(())
            }
            // Sealing put it at the digest's key; orphan removal may have taken it
            // since, before the transaction calling this claimed the blob's row, so
            // look again (the tail is still there).
            Some(SealedAt::Digest) | None if st.multipart.is_none() => {
                self.put_at_digest(id, &st, digest).await
            }
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("upload {id} was not sealed"),
            )),
        }
    }

    async fn delete_upload(&self, id: &str, state: Option<&str>) -> io::Result<()> {
        let st = State::parse(state).unwrap_or_default();
        let object = self.object_key(id);
        if let Some(multipart) = &st.multipart
            && st.sealed.is_none()
            && let Err(e) = self.multipart.abort_multipart(&object, multipart).await
        {
            // Completed already (a crash after sealing), or aborted before.
            tracing::debug!(upload = id, error = %e, "aborting a multipart upload");
        }
        self.delete_quietly(&object).await?;
        let keys: Vec<Path> = self
            .objects
            .list(Some(&self.tails_of(id)))
            .map_ok(|meta| meta.location)
            .try_collect()
            .await
            .map_err(to_io)?;
        for key in keys {
            self.delete_quietly(&key).await?;
        }
        Ok(())
    }

    async fn read_blob(&self, blob: &StoredBlob, offset: u64, len: u64) -> io::Result<BlobStream> {
        let key = self.blob_key(blob);
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

    async fn blob_exists(&self, blob: &StoredBlob) -> io::Result<bool> {
        self.exists(&self.blob_key(blob)).await
    }

    async fn delete_blob(&self, blob: &StoredBlob) -> io::Result<()> {
        self.delete_quietly(&self.blob_key(blob)).await
    }

    async fn check(&self) -> io::Result<()> {
        let probe = self.prefix.clone().join("healthz");
        self.objects
            .put(&probe, Bytes::from_static(b"ok").into())
            .await
            .map_err(to_io)?;
        self.objects.delete(&probe).await.map_err(to_io)
    }

    async fn list_blobs(&self) -> io::Result<Vec<(Digest, u64)>> {
        let blobs = self.prefix.clone().join("blobs");
        let mut listing = self.objects.list(Some(&blobs));
        let mut out = Vec::new();
        while let Some(meta) = listing.next().await {
            let meta = meta.map_err(to_io)?;
            if let Some(d) = self.relative(&meta.location).and_then(|p| digest_at(&p)) {
                out.push((d, meta.size));
            }
        }
        Ok(out)
    }

    async fn list_upload_objects(&self) -> io::Result<Vec<UploadObject>> {
        let mut out = Vec::new();
        for folder in ["objects", "uploads"] {
            let mut listing = self.objects.list(Some(&self.prefix.clone().join(folder)));
            while let Some(meta) = listing.next().await {
                let meta = meta.map_err(to_io)?;
                let rel = self.relative(&meta.location);
                if let Some(mut object) = rel.as_deref().and_then(upload_object) {
                    object.size = meta.size;
                    out.push(object);
                }
            }
        }
        Ok(out)
    }

    async fn delete_upload_object(&self, key: &str) -> io::Result<()> {
        let parts: Vec<String> = key.split('/').map(str::to_owned).collect();
        if upload_object(&parts).is_none() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not an upload's object",
            ));
        }
        self.delete_quietly(&self.key(key)).await
    }

    async fn list_uploads(&self) -> io::Result<Option<Vec<(String, std::time::SystemTime)>>> {
        Ok(None)
    }

    async fn list_strays(&self) -> io::Result<Vec<String>> {
        let mut out = Vec::new();
        let mut listing = self.objects.list(Some(&self.prefix));
        while let Some(meta) = listing.next().await {
            let Some(rel) = self.relative(&meta.map_err(to_io)?.location) else {
                continue;
            };
            if digest_at(&rel).is_some() || upload_object(&rel).is_some() || rel == ["healthz"] {
                continue;
            }
            out.push(rel.join("/"));
        }
        Ok(out)
    }

    async fn presigned_url(
        &self,
        blob: &StoredBlob,
        valid_for: std::time::Duration,
    ) -> io::Result<Option<String>> {
        let Some(signer) = &self.signer else {
            return Ok(None);
        };
        let url = signer
            .signed_url(
                object_store::signer::Method::GET,
                &self.blob_key(blob),
                valid_for,
            )
            .await
            .map_err(to_io)?;
        Ok(Some(url.to_string()))
    }

    async fn remove_stray(&self, path: &str) -> io::Result<()> {
        if path.split('/').any(|p| p == ".." || p.is_empty()) {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "bad path"));
        }
        self.objects.delete(&self.key(path)).await.map_err(to_io)
    }
}

/// The upload object a path relative to the store (as its parts) is, if it is one:
/// `objects/<upload id>` or `uploads/<upload id>/<name>`.
fn upload_object<S: AsRef<str>>(parts: &[S]) -> Option<UploadObject> {
    let is_id = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_hexdigit() || c == b'-');
    let parts: Vec<&str> = parts.iter().map(AsRef::as_ref).collect();
    let upload = match parts.as_slice() {
        ["objects", id] if is_id(id) => id,
        ["uploads", id, name] if is_id(id) && !name.is_empty() => id,
        _ => return None,
    };
    Some(UploadObject {
        key: parts.join("/"),
        upload: (*upload).to_owned(),
        size: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::memory::InMemory;
    use tokio::io::AsyncReadExt;

    fn store(objects: Arc<InMemory>) -> ObjectBlobStore {
        ObjectBlobStore::new(objects, "team/registry")
    }

    fn bytes_of(len: usize, seed: usize) -> Vec<u8> {
        (0..len).map(|i| ((i * 7 + seed) % 253) as u8).collect()
    }

    /// Writes `bytes` as one request from `offset`, returning the new state.
    async fn write(
        store: &ObjectBlobStore,
        id: &str,
        offset: u64,
        state: UploadState,
        bytes: &[u8],
    ) -> UploadState {
        let mut w = store
            .upload_sink(id, offset, state.as_deref())
            .await
            .unwrap();
        // In network-sized pieces, as a body arrives.
        for piece in bytes.chunks(300_001) {
            w.write(Bytes::copy_from_slice(piece)).await.unwrap();
        }
        let after = w.finish().await.unwrap();
        store
            .release_state(id, state.as_deref(), after.as_deref())
            .await
            .unwrap();
        after
    }

    async fn read_all(store: &ObjectBlobStore, blob: &StoredBlob, len: u64) -> Vec<u8> {
        let chunks: Vec<Bytes> = store
            .read_blob(blob, 0, len)
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        chunks.concat()
    }

    async fn keys(objects: &InMemory) -> Vec<String> {
        let mut keys: Vec<String> = objects
            .list(None)
            .map_ok(|m| m.location.to_string())
            .try_collect()
            .await
            .unwrap();
        keys.sort();
        keys
    }

    #[tokio::test]
    async fn a_small_upload_is_a_tail_then_an_object_at_its_digest() {
        let objects = Arc::new(InMemory::new());
        let store = store(objects.clone());
        let id = "0123abcd-0001";
        let bytes = bytes_of(100_000, 1);
        let digest = Digest::sha256_of(&bytes);
        store.create_upload(id).await.unwrap();
        let state = write(&store, id, 0, None, &bytes[..40_000]).await;
        let state = write(&store, id, 40_000, state, &bytes[40_000..]).await;
        // One tail: each request replaced the one before.
        let tails: Vec<String> = keys(&objects)
            .await
            .into_iter()
            .filter(|k| k.contains("/uploads/"))
            .collect();
        assert_eq!(tails.len(), 1, "{tails:?}");
        let sealed = store
            .seal_upload(id, state.as_deref(), Some(&digest))
            .await
            .unwrap();
        assert_eq!(sealed.object, None);
        let blob = StoredBlob::at_digest(digest.clone());
        let state = sealed.state.as_deref();
        store.commit_upload(id, state, &digest).await.unwrap();
        store.release_state(id, state, None).await.unwrap();
        assert_eq!(read_all(&store, &blob, bytes.len() as u64).await, bytes);
        assert_eq!(
            keys(&objects).await,
            [format!(
                "team/registry/blobs/sha256/{}/{}",
                &digest.hex()[..2],
                digest.hex()
            )]
        );
        let part: Vec<Bytes> = store
            .read_blob(&blob, 1000, 5)
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(part.concat(), &bytes[1000..1005]);
        store.delete_blob(&blob).await.unwrap();
        let missing = store.read_blob(&blob, 0, 1).await.err().unwrap();
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);
    }

    #[tokio::test]
    async fn a_large_upload_goes_up_in_growing_parts_across_requests_and_stays_where_they_went() {
        let objects = Arc::new(InMemory::new());
        let store = store(objects.clone());
        let id = "0123abcd-0002";
        // Two full parts (the second 40 KiB larger), then 1 MiB left over.
        let total = (2 * FIRST_PART + PART_GROWTH) as usize + (1 << 20);
        let bytes = bytes_of(total, 2);
        let digest = Digest::sha256_of(&bytes);
        // Requests of 1 MiB (a tail each time), then 6 MiB (the first part, with the
        // tail before it), then the rest in one (a part, and a tail).
        let cuts = [0, 1 << 20, 2 << 20, 8 << 20, total];
        let mut state = None;
        for w in cuts.windows(2) {
            state = write(&store, id, w[0] as u64, state, &bytes[w[0]..w[1]]).await;
        }
        let st = State::parse(state.as_deref()).unwrap();
        assert!(st.multipart.is_some());
        assert_eq!(st.parts.len(), 2, "{st:?}");
        assert!(st.parted < total as u64 && st.tail.is_some(), "{st:?}");
        let sealed = store.seal_upload(id, state.as_deref(), None).await.unwrap();
        assert_eq!(sealed.object.as_deref(), Some("objects/0123abcd-0002"));
        let state = sealed.state.as_deref();
        // Unchecked yet: read back from the completed object to hash it.
        let mut reread = Vec::new();
        store
            .upload_reader(id, state)
            .await
            .unwrap()
            .read_to_end(&mut reread)
            .await
            .unwrap();
        assert_eq!(Digest::sha256_of(&reread), digest);
        store.commit_upload(id, state, &digest).await.unwrap();
        store.release_state(id, state, None).await.unwrap();
        let blob = StoredBlob {
            digest,
            object: sealed.object.clone(),
        };
        assert_eq!(read_all(&store, &blob, total as u64).await, bytes);
        assert_eq!(
            keys(&objects).await,
            ["team/registry/objects/0123abcd-0002"]
        );
        assert_eq!(
            store.list_upload_objects().await.unwrap(),
            [UploadObject {
                key: "objects/0123abcd-0002".into(),
                upload: id.into(),
                size: total as u64,
            }]
        );
        assert!(store.list_strays().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_request_continues_from_the_recorded_state_not_from_what_a_lost_one_left() {
        let objects = Arc::new(InMemory::new());
        let store = store(objects.clone());
        let id = "0123abcd-0003";
        let bytes = bytes_of(2 << 20, 3);
        let state = write(&store, id, 0, None, &bytes[..1 << 20]).await;
        // A request that lost its claim wrote a tail nobody recorded ...
        let mut lost = store
            .upload_sink(id, 1 << 20, state.as_deref())
            .await
            .unwrap();
        lost.write(Bytes::from_static(b"stray bytes"))
            .await
            .unwrap();
        lost.finish().await.unwrap();
        // ... the next one continues from what the row says.
        let state = write(&store, id, 1 << 20, state, &bytes[1 << 20..]).await;
        let digest = Digest::sha256_of(&bytes);
        let sealed = store
            .seal_upload(id, state.as_deref(), Some(&digest))
            .await
            .unwrap();
        store
            .commit_upload(id, sealed.state.as_deref(), &digest)
            .await
            .unwrap();
        let blob = StoredBlob::at_digest(digest);
        assert_eq!(read_all(&store, &blob, bytes.len() as u64).await, bytes);
        // The unrecorded tail is an upload object until the upload is deleted.
        assert_eq!(store.list_upload_objects().await.unwrap().len(), 2);
        store
            .delete_upload(id, sealed.state.as_deref())
            .await
            .unwrap();
        assert!(store.list_upload_objects().await.unwrap().is_empty());
        assert!(store.blob_exists(&blob).await.unwrap());
    }

    #[tokio::test]
    async fn deleting_an_upload_in_parts_aborts_it_and_removes_its_tail() {
        let objects = Arc::new(InMemory::new());
        let store = store(objects.clone());
        let id = "0123abcd-0004";
        let bytes = bytes_of(FIRST_PART as usize + 100, 4);
        let state = write(&store, id, 0, None, &bytes).await;
        assert!(State::parse(state.as_deref()).unwrap().multipart.is_some());
        store.delete_upload(id, state.as_deref()).await.unwrap();
        assert!(keys(&objects).await.is_empty());
        // Nothing to complete any more.
        assert!(store.seal_upload(id, state.as_deref(), None).await.is_err());
    }

    #[tokio::test]
    async fn strays_are_what_is_neither_a_blob_an_upload_object_nor_the_probe() {
        let objects = Arc::new(InMemory::new());
        let store = store(objects.clone());
        store.check().await.unwrap();
        for key in [
            "team/registry/blobs/sha256/zz/not-a-digest",
            "team/registry/notes.txt",
            "team/registry/objects/0123abcd-0005",
            "team/registry/uploads/0123abcd-0005/abc",
            "team/registry/uploads/not an id/abc",
            "elsewhere/blobs/x",
        ] {
            objects
                .put(&Path::from(key), Bytes::from_static(b"x").into())
                .await
                .unwrap();
        }
        let mut strays = store.list_strays().await.unwrap();
        strays.sort();
        assert_eq!(
            strays,
            [
                "blobs/sha256/zz/not-a-digest",
                "notes.txt",
                "uploads/not an id/abc"
            ]
        );
        store.remove_stray("notes.txt").await.unwrap();
        assert_eq!(store.list_strays().await.unwrap().len(), 2);
        assert!(store.remove_stray("blobs/../x").await.is_err());
        assert!(store.delete_upload_object("notes.txt").await.is_err());
    }

    #[test]
    fn parts_grow_so_that_ten_thousand_reach_a_tebibyte_even_when_cut_early() {
        let smallest: u64 = (0..MAX_PARTS).map(|i| part_target(i) * 5 / 8).sum();
        assert!(smallest >= 1 << 40, "{smallest}");
        assert!(ends_a_part(6 << 20, 0));
        assert!(!ends_a_part(4 << 20, 0));
        // Later parts need more to end early.
        assert!(!ends_a_part(6 << 20, 5_000));
    }
}
