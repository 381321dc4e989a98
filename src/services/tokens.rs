//! Registry bearer tokens (short-lived JWTs, HS256) and refresh tokens.

use super::access::Principal;
use super::{Error, Result};
use crate::domain::Action;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// How long a registry token is valid. Clients fetch a new one per operation.
pub const ACCESS_TOKEN_SECONDS: u64 = 300;
/// How long a refresh token (containerd, buildkit) is valid.
pub const REFRESH_TOKEN_SECONDS: u64 = 24 * 3600;
const ISSUER: &str = "berth";

/// One granted resource in a token, as in the Docker token specification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantedAccess {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub actions: Vec<String>,
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
}

impl Claims {
    /// Whether the token grants `action` on the repository.
    pub fn allows(&self, repository: &str, action: Action) -> bool {
        self.access.iter().any(|a| {
            a.kind == "repository"
                && a.name == repository
                && a.actions.iter().any(|x| x == action.as_str())
        })
    }
}

/// The signing key, kept in the data directory so tokens survive restarts.
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

    /// Loads the key file, creating it with 32 random bytes on first start.
    pub fn load_or_create(path: &Path) -> std::io::Result<Self> {
        match std::fs::read(path) {
            Ok(k) if k.len() >= 32 => Ok(Self::from_secret(&k)),
            Ok(_) | Err(_) if !path.exists() => {
                let key: [u8; 32] = rand::random();
                write_private(path, &key)?;
                Ok(Self::from_secret(&key))
            }
            Ok(_) => Err(std::io::Error::other(format!(
                "{} is too short to be a key",
                path.display()
            ))),
            Err(e) => Err(e),
        }
    }

    pub fn issue(
        &self,
        principal: Option<&Principal>,
        service: &str,
        access: Vec<GrantedAccess>,
        refresh: bool,
    ) -> Result<(String, u64)> {
        let now = unix_now();
        let ttl = if refresh {
            REFRESH_TOKEN_SECONDS
        } else {
            ACCESS_TOKEN_SECONDS
        };
        let claims = Claims {
            iss: ISSUER.into(),
            sub: principal.map(|p| p.name.clone()).unwrap_or_default(),
            aud: service.to_owned(),
            exp: now + ttl,
            nbf: now.saturating_sub(10),
            iat: now,
            jti: uuid::Uuid::new_v4().to_string(),
            access,
            prn: principal.cloned(),
            typ: refresh.then(|| "refresh".to_owned()),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| Error::Internal(e.into()))?;
        Ok((token, ttl))
    }

    /// Verifies signature, issuer and lifetime; `None` for anything else.
    pub fn verify(&self, token: &str, refresh: bool) -> Option<Claims> {
        let mut v = Validation::new(Algorithm::HS256);
        v.set_issuer(&[ISSUER]);
        v.validate_aud = false;
        v.leeway = 5;
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &v)
            .ok()?
            .claims;
        (claims.typ.as_deref() == refresh.then_some("refresh")).then_some(claims)
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    opts.mode(0o600);
    let mut f = opts.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
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
        }];
        let (t, ttl) = keys.issue(None, "berth", access, false).unwrap();
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
}
