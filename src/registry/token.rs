//! The Docker token endpoint: `GET /auth/token` with Basic credentials, and the
//! OAuth2 form (`POST /auth/token`, password and refresh_token grants) that containerd
//! and buildkit use.

use super::Registry;
use super::auth::basic_credentials;
use super::errors::OciError;
use crate::domain::Scope;
use crate::services::access::Principal;
use crate::services::tokens::GrantedAccess;
use axum::Form;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::net::SocketAddr;

fn bad_credentials() -> OciError {
    OciError::unauthorized().with_message("incorrect username or password")
}

fn rfc3339_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    crate::services::format_rfc3339(secs as i64 * 1000)
}

/// The access a principal gets for the requested scopes: for each scope, exactly the
/// actions it holds (possibly none). Unparseable scopes are skipped.
async fn grant(
    reg: &Registry,
    principal: Option<&Principal>,
    scopes: &[String],
) -> crate::services::Result<Vec<GrantedAccess>> {
    let mut out = Vec::new();
    let Some(p) = principal else { return Ok(out) };
    for s in scopes
        .iter()
        .flat_map(|s| s.split(' '))
        .filter(|s| !s.is_empty())
    {
        match Scope::parse(s) {
            Ok(Scope::Repository { name, actions }) => {
                let held = reg.services.granted_actions(p, &name, &actions).await?;
                out.push(GrantedAccess {
                    kind: "repository".into(),
                    name: name.to_string(),
                    actions: held.iter().map(|a| a.as_str().to_owned()).collect(),
                });
            }
            Ok(Scope::Catalog) => out.push(GrantedAccess {
                kind: "registry".into(),
                name: "catalog".into(),
                actions: vec!["*".into()],
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
    let scopes: Vec<String> = params
        .iter()
        .filter(|(k, _)| k == "scope")
        .map(|(_, v)| v.clone())
        .collect();
    let service = get("service").unwrap_or_else(|| reg.service.clone());
    let principal = match basic_credentials(&headers) {
        Some((user, pass)) => match reg
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
        None => None,
    };
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
                .issue(principal.as_ref(), &service, access, false)?;
        let mut body = serde_json::json!({
            "token": token,
            "access_token": token,
            "expires_in": ttl,
            "issued_at": rfc3339_now(),
        });
        if offline && let Some(p) = &principal {
            body["refresh_token"] = reg
                .services
                .tokens
                .issue(Some(p), &service, vec![], true)?
                .0
                .into();
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

/// `POST /auth/token` (OAuth2 form).
pub async fn post_token(
    State(reg): State<Registry>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Form(form): Form<TokenForm>,
) -> Response {
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
                let p = claims.prn.ok_or_else(|| {
                    OciError::unauthorized().with_message("invalid refresh token")
                })?;
                let p = reg.services.principal_by_ids(&p).await?.ok_or_else(|| {
                    OciError::unauthorized().with_message("the credential was revoked")
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
        let scopes = vec![form.scope.clone()];
        let access = grant(&reg, Some(&principal), &scopes).await?;
        let (token, ttl) = reg
            .services
            .tokens
            .issue(Some(&principal), &service, access, false)?;
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
                .tokens
                .issue(Some(&principal), &service, vec![], true)?
                .0
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
