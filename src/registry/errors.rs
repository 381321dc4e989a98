//! The OCI error codes, in one table, and the one translation from service errors.

use crate::services::{Error, Invalid, Thing};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// An error in the distribution spec's JSON shape.
#[derive(Debug)]
pub struct OciError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

/// Every code we send, with its status and default message.
macro_rules! codes {
    ($($name:ident => $code:literal, $status:ident, $msg:literal;)*) => {
        impl OciError {
            $(
                #[allow(non_snake_case)]
                pub fn $name() -> Self {
                    Self::new(StatusCode::$status, $code, $msg)
                }
            )*
        }
    };
}

codes! {
    blob_unknown => "BLOB_UNKNOWN", NOT_FOUND, "blob unknown to registry";
    blob_upload_invalid => "BLOB_UPLOAD_INVALID", BAD_REQUEST, "blob upload invalid";
    blob_upload_unknown => "BLOB_UPLOAD_UNKNOWN", NOT_FOUND, "blob upload unknown to registry";
    digest_invalid => "DIGEST_INVALID", BAD_REQUEST, "provided digest did not match uploaded content";
    manifest_blob_unknown => "MANIFEST_BLOB_UNKNOWN", BAD_REQUEST, "manifest references a manifest or blob unknown to registry";
    manifest_invalid => "MANIFEST_INVALID", BAD_REQUEST, "manifest invalid";
    manifest_unknown => "MANIFEST_UNKNOWN", NOT_FOUND, "manifest unknown to registry";
    name_invalid => "NAME_INVALID", BAD_REQUEST, "invalid repository name";
    name_unknown => "NAME_UNKNOWN", NOT_FOUND, "repository name not known to registry";
    size_invalid => "SIZE_INVALID", BAD_REQUEST, "provided length did not match content length";
    unauthorized => "UNAUTHORIZED", UNAUTHORIZED, "authentication required";
    denied => "DENIED", FORBIDDEN, "requested access to the resource is denied";
    unsupported => "UNSUPPORTED", METHOD_NOT_ALLOWED, "the operation is unsupported";
    too_many_requests => "TOOMANYREQUESTS", TOO_MANY_REQUESTS, "too many requests";
    unknown => "UNKNOWN", INTERNAL_SERVER_ERROR, "unknown error";
}

impl OciError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            headers: vec![],
        }
    }

    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = message.into();
        self
    }

    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    pub fn with_header(mut self, name: HeaderName, value: &str) -> Self {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.push((name, v));
        }
        self
    }
}

impl From<Error> for OciError {
    fn from(e: Error) -> Self {
        match e {
            Error::NotFound(Thing::Blob) => OciError::blob_unknown(),
            Error::NotFound(Thing::Manifest) => OciError::manifest_unknown(),
            Error::NotFound(Thing::Upload) => OciError::blob_upload_unknown(),
            Error::NotFound(Thing::Repository | Thing::Account) => OciError::name_unknown(),
            Error::NotFound(thing) => {
                OciError::name_unknown().with_message(format!("{thing} not found"))
            }
            Error::Invalid(Invalid::Digest(m)) => OciError::digest_invalid().with_message(m),
            Error::Invalid(Invalid::DigestMismatch) => OciError::digest_invalid(),
            Error::Invalid(Invalid::Manifest(m)) => OciError::manifest_invalid().with_message(m),
            Error::Invalid(Invalid::ManifestReference(d)) => OciError::manifest_blob_unknown()
                .with_message(format!("manifest references unknown {d}")),
            Error::Invalid(Invalid::Range { size }) => OciError::blob_upload_invalid()
                .with_status(StatusCode::RANGE_NOT_SATISFIABLE)
                .with_message("chunk does not start at the end of the upload")
                .with_header(header::RANGE, &format!("0-{}", size.saturating_sub(1))),
            Error::Invalid(Invalid::Size(m)) => OciError::size_invalid().with_message(m),
            Error::Invalid(Invalid::Name(m)) => OciError::name_invalid().with_message(m),
            Error::Invalid(Invalid::Request(m)) => OciError::blob_upload_invalid().with_message(m),
            Error::Conflict(m) => OciError::denied()
                .with_status(StatusCode::CONFLICT)
                .with_message(m),
            Error::Forbidden => OciError::denied(),
            Error::Denied(m) => OciError::denied().with_message(m),
            Error::Unauthenticated => OciError::unauthorized(),
            Error::TooManyRequests { retry_after } => OciError::too_many_requests()
                .with_message(format!(
                    "too many failed attempts; try again in {} seconds",
                    retry_seconds(retry_after)
                ))
                .with_header(header::RETRY_AFTER, &retry_seconds(retry_after).to_string()),
            Error::QuotaExceeded { used, quota } => OciError::denied().with_message(format!(
                "the account's storage quota is exceeded: {used} of {quota} bytes used; delete images or ask for a larger quota"
            )),
            Error::StorageFull => OciError::unknown()
                .with_status(StatusCode::INSUFFICIENT_STORAGE)
                .with_message(
                    "the registry's storage is full; this upload was discarded, push again later",
                ),
            Error::Internal(cause) => {
                tracing::error!(error = ?cause, "internal error");
                OciError::unknown()
            }
        }
    }
}

/// Whole seconds to wait, at least one.
fn retry_seconds(d: std::time::Duration) -> u64 {
    (d.as_millis().div_ceil(1000) as u64).max(1)
}

impl IntoResponse for OciError {
    fn into_response(self) -> Response {
        // `detail` is never null: docker's client turns a detail-less error whose message
        // is the code's default into a bare code, which it neither prints in full nor
        // treats as final (it retries a DENIED push five times).
        let body = serde_json::json!({
            "errors": [{"code": self.code, "message": self.message, "detail": {}}]
        });
        let mut resp = (self.status, axum::Json(body)).into_response();
        for (k, v) in self.headers {
            resp.headers_mut().append(k, v);
        }
        resp
    }
}
