//! Command-line interface: every flag has an environment variable, and `--help` documents both.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

use crate::tools::catalogue::Selection;

#[derive(Debug, Parser)]
#[command(
    name = "ilert-mcp",
    version,
    about = "MCP server for ilert: alerts, on-call and incidents from your AI assistant"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Log format on stderr.
    #[arg(long, global = true, env = "ILERT_MCP_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Log filter, e.g. `info` or `ilert_mcp=debug` (RUST_LOG syntax).
    #[arg(
        long,
        global = true,
        env = "ILERT_MCP_LOG",
        default_value = "info,rmcp=warn"
    )]
    pub log: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Remote MCP server: Streamable HTTP on /mcp; each request authenticates with
    /// `Authorization: Bearer <ilert API key>`.
    Serve(ServeArgs),
    /// Local MCP server over stdin/stdout; the ilert API key comes from ILERT_API_KEY.
    Stdio(StdioArgs),
    /// Offline demo: the built-in ilert sandbox plus `serve` against it, in one process.
    Demo(DemoArgs),
    /// The ilert-compatible sandbox API alone.
    Sandbox(SandboxArgs),
    /// Print the tool catalogue (name, toolset, read-only, description).
    Tools(ToolsArgs),
    /// Bridge stdio to a remote MCP server over Streamable HTTP (a native stand-in for
    /// `npx mcp-remote`), e.g. `connect https://mcp.example.com/mcp --header 'Authorization: Bearer ${ILERT_AUTH_TOKEN}'`.
    Connect(ConnectArgs),
    /// Print a ready-to-paste configuration for an MCP client.
    Config(ConfigArgs),
}

#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// The server's MCP endpoint, e.g. https://mcp.example.com/mcp.
    pub url: String,
    /// A header for every request, 'Name: value'; `${VAR}` is read from the environment (an unset
    /// variable is an error). Repeatable.
    #[arg(long = "header", short = 'H')]
    pub headers: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ClientKind {
    ClaudeDesktop,
    Cursor,
    Vscode,
    Windsurf,
    Cline,
    Generic,
    McpRemote,
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// The MCP client to configure.
    #[arg(value_enum)]
    pub client: ClientKind,
    /// The server's MCP endpoint.
    #[arg(long, default_value = "https://mcp.ilert.com/mcp")]
    pub url: String,
    /// Run ilert-mcp locally over stdio instead of connecting to the remote server.
    #[arg(long)]
    pub stdio: bool,
}

/// Which tools are offered. Read-only mode and toolsets come from each tool's own annotations.
#[derive(Debug, Clone, Default, Args)]
pub struct SelectionArgs {
    /// Toolsets to offer, comma-separated: overview, alerts, incidents, services, oncall, people,
    /// sources, reports, chatgpt, or all [default: all, every toolset].
    #[arg(long, env = "ILERT_MCP_TOOLSETS", value_delimiter = ',')]
    pub toolsets: Option<Vec<String>>,
    /// Individual tools to offer in addition to the toolsets (alone: exactly these tools).
    #[arg(long, env = "ILERT_MCP_TOOLS", value_delimiter = ',')]
    pub tools: Vec<String>,
    /// Tools never to offer.
    #[arg(
        long = "exclude-tools",
        env = "ILERT_MCP_EXCLUDE_TOOLS",
        value_delimiter = ','
    )]
    pub exclude_tools: Vec<String>,
    /// Offer only tools that do not change anything in ilert; writes are refused.
    #[arg(long = "read-only", env = "ILERT_MCP_READ_ONLY", action = ArgAction::SetTrue)]
    pub read_only: bool,
}

impl SelectionArgs {
    /// The selection, or an error naming toolsets or tools that do not exist.
    pub fn selection(&self) -> Result<Selection, String> {
        let clean = |v: &[String]| {
            v.iter()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
        };
        let selection = Selection {
            toolsets: self.toolsets.as_deref().map(clean),
            tools: clean(&self.tools),
            exclude: clean(&self.exclude_tools),
            read_only: self.read_only,
        };
        let unknown = selection.unknown_names();
        if !unknown.is_empty() {
            return Err(format!(
                "unknown {}; `ilert-mcp tools` lists them all",
                unknown.join(", ")
            ));
        }
        Ok(selection)
    }
}

#[derive(Debug, Args)]
pub struct ToolsArgs {
    /// Print the README's tools table (Markdown) instead.
    #[arg(long)]
    pub markdown: bool,
    #[command(flatten)]
    pub selection: SelectionArgs,
}

#[derive(Debug, Clone, Args)]
pub struct IlertArgs {
    /// ilert API root.
    #[arg(long = "ilert-url", env = "ILERT_BASE_URL", default_value = ilert_client::DEFAULT_BASE_URL)]
    pub ilert_url: String,
    /// ilert web app root, used for links in tool answers.
    #[arg(
        long = "app-url",
        env = "ILERT_APP_URL",
        default_value = "https://app.ilert.com"
    )]
    pub app_url: String,
    /// Timeout for one ilert request, in seconds.
    #[arg(
        long = "ilert-timeout",
        env = "ILERT_TIMEOUT_SECS",
        default_value_t = 25
    )]
    pub timeout_secs: u64,
}

#[derive(Debug, Clone, Args)]
pub struct HttpArgs {
    /// Address to listen on.
    #[arg(long, env = "ILERT_MCP_BIND", default_value = "127.0.0.1:8384")]
    pub bind: SocketAddr,
    /// Extra accepted Host header value (loopback is always accepted), e.g. `mcp.example.com`.
    /// Repeat or separate with commas. Needed whenever clients reach the server by a name.
    #[arg(
        long = "allowed-host",
        env = "ILERT_MCP_ALLOWED_HOSTS",
        value_delimiter = ','
    )]
    pub allowed_hosts: Vec<String>,
    /// Extra accepted browser Origin (loopback origins are always accepted), e.g.
    /// `https://app.example.com`. Requests with any other Origin get 403. Repeat or use commas.
    #[arg(
        long = "allowed-origin",
        env = "ILERT_MCP_ALLOWED_ORIGINS",
        value_delimiter = ','
    )]
    pub allowed_origins: Vec<String>,
    /// Largest accepted request body in bytes; larger requests get 413.
    #[arg(long = "max-body-bytes", env = "ILERT_MCP_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Public base URL of this server, e.g. https://mcp.example.com, when it runs behind a proxy.
    /// OAuth's issuer and resource, and an allowed Host, derive from it [default: http://<bind>].
    #[arg(long = "public-url", env = "ILERT_MCP_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Key that seals OAuth tokens: base64 of 32 random bytes, the same on every replica. Without
    /// it a random key is made at start, and issued tokens end with the process.
    #[arg(
        long = "token-key",
        env = "ILERT_MCP_TOKEN_KEY",
        hide_env_values = true
    )]
    pub token_key: Option<String>,
    /// Turn off the OAuth authorization server; only `Authorization: Bearer <ilert API key>` works.
    #[arg(long = "no-oauth", env = "ILERT_MCP_NO_OAUTH", action = ArgAction::SetTrue)]
    pub no_oauth: bool,
    /// Redis that replicas share for OAuth's one-time state (used codes, rotated refresh tokens),
    /// e.g. redis://:password@redis.internal:6379/0, rediss:// for TLS. Without it that state
    /// lives in this process: right for one instance, unsafe for several. Prefer the environment
    /// variable when the URL holds a password.
    #[arg(
        long = "redis-url",
        env = "ILERT_MCP_REDIS_URL",
        hide_env_values = true
    )]
    pub redis_url: Option<String>,
    /// Prefix of every Redis key this server writes, to share one Redis between deployments.
    #[arg(
        long = "redis-key-prefix",
        env = "ILERT_MCP_REDIS_KEY_PREFIX",
        default_value = "ilert-mcp:"
    )]
    pub redis_key_prefix: String,
    /// Seconds to keep serving after SIGTERM or SIGINT with `/readyz` answering 503, so a load
    /// balancer takes the replica out of rotation before it stops listening; then calls in flight
    /// finish and it exits. A second signal skips the rest of the wait.
    #[arg(long = "drain-secs", env = "ILERT_MCP_DRAIN_SECS", default_value_t = 0)]
    pub drain_secs: u64,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub http: HttpArgs,
    #[command(flatten)]
    pub ilert: IlertArgs,
    #[command(flatten)]
    pub selection: SelectionArgs,
}

#[derive(Debug, Args)]
pub struct StdioArgs {
    #[command(flatten)]
    pub ilert: IlertArgs,
    #[command(flatten)]
    pub selection: SelectionArgs,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Address of the MCP server.
    #[arg(long, env = "ILERT_MCP_BIND", default_value = "127.0.0.1:8384")]
    pub bind: SocketAddr,
    /// Address of the ilert sandbox API.
    #[arg(
        long = "sandbox-bind",
        env = "ILERT_SANDBOX_BIND",
        default_value = "127.0.0.1:8385"
    )]
    pub sandbox_bind: SocketAddr,
    /// Where the sandbox keeps its SQLite database [default: ~/.local/share/ilert-mcp/demo].
    #[arg(long = "data-dir", env = "ILERT_SANDBOX_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Delete the sandbox's data and seed the demo organisation afresh.
    #[arg(long)]
    pub reset: bool,
    /// Sandbox requests allowed per API key per minute, as ilert allows (0 = unlimited).
    #[arg(
        long = "sandbox-rate-limit",
        env = "ILERT_SANDBOX_RATE_LIMIT",
        default_value_t = 120
    )]
    pub rate_limit: u32,
    #[command(flatten)]
    pub selection: SelectionArgs,
}

#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// Address to listen on.
    #[arg(long, env = "ILERT_SANDBOX_BIND", default_value = "127.0.0.1:8385")]
    pub bind: SocketAddr,
    /// Where the sandbox keeps its SQLite database [default: ~/.local/share/ilert-mcp/demo].
    #[arg(long = "data-dir", env = "ILERT_SANDBOX_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Delete the data and seed the demo organisation afresh.
    #[arg(long)]
    pub reset: bool,
    /// Requests allowed per API key per minute, as ilert allows (0 = unlimited).
    #[arg(
        long = "rate-limit",
        env = "ILERT_SANDBOX_RATE_LIMIT",
        default_value_t = 120
    )]
    pub rate_limit: u32,
}

/// `$XDG_DATA_HOME/ilert-mcp/demo`, else `~/.local/share/ilert-mcp/demo`, else `./.ilert-mcp-demo`.
pub fn default_data_dir() -> PathBuf {
    if let Some(xdg) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(xdg).join("ilert-mcp").join("demo");
    }
    match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        Some(home) => PathBuf::from(home).join(".local/share/ilert-mcp/demo"),
        None => PathBuf::from(".ilert-mcp-demo"),
    }
}
