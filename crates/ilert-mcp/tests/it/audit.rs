//! The audit trail of AI actions, read back from its file: one event per write, whatever became of
//! it, naming who, how authenticated, which client, tool and targets, and never a secret.

use std::sync::Arc;

use ilert_mcp::auth::seal::TokenKey;
use ilert_mcp::auth::{ACCESS_PREFIX, Grant, Scope, store};
use ilert_mcp::calls::catalogue::Catalogue;
use ilert_mcp::observe::audit::AuditLog;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::common::*;

const META: &str = r#"{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"Claude","version":"0.9.1"},"io.modelcontextprotocol/clientCapabilities":{}}"#;

/// One `tools/call` over HTTP, as `agent`, with extra `headers`; the HTTP status.
async fn call_as(
    url: &str,
    bearer: &str,
    headers: &[(&str, &str)],
    tool: &str,
    args: Value,
) -> u16 {
    let mut request = reqwest::Client::new()
        .post(url)
        .bearer_auth(bearer)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("user-agent", "audit-test/1.0");
    let mut protocol = "2025-06-18";
    let mut params = json!({"name": tool, "arguments": args});
    for (name, value) in headers {
        if *name == "meta" {
            protocol = "2026-07-28";
            params["_meta"] = serde_json::from_str(value).unwrap();
            request = request
                .header("mcp-method", "tools/call")
                .header("mcp-name", tool);
        } else {
            request = request.header(*name, *value);
        }
    }
    let response = request
        .header("mcp-protocol-version", protocol)
        .json(&json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": params}))
        .send()
        .await
        .unwrap();
    response.status().as_u16()
}

fn key_prefix(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()[..12]
        .to_owned()
}

async fn current_user(sandbox: &str, key: &str) -> Value {
    reqwest::Client::new()
        .get(format!("{sandbox}/users/current"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn every_write_leaves_one_event_and_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let audit = Arc::new(AuditLog::open(&path, true).unwrap());
    let (h, oauth) = start_oauth_configured(
        &TokenKey::generate(),
        false,
        Arc::new(store::InMemory::default()),
        Catalogue::full(),
        Some(audit),
        |_| {},
    )
    .await;
    let url = &h.mcp_url;
    let pending = alert_ids(&h.sandbox_url, "PENDING").await;
    let (a, b) = (pending[0], pending[1]);
    let comment = "Rolled back deploy 4512, token=il1api-not-for-the-log";
    let integration_key = "il1int-secret-integration-key-0001";

    // Done, with the client named by the 2026 request metadata.
    let meta = [("meta", META)];
    assert_eq!(
        call_as(url, USER_KEY, &meta, "accept_alerts", json!({"ids": [a]})).await,
        200
    );
    // Done, the client named only by its user agent; free text by length only.
    let args = json!({"id": a, "comment": comment});
    assert_eq!(
        call_as(url, USER_KEY, &[], "comment_on_alert", args).await,
        200
    );
    // A read: no event.
    assert_eq!(
        call_as(url, USER_KEY, &[], "list_alerts", json!({})).await,
        200
    );
    // Refused by this server: the connection is read-only.
    let ro = [("x-mcp-readonly", "true")];
    assert_eq!(
        call_as(url, USER_KEY, &ro, "resolve_alerts", json!({"ids": [b]})).await,
        200
    );
    // Refused by this server: a stakeholder's role makes no changes.
    assert_eq!(
        call_as(
            url,
            STAKEHOLDER_KEY,
            &[],
            "accept_alerts",
            json!({"ids": [b]})
        )
        .await,
        200
    );
    // A secret argument, whatever happens to the call.
    let event =
        json!({"integration_key": integration_key, "event_type": "ALERT", "summary": "disk full"});
    assert_eq!(call_as(url, USER_KEY, &[], "send_event", event).await, 200);
    // Refused at HTTP level: an OAuth grant without alert writes.
    let now = store::now();
    let token = oauth.sealer.seal(
        ACCESS_PREFIX,
        &Grant {
            key: USER_KEY.into(),
            uid: 10002,
            name: "Jonas Weber".into(),
            cid: "https://chatgpt.com/client.json".into(),
            scope: Scope::parse(Some("ilert:alerts:read")),
            aud: oauth.resource.clone(),
            iat: now,
            exp: now + 600,
            jti: "a".into(),
            fam: "f".into(),
        },
    );
    assert_eq!(
        call_as(url, &token, &meta, "resolve_alerts", json!({"ids": [b]})).await,
        403
    );

    let text = std::fs::read_to_string(&path).unwrap();
    crate::capture::keep("audit", text.as_bytes());
    let events: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let tools: Vec<(&str, &str)> = events
        .iter()
        .map(|e| (e["tool"].as_str().unwrap(), e["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(
        tools,
        [
            ("accept_alerts", "done"),
            ("comment_on_alert", "done"),
            ("resolve_alerts", "refused"),
            ("accept_alerts", "refused"),
            ("send_event", "failed"),
            ("resolve_alerts", "refused"),
        ],
        "{text}"
    );

    // Who, by ilert's own account of the keys.
    let user = current_user(&h.sandbox_url, USER_KEY).await;
    let stakeholder = current_user(&h.sandbox_url, STAKEHOLDER_KEY).await;
    for (i, e) in events.iter().enumerate() {
        let owner = if i == 3 { &stakeholder } else { &user };
        assert_eq!(e["user"]["id"], owner["id"], "{e}");
        assert_eq!(e["user"]["email"], owner["email"], "{e}");
        assert!(
            e["request_id"].as_str().is_some_and(|r| !r.is_empty()),
            "{e}"
        );
        assert!(chrono::DateTime::parse_from_rfc3339(e["time"].as_str().unwrap()).is_ok());
    }
    let first = &events[0];
    assert_eq!(
        first["auth"],
        json!({"method": "api_key", "key_sha256_prefix": key_prefix(USER_KEY)})
    );
    assert_eq!(
        first["client"],
        json!({"name": "Claude", "version": "0.9.1"})
    );
    assert_eq!(first["targets"], json!([a]));
    assert_eq!(events[1]["client"], json!({"name": "audit-test/1.0"}));
    assert_eq!(events[1]["targets"], json!([a]));
    assert_eq!(
        events[1]["arguments"]["comment"],
        json!({"text": comment.chars().count()})
    );
    assert_eq!(events[2]["targets"], json!([b]));
    assert!(events[2]["reason"].as_str().unwrap().contains("read-only"));
    assert_eq!(
        events[3]["auth"]["key_sha256_prefix"],
        key_prefix(STAKEHOLDER_KEY)
    );
    let last = &events[5];
    assert_eq!(last["auth"]["method"], "oauth");
    assert_eq!(last["auth"]["client_id"], "https://chatgpt.com/client.json");
    assert_eq!(last["auth"]["scope"], "ilert:alerts:read");
    assert_eq!(last["targets"], json!([b]));
    assert_eq!(last["reason"], "insufficient_scope");
    // Refusals before the confirmation stage say nobody was asked, and why.
    for refused in [&events[2], last] {
        assert_eq!(
            refused["confirmation"],
            json!({"asked": false, "why_not": "refused before any question (selection, read-only or grant)"}),
            "{refused}"
        );
    }
    assert_eq!(
        last["client"],
        json!({"name": "Claude", "version": "0.9.1"})
    );

    // No secret of any kind in the trail.
    for secret in [
        USER_KEY,
        STAKEHOLDER_KEY,
        integration_key,
        comment,
        "il1api",
        "Rolled back",
        &token,
    ] {
        assert!(!text.contains(secret), "{secret:?} is in the audit log");
    }
    // Nothing was lost to the writes above: the alerts are as the events say.
    assert!(!alert_ids(&h.sandbox_url, "PENDING").await.contains(&a));
    assert!(alert_ids(&h.sandbox_url, "PENDING").await.contains(&b));
}

#[tokio::test]
async fn the_audit_log_flags_open_a_file_and_refuse_one_they_cannot() {
    use clap::Parser;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.jsonl");
    let cli = ilert_mcp::commands::cli::Cli::try_parse_from([
        "ilert-mcp",
        "serve",
        "--audit-log",
        path.to_str().unwrap(),
        "--audit-fsync",
        "--attribute-actions",
    ])
    .unwrap();
    let ilert_mcp::commands::cli::Command::Serve(args) = cli.command else {
        unreachable!()
    };
    assert!(args.audit.audit_fsync && args.audit.attribute_actions);
    args.audit.audit_log().unwrap();
    assert!(path.exists());
    let missing = dir.path().join("no/such/dir/a.jsonl");
    let cli = ilert_mcp::commands::cli::Cli::try_parse_from([
        "ilert-mcp",
        "stdio",
        "--audit-log",
        missing.to_str().unwrap(),
    ])
    .unwrap();
    let ilert_mcp::commands::cli::Command::Stdio(args) = cli.command else {
        unreachable!()
    };
    let error = args.audit.audit_log().err().unwrap();
    assert!(error.contains("cannot open the audit log"), "{error}");
}

#[tokio::test]
async fn attribution_notes_alert_actions_in_the_timeline_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let on = Arc::new(
        AuditLog::open(&dir.path().join("a.jsonl"), false)
            .unwrap()
            .with_attribution(true),
    );
    let (h, _) = start_oauth_configured(
        &TokenKey::generate(),
        false,
        Arc::new(store::InMemory::default()),
        Catalogue::full(),
        Some(on),
        |_| {},
    )
    .await;
    let a = alert_ids(&h.sandbox_url, "PENDING").await[0];
    let status = call_as(
        &h.mcp_url,
        USER_KEY,
        &[("meta", META)],
        "accept_alerts",
        json!({"ids": [a]}),
    )
    .await;
    assert_eq!(status, 200);
    // The note is made in the background: look for it in ilert's own log entries, a bounded
    // number of times.
    let entries = |id: i64| {
        let url = format!("{}/alerts/{id}/log-entries", h.sandbox_url);
        async move {
            reqwest::Client::new()
                .get(url)
                .bearer_auth(USER_KEY)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let wanted = "via ilert-mcp from Claude 0.9.1 (accept_alerts)";
    let mut found = false;
    for _ in 0..100 {
        if entries(a).await.contains(wanted) {
            found = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(found, "{}", entries(a).await);

    // Off by default: the harness's own audit log notes nothing.
    let h2 = start().await;
    let b2 = alert_ids(&h2.sandbox_url, "PENDING").await[1];
    assert_eq!(
        call_as(
            &h2.mcp_url,
            USER_KEY,
            &[("meta", META)],
            "accept_alerts",
            json!({"ids": [b2]})
        )
        .await,
        200
    );
    // Let a background note, were there one, land first: the same bounded wait as above.
    for _ in 0..20 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let url = format!("{}/alerts/{b2}/log-entries", h2.sandbox_url);
    let log = reqwest::Client::new()
        .get(url)
        .bearer_auth(USER_KEY)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!log.contains("via ilert-mcp"), "{log}");
}

/// One `tools/call` as a 2026-07-28 client (with elicitation when `ask`), optionally carrying
/// the state and answer of a confirmation; the JSON-RPC result.
async fn call_2026(
    url: &str,
    tool: &str,
    args: &Value,
    ask: bool,
    retry: Option<(&str, &str)>,
) -> Value {
    let caps = if ask {
        json!({"elicitation": {"form": {}}})
    } else {
        json!({})
    };
    let mut params = json!({"name": tool, "arguments": args, "_meta": {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": {"name": "audit-test", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": caps,
    }});
    if let Some((state, action)) = retry {
        params["requestState"] = json!(state);
        params["inputResponses"] = json!({"confirm": {"action": action, "content": {}}});
    }
    let body: Value = reqwest::Client::new()
        .post(url)
        .bearer_auth(USER_KEY)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", tool)
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["result"].clone()
}

/// Issue 23 §5: each write event says whether a person was asked and what they answered (or why
/// nobody was) and the ids it created; a refusal under `--confirm always` is refused, not failed.
#[tokio::test]
async fn events_record_the_confirmation_and_what_was_created() {
    use ilert_mcp::rules::confirm::{Confirmer, Policy};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let audit = Arc::new(AuditLog::open(&path, true).unwrap());
    let confirmer = |policy| {
        Confirmer::new(
            policy,
            &TokenKey::generate(),
            Arc::new(store::InMemory::default()),
        )
    };
    let (h, urls) = start_confirming_audited(
        vec![
            confirmer(Policy::Outward),
            confirmer(Policy::Always),
            confirmer(Policy::Never),
        ],
        Some(audit),
    )
    .await;
    let (outward, always, never) = (&urls[0], &urls[1], &urls[2]);
    // A seeded alert (with an alert key, so ilert takes comments), before any is created here.
    let a = alert_ids(&h.sandbox_url, "PENDING").await[0];
    let args = json!({"summary": "Checkout down", "source": "Grafana"});
    let state = |result: &Value| {
        assert_eq!(result["resultType"], "input_required", "{result}");
        result["requestState"].as_str().unwrap().to_owned()
    };

    // 1. Asked, declined.
    let asked = call_2026(outward, "create_alert", &args, true, None).await;
    let s = state(&asked);
    call_2026(outward, "create_alert", &args, true, Some((&s, "decline"))).await;
    // 2. Asked, accepted: the new alert's id is recorded.
    let asked = call_2026(outward, "create_alert", &args, true, None).await;
    let s = state(&asked);
    let done = call_2026(outward, "create_alert", &args, true, Some((&s, "accept"))).await;
    let created = done["structuredContent"]["alert"]["id"].clone();
    assert!(created.is_i64(), "{done}");
    // 3. The same yes again: its state is refused.
    call_2026(outward, "create_alert", &args, true, Some((&s, "accept"))).await;
    // 4. `always`, a client that cannot ask: refused, not failed.
    let refused = call_2026(always, "create_alert", &args, false, None).await;
    assert_eq!(refused["isError"], true, "{refused}");
    // 5. `never`: nobody asked.
    call_2026(never, "create_alert", &args, true, None).await;
    // 6. `outward`, an internal write: nobody asked.
    let commented = call_2026(
        outward,
        "comment_on_alert",
        &json!({"id": a, "comment": "on it"}),
        true,
        None,
    )
    .await;
    assert_ne!(commented["isError"], true, "{commented}");
    // 7. `outward`, a client that cannot ask: its host's approval applies.
    call_2026(outward, "create_alert", &args, false, None).await;

    let text = std::fs::read_to_string(&path).unwrap();
    let events: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let seen: Vec<(&str, &str, Value)> = events
        .iter()
        .map(|e| {
            (
                e["tool"].as_str().unwrap(),
                e["outcome"].as_str().unwrap(),
                e["confirmation"].clone(),
            )
        })
        .collect();
    let not_asked = |why: &str| json!({"asked": false, "why_not": why});
    assert_eq!(
        seen,
        [
            (
                "create_alert",
                "declined",
                json!({"asked": true, "answer": "declined"})
            ),
            (
                "create_alert",
                "done",
                json!({"asked": true, "answer": "accepted"})
            ),
            (
                "create_alert",
                "refused",
                json!({"asked": true, "answer": "invalid"})
            ),
            (
                "create_alert",
                "refused",
                not_asked(
                    "the client cannot ask a person (no elicitation); the host's own approval applies"
                )
            ),
            (
                "create_alert",
                "done",
                not_asked("--confirm never: this server asks nobody")
            ),
            (
                "comment_on_alert",
                "done",
                not_asked("--confirm outward asks nobody for this write")
            ),
            (
                "create_alert",
                "done",
                not_asked(
                    "the client cannot ask a person (no elicitation); the host's own approval applies"
                )
            ),
        ],
        "{text}"
    );
    assert_eq!(events[1]["created"], json!([created]), "{text}");
    assert!(events[4]["created"][0].is_i64(), "{text}");
    assert_eq!(
        events[3]["reason"],
        "a person must confirm (--confirm always) and the client cannot ask"
    );
    for e in [&events[0], &events[2], &events[3], &events[5]] {
        assert!(e.get("created").is_none(), "{e}");
    }
}
