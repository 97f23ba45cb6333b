//! The hostile corpus (issue 23 §1): every payload of `tests/hostile/corpus.json` is written where
//! third parties write in ilert (alerts through the Events API with only an integration key;
//! names, incidents and comments through the sandbox's REST API), and every read tool is driven
//! over it. For every payload and every answer (text and `structuredContent`):
//!
//! - no control, bidirectional, tag or zero-width character and no ESC reaches the output;
//! - no line of a text answer begins with attacker-controlled text;
//! - no quoted value is longer than its cap, and no flood of blank lines gets through;
//! - no link but an http(s) one survives as a link.
//!
//! What is checked is independent of the server's code: the payloads and the ids come from the
//! corpus and the sandbox's REST API.

use std::collections::BTreeSet;

use rmcp::model::CallToolResult;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::common::*;
use crate::tools_support::*;

/// The Datadog source's integration key: all an attacker needs to write alerts.
pub const INTEGRATION_KEY: &str = "il1dd7f2b19c4e08a36d51c";

/// The longest third-party text the server shows in one piece: alert details
/// (`render::MAX_DETAILS_CHARS`), plus the "…" that marks the cut.
const LONGEST_QUOTE: usize = 2_001;

#[derive(Deserialize)]
struct Corpus {
    payloads: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    id: String,
    class: String,
    text: String,
    #[serde(default)]
    repeat: Option<usize>,
    #[serde(default)]
    prefix: String,
    #[serde(default)]
    suffix: String,
}

/// One hostile payload.
pub struct Payload {
    pub id: String,
    pub class: String,
    pub text: String,
}

/// The corpus, with repeated payloads expanded.
pub fn corpus() -> Vec<Payload> {
    let corpus: Corpus =
        serde_json::from_str(include_str!("../hostile/corpus.json")).expect("corpus.json parses");
    corpus
        .payloads
        .into_iter()
        .map(|e| Payload {
            text: format!(
                "{}{}{}",
                e.prefix,
                e.text.repeat(e.repeat.unwrap_or(1)),
                e.suffix
            ),
            id: e.id,
            class: e.class,
        })
        .collect()
}

/// Characters that must never reach a model or a person from third-party text.
fn forbidden(c: char) -> bool {
    (c.is_control() && c != '\n')
        || matches!(c,
            '\u{00AD}' | '\u{061C}' | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2028}' | '\u{2029}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{E0000}'..='\u{E007F}'
            // Characters that show nothing: variation selectors (a hidden sentence, one byte
            // each), the grapheme joiner, Hangul fillers, the blank Braille pattern, Khmer and
            // Mongolian invisible signs, the object replacement character.
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{E0100}'..='\u{E01EF}'
            | '\u{034F}' | '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' | '\u{2800}'
            | '\u{17B4}' | '\u{17B5}' | '\u{180B}'..='\u{180F}' | '\u{FFFC}')
}

/// How each payload's lines may start once cleaned: no line of the server's text may begin with
/// one of these. Short or generic starts are left out (they would match the server's own words).
fn line_starts(payloads: &[Payload]) -> BTreeSet<String> {
    let mut starts = BTreeSet::new();
    for p in payloads {
        let cleaned: String = p
            .text
            .chars()
            .map(|c| {
                if matches!(
                    c,
                    '\r' | '\u{2028}' | '\u{2029}' | '\u{85}' | '\u{0B}' | '\u{0C}'
                ) {
                    '\n'
                } else {
                    c
                }
            })
            .filter(|c| *c == '\n' || !forbidden(*c))
            .collect();
        for line in cleaned.split('\n') {
            let line = line.trim();
            let start: String = line.chars().take(12).collect();
            if start.chars().count() >= 6 {
                starts.insert(start);
            }
        }
    }
    starts
}

/// Every string in `value`, keys included, with the path to it.
fn strings<'a>(value: &'a Value, path: String, out: &mut Vec<(String, &'a str)>) {
    match value {
        Value::String(s) => out.push((path, s)),
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                strings(v, format!("{path}[{i}]"), out);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                out.push((format!("{path}.{k} (key)"), k));
                strings(v, format!("{path}.{k}"), out);
            }
        }
        _ => {}
    }
}

/// Whether a link target is a web address.
fn web(target: &str) -> bool {
    let t = target.trim_start().to_ascii_lowercase();
    t.starts_with("https://") || t.starts_with("http://")
}

/// Markdown links (`[text](target)`) and autolinks (`<scheme:...>`) in `text` whose target is not
/// a web address.
fn bad_links(text: &str) -> Vec<String> {
    let mut bad = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("](") {
        let target = rest.get(at + 2..).unwrap_or("");
        if !web(target) {
            bad.push(target.chars().take(40).collect());
        }
        rest = target;
    }
    let mut rest = text;
    while let Some(at) = rest.find('<') {
        let after = rest.get(at + 1..).unwrap_or("");
        let scheme: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
            .collect();
        if !scheme.is_empty()
            && after
                .get(scheme.len()..)
                .is_some_and(|r| r.starts_with(':'))
            && !web(after)
        {
            bad.push(after.chars().take(40).collect());
        }
        rest = after;
    }
    bad
}

/// The longest run of `piece` repeated back to back in `text`, in characters.
fn longest_run(text: &str, piece: &str) -> usize {
    let mut longest = 0;
    let mut count = 0usize;
    let mut rest = text;
    while let Some(at) = rest.find(piece) {
        if at == 0 {
            count += 1;
        } else {
            count = 1;
        }
        longest = longest.max(count);
        rest = rest.get(at + piece.len()..).unwrap_or("");
    }
    longest * piece.chars().count()
}

/// Checks one answer's text against the rules in the module's documentation; `what` names the
/// call. Every breach found is added to `found` (short: the kind of breach and a sample).
pub fn check_text(what: &str, text: &str, starts: &BTreeSet<String>, found: &mut Vec<String>) {
    let mut report = |kind: &str, sample: String| {
        let sample: String = sample.chars().take(160).collect();
        found.push(format!("{what}: {kind}: {sample:?}"));
    };
    if let Some(c) = text.chars().find(|c| forbidden(*c)) {
        report(
            &format!("U+{:04X} reaches the text", c as u32),
            text.to_owned(),
        );
    }
    let mut blank_run = 0;
    for line in text.lines() {
        let body = line
            .trim_start()
            .trim_start_matches(['-', '*', '•'])
            .trim_start();
        if let Some(start) = starts.iter().find(|s| body.starts_with(s.as_str())) {
            report(
                &format!("a line begins with attacker text {start:?}"),
                line.to_owned(),
            );
        }
        let content = line.trim().trim_start_matches('│').trim();
        blank_run = if content.is_empty() { blank_run + 1 } else { 0 };
        if blank_run == 3 {
            report("a flood of blank lines", String::new());
        }
        if longest_run(line, "HOSTILE-LONG ") > LONGEST_QUOTE {
            report(
                "a line past the cap",
                format!("{} chars", line.chars().count()),
            );
        }
    }
    let bad = bad_links(text);
    if !bad.is_empty() {
        report("links that are not web addresses", format!("{bad:?}"));
    }
}

/// [`check_text`] for a tool result, and the same rules for every string in its structured
/// content: no forbidden character, no value past its cap, no non-web link in a link field.
pub fn check(
    what: &str,
    result: &CallToolResult,
    starts: &BTreeSet<String>,
    found: &mut Vec<String>,
) {
    check_text(what, &text(result), starts, found);
    let Some(out) = result.structured_content.as_ref() else {
        return;
    };
    let mut values = Vec::new();
    strings(out, String::new(), &mut values);
    for (path, s) in values {
        let mut report = |kind: &str| {
            let sample: String = s.chars().take(120).collect();
            found.push(format!("{what}: {path}: {kind}: {sample:?}"));
        };
        if let Some(c) = s.chars().find(|c| forbidden(*c)) {
            report(&format!("U+{:04X}", c as u32));
        }
        if s.contains("\n\n\n") {
            report("a flood of blank lines");
        }
        if longest_run(s, "HOSTILE-LONG ") > LONGEST_QUOTE {
            report(&format!("past its cap ({} chars)", s.chars().count()));
        }
        let field = path.rsplit('.').next().unwrap_or("");
        if matches!(field, "href" | "url" | "link" | "src") && !s.is_empty() && !web(s) {
            report("a link but no web address");
        }
        if !bad_links(s).is_empty() {
            report("links elsewhere");
        }
    }
}

/// `POST {sandbox}/events` with the integration key; fails unless ilert took the event.
pub async fn send_event(sandbox_url: &str, event: Value) {
    let response = reqwest::Client::new()
        .post(format!("{sandbox_url}/events"))
        .json(&event)
        .send()
        .await
        .unwrap();
    let status = response.status();
    assert!(
        status.is_success(),
        "event: {status} {}",
        response.text().await.unwrap_or_default()
    );
}

async fn admin(method: reqwest::Method, sandbox_url: &str, path: &str, body: &Value) -> Value {
    let response = reqwest::Client::new()
        .request(method, format!("{sandbox_url}/{path}"))
        .bearer_auth(ADMIN_KEY)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    assert!(status.is_success(), "{path}: {status} {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// Renames every object under `path` (`field` holds its name) to `name`, through the REST API.
async fn rename_all(sandbox_url: &str, path: &str, field: &str, name: &str) {
    let list = sandbox_get(sandbox_url, ADMIN_KEY, path).await;
    for (i, listed) in list
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let id = listed["id"].as_i64().unwrap();
        // The whole object: lists leave parts out (a schedule's layers).
        let mut object = sandbox_get(
            sandbox_url,
            ADMIN_KEY,
            &format!("{path}/{id}?include=scheduleLayers&include=shifts"),
        )
        .await;
        // Names that must differ (teams, sources...) differ at their end.
        object[field] = json!(format!("{name} {i}"));
        admin(
            reqwest::Method::PUT,
            sandbox_url,
            &format!("{path}/{id}"),
            &object,
        )
        .await;
    }
}

/// Where one payload was written.
pub struct Seeded {
    pub alert: i64,
    pub incident: i64,
    pub service: i64,
    pub schedule: i64,
    pub policy: i64,
    pub user: i64,
}

/// Writes `p` into a running sandbox: a new alert from the integration key (summary, details,
/// labels, links, custom details, then a comment event), every name of users, teams, services,
/// sources, policies, schedules, heartbeat monitors and status pages, and a new incident with
/// the payload as summary and message. `round` keeps alert keys apart.
pub async fn seed(sandbox_url: &str, round: usize, p: &Payload) -> Seeded {
    let text = p.text.as_str();
    let alert_key = format!("hostile-{round}");
    send_event(
        sandbox_url,
        json!({
            "integrationKey": INTEGRATION_KEY,
            "eventType": "ALERT",
            "alertKey": alert_key,
            "summary": text,
            "details": text,
            "labels": {"team": text, format!("{text} key"): "value"},
            "links": [
                {"href": text, "text": text},
                {"href": "https://runbooks.example/hostile", "text": text}
            ],
            "customDetails": {"note": text, format!("{text} key"): [text]},
        }),
    )
    .await;
    send_event(
        sandbox_url,
        json!({
            "integrationKey": INTEGRATION_KEY,
            "eventType": "COMMENT",
            "alertKey": alert_key,
            "comments": [{"creator": text, "content": text}],
        }),
    )
    .await;
    let alert = sandbox_get(
        sandbox_url,
        ADMIN_KEY,
        "alerts?states=PENDING&max-results=100",
    )
    .await
    .as_array()
    .unwrap()
    .iter()
    .find(|a| a["alertKey"] == alert_key.as_str())
    .and_then(|a| a["id"].as_i64())
    .expect("the hostile alert exists");

    let users = sandbox_get(sandbox_url, ADMIN_KEY, "users?max-results=100").await;
    for mut user in users.as_array().cloned().unwrap_or_default() {
        let id = user["id"].as_i64().unwrap();
        user["firstName"] = json!(text);
        user["lastName"] = json!(text);
        admin(
            reqwest::Method::PUT,
            sandbox_url,
            &format!("users/{id}"),
            &user,
        )
        .await;
    }
    for path in [
        "teams",
        "services",
        "alert-sources",
        "escalation-policies",
        "schedules",
        "heartbeat-monitors",
        "status-pages",
    ] {
        rename_all(sandbox_url, path, "name", text).await;
    }
    let first = |list: Value| {
        list.as_array().unwrap().first().unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    let service = first(sandbox_get(sandbox_url, ADMIN_KEY, "services").await);
    let incident = admin(
        reqwest::Method::POST,
        sandbox_url,
        "incidents",
        &json!({
            "summary": text,
            "status": "INVESTIGATING",
            "message": text,
            "affectedServices": [{"service": {"id": service}, "impact": "DEGRADED"}],
        }),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    Seeded {
        alert,
        incident,
        service,
        schedule: first(sandbox_get(sandbox_url, ADMIN_KEY, "schedules").await),
        policy: first(sandbox_get(sandbox_url, ADMIN_KEY, "escalation-policies").await),
        user: first(sandbox_get(sandbox_url, ADMIN_KEY, "users").await),
    }
}

/// The calls made for every payload: every read tool, with arguments that reach the hostile data.
fn read_calls(s: &Seeded) -> Vec<(&'static str, Value)> {
    vec![
        ("get_overview", json!({})),
        ("list_alerts", json!({})),
        ("list_alerts", json!({"states": ["PENDING"]})),
        ("get_alert", json!({"id": s.alert})),
        ("find_similar_alerts", json!({"id": s.alert})),
        ("list_incidents", json!({})),
        ("get_incident", json!({"id": s.incident})),
        ("list_services", json!({})),
        ("get_service", json!({"service": s.service.to_string()})),
        ("list_status_pages", json!({})),
        ("list_maintenance_windows", json!({})),
        ("who_is_on_call", json!({})),
        (
            "get_oncall_load",
            // One day: the names are all there, and the per-key budget is spared.
            json!({"schedule": s.schedule.to_string(), "from": "24h ago"}),
        ),
        ("list_schedules", json!({})),
        (
            "get_schedule_shifts",
            json!({"schedule": s.schedule.to_string()}),
        ),
        ("get_current_user", json!({})),
        ("find_users", json!({"query": "example"})),
        ("list_teams", json!({})),
        ("list_escalation_policies", json!({})),
        (
            "get_escalation_policy",
            json!({"policy": s.policy.to_string()}),
        ),
        ("get_alert_metrics", json!({})),
        ("list_alert_sources", json!({})),
        ("list_heartbeat_monitors", json!({})),
        ("search", json!({"query": ""})),
        ("fetch", json!({"id": format!("alert:{}", s.alert)})),
        ("fetch", json!({"id": format!("incident:{}", s.incident)})),
        ("fetch", json!({"id": format!("service:{}", s.service)})),
        ("fetch", json!({"id": format!("schedule:{}", s.schedule)})),
        ("fetch", json!({"id": format!("policy:{}", s.policy)})),
        ("fetch", json!({"id": format!("user:{}", s.user)})),
        ("get_view_context", json!({"schedules": [s.schedule]})),
        ("get_handover", json!({"hours": 72})),
        ("get_postmortem_draft", json!({"incident": s.incident})),
        ("get_postmortem_draft", json!({"alert": s.alert})),
    ]
}

#[test]
fn the_corpus_covers_every_class() {
    let corpus = corpus();
    assert!(corpus.len() >= 30, "{} payloads", corpus.len());
    let classes: BTreeSet<&str> = corpus.iter().map(|p| p.class.as_str()).collect();
    for class in [
        "instructions",
        "fake rows",
        "fake confirmation",
        "markdown/html",
        "links",
        "ansi",
        "bidi",
        "tag chars",
        "zero-width",
        "invisible",
        "controls",
        "size",
        "names",
    ] {
        assert!(classes.contains(class), "no payload of class {class}");
    }
    let all: String = corpus.iter().map(|p| p.text.as_str()).collect();
    for c in [
        '\u{1B}',
        '\u{9B}',
        '\u{0}',
        '\u{7F}',
        '\u{85}',
        '\u{9F}',
        '\u{AD}',
        '\u{200B}',
        '\u{200C}',
        '\u{200D}',
        '\u{2060}',
        '\u{FEFF}',
        '\u{E0000}',
        '\u{E007F}',
    ] {
        assert!(all.contains(c), "no payload carries U+{:04X}", c as u32);
    }
    for c in ('\u{202A}'..='\u{202E}').chain('\u{2066}'..='\u{2069}') {
        assert!(all.contains(c), "no payload carries U+{:04X}", c as u32);
    }
    assert!(corpus.iter().any(|p| p.text.len() >= 100 * 1024));
    assert!(corpus.iter().any(|p| p.text.matches('\n').count() >= 1000));
}

/// Every read tool over every payload; a failure lists every breach found.
#[tokio::test]
async fn no_payload_reaches_a_reader_unquoted() {
    let h = start_unbudgeted().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    let corpus = corpus();
    let starts = line_starts(&corpus);
    // Every read tool the server offers is driven.
    let tools = client.list_all_tools().await.unwrap();
    let read_only: BTreeSet<String> = tools
        .iter()
        .filter(|t| t.annotations.as_ref().and_then(|a| a.read_only_hint) == Some(true))
        .map(|t| t.name.to_string())
        .collect();
    let mut found = Vec::new();
    for (round, p) in corpus.iter().enumerate() {
        let seeded = seed(&h.sandbox_url, round, p).await;
        let calls = read_calls(&seeded);
        let driven: BTreeSet<String> = calls.iter().map(|(t, _)| (*t).to_owned()).collect();
        assert_eq!(driven, read_only, "every read tool is driven");
        for (tool, args) in calls {
            let what = format!("{tool} {args} over {:?}", p.id);
            let result = call(&client, tool, args).await;
            assert!(!is_error(&result), "{what} failed: {}", text(&result));
            check(&what, &result, &starts, &mut found);
        }
        watched(&h, &seeded, p, &starts, &mut found).await;
    }
    assert!(
        found.is_empty(),
        "{} breaches:\n{}",
        found.len(),
        found.join("\n")
    );
}

/// What a follow-through task (issue 26) says about the hostile alert: while it waits (who was
/// reached, whose names are the payload), and once someone accepted (as another caller, so the
/// server's per-caller poll cache does not answer), checked like any answer.
async fn watched(
    h: &Harness,
    s: &Seeded,
    p: &Payload,
    starts: &BTreeSet<String>,
    found: &mut Vec<String>,
) {
    use crate::tasks::rpc;
    let watch = json!({"name": "get_alert", "arguments": {"id": s.alert, "watch_minutes": 5}});
    for (key, accept_first) in [(USER_KEY, false), (ADMIN_KEY, true)] {
        if accept_first {
            let response = reqwest::Client::new()
                .put(format!("{}/alerts/{}/accept", h.sandbox_url, s.alert))
                .bearer_auth(ADMIN_KEY)
                .send()
                .await
                .unwrap();
            assert!(response.status().is_success(), "accept {}", s.alert);
        }
        let created = rpc(&h.mcp_url, key, "tools/call", watch.clone(), true).await;
        let id = created["result"]["taskId"]
            .as_str()
            .unwrap_or_else(|| panic!("{created}"));
        let got = rpc(&h.mcp_url, key, "tasks/get", json!({"taskId": id}), true).await;
        let task = &got["result"];
        let what = format!(
            "task of a watch of {} ({}) over {:?}",
            s.alert, task["status"], p.id
        );
        check_text(
            &what,
            task["statusMessage"].as_str().unwrap_or_default(),
            starts,
            found,
        );
        if accept_first {
            assert_eq!(task["status"], "completed", "{what}: {task}");
            let text = task["result"]["content"][0]["text"]
                .as_str()
                .unwrap_or_default();
            check_text(&what, text, starts, found);
        }
    }
}

/// A confirmation question with every quoted piece and every quote-bar line taken out: what is
/// left is the server's own facts, which no payload may change.
fn facts(question: &str) -> String {
    let mut out = String::new();
    for line in question.lines().filter(|l| !l.starts_with("  │ ")) {
        // The model's text states its own length, which follows the payload.
        if let Some((label, _)) = line.split_once(" characters") {
            let label = label.trim_end_matches(|c: char| c.is_ascii_digit());
            out.push_str(label);
            out.push_str("N characters…\n");
            continue;
        }
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            if c != '"' {
                out.push(c);
                continue;
            }
            out.push_str("\"…\"");
            while let Some(q) = chars.next() {
                match q {
                    '\\' => {
                        chars.next();
                    }
                    '"' => break,
                    _ => {}
                }
            }
        }
        out.push('\n');
    }
    without_times(&out)
}

/// ISO-8601 UTC times (`2026-12-07T12:58:31Z`) replaced by `<time>`: each server is seeded at its
/// own instant, so the seeded incidents' times differ by the seconds between two starts.
fn without_times(text: &str) -> String {
    let shape = |w: &[u8]| {
        w.len() == 20
            && w.iter().enumerate().all(|(i, b)| match i {
                4 | 7 => *b == b'-',
                10 => *b == b'T',
                13 | 16 => *b == b':',
                19 => *b == b'Z',
                _ => b.is_ascii_digit(),
            })
    };
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes.get(i..i + 20).is_some_and(shape) {
            out.push_str("<time>");
            i += 20;
        } else {
            let c = text[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// Every confirmation question one payload produces, on a fresh server that asks before every
/// write (`--confirm always`); nothing is ever approved. Each question is checked like an answer.
async fn questions(
    p: &Payload,
    starts: &BTreeSet<String>,
    found: &mut Vec<String>,
) -> Vec<(&'static str, String)> {
    use ilert_mcp::auth::seal::TokenKey;
    use ilert_mcp::auth::store::InMemory;
    use ilert_mcp::rules::confirm::{Confirmer, Policy};
    let confirmer = Confirmer::new(
        Policy::Always,
        &TokenKey::generate(),
        std::sync::Arc::new(InMemory::default()),
    );
    let (h, _) = start_confirming_without_history(vec![confirmer]).await;
    let s = seed(&h.sandbox_url, 0, p).await;
    let text = p.text.as_str();
    let day = date_in(chrono_tz::Tz::UTC, 2);
    let (alert, user, service) = (s.alert, s.user.to_string(), s.service.to_string());
    // An action the hostile alert's source offers, from the sandbox's REST API.
    let actions = sandbox_get(
        &h.sandbox_url,
        ADMIN_KEY,
        &format!("alerts/{alert}/actions"),
    )
    .await;
    let action = actions[0]["alertActionId"]
        .as_str()
        .expect("the hostile alert's source has an action")
        .to_owned();
    let calls: Vec<(&'static str, Value)> = vec![
        (
            "send_event",
            json!({"source": "202542", "event_type": "ALERT", "summary": text, "alert_key": "hostile-send"}),
        ),
        ("run_alert_action", json!({"id": alert, "action": action})),
        ("accept_alerts", json!({"ids": [alert]})),
        ("resolve_alerts", json!({"ids": [alert]})),
        ("comment_on_alert", json!({"id": alert, "comment": text})),
        ("assign_alert", json!({"id": alert, "user": user})),
        (
            "assign_alert",
            json!({"id": alert, "policy": s.policy.to_string()}),
        ),
        ("add_alert_responder", json!({"id": alert, "user": user})),
        ("create_alert", json!({"summary": text, "source": "202542"})),
        (
            "create_incident",
            json!({"summary": text, "message": text,
                   "services": [{"service": service, "impact": "MAJOR_OUTAGE"}]}),
        ),
        (
            "update_incident",
            json!({"id": s.incident, "status": "MONITORING", "message": text}),
        ),
        (
            "create_maintenance_window",
            json!({"summary": text, "start": format!("{day} 22:00"), "end": format!("{day} 23:00"),
                   "alert_sources": ["202542"], "services": [service]}),
        ),
        (
            "create_schedule_override",
            json!({"schedule": s.schedule.to_string(), "user": user,
                   "start": format!("{day} 10:00"), "end": format!("{day} 12:00")}),
        ),
    ];
    let mut out = Vec::new();
    for (tool, args) in calls {
        let what = format!("{tool} question over {:?}", p.id);
        let result = crate::confirm::rpc(&h.mcp_url, USER_KEY, tool, &args, None).await;
        if result["resultType"] == "input_required" {
            let (_, message) = crate::confirm::asked(&result);
            check_text(&what, &message, starts, found);
            out.push((tool, message));
        } else {
            // Refused before asking (an argument past its cap, say): the refusal is checked too.
            let said = result["content"][0]["text"].as_str().unwrap_or("");
            check_text(&what, said, starts, found);
            out.push((tool, format!("refused: {}", facts(said))));
        }
    }
    h.shutdown.cancel();
    out
}

/// Issue 23's "done when": for every payload, every confirmation question passes the checks of
/// an answer, and the server's facts in it (every line outside quotes) are the same as with a
/// benign payload written the same way.
#[tokio::test]
async fn no_payload_forges_a_confirmation() {
    let corpus = corpus();
    let starts = line_starts(&corpus);
    let benign = Payload {
        id: "benign".into(),
        class: "none".into(),
        text: "Benign words".into(),
    };
    let baseline = questions(&benign, &starts, &mut Vec::new()).await;
    assert!(
        baseline.iter().all(|(_, q)| !q.starts_with("refused")),
        "{baseline:?}"
    );
    // A payload that copies one of the server's own lines ("Accept to go ahead; ...") is not
    // caught by where a line starts, since the server writes that line itself; the facts
    // comparison below catches such a line added or moved.
    let own: Vec<&str> = baseline
        .iter()
        .flat_map(|(_, q)| q.lines())
        .map(str::trim_start)
        .collect();
    let starts: BTreeSet<String> = starts
        .into_iter()
        .filter(|s| !own.iter().any(|l| l.starts_with(s.as_str())))
        .collect();
    let mut found = Vec::new();
    for p in &corpus {
        let got = questions(p, &starts, &mut found).await;
        for ((tool, want), (_, have)) in baseline.iter().zip(&got) {
            // A refusal (the payload too long for an argument) asks nothing, so has no facts.
            if have.starts_with("refused") {
                continue;
            }
            if facts(want) != facts(have) {
                found.push(format!(
                    "{tool} over {:?}: the facts differ:\n{}---\n{}",
                    p.id,
                    facts(want),
                    facts(have)
                ));
            }
        }
    }
    assert!(
        found.is_empty(),
        "{} breaches:\n{}",
        found.len(),
        found.join("\n")
    );
}
