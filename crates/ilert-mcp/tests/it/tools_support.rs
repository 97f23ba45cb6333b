//! Small helpers shared by the `tools_*` behaviour tests: reading the sandbox directly (to check
//! state without going through the tool under test) and asserting on tool results.

use chrono::{Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use rmcp::model::CallToolResult;
use serde_json::Value;

use crate::common::*;

pub const ADMIN_KEY: &str = "demo-key-admin";
pub const RESPONDER_KEY: &str = "demo-key-responder";

/// `GET {sandbox}/{path}` as `key`, parsed as JSON.
pub async fn sandbox_get(sandbox_url: &str, key: &str, path: &str) -> Value {
    let response = reqwest::Client::new()
        .get(format!("{sandbox_url}/{path}"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "GET {path}: {}",
        response.status()
    );
    response.json().await.unwrap()
}

/// How many notifications ilert lists for `alert`, and whether every one failed (none listed is
/// not "all failed"), from the sandbox's REST API.
pub async fn notifications_failed(sandbox_url: &str, alert: i64) -> (usize, bool) {
    let list = sandbox_get(
        sandbox_url,
        ADMIN_KEY,
        &format!("alerts/{alert}/notifications"),
    )
    .await;
    let list = list.as_array().unwrap();
    (
        list.len(),
        !list.is_empty() && list.iter().all(|n| n["status"] == "ERROR"),
    )
}

/// The successful result's `structuredContent`; fails with the text when the tool failed.
pub fn ok(result: &CallToolResult) -> &Value {
    assert!(!is_error(result), "unexpected tool error: {}", text(result));
    structured(result)
}

/// Asserts `result` is a tool error whose text contains every one of `needles`; returns the text.
pub fn err(result: &CallToolResult, needles: &[&str]) -> String {
    let message = text(result);
    assert!(is_error(result), "expected a tool error, got: {message}");
    assert!(
        result.structured_content.is_none(),
        "a tool error carries no structuredContent: {message}"
    );
    for needle in needles {
        assert!(
            message.contains(needle),
            "expected {needle:?} in the error: {message}"
        );
    }
    message
}

/// Ids of `items` (objects with an `id` field).
pub fn ids(items: &Value) -> Vec<i64> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect()
}

/// The date `days` from today in `tz`, e.g. for times the seed put at "tomorrow" in Berlin.
pub fn date_in(tz: Tz, days: i64) -> NaiveDate {
    (Utc::now() + Duration::days(days))
        .with_timezone(&tz)
        .date_naive()
}

/// Every open alert in the sandbox (PENDING and ACCEPTED), as ilert returns them.
pub async fn open_alerts(sandbox_url: &str) -> Vec<Value> {
    let alerts = sandbox_get(
        sandbox_url,
        USER_KEY,
        "alerts?states=PENDING&states=ACCEPTED&max-results=100",
    )
    .await;
    alerts.as_array().unwrap().clone()
}
