//! `berth fsck`: checks the database against the store. Every blob the database
//! knows is present with its size and hash; the store holds nothing the database
//! does not know; no upload outlived the upload expiry; repository sizes add up.
//! With `repair`, what can be fixed without losing data is fixed.

use super::{Result, Services, now_ms};
use crate::domain::Digest;
use crate::domain::digest::Hasher;
use crate::storage::{StoredBlob, UploadObject};
use futures_util::TryStreamExt;
use std::collections::{HashMap, HashSet};

/// What a check found.
#[derive(Debug, Default, serde::Serialize)]
pub struct FsckReport {
    pub blobs_checked: u64,
    pub bytes_checked: u64,
    /// Problems found (all of them, repaired or not).
    pub problems: Vec<String>,
    /// What `repair` fixed.
    pub repaired: Vec<String>,
    /// What cannot be fixed without the lost bytes.
    pub unrepairable: Vec<String>,
}

impl FsckReport {
    /// Whether the data is consistent now: nothing found, or everything repaired.
    pub fn clean(&self) -> bool {
        self.problems.len() == self.repaired.len() && self.unrepairable.is_empty()
    }
}

/// Stored bytes that no row records: how many files or objects, and their size.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Orphans {
    pub files: u64,
    pub bytes: u64,
}

impl Services {
    pub async fn fsck(&self, repair: bool) -> Result<FsckReport> {
        let mut r = FsckReport::default();
        // Upload objects are listed before the rows that say which are needed: one a
        // finishing upload completes meanwhile is then still its session's.
        let listed = self.store.list_upload_objects().await?;
        let objects: HashMap<String, u64> =
            listed.iter().map(|o| (o.key.clone(), o.size)).collect();
        let orphans = self.orphan_upload_objects(listed).await?;
        let rows: HashMap<String, i64> = self.db.all_blobs().await?.into_iter().collect();
        let objects_of = self.db.blob_objects().await?;
        let files: HashMap<String, u64> = self
            .store
            .list_blobs()
            .await?
            .into_iter()
            .map(|(d, len)| (d.to_string(), len))
            .collect();
        let owners = self.db.blob_owners().await?;
        let trashed: HashSet<String> = self.db.trashed_blobs().await?.into_iter().collect();

        for (digest, size) in &rows {
            let Ok(parsed) = Digest::parse(digest) else {
                r.unrepairable
                    .push(format!("the database lists an invalid digest {digest:?}"));
                continue;
            };
            let kept_by = || {
                let mut by = owners.get(digest).cloned().unwrap_or_default();
                if trashed.contains(digest) {
                    by.push("the trash".into());
                }
                by
            };
            let object = objects_of.get(digest).cloned();
            let stored = match &object {
                Some(key) => objects.get(key),
                None => files.get(digest),
            };
            match stored {
                None => {
                    let by = kept_by();
                    let problem = format!("blob {digest} ({size} bytes) is missing from the store");
                    if by.is_empty() {
                        r.problems.push(format!("{problem}; nothing references it"));
                        if repair && self.forget_blob(&parsed).await? {
                            r.repaired
                                .push(format!("forgot the missing unreferenced blob {digest}"));
                        }
                    } else {
                        r.problems.push(problem.clone());
                        r.unrepairable
                            .push(format!("{problem}; needed by {}", by.join(", ")));
                    }
                }
                Some(len) if *len as i64 != *size => {
                    let problem = format!("blob {digest} holds {len} bytes, not {size}");
                    r.problems.push(problem.clone());
                    r.unrepairable
                        .push(format!("{problem}; push it again to repair it"));
                }
                Some(len) => {
                    r.blobs_checked += 1;
                    r.bytes_checked += len;
                    let blob = StoredBlob {
                        digest: parsed.clone(),
                        object,
                    };
                    if self.hash_of(&blob, *len).await? != parsed {
                        let problem =
                            format!("blob {digest} is damaged: its bytes hash differently");
                        r.problems.push(problem.clone());
                        r.unrepairable
                            .push(format!("{problem}; push it again to repair it"));
                    }
                }
            }
        }
        for (digest, len) in &files {
            if rows.contains_key(digest) && objects_of.contains_key(digest) {
                // Recorded at another object: this is a second copy, which nothing reads.
                r.problems
                    .push(format!("the store holds a second copy of blob {digest}"));
                if repair
                    && let Ok(parsed) = Digest::parse(digest)
                    && self.remove_second_copy(&parsed).await?
                {
                    r.repaired
                        .push(format!("removed the second copy of blob {digest}"));
                }
                continue;
            }
            if rows.contains_key(digest) {
                continue;
            }
            r.problems.push(format!(
                "the store holds {digest} ({len} bytes), which the database does not know"
            ));
            if repair && self.remove_orphan_blob(digest).await? {
                r.repaired.push(format!("removed the orphan blob {digest}"));
            }
        }
        for digest in owners.keys().filter(|d| !rows.contains_key(*d)) {
            let problem =
                format!("repositories link blob {digest}, which the database does not list");
            r.problems.push(problem.clone());
            r.unrepairable.push(problem);
        }
        self.check_uploads(repair, &mut r).await?;
        for drift in self.db.repository_size_drift().await? {
            r.problems.push(format!(
                "repository {} says it holds {} bytes, its blobs add up to {}",
                drift.name, drift.stored, drift.actual
            ));
            if repair {
                self.db.set_repository_size(drift.id, drift.actual).await?;
                r.repaired
                    .push(format!("recounted the size of {}", drift.name));
            }
        }
        for drift in self.db.usage_drift().await? {
            r.problems.push(format!(
                "account {} says it uses {} bytes, its repositories' blobs add up to {}",
                drift.account, drift.stored, drift.actual
            ));
            if repair {
                self.db.recount_usage(&drift.account).await?;
                r.repaired
                    .push(format!("recounted the usage of account {}", drift.account));
            }
        }
        for orphan in orphans {
            r.problems.push(format!(
                "the store holds {}, left by upload {}, which nothing needs",
                orphan.key, orphan.upload
            ));
            if repair {
                self.store.delete_upload_object(&orphan.key).await?;
                r.repaired.push(format!("removed {}", orphan.key));
            }
        }
        for stray in self.store.list_strays().await? {
            r.problems
                .push(format!("the store holds a stray file {stray}"));
            if repair {
                self.store.remove_stray(&stray).await?;
                r.repaired.push(format!("removed the stray file {stray}"));
            }
        }
        Ok(r)
    }

    /// Upload sessions: a row and a file each, and none older than the expiry.
    async fn check_uploads(&self, repair: bool, r: &mut FsckReport) -> Result<()> {
        let cutoff = now_ms() - self.lifecycle.upload_expiry.as_millis() as i64;
        let rows: HashMap<String, i64> = self.db.all_uploads().await?.into_iter().collect();
        // An object store keeps no file per upload (its state is in the row).
        let files: Option<HashMap<String, std::time::SystemTime>> = self
            .store
            .list_uploads()
            .await?
            .map(|files| files.into_iter().collect());
        for (id, started) in &rows {
            if files.as_ref().is_some_and(|f| !f.contains_key(id)) {
                r.problems.push(format!("upload {id} has no file"));
            } else if *started < cutoff {
                r.problems
                    .push(format!("upload {id} is older than the upload expiry"));
            } else {
                continue;
            }
            if repair {
                self.discard_upload_as_left(id).await?;
                r.repaired.push(format!("removed upload {id}"));
            }
        }
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
        for (id, modified) in files.iter().flatten() {
            // A file younger than a minute may belong to a session being created.
            if rows.contains_key(id) || *modified > old {
                continue;
            }
            r.problems
                .push(format!("upload file {id} belongs to no session"));
            if repair {
                self.store.delete_upload(id, None).await?;
                r.repaired.push(format!("removed the upload file {id}"));
            }
        }
        Ok(())
    }

    /// Removes the bytes of a blob the database does not know, unless a push of it is
    /// just committing.
    pub(super) async fn remove_orphan_blob(&self, digest: &str) -> Result<bool> {
        let Ok(parsed) = Digest::parse(digest) else {
            return Ok(false);
        };
        let blob = StoredBlob::at_digest(parsed);
        Ok(self
            .db
            .with_unknown_blob(digest, || self.store.delete_blob(&blob))
            .await??)
    }

    /// Removes the bytes at a blob's digest key while its row maps it to another
    /// object, holding the row so that nothing changes that meanwhile.
    async fn remove_second_copy(&self, digest: &Digest) -> Result<bool> {
        let copy = StoredBlob::at_digest(digest.clone());
        Ok(self
            .db
            .with_blob_mapped_elsewhere(&digest.to_string(), || self.store.delete_blob(&copy))
            .await??)
    }

    /// Of the objects named after an upload (`listed` just before), those that
    /// neither a session nor a blob needs (an object store's leftovers of a crash, or
    /// of a request that lost its claim). Sessions are read before blobs: finishing an
    /// upload swaps its session for its blob's row in one transaction, so a needed
    /// object is always seen as needed.
    async fn orphan_upload_objects(&self, listed: Vec<UploadObject>) -> Result<Vec<UploadObject>> {
        if listed.is_empty() {
            return Ok(listed);
        }
        let sessions: HashSet<String> = self
            .db
            .all_uploads()
            .await?
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        let mapped: HashSet<String> = self.db.blob_objects().await?.into_values().collect();
        Ok(listed
            .into_iter()
            .filter(|o| !sessions.contains(&o.upload) && !mapped.contains(&o.key))
            .collect())
    }

    /// Removes blob files and upload objects no row records, or with `dry_run` only
    /// counts them. A process killed between placing bytes and committing their row
    /// leaves them, and with an object store a request the dead process had sent can
    /// still land after the restart: so this runs at startup and in every garbage
    /// collection, beside normal service (a push of the same blob holds its row, which
    /// the removal claims first; see `remove_orphan_blob`).
    pub async fn remove_orphan_blobs(&self, dry_run: bool) -> Result<Orphans> {
        let known: HashSet<String> = self
            .db
            .all_blobs()
            .await?
            .into_iter()
            .map(|(d, _)| d)
            .collect();
        let mut out = Orphans::default();
        for (digest, len) in self.store.list_blobs().await? {
            let digest = digest.to_string();
            if !known.contains(&digest) && (dry_run || self.remove_orphan_blob(&digest).await?) {
                out.files += 1;
                out.bytes += len;
            }
        }
        let listed = self.store.list_upload_objects().await?;
        for orphan in self.orphan_upload_objects(listed).await? {
            if !dry_run {
                self.store.delete_upload_object(&orphan.key).await?;
            }
            out.files += 1;
            out.bytes += orphan.size;
        }
        Ok(out)
    }

    /// Deletes the row of an unreferenced blob whose bytes are gone.
    async fn forget_blob(&self, digest: &Digest) -> Result<bool> {
        Ok(self
            .db
            .gc_delete_blob(&digest.to_string(), i64::MAX, |_| async { Ok(()) })
            .await??)
    }

    async fn hash_of(&self, blob: &StoredBlob, len: u64) -> Result<Digest> {
        let mut h = Hasher::new(blob.digest.algorithm());
        let mut stream = self.store.read_blob(blob, 0, len).await?;
        while let Some(chunk) = stream.try_next().await? {
            h.update(&chunk);
        }
        Ok(h.finish())
    }
}
