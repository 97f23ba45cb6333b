//! `ilert-mcp connect URL`: a stdio ↔ Streamable HTTP bridge, so stdio-only clients reach a remote
//! server without Node.js (a native stand-in for `npx mcp-remote`). Each JSON-RPC line from stdin
//! is POSTed; JSON and SSE answers go back to stdout one message per line.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::{Mutex, mpsc};

/// How long a refused connection is retried (the server restarting); nothing was sent, so even a
/// tools/call may go again.
const RECONNECT_FOR: Duration = Duration::from_secs(15);
/// Longest a single request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
/// Longest stdin may stay closed while answers are still due.
const DRAIN_FOR: Duration = Duration::from_secs(30);
const MAX_LINE: usize = 4 * 1024 * 1024;

/// Parses `Name: value` pairs and expands `${VAR}` from the environment. An unset or empty
/// variable is an error naming it, never an empty header.
pub fn parse_headers(raw: &[String]) -> Result<Vec<(String, String)>, String> {
    raw.iter()
        .map(|h| parse_header(h, |name| std::env::var(name).ok()))
        .collect()
}

fn parse_header(
    raw: &str,
    env: impl Fn(&str) -> Option<String>,
) -> Result<(String, String), String> {
    let (name, value) = raw
        .split_once(':')
        .ok_or_else(|| format!("--header {raw:?} is not 'Name: value'"))?;
    let name = name.trim();
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(format!("--header {raw:?}: {name:?} is not a header name"));
    }
    let mut out = String::new();
    let mut rest = value.trim();
    while let Some(start) = rest.find("${") {
        out.push_str(rest.get(..start).unwrap_or_default());
        let after = rest.get(start + 2..).unwrap_or_default();
        let end = after
            .find('}')
            .ok_or_else(|| format!("--header {name}: unclosed ${{ in the value"))?;
        let var = after.get(..end).unwrap_or_default();
        match env(var).filter(|v| !v.is_empty()) {
            Some(v) => out.push_str(&v),
            None => {
                return Err(format!(
                    "--header {name} uses ${{{var}}}, but {var} is not set (or empty) in the environment"
                ));
            }
        }
        rest = after.get(end + 1..).unwrap_or_default();
    }
    out.push_str(rest);
    Ok((name.to_owned(), out))
}

struct Bridge {
    http: reqwest::Client,
    url: String,
    headers: Vec<(String, String)>,
    /// Set by a server that uses sessions (legacy), sent back on every request.
    session: Mutex<Option<String>>,
    /// Negotiated at `initialize`; sent as MCP-Protocol-Version afterwards.
    version: Mutex<Option<String>>,
    out: mpsc::Sender<String>,
}

pub async fn run(url: String, headers: Vec<String>) -> Result<(), String> {
    let headers = parse_headers(&headers)?;
    let parsed = url::Url::parse(&url).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("{url} must be an http(s) URL"));
    }
    let http = reqwest::Client::builder()
        .tls_backend_preconfigured(ilert_client::tls::client_config())
        .timeout(REQUEST_TIMEOUT)
        .connect_timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("ilert-mcp-connect/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
    let (out, mut lines) = mpsc::channel::<String>(64);
    let bridge = Arc::new(Bridge {
        http,
        url,
        headers,
        session: Mutex::new(None),
        version: Mutex::new(None),
        out,
    });
    // One writer: messages never interleave on stdout.
    let writer = tokio::spawn(async move {
        let mut stdout = tokio::io::stdout();
        while let Some(line) = lines.recv().await {
            if stdout.write_all(line.as_bytes()).await.is_err()
                || stdout.write_all(b"\n").await.is_err()
            {
                break;
            }
            let _ = stdout.flush().await;
        }
    });
    let mut stdin = BufReader::new(tokio::io::stdin()).lines();
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        let line = match stdin.next_line().await {
            Ok(Some(line)) => line,
            Ok(None) => break,
            Err(e) => {
                tracing::warn!(error = %e, "stdin failed; closing");
                break;
            }
        };
        let line = line.trim().to_owned();
        if line.is_empty() {
            continue;
        }
        if line.len() > MAX_LINE {
            tracing::warn!(
                bytes = line.len(),
                "dropping an oversized message from stdin"
            );
            continue;
        }
        let bridge = bridge.clone();
        // `initialize` must finish before anything else uses the negotiated version.
        let is_initialize = line.contains("\"initialize\"");
        let task = tasks.spawn(async move { bridge.forward(line).await });
        if is_initialize {
            let _ = tasks.join_next().await;
            drop(task);
        }
    }
    // stdin closed: finish what is in flight, then end the session if there is one.
    let _ = tokio::time::timeout(DRAIN_FOR, async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    bridge.close_session().await;
    drop(bridge);
    let _ = writer.await;
    Ok(())
}

impl Bridge {
    async fn forward(&self, line: String) {
        let message: Value = match serde_json::from_str(&line) {
            Ok(v) => v,
            Err(e) => {
                self.emit(json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32700, "message": format!("Parse error: {e}")}})).await;
                return;
            }
        };
        let id = message
            .get("id")
            .cloned()
            .filter(|_| message.get("method").is_some());
        match self.post(&message, &line).await {
            Ok(answers) => {
                for answer in answers {
                    self.note_initialize(&message, &answer).await;
                    self.emit(answer).await;
                }
            }
            Err(error) => {
                tracing::warn!(%error, "request failed");
                if let Some(id) = id {
                    self.emit(json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32603, "message": error}})).await;
                }
            }
        }
    }

    /// POSTs one message; returns the JSON-RPC messages the server answered with.
    async fn post(&self, message: &Value, body: &str) -> Result<Vec<Value>, String> {
        let started = tokio::time::Instant::now();
        let mut wait = Duration::from_millis(200);
        let response = loop {
            match self.request(message, body).await.send().await {
                Ok(response) => break response,
                Err(e) if e.is_connect() && started.elapsed() < RECONNECT_FOR => {
                    tracing::info!("connection to {} refused; retrying", self.url);
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(2));
                }
                Err(e) => return Err(format!("could not reach {}: {}", self.url, e.without_url())),
            }
        };
        let status = response.status();
        if let Some(session) = response
            .headers()
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok())
        {
            *self.session.lock().await = Some(session.to_owned());
        }
        let sse = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        let text = response
            .text()
            .await
            .map_err(|e| format!("the answer broke off: {}", e.without_url()))?;
        if status == reqwest::StatusCode::ACCEPTED || text.trim().is_empty() && status.is_success()
        {
            return Ok(Vec::new());
        }
        let messages: Vec<Value> = if sse {
            sse_messages(&text)
        } else {
            serde_json::from_str::<Value>(&text)
                .map(|v| vec![v])
                .unwrap_or_default()
        };
        if messages.iter().any(|m| m.get("jsonrpc").is_some()) {
            return Ok(messages);
        }
        Err(match status.as_u16() {
            401 => "the server refused the credentials (HTTP 401): check the Authorization header and that the key is active".into(),
            403 => "the server refused the request (HTTP 403): check the key's permissions, Host and Origin".into(),
            code => format!("the server answered HTTP {code}: {}", text.chars().take(200).collect::<String>()),
        })
    }

    async fn request(&self, message: &Value, body: &str) -> reqwest::RequestBuilder {
        let mut request = self
            .http
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(
                reqwest::header::ACCEPT,
                "application/json, text/event-stream",
            )
            .body(body.to_owned());
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        if let Some(session) = self.session.lock().await.as_deref() {
            request = request.header("mcp-session-id", session);
        }
        let method = message.get("method").and_then(Value::as_str);
        let params = message.get("params");
        let per_request = params
            .and_then(|p| p.pointer("/_meta/io.modelcontextprotocol~1protocolVersion"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let version = match per_request {
            Some(v) => Some(v),
            None => self.version.lock().await.clone(),
        };
        if let Some(version) = version.filter(|_| method != Some("initialize")) {
            request = request.header("mcp-protocol-version", version);
        }
        if let Some(method) = method {
            request = request.header("mcp-method", method);
            let name = params
                .and_then(|p| p.get("name").or_else(|| p.get("uri")))
                .and_then(Value::as_str);
            if let Some(name) = name.filter(|n| n.is_ascii() && !n.contains(['\r', '\n'])) {
                request = request.header("mcp-name", name);
            }
        }
        request
    }

    async fn note_initialize(&self, request: &Value, answer: &Value) {
        if request.get("method").and_then(Value::as_str) == Some("initialize")
            && let Some(version) = answer
                .pointer("/result/protocolVersion")
                .and_then(Value::as_str)
        {
            *self.version.lock().await = Some(version.to_owned());
        }
    }

    async fn emit(&self, message: Value) {
        let _ = self.out.send(message.to_string()).await;
    }

    async fn close_session(&self) {
        let Some(session) = self.session.lock().await.clone() else {
            return;
        };
        let mut request = self
            .http
            .delete(&self.url)
            .header("mcp-session-id", session)
            .timeout(Duration::from_secs(5));
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        let _ = request.send().await;
    }
}

/// JSON-RPC messages in an SSE body: each event's `data:` lines joined.
fn sse_messages(body: &str) -> Vec<Value> {
    let mut messages = Vec::new();
    let normalised = body.replace("\r\n", "\n");
    for event in normalised.split("\n\n") {
        let data: Vec<&str> = event
            .lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .map(|d| d.strip_prefix(' ').unwrap_or(d))
            .collect();
        if data.is_empty() {
            continue;
        }
        if let Ok(value) = serde_json::from_str::<Value>(&data.join("\n")) {
            messages.push(value);
        }
    }
    messages
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env(name: &str) -> Option<String> {
        HashMap::from([("TOKEN", "abc"), ("EMPTY", "")])
            .get(name)
            .map(|v| v.to_string())
    }

    #[test]
    fn headers_expand_variables_and_refuse_unset_ones() {
        assert_eq!(
            parse_header("Authorization: Bearer ${TOKEN}", env).unwrap(),
            ("Authorization".to_owned(), "Bearer abc".to_owned())
        );
        assert_eq!(
            parse_header("X-A:${TOKEN}-${TOKEN}", env).unwrap().1,
            "abc-abc"
        );
        let missing = parse_header("Authorization: Bearer ${ILERT_AUTH_TOKEN}", env).unwrap_err();
        assert!(missing.contains("ILERT_AUTH_TOKEN is not set"), "{missing}");
        assert!(parse_header("Authorization: Bearer ${EMPTY}", env).is_err());
        assert!(parse_header("no colon", env).is_err());
        assert!(parse_header("Bad Name: x", env).is_err());
        assert!(parse_header("X: ${UNCLOSED", env).is_err());
    }

    #[test]
    fn sse_bodies_yield_their_messages() {
        let body = "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n\n: keep-alive\n\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"x\"}\r\n\r\n";
        let messages = sse_messages(body);
        assert_eq!(messages.len(), 2);
        assert_eq!(messages[0]["id"], 1);
    }
}
