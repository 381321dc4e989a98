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

use super::{BlobStore, BoxedReader, BoxedWriter};
use crate::domain::Digest;
use async_trait::async_trait;
use std::io::{self, SeekFrom};
use std::path::{Path, PathBuf};
use tokio::fs::{self, File, OpenOptions};
use tokio::io::{AsyncSeekExt, BufReader, BufWriter};

/// Buffer size for blob I/O: big enough that each syscall moves a lot of data.
const IO_BUFFER: usize = 1 << 20;

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
        let hex = digest.hex();
        self.root
            .join("blobs")
            .join(digest.algorithm().as_str())
            .join(&hex[..2])
            .join(hex)
    }
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

    async fn upload_writer(&self, id: &str, offset: u64) -> io::Result<BoxedWriter> {
        let mut f = OpenOptions::new()
            .write(true)
            .open(self.upload_path(id)?)
            .await?;
        f.set_len(offset).await?;
        f.seek(SeekFrom::Start(offset)).await?;
        Ok(Box::pin(BufWriter::with_capacity(IO_BUFFER, f)))
    }

    async fn upload_reader(&self, id: &str) -> io::Result<BoxedReader> {
        let f = File::open(self.upload_path(id)?).await?;
        Ok(Box::pin(BufReader::with_capacity(IO_BUFFER, f)))
    }

    async fn commit_upload(&self, id: &str, digest: &Digest) -> io::Result<()> {
        let from = self.upload_path(id)?;
        let to = self.blob_path(digest);
        let f = File::open(&from).await?;
        f.sync_all().await?;
        drop(f);
        let dir = to.parent().expect("blob paths have a parent");
        fs::create_dir_all(dir).await?;
        // Same digest means same bytes: renaming over an existing blob is harmless.
        fs::rename(&from, &to).await?;
        sync_dir(dir).await
    }

    async fn delete_upload(&self, id: &str) -> io::Result<()> {
        match fs::remove_file(self.upload_path(id)?).await {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            r => r,
        }
    }

    async fn open_blob(&self, digest: &Digest, offset: u64) -> io::Result<(BoxedReader, u64)> {
        let mut f = File::open(self.blob_path(digest)).await?;
        let size = f.metadata().await?.len();
        if offset > 0 {
            f.seek(SeekFrom::Start(offset)).await?;
        }
        Ok((Box::pin(f), size))
    }

    async fn blob_exists(&self, digest: &Digest) -> io::Result<bool> {
        fs::try_exists(self.blob_path(digest)).await
    }

    async fn delete_blob(&self, digest: &Digest) -> io::Result<()> {
        match fs::remove_file(self.blob_path(digest)).await {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            r => r,
        }
    }

    async fn check(&self) -> io::Result<()> {
        let probe = self.root.join("uploads").join(".healthz");
        fs::write(&probe, b"ok").await?;
        fs::remove_file(&probe).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn an_upload_becomes_a_blob_only_on_commit() {
        let dir = tempfile::tempdir().unwrap();
        let store = FilesystemStore::open(dir.path()).await.unwrap();
        let id = "0123abcd-0000";
        store.create_upload(id).await.unwrap();
        let mut w = store.upload_writer(id, 0).await.unwrap();
        w.write_all(b"hello world").await.unwrap();
        w.shutdown().await.unwrap();
        // A retried chunk starting at 5 replaces what followed.
        let mut w = store.upload_writer(id, 5).await.unwrap();
        w.write_all(b"!").await.unwrap();
        w.shutdown().await.unwrap();
        let digest = Digest::sha256_of(b"hello!");
        assert!(!store.blob_exists(&digest).await.unwrap());
        store.commit_upload(id, &digest).await.unwrap();
        assert!(store.blob_exists(&digest).await.unwrap());
        let (mut r, size) = store.open_blob(&digest, 2).await.unwrap();
        assert_eq!(size, 6);
        let mut s = String::new();
        r.read_to_string(&mut s).await.unwrap();
        assert_eq!(s, "llo!");
        assert!(store.upload_reader(id).await.is_err());
        assert!(store.upload_writer("../etc", 0).await.is_err());
    }
}
