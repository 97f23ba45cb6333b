//! A test-only request counter, not part of ilert's API: how many requests the sandbox received
//! under `/api`, by the caller's `User-Agent` product (the part before `/`), so a benchmark can
//! count the upstream calls an MCP server made for one task. `GET /_test/requests` answers
//! `{"total": n, "byUserAgent": {"ilert-mcp": n, ...}}` without a key; it reveals no data, only
//! counts. Outside `/api`, so it can never shadow an ilert path.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::Request;
use axum::http::header::USER_AGENT;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, http::HeaderMap};
use serde_json::{Value, json};

/// Requests seen so far, by user-agent product.
#[derive(Debug, Default)]
struct Counts {
    total: u64,
    by_user_agent: BTreeMap<String, u64>,
}

type Shared = Arc<Mutex<Counts>>;

/// Adds the counting layer and the `/_test/requests` route to the sandbox's finished router.
pub fn wrap(router: Router) -> Router {
    let counts = Shared::default();
    let report = counts.clone();
    router
        .route(
            "/_test/requests",
            get(move || {
                let report = report.clone();
                async move { Json(snapshot(&report)) }
            }),
        )
        .layer(middleware::from_fn(move |request: Request, next: Next| {
            let counts = counts.clone();
            async move { count(&counts, request, next).await }
        }))
}

async fn count(counts: &Shared, request: Request, next: Next) -> Response {
    if request.uri().path().starts_with("/api/") {
        let product = product(request.headers());
        if let Ok(mut counts) = counts.lock() {
            counts.total += 1;
            *counts.by_user_agent.entry(product).or_default() += 1;
        }
    }
    next.run(request).await
}

/// `ilert-mcp/0.1.0 (...)` -> `ilert-mcp`; a missing or unreadable header counts as `-`.
fn product(headers: &HeaderMap) -> String {
    let agent = headers
        .get(USER_AGENT)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    let product = agent
        .split(['/', ' '])
        .next()
        .unwrap_or("")
        .chars()
        .take(64)
        .collect::<String>();
    if product.is_empty() {
        "-".to_owned()
    } else {
        product
    }
}

fn snapshot(counts: &Shared) -> Value {
    match counts.lock() {
        Ok(counts) => json!({"total": counts.total, "byUserAgent": counts.by_user_agent}),
        Err(_) => json!({"total": null, "byUserAgent": {}}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn product_is_the_part_before_the_version() {
        let mut headers = HeaderMap::new();
        assert_eq!(product(&headers), "-");
        headers.insert(
            USER_AGENT,
            HeaderValue::from_static("ilert-mcp/0.1.0 (linux)"),
        );
        assert_eq!(product(&headers), "ilert-mcp");
        headers.insert(USER_AGENT, HeaderValue::from_static("curl"));
        assert_eq!(product(&headers), "curl");
    }
}
