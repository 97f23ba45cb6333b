//! A person says yes before an outward write (issue 13). For every outward tool, over real HTTP in
//! protocol 2026-07-28 with elicitation declared: the first call asks and changes nothing; decline
//! and cancel change nothing; tampered, expired, replayed and other callers' states are refused;
//! changed arguments ask again; accept does it. The sandbox's own REST API is read after each step.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use ilert_mcp::auth::seal::TokenKey;
use ilert_mcp::auth::store::{InMemory, UsedIds};
use ilert_mcp::rules::confirm::{Confirmer, Policy, STATE_TTL_SECS};
use serde_json::{Value, json};

use crate::common::*;
use crate::tools_support::*;

const ADMIN_KEY: &str = "demo-key-admin";

fn meta(elicitation: bool) -> Value {
    let caps = if elicitation {
        json!({"elicitation": {"form": {}}})
    } else {
        json!({})
    };
    json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": {"name": "confirm-test", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": caps,
    })
}

fn accept() -> Value {
    json!({"action": "accept", "content": {}})
}

/// One `tools/call` over HTTP; `retry` carries the echoed state and the person's answer.
pub(crate) async fn rpc(
    url: &str,
    key: &str,
    tool: &str,
    args: &Value,
    retry: Option<(&str, Value)>,
) -> Value {
    rpc_as(url, key, tool, args, retry, true).await
}

async fn rpc_as(
    url: &str,
    key: &str,
    tool: &str,
    args: &Value,
    retry: Option<(&str, Value)>,
    elicitation: bool,
) -> Value {
    let mut params = json!({"name": tool, "arguments": args, "_meta": meta(elicitation)});
    if let Some((state, answer)) = retry {
        params["requestState"] = json!(state);
        params["inputResponses"] = json!({"confirm": answer});
    }
    let response = reqwest::Client::new()
        .post(url)
        .bearer_auth(key)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", tool)
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}))
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    body.get("result")
        .cloned()
        .unwrap_or_else(|| panic!("no result: {body}"))
}

/// The state and the message of an `input_required` answer.
pub(crate) fn asked(result: &Value) -> (String, String) {
    assert_eq!(result["resultType"], "input_required", "{result}");
    let request = &result["inputRequests"]["confirm"];
    assert_eq!(request["method"], "elicitation/create", "{result}");
    assert_eq!(request["params"]["mode"], "form", "{result}");
    let message = request["params"]["message"].as_str().unwrap().to_owned();
    (result["requestState"].as_str().unwrap().to_owned(), message)
}

fn refused(result: &Value, why: &str) {
    assert_eq!(result["isError"], true, "{result}");
    let text = result["content"][0]["text"].as_str().unwrap();
    assert!(text.contains(why), "{text}");
    assert!(text.contains("Nothing was changed"), "{text}");
}

fn done(result: &Value) {
    assert_ne!(result["isError"], true, "{result}");
    assert!(
        result.get("resultType").is_none_or(|t| t == "complete"),
        "{result}"
    );
}

/// What a tool changes, read from the sandbox's REST API.
#[derive(Clone, Copy)]
enum Probe {
    AlertCount,
    OpenAlertCount,
    PendingAlertCount,
    IncidentCount,
    IncidentStatus(i64),
    ActionRuns(i64),
    MaintenanceCount,
    Overrides(i64),
    LogEntries(i64),
}

async fn probe(p: Probe, sandbox: &str) -> Value {
    let get = |path: String| async move { sandbox_get(sandbox, ADMIN_KEY, &path).await };
    let len = |v: Value| json!(v.as_array().map_or(0, Vec::len));
    match p {
        Probe::AlertCount => get("alerts/count".into()).await["count"].clone(),
        Probe::OpenAlertCount => {
            get("alerts/count?states=PENDING&states=ACCEPTED".into()).await["count"].clone()
        }
        Probe::PendingAlertCount => {
            get("alerts/count?states=PENDING".into()).await["count"].clone()
        }
        Probe::IncidentCount => len(get("incidents?max-results=100".into()).await),
        Probe::IncidentStatus(id) => get(format!("incidents/{id}")).await["status"].clone(),
        Probe::ActionRuns(alert) => {
            let actions = get(format!("alerts/{alert}/actions")).await;
            let runs: usize = actions
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["history"].as_array().map_or(0, Vec::len))
                .sum();
            json!(runs)
        }
        Probe::MaintenanceCount => len(get("maintenance-windows?max-results=100".into()).await),
        Probe::Overrides(schedule) => len(get(format!("schedules/{schedule}/overrides")).await),
        Probe::LogEntries(alert) => len(get(format!("alerts/{alert}/log-entries")).await),
    }
}

struct Case {
    tool: &'static str,
    args: Value,
    changed: Value,
    probe: Probe,
    /// What the prompt must show, computed from the sandbox or the seed, not from the server.
    shows: Vec<String>,
}

/// The whole protocol for one outward tool, on a fresh sandbox.
async fn exercise(case: impl AsyncFnOnce(&str) -> Case) {
    let clock = Arc::new(AtomicI64::new(0));
    let offset = clock.clone();
    let confirmer = Confirmer::new(
        Policy::Outward,
        &TokenKey::generate(),
        Arc::new(InMemory::default()),
    )
    .with_clock(Arc::new(move || {
        ilert_mcp::auth::store::now() + offset.load(Ordering::SeqCst)
    }));
    let (h, _) = start_confirming(vec![confirmer]).await;
    let case = case(&h.sandbox_url).await;
    let (url, tool, args) = (&h.mcp_url, case.tool, &case.args);
    let before = probe(case.probe, &h.sandbox_url).await;
    let unchanged = |step: &'static str| {
        let sandbox = h.sandbox_url.clone();
        let before = before.clone();
        async move {
            assert_eq!(
                probe(case.probe, &sandbox).await,
                before,
                "{tool}: {step} changed ilert"
            );
        }
    };

    // The first call asks, shows what will happen, and changes nothing.
    let (state, message) = asked(&rpc(url, USER_KEY, tool, args, None).await);
    for fact in &case.shows {
        assert!(
            message.contains(fact.as_str()),
            "{tool}: prompt lacks {fact:?}:\n{message}"
        );
    }
    assert!(!message.contains(USER_KEY), "no key in the prompt");
    unchanged("asking").await;

    // Decline and cancel: nothing, and the answer says so.
    let r = rpc(
        url,
        USER_KEY,
        tool,
        args,
        Some((&state, json!({"action": "decline"}))),
    )
    .await;
    refused(&r, "declined");
    unchanged("decline").await;
    let (state, _) = asked(&rpc(url, USER_KEY, tool, args, None).await);
    let r = rpc(
        url,
        USER_KEY,
        tool,
        args,
        Some((&state, json!({"action": "cancel"}))),
    )
    .await;
    refused(&r, "cancelled");
    unchanged("cancel").await;

    // A tampered state.
    let (state, _) = asked(&rpc(url, USER_KEY, tool, args, None).await);
    let mut bytes = state.clone().into_bytes();
    let i = bytes.len() - 5;
    bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(bytes).unwrap();
    refused(
        &rpc(url, USER_KEY, tool, args, Some((&forged, accept()))).await,
        "not issued by this server or was altered",
    );
    unchanged("a tampered state").await;

    // Another caller's state (an admin presenting the user's yes).
    refused(
        &rpc(url, ADMIN_KEY, tool, args, Some((&state, accept()))).await,
        "belongs to another caller",
    );
    unchanged("another caller's state").await;

    // Changed arguments: a new question, not the old yes.
    let again = rpc(url, USER_KEY, tool, &case.changed, Some((&state, accept()))).await;
    let (fresh, _) = asked(&again);
    assert_ne!(fresh, state);
    unchanged("changed arguments").await;

    // Expired.
    clock.store(STATE_TTL_SECS + 1, Ordering::SeqCst);
    refused(
        &rpc(url, USER_KEY, tool, args, Some((&state, accept()))).await,
        "expired",
    );
    clock.store(0, Ordering::SeqCst);
    unchanged("an expired state").await;

    // Accept: done, once.
    let (state, _) = asked(&rpc(url, USER_KEY, tool, args, None).await);
    done(&rpc(url, USER_KEY, tool, args, Some((&state, accept()))).await);
    let after = probe(case.probe, &h.sandbox_url).await;
    assert_ne!(after, before, "{tool}: accept did nothing");
    refused(
        &rpc(url, USER_KEY, tool, args, Some((&state, accept()))).await,
        "already used",
    );
    assert_eq!(
        probe(case.probe, &h.sandbox_url).await,
        after,
        "{tool}: replay acted"
    );
}

/// Level-1 on-call names of an alert source's escalation policy, from the sandbox.
async fn paged_now(sandbox: &str, source: i64) -> Vec<String> {
    let source = sandbox_get(sandbox, ADMIN_KEY, &format!("alert-sources/{source}")).await;
    let policy = source["escalationPolicy"]["id"].as_i64().unwrap();
    let on_calls = sandbox_get(
        sandbox,
        ADMIN_KEY,
        &format!("on-calls?policies={policy}&expand=user"),
    )
    .await;
    on_calls
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["escalationLevel"] == 1)
        .map(|o| {
            format!(
                "{} {}",
                o["user"]["firstName"].as_str().unwrap(),
                o["user"]["lastName"].as_str().unwrap()
            )
        })
        .collect()
}

async fn source_id(sandbox: &str, name: &str) -> i64 {
    let sources = sandbox_get(sandbox, ADMIN_KEY, "alert-sources").await;
    sources
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap()["id"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn create_alert_asks_who_is_paged() {
    exercise(async |sandbox: &str| {
        let grafana = source_id(sandbox, "Grafana").await;
        let mut shows = paged_now(sandbox, grafana).await;
        assert!(!shows.is_empty(), "someone is on call for Grafana's policy");
        shows.push("Checkout 500s in EU".into());
        Case {
            tool: "create_alert",
            args: json!({"summary": "Checkout 500s in EU", "source": "Grafana"}),
            changed: json!({"summary": "Checkout 500s in US", "source": "Grafana"}),
            probe: Probe::AlertCount,
            shows,
        }
    })
    .await;
}

#[tokio::test]
async fn send_event_asks_who_is_paged() {
    exercise(async |sandbox: &str| {
        let grafana = source_id(sandbox, "Grafana").await;
        let mut shows = paged_now(sandbox, grafana).await;
        shows.push("Disk full on db-3".into());
        Case {
            tool: "send_event",
            args: json!({"source": "Grafana", "event_type": "ALERT", "summary": "Disk full on db-3", "alert_key": "db-3-disk"}),
            changed: json!({"source": "Grafana", "event_type": "ALERT", "summary": "Disk full on db-4", "alert_key": "db-4-disk"}),
            probe: Probe::AlertCount,
            shows,
        }
    })
    .await;
}

#[tokio::test]
async fn create_incident_asks_with_pages_subscribers_and_text() {
    exercise(async |sandbox: &str| {
        // Payments is on the public status page only, which has 1284 subscribers (the seed).
        let pages = sandbox_get(sandbox, ADMIN_KEY, "status-pages").await;
        let page = pages
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["services"].as_array().unwrap().iter().any(|s| s["id"] == 802))
            .unwrap()["name"]
            .as_str()
            .unwrap()
            .to_owned();
        // An incident is already open on Payments: the question names it.
        let open = sandbox_get(
            sandbox,
            ADMIN_KEY,
            "incidents?states=INVESTIGATING&states=IDENTIFIED&states=MONITORING",
        )
        .await;
        let already = open
            .as_array()
            .unwrap()
            .iter()
            .find(|i| {
                i["affectedServices"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|a| a["service"]["id"] == 802)
            })
            .unwrap()["id"]
            .as_i64()
            .unwrap();
        Case {
            tool: "create_incident",
            args: json!({"summary": "Payments failing", "message": "We are investigating failed card payments.",
                         "services": [{"service": "Payments", "impact": "MAJOR_OUTAGE"}]}),
            changed: json!({"summary": "Payments failing", "message": "We are investigating.",
                            "services": [{"service": "Payments", "impact": "MAJOR_OUTAGE"}]}),
            probe: Probe::IncidentCount,
            shows: vec![
                page,
                "1284 public".into(),
                "We are investigating failed card payments.".into(),
                format!("Already open on these services: #{already} "),
            ],
        }
    })
    .await;
}

#[tokio::test]
async fn update_incident_asks_with_the_text() {
    exercise(async |sandbox: &str| {
        let open = sandbox_get(sandbox, ADMIN_KEY, "incidents?states=INVESTIGATING&states=IDENTIFIED&states=MONITORING").await;
        let id = open.as_array().unwrap()[0]["id"].as_i64().unwrap();
        Case {
            tool: "update_incident",
            args: json!({"id": id, "status": "MONITORING", "message": "A fix is out; we are watching."}),
            changed: json!({"id": id, "status": "MONITORING", "message": "A fix is out."}),
            probe: Probe::IncidentStatus(id),
            shows: vec![format!("#{id}"), "A fix is out; we are watching.".into(), "MONITORING".into()],
        }
    })
    .await;
}

#[tokio::test]
async fn run_alert_action_asks() {
    exercise(async |sandbox: &str| {
        let id = alert_ids(sandbox, "PENDING").await[0];
        Case {
            tool: "run_alert_action",
            args: json!({"id": id, "action": "Create Jira issue"}),
            changed: json!({"id": id, "action": "jira-create-issue"}),
            probe: Probe::ActionRuns(id),
            shows: vec!["Create Jira issue".into(), format!("#{id}")],
        }
    })
    .await;
}

#[tokio::test]
async fn create_maintenance_window_asks() {
    exercise(async |_: &str| {
        let day = date_in(chrono_tz::Tz::UTC, 2);
        let args = |end: &str| {
            json!({"summary": "DB failover test", "start": format!("{day} 22:00"), "end": format!("{day} {end}"),
                   "alert_sources": ["Grafana"], "services": ["Search"]})
        };
        Case {
            tool: "create_maintenance_window",
            args: args("23:00"),
            changed: args("23:30"),
            probe: Probe::MaintenanceCount,
            shows: vec!["DB failover test".into(), "Grafana".into(), "Search".into()],
        }
    })
    .await;
}

#[tokio::test]
async fn create_schedule_override_asks_whom_it_replaces() {
    exercise(async |sandbox: &str| {
        let day = date_in(chrono_tz::Tz::UTC, 2);
        let (from, until) = (format!("{day}T10:00:00Z"), format!("{day}T12:00:00Z"));
        let shifts = sandbox_get(
            sandbox,
            ADMIN_KEY,
            &format!("schedules/7003/shifts?from={from}&until={until}"),
        )
        .await;
        let mut shows: Vec<String> = shifts
            .as_array()
            .unwrap()
            .iter()
            .map(|s| format!("{} {}", s["user"]["firstName"].as_str().unwrap(), s["user"]["lastName"].as_str().unwrap()))
            .collect();
        assert!(!shows.is_empty(), "someone is scheduled then");
        shows.push("\"Maya Chen\" is on call for \"Storefront weekly\"".into());
        let args = |end: &str| {
            json!({"schedule": "Storefront weekly", "user": "Maya Chen", "start": format!("{day} 10:00"), "end": format!("{day} {end}")})
        };
        Case {
            tool: "create_schedule_override",
            args: args("12:00"),
            changed: args("11:00"),
            probe: Probe::Overrides(7003),
            shows,
        }
    })
    .await;
}

/// Four alerts with their summaries, from the sandbox.
async fn four(sandbox: &str, state: &str) -> (Vec<i64>, Vec<String>) {
    let ids: Vec<i64> = alert_ids(sandbox, state)
        .await
        .into_iter()
        .take(4)
        .collect();
    let mut shows = Vec::new();
    for id in &ids {
        let alert = sandbox_get(sandbox, ADMIN_KEY, &format!("alerts/{id}")).await;
        shows.push(format!(
            "#{id} {state} \"{}\"",
            alert["summary"].as_str().unwrap()
        ));
    }
    (ids, shows)
}

#[tokio::test]
async fn accepting_more_than_three_alerts_asks_which() {
    exercise(async |sandbox: &str| {
        let (ids, shows) = four(sandbox, "PENDING").await;
        Case {
            tool: "accept_alerts",
            args: json!({"ids": ids}),
            changed: json!({"ids": [ids[1], ids[0], ids[2], ids[3]]}),
            probe: Probe::PendingAlertCount,
            shows,
        }
    })
    .await;
}

#[tokio::test]
async fn resolving_more_than_three_alerts_asks_which() {
    exercise(async |sandbox: &str| {
        let (ids, shows) = four(sandbox, "PENDING").await;
        Case {
            tool: "resolve_alerts",
            args: json!({"ids": ids}),
            changed: json!({"ids": [ids[3], ids[2], ids[1], ids[0]]}),
            probe: Probe::OpenAlertCount,
            shows,
        }
    })
    .await;
}

fn confirmer(policy: Policy) -> Confirmer {
    Confirmer::new(policy, &TokenKey::generate(), Arc::new(InMemory::default()))
}

#[tokio::test]
async fn up_to_three_alerts_and_internal_writes_go_ahead_under_outward() {
    let (h, _) = start_confirming(vec![confirmer(Policy::Outward)]).await;
    let ids: Vec<i64> = alert_ids(&h.sandbox_url, "PENDING")
        .await
        .into_iter()
        .take(3)
        .collect();
    let r = rpc(
        &h.mcp_url,
        USER_KEY,
        "accept_alerts",
        &json!({"ids": ids}),
        None,
    )
    .await;
    done(&r);
    assert_eq!(r["structuredContent"]["succeeded"], 3, "{r}");
    let r = rpc(
        &h.mcp_url,
        USER_KEY,
        "comment_on_alert",
        &json!({"id": ids[0], "comment": "on it"}),
        None,
    )
    .await;
    done(&r);
}

#[tokio::test]
async fn clients_that_cannot_ask_get_annotations_under_outward_and_a_refusal_under_always() {
    let (h, urls) =
        start_confirming(vec![confirmer(Policy::Outward), confirmer(Policy::Always)]).await;
    let args = json!({"summary": "Checkout down", "source": "Grafana"});
    let before = probe(Probe::AlertCount, &h.sandbox_url).await;
    // `always`: refused, saying why and what would let it through.
    let r = rpc_as(&urls[1], USER_KEY, "create_alert", &args, None, false).await;
    refused(&r, "--confirm always");
    let text = r["content"][0]["text"].as_str().unwrap();
    assert!(
        text.contains("elicitation") && text.contains("--confirm outward"),
        "{text}"
    );
    assert_eq!(probe(Probe::AlertCount, &h.sandbox_url).await, before);
    // `outward` (the default): the host's own approval applies; the server goes ahead.
    done(&rpc_as(&urls[0], USER_KEY, "create_alert", &args, None, false).await);
    assert_ne!(probe(Probe::AlertCount, &h.sandbox_url).await, before);
    // Handshake-era clients (rmcp's client, 2025-06-18) likewise.
    let legacy = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    ok(&call(&legacy, "create_alert", args).await);
}

#[tokio::test]
async fn always_asks_before_internal_writes_too_and_never_asks_nobody() {
    let (h, urls) =
        start_confirming(vec![confirmer(Policy::Always), confirmer(Policy::Never)]).await;
    let id = alert_ids(&h.sandbox_url, "PENDING").await[0];
    let args = json!({"id": id, "comment": "Rolled back deploy 4512"});
    let (state, message) = asked(&rpc(&urls[0], USER_KEY, "comment_on_alert", &args, None).await);
    assert!(message.contains("Rolled back deploy 4512"), "{message}");
    done(
        &rpc(
            &urls[0],
            USER_KEY,
            "comment_on_alert",
            &args,
            Some((&state, accept())),
        )
        .await,
    );
    let log = sandbox_get(
        &h.sandbox_url,
        ADMIN_KEY,
        &format!("alerts/{id}/log-entries"),
    )
    .await;
    assert!(log.to_string().contains("Rolled back deploy 4512"));
    // An internal write from a client that cannot ask goes ahead under `always`.
    done(
        &rpc_as(
            &urls[0],
            USER_KEY,
            "accept_alerts",
            &json!({"ids": [id]}),
            None,
            false,
        )
        .await,
    );
    // `never`: even an outward write runs at once.
    let before = probe(Probe::AlertCount, &h.sandbox_url).await;
    done(
        &rpc(
            &urls[1],
            USER_KEY,
            "create_alert",
            &json!({"summary": "x", "source": "Grafana"}),
            None,
        )
        .await,
    );
    assert_ne!(probe(Probe::AlertCount, &h.sandbox_url).await, before);
}

#[tokio::test]
async fn confirmation_never_widens_a_read_only_connection() {
    let (h, _) = start_confirming(vec![confirmer(Policy::Outward)]).await;
    let response = reqwest::Client::new()
        .post(&h.mcp_url)
        .bearer_auth(USER_KEY)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", "create_alert")
        .header("x-mcp-readonly", "1")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
            "name": "create_alert", "arguments": {"summary": "x", "source": "Grafana"}, "_meta": meta(true)}}))
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    let text = body["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"));
    assert!(text.contains("read-only"), "{body}");
    assert!(
        body["result"].get("inputRequests").is_none(),
        "no question for a refused tool"
    );
}

/// Replicas behind a load balancer: the question comes from one, the yes lands on another.
/// They share the token key and the one-time-use store; a replica with another key refuses.
#[tokio::test]
async fn a_confirmation_asked_on_one_replica_finishes_on_another() {
    let key = TokenKey::generate();
    let store: Arc<dyn UsedIds> = Arc::new(InMemory::default());
    let replica = || Confirmer::new(Policy::Outward, &key, store.clone());
    let stranger = confirmer(Policy::Outward);
    let (h, urls) = start_confirming(vec![replica(), replica(), stranger]).await;
    let args = json!({"summary": "Checkout 500s", "source": "Grafana"});
    let before = probe(Probe::AlertCount, &h.sandbox_url).await;
    let (state, _) = asked(&rpc(&urls[0], USER_KEY, "create_alert", &args, None).await);
    refused(
        &rpc(
            &urls[2],
            USER_KEY,
            "create_alert",
            &args,
            Some((&state, accept())),
        )
        .await,
        "not issued by this server",
    );
    done(
        &rpc(
            &urls[1],
            USER_KEY,
            "create_alert",
            &args,
            Some((&state, accept())),
        )
        .await,
    );
    let after = probe(Probe::AlertCount, &h.sandbox_url).await;
    assert_eq!(after, json!(before.as_i64().unwrap() + 1));
    refused(
        &rpc(
            &urls[0],
            USER_KEY,
            "create_alert",
            &args,
            Some((&state, accept())),
        )
        .await,
        "already used",
    );
    assert_eq!(probe(Probe::AlertCount, &h.sandbox_url).await, after);
}

/// rmcp's own client (the Rust SDK) with a handler that answers elicitations: on 2026-07-28 it
/// drives `input_required` itself; in the handshake era the server does not ask (it cannot send
/// `input_required` there), so the host's own approval is what stands.
struct Answering(
    rmcp::model::ElicitationAction,
    Arc<std::sync::Mutex<Vec<String>>>,
);

impl rmcp::ClientHandler for Answering {
    fn get_info(&self) -> rmcp::model::ClientConfig {
        let mut info = rmcp::model::ClientConfig::default();
        info.capabilities = serde_json::from_value(json!({"elicitation": {"form": {}}})).unwrap();
        info
    }

    async fn create_elicitation(
        &self,
        request: rmcp::model::ElicitRequestParams,
        _context: rmcp::service::RequestContext<rmcp::RoleClient>,
    ) -> Result<rmcp::model::ElicitResult, rmcp::ErrorData> {
        if let rmcp::model::ElicitRequestParams::FormElicitationParams { message, .. } = request {
            self.1.lock().unwrap().push(message);
        }
        let result = rmcp::model::ElicitResult::new(self.0.clone());
        Ok(match self.0 {
            rmcp::model::ElicitationAction::Accept => result.with_content(json!({})),
            _ => result,
        })
    }
}

async fn rust_client(
    url: &str,
    action: rmcp::model::ElicitationAction,
    era: Era,
) -> (
    rmcp::service::RunningService<rmcp::RoleClient, Answering>,
    Arc<std::sync::Mutex<Vec<String>>>,
) {
    use rmcp::service::{ClientLifecycleMode, ClientServiceExt};
    use rmcp::transport::StreamableHttpClientTransport;
    use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
    let config = StreamableHttpClientTransportConfig::with_uri(url.to_owned())
        .auth_header(USER_KEY.to_owned());
    let lifecycle = match era {
        Era::Legacy => ClientLifecycleMode::Initialize,
        Era::Stateless => ClientLifecycleMode::Discover {
            preferred_versions: vec![rmcp::model::ProtocolVersion::V_2026_07_28],
        },
    };
    let asked = Arc::new(std::sync::Mutex::new(Vec::new()));
    let client = Answering(action, asked.clone())
        .serve_with_lifecycle(
            StreamableHttpClientTransport::from_config(config),
            lifecycle,
        )
        .await
        .unwrap();
    (client, asked)
}

#[tokio::test]
async fn the_rust_sdk_client_answers_on_2026_and_is_not_asked_in_the_handshake_era() {
    use rmcp::model::{CallToolRequestParams, ElicitationAction};
    let (h, _) = start_confirming(vec![confirmer(Policy::Outward)]).await;
    let args = |s: &str| {
        json!({"summary": s, "source": "Grafana"})
            .as_object()
            .unwrap()
            .clone()
    };
    let before = probe(Probe::AlertCount, &h.sandbox_url)
        .await
        .as_i64()
        .unwrap();
    for (action, want, raised) in [
        (ElicitationAction::Decline, "declined", 0),
        (ElicitationAction::Cancel, "cancelled", 0),
        (ElicitationAction::Accept, "Raised alert", 1),
    ] {
        let (client, asked) = rust_client(&h.mcp_url, action, Era::Stateless).await;
        let count = probe(Probe::AlertCount, &h.sandbox_url)
            .await
            .as_i64()
            .unwrap();
        let result = client
            .call_tool(CallToolRequestParams::new("create_alert").with_arguments(args("rust sdk")))
            .await
            .unwrap();
        assert!(text(&result).contains(want), "{}", text(&result));
        assert_eq!(asked.lock().unwrap().len(), 1, "asked once");
        assert!(asked.lock().unwrap()[0].contains("Paged now"));
        assert_eq!(
            probe(Probe::AlertCount, &h.sandbox_url)
                .await
                .as_i64()
                .unwrap(),
            count + raised
        );
    }
    let (legacy, asked) = rust_client(&h.mcp_url, ElicitationAction::Decline, Era::Legacy).await;
    let result = legacy
        .call_tool(CallToolRequestParams::new("create_alert").with_arguments(args("legacy")))
        .await
        .unwrap();
    assert!(!is_error(&result), "{}", text(&result));
    assert!(
        asked.lock().unwrap().is_empty(),
        "no elicitation in the handshake era"
    );
    assert_eq!(
        probe(Probe::AlertCount, &h.sandbox_url)
            .await
            .as_i64()
            .unwrap(),
        before + 2
    );
}

/// Handshake-era stdio (an in-process pipe, as `ilert-mcp stdio` runs): the server may send
/// requests mid-call, so a client that declared elicitation is asked with `elicitation/create`.
#[tokio::test]
async fn handshake_era_stdio_clients_with_elicitation_are_asked_in_band() {
    use ilert_mcp::calls::catalogue::Catalogue;
    use ilert_mcp::mcp::server::IlertMcp;
    use ilert_mcp::rules::toolbox::Toolbox;
    use rmcp::ServiceExt;
    use rmcp::model::{CallToolRequestParams, ElicitationAction};
    let (h, _) = start_confirming(vec![confirmer(Policy::Outward)]).await;
    for (action, want, raised) in [
        (ElicitationAction::Decline, "declined", 0),
        (ElicitationAction::Cancel, "cancelled", 0),
        (ElicitationAction::Accept, "Raised alert", 1),
    ] {
        let shared = Arc::new(Toolbox::new(
            fast_client(&h.sandbox_url),
            "https://app.ilert.com",
            Some(ilert_client::ApiKey::new(USER_KEY).unwrap()),
        ));
        let (server_io, client_io) = tokio::io::duplex(1 << 16);
        tokio::spawn(async move {
            if let Ok(running) = IlertMcp::new(shared, Arc::new(Catalogue::full()))
                .serve(server_io)
                .await
            {
                let _ = running.waiting().await;
            }
        });
        let asked = Arc::new(std::sync::Mutex::new(Vec::new()));
        let client = Answering(action, asked.clone())
            .serve(client_io)
            .await
            .unwrap();
        let before = probe(Probe::AlertCount, &h.sandbox_url)
            .await
            .as_i64()
            .unwrap();
        let args = json!({"summary": "stdio in band", "source": "Grafana"});
        let result = client
            .call_tool(
                CallToolRequestParams::new("create_alert")
                    .with_arguments(args.as_object().unwrap().clone()),
            )
            .await
            .unwrap();
        assert!(text(&result).contains(want), "{}", text(&result));
        assert_eq!(asked.lock().unwrap().len(), 1, "asked once");
        assert!(asked.lock().unwrap()[0].contains("Paged now"));
        assert_eq!(
            probe(Probe::AlertCount, &h.sandbox_url)
                .await
                .as_i64()
                .unwrap(),
            before + raised
        );
    }
}

/// "First Last" of the key's owner, from the sandbox.
async fn owner_name(sandbox: &str, key: &str) -> (i64, String) {
    let me = sandbox_get(sandbox, key, "users/current").await;
    (
        me["id"].as_i64().unwrap(),
        format!(
            "{} {}",
            me["firstName"].as_str().unwrap(),
            me["lastName"].as_str().unwrap()
        ),
    )
}

/// An escalation policy's id, name and level-1 on-call names, from the sandbox.
async fn a_policy(sandbox: &str) -> (i64, String, Vec<String>) {
    let policies = sandbox_get(sandbox, ADMIN_KEY, "escalation-policies").await;
    let policy = &policies.as_array().unwrap()[0];
    let id = policy["id"].as_i64().unwrap();
    let on_calls = sandbox_get(
        sandbox,
        ADMIN_KEY,
        &format!("on-calls?policies={id}&expand=user"),
    )
    .await;
    let level1 = on_calls
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["escalationLevel"] == 1)
        .map(|o| {
            format!(
                "{} {}",
                o["user"]["firstName"].as_str().unwrap(),
                o["user"]["lastName"].as_str().unwrap()
            )
        })
        .collect();
    (id, policy["name"].as_str().unwrap().to_owned(), level1)
}

/// Assigning an alert to a policy pages its on-call: the whole confirmation protocol applies, and
/// the question names the policy and who is paged now (issue 23 §3).
#[tokio::test]
async fn assigning_an_alert_to_a_policy_asks_who_is_paged() {
    exercise(async |sandbox: &str| {
        let alert = alert_ids(sandbox, "PENDING").await[0];
        let (policy, name, level1) = a_policy(sandbox).await;
        let mut shows = vec![format!("Escalation restarts on policy \"{name}\"")];
        shows.extend(level1);
        Case {
            tool: "assign_alert",
            args: json!({"id": alert, "policy": policy.to_string()}),
            changed: json!({"id": alert, "policy": name}),
            probe: Probe::LogEntries(alert),
            shows,
        }
    })
    .await;
}

/// Another user as assignee or responder is notified, so the person is asked; the caller
/// assigning or adding themselves is not.
#[tokio::test]
async fn notifying_someone_else_asks_and_taking_it_yourself_does_not() {
    let (h, _) = start_confirming(vec![confirmer(Policy::Outward)]).await;
    let alerts = alert_ids(&h.sandbox_url, "PENDING").await;
    let (alert, other_alert) = (alerts[0], alerts[1]);
    let (_, admin) = owner_name(&h.sandbox_url, ADMIN_KEY).await;
    let url = &h.mcp_url;
    let log_before = probe(Probe::LogEntries(alert), &h.sandbox_url).await;
    let (_, message) = asked(
        &rpc(
            url,
            USER_KEY,
            "assign_alert",
            &json!({"id": alert, "user": admin}),
            None,
        )
        .await,
    );
    assert!(
        message.contains(&format!("Notified now: \"{admin}\"")),
        "{message}"
    );
    let (_, message) = asked(
        &rpc(
            url,
            USER_KEY,
            "add_alert_responder",
            &json!({"id": alert, "user": admin}),
            None,
        )
        .await,
    );
    assert!(
        message.contains(&format!("Notified now: \"{admin}\"")),
        "{message}"
    );
    assert_eq!(
        probe(Probe::LogEntries(alert), &h.sandbox_url).await,
        log_before,
        "asking changed ilert"
    );
    // Yourself: no question, done.
    done(
        &rpc(
            url,
            USER_KEY,
            "assign_alert",
            &json!({"id": alert, "user": "me"}),
            None,
        )
        .await,
    );
    done(
        &rpc(
            url,
            USER_KEY,
            "add_alert_responder",
            &json!({"id": other_alert, "user": "me"}),
            None,
        )
        .await,
    );
}

/// Assigning an alert someone else accepted takes their acceptance away: the question says so,
/// and so does the answer, which the sandbox's status confirms.
#[tokio::test]
async fn assigning_an_accepted_alert_asks_and_says_what_it_undid() {
    let (h, _) = start_confirming(vec![confirmer(Policy::Outward)]).await;
    let alert = alert_ids(&h.sandbox_url, "PENDING").await[0];
    let (_, admin) = owner_name(&h.sandbox_url, ADMIN_KEY).await;
    let accepted = reqwest::Client::new()
        .put(format!("{}/alerts/{alert}/accept", h.sandbox_url))
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert!(accepted.status().is_success(), "{}", accepted.status());
    let args = json!({"id": alert, "user": "me"});
    let (state, message) = asked(&rpc(&h.mcp_url, USER_KEY, "assign_alert", &args, None).await);
    assert!(
        message.contains(&format!("Undoes the acceptance by \"{admin}\"")),
        "{message}"
    );
    let r = rpc(
        &h.mcp_url,
        USER_KEY,
        "assign_alert",
        &args,
        Some((&state, accept())),
    )
    .await;
    done(&r);
    let status =
        sandbox_get(&h.sandbox_url, ADMIN_KEY, &format!("alerts/{alert}")).await["status"].clone();
    let text = r["content"][0]["text"].as_str().unwrap();
    assert!(
        text.contains(&format!(
            "This undid the acceptance by \"{admin}\": the alert is {} now.",
            status.as_str().unwrap()
        )),
        "{text}"
    );
}

/// The bulk rule counts across calls: 2 accepts go ahead, 2 more within ten minutes make 4, more
/// than the 3 one call may take, so they ask, and the question says how many the caller changed.
#[tokio::test]
async fn accepts_across_calls_ask_once_the_window_holds_more_than_three() {
    let (h, _) = start_confirming(vec![confirmer(Policy::Outward)]).await;
    let ids = alert_ids(&h.sandbox_url, "PENDING").await;
    assert!(ids.len() >= 5, "the seed has {} pending alerts", ids.len());
    let first = &ids[..2];
    let second = &ids[2..4];
    let r = rpc(
        &h.mcp_url,
        USER_KEY,
        "accept_alerts",
        &json!({"ids": first}),
        None,
    )
    .await;
    done(&r);
    let pending = probe(Probe::PendingAlertCount, &h.sandbox_url).await;
    let (state, message) = asked(
        &rpc(
            &h.mcp_url,
            USER_KEY,
            "accept_alerts",
            &json!({"ids": second}),
            None,
        )
        .await,
    );
    assert!(message.contains("This call makes 4 alerts"), "{message}");
    for id in second {
        assert!(message.contains(&format!("#{id} ")), "{message}");
    }
    assert_eq!(
        probe(Probe::PendingAlertCount, &h.sandbox_url).await,
        pending,
        "asking changed ilert"
    );
    // Another caller is counted on its own.
    let r = rpc(
        &h.mcp_url,
        ADMIN_KEY,
        "accept_alerts",
        &json!({"ids": [ids[4]]}),
        None,
    )
    .await;
    done(&r);
    let r = rpc(
        &h.mcp_url,
        USER_KEY,
        "accept_alerts",
        &json!({"ids": second}),
        Some((&state, accept())),
    )
    .await;
    done(&r);
    assert_eq!(r["structuredContent"]["succeeded"], 2, "{r}");
}

/// A window that names only services silences nothing: the question says so instead of claiming
/// that alerts are suppressed (issue 23 §2).
#[tokio::test]
async fn a_window_for_services_alone_says_it_silences_nothing() {
    let (h, _) = start_confirming(vec![confirmer(Policy::Outward)]).await;
    let day = date_in(chrono_tz::Tz::UTC, 2);
    let args = json!({"summary": "Search reindex", "start": format!("{day} 22:00"),
                      "end": format!("{day} 23:00"), "services": ["Search"]});
    let (_, message) = asked(
        &rpc(
            &h.mcp_url,
            USER_KEY,
            "create_maintenance_window",
            &args,
            None,
        )
        .await,
    );
    assert!(message.contains("it silences no alerts"), "{message}");
    assert!(
        message.contains("Alert sources silenced: none"),
        "{message}"
    );
    assert!(!message.contains("are suppressed"), "{message}");
}
