//! Manifests, tags and referrers.

use super::Ctx;
use super::auth::authorize;
use super::errors::OciError;
use crate::domain::{Action, Digest, Reference, RepositoryName, TagName, media};
use crate::services::manifests::MAX_MANIFEST_SIZE;
use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The most entries one page of a listing holds.
pub const MAX_PAGE: u64 = 10_000;

fn value(v: &str) -> HeaderValue {
    HeaderValue::from_str(v).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `GET`/`HEAD /v2/<name>/manifests/<reference>`: the exact bytes pushed.
pub async fn get_manifest(
    ctx: &Ctx,
    name: RepositoryName,
    reference: Reference,
    with_body: bool,
) -> Result<Response, OciError> {
    let who = authorize(ctx, &name, Action::Pull).await?;
    let m = ctx.reg.services.manifest(&name, &reference).await?;
    if with_body {
        ctx.reg
            .services
            .record_pull(&m, &name, &reference, who.actor());
        ctx.reg.services.metrics.record_pull(who.is_anonymous());
    }
    let len = m.content.len();
    let body = if with_body {
        Body::from(m.content)
    } else {
        Body::empty()
    };
    let mut resp = (StatusCode::OK, body).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, value(&m.media_type));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert("docker-content-digest", value(&m.digest));
    h.insert(header::ETAG, value(&format!("\"{}\"", m.digest)));
    Ok(resp)
}

/// `PUT /v2/<name>/manifests/<reference>[?tag=…]`.
pub async fn put_manifest(
    ctx: &Ctx,
    name: RepositoryName,
    reference: Reference,
    body: Body,
) -> Result<Response, OciError> {
    let p = authorize(ctx, &name, Action::Push).await?;
    let bytes = axum::body::to_bytes(body, MAX_MANIFEST_SIZE + 1)
        .await
        .map_err(|_| {
            OciError::size_invalid()
                .with_status(StatusCode::PAYLOAD_TOO_LARGE)
                .with_message(format!("a manifest has at most {MAX_MANIFEST_SIZE} bytes"))
        })?;
    let mut tags = Vec::new();
    for t in ctx.params("tag") {
        tags.push(TagName::parse(&t).map_err(|e| OciError::manifest_invalid().with_message(e.0))?);
    }
    let content_type = ctx
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let pushed = ctx
        .reg
        .services
        .put_manifest(&name, &reference, tags, content_type, &bytes, p.actor())
        .await?;
    let mut resp = StatusCode::CREATED.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::LOCATION,
        value(&format!("/v2/{name}/manifests/{}", pushed.digest)),
    );
    h.insert("docker-content-digest", value(&pushed.digest.to_string()));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
    if let Some(s) = &pushed.subject {
        h.insert("oci-subject", value(&s.to_string()));
    }
    for t in &pushed.tags {
        h.append("oci-tag", value(t.as_str()));
    }
    Ok(resp)
}

/// `DELETE /v2/<name>/manifests/<reference>`: a tag, or a manifest by digest.
pub async fn delete_manifest(
    ctx: &Ctx,
    name: RepositoryName,
    reference: Reference,
) -> Result<Response, OciError> {
    let p = authorize(ctx, &name, Action::Delete).await?;
    ctx.reg
        .services
        .delete_manifest(&name, &reference, p.actor())
        .await?;
    Ok(StatusCode::ACCEPTED.into_response())
}

/// Reads `n` (page size) and `last` of a listing.
pub fn page_params(ctx: &Ctx) -> Result<(Option<u64>, Option<String>), OciError> {
    let n = match ctx.param("n") {
        None => None,
        Some(n) => Some(
            n.parse::<u64>()
                .map_err(|_| {
                    OciError::new(
                        StatusCode::BAD_REQUEST,
                        "PAGINATION_NUMBER_INVALID",
                        "invalid number of results requested",
                    )
                })?
                .min(MAX_PAGE),
        ),
    };
    Ok((n, ctx.param("last")))
}

/// A `Link` header to the next page when this one was full.
pub fn next_link(resp: &mut Response, path: &str, n: Option<u64>, items: &[String]) {
    if let (Some(n), Some(last)) = (n, items.last())
        && n > 0
        && items.len() as u64 == n
    {
        let last: String = url::form_urlencoded::byte_serialize(last.as_bytes()).collect();
        resp.headers_mut().insert(
            header::LINK,
            value(&format!("<{path}?n={n}&last={last}>; rel=\"next\"")),
        );
    }
}

/// `GET /v2/<name>/tags/list[?n=&last=]`.
pub async fn get_tags(ctx: &Ctx, name: RepositoryName) -> Result<Response, OciError> {
    authorize(ctx, &name, Action::Pull).await?;
    let (n, last) = page_params(ctx)?;
    let tags = if n == Some(0) {
        ctx.reg.services.repository(&name).await?;
        vec![]
    } else {
        ctx.reg
            .services
            .tags(&name, last.as_deref(), n.unwrap_or(MAX_PAGE))
            .await?
    };
    let mut resp =
        axum::Json(serde_json::json!({"name": name.as_str(), "tags": tags})).into_response();
    next_link(&mut resp, &format!("/v2/{name}/tags/list"), n, &tags);
    Ok(resp)
}

/// `GET /v2/<name>/referrers/<digest>[?artifactType=]`: an index of the manifests
/// whose subject is the digest.
pub async fn get_referrers(
    ctx: &Ctx,
    name: RepositoryName,
    digest: Digest,
) -> Result<Response, OciError> {
    authorize(ctx, &name, Action::Pull).await?;
    let filter = ctx.param("artifactType");
    let manifests = ctx
        .reg
        .services
        .referrers(&name, &digest, filter.as_deref())
        .await?;
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_INDEX,
        "manifests": manifests,
    });
    let mut resp = (
        StatusCode::OK,
        serde_json::to_vec(&index).unwrap_or_default(),
    )
        .into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(media::OCI_INDEX),
    );
    if filter.is_some() {
        resp.headers_mut().insert(
            "oci-filters-applied",
            HeaderValue::from_static("artifactType"),
        );
    }
    Ok(resp)
}
