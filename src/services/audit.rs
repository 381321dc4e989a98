//! Recording who did what. A failure to record is logged but never fails the action
//! that already happened.

use super::{Services, now_ms};
use crate::db::NewAuditEvent;

tokio::task_local! {
    /// The client of the request being served (after trusted proxies), set around
    /// every request so that each audit event records where it came from without
    /// every service call passing it along.
    pub static CLIENT: std::net::IpAddr;
}

/// The client of the current request, when there is one (not for the CLI).
pub fn current_client() -> Option<std::net::IpAddr> {
    CLIENT.try_with(|c| *c).ok()
}

impl Services {
    /// Records an event; one about a repository of an account is also announced to
    /// live portal pages.
    pub async fn audit(
        &self,
        account_id: Option<i64>,
        actor: &str,
        action: &str,
        repository: Option<&str>,
        detail: Option<String>,
    ) {
        let r = self
            .db
            .record_audit(NewAuditEvent {
                account_id,
                actor,
                action,
                repository,
                detail,
                client: current_client().map(|c| c.to_string()),
                created_at: now_ms(),
            })
            .await;
        if let Err(e) = r {
            tracing::error!(error = %e, action, "could not record audit event");
        }
        let repository_change = action.starts_with("manifest.")
            || action.starts_with("tag.")
            || action.starts_with("repository.")
            || action.starts_with("trash.");
        if let (Some(account_id), Some(repository), true) =
            (account_id, repository, repository_change)
        {
            self.changes.announce(super::changes::Change {
                account_id,
                repository: repository.to_owned(),
                action: action.to_owned(),
            });
        }
    }
}

/// Events per page of the Activity page.
pub const ACTIVITY_PAGE: u64 = 50;

impl Services {
    /// A page (from 1) of an account's audit log for its members, newest first.
    /// `kind` is one of push, delete, login, credentials (anything else: all).
    pub async fn account_activity(
        &self,
        caller: &super::access::Caller,
        account: &crate::domain::AccountName,
        kind: &str,
        repository: Option<&crate::domain::RepositoryName>,
        page: u64,
    ) -> super::Result<(Vec<crate::db::AuditEvent>, u64)> {
        let account = self
            .decide(
                caller,
                super::access::Permission::View,
                super::access::Resource::Account(account),
            )
            .await?
            .account
            .ok_or(super::Error::Forbidden)?;
        let offset = page.saturating_sub(1).saturating_mul(ACTIVITY_PAGE);
        let repository = repository.map(|r| r.as_str());
        let prefixes: &[&str] = match kind {
            "push" => &["manifest.push"],
            "delete" => &[
                "tag.delete",
                "manifest.delete",
                "blob.delete",
                "repository.delete",
            ],
            "login" => &["login", "portal.sign_in"],
            "credentials" => &["token.", "node.", "login_token.", "user.", "account."],
            _ => &[],
        };
        Ok(self
            .db
            .audit_page(account.id, prefixes, repository, offset, ACTIVITY_PAGE)
            .await?)
    }
}
