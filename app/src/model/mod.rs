//! Data shared by the server and the browser. Plain serde types, never database rows.

mod manifest;

pub use manifest::{
    Descriptor, HistoryStep, ImageConfig, ManifestDetail, ManifestSummary, is_index,
};
use serde::{Deserialize, Serialize};

/// The signed-in person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUser {
    pub username: String,
    pub site_admin: bool,
    pub accounts: Vec<AccountRole>,
    /// Who can give access, for someone who has none yet (empty otherwise).
    pub site_admins: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRole {
    pub account: String,
    pub role: String,
}

/// Why a sign-in failed, as a code that travels in the URL (`/sign-in?error=…`), so
/// the form works without JavaScript and no text from a link is ever shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SignInRefusal {
    BadCredentials,
    TooManyAttempts,
    Unavailable,
    /// The password was right, but a site admin disabled the user.
    Disabled,
    /// Single sign-on did not complete (the provider refused, could not be reached,
    /// or its answer did not match).
    SsoFailed,
    /// With single sign-on, only site admins sign in with a password (or nobody).
    PasswordOff,
}

/// How the sign-in page offers to sign in.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInOptions {
    /// The single sign-on button's name ("Sign in with NAME"), when configured.
    pub sso: Option<String>,
    /// Whether the username and password form is offered.
    pub password: bool,
}

impl SignInRefusal {
    pub fn code(self) -> &'static str {
        match self {
            SignInRefusal::BadCredentials => "credentials",
            SignInRefusal::TooManyAttempts => "throttled",
            SignInRefusal::Unavailable => "unavailable",
            SignInRefusal::Disabled => "disabled",
            SignInRefusal::SsoFailed => "sso",
            SignInRefusal::PasswordOff => "password-off",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [
            Self::BadCredentials,
            Self::TooManyAttempts,
            Self::Unavailable,
            Self::Disabled,
            Self::SsoFailed,
            Self::PasswordOff,
        ]
        .into_iter()
        .find(|r| r.code() == code)
    }

    pub fn message(self) -> &'static str {
        match self {
            SignInRefusal::BadCredentials => "Wrong username or password.",
            SignInRefusal::TooManyAttempts => {
                "Too many failed attempts. Wait a few minutes and try again."
            }
            SignInRefusal::Unavailable => "Signing in is not possible right now. Please try again.",
            SignInRefusal::Disabled => "This user is disabled. A site admin can enable it again.",
            SignInRefusal::SsoFailed => {
                "Single sign-on did not work. Please try again, or ask a site admin."
            }
            SignInRefusal::PasswordOff => {
                "Sign in with single sign-on: passwords are for site admins only here."
            }
        }
    }
}

/// What the Docker Login button gives: a ready command with a 24-hour credential.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DockerLoginCommand {
    pub command: String,
    pub expires_at_ms: i64,
    pub push_example: String,
}

/// A personal access token as listed; the secret is never part of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRow {
    pub id: i64,
    /// "token" for a personal access token, "login" for a Docker Login button
    /// credential.
    pub kind: String,
    /// For a Docker Login button credential: the one account it works in.
    pub account: Option<String>,
    pub name: String,
    pub access: String,
    pub created_at_ms: i64,
    pub expires_at_ms: Option<i64>,
    pub last_used_at_ms: Option<i64>,
    pub revoked: bool,
}

/// A token just created: the only time its secret is shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedToken {
    pub id: i64,
    pub secret: String,
}

/// A node (machine credential) as listed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeRow {
    pub id: i64,
    pub name: String,
    /// What the machine gives `docker login -u`: `account+name`.
    pub username: String,
    pub created_at_ms: i64,
    pub last_used_at_ms: Option<i64>,
    pub revoked: bool,
}

/// A node just created: the only time its secret is shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedNode {
    pub username: String,
    pub secret: String,
}

/// One event of the Activity page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityRow {
    pub at_ms: i64,
    pub actor: String,
    pub action: String,
    pub repository: Option<String>,
    pub detail: Option<String>,
    /// The client's address (after trusted proxies); none for the command line.
    pub client: Option<String>,
}

/// A page of an account's audit log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityLog {
    pub rows: Vec<ActivityRow>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
}

/// One row of the Repositories page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepositoryRow {
    pub name: String,
    pub tags: u64,
    pub size: u64,
    pub pushed_at_ms: i64,
    pub pull_uri: String,
    /// Pullable by anyone, without credentials.
    pub public: bool,
}

/// A page of repositories and where it sits in the whole list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepositoryList {
    pub rows: Vec<RepositoryRow>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
    /// The server's clock when the page was made, so relative times read the same
    /// after hydration.
    pub now_ms: i64,
}

/// One tag on the Repository page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagRow {
    pub name: String,
    pub manifest: ManifestSummary,
    pub pushed_at_ms: i64,
    pub pulled_at_ms: Option<i64>,
    /// A rule of its account makes it immutable: it can be neither overwritten nor
    /// deleted.
    pub immutable: bool,
}

/// A manifest no tag points at: an untagged image or a referrer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UntaggedRow {
    pub manifest: ManifestSummary,
    pub pushed_at_ms: i64,
    pub pulled_at_ms: Option<i64>,
}

/// The Repository page's data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepositoryDetail {
    pub name: String,
    pub pull_uri: String,
    /// Bytes of the distinct blobs it holds.
    pub size: u64,
    pub tags: Vec<TagRow>,
    /// Untagged manifests without a subject.
    pub untagged: Vec<UntaggedRow>,
    /// Manifests with a subject: signatures, SBOMs, attestations.
    pub referrers: Vec<UntaggedRow>,
    pub standing: RepositoryStanding,
    pub now_ms: i64,
}

/// Whether a repository is public, and what the person looking may do to it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepositoryStanding {
    /// Pullable by anyone, without credentials.
    pub public: bool,
    /// May delete its tags.
    pub may_delete: bool,
    /// May delete it or change its visibility (an admin of its account).
    pub may_administer: bool,
}

/// An immutability rule, on the Immutable tags page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImmutabilityRow {
    pub pattern: String,
    /// The repository within the account; `None` for every repository.
    pub repository: Option<String>,
    pub created_at_ms: i64,
    /// Whether the person looking may remove it (site admins).
    pub removable: bool,
}

/// A webhook, on the Webhooks page (never its secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookRow {
    pub id: i64,
    pub url: String,
    /// Event names, such as `push` and `delete`.
    pub events: Vec<String>,
    /// The repository glob within the account; `None` for every repository.
    pub repository: Option<String>,
    /// The tag glob; `None` for every tag.
    pub tag: Option<String>,
    pub enabled: bool,
    /// Why it was disabled (a `410`, days of failures).
    pub disabled_reason: Option<String>,
    pub created_by: String,
    pub created_at_ms: i64,
}

/// A webhook just created, with its secret (shown this once).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedWebhook {
    pub id: i64,
    pub secret: String,
}

/// One message to a webhook and how its latest attempt went.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryRow {
    pub id: i64,
    /// The `webhook-id` every attempt carries.
    pub message_id: String,
    /// The event's type (`push`, `ping`…).
    pub event: String,
    /// `pending`, `delivered` or `failed` (no retry left).
    pub state: String,
    pub attempts: i32,
    pub created_at_ms: i64,
    pub last_attempt_ms: Option<i64>,
    /// The HTTP status of the latest answer; `None` when none came.
    pub last_status: Option<i32>,
    pub latency_ms: Option<i64>,
    /// The first bytes of the latest answer, or why no answer came.
    pub response: Option<String>,
    /// When the next attempt is due, for a pending message.
    pub next_attempt_ms: Option<i64>,
}

/// A webhook with its latest deliveries, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookDeliveries {
    pub webhook: WebhookRow,
    pub deliveries: Vec<DeliveryRow>,
}

/// A retention policy's fields as the form holds them: blank means "not set".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionFields {
    /// The repository within the account; blank for the account's policy.
    pub repository: String,
    pub keep_last: String,
    pub keep_days: String,
    pub tag: String,
    pub exclude: String,
    pub untagged_older_than: String,
}

/// A stored retention policy, on the Retention page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionRow {
    pub fields: RetentionFields,
    /// The policy in words.
    pub description: String,
    pub updated_by: String,
    pub updated_at_ms: i64,
}

/// What a draft policy would move to the trash now, before it is saved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionPreview {
    /// The draft as understood, to save exactly what was previewed.
    pub fields: RetentionFields,
    pub description: String,
    pub removals: Vec<RemovalRow>,
    pub tags: u64,
    pub manifests: u64,
    pub bytes: u64,
}

/// One tag (or untagged image) a policy would remove.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemovalRow {
    pub repository: String,
    /// `None` for an untagged image.
    pub tag: Option<String>,
    pub digest: String,
    pub pushed_at_ms: i64,
    pub pulled_at_ms: Option<i64>,
    pub bytes: u64,
}

/// A member of an account, on the Members page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRow {
    pub username: String,
    /// read, write or admin.
    pub role: String,
    pub since_ms: i64,
    /// The single sign-on group the role came from, and when it was last synced.
    pub sso_group: Option<String>,
    pub synced_at_ms: Option<i64>,
    pub disabled: bool,
}

/// An account on the site admins' Accounts page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRow {
    pub name: String,
    pub repositories: u64,
    pub members: u64,
    pub storage: u64,
    /// Most bytes it may store; `None` for no limit.
    pub quota: Option<u64>,
    pub created_at_ms: i64,
}

/// A deleted tag or repository in an account's trash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrashRow {
    pub id: i64,
    pub repository: String,
    /// The tag; `None` when the whole repository, or an untagged image, was deleted.
    pub tag: Option<String>,
    /// The untagged image's digest, when that is what was deleted.
    pub digest: Option<String>,
    pub deleted_by: String,
    pub deleted_at_ms: i64,
    pub expires_at_ms: i64,
    pub bytes: u64,
}

/// Percent-encodes a query value.
pub fn query_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Sizes as people read them: 1.5 MiB, 2.0 GiB.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// A count with its noun agreeing: "1 tag", "2 tags", "1 repository", "3
/// repositories". Every page says numbers through this.
pub fn count(n: u64, noun: &str) -> String {
    format!("{n} {}", noun_for(n, noun))
}

/// The noun alone, singular for one and plural otherwise ("Delete 2 repositories?").
pub fn noun_for(n: u64, noun: &str) -> String {
    if n == 1 {
        return noun.to_owned();
    }
    let consonant_y = noun.len() > 1
        && noun.ends_with('y')
        && !noun[..noun.len() - 1].ends_with(['a', 'e', 'i', 'o', 'u']);
    if consonant_y {
        format!("{}ies", &noun[..noun.len() - 1])
    } else if noun.ends_with(['s', 'x']) || noun.ends_with("sh") || noun.ends_with("ch") {
        format!("{noun}es")
    } else {
        format!("{noun}s")
    }
}

/// A wait as people say it: "1 second", "32 seconds", "15 minutes".
pub fn human_wait(secs: u64) -> String {
    match secs {
        0..120 => count(secs.max(1), "second"),
        120..7200 => count(secs.div_ceil(60), "minute"),
        _ => count(secs.div_ceil(3600), "hour"),
    }
}

/// How long ago, as people say it: "just now", "5 minutes ago", "3 days ago".
pub fn time_ago(then_ms: i64, now_ms: i64) -> String {
    let secs = (now_ms - then_ms).max(0) / 1000;
    let (n, unit) = match secs {
        0..60 => return "just now".into(),
        60..3600 => (secs / 60, "minute"),
        3600..86_400 => (secs / 3600, "hour"),
        86_400..2_592_000 => (secs / 86_400, "day"),
        2_592_000..31_536_000 => (secs / 2_592_000, "month"),
        _ => (secs / 31_536_000, "year"),
    };
    format!("{} ago", count(n as u64, unit))
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_ago_read_like_speech() {
        let now = 1_800_000_000_000;
        assert_eq!(super::time_ago(now - 5_000, now), "just now");
        assert_eq!(super::time_ago(now - 60_000, now), "1 minute ago");
        assert_eq!(super::time_ago(now - 3 * 3_600_000, now), "3 hours ago");
        assert_eq!(super::time_ago(now - 2 * 86_400_000, now), "2 days ago");
        assert_eq!(super::time_ago(now + 10_000, now), "just now");
    }

    #[test]
    fn counts_agree_with_their_nouns() {
        use super::count;
        assert_eq!(count(1, "tag"), "1 tag");
        assert_eq!(count(2, "tag"), "2 tags");
        assert_eq!(count(0, "tag"), "0 tags");
        assert_eq!(count(1, "repository"), "1 repository");
        assert_eq!(count(3, "repository"), "3 repositories");
        assert_eq!(count(2, "day"), "2 days");
        assert_eq!(count(2, "entry"), "2 entries");
        assert_eq!(count(2, "index"), "2 indexes");
        assert_eq!(super::human_wait(1), "1 second");
        assert_eq!(super::human_wait(32), "32 seconds");
        assert_eq!(super::human_wait(900), "15 minutes");
    }

    #[test]
    fn sizes_read_like_people_write_them() {
        assert_eq!(super::human_size(512), "512 B");
        assert_eq!(super::human_size(1536), "1.5 KiB");
        assert_eq!(super::human_size(3 * 1024 * 1024 * 1024), "3.0 GiB");
    }
}
