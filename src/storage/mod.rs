//! Bytes only: where blob contents and in-progress uploads live. The database decides
//! what exists; the store only keeps bytes under their digest.

mod filesystem;

pub use filesystem::FilesystemStore;

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
    /// Makes the upload's bytes durable where they are (the slow part of a commit).
    async fn sync_upload(&self, id: &str) -> io::Result<()>;
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
}
