//! `ilert-mcp demo` and `ilert-mcp sandbox`: the built-in ilert sandbox, alone or with `serve`
//! in front of it, offline.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use ilert_sandbox::{Sandbox, SandboxConfig};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::calls::catalogue::Catalogue;
use crate::commands::cli::{DemoArgs, SandboxArgs, default_data_dir};
use crate::rules::toolbox::Toolbox;
use crate::transport::http::{self, HttpConfig};

/// The key the demo suggests: a USER who may accept and resolve.
pub const DEMO_KEY: &str = "demo-key-user";

pub async fn run_demo(args: DemoArgs, shutdown: CancellationToken) -> Result<(), String> {
    let data_dir = args.data_dir.clone().unwrap_or_else(default_data_dir);
    let sandbox = open_sandbox(data_dir.clone(), args.reset, args.rate_limit)?;
    let sandbox_listener = bind(args.sandbox_bind, "--sandbox-bind").await?;
    let mcp_listener = bind(args.bind, "--bind").await?;
    let sandbox_addr = local_addr(&sandbox_listener)?;
    let mcp_addr = local_addr(&mcp_listener)?;

    let catalogue = Arc::new(Catalogue::select(&args.selection.selection()?));
    // The client keeps to the sandbox's own per-key limit, as it keeps to ilert's.
    let client = crate::ilert_client(&format!("http://{sandbox_addr}/api"), 25, args.rate_limit)?;
    let confirm = crate::rules::confirm::Confirmer::new(
        args.confirm.confirm,
        &crate::auth::seal::TokenKey::generate(),
        Arc::new(crate::auth::store::InMemory::default()),
    );
    let shared =
        Arc::new(Toolbox::new(client, "https://app.ilert.com", None).with_confirmer(confirm));
    let sandbox_task = tokio::spawn(ilert_sandbox::serve(
        sandbox_listener,
        sandbox,
        shutdown.clone().cancelled_owned(),
    ));

    println!("{}", banner(mcp_addr, sandbox_addr, &data_dir));
    // Demo: OAuth on, issuer at the local URL, a fresh token key per run.
    let http_args = crate::commands::cli::HttpArgs {
        bind: mcp_addr,
        allowed_hosts: Vec::new(),
        allowed_origins: Vec::new(),
        max_body_bytes: 1024 * 1024,
        max_connections: 1024,
        key_checks_per_second: crate::transport::auth::KEY_CHECKS_PER_SECOND,
        public_url: None,
        insecure_public_url: false,
        redirect_schemes: Vec::new(),
        token_key: Some(crate::auth::seal::TokenKey::generate().to_base64()),
        no_oauth: false,
        redis_url: None,
        redis_key_prefix: "ilert-mcp:".into(),
        drain_secs: 0,
        access_token_secs: crate::auth::ACCESS_TTL,
        refresh_token_secs: crate::auth::REFRESH_TTL,
    };
    let config = HttpConfig {
        oauth: crate::oauth(&http_args, mcp_addr, &shared.client, &catalogue)?,
        ..HttpConfig::default()
    };
    let app = http::router(shared, catalogue, &config);
    let served = http::serve(mcp_listener, app, shutdown.clone()).await;
    shutdown.cancel();
    let _ = sandbox_task.await;
    served.map_err(|e| format!("the MCP server stopped: {e}"))
}

pub async fn run_sandbox(args: SandboxArgs, shutdown: CancellationToken) -> Result<(), String> {
    let data_dir = args.data_dir.clone().unwrap_or_else(default_data_dir);
    let sandbox = open_sandbox(data_dir.clone(), args.reset, args.rate_limit)?
        .with_incident_model(args.incident_model);
    let listener = bind(args.bind, "--bind").await?;
    let addr = local_addr(&listener)?;
    println!(
        "ilert sandbox API on http://{addr}/api (data in {})",
        data_dir.display()
    );
    println!("API keys: {}", key_list());
    ilert_sandbox::serve(listener, sandbox, shutdown.cancelled_owned())
        .await
        .map_err(|e| format!("the sandbox stopped: {e}"))
}

fn open_sandbox(data_dir: PathBuf, reset: bool, rate_limit: u32) -> Result<Sandbox, String> {
    let config = SandboxConfig {
        data_dir,
        reset,
        rate_limit_per_minute: (rate_limit > 0).then_some(rate_limit),
        history: true,
    };
    Sandbox::open(config).map_err(|e| format!("cannot open the sandbox: {e}"))
}

async fn bind(addr: SocketAddr, flag: &str) -> Result<TcpListener, String> {
    TcpListener::bind(addr).await.map_err(|e| match e.kind() {
        std::io::ErrorKind::AddrInUse => {
            format!("{addr} is already in use (maybe another demo is running); stop it or pass {flag} 127.0.0.1:<port>")
        }
        _ => format!("cannot listen on {addr}: {e}"),
    })
}

fn local_addr(listener: &TcpListener) -> Result<SocketAddr, String> {
    listener
        .local_addr()
        .map_err(|e| format!("cannot read the listening address: {e}"))
}

fn key_list() -> String {
    ilert_sandbox::seed::DEMO_KEYS
        .iter()
        .map(|k| format!("{} ({}, {})", k.key, k.name, k.role))
        .collect::<Vec<_>>()
        .join(", ")
}

fn banner(mcp: SocketAddr, sandbox: SocketAddr, data_dir: &std::path::Path) -> String {
    let url = format!("http://{mcp}/mcp");
    let config = serde_json::json!({
        "mcpServers": {
            "ilert-demo": {
                "type": "streamableHttp",
                "url": url,
                "headers": { "Authorization": format!("Bearer {DEMO_KEY}") }
            }
        }
    });
    let config = serde_json::to_string_pretty(&config).unwrap_or_default();
    format!(
        "ilert-mcp demo: offline, against the built-in ilert sandbox\n\n\
         \x20 MCP endpoint   {url}\n\
         \x20 ilert sandbox  http://{sandbox}/api   (data in {data})\n\
         \x20 Demo API key   {DEMO_KEY}\n\
         \x20 All keys       {keys}\n\n\
         Add this to your MCP client's configuration (Streamable HTTP):\n\n{config}\n\n\
         Or try it from a shell:\n\
         \x20 curl -s {url} -H 'Authorization: Bearer {DEMO_KEY}' -H 'Content-Type: application/json' \\\n\
         \x20      -H 'Accept: application/json, text/event-stream' \\\n\
         \x20      -d '{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{{\"name\":\"list_alerts\",\"arguments\":{{}}}}}}'\n\n\
         The sandbox keeps its state across restarts; --reset seeds it afresh. Ctrl-C stops.",
        data = data_dir.display(),
        keys = key_list(),
    )
}
