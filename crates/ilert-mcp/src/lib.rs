//! ilert-mcp: an MCP server that connects AI assistants to ilert, the alerting, on-call and
//! incident platform, acting with each caller's own ilert API key.

pub mod auth;
pub mod calls;
pub mod commands;
pub mod mcp;
pub mod observe;
pub mod rules;
pub mod tools;
pub mod transport;

pub use auth::CallerKey;
pub use mcp::server::IlertMcp;
pub use rules::toolbox::Toolbox;

use std::time::Duration;

/// The pooled ilert client for `base_url`, with a per-request timeout in seconds and a budget of
/// `per_key_per_minute` requests per API key (0: none). `/metrics` reports the budget's use.
pub fn ilert_client(
    base_url: &str,
    timeout_secs: u64,
    per_key_per_minute: u32,
) -> Result<ilert_client::Client, String> {
    let config = ilert_client::ClientConfig {
        base_url: base_url.to_owned(),
        timeout: Duration::from_secs(timeout_secs.max(1)),
        per_key_budget: per_key_per_minute,
        observer: Some(observe::metrics::observer()),
        ..Default::default()
    };
    let client = ilert_client::Client::new(config).map_err(|e| e.to_string())?;
    observe::metrics::global().watch_budget(&client);
    Ok(client)
}

/// The OAuth server for `public_url` (or `http://{bind}`), unless turned off. It grants no more
/// than `catalogue` offers: a `--read-only` server grants only read.
pub fn oauth(
    args: &commands::cli::HttpArgs,
    bound: std::net::SocketAddr,
    ilert: &ilert_client::Client,
    catalogue: &calls::catalogue::Catalogue,
) -> Result<Option<std::sync::Arc<auth::OAuth>>, String> {
    if args.no_oauth {
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
    if !auth::ACCESS_TTL_RANGE.contains(&args.access_token_secs) {
        return Err(format!(
            "--access-token-secs {} is out of range: choose 60 to 86400 seconds",
            args.access_token_secs
        ));
    }
    if !auth::REFRESH_TTL_RANGE.contains(&args.refresh_token_secs)
        || args.refresh_token_secs < args.access_token_secs
    {
        return Err(format!(
            "--refresh-token-secs {} is out of range: choose 300 to 31536000 seconds, and no less than --access-token-secs",
            args.refresh_token_secs
        ));
    }
    let mut oauth = auth::OAuth::new(&public_url, &key, used, ilert.clone());
    if let Some(o) = std::sync::Arc::get_mut(&mut oauth) {
        o.access_ttl = args.access_token_secs;
        o.refresh_ttl = args.refresh_token_secs;
        o.ceiling = calls::offer::ceiling(catalogue);
        o.redirect_schemes = schemes;
    }
    Ok(Some(oauth))
}

/// Logged at start when a token key is set but no Redis: replicas sharing the key would each
/// remember used one-time values only in their own memory.
pub const REPLAY_PER_REPLICA: &str = "ILERT_MCP_TOKEN_KEY is set but ILERT_MCP_REDIS_URL is not: \
     used confirmations, authorization codes and rotated refresh tokens are remembered only in this \
     process. If several replicas share this key, each one accepts the same confirmation (and code \
     or refresh token) once: a person's single yes can be replayed once per replica. Set \
     ILERT_MCP_REDIS_URL on every replica, or run exactly one";

/// Confirmation of outward writes for `serve`: sealed with ILERT_MCP_TOKEN_KEY (the same on every
/// replica, so any of them can finish a confirmation another one asked), replays refused through
/// Redis when `--redis-url` is set, else in this process.
pub fn confirmer(
    args: &commands::cli::HttpArgs,
    policy: rules::confirm::Policy,
) -> Result<rules::confirm::Confirmer, String> {
    let key = match &args.token_key {
        Some(raw) => auth::seal::TokenKey::from_base64(raw)?,
        None => auth::seal::TokenKey::generate(),
    };
    let used: std::sync::Arc<dyn auth::store::UsedIds> = match &args.redis_url {
        Some(url) => std::sync::Arc::new(auth::redis_store::RedisStore::new(
            url,
            &args.redis_key_prefix,
        )?),
        None => std::sync::Arc::new(auth::store::InMemory::default()),
    };
    if args.token_key.is_some() && args.redis_url.is_none() {
        tracing::warn!("{REPLAY_PER_REPLICA}");
    }
    if policy != rules::confirm::Policy::Never && args.token_key.is_none() {
        tracing::info!(
            "confirmations are sealed with a per-process key; behind a load balancer set ILERT_MCP_TOKEN_KEY \
             (and ILERT_MCP_REDIS_URL) on every replica"
        );
    }
    Ok(rules::confirm::Confirmer::new(policy, &key, used))
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
