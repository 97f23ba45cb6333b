//! Operations: /metrics, /readyz, request ids, completions, logging/setLevel, resource errors, and
//! a graceful shutdown that lets a call in flight finish.

use std::sync::Arc;
use std::time::Duration;

use ilert_mcp::calls::catalogue::Catalogue;
use ilert_mcp::rules::toolbox::Toolbox;
use ilert_mcp::transport::http::{self, HttpConfig};
use rmcp::model::{ArgumentInfo, CompleteRequestParams, Reference};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::*;

fn base(mcp_url: &str) -> String {
    mcp_url.trim_end_matches("/mcp").to_owned()
}

#[tokio::test]
async fn metrics_count_tool_calls_and_upstream_answers_without_secrets() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    call(&client, "get_current_user", json!({})).await;
    call(&client, "get_alert", json!({"id": 999_999_999})).await;
    let text = reqwest::get(format!("{}/metrics", base(&h.mcp_url)))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("ilert_mcp_tool_calls_total{tool=\"get_current_user\",outcome=\"ok\"}"),
        "{text}"
    );
    assert!(
        text.contains("ilert_mcp_tool_calls_total{tool=\"get_alert\",outcome=\"tool_error\"}"),
        "{text}"
    );
    assert!(text.contains(
        "ilert_mcp_tool_call_duration_seconds_bucket{tool=\"get_current_user\",le=\"+Inf\"}"
    ));
    assert!(text.contains("ilert_mcp_upstream_responses_total{status=\"200\"}"));
    assert!(text.contains("ilert_mcp_upstream_responses_total{status=\"404\"}"));
    assert!(text.contains("ilert_mcp_tool_calls_in_flight 0"));
    assert!(
        !text.contains(USER_KEY) && !text.contains("demo-key"),
        "no key in metrics"
    );
}

#[tokio::test]
async fn readyz_follows_the_upstream_and_healthz_does_not() {
    let h = start().await;
    let ready = reqwest::get(format!("{}/readyz", base(&h.mcp_url)))
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.text().await.unwrap(), "ready\nilert: reachable\n");

    // A server whose ilert is a closed port: alive, not ready.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let shared = Arc::new(Toolbox::new(
        fast_client(&format!("http://127.0.0.1:{port}/api")),
        "https://app.ilert.com",
        None,
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = CancellationToken::new();
    tokio::spawn(http::serve(
        listener,
        http::router(shared, Arc::new(Catalogue::full()), &HttpConfig::default()),
        stop.clone(),
    ));
    assert_eq!(
        reqwest::get(format!("http://{addr}/healthz"))
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        reqwest::get(format!("http://{addr}/readyz"))
            .await
            .unwrap()
            .status(),
        503
    );
    stop.cancel();
}

#[tokio::test]
async fn every_mcp_request_carries_a_request_id() {
    let h = start().await;
    let post = |id: Option<&'static str>| {
        let mut request = reqwest::Client::new()
            .post(&h.mcp_url)
            .bearer_auth(USER_KEY)
            .header("accept", "application/json, text/event-stream")
            .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}));
        if let Some(id) = id {
            request = request.header("x-request-id", id);
        }
        request.send()
    };
    let echoed = post(Some("trace-abc.123")).await.unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "trace-abc.123");
    let fresh = post(None).await.unwrap();
    assert!(!fresh.headers()["x-request-id"].is_empty());
    let next = post(None).await.unwrap();
    assert_ne!(
        fresh.headers()["x-request-id"],
        next.headers()["x-request-id"],
        "each request gets its own id"
    );
    let hostile = post(Some("a b\"c")).await.unwrap();
    assert_ne!(
        hostile.headers()["x-request-id"],
        "a b\"c",
        "unsafe ids are replaced"
    );
}

#[tokio::test]
async fn completions_offer_real_ids_and_zones() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    let zones = client
        .complete(CompleteRequestParams::new(
            Reference::for_prompt("handover"),
            ArgumentInfo::new("timezone", "tokyo"),
        ))
        .await
        .unwrap();
    assert_eq!(zones.completion.values, vec!["Asia/Tokyo".to_owned()]);
    let incidents = client
        .complete(CompleteRequestParams::new(
            Reference::for_prompt("status_update"),
            ArgumentInfo::new("incident_id", ""),
        ))
        .await
        .unwrap();
    assert!(
        incidents.completion.values.contains(&"9004".to_owned()),
        "{:?}",
        incidents.completion.values
    );
    let alerts = client
        .complete(CompleteRequestParams::new(
            Reference::for_resource("ilert://alerts/{id}"),
            ArgumentInfo::new("id", "47"),
        ))
        .await
        .unwrap();
    let open = alert_ids(&h.sandbox_url, "PENDING").await;
    assert!(
        alerts
            .completion
            .values
            .iter()
            .any(|v| open.contains(&v.parse().unwrap()))
    );
}

#[tokio::test]
async fn logging_level_is_accepted_and_missing_resources_name_their_uri() {
    let h = start().await;
    let rpc = |body: Value| {
        reqwest::Client::new()
            .post(&h.mcp_url)
            .bearer_auth(USER_KEY)
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", "2025-06-18")
            .json(&body)
            .send()
    };
    let level: Value = rpc(json!({"jsonrpc": "2.0", "id": 1, "method": "logging/setLevel", "params": {"level": "info"}}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(level["result"].is_object(), "{level}");
    let missing: Value = rpc(json!({"jsonrpc": "2.0", "id": 2, "method": "resources/read", "params": {"uri": "ilert://alerts/999999999"}}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(missing["error"]["code"], -32002, "{missing}");
    assert_eq!(missing["error"]["data"]["uri"], "ilert://alerts/999999999");
}

#[tokio::test]
async fn shutdown_lets_a_call_in_flight_finish() {
    // An ilert that takes a second to answer.
    let slow = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/users/current"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_delay(Duration::from_millis(1000))
                .set_body_json(json!({"id": 1, "firstName": "Slow", "lastName": "Upstream"})),
        )
        .mount(&slow)
        .await;
    let shared = Arc::new(Toolbox::new(
        fast_client(&format!("{}/api", slow.uri())),
        "https://app.ilert.com",
        None,
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    let stop = CancellationToken::new();
    let server = tokio::spawn(http::serve(
        listener,
        http::router(shared, Arc::new(Catalogue::full()), &HttpConfig::default()),
        stop.clone(),
    ));
    let in_flight = tokio::spawn({
        let url = url.clone();
        async move {
            reqwest::Client::new()
                .post(&url)
                .bearer_auth("any-key")
                .header("accept", "application/json, text/event-stream")
                .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "get_current_user", "arguments": {}}}))
                .send()
                .await
        }
    });
    // The key check itself waits on the slow ilert; shut down while the request is inside.
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.cancel();
    let answer: Value = in_flight
        .await
        .unwrap()
        .expect("the in-flight request is answered")
        .json()
        .await
        .unwrap();
    assert_eq!(
        answer["result"]["structuredContent"]["name"], "Slow Upstream",
        "{answer}"
    );
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the server stops after draining")
        .unwrap()
        .unwrap();
    assert!(
        reqwest::get(url.replace("/mcp", "/healthz")).await.is_err(),
        "no new connections after shutdown"
    );
}

/// `ilert-mcp serve` against the harness's sandbox, on a port of its choosing; returns the child,
/// its base URL and a task collecting the rest of its stderr.
async fn spawn_serve(
    sandbox_url: &str,
    drain_secs: u32,
) -> (
    tokio::process::Child,
    String,
    tokio::task::JoinHandle<Vec<u8>>,
) {
    use std::process::Stdio;
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
    let mut child = traced(&mut tokio::process::Command::new(env!(
        "CARGO_BIN_EXE_ilert-mcp"
    )))
    .args([
        "serve",
        "--bind",
        "127.0.0.1:0",
        "--no-oauth",
        "--ilert-url",
    ])
    .arg(sandbox_url)
    .args(["--drain-secs", &drain_secs.to_string()])
    .env("NO_COLOR", "1")
    .stdout(Stdio::null())
    .stderr(Stdio::piped())
    .kill_on_drop(true)
    .spawn()
    .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = Vec::new();
    let base = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let mut line = String::new();
            assert!(
                stderr.read_line(&mut line).await.unwrap() > 0,
                "serve exited early"
            );
            seen.extend_from_slice(line.as_bytes());
            if let Some(at) = line.find("serving MCP on http://") {
                let url = &line[at + "serving MCP on ".len()..];
                return url[..url.find("/mcp").unwrap()].to_owned();
            }
        }
    })
    .await
    .expect("serve announces its address");
    let rest = tokio::spawn(async move {
        let _ = stderr.read_to_end(&mut seen).await;
        seen
    });
    (child, base, rest)
}

fn send_sigterm(child: &tokio::process::Child) {
    let pid = child.id().expect("still running").to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Polls `/readyz` until it answers 503, for at most 5 s; returns the body.
async fn readyz_goes_down(base: &str) -> String {
    for _ in 0..50 {
        let answer = reqwest::get(format!("{base}/readyz")).await.unwrap();
        if answer.status() == 503 {
            return answer.text().await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("/readyz still answers 200 after SIGTERM");
}

#[tokio::test]
async fn sigterm_fails_readiness_and_keeps_serving_for_the_drain_time() {
    let h = start().await;
    let (mut child, base, rest) = spawn_serve(&h.sandbox_url, 3).await;
    let ready = reqwest::get(format!("{base}/readyz")).await.unwrap();
    assert_eq!(ready.status(), 200, "{}", ready.text().await.unwrap());

    let signalled = std::time::Instant::now();
    send_sigterm(&child);
    let body = readyz_goes_down(&base).await;
    assert!(body.starts_with("not ready\ndraining"), "{body}");
    // Still serving calls while the balancer takes it out of rotation.
    let answer: Value = reqwest::Client::new()
        .post(format!("{base}/mcp"))
        .bearer_auth(USER_KEY)
        .header("accept", "application/json, text/event-stream")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "get_current_user", "arguments": {}}}))
        .send()
        .await
        .expect("calls are served while draining")
        .json()
        .await
        .unwrap();
    assert_eq!(
        answer["result"]["structuredContent"]["name"], "Jonas Weber",
        "{answer}"
    );
    let status = tokio::time::timeout(Duration::from_secs(15), child.wait())
        .await
        .expect("serve exits after the drain time")
        .unwrap();
    let waited = signalled.elapsed();
    keep("child.stderr", &rest.await.unwrap());
    assert!(status.success(), "{status}");
    assert!(
        waited >= Duration::from_millis(2500),
        "stopped after {waited:?}, before the 3 s drain time"
    );
}

#[tokio::test]
async fn a_second_signal_ends_the_drain_at_once() {
    let h = start().await;
    let (mut child, base, rest) = spawn_serve(&h.sandbox_url, 600).await;
    send_sigterm(&child);
    readyz_goes_down(&base).await;
    send_sigterm(&child);
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("a second signal stops serve well before the 600 s drain time")
        .unwrap();
    keep("child.stderr", &rest.await.unwrap());
    assert!(status.success(), "{status}");
}

#[tokio::test]
async fn metrics_show_the_upstream_budget_in_total_never_by_key() {
    let h = start().await;
    let client = ilert_mcp::ilert_client(&h.sandbox_url, 5, 3).unwrap();
    let (user, admin) = (
        ilert_client::ApiKey::new(USER_KEY).unwrap(),
        ilert_client::ApiKey::new(STAKEHOLDER_KEY).unwrap(),
    );
    for _ in 0..3 {
        client.session(user.clone()).current_user().await.unwrap();
    }
    assert!(client.session(user).current_user().await.is_err(), "4th");
    client.session(admin).current_user().await.unwrap();
    let text = ilert_mcp::observe::metrics::global().render();
    for line in [
        "ilert_mcp_upstream_budget_per_key 3\n",
        "ilert_mcp_upstream_budget_used 4\n",
        "ilert_mcp_upstream_budget_active_keys 2\n",
        "ilert_mcp_upstream_budget_exhausted_keys 1\n",
    ] {
        assert!(text.contains(line), "{line} in {text}");
    }
    assert!(!text.contains(USER_KEY) && !text.contains(STAKEHOLDER_KEY));
}
