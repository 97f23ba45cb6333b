//! Tool arguments: for every tool, objects built from its input schema with each property left
//! out, well-formed or hostile (wrong types, huge strings and arrays, extreme numbers, unicode), and
//! sometimes no object at all, sent as four roles in both protocol eras.

use std::collections::BTreeMap;

use ilert_mcp::calls::catalogue::Catalogue;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::Union;
use serde_json::{Map, Value, json};

use super::*;

// --- strategies: tool arguments from the input schema -------------------------------------

/// Strings fitting an argument's name, so well-formed calls get past the first check.
fn string_for(name: &str, ids: &Ids) -> BoxedStrategy<Value> {
    let plausible: Vec<String> = match name {
        "from" | "until" | "start" | "end" | "at" => vec![
            "now",
            "2026-11-28",
            "2026-11-28 09:00",
            "2026-11-28T09:00:00Z",
            "2024-01-01T00:00:00+14:00",
            "9999-12-31T23:59:59-23:59",
            "0001-01-01T00:00:00Z",
            "tomorrow",
        ]
        .into_iter()
        .map(str::to_owned)
        .collect(),
        "timezone" => [
            "UTC",
            "Asia/Tokyo",
            "Europe/Berlin",
            "Etc/GMT+12",
            "Mars/Olympus",
        ]
        .map(str::to_owned)
        .to_vec(),
        "id" => ids.all().map(|i| format!("alert:{i}")).collect(),
        _ => ids.names.clone(),
    };
    prop_oneof![
        3 => select(plausible).prop_map(Value::from),
        2 => words().prop_map(Value::from),
    ]
    .boxed()
}

/// Every id and name the sandbox holds, so some calls find real objects.
#[derive(Clone, Debug, Default)]
struct Ids {
    alerts: Vec<i64>,
    incidents: Vec<i64>,
    names: Vec<String>,
}

impl Ids {
    fn all(&self) -> impl Iterator<Item = i64> + '_ {
        self.alerts.iter().chain(&self.incidents).copied()
    }
}

fn valid_for(name: &str, schema: &Value, ids: &Ids) -> BoxedStrategy<Value> {
    if let Some(options) = schema["enum"].as_array().filter(|o| !o.is_empty()) {
        return select(options.clone()).boxed();
    }
    let kind = match &schema["type"] {
        Value::String(t) => t.as_str(),
        Value::Array(types) => types.iter().find_map(|t| t.as_str()).unwrap_or("null"),
        _ => "any",
    };
    match kind {
        "integer" | "number" => {
            let ids: Vec<i64> = ids.all().chain([1, 2, 9004]).collect();
            let low = schema["minimum"].as_i64().unwrap_or(-10);
            let high = schema["maximum"].as_i64().unwrap_or(1_000_000).max(low);
            prop_oneof![select(ids), low..=high]
                .prop_map(Value::from)
                .boxed()
        }
        "string" => string_for(name, ids),
        "boolean" => any::<bool>().prop_map(Value::from).boxed(),
        "array" => {
            let max = schema["maxItems"].as_u64().unwrap_or(4) as usize + 2;
            prop::collection::vec(valid_for(name, &schema["items"], ids), 0..max)
                .prop_map(Value::Array)
                .boxed()
        }
        "object" => prop::collection::btree_map("[a-z]{1,8}", words(), 0..4)
            .prop_map(|m| json!(m))
            .boxed(),
        _ => json_value().boxed(),
    }
}

/// An argument object: each property left out, well-formed, or hostile, plus sometimes a stray one.
fn arguments_for(input_schema: &Value, ids: &Ids) -> BoxedStrategy<Value> {
    let properties: Vec<BoxedStrategy<Option<(String, Value)>>> = input_schema["properties"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, schema)| {
            let name = name.clone();
            let (a, b) = (name.clone(), name.clone());
            prop_oneof![
                2 => Just(None),
                6 => valid_for(&name, schema, ids).prop_map(move |v| Some((a.clone(), v))),
                2 => hostile().prop_map(move |v| Some((b.clone(), v))),
            ]
            .boxed()
        })
        .collect();
    let stray = prop::option::weighted(0.1, ("[a-z_]{1,10}", json_value()));
    let object = (properties, stray).prop_map(|(fields, stray)| {
        let mut map: Map<String, Value> = fields.into_iter().flatten().collect();
        if let Some((k, v)) = stray {
            map.entry(k).or_insert(v);
        }
        Value::Object(map)
    });
    prop_oneof![8 => object, 1 => json_value()].boxed()
}

// --- tool arguments ----------------------------------------------------------------------

#[derive(Clone)]
struct ToolCall {
    tool: String,
    modern: bool,
    key: &'static str,
    arguments: Value,
}

impl fmt::Debug for ToolCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let arguments = serde_json::to_vec(&self.arguments).unwrap_or_default();
        write!(
            f,
            "{} ({}, {}) {}",
            self.tool,
            if self.modern { MODERN } else { "2025-06-18" },
            self.key,
            abbreviate(&arguments)
        )
    }
}

fn tool_call(ids: &Ids) -> impl Strategy<Value = ToolCall> {
    let per_tool: Vec<BoxedStrategy<(String, Value)>> = Catalogue::full()
        .tools()
        .into_iter()
        .map(|tool| {
            let name = tool.name.to_string();
            let schema = Value::Object((*tool.input_schema).clone());
            arguments_for(&schema, ids)
                .prop_map(move |args| (name.clone(), args))
                .boxed()
        })
        .collect();
    // Mostly a user who may write; sometimes every other role, for the refusals.
    let key = prop_oneof![
        6 => Just(USER_KEY),
        1 => select(vec!["demo-key-admin", "demo-key-responder", STAKEHOLDER_KEY]),
    ];
    (Union::new(per_tool), any::<bool>(), key).prop_map(|((tool, arguments), modern, key)| {
        ToolCall {
            tool,
            modern,
            key,
            arguments,
        }
    })
}

fn tool_post(call: &ToolCall) -> Post {
    let mut params = json!({"name": call.tool, "arguments": call.arguments});
    if call.modern {
        params["_meta"] = meta();
    }
    let message = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params});
    Post {
        what: "tool call",
        wire: if call.modern {
            Wire::Modern
        } else {
            Wire::Legacy("2025-06-18")
        },
        accept: Some(BOTH),
        content_type: Some("application/json"),
        method_header: call.modern.then(|| "tools/call".to_owned()),
        name_header: call.modern.then(|| call.tool.clone()),
        body: serde_json::to_vec(&message).unwrap_or_default(),
    }
}

type Validators = BTreeMap<String, jsonschema::Validator>;

fn output_validators() -> Validators {
    Catalogue::full()
        .tools()
        .into_iter()
        .map(|tool| {
            let schema = Value::Object(tool.output_schema.as_deref().cloned().unwrap_or_default());
            (
                tool.name.to_string(),
                jsonschema::validator_for(&schema).unwrap(),
            )
        })
        .collect()
}

fn check_tool_answer(
    call: &ToolCall,
    answer: &Answer,
    validators: &Validators,
) -> Result<(), TestCaseError> {
    let post = tool_post(call);
    check_answer(&post, answer)?;
    if post.body.len() > LIMIT {
        return Ok(());
    }
    let message: Value = serde_json::from_slice(&answer.body)
        .map_err(|e| TestCaseError::fail(format!("not JSON: {e}")))?;
    if let Some(error) = message.get("error") {
        // Only a malformed call itself (not its arguments' content) is a protocol error.
        let code = check_error(error)?;
        prop_assert!(
            code == -32602 || code == -32600,
            "tools/call answered with code {code}: {message}"
        );
        return Ok(());
    }
    let result = &message["result"];
    let text: Vec<&str> = result["content"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["text"].as_str())
        .collect();
    if result["isError"] == true {
        prop_assert!(
            text.iter().any(|t| t.trim().len() >= 8),
            "a tool error without a readable message: {result}"
        );
        return Ok(());
    }
    let structured = &result["structuredContent"];
    prop_assert!(structured.is_object(), "no structuredContent: {result}");
    let validator = validators
        .get(&call.tool)
        .ok_or_else(|| TestCaseError::fail("unknown tool answered"))?;
    let errors: Vec<String> = validator
        .iter_errors(structured)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    prop_assert!(
        errors.is_empty(),
        "structuredContent does not match the outputSchema: {errors:?}"
    );
    Ok(())
}

fn outcome(answer: &Answer) -> String {
    let message: Value = serde_json::from_slice(&answer.body).unwrap_or_default();
    if let Some(code) = message["error"]["code"].as_i64() {
        format!("error {code}")
    } else if message["result"]["isError"] == true {
        let text = message["result"]["content"][0]["text"]
            .as_str()
            .unwrap_or("");
        let head: String = text
            .split([':', '.'])
            .next()
            .unwrap_or("")
            .chars()
            .take(40)
            .collect();
        format!("tool error: {head}")
    } else {
        format!("HTTP {} ok", answer.status)
    }
}

async fn sandbox_ids(h: &Harness) -> Ids {
    let mut alerts = Vec::new();
    for state in ["PENDING", "ACCEPTED", "RESOLVED"] {
        alerts.extend(alert_ids(&h.sandbox_url, state).await);
    }
    let get = |path: &'static str| {
        reqwest::Client::new()
            .get(format!("{}/{path}", h.sandbox_url))
            .bearer_auth(USER_KEY)
            .send()
    };
    let incidents: Value = get("incidents").await.unwrap().json().await.unwrap();
    let incidents = incidents
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["id"].as_i64())
        .collect();
    let mut names = Vec::new();
    for path in [
        "users",
        "teams",
        "schedules",
        "escalation-policies",
        "services",
        "alert-sources",
    ] {
        let list: Value = get(path).await.unwrap().json().await.unwrap();
        for item in list.as_array().into_iter().flatten() {
            for field in ["name", "firstName", "email"] {
                if let Some(name) = item[field].as_str() {
                    names.push(name.to_owned());
                }
            }
            if let Some(id) = item["id"].as_i64() {
                names.push(id.to_string());
            }
        }
    }
    Ids {
        alerts,
        incidents,
        names,
    }
}

#[test]
fn tool_arguments_get_tool_errors_or_valid_results() {
    let rt = runtime();
    let h = rt.block_on(start_unbudgeted());
    let ids = rt.block_on(sandbox_ids(&h));
    assert!(!ids.alerts.is_empty() && !ids.names.is_empty(), "{ids:?}");
    let validators = output_validators();
    let tally = Tally::default();
    fuzz(runner(file!(), 256), tool_call(&ids), |call| {
        rt.block_on(async {
            let answer = send(&h.mcp_url, call.key, &tool_post(&call)).await?;
            tally.add(outcome(&answer));
            check_tool_answer(&call, &answer, &validators)
        })
    });
    tally.print("tool calls");
    rt.block_on(still_serving(&h.mcp_url));
}
