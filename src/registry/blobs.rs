//! Blob reads, deletes and uploads.

use super::Ctx;
use super::auth::authorize;
use super::errors::OciError;
use crate::domain::{Action, ByteRange, ContentRange, Digest, RepositoryName};
use crate::services::uploads::BodyStream;
use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::TryStreamExt;

fn body_stream(body: Body) -> impl BodyStream {
    body.into_data_stream().map_err(std::io::Error::other)
}

fn location(value: &str) -> HeaderValue {
    HeaderValue::from_str(value).unwrap_or_else(|_| HeaderValue::from_static("/"))
}

fn upload_accepted(status: StatusCode, name: &RepositoryName, id: &str, size: u64) -> Response {
    let mut resp = status.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::LOCATION,
        location(&format!("/v2/{name}/blobs/uploads/{id}")),
    );
    h.insert(
        header::RANGE,
        location(&format!("0-{}", size.saturating_sub(1))),
    );
    h.insert("docker-upload-uuid", location(id));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
    resp
}

fn blob_created(name: &RepositoryName, digest: &Digest) -> Response {
    let mut resp = StatusCode::CREATED.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::LOCATION,
        location(&format!("/v2/{name}/blobs/{digest}")),
    );
    h.insert("docker-content-digest", location(&digest.to_string()));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
    resp
}

/// `GET`/`HEAD /v2/<name>/blobs/<digest>`, with single byte ranges.
pub async fn get_blob(
    ctx: &Ctx,
    name: RepositoryName,
    digest: Digest,
    with_body: bool,
) -> Result<Response, OciError> {
    authorize(ctx, &name, Action::Pull).await?;
    let services = &ctx.reg.services;
    let size = services.blob_size(&name, &digest).await?;
    // HEAD is answered here, from the database; a GET may go to the store itself,
    // which honours the client's Range on its own.
    if with_body && let Some(url) = services.blob_redirect(&digest).await? {
        let mut resp = StatusCode::TEMPORARY_REDIRECT.into_response();
        let h = resp.headers_mut();
        h.insert(header::LOCATION, location(&url));
        h.insert("docker-content-digest", location(&digest.to_string()));
        h.insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
        return Ok(resp);
    }
    let range = match ctx.headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        None => None,
        Some(r) => match ByteRange::parse(r).ok().and_then(|r| r.resolve(size)) {
            Some(r) => Some(r),
            None => {
                let mut resp = OciError::blob_unknown()
                    .with_status(StatusCode::RANGE_NOT_SATISFIABLE)
                    .with_message("requested range not satisfiable")
                    .into_response();
                resp.headers_mut()
                    .insert(header::CONTENT_RANGE, location(&format!("bytes */{size}")));
                return Ok(resp);
            }
        },
    };
    let (start, end) = range.unwrap_or((0, size.saturating_sub(1)));
    let len = if size == 0 { 0 } else { end - start + 1 };
    let body = if with_body && len > 0 {
        Body::from_stream(services.read_blob(&name, &digest, start, len).await?)
    } else {
        Body::empty()
    };
    let status = if range.is_some() {
        StatusCode::PARTIAL_CONTENT
    } else {
        StatusCode::OK
    };
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert("docker-content-digest", location(&digest.to_string()));
    h.insert(header::ETAG, location(&format!("\"{digest}\"")));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("max-age=31536000"),
    );
    if range.is_some() {
        h.insert(
            header::CONTENT_RANGE,
            location(&format!("bytes {start}-{end}/{size}")),
        );
    }
    Ok(resp)
}

/// `DELETE /v2/<name>/blobs/<digest>`.
pub async fn delete_blob(
    ctx: &Ctx,
    name: RepositoryName,
    digest: Digest,
) -> Result<Response, OciError> {
    let p = authorize(ctx, &name, Action::Delete).await?;
    ctx.reg
        .services
        .delete_blob(&name, &digest, p.actor())
        .await?;
    Ok(StatusCode::ACCEPTED.into_response())
}

/// `POST /v2/<name>/blobs/uploads/`: start an upload, upload in one go (`?digest=`), or
/// mount from another repository (`?mount=&from=`).
pub async fn post_upload(
    ctx: &Ctx,
    name: RepositoryName,
    body: Body,
) -> Result<Response, OciError> {
    let principal = authorize(ctx, &name, Action::Push).await?;
    let services = &ctx.reg.services;
    if let Some(mount) = ctx.param("mount") {
        let digest =
            Digest::parse(&mount).map_err(|e| OciError::digest_invalid().with_message(e.0))?;
        // An unreadable or unknown `from` is no error: the client then simply uploads.
        let from = ctx
            .param("from")
            .and_then(|f| RepositoryName::parse(&f).ok());
        let mounted = match (&from, ctx.param("from")) {
            (None, Some(_)) => None,
            _ => {
                services
                    .mount_blob(
                        &principal.caller(),
                        &name,
                        &digest,
                        from.as_ref(),
                        principal.actor(),
                    )
                    .await?
            }
        };
        if mounted.is_some() {
            return Ok(blob_created(&name, &digest));
        }
    }
    if let Some(d) = ctx.param("digest") {
        let digest = Digest::parse(&d).map_err(|e| OciError::digest_invalid().with_message(e.0))?;
        let upload = services.start_upload(&name).await?;
        if let Err(e) = services
            .finish_upload(
                &name,
                &upload.id,
                &digest,
                None,
                body_stream(body),
                principal.actor(),
            )
            .await
        {
            // The client never learned this session's id: do not leave it behind.
            let _ = services.cancel_upload(&name, &upload.id).await;
            return Err(e.into());
        }
        return Ok(blob_created(&name, &digest));
    }
    let upload = services.start_upload(&name).await?;
    Ok(upload_accepted(StatusCode::ACCEPTED, &name, &upload.id, 0))
}

/// `GET /v2/<name>/blobs/uploads/<id>`: how much was received.
pub async fn get_upload(ctx: &Ctx, name: RepositoryName, id: String) -> Result<Response, OciError> {
    authorize(ctx, &name, Action::Push).await?;
    let size = ctx.reg.services.upload_status(&name, &id).await?;
    Ok(upload_accepted(StatusCode::NO_CONTENT, &name, &id, size))
}

/// `PATCH /v2/<name>/blobs/uploads/<id>`: a chunk, or the whole stream.
pub async fn patch_upload(
    ctx: &Ctx,
    name: RepositoryName,
    id: String,
    body: Body,
) -> Result<Response, OciError> {
    let principal = authorize(ctx, &name, Action::Push).await?;
    let range = content_range(ctx)?;
    let size = ctx
        .reg
        .services
        .append_upload(&name, &id, range, body_stream(body), principal.actor())
        .await?;
    Ok(upload_accepted(StatusCode::ACCEPTED, &name, &id, size))
}

/// The `Content-Range` of a chunk, if sent.
fn content_range(ctx: &Ctx) -> Result<Option<ContentRange>, OciError> {
    match ctx
        .headers
        .get(header::CONTENT_RANGE)
        .and_then(|v| v.to_str().ok())
    {
        None => Ok(None),
        Some(r) => ContentRange::parse(r).map(Some).map_err(|_| {
            OciError::blob_upload_invalid()
                .with_status(StatusCode::RANGE_NOT_SATISFIABLE)
                .with_message("invalid Content-Range")
        }),
    }
}

/// `PUT /v2/<name>/blobs/uploads/<id>?digest=`: the last chunk and the digest.
pub async fn put_upload(
    ctx: &Ctx,
    name: RepositoryName,
    id: String,
    body: Body,
) -> Result<Response, OciError> {
    let principal = authorize(ctx, &name, Action::Push).await?;
    let d = ctx.param("digest").ok_or_else(|| {
        OciError::digest_invalid().with_message("the digest parameter is required")
    })?;
    let digest = Digest::parse(&d).map_err(|e| OciError::digest_invalid().with_message(e.0))?;
    let range = content_range(ctx)?;
    ctx.reg
        .services
        .finish_upload(
            &name,
            &id,
            &digest,
            range,
            body_stream(body),
            principal.actor(),
        )
        .await?;
    Ok(blob_created(&name, &digest))
}

/// `DELETE /v2/<name>/blobs/uploads/<id>`: cancel.
pub async fn delete_upload(
    ctx: &Ctx,
    name: RepositoryName,
    id: String,
) -> Result<Response, OciError> {
    authorize(ctx, &name, Action::Push).await?;
    ctx.reg.services.cancel_upload(&name, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
