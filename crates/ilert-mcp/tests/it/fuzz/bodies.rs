//! JSON-RPC bodies and headers: random bytes, invalid UTF-8, truncated and mutated messages, deep
//! nesting, huge arrays and sizes around the body limit, in every protocol era's headers.

use proptest::prelude::*;
use proptest::sample::{Index, select};
use serde_json::{Map, Value, json};

use super::*;

fn wire() -> impl Strategy<Value = Wire> {
    prop_oneof![
        1 => Just(Wire::Bare),
        3 => select(KNOWN_VERSIONS[..3].to_vec()).prop_map(Wire::Legacy),
        3 => Just(Wire::Modern),
        1 => Just(Wire::Unknown),
    ]
}

const METHODS: [&str; 18] = [
    "initialize",
    "server/discover",
    "ping",
    "tools/list",
    "tools/call",
    "prompts/list",
    "prompts/get",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "completion/complete",
    "logging/setLevel",
    "notifications/initialized",
    "notifications/cancelled",
    "resources/subscribe",
    "sampling/createMessage",
    "no/such/method",
    "",
];

fn method() -> impl Strategy<Value = Value> {
    prop_oneof![
        6 => select(METHODS.to_vec()).prop_map(Value::from),
        1 => words().prop_map(Value::from),
        1 => json_value(),
    ]
}

/// A message's fields, each maybe missing, maybe the wrong type.
fn envelope() -> impl Strategy<Value = Value> {
    let jsonrpc = prop_oneof![8 => Just(Some(json!("2.0"))), 1 => Just(None), 1 => json_value().prop_map(Some)];
    let id = prop_oneof![
        4 => any::<i32>().prop_map(|i| Some(json!(i))),
        2 => "[a-z0-9-]{0,12}".prop_map(|s| Some(json!(s))),
        2 => Just(None),
        1 => json_value().prop_map(Some),
    ];
    let params = prop_oneof![
        2 => Just(None),
        3 => prop::collection::btree_map(
            select(vec!["name", "arguments", "uri", "level", "protocolVersion", "capabilities",
                        "clientInfo", "cursor", "ref", "argument", "_meta", "requestId"]),
            json_value(),
            0..4,
        )
        .prop_map(|m| Some(json!(m))),
        1 => json_value().prop_map(Some),
    ];
    let result = prop::option::weighted(0.05, json_value());
    (jsonrpc, id, method(), params, result).prop_map(|(jsonrpc, id, method, params, result)| {
        let mut m = Map::new();
        let fields = [
            ("jsonrpc", jsonrpc),
            ("id", id),
            ("method", Some(method)),
            ("params", params),
            ("result", result),
        ];
        for (k, v) in fields {
            if let Some(v) = v {
                m.insert(k.to_owned(), v);
            }
        }
        Value::Object(m)
    })
}

/// A message a server should answer normally.
fn valid_message() -> impl Strategy<Value = Value> {
    select(vec![
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
        json!({"jsonrpc": "2.0", "id": "a", "method": "ping"}),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "get_current_user", "arguments": {}}}),
        json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "list_alerts", "arguments": {"limit": 2, "states": ["PENDING"]}}}),
        json!({"jsonrpc": "2.0", "id": 4, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "f", "version": "1"}}}),
        json!({"jsonrpc": "2.0", "id": 5, "method": "server/discover", "params": {}}),
        json!({"jsonrpc": "2.0", "id": 6, "method": "resources/read", "params": {"uri": "ilert://alerts/1"}}),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    ])
}

fn nested(depth: usize, style: u8, closed: bool) -> String {
    let (open, leaf, close) = match style % 3 {
        0 => ("[", "1", "]"),
        1 => ("{\"a\":", "1", "}"),
        _ => ("[{\"a\":", "[]", "}]"),
    };
    let mut s = open.repeat(depth);
    s.push_str(leaf);
    if closed {
        s.push_str(&close.repeat(depth));
    }
    s
}

/// Bodies: random bytes, invalid UTF-8, truncated messages, mutated envelopes, deep nesting, huge
/// arrays, and sizes right around the limit.
/// Each with the message it serializes, when the bytes are exactly that (so `_meta` can be added).
fn body() -> impl Strategy<Value = (&'static str, Option<Value>, Vec<u8>)> {
    let with = |what: &'static str| move |bytes: Vec<u8>| (what, None, bytes);
    prop_oneof![
        2 => prop::collection::vec(any::<u8>(), 0..512).prop_map(with("random bytes")),
        2 => (valid_message(), prop::collection::vec(0x80u8..=0xff, 1..4), any::<Index>())
            .prop_map(|(m, bad, at)| {
                let mut bytes = serde_json::to_vec(&m).unwrap_or_default();
                let at = at.index(bytes.len() + 1);
                bytes.splice(at..at, bad);
                ("invalid utf-8", None, bytes)
            }),
        2 => (valid_message(), any::<Index>()).prop_map(|(m, at)| {
            let mut bytes = serde_json::to_vec(&m).unwrap_or_default();
            bytes.truncate(at.index(bytes.len()));
            ("truncated", None, bytes)
        }),
        6 => envelope().prop_map(|m| ("envelope", Some(m.clone()), serde_json::to_vec(&m).unwrap_or_default())),
        2 => valid_message().prop_map(|m| ("valid", Some(m.clone()), serde_json::to_vec(&m).unwrap_or_default())),
        2 => (1usize..=10_000, any::<u8>(), any::<bool>(), any::<bool>()).prop_map(|(depth, style, closed, top)| {
            let deep = nested(depth, style, closed);
            let text = if top {
                deep
            } else {
                format!(r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"get_alert","arguments":{{"id":{deep}}}}}}}"#)
            };
            ("deep", None, text.into_bytes())
        }),
        1 => (0usize..300_000, select(vec!["accept_alerts", "resolve_alerts", "get_alert", "list_alerts"]))
            .prop_map(|(n, tool)| {
                let ids: Vec<i64> = (1..=n as i64).collect();
                let m = json!({"jsonrpc": "2.0", "id": 9, "method": "tools/call",
                               "params": {"name": tool, "arguments": {"ids": ids, "states": ids}}});
                ("huge array", Some(m.clone()), serde_json::to_vec(&m).unwrap_or_default())
            }),
        1 => (0usize..=64).prop_map(|slack| {
            // A tools/list padded to LIMIT - 32 + slack bytes: 413 exactly when over the limit.
            let head = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"pad":""#;
            let tail = r#""}}"#;
            let pad = (LIMIT - 32 + slack).saturating_sub(head.len() + tail.len());
            let text = format!("{head}{}{tail}", "x".repeat(pad));
            ("around the limit", None, text.into_bytes())
        }),
    ]
}

fn post() -> impl Strategy<Value = Post> {
    let accept = prop_oneof![
        8 => Just(Some(BOTH)),
        1 => select(vec![Some("application/json"), Some("text/event-stream"), Some("*/*"), None]),
    ];
    let content_type = prop_oneof![
        8 => Just(Some("application/json")),
        1 => select(vec![Some("application/json; charset=utf-8"), Some("text/plain"), None]),
    ];
    (body(), wire(), accept, content_type, any::<bool>()).prop_map(
        |((what, message, body), wire, accept, content_type, add_meta)| {
            let mut post = Post {
                what,
                wire,
                accept,
                content_type,
                method_header: None,
                name_header: None,
                body,
            };
            if wire == Wire::Modern
                && let Some(mut message) = message
            {
                if add_meta && let Some(m) = message.as_object_mut() {
                    let params = m.entry("params").or_insert_with(|| json!({}));
                    if let Some(p) = params.as_object_mut() {
                        p.insert("_meta".into(), meta());
                    }
                    post.body = serde_json::to_vec(&message).unwrap_or_default();
                }
                post.method_header = message["method"].as_str().map(str::to_owned);
                post.name_header = message["params"]["name"].as_str().map(str::to_owned);
            }
            post
        },
    )
}

#[test]
fn jsonrpc_bodies_and_headers_get_clear_answers() {
    let rt = runtime();
    let h = rt.block_on(start_unbudgeted());
    let tally = Tally::default();
    fuzz(runner(file!(), 256), post(), |post| {
        rt.block_on(async {
            let answer = send(&h.mcp_url, USER_KEY, &post).await?;
            tally.add(format!("{} {}", post.what, answer.status));
            check_answer(&post, &answer)
        })
    });
    tally.print("bodies");
    rt.block_on(still_serving(&h.mcp_url));
}
