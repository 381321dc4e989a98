//! Repositories: lookup, implicit creation on push, catalog and search.

use super::access::Principal;
use super::{Error, Result, Services, Thing, now_ms};
use crate::db::Repository;
use crate::domain::RepositoryName;

impl Services {
    /// The repository, or `NotFound(Repository)`.
    pub async fn repository(&self, name: &RepositoryName) -> Result<Repository> {
        self.db
            .repository_by_name(name.as_str())
            .await?
            .ok_or(Error::NotFound(Thing::Repository))
    }

    /// The repository, created inside its namespace's account on first push.
    pub async fn repository_for_push(&self, name: &RepositoryName) -> Result<Repository> {
        if let Some(r) = self.db.repository_by_name(name.as_str()).await? {
            return Ok(r);
        }
        let ns = name.namespace().ok_or(Error::Forbidden)?;
        let account = self.db.account_by_name(ns).await?.ok_or(Error::Forbidden)?;
        Ok(self
            .db
            .ensure_repository(account.id, name.as_str(), now_ms())
            .await?)
    }

    /// Repository names the principal may pull, after `last`, at most `n`.
    pub async fn catalog(
        &self,
        principal: Option<&Principal>,
        last: Option<&str>,
        n: u64,
    ) -> Result<Vec<String>> {
        let Some(p) = principal else {
            return Ok(vec![]);
        };
        let accounts = self.visible_accounts(p).await?;
        Ok(self
            .db
            .repository_names(accounts.as_deref(), last, n)
            .await?)
    }

    /// Repositories the principal may pull whose name contains `query`.
    pub async fn search(
        &self,
        principal: Option<&Principal>,
        query: &str,
        n: u64,
    ) -> Result<Vec<String>> {
        let Some(p) = principal else {
            return Ok(vec![]);
        };
        let accounts = self.visible_accounts(p).await?;
        Ok(self
            .db
            .search_repositories(accounts.as_deref(), query, n)
            .await?)
    }
}

/// Image configs larger than this are not read for the Tag page.
const MAX_CONFIG_SHOWN: u64 = 1024 * 1024;

/// What the Tag page shows of a manifest.
pub struct PortalManifest {
    pub manifest: crate::db::Manifest,
    pub config: Option<Vec<u8>>,
    pub tags: Vec<String>,
    pub referrers: Vec<crate::db::Manifest>,
}

/// Largest page of the portal's repository list.
pub const MAX_PORTAL_PAGE: u64 = 100;

impl Services {
    /// A page (from 1) of an account's repositories for a signed-in user who belongs to
    /// the account (or is a site admin); anyone else is refused.
    pub async fn account_repositories(
        &self,
        user_id: i64,
        account: &crate::domain::AccountName,
        filter: &str,
        order: crate::domain::RepositoryOrder,
        page: u64,
        per_page: u64,
    ) -> Result<(Vec<crate::db::RepositorySummary>, u64)> {
        let (account, _) = self.member_of(user_id, account).await?;
        let per_page = per_page.clamp(1, MAX_PORTAL_PAGE);
        let offset = page.saturating_sub(1).saturating_mul(per_page);
        Ok(self
            .db
            .repository_page(account.id, filter, order, offset, per_page)
            .await?)
    }
}

impl Services {
    /// The principal of a signed-in portal user.
    pub fn portal_principal(
        &self,
        user: &crate::services::sessions::PortalUser,
    ) -> crate::services::access::Principal {
        crate::services::access::Principal::person(user.username.clone(), user.id)
    }

    async fn require(
        &self,
        user_id: i64,
        repo: &RepositoryName,
        action: crate::domain::Action,
    ) -> Result<String> {
        let user = self
            .portal_user(user_id)
            .await?
            .ok_or(Error::Unauthenticated)?;
        let p = self.portal_principal(&user);
        if self
            .granted_actions(&p, repo, &[action])
            .await?
            .contains(&action)
        {
            Ok(user.username)
        } else {
            Err(Error::Forbidden)
        }
    }

    /// The tags of a repository the user may pull, with their manifests.
    pub async fn repository_tags(
        &self,
        user_id: i64,
        repo: &RepositoryName,
    ) -> Result<(Vec<crate::db::TagDetail>, u64)> {
        self.require(user_id, repo, crate::domain::Action::Pull)
            .await?;
        let r = self.repository(repo).await?;
        Ok((self.db.tag_details(r.id).await?, r.size_bytes.max(0) as u64))
    }

    /// Manifests of a repository the user may pull that no tag points at (untagged
    /// images and referrers), newest first, at most 200.
    pub async fn repository_untagged(
        &self,
        user_id: i64,
        repo: &RepositoryName,
    ) -> Result<Vec<crate::db::Manifest>> {
        self.require(user_id, repo, crate::domain::Action::Pull)
            .await?;
        let r = self.repository(repo).await?;
        Ok(self.db.untagged_manifests(r.id, 200).await?)
    }

    /// A manifest for the portal's Tag page: the manifest, its image config's bytes
    /// (when it is an image whose config is at most 1 MiB), the tags pointing at it
    /// and its referrers.
    pub async fn portal_manifest(
        &self,
        user_id: i64,
        repo: &RepositoryName,
        reference: &crate::domain::Reference,
    ) -> Result<PortalManifest> {
        self.require(user_id, repo, crate::domain::Action::Pull)
            .await?;
        let manifest = self.manifest(repo, reference).await?;
        let value: serde_json::Value =
            serde_json::from_slice(&manifest.content).unwrap_or_default();
        let config = match (
            value["config"]["digest"]
                .as_str()
                .and_then(|d| crate::domain::Digest::parse(d).ok()),
            value["config"]["size"].as_u64(),
        ) {
            (Some(digest), Some(size)) if size <= MAX_CONFIG_SHOWN => {
                self.blob_bytes(repo, &digest, size).await.ok()
            }
            _ => None,
        };
        let tags = self.db.tags_of_manifest(manifest.id).await?;
        let referrers = self
            .db
            .referrers(manifest.repository_id, &manifest.digest)
            .await?;
        Ok(PortalManifest {
            manifest,
            config,
            tags,
            referrers,
        })
    }

    /// A small blob's bytes, read whole.
    async fn blob_bytes(
        &self,
        repo: &RepositoryName,
        digest: &crate::domain::Digest,
        size: u64,
    ) -> Result<Vec<u8>> {
        use futures_util::TryStreamExt;
        let stream = self.read_blob(repo, digest, 0, size).await?;
        let chunks: Vec<bytes::Bytes> = stream.try_collect().await?;
        let mut out = Vec::with_capacity(size as usize);
        for c in chunks {
            out.extend_from_slice(&c);
        }
        Ok(out)
    }

    /// Deletes a tag after the person typed its name, if they may delete in the
    /// repository. The check of the typed name is the server's, not only the dialog's.
    pub async fn delete_tag_confirmed(
        &self,
        user_id: i64,
        repo: &RepositoryName,
        tag: &crate::domain::TagName,
        typed: &str,
    ) -> Result<()> {
        let actor = self
            .require(user_id, repo, crate::domain::Action::Delete)
            .await?;
        if typed.trim() != tag.as_str() {
            return Err(Error::Invalid(crate::services::Invalid::Request(format!(
                "Type the tag's name, {tag}, to confirm."
            ))));
        }
        self.delete_manifest(repo, &crate::domain::Reference::Tag(tag.clone()), &actor)
            .await
    }
}

impl Services {
    /// Deletes a whole repository after the person typed its full name, if they are an
    /// admin of its account (or a site admin).
    pub async fn delete_repository_confirmed(
        &self,
        user_id: i64,
        repo: &RepositoryName,
        typed: &str,
    ) -> Result<()> {
        if typed.trim() != repo.as_str() {
            return Err(Error::Invalid(crate::services::Invalid::Request(format!(
                "Type the repository's full name, {repo}, to confirm."
            ))));
        }
        self.delete_repositories(user_id, std::slice::from_ref(repo))
            .await
    }

    /// Deletes several repositories after the person typed how many, if they are an
    /// admin of every one's account. Nothing is deleted unless all may be.
    pub async fn delete_repositories_confirmed(
        &self,
        user_id: i64,
        repos: &[RepositoryName],
        typed: &str,
    ) -> Result<()> {
        // One repository is confirmed by its full name, as on its own page; two or
        // more by how many.
        let (expected, ask) = match repos {
            [one] => (
                one.to_string(),
                format!("Type the repository's name, {one}, to confirm."),
            ),
            _ => (
                repos.len().to_string(),
                format!(
                    "Type the number of repositories, {}, to confirm.",
                    repos.len()
                ),
            ),
        };
        if typed.trim() != expected {
            return Err(Error::Invalid(crate::services::Invalid::Request(ask)));
        }
        self.delete_repositories(user_id, repos).await
    }

    async fn delete_repositories(&self, user_id: i64, repos: &[RepositoryName]) -> Result<()> {
        let user = self
            .portal_user(user_id)
            .await?
            .ok_or(Error::Unauthenticated)?;
        let may_delete = |repo: &RepositoryName| {
            let ns = repo.namespace().unwrap_or_default();
            user.site_admin
                || user
                    .accounts
                    .iter()
                    .any(|(a, role)| a == ns && *role == crate::domain::Role::Admin)
        };
        if repos.is_empty() || !repos.iter().all(may_delete) {
            return Err(Error::Forbidden);
        }
        let mut found = Vec::with_capacity(repos.len());
        for repo in repos {
            found.push(self.repository(repo).await?);
        }
        for (repo, r) in repos.iter().zip(found) {
            self.remove_repository(&r, &user.username).await?;
            self.audit(
                Some(r.account_id),
                &user.username,
                "repository.delete",
                Some(repo.as_str()),
                None,
            )
            .await;
        }
        Ok(())
    }
}
