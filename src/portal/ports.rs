//! The app's ports, implemented over the services. Service errors become words for
//! people here, once; internal causes are logged.

use crate::domain::{
    AccountName, EventSet, NodeName, Reference, RepositoryGlob, RepositoryName, Role, TagName,
    TagPattern, TokenAccess, Username, Visibility,
};
use crate::services::access::Caller;
use crate::services::webhooks::Hook;
use crate::services::{Error, Services};
use app::model::{
    AccountRole, AccountRow, ActivityLog, ActivityRow, CreatedNode, CreatedToken, CreatedWebhook,
    DeliveryRow, ImmutabilityRow, ManifestDetail, ManifestSummary, MemberRow, NodeRow, RemovalRow,
    RepositoryRow, RepositoryStanding, RetentionFields, RetentionPreview, RetentionRow,
    SessionUser, SignInRefusal, TagRow, TokenRow, TrashRow, UntaggedRow, WebhookDeliveries,
    WebhookRow,
};
use app::server::{
    AccountPort, ActivityPort, AuthPort, CredentialPort, Refusal, RepositoryPort, RepositoryQuery,
    WebhookPort,
};
use std::net::IpAddr;

pub struct ServicePorts(pub Services);

/// The caller behind a portal session: the person signed in.
fn person(user_id: i64) -> Caller {
    Caller::User { user_id }
}

/// The caller of a page that visitors without a session may read too.
fn visitor(user_id: Option<i64>) -> Caller {
    user_id.map_or(Caller::Anonymous, person)
}

fn repository_rows(rows: Vec<crate::db::RepositorySummary>, host: &str) -> Vec<RepositoryRow> {
    rows.into_iter()
        .map(|r| RepositoryRow {
            pull_uri: format!("{host}/{}", r.name),
            name: r.name,
            tags: r.tags,
            size: r.size,
            pushed_at_ms: r.pushed_at,
            public: r.public,
        })
        .collect()
}

/// What a person is told when something goes wrong.
pub fn refusal(e: Error) -> Refusal {
    match e {
        Error::Unauthenticated => Refusal::sign_in(),
        Error::TooManyRequests { retry_after } => Refusal::new(
            429,
            format!(
                "Too many failed attempts. Wait {} and try again.",
                app::model::human_wait(retry_after.as_secs().max(1))
            ),
        ),
        // Another account's things are not even said to exist.
        Error::Forbidden | Error::NotFound(_) => Refusal::no_access(),
        Error::Conflict(m) => Refusal::new(409, m),
        Error::Denied(m) => Refusal::new(403, m),
        Error::StorageFull => Refusal::new(507, "The registry's storage is full."),
        Error::QuotaExceeded { used, quota } => Refusal::new(
            403,
            format!(
                "The account's storage quota is exceeded ({} of {} used).",
                app::model::human_size(used),
                app::model::human_size(quota)
            ),
        ),
        Error::Invalid(i) => Refusal::new(400, i.to_string()),
        Error::Internal(cause) => {
            tracing::error!(error = ?cause, "portal request failed");
            Refusal::new(500, "Something went wrong on our side. Please try again.")
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
            Err(Error::TooManyRequests { .. }) => return Err(SignInRefusal::TooManyAttempts),
            Err(Error::Denied(_)) => return Err(SignInRefusal::Disabled),
            Err(Error::Internal(cause)) => {
                tracing::error!(error = ?cause, "portal sign-in failed");
                return Err(SignInRefusal::Unavailable);
            }
            Err(_) => return Err(SignInRefusal::BadCredentials),
        };
        // Only people sign in to the portal, with their password; with single sign-on,
        // only site admins (unless passwords are off).
        match (p.user_id, p.credential_id) {
            (Some(id), None) => {
                let user = match self.0.db.user_by_id(id).await {
                    Ok(Some(u)) => u,
                    Ok(None) => return Err(SignInRefusal::BadCredentials),
                    Err(e) => {
                        tracing::error!(error = %e, "portal sign-in failed");
                        return Err(SignInRefusal::Unavailable);
                    }
                };
                if !self.0.password_sign_in_allowed(&user) {
                    return Err(SignInRefusal::PasswordOff);
                }
                self.0
                    .audit(None, &p.name, "portal.sign_in", None, None)
                    .await;
                Ok(id)
            }
            _ => Err(SignInRefusal::BadCredentials),
        }
    }

    async fn create_first_admin(
        &self,
        token: &str,
        username: &Username,
        password: &str,
    ) -> Result<i64, Refusal> {
        match self.0.finish_setup(token, username, password).await {
            Ok(user) => Ok(user.id),
            Err(Error::Forbidden) => Err(Refusal::new(
                403,
                "This setup link is no longer valid. Ask your administrator for an account.",
            )),
            Err(e) => Err(refusal(e)),
        }
    }

    fn sign_in_options(&self) -> app::model::SignInOptions {
        let sso = self.0.sso_name();
        let password = match &self.0.sso {
            None => true,
            Some(s) => s.settings().password_sign_in,
        };
        app::model::SignInOptions { sso, password }
    }

    async fn end_session_url(&self, id_token: &str) -> Option<String> {
        self.0.end_session_url(id_token).await
    }

    async fn user(&self, user_id: i64) -> Option<SessionUser> {
        let u = self.0.portal_user(user_id).await.ok().flatten()?;
        let site_admins = if u.accounts.is_empty() && !u.site_admin {
            self.0.site_admin_names().await.unwrap_or_default()
        } else {
            Vec::new()
        };
        Some(SessionUser {
            site_admins,
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
        account: &AccountName,
        q: &RepositoryQuery<'_>,
        host: &str,
    ) -> Result<(Vec<RepositoryRow>, u64), Refusal> {
        let (rows, total) = self
            .0
            .account_repositories(
                &person(user_id),
                account,
                q.filter,
                q.order,
                q.page,
                q.per_page,
            )
            .await
            .map_err(refusal)?;
        Ok((repository_rows(rows, host), total))
    }

    async fn explore(
        &self,
        q: &RepositoryQuery<'_>,
        host: &str,
    ) -> Result<(Vec<RepositoryRow>, u64), Refusal> {
        let (rows, total) = self
            .0
            .public_repositories(q.filter, q.order, q.page, q.per_page)
            .await
            .map_err(refusal)?;
        Ok((repository_rows(rows, host), total))
    }

    async fn tags(
        &self,
        user_id: Option<i64>,
        repo: &RepositoryName,
    ) -> Result<(Vec<TagRow>, u64), Refusal> {
        let found = self
            .0
            .repository_tags(&visitor(user_id), repo)
            .await
            .map_err(refusal)?;
        let rows = found
            .tags
            .into_iter()
            .map(|t| TagRow {
                manifest: ManifestSummary::of(&t.digest, &t.media_type, &t.content),
                immutable: found.immutable.contains(&t.name),
                name: t.name,
                pushed_at_ms: t.updated_at,
                pulled_at_ms: self.0.last_pulled(t.manifest_id, t.pulled_at),
            })
            .collect();
        Ok((rows, found.size))
    }

    async fn untagged(
        &self,
        user_id: Option<i64>,
        repo: &RepositoryName,
    ) -> Result<Vec<UntaggedRow>, Refusal> {
        let rows = self
            .0
            .repository_untagged(&visitor(user_id), repo)
            .await
            .map_err(refusal)?;
        Ok(rows
            .into_iter()
            .map(|m| UntaggedRow {
                manifest: ManifestSummary::of(&m.digest, &m.media_type, &m.content),
                pushed_at_ms: m.created_at,
                pulled_at_ms: self.0.last_pulled(m.id, m.pulled_at),
            })
            .collect())
    }

    async fn standing(
        &self,
        user_id: Option<i64>,
        repo: &RepositoryName,
    ) -> Result<RepositoryStanding, Refusal> {
        let r = self
            .0
            .repository_rights(&visitor(user_id), repo)
            .await
            .map_err(refusal)?;
        Ok(RepositoryStanding {
            public: r.public,
            may_delete: r.may_delete,
            may_administer: r.may_administer,
        })
    }

    async fn set_visibility(
        &self,
        user_id: i64,
        repo: &RepositoryName,
        visibility: Visibility,
        typed: &str,
    ) -> Result<(), Refusal> {
        // Making one public shows it to everyone, so it is confirmed by its name.
        if visibility.is_public() && typed.trim() != repo.as_str() {
            return Err(Refusal::new(
                400,
                format!("Type the repository's name, {repo}, to make it public."),
            ));
        }
        self.0
            .set_repository_visibility(&person(user_id), repo, visibility)
            .await
            .map_err(refusal)
    }

    async fn manifest(
        &self,
        user_id: Option<i64>,
        repo: &RepositoryName,
        reference: &Reference,
        host: &str,
    ) -> Result<ManifestDetail, Refusal> {
        let not_found = || Refusal::new(404, "There is no such tag or manifest.");
        let found = match self
            .0
            .manifest_detail(&visitor(user_id), repo, reference)
            .await
        {
            Err(Error::NotFound(_)) => return Err(not_found()),
            other => other.map_err(refusal)?,
        };
        let m = &found.manifest;
        let tag = match &reference {
            Reference::Tag(t) => Some(t.as_str()),
            Reference::Digest(_) => None,
        };
        let mut detail = ManifestDetail::of(
            repo.as_str(),
            tag,
            &m.digest,
            &m.media_type,
            &m.content,
            found.config.as_deref(),
            host,
        );
        detail.tags = found.tags;
        detail.referrers = found
            .referrers
            .iter()
            .map(|r| ManifestSummary::of(&r.digest, &r.media_type, &r.content))
            .collect();
        Ok(detail)
    }

    async fn delete_repository(
        &self,
        user_id: i64,
        repo: &RepositoryName,
        typed: &str,
    ) -> Result<(), Refusal> {
        self.0
            .delete_repositories(&person(user_id), std::slice::from_ref(repo), typed)
            .await
            .map_err(refusal)
    }

    async fn delete_repositories(
        &self,
        user_id: i64,
        repositories: &[RepositoryName],
        typed: &str,
    ) -> Result<(), Refusal> {
        self.0
            .delete_repositories(&person(user_id), repositories, typed)
            .await
            .map_err(refusal)
    }

    async fn delete_tag(
        &self,
        user_id: i64,
        repo: &RepositoryName,
        tag: &TagName,
        typed: &str,
    ) -> Result<(), Refusal> {
        self.0
            .delete_tag(&person(user_id), repo, tag, typed)
            .await
            .map_err(refusal)
    }
}

#[async_trait::async_trait]
impl CredentialPort for ServicePorts {
    async fn nodes(&self, user_id: i64, account: &AccountName) -> Result<Vec<NodeRow>, Refusal> {
        Ok(self
            .0
            .account_nodes(&person(user_id), account)
            .await
            .map_err(refusal)?
            .into_iter()
            .map(|c| NodeRow {
                id: c.id,
                username: format!("{account}+{}", c.name),
                name: c.name,
                created_at_ms: c.created_at,
                last_used_at_ms: c.last_used_at,
                revoked: c.revoked_at.is_some(),
            })
            .collect())
    }

    async fn create_node(
        &self,
        user_id: i64,
        account: &AccountName,
        name: &NodeName,
    ) -> Result<CreatedNode, Refusal> {
        let new = self
            .0
            .create_node(&person(user_id), name, account)
            .await
            .map_err(refusal)?;
        Ok(CreatedNode {
            username: format!("{account}+{name}"),
            secret: new.secret,
        })
    }

    async fn revoke_node(
        &self,
        user_id: i64,
        account: &AccountName,
        id: i64,
    ) -> Result<(), Refusal> {
        self.0
            .revoke_node(&person(user_id), account, id)
            .await
            .map_err(refusal)
    }

    async fn tokens(&self, user_id: i64) -> Result<Vec<TokenRow>, Refusal> {
        Ok(self
            .0
            .user_tokens(&person(user_id))
            .await
            .map_err(refusal)?
            .into_iter()
            .map(|(c, account)| TokenRow {
                id: c.id,
                kind: c.kind,
                account,
                name: c.name,
                access: c.access,
                created_at_ms: c.created_at,
                expires_at_ms: c.expires_at,
                last_used_at_ms: c.last_used_at,
                revoked: c.revoked_at.is_some(),
            })
            .collect())
    }

    async fn create_token(
        &self,
        user_id: i64,
        label: &str,
        access: TokenAccess,
        days: Option<u32>,
    ) -> Result<CreatedToken, Refusal> {
        let lifetime =
            days.map(|d| std::time::Duration::from_secs(u64::from(d.min(3650)) * 86_400));
        let user = self
            .0
            .portal_user(user_id)
            .await
            .map_err(refusal)?
            .ok_or_else(|| refusal(Error::Unauthenticated))?;
        let owner = Username::parse(&user.username).map_err(|e| e.0)?;
        let new = self
            .0
            .create_token(&person(user_id), &owner, label, access, lifetime)
            .await
            .map_err(refusal)?;
        Ok(CreatedToken {
            id: new.credential.id,
            secret: new.secret,
        })
    }

    async fn revoke_token(&self, user_id: i64, id: i64) -> Result<(), Refusal> {
        self.0
            .revoke_credential(&person(user_id), id)
            .await
            .map(|_| ())
            .map_err(refusal)
    }

    async fn docker_login(
        &self,
        user_id: i64,
        account: &AccountName,
    ) -> Result<(String, String, i64), Refusal> {
        let user = self
            .0
            .portal_user(user_id)
            .await
            .map_err(refusal)?
            .ok_or_else(|| refusal(Error::Unauthenticated))?;
        let new = self
            .0
            .create_login_token(&person(user_id), account)
            .await
            .map_err(refusal)?;
        Ok((
            user.username,
            new.secret,
            new.credential.expires_at.unwrap_or_default(),
        ))
    }
}

#[async_trait::async_trait]
impl ActivityPort for ServicePorts {
    async fn activity(
        &self,
        user_id: i64,
        account: &AccountName,
        kind: &str,
        repository: Option<&RepositoryName>,
        page: u64,
    ) -> Result<ActivityLog, Refusal> {
        let (rows, total) = self
            .0
            .account_activity(&person(user_id), account, kind, repository, page)
            .await
            .map_err(refusal)?;
        Ok(ActivityLog {
            rows: rows
                .into_iter()
                .map(|e| ActivityRow {
                    at_ms: e.created_at,
                    actor: e.actor,
                    action: e.action,
                    repository: e.repository,
                    detail: e.detail,
                    client: e.client,
                })
                .collect(),
            total,
            page,
            per_page: crate::services::audit::ACTIVITY_PAGE,
        })
    }
}

#[async_trait::async_trait]
impl AccountPort for ServicePorts {
    async fn immutability(
        &self,
        user_id: i64,
        account: &AccountName,
    ) -> Result<Vec<ImmutabilityRow>, Refusal> {
        let caller = person(user_id);
        let rules = self
            .0
            .immutability_rules(&caller, account)
            .await
            .map_err(refusal)?;
        let removable = self
            .0
            .decide(
                &caller,
                crate::services::access::Permission::Administer,
                crate::services::access::Resource::Site,
            )
            .await
            .is_ok();
        Ok(rules
            .into_iter()
            .map(|r| ImmutabilityRow {
                pattern: r.pattern,
                repository: (!r.repository.is_empty()).then_some(r.repository),
                created_at_ms: r.created_at,
                removable,
            })
            .collect())
    }

    async fn add_immutability(
        &self,
        user_id: i64,
        account: &AccountName,
        pattern: &TagPattern,
        repository: &str,
    ) -> Result<(), Refusal> {
        self.0
            .add_immutability(&person(user_id), account, pattern, Some(repository))
            .await
            .map_err(refusal)
    }

    async fn remove_immutability(
        &self,
        user_id: i64,
        account: &AccountName,
        pattern: &TagPattern,
        repository: &str,
    ) -> Result<(), Refusal> {
        self.0
            .remove_immutability(&person(user_id), account, pattern, Some(repository))
            .await
            .map_err(refusal)
    }

    async fn retention(
        &self,
        user_id: i64,
        account: &AccountName,
    ) -> Result<Vec<RetentionRow>, Refusal> {
        Ok(self
            .0
            .retention_policies(&person(user_id), account)
            .await
            .map_err(refusal)?
            .into_iter()
            .map(|p| RetentionRow {
                fields: retention_fields(p.repository.as_deref(), &p.policy),
                description: p.policy.describe(),
                updated_by: p.updated_by,
                updated_at_ms: p.updated_at,
            })
            .collect())
    }

    async fn preview_retention(
        &self,
        user_id: i64,
        account: &AccountName,
        repository: &str,
        policy: &crate::domain::RetentionPolicy,
    ) -> Result<RetentionPreview, Refusal> {
        let report = self
            .0
            .preview_retention(&person(user_id), account, Some(repository), policy)
            .await
            .map_err(refusal)?;
        Ok(RetentionPreview {
            fields: retention_fields(Some(repository.trim()), policy),
            description: policy.describe(),
            removals: report
                .removed
                .iter()
                .map(|r| RemovalRow {
                    repository: r.repository.clone(),
                    tag: r.tag.clone(),
                    digest: r.digest.clone(),
                    pushed_at_ms: r.pushed_at,
                    pulled_at_ms: r.pulled_at,
                    bytes: r.bytes,
                })
                .collect(),
            tags: report.tags,
            manifests: report.manifests,
            bytes: report.bytes,
        })
    }

    async fn save_retention(
        &self,
        user_id: i64,
        account: &AccountName,
        repository: &str,
        policy: &crate::domain::RetentionPolicy,
    ) -> Result<(), Refusal> {
        self.0
            .set_retention(&person(user_id), account, Some(repository), policy)
            .await
            .map_err(refusal)
    }

    async fn remove_retention(
        &self,
        user_id: i64,
        account: &AccountName,
        repository: &str,
    ) -> Result<(), Refusal> {
        self.0
            .unset_retention(&person(user_id), account, Some(repository))
            .await
            .map_err(refusal)
    }

    async fn members(
        &self,
        user_id: i64,
        account: &AccountName,
    ) -> Result<Vec<MemberRow>, Refusal> {
        Ok(self
            .0
            .account_members(&person(user_id), account)
            .await
            .map_err(refusal)?
            .into_iter()
            .map(|m| MemberRow {
                username: m.username,
                role: m.role.as_str().to_owned(),
                since_ms: m.since,
                sso_group: m.sso_group,
                synced_at_ms: m.synced_at,
                disabled: m.disabled,
            })
            .collect())
    }

    async fn add_member(
        &self,
        user_id: i64,
        account: &AccountName,
        username: &Username,
        role: Role,
        password: &str,
    ) -> Result<(), Refusal> {
        self.0
            .add_member(&person(user_id), account, username, role, Some(password))
            .await
            .map_err(refusal)
    }

    async fn remove_member(
        &self,
        user_id: i64,
        account: &AccountName,
        username: &Username,
    ) -> Result<(), Refusal> {
        self.0
            .remove_member(&person(user_id), account, username)
            .await
            .map_err(refusal)
    }

    async fn accounts(&self, user_id: i64) -> Result<Vec<AccountRow>, Refusal> {
        Ok(self
            .0
            .accounts_overview(&person(user_id))
            .await
            .map_err(refusal)?
            .into_iter()
            .map(|a| AccountRow {
                name: a.account.name,
                repositories: a.repositories,
                members: a.members,
                storage: a.storage,
                quota: a.account.quota_bytes.map(|q| q.max(0) as u64),
                created_at_ms: a.account.created_at,
            })
            .collect())
    }

    async fn create_account(&self, user_id: i64, name: &AccountName) -> Result<(), Refusal> {
        self.0
            .create_account(&person(user_id), name)
            .await
            .map(|_| ())
            .map_err(refusal)
    }

    async fn change_password(
        &self,
        user_id: i64,
        current: &str,
        new: &str,
        keep_session: Option<&str>,
    ) -> Result<(), Refusal> {
        self.0
            .change_own_password(&person(user_id), current, new, keep_session)
            .await
            .map_err(refusal)
    }

    async fn trash(&self, user_id: i64, account: &AccountName) -> Result<Vec<TrashRow>, Refusal> {
        Ok(self
            .0
            .account_trash(&person(user_id), account)
            .await
            .map_err(refusal)?
            .into_iter()
            .map(|e| TrashRow {
                digest: crate::db::trashed_manifest(&e),
                id: e.id,
                repository: e.repository,
                tag: e.tag,
                deleted_by: e.deleted_by,
                deleted_at_ms: e.deleted_at,
                expires_at_ms: e.expires_at,
                bytes: e.bytes.max(0) as u64,
            })
            .collect())
    }

    async fn restore(&self, user_id: i64, account: &AccountName, id: i64) -> Result<(), Refusal> {
        self.0
            .restore_from_trash(&person(user_id), account, id)
            .await
            .map_err(refusal)
    }

    async fn empty_trash(
        &self,
        user_id: i64,
        account: &AccountName,
        typed: &str,
    ) -> Result<u64, Refusal> {
        self.0
            .empty_trash(&person(user_id), account, typed)
            .await
            .map_err(refusal)
    }

    async fn set_quota(
        &self,
        user_id: i64,
        account: &AccountName,
        quota: Option<u64>,
    ) -> Result<(), Refusal> {
        self.0
            .set_quota(&person(user_id), account, quota)
            .await
            .map_err(refusal)
    }

    async fn collect_garbage(&self, user_id: i64) -> Result<String, Refusal> {
        let r = self
            .0
            .collect_garbage(&person(user_id), false)
            .await
            .map_err(refusal)?;
        use app::model::count;
        Ok(format!(
            "Freed {} of {} and {}; removed {}, {} and {}.",
            app::model::human_size(r.bytes),
            count(r.blobs, "blob"),
            count(r.manifests, "manifest"),
            count(r.uploads, "abandoned upload"),
            count(r.orphans, "orphaned file"),
            count(r.trash_entries, "expired trash entry")
        ))
    }
}

/// A policy as the Retention page's form holds it.
fn retention_fields(
    repository: Option<&str>,
    p: &crate::domain::RetentionPolicy,
) -> RetentionFields {
    use crate::domain::retention::format_period;
    RetentionFields {
        repository: repository.unwrap_or_default().to_owned(),
        keep_last: p.keep_last.map(|n| n.to_string()).unwrap_or_default(),
        keep_days: p.keep_within.map(format_period).unwrap_or_default(),
        tag: p.tag.as_ref().map(|t| t.to_string()).unwrap_or_default(),
        exclude: p
            .exclude
            .as_ref()
            .map(|t| t.to_string())
            .unwrap_or_default(),
        untagged_older_than: p.untagged_older_than.map(format_period).unwrap_or_default(),
    }
}

/// How many of a webhook's deliveries its page lists.
const DELIVERIES_SHOWN: u64 = 50;

fn webhook_row(w: crate::db::Webhook) -> WebhookRow {
    WebhookRow {
        id: w.id,
        url: w.url,
        events: w.events.split(',').map(str::to_owned).collect(),
        repository: w.repository_glob,
        tag: w.tag_glob,
        enabled: w.enabled,
        disabled_reason: w.disabled_reason,
        created_by: w.created_by,
        created_at_ms: w.created_at,
    }
}

#[async_trait::async_trait]
impl WebhookPort for ServicePorts {
    async fn webhooks(
        &self,
        user_id: i64,
        account: &AccountName,
    ) -> Result<Vec<WebhookRow>, Refusal> {
        let hooks = self
            .0
            .webhooks(&person(user_id), account)
            .await
            .map_err(refusal)?;
        Ok(hooks.into_iter().map(webhook_row).collect())
    }

    async fn create_webhook(
        &self,
        user_id: i64,
        account: &AccountName,
        url: &str,
        events: &EventSet,
        repository: Option<&RepositoryGlob>,
        tag: Option<&TagPattern>,
    ) -> Result<CreatedWebhook, Refusal> {
        let (id, secret) = self
            .0
            .create_webhook(&person(user_id), account, url, events, repository, tag)
            .await
            .map_err(refusal)?;
        Ok(CreatedWebhook { id, secret })
    }

    async fn delete_webhook(
        &self,
        user_id: i64,
        account: &AccountName,
        id: i64,
    ) -> Result<(), Refusal> {
        let hook = Hook {
            id,
            account: Some(account),
        };
        self.0
            .delete_webhook(&person(user_id), hook)
            .await
            .map_err(refusal)
    }

    async fn set_webhook_enabled(
        &self,
        user_id: i64,
        account: &AccountName,
        id: i64,
        enabled: bool,
    ) -> Result<(), Refusal> {
        let hook = Hook {
            id,
            account: Some(account),
        };
        self.0
            .set_webhook_enabled(&person(user_id), hook, enabled)
            .await
            .map_err(refusal)
    }

    async fn deliveries(
        &self,
        user_id: i64,
        account: &AccountName,
        id: i64,
    ) -> Result<WebhookDeliveries, Refusal> {
        let hook = Hook {
            id,
            account: Some(account),
        };
        let (w, deliveries) = self
            .0
            .webhook_deliveries(&person(user_id), hook, DELIVERIES_SHOWN)
            .await
            .map_err(refusal)?;
        Ok(WebhookDeliveries {
            webhook: webhook_row(w),
            deliveries: deliveries
                .into_iter()
                .map(|d| DeliveryRow {
                    next_attempt_ms: (d.state == crate::db::PENDING).then_some(d.next_attempt_at),
                    id: d.id,
                    message_id: d.message_id,
                    event: d.event,
                    state: d.state,
                    attempts: d.attempts,
                    created_at_ms: d.created_at,
                    last_attempt_ms: d.last_attempt_at,
                    last_status: d.last_status,
                    latency_ms: d.last_latency_ms,
                    response: d.last_response,
                })
                .collect(),
        })
    }

    async fn redeliver(
        &self,
        user_id: i64,
        account: &AccountName,
        delivery: i64,
    ) -> Result<(), Refusal> {
        self.0
            .redeliver_webhook(&person(user_id), Some(account), delivery)
            .await
            .map_err(refusal)
    }

    async fn send_test(&self, user_id: i64, account: &AccountName, id: i64) -> Result<(), Refusal> {
        let hook = Hook {
            id,
            account: Some(account),
        };
        self.0
            .send_test_webhook(&person(user_id), hook)
            .await
            .map_err(refusal)
    }
}
