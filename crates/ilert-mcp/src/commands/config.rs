//! `ilert-mcp config CLIENT`: ready-to-paste client configurations. The key is always a reference
//! (an environment variable, a client input, or a placeholder in an env block), never inlined.

use base64::Engine;
use serde_json::{Value, json};

use crate::commands::cli::ClientKind;

const KEY_VAR: &str = "ILERT_AUTH_TOKEN";
const PLACEHOLDER: &str = "<your ilert API key>";

/// The configuration text for `client`, followed by where it goes.
pub fn render(client: ClientKind, url: &str, stdio: bool) -> Result<String, String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("--url {url:?} is not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("--url {url} must be http(s)"));
    }
    let (config, note) = match (client, stdio) {
        (ClientKind::Vscode, false) => (
            vscode(url),
            "Save as .vscode/mcp.json (or run \"MCP: Open User Configuration\"); VS Code asks for the key once and stores it securely.",
        ),
        (ClientKind::Cursor, false) => (
            json!({"mcpServers": {"ilert": {"url": url, "headers": {"Authorization": format!("Bearer ${{env:{KEY_VAR}}}")}}}}),
            "Save as ~/.cursor/mcp.json (or .cursor/mcp.json in a project) and set ILERT_AUTH_TOKEN in the environment Cursor starts from.",
        ),
        (ClientKind::Windsurf, false) => (
            json!({"mcpServers": {"ilert": {"serverUrl": url, "headers": {"Authorization": format!("Bearer ${{env:{KEY_VAR}}}")}}}}),
            "Save as ~/.codeium/windsurf/mcp_config.json and set ILERT_AUTH_TOKEN in the environment Windsurf starts from.",
        ),
        (ClientKind::Generic, false) => (
            json!({"mcpServers": {"ilert": {"type": "streamableHttp", "url": url, "headers": {"Authorization": format!("Bearer ${{{KEY_VAR}}}")}}}}),
            "For clients that read headers from the environment; otherwise replace ${ILERT_AUTH_TOKEN} with your key in a file only you can read.",
        ),
        (ClientKind::McpRemote, false) => (
            json!({"mcpServers": {"ilert": {
                "command": "npx",
                "args": ["-y", "mcp-remote", url, "--header", format!("Authorization: Bearer ${{{KEY_VAR}}}")],
                "env": {KEY_VAR: PLACEHOLDER}
            }}}),
            "For stdio-only clients with Node.js. Replace the placeholder in \"env\"; `ilert-mcp config claude-desktop` gives the same without Node.js.",
        ),
        (ClientKind::ClaudeDesktop | ClientKind::Cline, false) => (
            json!({"mcpServers": {"ilert": {
                "command": "ilert-mcp",
                "args": ["connect", url, "--header", format!("Authorization: Bearer ${{{KEY_VAR}}}")],
                "env": {KEY_VAR: PLACEHOLDER}
            }}}),
            match client {
                ClientKind::Cline => {
                    "Add to Cline's cline_mcp_settings.json (MCP Servers → Configure) and replace the placeholder in \"env\"."
                }
                _ => {
                    "Add to claude_desktop_config.json (Settings → Developer → Edit Config), replace the placeholder in \"env\", and restart Claude Desktop."
                }
            },
        ),
        (_, true) => (
            json!({"mcpServers": {"ilert": {"command": "ilert-mcp", "args": ["stdio"], "env": {"ILERT_API_KEY": PLACEHOLDER}}}}),
            "Runs ilert-mcp locally with your key; replace the placeholder in \"env\". Add \"ILERT_BASE_URL\" for another ilert region or the sandbox.",
        ),
    };
    if stdio && client == ClientKind::Vscode {
        let vscode = json!({
            "inputs": [key_input()],
            "servers": {"ilert": {"type": "stdio", "command": "ilert-mcp", "args": ["stdio"], "env": {"ILERT_API_KEY": "${input:ilert-api-key}"}}}
        });
        return Ok(format!(
            "{}\n\n{}\n",
            pretty(&vscode),
            "Save as .vscode/mcp.json; VS Code asks for the key once."
        ));
    }
    let mut out = format!("{}\n\n{note}\n", pretty(&config));
    if client == ClientKind::Cursor && !stdio {
        out.push_str(&format!("\nOne-click install: {}\n", cursor_deeplink(url)));
    }
    Ok(out)
}

fn key_input() -> Value {
    json!({"type": "promptString", "id": "ilert-api-key", "description": "ilert API key (Profile → API Keys)", "password": true})
}

fn vscode(url: &str) -> Value {
    json!({
        "inputs": [key_input()],
        "servers": {"ilert": {"type": "http", "url": url, "headers": {"Authorization": "Bearer ${input:ilert-api-key}"}}}
    })
}

/// Cursor's install link: the server entry, base64-encoded, in the `config` parameter. The header
/// names the environment variable; Cursor expands it when it connects.
pub fn cursor_deeplink(url: &str) -> String {
    let entry =
        json!({"url": url, "headers": {"Authorization": format!("Bearer ${{env:{KEY_VAR}}}")}});
    let encoded = base64::engine::general_purpose::STANDARD.encode(entry.to_string());
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("name", "ilert")
        .append_pair("config", &encoded)
        .finish();
    format!("https://cursor.com/en/install-mcp?{query}")
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [ClientKind; 7] = [
        ClientKind::ClaudeDesktop,
        ClientKind::Cursor,
        ClientKind::Vscode,
        ClientKind::Windsurf,
        ClientKind::Cline,
        ClientKind::Generic,
        ClientKind::McpRemote,
    ];

    fn json_part(text: &str) -> Value {
        let end = text.find("\n\n").unwrap();
        serde_json::from_str(&text[..end]).unwrap()
    }

    #[test]
    fn every_config_is_json_and_never_holds_a_key() {
        for client in ALL {
            for stdio in [false, true] {
                let text = render(client, "https://mcp.example.com/mcp", stdio).unwrap();
                let config = json_part(&text);
                let flat = config.to_string();
                assert!(
                    flat.contains("${") || flat.contains(PLACEHOLDER),
                    "{client:?} {stdio}: {flat}"
                );
                assert!(!flat.contains("demo-key"), "no real key");
            }
        }
    }

    #[test]
    fn cursor_link_carries_the_server_entry() {
        let link = cursor_deeplink("https://mcp.example.com/mcp");
        let config = link.split("config=").nth(1).unwrap();
        let decoded = url::form_urlencoded::parse(format!("c={config}").as_bytes())
            .next()
            .unwrap()
            .1
            .to_string();
        let raw = base64::engine::general_purpose::STANDARD
            .decode(decoded)
            .unwrap();
        let entry: Value = serde_json::from_slice(&raw).unwrap();
        assert_eq!(entry["url"], "https://mcp.example.com/mcp");
        assert_eq!(
            entry["headers"]["Authorization"],
            "Bearer ${env:ILERT_AUTH_TOKEN}"
        );
    }

    #[test]
    fn bad_urls_are_refused() {
        assert!(render(ClientKind::Cursor, "ftp://x", false).is_err());
        assert!(render(ClientKind::Cursor, "not a url", false).is_err());
    }
}
