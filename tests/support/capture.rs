//! Everything a test run logs, kept for the secrets scan (`scripts/secrets-scan`). Shared by the
//! integration tests of every crate through `#[path]`.
//!
//! When `ILERT_MCP_TEST_LOG_DIR` is set, the first [`init`] in a test process installs a global
//! tracing subscriber that writes every event, at TRACE, to `<dir>/<crate>.<test>.<pid>.log`
//! (`log` records too), and [`file`] opens sibling files for what else a test should hand to the
//! scan: metrics, a child process's stderr. Unset, nothing is installed or written.

#![allow(dead_code)] // each crate uses the helpers it needs

use std::fs::File;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};

pub const ENV: &str = "ILERT_MCP_TEST_LOG_DIR";

/// The log filter for this process and for the binaries tests start (`ILERT_MCP_LOG`): everything,
/// dependencies included. (Measured: TRACE from hyper, rustls and reqwest adds about 15,000 lines
/// and 2 MB to a full run, and no time worth limiting it for.)
/// One exception: ilert's own Rust crate (a dev-dependency of the sandbox's contract test) logs
/// every request URL at DEBUG, and heartbeat URLs carry the integration key in their path. That is
/// the test's client talking, not ilert-mcp; our own crates stay at TRACE.
pub const FILTER: &str = "trace,ilert::ilert=info";

struct Capture {
    dir: PathBuf,
    stem: String,
    log: Arc<File>,
}

fn capture() -> Option<&'static Capture> {
    static CAPTURE: OnceLock<Option<Capture>> = OnceLock::new();
    CAPTURE
        .get_or_init(|| {
            let dir = PathBuf::from(std::env::var_os(ENV).filter(|d| !d.is_empty())?);
            std::fs::create_dir_all(&dir)
                .unwrap_or_else(|e| panic!("{ENV}={}: {e}", dir.display()));
            // libtest runs each test on a thread named after it (nextest: one test per process).
            let test: String = std::thread::current()
                .name()
                .unwrap_or("main")
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            let stem = format!("{}.{test}.{}", env!("CARGO_PKG_NAME"), std::process::id());
            let path = dir.join(format!("{stem}.log"));
            let log =
                Arc::new(File::create(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())));
            {
                use tracing_subscriber::Layer as _;
                use tracing_subscriber::layer::SubscriberExt as _;
                use tracing_subscriber::util::SubscriberInitExt as _;
                // As the binary logs (crates/ilert-mcp/src/observe/logsafe.rs): rmcp's whole-message
                // events, which carry tool arguments and results, never pass.
                let payloads = tracing_subscriber::filter::filter_fn(|m| {
                    !m.target().starts_with("rmcp")
                        || !m.is_event()
                        || (*m.level() != tracing::Level::TRACE
                            && !m.fields().iter().any(|f| {
                                matches!(f.name(), "request" | "result" | "params" | "arguments")
                            }))
                });
                tracing_subscriber::registry()
                    .with(tracing_subscriber::EnvFilter::new(FILTER))
                    .with(
                        tracing_subscriber::fmt::layer()
                            .with_writer(log.clone())
                            .with_ansi(false)
                            .with_filter(payloads),
                    )
                    .try_init()
                    .unwrap_or_else(|e| panic!("cannot capture this test's logs: {e}"));
            }
            Some(Capture { dir, stem, log })
        })
        .as_ref()
}

/// Starts capturing this process's logs, if capture is on. Idempotent.
pub fn init() {
    capture();
}

/// Whether logs are being captured.
pub fn enabled() -> bool {
    capture().is_some()
}

/// The capture log, for a test that installs its own subscriber to write to as well (a sink
/// when capture is off).
pub fn log() -> LogWriter {
    LogWriter(capture().map(|c| c.log.clone()))
}

#[derive(Clone)]
pub struct LogWriter(Option<Arc<File>>);

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match &self.0 {
            Some(file) => (&**file).write(buf),
            None => Ok(buf.len()),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogWriter {
    type Writer = LogWriter;

    fn make_writer(&'a self) -> LogWriter {
        self.clone()
    }
}

/// A fresh file `<crate>.<test>.<pid>.<n>.<what>` beside the log, if capture is on.
pub fn file(what: &str) -> Option<File> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let c = capture()?;
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let path = c.dir.join(format!("{}.{n}.{what}", c.stem));
    Some(File::create(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

/// Keeps `bytes` (a child's captured output, say) for the scan, if capture is on.
pub fn keep(what: &str, bytes: &[u8]) {
    use std::io::Write;
    if let Some(mut f) = file(what) {
        f.write_all(bytes)
            .unwrap_or_else(|e| panic!("cannot keep {what}: {e}"));
    }
}
