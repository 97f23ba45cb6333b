//! On-call load (issue 25 §3): who carried how much of a team's or a schedule's cover, at night
//! and at weekends, how often they were paged, whether night pages cut their rest short, where
//! the coming cover has gaps, and one override that would even the load out. ilert has no such
//! report, so it is computed here from shifts, users' time zones, alerts and their notifications;
//! the tool ([`crate::tools::load`]) only fetches, within the budget stated below.
//!
//! Definitions, as the answer states them:
//! - night: 22:00 to 06:00 in the person's own time zone (their ilert profile; UTC if none);
//! - weekend: Saturday and Sunday in the person's time zone;
//! - a page: an alert that notified the person (its first notification to them), whatever the
//!   number of channels; accepted: the alert lists them as a responder who accepted;
//! - rest: for a night with a page between 22:00 and 06:00, the longest page-free stretch from
//!   19:00 to 09:00 local; under 11 hours is flagged (the EU working-time rule of 11 hours' rest,
//!   as a flag, not legal advice).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{
    DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Timelike, Utc, Weekday,
};
use chrono_tz::Tz;
use schemars::JsonSchema;
use serde::Serialize;

use crate::rules::{times, untrusted};

/// The period looked back over by default, in days.
pub const DEFAULT_DAYS: i64 = 30;
/// The longest period, in days (ilert's shift ranges stay well inside three months).
pub const MAX_DAYS: i64 = 62;
/// Days ahead searched for gaps by default, and at most.
pub const DEFAULT_AHEAD: i64 = 7;
pub const MAX_AHEAD: i64 = 28;
/// Schedules read at most (two shift requests each).
pub const MAX_SCHEDULES: usize = 3;
/// Alerts of the period read (one page), and of those, the newest whose notifications are read.
pub const MAX_ALERTS: u32 = 100;
pub const MAX_NOTIFIED: usize = 40;
/// Rest shorter than this is flagged, in hours.
pub const REST_HOURS: i64 = 11;
/// A load difference under this many night-and-weekend hours is even enough.
const EVEN_HOURS: f64 = 8.0;

/// A stretch of time, start to end.
type Span = (DateTime<Utc>, DateTime<Utc>);

/// One stretch of cover: who, on which schedule, when.
#[derive(Debug, Clone)]
pub struct Duty {
    pub user: i64,
    pub name: String,
    pub zone: Option<Tz>,
    pub schedule: (i64, String),
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// One notification to a person about an alert.
#[derive(Debug, Clone)]
pub struct Page {
    pub user: i64,
    pub name: String,
    pub alert: i64,
    pub at: DateTime<Utc>,
}

/// A person's load in the period.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PersonLoad {
    pub user: i64,
    pub name: String,
    pub timezone: String,
    pub hours: f64,
    pub night_hours: f64,
    pub weekend_hours: f64,
    /// Alerts that notified them.
    pub pages: usize,
    pub night_pages: usize,
    pub accepted: usize,
    pub longest_hours: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub longest_from: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct RestFlag {
    pub user: i64,
    pub name: String,
    /// The evening the night began (local date).
    pub night: String,
    pub alerts: Vec<i64>,
    /// Local times of the pages.
    pub pages_at: Vec<String>,
    pub rest_hours: f64,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Gap {
    pub schedule: i64,
    pub schedule_name: String,
    pub from: String,
    pub until: String,
    pub hours: f64,
}

/// An override the user may create with `create_schedule_override`; never created here.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Suggestion {
    pub schedule: i64,
    pub schedule_name: String,
    /// Who covers.
    pub user: i64,
    pub user_name: String,
    /// Whom they relieve.
    pub instead_of: i64,
    pub instead_of_name: String,
    pub start: String,
    pub end: String,
    pub why: String,
}

fn hours(d: Duration) -> f64 {
    (d.num_minutes() as f64 / 60.0 * 10.0).round() / 10.0
}

fn local(t: DateTime<Utc>, zone: Option<Tz>) -> chrono::DateTime<Tz> {
    t.with_timezone(&zone.unwrap_or(Tz::UTC))
}

/// Whether a local hour is at night (22:00 to 06:00).
pub fn is_night(hour: u32) -> bool {
    !(6..22).contains(&hour)
}

/// Minutes of `[start, end)` at night and at the weekend in `zone`, counted minute by minute.
pub fn night_and_weekend(start: DateTime<Utc>, end: DateTime<Utc>, zone: Option<Tz>) -> (i64, i64) {
    let (mut night, mut weekend) = (0, 0);
    let mut t = start;
    while t < end {
        let l = local(t, zone);
        night += i64::from(is_night(l.hour()));
        weekend += i64::from(matches!(l.weekday(), Weekday::Sat | Weekday::Sun));
        t += Duration::minutes(1);
    }
    (night, weekend)
}

/// Intervals merged where they touch or overlap, sorted.
fn merged(mut spans: Vec<(DateTime<Utc>, DateTime<Utc>)>) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    spans.sort();
    let mut out: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    for (s, e) in spans {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

/// Per person, heaviest night-and-weekend load first. Duties are clipped to the period; pages
/// and accepts outside it are ignored by the caller.
pub fn people(
    duties: &[Duty],
    pages: &[Page],
    accepted: &[(i64, i64)],
    (from, until): (DateTime<Utc>, DateTime<Utc>),
    show_tz: Tz,
) -> Vec<PersonLoad> {
    let mut out: BTreeMap<i64, PersonLoad> = BTreeMap::new();
    let mut zones: BTreeMap<i64, Option<Tz>> = BTreeMap::new();
    let mut spans: BTreeMap<i64, Vec<Span>> = BTreeMap::new();
    for d in duties {
        zones.entry(d.user).or_insert(d.zone);
        out.entry(d.user)
            .or_insert_with(|| empty(d.user, &d.name, d.zone));
        let (s, e) = (d.start.max(from), d.end.min(until));
        if s >= e {
            continue;
        }
        spans.entry(d.user).or_default().push((s, e));
    }
    for (user, list) in &spans {
        let zone = zones.get(user).copied().flatten();
        let list = merged(list.clone());
        let Some(row) = out.get_mut(user) else {
            continue;
        };
        let total: i64 = list.iter().map(|(s, e)| (*e - *s).num_minutes()).sum();
        let (night, weekend) = list.iter().fold((0, 0), |(n, w), (s, e)| {
            let (a, b) = night_and_weekend(*s, *e, zone);
            (n + a, w + b)
        });
        row.hours = hours(Duration::minutes(total));
        row.night_hours = hours(Duration::minutes(night));
        row.weekend_hours = hours(Duration::minutes(weekend));
        if let Some((s, e)) = list
            .iter()
            .max_by_key(|(s, e)| (*e - *s, std::cmp::Reverse(*s)))
        {
            row.longest_hours = hours(*e - *s);
            row.longest_from = Some(times::show(*s, show_tz));
        }
    }
    for (user, first) in first_pages(pages) {
        let zone = zones.get(&user.0).copied().flatten();
        let row = out
            .entry(user.0)
            .or_insert_with(|| empty(user.0, &user.1, zone));
        row.pages += first.len();
        row.night_pages += first
            .values()
            .filter(|t| is_night(local(**t, zone).hour()))
            .count();
    }
    for (user, _) in accepted {
        if let Some(row) = out.get_mut(user) {
            row.accepted += 1;
        }
    }
    let mut rows: Vec<PersonLoad> = out.into_values().collect();
    rows.sort_by(|a, b| {
        (b.night_hours + b.weekend_hours)
            .total_cmp(&(a.night_hours + a.weekend_hours))
            .then(b.hours.total_cmp(&a.hours))
            .then(a.user.cmp(&b.user))
    });
    rows
}

fn empty(user: i64, name: &str, zone: Option<Tz>) -> PersonLoad {
    PersonLoad {
        user,
        name: untrusted::inline(name).into_owned(),
        timezone: zone.map_or_else(|| "UTC (none set)".to_owned(), |z| z.name().to_owned()),
        hours: 0.0,
        night_hours: 0.0,
        weekend_hours: 0.0,
        pages: 0,
        night_pages: 0,
        accepted: 0,
        longest_hours: 0.0,
        longest_from: None,
    }
}

/// Per person, the first notification of each alert.
fn first_pages(pages: &[Page]) -> BTreeMap<(i64, String), BTreeMap<i64, DateTime<Utc>>> {
    let mut out: BTreeMap<(i64, String), BTreeMap<i64, DateTime<Utc>>> = BTreeMap::new();
    let mut names: BTreeMap<i64, String> = BTreeMap::new();
    for p in pages {
        let name = names
            .entry(p.user)
            .or_insert_with(|| p.name.clone())
            .clone();
        let t = out
            .entry((p.user, name))
            .or_default()
            .entry(p.alert)
            .or_insert(p.at);
        *t = (*t).min(p.at);
    }
    out
}

/// Nights whose pages left less than [`REST_HOURS`] of rest, per person, oldest first.
pub fn rest(pages: &[Page], zones: &BTreeMap<i64, Option<Tz>>) -> Vec<RestFlag> {
    let mut flags = Vec::new();
    for ((user, name), first) in first_pages(pages) {
        let zone = zones.get(&user).copied().flatten();
        // The night a page belongs to: the evening's date (a page before 09:00 belongs to the
        // previous evening).
        let mut nights: BTreeMap<NaiveDate, Vec<(DateTime<Utc>, i64)>> = BTreeMap::new();
        for (alert, at) in &first {
            let l = local(*at, zone);
            let night = if l.hour() < 9 {
                l.date_naive() - Duration::days(1)
            } else if l.hour() >= 19 {
                l.date_naive()
            } else {
                continue;
            };
            nights.entry(night).or_default().push((*at, *alert));
        }
        for (night, mut list) in nights {
            let tz = zone.unwrap_or(Tz::UTC);
            if !list.iter().any(|(t, _)| is_night(local(*t, zone).hour())) {
                continue;
            }
            let at = |d: NaiveDate, h: u32| {
                tz.from_local_datetime(
                    &d.and_time(NaiveTime::from_hms_opt(h, 0, 0).unwrap_or_default()),
                )
                .earliest()
                .map(|t| t.with_timezone(&Utc))
            };
            let (Some(open), Some(close)) = (at(night, 19), at(night + Duration::days(1), 9))
            else {
                continue;
            };
            list.sort();
            let mut longest = Duration::zero();
            let mut prev = open;
            for (t, _) in &list {
                longest = longest.max(*t - prev);
                prev = *t;
            }
            longest = longest.max(close - prev);
            if longest < Duration::hours(REST_HOURS) {
                flags.push(RestFlag {
                    user,
                    name: untrusted::inline(&name).into_owned(),
                    night: night.to_string(),
                    alerts: list.iter().map(|(_, a)| *a).collect(),
                    pages_at: list
                        .iter()
                        .map(|(t, _)| local(*t, zone).format("%H:%M").to_string())
                        .collect(),
                    rest_hours: hours(longest),
                });
            }
        }
    }
    flags
}

/// Stretches of `[from, until)` no shift of a schedule covers.
pub fn gaps(
    duties: &[Duty],
    schedules: &[(i64, String)],
    (from, until): (DateTime<Utc>, DateTime<Utc>),
    show_tz: Tz,
) -> Vec<Gap> {
    let mut out = Vec::new();
    for (id, name) in schedules {
        let covered = merged(
            duties
                .iter()
                .filter(|d| d.schedule.0 == *id)
                .map(|d| (d.start.max(from), d.end.min(until)))
                .filter(|(s, e)| s < e)
                .collect(),
        );
        let mut at = from;
        for (s, e) in covered.iter().copied().chain([(until, until)]) {
            if s > at {
                out.push(Gap {
                    schedule: *id,
                    schedule_name: untrusted::inline(name).into_owned(),
                    from: times::show(at, show_tz),
                    until: times::show(s, show_tz),
                    hours: hours(s - at),
                });
            }
            at = at.max(e);
        }
    }
    out
}

/// Why there is no suggestion, in words: the load is even (the heaviest and the lightest person
/// with shifts differ by under [`EVEN_HOURS`] of night and weekend hours), or it is not and no
/// coming shift could be moved, which says who carries it.
pub fn no_suggestion(load: &[PersonLoad]) -> String {
    let with_shifts: Vec<&PersonLoad> = load.iter().filter(|p| p.hours > 0.0).collect();
    let weight = |p: &PersonLoad| p.night_hours + p.weekend_hours;
    match (with_shifts.first(), with_shifts.last()) {
        (Some(heavy), Some(light)) if weight(heavy) - weight(light) >= EVEN_HOURS => format!(
            "none found, though the load is uneven: {} had {} night and {} weekend hours, {} had \
             {} and {}; no coming shift of {} could move to someone lighter who shares the \
             schedule and is free then",
            untrusted::quoted(&heavy.name),
            heavy.night_hours,
            heavy.weekend_hours,
            untrusted::quoted(&light.name),
            light.night_hours,
            light.weekend_hours,
            untrusted::quoted(&heavy.name)
        ),
        _ => format!(
            "none; night and weekend hours differ by under {EVEN_HOURS} between the people with \
             shifts"
        ),
    }
}

/// One override that moves night-and-weekend load from the heaviest to the lightest person: the
/// heaviest person's next coming shift with night or weekend hours, on a schedule the lightest
/// also takes shifts on, at a time the lightest is not already on call and with fewer night and
/// weekend hours in their own time zone. None when the load is even enough or no such shift
/// comes. A shift already under way is offered from the next full hour (overrides cannot start
/// in the past).
pub fn suggestion(
    load: &[PersonLoad],
    past: &[Duty],
    coming: &[Duty],
    now: DateTime<Utc>,
    show_tz: Tz,
) -> Option<Suggestion> {
    let next_hour = now
        .with_minute(0)
        .and_then(|t| t.with_second(0))
        .and_then(|t| t.with_nanosecond(0))
        .unwrap_or(now)
        + Duration::hours(1);
    let coming: Vec<Duty> = coming
        .iter()
        .filter(|d| d.end > next_hour)
        .map(|d| Duty {
            start: d.start.max(next_hour),
            ..d.clone()
        })
        .collect();
    let coming = coming.as_slice();
    let with_shifts: Vec<&PersonLoad> = load.iter().filter(|p| p.hours > 0.0).collect();
    let heavy = with_shifts.first()?;
    let weight = |p: &PersonLoad| p.night_hours + p.weekend_hours;
    let schedules_of = |user: i64| -> BTreeSet<i64> {
        past.iter()
            .chain(coming)
            .filter(|d| d.user == user)
            .map(|d| d.schedule.0)
            .collect()
    };
    let heavy_schedules = schedules_of(heavy.user);
    // Lightest first.
    for light in with_shifts.iter().rev() {
        if light.user == heavy.user || weight(heavy) - weight(light) < EVEN_HOURS {
            continue;
        }
        let shared = schedules_of(light.user);
        let busy: Vec<&Duty> = coming.iter().filter(|d| d.user == light.user).collect();
        let light_zone = past
            .iter()
            .chain(coming)
            .find(|d| d.user == light.user)
            .and_then(|d| d.zone);
        // A shift that is night or weekend for the heavy one, and less so in the light one's
        // own time zone (no moving a night to someone for whom it is night too).
        let pick = coming.iter().filter(|d| d.user == heavy.user).find(|d| {
            let (n, w) = night_and_weekend(d.start, d.end, d.zone);
            let (ln, lw) = night_and_weekend(d.start, d.end, light_zone);
            shared.contains(&d.schedule.0)
                && heavy_schedules.contains(&d.schedule.0)
                && n + w > 0
                && ln + lw < n + w
                && !busy.iter().any(|b| b.start < d.end && d.start < b.end)
        });
        if let Some(d) = pick {
            let (n, w) = night_and_weekend(d.start, d.end, d.zone);
            return Some(Suggestion {
                schedule: d.schedule.0,
                schedule_name: untrusted::inline(&d.schedule.1).into_owned(),
                user: light.user,
                user_name: light.name.clone(),
                instead_of: heavy.user,
                instead_of_name: heavy.name.clone(),
                start: times::show(d.start, show_tz),
                end: times::show(d.end, show_tz),
                why: format!(
                    "{} had {} night and {} weekend hours in the period, {} had {} and {}; this shift holds {} night and {} weekend hours of {}",
                    untrusted::quoted(&heavy.name),
                    heavy.night_hours,
                    heavy.weekend_hours,
                    untrusted::quoted(&light.name),
                    light.night_hours,
                    light.weekend_hours,
                    hours(Duration::minutes(n)),
                    hours(Duration::minutes(w)),
                    untrusted::quoted(&heavy.name),
                ),
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn no_suggestion_says_whether_the_load_is_even() {
        let person = |user, name: &str, hours, night| PersonLoad {
            hours,
            night_hours: night,
            ..empty(user, name, None)
        };
        // Sorted as `per_person` sorts: most night and weekend hours first.
        let uneven = [
            person(1, "Arjun", 112.0, 45.0),
            person(2, "Yuki", 240.0, 0.0),
        ];
        let said = no_suggestion(&uneven);
        assert!(
            said.starts_with("none found, though the load is uneven: \"Arjun\" had 45 night"),
            "{said}"
        );
        let even = [
            person(1, "Arjun", 112.0, 5.0),
            person(2, "Yuki", 240.0, 0.0),
        ];
        assert!(
            no_suggestion(&even).contains("differ by under 8"),
            "{}",
            no_suggestion(&even)
        );
    }

    #[test]
    fn night_and_weekend_are_counted_in_the_persons_zone() {
        // Friday 20:00 to Saturday 08:00 Berlin (winter, UTC+1).
        let (n, w) = night_and_weekend(
            t("2026-12-04T19:00:00Z"),
            t("2026-12-05T07:00:00Z"),
            Some(chrono_tz::Europe::Berlin),
        );
        assert_eq!((n, w), (8 * 60, 8 * 60));
    }

    #[test]
    fn a_page_at_two_leaves_too_little_rest_one_at_ten_does_not() {
        let page = |at: &str, alert| Page {
            user: 1,
            name: "A".into(),
            alert,
            at: t(at),
        };
        let zones = BTreeMap::from([(1, Some(chrono_tz::UTC))]);
        let flags = rest(&[page("2026-12-02T02:00:00Z", 7)], &zones);
        assert_eq!(flags.len(), 1);
        assert_eq!(flags[0].night, "2026-12-01");
        assert_eq!(flags[0].rest_hours, 7.0);
        assert!(rest(&[page("2026-12-02T22:00:00Z", 8)], &zones).is_empty());
    }

    #[test]
    fn a_night_is_not_moved_to_someone_for_whom_it_is_night_too() {
        let duty = |user, zone, s: &str, e: &str| Duty {
            user,
            name: format!("u{user}"),
            zone: Some(zone),
            schedule: (9, "S".into()),
            start: t(s),
            end: t(e),
        };
        let berlin = chrono_tz::Europe::Berlin;
        let past = [
            duty(1, berlin, "2026-11-02T21:00:00Z", "2026-11-03T05:00:00Z"),
            duty(1, berlin, "2026-11-03T21:00:00Z", "2026-11-04T05:00:00Z"),
            duty(2, berlin, "2026-11-03T09:00:00Z", "2026-11-03T17:00:00Z"),
            duty(
                3,
                chrono_tz::Asia::Tokyo,
                "2026-11-04T09:00:00Z",
                "2026-11-04T17:00:00Z",
            ),
        ];
        let period = (t("2026-11-01T00:00:00Z"), t("2026-11-05T00:00:00Z"));
        let load = people(&past, &[], &[], period, chrono_tz::UTC);
        let coming = [duty(
            1,
            berlin,
            "2026-11-10T21:00:00Z",
            "2026-11-11T05:00:00Z",
        )];
        let now = t("2026-11-06T00:00:00Z");
        let s = suggestion(&load, &past, &coming, now, chrono_tz::UTC).unwrap();
        // Tokyo is in the morning then; Berlin's other person would be up at night too.
        assert_eq!((s.user, s.instead_of), (3, 1));
    }

    #[test]
    fn gaps_are_what_no_shift_covers() {
        let duty = |s: &str, e: &str| Duty {
            user: 1,
            name: "A".into(),
            zone: None,
            schedule: (9, "S".into()),
            start: t(s),
            end: t(e),
        };
        let g = gaps(
            &[
                duty("2026-12-01T00:00:00Z", "2026-12-01T08:00:00Z"),
                duty("2026-12-01T10:00:00Z", "2026-12-02T00:00:00Z"),
            ],
            &[(9, "S".into())],
            (t("2026-12-01T00:00:00Z"), t("2026-12-02T02:00:00Z")),
            chrono_tz::UTC,
        );
        assert_eq!(g.len(), 2);
        assert_eq!((g[0].hours, g[1].hours), (2.0, 2.0));
    }
}
