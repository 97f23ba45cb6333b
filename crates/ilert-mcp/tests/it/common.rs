//! Test harness: sandbox + MCP server on loopback ports, and clients for both protocol eras.

use std::sync::Arc;
use std::time::Duration;

use ilert_client::{ApiKey, ClientConfig, RetryPolicy};
use ilert_mcp::calls::catalogue::Catalogue;
use ilert_mcp::mcp::server::IlertMcp;
use ilert_mcp::rules::toolbox::Toolbox;
use ilert_mcp::transport::http::{self, HttpConfig};
pub use ilert_sandbox::IncidentModel;
use ilert_sandbox::{Sandbox, SandboxConfig};
use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, CallToolResult, ProtocolVersion};
use rmcp::service::{ClientLifecycleMode, ClientServiceExt, RoleClient, RunningService};
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

pub const USER_KEY: &str = "demo-key-user";
pub const STAKEHOLDER_KEY: &str = "demo-key-stakeholder";

pub struct Harness {
    pub mcp_url: String,
    pub sandbox_url: String,
    pub shutdown: CancellationToken,
    _dir: tempfile::TempDir,
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.shutdown.cancel();
        // For the secrets scan: what /metrics serves (the process's registry) at the end.
        crate::capture::keep(
            "metrics",
            ilert_mcp::observe::metrics::global().render().as_bytes(),
        );
    }
}

pub fn fast_client(base_url: &str) -> ilert_client::Client {
    budgeted_client(base_url, ClientConfig::default().per_key_budget, FAST)
}

/// How long a test's ilert request may take: short, so a test of "ilert is slow" stays short.
const FAST: Duration = Duration::from_secs(5);
/// For the hostile corpus and the fuzz tests, whose 100 KB names make multi-megabyte pages that a
/// loaded two-core machine can take more than 5 s to build (ilert's own clients allow 25 to 30).
const PATIENT: Duration = Duration::from_secs(30);

/// Like [`fast_client`], with `per_key_budget` requests per key and minute (0: unlimited).
fn budgeted_client(base_url: &str, per_key_budget: u32, timeout: Duration) -> ilert_client::Client {
    // Every server a test builds gets a client from here: capture its logs from the start.
    crate::capture::init();
    ilert_client::Client::new(ClientConfig {
        base_url: base_url.to_owned(),
        per_key_budget,
        timeout,
        connect_timeout: Duration::from_secs(2),
        retry: RetryPolicy {
            max_retries: 1,
            rate_limit_delay: Duration::from_millis(20),
            server_error_delay: Duration::from_millis(20),
        },
        observer: Some(ilert_mcp::observe::metrics::observer()),
        ..ClientConfig::default()
    })
    .unwrap()
}

/// Starts a fresh sandbox and an MCP server in front of it.
pub async fn start() -> Harness {
    start_with(None, HttpConfig::default()).await
}

/// A harness whose server also runs the OAuth authorization server, sealing with `key`.
pub async fn start_with_oauth(
    key: &ilert_mcp::auth::seal::TokenKey,
    allow_insecure_metadata: bool,
) -> (Harness, Arc<ilert_mcp::auth::OAuth>) {
    let used = Arc::new(ilert_mcp::auth::store::InMemory::default());
    start_with_oauth_store(key, allow_insecure_metadata, used).await
}

/// As [`start_with_oauth`], keeping used ids in `used`.
pub async fn start_with_oauth_store(
    key: &ilert_mcp::auth::seal::TokenKey,
    allow_insecure_metadata: bool,
    used: Arc<dyn ilert_mcp::auth::store::UsedIds>,
) -> (Harness, Arc<ilert_mcp::auth::OAuth>) {
    start_oauth_selected(key, allow_insecure_metadata, used, Catalogue::full()).await
}

/// A harness with OAuth whose server offers only `catalogue` (as `--toolsets` and friends build it).
pub async fn start_oauth_selected(
    key: &ilert_mcp::auth::seal::TokenKey,
    allow_insecure_metadata: bool,
    used: Arc<dyn ilert_mcp::auth::store::UsedIds>,
    catalogue: Catalogue,
) -> (Harness, Arc<ilert_mcp::auth::OAuth>) {
    start_oauth_configured(key, allow_insecure_metadata, used, catalogue, None, |_| {}).await
}

/// As [`start_oauth_selected`], with audit events in `audit` and the OAuth server adjusted by
/// `configure` (token lifetimes) before it serves.
pub async fn start_oauth_configured(
    key: &ilert_mcp::auth::seal::TokenKey,
    allow_insecure_metadata: bool,
    used: Arc<dyn ilert_mcp::auth::store::UsedIds>,
    catalogue: Catalogue,
    audit: Option<Arc<ilert_mcp::observe::audit::AuditLog>>,
    configure: impl FnOnce(&mut ilert_mcp::auth::OAuth),
) -> (Harness, Arc<ilert_mcp::auth::OAuth>) {
    // The MCP port must be known before the OAuth issuer is: bind first, then build.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (harness, mut shared, sandbox_dir) = start_sandbox(None, true).await;
    if let Some(audit) = audit {
        Arc::get_mut(&mut shared).unwrap().audit = audit;
    }
    let mut oauth =
        ilert_mcp::auth::OAuth::new(&format!("http://{addr}"), key, used, shared.client.clone());
    {
        // As `serve` sets it up: the ceiling follows the tools offered.
        let o = Arc::get_mut(&mut oauth).unwrap();
        o.allow_insecure_metadata = allow_insecure_metadata;
        o.ceiling = ilert_mcp::calls::offer::ceiling(&catalogue);
        configure(o);
    }
    let config = HttpConfig {
        oauth: Some(oauth.clone()),
        ..HttpConfig::default()
    };
    let app = http::router(shared, Arc::new(catalogue), &config);
    tokio::spawn(http::serve(listener, app, harness.1.clone()));
    let h = Harness {
        mcp_url: format!("http://{addr}/mcp"),
        sandbox_url: harness.0,
        shutdown: harness.1,
        _dir: sandbox_dir,
    };
    (h, oauth)
}

/// A sandbox only: (its URL, the shutdown token), the shared state for a server, and its data dir.
async fn start_sandbox(
    rate_limit: Option<u32>,
    history: bool,
) -> ((String, CancellationToken), Arc<Toolbox>, tempfile::TempDir) {
    crate::capture::init();
    let dir = tempfile::tempdir().unwrap();
    let sandbox = Sandbox::open(SandboxConfig {
        data_dir: dir.path().to_owned(),
        reset: false,
        rate_limit_per_minute: rate_limit,
        history,
    })
    .unwrap();
    let shutdown = CancellationToken::new();
    let sandbox_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sandbox_url = format!("http://{}/api", sandbox_listener.local_addr().unwrap());
    tokio::spawn(ilert_sandbox::serve(
        sandbox_listener,
        sandbox,
        shutdown.clone().cancelled_owned(),
    ));
    let shared = Arc::new(Toolbox::new(
        budgeted_client(
            &sandbox_url,
            ClientConfig::default().per_key_budget,
            if history { FAST } else { PATIENT },
        ),
        "https://app.ilert.com",
        None,
    ));
    ((sandbox_url, shutdown), shared, dir)
}

pub async fn start_with(rate_limit: Option<u32>, http_config: HttpConfig) -> Harness {
    start_budgeted(
        rate_limit,
        http_config,
        ClientConfig::default().per_key_budget,
        IncidentModel::Classic,
    )
    .await
}

/// A harness whose sandbox is the given kind of ilert account (classic, or 2026 with status
/// updates at `/status-updates`).
pub async fn start_model(model: IncidentModel) -> Harness {
    start_budgeted(
        None,
        HttpConfig::default(),
        ClientConfig::default().per_key_budget,
        model,
    )
    .await
}

/// A harness whose server never holds calls back for its per-key budget (for the fuzz tests and
/// the hostile corpus, which call far more often than a person would). Its sandbox has no 90-day
/// history: those tests drive every tool hundreds of times over their own alerts.
pub async fn start_unbudgeted() -> Harness {
    start_seeded(
        None,
        HttpConfig::default(),
        0,
        IncidentModel::Classic,
        false,
    )
    .await
}

async fn start_budgeted(
    rate_limit: Option<u32>,
    http_config: HttpConfig,
    per_key_budget: u32,
    model: IncidentModel,
) -> Harness {
    start_seeded(rate_limit, http_config, per_key_budget, model, true).await
}

async fn start_seeded(
    rate_limit: Option<u32>,
    http_config: HttpConfig,
    per_key_budget: u32,
    model: IncidentModel,
    history: bool,
) -> Harness {
    crate::capture::init();
    let dir = tempfile::tempdir().unwrap();
    let sandbox = Sandbox::open(SandboxConfig {
        data_dir: dir.path().to_owned(),
        reset: false,
        rate_limit_per_minute: rate_limit,
        history,
    })
    .unwrap()
    .with_incident_model(model);
    let shutdown = CancellationToken::new();
    let sandbox_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sandbox_url = format!("http://{}/api", sandbox_listener.local_addr().unwrap());
    tokio::spawn(ilert_sandbox::serve(
        sandbox_listener,
        sandbox,
        shutdown.clone().cancelled_owned(),
    ));

    let shared = Arc::new(Toolbox::new(
        budgeted_client(
            &sandbox_url,
            per_key_budget,
            if history { FAST } else { PATIENT },
        ),
        "https://app.ilert.com",
        None,
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mcp_url = format!("http://{}/mcp", listener.local_addr().unwrap());
    let app = http::router(shared, Arc::new(Catalogue::full()), &http_config);
    tokio::spawn(http::serve(listener, app, shutdown.clone()));
    Harness {
        mcp_url,
        sandbox_url,
        shutdown,
        _dir: dir,
    }
}

#[derive(Clone, Copy, Debug)]
pub enum Era {
    /// `initialize` handshake, 2025-06-18 (what Claude Desktop, Cursor and mcp-remote open with).
    Legacy,
    /// 2026-07-28: `server/discover`, no session, per-request metadata.
    Stateless,
}

pub async fn connect(url: &str, key: &str, era: Era) -> RunningService<RoleClient, ()> {
    crate::capture::init();
    let config =
        StreamableHttpClientTransportConfig::with_uri(url.to_owned()).auth_header(key.to_owned());
    let transport = StreamableHttpClientTransport::from_config(config);
    let lifecycle = match era {
        Era::Legacy => ClientLifecycleMode::Initialize,
        Era::Stateless => ClientLifecycleMode::Discover {
            preferred_versions: vec![ProtocolVersion::V_2026_07_28],
        },
    };
    ().serve_with_lifecycle(transport, lifecycle).await.unwrap()
}

/// An in-process server with a fixed key (as `stdio` runs), connected over a duplex pipe.
pub async fn in_process(base_url: &str, key: &str) -> RunningService<RoleClient, ()> {
    let shared = Arc::new(Toolbox::new(
        fast_client(base_url),
        "https://app.ilert.com",
        Some(ApiKey::new(key).unwrap()),
    ));
    let (server_io, client_io) = tokio::io::duplex(1 << 16);
    tokio::spawn(async move {
        if let Ok(running) = IlertMcp::new(shared, Arc::new(Catalogue::full()))
            .serve(server_io)
            .await
        {
            let _ = running.waiting().await;
        }
    });
    ().serve(client_io).await.unwrap()
}

/// The built binary (`command`) as an MCP server over stdio. With capture on it logs at TRACE
/// and its stderr is kept for the secrets scan; otherwise stderr is inherited.
pub fn child(mut command: tokio::process::Command) -> TokioChildProcess {
    match crate::capture::file("child.stderr") {
        Some(stderr) => {
            command
                .env("ILERT_MCP_LOG", crate::capture::FILTER)
                .env("NO_COLOR", "1");
            TokioChildProcess::builder(command)
                .stderr(stderr)
                .spawn()
                .unwrap()
                .0
        }
        None => TokioChildProcess::new(command).unwrap(),
    }
}

/// Sets the TRACE filter on a command whose output a test collects itself (then [`keep`]s).
pub fn traced(command: &mut tokio::process::Command) -> &mut tokio::process::Command {
    if crate::capture::enabled() {
        command
            .env("ILERT_MCP_LOG", crate::capture::FILTER)
            .env("NO_COLOR", "1");
    }
    command
}

pub use crate::capture::keep;

/// Calls `tool` and, when it succeeds, checks its `structuredContent` against the tool's own
/// `outputSchema`, so no test passes on output a strict client would reject.
pub async fn call(
    client: &RunningService<RoleClient, ()>,
    tool: &'static str,
    args: Value,
) -> CallToolResult {
    let arguments = match args {
        Value::Object(map) => map,
        _ => Default::default(),
    };
    let result = client
        .call_tool(CallToolRequestParams::new(tool).with_arguments(arguments))
        .await
        .unwrap();
    if !is_error(&result) {
        assert_matches_output_schema(tool, &result);
    }
    result
}

pub fn assert_matches_output_schema(tool: &str, result: &CallToolResult) {
    let catalogue = Catalogue::full();
    let definition = catalogue
        .router
        .get(tool)
        .unwrap_or_else(|| panic!("no tool {tool}"));
    // Tools without an outputSchema (it would carry no information) are not checked here.
    let Some(schema) = definition.output_schema.as_deref().cloned() else {
        return;
    };
    let schema = Value::Object(schema);
    let validator = jsonschema::validator_for(&schema).unwrap();
    let instance = structured(result);
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{tool}: structuredContent does not match outputSchema: {errors:?}\n{instance}"
    );
}

pub fn text(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text())
        .map(|t| t.text.clone())
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn structured(result: &CallToolResult) -> &Value {
    result
        .structured_content
        .as_ref()
        .unwrap_or_else(|| panic!("no structuredContent: {}", text(result)))
}

pub fn is_error(result: &CallToolResult) -> bool {
    result.is_error == Some(true)
}

/// Ids of alerts in `state`, via the sandbox directly (so tests never assume seeded ids).
/// Every page of them, newest first.
pub async fn alert_ids(harness_sandbox_url: &str, state: &str) -> Vec<i64> {
    let mut ids = Vec::new();
    for page in 0..20 {
        let alerts: Value = reqwest::Client::new()
            .get(format!(
                "{harness_sandbox_url}/alerts?states={state}&max-results=100&start-index={}",
                page * 100
            ))
            .bearer_auth(USER_KEY)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let rows = alerts.as_array().unwrap();
        ids.extend(rows.iter().map(|a| a["id"].as_i64().unwrap()));
        if rows.len() < 100 {
            break;
        }
    }
    ids
}

/// One sandbox and one MCP server per confirmer, all in front of it (replicas, when the
/// confirmers share a key and a store). The harness's `mcp_url` is the first server; all URLs are
/// returned in order.
pub async fn start_confirming(
    confirmers: Vec<ilert_mcp::rules::confirm::Confirmer>,
) -> (Harness, Vec<String>) {
    start_confirming_audited(confirmers, None).await
}

/// As [`start_confirming`], over a sandbox without the 90-day history (for the hostile corpus).
pub async fn start_confirming_without_history(
    confirmers: Vec<ilert_mcp::rules::confirm::Confirmer>,
) -> (Harness, Vec<String>) {
    start_confirming_over(confirmers, None, false).await
}

/// As [`start_confirming`], every server writing its audit events to `audit` when given.
pub async fn start_confirming_audited(
    confirmers: Vec<ilert_mcp::rules::confirm::Confirmer>,
    audit: Option<Arc<ilert_mcp::observe::audit::AuditLog>>,
) -> (Harness, Vec<String>) {
    start_confirming_over(confirmers, audit, true).await
}

async fn start_confirming_over(
    confirmers: Vec<ilert_mcp::rules::confirm::Confirmer>,
    audit: Option<Arc<ilert_mcp::observe::audit::AuditLog>>,
    history: bool,
) -> (Harness, Vec<String>) {
    let ((sandbox_url, shutdown), shared, dir) = start_sandbox(None, history).await;
    let mut urls = Vec::new();
    for confirmer in confirmers {
        let toolbox = Toolbox::new(shared.client.clone(), "https://app.ilert.com", None)
            .with_confirmer(confirmer);
        let shared = Arc::new(match &audit {
            Some(audit) => toolbox.with_audit(audit.clone()),
            None => toolbox,
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        urls.push(format!("http://{}/mcp", listener.local_addr().unwrap()));
        let app = http::router(shared, Arc::new(Catalogue::full()), &HttpConfig::default());
        tokio::spawn(http::serve(listener, app, shutdown.clone()));
    }
    let harness = Harness {
        mcp_url: urls[0].clone(),
        sandbox_url,
        shutdown,
        _dir: dir,
    };
    (harness, urls)
}

/// Collects every log line written while it is the thread's default subscriber.
#[derive(Clone, Default)]
pub struct Captured(pub std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}
