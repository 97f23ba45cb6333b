//! ilert-mcp: an MCP server that connects AI assistants to ilert, the alerting, on-call and
//! incident platform, acting with each caller's own ilert API key.

pub mod cli;
pub mod config;
pub mod connect;
pub mod demo;
pub mod prompts;
pub mod resources;
pub mod server;
pub mod tools;
pub mod transport;

pub use server::{CallerKey, IlertMcp, Shared};

use std::time::Duration;

/// The pooled ilert client for `base_url`, with a per-request timeout in seconds.
pub fn ilert_client(base_url: &str, timeout_secs: u64) -> Result<ilert_client::Client, String> {
    let config = ilert_client::ClientConfig {
        base_url: base_url.to_owned(),
        timeout: Duration::from_secs(timeout_secs.max(1)),
        ..Default::default()
    };
    ilert_client::Client::new(config).map_err(|e| e.to_string())
}
