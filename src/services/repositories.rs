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
        page: u64,
        per_page: u64,
    ) -> Result<(Vec<crate::db::RepositorySummary>, u64)> {
        let (account, _) = self.member_of(user_id, account).await?;
        let per_page = per_page.clamp(1, MAX_PORTAL_PAGE);
        let offset = page.saturating_sub(1).saturating_mul(per_page);
        Ok(self
            .db
            .repository_page(account.id, filter, offset, per_page)
            .await?)
    }
}

/// A tag as the portal shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagSummary {
    pub name: String,
    pub digest: String,
    /// "image", "index" or "artifact".
    pub kind: &'static str,
    /// Config plus layers of an image; `None` for an index.
    pub size: Option<u64>,
    pub pushed_at: i64,
}

impl Services {
    /// The principal of a signed-in portal user.
    pub fn portal_principal(
        &self,
        user: &crate::services::sessions::PortalUser,
    ) -> crate::services::access::Principal {
        crate::services::access::Principal {
            name: user.username.clone(),
            user_id: Some(user.id),
            credential_id: None,
            node_account_id: None,
            ceiling: None,
        }
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

    /// The tags of a repository the user may pull.
    pub async fn repository_tags(
        &self,
        user_id: i64,
        repo: &RepositoryName,
    ) -> Result<Vec<TagSummary>> {
        self.require(user_id, repo, crate::domain::Action::Pull)
            .await?;
        let r = self.repository(repo).await?;
        Ok(self
            .db
            .tag_details(r.id)
            .await?
            .into_iter()
            .map(|t| {
                let value: serde_json::Value =
                    serde_json::from_slice(&t.content).unwrap_or_default();
                let index = crate::domain::media::is_index(&t.media_type);
                let config_type = value["config"]["mediaType"].as_str().unwrap_or_default();
                let image_config = config_type == "application/vnd.oci.image.config.v1+json"
                    || config_type == "application/vnd.docker.container.image.v1+json";
                let kind = if index {
                    "index"
                } else if image_config && value.get("artifactType").is_none() {
                    "image"
                } else {
                    "artifact"
                };
                let size = (!index).then(|| {
                    let layers: u64 = value["layers"]
                        .as_array()
                        .map(|l| l.iter().filter_map(|d| d["size"].as_u64()).sum())
                        .unwrap_or(0);
                    layers + value["config"]["size"].as_u64().unwrap_or(0)
                });
                TagSummary {
                    name: t.name,
                    digest: t.digest,
                    kind,
                    size,
                    pushed_at: t.updated_at,
                }
            })
            .collect())
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
        let user = self
            .portal_user(user_id)
            .await?
            .ok_or(Error::Unauthenticated)?;
        let ns = repo.namespace().ok_or(Error::Forbidden)?;
        let admin = user.site_admin
            || user
                .accounts
                .iter()
                .any(|(a, role)| a == ns && *role == crate::domain::Role::Admin);
        if !admin {
            return Err(Error::Forbidden);
        }
        if typed.trim() != repo.as_str() {
            return Err(Error::Invalid(crate::services::Invalid::Request(format!(
                "Type the repository's full name, {repo}, to confirm."
            ))));
        }
        let r = self.repository(repo).await?;
        self.db.delete_repository(r.id).await?;
        self.audit(
            Some(r.account_id),
            &user.username,
            "repository.delete",
            Some(repo.as_str()),
            None,
        )
        .await;
        Ok(())
    }
}
