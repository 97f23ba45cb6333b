//! Reports toolset: `get_alert_metrics`.

use serde_json::json;

use crate::common::*;
use crate::tools_support::*;

#[tokio::test]
async fn metrics_over_thirty_days_count_every_alert_with_mtta_and_mttr() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    let from = (chrono::Utc::now() - chrono::Duration::days(30))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let result = call(
        &client,
        "get_alert_metrics",
        json!({"from": from, "group_by": "DAY"}),
    )
    .await;
    let out = ok(&result);
    assert_eq!(out["group_by"], "DAY");
    let buckets = out["buckets"].as_array().unwrap();
    assert!(!buckets.is_empty());
    for b in buckets {
        let label = b["bucket"].as_str().unwrap();
        assert!(
            label.len() == 10 && label.as_bytes()[4] == b'-' && label.as_bytes()[7] == b'-',
            "a DAY bucket is YYYY-MM-DD: {b}"
        );
    }
    let mut labels: Vec<&str> = buckets
        .iter()
        .map(|b| b["bucket"].as_str().unwrap())
        .collect();
    labels.dedup();
    assert_eq!(labels.len(), buckets.len(), "one row per bucket");
    // Every alert reported since `from` is counted once: the truth is the sandbox's own count.
    let truth = sandbox_get(
        &h.sandbox_url,
        USER_KEY,
        &format!("alerts/count?states=PENDING&states=ACCEPTED&states=RESOLVED&from={from}"),
    )
    .await["count"]
        .as_u64()
        .unwrap();
    assert!(truth > 20, "the seed has four weeks of alerts: {truth}");
    let total: u64 = buckets.iter().map(|b| b["count"].as_u64().unwrap()).sum();
    assert_eq!(total, truth);
    assert!(
        buckets
            .iter()
            .any(|b| b["mtta_minutes"].as_f64().is_some_and(|m| m > 0.0))
    );
    assert!(
        buckets
            .iter()
            .any(|b| b["mttr_minutes"].as_f64().is_some_and(|m| m > 0.0))
    );
    assert!(
        text(&result).starts_with("From ")
            && text(&result).contains(&format!("(per day): {truth} alerts, MTTA")),
        "{}",
        text(&result)
    );
}

#[tokio::test]
async fn metrics_for_an_empty_range_say_zero_alerts() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    let result = call(
        &client,
        "get_alert_metrics",
        json!({"from": "2020-01-01", "until": "2020-02-01"}),
    )
    .await;
    assert_eq!(ok(&result)["buckets"], json!([]));
    assert!(
        text(&result)
            .starts_with("From 2020-01-01T00:00:00Z to 2020-02-01T00:00:00Z (per day): 0 alerts"),
        "{}",
        text(&result)
    );
}

#[tokio::test]
async fn metrics_window_and_filters_are_echoed() {
    let h = start().await;
    let client = connect(&h.mcp_url, STAKEHOLDER_KEY, Era::Stateless).await;
    let result = call(
        &client,
        "get_alert_metrics",
        json!({"from": "2020-01-01", "until": "2020-03-01", "group_by": "WEEK", "priority": "high",
               "source": "Datadog APM", "policy": "Checkout on-call", "timezone": "Asia/Tokyo"}),
    )
    .await;
    let out = ok(&result);
    assert_eq!(out["from"], "2020-01-01T00:00:00+09:00");
    assert_eq!(out["until"], "2020-03-01T00:00:00+09:00");
    assert_eq!(out["group_by"], "WEEK");
    assert!(text(&result).contains("(per week)"), "{}", text(&result));
}

#[tokio::test]
async fn metrics_refuse_bad_ranges_and_values() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    for (args, expect) in [
        (
            json!({"from": "2020-01-01", "until": "2022-01-01"}),
            "the range at most a year",
        ),
        (
            json!({"from": "2020-02-01", "until": "2020-01-01"}),
            "`until` must be after `from`",
        ),
        (
            json!({"from": "last month"}),
            "`from` \"last month\" is not a time",
        ),
        (json!({"group_by": "YEAR"}), "unknown variant `YEAR`"),
        (
            json!({"priority": "MEDIUM"}),
            "`priority` must be HIGH, LOW or ALL.",
        ),
        (
            json!({"source": "Nagios"}),
            "No alert source matches \"Nagios\"",
        ),
        (json!({"policy": "on-call"}), "matches 3 escalation"),
        (json!({"timezone": "Moon/Base"}), "IANA"),
        (json!({"metric": "MTTA"}), "unknown field `metric`"),
    ] {
        err(
            &call(&client, "get_alert_metrics", args.clone()).await,
            &[expect],
        );
    }
}

/// The breakdowns are for the whole window: their counts add up to the window's total, and the
/// text says so, so that a model does not read them as the last period's.
#[tokio::test]
async fn breakdowns_cover_the_whole_window_and_say_so() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    let result = call(
        &client,
        "get_alert_metrics",
        json!({"from": "14 days ago", "until": "now", "group_by": "week"}),
    )
    .await;
    assert!(!is_error(&result), "{}", text(&result));
    let out = structured(&result);
    let total: u64 = out["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["count"].as_u64().unwrap())
        .sum();
    for key in ["by_source", "by_policy"] {
        let sum: u64 = out[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["count"].as_u64().unwrap())
            .sum();
        assert_eq!(sum, total, "{key} adds up to the window");
    }
    assert!(
        text(&result).contains("By source, whole window:"),
        "{}",
        text(&result)
    );
}
