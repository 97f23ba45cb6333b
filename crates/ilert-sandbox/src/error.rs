//! Error types: `SandboxError` for starting the sandbox, `ApiError` for ilert's REST error body
//! (`{"status", "message", "code"}`, schema `RestError` plus the `code` every ilert client reads).

use std::path::PathBuf;

use axum::Json;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::json;

/// Failure to open or prepare the sandbox database.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("cannot create the sandbox data directory {path}: {source}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot delete {path} while resetting the sandbox: {source}")]
    Remove {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("SQLite error on {path}: {source}")]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error(
        "{path} has schema version {found}, but this sandbox only knows up to {supported}; \
         start it with reset to recreate the database"
    )]
    SchemaTooNew {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
}

/// An error answered to an API caller. Every variant renders as ilert's JSON error body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    BadRequest(String),
    /// No `Authorization` header at all.
    Unauthorized(String),
    /// A credential was sent but is not a valid API key; ilert answers 403 here, not 401.
    KeyError,
    /// Valid key, but the user's role does not allow the operation.
    Forbidden(String),
    NotFound(String),
    MethodNotAllowed(String),
    /// A stale `If-Match` on `PUT /incidents/{id}`.
    PreconditionFailed(String),
    TooManyRequests(String),
    /// Details go to the log only, so that SQL text never reaches a caller.
    Internal(String),
    /// Any other status produced by the HTTP layer itself (413, 415, ...).
    Other {
        status: StatusCode,
        message: String,
    },
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::BadRequest(message.into())
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::NotFound(message.into())
    }

    pub fn internal(detail: impl Into<String>) -> Self {
        ApiError::Internal(detail.into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::KeyError | ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            ApiError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Other { status, .. } => *status,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "BAD_REQUEST",
            ApiError::Unauthorized(_) => "UNAUTHORIZED",
            ApiError::KeyError => "KEY_ERROR",
            ApiError::Forbidden(_) => "FORBIDDEN",
            ApiError::NotFound(_) => "NOT_FOUND",
            ApiError::MethodNotAllowed(_) => "METHOD_NOT_ALLOWED",
            ApiError::PreconditionFailed(_) => "PRECONDITION_FAILED",
            ApiError::TooManyRequests(_) => "TOO_MANY_REQUESTS",
            ApiError::Internal(_) => "INTERNAL_ERROR",
            ApiError::Other { status, .. } => code_for_status(*status),
        }
    }

    pub fn message(&self) -> &str {
        match self {
            ApiError::BadRequest(m)
            | ApiError::Unauthorized(m)
            | ApiError::Forbidden(m)
            | ApiError::NotFound(m)
            | ApiError::MethodNotAllowed(m)
            | ApiError::PreconditionFailed(m)
            | ApiError::TooManyRequests(m)
            | ApiError::Other { message: m, .. } => m,
            ApiError::KeyError => "The API key is invalid, expired or revoked.",
            ApiError::Internal(_) => "Internal server error. Please try again later.",
        }
    }
}

fn code_for_status(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "BAD_REQUEST",
        401 => "UNAUTHORIZED",
        403 => "FORBIDDEN",
        404 => "NOT_FOUND",
        405 => "METHOD_NOT_ALLOWED",
        412 => "PRECONDITION_FAILED",
        413 => "PAYLOAD_TOO_LARGE",
        415 => "UNSUPPORTED_MEDIA_TYPE",
        429 => "TOO_MANY_REQUESTS",
        _ => "ERROR",
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status().as_u16(),
            self.code(),
            self.message()
        )
    }
}

impl std::error::Error for ApiError {}

impl From<rusqlite::Error> for ApiError {
    fn from(err: rusqlite::Error) -> Self {
        ApiError::Internal(format!("SQLite: {err}"))
    }
}

impl From<serde_json::Error> for ApiError {
    fn from(err: serde_json::Error) -> Self {
        ApiError::Internal(format!("stored JSON: {err}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(detail) = &self {
            tracing::error!(%detail, "internal sandbox error");
        }
        let status = self.status();
        let body = json!({
            "status": status.as_u16(),
            "message": self.message(),
            "code": self.code(),
        });
        (status, Json(body)).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// A JSON request body. Unlike `axum::Json` it answers 400 with ilert's error body for any
/// unreadable payload, and does not insist on a `Content-Type`, as curl users often omit it.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|rejection| ApiError::Other {
                status: rejection.status(),
                message: rejection.body_text(),
            })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::bad_request(
                "Request body is missing; expected JSON.",
            ));
        }
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|err| ApiError::bad_request(format!("Malformed JSON request body: {err}")))
    }
}

/// A JSON body that may be absent (an empty body is `None`), for operations ilert documents
/// without one but real clients send one to (`/alerts/{id}/responders`, `/alerts/{id}/assign`).
pub struct OptionalJsonBody(pub Option<serde_json::Value>);

impl<S: Send + Sync> FromRequest<S> for OptionalJsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|rejection| ApiError::Other {
                status: rejection.status(),
                message: rejection.body_text(),
            })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJsonBody(None));
        }
        serde_json::from_slice(&bytes)
            .map(|v| OptionalJsonBody(Some(v)))
            .map_err(|err| ApiError::bad_request(format!("Malformed JSON request body: {err}")))
    }
}

/// Rewrites error responses produced by axum itself (405 from the method router, extractor
/// rejections) into ilert's JSON error body, so that clients only ever see one error shape.
pub async fn json_errors(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let response = next.run(req).await;
    let status = response.status();
    if status.as_u16() < 400 || is_json(&response) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = match axum::body::to_bytes(body, 64 * 1024).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).trim().to_owned(),
        Err(_) => String::new(),
    };
    let error = match status {
        StatusCode::METHOD_NOT_ALLOWED => {
            ApiError::MethodNotAllowed(format!("Method {method} is not allowed on {path}"))
        }
        StatusCode::NOT_FOUND => ApiError::NotFound(format!("Resource {path} not found")),
        _ => ApiError::Other {
            status,
            message: if text.is_empty() {
                status.canonical_reason().unwrap_or("Error").to_owned()
            } else {
                text
            },
        },
    };
    let rendered = error.into_response();
    // Keep headers such as `Allow` from the original response; only the body changes.
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let (_, new_body) = rendered.into_parts();
    Response::from_parts(parts, new_body)
}

fn is_json(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// Fallback for paths nobody routes. The body is left to [`json_errors`], which runs outside
/// `nest` and so still sees the full request path for the message.
pub async fn not_found() -> StatusCode {
    StatusCode::NOT_FOUND
}
