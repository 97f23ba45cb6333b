//! `ilert-sandbox`: the sandbox API alone, as a small binary. `ilert-mcp sandbox` is the way
//! users start it; this one exists so that the crate's own tests can run the sandbox in a child
//! process and kill it with SIGKILL (Cargo builds it for them and names it in
//! `CARGO_BIN_EXE_ilert-sandbox`).
//!
//! Usage: `ilert-sandbox --data-dir DIR [--bind 127.0.0.1:0] [--reset] [--rate-limit N]
//! [--incident-model classic|2026]`.
//! Prints `listening on http://ADDR` once it accepts connections; stops on Ctrl-C.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use ilert_sandbox::{IncidentModel, Sandbox, SandboxConfig};

struct Args {
    bind: SocketAddr,
    data_dir: PathBuf,
    reset: bool,
    rate_limit: Option<u32>,
    incident_model: IncidentModel,
}

fn parse_args() -> Result<Args, String> {
    let mut bind = SocketAddr::from(([127, 0, 0, 1], 8385));
    let mut data_dir = None;
    let mut reset = false;
    let mut rate_limit = Some(120);
    let mut incident_model = IncidentModel::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--bind" => {
                bind = value("--bind")?
                    .parse()
                    .map_err(|e| format!("--bind: {e}"))?
            }
            "--data-dir" => data_dir = Some(PathBuf::from(value("--data-dir")?)),
            "--reset" => reset = true,
            "--rate-limit" => {
                let n: u32 = value("--rate-limit")?
                    .parse()
                    .map_err(|e| format!("--rate-limit: {e}"))?;
                rate_limit = (n > 0).then_some(n);
            }
            "--incident-model" => incident_model = value("--incident-model")?.parse()?,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(Args {
        bind,
        data_dir: data_dir.ok_or("--data-dir is required")?,
        reset,
        rate_limit,
        incident_model,
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("ilert-sandbox: {e}");
            return ExitCode::from(2);
        }
    };
    let config = SandboxConfig {
        data_dir: args.data_dir,
        reset: args.reset,
        rate_limit_per_minute: args.rate_limit,
        history: true,
    };
    let sandbox = match Sandbox::open(config) {
        Ok(s) => s.with_incident_model(args.incident_model),
        Err(e) => {
            eprintln!("ilert-sandbox: {e}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind(args.bind).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("ilert-sandbox: cannot listen on {}: {e}", args.bind);
            return ExitCode::FAILURE;
        }
    };
    match listener.local_addr() {
        Ok(addr) => println!("listening on http://{addr}"),
        Err(e) => eprintln!("ilert-sandbox: {e}"),
    }
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    match ilert_sandbox::serve(listener, sandbox, shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ilert-sandbox: {e}");
            ExitCode::FAILURE
        }
    }
}
