//! Who is calling, and the Docker token challenge when they may not do what they ask.

use super::Registry;
use super::errors::OciError;
use crate::domain::{Action, RepositoryName};
use crate::services::access::{Caller, Principal};
use crate::services::tokens::Claims;
use axum::http::{HeaderMap, header};
use base64::Engine;

/// The bearer token of a request, verified; `None` when there is none. A token that
/// fails verification is an error.
pub fn bearer_claims(reg: &Registry, headers: &HeaderMap) -> Result<Option<Claims>, ()> {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(None);
    };
    let Some(token) = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
    else {
        return Ok(None);
    };
    reg.services
        .tokens
        .verify(token.trim(), false)
        .map(Some)
        .ok_or(())
}

/// `Authorization: Basic` credentials: `Ok(None)` when the request has none, `Err`
/// when it has some that cannot be read (not base64, not UTF-8, no colon), which is
/// refused like a wrong password rather than taken for no credentials.
pub fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, ()> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| ())?;
    let Some((scheme, encoded)) = value.split_once(' ') else {
        return Ok(None);
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| ())?;
    let text = String::from_utf8(decoded).map_err(|_| ())?;
    let (user, pass) = text.split_once(':').ok_or(())?;
    Ok(Some((user.to_owned(), pass.to_owned())))
}

/// The `WWW-Authenticate` challenge pointing clients at our token endpoint.
pub fn challenge(
    reg: &Registry,
    headers: &HeaderMap,
    scope: Option<&str>,
    error: Option<&str>,
) -> OciError {
    let realm = format!("{}/auth/token", reg.base_url(headers));
    let mut value = format!("Bearer realm=\"{realm}\",service=\"{}\"", reg.service);
    if let Some(scope) = scope {
        value.push_str(&format!(",scope=\"{scope}\""));
    }
    if let Some(error) = error {
        value.push_str(&format!(",error=\"{error}\""));
    }
    OciError::unauthorized().with_header(header::WWW_AUTHENTICATE, &value)
}

fn scope_for(repo: &RepositoryName, action: Action) -> String {
    let actions = match action {
        Action::Pull => "pull",
        Action::Push => "pull,push",
        Action::Delete => "delete",
    };
    format!("repository:{repo}:{actions}")
}

/// Who a request that passed [`authorize`] came from.
pub struct Authorized(Option<Principal>);

impl Authorized {
    /// The caller, for further decisions (a mount's source).
    pub fn caller(&self) -> Caller {
        Caller::of(self.0.as_ref())
    }

    /// The name audit events carry.
    pub fn actor(&self) -> &str {
        self.0.as_ref().map_or("anonymous", |p| p.name.as_str())
    }

    pub fn is_anonymous(&self) -> bool {
        self.0.is_none()
    }
}

/// An anonymous request over the rate limit of its client's network.
pub fn throttled(reg: &Registry, client: Option<std::net::IpAddr>) -> Result<(), OciError> {
    reg.services.anonymous.admit(client).map_err(|wait| {
        let secs = wait.as_secs().max(1);
        OciError::too_many_requests()
            .with_message(format!(
                "too many anonymous requests from your network; try again in {secs} seconds, \
                 or log in"
            ))
            .with_header(header::RETRY_AFTER, &secs.to_string())
    })
}

/// Lets the request through when its token grants `action` on `repo` (an anonymous
/// token may grant pull of a public repository; such requests are rate-limited per
/// client network). Otherwise a caller who could hold that right is challenged to
/// fetch a better token (401), and one who cannot is denied (403, which docker prints
/// as "requested access to the resource is denied").
pub async fn authorize(
    ctx: &super::Ctx,
    repo: &RepositoryName,
    action: Action,
) -> Result<Authorized, OciError> {
    let (reg, headers) = (&ctx.reg, &ctx.headers);
    let scope = scope_for(repo, action);
    let claims = match bearer_claims(reg, headers) {
        Ok(Some(c)) => c,
        Ok(None) => return Err(challenge(reg, headers, Some(&scope), None)),
        Err(()) => return Err(challenge(reg, headers, Some(&scope), Some("invalid_token"))),
    };
    if let Some(principal) = &claims.prn
        && !reg
            .services
            .principal_is_current(principal)
            .await
            .map_err(OciError::from)?
    {
        return Err(challenge(reg, headers, Some(&scope), Some("invalid_token")));
    }
    if let Some(grant) = claims.granted(repo.as_str(), action) {
        if claims.prn.is_none() {
            throttled(reg, ctx.client)?;
        }
        // A grant that came from the repository being public is checked again: it may
        // have turned private since the token was issued. (Had the caller meanwhile
        // become a member, the held actions below send them for a fresh token.)
        if !grant.public || reg.services.is_public(repo).await.map_err(OciError::from)? {
            return Ok(Authorized(claims.prn));
        }
    }
    let Some(principal) = claims.prn else {
        return Err(challenge(
            reg,
            headers,
            Some(&scope),
            Some("insufficient_scope"),
        ));
    };
    let held = reg
        .services
        .held_actions(&Caller::of(Some(&principal)), repo, &[action])
        .await
        .map_err(OciError::from)?;
    if held.contains(action) {
        Err(challenge(
            reg,
            headers,
            Some(&scope),
            Some("insufficient_scope"),
        ))
    } else {
        Err(OciError::denied())
    }
}

/// The caller of a request that names no repository (catalog, search): from a bearer
/// token (an anonymous one too), or from Basic credentials as `docker search` sends
/// them. `None` when the request carries no credentials at all, so that clients
/// which can log in are challenged to.
pub async fn caller(
    reg: &Registry,
    headers: &HeaderMap,
    client: Option<std::net::IpAddr>,
) -> Result<Option<Caller>, OciError> {
    match bearer_claims(reg, headers) {
        Ok(Some(c)) => {
            match &c.prn {
                Some(p) => {
                    if !reg
                        .services
                        .principal_is_current(p)
                        .await
                        .map_err(OciError::from)?
                    {
                        return Err(challenge(reg, headers, None, Some("invalid_token")));
                    }
                }
                None => throttled(reg, client)?,
            }
            return Ok(Some(Caller::of(c.prn.as_ref())));
        }
        Ok(None) => {}
        Err(()) => return Err(challenge(reg, headers, None, Some("invalid_token"))),
    }
    if let Some((user, pass)) = basic_credentials(headers).map_err(|()| OciError::unauthorized())? {
        return reg
            .services
            .authenticate(&user, &pass, client)
            .await
            .map(|p| Some(Caller::of(Some(&p))))
            .map_err(OciError::from);
    }
    Ok(None)
}
