//! Where ilert is lenient, so is the sandbox: the body shapes real clients send to
//! `POST /alerts/{id}/responders` (and no body), `PUT /alerts/{id}/assign` by body as well as by
//! query, status page `options` as a string or a list; ilert's exact wording for the page cap
//! with `include`; and the team context headers scoping lists.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::*;

/// A fresh manual alert on source 202543 with Oliver (10012) as its only responder.
async fn manual_alert(s: &Server) -> i64 {
    let created = s
        .post(
            "/api/alerts",
            RESPONDER,
            &json!({"summary": "Scanner offline", "alertSource": {"id": 202543},
            "responders": [{"user": {"id": 10012}}], "priority": "LOW"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    created.body["id"].as_i64().unwrap()
}

#[tokio::test]
async fn responders_take_every_body_shape_clients_send_and_no_body() {
    let s = start().await;
    let id = manual_alert(&s).await;
    let path = format!("/api/alerts/{id}/responders");
    // (body, the user it names): AlertResponder, a bare id, a SuggestedResponder, e-mail, a list.
    for (body, user) in [
        (json!({"user": {"id": 10009}}), 10009),
        (json!(10002), 10002),
        (
            json!({"group": "USER", "id": 10003, "name": "Priya Nair"}),
            10003,
        ),
        (json!({"email": "maya.chen@example.com"}), 10001),
        (json!([{"userId": 10004}]), 10004),
    ] {
        let r = s.post(&path, RESPONDER, &body).await;
        assert_eq!(r.status, 201, "{body}: {}", r.body);
        assert_eq!(r.body["user"]["id"], user, "{body}");
    }
    assert_eq!(
        responder_ids(&s.alert(id).await).len(),
        6,
        "Oliver and the five added"
    );

    // No body: the query names the user, else the caller adds themselves.
    let other = manual_alert(&s).await;
    let path = format!("/api/alerts/{other}/responders");
    let r = s
        .request(
            Method::POST,
            &format!("{path}?user=10009"),
            Some(RESPONDER),
            None,
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), &r.body["user"]["id"]),
        (201, &json!(10009))
    );
    let r = s.request(Method::POST, &path, Some(USER), None).await;
    assert_eq!(
        (r.status.as_u16(), &r.body["user"]["id"]),
        (201, &json!(10002)),
        "Jonas, the key's owner: {}",
        r.body
    );

    // What cannot name a user is still a clear 400, and changes nothing.
    let before = s.alert(other).await;
    for body in [
        json!({"group": "ESCALATION_POLICY", "id": 3101}),
        json!([{"userId": 1}, {"userId": 2}]),
        json!({"note": "?"}),
    ] {
        let r = s.post(&path, RESPONDER, &body).await;
        assert_error(&r, 400, "BAD_REQUEST");
    }
    assert_eq!(s.alert(other).await["responders"], before["responders"]);
}

#[tokio::test]
async fn assign_takes_the_body_form_as_well_as_the_query() {
    let s = start().await;
    for (body, check) in [
        (json!({"user": {"id": 10003}}), ("responders", json!(10003))),
        (json!({"userId": 10009}), ("responders", json!(10009))),
        (
            json!({"escalationPolicy": {"id": 3102}}),
            ("policy", json!(3102)),
        ),
    ] {
        let id = manual_alert(&s).await;
        let r = s
            .put_json(&format!("/api/alerts/{id}/assign"), USER, &body)
            .await;
        assert_eq!(r.status, 200, "{body}: {}", r.body);
        let a = s.alert(id).await;
        match check {
            ("responders", user) => assert_eq!(responder_ids(&a), [user.as_i64().unwrap()]),
            (_, policy) => assert_eq!(a["escalationPolicy"]["id"], policy),
        }
    }
    // The query form still works, and two targets are still refused.
    let id = manual_alert(&s).await;
    let r = s
        .put(&format!("/api/alerts/{id}/assign?user-id=10004"), USER)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(responder_ids(&s.alert(id).await), [10004]);
    let r = s
        .put_json(
            &format!("/api/alerts/{id}/assign?user=10003"),
            USER,
            &json!({"escalationPolicy": {"id": 3102}}),
        )
        .await;
    assert_error(&r, 400, "BAD_REQUEST");
    assert_eq!(responder_ids(&s.alert(id).await), [10004], "unchanged");
}

#[tokio::test]
async fn the_page_cap_with_include_uses_ilerts_words() {
    let s = start().await;
    for path in [
        "/api/incidents?include=subscribed&max-results=26",
        "/api/services?include=uptime&max-results=50",
    ] {
        let r = s.get(path, ADMIN).await;
        assert_eq!(
            assert_error(&r, 400, "BAD_REQUEST"),
            "'max-results' must not be above 25, when using 'include'"
        );
    }
    // Without include, the plain cap.
    assert_eq!(
        s.get("/api/services?max-results=100", ADMIN).await.status,
        200
    );
    let r = s.get("/api/services?max-results=101", ADMIN).await;
    assert!(!assert_error(&r, 400, "BAD_REQUEST").contains("include"));
}

#[tokio::test]
async fn status_page_options_go_out_as_lists_and_come_in_either_way() {
    let s = start().await;
    let page = s.ok("/api/status-pages/2101", ADMIN).await;
    let elements = &page["structure"]["elements"];
    assert_eq!(elements[0]["children"][0]["options"], json!(["expand"]));
    assert_eq!(elements[1]["options"], json!(["no-graph"]));
    let body = |options: Value| {
        json!({"name": "Options", "subdomain": "options", "visibility": "PRIVATE",
            "services": [{"id": 801}], "structure": {"elements": [
                {"id": 801, "type": "SERVICE", "options": options}]}})
    };
    for (given, stored) in [
        (json!("expand"), json!(["expand"])),
        (json!(["expand"]), json!(["expand"])),
    ] {
        let r = s
            .post("/api/status-pages", USER, &body(given.clone()))
            .await;
        assert_eq!(r.status, 200, "{given}: {}", r.body);
        let id = r.body["id"].as_i64().unwrap();
        let read = s.ok(&format!("/api/status-pages/{id}"), USER).await;
        assert_eq!(read["structure"]["elements"][0]["options"], stored);
        assert_eq!(
            s.delete(&format!("/api/status-pages/{id}"), USER)
                .await
                .status,
            204
        );
    }
    let r = s
        .post("/api/status-pages", USER, &body(json!(["shiny"])))
        .await;
    assert!(assert_error(&r, 400, "BAD_REQUEST").contains("options"));
}

async fn ids_with(s: &Server, path: &str, header: Option<(&str, &str)>) -> Vec<i64> {
    let mut req = s.client.get(format!("{}{path}", s.base)).bearer_auth(ADMIN);
    if let Some((name, value)) = header {
        req = req.header(name, value);
    }
    let r = reply(req.send().await.unwrap()).await;
    assert_eq!(r.status, 200, "{path} {header:?}: {}", r.body);
    ids(&r.body)
}

/// `/alerts/count` scopes as the list does: under a team context it counts the alerts the list
/// shows (issue 21: under team 501 the list had 16 alerts and the count said 34).
#[tokio::test]
async fn alert_count_follows_the_team_context_of_the_list() {
    let s = start().await;
    let count_with = |context: Option<&'static str>| {
        let mut req = s
            .client
            .get(format!("{}/api/alerts/count", s.base))
            .bearer_auth(ADMIN);
        if let Some(team) = context {
            req = req.header("x-team-context", team);
        }
        async move {
            let r = reply(req.send().await.unwrap()).await;
            assert_eq!(r.status, 200, "{context:?}: {}", r.body);
            r.body["count"].as_u64().unwrap() as usize
        }
    };
    let all = ids_with(&s, "/api/alerts?max-results=100", None)
        .await
        .len();
    assert_eq!(count_with(None).await, all);
    assert_eq!(count_with(Some("0")).await, all);
    for team in ["501", "502", "503"] {
        let listed = ids_with(
            &s,
            "/api/alerts?max-results=100",
            Some(("x-team-context", team)),
        )
        .await
        .len();
        assert!(listed > 0 && listed < all, "team {team}: {listed} of {all}");
        assert_eq!(count_with(Some(team)).await, listed, "team {team}");
    }
}

/// ilert: "`0` for ALL teams, `-1` for MY teams or a specific team id". Expected sets come from
/// each object's own `teams` (and, for alerts, their source's), read without a header.
#[tokio::test]
async fn team_context_scopes_lists_to_the_team() {
    let s = start().await;
    let team_of = |list: &Value, team: i64| -> Vec<i64> {
        list.as_array()
            .unwrap()
            .iter()
            .filter(|o| {
                o["teams"]
                    .as_array()
                    .is_some_and(|t| t.iter().any(|t| t["id"] == team))
            })
            .map(|o| o["id"].as_i64().unwrap())
            .collect()
    };
    for path in [
        "/api/escalation-policies",
        "/api/alert-sources",
        "/api/schedules",
        "/api/services?max-results=100",
        "/api/status-pages",
    ] {
        let all = s.ok(path, ADMIN).await;
        let expected = team_of(&all, 501);
        assert!(
            !expected.is_empty(),
            "{path}: the seed has team 501 objects"
        );
        assert!(expected.len() < ids(&all).len(), "{path}: and others");
        for header in ["x-team-context", "team-context"] {
            assert_eq!(
                ids_with(&s, path, Some((header, "501"))).await,
                expected,
                "{path} {header}"
            );
        }
        assert_eq!(
            ids_with(&s, path, Some(("x-team-context", "0"))).await,
            ids(&all),
            "0 is all teams"
        );
    }
    // Heartbeat monitors (all of the platform team, 502, in the seed), paged by cursor.
    let monitors = ids(&s.ok("/api/heartbeat-monitors", ADMIN).await);
    assert!(!monitors.is_empty());
    assert_eq!(
        ids_with(
            &s,
            "/api/heartbeat-monitors",
            Some(("x-team-context", "502"))
        )
        .await,
        monitors
    );
    assert_eq!(
        ids_with(
            &s,
            "/api/heartbeat-monitors",
            Some(("x-team-context", "501"))
        )
        .await,
        Vec::<i64>::new()
    );
    // Teams: the team itself; -1: the caller's own teams.
    assert_eq!(
        ids_with(&s, "/api/teams", Some(("x-team-context", "501"))).await,
        [501]
    );
    let mine: Vec<i64> = {
        let teams = s.ok("/api/teams?members=10001", ADMIN).await;
        ids(&teams)
    };
    assert_eq!(
        ids_with(&s, "/api/teams", Some(("x-team-context", "-1"))).await,
        mine
    );
    // Alerts follow their alert source's teams.
    let sources = team_of(&s.ok("/api/alert-sources", ADMIN).await, 501);
    let all = s.ok("/api/alerts?max-results=100", ADMIN).await;
    let expected: Vec<i64> = all
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| sources.contains(&a["alertSource"]["id"].as_i64().unwrap()))
        .map(|a| a["id"].as_i64().unwrap())
        .collect();
    assert!(!expected.is_empty() && expected.len() < ids(&all).len());
    assert_eq!(
        ids_with(
            &s,
            "/api/alerts?max-results=100",
            Some(("x-team-context", "501"))
        )
        .await,
        expected
    );
    // Not a team context: 400.
    let r = reply(
        s.client
            .get(format!("{}/api/alerts", s.base))
            .bearer_auth(ADMIN)
            .header("x-team-context", "checkout")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(&r, 400, "BAD_REQUEST");
}
