//! Blob upload sessions: monolithic, chunked and streamed.
//!
//! Bytes stream into the store's temp file while they are hashed; nothing is buffered
//! whole. The session row ties an upload to its repository and, after every request,
//! records how many bytes it holds and the running hash's serialised state, so any
//! process on the database continues it without reading the bytes again (the hash is
//! recomputed from the file only for a digest of another algorithm, sha512 say). One
//! request writes an upload at a time: an in-process lock, then the row's lease, which
//! is renewed while the body streams and runs out when its process dies.

use super::{Error, Invalid, Result, Services, Thing, now_ms};
use crate::db::{PlacedBlob, Upload, UploadClaim};
use crate::domain::digest::Hasher;
use crate::domain::{Algorithm, ContentRange, Digest, RepositoryName};
use crate::storage::StoredBlob;
use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::io::AsyncReadExt;

/// How many received bytes are handed to the hashing and writing threads at once.
const BATCH: usize = 512 << 10;

/// How long a request's claim on an upload lasts without renewal: a process that died
/// mid-request holds its uploads this long at most.
const LEASE: std::time::Duration = std::time::Duration::from_secs(15);
/// How often a request renews its claim while its body streams.
const LEASE_RENEWAL: std::time::Duration = std::time::Duration::from_secs(5);
/// How long a request waits for another request's claim on the same upload to end.
const LEASE_WAIT: std::time::Duration = std::time::Duration::from_secs(20);

/// When a claim taken or renewed at `now` runs out.
fn lease_until(now: i64) -> i64 {
    now + LEASE.as_millis() as i64
}

/// The answer to a request whose claim on the upload went to another request (its
/// own ran out while the body stalled).
pub(super) fn taken_over() -> Error {
    Error::Conflict("another request took this upload over; check its length and resume".into())
}

/// Hashes, on a blocking thread, whatever arrives on `rx` after what `h` covers.
fn hash_in_background(
    mut h: Hasher,
    mut rx: tokio::sync::mpsc::Receiver<Bytes>,
) -> tokio::task::JoinHandle<Hasher> {
    tokio::task::spawn_blocking(move || {
        while let Some(chunk) = rx.blocking_recv() {
            h.update(&chunk);
        }
        h
    })
}

/// One request's claim on an upload in the database, renewed in the background until
/// it is dropped, then given up (unless saving the progress already did).
struct Lease {
    db: crate::db::Db,
    id: String,
    holder: String,
    renewer: tokio::task::JoinHandle<()>,
    /// Set by the renewer when the claim went to someone else.
    lost: Arc<std::sync::atomic::AtomicBool>,
}

impl Lease {
    fn lost(&self) -> bool {
        self.lost.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.renewer.abort();
        let (db, id, holder) = (self.db.clone(), self.id.clone(), self.holder.clone());
        tokio::spawn(async move {
            if let Err(e) = db.release_upload_lease(&id, &holder).await {
                tracing::warn!(upload = id, error = %e, "giving up an upload's lease failed");
            }
        });
    }
}

/// Per-upload locks, so two requests never write one upload at once, plus the
/// running hashes, plus the bytes each account's open uploads hold (so a quota bounds
/// the disk while bodies stream, not only when blobs are linked).
#[derive(Default)]
pub struct UploadLocks {
    map: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    open: Mutex<OpenBytes>,
}

/// The bytes of open uploads, by account, as this process has seen them.
#[derive(Default)]
struct OpenBytes {
    /// Upload id → (account, bytes).
    uploads: HashMap<String, (i64, u64)>,
    /// Account → the sum of its uploads' bytes.
    accounts: HashMap<i64, u64>,
}

impl OpenBytes {
    fn set(&mut self, id: &str, account: i64, size: u64) {
        self.remove(id);
        self.uploads.insert(id.to_owned(), (account, size));
        *self.accounts.entry(account).or_default() += size;
    }

    fn remove(&mut self, id: &str) {
        if let Some((account, size)) = self.uploads.remove(id)
            && let Some(total) = self.accounts.get_mut(&account)
        {
            *total = total.saturating_sub(size);
            if *total == 0 {
                self.accounts.remove(&account);
            }
        }
    }
}

impl UploadLocks {
    fn lock_for(&self, id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(id.to_owned()).or_default().clone()
    }

    /// The upload's lock if nobody holds it now.
    fn try_lock(&self, id: &str) -> Option<UploadGuard> {
        self.lock_for(id).try_lock_owned().ok()
    }

    pub(super) fn forget(&self, id: &str) {
        self.map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
        self.open_bytes().remove(id);
    }

    fn open_bytes(&self) -> std::sync::MutexGuard<'_, OpenBytes> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records what an open upload of `account` holds now.
    fn track(&self, account: i64, id: &str, size: u64) {
        self.open_bytes().set(id, account, size);
    }

    /// Lets `wanted` more bytes into upload `id` of `account` as long as the
    /// account's open uploads stay within `room` bytes (`None`: no quota); returns
    /// how many it let in, which is less than `wanted` only at the line.
    fn grow(&self, account: i64, id: &str, wanted: u64, room: Option<u64>) -> u64 {
        let mut open = self.open_bytes();
        let total = open.accounts.get(&account).copied().unwrap_or(0);
        let granted = match room {
            None => wanted,
            Some(room) => wanted.min(room.saturating_sub(total)),
        };
        if granted > 0 {
            let size = open.uploads.get(id).map_or(0, |(_, size)| *size);
            open.set(id, account, size + granted);
        }
        granted
    }

    /// The bytes `account`'s open uploads hold.
    fn held_by(&self, account: i64) -> u64 {
        self.open_bytes()
            .accounts
            .get(&account)
            .copied()
            .unwrap_or(0)
    }

    /// Forgets the bytes of uploads that no longer exist (another process expired or
    /// cancelled them).
    fn keep_only(&self, existing: &std::collections::HashSet<String>) {
        let mut open = self.open_bytes();
        let gone: Vec<String> = open
            .uploads
            .keys()
            .filter(|id| !existing.contains(*id))
            .cloned()
            .collect();
        for id in gone {
            open.remove(&id);
        }
    }
}

/// How long a body refused mid-stream is still read (and dropped) in the background,
/// so that a client still sending it receives the refusal instead of a reset.
const DRAIN_LIMIT: std::time::Duration = std::time::Duration::from_secs(30);

/// Reads and drops the rest of a refused body, in the background, for at most
/// [`DRAIN_LIMIT`] (the connection's own stall timeout also ends it).
fn drain_in_background(mut body: impl BodyStream) {
    tokio::spawn(async move {
        let _ = tokio::time::timeout(DRAIN_LIMIT, async {
            while let Some(Ok(_)) = body.next().await {}
        })
        .await;
    });
}

/// Hashes a body without keeping it; fails unless it matches `digest`.
async fn verify_only(digest: &Digest, mut body: impl BodyStream) -> Result<u64> {
    let mut h = Hasher::new(digest.algorithm());
    let mut size = 0u64;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| {
            Error::Invalid(Invalid::Request(format!("reading the request body: {e}")))
        })?;
        size += chunk.len() as u64;
        h.update(&chunk);
    }
    if &h.finish() != digest {
        return Err(Error::Invalid(Invalid::DigestMismatch));
    }
    Ok(size)
}

/// A body stream as the HTTP layer gives it.
pub trait BodyStream:
    Stream<Item = std::result::Result<Bytes, std::io::Error>> + Send + Unpin + 'static
{
}
impl<T: Stream<Item = std::result::Result<Bytes, std::io::Error>> + Send + Unpin + 'static>
    BodyStream for T
{
}

type UploadGuard = tokio::sync::OwnedMutexGuard<()>;

/// What one request left of an upload: its length, the running hash over it when it
/// could be continued, and the store's state.
struct Written {
    size: u64,
    hasher: Option<Hasher>,
    store_state: crate::storage::UploadState,
}

/// An upload held for one request: its row as the request found it, its account, the
/// in-process lock and the database lease.
struct Held {
    upload: Upload,
    account: i64,
    _guard: UploadGuard,
    lease: Lease,
}

impl Services {
    /// Opens an upload session; `Denied` when the account has
    /// `max_open_uploads` open already.
    pub async fn start_upload(&self, repo: &RepositoryName) -> Result<Upload> {
        let r = self.repository_for_push(repo).await?;
        let id = uuid::Uuid::new_v4().to_string();
        // File first: a row always has its file, so start-up recovery on any process
        // may forget a row whose file is gone; a file without a row is removed by
        // expiry.
        self.store.create_upload(&id).await?;
        let max = u64::from(self.max_open_uploads);
        let created = self
            .db
            .create_upload(&id, r.id, r.account_id, max, now_ms())
            .await;
        if !matches!(created, Ok(Ok(_))) {
            let _ = self.store.delete_upload(&id, None).await;
        }
        let upload = created?.map_err(|open| {
            Error::Denied(format!(
                "the account has {} open, the most it may have; finish or cancel some first",
                app::model::count(open, "upload")
            ))
        })?;
        self.uploads.track(r.account_id, &id, 0);
        Ok(upload)
    }

    /// The session, only through the repository that started it.
    pub async fn upload(&self, repo: &RepositoryName, id: &str) -> Result<Upload> {
        Ok(self.upload_of(repo, id).await?.0)
    }

    /// The session and the account it belongs to.
    async fn upload_of(&self, repo: &RepositoryName, id: &str) -> Result<(Upload, i64)> {
        let r = self
            .repository(repo)
            .await
            .map_err(|_| Error::NotFound(Thing::Upload))?;
        let upload = self
            .db
            .upload(id, r.id)
            .await?
            .ok_or(Error::NotFound(Thing::Upload))?;
        Ok((upload, r.account_id))
    }

    /// The session held for this request: the in-process lock, then the row's lease
    /// (waiting up to [`LEASE_WAIT`] for another request's claim to end or run out).
    /// Unknown ids never reach the lock map, and the session is read again once it is
    /// held: the previous holder may have written, finished or cancelled it.
    async fn lock_upload(&self, repo: &RepositoryName, id: &str) -> Result<Held> {
        self.upload(repo, id).await?;
        let guard = self.uploads.lock_for(id).lock_owned().await;
        let holder = uuid::Uuid::new_v4().to_string();
        let waited_since = std::time::Instant::now();
        loop {
            let now = now_ms();
            if self
                .db
                .take_upload_lease(id, &holder, now, lease_until(now))
                .await?
            {
                break;
            }
            if self.db.upload_by_id(id).await?.is_none() {
                drop(guard);
                self.uploads.forget(id);
                return Err(Error::NotFound(Thing::Upload));
            }
            if waited_since.elapsed() > LEASE_WAIT {
                return Err(Error::Conflict(
                    "another request is writing this upload; try again once it ends".into(),
                ));
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let lost = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let renewer = {
            let (db, id, holder, lost) =
                (self.db.clone(), id.to_owned(), holder.clone(), lost.clone());
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(LEASE_RENEWAL).await;
                    let until = lease_until(now_ms());
                    if !matches!(db.renew_upload_lease(&id, &holder, until).await, Ok(true)) {
                        lost.store(true, std::sync::atomic::Ordering::Relaxed);
                        return;
                    }
                }
            })
        };
        let lease = Lease {
            db: self.db.clone(),
            id: id.to_owned(),
            holder,
            renewer,
            lost,
        };
        match self.upload_of(repo, id).await {
            Ok((upload, account)) => Ok(Held {
                upload,
                account,
                _guard: guard,
                lease,
            }),
            Err(e) => {
                drop(guard);
                self.uploads.forget(id);
                Err(e)
            }
        }
    }

    /// How many bytes an upload of the repository has received (as the last request
    /// that wrote it recorded, on whichever process it ran).
    pub async fn upload_status(&self, repo: &RepositoryName, id: &str) -> Result<u64> {
        Ok(self.upload(repo, id).await?.received.max(0) as u64)
    }

    /// Appends a chunk; with a `Content-Range` it must start where the upload ends.
    /// Returns the new length.
    pub async fn append_upload(
        &self,
        repo: &RepositoryName,
        id: &str,
        range: Option<ContentRange>,
        body: impl BodyStream,
        actor: &str,
    ) -> Result<u64> {
        let held = self.lock_upload(repo, id).await?;
        let size = held.upload.received.max(0) as u64;
        if let Some(r) = range
            && r.start != size
        {
            return Err(Error::Invalid(Invalid::Range { size }));
        }
        match self.write_chunk(&held, body, false).await {
            Ok(written) => Ok(written.size),
            Err(e) => {
                self.raise_quota(repo, None, size, actor, &e).await;
                Err(e)
            }
        }
    }

    /// Writes one request's bytes where the upload ends, then records the new length,
    /// hash state and store state in the row (only if this request still holds the
    /// lease and the length is unchanged). On any error the writer is waited for
    /// before returning, so nothing writes the upload once the lock is released. A
    /// request `finishing` the upload keeps its claim until the blob is recorded.
    ///
    /// The bytes count against the account's quota as they stream: a body that
    /// crosses it is cut off at the line, what arrived up to there is kept, and the
    /// rest of the body is drained in the background while the client is told
    /// `QuotaExceeded`.
    async fn write_chunk(
        &self,
        held: &Held,
        mut body: impl BodyStream,
        finishing: bool,
    ) -> Result<Written> {
        let (id, account) = (held.upload.id.as_str(), held.account);
        let size = held.upload.received.max(0) as u64;
        self.uploads.track(account, id, size);
        // The room open uploads may fill: the quota less what the account's blobs use.
        let quota = self
            .db
            .quota_of_repository(held.upload.repository_id)
            .await?;
        let room = quota.map(|(used, quota)| (quota - used).max(0) as u64);
        let mut over_quota = false;
        let previous = match &held.upload.hash_state {
            Some(state) => Hasher::from_state(state),
            None if size == 0 => Some(Hasher::new(Algorithm::Sha256)),
            None => None,
        };
        let (hash_tx, hash_rx) = tokio::sync::mpsc::channel::<Bytes>(4);
        let hash_job = previous.map(|h| hash_in_background(h, hash_rx));
        let before = held.upload.store_state.as_deref();
        let mut sink = self.store.upload_sink(id, size, before).await?;
        let mut written = 0u64;
        // Network frames are small; batching them keeps the hand-offs to the hashing
        // and writing threads (each a wake-up) few.
        let mut batch = BytesMut::with_capacity(BATCH);
        let streamed: Result<Option<std::io::Error>> = async {
            // A body that breaks off (the client went away, or went silent past the
            // connection's `body_timeout`) still keeps every byte that arrived: the
            // batch is written first, so the upload resumes from there.
            let mut broken = None;
            loop {
                let next = match body.next().await {
                    Some(Err(e)) => {
                        broken = Some(e);
                        None
                    }
                    next => next,
                };
                if held.lease.lost() {
                    return Err(taken_over());
                }
                if let Some(Ok(chunk)) = &next {
                    let granted = self.uploads.grow(account, id, chunk.len() as u64, room) as usize;
                    written += granted as u64;
                    batch.extend_from_slice(&chunk[..granted]);
                    if granted < chunk.len() {
                        over_quota = true;
                    } else if batch.len() < BATCH {
                        continue;
                    }
                }
                if !batch.is_empty() {
                    let ready = batch.split().freeze();
                    // Hashing and writing happen on their own threads, on the same bytes.
                    if hash_job.is_some() && hash_tx.send(ready.clone()).await.is_err() {
                        return Err(Error::Internal(anyhow::anyhow!(
                            "upload hash job ended early"
                        )));
                    }
                    sink.write(ready).await?;
                }
                if next.is_none() || over_quota {
                    return Ok(broken);
                }
            }
        }
        .await;
        drop(hash_tx);
        // A request that failed (or lost its claim) records nothing, so it leaves
        // nothing new behind either: no last part, no tail.
        let finished = match &streamed {
            Ok(_) => sink.finish().await,
            Err(_) => {
                sink.abandon().await;
                Ok(None)
            }
        };
        let hasher = match hash_job {
            Some(job) => Some(job.await.map_err(|e| Error::Internal(e.into()))?),
            None => None,
        };
        let (broken, store_state) =
            match streamed.and_then(|broken| finished.map(|s| (broken, s)).map_err(Error::from)) {
                Ok(done) => done,
                Err(e) => {
                    if matches!(e, Error::StorageFull) {
                        // Nothing half-written stays: the client starts over once there is room.
                        tracing::error!(upload = id, "storage full: upload discarded");
                        self.discard_upload(id, before).await?;
                        self.uploads.forget(id);
                        drain_in_background(body);
                    }
                    return Err(e);
                }
            };
        // The file and the running hash took the same bytes, even when the body broke
        // off, so a resumed upload, on any process, need not read the file again.
        let new_size = size + written;
        let progress = crate::db::UploadProgress {
            received: new_size as i64,
            hash_state: hasher.as_ref().map(Hasher::to_state),
            store_state: store_state.clone(),
        };
        let saved = self
            .db
            .save_upload_progress(
                id,
                &held.lease.holder,
                size as i64,
                progress,
                now_ms(),
                finishing,
            )
            .await?;
        if !saved {
            return Err(taken_over());
        }
        // What the old state kept and the new one does not (a tail) goes only now.
        if let Err(e) = self
            .store
            .release_state(id, before, store_state.as_deref())
            .await
        {
            tracing::warn!(upload = id, error = %e, "removing an upload's old tail failed");
        }
        if over_quota {
            drain_in_background(body);
            let (used, quota) = quota.unwrap_or_default();
            return Err(Error::QuotaExceeded {
                used: used.max(0) as u64 + self.uploads.held_by(account),
                quota: quota.max(0) as u64,
            });
        }
        match broken {
            None => Ok(Written {
                size: new_size,
                hasher,
                store_state,
            }),
            Some(e) => Err(Error::Invalid(Invalid::Request(format!(
                "reading the request body: {e}; resume the upload from byte {new_size}"
            )))),
        }
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
        actor: &str,
    ) -> Result<u64> {
        let held = self.lock_upload(repo, id).await?;
        let received = held.upload.received.max(0) as u64;
        if let Some(r) = range
            && r.start != received
        {
            return Err(Error::Invalid(Invalid::Range { size: received }));
        }
        let repository_id = held.upload.repository_id;
        if received == 0
            && let Some(known) = self.stored_blob(digest).await?
            && self.store.blob_exists(&known).await?
        {
            // The whole blob comes in this request and the store has it already: check
            // the bytes against the digest without writing them again.
            let verified = verify_only(digest, body).await;
            self.discard_upload(id, held.upload.store_state.as_deref())
                .await?;
            drop(held);
            self.uploads.forget(id);
            let size = verified?;
            let placed = self
                .db
                .link_blob_placed(
                    repository_id,
                    PlacedBlob {
                        digest: &digest.to_string(),
                        size: size as i64,
                        object: known.object.as_deref(),
                    },
                    now_ms(),
                    None,
                    || self.store_has(&known),
                )
                .await?;
            match placed {
                Ok(_) => {}
                Err(crate::db::LinkRefused::Io(e)) => {
                    // Garbage collection took the bytes between the check and the link;
                    // the client sends the blob again.
                    tracing::warn!(%digest, error = %e, "blob collected during a re-push");
                    return Err(Error::Internal(e.into()));
                }
                Err(refused) => {
                    return Err(self.refused_push(repo, digest, size, actor, refused).await);
                }
            }
            return Ok(size);
        }
        let written = match self.write_chunk(&held, body, true).await {
            Ok(written) => written,
            Err(e) => {
                self.raise_quota(repo, Some(digest), received, actor, &e)
                    .await;
                return Err(e);
            }
        };
        let size = written.size;
        let checked = match written.hasher {
            Some(h) if h.algorithm() == digest.algorithm() => Some(h.finish()),
            _ => None,
        };
        if checked.as_ref().is_some_and(|actual| actual != digest) {
            return self
                .refuse_digest(held, written.store_state.as_deref())
                .await;
        }
        // The slow part (an fsync, or completing a multipart upload) happens first;
        // inside the transaction only the rename, or a check.
        let sealed = self
            .store
            .seal_upload(
                id,
                written.store_state.as_deref(),
                checked.is_some().then_some(digest),
            )
            .await?;
        let sealed = match checked {
            Some(_) => sealed,
            None => {
                let state = sealed.state.as_deref();
                if &self.hash_upload(id, state, digest.algorithm()).await? != digest {
                    return self.refuse_digest(held, state).await;
                }
                // Checked now: a small upload goes to the digest's key before the
                // transaction too.
                self.store.seal_upload(id, state, Some(digest)).await?
            }
        };
        let state = sealed.state.as_deref();
        let placed = self
            .db
            .link_blob_placed(
                repository_id,
                PlacedBlob {
                    digest: &digest.to_string(),
                    size: size as i64,
                    object: sealed.object.as_deref(),
                },
                now_ms(),
                Some(UploadClaim {
                    id,
                    holder: &held.lease.holder,
                }),
                || self.store.commit_upload(id, state, digest),
            )
            .await?;
        let kept_at = match placed {
            Ok(kept_at) => kept_at,
            Err(refused) => {
                // Over quota (or the store failed): nothing half-written stays. An
                // object store may hold the bytes at the digest's key already; unless
                // another push recorded that blob meanwhile, they go too.
                self.discard_upload(id, state).await?;
                drop(held);
                self.uploads.forget(id);
                if let Err(e) = self.remove_orphan_blob(&digest.to_string()).await {
                    tracing::warn!(%digest, error = %e, "removing a refused blob's bytes failed");
                }
                return Err(self.refused_push(repo, digest, size, actor, refused).await);
            }
        };
        drop(held);
        self.uploads.forget(id);
        if kept_at != sealed.object {
            self.keep_one_copy(digest, kept_at, sealed.object.clone())
                .await?;
        }
        if let Err(e) = self.store.release_state(id, state, None).await {
            tracing::warn!(upload = id, error = %e, "removing a finished upload's tail failed");
        }
        Ok(size)
    }

    /// A blob recorded before this push put its own copy elsewhere: the recorded copy
    /// stays and this one goes, unless the recorded one is gone (fsck found it
    /// missing and asked for the push again); then this one takes its place.
    async fn keep_one_copy(
        &self,
        digest: &Digest,
        recorded: Option<String>,
        ours: Option<String>,
    ) -> Result<()> {
        let recorded = StoredBlob {
            digest: digest.clone(),
            object: recorded,
        };
        let ours = StoredBlob {
            digest: digest.clone(),
            object: ours,
        };
        if self.store.blob_exists(&recorded).await? {
            if let Err(e) = self.store.delete_blob(&ours).await {
                tracing::warn!(%digest, error = %e, "removing a second copy of a blob failed");
            }
            return Ok(());
        }
        tracing::warn!(%digest, "a blob's recorded bytes were missing; the new push replaces them");
        self.db
            .set_blob_object(&digest.to_string(), ours.object.as_deref())
            .await?;
        Ok(())
    }

    /// Ends an upload whose bytes are not the digest the client gave.
    async fn refuse_digest(&self, held: Held, state: Option<&str>) -> Result<u64> {
        let id = held.upload.id.clone();
        self.discard_upload(&id, state).await?;
        drop(held);
        self.uploads.forget(&id);
        Err(Error::Invalid(Invalid::DigestMismatch))
    }

    /// Cancels an upload and deletes what it received.
    pub async fn cancel_upload(&self, repo: &RepositoryName, id: &str) -> Result<()> {
        let held = self.lock_upload(repo, id).await?;
        self.discard_upload(id, held.upload.store_state.as_deref())
            .await?;
        drop(held);
        self.uploads.forget(id);
        Ok(())
    }

    /// Removes an upload's bytes, then its row: a row without a file is still found
    /// and cleaned up by a retry, a file without a row would not be.
    async fn discard_upload(&self, id: &str, state: Option<&str>) -> Result<()> {
        self.store.delete_upload(id, state).await?;
        self.db.delete_upload(id).await?;
        Ok(())
    }

    /// [`Self::discard_upload`], with the store's state as the upload's last writer
    /// left it (a multipart upload to abort), for work outside a request.
    pub(super) async fn discard_upload_as_left(&self, id: &str) -> Result<()> {
        let state = self.db.upload_by_id(id).await?.and_then(|u| u.store_state);
        self.discard_upload(id, state.as_deref()).await
    }

    async fn hash_upload(
        &self,
        id: &str,
        state: Option<&str>,
        algorithm: Algorithm,
    ) -> Result<Digest> {
        let mut r = self.store.upload_reader(id, state).await?;
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

impl Services {
    /// Deletes upload sessions idle for longer than the upload expiry (judged by when a
    /// request last wrote them and by their file's time, so a slow upload that still
    /// moves lives on, even seen from `berth gc` in another process; one a request
    /// holds the lease of is left alone), and upload files no session owns.
    pub(super) async fn expire_uploads(&self, now: i64) -> Result<u64> {
        let expiry = self.lifecycle.upload_expiry;
        let cutoff = now - expiry.as_millis() as i64;
        let idle_since = std::time::SystemTime::now() - expiry;
        // An object store keeps no file per upload: its rows' times say it all.
        let files: HashMap<String, std::time::SystemTime> = self
            .store
            .list_uploads()
            .await?
            .unwrap_or_default()
            .into_iter()
            .collect();
        let mut expired = 0;
        let mut sessions = std::collections::HashSet::new();
        for (id, started) in self.db.all_uploads().await? {
            sessions.insert(id.clone());
            let written_lately = files.get(&id).is_some_and(|m| *m > idle_since);
            if started >= cutoff || written_lately {
                continue;
            }
            let Some(guard) = self.uploads.try_lock(&id) else {
                continue;
            };
            let holder = uuid::Uuid::new_v4().to_string();
            if !self
                .db
                .take_upload_lease(&id, &holder, now, lease_until(now))
                .await?
            {
                continue;
            }
            self.discard_upload_as_left(&id).await?;
            drop(guard);
            self.uploads.forget(&id);
            expired += 1;
        }
        self.uploads.keep_only(&sessions);
        for (id, modified) in files {
            if !sessions.contains(&id) && modified < idle_since {
                // Left behind by a deleted repository or a crash.
                self.store.delete_upload(&id, None).await?;
                expired += 1;
            }
        }
        Ok(expired)
    }

    /// At startup, before any request: forgets upload sessions whose file is gone (a
    /// crash after an upload's bytes were moved into place but before the transaction
    /// recording them committed leaves such a row; its client never got a 201), and
    /// counts the bytes the others hold against their accounts' quotas. Safe beside
    /// other live processes: a session's file exists before its row and is gone only
    /// once its bytes are a blob. (An object store's uploads have no file; a session
    /// whose blob was completed but not recorded is removed by expiry.)
    pub async fn recover_uploads(&self) -> Result<u64> {
        // Rows before files: a row read here had its file before, so the listing
        // after shows it unless its bytes became a blob.
        let rows = self.db.uploads_by_account().await?;
        let files: Option<std::collections::HashSet<String>> = self
            .store
            .list_uploads()
            .await?
            .map(|files| files.into_iter().map(|(id, _)| id).collect());
        let mut forgotten = 0;
        for (id, account, received) in rows {
            if files.as_ref().is_some_and(|files| !files.contains(&id)) {
                self.db.delete_upload(&id).await?;
                forgotten += 1;
            } else {
                self.uploads.track(account, &id, received.max(0) as u64);
            }
        }
        Ok(forgotten)
    }
}
