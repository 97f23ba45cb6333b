//! Interop client for follow-through tasks (issue 26): rmcp's own client (the Rust SDK), in
//! protocol 2026-07-28 with the tasks extension (SEP-2663) declared, against a running demo. Run
//! by `scripts/interop` (row `rmcp-tasks`); prints one PASS or FAIL line.
//!
//! 1. `create_alert` answers with a task that asks (input_required); the client answers yes with
//!    `tasks/update`; the task works until another user accepts the alert through the sandbox's
//!    REST API, then completes naming them.
//! 2. `get_alert` with `watch_minutes` on an open alert answers with a task; `tasks/cancel` stops
//!    it; a second cancel is refused.
//!
//! `cargo run --example tasks_client -- --url http://127.0.0.1:PORT/mcp --sandbox
//! http://127.0.0.1:PORT/api --key demo-key-user`

// A test client, held to the tests' rules: JSON is read by index, a bad command line panics.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::{Duration, Instant};

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CancelTaskParams, ClientConfig, GetTaskParams,
    GetTaskResult, InputResponses, ProtocolVersion, TaskPayload, TaskStatus, UpdateTaskParams,
};
use rmcp::service::{ClientLifecycleMode, ClientServiceExt, RoleClient, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use serde_json::{Value, json};

/// Another user of the demo organisation, who accepts the page.
const OTHER_KEY: &str = "demo-key-admin";
/// How long any one wait may take.
const WAIT: Duration = Duration::from_secs(30);

struct Tasks;

impl rmcp::ClientHandler for Tasks {
    fn get_info(&self) -> ClientConfig {
        let mut info = ClientConfig::default();
        info.capabilities = serde_json::from_value(json!({
            "elicitation": {"form": {}},
            "extensions": {"io.modelcontextprotocol/tasks": {}}
        }))
        .expect("capabilities");
        info
    }
}

fn arg(name: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| panic!("missing {name}"))
}

#[tokio::main]
async fn main() {
    // reqwest is built without a default TLS provider in this workspace; loopback needs none, but
    // building a client does.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (url, sandbox, key) = (arg("--url"), arg("--sandbox"), arg("--key"));
    match run(&url, &sandbox, &key).await {
        Ok(said) => println!("PASS rmcp-client protocol=2026-07-28: {said}"),
        Err(why) => {
            println!("FAIL rmcp-client protocol=2026-07-28: {why}");
            std::process::exit(1);
        }
    }
}

async fn run(url: &str, sandbox: &str, key: &str) -> Result<String, String> {
    let config =
        StreamableHttpClientTransportConfig::with_uri(url.to_owned()).auth_header(key.to_owned());
    let client = Tasks
        .serve_with_lifecycle(
            StreamableHttpClientTransport::from_config(config),
            ClientLifecycleMode::Discover {
                preferred_versions: vec![ProtocolVersion::V_2026_07_28],
            },
        )
        .await
        .map_err(|e| format!("connect: {e}"))?;

    // 1. Page, confirm in the task, wait for someone to accept.
    let summary = format!("interop tasks page {}", std::process::id());
    let args = json!({"summary": summary, "source": "Grafana"});
    let id = task_of(
        client
            .call_tool_once(
                CallToolRequestParams::new("create_alert")
                    .with_arguments(args.as_object().cloned().unwrap_or_default()),
            )
            .await,
    )?;
    println!("created task: {}", short(&id));
    let asking = until(&client, &id, |s| s != TaskStatus::Working).await?;
    let TaskPayload::InputRequired { input_requests } = &asking.task.payload else {
        return Err(format!(
            "expected input_required, got {:?}",
            asking.task.status()
        ));
    };
    if !input_requests.contains_key("confirm") {
        return Err("the task's question is not `confirm`".into());
    }
    println!(
        "input_required: {}",
        asking.task.task.status_message.clone().unwrap_or_default()
    );
    let mut yes = InputResponses::new();
    yes.insert("confirm".into(), json!({"action": "accept", "content": {}}));
    client
        .update_task(UpdateTaskParams::new(id.clone(), yes))
        .await
        .map_err(|e| format!("tasks/update: {e}"))?;
    let working = until(&client, &id, |s| s != TaskStatus::InputRequired).await?;
    let message = working.task.task.status_message.clone().unwrap_or_default();
    println!("{:?}: {message}", working.task.status());
    if working.task.status() != TaskStatus::Working {
        return Err(format!(
            "expected working after yes, got {:?}: {message}",
            working.task.status()
        ));
    }
    let alert = rest(sandbox, key, "GET", "alerts?states=PENDING&max-results=100")
        .await?
        .as_array()
        .and_then(|a| a.iter().find(|x| x["summary"] == summary.as_str()).cloned())
        .and_then(|a| a["id"].as_i64())
        .ok_or("the paged alert is not in the sandbox")?;
    if !message.contains(&format!("#{alert}")) {
        return Err(format!("the status does not name alert {alert}: {message}"));
    }
    rest(sandbox, OTHER_KEY, "PUT", &format!("alerts/{alert}/accept")).await?;
    let accepted = rest(sandbox, key, "GET", &format!("alerts/{alert}")).await?;
    let by = accepted["responders"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["status"] == "ACCEPTED").cloned())
        .map(|r| {
            format!(
                "{} {}",
                r["user"]["firstName"].as_str().unwrap_or(""),
                r["user"]["lastName"].as_str().unwrap_or("")
            )
        })
        .ok_or("the sandbox shows no acceptance")?;
    let done = until(&client, &id, |s| s.is_terminal()).await?;
    let TaskPayload::Completed { result } = &done.task.payload else {
        return Err(format!("expected completed, got {:?}", done.task.status()));
    };
    let text = result["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    println!("completed: {}", text.lines().next().unwrap_or_default());
    if !text.contains(&format!("accepted by \"{by}\"")) {
        return Err(format!("the result does not name {by}: {text}"));
    }

    // 2. Watch an open alert, then cancel; a second cancel is refused.
    let open = rest(sandbox, key, "GET", "alerts?states=PENDING&max-results=100")
        .await?
        .as_array()
        .and_then(|a| a.first().cloned())
        .and_then(|a| a["id"].as_i64())
        .ok_or("no open alert to watch")?;
    let watch = task_of(
        client
            .call_tool_once(
                CallToolRequestParams::new("get_alert").with_arguments(
                    json!({"id": open, "watch_minutes": 10})
                        .as_object()
                        .cloned()
                        .unwrap_or_default(),
                ),
            )
            .await,
    )?;
    client
        .cancel_task(CancelTaskParams::new(watch.clone()))
        .await
        .map_err(|e| format!("tasks/cancel: {e}"))?;
    let cancelled = client
        .get_task(GetTaskParams::new(watch.clone()))
        .await
        .map_err(|e| format!("tasks/get: {e}"))?;
    if cancelled.task.status() != TaskStatus::Cancelled {
        return Err(format!(
            "expected cancelled, got {:?}",
            cancelled.task.status()
        ));
    }
    if client
        .cancel_task(CancelTaskParams::new(watch))
        .await
        .is_ok()
    {
        return Err("a second cancel was acknowledged".into());
    }
    let _ = client.cancel().await;
    Ok(format!(
        "page asked in the task, accepted by {by} via REST, task completed; watch of #{open} cancelled once"
    ))
}

fn task_of(
    response: Result<CallToolResponse, rmcp::service::ServiceError>,
) -> Result<String, String> {
    match response.map_err(|e| format!("tools/call: {e}"))? {
        CallToolResponse::Task(task) => Ok(task.task.task_id),
        other => Err(format!("expected a task, got {other:?}")),
    }
}

/// Polls until `done(status)`, within [`WAIT`], at the interval the server suggests.
async fn until(
    client: &RunningService<RoleClient, Tasks>,
    id: &str,
    done: impl Fn(TaskStatus) -> bool,
) -> Result<GetTaskResult, String> {
    let start = Instant::now();
    loop {
        let got = client
            .get_task(GetTaskParams::new(id.to_owned()))
            .await
            .map_err(|e| format!("tasks/get: {e}"))?;
        if done(got.task.status()) {
            return Ok(got);
        }
        if start.elapsed() > WAIT {
            return Err(format!(
                "still {:?} after {} s",
                got.task.status(),
                WAIT.as_secs()
            ));
        }
        // The server suggests 5 s; a test need not wait that long, and its cache is 2 s.
        let ms = got.task.task.poll_interval_ms.unwrap_or(1_000).min(1_000);
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
}

async fn rest(sandbox: &str, key: &str, method: &str, path: &str) -> Result<Value, String> {
    let method = reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?;
    let response = reqwest::Client::new()
        .request(method, format!("{}/{path}", sandbox.trim_end_matches('/')))
        .bearer_auth(key)
        .send()
        .await
        .map_err(|e| format!("{path}: {e}"))?;
    if !response.status().is_success() {
        return Err(format!("{path}: {}", response.status()));
    }
    Ok(response.json().await.unwrap_or(Value::Null))
}

/// A task id is long; logs show its start.
fn short(id: &str) -> String {
    id.chars().take(24).collect::<String>() + "…"
}
