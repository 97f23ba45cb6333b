//! The HTTP layer: one pooled `reqwest` client, bearer auth per session, error classification and
//! bounded retries for idempotent requests.

use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use tracing::Instrument as _;

use crate::guard::{Budget, Circuit, Observer, Outcome};
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
#[derive(Clone)]
pub struct ClientConfig {
    /// API root including `/api`, e.g. `https://api.ilert.com/api`.
    pub base_url: String,
    /// Whole-request timeout (ilert's own clients use 25 to 30 s).
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub retry: RetryPolicy,
    /// Requests per API key per minute sent to ilert (its own limit is 120); 0 turns it off.
    pub per_key_budget: u32,
    /// Consecutive failures (transport errors, 5xx) that open the circuit; 0 turns it off.
    pub circuit_threshold: u32,
    /// How long an open circuit fails calls fast before one probe goes through.
    pub circuit_open_for: Duration,
    /// Told about every upstream attempt (metrics).
    pub observer: Option<Observer>,
}

impl std::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientConfig")
            .field("base_url", &self.base_url)
            .field("timeout", &self.timeout)
            .field("per_key_budget", &self.per_key_budget)
            .field("circuit_threshold", &self.circuit_threshold)
            .finish_non_exhaustive()
    }
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_owned(),
            timeout: Duration::from_secs(25),
            connect_timeout: Duration::from_secs(5),
            retry: RetryPolicy::default(),
            per_key_budget: 120,
            circuit_threshold: 5,
            circuit_open_for: Duration::from_secs(10),
            observer: None,
        }
    }
}

/// A pooled client for one ilert base URL. Cheap to clone; holds no credentials.
#[derive(Clone, Debug)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base: String,
    retry: RetryPolicy,
    budget: Budget,
    circuit: Circuit,
    observer: Option<Observer>,
    status_update_paths: crate::incidents::StatusUpdatePaths,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// A client bound to one caller's API key.
#[derive(Clone, Debug)]
pub struct Session {
    client: Client,
    key: ApiKey,
    /// Sent as `x-team-context`: lists then hold only that team's objects.
    team_context: Option<i64>,
}

impl Client {
    /// How much of the per-key request budget is in use now, summed over all keys.
    pub fn budget_usage(&self) -> crate::BudgetUsage {
        self.inner.budget.usage()
    }

    /// Builds the client. Fails only on an unusable base URL or TLS set-up.
    pub fn new(config: ClientConfig) -> Result<Self, ApiError> {
        let base = normalise_base(&config.base_url)?;
        if base.starts_with("https:") {
            crate::tls::warm();
        }
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(crate::tls::client_config())
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
        let inner = Inner {
            http,
            base,
            retry: config.retry,
            budget: Budget::new(config.per_key_budget),
            circuit: Circuit::new(config.circuit_threshold, config.circuit_open_for),
            observer: config.observer,
            status_update_paths: Default::default(),
        };
        Ok(Self {
            inner: Arc::new(inner),
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
            team_context: None,
        }
    }
}

/// One request to ilert, before the key and standard headers are added.
#[derive(Debug, Clone)]
pub(crate) struct Call<'a> {
    pub method: Method,
    pub path: &'a str,
    pub query: Vec<(&'static str, String)>,
    pub body: Option<Vec<u8>>,
    pub if_match: Option<&'a str>,
    /// Whether repeating the request is harmless. GET/PUT/DELETE are, unless a PUT is a
    /// conditional update whose retry could double-apply; POST never is.
    pub idempotent: bool,
}

impl<'a> Call<'a> {
    pub fn new(method: Method, path: &'a str) -> Self {
        let idempotent = matches!(
            method,
            Method::GET | Method::PUT | Method::DELETE | Method::HEAD
        );
        Self {
            method,
            path,
            query: Vec::new(),
            body: None,
            if_match: None,
            idempotent,
        }
    }

    pub fn query(mut self, query: Vec<(&'static str, String)>) -> Self {
        self.query = query;
        self
    }

    pub fn json<T: serde::Serialize>(mut self, body: &T) -> Result<Self, ApiError> {
        let bytes = serde_json::to_vec(body).map_err(|e| ApiError::Decode {
            message: format!("cannot encode the request body: {e}"),
        })?;
        self.body = Some(bytes);
        Ok(self)
    }

    pub fn if_match(mut self, etag: Option<&'a str>) -> Self {
        self.if_match = etag;
        self
    }
}

/// A 2xx answer: status, the ETag if any, and the body.
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: u16,
    pub etag: Option<String>,
    /// ilert's cursor for the next page, where an endpoint pages by cursor (heartbeat monitors).
    pub next_cursor: Option<String>,
    pub body: bytes::Bytes,
}

impl Answer {
    pub fn decode<T: DeserializeOwned>(&self, path: &str) -> Result<T, ApiError> {
        decode_json(&self.body, path)
    }
}

/// Decodes an answer body, borrowing from it where `T` does.
pub(crate) fn decode_json<'a, T: serde::Deserialize<'a>>(
    body: &'a [u8],
    path: &str,
) -> Result<T, ApiError> {
    // One UTF-8 check of the whole body (ASCII fast path) is cheaper than serde_json's check of
    // every string it reads from a byte slice, which a `&str` input lets it skip.
    let text = std::str::from_utf8(body).map_err(|e| ApiError::Decode {
        message: format!("{path}: the answer is not UTF-8 ({e})"),
    })?;
    serde_json::from_str(text).map_err(|e| ApiError::Decode {
        message: format!("{path}: {e}"),
    })
}

impl Session {
    /// The same caller with lists scoped to one team, as ilert's team context does it
    /// (`x-team-context: <team id>`, the header ilert's CLI sends; the spec calls it
    /// `team-context`).
    pub fn with_team_context(&self, team_id: i64) -> Session {
        Session {
            team_context: Some(team_id),
            ..self.clone()
        }
    }

    /// Per-key memory of where the account keeps status updates.
    pub(crate) fn status_update_paths(&self) -> &crate::incidents::StatusUpdatePaths {
        &self.client.inner.status_update_paths
    }

    /// The key this session acts with (for keying per-caller caches; never log it).
    pub fn key(&self) -> &ApiKey {
        &self.key
    }

    /// Sends a GET/PUT without body and decodes a JSON answer.
    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&'static str, String)],
    ) -> Result<T, ApiError> {
        self.fetch(Call::new(method, path).query(query.to_vec()))
            .await?
            .decode(path)
    }

    /// Sends `call` with bounded retries where safe and returns the raw 2xx answer. When traces are
    /// exported, the call and its retries are one client span (`otel::ilert`) with the route
    /// template, never the query or a key.
    pub(crate) async fn fetch(&self, call: Call<'_>) -> Result<Answer, ApiError> {
        let span = tracing::info_span!(
            target: "otel::ilert",
            "ilert request",
            otel.name = tracing::field::Empty,
            otel.kind = "client",
            otel.status_code = tracing::field::Empty,
            http.request.method = %call.method,
            url.template = tracing::field::Empty,
            http.response.status_code = tracing::field::Empty,
            http.request.resend_count = tracing::field::Empty,
            "error.type" = tracing::field::Empty,
        );
        if span.is_disabled() {
            return self.fetch_with_retries(call, &span).await;
        }
        let template = route_template(call.path);
        span.record("otel.name", format!("{} {template}", call.method));
        span.record("url.template", template);
        let result = self
            .fetch_with_retries(call, &span)
            .instrument(span.clone())
            .await;
        match &result {
            Ok(answer) => {
                span.record("http.response.status_code", answer.status);
            }
            Err(e) => {
                if let Some(status) = e.status() {
                    span.record("http.response.status_code", status);
                }
                span.record("error.type", e.kind());
                span.record("otel.status_code", "ERROR");
            }
        }
        result
    }

    async fn fetch_with_retries(
        &self,
        call: Call<'_>,
        span: &tracing::Span,
    ) -> Result<Answer, ApiError> {
        let retry = &self.client.inner.retry;
        let mut attempt = 0u32;
        loop {
            let (result, budget_resets_in) = self.guarded_attempt(&call).await;
            let backoff = |base: Duration| base.saturating_mul(2u32.saturating_pow(attempt));
            let delay = match &result {
                // Our own budget refused: waiting helps only if its minute ends within the backoff;
                // otherwise the caller hears at once when it resets.
                Err(ApiError::RateLimited { .. }) if budget_resets_in.is_some() => {
                    budget_resets_in.filter(|reset| *reset <= backoff(retry.rate_limit_delay))
                }
                Err(ApiError::RateLimited { .. }) => Some(backoff(retry.rate_limit_delay)),
                Err(ApiError::Upstream {
                    status: 502..=504, ..
                }) => Some(backoff(retry.server_error_delay)),
                // A refused connection never reached ilert, so even a POST may be sent again.
                Err(ApiError::Transport {
                    kind: TransportKind::Connect,
                    ..
                }) => Some(backoff(retry.server_error_delay)),
                _ => None,
            };
            let may_retry = call.idempotent
                || matches!(
                    result,
                    Err(ApiError::Transport {
                        kind: TransportKind::Connect,
                        ..
                    })
                );
            match delay {
                Some(wait) if may_retry && attempt < retry.max_retries => {
                    tracing::debug!(method = %call.method, path = call.path, attempt, ?wait, "retrying ilert request");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                    span.record("http.request.resend_count", attempt);
                }
                _ => return result,
            }
        }
    }

    /// One attempt, behind the circuit and the key's budget, reported to the observer. When the
    /// budget refused it, also how long until the key's minute resets.
    async fn guarded_attempt(
        &self,
        call: &Call<'_>,
    ) -> (Result<Answer, ApiError>, Option<Duration>) {
        let inner = &self.client.inner;
        let observe = |outcome: Outcome| {
            if let Some(observer) = &inner.observer {
                observer(outcome);
            }
        };
        if let Err(wait) = inner.circuit.allow() {
            observe(Outcome::CircuitOpen);
            let refused = ApiError::Upstream {
                status: 503,
                message: format!(
                    "ilert has failed repeatedly, so ilert-mcp pauses calls to it for {}s to let it recover",
                    wait.as_secs().max(1)
                ),
            };
            return (Err(refused), None);
        }
        if let Err(wait) = inner.budget.take(&self.key) {
            observe(Outcome::BudgetSpent);
            let refused = ApiError::RateLimited {
                message: format!(
                    "this API key has used its ilert budget for this minute; it resets in {}s",
                    wait.as_secs().max(1)
                ),
            };
            return (Err(refused), Some(wait));
        }
        let result = self.attempt(call).await;
        let (outcome, healthy) = match &result {
            Ok(answer) => (Outcome::Status(answer.status), true),
            Err(ApiError::Transport { .. }) => (Outcome::Transport, false),
            Err(e) => {
                let status = e.status().unwrap_or(0);
                (Outcome::Status(status), status < 500)
            }
        };
        inner.circuit.record(healthy);
        observe(outcome);
        (result, None)
    }

    async fn attempt(&self, call: &Call<'_>) -> Result<Answer, ApiError> {
        let inner = &self.client.inner;
        let url = format!("{}{}", inner.base, call.path);
        let mut request = inner
            .http
            .request(call.method.clone(), url)
            .bearer_auth(self.key.expose())
            .header(reqwest::header::ACCEPT, "application/json");
        if !call.query.is_empty() {
            request = request.query(&call.query);
        }
        if let Some(team) = self.team_context {
            request = request.header("x-team-context", team.to_string());
        }
        if let Some(etag) = call.if_match {
            request = request.header(reqwest::header::IF_MATCH, etag);
        }
        request = match &call.body {
            Some(body) => request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone()),
            // ilert's PUT actions take no body; an explicit zero length keeps proxies happy.
            None if call.method == Method::PUT || call.method == Method::POST => {
                request.header(reqwest::header::CONTENT_LENGTH, "0")
            }
            None => request,
        };
        let response = request.send().await.map_err(transport_error)?;
        let status = response.status();
        let etag = response
            .headers()
            .get(reqwest::header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let next_cursor = response
            .headers()
            .get("next-cursor")
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
            .map(str::to_owned);
        let body = response.bytes().await.map_err(transport_error)?;
        if status.is_success() {
            return Ok(Answer {
                status: status.as_u16(),
                etag,
                next_cursor,
                body,
            });
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

/// A route template for an ilert path: numeric segments become `{id}` (`/alerts/{id}/responders`).
fn route_template(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
                "{id}"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod route_tests {
    use super::route_template;

    #[test]
    fn route_templates_hide_ids() {
        assert_eq!(
            route_template("/alerts/4711/responders"),
            "/alerts/{id}/responders"
        );
        assert_eq!(route_template("/users/current"), "/users/current");
    }
}
