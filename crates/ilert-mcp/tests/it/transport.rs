//! Streamable HTTP rules: auth, Origin and Host, methods, notifications, body limits, malformed
//! JSON-RPC, and both protocol eras on one endpoint.

use ilert_mcp::transport::http::HttpConfig;
use serde_json::{Value, json};

use crate::common::*;

const META: &str = r#"{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"t","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}"#;

fn post(url: &str) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
}

fn list_tools() -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
}

#[tokio::test]
async fn missing_key_is_401_with_a_bearer_challenge() {
    let h = start().await;
    let response = post(&h.mcp_url).json(&list_tools()).send().await.unwrap();
    assert_eq!(response.status(), 401);
    let challenge = response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(challenge.starts_with("Bearer "), "{challenge}");
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("Authorization: Bearer")
    );
}

#[tokio::test]
async fn rejected_and_malformed_keys_are_401_invalid_token() {
    let h = start().await;
    for header in [
        "Bearer wrong-key-42",
        "Basic dXNlcjpwdw==",
        "Bearer",
        "wrong-key-42",
    ] {
        let response = post(&h.mcp_url)
            .header("authorization", header)
            .json(&list_tools())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{header}");
        let challenge = response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(challenge.contains("error="), "{header}: {challenge}");
        let body = response.text().await.unwrap();
        assert!(!body.contains("wrong-key-42"), "the key is never echoed");
    }
}

#[tokio::test]
async fn foreign_origin_and_host_are_403() {
    let h = start().await;
    let response = post(&h.mcp_url)
        .bearer_auth(USER_KEY)
        .header("origin", "https://evil.example")
        .json(&list_tools())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let response = post(&h.mcp_url)
        .bearer_auth(USER_KEY)
        .header("host", "evil.example")
        .json(&list_tools())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    // A loopback page's origin is fine.
    let response = post(&h.mcp_url)
        .bearer_auth(USER_KEY)
        .header("origin", "http://localhost:6274")
        .json(&list_tools())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn configured_public_host_and_origin_are_accepted() {
    let config = HttpConfig {
        allowed_hosts: vec!["mcp.example.com".into()],
        allowed_origins: vec!["https://chat.example.com".into()],
        ..Default::default()
    };
    let h = start_with(None, config).await;
    let response = post(&h.mcp_url)
        .bearer_auth(USER_KEY)
        .header("host", "mcp.example.com")
        .header("origin", "https://chat.example.com")
        .json(&list_tools())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

/// Issue 23 §5: `/healthz`, `/readyz` and `/metrics` refuse a foreign `Host` as `/mcp` does (a
/// DNS-rebinding page must not read them), and accept loopback, the configured hosts and, for
/// probes that address a pod, IP literals.
#[tokio::test]
async fn operations_endpoints_check_host_like_mcp() {
    let config = HttpConfig {
        allowed_hosts: vec!["mcp.example.com".into(), "ops.example.com:9000".into()],
        ..Default::default()
    };
    let h = start_with(None, config).await;
    let base = h.mcp_url.trim_end_matches("/mcp").to_owned();
    let client = reqwest::Client::new();
    for path in ["/healthz", "/readyz", "/metrics"] {
        for host in [
            "evil.example",
            "evil.example:8384",
            "mcp.example.com.evil.example",
            "ops.example.com",
            "ops.example.com:9001",
            "localhost.evil.example",
        ] {
            let answer = client
                .get(format!("{base}{path}"))
                .header("host", host)
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), 403, "{path} with Host {host}");
            assert!(
                !answer.text().await.unwrap().contains("ok"),
                "{path} says nothing to {host}"
            );
        }
        for host in [
            "localhost",
            "127.0.0.1:8384",
            "[::1]:8384",
            "MCP.example.com",
            "mcp.example.com:443",
            "ops.example.com:9000",
            "10.1.2.3:8384",
            "[fd00::5]:8384",
        ] {
            let answer = client
                .get(format!("{base}{path}"))
                .header("host", host)
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), 200, "{path} with Host {host}");
        }
    }
}

#[tokio::test]
async fn get_and_delete_are_405_and_notifications_202() {
    let h = start().await;
    let client = reqwest::Client::new();
    let get = client
        .get(&h.mcp_url)
        .bearer_auth(USER_KEY)
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 405);
    let delete = client
        .delete(&h.mcp_url)
        .bearer_auth(USER_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(delete.status(), 405);
    let note = post(&h.mcp_url)
        .bearer_auth(USER_KEY)
        .header("mcp-protocol-version", "2025-06-18")
        .json(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        .send()
        .await
        .unwrap();
    assert_eq!(note.status(), 202);
    assert!(note.text().await.unwrap().is_empty());
}

#[tokio::test]
async fn oversized_and_malformed_bodies_get_clear_errors() {
    let h = start_with(
        None,
        HttpConfig {
            max_body_bytes: 4096,
            ..Default::default()
        },
    )
    .await;
    let big = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"pad": "x".repeat(10_000)}});
    let response = post(&h.mcp_url)
        .bearer_auth(USER_KEY)
        .json(&big)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);

    for (body, code) in [
        (&b"{\"jsonrpc\":\"2.0\",\"id\":1,"[..], -32700),
        (&b"\xff\xfe not json"[..], -32700),
        (&b"{\"foo\":1}"[..], -32600),
        (
            &b"[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}]"[..],
            -32600,
        ),
    ] {
        let response = post(&h.mcp_url)
            .bearer_auth(USER_KEY)
            .body(body.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{}", String::from_utf8_lossy(body));
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["error"]["code"], code, "{answer}");
    }
    let unknown = post(&h.mcp_url)
        .bearer_auth(USER_KEY)
        .json(&json!({"jsonrpc": "2.0", "id": 7, "method": "no/such/method"}))
        .send()
        .await
        .unwrap();
    let answer: Value = unknown.json().await.unwrap();
    assert_eq!(answer["error"]["code"], -32601, "{answer}");
}

#[tokio::test]
async fn legacy_era_initialize_and_call_without_session() {
    let h = start().await;
    let init = post(&h.mcp_url)
        .bearer_auth(USER_KEY)
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-03-26", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(init.status(), 200);
    assert!(
        init.headers().get("mcp-session-id").is_none(),
        "stateless: no session"
    );
    let answer: Value = init.json().await.unwrap();
    assert_eq!(answer["result"]["protocolVersion"], "2025-03-26");
    assert_eq!(answer["result"]["serverInfo"]["name"], "ilert-mcp");

    let call = post(&h.mcp_url)
        .bearer_auth(USER_KEY)
        .header("mcp-protocol-version", "2025-11-25")
        .json(&json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                      "params": {"name": "get_current_user", "arguments": {}}}))
        .send()
        .await
        .unwrap();
    let answer: Value = call.json().await.unwrap();
    assert_eq!(
        answer["result"]["structuredContent"]["name"], "Jonas Weber",
        "{answer}"
    );
}

#[tokio::test]
async fn stateless_era_discover_and_call() {
    let h = start().await;
    let meta: Value = serde_json::from_str(META).unwrap();
    let discover = post(&h.mcp_url)
        .bearer_auth(USER_KEY)
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "server/discover")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": {"_meta": meta}}))
        .send()
        .await
        .unwrap();
    assert_eq!(discover.status(), 200);
    let answer: Value = discover.json().await.unwrap();
    let versions = answer["result"]["supportedVersions"].as_array().unwrap();
    for v in ["2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28"] {
        assert!(versions.contains(&json!(v)), "{answer}");
    }
    let call = post(&h.mcp_url)
        .bearer_auth(USER_KEY)
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", "list_alerts")
        .json(&json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                      "params": {"name": "list_alerts", "arguments": {"limit": 2}, "_meta": meta}}))
        .send()
        .await
        .unwrap();
    assert_eq!(call.status(), 200);
    let answer: Value = call.json().await.unwrap();
    assert_eq!(
        answer["result"]["structuredContent"]["alerts"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "{answer}"
    );
}

#[tokio::test]
async fn both_eras_through_rmcp_client_see_the_same_tools() {
    let h = start().await;
    let legacy = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    let stateless = connect(&h.mcp_url, USER_KEY, Era::Stateless).await;
    let a: Vec<String> = legacy
        .list_all_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name.to_string())
        .collect();
    let b: Vec<String> = stateless
        .list_all_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name.to_string())
        .collect();
    assert_eq!(a, b);
    assert!(a.contains(&"accept_alerts".to_owned()));
}

#[tokio::test]
async fn healthz_needs_no_key() {
    let h = start().await;
    let url = h.mcp_url.replace("/mcp", "/healthz");
    let response = reqwest::get(url).await.unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn each_caller_acts_as_themselves() {
    // Two callers on one server: each request uses its own key, never the other's.
    let h = start().await;
    let user = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    let stakeholder = connect(&h.mcp_url, STAKEHOLDER_KEY, Era::Legacy).await;
    let (a, b) = tokio::join!(
        call(&user, "get_current_user", json!({})),
        call(&stakeholder, "get_current_user", json!({}))
    );
    assert_eq!(structured(&a)["role"], "USER");
    assert_eq!(structured(&b)["role"], "STAKEHOLDER");
}

/// Sends `body` as JSON-RPC in the 2025-06-18 era; returns the status and the parsed answer.
async fn rpc(url: &str, body: &str) -> (u16, Value) {
    let response = post(url)
        .bearer_auth(USER_KEY)
        .header("mcp-protocol-version", "2025-06-18")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let answer = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
    (status, answer)
}

#[tokio::test]
async fn known_methods_with_malformed_params_are_invalid_params() {
    // Found by fuzzing: rmcp cannot type these, and its fallback answered -32601 with the bare
    // method name, as if tools/call did not exist.
    let h = start().await;
    for (body, says) in [
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_alerts","arguments":false}}"#,
            "Invalid params for tools/call: invalid type: boolean `false`",
        ),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call"}"#,
            "Invalid params for tools/call",
        ),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":7}}"#,
            "Invalid params for resources/read",
        ),
    ] {
        let (status, answer) = rpc(&h.mcp_url, body).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["error"]["code"], -32602, "{answer}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.starts_with(says), "{message}");
    }
    let (_, answer) = rpc(
        &h.mcp_url,
        r#"{"jsonrpc":"2.0","id":7,"method":"no/such/method"}"#,
    )
    .await;
    assert_eq!(answer["error"]["code"], -32601, "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Method not found: \"no/such/method\""),
        "{answer}"
    );
}

#[tokio::test]
async fn messages_of_no_mcp_shape_get_jsonrpc_errors_not_plain_text() {
    // Found by fuzzing: JSON that rmcp cannot type as any message came back as a plain-text 415
    // ("fail to deserialize request body"), though the Content-Type was right.
    let h = start().await;
    for body in [
        r#"{"jsonrpc":"2.0","id":0,"method":"initialize","result":null}"#,
        r#"{"jsonrpc":"2.0","id":1,"result":{},"error":{"code":1,"message":"x"}}"#,
        r#"{"jsonrpc":"2.0","id":true,"method":"tools/list"}"#,
        r#"{"jsonrpc":"2.0","id":1.5,"method":"tools/list"}"#,
        r#"{"jsonrpc":"2.0","id":null,"method":"tools/list"}"#,
    ] {
        let (status, answer) = rpc(&h.mcp_url, body).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["error"]["code"], -32600, "{body}: {answer}");
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with("Invalid Request: "),
            "{answer}"
        );
    }
    // A wrong Content-Type stays a plain 415: that is the header's fault, not the message's.
    let response = reqwest::Client::new()
        .post(&h.mcp_url)
        .bearer_auth(USER_KEY)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "text/plain")
        .body(list_tools().to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
}

#[tokio::test]
async fn wrong_param_types_are_invalid_params_and_wrong_field_types_are_named() {
    let h = start().await;
    for params in [
        r#"[]"#,
        r#"5"#,
        r#""get_current_user""#,
        r#"{"name":5}"#,
        r#"{"name":"get_alert","arguments":[1]}"#,
    ] {
        let body = format!(r#"{{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{params}}}"#);
        let (status, answer) = rpc(&h.mcp_url, &body).await;
        // Params that are no object at all are refused before rmcp (400); the others by it (200).
        assert!(status == 200 || status == 400, "{body}: {answer}");
        assert_eq!(answer["id"], 3, "{answer}");
        assert_eq!(answer["error"]["code"], -32602, "{body}: {answer}");
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with("Invalid params for tools/call: "),
            "{answer}"
        );
    }
    let (_, answer) = rpc(
        &h.mcp_url,
        r#"{"jsonrpc":"2.0","id":3,"method":"tools/list","params":[]}"#,
    )
    .await;
    assert_eq!(answer["error"]["code"], -32602, "{answer}");
    // Argument types are the tool's to explain, as a result the model can act on.
    let (_, answer) = rpc(
        &h.mcp_url,
        r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"get_alert","arguments":{"id":{"x":1}}}}"#,
    )
    .await;
    assert_eq!(answer["result"]["isError"], true, "{answer}");
    let text = answer["result"]["content"][0]["text"].as_str().unwrap();
    assert!(
        text.starts_with("Invalid arguments for get_alert"),
        "{text}"
    );
    for (body, says) in [
        (
            r#"{"jsonrpc":"2.0","id":3,"method":7}"#,
            "\"method\" must be a string",
        ),
        (
            r#"{"jsonrpc":2,"id":3,"method":"ping"}"#,
            "\"jsonrpc\" must be \"2.0\"",
        ),
        (
            r#"{"jsonrpc":"2.0","id":[3],"method":"ping"}"#,
            "\"id\" must be a string or an integer",
        ),
    ] {
        let (status, answer) = rpc(&h.mcp_url, body).await;
        assert_eq!(
            (status, &answer["error"]["code"]),
            (400, &json!(-32600)),
            "{answer}"
        );
        assert!(
            answer["error"]["message"].as_str().unwrap().contains(says),
            "{answer}"
        );
    }
}

#[tokio::test]
async fn deep_nesting_invalid_utf8_and_a_body_just_over_the_limit() {
    let h = start().await;
    // 100k levels: refused by the guard or serde's recursion limit, never by the stack.
    let deep = "[".repeat(100_000);
    let (status, answer) = rpc(&h.mcp_url, &deep).await;
    assert_eq!((status, &answer["error"]["code"]), (400, &json!(-32600)));
    for deep in [
        format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"get_alert","arguments":{{"id":{}1{}}}}}}}"#,
            "[".repeat(100_000),
            "]".repeat(100_000)
        ),
        format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}1{}}}"#,
            r#"{"a":"#.repeat(100_000),
            "}".repeat(100_000)
        ),
    ] {
        let (status, answer) = rpc(&h.mcp_url, &deep).await;
        assert_eq!(status, 400, "{answer}");
        assert_eq!(answer["error"]["code"], -32700, "{answer}");
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap()
                .contains("recursion limit exceeded"),
            "{answer}"
        );
    }
    // Invalid UTF-8 inside an otherwise valid message.
    let mut bytes = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"find_users","arguments":{"query":"ma"#.to_vec();
    bytes.extend_from_slice(b"\xc3\x28\xff");
    bytes.extend_from_slice(br#""}}}"#);
    let response = post(&h.mcp_url)
        .bearer_auth(USER_KEY)
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["error"]["code"], -32700, "{answer}");
    // At the limit it is served; one byte more is a 413 with a JSON-RPC error.
    let limit = 64 * 1024;
    let h = start_with(
        None,
        HttpConfig {
            max_body_bytes: limit,
            ..Default::default()
        },
    )
    .await;
    let head = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"pad":""#;
    let tail = r#""}}"#;
    for (size, status) in [(limit, 200), (limit + 1, 413)] {
        let body = format!("{head}{}{tail}", "x".repeat(size - head.len() - tail.len()));
        assert_eq!(body.len(), size);
        let response = post(&h.mcp_url)
            .bearer_auth(USER_KEY)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "{size} bytes");
        let answer: Value = response.json().await.unwrap();
        if status == 413 {
            assert_eq!(answer["jsonrpc"], "2.0");
            assert_eq!(answer["error"]["code"], -32600, "{answer}");
            assert!(
                answer["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("exceeds {limit} bytes")),
                "{answer}"
            );
        } else {
            assert!(answer["result"]["tools"].is_array(), "{answer}");
        }
    }
}

#[tokio::test]
async fn methods_removed_in_2026_are_404_not_found_in_that_era() {
    // The conformance suite's SEP-2575 checks: a removed method is -32601 (HTTP 404) in the
    // 2026-07-28 era even when its params would not decode; in the 2025 eras it is invalid params.
    let h = start().await;
    let meta: Value = serde_json::from_str(META).unwrap();
    for method in [
        "initialize",
        "logging/setLevel",
        "resources/subscribe",
        "resources/unsubscribe",
    ] {
        let response = post(&h.mcp_url)
            .bearer_auth(USER_KEY)
            .header("mcp-protocol-version", "2026-07-28")
            .header("mcp-method", method)
            .json(&json!({"jsonrpc": "2.0", "id": 5, "method": method, "params": {"_meta": meta}}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{method}");
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["error"]["code"], -32601, "{method}: {answer}");
    }
    let (status, answer) = rpc(
        &h.mcp_url,
        r#"{"jsonrpc":"2.0","id":5,"method":"initialize","params":{}}"#,
    )
    .await;
    assert_eq!(
        (status, &answer["error"]["code"]),
        (200, &json!(-32602)),
        "{answer}"
    );
}
