//! `ApiError`: every way a call to ilert can fail, classified by what the caller can do about it.

/// What went wrong below HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// No answer within the request timeout.
    Timeout,
    /// The TCP or TLS connection could not be made.
    Connect,
    /// Anything else on the way (reset connection, bad redirect, body read failure).
    Other,
}

/// An error from the ilert API or on the way to it. Messages come from ilert's `{status, message, code}`
/// body where there is one; no variant ever holds the API key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// 401: no usable credentials were sent.
    #[error("ilert answered 401 Unauthorized: {message}")]
    Unauthorized { message: String },
    /// 403 with code `KEY_ERROR`: the key is unknown, expired or revoked.
    #[error("ilert rejected the API key (403 KEY_ERROR): {message}")]
    InvalidKey { message: String },
    /// 403 otherwise: the key is valid but its user may not do this.
    #[error("ilert answered 403 Forbidden: {message}")]
    Forbidden {
        message: String,
        code: Option<String>,
    },
    /// 404: the object does not exist or is not visible to this user.
    #[error("ilert answered 404 Not Found: {message}")]
    NotFound { message: String },
    /// 429: the per-key or per-IP budget is spent; ilert sends no Retry-After.
    #[error("ilert answered 429 Too Many Requests: {message}")]
    RateLimited { message: String },
    /// Any other 4xx, usually a validation error.
    #[error("ilert answered {status}: {message}")]
    Rejected {
        status: u16,
        message: String,
        code: Option<String>,
    },
    /// 5xx: ilert (or a gateway in front of it) failed.
    #[error("ilert answered {status}: {message}")]
    Upstream { status: u16, message: String },
    /// The request did not complete.
    #[error("could not reach ilert ({kind:?}): {message}")]
    Transport {
        kind: TransportKind,
        message: String,
    },
    /// ilert answered 2xx with a body that does not match its documented shape.
    #[error("ilert sent a response this client cannot read: {message}")]
    Decode { message: String },
}

impl ApiError {
    /// A short, stable name of the kind of failure, for traces and metrics (`error.type`).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Unauthorized { .. } => "unauthorized",
            Self::InvalidKey { .. } => "invalid_key",
            Self::Forbidden { .. } => "forbidden",
            Self::NotFound { .. } => "not_found",
            Self::RateLimited { .. } => "rate_limited",
            Self::Rejected { .. } => "rejected",
            Self::Upstream { .. } => "upstream",
            Self::Transport {
                kind: TransportKind::Timeout,
                ..
            } => "timeout",
            Self::Transport { .. } => "transport",
            Self::Decode { .. } => "decode",
        }
    }

    /// The HTTP status ilert answered with, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Unauthorized { .. } => Some(401),
            Self::InvalidKey { .. } | Self::Forbidden { .. } => Some(403),
            Self::NotFound { .. } => Some(404),
            Self::RateLimited { .. } => Some(429),
            Self::Rejected { status, .. } | Self::Upstream { status, .. } => Some(*status),
            Self::Transport { .. } | Self::Decode { .. } => None,
        }
    }

    /// True when the caller's credentials are the problem (401, or 403 `KEY_ERROR`).
    pub fn is_auth(&self) -> bool {
        matches!(self, Self::Unauthorized { .. } | Self::InvalidKey { .. })
    }

    /// ilert's own message, without the status prefix.
    pub fn message(&self) -> &str {
        match self {
            Self::Unauthorized { message }
            | Self::InvalidKey { message }
            | Self::Forbidden { message, .. }
            | Self::NotFound { message }
            | Self::RateLimited { message }
            | Self::Rejected { message, .. }
            | Self::Upstream { message, .. }
            | Self::Transport { message, .. }
            | Self::Decode { message } => message,
        }
    }

    /// Classifies a non-2xx answer from its status and body.
    pub(crate) fn from_response(status: u16, body: &[u8]) -> Self {
        let parsed = serde_json::from_slice::<ErrorBody>(body).ok();
        let code = parsed.as_ref().and_then(|b| b.code.clone());
        let message = parsed
            .and_then(|b| b.message.or(b.error))
            .map(|m| clip(&m))
            .unwrap_or_else(|| default_message(status).to_owned());
        match status {
            401 => Self::Unauthorized { message },
            403 if code.as_deref() == Some("KEY_ERROR") => Self::InvalidKey { message },
            403 => Self::Forbidden { message, code },
            404 => Self::NotFound { message },
            429 => Self::RateLimited { message },
            400..=499 => Self::Rejected {
                status,
                message,
                code,
            },
            _ => Self::Upstream { status, message },
        }
    }
}

#[derive(serde::Deserialize)]
struct ErrorBody {
    message: Option<String>,
    error: Option<String>,
    code: Option<String>,
}

fn default_message(status: u16) -> &'static str {
    match status {
        401 => "no valid Authorization header",
        403 => "access denied",
        404 => "not found",
        429 => "rate limit exceeded",
        500..=599 => "ilert had an internal problem",
        _ => "the request was rejected",
    }
}

/// Upstream messages are for a model's context window: keep them to one short paragraph.
fn clip(message: &str) -> String {
    const MAX: usize = 300;
    let message = message.trim();
    if message.len() <= MAX {
        return message.to_owned();
    }
    let mut end = MAX;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", message.get(..end).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_by_status_and_code() {
        let body = br#"{"status":403,"message":"bad key","code":"KEY_ERROR"}"#;
        assert_eq!(
            ApiError::from_response(403, body),
            ApiError::InvalidKey {
                message: "bad key".into()
            }
        );
        let body = br#"{"status":403,"message":"no","code":"FORBIDDEN"}"#;
        assert!(matches!(
            ApiError::from_response(403, body),
            ApiError::Forbidden { .. }
        ));
        let body = br#"{"status":400,"message":"max-results too big","code":"BAD_REQUEST"}"#;
        assert_eq!(
            ApiError::from_response(400, body),
            ApiError::Rejected {
                status: 400,
                message: "max-results too big".into(),
                code: Some("BAD_REQUEST".into())
            }
        );
    }

    #[test]
    fn html_bodies_fall_back_to_a_plain_message() {
        let err = ApiError::from_response(502, b"<html><body>Bad gateway</body></html>");
        assert_eq!(
            err,
            ApiError::Upstream {
                status: 502,
                message: "ilert had an internal problem".into()
            }
        );
    }

    #[test]
    fn long_messages_are_clipped_on_a_char_boundary() {
        let long = format!(r#"{{"message":"{}"}}"#, "é".repeat(400));
        let err = ApiError::from_response(400, long.as_bytes());
        assert!(err.message().chars().count() <= 151);
        assert!(err.message().ends_with('…'));
    }
}
