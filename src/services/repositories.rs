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
        let account = self.account(account).await.map_err(|_| Error::Forbidden)?;
        let user = self
            .db
            .user_by_id(user_id)
            .await?
            .ok_or(Error::Unauthenticated)?;
        if !user.site_admin && self.db.membership(account.id, user_id).await?.is_none() {
            return Err(Error::Forbidden);
        }
        let per_page = per_page.clamp(1, MAX_PORTAL_PAGE);
        let offset = page.saturating_sub(1).saturating_mul(per_page);
        Ok(self
            .db
            .repository_page(account.id, filter, offset, per_page)
            .await?)
    }
}
