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

use crate::audit::{AuditLog, Entry, Outcome};
use crate::auth::{ACCESS_PREFIX, GrantInfo, OAuth, Scope};
use crate::server::CallerKey;
use crate::tools::catalogue::Catalogue;
use crate::transport::guard::ToolCall;

/// How long a key ilert accepted is trusted without asking again. A key revoked meanwhile still
/// fails at the tool call, with a tool error saying so.
const VALID_TTL: Duration = Duration::from_secs(300);
/// How long a rejected key is remembered, so a misconfigured client cannot drive ilert traffic.
const REJECTED_TTL: Duration = Duration::from_secs(30);
const MAX_CACHED_KEYS: usize = 10_000;

pub struct BearerAuth {
    client: Client,
    realm: String,
    verdicts: Mutex<HashMap<[u8; 32], (Instant, Verdict)>>,
    /// With OAuth on, access tokens are accepted too and 401s point at the metadata.
    oauth: Option<Arc<OAuth>>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Verdict {
    Valid,
    Rejected,
}

impl BearerAuth {
    pub fn new(client: Client, oauth: Option<Arc<OAuth>>) -> Arc<Self> {
        Arc::new(Self {
            client,
            realm: "ilert-mcp".to_owned(),
            verdicts: Mutex::new(HashMap::new()),
            oauth,
        })
    }

    fn cached(&self, digest: &[u8; 32]) -> Option<Verdict> {
        let verdicts = self.verdicts.lock().ok()?;
        let (at, verdict) = verdicts.get(digest)?;
        let ttl = if *verdict == Verdict::Valid {
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

    /// Asks ilert about a key unless the answer is cached. ilert being unreachable is not the
    /// caller's fault: the request goes on and the tool reports the outage.
    async fn verify(&self, key: &ApiKey) -> Result<(), String> {
        let digest: [u8; 32] = Sha256::digest(key.expose().as_bytes()).into();
        match self.cached(&digest) {
            Some(Verdict::Valid) => return Ok(()),
            Some(Verdict::Rejected) => return Err(rejected_message()),
            None => {}
        }
        match self.client.session(key.clone()).current_user().await {
            Ok(_) => {
                self.remember(digest, Verdict::Valid);
                Ok(())
            }
            Err(ApiError::Unauthorized { .. } | ApiError::InvalidKey { .. }) => {
                self.remember(digest, Verdict::Rejected);
                Err(rejected_message())
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not verify an API key with ilert; letting the request through");
                Ok(())
            }
        }
    }
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
    if key.expose().starts_with(ACCESS_PREFIX) {
        let Some(oauth) = &auth.oauth else {
            return challenge(
                &auth,
                Some("invalid_token"),
                "This server does not issue access tokens; send an ilert API key.",
            );
        };
        match oauth.verify_access(key.expose()) {
            Ok((ilert_key, grant)) => {
                request.extensions_mut().insert(CallerKey(ilert_key));
                request.extensions_mut().insert(grant);
            }
            Err(why) => return challenge(&auth, Some("invalid_token"), why),
        }
        return next.run(request).await;
    }
    if let Err(message) = auth.verify(&key).await {
        return challenge(&auth, Some("invalid_token"), &message);
    }
    request.extensions_mut().insert(CallerKey(key));
    next.run(request).await
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
    let needed = crate::server::needed_scope(set, tool);
    if grant.scope.covers(&needed) {
        return next.run(request).await;
    }
    let wanted = grant.scope.union(&needed).intersect(&oauth.grantable());
    let description = format!(
        "{name} needs {} and this grant has {}; sign in again and allow it",
        needed.to_scope_string(),
        grant.scope.to_scope_string()
    );
    crate::metrics::global().tool_call(name, "refused", Duration::ZERO);
    if !crate::tools::catalogue::is_read_only(tool) {
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
        let entry = Entry::open(&tool_name, arguments, Some(&parts), client, None);
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
