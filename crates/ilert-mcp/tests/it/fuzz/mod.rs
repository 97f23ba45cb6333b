//! Fuzzing `/mcp` over real HTTP with proptest: mutated and hostile JSON-RPC bodies and headers, and
//! random or type-mutated arguments for every tool. Every request must be answered in time with an
//! expected status and, where the body is JSON-RPC, a proper error code and message; tool calls end
//! in a readable tool error or a result matching the tool's output schema; and the server keeps
//! serving afterwards.
//!
//! `FUZZ_CASES` sets the cases per target (small by default, so `scripts/test` stays quick);
//! `FUZZ_CASES=20000 cargo nextest run -p ilert-mcp fuzz` is a longer run. Seeds are random per
//! run; a failure is shrunk, printed and its seed kept in `tests/proptest-regressions/fuzz/`, which
//! is replayed first on every later run (`PROPTEST_RNG_SEED` pins the seed of a whole run).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestRunner};
use serde_json::{Value, json};

use crate::common::*;

mod bodies;
mod tools;

/// The longest a single answer may take; more counts as a hang.
const ANSWER_WITHIN: Duration = Duration::from_secs(10);
/// The server's default body limit (`HttpConfig::default().max_body_bytes`).
const LIMIT: usize = 1024 * 1024;
const KNOWN_VERSIONS: [&str; 4] = ["2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28"];
const MODERN: &str = "2026-07-28";
const BOTH: &str = "application/json, text/event-stream";

fn meta() -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientInfo": {"name": "fuzz", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": {}
    })
}

/// Cases per target: `FUZZ_CASES`, else `default`. Failures persist next to `source_file`.
fn runner(source_file: &'static str, default: u32) -> TestRunner {
    let cases = std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default);
    TestRunner::new(Config {
        cases,
        source_file: Some(source_file),
        failure_persistence: Some(Box::new(FileFailurePersistence::default())),
        // Each case is an HTTP round trip: keep shrinking bounded.
        max_shrink_iters: 512,
        max_shrink_time: 120_000,
        ..Config::default()
    })
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Runs `runner` over `strategy`, each case on `rt`, and fails the test with the shrunk case.
fn fuzz<S: Strategy>(
    mut runner: TestRunner,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) where
    S::Value: fmt::Debug,
{
    if let Err(e) = runner.run(&strategy, test) {
        panic!("{e}");
    }
}

/// What the cases came to, printed at the end (`--no-capture`) to show the fuzzing reaches past
/// the first checks.
#[derive(Default)]
struct Tally(Mutex<BTreeMap<String, u32>>);

impl Tally {
    fn add(&self, outcome: String) {
        if let Ok(mut counts) = self.0.lock() {
            *counts.entry(outcome).or_default() += 1;
        }
    }

    fn print(&self, target: &str) {
        if let Ok(counts) = self.0.lock() {
            eprintln!("{target}: {counts:?}");
        }
    }
}

// --- strategies: JSON values and strings -------------------------------------------------

fn words() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "\\PC{0,24}",
        2 => "[a-z_/]{0,16}",
        1 => select(vec![
            "", " ", "\u{0}", "\u{feff}", "\u{202e}evil", "😀🔥", "\\", "\"", "null", "NaN",
            "now", "2026-11-28", "2026-11-28 09:00", "9999-12-31T23:59:59-23:59",
            "0000-01-01T00:00:00+23:59", "2026-03-29 02:30", "Asia/Tokyo", "Mars/Olympus",
            "Europe/Berlin", "Maya Chen", "maya", "Platform", "Checkout", "#4711", "4711", "-1",
            "0", "99999999999999999999", "1e309", "'; DROP TABLE alerts; --", "../../etc/passwd",
            "%00%ff", "<script>alert(1)</script>", "PENDING", "ACCEPTED", "RESOLVED",
        ])
        .prop_map(str::to_owned),
    ]
}

fn number() -> impl Strategy<Value = Value> {
    use proptest::num::f64;
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-5i64..200_000).prop_map(Value::from),
        select(vec![i64::MIN, i64::MAX, 0, -1, 1, i64::from(i32::MAX) + 1]).prop_map(Value::from),
        (f64::POSITIVE | f64::NEGATIVE | f64::NORMAL | f64::SUBNORMAL | f64::ZERO)
            .prop_filter_map("finite", |f| serde_json::Number::from_f64(f)
                .map(Value::Number)),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        number(),
        words().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(words(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Values a well-behaved client would not send for any argument.
fn hostile() -> BoxedStrategy<Value> {
    prop_oneof![
        3 => json_value(),
        1 => (1usize..200_000).prop_map(|n| Value::from("x".repeat(n))),
        1 => ("\\PC{1,8}", 1usize..5_000).prop_map(|(s, n)| Value::from(s.repeat(n))),
        1 => (0usize..100_000).prop_map(|n| Value::Array((0..n).map(|i| Value::from(i as i64 - 3)).collect())),
        1 => (0usize..20_000).prop_map(|n| Value::Array(vec![Value::from("4711"); n])),
        1 => number(),
    ]
    .boxed()
}

// --- cases -------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Wire {
    /// No protocol header: a 2025-03-26 client.
    Bare,
    /// `MCP-Protocol-Version` of the 2025 eras.
    Legacy(&'static str),
    /// 2026-07-28 with `Mcp-Method` (and `Mcp-Name`) headers and request `_meta`.
    Modern,
    /// A version header no server knows.
    Unknown,
}

/// A raw request to `/mcp`.
#[derive(Clone)]
struct Post {
    what: &'static str,
    wire: Wire,
    accept: Option<&'static str>,
    content_type: Option<&'static str>,
    /// `Mcp-Method`/`Mcp-Name` header values, when sent.
    method_header: Option<String>,
    name_header: Option<String>,
    body: Vec<u8>,
}

impl Post {
    /// Headers a conforming client sends (the body may still be anything).
    fn headers_ok(&self) -> bool {
        self.wire != Wire::Unknown
            && self.accept == Some(BOTH)
            && self
                .content_type
                .is_some_and(|c| c.starts_with("application/json"))
    }
}

impl fmt::Debug for Post {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Post")
            .field("what", &self.what)
            .field("wire", &self.wire)
            .field("accept", &self.accept)
            .field("content_type", &self.content_type)
            .field("method_header", &self.method_header)
            .field("name_header", &self.name_header)
            .field("len", &self.body.len())
            .field("body", &abbreviate(&self.body))
            .finish()
    }
}

fn abbreviate(bytes: &[u8]) -> String {
    const KEEP: usize = 400;
    let text = String::from_utf8_lossy(bytes.get(..KEEP.min(bytes.len())).unwrap_or(bytes));
    if bytes.len() > KEEP {
        format!("{text}... ({} more bytes)", bytes.len() - KEEP)
    } else {
        text.into_owned()
    }
}

// --- sending and judging -----------------------------------------------------------------

struct Answer {
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

async fn send(url: &str, key: &str, post: &Post) -> Result<Answer, TestCaseError> {
    let mut request = reqwest::Client::new()
        .post(url)
        .bearer_auth(key)
        .body(post.body.clone());
    if let Some(accept) = post.accept {
        request = request.header("accept", accept);
    }
    if let Some(content_type) = post.content_type {
        request = request.header("content-type", content_type);
    }
    match post.wire {
        Wire::Bare => {}
        Wire::Legacy(v) => request = request.header("mcp-protocol-version", v),
        Wire::Modern => request = request.header("mcp-protocol-version", MODERN),
        Wire::Unknown => request = request.header("mcp-protocol-version", "1999-01-01"),
    }
    // Header values a client could not send are left out rather than failing the case.
    for (name, value) in [
        ("mcp-method", &post.method_header),
        ("mcp-name", &post.name_header),
    ] {
        if let Some(value) = value
            && http::HeaderValue::from_str(value).is_ok()
        {
            request = request.header(name, value.as_str());
        }
    }
    let exchange = async {
        let response = request.send().await?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let body = response.bytes().await?.to_vec();
        Ok::<_, reqwest::Error>(Answer {
            status,
            content_type,
            body,
        })
    };
    match tokio::time::timeout(ANSWER_WITHIN, exchange).await {
        Err(_) => Err(TestCaseError::fail(format!(
            "no answer within {ANSWER_WITHIN:?}"
        ))),
        Ok(Err(e)) => Err(TestCaseError::fail(format!(
            "the connection failed instead of an HTTP answer: {e}"
        ))),
        Ok(Ok(answer)) => Ok(answer),
    }
}

/// A JSON-RPC error object: an integer code and a message. (rmcp's own "method not found" errors
/// carry just the method's name, e.g. `ping` in the 2026-07-28 era; with -32601 that is enough.)
fn check_error(error: &Value) -> Result<i64, TestCaseError> {
    let code = error["code"]
        .as_i64()
        .ok_or_else(|| TestCaseError::fail(format!("error without an integer code: {error}")))?;
    let message = error["message"].as_str().unwrap_or("");
    prop_assert!(
        !message.trim().is_empty(),
        "error {code} without a message: {error}"
    );
    Ok(code)
}

fn check_answer(post: &Post, answer: &Answer) -> Result<(), TestCaseError> {
    let status = answer.status;
    prop_assert!(
        [200, 202, 400, 404, 406, 413, 415].contains(&status),
        "unexpected HTTP {status}: {}",
        abbreviate(&answer.body)
    );
    prop_assert_eq!(
        status == 413,
        post.body.len() > LIMIT,
        "413 exactly when the body exceeds {} bytes (HTTP {})",
        LIMIT,
        status
    );
    prop_assert!(
        std::str::from_utf8(&post.body).is_ok() || status >= 400,
        "a body that is not UTF-8 was taken (HTTP {status})"
    );
    if status == 202 {
        prop_assert!(answer.body.is_empty(), "a 202 has no body");
        return Ok(());
    }
    let parsed: Option<Value> = serde_json::from_slice(&answer.body).ok();
    let Some(message) = parsed else {
        // Plain text is only for requests whose headers were wrong (415, 406, a bad version).
        prop_assert!(
            !post.headers_ok(),
            "HTTP {status} with a body that is not JSON for a well-formed request: {}",
            abbreviate(&answer.body)
        );
        prop_assert!(
            !answer.body.is_empty() && std::str::from_utf8(&answer.body).is_ok(),
            "HTTP {status} with an empty or binary body"
        );
        return Ok(());
    };
    prop_assert!(
        answer.content_type.starts_with("application/json"),
        "JSON answered as {:?}",
        answer.content_type
    );
    prop_assert_eq!(&message["jsonrpc"], "2.0", "not JSON-RPC: {}", message);
    // An answer that names an id names the request's.
    let sent: Value = serde_json::from_slice(&post.body).unwrap_or_default();
    let id = &sent["id"];
    if (id.is_string() || id.is_i64()) && !message["id"].is_null() {
        prop_assert_eq!(&message["id"], id, "the answer's id is not the request's");
    }
    match (&message["result"], &message["error"]) {
        (Value::Null, Value::Null) => prop_assert!(false, "neither result nor error: {message}"),
        (_, Value::Null) => prop_assert_eq!(status, 200, "a result with HTTP {}", status),
        (Value::Null, error) => {
            let code = check_error(error)?;
            prop_assert!(
                (-32768..=-32000).contains(&code),
                "code {code} outside JSON-RPC's reserved range: {message}"
            );
        }
        _ => prop_assert!(false, "both result and error: {message}"),
    }
    Ok(())
}

/// The server still answers a plain tools/list, in both eras.
async fn still_serving(url: &str) {
    for era in [Era::Legacy, Era::Stateless] {
        let client = tokio::time::timeout(ANSWER_WITHIN, connect(url, USER_KEY, era))
            .await
            .expect("the server still accepts clients");
        let tools = tokio::time::timeout(ANSWER_WITHIN, client.list_all_tools())
            .await
            .expect("tools/list answered in time")
            .expect("tools/list works");
        assert!(tools.iter().any(|t| t.name == "list_alerts"));
    }
}
