//! Follow-through as MCP tasks (issue 26, SEP-2663), over real HTTP in protocol 2026-07-28 with
//! the tasks extension declared: a page asks inside the task, then watches until someone
//! accepts; a watch of an existing alert ends when escalation runs out or its time is up; bad
//! task ids are refused; clients without the extension get today's answers. What the tasks say is
//! checked against the sandbox's REST API (acceptances are made there, as another user).
//!
//! Tests that move the clocks move the sandbox's and this process's together
//! (`times::shift_clock`), which needs a process per test, as nextest runs them.

use std::sync::Arc;

use ilert_mcp::auth::seal::TokenKey;
use ilert_mcp::auth::store::InMemory;
use ilert_mcp::calls::catalogue::Catalogue;
use ilert_mcp::rules::confirm::{Confirmer, Policy};
use ilert_mcp::rules::toolbox::Toolbox;
use ilert_mcp::transport::http::{self, HttpConfig};
use ilert_sandbox::{Clock, Sandbox, SandboxConfig};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::common::USER_KEY;
use crate::hostile::{INTEGRATION_KEY, send_event};
use crate::tools_support::{ADMIN_KEY, sandbox_get};

struct Setup {
    mcp_url: String,
    sandbox_url: String,
    clock: Clock,
    shutdown: CancellationToken,
    _dir: tempfile::TempDir,
}

impl Drop for Setup {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

async fn setup() -> Setup {
    crate::capture::init();
    let dir = tempfile::tempdir().unwrap();
    let sandbox = Sandbox::open(SandboxConfig {
        data_dir: dir.path().to_owned(),
        reset: false,
        rate_limit_per_minute: None,
        history: false,
    })
    .unwrap();
    let clock = sandbox.clock();
    let shutdown = CancellationToken::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sandbox_url = format!("http://{}/api", listener.local_addr().unwrap());
    tokio::spawn(ilert_sandbox::serve(
        listener,
        sandbox,
        shutdown.clone().cancelled_owned(),
    ));
    let confirmer = Confirmer::new(
        Policy::Outward,
        &TokenKey::generate(),
        Arc::new(InMemory::default()),
    );
    let toolbox = Toolbox::new(
        crate::common::fast_client(&sandbox_url),
        "https://app.ilert.com",
        None,
    )
    .with_confirmer(confirmer);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mcp_url = format!("http://{}/mcp", listener.local_addr().unwrap());
    let app = http::router(
        Arc::new(toolbox),
        Arc::new(Catalogue::full()),
        &HttpConfig::default(),
    );
    tokio::spawn(http::serve(listener, app, shutdown.clone()));
    Setup {
        mcp_url,
        sandbox_url,
        clock,
        shutdown,
        _dir: dir,
    }
}

fn meta(tasks: bool) -> Value {
    let mut caps = json!({"elicitation": {"form": {}}});
    if tasks {
        caps["extensions"] = json!({"io.modelcontextprotocol/tasks": {}});
    }
    json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": {"name": "tasks-test", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": caps,
    })
}

/// One JSON-RPC request; the whole response (`result` or `error`).
pub(crate) async fn rpc(
    url: &str,
    key: &str,
    method: &str,
    mut params: Value,
    tasks: bool,
) -> Value {
    params["_meta"] = meta(tasks);
    // Mcp-Name carries the tool's name, or the task's id.
    let name = params["name"]
        .as_str()
        .or(params["taskId"].as_str())
        .unwrap_or_default()
        .to_owned();
    let mut request = reqwest::Client::new()
        .post(url)
        .bearer_auth(key)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", method);
    if !name.is_empty() {
        request = request.header("mcp-name", name);
    }
    request
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn call(url: &str, key: &str, tool: &str, args: Value, tasks: bool) -> Value {
    let body = rpc(
        url,
        key,
        "tools/call",
        json!({"name": tool, "arguments": args}),
        tasks,
    )
    .await;
    body.get("result")
        .cloned()
        .unwrap_or_else(|| panic!("no result: {body}"))
}

async fn get(url: &str, key: &str, id: &str) -> Value {
    rpc(url, key, "tasks/get", json!({"taskId": id}), true).await
}

/// The task's state, after the server's per-alert poll cache has lapsed.
async fn poll(url: &str, key: &str, id: &str) -> Value {
    tokio::time::sleep(std::time::Duration::from_millis(2_100)).await;
    let body = get(url, key, id).await;
    body.get("result")
        .cloned()
        .unwrap_or_else(|| panic!("tasks/get failed: {body}"))
}

fn error_message(body: &Value) -> String {
    assert_eq!(body["error"]["code"], -32602, "{body}");
    body["error"]["message"].as_str().unwrap().to_owned()
}

fn result_text(task: &Value) -> String {
    task["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("no result text: {task}"))
        .to_owned()
}

/// Raises an alert through the integration key (as a monitor would) and returns its id, read
/// back from the sandbox's REST API.
async fn raise(sandbox_url: &str, key: &str, priority: &str) -> i64 {
    send_event(
        sandbox_url,
        json!({"integrationKey": INTEGRATION_KEY, "eventType": "ALERT", "alertKey": key,
               "summary": format!("disk full on {key}"), "priority": priority}),
    )
    .await;
    alert_by_key(sandbox_url, key).await["id"].as_i64().unwrap()
}

async fn alert_by_key(sandbox_url: &str, key: &str) -> Value {
    sandbox_get(sandbox_url, ADMIN_KEY, "alerts?max-results=100")
        .await
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["alertKey"] == key)
        .cloned()
        .expect("the alert exists")
}

/// The names ilert's notifications of `alert` went to, from the sandbox's REST API.
async fn notified(sandbox_url: &str, alert: i64) -> Vec<String> {
    let list = sandbox_get(
        sandbox_url,
        ADMIN_KEY,
        &format!("alerts/{alert}/notifications"),
    )
    .await;
    let mut names: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            format!(
                "{} {}",
                n["user"]["firstname"].as_str().unwrap_or_default(),
                n["user"]["lastname"].as_str().unwrap_or_default()
            )
        })
        .collect();
    names.dedup();
    names
}

async fn count_alerts(sandbox_url: &str) -> usize {
    sandbox_get(sandbox_url, ADMIN_KEY, "alerts?max-results=100")
        .await
        .as_array()
        .unwrap()
        .len()
}

#[tokio::test]
async fn a_page_asks_in_the_task_then_completes_when_someone_accepts() {
    let s = setup().await;
    let before = count_alerts(&s.sandbox_url).await;
    let created = call(
        &s.mcp_url,
        USER_KEY,
        "create_alert",
        json!({"summary": "Checkout 500s for EU", "source": "Grafana"}),
        true,
    )
    .await;
    assert_eq!(created["resultType"], "task", "{created}");
    assert_eq!(created["status"], "input_required", "{created}");
    let id = created["taskId"].as_str().unwrap().to_owned();
    assert_eq!(
        count_alerts(&s.sandbox_url).await,
        before,
        "nothing paged yet"
    );

    // The question rides in the task.
    let asking = get(&s.mcp_url, USER_KEY, &id).await["result"].clone();
    assert_eq!(asking["status"], "input_required", "{asking}");
    let question = asking["inputRequests"]["confirm"]["params"]["message"]
        .as_str()
        .unwrap();
    assert!(question.contains("Paged now"), "{question}");

    // Yes: the page goes out, once.
    let answer =
        json!({"taskId": id, "inputResponses": {"confirm": {"action": "accept", "content": {}}}});
    let ack = rpc(&s.mcp_url, USER_KEY, "tasks/update", answer.clone(), true).await;
    assert_eq!(ack["result"]["resultType"], "complete", "{ack}");
    assert_eq!(count_alerts(&s.sandbox_url).await, before + 1);
    let again = rpc(&s.mcp_url, USER_KEY, "tasks/update", answer, true).await;
    assert!(error_message(&again).contains("already answered"));
    assert_eq!(count_alerts(&s.sandbox_url).await, before + 1);

    // Working: who was notified, as the sandbox's REST API lists them.
    let alert = sandbox_get(&s.sandbox_url, ADMIN_KEY, "alerts?max-results=100")
        .await
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["summary"] == "Checkout 500s for EU")
        .map(|a| a["id"].as_i64().unwrap())
        .max()
        .unwrap();
    let working = poll(&s.mcp_url, USER_KEY, &id).await;
    assert_eq!(working["status"], "working", "{working}");
    let message = working["statusMessage"].as_str().unwrap();
    assert!(
        message.contains(&format!("Waiting for someone to accept alert #{alert}")),
        "{message}"
    );
    let names = notified(&s.sandbox_url, alert).await;
    assert!(!names.is_empty(), "the sandbox notified someone");
    for name in &names {
        assert!(message.contains(name.as_str()), "{name} in {message}");
    }

    // Another user accepts through the REST API: the task completes, naming them.
    let response = reqwest::Client::new()
        .put(format!("{}/alerts/{alert}/accept", s.sandbox_url))
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    let accepted = sandbox_get(&s.sandbox_url, ADMIN_KEY, &format!("alerts/{alert}")).await;
    let by = accepted["responders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["status"] == "ACCEPTED")
        .map(|r| {
            format!(
                "{} {}",
                r["user"]["firstName"].as_str().unwrap(),
                r["user"]["lastName"].as_str().unwrap()
            )
        })
        .expect("an acceptance");
    let done = poll(&s.mcp_url, USER_KEY, &id).await;
    assert_eq!(done["status"], "completed", "{done}");
    let text = result_text(&done);
    assert!(
        text.contains(&format!("Alert #{alert} was accepted by \"{by}\"")),
        "{text}"
    );
    assert_ne!(
        done["result"]["isError"], true,
        "an acceptance is a success"
    );
    assert_eq!(
        done["result"]["structuredContent"]["source"]["name"],
        "Grafana"
    );
    // Polling after completion says the same; cancelling it is refused.
    let later = poll(&s.mcp_url, USER_KEY, &id).await;
    assert_eq!(later["status"], "completed");
    let cancel = rpc(
        &s.mcp_url,
        USER_KEY,
        "tasks/cancel",
        json!({"taskId": id}),
        true,
    )
    .await;
    assert!(error_message(&cancel).contains("already completed"));
}

#[tokio::test]
async fn a_declined_page_ends_the_task_with_nothing_sent() {
    let s = setup().await;
    let before = count_alerts(&s.sandbox_url).await;
    let created = call(
        &s.mcp_url,
        USER_KEY,
        "create_alert",
        json!({"summary": "Search latency", "source": "Grafana"}),
        true,
    )
    .await;
    let id = created["taskId"].as_str().unwrap().to_owned();
    let answer = json!({"taskId": id, "inputResponses": {"confirm": {"action": "decline"}}});
    let ack = rpc(&s.mcp_url, USER_KEY, "tasks/update", answer, true).await;
    assert!(ack.get("result").is_some(), "{ack}");
    let done = get(&s.mcp_url, USER_KEY, &id).await["result"].clone();
    assert_eq!(done["status"], "completed", "{done}");
    assert!(result_text(&done).contains("declined"), "{done}");
    assert_eq!(count_alerts(&s.sandbox_url).await, before);
}

#[tokio::test]
async fn cancelling_while_it_asks_sends_nothing_even_if_a_yes_follows() {
    let s = setup().await;
    let before = count_alerts(&s.sandbox_url).await;
    let created = call(
        &s.mcp_url,
        USER_KEY,
        "create_alert",
        json!({"summary": "Cache hit rate low", "source": "Grafana"}),
        true,
    )
    .await;
    let id = created["taskId"].as_str().unwrap().to_owned();
    let body = rpc(
        &s.mcp_url,
        USER_KEY,
        "tasks/cancel",
        json!({"taskId": id}),
        true,
    )
    .await;
    assert_eq!(body["result"]["resultType"], "complete", "{body}");
    let cancelled = get(&s.mcp_url, USER_KEY, &id).await["result"].clone();
    assert_eq!(cancelled["status"], "cancelled", "{cancelled}");
    assert!(
        cancelled["statusMessage"]
            .as_str()
            .unwrap()
            .contains("nothing was sent"),
        "{cancelled}"
    );
    let yes =
        json!({"taskId": id, "inputResponses": {"confirm": {"action": "accept", "content": {}}}});
    let late = rpc(&s.mcp_url, USER_KEY, "tasks/update", yes, true).await;
    assert!(error_message(&late).contains("cancelled"), "{late}");
    assert_eq!(count_alerts(&s.sandbox_url).await, before, "nobody paged");
}

#[tokio::test]
async fn a_watch_ends_when_the_last_level_passes_with_nobody_accepting() {
    let s = setup().await;
    let alert = raise(&s.sandbox_url, "watch-runs-out", "HIGH").await;
    let created = call(
        &s.mcp_url,
        USER_KEY,
        "get_alert",
        json!({"id": alert, "watch_minutes": 240}),
        true,
    )
    .await;
    assert_eq!(created["status"], "working", "{created}");
    let id = created["taskId"].as_str().unwrap().to_owned();

    // The policy's levels, from the REST API: move both clocks past all of them.
    let raised = sandbox_get(&s.sandbox_url, ADMIN_KEY, &format!("alerts/{alert}")).await;
    let policy = raised["escalationPolicy"]["id"].as_i64().unwrap();
    let policy = sandbox_get(
        &s.sandbox_url,
        ADMIN_KEY,
        &format!("escalation-policies/{policy}"),
    )
    .await;
    let minutes: i64 = policy["escalationRules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["escalationTimeout"].as_i64().unwrap_or(0))
        .sum();
    assert!(
        !policy["repeating"].as_bool().unwrap_or(false),
        "a policy that ends"
    );
    let levels = policy["escalationRules"].as_array().unwrap().len();
    // Step level by level, so each escalates at its own time, then past the last timeout.
    for _ in 0..levels {
        let step = (minutes / levels as i64 + 1) * 60;
        s.clock.advance(std::time::Duration::from_secs(step as u64));
        ilert_mcp::rules::times::shift_clock(step);
        let _ = sandbox_get(&s.sandbox_url, ADMIN_KEY, &format!("alerts/{alert}")).await;
    }
    let last = policy["escalationRules"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()["escalationTimeout"]
        .as_i64()
        .unwrap_or(0);
    s.clock
        .advance(std::time::Duration::from_secs((last as u64 + 1) * 60));
    ilert_mcp::rules::times::shift_clock((last + 1) * 60);

    let now = sandbox_get(&s.sandbox_url, ADMIN_KEY, &format!("alerts/{alert}")).await;
    assert_eq!(now["status"], "PENDING");
    assert!(
        now["nextEscalation"].is_null(),
        "escalation has ended: {now}"
    );
    let done = poll(&s.mcp_url, USER_KEY, &id).await;
    assert_eq!(done["status"], "completed", "{done}");
    let text = result_text(&done);
    assert!(
        text.contains(&format!("Nobody accepted alert #{alert}")),
        "{text}"
    );
    assert!(text.contains("the last escalation level"), "{text}");
    assert_eq!(
        done["result"]["isError"], true,
        "nobody picked it up: not a success"
    );
    assert!(text.contains("Next:"), "{text}");
}

/// Anyone with the source's integration key can accept an alert by event: that stops escalation
/// but is nobody picking it up (found by a helper playing the attacker).
#[tokio::test]
async fn an_accept_event_from_the_source_is_not_reported_as_a_person() {
    let s = setup().await;
    let alert = raise(&s.sandbox_url, "accepted-by-event", "HIGH").await;
    let created = call(
        &s.mcp_url,
        USER_KEY,
        "get_alert",
        json!({"id": alert, "watch_minutes": 30}),
        true,
    )
    .await;
    let id = created["taskId"].as_str().unwrap().to_owned();
    send_event(
        &s.sandbox_url,
        json!({"integrationKey": INTEGRATION_KEY, "eventType": "ACCEPT", "alertKey": "accepted-by-event"}),
    )
    .await;
    let now = sandbox_get(&s.sandbox_url, ADMIN_KEY, &format!("alerts/{alert}")).await;
    assert_eq!(now["status"], "ACCEPTED");
    assert!(
        now["responders"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] != "ACCEPTED"),
        "the sandbox names no person who accepted: {now}"
    );
    let done = poll(&s.mcp_url, USER_KEY, &id).await;
    assert_eq!(done["status"], "completed", "{done}");
    let text = result_text(&done);
    assert!(text.contains("no person accepted it"), "{text}");
    assert!(
        !text.contains("was accepted by \""),
        "no person is named: {text}"
    );
    assert_eq!(done["result"]["isError"], true, "{done}");
}

#[tokio::test]
async fn a_watch_ends_at_its_deadline_and_says_escalation_goes_on() {
    let s = setup().await;
    let alert = raise(&s.sandbox_url, "watch-deadline", "HIGH").await;
    let created = call(
        &s.mcp_url,
        USER_KEY,
        "get_alert",
        json!({"id": alert.to_string(), "watch_minutes": 1}),
        true,
    )
    .await;
    let id = created["taskId"].as_str().unwrap().to_owned();
    let working = poll(&s.mcp_url, USER_KEY, &id).await;
    assert_eq!(working["status"], "working", "{working}");
    ilert_mcp::rules::times::shift_clock(61);
    let done = poll(&s.mcp_url, USER_KEY, &id).await;
    assert_eq!(done["status"], "completed", "{done}");
    let text = result_text(&done);
    assert!(text.contains("within this watch's 1 min"), "{text}");
    assert_eq!(
        done["result"]["isError"], true,
        "nobody picked it up: not a success"
    );
    let now = sandbox_get(&s.sandbox_url, ADMIN_KEY, &format!("alerts/{alert}")).await;
    assert_eq!(now["status"], "PENDING", "watching changed nothing");
}

#[tokio::test]
async fn bad_task_ids_are_refused_and_cancel_stops_watching_once() {
    let s = setup().await;
    let alert = raise(&s.sandbox_url, "bad-ids", "HIGH").await;
    let created = call(
        &s.mcp_url,
        USER_KEY,
        "get_alert",
        json!({"id": alert, "watch_minutes": 5}),
        true,
    )
    .await;
    let id = created["taskId"].as_str().unwrap().to_owned();

    let forged = format!("{}x", &id[..id.len() - 1]);
    let body = get(&s.mcp_url, USER_KEY, &forged).await;
    assert!(error_message(&body).contains("not issued by this server"));
    let body = get(&s.mcp_url, USER_KEY, "imcp_task.AAAA").await;
    assert!(error_message(&body).contains("not issued by this server"));
    let body = get(&s.mcp_url, ADMIN_KEY, &id).await;
    assert!(error_message(&body).contains("another caller"));
    let body = rpc(
        &s.mcp_url,
        ADMIN_KEY,
        "tasks/cancel",
        json!({"taskId": id}),
        true,
    )
    .await;
    assert!(error_message(&body).contains("another caller"));
    let body = rpc(
        &s.mcp_url,
        USER_KEY,
        "tasks/update",
        json!({"taskId": id, "inputResponses": {"confirm": {"action": "accept"}}}),
        true,
    )
    .await;
    assert!(error_message(&body).contains("asks nothing"));

    // Cancel: acknowledged once, then the task says so; a second cancel is refused.
    let body = rpc(
        &s.mcp_url,
        USER_KEY,
        "tasks/cancel",
        json!({"taskId": id}),
        true,
    )
    .await;
    assert_eq!(body["result"]["resultType"], "complete", "{body}");
    let cancelled = get(&s.mcp_url, USER_KEY, &id).await["result"].clone();
    assert_eq!(cancelled["status"], "cancelled", "{cancelled}");
    assert!(
        cancelled["statusMessage"]
            .as_str()
            .unwrap()
            .contains("Nobody was un-paged")
    );
    let body = rpc(
        &s.mcp_url,
        USER_KEY,
        "tasks/cancel",
        json!({"taskId": id}),
        true,
    )
    .await;
    assert!(error_message(&body).contains("already cancelled"));
    let alert_now = sandbox_get(&s.sandbox_url, ADMIN_KEY, &format!("alerts/{alert}")).await;
    assert_eq!(alert_now["status"], "PENDING", "cancel un-pages nobody");

    // Expired: an hour after its watch ended.
    ilert_mcp::rules::times::shift_clock(5 * 60 + 3_601);
    let body = get(&s.mcp_url, USER_KEY, &id).await;
    assert!(error_message(&body).contains("expired"));
}

#[tokio::test]
async fn clients_without_the_extension_get_todays_answers() {
    let s = setup().await;
    let alert = raise(&s.sandbox_url, "no-tasks", "HIGH").await;
    let read = call(
        &s.mcp_url,
        USER_KEY,
        "get_alert",
        json!({"id": alert, "watch_minutes": 30}),
        false,
    )
    .await;
    assert!(read.get("taskId").is_none(), "{read}");
    assert!(read["structuredContent"]["reached"].is_string(), "{read}");
    let asked = call(
        &s.mcp_url,
        USER_KEY,
        "create_alert",
        json!({"summary": "Queue backlog", "source": "Grafana"}),
        false,
    )
    .await;
    assert_eq!(asked["resultType"], "input_required", "{asked}");
    // tasks/* without the extension declared: the capability error the extension defines.
    let id = "imcp_task.AAAA";
    let body = rpc(
        &s.mcp_url,
        USER_KEY,
        "tasks/get",
        json!({"taskId": id}),
        false,
    )
    .await;
    assert_eq!(body["error"]["code"], -32021, "{body}");
}
