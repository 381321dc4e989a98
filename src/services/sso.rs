//! Single sign-on with OpenID Connect: discovery, the authorization-code flow with
//! PKCE, `state` and `nonce`, the ID token verified by `openidconnect` (JWKS
//! signature, `iss`, `aud`, `exp`, `nonce`), claims read from the ID token and the
//! userinfo endpoint. People are keyed by (issuer, `sub`), created at their first
//! sign-in from `preferred_username`, and their roles are synced from their groups at
//! every sign-in (`berth account map-group`). docker keeps using Berth's own
//! credentials; a user who lost every role is refused by the one access decision.

use super::access::{Caller, Permission, Resource};
use super::{Error, Result, Services, Thing, now_ms};
use crate::db::{GroupMapping, GroupRole, User};
use crate::domain::{AccountName, Role, Username};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreGenderClaim};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndSessionUrl,
    IssuerUrl, LogoutRequest, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier,
    PostLogoutRedirectUrl, ProviderMetadataWithLogout, RedirectUrl, Scope, TokenResponse,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::{Duration, Instant};

/// The path the provider sends people back to, after the public URL.
pub const CALLBACK_PATH: &str = "/auth/oidc/callback";
/// How long discovered metadata (endpoints, signing keys) is used before it is
/// fetched again; a key the provider rotated in is found by the next fetch.
const METADATA_LIFETIME: Duration = Duration::from_secs(600);
/// How long the provider may take to answer one request.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(15);

/// `berth serve`'s single sign-on settings.
#[derive(Debug, Clone)]
pub struct SsoSettings {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// What the sign-in button says after "Sign in with".
    pub name: String,
    pub groups_claim: String,
    /// Members of this group are site admins; others are not (when it is set).
    pub admin_group: Option<String>,
    pub scopes: Vec<String>,
    /// Berth's public URL, without a trailing slash.
    pub public_url: String,
    /// Whether site admins may still sign in with a password.
    pub password_sign_in: bool,
}

/// The provider's client: settings, an HTTP client and the discovered metadata.
pub struct Sso {
    settings: SsoSettings,
    http: reqwest::Client,
    metadata: tokio::sync::Mutex<Option<(Instant, ProviderMetadataWithLogout)>>,
}

impl Sso {
    pub fn new(settings: SsoSettings) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            // Following redirects would let a provider's answer point us anywhere.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(PROVIDER_TIMEOUT)
            .user_agent(concat!("Berth/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("an HTTP client with no TLS configuration to load");
        Self {
            settings,
            http,
            metadata: tokio::sync::Mutex::new(None),
        }
    }

    pub fn settings(&self) -> &SsoSettings {
        &self.settings
    }

    /// The provider's metadata, discovered at first use and again after
    /// [`METADATA_LIFETIME`].
    async fn metadata(&self) -> Result<ProviderMetadataWithLogout> {
        let mut cached = self.metadata.lock().await;
        if let Some((at, m)) = cached.as_ref()
            && at.elapsed() < METADATA_LIFETIME
        {
            return Ok(m.clone());
        }
        let issuer = IssuerUrl::new(self.settings.issuer.clone()).map_err(unavailable)?;
        let http = |r: openidconnect::HttpRequest| send(self.http.clone(), r);
        let m = ProviderMetadataWithLogout::discover_async(issuer, &http)
            .await
            .map_err(unavailable)?;
        *cached = Some((Instant::now(), m.clone()));
        Ok(m)
    }

    fn client(
        &self,
        m: ProviderMetadataWithLogout,
    ) -> Result<
        CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
    > {
        let redirect = RedirectUrl::new(format!("{}{CALLBACK_PATH}", self.settings.public_url))
            .map_err(unavailable)?;
        Ok(CoreClient::from_provider_metadata(
            m,
            ClientId::new(self.settings.client_id.clone()),
            Some(ClientSecret::new(self.settings.client_secret.clone())),
        )
        .set_redirect_uri(redirect))
    }
}

/// What the browser's session keeps between the redirect to the provider and its
/// answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingLogin {
    pub state: String,
    pub nonce: String,
    pub verifier: String,
    /// Where to land afterwards (a path on this site).
    pub next: Option<String>,
}

/// A person signed in through the provider.
#[derive(Debug, Clone)]
pub struct SsoSignIn {
    pub user_id: i64,
    pub username: String,
    /// The name they asked for, when it was taken and they got another.
    pub wanted_username: Option<String>,
    /// For the provider's logout (`id_token_hint`).
    pub id_token: String,
}

impl Services {
    /// The sign-in button's name, when single sign-on is configured.
    pub fn sso_name(&self) -> Option<String> {
        self.sso.as_ref().map(|s| s.settings.name.clone())
    }

    /// Whether this user may sign in to the portal with a password: always without
    /// single sign-on; with it, only site admins (a way in while the provider is
    /// down), unless password sign-in is turned off.
    pub fn password_sign_in_allowed(&self, user: &User) -> bool {
        match &self.sso {
            None => true,
            Some(s) => {
                s.settings.password_sign_in && user.site_admin && user.oidc_subject.is_none()
            }
        }
    }

    /// The provider's authorization URL for a new sign-in, and what the session keeps
    /// to check its answer.
    pub async fn begin_sso(&self, next: Option<String>) -> Result<(String, PendingLogin)> {
        let sso = self.sso.as_ref().ok_or(Error::NotFound(Thing::User))?;
        let client = sso.client(sso.metadata().await?)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        for scope in sso.settings.scopes.iter().filter(|s| *s != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        Ok((
            url.to_string(),
            PendingLogin {
                state: state.secret().clone(),
                nonce: nonce.secret().clone(),
                verifier: verifier.secret().clone(),
                next,
            },
        ))
    }

    /// Checks the provider's answer, verifies the ID token, reads the claims, and
    /// signs the person in: their user found by (issuer, subject) or created, their
    /// roles synced from their groups. Refused with `Forbidden` for a disabled user,
    /// and with `Denied` (in words) for an answer that does not match what the
    /// session began or a provider that failed.
    pub async fn finish_sso(
        &self,
        pending: PendingLogin,
        code: &str,
        state: &str,
    ) -> Result<SsoSignIn> {
        let sso = self.sso.as_ref().ok_or(Error::NotFound(Thing::User))?;
        if state != pending.state {
            return Err(Error::Denied(
                "the sign-in did not come back as it left (state); please try again".into(),
            ));
        }
        let client = sso.client(sso.metadata().await?)?;
        let http = |r: openidconnect::HttpRequest| send(sso.http.clone(), r);
        let token = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(unavailable)?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier))
            .request_async(&http)
            .await
            .map_err(|e| refused("the identity provider refused the sign-in", e))?;
        let id_token = token
            .id_token()
            .ok_or_else(|| Error::Denied("the identity provider sent no ID token".into()))?;
        let verifier = client.id_token_verifier();
        let claims = id_token
            .claims(&verifier, &Nonce::new(pending.nonce))
            .map_err(|e| refused("the identity provider's ID token did not verify", e))?;
        if let Some(expected) = claims.access_token_hash() {
            let alg = id_token.signing_alg().map_err(unavailable)?;
            let key = id_token.signing_key(&verifier).map_err(unavailable)?;
            let actual =
                AccessTokenHash::from_token(token.access_token(), alg, key).map_err(unavailable)?;
            if actual != *expected {
                return Err(Error::Denied(
                    "the identity provider's tokens do not belong together".into(),
                ));
            }
        }
        let subject = claims.subject().as_str().to_owned();
        let raw_id_token = id_token.to_string();
        let mut facts = Claims::from_id_token(&raw_id_token, &sso.settings.groups_claim);
        if let Some(p) = claims.preferred_username() {
            facts.username.get_or_insert_with(|| p.as_str().to_owned());
        }
        if let Some(e) = claims.email() {
            facts.email.get_or_insert_with(|| e.as_str().to_owned());
        }
        // Certified providers put profile claims and groups in userinfo for this flow.
        if let Ok(request) =
            client.user_info(token.access_token().clone(), Some(claims.subject().clone()))
        {
            match request
                .request_async::<Extra, _, CoreGenderClaim>(&http)
                .await
            {
                Ok(info) => {
                    if let Some(p) = info.preferred_username() {
                        facts.username = Some(p.as_str().to_owned());
                    }
                    if let Some(e) = info.email() {
                        facts.email = Some(e.as_str().to_owned());
                    }
                    if let Some(g) = info
                        .additional_claims()
                        .claims
                        .get(&sso.settings.groups_claim)
                    {
                        facts.groups = groups_of(g);
                    }
                }
                Err(e) => return Err(refused("the identity provider's userinfo failed", e)),
            }
        }
        self.sign_in_subject(&sso.settings, &subject, facts, raw_id_token)
            .await
    }

    /// The provider's logout URL for an ID token, when it offers one; it sends the
    /// browser back to the sign-in page.
    pub async fn end_session_url(&self, id_token: &str) -> Option<String> {
        let sso = self.sso.as_ref()?;
        let m = sso.metadata().await.ok()?;
        let endpoint: EndSessionUrl = m.additional_metadata().end_session_endpoint.clone()?;
        let token: openidconnect::core::CoreIdToken = id_token.parse().ok()?;
        let back =
            PostLogoutRedirectUrl::new(format!("{}/sign-in", sso.settings.public_url)).ok()?;
        Some(
            LogoutRequest::from(endpoint)
                .set_id_token_hint(&token)
                .set_client_id(ClientId::new(sso.settings.client_id.clone()))
                .set_post_logout_redirect_uri(back)
                .http_get_url()
                .to_string(),
        )
    }

    /// Whether a URL is one of the provider's logout endpoint (the only place the
    /// signed-out page sends a browser on to).
    pub async fn is_end_session_url(&self, url: &str) -> bool {
        let Some(sso) = self.sso.as_ref() else {
            return false;
        };
        let Ok(m) = sso.metadata().await else {
            return false;
        };
        let Some(endpoint) = m.additional_metadata().end_session_endpoint.as_ref() else {
            return false;
        };
        let Ok(asked) = url::Url::parse(url) else {
            return false;
        };
        let base = endpoint.url();
        asked.scheme() == base.scheme()
            && asked.host_str() == base.host_str()
            && asked.port_or_known_default() == base.port_or_known_default()
            && asked.path() == base.path()
    }

    async fn sign_in_subject(
        &self,
        settings: &SsoSettings,
        subject: &str,
        facts: Claims,
        id_token: String,
    ) -> Result<SsoSignIn> {
        let now = now_ms();
        let (user, wanted_username) =
            match self.db.user_by_subject(&settings.issuer, subject).await? {
                Some(u) => (u, None),
                None => self.create_sso_user(settings, subject, &facts, now).await?,
            };
        // `Forbidden`: the sign-in page says the user is disabled.
        if user.disabled_at.is_some() {
            tracing::info!(
                username = user.username,
                "single sign-on of a disabled user"
            );
            return Err(Error::Forbidden);
        }
        if let Some(admins) = &settings.admin_group {
            let admin = facts.groups.iter().any(|g| g == admins);
            if admin != user.site_admin {
                self.db.set_site_admin(user.id, admin).await?;
                self.audit(
                    None,
                    "sso",
                    if admin {
                        "user.site_admin"
                    } else {
                        "user.not_site_admin"
                    },
                    None,
                    Some(format!("{} (group {admins})", user.username)),
                )
                .await;
            }
        }
        let mappings = self.db.mappings_of_groups(&facts.groups).await?;
        let wanted = highest_roles(&mappings);
        let changes = self.db.sync_group_roles(user.id, &wanted, now).await?;
        for account in &changes.given {
            if let Some(w) = wanted.iter().find(|w| w.account_id == *account) {
                self.audit(
                    Some(*account),
                    "sso",
                    "member.sso_role",
                    None,
                    Some(format!(
                        "{}: {} from group {}",
                        user.username, w.role, w.group
                    )),
                )
                .await;
            }
        }
        for account in &changes.removed {
            self.audit(
                Some(*account),
                "sso",
                "member.sso_remove",
                None,
                Some(format!(
                    "{}: no longer in a group mapped here",
                    user.username
                )),
            )
            .await;
        }
        self.audit(
            None,
            &user.username,
            "portal.sign_in",
            None,
            Some(format!(
                "single sign-on, groups: {}",
                facts.groups.join(", ")
            )),
        )
        .await;
        Ok(SsoSignIn {
            user_id: user.id,
            username: user.username,
            wanted_username,
            id_token,
        })
    }

    /// A new user for a subject, named after `preferred_username` (or the e-mail's
    /// local part); a name that is taken gets a number, and the name they wanted is
    /// returned to be shown to them.
    async fn create_sso_user(
        &self,
        settings: &SsoSettings,
        subject: &str,
        facts: &Claims,
        now: i64,
    ) -> Result<(User, Option<String>)> {
        let base = username_from(facts, subject);
        // Nobody knows this password: single sign-on users sign in at the provider.
        let unusable = {
            use rand::Rng;
            let random: String = rand::thread_rng()
                .sample_iter(&rand::distributions::Alphanumeric)
                .take(40)
                .map(char::from)
                .collect();
            super::accounts::hash_password(&random).await?
        };
        for n in 1..=100u32 {
            let candidate = if n == 1 {
                base.clone()
            } else {
                let suffix = format!("-{n}");
                format!("{}{suffix}", &base[..base.len().min(64 - suffix.len())])
            };
            if self.db.user_by_name(&candidate).await?.is_some() {
                continue;
            }
            match self
                .db
                .create_sso_user(&candidate, &settings.issuer, subject, &unusable, now)
                .await
            {
                Ok(u) => {
                    self.audit(
                        None,
                        "sso",
                        "user.create",
                        None,
                        Some(format!("{candidate} (single sign-on, subject {subject})")),
                    )
                    .await;
                    return Ok((u, (n > 1).then_some(base)));
                }
                // Taken meanwhile by another sign-in: the next number.
                Err(crate::db::DbError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::Conflict(format!("no free username like {base}")))
    }

    /// An account's group mappings (for its admins and the operator).
    pub async fn group_mappings(
        &self,
        caller: &Caller,
        account: &AccountName,
    ) -> Result<Vec<GroupMapping>> {
        let (a, _) = self.administered(caller, account).await?;
        Ok(self.db.group_mappings(a.id).await?)
    }

    /// Maps a single sign-on group to a role in an account (site admins and the
    /// operator: a mapping gives access to whoever the provider puts in the group).
    /// It takes effect at each member's next sign-in. Audited.
    pub async fn map_group(
        &self,
        caller: &Caller,
        account: &AccountName,
        group: &str,
        role: Role,
    ) -> Result<()> {
        let actor = self
            .decide(caller, Permission::Administer, Resource::Site)
            .await?
            .actor;
        let group = parse_group(group)?;
        let a = self
            .db
            .account_by_name(account.as_str())
            .await?
            .ok_or(Error::NotFound(Thing::Account))?;
        self.db
            .map_group(a.id, group, role.as_str(), now_ms())
            .await?;
        self.audit(
            Some(a.id),
            &actor,
            "sso.map_group",
            None,
            Some(format!("{group} → {}", role.as_str())),
        )
        .await;
        Ok(())
    }

    /// Removes a mapping; its members lose the role at their next sign-in. Audited.
    pub async fn unmap_group(
        &self,
        caller: &Caller,
        account: &AccountName,
        group: &str,
    ) -> Result<()> {
        let actor = self
            .decide(caller, Permission::Administer, Resource::Site)
            .await?
            .actor;
        let a = self
            .db
            .account_by_name(account.as_str())
            .await?
            .ok_or(Error::NotFound(Thing::Account))?;
        if !self.db.unmap_group(a.id, group).await? {
            return Err(Error::NotFound(Thing::Rule));
        }
        self.audit(
            Some(a.id),
            &actor,
            "sso.unmap_group",
            None,
            Some(group.to_owned()),
        )
        .await;
        Ok(())
    }
}

/// A group name as the provider sends it: 1 to 256 characters, no control ones.
fn parse_group(s: &str) -> Result<&str> {
    if s.is_empty() || s.len() > 256 || s.chars().any(char::is_control) {
        return Err(Error::Invalid(super::Invalid::Request(format!(
            "invalid group {s:?}: 1 to 256 characters"
        ))));
    }
    Ok(s)
}

/// Per account, the highest role any of the person's groups gives there.
fn highest_roles(mappings: &[GroupMapping]) -> Vec<GroupRole> {
    let mut best: Vec<(i64, Role, &str)> = Vec::new();
    for m in mappings {
        let Ok(role) = Role::parse(&m.role) else {
            continue;
        };
        match best.iter_mut().find(|(a, ..)| *a == m.account_id) {
            Some(b) if role > b.1 || (role == b.1 && m.group_name.as_str() < b.2) => {
                *b = (m.account_id, role, &m.group_name);
            }
            Some(_) => {}
            None => best.push((m.account_id, role, &m.group_name)),
        }
    }
    best.into_iter()
        .map(|(account_id, role, group)| GroupRole {
            account_id,
            role: role.as_str().to_owned(),
            group: group.to_owned(),
        })
        .collect()
}

/// What the provider said about the person, beyond the subject.
#[derive(Debug, Default)]
struct Claims {
    username: Option<String>,
    email: Option<String>,
    groups: Vec<String>,
}

impl Claims {
    /// The groups claim of an ID token `openidconnect` verified (it is not one of the
    /// standard claims, so read from the token's payload).
    fn from_id_token(jwt: &str, groups_claim: &str) -> Self {
        use base64::Engine;
        let payload = jwt
            .split('.')
            .nth(1)
            .and_then(|p| {
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(p)
                    .ok()
            })
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok());
        Claims {
            groups: payload
                .as_ref()
                .and_then(|p| p.get(groups_claim))
                .map(groups_of)
                .unwrap_or_default(),
            ..Claims::default()
        }
    }
}

/// A groups claim: an array of names, or one name.
fn groups_of(v: &Value) -> Vec<String> {
    let mut groups: Vec<String> = match v {
        Value::Array(items) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_owned))
            .collect(),
        Value::String(s) => vec![s.clone()],
        _ => Vec::new(),
    };
    groups.sort();
    groups.dedup();
    groups
}

/// A valid username from the claims: letters, digits, `.`, `_`, `-` and `@` kept,
/// anything else made `-`, starting with a letter or digit, at most 64 characters.
fn username_from(facts: &Claims, subject: &str) -> String {
    let local = facts
        .email
        .as_deref()
        .and_then(|e| e.split('@').next())
        .map(str::to_owned);
    for wanted in [facts.username.clone(), local, Some(subject.to_owned())]
        .into_iter()
        .flatten()
    {
        let cleaned: String = wanted
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@') {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect();
        let trimmed = cleaned.trim_start_matches(|c: char| !c.is_ascii_alphanumeric());
        let name: String = trimmed.chars().take(58).collect();
        if Username::parse(&name).is_ok() {
            return name;
        }
    }
    "user".to_owned()
}

/// Claims outside the standard ones (the groups claim, named by configuration).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Extra {
    #[serde(flatten)]
    claims: serde_json::Map<String, Value>,
}

impl openidconnect::AdditionalClaims for Extra {}

/// The provider cannot be used right now: logged, and said in words.
fn unavailable(e: impl std::fmt::Display) -> Error {
    tracing::warn!(error = %e, "single sign-on: the identity provider failed");
    Error::Denied("the identity provider cannot be reached right now; please try again".into())
}

/// The provider answered, but not as a sign-in may go on.
fn refused(what: &str, e: impl std::fmt::Display) -> Error {
    tracing::warn!(error = %e, "single sign-on: {what}");
    Error::Denied(format!("{what}; please try again"))
}

/// An error of one request to the provider.
#[derive(Debug)]
struct HttpError(String);

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HttpError {}

/// One request of `openidconnect`'s, sent with our client (no redirects followed).
/// The client is owned (it is a handle): the future then borrows nothing, as
/// handlers' futures must be `Send` for every lifetime.
async fn send(
    client: reqwest::Client,
    request: openidconnect::HttpRequest,
) -> std::result::Result<openidconnect::HttpResponse, HttpError> {
    let (parts, body) = request.into_parts();
    let response = client
        .request(parts.method, parts.uri.to_string())
        .headers(parts.headers)
        .body(body)
        .send()
        .await
        .map_err(|e| HttpError(e.to_string()))?;
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response
        .bytes()
        .await
        .map_err(|e| HttpError(e.to_string()))?;
    let mut out = openidconnect::http::Response::new(bytes.to_vec());
    *out.status_mut() = status;
    *out.headers_mut() = headers;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(account_id: i64, group: &str, role: &str) -> GroupMapping {
        GroupMapping {
            account_id,
            group_name: group.into(),
            role: role.into(),
            created_at: 0,
        }
    }

    #[test]
    fn the_highest_role_of_several_groups_wins_per_account() {
        let got = highest_roles(&[
            mapping(1, "devs", "write"),
            mapping(1, "leads", "admin"),
            mapping(1, "all", "read"),
            mapping(2, "all", "read"),
        ]);
        assert_eq!(got.len(), 2);
        assert_eq!(
            (got[0].role.as_str(), got[0].group.as_str()),
            ("admin", "leads")
        );
        assert_eq!(
            (got[1].role.as_str(), got[1].group.as_str()),
            ("read", "all")
        );
    }

    #[test]
    fn usernames_come_from_the_claims_and_are_valid() {
        let facts = |u: Option<&str>, e: Option<&str>| Claims {
            username: u.map(str::to_owned),
            email: e.map(str::to_owned),
            groups: vec![],
        };
        assert_eq!(
            username_from(&facts(Some("Ada Lovelace"), None), "s"),
            "ada-lovelace"
        );
        assert_eq!(
            username_from(&facts(None, Some("grace@example.com")), "s"),
            "grace"
        );
        assert_eq!(username_from(&facts(Some("!!"), None), "sub-1"), "sub-1");
        assert_eq!(username_from(&facts(None, None), "***"), "user");
    }

    #[test]
    fn groups_claims_are_arrays_or_one_name() {
        assert_eq!(
            groups_of(&serde_json::json!(["b", "a", "a"])),
            vec!["a", "b"]
        );
        assert_eq!(groups_of(&serde_json::json!("devs")), vec!["devs"]);
        assert!(groups_of(&serde_json::json!(3)).is_empty());
    }
}
