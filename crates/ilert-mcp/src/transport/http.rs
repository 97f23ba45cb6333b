//! Streamable HTTP on `/mcp`: stateless (any replica answers any request), JSON answers, both
//! protocol eras (2025-03-26 to 2025-11-25 with `initialize`, 2026-07-28 with `server/discover`),
//! Host and Origin validation, a body limit, and `/healthz`, `/readyz` and `/metrics` (Host checked too).

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio_util::sync::CancellationToken;
use tower::ServiceBuilder;

use crate::auth::OAuth;
use crate::calls::catalogue::Catalogue;
use crate::mcp::server::IlertMcp;
use crate::rules::toolbox::Toolbox;
use crate::transport::auth::{BearerAuth, ScopeCheck, require_bearer, require_scope};
use crate::transport::guard::{BodyLimit, guard_body};

/// Settings of the HTTP surface.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// `Host` values accepted besides loopback, e.g. `mcp.example.com` (any port) or `mcp.example.com:443`.
    pub allowed_hosts: Vec<String>,
    /// Browser origins accepted besides loopback ones, e.g. `https://app.example.com` (its default
    /// port only), `https://app.example.com:8443` or `http://host:*` (any port).
    pub allowed_origins: Vec<String>,
    /// Largest accepted request body; more is a 413.
    pub max_body_bytes: usize,
    /// The OAuth authorization server and token checks, when enabled.
    pub oauth: Option<Arc<OAuth>>,
    /// Cancelled when shutdown begins: `/readyz` then answers 503 while calls are still served.
    pub draining: CancellationToken,
    /// Unknown API keys checked with ilert per second (bursts of twice as many); 0 for no limit.
    pub key_checks_per_second: u32,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            allowed_hosts: Vec::new(),
            allowed_origins: Vec::new(),
            max_body_bytes: 1024 * 1024,
            oauth: None,
            draining: CancellationToken::new(),
            key_checks_per_second: crate::transport::auth::KEY_CHECKS_PER_SECOND,
        }
    }
}

const LOOPBACK_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "::1"];
const LOOPBACK_ORIGINS: [&str; 3] = ["http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*"];

/// The whole HTTP application, kept apart from `main` so tests can drive it without a socket.
pub fn router(shared: Arc<Toolbox>, catalogue: Arc<Catalogue>, config: &HttpConfig) -> Router {
    let auth = BearerAuth::with_audit(
        shared.client.clone(),
        config.oauth.clone(),
        Some(shared.audit.clone()),
    )
    .with_key_checks_per_second(config.key_checks_per_second);
    let ready = crate::transport::ops::Readiness::new(
        shared.client.base_url(),
        config.oauth.as_ref().map(|o| o.used.clone()),
        config.draining.clone(),
    );
    // The public URL's host is always an allowed Host.
    let public_host = config
        .oauth
        .as_ref()
        .and_then(|o| url::Url::parse(&o.issuer).ok())
        .and_then(|u| u.host_str().map(str::to_owned));
    let hosts: Vec<String> = LOOPBACK_HOSTS
        .iter()
        .map(|h| h.to_string())
        .chain(config.allowed_hosts.iter().cloned())
        .chain(public_host)
        .collect();
    let ops_hosts = crate::transport::ops::OpsHosts::new(hosts.iter().map(String::as_str));
    // A portless entry means the scheme's default port (rmcp would match every port).
    let origins: Vec<String> = LOOPBACK_ORIGINS
        .iter()
        .map(|o| o.to_string())
        .chain(
            config
                .allowed_origins
                .iter()
                .filter_map(|o| crate::transport::cors::normalize_origin(o).ok()),
        )
        .collect();
    let cors_origins = crate::transport::cors::Origins::new(origins.iter().map(String::as_str));
    let mcp_config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .with_max_request_body_bytes(config.max_body_bytes)
        .with_allowed_hosts(hosts)
        .with_allowed_origins(origins.iter().cloned())
        .enforce_origin_validation();
    let scope_check = ScopeCheck {
        catalogue: catalogue.clone(),
        oauth: config.oauth.clone(),
        audit: shared.audit.clone(),
        client: shared.client.clone(),
    };
    let mcp = StreamableHttpService::new(
        move || Ok(IlertMcp::new(shared.clone(), catalogue.clone())),
        Arc::new(NeverSessionManager::default()),
        mcp_config,
    );
    // Outermost first: authenticate, then read and check the body, trace it, then the grant's
    // scope for the tool called, then MCP.
    let mcp = ServiceBuilder::new()
        .layer(axum::middleware::from_fn_with_state(
            cors_origins,
            crate::transport::cors::cors,
        ))
        .layer(axum::middleware::from_fn(crate::transport::ops::request_id))
        .layer(axum::middleware::from_fn_with_state(auth, require_bearer))
        .layer(axum::middleware::from_fn_with_state(
            BodyLimit(config.max_body_bytes),
            guard_body,
        ))
        .layer(axum::middleware::from_fn(crate::observe::traces::http_span))
        .layer(axum::middleware::from_fn_with_state(
            scope_check,
            require_scope,
        ))
        .service(mcp);
    // The operations endpoints check Host as /mcp does, IP literals aside (see `OpsHosts`).
    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/readyz",
            get(crate::transport::ops::readyz).with_state(ready),
        )
        .route("/metrics", get(crate::transport::ops::metrics))
        .route_layer(axum::middleware::from_fn_with_state(
            ops_hosts,
            crate::transport::ops::check_host,
        ))
        .route_service("/mcp", mcp);
    match &config.oauth {
        Some(oauth) => app.merge(crate::auth::router(oauth.clone())),
        None => app,
    }
}

/// Shutdown in two steps: `draining` is cancelled at once (readiness fails, calls are still
/// served), `stop` after `drain` or at a second `signal`, whichever comes first.
pub async fn drain_then_stop(
    draining: CancellationToken,
    stop: CancellationToken,
    drain: std::time::Duration,
    second_signal: impl std::future::Future<Output = ()>,
) {
    draining.cancel();
    if !drain.is_zero() {
        tracing::info!(
            seconds = drain.as_secs(),
            "draining: /readyz answers 503; still serving until the drain time is up or a second signal"
        );
        tokio::select! {
            () = tokio::time::sleep(drain) => {}
            () = second_signal => tracing::info!("second signal: stopping now"),
        }
    }
    tracing::info!("shutting down; finishing requests in flight");
    stop.cancel();
}

/// Limits on connections, applied before any request is authenticated.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Connections served at once; more wait in the listen backlog until one closes.
    pub max_connections: usize,
    /// Time for a request's headers to arrive, and for the next request's on an idle keep-alive
    /// connection: a slow or idle client is cut off after it.
    pub header_timeout: std::time::Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 1024,
            header_timeout: std::time::Duration::from_secs(10),
        }
    }
}

/// Serves `app` until `shutdown` is cancelled, then lets in-flight requests finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    serve_with(listener, app, shutdown, Limits::default()).await
}

/// [`serve`] with explicit [`Limits`]: at most `max_connections` at once (the rest wait to be
/// accepted), headers within `header_timeout` (which also ends idle keep-alive connections), and
/// accept errors (too many open files) waited out instead of spinning.
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: CancellationToken,
    limits: Limits,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(64 * 1024);
    let mut full_since: Option<std::time::Instant> = None;
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = shutdown.cancelled() => break,
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = shutdown.cancelled() => break,
        };
        let (tcp, _peer) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                // EMFILE and the like: wait a little for descriptors to free up.
                if full_since.is_none_or(|at| at.elapsed() > std::time::Duration::from_secs(10)) {
                    tracing::warn!(error = %e, "cannot accept a connection; retrying shortly");
                    full_since = Some(std::time::Instant::now());
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        // Without TCP_NODELAY small JSON answers wait on Nagle's algorithm and delayed ACKs.
        let _ = tcp.set_nodelay(true);
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        let connection = builder.serve_connection(TokioIo::new(tcp), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await;
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}
