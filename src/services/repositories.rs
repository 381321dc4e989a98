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
