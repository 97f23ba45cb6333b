//! `search` and `fetch` in the exact shapes ChatGPT connectors and deep research require.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::common::*;
use crate::tools_support::sandbox_get;

fn only_json(result: &rmcp::model::CallToolResult) -> Value {
    assert!(!is_error(result), "{}", text(result));
    assert_eq!(result.content.len(), 1, "exactly one content item");
    let item = result.content[0].as_text().expect("a text item");
    serde_json::from_str(&item.text).expect("the text is JSON")
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

#[tokio::test]
async fn search_and_fetch_have_the_exact_shapes() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    let found = only_json(&call(&client, "search", json!({"query": "checkout"})).await);
    assert_eq!(keys(&found), BTreeSet::from(["results".to_owned()]));
    let results = found["results"].as_array().unwrap();
    assert!(results.len() >= 3, "{found}");
    for r in results {
        assert_eq!(
            keys(r),
            BTreeSet::from(["id".into(), "title".into(), "url".into()]),
            "{r}"
        );
        assert!(
            r["url"]
                .as_str()
                .unwrap()
                .starts_with("https://app.ilert.com/")
        );
    }
    // Third-party text in a title stands in quotes after the server's words (issue 23 §1): an
    // alert's title ends with its summary, as the sandbox's REST API has it, quoted.
    for r in results
        .iter()
        .filter(|r| r["id"].as_str().unwrap().starts_with("alert:"))
    {
        let id = r["id"].as_str().unwrap().trim_start_matches("alert:");
        let alert = sandbox_get(&h.sandbox_url, USER_KEY, &format!("alerts/{id}")).await;
        let title = r["title"].as_str().unwrap();
        let summary = alert["summary"].as_str().unwrap();
        assert!(
            title.starts_with(&format!("Alert #{id} ("))
                && title.ends_with(&format!(": \"{summary}\"")),
            "{title}"
        );
    }
    // Matches in titles rank first; others matched in details or their source.
    assert!(
        results[0]["title"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("checkout"),
        "{found}"
    );
    let kinds: BTreeSet<&str> = results
        .iter()
        .map(|r| r["id"].as_str().unwrap().split(':').next().unwrap())
        .collect();
    assert!(
        kinds.contains("alert") && kinds.contains("policy"),
        "{kinds:?}"
    );

    // Fetch one of every kind search can return.
    let user = only_json(&call(&client, "search", json!({"query": "Jonas"})).await);
    let mut ids: Vec<String> = results
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    ids.extend(
        user["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_owned()),
    );
    let mut fetched_kinds = BTreeSet::new();
    for id in ids {
        let kind = id.split(':').next().unwrap().to_owned();
        if !fetched_kinds.insert(kind) {
            continue;
        }
        let doc = only_json(&call(&client, "fetch", json!({"id": id})).await);
        assert_eq!(
            keys(&doc),
            BTreeSet::from([
                "id".into(),
                "title".into(),
                "text".into(),
                "url".into(),
                "metadata".into()
            ])
        );
        assert_eq!(doc["id"], id.as_str());
        assert!(doc["text"].as_str().unwrap().len() > 20, "{doc}");
        assert!(doc["metadata"].is_object());
    }
    assert!(fetched_kinds.contains("user"));
}

#[tokio::test]
async fn fetch_explains_bad_and_unknown_ids() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Stateless).await;
    for (id, expect) in [
        ("4711", "not an id from search"),
        ("alert:999999999", "not found"),
        ("planet:3", "Unknown kind"),
    ] {
        let result = call(&client, "fetch", json!({"id": id})).await;
        assert!(is_error(&result), "{id}");
        assert!(text(&result).contains(expect), "{id}: {}", text(&result));
    }
}

/// Issue 24 §3.3: fetching an alert carries its timeline (comments, who accepted, who resolved)
/// as quoted third-party text, as `/alerts/{id}/log-entries` has it.
#[tokio::test]
async fn fetch_of_an_alert_quotes_its_timeline() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Stateless).await;
    // An accepted alert with a comment, resolved here through the REST API, so its timeline
    // has a comment, who accepted and who resolved.
    let accepted = sandbox_get(
        &h.sandbox_url,
        USER_KEY,
        "alerts?states=ACCEPTED&max-results=100",
    )
    .await;
    let mut chosen = None;
    for a in accepted.as_array().unwrap() {
        let id = a["id"].as_i64().unwrap();
        let path = format!("alerts/{id}/log-entries?lang=en&max-results=100");
        let log = sandbox_get(&h.sandbox_url, USER_KEY, &path).await;
        if log
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["text"].as_str().is_some_and(|t| t.contains("commented")))
        {
            chosen = Some(id);
            break;
        }
    }
    let id = chosen.expect("the seed has an accepted alert with a comment");
    let resolved = reqwest::Client::new()
        .put(format!("{}/alerts/{id}/resolve", h.sandbox_url))
        .bearer_auth(USER_KEY)
        .send()
        .await
        .unwrap();
    assert!(resolved.status().is_success(), "{}", resolved.status());
    let log = sandbox_get(
        &h.sandbox_url,
        USER_KEY,
        &format!("alerts/{id}/log-entries?lang=en&max-results=100"),
    )
    .await;
    let mut entries: Vec<(String, i64, String)> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["timestamp"].as_str().unwrap_or("").to_owned(),
                e["id"].as_i64().unwrap_or(0),
                e["text"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    entries.sort();
    let latest: Vec<String> = entries
        .iter()
        .rev()
        .take(15)
        .map(|(_, _, t)| t.clone())
        .collect();
    for word in ["commented", "accepted by", "resolved by"] {
        assert!(
            latest.iter().any(|t| t.contains(word)),
            "{word}: {latest:?}"
        );
    }
    let doc = only_json(&call(&client, "fetch", json!({"id": format!("alert:{id}")})).await);
    let body = doc["text"].as_str().unwrap();
    assert!(body.contains("\nTimeline:"), "{body}");
    for t in latest.iter().filter(|t| {
        t.contains("commented") || t.contains("accepted by") || t.contains("resolved by")
    }) {
        let quoted = format!("\"{}\"", t.replace('\\', "\\\\").replace('"', "\\\""));
        assert!(body.contains(&quoted), "{quoted} missing from: {body}");
    }
}
