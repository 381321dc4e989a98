//! Server-only ports: the small traits through which server functions reach the
//! services. `src/portal` implements them and provides them as context; this crate
//! never sees the services themselves.

use crate::model::{
    AccountRow, ActivityLog, CreatedNode, CreatedToken, CreatedWebhook, ImmutabilityRow,
    ManifestDetail, MemberRow, NodeRow, RepositoryRow, RepositoryStanding, RetentionPreview,
    RetentionRow, SessionUser, SignInRefusal, TagRow, TokenRow, TrashRow, UntaggedRow,
    WebhookDeliveries, WebhookRow,
};
use domain::{
    AccountName, EventSet, NodeName, Reference, RepositoryGlob, RepositoryName, RepositoryOrder,
    RetentionPolicy, Role, TagName, TagPattern, TokenAccess, Username, Visibility,
};
use std::net::IpAddr;
use std::sync::Arc;

/// A refusal in words for the person at the browser, with the HTTP status the
/// request is answered with (403 for another account's things, 400 for bad input…).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub message: String,
}

impl Refusal {
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    /// Another account's things, and names that cannot exist, are not even said to
    /// exist.
    pub fn no_access() -> Self {
        Self::new(403, "You do not have access to that.")
    }

    pub fn sign_in() -> Self {
        Self::new(401, "Please sign in.")
    }
}

/// Plain words are a refusal of bad input.
impl From<String> for Refusal {
    fn from(message: String) -> Self {
        Self::new(400, message)
    }
}

impl From<&str> for Refusal {
    fn from(message: &str) -> Self {
        Self::new(400, message)
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

#[async_trait::async_trait]
pub trait AuthPort: Send + Sync {
    /// Checks a username and password; the user's id on success.
    async fn sign_in(
        &self,
        username: &str,
        password: &str,
        client: Option<IpAddr>,
    ) -> Result<i64, SignInRefusal>;
    /// Creates the first site admin with the one-time setup token; their id.
    async fn create_first_admin(
        &self,
        token: &str,
        username: &Username,
        password: &str,
    ) -> Result<i64, Refusal>;
    /// The user behind a session, if they still exist.
    async fn user(&self, user_id: i64) -> Option<SessionUser>;
    /// Whether the sign-in page offers single sign-on and the password form.
    fn sign_in_options(&self) -> crate::model::SignInOptions;
    /// The provider's logout URL for a single sign-on's ID token, if it has one.
    async fn end_session_url(&self, id_token: &str) -> Option<String>;
}

/// Which page of repositories, filtered and ordered how.
pub struct RepositoryQuery<'a> {
    /// Part of the name; empty for all.
    pub filter: &'a str,
    pub order: RepositoryOrder,
    /// From 1.
    pub page: u64,
    pub per_page: u64,
}

#[async_trait::async_trait]
pub trait RepositoryPort: Send + Sync {
    /// A page of an account's repositories, with the total count; `host` is where
    /// pull URIs point.
    async fn list(
        &self,
        user_id: i64,
        account: &AccountName,
        query: &RepositoryQuery<'_>,
        host: &str,
    ) -> Result<(Vec<RepositoryRow>, u64), Refusal>;
    /// A page of every public repository (the Explore page), for anyone.
    async fn explore(
        &self,
        query: &RepositoryQuery<'_>,
        host: &str,
    ) -> Result<(Vec<RepositoryRow>, u64), Refusal>;
    /// The tags of a repository, and the bytes it holds. `user_id` is `None` for a
    /// visitor without a session, who sees public repositories only.
    async fn tags(
        &self,
        user_id: Option<i64>,
        repository: &RepositoryName,
    ) -> Result<(Vec<TagRow>, u64), Refusal>;
    /// Manifests of a repository no tag points at (untagged images and referrers).
    async fn untagged(
        &self,
        user_id: Option<i64>,
        repository: &RepositoryName,
    ) -> Result<Vec<UntaggedRow>, Refusal>;
    /// Whether the repository is public and what the caller may do to it.
    async fn standing(
        &self,
        user_id: Option<i64>,
        repository: &RepositoryName,
    ) -> Result<RepositoryStanding, Refusal>;
    /// A manifest by `repository:tag` or `repository@digest`, for the Tag page; `host`
    /// is where pull URIs point.
    async fn manifest(
        &self,
        user_id: Option<i64>,
        repository: &RepositoryName,
        reference: &Reference,
        host: &str,
    ) -> Result<ManifestDetail, Refusal>;
    /// Makes a repository `public` (then `typed` must be its full name) or `private`.
    async fn set_visibility(
        &self,
        user_id: i64,
        repository: &RepositoryName,
        visibility: Visibility,
        typed: &str,
    ) -> Result<(), Refusal>;
    /// Deletes a repository; `typed` must be its full name.
    async fn delete_repository(
        &self,
        user_id: i64,
        repository: &RepositoryName,
        typed: &str,
    ) -> Result<(), Refusal>;
    /// Deletes the checked repositories; `typed` must be the full name of one, or how
    /// many when there are more.
    async fn delete_repositories(
        &self,
        user_id: i64,
        repositories: &[RepositoryName],
        typed: &str,
    ) -> Result<(), Refusal>;
    /// Deletes a tag; `typed` must be the tag's name.
    async fn delete_tag(
        &self,
        user_id: i64,
        repository: &RepositoryName,
        tag: &TagName,
        typed: &str,
    ) -> Result<(), Refusal>;
}

#[async_trait::async_trait]
pub trait CredentialPort: Send + Sync {
    /// Mints a 24-hour login credential; returns the username, the secret and its expiry.
    async fn tokens(&self, user_id: i64) -> Result<Vec<TokenRow>, Refusal>;
    /// `access` is pull, push or delete; `days` None means no expiry.
    async fn create_token(
        &self,
        user_id: i64,
        label: &str,
        access: TokenAccess,
        days: Option<u32>,
    ) -> Result<CreatedToken, Refusal>;
    async fn revoke_token(&self, user_id: i64, id: i64) -> Result<(), Refusal>;
    async fn nodes(&self, user_id: i64, account: &AccountName) -> Result<Vec<NodeRow>, Refusal>;
    async fn create_node(
        &self,
        user_id: i64,
        account: &AccountName,
        name: &NodeName,
    ) -> Result<CreatedNode, Refusal>;
    async fn revoke_node(
        &self,
        user_id: i64,
        account: &AccountName,
        id: i64,
    ) -> Result<(), Refusal>;
    async fn docker_login(
        &self,
        user_id: i64,
        account: &AccountName,
    ) -> Result<(String, String, i64), Refusal>;
}

#[async_trait::async_trait]
pub trait ActivityPort: Send + Sync {
    /// A page (from 1) of an account's audit log; `kind` is push, delete, login,
    /// credentials or empty for all; `repository` `None` for all.
    async fn activity(
        &self,
        user_id: i64,
        account: &AccountName,
        kind: &str,
        repository: Option<&RepositoryName>,
        page: u64,
    ) -> Result<ActivityLog, Refusal>;
}

#[async_trait::async_trait]
pub trait AccountPort: Send + Sync {
    /// An account's immutability rules (for its members).
    async fn immutability(
        &self,
        user_id: i64,
        account: &AccountName,
    ) -> Result<Vec<ImmutabilityRow>, Refusal>;
    /// Adds a rule (account admins); `repository` empty for all.
    async fn add_immutability(
        &self,
        user_id: i64,
        account: &AccountName,
        pattern: &TagPattern,
        repository: &str,
    ) -> Result<(), Refusal>;
    /// Removes a rule (site admins).
    async fn remove_immutability(
        &self,
        user_id: i64,
        account: &AccountName,
        pattern: &TagPattern,
        repository: &str,
    ) -> Result<(), Refusal>;
    /// An account's retention policies (for its members).
    async fn retention(
        &self,
        user_id: i64,
        account: &AccountName,
    ) -> Result<Vec<RetentionRow>, Refusal>;
    /// What a draft policy for the account (`repository` blank) or one repository
    /// would remove now (account admins).
    async fn preview_retention(
        &self,
        user_id: i64,
        account: &AccountName,
        repository: &str,
        policy: &RetentionPolicy,
    ) -> Result<RetentionPreview, Refusal>;
    /// Saves a policy (account admins).
    async fn save_retention(
        &self,
        user_id: i64,
        account: &AccountName,
        repository: &str,
        policy: &RetentionPolicy,
    ) -> Result<(), Refusal>;
    /// Removes a policy (account admins).
    async fn remove_retention(
        &self,
        user_id: i64,
        account: &AccountName,
        repository: &str,
    ) -> Result<(), Refusal>;
    /// The members of an account (for its admins).
    async fn members(&self, user_id: i64, account: &AccountName)
    -> Result<Vec<MemberRow>, Refusal>;
    /// Adds a person or changes their role; `password` creates a user who has none.
    async fn add_member(
        &self,
        user_id: i64,
        account: &AccountName,
        username: &Username,
        role: Role,
        password: &str,
    ) -> Result<(), Refusal>;
    async fn remove_member(
        &self,
        user_id: i64,
        account: &AccountName,
        username: &Username,
    ) -> Result<(), Refusal>;
    /// Every account (for site admins).
    async fn accounts(&self, user_id: i64) -> Result<Vec<AccountRow>, Refusal>;
    async fn create_account(&self, user_id: i64, name: &AccountName) -> Result<(), Refusal>;
    /// Changes the user's password; their sessions but `keep_session` end, and so
    /// does every `docker login` made with the old password.
    async fn change_password(
        &self,
        user_id: i64,
        current: &str,
        new: &str,
        keep_session: Option<&str>,
    ) -> Result<(), Refusal>;
    /// An account's trash, newest first.
    async fn trash(&self, user_id: i64, account: &AccountName) -> Result<Vec<TrashRow>, Refusal>;
    async fn restore(&self, user_id: i64, account: &AccountName, id: i64) -> Result<(), Refusal>;
    /// Empties the trash; `typed` must be the account's name. How many entries went.
    async fn empty_trash(
        &self,
        user_id: i64,
        account: &AccountName,
        typed: &str,
    ) -> Result<u64, Refusal>;
    /// Sets an account's quota in bytes (site admins); `None` for no limit.
    async fn set_quota(
        &self,
        user_id: i64,
        account: &AccountName,
        quota: Option<u64>,
    ) -> Result<(), Refusal>;
    /// Runs garbage collection now (site admins); what it freed, in words.
    async fn collect_garbage(&self, user_id: i64) -> Result<String, Refusal>;
}

/// An account's webhooks, for its admins.
#[async_trait::async_trait]
pub trait WebhookPort: Send + Sync {
    async fn webhooks(
        &self,
        user_id: i64,
        account: &AccountName,
    ) -> Result<Vec<WebhookRow>, Refusal>;
    /// Creates one; its secret is in the answer and nowhere else.
    async fn create_webhook(
        &self,
        user_id: i64,
        account: &AccountName,
        url: &str,
        events: &EventSet,
        repository: Option<&RepositoryGlob>,
        tag: Option<&TagPattern>,
    ) -> Result<CreatedWebhook, Refusal>;
    async fn delete_webhook(
        &self,
        user_id: i64,
        account: &AccountName,
        id: i64,
    ) -> Result<(), Refusal>;
    /// Turns a webhook back on (after a `410` or days of failures) or off.
    async fn set_webhook_enabled(
        &self,
        user_id: i64,
        account: &AccountName,
        id: i64,
        enabled: bool,
    ) -> Result<(), Refusal>;
    /// A webhook and its latest deliveries.
    async fn deliveries(
        &self,
        user_id: i64,
        account: &AccountName,
        id: i64,
    ) -> Result<WebhookDeliveries, Refusal>;
    /// Sends one message again, with its id.
    async fn redeliver(
        &self,
        user_id: i64,
        account: &AccountName,
        delivery: i64,
    ) -> Result<(), Refusal>;
    /// Sends a `ping` message.
    async fn send_test(&self, user_id: i64, account: &AccountName, id: i64) -> Result<(), Refusal>;
}

/// Every port, as one context value.
#[derive(Clone)]
pub struct Ports {
    pub auth: Arc<dyn AuthPort>,
    pub repositories: Arc<dyn RepositoryPort>,
    pub credentials: Arc<dyn CredentialPort>,
    pub activity: Arc<dyn ActivityPort>,
    pub accounts: Arc<dyn AccountPort>,
    pub webhooks: Arc<dyn WebhookPort>,
}
