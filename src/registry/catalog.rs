//! `GET /v2/_catalog` and `GET /v1/search` (what `docker search` calls), both limited
//! to the repositories the caller may pull: their accounts' and the public ones.

use super::auth::{caller, challenge};
use super::errors::OciError;
use super::manifests::{MAX_PAGE, next_link, page_params};
use super::{Ctx, Registry};
use axum::extract::{ConnectInfo, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::net::SocketAddr;

/// `GET /v2/_catalog[?n=&last=]`.
pub async fn get_catalog(ctx: &Ctx) -> Result<Response, OciError> {
    let Some(caller) = caller(&ctx.reg, &ctx.headers, ctx.client).await? else {
        return Err(challenge(
            &ctx.reg,
            &ctx.headers,
            Some("registry:catalog:*"),
            None,
        ));
    };
    let (n, last) = page_params(ctx)?;
    let repos = if n == Some(0) {
        vec![]
    } else {
        ctx.reg
            .services
            .catalog(&caller, last.as_deref(), n.unwrap_or(MAX_PAGE))
            .await?
    };
    let mut resp = axum::Json(serde_json::json!({"repositories": repos})).into_response();
    next_link(&mut resp, "/v2/_catalog", n, &repos);
    Ok(resp)
}

#[derive(Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
    n: Option<u64>,
}

/// `GET /v1/search?q=&n=`, answered in the v1 shape docker expects.
pub async fn get_search(
    State(reg): State<Registry>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(q): Query<SearchQuery>,
) -> Response {
    let caller = match caller(&reg, &headers, Some(addr.ip())).await {
        Ok(Some(c)) => c,
        Ok(None) => {
            return challenge(&reg, &headers, Some("registry:catalog:search"), None)
                .into_response();
        }
        Err(e) => return e.into_response(),
    };
    let n = q.n.unwrap_or(25).clamp(1, 100);
    match reg.services.search(&caller, q.q.trim(), n).await {
        Ok(names) => {
            let results: Vec<_> = names
                .iter()
                .map(|name| {
                    serde_json::json!({
                        "name": name,
                        "description": "",
                        "star_count": 0,
                        "is_official": false,
                        "is_automated": false,
                    })
                })
                .collect();
            axum::Json(serde_json::json!({
                "query": q.q,
                "num_results": results.len(),
                "num_pages": 1,
                "page": 1,
                "page_size": n,
                "results": results,
            }))
            .into_response()
        }
        Err(e) => OciError::from(e).into_response(),
    }
}
