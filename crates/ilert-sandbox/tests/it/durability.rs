//! What the API acknowledged survives `kill -9`. The sandbox runs as a child process (the
//! crate's small `ilert-sandbox` binary, which Cargo builds for these tests), is killed with
//! SIGKILL mid-traffic, and restarted on the same data directory.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::json;
use tokio::sync::Mutex;

use crate::common::*;

struct Process {
    child: Child,
    base: String,
}

fn spawn(data_dir: &Path) -> Process {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ilert-sandbox"))
        .args(["--bind", "127.0.0.1:0", "--rate-limit", "0", "--data-dir"])
        .arg(data_dir)
        .stdout(Stdio::piped())
        .stderr(crate::capture::file("child.stderr").map_or_else(Stdio::inherit, Stdio::from))
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected: {line}"))
        .to_owned();
    Process { child, base }
}

impl Process {
    /// SIGKILL: no shutdown, no flush, no checkpoint.
    fn kill_9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

async fn send(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    key: Option<&str>,
    body: Option<serde_json::Value>,
) -> Reply {
    let mut req = client.request(method, url);
    if let Some(key) = key {
        req = req.header("Authorization", format!("Bearer {key}"));
    }
    if let Some(body) = body {
        req = req.json(&body);
    }
    reply(req.send().await.unwrap()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_kill_9() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let p = spawn(dir.path());
    let base = p.base.clone();
    use reqwest::Method;
    // What the seed wrote (recent weeks and, in the binary, the history), counted before writing.
    let seeded = send(
        &client,
        Method::GET,
        format!("{base}/api/alerts/count"),
        Some("demo-key-admin"),
        None,
    )
    .await
    .body["count"]
        .as_i64()
        .unwrap();

    // A few acknowledged writes of different kinds, then SIGKILL right after the answers.
    let r = send(
        &client,
        Method::PUT,
        format!("{base}/api/alerts/4722/accept"),
        Some(USER),
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    let update = json!({"summary": "Elevated checkout errors", "status": "MONITORING", "message": "Monitoring the failover.",
        "affectedServices": [{"impact": "DEGRADED", "service": {"id": 801}}]});
    let r = send(
        &client,
        Method::PUT,
        format!("{base}/api/incidents/9004"),
        Some(RESPONDER),
        Some(update),
    )
    .await;
    assert_eq!(r.status, 200);
    let r = send(
        &client,
        Method::POST,
        format!("{base}/api/teams"),
        Some(USER),
        Some(json!({"name": "Durable"})),
    )
    .await;
    let team = r.body["id"].as_i64().unwrap();

    // And a stream of events, cut off by the kill at an arbitrary point.
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (acknowledged, stop, client, base) = (
            acknowledged.clone(),
            stop.clone(),
            client.clone(),
            base.clone(),
        );
        tokio::spawn(async move {
            for i in 0.. {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let key = format!("durable/{i}");
                let body = json!({"integrationKey": "il1api0460d849fcdc753d4f", "eventType": "ALERT", "summary": "durable", "alertKey": key});
                match client
                    .post(format!("{base}/api/events"))
                    .json(&body)
                    .send()
                    .await
                {
                    Ok(resp) if resp.status() == 202 => acknowledged.lock().await.push(key),
                    _ => break,
                }
            }
        })
    };
    // Kill once the stream is flowing, wherever it happens to be.
    for _ in 0..200 {
        if acknowledged.lock().await.len() >= 20 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    p.kill_9();
    stop.store(true, Ordering::Relaxed);
    writer.await.unwrap();
    let acknowledged = acknowledged.lock().await.clone();
    assert!(
        acknowledged.len() > 5,
        "the stream ran: {}",
        acknowledged.len()
    );

    let p = spawn(dir.path());
    let base = p.base.clone();
    let get = |path: &str| {
        send(
            &client,
            Method::GET,
            format!("{base}/api{path}"),
            Some(ADMIN),
            None,
        )
    };
    assert_eq!(get("/alerts/4722").await.body["status"], "ACCEPTED");
    let incident = get("/incidents/9004?include=history").await.body;
    assert_eq!(incident["status"], "MONITORING");
    assert_eq!(
        incident["history"].as_array().unwrap().last().unwrap()["content"],
        "Monitoring the failover."
    );
    assert_eq!(get("/services/801").await.body["status"], "DEGRADED");
    assert_eq!(get(&format!("/teams/{team}")).await.body["name"], "Durable");
    let mut keys: Vec<String> = Vec::new();
    for page in 0.. {
        let alerts = get(&format!(
            "/alerts?sources=202543&max-results=100&start-index={}",
            page * 100
        ))
        .await
        .body;
        if alerts.as_array().unwrap().is_empty() {
            break;
        }
        keys.extend(
            alerts
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|a| a["alertKey"].as_str().map(str::to_owned)),
        );
    }
    for key in &acknowledged {
        assert!(keys.contains(key), "acknowledged event {key} was lost");
    }
    // Not reseeded: the seed's alerts are still there alongside the new ones (plus at most the
    // one event that was committed but not yet answered when the process died).
    let count = get("/alerts/count").await.body["count"].as_i64().unwrap();
    let expected = seeded + acknowledged.len() as i64;
    assert!(
        (expected..=expected + 1).contains(&count),
        "{count} alerts, {expected} expected"
    );
    p.kill_9();
}
