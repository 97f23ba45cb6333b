//! `/token`: exchanges a single-use code (PKCE S256 checked) or a refresh token (rotated: each is
//! good once) for a new access token and refresh token.

use std::sync::Arc;

use axum::Form;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use ilert_client::{ApiError, ApiKey};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::authorize::Code;
use super::seal::random_id;
use super::{ACCESS_PREFIX, CODE_PREFIX, Grant, OAuth, REFRESH_PREFIX, Scope, store};

#[derive(Debug, Deserialize)]
pub struct TokenRequest {
    grant_type: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    client_id: Option<String>,
    code_verifier: Option<String>,
    refresh_token: Option<String>,
    scope: Option<String>,
}

pub async fn exchange(
    State(oauth): State<Arc<OAuth>>,
    form: Result<Form<TokenRequest>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(Form(req)) = form else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "send application/x-www-form-urlencoded parameters",
        );
    };
    match req.grant_type.as_deref() {
        Some("authorization_code") => authorization_code(&oauth, req).await,
        Some("refresh_token") => refresh(&oauth, req).await,
        _ => error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "use authorization_code or refresh_token",
        ),
    }
}

async fn authorization_code(oauth: &OAuth, req: TokenRequest) -> Response {
    let Some(code) = req
        .code
        .as_deref()
        .and_then(|c| oauth.sealer.open::<Code>(CODE_PREFIX, c))
    else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "the code is invalid",
        );
    };
    if code.iss != oauth.issuer {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "the code was issued by another server",
        );
    }
    if code.exp <= store::now() {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "the code has expired; sign in again",
        );
    }
    if req.client_id.as_deref() != Some(code.client_id.as_str()) {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "the code was issued to another client",
        );
    }
    if req
        .redirect_uri
        .as_deref()
        .is_some_and(|r| r != code.redirect_uri)
    {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "redirect_uri differs from the one used to get the code",
        );
    }
    let Some(verifier) = req
        .code_verifier
        .as_deref()
        .filter(|v| (43..=128).contains(&v.len()))
    else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "code_verifier (43 to 128 characters) is required",
        );
    };
    let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    if computed != code.challenge {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "code_verifier does not match the code_challenge",
        );
    }
    let id = format!("code:{}", code.jti);
    let reused = "the code has already been used";
    if let Err(refused) = use_once(oauth, &id, code.exp, reused, "an authorization code").await {
        return refused;
    }
    // A new family: every refresh token rotated from this code shares it.
    issue(
        oauth,
        code.key,
        code.uid,
        code.name,
        code.client_id,
        code.scope,
        random_id(),
    )
}

async fn refresh(oauth: &OAuth, req: TokenRequest) -> Response {
    let Some(grant) = req
        .refresh_token
        .as_deref()
        .and_then(|t| oauth.sealer.open::<Grant>(REFRESH_PREFIX, t))
    else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "the refresh token is invalid",
        );
    };
    if grant.exp <= store::now() {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "the refresh token has expired; sign in again",
        );
    }
    if grant.aud != oauth.resource {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "the refresh token is for another resource",
        );
    }
    if req.client_id.as_deref().is_some_and(|c| c != grant.cid) {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "the refresh token was issued to another client",
        );
    }
    // A family revoked by the reuse of one of its tokens (on any replica) is over.
    let family = format!("family:{}", grant.fam);
    if !grant.fam.is_empty() {
        match oauth.used.is_used(&family).await {
            Ok(false) => {}
            Ok(true) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "this sign-in was revoked because one of its refresh tokens was used twice; sign in again",
                );
            }
            Err(e) => return unavailable(oauth, "a refresh token", &e),
        }
    }
    let id = format!("refresh:{}", grant.jti);
    match oauth.used.first_use(&id, grant.exp).await {
        Ok(true) => {}
        Ok(false) => {
            // Reuse of a rotated token: one of the two holders is not the client. Revoke the
            // whole family, so the chain the other holder got from it ends too.
            if !grant.fam.is_empty() {
                // Long enough for the family's refresh and access tokens alike to run out.
                let until = store::now() + oauth.refresh_ttl.max(oauth.access_ttl);
                if let Err(e) = oauth.used.first_use(&family, until).await {
                    tracing::warn!(store = oauth.used.name(), error = %e, "could not record a revoked token family");
                    return unavailable(oauth, "a revoked token family", &e);
                }
                // This replica refuses the family's access tokens at once; the others within
                // `FAMILY_CHECK_TTL`.
                oauth
                    .families
                    .remember(&grant.fam, true, std::time::Instant::now());
                tracing::warn!(
                    user = grant.uid,
                    "a rotated refresh token was used again: its whole family is revoked"
                );
            }
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "the refresh token has already been used; sign in again",
            );
        }
        Err(e) => return unavailable(oauth, "a refresh token", &e),
    }
    // A key revoked in ilert ends the grant at the next refresh.
    let key = match ApiKey::new(&grant.key) {
        Ok(key) => key,
        Err(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "the refresh token is invalid",
            );
        }
    };
    match oauth.ilert.session(key).current_user().await {
        Err(ApiError::Unauthorized { .. } | ApiError::InvalidKey { .. }) => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "ilert no longer accepts the API key behind this grant; sign in again",
            );
        }
        Err(e) => {
            tracing::warn!(error = %crate::observe::logsafe::escaped(&e.to_string()), "could not re-check an API key on refresh; refreshing anyway")
        }
        Ok(_) => {}
    }
    // A client may narrow a refreshed token, never widen it.
    let scope = match req.scope.as_deref() {
        Some(asked) => grant.scope.intersect(&Scope::parse_strict(asked)),
        None => grant.scope,
    };
    if scope == Scope::NONE {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "the requested scope is not part of this grant",
        );
    }
    issue(
        oauth, grant.key, grant.uid, grant.name, grant.cid, scope, grant.fam,
    )
}

fn issue(
    oauth: &OAuth,
    key: String,
    uid: i64,
    name: String,
    cid: String,
    scope: Scope,
    fam: String,
) -> Response {
    let now = store::now();
    // The ceiling may have narrowed since consent (a restart with --read-only).
    let scope = scope.intersect(&oauth.grantable());
    let grant = |ttl: i64| Grant {
        key: key.clone(),
        uid,
        name: name.clone(),
        cid: cid.clone(),
        scope,
        aud: oauth.resource.clone(),
        iat: now,
        exp: now + ttl,
        jti: random_id(),
        fam: fam.clone(),
    };
    let access = oauth.sealer.seal(ACCESS_PREFIX, &grant(oauth.access_ttl));
    // Always a refresh token, whether or not `offline_access` was asked for: connectors that
    // forget to ask would otherwise make the user sign in again every hour.
    let refresh = oauth.sealer.seal(REFRESH_PREFIX, &grant(oauth.refresh_ttl));
    let body = json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": oauth.access_ttl,
        "refresh_token": refresh,
        "scope": scope.to_scope_string(),
    });
    no_store((StatusCode::OK, Json(body)).into_response())
}

/// The use of a one-time value could not be recorded, so it is refused (fail closed). Nothing
/// secret is logged: not the value, not its id.
/// Marks a code or refresh token used, across replicas when the store is shared. The refusal to
/// send instead: `reused` when it was used before, 503 when the store cannot tell.
async fn use_once(
    oauth: &OAuth,
    id: &str,
    expires: i64,
    reused: &str,
    what: &str,
) -> Result<(), Response> {
    match oauth.used.first_use(id, expires).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(error(StatusCode::BAD_REQUEST, "invalid_grant", reused)),
        Err(e) => Err(unavailable(oauth, what, &e)),
    }
}

fn unavailable(oauth: &OAuth, what: &str, e: &store::StoreError) -> Response {
    tracing::warn!(store = oauth.used.name(), error = %e, "could not record the use of {what}; refusing the exchange");
    let mut response = error(
        StatusCode::SERVICE_UNAVAILABLE,
        "temporarily_unavailable",
        "the server cannot record token use right now; try again shortly, or sign in again",
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
    response
}

fn error(status: StatusCode, code: &str, description: &str) -> Response {
    no_store(
        (
            status,
            Json(json!({"error": code, "error_description": description})),
        )
            .into_response(),
    )
}

fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
        .headers_mut()
        .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}
