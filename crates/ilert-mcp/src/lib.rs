//! ilert-mcp: an MCP server that connects AI assistants to ilert, the alerting, on-call and
//! incident platform, acting with each caller's own ilert API key.

pub mod auth;
pub mod cli;
pub mod completions;
pub mod config;
pub mod connect;
pub mod demo;
pub mod logsafe;
pub mod methods;
pub mod metrics;
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
        observer: Some(metrics::observer()),
        ..Default::default()
    };
    ilert_client::Client::new(config).map_err(|e| e.to_string())
}

/// The OAuth server for `public_url` (or `http://{bind}`), unless turned off.
pub fn oauth(
    args: &cli::HttpArgs,
    bound: std::net::SocketAddr,
    ilert: &ilert_client::Client,
) -> Result<Option<std::sync::Arc<auth::OAuth>>, String> {
    if args.no_oauth {
        if args.redis_url.is_some() {
            tracing::warn!("--redis-url is ignored: OAuth is off (--no-oauth)");
        }
        return Ok(None);
    }
    let public_url = match &args.public_url {
        Some(url) => checked_public_url(url, args.insecure_public_url)?,
        None if bound.ip().is_unspecified() => {
            tracing::warn!(
                %bound,
                "OAuth is off: bound to every interface without --public-url, so there is no address to name as \
                 the issuer. Set --public-url to the URL clients use (API keys as bearer tokens work meanwhile)"
            );
            return Ok(None);
        }
        None => format!("http://{bound}"),
    };
    let schemes = args
        .redirect_schemes
        .iter()
        .map(|s| {
            s.trim()
                .trim_end_matches("://")
                .trim_end_matches(':')
                .to_ascii_lowercase()
        })
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>();
    if let Some(bad) = schemes.iter().find(|s| {
        matches!(
            s.as_str(),
            "http" | "javascript" | "data" | "file" | "vbscript" | "blob" | "about" | "filesystem"
        ) || !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
    }) {
        return Err(format!(
            "--redirect-scheme {bad:?} cannot be allowed: name an app's own scheme, e.g. myapp"
        ));
    }
    let key = match &args.token_key {
        Some(raw) => auth::seal::TokenKey::from_base64(raw)?,
        None => {
            tracing::warn!(
                "ILERT_MCP_TOKEN_KEY is not set: OAuth tokens are sealed with a random key and end when this process \
                 does; set the same key on every replica"
            );
            auth::seal::TokenKey::generate()
        }
    };
    let used: std::sync::Arc<dyn auth::store::UsedIds> = match &args.redis_url {
        Some(url) => {
            let store = auth::redis_store::RedisStore::new(url, &args.redis_key_prefix)?;
            tracing::info!(
                redis = %auth::redis_store::redacted(url),
                "OAuth one-time state (used codes, rotated refresh tokens) is shared in Redis"
            );
            std::sync::Arc::new(store)
        }
        None => {
            if args.token_key.is_some() {
                tracing::info!(
                    "OAuth one-time state is kept in this process; with several replicas set ILERT_MCP_REDIS_URL"
                );
            }
            std::sync::Arc::new(auth::store::InMemory::default())
        }
    };
    let mut oauth = auth::OAuth::new(&public_url, &key, used, ilert.clone());
    if let Some(o) = std::sync::Arc::get_mut(&mut oauth) {
        o.redirect_schemes = schemes;
    }
    Ok(Some(oauth))
}

/// `--public-url`: an http(s) URL with a host; plain http only to loopback unless
/// `--insecure-public-url`, since keys typed on the sign-in page and tokens would cross the
/// network in clear text.
pub fn checked_public_url(url: &str, insecure: bool) -> Result<String, String> {
    let parsed =
        url::Url::parse(url).map_err(|e| format!("--public-url {url:?} is not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return Err(format!(
            "--public-url {url} must be an http(s) URL with a host"
        ));
    }
    if parsed.scheme() == "http" && !auth::clients::is_loopback(&parsed) && !insecure {
        return Err(format!(
            "--public-url {url} is plain http on a host other than loopback: API keys entered on the sign-in page \
             and OAuth tokens would travel unencrypted. Use https://, or add --insecure-public-url if this network \
             is trusted"
        ));
    }
    Ok(url.trim_end_matches('/').to_owned())
}
