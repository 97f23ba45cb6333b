//! MCP Apps views over real HTTP: the extension capability, `ui://` resources in resources/list
//! and resources/read with their CSP, `_meta.ui` on exactly the tools that have a view, and the
//! app-only helper `get_view_context` checked against the sandbox's own REST answers.

use reqwest::Client;
use serde_json::{Value, json};

use crate::common::{Era, USER_KEY, call, connect, start, structured};

const MIME: &str = "text/html;profile=mcp-app";
const EXPECTED: [(&str, &str); 6] = [
    ("list_alerts", "ui://ilert/inbox"),
    ("get_overview", "ui://ilert/inbox"),
    ("who_is_on_call", "ui://ilert/oncall"),
    ("get_schedule_shifts", "ui://ilert/oncall"),
    ("get_incident", "ui://ilert/incident"),
    ("get_alert_metrics", "ui://ilert/metrics"),
];

async fn rpc(url: &str, body: Value) -> Value {
    Client::new()
        .post(url)
        .bearer_auth(USER_KEY)
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-06-18")
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn initialize_declares_the_ui_extension() {
    let h = start().await;
    let init = rpc(
        &h.mcp_url,
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {"extensions": {"io.modelcontextprotocol/ui": {"mimeTypes": [MIME]}}},
            "clientInfo": {"name": "t", "version": "1"}}}),
    )
    .await;
    assert_eq!(
        init["result"]["capabilities"]["extensions"]["io.modelcontextprotocol/ui"]["mimeTypes"],
        json!([MIME]),
        "{init}"
    );
}

#[tokio::test]
async fn views_are_listed_and_read_with_a_csp_naming_no_domain() {
    let h = start().await;
    let list = rpc(
        &h.mcp_url,
        json!({"jsonrpc": "2.0", "id": 1, "method": "resources/list"}),
    )
    .await;
    let resources = list["result"]["resources"].as_array().unwrap();
    let mut uris: Vec<&str> = resources
        .iter()
        .map(|r| r["uri"].as_str().unwrap())
        .collect();
    uris.sort_unstable();
    assert_eq!(
        uris,
        [
            "ui://ilert/inbox",
            "ui://ilert/incident",
            "ui://ilert/metrics",
            "ui://ilert/oncall"
        ]
    );
    for r in resources {
        assert_eq!(r["mimeType"], MIME, "{r}");
        let uri = r["uri"].as_str().unwrap();
        let read = rpc(
            &h.mcp_url,
            json!({"jsonrpc": "2.0", "id": 2, "method": "resources/read", "params": {"uri": uri}}),
        )
        .await;
        let content = &read["result"]["contents"][0];
        assert_eq!(content["uri"], uri);
        assert_eq!(content["mimeType"], MIME);
        let html = content["text"].as_str().unwrap();
        assert!(html.starts_with("<!doctype html>"), "{uri}");
        assert_eq!(r["size"].as_u64().unwrap(), html.len() as u64);
        for meta in [&r["_meta"]["ui"], &content["_meta"]["ui"]] {
            assert_eq!(
                meta["csp"],
                json!({"connectDomains": [], "resourceDomains": []}),
                "{uri}"
            );
        }
        // Self-contained: nothing is loaded from anywhere.
        for tag in ["<script src", "<link", "<img src", "<iframe", "@import"] {
            assert!(!html.contains(tag), "{uri} contains {tag}");
        }
    }
    let unknown = rpc(
        &h.mcp_url,
        json!({"jsonrpc": "2.0", "id": 3, "method": "resources/read", "params": {"uri": "ui://ilert/nope"}}),
    )
    .await;
    assert_eq!(unknown["error"]["code"], -32002, "{unknown}");
}

#[tokio::test]
async fn tools_with_a_view_carry_only_its_uri() {
    let h = start().await;
    let list = rpc(
        &h.mcp_url,
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
    )
    .await;
    let tools = list["result"]["tools"].as_array().unwrap();
    let mut meta_bytes = 0;
    for tool in tools {
        let name = tool["name"].as_str().unwrap();
        // Only the views' part of `_meta` (a write also states its class there, issue 13).
        let meta = &tool["_meta"]["ui"];
        if !meta.is_null() {
            meta_bytes += serde_json::to_string(meta).unwrap().len() + r#","_meta":{"ui":}"#.len();
        }
        match EXPECTED.iter().find(|(t, _)| *t == name) {
            Some((_, uri)) => assert_eq!(*meta, json!({"resourceUri": uri}), "{name}"),
            None if name == "get_view_context" => {
                assert_eq!(*meta, json!({"visibility": ["app"]}));
                assert_eq!(tool["annotations"]["readOnlyHint"], true);
            }
            None => assert!(meta.is_null(), "{name} has _meta.ui {meta}"),
        }
    }
    for (tool, _) in EXPECTED {
        assert!(tools.iter().any(|t| t["name"] == tool), "{tool} missing");
    }
    // Small next to the 24 KB tools/list budget.
    println!("_meta bytes in tools/list: {meta_bytes}");
    assert!(meta_bytes <= 400, "{meta_bytes}");
}

#[tokio::test]
async fn view_context_matches_the_sandbox() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    let get = |path: String| async move {
        Client::new()
            .get(path)
            .bearer_auth(USER_KEY)
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    };
    let schedules = get(format!("{}/schedules", h.sandbox_url)).await;
    let schedule_ids: Vec<i64> = schedules
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_i64().unwrap())
        .collect();
    let result = call(
        &client,
        "get_view_context",
        json!({ "schedules": schedule_ids }),
    )
    .await;
    let out = structured(&result);
    assert_eq!(out["app_url"], "https://app.ilert.com");

    let sources = get(format!("{}/alert-sources", h.sandbox_url)).await;
    let mut want: Vec<(i64, String)> = sources
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["id"].as_i64().unwrap(),
                s["name"].as_str().unwrap().into(),
            )
        })
        .collect();
    let mut got: Vec<(i64, String)> = out["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["id"].as_i64().unwrap(),
                s["name"].as_str().unwrap().into(),
            )
        })
        .collect();
    want.sort();
    got.sort();
    assert!(!want.is_empty());
    assert_eq!(got, want);

    let mut want_overrides = Vec::new();
    for id in &schedule_ids {
        let overrides = get(format!("{}/schedules/{id}/overrides", h.sandbox_url)).await;
        for o in overrides.as_array().unwrap() {
            want_overrides.push((*id, o["user"]["id"].as_i64().unwrap(), o["start"].clone()));
        }
    }
    let got_overrides: Vec<(i64, i64, Value)> = out["overrides"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["schedule"].as_i64().unwrap(),
                o["user"]["id"].as_i64().unwrap(),
                o["start"].clone(),
            )
        })
        .collect();
    assert!(!want_overrides.is_empty(), "the seeded demo has overrides");
    assert_eq!(got_overrides, want_overrides);

    let too_many = call(
        &client,
        "get_view_context",
        json!({ "schedules": (1..=11).collect::<Vec<i64>>() }),
    )
    .await;
    assert!(crate::common::is_error(&too_many));
}

#[tokio::test]
async fn a_2026_client_without_apps_is_not_listed_views_but_can_still_read_them() {
    let h = start().await;
    // rmcp's client declares its capabilities on every 2026-07-28 request, without the UI extension.
    let client = connect(&h.mcp_url, USER_KEY, Era::Stateless).await;
    let listed = client.list_all_resources().await.unwrap();
    assert!(
        listed.iter().all(|r| !r.uri.starts_with("ui://")),
        "{listed:?}"
    );
    let read = client
        .read_resource(rmcp::model::ReadResourceRequestParams::new(
            "ui://ilert/metrics",
        ))
        .await
        .unwrap();
    assert_eq!(read.contents.len(), 1);
}
