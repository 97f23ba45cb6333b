//! `GET /healthz`, an unauthenticated liveness probe for scripts that start the sandbox. Not
//! part of ilert's API, and outside `/api` so it can never shadow an ilert path.

use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz))
}

async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}
