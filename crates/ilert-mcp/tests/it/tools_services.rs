//! Services toolset: `list_services`, `get_service`, `list_status_pages`,
//! `list_maintenance_windows`, `create_maintenance_window`.

use chrono_tz::Tz;
use serde_json::json;

use crate::common::*;
use crate::tools_support::*;

async fn window_count(sandbox_url: &str) -> usize {
    sandbox_get(sandbox_url, USER_KEY, "maintenance-windows?max-results=100")
        .await
        .as_array()
        .unwrap()
        .len()
}

#[tokio::test]
async fn list_services_shows_status_and_uptime() {
    let h = start().await;
    let client = connect(&h.mcp_url, STAKEHOLDER_KEY, Era::Legacy).await;
    let result = call(&client, "list_services", json!({})).await;
    let out = ok(&result);
    assert_eq!(ids(&out["services"]), vec![801, 802, 803, 804, 805, 806]);
    let status: Vec<(&str, &str)> = out["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["status"].as_str().unwrap()))
        .collect();
    assert_eq!(status[0], ("Checkout", "PARTIAL_OUTAGE"), "9004 is open");
    assert_eq!(status[1], ("Payments", "DEGRADED"));
    assert_eq!(status[3], ("Search", "OPERATIONAL"));
    for s in out["services"].as_array().unwrap() {
        let uptime = s["uptime_30d"].as_f64().unwrap();
        assert!((90.0..=100.0).contains(&uptime), "{s}");
    }
    // Search had a partial outage 23 days ago: below 100%.
    assert!(out["services"][3]["uptime_30d"].as_f64().unwrap() < 100.0);
    let mirror = text(&result);
    assert!(
        mirror.starts_with("\"Checkout\" (id 801): PARTIAL_OUTAGE · uptime "),
        "{mirror}"
    );
    assert_eq!(mirror.lines().count(), 6, "{mirror}");
}

#[tokio::test]
async fn get_service_by_name_or_id_with_its_ongoing_incidents() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Stateless).await;
    let result = call(&client, "get_service", json!({"service": "checkout"})).await;
    let out = ok(&result);
    assert_eq!(out["id"], 801);
    assert_eq!(out["status"], "PARTIAL_OUTAGE");
    assert_eq!(ids(&out["incidents"]), vec![9004], "only ongoing incidents");
    assert!(
        text(&result).contains("incident #9004 IDENTIFIED \"Elevated checkout errors\""),
        "{}",
        text(&result)
    );

    let result = call(&client, "get_service", json!({"service": "804"})).await;
    let out = ok(&result);
    assert_eq!(out["name"], "Search");
    assert!(out.get("incidents").is_none(), "9001 is resolved: {out}");
    // The alias works as a name too.
    let result = call(&client, "get_service", json!({"service": "accounts"})).await;
    assert_eq!(ok(&result)["id"], 805);

    err(
        &call(&client, "get_service", json!({"service": "Warehouse"})).await,
        &[
            "No service matches \"Warehouse\"",
            "\"Checkout\" (id 801",
            "list_services",
        ],
    );
    err(
        &call(&client, "get_service", json!({"service": "999999"})).await,
        &["Service 999999 was not found"],
    );
    err(
        &call(&client, "get_service", json!({"service": 801})).await,
        &["invalid type"],
    );
    err(
        &call(&client, "get_service", json!({})).await,
        &["missing field `service`"],
    );
}

#[tokio::test]
async fn list_status_pages_shows_visibility_and_services() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    let result = call(&client, "list_status_pages", json!({})).await;
    let out = ok(&result);
    assert_eq!(ids(&out["status_pages"]), vec![2101, 2102]);
    let public = &out["status_pages"][0];
    assert_eq!(public["name"], "Acme Shop Status");
    assert_eq!(public["visibility"], "PUBLIC");
    assert_eq!(public["url"], "https://status.acme-shop.example");
    assert_eq!(public["status"], "PARTIAL_OUTAGE");
    assert_eq!(ids(&public["services"]), vec![801, 802, 803, 804, 805, 806]);
    let private = &out["status_pages"][1];
    assert_eq!(private["visibility"], "PRIVATE");
    assert_eq!(ids(&private["services"]), vec![801, 805, 806]);
    // Its only address is a bare label (the sandbox's subdomain): no made-up link.
    let rest = sandbox_get(&h.sandbox_url, USER_KEY, "status-pages/2102").await;
    assert!(rest["domain"].as_str().unwrap_or("").is_empty());
    assert!(!rest["subdomain"].as_str().unwrap().contains('.'));
    assert!(private.get("url").is_none(), "{private}");
    let mirror = text(&result);
    assert!(
        mirror.contains(
            "\"Acme Shop Status\" (id 2101, PUBLIC): PARTIAL_OUTAGE · \"Checkout\", \"Payments\""
        ),
        "{mirror}"
    );
    assert!(
        mirror.contains("\"Internal platform status\" (id 2102, PRIVATE)"),
        "{mirror}"
    );
}

#[tokio::test]
async fn list_maintenance_windows_open_and_closed() {
    let h = start().await;
    let client = connect(&h.mcp_url, STAKEHOLDER_KEY, Era::Stateless).await;
    let result = call(&client, "list_maintenance_windows", json!({})).await;
    let out = ok(&result);
    let windows = out["maintenance_windows"].as_array().unwrap();
    assert_eq!(windows.len(), 1);
    assert_eq!(windows[0]["id"], 6002);
    assert_eq!(
        windows[0]["summary"],
        "PostgreSQL minor upgrade for checkout and payments"
    );
    assert_eq!(
        windows[0]["covers"],
        json!(["Checkout", "Payments", "Datadog APM", "Checkout API"])
    );
    // 02:00 Berlin in three days.
    let start = windows[0]["start"].as_str().unwrap();
    assert!(start.ends_with(":00:00Z"), "{start}");
    assert!(
        text(&result).starts_with("\"PostgreSQL minor upgrade for checkout and payments\" "),
        "{}",
        text(&result)
    );

    let closed = call(
        &client,
        "list_maintenance_windows",
        json!({"state": "CLOSED", "timezone": "Europe/Berlin"}),
    )
    .await;
    let out = ok(&closed);
    assert_eq!(ids(&out["maintenance_windows"]), vec![6001]);
    let start = out["maintenance_windows"][0]["start"].as_str().unwrap();
    assert!(start.contains("T02:00:00+0"), "02:00 Berlin time: {start}");

    err(
        &call(
            &client,
            "list_maintenance_windows",
            json!({"state": "PAST"}),
        )
        .await,
        &["unknown variant `PAST`", "`OPEN` or `CLOSED`"],
    );
    err(
        &call(
            &client,
            "list_maintenance_windows",
            json!({"timezone": "Atlantis"}),
        )
        .await,
        &["IANA"],
    );
}

#[tokio::test]
async fn create_maintenance_window_plans_it_for_services_and_sources() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    let day = date_in(Tz::Europe__Berlin, 2);
    let result = call(
        &client,
        "create_maintenance_window",
        json!({"summary": "Search index rebuild", "start": format!("{day} 22:00"), "end": format!("{day} 23:30"),
               "timezone": "Europe/Berlin", "services": ["Search"], "alert_sources": ["Grafana"],
               "description": "Reindexing all products"}),
    )
    .await;
    let out = ok(&result);
    let id = out["id"].as_i64().unwrap();
    assert_eq!(out["summary"], "Search index rebuild");
    assert!(
        out["start"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{day}T22:00:00+0")),
        "{out}"
    );
    assert_eq!(out["covers"], json!(["Search", "Grafana"]));
    assert!(
        text(&result).starts_with(&format!(
            "Maintenance \"Search index rebuild\" planned {day}T22:00:00+0"
        )),
        "{}",
        text(&result)
    );
    let listed = call(&client, "list_maintenance_windows", json!({})).await;
    let windows = &ok(&listed)["maintenance_windows"];
    assert!(ids(windows).contains(&id), "{windows}");
    let stored = sandbox_get(
        &h.sandbox_url,
        USER_KEY,
        &format!("maintenance-windows/{id}"),
    )
    .await;
    assert_eq!(stored["services"][0]["id"], 804);
    assert_eq!(stored["alertSources"][0]["id"], 202544);
}

#[tokio::test]
async fn create_maintenance_window_refusals_create_nothing() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Stateless).await;
    let before = window_count(&h.sandbox_url).await;
    let day = date_in(Tz::UTC, 2);
    let (start, end) = (format!("{day} 22:00"), format!("{day} 23:00"));
    for (args, expect) in [
        (
            json!({"summary": "x", "start": "2020-01-01 22:00", "end": "2020-01-01 23:00", "services": ["Search"]}),
            "already over",
        ),
        (
            json!({"summary": "x", "start": end, "end": start, "services": ["Search"]}),
            "`end` must be after `start`",
        ),
        (
            json!({"summary": "x", "start": start, "end": end}),
            "Name at least one service or alert source",
        ),
        (
            json!({"summary": "x", "start": "tonight", "end": end, "services": ["Search"]}),
            "`start` \"tonight\" is not a time",
        ),
        (
            json!({"summary": "x", "start": start, "end": end, "services": ["Warehouse"]}),
            "No service matches \"Warehouse\"",
        ),
        (
            json!({"summary": "x", "start": start, "end": end, "alert_sources": ["Nagios"]}),
            "No alert source matches \"Nagios\"",
        ),
        (
            json!({"summary": "x", "start": start, "end": end, "services": "Search"}),
            "invalid type",
        ),
        (
            json!({"summary": "x", "start": start, "end": end, "services": ["Search"], "timezone": "CET+1"}),
            "IANA",
        ),
        (
            json!({"summary": "x", "start": start, "end": end, "services": ["Search"], "notify": true}),
            "unknown field `notify`",
        ),
    ] {
        err(
            &call(&client, "create_maintenance_window", args.clone()).await,
            &[expect],
        );
    }
    let stakeholder = connect(&h.mcp_url, STAKEHOLDER_KEY, Era::Stateless).await;
    err(
        &call(
            &stakeholder,
            "create_maintenance_window",
            json!({"summary": "x", "start": start, "end": end, "services": ["Search"]}),
        )
        .await,
        &["not allowed", "STAKEHOLDER"],
    );
    assert_eq!(
        window_count(&h.sandbox_url).await,
        before,
        "nothing created"
    );
}

/// Issue 24 §3.1: a service's owning team is shown by `list_services`, `get_service` and ChatGPT
/// `fetch`, as ilert's `/services` lists it.
#[tokio::test]
async fn services_show_their_owning_team() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Stateless).await;
    let rest = sandbox_get(&h.sandbox_url, USER_KEY, "services?max-results=25").await;
    let owners = |id: i64| -> Vec<(i64, String)> {
        let s = rest
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == id)
            .unwrap();
        s["teams"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["id"].as_i64().unwrap(),
                    t["name"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let search = owners(804);
    assert_eq!(search.len(), 1, "the seed gives Search one owner: {rest}");
    let (team_id, team_name) = search[0].clone();

    let listed = call(&client, "list_services", json!({})).await;
    for s in ok(&listed)["services"].as_array().unwrap() {
        let want: Vec<serde_json::Value> = owners(s["id"].as_i64().unwrap())
            .into_iter()
            .map(|(id, name)| json!({"id": id, "name": name}))
            .collect();
        assert_eq!(s["teams"], json!(want), "{s}");
    }
    let line = "\"Search\" (id 804): ";
    let mirror = text(&listed);
    let search_line = mirror.lines().find(|l| l.starts_with(line)).unwrap();
    assert!(
        search_line.ends_with(&format!(" · team \"{team_name}\" (id {team_id})")),
        "{mirror}"
    );

    let got = call(&client, "get_service", json!({"service": "Search"})).await;
    assert_eq!(
        ok(&got)["teams"],
        json!([{"id": team_id, "name": team_name}])
    );
    assert!(
        text(&got).contains(&format!("team \"{team_name}\" (id {team_id})")),
        "{}",
        text(&got)
    );

    let fetched = call(&client, "fetch", json!({"id": "service:804"})).await;
    let doc = structured(&fetched);
    assert!(
        doc["text"]
            .as_str()
            .unwrap()
            .contains(&format!("Owned by team \"{team_name}\" (id {team_id}).")),
        "{doc}"
    );
    assert_eq!(
        doc["metadata"]["teams"],
        json!([format!("{team_name} (id {team_id})")])
    );
}
