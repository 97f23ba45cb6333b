//! ilert's OpenAPI document, served unauthenticated at `/api-docs/openapi.json` as ilert does,
//! so that spec-driven clients such as ilert-cli can be pointed at the sandbox.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::AppState;

/// Byte-for-byte the spec file the project is built against (v2.2026.3-r.4).
pub const OPENAPI_JSON: &[u8] = include_bytes!("../../../spec/ilert-openapi.json");

pub fn routes() -> Router<AppState> {
    Router::new().route("/api-docs/openapi.json", get(openapi_json))
}

async fn openapi_json() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI_JSON)
}
