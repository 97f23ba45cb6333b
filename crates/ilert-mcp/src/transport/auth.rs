//! Bearer pass-through auth for `/mcp`: every request carries `Authorization: Bearer <ilert API
//! key>`; the key is checked against ilert (`GET /users/current`, cached briefly by its SHA-256) and
//! handed to the tools of that request only.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ilert_client::{ApiError, ApiKey, Client};
use sha2::{Digest, Sha256};

use crate::auth::{ACCESS_PREFIX, GrantInfo, OAuth, Scope};
use crate::auth::{CallerKey, CallerRole, Role};
use crate::calls::catalogue::Catalogue;
use crate::observe::audit::{AuditLog, Entry, Outcome};
use crate::transport::guard::ToolCall;

/// How long a key ilert accepted is trusted without asking again. A key revoked meanwhile still
/// fails at the tool call, with a tool error saying so.
const VALID_TTL: Duration = Duration::from_secs(300);
/// How long a rejected key is remembered, so a misconfigured client cannot drive ilert traffic.
const REJECTED_TTL: Duration = Duration::from_secs(30);
const MAX_CACHED_KEYS: usize = 10_000;
/// Keys not yet known (neither cached valid nor cached rejected) are checked with ilert at this
/// rate by default (`--key-checks-per-second`), in bursts of up to twice as many: random bearers
/// cannot turn into unbounded upstream traffic. Beyond it a caller gets 503 with Retry-After.
pub const KEY_CHECKS_PER_SECOND: u32 = 10;

/// A token bucket for verifications of unknown keys; `per_sec` 0 means no limit.
struct Bucket {
    tokens: f64,
    at: Instant,
    per_sec: f64,
}

impl Bucket {
    fn new(per_sec: u32) -> Self {
        let per_sec = f64::from(per_sec);
        Self {
            tokens: 2.0 * per_sec,
            at: Instant::now(),
            per_sec,
        }
    }
}

pub struct BearerAuth {
    client: Client,
    realm: String,
    verdicts: Mutex<HashMap<[u8; 32], (Instant, Verdict)>>,
    unknown: Mutex<Bucket>,
    /// With OAuth on, access tokens are accepted too and 401s point at the metadata.
    oauth: Option<Arc<OAuth>>,
    /// Told whom a verified key belongs to, so a write's audit event does not ask ilert again.
    audit: Option<Arc<crate::observe::audit::AuditLog>>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Verdict {
    /// ilert accepted the key; its owner's role, when ilert named one this server knows.
    Valid(Option<Role>),
    Rejected,
}

impl BearerAuth {
    pub fn new(client: Client, oauth: Option<Arc<OAuth>>) -> Arc<Self> {
        Self::with_audit(client, oauth, None)
    }

    /// The same, telling `audit` whom each key it verifies belongs to.
    pub fn with_audit(
        client: Client,
        oauth: Option<Arc<OAuth>>,
        audit: Option<Arc<crate::observe::audit::AuditLog>>,
    ) -> Arc<Self> {
        Arc::new(Self {
            client,
            realm: "ilert-mcp".to_owned(),
            verdicts: Mutex::new(HashMap::new()),
            unknown: Mutex::new(Bucket::new(KEY_CHECKS_PER_SECOND)),
            oauth,
            audit,
        })
    }

    /// Checks unknown keys with ilert at `per_sec` a second (bursts of twice as many); 0 for no limit.
    pub fn with_key_checks_per_second(self: Arc<Self>, per_sec: u32) -> Arc<Self> {
        if let Ok(mut bucket) = self.unknown.lock() {
            *bucket = Bucket::new(per_sec);
        }
        self
    }

    fn cached(&self, digest: &[u8; 32]) -> Option<Verdict> {
        let verdicts = self.verdicts.lock().ok()?;
        let (at, verdict) = verdicts.get(digest)?;
        let ttl = if matches!(verdict, Verdict::Valid(_)) {
            VALID_TTL
        } else {
            REJECTED_TTL
        };
        (at.elapsed() < ttl).then_some(*verdict)
    }

    fn remember(&self, digest: [u8; 32], verdict: Verdict) {
        if let Ok(mut verdicts) = self.verdicts.lock() {
            if verdicts.len() >= MAX_CACHED_KEYS {
                verdicts.retain(|_, (at, _)| at.elapsed() < VALID_TTL);
                if verdicts.len() >= MAX_CACHED_KEYS {
                    verdicts.clear();
                }
            }
            verdicts.insert(digest, (Instant::now(), verdict));
        }
    }

    /// Whether another unknown key may be checked with ilert now.
    fn take_unknown(&self) -> bool {
        let Ok(mut bucket) = self.unknown.lock() else {
            return false;
        };
        if bucket.per_sec == 0.0 {
            return true;
        }
        let now = Instant::now();
        let refill = now.duration_since(bucket.at).as_secs_f64() * bucket.per_sec;
        bucket.tokens = (bucket.tokens + refill).min(2.0 * bucket.per_sec);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Asks ilert about a key unless the answer is cached, and says its owner's role. A key ilert
    /// could not be asked about (429, 5xx, unreachable, circuit open) is not let through: fail
    /// closed, with a 503.
    async fn verify(&self, key: &ApiKey) -> Result<Option<Role>, Refusal> {
        let digest: [u8; 32] = Sha256::digest(key.expose().as_bytes()).into();
        match self.cached(&digest) {
            Some(Verdict::Valid(role)) => return Ok(role),
            Some(Verdict::Rejected) => return Err(Refusal::Rejected),
            None => {}
        }
        if !self.take_unknown() {
            return Err(Refusal::Busy);
        }
        match self.client.session(key.clone()).current_user().await {
            Ok(user) => {
                let role = user.role.as_deref().and_then(Role::parse);
                self.remember(digest, Verdict::Valid(role));
                if let Some(audit) = &self.audit {
                    audit.remember_user(key, user.id, user.email);
                }
                Ok(role)
            }
            Err(ApiError::Unauthorized { .. } | ApiError::InvalidKey { .. }) => {
                self.remember(digest, Verdict::Rejected);
                Err(Refusal::Rejected)
            }
            Err(e) => {
                tracing::warn!(error = %crate::observe::logsafe::escaped(&e.to_string()), "could not verify an API key with ilert; refusing the request");
                Err(Refusal::Unverified)
            }
        }
    }
}

/// Why a raw key was not let through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// ilert said no: 401.
    Rejected,
    /// ilert could not be asked: 503.
    Unverified,
    /// Too many unknown keys at once: 503.
    Busy,
}

/// 503 with Retry-After: the key may be fine, but it could not be checked now.
fn unverified(refusal: Refusal) -> Response {
    let description = match refusal {
        Refusal::Busy => {
            "Too many new API keys are being checked with ilert right now; this one could not be verified. Try again in a few seconds."
        }
        _ => {
            "ilert could not verify the API key right now (ilert is unavailable or rate-limiting). The request was not run; try again shortly."
        }
    };
    let body = serde_json::json!({
        "error": "temporarily_unavailable",
        "error_description": description,
    });
    let mut response = (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    response
}

fn rejected_message() -> String {
    "ilert rejected this API key (unknown, expired or revoked). Check the Authorization: Bearer <API key> \
     header and that the key is active in ilert under Profile > API Keys."
        .to_owned()
}

/// Axum middleware for `/mcp`. A bearer token is either this server's own access token (it starts
/// with `imcp_at.`; OAuth) or an ilert API key passed through; the prefix tells them apart.
pub async fn require_bearer(
    State(auth): State<Arc<BearerAuth>>,
    mut request: Request,
    next: Next,
) -> Response {
    if request.method() == Method::OPTIONS {
        return next.run(request).await;
    }
    let Some(value) = request.headers().get(header::AUTHORIZATION) else {
        return challenge(
            &auth,
            None,
            "Missing Authorization header. Send 'Authorization: Bearer <your ilert API key>'.",
        );
    };
    let key = match bearer_token(value) {
        Ok(key) => key,
        Err(message) => return challenge(&auth, Some("invalid_request"), message),
    };
    // Our other sealed values (refresh tokens, codes, client ids, forms) and URL-shaped client ids
    // are never ilert keys: refused here, never sent to ilert.
    if let Some(what) = not_an_access_token(key.expose()) {
        return challenge(&auth, Some("invalid_token"), what);
    }
    if key.expose().starts_with(ACCESS_PREFIX) {
        let Some(oauth) = &auth.oauth else {
            return challenge(
                &auth,
                Some("invalid_token"),
                "This server does not issue access tokens; send an ilert API key.",
            );
        };
        match oauth.verify_access(key.expose()) {
            Ok((_, grant)) if oauth.family_revoked(&grant.family).await => {
                return challenge(
                    &auth,
                    Some("invalid_token"),
                    "this sign-in was revoked because one of its refresh tokens was used twice; sign in again",
                );
            }
            Ok((ilert_key, grant)) => {
                // The role narrows the tools offered; not knowing it (ilert unavailable) is no
                // reason to refuse a valid token: ilert still checks each call.
                if let Ok(Some(role)) = auth.verify(&ilert_key).await {
                    request.extensions_mut().insert(CallerRole(role));
                }
                request.extensions_mut().insert(CallerKey(ilert_key));
                request.extensions_mut().insert(grant);
            }
            Err(why) => return challenge(&auth, Some("invalid_token"), why),
        }
        return next.run(request).await;
    }
    match auth.verify(&key).await {
        Ok(role) => {
            if let Some(role) = role {
                request.extensions_mut().insert(CallerRole(role));
            }
        }
        Err(Refusal::Rejected) => {
            return challenge(&auth, Some("invalid_token"), &rejected_message());
        }
        Err(refusal) => return unverified(refusal),
    }
    request.extensions_mut().insert(CallerKey(key));
    next.run(request).await
}

/// Why `token` is one of this server's values other than an access token, if it is one.
fn not_an_access_token(token: &str) -> Option<&'static str> {
    use crate::auth::{CLIENT_PREFIX, CODE_PREFIX, REFRESH_PREFIX};
    if token.starts_with(REFRESH_PREFIX) {
        Some("This is a refresh token; exchange it at /token and send the access token.")
    } else if token.starts_with(CODE_PREFIX) {
        Some("This is an authorization code; exchange it at /token and send the access token.")
    } else if token.starts_with(CLIENT_PREFIX) || token.contains("://") {
        Some(
            "This is an OAuth client id, not a credential; send an access token or an ilert API key.",
        )
    } else if token.starts_with("imcp_") && !token.starts_with(ACCESS_PREFIX) {
        // A sign-in form (imcp_csrf.) or anything else under our prefix.
        Some("This is not an access token; send an access token or an ilert API key.")
    } else {
        None
    }
}

fn bearer_token(value: &HeaderValue) -> Result<ApiKey, &'static str> {
    let value = value
        .to_str()
        .map_err(|_| "The Authorization header is not valid text.")?;
    let (scheme, token) = value
        .trim()
        .split_once(' ')
        .ok_or("Use 'Authorization: Bearer <your ilert API key>'.")?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(
            "Only the Bearer scheme is supported: 'Authorization: Bearer <your ilert API key>'.",
        );
    }
    ApiKey::new(token).map_err(|_| "The bearer token is empty or malformed.")
}

/// A 401 with an RFC 6750 challenge (naming the RFC 9728 metadata when OAuth is on) and a JSON
/// body saying what to do.
fn challenge(auth: &BearerAuth, error: Option<&str>, description: &str) -> Response {
    let mut www = format!("Bearer realm=\"{}\"", auth.realm);
    if let Some(oauth) = &auth.oauth {
        www.push_str(&format!(
            ", resource_metadata=\"{}\", scope=\"{}\"",
            oauth.resource_metadata_url(),
            oauth.grantable().to_scope_string()
        ));
    }
    if let Some(error) = error {
        // Quotes and backslashes cannot appear in our fixed descriptions, but keep the header valid.
        let clean = description.replace(['"', '\\'], "'");
        www.push_str(&format!(
            ", error=\"{error}\", error_description=\"{clean}\""
        ));
    }
    let body = serde_json::json!({
        "error": error.unwrap_or("unauthorized"),
        "error_description": description,
    });
    let mut response = (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(&www) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

/// What the scope check needs: the server's tools, the OAuth server, and the audit log.
#[derive(Clone)]
pub struct ScopeCheck {
    pub catalogue: Arc<Catalogue>,
    pub oauth: Option<Arc<OAuth>>,
    pub audit: Arc<AuditLog>,
    pub client: Client,
}

/// Axum middleware for `/mcp`, after the body guard: a `tools/call` whose tool needs more than
/// the request's OAuth grant allows gets HTTP 403 with an RFC 6750 `insufficient_scope`
/// challenge, so the client can ask the user for more (step-up). The scope named is what the
/// grant has plus what the tool needs, so asking for it loses nothing already granted.
pub async fn require_scope(
    State(check): State<ScopeCheck>,
    request: Request,
    next: Next,
) -> Response {
    let (Some(oauth), Some(grant), Some(ToolCall(name))) = (
        check.oauth.as_ref(),
        request.extensions().get::<GrantInfo>(),
        request.extensions().get::<ToolCall>(),
    ) else {
        return next.run(request).await;
    };
    let (Some(set), Some(tool)) = (
        check.catalogue.toolset_of.get(name.as_str()),
        check.catalogue.router.get(name),
    ) else {
        return next.run(request).await;
    };
    let needed = crate::calls::offer::needed_scope(set, tool);
    if grant.scope.covers(&needed) {
        return next.run(request).await;
    }
    let wanted = grant.scope.union(&needed).intersect(&oauth.grantable());
    let description = format!(
        "{name} needs {} and this grant has {}; sign in again and allow it",
        needed.to_scope_string(),
        grant.scope.to_scope_string()
    );
    crate::observe::metrics::global().tool_call(name, "refused", Duration::ZERO);
    if !crate::calls::catalogue::is_read_only(tool) {
        let tool_name = name.clone();
        let (parts, body) = request.into_parts();
        // The guard has the body in memory already; it is read again only for this refusal.
        let message = axum::body::to_bytes(body, usize::MAX)
            .await
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok());
        let arguments = message
            .as_ref()
            .and_then(|m| m.pointer("/params/arguments"))
            .and_then(|a| a.as_object());
        // The client as the request's own metadata (2026-07-28) names it.
        let client = message
            .as_ref()
            .and_then(|m| m.pointer("/params/_meta/io.modelcontextprotocol~1clientInfo"))
            .and_then(|c| serde_json::from_value(c.clone()).ok());
        let mut entry = Entry::open(&tool_name, arguments, Some(&parts), client, None);
        entry.confirmation(crate::observe::audit::Confirmation::not_asked(
            crate::calls::trail::REFUSED_FIRST,
        ));
        let api = parts
            .extensions
            .get::<CallerKey>()
            .map(|k| check.client.session(k.0.clone()));
        entry
            .finish(
                &check.audit,
                api.as_ref(),
                Outcome::Refused,
                Some("insufficient_scope"),
            )
            .await;
    }
    insufficient_scope(oauth, &wanted, &description)
}

fn insufficient_scope(oauth: &OAuth, wanted: &Scope, description: &str) -> Response {
    let www = format!(
        "Bearer error=\"insufficient_scope\", scope=\"{}\", resource_metadata=\"{}\", error_description=\"{}\"",
        wanted.to_scope_string(),
        oauth.resource_metadata_url(),
        description.replace(['"', '\\'], "'")
    );
    let body = serde_json::json!({
        "error": "insufficient_scope",
        "error_description": description,
        "scope": wanted.to_scope_string(),
    });
    let mut response = (StatusCode::FORBIDDEN, axum::Json(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(&www) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}
