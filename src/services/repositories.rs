//! Repositories: lookup, implicit creation on push, catalog and search.

use super::access::{Caller, Permission, Resource};
use super::{Error, Result, Services, Thing, now_ms};
use crate::db::Repository;
use crate::domain::{RepositoryName, Visibility};

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
            .ensure_repository(
                account.id,
                name.as_str(),
                account.public_by_default,
                now_ms(),
            )
            .await?)
    }

    /// Repository names the caller may pull, after `last`, at most `n`.
    pub async fn catalog(
        &self,
        caller: &Caller,
        last: Option<&str>,
        n: u64,
    ) -> Result<Vec<String>> {
        let accounts = self.visible_accounts(caller).await?;
        Ok(self
            .db
            .repository_names(accounts.as_deref(), last, n)
            .await?)
    }

    /// Repositories the caller may pull whose name contains `query`.
    pub async fn search(&self, caller: &Caller, query: &str, n: u64) -> Result<Vec<String>> {
        let accounts = self.visible_accounts(caller).await?;
        Ok(self
            .db
            .search_repositories(accounts.as_deref(), query, n)
            .await?)
    }
}

/// A repository's tags as its page shows them.
pub struct RepositoryTags {
    pub tags: Vec<crate::db::TagDetail>,
    /// Bytes of the distinct blobs it holds.
    pub size: u64,
    /// The names of its immutable tags.
    pub immutable: std::collections::HashSet<String>,
}

/// Whether a repository is public and what a caller may do to it.
pub struct RepositoryRights {
    pub public: bool,
    pub may_delete: bool,
    pub may_administer: bool,
}

/// Image configs larger than this are not read for the Tag page.
const MAX_CONFIG_SHOWN: u64 = 1024 * 1024;

/// What the Tag page shows of a manifest.
pub struct ManifestDetail {
    pub manifest: crate::db::Manifest,
    pub config: Option<Vec<u8>>,
    pub tags: Vec<String>,
    pub referrers: Vec<crate::db::Manifest>,
}

/// Largest page of the portal's repository list.
pub const MAX_PORTAL_PAGE: u64 = 100;

impl Services {
    /// A page (from 1) of an account's repositories, for those who may see the account.
    pub async fn account_repositories(
        &self,
        caller: &Caller,
        account: &crate::domain::AccountName,
        filter: &str,
        order: crate::domain::RepositoryOrder,
        page: u64,
        per_page: u64,
    ) -> Result<(Vec<crate::db::RepositorySummary>, u64)> {
        let grant = self
            .decide(caller, Permission::View, Resource::Account(account))
            .await?;
        let account = grant.account.ok_or(Error::Forbidden)?;
        let per_page = per_page.clamp(1, MAX_PORTAL_PAGE);
        let offset = page.saturating_sub(1).saturating_mul(per_page);
        Ok(self
            .db
            .repository_page(
                crate::db::RepositorySet::Account(account.id),
                filter,
                order,
                offset,
                per_page,
            )
            .await?)
    }

    /// A page (from 1) of every public repository, for anyone (the Explore page).
    pub async fn public_repositories(
        &self,
        filter: &str,
        order: crate::domain::RepositoryOrder,
        page: u64,
        per_page: u64,
    ) -> Result<(Vec<crate::db::RepositorySummary>, u64)> {
        let per_page = per_page.clamp(1, MAX_PORTAL_PAGE);
        let offset = page.saturating_sub(1).saturating_mul(per_page);
        Ok(self
            .db
            .repository_page(
                crate::db::RepositorySet::Public,
                filter,
                order,
                offset,
                per_page,
            )
            .await?)
    }

    /// Whether a repository the caller may see is public, and what else they may do
    /// to it.
    pub async fn repository_rights(
        &self,
        caller: &Caller,
        repo: &RepositoryName,
    ) -> Result<RepositoryRights> {
        self.decide(caller, Permission::Pull, Resource::Repository(repo))
            .await?;
        let public = self.repository(repo).await?.public;
        let may = |permission| async move {
            match self
                .decide(caller, permission, Resource::Repository(repo))
                .await
            {
                Ok(_) => Ok(true),
                Err(Error::Forbidden | Error::Unauthenticated) => Ok(false),
                Err(e) => Err(e),
            }
        };
        Ok(RepositoryRights {
            public,
            may_delete: may(Permission::Delete).await?,
            may_administer: may(Permission::Administer).await?,
        })
    }

    /// Makes a repository public or private, for its account's admins and the
    /// operator. Audited.
    pub async fn set_repository_visibility(
        &self,
        caller: &Caller,
        repo: &RepositoryName,
        visibility: Visibility,
    ) -> Result<()> {
        let grant = self
            .decide(caller, Permission::Administer, Resource::Repository(repo))
            .await?;
        let r = self.repository(repo).await?;
        self.db
            .set_repository_public(r.id, visibility.is_public())
            .await?;
        self.audit(
            Some(r.account_id),
            &grant.actor,
            "repository.visibility",
            Some(repo.as_str()),
            Some(visibility.as_str().to_owned()),
        )
        .await;
        Ok(())
    }

    /// Whether an account's new repositories start public or private, for its admins
    /// and the operator. Audited.
    pub async fn set_default_visibility(
        &self,
        caller: &Caller,
        account: &crate::domain::AccountName,
        visibility: Visibility,
    ) -> Result<()> {
        let grant = self
            .decide(caller, Permission::Administer, Resource::Account(account))
            .await?;
        let a = grant.account.ok_or(Error::Forbidden)?;
        self.db
            .set_public_by_default(a.id, visibility.is_public())
            .await?;
        self.audit(
            Some(a.id),
            &grant.actor,
            "account.visibility",
            None,
            Some(format!("new repositories are {}", visibility.as_str())),
        )
        .await;
        Ok(())
    }
}

impl Services {
    /// The tags of a repository the caller may pull, with their manifests, the bytes
    /// it holds and which of its tags are immutable.
    pub async fn repository_tags(
        &self,
        caller: &Caller,
        repo: &RepositoryName,
    ) -> Result<RepositoryTags> {
        self.decide(caller, Permission::Pull, Resource::Repository(repo))
            .await?;
        let r = self.repository(repo).await?;
        let tags = self.db.tag_details(r.id).await?;
        let names: Vec<String> = tags.iter().map(|t| t.name.clone()).collect();
        let immutable = self
            .frozen_tags(r.account_id, repo, &names)
            .await?
            .into_iter()
            .collect();
        Ok(RepositoryTags {
            tags,
            size: r.size_bytes.max(0) as u64,
            immutable,
        })
    }

    /// Manifests of a repository the caller may pull that no tag points at (untagged
    /// images and referrers), newest first, at most 200.
    pub async fn repository_untagged(
        &self,
        caller: &Caller,
        repo: &RepositoryName,
    ) -> Result<Vec<crate::db::Manifest>> {
        self.decide(caller, Permission::Pull, Resource::Repository(repo))
            .await?;
        let r = self.repository(repo).await?;
        Ok(self.db.untagged_manifests(r.id, 200).await?)
    }

    /// A manifest for the portal's Tag page: the manifest, its image config's bytes
    /// (when it is an image whose config is at most 1 MiB), the tags pointing at it
    /// and its referrers.
    pub async fn manifest_detail(
        &self,
        caller: &Caller,
        repo: &RepositoryName,
        reference: &crate::domain::Reference,
    ) -> Result<ManifestDetail> {
        self.decide(caller, Permission::Pull, Resource::Repository(repo))
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
        Ok(ManifestDetail {
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

    /// Deletes a tag (to the trash) after the person typed its name, if they may
    /// delete in the repository. The check of the typed name is the server's, not only
    /// the dialog's.
    pub async fn delete_tag(
        &self,
        caller: &Caller,
        repo: &RepositoryName,
        tag: &crate::domain::TagName,
        typed: &str,
    ) -> Result<()> {
        let grant = self
            .decide(caller, Permission::Delete, Resource::Repository(repo))
            .await?;
        if typed.trim() != tag.as_str() {
            return Err(Error::Invalid(crate::services::Invalid::Request(format!(
                "Type the tag's name, {tag}, to confirm."
            ))));
        }
        self.delete_manifest(
            repo,
            &crate::domain::Reference::Tag(tag.clone()),
            &grant.actor,
        )
        .await
    }
}

impl Services {
    /// Deletes whole repositories (to the trash) after the person typed the name of
    /// the one, or how many, if they administer every one's account. Nothing is
    /// deleted unless all may be.
    pub async fn delete_repositories(
        &self,
        caller: &Caller,
        repos: &[RepositoryName],
        typed: &str,
    ) -> Result<()> {
        if repos.is_empty() {
            return Err(Error::Forbidden);
        }
        let mut actors = Vec::with_capacity(repos.len());
        for repo in repos {
            let grant = self
                .decide(caller, Permission::Administer, Resource::Repository(repo))
                .await?;
            actors.push(grant.actor);
        }
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
        let mut found = Vec::with_capacity(repos.len());
        for (repo, actor) in repos.iter().zip(actors) {
            found.push((self.repository(repo).await?, actor));
        }
        for (repo, (r, actor)) in repos.iter().zip(found) {
            let mut facts = super::webhooks::EventFacts::new(
                crate::domain::EventKind::Delete,
                r.account_id,
                &actor,
            );
            facts.repository = Some(repo);
            let events = [facts.event(now_ms())];
            self.remove_repository(&r, repo, &actor, &events).await?;
            self.events_written();
            self.audit(
                Some(r.account_id),
                &actor,
                "repository.delete",
                Some(repo.as_str()),
                None,
            )
            .await;
        }
        Ok(())
    }
}
