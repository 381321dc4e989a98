//! The blob store on a local folder.
//!
//! ```text
//! <root>/
//!   blobs/
//!     sha256/
//!       ab/
//!         ab12…ef          one file per blob, named by the digest's hex
//!     sha512/
//!       …
//!   uploads/
//!     <upload id>          bytes received so far for one upload session
//! ```
//!
//! `uploads/` and `blobs/` are on the same filesystem so that committing an upload is
//! one `rename`, preceded by an fsync of the file and followed by one of the directory.

use super::{
    BlobStore, BlobStream, BoxedReader, Sealed, StoredBlob, UploadSink, UploadState, blob_location,
    digest_at,
};
use crate::domain::Digest;
use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use tokio::fs::{self, File};
use tokio::io::BufReader;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Buffer size for blob I/O: big enough that each syscall moves a lot of data.
const IO_BUFFER: usize = 1 << 20;
/// How many chunks may wait between the network and the disk, each way.
const PIPELINE_DEPTH: usize = 4;
/// Written bytes between two requests to the kernel to start writing back, so the
/// final fsync finds little left to do.
const WRITEBACK_STEP: u64 = 8 << 20;

pub struct FilesystemStore {
    root: PathBuf,
}

impl FilesystemStore {
    /// Opens (and creates) the store under `root`.
    pub async fn open(root: impl Into<PathBuf>) -> io::Result<Self> {
        let root = root.into();
        fs::create_dir_all(root.join("blobs")).await?;
        fs::create_dir_all(root.join("uploads")).await?;
        Ok(Self { root })
    }

    fn upload_path(&self, id: &str) -> io::Result<PathBuf> {
        // Upload ids are UUIDs we minted; anything else never reaches the disk.
        if id.is_empty() || !id.bytes().all(|c| c.is_ascii_hexdigit() || c == b'-') {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "bad upload id"));
        }
        Ok(self.root.join("uploads").join(id))
    }

    fn blob_path(&self, digest: &Digest) -> PathBuf {
        blob_location(digest)
            .iter()
            .fold(self.root.clone(), |path, part| path.join(part))
    }
}

/// Calls `f` with every file under `dir` and its length.
fn walk(dir: &Path, f: &mut dyn FnMut(&Path, u64)) -> io::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        r => r?,
    };
    for e in entries {
        let e = e?;
        let kind = e.file_type()?;
        if kind.is_dir() {
            walk(&e.path(), f)?;
        } else {
            f(&e.path(), e.metadata()?.len());
        }
    }
    Ok(())
}

/// The digest a file under `root` stands for, if it sits where that blob belongs.
fn blob_digest(root: &Path, path: &Path) -> Option<Digest> {
    let rel = path.strip_prefix(root).ok()?;
    let parts: Vec<&str> = rel.iter().filter_map(|p| p.to_str()).collect();
    digest_at(&parts)
}

async fn sync_dir(dir: &Path) -> io::Result<()> {
    let dir = dir.to_owned();
    tokio::task::spawn_blocking(move || std::fs::File::open(dir)?.sync_all())
        .await
        .map_err(io::Error::other)?
}

#[async_trait]
impl BlobStore for FilesystemStore {
    async fn create_upload(&self, id: &str) -> io::Result<()> {
        File::create(self.upload_path(id)?).await?;
        Ok(())
    }

    async fn upload_sink(
        &self,
        id: &str,
        offset: u64,
        _: Option<&str>,
    ) -> io::Result<Box<dyn UploadSink>> {
        let path = self.upload_path(id)?;
        let mut file = std::fs::OpenOptions::new().write(true).open(path)?;
        file.set_len(offset)?;
        file.seek(SeekFrom::Start(offset))?;
        let (tx, rx) = mpsc::channel(PIPELINE_DEPTH);
        let writer = tokio::task::spawn_blocking(move || write_chunks(file, offset, rx));
        Ok(Box::new(ThreadSink {
            tx: Some(tx),
            writer,
        }))
    }

    async fn upload_reader(&self, id: &str, _: Option<&str>) -> io::Result<BoxedReader> {
        let f = File::open(self.upload_path(id)?).await?;
        Ok(Box::pin(BufReader::with_capacity(IO_BUFFER, f)))
    }

    async fn seal_upload(
        &self,
        id: &str,
        _: Option<&str>,
        _: Option<&Digest>,
    ) -> io::Result<Sealed> {
        File::open(self.upload_path(id)?).await?.sync_all().await?;
        Ok(Sealed {
            state: None,
            object: None,
        })
    }

    async fn commit_upload(&self, id: &str, _: Option<&str>, digest: &Digest) -> io::Result<()> {
        let from = self.upload_path(id)?;
        let to = self.blob_path(digest);
        let shard = to.parent().expect("blob paths have a parent").to_path_buf();
        if fs::try_exists(&to).await? {
            // Same digest, same bytes. Another commit may not have synced the folder
            // yet, so sync it before saying the blob is durable; drop our copy off the
            // request path.
            sync_dir(&shard).await?;
            tokio::task::spawn_blocking(move || std::fs::remove_file(from));
            return Ok(());
        }
        let f = File::open(&from).await?;
        f.sync_all().await?;
        drop(f);
        fs::create_dir_all(&shard).await?;
        fs::rename(&from, &to).await?;
        // The new entry, and the shard and algorithm folders if they were just made.
        sync_dir(&shard).await?;
        if let Some(algorithm_dir) = shard.parent() {
            sync_dir(algorithm_dir).await?;
        }
        Ok(())
    }

    async fn delete_upload(&self, id: &str, _: Option<&str>) -> io::Result<()> {
        match fs::remove_file(self.upload_path(id)?).await {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            r => r,
        }
    }

    async fn read_blob(&self, blob: &StoredBlob, offset: u64, len: u64) -> io::Result<BlobStream> {
        let mut file = std::fs::File::open(self.blob_path(&blob.digest))?;
        if offset > 0 {
            file.seek(SeekFrom::Start(offset))?;
        }
        let (tx, rx) = mpsc::channel(PIPELINE_DEPTH);
        tokio::task::spawn_blocking(move || read_ahead(file, len, tx));
        Ok(Box::pin(futures_util::stream::unfold(
            rx,
            |mut rx| async move { rx.recv().await.map(|item| (item, rx)) },
        )))
    }

    async fn blob_exists(&self, blob: &StoredBlob) -> io::Result<bool> {
        fs::try_exists(self.blob_path(&blob.digest)).await
    }

    async fn delete_blob(&self, blob: &StoredBlob) -> io::Result<()> {
        match fs::remove_file(self.blob_path(&blob.digest)).await {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            r => r,
        }
    }

    async fn list_blobs(&self) -> io::Result<Vec<(Digest, u64)>> {
        let root = self.root.clone();
        tokio::task::spawn_blocking(move || {
            let mut out = Vec::new();
            walk(&root.join("blobs"), &mut |path, len| {
                if let Some(d) = blob_digest(&root, path) {
                    out.push((d, len));
                }
            })?;
            Ok(out)
        })
        .await?
    }

    async fn list_uploads(&self) -> io::Result<Option<Vec<(String, std::time::SystemTime)>>> {
        let mut out = Vec::new();
        let mut dir = fs::read_dir(self.root.join("uploads")).await?;
        while let Some(e) = dir.next_entry().await? {
            let name = e.file_name().to_string_lossy().into_owned();
            if self.upload_path(&name).is_ok() {
                out.push((name, e.metadata().await?.modified()?));
            }
        }
        Ok(Some(out))
    }

    async fn list_strays(&self) -> io::Result<Vec<String>> {
        let root = self.root.clone();
        tokio::task::spawn_blocking(move || {
            let mut out = Vec::new();
            walk(&root.join("blobs"), &mut |path, _| {
                if blob_digest(&root, path).is_none()
                    && let Ok(rel) = path.strip_prefix(&root)
                {
                    out.push(rel.to_string_lossy().into_owned());
                }
            })?;
            for e in std::fs::read_dir(root.join("uploads"))? {
                let e = e?;
                let name = e.file_name().to_string_lossy().into_owned();
                let ok =
                    !name.is_empty() && name.bytes().all(|c| c.is_ascii_hexdigit() || c == b'-');
                if !ok && name != ".healthz" {
                    out.push(format!("uploads/{name}"));
                }
            }
            Ok(out)
        })
        .await?
    }

    async fn remove_stray(&self, path: &str) -> io::Result<()> {
        // Only paths inside the store, as `list_strays` gives them.
        if path.split('/').any(|p| p == ".." || p.is_empty()) {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "bad path"));
        }
        fs::remove_file(self.root.join(path)).await
    }

    async fn check(&self) -> io::Result<()> {
        let probe = self.root.join("uploads").join(".healthz");
        fs::write(&probe, b"ok").await?;
        fs::remove_file(&probe).await
    }
}

/// Sends the disk writes to a blocking thread, so the caller can hash the next chunk
/// while this one is written.
struct ThreadSink {
    tx: Option<mpsc::Sender<Bytes>>,
    writer: JoinHandle<io::Result<()>>,
}

#[async_trait]
impl UploadSink for ThreadSink {
    async fn write(&mut self, chunk: Bytes) -> io::Result<()> {
        let tx = self.tx.as_ref().expect("not finished");
        if tx.send(chunk).await.is_err() {
            // The writer stopped early: its error says why.
            self.tx = None;
            return match (&mut self.writer).await {
                Ok(Err(e)) => Err(e),
                Ok(Ok(())) => Err(io::Error::other("upload writer stopped")),
                Err(e) => Err(io::Error::other(e)),
            };
        }
        Ok(())
    }

    async fn finish(mut self: Box<Self>) -> io::Result<UploadState> {
        if self.tx.take().is_none() {
            // `write` already waited for the writer and returned its error.
            return Ok(None);
        }
        (&mut self.writer).await.map_err(io::Error::other)??;
        Ok(None)
    }
}

fn write_chunks(file: std::fs::File, offset: u64, mut rx: mpsc::Receiver<Bytes>) -> io::Result<()> {
    let mut w = io::BufWriter::with_capacity(IO_BUFFER, file);
    let (mut pos, mut requested) = (offset, offset);
    while let Some(chunk) = rx.blocking_recv() {
        w.write_all(&chunk)?;
        pos += chunk.len() as u64;
        if pos - requested >= WRITEBACK_STEP {
            w.flush()?;
            start_writeback(w.get_ref(), requested, pos - requested);
            requested = pos;
        }
    }
    w.flush()?;
    // The database records this length once the sink finishes, and any process may
    // continue from it: the bytes must be durable first.
    w.get_ref().sync_data()
}

/// Asks the kernel to start writing a range back now (Linux), without waiting.
#[cfg(target_os = "linux")]
fn start_writeback(file: &std::fs::File, offset: u64, len: u64) {
    use std::os::fd::AsRawFd;
    // SAFETY: a plain syscall on a file descriptor we own; it has no memory effects.
    unsafe {
        libc::sync_file_range(
            file.as_raw_fd(),
            offset as i64,
            len as i64,
            libc::SYNC_FILE_RANGE_WRITE,
        );
    }
}

#[cfg(not(target_os = "linux"))]
fn start_writeback(_: &std::fs::File, _: u64, _: u64) {}

/// Reads ahead of the client, in large chunks, until `len` bytes were sent or the
/// client went away.
fn read_ahead(mut file: std::fs::File, mut len: u64, tx: mpsc::Sender<io::Result<Bytes>>) {
    while len > 0 {
        let n = len.min(IO_BUFFER as u64) as usize;
        let mut buf = BytesMut::zeroed(n);
        let item = match file.read_exact(&mut buf) {
            Ok(()) => {
                len -= n as u64;
                Ok(buf.freeze())
            }
            Err(e) => {
                len = 0;
                Err(e)
            }
        };
        if tx.blocking_send(item).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::TryStreamExt;

    #[tokio::test]
    async fn an_upload_becomes_a_blob_only_on_commit() {
        let dir = tempfile::tempdir().unwrap();
        let store = FilesystemStore::open(dir.path()).await.unwrap();
        let id = "0123abcd-0000";
        store.create_upload(id).await.unwrap();
        let mut w = store.upload_sink(id, 0, None).await.unwrap();
        w.write(Bytes::from_static(b"hello ")).await.unwrap();
        w.write(Bytes::from_static(b"world")).await.unwrap();
        w.finish().await.unwrap();
        // A retried chunk starting at 5 replaces what followed.
        let mut w = store.upload_sink(id, 5, None).await.unwrap();
        w.write(Bytes::from_static(b"!")).await.unwrap();
        w.finish().await.unwrap();
        let digest = Digest::sha256_of(b"hello!");
        let blob = StoredBlob::at_digest(digest.clone());
        assert!(!store.blob_exists(&blob).await.unwrap());
        let sealed = store.seal_upload(id, None, Some(&digest)).await.unwrap();
        assert_eq!(sealed.object, None);
        store.commit_upload(id, None, &digest).await.unwrap();
        assert!(store.blob_exists(&blob).await.unwrap());
        let chunks: Vec<Bytes> = store
            .read_blob(&blob, 2, 3)
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(chunks.concat(), b"llo");
        assert!(store.upload_reader(id, None).await.is_err());
        assert!(store.upload_sink("../etc", 0, None).await.is_err());
    }
}
