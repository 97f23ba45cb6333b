//! The built binary in stdio mode, driven by rmcp's client over a child process.

use rmcp::ServiceExt;
use serde_json::json;
use tokio::process::Command;

use crate::common::*;

#[tokio::test]
async fn stdio_serves_tools_with_the_environment_key() {
    let h = start().await;
    let mut command = Command::new(env!("CARGO_BIN_EXE_ilert-mcp"));
    command
        .arg("stdio")
        .env("ILERT_API_KEY", USER_KEY)
        .env("ILERT_BASE_URL", &h.sandbox_url)
        .env_remove("ILERT_AUTH_TOKEN");
    let client = ().serve(child(command)).await.unwrap();
    let tools = client.list_all_tools().await.unwrap();
    assert!(tools.iter().any(|t| t.name == "list_alerts"));
    let result = call(&client, "get_current_user", json!({})).await;
    assert_eq!(structured(&result)["name"], "Jonas Weber");
    let result = call(&client, "list_alerts", json!({"limit": 3})).await;
    assert_eq!(structured(&result)["alerts"].as_array().unwrap().len(), 3);
    client.cancel().await.unwrap();
}

/// Issue 23 §4 over stdio: the key's role is learnt at start, so a stakeholder's key is offered
/// no write tool, and a responder's no configuration write; the roles come from the sandbox's
/// REST API.
#[tokio::test]
async fn stdio_offers_the_tools_the_keys_role_can_use() {
    let h = start().await;
    for (key, role) in [(STAKEHOLDER_KEY, "STAKEHOLDER"), (USER_KEY, "USER")] {
        let me = crate::tools_support::sandbox_get(&h.sandbox_url, key, "users/current").await;
        assert_eq!(me["role"], role, "the sandbox's role for {key}");
        let mut command = Command::new(env!("CARGO_BIN_EXE_ilert-mcp"));
        command
            .arg("stdio")
            .env("ILERT_API_KEY", key)
            .env("ILERT_BASE_URL", &h.sandbox_url)
            .env_remove("ILERT_AUTH_TOKEN");
        let client = ().serve(child(command)).await.unwrap();
        let tools = client.list_all_tools().await.unwrap();
        let writes: Vec<_> = tools
            .iter()
            .filter(|t| t.annotations.as_ref().and_then(|a| a.read_only_hint) == Some(false))
            .map(|t| t.name.to_string())
            .collect();
        assert!(tools.iter().any(|t| t.name == "list_alerts"), "{key}");
        if role == "STAKEHOLDER" {
            assert!(writes.is_empty(), "a stakeholder is offered {writes:?}");
            let result = call(&client, "accept_alerts", json!({"ids": [4711]})).await;
            assert!(is_error(&result), "a hidden write is refused when called");
            assert!(text(&result).contains("STAKEHOLDER"), "{}", text(&result));
        } else {
            assert!(writes.iter().any(|w| w == "accept_alerts"), "{writes:?}");
        }
        client.cancel().await.unwrap();
    }
}

#[tokio::test]
async fn stdio_accepts_the_seed_pages_variable_name() {
    let h = start().await;
    let mut command = Command::new(env!("CARGO_BIN_EXE_ilert-mcp"));
    command
        .arg("stdio")
        .env_remove("ILERT_API_KEY")
        .env("ILERT_AUTH_TOKEN", USER_KEY)
        .env("ILERT_BASE_URL", &h.sandbox_url);
    let client = ().serve(child(command)).await.unwrap();
    let result = call(&client, "get_current_user", json!({})).await;
    assert_eq!(structured(&result)["role"], "USER");
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn stdio_without_a_key_exits_with_a_clear_message() {
    let output = traced(&mut Command::new(env!("CARGO_BIN_EXE_ilert-mcp")))
        .arg("stdio")
        .env_remove("ILERT_API_KEY")
        .env_remove("ILERT_AUTH_TOKEN")
        .output()
        .await
        .unwrap();
    keep("child.stderr", &output.stderr);
    assert!(!output.status.success());
    assert!(output.stdout.is_empty(), "stdout carries protocol only");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("ILERT_API_KEY is not set"), "{stderr}");
}

#[tokio::test]
async fn the_ilert_rate_limit_flag_sets_the_per_key_budget() {
    let h = start().await;
    let mut command = Command::new(env!("CARGO_BIN_EXE_ilert-mcp"));
    command
        .args(["stdio", "--ilert-rate-limit", "3"])
        .env("ILERT_API_KEY", USER_KEY)
        .env("ILERT_BASE_URL", &h.sandbox_url)
        .env_remove("ILERT_AUTH_TOKEN");
    let client = ().serve(child(command)).await.unwrap();
    // Learning the key's role at start is one ilert request; get_current_user is one more; so the
    // third call in the minute is the fourth request and is held back locally.
    for _ in 0..2 {
        let ok = call(&client, "get_current_user", json!({})).await;
        assert!(!is_error(&ok), "{}", text(&ok));
    }
    let held = call(&client, "get_current_user", json!({})).await;
    assert!(is_error(&held), "{}", text(&held));
    assert!(text(&held).contains("rate limit"), "{}", text(&held));
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn version_names_the_git_commit_it_was_built_from() {
    let output = Command::new(env!("CARGO_BIN_EXE_ilert-mcp"))
        .arg("--version")
        .output()
        .await
        .unwrap();
    let version = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success());
    assert!(
        version.starts_with(concat!(
            "ilert-mcp ",
            env!("CARGO_PKG_VERSION"),
            " (commit "
        )),
        "{version}"
    );
    // Ground truth from git itself, when the test runs in a checkout (CI's clean clone does).
    let head = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output();
    if let Ok(head) = head
        && head.status.success()
        && std::env::var_os("ILERT_MCP_COMMIT").is_none()
    {
        let head = String::from_utf8_lossy(&head.stdout);
        assert!(version.contains(head.trim()), "{version} names {head}");
    }
}

#[tokio::test]
async fn stdio_writes_audit_events_to_the_audit_log() {
    let h = start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let mut command = Command::new(env!("CARGO_BIN_EXE_ilert-mcp"));
    command
        .args(["stdio", "--audit-log", path.to_str().unwrap()])
        .env("ILERT_MCP_AUDIT_FSYNC", "true")
        .env("ILERT_API_KEY", USER_KEY)
        .env("ILERT_BASE_URL", &h.sandbox_url)
        .env_remove("ILERT_AUTH_TOKEN");
    let me = rmcp::model::ClientConfig::new(
        Default::default(),
        rmcp::model::Implementation::new("stdio-audit-test", "2.0"),
    );
    let client = me.serve(child(command)).await.unwrap();
    let id = alert_ids(&h.sandbox_url, "PENDING").await[0];
    let call = |tool: &'static str, args: serde_json::Value| {
        let arguments = args.as_object().cloned().unwrap_or_default();
        client.call_tool(rmcp::model::CallToolRequestParams::new(tool).with_arguments(arguments))
    };
    let done = call("accept_alerts", json!({"ids": [id]})).await.unwrap();
    assert!(!is_error(&done), "{}", text(&done));
    call("list_alerts", json!({"limit": 1})).await.unwrap();
    client.cancel().await.unwrap();
    // fsync'd before the call answered: the line is there without waiting for the process.
    let log = std::fs::read_to_string(&path).unwrap();
    keep("audit", log.as_bytes());
    let events: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 1, "one write, one event: {log}");
    let e = &events[0];
    assert_eq!(e["tool"], "accept_alerts");
    assert_eq!(e["outcome"], "done");
    assert_eq!(e["targets"], json!([id]));
    assert_eq!(
        e["client"],
        json!({"name": "stdio-audit-test", "version": "2.0"})
    );
    assert_eq!(e["auth"]["method"], "api_key");
    assert_eq!(e["user"]["id"], 10002, "{e}");
    assert!(!log.contains(USER_KEY));
}
