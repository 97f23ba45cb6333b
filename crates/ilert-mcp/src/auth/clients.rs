//! OAuth clients: dynamic registration (RFC 7591), whose client ids are sealed and need no
//! storage, and client ID metadata documents (the client id is an https URL of a JSON document),
//! fetched with care: https only, public addresses only, no redirects, 64 KiB, 5 s.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{CLIENT_PREFIX, OAuth, store};

/// A client as the authorization server knows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ClientInfo {
    pub name: String,
    pub redirect_uris: Vec<String>,
    /// The issuer that registered a sealed client id; another server sharing the key refuses it.
    /// Empty for client ID metadata documents, which name themselves.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub iss: String,
}

#[derive(Debug, Deserialize)]
pub struct Registration {
    #[serde(default)]
    redirect_uris: Vec<String>,
    #[serde(default)]
    client_name: Option<String>,
    #[serde(default)]
    grant_types: Option<Vec<String>>,
    #[serde(default)]
    response_types: Option<Vec<String>>,
}

const MAX_METADATA_BYTES: usize = 64 * 1024;
const CIMD_TTL: Duration = Duration::from_secs(300);

/// `POST /register`.
pub async fn register(
    State(oauth): State<Arc<OAuth>>,
    body: Result<Json<Registration>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Ok(Json(reg)) = body else {
        return registration_error("the body must be a JSON client metadata object");
    };
    if reg.redirect_uris.is_empty() || reg.redirect_uris.len() > 10 {
        return registration_error("redirect_uris must list 1 to 10 URIs");
    }
    if let Some(bad) = reg
        .redirect_uris
        .iter()
        .find(|u| !redirect_uri_allowed(u, &oauth.redirect_schemes))
    {
        return registration_error(&format!(
            "redirect URI {bad:?} is not allowed: use https, a loopback http URI, or the scheme of a known native app ({}), without a fragment",
            allowed_schemes(&oauth.redirect_schemes)
        ));
    }
    if reg.grant_types.as_ref().is_some_and(|g| {
        g.iter()
            .any(|t| t != "authorization_code" && t != "refresh_token")
    }) {
        return registration_error(
            "only the authorization_code and refresh_token grants are supported",
        );
    }
    if reg
        .response_types
        .as_ref()
        .is_some_and(|r| r.iter().any(|t| t != "code"))
    {
        return registration_error("only the code response type is supported");
    }
    let name: String = reg
        .client_name
        .unwrap_or_else(|| "An MCP client".into())
        .chars()
        .take(100)
        .collect();
    let info = ClientInfo {
        name: name.clone(),
        redirect_uris: reg.redirect_uris.clone(),
        iss: oauth.issuer.clone(),
    };
    let client_id = oauth.sealer.seal(CLIENT_PREFIX, &info);
    (
        StatusCode::CREATED,
        Json(json!({
            "client_id": client_id,
            "client_id_issued_at": store::now(),
            "client_name": name,
            "redirect_uris": reg.redirect_uris,
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
        })),
    )
        .into_response()
}

/// The private schemes accepted, for error messages.
fn allowed_schemes(extra: &[String]) -> String {
    NATIVE_SCHEMES
        .iter()
        .map(|s| (*s).to_owned())
        .chain(extra.iter().cloned())
        .map(|s| s + "://")
        .collect::<Vec<_>>()
        .join(", ")
}

fn registration_error(description: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": "invalid_client_metadata", "error_description": description})),
    )
        .into_response()
}

/// The private-use schemes (RFC 8252 §7.1) of native MCP clients known to sign in with one:
/// Cursor (`cursor://anysphere.cursor-mcp/oauth/callback`), VS Code and its Insiders build and
/// VSCodium, Windsurf, Claude's desktop app and Zed. Operators add more with
/// `--redirect-scheme`.
pub const NATIVE_SCHEMES: [&str; 7] = [
    "cursor",
    "vscode",
    "vscode-insiders",
    "vscodium",
    "windsurf",
    "claude",
    "zed",
];

/// An allowlist, not a blocklist: https anywhere; http only to loopback (native apps, RFC 8252);
/// otherwise only the private schemes of known native clients ([`NATIVE_SCHEMES`]) and those in
/// `extra`. Never a fragment, never credentials.
pub fn redirect_uri_allowed(uri: &str, extra: &[String]) -> bool {
    let Ok(url) = url::Url::parse(uri) else {
        return false;
    };
    if url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
        return false;
    }
    match url.scheme() {
        "https" => url.host().is_some(),
        "http" => is_loopback_url(&url),
        scheme => {
            NATIVE_SCHEMES.contains(&scheme) || extra.iter().any(|e| e.eq_ignore_ascii_case(scheme))
        }
    }
}

/// Whether `uri` is http(s) to a loopback address: an app on this device.
pub fn is_loopback(uri: &url::Url) -> bool {
    matches!(uri.scheme(), "http" | "https") && is_loopback_url(uri)
}

fn is_loopback_url(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Exact match, except that a loopback http redirect may use any port (RFC 8252 §7.3).
pub fn redirect_matches(registered: &[String], requested: &str) -> bool {
    if registered.iter().any(|r| r == requested) {
        return true;
    }
    let Ok(asked) = url::Url::parse(requested) else {
        return false;
    };
    if asked.scheme() != "http" || !is_loopback_url(&asked) {
        return false;
    }
    registered
        .iter()
        .filter_map(|r| url::Url::parse(r).ok())
        .any(|mut r| {
            r.scheme() == "http" && is_loopback_url(&r) && r.host() == asked.host() && {
                let _ = r.set_port(asked.port());
                r.as_str() == asked.as_str()
            }
        })
}

fn cimd_cache() -> &'static Mutex<HashMap<String, (Instant, ClientInfo)>> {
    static CACHE: OnceLock<Mutex<HashMap<String, (Instant, ClientInfo)>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

impl OAuth {
    /// The client behind `client_id`, or why it cannot be used.
    pub async fn client(&self, client_id: &str) -> Result<ClientInfo, String> {
        if client_id.starts_with(CLIENT_PREFIX) {
            return self
                .sealer
                .open::<ClientInfo>(CLIENT_PREFIX, client_id)
                .filter(|info| info.iss == self.issuer)
                .ok_or_else(|| "unknown client_id; register again".to_owned());
        }
        if client_id.starts_with("https://")
            || (self.allow_insecure_metadata && client_id.starts_with("http://"))
        {
            return self.metadata_document(client_id).await;
        }
        Err("unknown client_id: use a registered client id or an https client metadata document URL".into())
    }

    async fn metadata_document(&self, url: &str) -> Result<ClientInfo, String> {
        if let Ok(cache) = cimd_cache().lock()
            && let Some((at, info)) = cache.get(url)
            && at.elapsed() < CIMD_TTL
        {
            return Ok(info.clone());
        }
        let parsed = url::Url::parse(url).map_err(|_| "the client_id is not a URL".to_owned())?;
        if parsed.fragment().is_some()
            || !parsed.username().is_empty()
            || parsed.password().is_some()
        {
            return Err("the client metadata URL must not carry a fragment or credentials".into());
        }
        let host = parsed
            .host_str()
            .ok_or("the client metadata URL has no host")?
            .to_owned();
        let port = parsed.port_or_known_default().unwrap_or(443);
        let addrs: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|_| format!("cannot resolve {host}"))?
            .collect();
        let Some(addr) = addrs.first().copied() else {
            return Err(format!("cannot resolve {host}"));
        };
        if !self.allow_insecure_metadata && addrs.iter().any(|a| !is_public(a.ip())) {
            return Err(format!(
                "{host} resolves to a private address; client metadata must be on the public internet"
            ));
        }
        // Pin the checked address so DNS cannot change between the check and the fetch.
        // No proxy either: a proxy would resolve the name itself and bypass the pinned address.
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(ilert_client::tls::client_config())
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(5))
            .resolve(&host, addr)
            .build()
            .map_err(|e| format!("cannot fetch client metadata: {e}"))?;
        let mut response = client
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| format!("cannot fetch client metadata: {}", e.without_url()))?;
        if !response.status().is_success() {
            return Err(format!(
                "the client metadata document answered HTTP {}",
                response.status().as_u16()
            ));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|_| "the client metadata document broke off".to_owned())?
        {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_METADATA_BYTES {
                return Err("the client metadata document is larger than 64 KiB".into());
            }
        }
        #[derive(Deserialize)]
        struct Document {
            client_id: String,
            #[serde(default)]
            client_name: Option<String>,
            #[serde(default)]
            redirect_uris: Vec<String>,
        }
        let doc: Document = serde_json::from_slice(&body)
            .map_err(|e| format!("the client metadata document is not valid: {e}"))?;
        if doc.client_id != url {
            return Err("the client metadata document's client_id differs from its URL".into());
        }
        if doc.redirect_uris.is_empty()
            || doc
                .redirect_uris
                .iter()
                .any(|u| !redirect_uri_allowed(u, &self.redirect_schemes))
        {
            return Err("the client metadata document lists no usable redirect_uris".into());
        }
        let info = ClientInfo {
            name: doc
                .client_name
                .unwrap_or_else(|| host.clone())
                .chars()
                .take(100)
                .collect(),
            redirect_uris: doc.redirect_uris,
            iss: String::new(),
        };
        if let Ok(mut cache) = cimd_cache().lock() {
            if cache.len() > 1_000 {
                cache.clear();
            }
            cache.insert(url.to_owned(), (Instant::now(), info.clone()));
        }
        Ok(info)
    }
}

/// Not loopback, private, link-local, shared, documentation, multicast or unspecified.
fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (b == 18 || b == 19)))
        }
        IpAddr::V6(v6) => {
            let segments = v6.segments();
            let first = segments.first().copied().unwrap_or(0);
            if let Some(v4) = embedded_ipv4(v6) {
                return is_public(IpAddr::V4(v4));
            }
            // Local-use NAT64 (RFC 8215): the IPv4 part sits where the site chose; reaches inside.
            if segments.get(..3) == Some(&[0x64, 0xff9b, 1][..]) {
                return false;
            }
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

/// The IPv4 address an IPv6 address reaches through a translator or tunnel: IPv4-mapped
/// (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`), IPv4-translated (`::ffff:0:a.b.c.d`), NAT64 with the well-known prefix
/// (`64:ff9b::a.b.c.d`, RFC 6052) and 6to4 (`2002:aabb:ccdd::/48`, RFC 3056). `::` and `::1`
/// are left to the IPv6 checks.
fn embedded_ipv4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    if v6.is_loopback() || v6.is_unspecified() {
        return None;
    }
    let s = v6.segments();
    let v4 = |hi: u16, lo: u16| {
        let [a, b] = hi.to_be_bytes();
        let [c, d] = lo.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    match s {
        [0, 0, 0, 0, 0, 0xffff | 0, hi, lo] => Some(v4(hi, lo)),
        [0, 0, 0, 0, 0xffff, 0, hi, lo] => Some(v4(hi, lo)),
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => Some(v4(hi, lo)),
        [0x2002, hi, lo, ..] => Some(v4(hi, lo)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_are_vetted() {
        for ok in [
            "https://claude.ai/api/mcp/auth_callback",
            "http://127.0.0.1:33418/callback",
            "http://localhost:6274/oauth/callback",
            "cursor://anysphere.cursor-mcp/oauth/callback",
            "vscode://vscode.github-authentication/did-authenticate",
            "vscode-insiders://callback",
        ] {
            assert!(redirect_uri_allowed(ok, &[]), "{ok}");
        }
        for bad in [
            "http://evil.example/cb",
            "javascript:alert(1)",
            "https://a.example/cb#frag",
            "not a url",
            "data:text/html,x",
            "x-evil://claude.ai/api/mcp/auth_callback",
            "intent://scan/#Intent;scheme=zxing;end",
            "ms-msdt:/id",
            "https://user:pw@claude.ai/cb",
        ] {
            assert!(!redirect_uri_allowed(bad, &[]), "{bad}");
        }
        assert!(redirect_uri_allowed("myapp://cb", &["myapp".to_owned()]));
    }

    #[test]
    fn redirects_match_exactly_except_loopback_ports() {
        let registered = vec![
            "https://chatgpt.com/connector_platform_oauth_redirect".to_owned(),
            "http://127.0.0.1:1/cb".to_owned(),
        ];
        assert!(redirect_matches(
            &registered,
            "https://chatgpt.com/connector_platform_oauth_redirect"
        ));
        assert!(!redirect_matches(
            &registered,
            "https://chatgpt.com/connector_platform_oauth_redirect/"
        ));
        assert!(redirect_matches(&registered, "http://127.0.0.1:54321/cb"));
        assert!(!redirect_matches(
            &registered,
            "http://127.0.0.1:54321/other"
        ));
        assert!(
            !redirect_matches(&registered, "http://localhost:54321/cb"),
            "host must match too"
        );
    }

    #[test]
    fn private_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "169.254.169.254",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
            "0.0.0.0",
            // IPv4-compatible IPv6 of private IPv4
            "::10.0.0.1",
            "::127.0.0.1",
            "::169.254.169.254",
            "::ffff:0:10.0.0.1",
            // NAT64, well-known prefix and local-use prefix
            "64:ff9b::10.0.0.1",
            "64:ff9b::7f00:1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::8.8.8.8",
            // 6to4 of private IPv4
            "2002:0a00:0001::1",
            "2002:7f00:0001::",
            "2002:c0a8:0101:1::1",
            "2002:a9fe:a9fe::1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "8.8.8.8",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::8.8.8.8",
            "2002:0808:0808::1",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }
}
