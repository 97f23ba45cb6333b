//! Starting a sandbox on a random loopback port, and small request helpers.

use std::path::Path;

use ilert_sandbox::{Clock, IncidentModel, Sandbox, SandboxConfig};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const ADMIN: &str = "demo-key-admin";
pub const USER: &str = "demo-key-user";
pub const RESPONDER: &str = "demo-key-responder";
pub const STAKEHOLDER: &str = "demo-key-stakeholder";

pub struct Server {
    pub base: String,
    pub client: reqwest::Client,
    /// The sandbox's clock; moving it makes alerts escalate and shifts change hands.
    pub clock: Clock,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
    _dir: Option<tempfile::TempDir>,
}

pub fn config(dir: &Path) -> SandboxConfig {
    SandboxConfig {
        data_dir: dir.to_path_buf(),
        reset: false,
        rate_limit_per_minute: None,
        // These tests' fixtures are the recent alerts (ids 4695 to 4726).
        history: false,
    }
}

/// A sandbox in a fresh temporary directory.
pub async fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start_with(config(dir.path())).await;
    server._dir = Some(dir);
    server
}

/// A sandbox in a fresh temporary directory that is the given kind of ilert account.
pub async fn start_model(model: IncidentModel) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = Sandbox::open(config(dir.path()))
        .unwrap()
        .with_incident_model(model);
    let mut server = serve(sandbox).await;
    server._dir = Some(dir);
    server
}

pub async fn start_with(config: SandboxConfig) -> Server {
    serve(Sandbox::open(config).unwrap()).await
}

async fn serve(sandbox: Sandbox) -> Server {
    crate::capture::init();
    // reqwest is built without a default TLS provider; plain http still wants one installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let clock = sandbox.clock();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(ilert_sandbox::serve(listener, sandbox, async move {
        let _ = stopped.await;
    }));
    Server {
        base: format!("http://{addr}"),
        client: reqwest::Client::new(),
        clock,
        stop: Some(stop),
        task: Some(task),
        _dir: None,
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Server {
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<&str>,
    ) -> Reply {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(key) = key {
            req = req.header("Authorization", format!("Bearer {key}"));
        }
        if let Some(body) = body {
            req = req
                .header("Content-Type", "application/json")
                .body(body.to_owned());
        }
        reply(req.send().await.unwrap()).await
    }

    pub async fn get(&self, path: &str, key: &str) -> Reply {
        self.request(Method::GET, path, Some(key), None).await
    }

    pub async fn put(&self, path: &str, key: &str) -> Reply {
        self.request(Method::PUT, path, Some(key), None).await
    }

    pub async fn put_json(&self, path: &str, key: &str, body: &Value) -> Reply {
        self.request(Method::PUT, path, Some(key), Some(&body.to_string()))
            .await
    }

    pub async fn post(&self, path: &str, key: &str, body: &Value) -> Reply {
        self.request(Method::POST, path, Some(key), Some(&body.to_string()))
            .await
    }

    pub async fn delete(&self, path: &str, key: &str) -> Reply {
        self.request(Method::DELETE, path, Some(key), None).await
    }

    /// `POST /api/events`, which takes no API key.
    pub async fn event(&self, body: &Value) -> Reply {
        self.request(Method::POST, "/api/events", None, Some(&body.to_string()))
            .await
    }

    /// A request with extra headers.
    pub async fn send_with(
        &self,
        method: Method,
        path: &str,
        key: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("Authorization", format!("Bearer {key}"));
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        if let Some(body) = body {
            req = req
                .header("Content-Type", "application/json")
                .body(body.to_string());
        }
        reply(req.send().await.unwrap()).await
    }

    /// The alert as GET returns it.
    pub async fn alert(&self, id: i64) -> Value {
        self.ok(&format!("/api/alerts/{id}"), ADMIN).await
    }

    /// GET that must succeed; returns the JSON body.
    pub async fn ok(&self, path: &str, key: &str) -> Value {
        let r = self.get(path, key).await;
        assert_eq!(r.status, StatusCode::OK, "GET {path}: {}", r.body);
        r.body
    }

    /// The ids of `GET /api/alerts{query}` in response order.
    pub async fn alert_ids(&self, query: &str) -> Vec<i64> {
        let body = self.ok(&format!("/api/alerts{query}"), ADMIN).await;
        body.as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_i64().unwrap())
            .collect()
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
    }
}

pub async fn reply(resp: reqwest::Response) -> Reply {
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.bytes().await.unwrap();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("non-JSON body ({e}): {}", String::from_utf8_lossy(&bytes)))
    };
    Reply {
        status,
        headers,
        body,
    }
}

/// The user ids of an alert's responders, in order.
pub fn responder_ids(alert: &Value) -> Vec<i64> {
    alert["responders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["user"]["id"].as_i64().unwrap())
        .collect()
}

/// The responder entry of `user_id`.
pub fn responder(alert: &Value, user_id: i64) -> Option<&Value> {
    alert["responders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["user"]["id"] == user_id)
}

/// The ids of an array of objects.
pub fn ids(list: &Value) -> Vec<i64> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_i64().unwrap())
        .collect()
}

pub const MINUTE: std::time::Duration = std::time::Duration::from_secs(60);

/// ilert's error body: exactly `status`, `message` and `code`, with a JSON content type.
pub fn assert_error(r: &Reply, status: u16, code: &str) -> String {
    assert_eq!(r.status.as_u16(), status, "body: {}", r.body);
    let obj = r
        .body
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {}", r.body));
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["code", "message", "status"], "body: {}", r.body);
    assert_eq!(r.body["status"], status);
    assert_eq!(r.body["code"], code);
    let content_type = r.headers["content-type"].to_str().unwrap();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    let message = r.body["message"].as_str().unwrap().to_owned();
    assert!(!message.is_empty());
    message
}
