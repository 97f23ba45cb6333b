//! Browser origins for `/mcp`: `--allowed-origin` entries normalised to `scheme://host:port` (a
//! portless entry means the scheme's default port, never every port), and CORS for the origins
//! allowed, so browser-based clients (MCP Inspector's web UI) can send their preflight and read
//! the answer. Origins not allowed get no CORS headers; rmcp refuses their requests with 403.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// One allowed origin: scheme, host and a port, or any port (`:*`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Allowed {
    scheme: String,
    host: String,
    port: Option<u16>,
}

/// `raw` as `scheme://host:port` (or `scheme://host:*`): the scheme's default port when none is
/// given. An error says what is wrong with it.
pub fn normalize_origin(raw: &str) -> Result<String, String> {
    let allowed = parse_allowed(raw)?;
    Ok(match allowed.port {
        Some(port) => format!("{}://{}:{port}", allowed.scheme, allowed.host),
        None => format!("{}://{}:*", allowed.scheme, allowed.host),
    })
}

fn parse_allowed(raw: &str) -> Result<Allowed, String> {
    let trimmed = raw.trim().trim_end_matches('/');
    let (base, any_port) = match trimmed.strip_suffix(":*") {
        Some(base) => (base, true),
        None => (trimmed, false),
    };
    let url = url::Url::parse(base).map_err(|_| {
        format!("--allowed-origin {raw:?} is not an origin; use scheme://host[:port], e.g. https://app.example.com")
    })?;
    if !matches!(url.scheme(), "http" | "https")
        || url.path() != "/"
        || url.query().is_some()
        || !url.username().is_empty()
    {
        return Err(format!(
            "--allowed-origin {raw:?} is not an origin; use scheme://host[:port] with http or https and no path"
        ));
    }
    let host = url
        .host_str()
        .ok_or_else(|| format!("--allowed-origin {raw:?} has no host"))?
        .to_ascii_lowercase();
    if any_port && url.port().is_some() {
        return Err(format!(
            "--allowed-origin {raw:?} names a port and :* at once"
        ));
    }
    let port = if any_port {
        None
    } else {
        url.port_or_known_default()
    };
    Ok(Allowed {
        scheme: url.scheme().to_owned(),
        host,
        port,
    })
}

/// The allowed origins of `/mcp`, loopback ones included.
#[derive(Debug, Clone)]
pub struct Origins(Arc<Vec<Allowed>>);

impl Origins {
    /// Entries that do not parse are left out (the command line checks them first).
    pub fn new<'a>(entries: impl IntoIterator<Item = &'a str>) -> Self {
        Self(Arc::new(
            entries
                .into_iter()
                .filter_map(|e| parse_allowed(e).ok())
                .collect(),
        ))
    }

    /// Whether the `Origin` header value `origin` is allowed.
    pub fn allows(&self, origin: &str) -> bool {
        let Ok(url) = url::Url::parse(origin.trim()) else {
            return false;
        };
        let Some(host) = url.host_str() else {
            return false;
        };
        let port = url.port_or_known_default();
        self.0.iter().any(|a| {
            a.scheme == url.scheme()
                && a.host.eq_ignore_ascii_case(host)
                && (a.port.is_none() || a.port == port)
        })
    }
}

const ALLOW_METHODS: &str = "GET, POST, DELETE, OPTIONS";
const ALLOW_HEADERS: &str = "authorization, content-type, accept, mcp-protocol-version, mcp-session-id, last-event-id, x-request-id, x-mcp-readonly";
const EXPOSE_HEADERS: &str = "mcp-session-id, mcp-protocol-version, www-authenticate, x-request-id";

/// Preflights from allowed origins get 204 with what they may send; other preflights 403. Answers
/// to allowed origins carry `Access-Control-Allow-Origin` for that origin.
pub async fn cors(State(origins): State<Origins>, request: Request, next: Next) -> Response {
    let origin = request
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .filter(|o| origins.allows(o))
        .and_then(|o| HeaderValue::from_str(o).ok());
    let preflight = request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if preflight {
        let Some(origin) = origin else {
            return (StatusCode::FORBIDDEN, "Forbidden: Origin is not allowed").into_response();
        };
        let mut response = StatusCode::NO_CONTENT.into_response();
        let headers = response.headers_mut();
        allow(headers, origin);
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(ALLOW_METHODS),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(ALLOW_HEADERS),
        );
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        return response;
    }
    let mut response = next.run(request).await;
    if let Some(origin) = origin {
        let headers = response.headers_mut();
        allow(headers, origin);
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSE_HEADERS),
        );
    }
    response
}

fn allow(headers: &mut HeaderMap, origin: HeaderValue) {
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    headers.append(header::VARY, HeaderValue::from_static("origin"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn portless_origins_mean_the_default_port() {
        assert_eq!(
            normalize_origin("https://app.example.com").unwrap(),
            "https://app.example.com:443"
        );
        assert_eq!(
            normalize_origin("http://App.Example.com/").unwrap(),
            "http://app.example.com:80"
        );
        assert_eq!(
            normalize_origin("http://localhost:*").unwrap(),
            "http://localhost:*"
        );
        assert_eq!(
            normalize_origin("https://app.example.com:8443").unwrap(),
            "https://app.example.com:8443"
        );
        for bad in [
            "app.example.com",
            "ftp://x",
            "https://x/path",
            "https://x:1:*",
        ] {
            assert!(normalize_origin(bad).is_err(), "{bad}");
        }
        let origins = Origins::new(["https://app.example.com", "http://localhost:*"]);
        assert!(origins.allows("https://app.example.com"));
        assert!(origins.allows("https://app.example.com:443"));
        assert!(!origins.allows("https://app.example.com:8443"));
        assert!(!origins.allows("http://app.example.com"));
        assert!(origins.allows("http://localhost:6274"));
        assert!(!origins.allows("null"));
    }
}
