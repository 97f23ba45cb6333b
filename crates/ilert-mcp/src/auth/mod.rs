//! OAuth 2.1 for connectors that cannot send a header (claude.ai, ChatGPT): the server is its own
//! authorization server and a protected resource (RFC 9728, RFC 8414, RFC 7591, client ID
//! metadata documents, PKCE S256). Its tokens are sealed and self-contained; the ilert key inside
//! is used upstream, the token itself never leaves the server.

pub mod authorize;
pub mod clients;
pub mod metadata;
pub mod redis_store;
pub mod scopes;
pub mod seal;
pub mod store;
pub mod token;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::{get, post};
use ilert_client::ApiKey;
use serde::{Deserialize, Serialize};

pub use self::scopes::Scope;
use self::seal::Sealer;
use self::store::UsedIds;

/// Prefixes of everything this server seals. An access token is told apart from a raw ilert key
/// by its prefix alone.
pub const ACCESS_PREFIX: &str = "imcp_at.";
pub const REFRESH_PREFIX: &str = "imcp_rt.";
pub const CODE_PREFIX: &str = "imcp_code.";
pub const CLIENT_PREFIX: &str = "imcp_client.";
pub const CSRF_PREFIX: &str = "imcp_csrf.";

/// Default lifetimes, in seconds; `--access-token-secs` and `--refresh-token-secs` change them.
pub const ACCESS_TTL: i64 = 3_600;
pub const REFRESH_TTL: i64 = 30 * 86_400;
/// The bounds an operator may choose within: access tokens end early only when their family is
/// revoked (see [`OAuth::family_revoked`]), so they stay at most a day; refresh tokens at most a year.
pub const ACCESS_TTL_RANGE: std::ops::RangeInclusive<i64> = 60..=86_400;
pub const REFRESH_TTL_RANGE: std::ops::RangeInclusive<i64> = 300..=365 * 86_400;
pub const CODE_TTL: i64 = 120;

/// The content of an access or refresh token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Grant {
    /// The caller's ilert API key.
    pub key: String,
    /// ilert user id and name, for logs-free display.
    pub uid: i64,
    pub name: String,
    /// OAuth client id.
    pub cid: String,
    pub scope: Scope,
    /// The resource (this server's /mcp URL) the token is for.
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    /// Unique id; refresh tokens are single-use by it.
    pub jti: String,
    /// The family: every token rotated from one authorization code shares it, so reuse of any
    /// rotated refresh token revokes them all. Empty in tokens made before families existed.
    #[serde(default)]
    pub fam: String,
}

/// The ilert key of the HTTP caller of this request. Inserted by the auth layer into the request's
/// extensions; never stored anywhere else.
#[derive(Clone)]
pub struct CallerKey(pub ApiKey);

/// The ilert role of the HTTP caller's key, as the key check learnt it from ilert
/// (`GET /users/current`) and cached with the key; absent when it is not known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Guest,
    Stakeholder,
    Responder,
    User,
    Admin,
}

impl Role {
    /// ilert's role name (`RESPONDER`, ...); `None` for one this server does not know.
    pub fn parse(name: &str) -> Option<Self> {
        match name.trim().to_ascii_uppercase().as_str() {
            "GUEST" => Some(Self::Guest),
            "STAKEHOLDER" => Some(Self::Stakeholder),
            "RESPONDER" => Some(Self::Responder),
            "USER" => Some(Self::User),
            "ADMIN" | "OWNER" => Some(Self::Admin),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Guest => "GUEST",
            Self::Stakeholder => "STAKEHOLDER",
            Self::Responder => "RESPONDER",
            Self::User => "USER",
            Self::Admin => "ADMIN",
        }
    }
}

/// [`Role`] in a request's extensions.
#[derive(Debug, Clone, Copy)]
pub struct CallerRole(pub Role);

/// Attached to a request authenticated with an access token.
#[derive(Debug, Clone)]
pub struct GrantInfo {
    pub scope: Scope,
    /// OAuth client id.
    pub client: String,
    /// The client's name as it registered (not verified), when the id carries it.
    pub client_name: Option<String>,
    /// The ilert user who granted it.
    pub uid: i64,
    /// The token family (see [`Grant::fam`]); empty in tokens made before families existed.
    pub family: String,
}

/// How long a replica trusts its last look at whether a token family is revoked. An access token
/// of a family revoked on another replica stops working within this time (the store is shared,
/// Redis); on the replica that revoked it, at once.
pub const FAMILY_CHECK_TTL: Duration = Duration::from_secs(30);
const MAX_FAMILIES: usize = 10_000;

/// What this replica last learnt about token families: revoked ones are remembered for good (a
/// revocation is never undone), unrevoked ones for [`FAMILY_CHECK_TTL`].
#[derive(Default)]
pub struct RevokedFamilies {
    seen: Mutex<HashMap<String, (Instant, bool)>>,
}

impl RevokedFamilies {
    /// Whether `family` is revoked, if known at `now` without asking the store.
    pub fn known(&self, family: &str, now: Instant) -> Option<bool> {
        let seen = self.seen.lock().ok()?;
        let (at, revoked) = seen.get(family)?;
        (*revoked || now.saturating_duration_since(*at) < FAMILY_CHECK_TTL).then_some(*revoked)
    }

    /// Remembers what the store said about `family` at `now`.
    pub fn remember(&self, family: &str, revoked: bool, now: Instant) {
        if let Ok(mut seen) = self.seen.lock() {
            if seen.len() >= MAX_FAMILIES {
                seen.retain(|_, (at, revoked)| {
                    *revoked && now.saturating_duration_since(*at) < Duration::from_secs(86_400)
                });
                if seen.len() >= MAX_FAMILIES {
                    seen.clear();
                }
            }
            seen.insert(family.to_owned(), (now, revoked));
        }
    }
}

impl std::fmt::Debug for OAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuth")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

pub struct OAuth {
    /// Issuer, e.g. `https://mcp.example.com` (no trailing slash).
    pub issuer: String,
    /// The protected resource: `{issuer}/mcp`.
    pub resource: String,
    pub sealer: Sealer,
    pub used: Arc<dyn UsedIds>,
    /// Checks a key entered on the authorize page against ilert.
    pub ilert: ilert_client::Client,
    /// Allow http:// CIMD URLs and loopback addresses (tests only).
    pub allow_insecure_metadata: bool,
    /// Lifetimes of issued tokens, in seconds.
    pub access_ttl: i64,
    pub refresh_ttl: i64,
    /// The most this server grants: a group with no tool offered is not offered, and a
    /// `--read-only` server (no write tool at all) grants only read.
    pub ceiling: Scope,
    /// Private redirect schemes accepted besides the known native clients' (`--redirect-scheme`).
    pub redirect_schemes: Vec<String>,
    /// Token families this replica knows to be revoked, or not, lately.
    pub families: RevokedFamilies,
}

impl OAuth {
    pub fn new(
        public_url: &str,
        key: &seal::TokenKey,
        used: Arc<dyn UsedIds>,
        ilert: ilert_client::Client,
    ) -> Arc<Self> {
        let issuer = public_url.trim().trim_end_matches('/').to_owned();
        let _ = rustls::crypto::ring::default_provider().install_default();
        Arc::new(Self {
            resource: format!("{issuer}/mcp"),
            issuer,
            sealer: Sealer::new(key),
            used,
            ilert,
            allow_insecure_metadata: false,
            access_ttl: ACCESS_TTL,
            refresh_ttl: REFRESH_TTL,
            ceiling: Scope::Write,
            redirect_schemes: Vec::new(),
            families: RevokedFamilies::default(),
        })
    }

    /// The metadata URL named in `WWW-Authenticate` on every 401.
    pub fn resource_metadata_url(&self) -> String {
        format!("{}/.well-known/oauth-protected-resource/mcp", self.issuer)
    }

    /// The most a grant from this server can hold (see [`Scope::grantable`]).
    pub fn grantable(&self) -> Scope {
        self.ceiling.grantable()
    }

    /// Opens an access token for this resource: the key inside and what it may do.
    pub fn verify_access(&self, token: &str) -> Result<(ApiKey, GrantInfo), &'static str> {
        let grant: Grant = self
            .sealer
            .open(ACCESS_PREFIX, token)
            .ok_or("the access token is invalid")?;
        if grant.exp <= store::now() {
            return Err("the access token has expired; refresh it");
        }
        if grant.aud != self.resource {
            return Err("the access token was issued for another resource");
        }
        let key = ApiKey::new(&grant.key).map_err(|_| "the access token is invalid")?;
        Ok((
            key,
            GrantInfo {
                // A grant never outlives a narrower server configuration.
                scope: grant.scope.intersect(&self.grantable()),
                client_name: self
                    .sealer
                    .open::<clients::ClientInfo>(CLIENT_PREFIX, &grant.cid)
                    .map(|c| c.name),
                client: grant.cid,
                uid: grant.uid,
                family: grant.fam,
            },
        ))
    }

    /// Whether the access token's `family` was revoked (a rotated refresh token of it was used
    /// again), on any replica sharing the store: asked of the store at most every
    /// [`FAMILY_CHECK_TTL`] per family. If the store does not answer, the token is let through
    /// (as access tokens are while Redis is down) and the store is asked again after the TTL.
    pub async fn family_revoked(&self, family: &str) -> bool {
        if family.is_empty() {
            return false;
        }
        let now = Instant::now();
        if let Some(revoked) = self.families.known(family, now) {
            return revoked;
        }
        let revoked = match self.used.is_used(&format!("family:{family}")).await {
            Ok(revoked) => revoked,
            Err(e) => {
                tracing::warn!(store = self.used.name(), error = %e, "could not check whether a token family is revoked; letting its access token through");
                false
            }
        };
        self.families.remember(family, revoked, now);
        revoked
    }
}

/// `/.well-known/*`, `/register`, `/token` (readable cross-origin) and `/authorize` (not).
pub fn router(oauth: Arc<OAuth>) -> Router {
    let api = Router::new()
        .route(
            "/.well-known/oauth-protected-resource",
            get(metadata::protected_resource),
        )
        .route(
            "/.well-known/oauth-protected-resource/mcp",
            get(metadata::protected_resource),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            get(metadata::authorization_server),
        )
        .route(
            "/.well-known/oauth-authorization-server/mcp",
            get(metadata::authorization_server),
        )
        .route(
            "/.well-known/openid-configuration",
            get(metadata::authorization_server),
        )
        .route("/register", post(clients::register))
        .route("/token", post(token::exchange))
        .layer(axum::middleware::from_fn(cors));
    Router::new()
        .route("/authorize", get(authorize::page).post(authorize::submit))
        .merge(api)
        .with_state(oauth)
        // Registrations, token requests and the sign-in form are a few hundred bytes: read at
        // most this much, in limited time, before anything else.
        .layer(axum::middleware::from_fn_with_state(
            crate::transport::guard::SmallBody(OAUTH_MAX_BODY),
            crate::transport::guard::small_body,
        ))
}

/// Largest body accepted by /register, /token and /authorize.
pub const OAUTH_MAX_BODY: usize = 16 * 1024;

/// Browser-based clients (MCP Inspector) fetch metadata, register and exchange codes from another
/// origin. These endpoints use no cookies, so any origin may read them.
pub async fn cors(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::{HeaderValue, Method, StatusCode, header};
    use axum::response::IntoResponse;
    let preflight = request.method() == Method::OPTIONS;
    let mut response = if preflight {
        StatusCode::NO_CONTENT.into_response()
    } else {
        next.run(request).await
    };
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    if preflight {
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, OPTIONS"),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("content-type, authorization, mcp-protocol-version"),
        );
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
    }
    response
}

#[cfg(test)]
mod family_tests {
    use super::*;

    #[test]
    fn revoked_families_stay_known_and_others_are_asked_again_after_the_ttl() {
        let families = RevokedFamilies::default();
        let t0 = Instant::now();
        assert_eq!(families.known("f", t0), None);
        families.remember("f", false, t0);
        families.remember("g", true, t0);
        assert_eq!(
            families.known("f", t0 + Duration::from_secs(29)),
            Some(false)
        );
        assert_eq!(
            families.known("f", t0 + FAMILY_CHECK_TTL),
            None,
            "asked again"
        );
        assert_eq!(
            families.known("g", t0 + Duration::from_secs(3_600)),
            Some(true)
        );
    }
}
