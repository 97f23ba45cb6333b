//! Operations endpoints and per-request context: `/healthz` (the process is up), `/readyz` (ilert
//! and the OAuth store are reachable), `/metrics` (Prometheus), and an `x-request-id` on every MCP request.

use std::fmt::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio_util::sync::CancellationToken;

use crate::auth::store::UsedIds;

/// The id of this request: the caller's `x-request-id` if it is sane, else a fresh one.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

pub async fn request_id(mut request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        })
        .map(str::to_owned)
        .unwrap_or_else(fresh_id);
    request.extensions_mut().insert(RequestId(id.clone()));
    let mut response = next.run(request).await;
    crate::observe::metrics::global().http(response.status().as_u16());
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

/// `<process>-<counter>` in hex: the process part (start time and pid) is fixed once, so ids from
/// replicas and restarts differ, and a call costs no clock read or system call.
fn fresh_id() -> String {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    static PROCESS: OnceLock<u64> = OnceLock::new();
    let process = *PROCESS.get_or_init(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        (nanos as u64) ^ u64::from(std::process::id()).rotate_left(32)
    });
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{process:x}-{n:x}")
}

/// The `Host` values `/healthz`, `/readyz` and `/metrics` accept: those `/mcp` accepts
/// (`name` for any port, `name:port` for one), and any IP address literal, so probes and scrapers
/// that address a pod by its IP keep working. A DNS rebinding page always sends its own name,
/// never an IP literal, so the literal is no way in; a request without `Host` comes from no browser.
#[derive(Debug, Clone)]
pub struct OpsHosts(Arc<Vec<(String, Option<u16>)>>);

impl OpsHosts {
    pub fn new<'a>(allowed: impl IntoIterator<Item = &'a str>) -> Self {
        Self(Arc::new(
            allowed
                .into_iter()
                .filter_map(|a| authority(a.trim()))
                .collect(),
        ))
    }

    fn allows(&self, host: &str, port: Option<u16>) -> bool {
        host.parse::<std::net::IpAddr>().is_ok()
            || self
                .0
                .iter()
                .any(|(h, p)| h == host && p.is_none_or(|p| Some(p) == port))
    }
}

/// `host[:port]` lower-cased, brackets of an IPv6 literal removed.
fn authority(value: &str) -> Option<(String, Option<u16>)> {
    if value.is_empty() {
        return None;
    }
    let (host, port) = match axum::http::uri::Authority::try_from(value) {
        Ok(a) => (a.host().to_owned(), a.port_u16()),
        Err(_) => (value.to_owned(), None),
    };
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    Some((host, port))
}

/// 403 for a `Host` that [`OpsHosts`] does not accept, as `/mcp` answers (DNS rebinding).
pub async fn check_host(State(hosts): State<OpsHosts>, request: Request, next: Next) -> Response {
    if let Some(value) = request.headers().get(header::HOST) {
        let allowed = value
            .to_str()
            .ok()
            .and_then(|v| axum::http::uri::Authority::try_from(v).ok())
            .and_then(|a| authority(a.as_str()))
            .is_some_and(|(host, port)| hosts.allows(&host, port));
        if !allowed {
            return (
                StatusCode::FORBIDDEN,
                "Forbidden: Host header is not allowed",
            )
                .into_response();
        }
    }
    next.run(request).await
}

pub async fn metrics() -> Response {
    let mut response = crate::observe::metrics::global().render().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    response
}

/// Whether ilert answers at all (any HTTP status counts: without a key it says 401), checked at
/// most every few seconds so probes cannot turn into load on ilert; and, with OAuth on, whether
/// its store of used ids (Redis, when shared) answers.
pub struct Readiness {
    url: String,
    /// Built at the first probe: making it loads the system\'s CA certificates, which costs
    /// start-up time before any probe comes.
    http: std::sync::OnceLock<reqwest::Client>,
    last: Mutex<Option<(Instant, bool)>>,
    store: Option<Arc<dyn UsedIds>>,
    /// The store's last state, so only changes are logged (probes come every few seconds).
    store_ok: AtomicBool,
    /// Cancelled once shutdown begins.
    draining: CancellationToken,
}

const READY_TTL: Duration = Duration::from_secs(5);

impl Readiness {
    pub fn new(
        base_url: &str,
        store: Option<Arc<dyn UsedIds>>,
        draining: CancellationToken,
    ) -> Arc<Self> {
        Arc::new(Self {
            url: format!("{base_url}/users/current"),
            http: std::sync::OnceLock::new(),
            last: Mutex::new(None),
            store,
            store_ok: AtomicBool::new(true),
            draining,
        })
    }

    fn http(&self) -> &reqwest::Client {
        self.http.get_or_init(|| {
            reqwest::Client::builder()
                .tls_backend_preconfigured(ilert_client::tls::client_config())
                .timeout(Duration::from_secs(3))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap_or_default()
        })
    }

    async fn check_ilert(&self) -> bool {
        if let Ok(last) = self.last.lock()
            && let Some((at, ok)) = *last
            && at.elapsed() < READY_TTL
        {
            return ok;
        }
        let ok = self.http().get(&self.url).send().await.is_ok();
        if let Ok(mut last) = self.last.lock() {
            *last = Some((Instant::now(), ok));
        }
        ok
    }

    /// The store's state, logged when it changes; the error stays in the log, not the answer.
    async fn check_store(&self, store: &dyn UsedIds) -> bool {
        let result = store.check().await;
        let ok = result.is_ok();
        if self.store_ok.swap(ok, Ordering::Relaxed) != ok {
            match result {
                Ok(()) => tracing::info!(store = store.name(), "the OAuth store answers again"),
                Err(e) => {
                    tracing::warn!(store = store.name(), error = %e, "the OAuth store does not answer: token exchanges are refused until it does")
                }
            }
        }
        ok
    }
}

/// 200 `ready` or 503 `not ready`, then one line per dependency; 503 `draining` once shutdown has
/// begun, so a balancer stops sending new calls while those in flight finish.
pub async fn readyz(State(ready): State<Arc<Readiness>>) -> Response {
    if ready.draining.is_cancelled() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready\ndraining: shutting down, finishing calls in flight\n",
        )
            .into_response();
    }
    let ilert = ready.check_ilert().await;
    let mut body = String::new();
    let mut all = ilert;
    let _ = writeln!(body, "ilert: {}", reachable(ilert));
    if let Some(store) = ready.store.as_deref() {
        let ok = ready.check_store(store).await;
        all &= ok;
        let _ = writeln!(body, "oauth store ({}): {}", store.name(), reachable(ok));
    }
    if all {
        (StatusCode::OK, format!("ready\n{body}")).into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready\n{body}"),
        )
            .into_response()
    }
}

fn reachable(ok: bool) -> &'static str {
    if ok { "reachable" } else { "not reachable" }
}
