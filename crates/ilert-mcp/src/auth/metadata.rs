//! RFC 9728 protected-resource metadata and RFC 8414 authorization-server metadata. Both list the
//! scopes this server can grant: per consent group, and the old `ilert:read` / `ilert:write`.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::{OAuth, Scope};

pub async fn protected_resource(State(oauth): State<Arc<OAuth>>) -> Json<Value> {
    Json(json!({
        "resource": oauth.resource,
        "authorization_servers": [oauth.issuer],
        "scopes_supported": oauth.grantable().supported_within(),
        "bearer_methods_supported": ["header"],
        "resource_name": "ilert",
        "resource_documentation": "https://docs.ilert.com/developer-docs/mcp-server/connect-ilert-to-an-llm",
    }))
}

pub async fn authorization_server(State(oauth): State<Arc<OAuth>>) -> Json<Value> {
    let base = &oauth.issuer;
    Json(json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "registration_endpoint": format!("{base}/register"),
        "scopes_supported": oauth.grantable().supported_within(),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_methods_supported": ["none"],
        "code_challenge_methods_supported": ["S256"],
        "client_id_metadata_document_supported": true,
        "authorization_response_iss_parameter_supported": true,
        "service_documentation": "https://docs.ilert.com/developer-docs/mcp-server/connect-ilert-to-an-llm",
        "default_scope": Scope::Read.intersect(&oauth.grantable()).to_scope_string(),
    }))
}
