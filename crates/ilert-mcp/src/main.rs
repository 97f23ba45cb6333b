//! The `ilert-mcp` binary: parses the command line and runs one mode.

use std::io::IsTerminal as _;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use ilert_client::ApiKey;
use ilert_mcp::calls::catalogue::Catalogue;
use ilert_mcp::commands::cli::{Cli, Command, LogFormat};
use ilert_mcp::observe::traces;
use ilert_mcp::rules::toolbox::Toolbox;
use ilert_mcp::transport::http::{self, HttpConfig};
use tokio_util::sync::CancellationToken;

/// mimalloc instead of glibc's malloc: under load the server spent about a third of its time in
/// glibc's allocator and its arena locks (docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ilert-mcp: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let traces = init_tracing(&cli, &runtime);
    let outcome = runtime.block_on(run(cli.command));
    // Flushes the spans still queued, while the runtime that sends them still runs.
    drop(traces);
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("ilert-mcp: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> Result<(), String> {
    let shutdown = CancellationToken::new();
    let draining = CancellationToken::new();
    let drain = match &command {
        Command::Serve(args) => Duration::from_secs(args.http.drain_secs),
        _ => Duration::ZERO,
    };
    tokio::spawn({
        let (draining, shutdown) = (draining.clone(), shutdown.clone());
        async move {
            signal().await;
            http::drain_then_stop(draining, shutdown, drain, signal()).await;
        }
    });
    match command {
        Command::Serve(args) => {
            let catalogue = Arc::new(Catalogue::select(&args.selection.selection()?));
            let client = ilert_mcp::ilert_client(
                &args.ilert.ilert_url,
                args.ilert.timeout_secs,
                args.ilert.rate_limit,
            )?;
            let confirm = ilert_mcp::confirmer(&args.http, args.confirm.confirm)?;
            let shared = Arc::new(
                Toolbox::new(client, &args.ilert.app_url, None)
                    .with_audit(Arc::new(args.audit.audit_log()?))
                    .with_confirmer(confirm),
            );
            let listener = tokio::net::TcpListener::bind(args.http.bind)
                .await
                .map_err(|e| format!("cannot listen on {}: {e}", args.http.bind))?;
            let addr = listener.local_addr().map_err(|e| e.to_string())?;
            let oauth = ilert_mcp::oauth(&args.http, addr, &shared.client, &catalogue)?;
            let allowed_origins = args
                .http
                .allowed_origins
                .iter()
                .filter(|o| !o.trim().is_empty())
                .map(|o| ilert_mcp::transport::cors::normalize_origin(o))
                .collect::<Result<Vec<_>, _>>()?;
            let config = HttpConfig {
                allowed_hosts: args.http.allowed_hosts,
                allowed_origins,
                max_body_bytes: args.http.max_body_bytes,
                oauth,
                draining,
                key_checks_per_second: args.http.key_checks_per_second,
            };
            tracing::info!(%addr, ilert = %args.ilert.ilert_url, tools = catalogue.toolset_of.len(), "serving MCP on http://{addr}/mcp");
            let app = http::router(shared, catalogue, &config);
            let limits = http::Limits {
                max_connections: args.http.max_connections,
                ..http::Limits::default()
            };
            http::serve_with(listener, app, shutdown, limits)
                .await
                .map_err(|e| format!("the server stopped: {e}"))
        }
        Command::Stdio(args) => {
            let catalogue = Arc::new(Catalogue::select(&args.selection.selection()?));
            let key = stdio_key()?;
            let client = ilert_mcp::ilert_client(
                &args.ilert.ilert_url,
                args.ilert.timeout_secs,
                args.ilert.rate_limit,
            )?;
            // One process, one user: a per-process key and an in-process store are enough.
            let confirm = ilert_mcp::rules::confirm::Confirmer::new(
                args.confirm.confirm,
                &ilert_mcp::auth::seal::TokenKey::generate(),
                Arc::new(ilert_mcp::auth::store::InMemory::default()),
            );
            let shared = Arc::new(
                Toolbox::new(client, &args.ilert.app_url, Some(key))
                    .with_audit(Arc::new(args.audit.audit_log()?))
                    .with_confirmer(confirm),
            );
            ilert_mcp::transport::stdio::run(shared, catalogue).await
        }
        Command::Demo(args) => ilert_mcp::commands::demo::run_demo(args, shutdown).await,
        Command::Sandbox(args) => ilert_mcp::commands::demo::run_sandbox(args, shutdown).await,
        Command::Tools(args) => {
            let catalogue = Catalogue::select(&args.selection.selection()?);
            let listing = if args.markdown {
                ilert_mcp::commands::listing::markdown(&catalogue)
            } else {
                ilert_mcp::commands::listing::plain(&catalogue)
            };
            print!("{listing}");
            Ok(())
        }
        Command::Connect(args) => ilert_mcp::commands::connect::run(args.url, args.headers).await,
        Command::Config(args) => {
            print!(
                "{}",
                ilert_mcp::commands::config::render(args.client, &args.url, args.stdio)?
            );
            Ok(())
        }
    }
}

/// ILERT_API_KEY, or ILERT_AUTH_TOKEN (the name the ilert docs use for `mcp-remote`).
fn stdio_key() -> Result<ApiKey, String> {
    let raw = ["ILERT_API_KEY", "ILERT_AUTH_TOKEN"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
        .ok_or_else(|| {
            "ILERT_API_KEY is not set. Create an API key in ilert (Profile > API Keys) and set ILERT_API_KEY \
             (or ILERT_AUTH_TOKEN) in the environment your MCP client starts ilert-mcp with."
                .to_owned()
        })?;
    ApiKey::new(&raw).map_err(|e| format!("ILERT_API_KEY is not usable: {e}"))
}

/// Resolves at the next SIGTERM or SIGINT (Ctrl-C).
async fn signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// Logs on stderr, and OpenTelemetry traces when the environment names an OTLP endpoint (the
/// returned guard flushes them). Spans meant for traces (`otel::…`) never reach the log output, and
/// rmcp's whole-message events (tool arguments, results) never pass, whatever the level.
fn init_tracing(cli: &Cli, runtime: &tokio::runtime::Runtime) -> Option<traces::Exporter> {
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::filter::{FilterExt as _, filter_fn};
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;

    let filter = tracing_subscriber::EnvFilter::try_new(&cli.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let for_traces = || filter_fn(|m| m.target().starts_with(traces::TARGET_PREFIX));
    let payloads = filter_fn(ilert_mcp::observe::logsafe::allowed);
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, not in files, pipes or log collectors.
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false);
    let fmt = match cli.log_format {
        LogFormat::Json => fmt.json().boxed(),
        LogFormat::Text => fmt.boxed(),
    }
    .with_filter(filter.and(for_traces().not()).and(payloads));
    let (otel, exporter) = if traces::requested() {
        match traces::layer(runtime.handle().clone()) {
            Ok((layer, exporter)) => (Some(layer.with_filter(for_traces())), Some(exporter)),
            Err(e) => {
                eprintln!("ilert-mcp: OpenTelemetry traces are off: {e}");
                (None, None)
            }
        }
    } else {
        (None, None)
    };
    let _ = tracing_subscriber::registry()
        .with(fmt)
        .with(otel)
        .try_init();
    exporter
}
