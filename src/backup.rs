//! `berth backup` and `berth restore`: a consistent copy of a data folder taken while
//! the server runs, and putting such a copy into an empty data folder.
//!
//! ```text
//! <backup>/
//!   berth.db       the database as one transaction saw it (SQLite's VACUUM INTO),
//!                  with the token signing key, so issued logins keep working
//!   store/blobs/…  every blob that database lists, in the store's own layout
//!   backup.json    what was copied: version, time, blob count and bytes
//! ```
//!
//! The database is copied first and the blobs it lists after, each verified against
//! its digest. Blobs never change, so the copy is consistent; should garbage collection
//! free a listed blob meanwhile, the backup starts over from a new snapshot.

use crate::config::DataArgs;
use crate::db::Db;
use crate::domain::Digest;
use crate::domain::digest::Hasher;
use crate::services::Services;
use crate::storage::{BlobStore, FilesystemStore, StoredBlob};
use futures_util::StreamExt;
use serde::Serialize;
use std::path::Path;

/// What a backup or a restore copied.
#[derive(Debug, Clone, Serialize)]
pub struct Copied {
    pub blobs: u64,
    pub bytes: u64,
}

/// How often a backup starts over when garbage collection takes a blob it needs.
const ATTEMPTS: u32 = 3;

/// Takes a backup of the running (or stopped) data folder into `to`, which must not
/// exist or be empty. The error is one line for the operator.
pub async fn backup(services: &Services, to: &Path) -> Result<Copied, String> {
    if !services.db.is_sqlite() {
        return Err(
            "backup copies the embedded SQLite database; with PostgreSQL use pg_dump \
                    and your object store's versioning (see the README)"
                .into(),
        );
    }
    if !is_empty_or_missing(to)? {
        return Err(format!(
            "{} is not empty; back up into a new folder",
            to.display()
        ));
    }
    let mut last = String::new();
    for _ in 0..ATTEMPTS {
        match backup_once(services, to).await {
            Ok(copied) => return Ok(copied),
            Err(Attempt::Retry(why)) => {
                last = why;
                remove_contents(to)?;
            }
            Err(Attempt::Fail(why)) => {
                let _ = remove_contents(to);
                return Err(why);
            }
        }
    }
    let _ = remove_contents(to);
    Err(format!(
        "the data changed under every attempt ({last}); try again"
    ))
}

enum Attempt {
    Retry(String),
    Fail(String),
}

async fn backup_once(services: &Services, to: &Path) -> Result<Copied, Attempt> {
    let fail = |what: &str, e: &dyn std::fmt::Display| Attempt::Fail(format!("{what}: {e}"));
    std::fs::create_dir_all(to).map_err(|e| fail(&format!("creating {}", to.display()), &e))?;
    let db_file = to.join("berth.db");
    services
        .db
        .snapshot_into(&db_file)
        .await
        .map_err(|e| fail("copying the database", &e))?;
    let snapshot = Db::connect(&format!("sqlite://{}", db_file.display()))
        .await
        .map_err(|e| fail("reading the database copy", &e))?;
    let listed = snapshot.all_blobs().await;
    let objects = snapshot.blob_objects().await;
    snapshot.close().await;
    let listed = listed.map_err(|e| fail("reading the database copy", &e))?;
    let mut objects = objects.map_err(|e| fail("reading the database copy", &e))?;
    let dest = FilesystemStore::open(to.join("store"))
        .await
        .map_err(|e| fail("creating the backup's store", &e))?;
    let mut copied = Copied { blobs: 0, bytes: 0 };
    for (digest, size) in listed {
        let object = objects.remove(&digest);
        let digest = Digest::parse(&digest).map_err(|e| fail("a listed digest", &e.0))?;
        let blob = StoredBlob {
            digest: digest.clone(),
            object,
        };
        match copy_blob(services.store.as_ref(), &dest, &blob, size.max(0) as u64).await {
            Ok(_) => {}
            Err(CopyFailed::Missing) => {
                return Err(Attempt::Retry(format!("{digest} was collected")));
            }
            Err(CopyFailed::Io(e)) => return Err(fail(&format!("copying {digest}"), &e)),
            Err(CopyFailed::Damaged) => {
                return Err(Attempt::Fail(format!(
                    "{digest} is damaged in the store (berth fsck says more)"
                )));
            }
        }
        copied.blobs += 1;
        copied.bytes += size.max(0) as u64;
    }
    let manifest = serde_json::json!({
        "version": env!("CARGO_PKG_VERSION"),
        "created_at": crate::services::format_rfc3339(crate::services::now_ms()),
        "blobs": copied.blobs,
        "bytes": copied.bytes,
    });
    write_synced(&to.join("backup.json"), manifest.to_string().as_bytes())
        .map_err(|e| fail("writing backup.json", &e))?;
    Ok(copied)
}

/// Puts a backup into the data folder of `data`, which must be empty (or not exist)
/// and used by no server. The error is one line for the operator.
pub async fn restore(data: &DataArgs, from: &Path) -> Result<Copied, String> {
    if data
        .database_url
        .as_deref()
        .is_some_and(|u| !u.starts_with("sqlite:"))
    {
        return Err(
            "restore fills a data folder with the embedded SQLite database; for \
                    PostgreSQL use pg_restore (see the README)"
                .into(),
        );
    }
    if !from.join("backup.json").is_file() || !from.join("berth.db").is_file() {
        return Err(format!(
            "{} is not a Berth backup (no backup.json)",
            from.display()
        ));
    }
    let dir = &data.data_dir;
    if crate::startup::data_dir_in_use(dir) {
        return Err(format!(
            "a running server uses {}; stop it first",
            dir.display()
        ));
    }
    if !is_empty_or_missing(dir)? {
        return Err(format!(
            "{} is not empty; restore into an empty folder",
            dir.display()
        ));
    }
    let copy = |name: &str, to: &Path| -> Result<(), String> {
        let bytes = std::fs::read(from.join(name))
            .map_err(|e| format!("reading {}: {e}", from.join(name).display()))?;
        write_synced(to, &bytes).map_err(|e| format!("writing {}: {e}", to.display()))
    };
    std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let db_path = match &data.database_url {
        Some(u) => std::path::PathBuf::from(u.trim_start_matches("sqlite://")),
        None => dir.join("berth.db"),
    };
    copy("berth.db", &db_path)?;
    // Backups from before the signing key moved into the database carry it as a file;
    // the first start adopts it.
    if from.join("token.key").exists() {
        copy("token.key", &data.key_file())?;
    }
    let services = crate::startup::open(data)
        .await
        .map_err(|e| format!("opening the restored data: {e:#}"))?;
    let source = FilesystemStore::open(from.join("store"))
        .await
        .map_err(|e| format!("opening the backup's store: {e}"))?;
    let listed = services
        .db
        .all_blobs()
        .await
        .map_err(|e| format!("reading the restored database: {e}"))?;
    let mut copied = Copied { blobs: 0, bytes: 0 };
    for (digest, size) in listed {
        let digest = Digest::parse(&digest).map_err(|e| e.0)?;
        let blob = StoredBlob::at_digest(digest.clone());
        let object = copy_blob(&source, services.store.as_ref(), &blob, size.max(0) as u64)
            .await
            .map_err(|e| match e {
                CopyFailed::Missing => format!("the backup lacks {digest}"),
                CopyFailed::Damaged => format!("{digest} is damaged in the backup"),
                CopyFailed::Io(e) => format!("copying {digest}: {e}"),
            })?;
        // The backup's rows say where the bytes were in the store it was taken from.
        services
            .db
            .set_blob_object(&digest.to_string(), object.as_deref())
            .await
            .map_err(|e| format!("recording where {digest} is: {e}"))?;
        copied.blobs += 1;
        copied.bytes += size.max(0) as u64;
    }
    services.db.close().await;
    Ok(copied)
}

enum CopyFailed {
    Missing,
    Damaged,
    Io(std::io::Error),
}

/// Copies one blob between stores through their upload path (fsync'd, renamed into
/// place), checking its bytes against the digest on the way. Returns the object the
/// copy is in when it is not at the digest's usual place.
async fn copy_blob(
    from: &dyn BlobStore,
    to: &dyn BlobStore,
    blob: &StoredBlob,
    size: u64,
) -> Result<Option<String>, CopyFailed> {
    let digest = &blob.digest;
    let at_digest = StoredBlob::at_digest(digest.clone());
    if to.blob_exists(&at_digest).await.map_err(CopyFailed::Io)? {
        return Ok(None);
    }
    let mut stream = match from.read_blob(blob, 0, size).await {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(CopyFailed::Missing),
        Err(e) => return Err(CopyFailed::Io(e)),
    };
    let id = uuid::Uuid::new_v4().to_string();
    to.create_upload(&id).await.map_err(CopyFailed::Io)?;
    let mut state = None;
    let written = async {
        let mut sink = to.upload_sink(&id, 0, None).await.map_err(CopyFailed::Io)?;
        let mut hasher = Hasher::new(digest.algorithm());
        let mut n = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => CopyFailed::Missing,
                _ => CopyFailed::Io(e),
            })?;
            n += chunk.len() as u64;
            hasher.update(&chunk);
            sink.write(chunk).await.map_err(CopyFailed::Io)?;
        }
        state = sink.finish().await.map_err(CopyFailed::Io)?;
        if n != size || &hasher.finish() != digest {
            return Err(CopyFailed::Damaged);
        }
        let sealed = to
            .seal_upload(&id, state.as_deref(), Some(digest))
            .await
            .map_err(CopyFailed::Io)?;
        to.commit_upload(&id, sealed.state.as_deref(), digest)
            .await
            .map_err(CopyFailed::Io)?;
        let _ = to.release_state(&id, sealed.state.as_deref(), None).await;
        Ok(sealed.object)
    }
    .await;
    if written.is_err() {
        let _ = to.delete_upload(&id, state.as_deref()).await;
    }
    written
}

fn is_empty_or_missing(dir: &Path) -> Result<bool, String> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => Ok(entries.next().is_none()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(e) => Err(format!("reading {}: {e}", dir.display())),
    }
}

fn remove_contents(dir: &Path) -> Result<(), String> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(format!("cleaning {}: {e}", dir.display())),
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let removed = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        removed.map_err(|e| format!("cleaning {}: {e}", path.display()))?;
    }
    Ok(())
}

fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = std::fs::File::create(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}
