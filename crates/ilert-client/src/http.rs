//! The HTTP layer: one pooled `reqwest` client, bearer auth per session, error classification and
//! bounded retries for idempotent requests.

use std::sync::{Arc, Once};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;

use crate::{ApiError, ApiKey, DEFAULT_BASE_URL, TransportKind, USER_AGENT};

/// How often and how long to retry. Only idempotent requests (GET, PUT, DELETE) are retried, and
/// only on 429 and 502/503/504 or a failed connection; a POST is sent exactly once.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First wait after a 429; doubles per retry. ilert sends no Retry-After.
    pub rate_limit_delay: Duration,
    /// First wait after a 502/503/504 or a connect failure; doubles per retry.
    pub server_error_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 2,
            rate_limit_delay: Duration::from_secs(2),
            server_error_delay: Duration::from_millis(300),
        }
    }
}

/// Settings for [`Client::new`].
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// API root including `/api`, e.g. `https://api.ilert.com/api`.
    pub base_url: String,
    /// Whole-request timeout (ilert's own clients use 25 to 30 s).
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub retry: RetryPolicy,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_owned(),
            timeout: Duration::from_secs(25),
            connect_timeout: Duration::from_secs(5),
            retry: RetryPolicy::default(),
        }
    }
}

/// A pooled client for one ilert base URL. Cheap to clone; holds no credentials.
#[derive(Clone, Debug)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    base: String,
    retry: RetryPolicy,
}

/// A client bound to one caller's API key.
#[derive(Clone, Debug)]
pub struct Session {
    client: Client,
    key: ApiKey,
}

impl Client {
    /// Builds the client. Fails only on an unusable base URL or TLS set-up.
    pub fn new(config: ClientConfig) -> Result<Self, ApiError> {
        install_crypto_provider();
        let base = normalise_base(&config.base_url)?;
        let http = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            // A redirect would carry the Authorization header to wherever it points.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            .tcp_nodelay(true)
            .pool_idle_timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| ApiError::Transport {
                kind: TransportKind::Other,
                message: format!("cannot build the HTTP client: {e}"),
            })?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                base,
                retry: config.retry,
            }),
        })
    }

    /// The API root this client talks to, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    /// Binds `key` for a series of calls on behalf of its owner.
    pub fn session(&self, key: ApiKey) -> Session {
        Session {
            client: self.clone(),
            key,
        }
    }
}

impl Session {
    /// Sends a request and decodes a JSON answer.
    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, ApiError> {
        let bytes = self.send(method, path, query).await?;
        serde_json::from_slice(&bytes).map_err(|e| ApiError::Decode {
            message: format!("{path}: {e}"),
        })
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Vec<u8>, ApiError> {
        let inner = &self.client.inner;
        let url = format!("{}{}", inner.base, path);
        let idempotent = matches!(
            method,
            Method::GET | Method::PUT | Method::DELETE | Method::HEAD
        );
        let mut attempt = 0u32;
        loop {
            let result = self.attempt(&method, &url, query).await;
            let delay = match &result {
                Err(ApiError::RateLimited { .. }) => Some(inner.retry.rate_limit_delay),
                Err(ApiError::Upstream {
                    status: 502..=504, ..
                }) => Some(inner.retry.server_error_delay),
                Err(ApiError::Transport {
                    kind: TransportKind::Connect,
                    ..
                }) => Some(inner.retry.server_error_delay),
                _ => None,
            };
            match delay {
                Some(base) if idempotent && attempt < inner.retry.max_retries => {
                    let wait = base.saturating_mul(2u32.saturating_pow(attempt));
                    tracing::debug!(%method, path, attempt, ?wait, "retrying ilert request");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                _ => return result,
            }
        }
    }

    async fn attempt(
        &self,
        method: &Method,
        url: &str,
        query: &[(&str, String)],
    ) -> Result<Vec<u8>, ApiError> {
        let mut request = self
            .client
            .inner
            .http
            .request(method.clone(), url)
            .bearer_auth(self.key.expose())
            .header(reqwest::header::ACCEPT, "application/json");
        if !query.is_empty() {
            request = request.query(query);
        }
        if *method == Method::PUT || *method == Method::POST {
            // ilert's PUT actions take no body; an explicit empty JSON length keeps proxies happy.
            request = request.header(reqwest::header::CONTENT_LENGTH, "0");
        }
        let response = request.send().await.map_err(transport_error)?;
        let status = response.status();
        let body = response.bytes().await.map_err(transport_error)?;
        if status.is_success() {
            return Ok(body.to_vec());
        }
        if status.is_redirection() {
            return Err(ApiError::Upstream {
                status: status.as_u16(),
                message: "ilert answered with a redirect, which this client does not follow; check the base URL"
                    .to_owned(),
            });
        }
        Err(ApiError::from_response(status_u16(status), &body))
    }
}

fn status_u16(status: StatusCode) -> u16 {
    status.as_u16()
}

fn transport_error(error: reqwest::Error) -> ApiError {
    let kind = if error.is_timeout() {
        TransportKind::Timeout
    } else if error.is_connect() {
        TransportKind::Connect
    } else {
        TransportKind::Other
    };
    // reqwest's Display includes the URL, which never holds a key; strip it anyway for brevity.
    let message = match kind {
        TransportKind::Timeout => "the request timed out".to_owned(),
        TransportKind::Connect => "the connection was refused or could not be made".to_owned(),
        TransportKind::Other => error.without_url().to_string(),
    };
    ApiError::Transport { kind, message }
}

fn normalise_base(raw: &str) -> Result<String, ApiError> {
    let trimmed = raw.trim().trim_end_matches('/');
    let parsed = url::Url::parse(trimmed).map_err(|e| ApiError::Transport {
        kind: TransportKind::Other,
        message: format!("the ilert base URL {trimmed:?} is not a URL: {e}"),
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return Err(ApiError::Transport {
            kind: TransportKind::Other,
            message: format!("the ilert base URL {trimmed:?} must be an http(s) URL with a host"),
        });
    }
    Ok(trimmed.to_owned())
}

/// reqwest is built without a default TLS provider; use ring, which builds fast on small machines.
fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // An error means another provider is already installed, which serves just as well.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
