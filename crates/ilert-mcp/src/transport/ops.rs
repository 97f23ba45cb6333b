//! Operations endpoints and per-request context: `/healthz` (the process is up), `/readyz` (ilert
//! is reachable), `/metrics` (Prometheus), and an `x-request-id` on every MCP request.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

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
    crate::metrics::global().http(response.status().as_u16());
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

fn fresh_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{:x}-{n:x}",
        (nanos as u64) ^ (std::process::id() as u64).rotate_left(32)
    )
}

pub async fn metrics() -> Response {
    let mut response = crate::metrics::global().render().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    response
}

/// Whether ilert answers at all (any HTTP status counts: without a key it says 401). Checked at
/// most every few seconds, so probes cannot turn into load on ilert.
pub struct Readiness {
    url: String,
    http: reqwest::Client,
    last: Mutex<Option<(Instant, bool)>>,
}

const READY_TTL: Duration = Duration::from_secs(5);

impl Readiness {
    pub fn new(base_url: &str) -> Arc<Self> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(3))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Arc::new(Self {
            url: format!("{base_url}/users/current"),
            http,
            last: Mutex::new(None),
        })
    }

    async fn check(&self) -> bool {
        if let Ok(last) = self.last.lock()
            && let Some((at, ok)) = *last
            && at.elapsed() < READY_TTL
        {
            return ok;
        }
        let ok = self.http.get(&self.url).send().await.is_ok();
        if let Ok(mut last) = self.last.lock() {
            *last = Some((Instant::now(), ok));
        }
        ok
    }
}

pub async fn readyz(State(ready): State<Arc<Readiness>>) -> Response {
    if ready.check().await {
        (StatusCode::OK, "ready").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "ilert is not reachable").into_response()
    }
}
