//! `search` and `fetch` in the exact shapes ChatGPT connectors and deep research require.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::common::*;

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
