//! People toolset: `get_current_user`, `find_users`, `list_teams`, `list_escalation_policies`,
//! `get_escalation_policy`.

use serde_json::json;

use crate::common::*;
use crate::tools_support::*;

#[tokio::test]
async fn get_current_user_for_every_demo_key() {
    let h = start().await;
    for (key, id, name, role, zone) in [
        (ADMIN_KEY, 10001, "Maya Chen", "ADMIN", "Europe/Berlin"),
        (
            RESPONDER_KEY,
            10003,
            "Priya Nair",
            "RESPONDER",
            "Asia/Kolkata",
        ),
    ] {
        let client = connect(&h.mcp_url, key, Era::Legacy).await;
        let result = call(&client, "get_current_user", json!({})).await;
        let out = ok(&result);
        assert_eq!(out["id"], id);
        assert_eq!(out["name"], name);
        assert_eq!(out["role"], role);
        assert_eq!(out["timezone"], zone);
        assert_eq!(
            text(&result),
            format!(
                "\"{name}\" (id {id}) · {role} · {} · {zone}",
                out["email"].as_str().unwrap()
            )
        );
    }
}

#[tokio::test]
async fn find_users_by_name_part_or_email() {
    let h = start().await;
    let client = connect(&h.mcp_url, STAKEHOLDER_KEY, Era::Stateless).await;
    let result = call(&client, "find_users", json!({"query": "tanaka"})).await;
    let out = ok(&result);
    assert_eq!(ids(&out["users"]), vec![10007]);
    assert_eq!(
        out["users"][0],
        json!({"id": 10007, "name": "Yuki Tanaka", "email": "yuki.tanaka@example.com", "role": "RESPONDER", "timezone": "Asia/Tokyo"})
    );
    assert_eq!(
        text(&result),
        "\"Yuki Tanaka\" (id 10007) · RESPONDER · yuki.tanaka@example.com · Asia/Tokyo"
    );
    // Every word must match, in name or e-mail, in any case.
    let result = call(&client, "find_users", json!({"query": "EMILY carter"})).await;
    assert_eq!(ids(&ok(&result)["users"]), vec![10011]);
    let result = call(&client, "find_users", json!({"query": "Ana"})).await;
    assert_eq!(ids(&ok(&result)["users"]), vec![10007, 10009]);

    let result = call(
        &client,
        "find_users",
        json!({"query": "Maya.Chen@example.com"}),
    )
    .await;
    assert_eq!(ids(&ok(&result)["users"]), vec![10001]);

    let result = call(&client, "find_users", json!({})).await;
    assert_eq!(
        ok(&result)["users"].as_array().unwrap().len(),
        14,
        "empty query lists everyone"
    );
}

#[tokio::test]
async fn find_users_without_a_match_says_so() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    for query in ["Zed Zimmerman", "zed@example.com"] {
        let result = call(&client, "find_users", json!({"query": query})).await;
        assert_eq!(ok(&result)["users"], json!([]));
        assert_eq!(text(&result), format!("No ilert user matches \"{query}\"."));
    }
    err(
        &call(&client, "find_users", json!({"query": 42})).await,
        &["invalid type"],
    );
    err(
        &call(&client, "find_users", json!({"name": "Maya"})).await,
        &["unknown field `name`"],
    );
}

#[tokio::test]
async fn list_teams_with_members_and_roles() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    let result = call(&client, "list_teams", json!({})).await;
    let out = ok(&result);
    assert_eq!(ids(&out["teams"]), vec![501, 502, 503, 504]);
    assert_eq!(out["teams"][0]["name"], "Checkout");
    assert_eq!(
        out["teams"][0]["members"],
        json!([
            "Jonas Weber (ADMIN)",
            "Lena Hoffmann (USER)",
            "Ana Souza (RESPONDER)",
            "Liam Walsh (USER)"
        ])
    );
    assert!(
        text(&result).contains(
            "\"Customer Care\" (id 504): \"Sam Rivera\" (STAKEHOLDER), \"Grace Kim\" (STAKEHOLDER)"
        ),
        "{}",
        text(&result)
    );
}

#[tokio::test]
async fn list_escalation_policies_level_by_level() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Stateless).await;
    let result = call(&client, "list_escalation_policies", json!({})).await;
    let out = ok(&result);
    assert_eq!(ids(&out["policies"]), vec![3101, 3102, 3103]);
    let checkout = &out["policies"][0];
    assert_eq!(checkout["name"], "Checkout on-call");
    assert_eq!(checkout["routing_key"], "checkout");
    let levels = checkout["levels"].as_array().unwrap();
    assert_eq!(levels.len(), 3);
    assert_eq!(
        levels[0]["schedules"],
        json!([{"id": 7001, "name": "Checkout primary"}])
    );
    assert_eq!(levels[0]["escalate_after_minutes"], 15);
    assert_eq!(
        levels[2]["users"],
        json!([{"id": 10001, "name": "Maya Chen"}])
    );
    assert_eq!(
        out["policies"][2]["levels"][1]["teams"],
        json!([{"id": 503, "name": "Storefront"}])
    );
    let mirror = text(&result);
    assert!(
        mirror.starts_with(
            "\"Checkout on-call\" (id 3101)\n  level 1: schedule \"Checkout primary\", escalates after 15 min\n"
        ),
        "{mirror}"
    );
    assert!(
        mirror.contains("  level 2: team \"Storefront\", "),
        "{mirror}"
    );
}

#[tokio::test]
async fn get_escalation_policy_by_name_or_id() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    let by_name = call(
        &client,
        "get_escalation_policy",
        json!({"policy": "platform on-call"}),
    )
    .await;
    let out = ok(&by_name);
    assert_eq!(out["id"], 3102);
    assert_eq!(
        out["levels"][0]["schedules"][0]["name"],
        "Platform follow-the-sun"
    );
    // What follows the last level depends on whether the policy repeats (the sandbox says).
    let rest = sandbox_get(&h.sandbox_url, USER_KEY, "escalation-policies/3102").await;
    let rules = rest["escalationRules"].as_array().unwrap();
    let last_wait = rules.last().unwrap()["escalationTimeout"].as_i64().unwrap();
    let after_last = if rest["repeating"] == true {
        format!("then level 1 again after {last_wait} min")
    } else {
        "the last level: nobody after it".to_owned()
    };
    assert_eq!(
        text(&by_name),
        format!(
            "\"Platform on-call\" (id 3102)\n  level 1: schedule \"Platform follow-the-sun\", escalates after 15 min\n  level 2: \"Maya Chen\", {after_last}"
        )
    );
    let by_id = call(&client, "get_escalation_policy", json!({"policy": "#3102"})).await;
    assert_eq!(ok(&by_id), out);
    // A word of one policy's name is enough when it is unique.
    let by_word = call(
        &client,
        "get_escalation_policy",
        json!({"policy": "Storefront"}),
    )
    .await;
    assert_eq!(ok(&by_word)["id"], 3103);
}

#[tokio::test]
async fn get_escalation_policy_ambiguous_or_unknown_names_give_candidates() {
    let h = start().await;
    let client = connect(&h.mcp_url, STAKEHOLDER_KEY, Era::Stateless).await;
    err(
        &call(
            &client,
            "get_escalation_policy",
            json!({"policy": "on-call"}),
        )
        .await,
        &[
            "\"on-call\" matches 3",
            "\"Checkout on-call\" (id 3101",
            "\"Platform on-call\" (id 3102",
            "\"Storefront on-call\" (id 3103",
            "Ask the user which one",
        ],
    );
    err(
        &call(
            &client,
            "get_escalation_policy",
            json!({"policy": "Payments on-call"}),
        )
        .await,
        &[
            "No escalation policy matches \"Payments on-call\"",
            "Known: \"Checkout on-call\" (id 3101",
            "list_escalation_policies",
        ],
    );
    err(
        &call(
            &client,
            "get_escalation_policy",
            json!({"policy": "999999"}),
        )
        .await,
        &["Escalation policy 999999 was not found"],
    );
    err(
        &call(&client, "get_escalation_policy", json!({"policy": "  "})).await,
        &["The escalation policy to look up is empty."],
    );
    err(
        &call(&client, "get_escalation_policy", json!({})).await,
        &["missing field `policy`"],
    );
    err(
        &call(
            &client,
            "get_escalation_policy",
            json!({"policy": ["3101"]}),
        )
        .await,
        &["invalid type"],
    );
}

#[tokio::test]
async fn tools_without_parameters_refuse_unknown_arguments() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    for (tool, args) in [
        ("get_current_user", json!({"verbose": true})),
        ("list_escalation_policies", json!({"team": "Checkout"})),
        ("list_services", json!({"status": "DEGRADED"})),
        ("list_status_pages", json!({"visibility": "PUBLIC"})),
        ("list_alert_sources", json!({"status": "PENDING"})),
        ("list_teams", json!({"name": "Checkout"})),
    ] {
        let field = args.as_object().unwrap().keys().next().unwrap().clone();
        err(
            &call(&client, tool, args).await,
            &[&format!("unknown field `{field}`")],
        );
    }
}
