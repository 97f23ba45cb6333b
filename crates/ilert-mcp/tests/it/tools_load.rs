//! `get_oncall_load`: every figure checked against what the sandbox's REST API says, computed
//! here from `/schedules/{id}/shifts`, `/users` and `/alerts/{id}/notifications`, never through
//! the code under test. Periods are pinned to whole UTC days before today, so the answers hold at
//! any hour.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Duration, NaiveTime, TimeZone, Timelike, Utc, Weekday};
use chrono_tz::Tz;
use serde_json::{Value, json};

use crate::common::*;
use crate::tools_support::*;

const ARJUN: i64 = 10010;
const LENA: i64 = 10005;

fn at(raw: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(raw)
        .unwrap()
        .with_timezone(&Utc)
}

fn wire(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Four weeks of whole UTC days, ending two days ago.
fn period() -> (DateTime<Utc>, DateTime<Utc>) {
    let today = Utc::now()
        .with_hour(0)
        .and_then(|t| t.with_minute(0))
        .and_then(|t| t.with_second(0))
        .and_then(|t| t.with_nanosecond(0))
        .unwrap();
    (today - Duration::days(28), today - Duration::days(2))
}

async fn zones(sandbox: &str) -> BTreeMap<i64, Tz> {
    let users = sandbox_get(sandbox, ADMIN_KEY, "users").await;
    users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["id"].as_i64().unwrap(),
                u["timezone"].as_str().unwrap().parse::<Tz>().unwrap(),
            )
        })
        .collect()
}

/// Per user: minutes on call, at night (22-06 local) and at weekends, from the shifts.
async fn minutes(
    sandbox: &str,
    schedule: i64,
    (from, until): (DateTime<Utc>, DateTime<Utc>),
    zones: &BTreeMap<i64, Tz>,
) -> BTreeMap<i64, (i64, i64, i64)> {
    let shifts = sandbox_get(
        sandbox,
        ADMIN_KEY,
        &format!(
            "schedules/{schedule}/shifts?from={}&until={}",
            wire(from),
            wire(until)
        ),
    )
    .await;
    let mut out: BTreeMap<i64, (i64, i64, i64)> = BTreeMap::new();
    for s in shifts.as_array().unwrap() {
        let Some(user) = s["user"]["id"].as_i64() else {
            continue;
        };
        let zone = zones[&user];
        let (start, end) = (
            at(s["start"].as_str().unwrap()).max(from),
            at(s["end"].as_str().unwrap()).min(until),
        );
        let row = out.entry(user).or_default();
        let mut t = start;
        while t < end {
            let local = t.with_timezone(&zone);
            row.0 += 1;
            row.1 += i64::from(local.hour() >= 22 || local.hour() < 6);
            row.2 += i64::from(matches!(local.weekday(), Weekday::Sat | Weekday::Sun));
            t += Duration::minutes(1);
        }
    }
    out
}

fn hours(minutes: i64) -> f64 {
    (minutes as f64 / 60.0 * 10.0).round() / 10.0
}

fn row(out: &Value, user: i64) -> &Value {
    out["people"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["user"] == user)
        .unwrap_or_else(|| panic!("no row for {user}: {out}"))
}

#[tokio::test]
async fn platform_hours_nights_and_weekends_match_the_shifts() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    let (from, until) = period();
    let overrides_before = sandbox_get(&h.sandbox_url, ADMIN_KEY, "schedules/7002/overrides").await;
    let result = call(
        &client,
        "get_oncall_load",
        json!({"team": "Platform", "from": wire(from), "until": wire(until)}),
    )
    .await;
    let out = ok(&result);
    let zones = zones(&h.sandbox_url).await;
    let expected = minutes(&h.sandbox_url, 7002, (from, until), &zones).await;
    assert!(!expected.is_empty());
    for (user, (total, night, weekend)) in &expected {
        let r = row(out, *user);
        assert_eq!(r["hours"].as_f64().unwrap(), hours(*total), "{user}: {r}");
        assert_eq!(
            r["night_hours"].as_f64().unwrap(),
            hours(*night),
            "{user}: {r}"
        );
        assert_eq!(
            r["weekend_hours"].as_f64().unwrap(),
            hours(*weekend),
            "{user}: {r}"
        );
    }
    // The story: Arjun covered Emily's evenings, his nights; nobody else on Platform has one.
    let most = expected.iter().max_by_key(|(_, m)| m.1).unwrap();
    assert_eq!(*most.0, ARJUN);
    assert_eq!(out["people"][0]["user"], ARJUN, "heaviest first");
    let said = text(&result);
    assert!(said.contains("\"Arjun Mehta\" (Asia/Kolkata)"), "{said}");
    assert!(
        said.contains("shifts (overrides applied) of \"Platform follow-the-sun\" (7002)"),
        "{said}"
    );
    // A suggestion names an override for the user to create; none is created.
    if let Some(s) = out.get("suggestion") {
        assert_ne!(s["user"], s["instead_of"]);
        assert!(said.contains("create_schedule_override"), "{said}");
    }
    let overrides_after = sandbox_get(&h.sandbox_url, ADMIN_KEY, "schedules/7002/overrides").await;
    assert_eq!(overrides_before, overrides_after, "nothing was created");
}

/// Nights whose pages left under 11 hours' rest, from the notifications: (user, evening date).
fn short_rest(
    pages: &BTreeMap<(i64, i64), DateTime<Utc>>,
    zones: &BTreeMap<i64, Tz>,
) -> BTreeSet<(i64, String)> {
    let mut nights: BTreeMap<(i64, chrono::NaiveDate), Vec<DateTime<Utc>>> = BTreeMap::new();
    for ((user, _alert), t) in pages {
        let local = t.with_timezone(&zones[user]);
        let evening = match local.hour() {
            0..9 => local.date_naive() - Duration::days(1),
            19.. => local.date_naive(),
            _ => continue,
        };
        nights.entry((*user, evening)).or_default().push(*t);
    }
    let mut out = BTreeSet::new();
    for ((user, evening), mut list) in nights {
        let zone = zones[&user];
        if !list.iter().any(|t| {
            let hour = t.with_timezone(&zone).hour();
            !(6..22).contains(&hour)
        }) {
            continue;
        }
        list.sort();
        let edge = |d: chrono::NaiveDate, h| {
            zone.from_local_datetime(&d.and_time(NaiveTime::from_hms_opt(h, 0, 0).unwrap()))
                .earliest()
                .unwrap()
                .with_timezone(&Utc)
        };
        let mut bounds = vec![edge(evening, 19)];
        bounds.extend(list);
        bounds.push(edge(evening + Duration::days(1), 9));
        let longest = bounds.windows(2).map(|w| w[1] - w[0]).max().unwrap();
        if longest < Duration::hours(11) {
            out.insert((user, evening.to_string()));
        }
    }
    out
}

#[tokio::test]
async fn checkout_pages_and_short_rest_match_the_notifications() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    let (from, until) = period();
    let result = call(
        &client,
        "get_oncall_load",
        json!({"team": "Checkout", "from": wire(from), "until": wire(until)}),
    )
    .await;
    let out = ok(&result);
    let zones = zones(&h.sandbox_url).await;
    // The alerts of the Checkout policy in the period and their notifications.
    let alerts = sandbox_get(
        &h.sandbox_url,
        ADMIN_KEY,
        &format!(
            "alerts?policies=3101&from={}&until={}&max-results=100",
            wire(from),
            wire(until)
        ),
    )
    .await;
    let alerts = alerts.as_array().unwrap();
    assert!(
        alerts.len() <= 40,
        "within what the tool reads: {}",
        alerts.len()
    );
    let mut first: BTreeMap<(i64, i64), DateTime<Utc>> = BTreeMap::new();
    for a in alerts {
        let id = a["id"].as_i64().unwrap();
        let sent = sandbox_get(
            &h.sandbox_url,
            ADMIN_KEY,
            &format!("alerts/{id}/notifications"),
        )
        .await;
        for n in sent.as_array().unwrap() {
            let t = at(n["notificationTime"].as_str().unwrap());
            if t < from || t >= until {
                continue;
            }
            let user = n["user"]["id"].as_i64().unwrap();
            let slot = first.entry((user, id)).or_insert(t);
            *slot = (*slot).min(t);
        }
    }
    let mut pages: BTreeMap<i64, usize> = BTreeMap::new();
    for (user, _) in first.keys() {
        *pages.entry(*user).or_default() += 1;
    }
    for (user, n) in &pages {
        assert_eq!(
            row(out, *user)["pages"].as_u64().unwrap() as usize,
            *n,
            "{user}"
        );
    }
    let expected = short_rest(&first, &zones);
    let got: BTreeSet<(i64, String)> = out["short_rest"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["user"].as_i64().unwrap(),
                f["night"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(got, expected);
    // The story: the Sunday export job woke Lena while she covered Liam's nights.
    assert!(expected.iter().any(|(u, _)| *u == LENA), "{expected:?}");
    let said = text(&result);
    println!("{said}");
    assert!(said.contains("\"Lena Hoffmann\" the night of"), "{said}");
    assert!(said.contains("not legal advice"), "{said}");
}

/// The seeded cover has no holes, so the test makes one: a STATIC schedule, created through
/// REST, with two shifts and a hole between them in the coming week.
#[tokio::test]
async fn gaps_in_the_coming_week_match_the_shifts() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    let now = Utc::now();
    let day = now.date_naive() + Duration::days(2);
    let t = |d: i64, h: u32| {
        wire(
            (day + Duration::days(d))
                .and_hms_opt(h, 0, 0)
                .unwrap()
                .and_utc(),
        )
    };
    let body = json!({"name": "Load gap test", "type": "STATIC", "timezone": "UTC", "shifts": [
        {"user": {"id": LENA}, "start": wire(now - Duration::days(1)), "end": t(0, 8)},
        {"user": {"id": ARJUN}, "start": t(0, 20), "end": t(9, 0)},
    ]});
    let created: Value = reqwest::Client::new()
        .post(format!("{}/schedules", h.sandbox_url))
        .bearer_auth(ADMIN_KEY)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("{created}"));
    let result = call(
        &client,
        "get_oncall_load",
        json!({"schedule": id.to_string(), "ahead": 7}),
    )
    .await;
    let out = ok(&result);
    // The holes between the shifts REST lists for the coming week.
    let shifts = sandbox_get(
        &h.sandbox_url,
        ADMIN_KEY,
        &format!(
            "schedules/{id}/shifts?from={}&until={}",
            wire(now),
            wire(now + Duration::days(7))
        ),
    )
    .await;
    let mut spans: Vec<(DateTime<Utc>, DateTime<Utc>)> = shifts
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["user"]["id"].is_i64())
        .map(|s| {
            (
                at(s["start"].as_str().unwrap()),
                at(s["end"].as_str().unwrap()),
            )
        })
        .collect();
    spans.sort();
    let holes: Vec<(DateTime<Utc>, DateTime<Utc>)> = spans
        .windows(2)
        .filter(|w| w[0].1 < w[1].0)
        .map(|w| (w[0].1, w[1].0))
        .collect();
    assert_eq!(holes.len(), 1, "{spans:?}");
    let gaps = out["gaps"].as_array().unwrap();
    assert_eq!(gaps.len(), 1, "{out}");
    assert_eq!(gaps[0]["schedule"], id);
    assert_eq!(at(gaps[0]["from"].as_str().unwrap()), holes[0].0);
    assert_eq!(at(gaps[0]["until"].as_str().unwrap()), holes[0].1);
    assert_eq!(gaps[0]["hours"].as_f64().unwrap(), 12.0);
    assert!(
        text(&result).contains("\"Load gap test\""),
        "{}",
        text(&result)
    );
    // The seeded Checkout cover has none.
    let result = call(&client, "get_oncall_load", json!({"team": "Checkout"})).await;
    assert_eq!(ok(&result)["gaps"], json!([]));
    assert!(text(&result).contains("Gaps in cover in the next 7 days: none."));
}

#[tokio::test]
async fn load_needs_a_team_or_a_schedule() {
    let h = start().await;
    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    let result = call(&client, "get_oncall_load", json!({})).await;
    assert!(is_error(&result));
    let result = call(
        &client,
        "get_oncall_load",
        json!({"schedule": "Storefront weekly", "ahead": 99}),
    )
    .await;
    assert!(is_error(&result));
}
