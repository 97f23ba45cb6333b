//! On-call computation through the API: layers with times-of-week restrictions across the end
//! of summer time, an override, `GET /on-calls` with `expand`/`timezone`, `user-on-call` with
//! 204, and the seeded follow-the-sun schedule covering the clock.

use chrono::DateTime;
use serde_json::{Value, json};

use crate::common::*;

fn ms(iso: &str) -> i64 {
    DateTime::parse_from_rfc3339(iso)
        .unwrap()
        .timestamp_millis()
}

fn shifts(list: &Value) -> Vec<(i64, String, String)> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["user"]["id"].as_i64().unwrap(),
                s["start"].as_str().unwrap().to_owned(),
                s["end"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn t(s: &str) -> String {
    s.to_owned()
}

/// A weekday 08:00-18:00 Berlin rotation of Jonas and Lena from Monday 2026-10-19, with Maya
/// standing in on Tuesday 2026-10-27 12:00-14:00; behind a policy of its own.
async fn dst_setup(s: &Server) -> (i64, i64) {
    s.clock.set_now_ms(ms("2026-10-01T00:00:00Z"));
    let weekdays: Vec<Value> = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"]
        .iter()
        .map(|d| json!({"from": {"dayOfWeek": d, "time": "08:00"}, "to": {"dayOfWeek": d, "time": "18:00"}}))
        .collect();
    let schedule = s
        .post("/api/schedules", USER, &json!({"name": "Berlin weekdays", "timezone": "Europe/Berlin", "type": "RECURRING",
            "scheduleLayers": [{"name": "Day", "startsOn": "2026-10-19T08:00:00+02:00", "users": [{"id": 10002}, {"id": 10005}],
                "rotation": "P7D", "restrictionType": "TIMES_OF_WEEK", "restrictions": weekdays}]}))
        .await;
    assert_eq!(schedule.status, 201, "{}", schedule.body);
    let id = schedule.body["id"].as_i64().unwrap();
    let o = s
        .put_json(&format!("/api/schedules/{id}/overrides"), USER, &json!({"user": {"id": 10001}, "start": "2026-10-27T12:00:00+01:00", "end": "2026-10-27T14:00:00+01:00"}))
        .await;
    assert_eq!(o.status, 200, "{}", o.body);
    assert_eq!(
        o.body,
        json!({"id": id, "name": "Berlin weekdays", "type": "RECURRING"})
    );
    let policy = s
        .post("/api/escalation-policies", USER, &json!({"name": "Berlin", "escalationRules": [{"escalationTimeout": 5, "schedules": [{"id": id}]}]}))
        .await;
    (id, policy.body["id"].as_i64().unwrap())
}

#[tokio::test]
async fn shifts_follow_local_time_across_the_dst_change_with_the_override() {
    let s = start().await;
    let (id, _) = dst_setup(&s).await;
    let got = s
        .ok(
            &format!(
                "/api/schedules/{id}/shifts?from=2026-10-22T00:00:00Z&until=2026-10-28T00:00:00Z"
            ),
            ADMIN,
        )
        .await;
    assert_eq!(
        shifts(&got),
        [
            // Summer time: 08:00-18:00 is 06:00-16:00 UTC.
            (
                10002,
                t("2026-10-22T06:00:00.000Z"),
                t("2026-10-22T16:00:00.000Z")
            ),
            (
                10002,
                t("2026-10-23T06:00:00.000Z"),
                t("2026-10-23T16:00:00.000Z")
            ),
            // Winter time from Sunday the 25th: 07:00-17:00 UTC, and Lena's week.
            (
                10005,
                t("2026-10-26T07:00:00.000Z"),
                t("2026-10-26T17:00:00.000Z")
            ),
            (
                10005,
                t("2026-10-27T07:00:00.000Z"),
                t("2026-10-27T11:00:00.000Z")
            ),
            (
                10001,
                t("2026-10-27T11:00:00.000Z"),
                t("2026-10-27T13:00:00.000Z")
            ),
            (
                10005,
                t("2026-10-27T13:00:00.000Z"),
                t("2026-10-27T17:00:00.000Z")
            ),
        ]
    );
    assert_eq!(
        got[0]["user"]["email"], "jonas.weber@example.com",
        "shifts carry the full user"
    );
    let plain = s
        .ok(&format!("/api/schedules/{id}/shifts?from=2026-10-27T00:00:00Z&until=2026-10-28T00:00:00Z&exclude-overrides=true"), ADMIN)
        .await;
    assert_eq!(
        shifts(&plain),
        [(
            10005,
            t("2026-10-27T07:00:00.000Z"),
            t("2026-10-27T17:00:00.000Z")
        )]
    );
    let overrides = s.ok(&format!("/api/schedules/{id}/overrides"), ADMIN).await;
    assert_eq!(
        shifts(&overrides),
        [(
            10001,
            t("2026-10-27T11:00:00.000Z"),
            t("2026-10-27T13:00:00.000Z")
        )]
    );
}

#[tokio::test]
async fn on_calls_in_a_time_zone_with_expand_and_levels() {
    let s = start().await;
    let (schedule, policy) = dst_setup(&s).await;
    let q = format!(
        "/api/on-calls?policies={policy}&from=2026-10-23T12:00:00Z&until=2026-10-27T11:30:00Z&timezone=Europe/Berlin&expand=user&expand=schedule"
    );
    let got = s.ok(&q, STAKEHOLDER).await;
    let rows: Vec<(i64, &str, &str)> = got
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["user"]["id"].as_i64().unwrap(),
                o["start"].as_str().unwrap(),
                o["end"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (
                10002,
                "2026-10-23T08:00:00.000+02:00",
                "2026-10-23T18:00:00.000+02:00"
            ),
            (
                10005,
                "2026-10-26T08:00:00.000+01:00",
                "2026-10-26T18:00:00.000+01:00"
            ),
            (
                10005,
                "2026-10-27T08:00:00.000+01:00",
                "2026-10-27T12:00:00.000+01:00"
            ),
            (
                10001,
                "2026-10-27T12:00:00.000+01:00",
                "2026-10-27T14:00:00.000+01:00"
            ),
        ]
    );
    for o in got.as_array().unwrap() {
        assert_eq!(o["escalationLevel"], 1, "levels are 1-based");
        assert_eq!(
            o["schedule"],
            json!({"id": schedule, "name": "Berlin weekdays", "type": "RECURRING"})
        );
        assert_eq!(o["escalationPolicy"], json!({"id": policy}), "not expanded");
        assert!(o["user"]["email"].is_string());
    }
    // Without expand: bare references; `users` filters.
    let bare = s.ok(&format!("/api/on-calls?policies={policy}&users=10005&from=2026-10-26T00:00:00Z&until=2026-10-28T00:00:00Z"), ADMIN).await;
    assert_eq!(
        bare.as_array().unwrap().len(),
        3,
        "Monday, and Tuesday around the override"
    );
    assert_eq!(bare[0]["user"], json!({"id": 10005}));
    assert_eq!(bare[0]["start"], "2026-10-26T07:00:00.000Z");
    // policy-levels (1-based) and paging.
    let l1 = s.ok(&format!("/api/on-calls?policy-levels=%7B%22id%22%3A{policy}%2C%22level%22%3A1%7D&from=2026-10-26T00:00:00Z&until=2026-10-28T00:00:00Z"), ADMIN).await;
    assert_eq!(l1.as_array().unwrap().len(), 4);
    let l2 = s.ok(&format!("/api/on-calls?policy-levels=%7B%22id%22%3A{policy}%2C%22level%22%3A2%7D&from=2026-10-26T00:00:00Z&until=2026-10-28T00:00:00Z"), ADMIN).await;
    assert_eq!(l2, json!([]));
    let page = s.ok(&format!("/api/on-calls?policies={policy}&from=2026-10-26T00:00:00Z&until=2026-10-28T00:00:00Z&start-index=1&max-results=2"), ADMIN).await;
    assert_eq!(page[0]["user"]["id"], 10005);
    assert_eq!(page.as_array().unwrap().len(), 2);
    for bad in [
        "timezone=Mars/Base",
        "expand=everything",
        "max-results=251",
        "from=2026-01-01T00:00:00Z&until=2026-06-01T00:00:00Z",
        "from=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z",
    ] {
        assert_error(
            &s.get(&format!("/api/on-calls?{bad}"), ADMIN).await,
            400,
            "BAD_REQUEST",
        );
    }
}

#[tokio::test]
async fn user_on_call_is_204_when_nobody_is() {
    let s = start().await;
    let (id, _) = dst_setup(&s).await;
    s.clock.set_now_ms(ms("2026-10-27T11:30:00Z"));
    let r = s
        .get(&format!("/api/schedules/{id}/user-on-call"), STAKEHOLDER)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["user"]["id"], 10001);
    assert_eq!(r.body["start"], "2026-10-27T11:00:00.000Z");
    let current = s
        .ok(
            &format!(
                "/api/schedules/{id}?include=currentShift&include=nextShift&include=scheduleLayers"
            ),
            ADMIN,
        )
        .await;
    assert_eq!(
        current["currentShift"]["user"],
        json!({"id": 10001, "firstName": "Maya", "lastName": "Chen"})
    );
    assert_eq!(current["nextShift"]["user"]["id"], 10005);
    assert_eq!(
        current["scheduleLayers"][0]["restrictions"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    s.clock.set_now_ms(ms("2026-10-24T12:00:00Z"));
    let r = s
        .get(&format!("/api/schedules/{id}/user-on-call"), STAKEHOLDER)
        .await;
    assert_eq!(r.status, 204, "Saturday: nobody");
    assert!(r.body.is_null());
    // Overrides may not lie in the past.
    let r = s
        .put_json(&format!("/api/schedules/{id}/overrides"), USER, &json!({"user": {"id": 10001}, "start": "2026-10-20T00:00:00Z", "end": "2026-10-21T00:00:00Z"}))
        .await;
    assert_error(&r, 400, "BAD_REQUEST");
}

#[tokio::test]
async fn seeded_follow_the_sun_covers_every_hour_and_has_tomorrows_override() {
    let s = start().await;
    let now = chrono::Utc::now();
    let from = now.format("%Y-%m-%dT%H:00:00.000Z").to_string();
    let until = (now + chrono::Duration::days(7))
        .format("%Y-%m-%dT%H:00:00.000Z")
        .to_string();
    for schedule in [7001, 7002] {
        let list = s
            .ok(
                &format!("/api/schedules/{schedule}/shifts?from={from}&until={until}"),
                ADMIN,
            )
            .await;
        let segments = shifts(&list);
        assert!(
            segments.first().unwrap().1 <= from && segments.last().unwrap().2 >= until,
            "{schedule}: {segments:?}"
        );
        for pair in segments.windows(2) {
            assert_eq!(
                pair[0].2, pair[1].1,
                "schedule {schedule} has a gap: {pair:?}"
            );
        }
    }
    let overrides = s.ok("/api/schedules/7001/overrides", ADMIN).await;
    // Two not yet over: the demo user's cover, from a few hours ago to the next hand-over, and
    // tomorrow's swap of the day shift (the others are Lena's past Sunday nights).
    let now_iso = now.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
    let list: Vec<&serde_json::Value> = overrides
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["end"].as_str().unwrap() > now_iso.as_str())
        .collect();
    assert_eq!(list.len(), 2, "{overrides}");
    let cover = list
        .iter()
        .find(|o| o["start"].as_str().unwrap() <= now_iso.as_str())
        .expect("the demo user's cover has begun");
    assert_eq!(cover["user"]["id"], 10002);
    assert!(cover["end"].as_str().unwrap() > now_iso.as_str());
    let o = list
        .iter()
        .find(|o| o["start"].as_str().unwrap() > now_iso.as_str())
        .expect("tomorrow's swap");
    let start = o["start"].as_str().unwrap();
    assert!(
        start > from.as_str() && start < until.as_str(),
        "the override is in the coming days"
    );
    assert!(cover["end"].as_str().unwrap() <= start, "{overrides}");
    let with = s
        .ok(
            &format!(
                "/api/schedules/7001/shifts?from={start}&until={}",
                o["end"].as_str().unwrap()
            ),
            ADMIN,
        )
        .await;
    assert_eq!(with[0]["user"]["id"], o["user"]["id"]);
    let without = s
        .ok(
            &format!(
                "/api/schedules/7001/shifts?from={start}&until={}&exclude-overrides=true",
                o["end"].as_str().unwrap()
            ),
            ADMIN,
        )
        .await;
    assert_ne!(
        without[0]["user"]["id"], o["user"]["id"],
        "the override replaces the other day-shift person"
    );
    // Every policy level shows up in /on-calls now, schedules and direct users alike.
    let now_on_call = s.ok("/api/on-calls?expand=escalationPolicy", ADMIN).await;
    let levels: Vec<(i64, i64)> = now_on_call
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["escalationPolicy"]["id"].as_i64().unwrap(),
                o["escalationLevel"].as_i64().unwrap(),
            )
        })
        .collect();
    for expected in [
        (3101, 1),
        (3101, 2),
        (3101, 3),
        (3102, 1),
        (3102, 2),
        (3103, 1),
        (3103, 2),
    ] {
        assert!(levels.contains(&expected), "{expected:?} in {levels:?}");
    }
}
