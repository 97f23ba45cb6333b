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
        .args(["stdio", "--ilert-rate-limit", "2"])
        .env("ILERT_API_KEY", USER_KEY)
        .env("ILERT_BASE_URL", &h.sandbox_url)
        .env_remove("ILERT_AUTH_TOKEN");
    let client = ().serve(child(command)).await.unwrap();
    // get_current_user is one ilert request; the third call in the minute is held back locally.
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
