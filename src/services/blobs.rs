//! Reading, mounting and unlinking blobs of a repository.

use super::access::Caller;
use super::{Error, Result, Services, Thing, now_ms};
use crate::domain::{Action, Digest, RepositoryName};
use crate::storage::{BlobStream, StoredBlob};

impl Services {
    /// The size of a blob the repository may read.
    pub async fn blob_size(&self, repo: &RepositoryName, digest: &Digest) -> Result<u64> {
        Ok(self.readable_blob(repo, digest).await?.0)
    }

    /// The size of a blob the repository may read, and where its bytes are.
    async fn readable_blob(
        &self,
        repo: &RepositoryName,
        digest: &Digest,
    ) -> Result<(u64, StoredBlob)> {
        let r = self
            .db
            .repository_by_name(repo.as_str())
            .await?
            .ok_or(Error::NotFound(Thing::Blob))?;
        let (size, object) = self
            .db
            .blob_in_repository(r.id, &digest.to_string())
            .await?
            .ok_or(Error::NotFound(Thing::Blob))?;
        let blob = StoredBlob {
            digest: digest.clone(),
            object,
        };
        Ok((size.max(0) as u64, blob))
    }

    /// Where the bytes of a blob the database knows are; `None` for an unknown blob.
    pub(crate) async fn stored_blob(&self, digest: &Digest) -> Result<Option<StoredBlob>> {
        Ok(self
            .db
            .blob_object(&digest.to_string())
            .await?
            .map(|object| StoredBlob {
                digest: digest.clone(),
                object,
            }))
    }

    /// Streams `len` bytes from `offset` of a blob the repository may read.
    pub async fn read_blob(
        &self,
        repo: &RepositoryName,
        digest: &Digest,
        offset: u64,
        len: u64,
    ) -> Result<BlobStream> {
        let (_, blob) = self.readable_blob(repo, digest).await?;
        match self.store.read_blob(&blob, offset, len).await {
            Ok(r) => Ok(r),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                tracing::error!(%digest, "blob recorded in the database is missing from the store");
                Err(Error::NotFound(Thing::Blob))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// With `--blob-redirect`, a URL from which the client reads the blob straight
    /// from the store (valid [`super::BLOB_REDIRECT_LIFETIME`]); `None` when redirects are off
    /// or the store cannot presign. The caller has checked the blob is readable.
    pub async fn blob_redirect(&self, digest: &Digest) -> Result<Option<String>> {
        if !self.blob_redirect {
            return Ok(None);
        }
        let Some(blob) = self.stored_blob(digest).await? else {
            return Ok(None);
        };
        Ok(self
            .store
            .presigned_url(&blob, super::BLOB_REDIRECT_LIFETIME)
            .await?)
    }

    /// Lets `target` read a blob without moving bytes, taken from `from` or, without
    /// it, from any repository holding the blob that the principal may pull. Returns
    /// the size, or `None` when no such source exists (the caller then uploads).
    pub async fn mount_blob(
        &self,
        caller: &Caller,
        target: &RepositoryName,
        digest: &Digest,
        from: Option<&RepositoryName>,
        actor: &str,
    ) -> Result<Option<u64>> {
        let candidates = match from {
            Some(f) => vec![f.clone()],
            None => self
                .db
                .repositories_with_blob(&digest.to_string(), 50)
                .await?
                .iter()
                .filter_map(|n| RepositoryName::parse(n).ok())
                .collect(),
        };
        for source in candidates {
            if !self
                .held_actions(caller, &source, &[Action::Pull])
                .await?
                .contains(Action::Pull)
            {
                continue;
            }
            let (size, blob) = match self.readable_blob(&source, digest).await {
                Ok(found) => found,
                Err(Error::NotFound(_)) => continue,
                Err(e) => return Err(e),
            };
            let repo = self.repository_for_push(target).await?;
            // The bytes must still be there while the link is made (garbage collection
            // may just have taken them); otherwise the client uploads instead.
            let placed = self
                .db
                .link_blob_placed(
                    repo.id,
                    crate::db::PlacedBlob {
                        digest: &digest.to_string(),
                        size: size as i64,
                        object: blob.object.as_deref(),
                    },
                    now_ms(),
                    None,
                    || self.store_has(&blob),
                )
                .await?;
            return match placed {
                Ok(_) => Ok(Some(size)),
                Err(crate::db::LinkRefused::Io(_)) => Ok(None),
                Err(refused) => Err(self
                    .refused_push(target, digest, size, actor, refused)
                    .await),
            };
        }
        Ok(None)
    }

    /// Removes the blob from the repository; garbage collection reclaims the bytes once
    /// nothing else holds them.
    pub async fn delete_blob(
        &self,
        repo: &RepositoryName,
        digest: &Digest,
        actor: &str,
    ) -> Result<()> {
        let r = self
            .repository(repo)
            .await
            .map_err(|_| Error::NotFound(Thing::Blob))?;
        if !self.db.unlink_blob(r.id, &digest.to_string()).await? {
            return Err(Error::NotFound(Thing::Blob));
        }
        self.audit(
            Some(r.account_id),
            actor,
            "blob.delete",
            Some(repo.as_str()),
            Some(digest.to_string()),
        )
        .await;
        Ok(())
    }
}

impl Services {
    /// Succeeds when the store holds the blob's bytes.
    pub(crate) async fn store_has(&self, blob: &StoredBlob) -> std::io::Result<()> {
        if self.store.blob_exists(blob).await? {
            Ok(())
        } else {
            Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{} is not in the store", blob.digest),
            ))
        }
    }
}
