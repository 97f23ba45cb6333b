//! Incidents: `list_incidents`, `get_incident`, `create_incident` (with its dry run) and
//! `update_incident`, including a concurrent edit between the tool's read and its write.
//! Every test runs on both kinds of ilert account: classic (status updates at `/incidents`) and
//! ilert's 2026 model (status updates at `/status-updates`, `/incidents` something else).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::response::Response;
use serde_json::{Value, json};

use crate::common::*;
use crate::tools_support::*;

/// Where the account keeps status updates, relative to the API root.
fn updates(model: IncidentModel) -> &'static str {
    match model {
        IncidentModel::Coordination2026 => "status-updates",
        _ => "incidents",
    }
}

/// A time as the tools print it: whole seconds, UTC, `Z`.
fn incident_time(t: &chrono::DateTime<chrono::FixedOffset>) -> String {
    t.with_timezone(&chrono::Utc)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Ids of the incidents the sandbox has unresolved on service `id`, ascending.
async fn open_incidents_on(sandbox_url: &str, model: IncidentModel, id: i64) -> Vec<i64> {
    let all = sandbox_get(
        sandbox_url,
        USER_KEY,
        &format!("{}?max-results=100", updates(model)),
    )
    .await;
    let mut found: Vec<i64> = all
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["status"] != "RESOLVED")
        .filter(|i| {
            i["affectedServices"]
                .as_array()
                .is_some_and(|a| a.iter().any(|s| s["service"]["id"] == id))
        })
        .map(|i| i["id"].as_i64().unwrap())
        .collect();
    found.sort_unstable();
    found
}

async fn incident_count(sandbox_url: &str, model: IncidentModel) -> usize {
    sandbox_get(
        sandbox_url,
        USER_KEY,
        &format!("{}?max-results=100", updates(model)),
    )
    .await
    .as_array()
    .unwrap()
    .len()
}

async fn service_status(sandbox_url: &str, id: i64) -> String {
    sandbox_get(sandbox_url, USER_KEY, &format!("services/{id}")).await["status"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A status update on 9004 made by someone else (Maya, the admin), straight to the sandbox.
async fn outside_update(sandbox_url: &str, model: IncidentModel, message: &str) {
    let response = reqwest::Client::new()
        .put(format!("{sandbox_url}/{}/9004", updates(model)))
        .bearer_auth(ADMIN_KEY)
        .json(&json!({
            "summary": "Elevated checkout errors",
            "status": "IDENTIFIED",
            "message": message,
            "sendNotification": false,
            "affectedServices": [
                {"service": {"id": 801}, "impact": "PARTIAL_OUTAGE"},
                {"service": {"id": 802}, "impact": "DEGRADED"}
            ]
        }))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
}

async fn list_incidents_shows_ongoing_ones_by_default(model: IncidentModel) {
    let h = start_model(model).await;
    let client = connect(&h.mcp_url, STAKEHOLDER_KEY, Era::Legacy).await;
    let result = call(&client, "list_incidents", json!({})).await;
    let out = ok(&result);
    assert_eq!(ids(&out["incidents"]), vec![9004]);
    assert_eq!(out["has_more"], false);
    let incident = &out["incidents"][0];
    assert_eq!(incident["summary"], "Elevated checkout errors");
    assert_eq!(incident["status"], "IDENTIFIED");
    assert_eq!(
        incident["services"],
        json!(["Checkout: PARTIAL_OUTAGE", "Payments: DEGRADED"])
    );
    assert!(
        incident.get("updates").is_none(),
        "history only in get_incident"
    );
    assert_eq!(
        incident["url"],
        "https://app.ilert.com/incident/view?id=9004"
    );
    assert!(
        text(&result).starts_with(
            "#9004 IDENTIFIED \"Elevated checkout errors\" · \"Checkout\": PARTIAL_OUTAGE, \"Payments\": DEGRADED · open since "
        ),
        "{}",
        text(&result)
    );
}

async fn list_incidents_filters_by_state_and_service_and_says_when_more_match(
    model: IncidentModel,
) {
    let h = start_model(model).await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Stateless).await;
    let result = call(
        &client,
        "list_incidents",
        json!({"states": ["RESOLVED"], "limit": 1}),
    )
    .await;
    let out = ok(&result);
    assert_eq!(out["incidents"].as_array().unwrap().len(), 1);
    assert_eq!(out["has_more"], true);
    assert!(
        text(&result).contains("More incidents match; raise `limit` (now 1)."),
        "{}",
        text(&result)
    );

    let all = call(&client, "list_incidents", json!({"states": ["RESOLVED"]})).await;
    let mut resolved = ids(&ok(&all)["incidents"]);
    resolved.sort_unstable();
    assert_eq!(resolved, vec![9001, 9002, 9003]);
    // Each resolved line says from when to when and how long, from the sandbox's own times.
    let rest = sandbox_get(
        &h.sandbox_url,
        USER_KEY,
        &format!("{}?max-results=100", updates(model)),
    )
    .await;
    let listed = text(&all);
    for incident in rest.as_array().unwrap() {
        if incident["status"] != "RESOLVED" {
            continue;
        }
        let at = |field: &str| {
            chrono::DateTime::parse_from_rfc3339(incident[field].as_str().unwrap()).unwrap()
        };
        let minutes = (at("resolvedOn") - at("createdAt")).num_minutes();
        let lasted = match (minutes / 1440, minutes % 1440 / 60, minutes % 60) {
            (0, 0, m) => format!("{m}m"),
            (0, h, m) => format!("{h}h {m}m"),
            (d, h, _) => format!("{d}d {h}h"),
        };
        let line = listed
            .lines()
            .find(|l| l.starts_with(&format!("#{} RESOLVED", incident["id"])))
            .unwrap_or_else(|| panic!("no line for {}: {listed}", incident["id"]));
        assert!(
            line.ends_with(&format!(
                " to {} ({lasted})",
                incident_time(&at("resolvedOn"))
            )),
            "{line}"
        );
        assert!(!line.contains("since"), "{line}");
    }

    let search = call(
        &client,
        "list_incidents",
        json!({"states": ["RESOLVED", "IDENTIFIED"], "service": "Search"}),
    )
    .await;
    assert_eq!(ids(&ok(&search)["incidents"]), vec![9001]);

    let none = call(&client, "list_incidents", json!({"states": ["MONITORING"]})).await;
    assert_eq!(ok(&none)["incidents"], json!([]));
    assert_eq!(text(&none), "No MONITORING incidents.");

    for (args, expect) in [
        (json!({"states": ["OPEN"]}), "unknown variant `OPEN`"),
        (json!({"states": "RESOLVED"}), "invalid type"),
        (
            json!({"service": "Warehouse"}),
            "No service matches \"Warehouse\"",
        ),
        (json!({"limit": "five"}), "invalid type"),
        (json!({"status": ["RESOLVED"]}), "unknown field `status`"),
    ] {
        err(
            &call(&client, "list_incidents", args.clone()).await,
            &[expect],
        );
    }
}

async fn get_incident_has_the_whole_history_oldest_first(model: IncidentModel) {
    let h = start_model(model).await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    let result = call(&client, "get_incident", json!({"id": "#9004"})).await;
    let out = ok(&result);
    assert_eq!(out["id"], 9004);
    let updates = out["updates"].as_array().unwrap();
    let statuses: Vec<&str> = updates
        .iter()
        .map(|u| u["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["INVESTIGATING", "IDENTIFIED", "IDENTIFIED"]);
    assert!(updates.iter().all(|u| u["by"] == "Jonas Weber"));
    let times: Vec<&str> = updates.iter().map(|u| u["at"].as_str().unwrap()).collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "oldest first: {times:?}"
    );
    let mirror = text(&result);
    assert!(
        // The update's text is someone's words: quoted behind the bar, under the server's line.
        mirror.contains(
            "INVESTIGATING (\"Jonas Weber\"):\n  │ Some customers see errors when paying by card."
        ),
        "{mirror}"
    );
    assert!(
        mirror
            .lines()
            .any(|l| l == "https://app.ilert.com/incident/view?id=9004"),
        "{mirror}"
    );

    err(
        &call(&client, "get_incident", json!({"id": 999_999})).await,
        &["Incident 999999 was not found", "Check the id"],
    );
    err(
        &call(&client, "get_incident", json!({"id": "latest"})).await,
        &["not a numeric ilert id"],
    );
    err(
        &call(&client, "get_incident", json!({"id": -4})).await,
        &["ids are positive"],
    );
}

/// Issue 24 §3.4: get_incident says which status pages and how many subscribers an update would
/// reach: ilert's publish-info for an update keeping today's status, text and impacts, and the
/// status pages listing one of its services, both read from the sandbox here.
async fn get_incident_says_whom_an_update_would_reach(model: IncidentModel) {
    let h = start_model(model).await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Stateless).await;
    let incident = sandbox_get(
        &h.sandbox_url,
        USER_KEY,
        &format!("{}/9004", updates(model)),
    )
    .await;
    let affected: Vec<Value> = incident["affectedServices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| json!({"service": {"id": a["service"]["id"]}, "impact": a["impact"]}))
        .collect();
    let service_ids: Vec<i64> = affected
        .iter()
        .map(|a| a["service"]["id"].as_i64().unwrap())
        .collect();
    let info: Value = reqwest::Client::new()
        .post(format!("{}/{}/publish-info", h.sandbox_url, updates(model)))
        .bearer_auth(USER_KEY)
        .json(&json!({
            "summary": incident["summary"], "status": incident["status"],
            "message": incident["message"], "sendNotification": true,
            "affectedServices": affected
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let pages = sandbox_get(&h.sandbox_url, USER_KEY, "status-pages?max-results=50").await;
    let shown: Vec<String> = pages
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| {
            p["services"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| service_ids.contains(&s["id"].as_i64().unwrap()))
        })
        .map(|p| {
            format!(
                "\"{}\" ({})",
                p["name"].as_str().unwrap(),
                p["visibility"].as_str().unwrap().to_lowercase()
            )
        })
        .collect();
    assert!(!shown.is_empty(), "the seed shows Checkout on a page");
    let n = |k: &str| info[k].as_f64().unwrap() as i64;

    let result = call(&client, "get_incident", json!({"id": 9004})).await;
    let out = ok(&result);
    assert_eq!(out["id"], 9004);
    assert_eq!(
        out["audience"],
        json!({"status_pages": shown, "public_status_pages": n("publicStatusPages"),
               "private_status_pages": n("privateStatusPages"),
               "public_subscribers": n("publicSubscribers"),
               "private_subscribers": n("privateSubscribers"), "notify_subscribers": true})
    );
    let said = text(&result);
    assert!(
        said.ends_with(&format!(
            "\nAn update would reach {} public and {} private status page(s); {} public and {} private subscriber(s) notified: {}.",
            n("publicStatusPages"),
            n("privateStatusPages"),
            n("publicSubscribers"),
            n("privateSubscribers"),
            shown.join(", ")
        )),
        "{said}"
    );
}

async fn create_incident_dry_run_previews_the_audience_and_creates_nothing(model: IncidentModel) {
    let h = start_model(model).await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    let before = incident_count(&h.sandbox_url, model).await;
    let result = call(
        &client,
        "create_incident",
        json!({
            "summary": "Payments failing", "message": "We are investigating.",
            "services": [{"service": "Payments", "impact": "MAJOR_OUTAGE"}],
            "dry_run": true
        }),
    )
    .await;
    let out = ok(&result);
    assert_eq!(out["dry_run"], true);
    assert!(out.get("incident").is_none());
    // Payments is on the public page only (1284 subscribers); its subscriber team has two people.
    assert_eq!(
        out["audience"],
        json!({"public_status_pages": 1, "private_status_pages": 0, "public_subscribers": 1284,
               "private_subscribers": 2, "notify_subscribers": true})
    );
    let said = text(&result);
    assert!(
        said.starts_with("Dry run, nothing created. \"Payments failing\" would reach 1 public and 0 private status page(s); 1284 public and 2 private subscriber(s) notified."),
        "{said}"
    );
    // An incident is already open on Payments: the dry run names it and points at the update.
    let open_on_payments = open_incidents_on(&h.sandbox_url, model, 802).await;
    assert!(
        !open_on_payments.is_empty(),
        "the seed has one open on Payments"
    );
    assert_eq!(ids(&out["already_open"]), open_on_payments);
    for id in &open_on_payments {
        assert!(
            said.contains(&format!("Already open on these services: #{id} ")),
            "{said}"
        );
    }
    assert!(
        said.ends_with("use update_incident on it instead."),
        "{said}"
    );
    // Search has none open: no warning.
    let quiet = call(
        &client,
        "create_incident",
        json!({
            "summary": "Search slow", "message": "Looking.",
            "services": [{"service": "Search", "impact": "DEGRADED"}],
            "dry_run": true
        }),
    )
    .await;
    let search = sandbox_get(&h.sandbox_url, USER_KEY, "services?max-results=100").await;
    let search_id = search
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "Search")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    assert!(
        open_incidents_on(&h.sandbox_url, model, search_id)
            .await
            .is_empty()
    );
    assert!(ok(&quiet).get("already_open").is_none());
    assert!(!text(&quiet).contains("Already open"), "{}", text(&quiet));
    assert_eq!(
        incident_count(&h.sandbox_url, model).await,
        before,
        "nothing created"
    );
    assert_eq!(
        service_status(&h.sandbox_url, 802).await,
        "DEGRADED",
        "no service moved"
    );
}

async fn create_incident_opens_it_and_moves_the_service(model: IncidentModel) {
    let h = start_model(model).await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Stateless).await;
    let result = call(
        &client,
        "create_incident",
        json!({
            "summary": "Search is down", "message": "Search returns no results. We are on it.",
            "services": [{"service": "search", "impact": "MAJOR_OUTAGE"}, {"service": "805", "impact": "DEGRADED"}],
            "notify_subscribers": false
        }),
    )
    .await;
    let out = ok(&result);
    assert_eq!(out["dry_run"], false);
    assert_eq!(out["audience"]["notify_subscribers"], false);
    // Customer accounts is on both pages.
    assert_eq!(out["audience"]["private_status_pages"], 1);
    let incident = &out["incident"];
    let id = incident["id"].as_i64().unwrap();
    assert_eq!(incident["status"], "INVESTIGATING", "the default");
    assert_eq!(
        incident["services"],
        json!(["Search: MAJOR_OUTAGE", "Customer accounts: DEGRADED"])
    );
    assert!(
        text(&result).starts_with(&format!(
            "Created incident #{id} \"Search is down\" (INVESTIGATING), reaching "
        )),
        "{}",
        text(&result)
    );
    assert!(
        text(&result).contains("(not notified)"),
        "{}",
        text(&result)
    );
    assert_eq!(service_status(&h.sandbox_url, 804).await, "MAJOR_OUTAGE");
    let listed = call(&client, "list_incidents", json!({})).await;
    assert!(ids(&ok(&listed)["incidents"]).contains(&id));
    assert!(
        ok(&result).get("already_open").is_none(),
        "none was open on them"
    );
    // A second incident on a service that already has one open: created, and the answer says so.
    let open_on_payments = open_incidents_on(&h.sandbox_url, model, 802).await;
    let again = call(
        &client,
        "create_incident",
        json!({
            "summary": "Payments slow", "message": "Looking.",
            "services": [{"service": "Payments", "impact": "DEGRADED"}],
            "notify_subscribers": false
        }),
    )
    .await;
    let listed: Vec<String> = open_on_payments.iter().map(|i| format!("#{i}")).collect();
    assert!(
        text(&again).ends_with(&format!(
            "\nNote: {} was already open on these services.",
            listed.join(", ")
        )),
        "{}",
        text(&again)
    );
    assert_eq!(ids(&ok(&again)["already_open"]), open_on_payments);
}

async fn create_incident_refusals_create_nothing(model: IncidentModel) {
    let h = start_model(model).await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    let before = incident_count(&h.sandbox_url, model).await;
    let service = json!([{"service": "Search", "impact": "DEGRADED"}]);
    for (args, expect) in [
        (
            json!({"summary": "x", "message": "y", "services": []}),
            "Name at least one affected service",
        ),
        (
            json!({"summary": " ", "message": "y", "services": service}),
            "must not be empty",
        ),
        (
            json!({"summary": "x", "message": "y", "services": [{"service": "Warehouse", "impact": "DEGRADED"}]}),
            "No service matches \"Warehouse\"",
        ),
        (
            json!({"summary": "x", "message": "y", "services": [{"service": "Search", "impact": "BROKEN"}]}),
            "unknown variant `BROKEN`",
        ),
        (
            json!({"summary": "x", "message": "y", "services": service, "status": "OPEN"}),
            "unknown variant `OPEN`",
        ),
        (
            json!({"summary": "x", "message": "y", "services": "Search"}),
            "invalid type",
        ),
        (
            json!({"summary": "x", "services": service}),
            "missing field `message`",
        ),
        (
            json!({"summary": "x", "message": "y", "services": service, "dry_run": "yes"}),
            "invalid type",
        ),
        (
            json!({"summary": "x", "message": "y", "services": service, "notify": true}),
            "unknown field `notify`",
        ),
    ] {
        err(
            &call(&client, "create_incident", args.clone()).await,
            &[expect],
        );
    }
    let stakeholder = connect(&h.mcp_url, STAKEHOLDER_KEY, Era::Legacy).await;
    err(
        &call(
            &stakeholder,
            "create_incident",
            json!({"summary": "x", "message": "y", "services": service}),
        )
        .await,
        &["not allowed", "STAKEHOLDER"],
    );
    assert_eq!(
        incident_count(&h.sandbox_url, model).await,
        before,
        "nothing created"
    );
    assert_eq!(service_status(&h.sandbox_url, 804).await, "OPERATIONAL");
}

async fn update_incident_appends_history_and_moves_services(model: IncidentModel) {
    let h = start_model(model).await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    let result = call(
        &client,
        "update_incident",
        json!({"id": 9004, "status": "MONITORING", "message": "Failover complete; watching.",
               "services": [{"service": "Payments", "impact": "OPERATIONAL"}]}),
    )
    .await;
    let out = ok(&result);
    assert_eq!(out["status"], "MONITORING");
    assert_eq!(out["message"], "Failover complete; watching.");
    assert_eq!(
        out["services"],
        json!(["Checkout: PARTIAL_OUTAGE", "Payments: OPERATIONAL"]),
        "unnamed services keep theirs"
    );
    let updates = out["updates"].as_array().unwrap();
    assert_eq!(updates.len(), 4);
    assert_eq!(updates[3]["status"], "MONITORING");
    assert_eq!(updates[3]["by"], "Jonas Weber");
    assert!(
        text(&result).starts_with("Posted MONITORING update on incident #9004.\n#9004 MONITORING"),
        "{}",
        text(&result)
    );
    assert_eq!(service_status(&h.sandbox_url, 802).await, "OPERATIONAL");
    assert_eq!(service_status(&h.sandbox_url, 801).await, "PARTIAL_OUTAGE");

    let result = call(
        &client,
        "update_incident",
        json!({"id": 9004, "status": "RESOLVED", "message": "All good."}),
    )
    .await;
    let out = ok(&result);
    assert_eq!(out["status"], "RESOLVED");
    assert!(out["resolved_at"].is_string());
    assert_eq!(
        out["services"],
        json!(["Checkout: OPERATIONAL", "Payments: OPERATIONAL"])
    );
    assert_eq!(service_status(&h.sandbox_url, 801).await, "OPERATIONAL");
    let ongoing = call(&client, "list_incidents", json!({})).await;
    assert_eq!(ok(&ongoing)["incidents"], json!([]));
}

async fn update_incident_succeeds_after_an_outside_update_changed_it(model: IncidentModel) {
    let h = start_model(model).await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Stateless).await;
    outside_update(&h.sandbox_url, model, "Maya: provider confirmed the issue.").await;
    let result = call(
        &client,
        "update_incident",
        json!({"id": 9004, "status": "MONITORING", "message": "Fix is out."}),
    )
    .await;
    let out = ok(&result);
    let messages: Vec<&str> = out["updates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        &messages[messages.len() - 2..],
        ["Maya: provider confirmed the issue.", "Fix is out."]
    );
    assert!(
        !text(&result).contains("Someone else"),
        "no conflict happened: {}",
        text(&result)
    );
}

/// A proxy in front of the sandbox that, before forwarding each of the first `races` incident
/// PUTs, lets someone else update the incident: the tool's `If-Match` is stale by then.
async fn racing_proxy(sandbox_url: &str, model: IncidentModel, races: usize) -> String {
    struct Proxy {
        sandbox_url: String,
        model: IncidentModel,
        races: AtomicUsize,
        http: reqwest::Client,
    }
    async fn forward(State(proxy): State<Arc<Proxy>>, request: Request) -> Response {
        let (parts, body) = request.into_parts();
        let path = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        let tail = path.strip_prefix("/api").unwrap_or(path);
        if parts.method == reqwest::Method::PUT
            && tail.starts_with(&format!("/{}/9004", updates(proxy.model)))
            && proxy
                .races
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
        {
            outside_update(&proxy.sandbox_url, proxy.model, "An outside edit.").await;
        }
        let body = to_bytes(body, usize::MAX).await.unwrap();
        let upstream = proxy
            .http
            .request(parts.method, format!("{}{tail}", proxy.sandbox_url))
            .headers(parts.headers)
            .body(body)
            .send()
            .await
            .unwrap();
        let mut response = Response::builder().status(upstream.status());
        for (name, value) in upstream.headers() {
            if name != "content-length" && name != "transfer-encoding" {
                response = response.header(name, value);
            }
        }
        response
            .body(Body::from(upstream.bytes().await.unwrap()))
            .unwrap()
    }
    let proxy = Arc::new(Proxy {
        sandbox_url: sandbox_url.to_owned(),
        model,
        races: AtomicUsize::new(races),
        http: reqwest::Client::new(),
    });
    let app = axum::Router::new().fallback(forward).with_state(proxy);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

async fn update_incident_reapplies_on_top_of_a_concurrent_edit(model: IncidentModel) {
    let h = start_model(model).await;
    let proxy = racing_proxy(&h.sandbox_url, model, 1).await;
    let client = in_process(&proxy, USER_KEY).await;
    let result = call(
        &client,
        "update_incident",
        json!({"id": 9004, "status": "MONITORING", "message": "Fix is out."}),
    )
    .await;
    let out = ok(&result);
    assert!(
        text(&result).contains(
            "Someone else updated it meanwhile; this update was applied on top of theirs."
        ),
        "{}",
        text(&result)
    );
    let messages: Vec<&str> = out["updates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        &messages[messages.len() - 2..],
        ["An outside edit.", "Fix is out."],
        "theirs kept, ours on top"
    );
    assert_eq!(out["status"], "MONITORING");
}

async fn update_incident_gives_up_when_it_keeps_changing(model: IncidentModel) {
    let h = start_model(model).await;
    let proxy = racing_proxy(&h.sandbox_url, model, 5).await;
    let client = in_process(&proxy, USER_KEY).await;
    err(
        &call(
            &client,
            "update_incident",
            json!({"id": 9004, "status": "MONITORING", "message": "Fix is out."}),
        )
        .await,
        &["Incident 9004 keeps changing", "get_incident"],
    );
    let history = sandbox_get(
        &h.sandbox_url,
        USER_KEY,
        &format!("{}/9004?include=history", updates(model)),
    )
    .await;
    assert!(
        !history["history"].to_string().contains("Fix is out."),
        "our update was never applied over theirs blindly"
    );
}

async fn update_incident_refusals_change_nothing(model: IncidentModel) {
    let h = start_model(model).await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    let before: Value = sandbox_get(
        &h.sandbox_url,
        USER_KEY,
        &format!("{}/9004?include=history", updates(model)),
    )
    .await;
    for (args, expect) in [
        (
            json!({"id": 9004, "status": "MONITORING", "message": "  "}),
            "`message` must not be empty",
        ),
        (
            json!({"id": 9004, "status": "FIXED", "message": "x"}),
            "unknown variant `FIXED`",
        ),
        (
            json!({"id": 9004, "message": "x"}),
            "missing field `status`",
        ),
        (
            json!({"id": 9004, "status": "MONITORING", "message": "x", "services": [{"service": "Warehouse", "impact": "DEGRADED"}]}),
            "No service matches \"Warehouse\"",
        ),
        (
            json!({"id": 9004, "status": "MONITORING", "message": "x", "summary": "new"}),
            "unknown field `summary`",
        ),
        (
            json!({"id": 999_999, "status": "MONITORING", "message": "x"}),
            "Incident 999999 was not found",
        ),
    ] {
        err(
            &call(&client, "update_incident", args.clone()).await,
            &[expect],
        );
    }
    let stakeholder = connect(&h.mcp_url, STAKEHOLDER_KEY, Era::Legacy).await;
    err(
        &call(
            &stakeholder,
            "update_incident",
            json!({"id": 9004, "status": "RESOLVED", "message": "x"}),
        )
        .await,
        &["not allowed", "STAKEHOLDER"],
    );
    let after: Value = sandbox_get(
        &h.sandbox_url,
        USER_KEY,
        &format!("{}/9004?include=history", updates(model)),
    )
    .await;
    assert_eq!(before, after, "state unchanged");
}

/// Each test above, once per kind of account.
macro_rules! on_both_models {
    ($($name:ident),* $(,)?) => {
        mod classic {
            $(#[tokio::test]
            async fn $name() {
                super::$name(super::IncidentModel::Classic).await
            })*
        }
        mod model_2026 {
            $(#[tokio::test]
            async fn $name() {
                super::$name(super::IncidentModel::Coordination2026).await
            })*
        }
    };
}

on_both_models!(
    list_incidents_shows_ongoing_ones_by_default,
    list_incidents_filters_by_state_and_service_and_says_when_more_match,
    get_incident_has_the_whole_history_oldest_first,
    get_incident_says_whom_an_update_would_reach,
    create_incident_dry_run_previews_the_audience_and_creates_nothing,
    create_incident_opens_it_and_moves_the_service,
    create_incident_refusals_create_nothing,
    update_incident_appends_history_and_moves_services,
    update_incident_succeeds_after_an_outside_update_changed_it,
    update_incident_reapplies_on_top_of_a_concurrent_edit,
    update_incident_gives_up_when_it_keeps_changing,
    update_incident_refusals_change_nothing,
);
