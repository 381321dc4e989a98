//! Registry bearer tokens (short-lived JWTs, HS256) and refresh tokens. Lifetimes are
//! checked against the server's clock (`services::now_ms`), not the library's.

use super::access::Principal;
use super::{Error, Result};
use crate::domain::Action;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// How long a registry token is valid. Clients fetch a new one per operation.
pub const ACCESS_TOKEN_SECONDS: u64 = 300;
/// The `exp` of a refresh token whose source does not expire by itself: what it
/// lives by is checked on every use instead (see `Services::redeem_refresh_token`).
pub const OPEN_ENDED_SECONDS: u64 = 10 * 365 * 86_400;
const ISSUER: &str = "berth";
/// Clock skew tolerated on `exp`.
const LEEWAY_SECONDS: u64 = 5;

/// One granted resource in a token, as in the Docker token specification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantedAccess {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub actions: Vec<String>,
    /// Granted only because the repository is public: checked again on every request,
    /// so making it private ends such access at once.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub public: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: u64,
    pub nbf: u64,
    pub iat: u64,
    pub jti: String,
    /// What the token grants; empty for refresh tokens.
    #[serde(default)]
    pub access: Vec<GrantedAccess>,
    /// Who holds it, so rights can be rechecked and listings filtered.
    pub prn: Option<Principal>,
    /// "refresh" for refresh tokens, absent for access tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typ: Option<String>,
    /// For a refresh token from a password login: the refresh grant it lives by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rid: Option<i64>,
}

impl Claims {
    /// Whether the token grants `action` on the repository.
    pub fn allows(&self, repository: &str, action: Action) -> bool {
        self.granted(repository, action).is_some()
    }

    /// The grant of the token that allows `action` on the repository.
    pub fn granted(&self, repository: &str, action: Action) -> Option<&GrantedAccess> {
        self.access.iter().find(|a| {
            a.kind == "repository"
                && a.name == repository
                && a.actions.iter().any(|x| x == action.as_str())
        })
    }
}

/// The name of the token signing key among the site's secrets.
const SIGNING_KEY: &str = "token_signing_key";

/// The signing key, kept in the database so tokens survive restarts and every
/// replica accepts the others' tokens.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl TokenKeys {
    pub fn from_secret(secret: &[u8]) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        }
    }

    /// The site's signing key from the database, which every replica shares. The
    /// first start stores one: the key file of a data folder from before keys moved
    /// to the database (so tokens and logins issued then keep working), or 32 random
    /// bytes.
    pub async fn load_or_create(db: &crate::db::Db, legacy_file: &Path) -> anyhow::Result<Self> {
        let candidate = match std::fs::read(legacy_file) {
            Ok(k) if k.len() >= 32 => k,
            Ok(_) => anyhow::bail!("{} is too short to be a key", legacy_file.display()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                rand::random::<[u8; 32]>().to_vec()
            }
            Err(e) => {
                return Err(
                    anyhow::Error::new(e).context(format!("reading {}", legacy_file.display()))
                );
            }
        };
        let stored = db
            .site_secret_or_insert(SIGNING_KEY, &hex::encode(candidate), super::now_ms())
            .await?;
        let key = hex::decode(&stored)
            .ok()
            .filter(|k| k.len() >= 32)
            .ok_or_else(|| anyhow::anyhow!("the stored token signing key is damaged"))?;
        Ok(Self::from_secret(&key))
    }

    /// An access token granting `access`, for [`ACCESS_TOKEN_SECONDS`].
    pub fn issue_access(
        &self,
        principal: Option<&Principal>,
        service: &str,
        access: Vec<GrantedAccess>,
    ) -> Result<(String, u64)> {
        let now = unix_now();
        let token = self.sign(Claims {
            iss: ISSUER.into(),
            sub: principal.map(|p| p.name.clone()).unwrap_or_default(),
            aud: service.to_owned(),
            exp: now + ACCESS_TOKEN_SECONDS,
            nbf: now.saturating_sub(10),
            iat: now,
            jti: uuid::Uuid::new_v4().to_string(),
            access,
            prn: principal.cloned(),
            typ: None,
            rid: None,
        })?;
        Ok((token, ACCESS_TOKEN_SECONDS))
    }

    /// A refresh token for `principal`, valid until `expires_at` (Unix seconds) at
    /// most; `grant` is the refresh grant of a password login.
    pub fn issue_refresh(
        &self,
        principal: &Principal,
        service: &str,
        grant: Option<i64>,
        expires_at: u64,
    ) -> Result<String> {
        let now = unix_now();
        self.sign(Claims {
            iss: ISSUER.into(),
            sub: principal.name.clone(),
            aud: service.to_owned(),
            exp: expires_at,
            nbf: now.saturating_sub(10),
            iat: now,
            jti: uuid::Uuid::new_v4().to_string(),
            access: vec![],
            prn: Some(principal.clone()),
            typ: Some("refresh".to_owned()),
            rid: grant,
        })
    }

    fn sign(&self, claims: Claims) -> Result<String> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| Error::Internal(e.into()))
    }

    /// Verifies signature, issuer and lifetime; `None` for anything else.
    pub fn verify(&self, token: &str, refresh: bool) -> Option<Claims> {
        let mut v = Validation::new(Algorithm::HS256);
        v.set_issuer(&[ISSUER]);
        v.validate_aud = false;
        // Expiry is checked below, by the server's clock.
        v.validate_exp = false;
        v.set_required_spec_claims(&["iss"]);
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &v)
            .ok()?
            .claims;
        if claims.exp + LEEWAY_SECONDS <= unix_now() {
            return None;
        }
        (claims.typ.as_deref() == refresh.then_some("refresh")).then_some(claims)
    }
}

/// Seconds since the Unix epoch, by the server's clock.
pub fn unix_now() -> u64 {
    (super::now_ms() / 1000).max(0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_tampering() {
        let keys = TokenKeys::from_secret(&[7u8; 32]);
        let access = vec![GrantedAccess {
            kind: "repository".into(),
            name: "acme/app".into(),
            actions: vec!["pull".into()],
            public: false,
        }];
        let (t, ttl) = keys.issue_access(None, "berth", access).unwrap();
        assert_eq!(ttl, ACCESS_TOKEN_SECONDS);
        let c = keys.verify(&t, false).unwrap();
        assert!(c.allows("acme/app", Action::Pull));
        assert!(!c.allows("acme/app", Action::Push));
        assert!(!c.allows("other/app", Action::Pull));
        // An access token is not a refresh token, and another key's token is nothing.
        assert!(keys.verify(&t, true).is_none());
        assert!(
            TokenKeys::from_secret(&[8u8; 32])
                .verify(&t, false)
                .is_none()
        );
        let mut bad = t.clone();
        bad.pop();
        assert!(keys.verify(&bad, false).is_none());
    }

    #[test]
    fn refresh_tokens_end_at_their_expiry() {
        let keys = TokenKeys::from_secret(&[7u8; 32]);
        let p = Principal::person("alice", 1);
        let live = keys
            .issue_refresh(&p, "berth", Some(9), unix_now() + 60)
            .unwrap();
        let c = keys.verify(&live, true).unwrap();
        assert_eq!(c.rid, Some(9));
        assert!(keys.verify(&live, false).is_none());
        let dead = keys
            .issue_refresh(&p, "berth", None, unix_now() - 60)
            .unwrap();
        assert!(keys.verify(&dead, true).is_none());
    }
}
