//! `ilert-mcp connect` bridging rmcp's stdio client to the HTTP server, in both protocol eras.

use rmcp::model::ProtocolVersion;
use rmcp::service::{ClientLifecycleMode, ClientServiceExt};
use serde_json::json;
use tokio::process::Command;

use crate::common::*;

fn bridge(url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ilert-mcp"));
    command
        .args([
            "connect",
            url,
            "--header",
            "Authorization: Bearer ${ILERT_AUTH_TOKEN}",
        ])
        .env("ILERT_AUTH_TOKEN", USER_KEY);
    command
}

#[tokio::test]
async fn connect_bridges_both_eras() {
    let h = start().await;
    for lifecycle in [
        ClientLifecycleMode::Initialize,
        ClientLifecycleMode::Discover {
            preferred_versions: vec![ProtocolVersion::V_2026_07_28],
        },
    ] {
        let client = ().serve_with_lifecycle(child(bridge(&h.mcp_url)), lifecycle).await.unwrap();
        let tools = client.list_all_tools().await.unwrap();
        assert!(tools.iter().any(|t| t.name == "get_overview"));
        let me = call(&client, "get_current_user", json!({})).await;
        assert_eq!(structured(&me)["name"], "Jonas Weber");
        client.cancel().await.unwrap();
    }
}

#[tokio::test]
async fn connect_refuses_an_unset_variable_and_a_bad_url() {
    let output = traced(&mut Command::new(env!("CARGO_BIN_EXE_ilert-mcp")))
        .args([
            "connect",
            "http://127.0.0.1:9/mcp",
            "--header",
            "Authorization: Bearer ${NOT_SET_ANYWHERE}",
        ])
        .env_remove("NOT_SET_ANYWHERE")
        .output()
        .await
        .unwrap();
    keep("child.stderr", &output.stderr);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("NOT_SET_ANYWHERE is not set"), "{stderr}");
    let output = traced(&mut Command::new(env!("CARGO_BIN_EXE_ilert-mcp")))
        .args(["connect", "ftp://x/mcp"])
        .output()
        .await
        .unwrap();
    keep("child.stderr", &output.stderr);
    assert!(!output.status.success());
}

#[tokio::test]
async fn connect_reports_a_refused_key_and_exits_when_stdin_closes() {
    use std::process::Stdio;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

    let h = start().await;
    let stderr = crate::capture::file("child.stderr").map_or_else(Stdio::null, Stdio::from);
    let mut child = traced(&mut bridge(&h.mcp_url))
        .env("ILERT_AUTH_TOKEN", "wrong-key")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(b"{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/list\"}\n")
        .await
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(std::time::Duration::from_secs(10), lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let answer: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(answer["id"], 7);
    assert!(
        answer["error"]["message"].as_str().unwrap().contains("401"),
        "{answer}"
    );
    drop(stdin);
    let status = tokio::time::timeout(std::time::Duration::from_secs(10), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success());
}
