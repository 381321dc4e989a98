//! The app's ports, implemented over the services. Service errors become words for
//! people here, once; internal causes are logged.

use crate::domain::{AccountName, RepositoryName, TagName};
use crate::services::{Error, Services};
use app::model::{AccountRole, RepositoryRow, SessionUser, SignInRefusal, TagRow};
use app::server::{AuthPort, CredentialPort, Refusal, RepositoryPort};
use std::net::IpAddr;

pub struct ServicePorts(pub Services);

/// What a person is told when something goes wrong.
pub fn refusal(e: Error) -> Refusal {
    match e {
        Error::Unauthenticated => "Please sign in.".into(),
        Error::TooManyRequests => {
            "Too many failed attempts. Wait a few minutes and try again.".into()
        }
        Error::Forbidden | Error::NotFound(_) => "You do not have access to that.".into(),
        Error::Conflict(m) => m,
        Error::Invalid(i) => i.to_string(),
        Error::Internal(cause) => {
            tracing::error!(error = ?cause, "portal request failed");
            "Something went wrong on our side. Please try again.".into()
        }
    }
}

#[async_trait::async_trait]
impl AuthPort for ServicePorts {
    async fn sign_in(
        &self,
        username: &str,
        password: &str,
        client: Option<IpAddr>,
    ) -> Result<i64, SignInRefusal> {
        let p = match self.0.authenticate(username, password, client).await {
            Ok(p) => p,
            Err(Error::TooManyRequests) => return Err(SignInRefusal::TooManyAttempts),
            Err(Error::Internal(cause)) => {
                tracing::error!(error = ?cause, "portal sign-in failed");
                return Err(SignInRefusal::Unavailable);
            }
            Err(_) => return Err(SignInRefusal::BadCredentials),
        };
        // Only people sign in to the portal, with their password.
        match (p.user_id, p.credential_id) {
            (Some(id), None) => {
                self.0
                    .audit(None, &p.name, "portal.sign_in", None, None)
                    .await;
                Ok(id)
            }
            _ => Err(SignInRefusal::BadCredentials),
        }
    }

    async fn user(&self, user_id: i64) -> Option<SessionUser> {
        let u = self.0.portal_user(user_id).await.ok().flatten()?;
        Some(SessionUser {
            username: u.username,
            site_admin: u.site_admin,
            accounts: u
                .accounts
                .into_iter()
                .map(|(account, role)| AccountRole {
                    account,
                    role: role.as_str().to_owned(),
                })
                .collect(),
        })
    }
}

#[async_trait::async_trait]
impl RepositoryPort for ServicePorts {
    async fn list(
        &self,
        user_id: i64,
        account: &str,
        filter: &str,
        page: u64,
        per_page: u64,
        host: &str,
    ) -> Result<(Vec<RepositoryRow>, u64), Refusal> {
        let account = AccountName::parse(account).map_err(|_| refusal(Error::Forbidden))?;
        let (rows, total) = self
            .0
            .account_repositories(user_id, &account, filter, page, per_page)
            .await
            .map_err(refusal)?;
        Ok((
            rows.into_iter()
                .map(|r| RepositoryRow {
                    pull_uri: format!("{host}/{}", r.name),
                    name: r.name,
                    tags: r.tags,
                    size: r.size,
                    pushed_at_ms: r.pushed_at,
                })
                .collect(),
            total,
        ))
    }

    async fn tags(&self, user_id: i64, repository: &str) -> Result<Vec<TagRow>, Refusal> {
        let repo = RepositoryName::parse(repository).map_err(|_| refusal(Error::Forbidden))?;
        let tags = self
            .0
            .repository_tags(user_id, &repo)
            .await
            .map_err(refusal)?;
        Ok(tags
            .into_iter()
            .map(|t| TagRow {
                name: t.name,
                digest: t.digest,
                kind: t.kind.to_owned(),
                size: t.size,
                pushed_at_ms: t.pushed_at,
            })
            .collect())
    }

    async fn delete_repository(
        &self,
        user_id: i64,
        repository: &str,
        typed: &str,
    ) -> Result<(), Refusal> {
        let repo = RepositoryName::parse(repository).map_err(|_| refusal(Error::Forbidden))?;
        self.0
            .delete_repository_confirmed(user_id, &repo, typed)
            .await
            .map_err(refusal)
    }

    async fn delete_tag(
        &self,
        user_id: i64,
        repository: &str,
        tag: &str,
        typed: &str,
    ) -> Result<(), Refusal> {
        let repo = RepositoryName::parse(repository).map_err(|_| refusal(Error::Forbidden))?;
        let tag = TagName::parse(tag).map_err(|_| refusal(Error::Forbidden))?;
        self.0
            .delete_tag_confirmed(user_id, &repo, &tag, typed)
            .await
            .map_err(refusal)
    }
}

#[async_trait::async_trait]
impl CredentialPort for ServicePorts {
    async fn docker_login(
        &self,
        user_id: i64,
        account: &str,
    ) -> Result<(String, String, i64), Refusal> {
        let account = AccountName::parse(account).map_err(|_| refusal(Error::Forbidden))?;
        let user = self
            .0
            .portal_user(user_id)
            .await
            .map_err(refusal)?
            .ok_or_else(|| refusal(Error::Unauthenticated))?;
        let new = self
            .0
            .create_login_token(user_id, &account)
            .await
            .map_err(refusal)?;
        Ok((
            user.username,
            new.secret,
            new.credential.expires_at.unwrap_or_default(),
        ))
    }
}
