//! The Docker token endpoint: `GET /auth/token` with Basic credentials, and the
//! OAuth2 form (`POST /auth/token`, password and refresh_token grants) that containerd
//! and buildkit use.

use super::Registry;
use super::auth::basic_credentials;
use super::errors::OciError;
use crate::domain::Scope;
use crate::services::access::{Caller, Principal};
use crate::services::tokens::GrantedAccess;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::net::SocketAddr;

fn bad_credentials() -> OciError {
    OciError::unauthorized().with_message("incorrect username or password")
}

fn rfc3339_now() -> String {
    crate::services::format_rfc3339(crate::services::now_ms())
}

/// The most scopes one token request may ask for; docker asks for one or two, a
/// cross-repository mount for three.
pub const MAX_SCOPES: usize = 64;

/// The scopes of a request, each `scope` value split at spaces; more than
/// [`MAX_SCOPES`] is a bad request.
fn requested_scopes<'a>(
    values: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<&'a str>, OciError> {
    let scopes: Vec<&str> = values
        .into_iter()
        .flat_map(|s| s.split(' '))
        .filter(|s| !s.is_empty())
        .collect();
    if scopes.len() > MAX_SCOPES {
        return Err(OciError::unsupported()
            .with_status(axum::http::StatusCode::BAD_REQUEST)
            .with_message(format!(
                "a token request names at most {MAX_SCOPES} scopes, this one {}",
                scopes.len()
            )));
    }
    Ok(scopes)
}

/// The access a principal (or an anonymous request) gets for the requested scopes:
/// for each scope, exactly the actions it holds, which for anonymous requests is the
/// pull of public repositories. Scopes that grant nothing, and unparseable ones, are
/// left out.
async fn grant(
    reg: &Registry,
    principal: Option<&Principal>,
    scopes: &[&str],
) -> crate::services::Result<Vec<GrantedAccess>> {
    let mut out = Vec::new();
    let caller = Caller::of(principal);
    for s in scopes {
        match Scope::parse(s) {
            Ok(Scope::Repository { name, actions }) => {
                let held = reg.services.held_actions(&caller, &name, &actions).await?;
                if held.actions.is_empty() {
                    continue;
                }
                out.push(GrantedAccess {
                    kind: "repository".into(),
                    name: name.to_string(),
                    actions: held.actions.iter().map(|a| a.as_str().to_owned()).collect(),
                    public: held.through_public,
                });
            }
            Ok(Scope::Catalog) => out.push(GrantedAccess {
                kind: "registry".into(),
                name: "catalog".into(),
                actions: vec!["*".into()],
                public: false,
            }),
            Err(e) => tracing::debug!(scope = s, error = %e, "ignoring scope"),
        }
    }
    Ok(out)
}

async fn record_login(reg: &Registry, p: &Principal) {
    let account = match (p.node_account_id, p.user_id) {
        (Some(a), _) => Some(a),
        (None, Some(uid)) => reg
            .services
            .db
            .memberships_of(uid)
            .await
            .ok()
            .and_then(|m| m.first().map(|(m, _)| m.account_id)),
        _ => None,
    };
    reg.services
        .audit(account, &p.name, "login", None, None)
        .await;
}

/// `GET /auth/token?service=…&scope=…[&offline_token=true]`.
pub async fn get_token(
    State(reg): State<Registry>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let params: Vec<(String, String)> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let scopes = match requested_scopes(
        params
            .iter()
            .filter(|(k, _)| k == "scope")
            .map(|(_, v)| v.as_str()),
    ) {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    let service = get("service").unwrap_or_else(|| reg.service.clone());
    let principal = match basic_credentials(&headers) {
        Err(()) => return bad_credentials().into_response(),
        Ok(None) => None,
        Ok(Some((user, pass))) => match reg
            .services
            .authenticate(&user, &pass, Some(addr.ip()))
            .await
        {
            Ok(p) => Some(p),
            Err(crate::services::Error::Unauthenticated) => {
                return bad_credentials().into_response();
            }
            Err(e) => return OciError::from(e).into_response(),
        },
    };
    if principal.is_none()
        && let Err(e) = super::auth::throttled(&reg, Some(addr.ip()))
    {
        return e.into_response();
    }
    let offline = get("offline_token").is_some_and(|v| v == "true");
    if let Some(p) = &principal
        && (offline || scopes.is_empty())
    {
        record_login(&reg, p).await;
    }
    let result = async {
        let access = grant(&reg, principal.as_ref(), &scopes).await?;
        let (token, ttl) =
            reg.services
                .tokens
                .issue_access(principal.as_ref(), &service, access)?;
        let mut body = serde_json::json!({
            "token": token,
            "access_token": token,
            "expires_in": ttl,
            "issued_at": rfc3339_now(),
        });
        if offline && let Some(p) = &principal {
            body["refresh_token"] = reg.services.issue_refresh_token(p, &service).await?.into();
        }
        Ok::<_, crate::services::Error>(body)
    }
    .await;
    match result {
        Ok(body) => axum::Json(body).into_response(),
        Err(e) => OciError::from(e).into_response(),
    }
}

#[derive(Deserialize)]
pub struct TokenForm {
    grant_type: String,
    service: Option<String>,
    #[serde(default)]
    scope: String,
    username: Option<String>,
    password: Option<String>,
    refresh_token: Option<String>,
    access_type: Option<String>,
}

/// The largest token form read; a form names a user, a secret and a few scopes.
pub const MAX_FORM_BYTES: usize = 64 * 1024;

/// `POST /auth/token` (OAuth2 form).
pub async fn post_token(
    State(reg): State<Registry>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    form: Result<Form<TokenForm>, FormRejection>,
) -> Response {
    let form = match form {
        Ok(Form(form)) => form,
        Err(rejection) => {
            return OciError::unsupported()
                .with_status(rejection.status())
                .with_message(format!("unreadable token form: {}", rejection.body_text()))
                .into_response();
        }
    };
    let service = form.service.clone().unwrap_or_else(|| reg.service.clone());
    let result = async {
        let (principal, fresh_login) = match form.grant_type.as_str() {
            "password" => {
                let (Some(u), Some(p)) = (&form.username, &form.password) else {
                    return Err(
                        OciError::unauthorized().with_message("username and password are required")
                    );
                };
                match reg.services.authenticate(u, p, Some(addr.ip())).await {
                    Ok(p) => (p, true),
                    Err(crate::services::Error::Unauthenticated) => return Err(bad_credentials()),
                    Err(e) => return Err(e.into()),
                }
            }
            "refresh_token" => {
                let claims = form
                    .refresh_token
                    .as_deref()
                    .and_then(|t| reg.services.tokens.verify(t, true))
                    .ok_or_else(|| {
                        OciError::unauthorized().with_message("invalid refresh token")
                    })?;
                let p = reg
                    .services
                    .redeem_refresh_token(&claims)
                    .await?
                    .ok_or_else(|| {
                        OciError::unauthorized().with_message(
                            "the login has ended (password changed, credential revoked or \
                             expired, or unused for too long); run docker login again",
                        )
                    })?;
                (p, false)
            }
            other => {
                return Err(OciError::unsupported()
                    .with_status(axum::http::StatusCode::BAD_REQUEST)
                    .with_message(format!("unsupported grant_type {other:?}")));
            }
        };
        if fresh_login {
            record_login(&reg, &principal).await;
        }
        let scopes = requested_scopes([form.scope.as_str()])?;
        let access = grant(&reg, Some(&principal), &scopes).await?;
        let (token, ttl) = reg
            .services
            .tokens
            .issue_access(Some(&principal), &service, access)?;
        let mut body = serde_json::json!({
            "access_token": token,
            "token": token,
            "expires_in": ttl,
            "issued_at": rfc3339_now(),
            "scope": form.scope,
        });
        if fresh_login && form.access_type.as_deref() != Some("online") {
            body["refresh_token"] = reg
                .services
                .issue_refresh_token(&principal, &service)
                .await?
                .into();
        }
        Ok(body)
    }
    .await;
    match result {
        Ok(body) => axum::Json(body).into_response(),
        Err(e) => e.into_response(),
    }
}
