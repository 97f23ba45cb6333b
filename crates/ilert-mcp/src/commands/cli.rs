//! Command-line interface: every flag has an environment variable, and `--help` documents both.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

use crate::calls::catalogue::Selection;
use crate::rules::confirm::Policy;

/// `0.1.0 (commit 1a2b3c4d5e6f)`: the release and the git commit it was built from.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("ILERT_MCP_COMMIT"),
    ")"
);

#[derive(Debug, Parser)]
#[command(
    name = "ilert-mcp",
    version = VERSION,
    after_help = "Traces: set OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) to \
export one OpenTelemetry span per MCP request, with ilert calls as child spans, over OTLP/HTTP \
(OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf, the default, or http/json; OTEL_EXPORTER_OTLP_HEADERS, \
OTEL_SERVICE_NAME and OTEL_BSP_* apply as usual).",
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

// Parsed once at start; the size of the largest variant costs nothing worth a Box.
#[allow(clippy::large_enum_variant)]
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

/// Which writes ask a person before they happen.
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct ConfirmArgs {
    /// Who confirms writes. outward: pages, subscriber notifications, alert actions, maintenance,
    /// overrides and bulk changes of more than 3 alerts ask the person first where the client
    /// can (MCP 2026-07-28 with elicitation); elsewhere the client's own approval applies.
    /// always: every write asks, and outward writes from clients that cannot ask are refused.
    /// never: the server asks nobody.
    #[arg(long = "confirm", env = "ILERT_MCP_CONFIRM", value_enum, default_value_t = Policy::Outward)]
    pub confirm: Policy,
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
    /// Requests per API key per minute sent to ilert. ilert allows 120 on most plans; set what
    /// yours allows. Past it, a caller's tools answer "wait" instead of being refused by ilert.
    /// 0 turns the local budget off. `/metrics` shows the use, summed over keys.
    #[arg(
        long = "ilert-rate-limit",
        env = "ILERT_RATE_LIMIT",
        default_value_t = 120
    )]
    pub rate_limit: u32,
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
    /// `https://app.example.com` (its default port only; add `:8443`, or `:*` for any port).
    /// Requests with any other Origin get 403; these origins' CORS preflights are answered.
    /// Repeat or use commas.
    #[arg(
        long = "allowed-origin",
        env = "ILERT_MCP_ALLOWED_ORIGINS",
        value_delimiter = ','
    )]
    pub allowed_origins: Vec<String>,
    /// Largest accepted request body in bytes; larger requests get 413.
    #[arg(long = "max-body-bytes", env = "ILERT_MCP_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Connections served at once; more wait to be accepted until one closes. Keep it below the
    /// open-file limit (`ulimit -n`).
    #[arg(
        long = "max-connections",
        env = "ILERT_MCP_MAX_CONNECTIONS",
        default_value_t = 1024
    )]
    pub max_connections: usize,
    /// API keys not seen in the last 5 minutes that are checked with ilert per second, in bursts of
    /// up to twice as many; past that a request gets 503 with Retry-After, so random bearer tokens
    /// cannot turn into ilert traffic. Raise it when many people connect at once; 0 turns it off.
    #[arg(
        long = "key-checks-per-second",
        env = "ILERT_MCP_KEY_CHECKS_PER_SECOND",
        default_value_t = crate::transport::auth::KEY_CHECKS_PER_SECOND
    )]
    pub key_checks_per_second: u32,
    /// Public base URL of this server, e.g. https://mcp.example.com, when it runs behind a proxy.
    /// OAuth's issuer and resource, and an allowed Host, derive from it [default: http://<bind>].
    #[arg(long = "public-url", env = "ILERT_MCP_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Allow an http:// --public-url on a host other than loopback. OAuth then sends API keys and
    /// tokens in clear text: only for a network you trust entirely.
    #[arg(
        long = "insecure-public-url",
        env = "ILERT_MCP_INSECURE_PUBLIC_URL",
        action = ArgAction::SetTrue
    )]
    pub insecure_public_url: bool,
    /// A private redirect URI scheme to accept from OAuth clients besides those of known native
    /// apps (cursor, vscode, vscode-insiders, vscodium, windsurf, claude, zed), e.g. `myapp`.
    /// Repeat or use commas.
    #[arg(
        long = "redirect-scheme",
        env = "ILERT_MCP_REDIRECT_SCHEMES",
        value_delimiter = ','
    )]
    pub redirect_schemes: Vec<String>,
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
    /// Lifetime of OAuth access tokens, in seconds (60 to 86400). An access token cannot be
    /// revoked before it expires; longer ones spare clients that refresh unreliably.
    #[arg(
        long = "access-token-secs",
        env = "ILERT_MCP_ACCESS_TOKEN_SECS",
        default_value_t = crate::auth::ACCESS_TTL
    )]
    pub access_token_secs: i64,
    /// Lifetime of OAuth refresh tokens, in seconds (300 to 31536000, at least the access token's).
    /// Each is usable once; a client that refreshes gets a new one.
    #[arg(
        long = "refresh-token-secs",
        env = "ILERT_MCP_REFRESH_TOKEN_SECS",
        default_value_t = crate::auth::REFRESH_TTL
    )]
    pub refresh_token_secs: i64,
}

/// The audit trail: one JSON line per call of a tool that writes.
#[derive(Debug, Clone, Default, Args)]
pub struct AuditArgs {
    /// File the audit events are appended to, one JSON line each [default: stderr].
    #[arg(long = "audit-log", env = "ILERT_MCP_AUDIT_LOG")]
    pub audit_log: Option<PathBuf>,
    /// Flush each audit event to disk (fsync) before the call answers.
    #[arg(long = "audit-fsync", env = "ILERT_MCP_AUDIT_FSYNC", action = ArgAction::SetTrue)]
    pub audit_fsync: bool,
    /// Also note each accept, resolve, assignment, responder and action done through ilert-mcp in
    /// the alert's ilert timeline, as a comment "via ilert-mcp from <client>" (alerts with an
    /// alert key whose source's integration key the caller may see).
    #[arg(long = "attribute-actions", env = "ILERT_MCP_ATTRIBUTE_ACTIONS", action = ArgAction::SetTrue)]
    pub attribute_actions: bool,
}

impl AuditArgs {
    pub fn audit_log(&self) -> Result<crate::observe::audit::AuditLog, String> {
        match &self.audit_log {
            Some(path) => crate::observe::audit::AuditLog::open(path, self.audit_fsync),
            None => {
                if self.audit_fsync {
                    tracing::warn!(
                        "--audit-fsync needs --audit-log FILE; audit events go to stderr"
                    );
                }
                Ok(crate::observe::audit::AuditLog::stderr())
            }
        }
        .map(|log| log.with_attribution(self.attribute_actions))
    }
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub http: HttpArgs,
    #[command(flatten)]
    pub ilert: IlertArgs,
    #[command(flatten)]
    pub selection: SelectionArgs,
    #[command(flatten)]
    pub audit: AuditArgs,
    #[command(flatten)]
    pub confirm: ConfirmArgs,
}

#[derive(Debug, Args)]
pub struct StdioArgs {
    #[command(flatten)]
    pub ilert: IlertArgs,
    #[command(flatten)]
    pub selection: SelectionArgs,
    #[command(flatten)]
    pub audit: AuditArgs,
    #[command(flatten)]
    pub confirm: ConfirmArgs,
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
    #[command(flatten)]
    pub confirm: ConfirmArgs,
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
    /// Which kind of ilert account to be: `classic` (`/incidents` are status updates) or `2026`
    /// (accounts created after May 2026: `/incidents` are coordination records, status updates
    /// are at `/status-updates`).
    #[arg(
        long = "incident-model",
        env = "ILERT_SANDBOX_INCIDENT_MODEL",
        default_value = "classic"
    )]
    pub incident_model: ilert_sandbox::IncidentModel,
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
