//! Alert reports computed from the alerts' report, accept and resolve times.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

use crate::common::*;

/// Alert count, accept delays and resolve delays (ms) of one source and policy.
type Facts = (i64, Vec<i64>, Vec<i64>);

fn ms(v: &Value) -> i64 {
    DateTime::parse_from_rfc3339(v.as_str().unwrap())
        .unwrap()
        .timestamp_millis()
}

fn range(days: i64) -> String {
    let until = Utc::now();
    let from = until - Duration::days(days);
    format!(
        "from={}&until={}",
        from.format("%Y-%m-%dT%H:%M:%SZ"),
        until.format("%Y-%m-%dT%H:%M:%SZ")
    )
}

#[tokio::test]
async fn summary_matches_the_alerts() {
    let s = start().await;
    let alerts = s.ok("/api/alerts?max-results=100", ADMIN).await;
    // Per (source, policy): count, accept delays and resolve delays in ms.
    let mut expected: BTreeMap<(i64, i64), Facts> = BTreeMap::new();
    for a in alerts.as_array().unwrap() {
        let key = (
            a["alertSource"]["id"].as_i64().unwrap(),
            a["escalationPolicy"]["id"].as_i64().unwrap(),
        );
        let entry = expected.entry(key).or_default();
        entry.0 += 1;
        let reported = ms(&a["reportTime"]);
        let accepted = a["responders"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|r| r.get("acceptedAt"))
            .map(ms)
            .min();
        if let Some(t) = accepted {
            entry.1.push(t - reported);
        }
        if a.get("resolvedOn").is_some() {
            entry.2.push(ms(&a["resolvedOn"]) - reported);
        }
    }
    let mean =
        |v: &[i64]| (!v.is_empty()).then(|| (v.iter().sum::<i64>() / v.len() as i64 + 500) / 1000);
    let summary = s
        .ok(&format!("/api/reports/alerts/summary?{}", range(40)), ADMIN)
        .await;
    assert_eq!(summary.as_array().unwrap().len(), expected.len());
    for row in summary.as_array().unwrap() {
        let key = (
            row["alertSourceId"].as_i64().unwrap(),
            row["escalationPolicyId"].as_i64().unwrap(),
        );
        let (count, mtta, mttr) = &expected[&key];
        assert_eq!(row["count"].as_i64().unwrap(), *count, "{key:?}");
        assert_eq!(row["mtta"].as_i64(), mean(mtta), "{key:?}");
        assert_eq!(row["mttr"].as_i64(), mean(mttr), "{key:?}");
    }
    // Checkout API: real numbers, minutes to accept, under two hours to resolve.
    let checkout = summary
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["alertSourceId"] == 202543)
        .unwrap();
    assert!(
        checkout["mtta"].as_i64().unwrap() > 0 && checkout["mttr"].as_i64().unwrap() < 2 * 3600,
        "{checkout}"
    );
}

#[tokio::test]
async fn metrics_by_period_and_filters() {
    let s = start().await;
    let weekly = s
        .ok(&format!("/api/reports/alerts?{}", range(40)), ADMIN)
        .await;
    let total: i64 = weekly
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[4].as_i64().unwrap())
        .sum();
    assert_eq!(total, 32, "COUNT by WEEK covers every alert");
    let periods: Vec<&str> = weekly
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[3].as_str().unwrap())
        .collect();
    assert!(
        periods.len() >= 4 && periods.iter().all(|p| p.len() == 8 && p.contains("-W")),
        "{periods:?}"
    );
    assert!(weekly.as_array().unwrap().iter().all(|r| r[2] == ""));
    let daily = s.ok(&format!("/api/reports/alerts?{}&group-by=DAY&priority=HIGH&sources=202543&timezone=Asia/Tokyo", range(40)), ADMIN).await;
    for row in daily.as_array().unwrap() {
        assert_eq!(row[0], 202543);
        assert_eq!(row[3].as_str().unwrap().len(), 10);
    }
    let high: i64 = daily
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[4].as_i64().unwrap())
        .sum();
    assert_eq!(high, 5, "Checkout API: six alerts, one of them LOW");
    let mttr = s
        .ok(
            &format!(
                "/api/reports/alerts?{}&metric=MTTR&group-by=MONTH",
                range(40)
            ),
            ADMIN,
        )
        .await;
    assert!(
        mttr.as_array()
            .unwrap()
            .iter()
            .all(|r| r[4].as_i64().unwrap() > 0 && r[3].as_str().unwrap().len() == 7)
    );
    assert_eq!(
        s.ok(
            &format!("/api/reports/alerts?{}&numbers=%2B4930123", range(40)),
            ADMIN
        )
        .await,
        serde_json::json!([])
    );
    for bad in [
        "",
        "from=2026-01-01T00:00:00Z",
        "from=2020-01-01T00:00:00Z&until=2026-01-01T00:00:00Z",
        "from=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z",
    ] {
        assert_error(
            &s.get(&format!("/api/reports/alerts?{bad}"), ADMIN).await,
            400,
            "BAD_REQUEST",
        );
    }
    for bad in [
        "metric=P99",
        "group-by=YEAR",
        "priority=MID",
        "timezone=Nowhere",
    ] {
        assert_error(
            &s.get(&format!("/api/reports/alerts?{}&{bad}", range(5)), ADMIN)
                .await,
            400,
            "BAD_REQUEST",
        );
    }
}
