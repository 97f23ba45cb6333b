//! The configurations `ilert-mcp config` prints: each parses as JSON, and the stdio forms start
//! and work when a client launches them as written (the placeholder replaced by a key).

use ilert_mcp::commands::cli::ClientKind;
use ilert_mcp::commands::config::render;
use rmcp::ServiceExt;
use serde_json::{Value, json};
use tokio::process::Command;

use crate::common::*;

fn config_json(client: ClientKind, url: &str, stdio: bool) -> Value {
    let text = render(client, url, stdio).unwrap();
    serde_json::from_str(&text[..text.find("\n\n").unwrap()]).unwrap()
}

/// Builds the command a client would run from an `mcpServers.ilert` entry, with the key filled in.
fn launch(entry: &Value, key: &str, extra_env: &[(&str, &str)]) -> Command {
    let program = match entry["command"].as_str().unwrap() {
        "ilert-mcp" => env!("CARGO_BIN_EXE_ilert-mcp").to_owned(),
        other => panic!("unexpected command {other}"),
    };
    let mut command = Command::new(program);
    command.args(
        entry["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap()),
    );
    for (name, value) in entry["env"].as_object().unwrap() {
        let value = value.as_str().unwrap();
        command.env(name, if value.starts_with('<') { key } else { value });
    }
    for (name, value) in extra_env {
        command.env(name, value);
    }
    command
}

#[tokio::test]
async fn stdio_forms_launch_and_work() {
    let h = start().await;
    let cases = [
        (ClientKind::ClaudeDesktop, false, vec![]),
        (ClientKind::Cline, false, vec![]),
        (
            ClientKind::ClaudeDesktop,
            true,
            vec![("ILERT_BASE_URL", h.sandbox_url.as_str())],
        ),
    ];
    for (client, stdio, extra) in cases {
        let config = config_json(client, &h.mcp_url, stdio);
        let entry = &config["mcpServers"]["ilert"];
        let service = ().serve(child(launch(entry, USER_KEY, &extra))).await.unwrap();
        let me = call(&service, "get_current_user", json!({})).await;
        assert_eq!(structured(&me)["role"], "USER", "{client:?} stdio={stdio}");
        service.cancel().await.unwrap();
    }
}

#[test]
fn http_forms_point_at_the_url_with_a_key_reference() {
    let url = "https://mcp.example.com/mcp";
    let cursor = config_json(ClientKind::Cursor, url, false);
    assert_eq!(cursor["mcpServers"]["ilert"]["url"], url);
    let vscode = config_json(ClientKind::Vscode, url, false);
    assert_eq!(
        vscode["servers"]["ilert"]["headers"]["Authorization"],
        "Bearer ${input:ilert-api-key}"
    );
    assert_eq!(vscode["inputs"][0]["password"], true);
    let windsurf = config_json(ClientKind::Windsurf, url, false);
    assert_eq!(windsurf["mcpServers"]["ilert"]["serverUrl"], url);
    let generic = config_json(ClientKind::Generic, url, false);
    assert_eq!(generic["mcpServers"]["ilert"]["type"], "streamableHttp");
    let remote = config_json(ClientKind::McpRemote, url, false);
    assert_eq!(remote["mcpServers"]["ilert"]["args"][2], url);
}
