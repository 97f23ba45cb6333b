//! What a caller may do: read-only narrowing (the `X-MCP-Readonly` header and read grants) of the
//! server's own tool selection, consent per toolset carried as scopes, and step-up on 403.

use std::collections::BTreeSet;
use std::sync::Arc;

use ilert_mcp::auth::seal::TokenKey;
use ilert_mcp::auth::{ACCESS_PREFIX, Grant, OAuth, Scope, store};
use ilert_mcp::tools::catalogue::{Catalogue, Selection};
use serde_json::{Value, json};

use crate::common::*;

fn post(url: &str) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-06-18")
}

/// The names `tools/list` answers with, given extra `headers`, and whether each is read-only.
async fn listed(url: &str, bearer: &str, headers: &[(&str, &str)]) -> Vec<(String, bool)> {
    let mut request = post(url).bearer_auth(bearer);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    answer["result"]["tools"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"))
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap().to_owned(),
                t["annotations"]["readOnlyHint"].as_bool().unwrap(),
            )
        })
        .collect()
}

fn names(tools: &[(String, bool)]) -> BTreeSet<String> {
    tools.iter().map(|(n, _)| n.clone()).collect()
}

/// One `tools/call` over HTTP: the status and the answer (JSON when there is one).
async fn call_http(
    url: &str,
    bearer: &str,
    headers: &[(&str, &str)],
    tool: &str,
    args: Value,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut request = post(url).bearer_auth(bearer);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request
        .json(&json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
                      "params": {"name": tool, "arguments": args}}))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    (
        status,
        headers,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// A server offering the alerts and chatgpt toolsets: chatgpt is not on by default, so this is a
/// configured selection the defaults do not give.
fn alerts_and_chatgpt() -> Catalogue {
    Catalogue::select(&Selection {
        toolsets: Some(vec!["alerts".into(), "chatgpt".into()]),
        ..Default::default()
    })
}

/// An access token for `oauth`, as the token endpoint would issue it.
fn access_token(oauth: &OAuth, scope: Scope) -> String {
    let now = store::now();
    oauth.sealer.seal(
        ACCESS_PREFIX,
        &Grant {
            key: USER_KEY.into(),
            uid: 10002,
            name: "Jonas Weber".into(),
            cid: "test-client".into(),
            scope,
            aud: oauth.resource.clone(),
            iat: now,
            exp: now + 600,
            jti: "test".into(),
        },
    )
}

#[tokio::test]
async fn read_only_narrows_the_configured_selection_not_the_defaults() {
    let (h, oauth) = start_oauth_selected(
        &TokenKey::generate(),
        false,
        Arc::new(store::InMemory::default()),
        alerts_and_chatgpt(),
    )
    .await;
    // The read tools of the alerts and chatgpt toolsets, from the catalogue table in the README.
    let expected: BTreeSet<String> = ["fetch", "get_alert", "list_alerts", "search"]
        .into_iter()
        .map(String::from)
        .collect();
    let full = listed(&h.mcp_url, USER_KEY, &[]).await;
    assert!(names(&full).contains("accept_alerts"), "{full:?}");

    // By header, and by a read-only grant (a ChatGPT connector granted read access).
    let read_grant = access_token(&oauth, Scope::Read);
    for (what, bearer, headers) in [
        ("header", USER_KEY, vec![("x-mcp-readonly", "true")]),
        ("read grant", read_grant.as_str(), vec![]),
    ] {
        let tools = listed(&h.mcp_url, bearer, &headers).await;
        assert_eq!(names(&tools), expected, "{what}");
        assert!(tools.iter().all(|(_, ro)| *ro), "{what}: {tools:?}");
        let (status, _, answer) = call_http(
            &h.mcp_url,
            bearer,
            &headers,
            "search",
            json!({"query": "checkout"}),
        )
        .await;
        assert_eq!(status, 200, "{what}: {answer}");
        assert_ne!(answer["result"]["isError"], true, "{what}: {answer}");
        let results: Value =
            serde_json::from_str(answer["result"]["content"][0]["text"].as_str().unwrap()).unwrap();
        assert!(!results["results"].as_array().unwrap().is_empty(), "{what}");
    }
}

#[tokio::test]
async fn read_only_keeps_tools_named_alone() {
    // `--tools search,fetch` alone: exactly those two, and read-only must not hide them.
    let catalogue = Catalogue::select(&Selection {
        tools: vec!["search".into(), "fetch".into()],
        ..Default::default()
    });
    let (h, _) = start_oauth_selected(
        &TokenKey::generate(),
        false,
        Arc::new(store::InMemory::default()),
        catalogue,
    )
    .await;
    let tools = listed(&h.mcp_url, USER_KEY, &[("x-mcp-readonly", "1")]).await;
    assert_eq!(
        names(&tools),
        BTreeSet::from(["fetch".to_owned(), "search".to_owned()])
    );
}

#[tokio::test]
async fn the_read_only_header_fails_closed() {
    let h = start().await;
    let writes = |tools: &[(String, bool)]| tools.iter().filter(|(_, ro)| !ro).count();
    assert!(writes(&listed(&h.mcp_url, USER_KEY, &[]).await) > 0);
    // Only an explicit "off" turns it off.
    for off in ["false", "0", "no", "off", " False "] {
        let tools = listed(&h.mcp_url, USER_KEY, &[("x-mcp-readonly", off)]).await;
        assert!(writes(&tools) > 0, "{off:?} is off");
    }
    // Anything else is read-only: a value this server does not know, an empty one.
    for on in ["true", "enabled", "y", "readonly", "", "2"] {
        let tools = listed(&h.mcp_url, USER_KEY, &[("x-mcp-readonly", on)]).await;
        assert_eq!(writes(&tools), 0, "{on:?} is read-only: {tools:?}");
    }
    // Repeated headers are all read and the strictest wins, in either order.
    for pair in [["false", "true"], ["true", "false"], ["no", "yes please"]] {
        let headers = [("x-mcp-readonly", pair[0]), ("x-mcp-readonly", pair[1])];
        let tools = listed(&h.mcp_url, USER_KEY, &headers).await;
        assert_eq!(writes(&tools), 0, "{pair:?}: {tools:?}");
    }
    // And a write is refused at call time, not just hidden.
    let id = alert_ids(&h.sandbox_url, "PENDING").await[0];
    let headers = [("x-mcp-readonly", "false"), ("x-mcp-readonly", "enabled")];
    let (status, _, answer) = call_http(
        &h.mcp_url,
        USER_KEY,
        &headers,
        "accept_alerts",
        json!({"ids": [id]}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["result"]["isError"], true, "{answer}");
    assert!(
        answer["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("read-only"),
        "{answer}"
    );
    assert!(alert_ids(&h.sandbox_url, "PENDING").await.contains(&id));
}
