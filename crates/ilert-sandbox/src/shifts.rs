//! Who is on call when: shifts computed from a schedule's rotation layers, their times-of-week
//! restrictions and overrides, in the schedule's time zone. Pure functions over epoch
//! milliseconds; `schedules.rs` loads the inputs and renders the results.
//!
//! Semantics, where ilert's documentation is silent:
//! - Layer `k`'s rotation hands over at `startsOn + k × rotation`, with the calendar part of the
//!   rotation (`P7D`) added in local time and the clock part (`PT8H`) exactly, so a weekly
//!   hand-over stays at the same wall-clock time across a DST change.
//! - Restrictions are weekly windows in the schedule's time zone; a window whose end is not after
//!   its start wraps into the next week (`FRIDAY 18:00` → `MONDAY 08:00`).
//! - Where layers overlap, the later layer in the list wins; overrides win over every layer.
//! - Consecutive pieces of the same user are merged into one shift.

use chrono::{Datelike, Duration, NaiveDateTime, NaiveTime, Weekday};
use chrono_tz::Tz;

use crate::time::{self, DAY, IsoDuration};

/// One person on duty over `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub user_id: i64,
    pub start: i64,
    pub end: i64,
}

impl Segment {
    pub fn contains(&self, t: i64) -> bool {
        self.start <= t && t < self.end
    }

    pub fn overlaps(&self, from: i64, until: i64) -> bool {
        self.start < until && from < self.end
    }
}

/// A weekly window `from` → `to`, wall-clock times in the schedule's zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeekWindow {
    pub from: (Weekday, NaiveTime),
    pub to: (Weekday, NaiveTime),
}

/// A rotation layer of a RECURRING schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    pub starts_on: i64,
    pub ends_on: Option<i64>,
    pub users: Vec<i64>,
    pub rotation: IsoDuration,
    /// Empty: the layer is active around the clock.
    pub restrictions: Vec<WeekWindow>,
}

/// What a schedule is made of.
#[derive(Debug, Clone, Copy)]
pub enum Plan<'a> {
    Recurring(&'a [Layer]),
    Static(&'a [Segment]),
}

/// Bounds the work for absurd inputs (a one-minute rotation over three months).
const MAX_ROTATIONS: u32 = 20_000;

/// The shifts over `[from, until)`, clipped to it, in time order.
pub fn compute(
    tz: Tz,
    plan: Plan<'_>,
    overrides: &[Segment],
    from: i64,
    until: i64,
) -> Vec<Segment> {
    if from >= until {
        return Vec::new();
    }
    let mut pieces: Vec<(usize, Segment)> = Vec::new();
    match plan {
        Plan::Recurring(layers) => {
            for (priority, layer) in layers.iter().enumerate() {
                pieces.extend(
                    layer_segments(tz, layer, from, until)
                        .into_iter()
                        .map(|s| (priority, s)),
                );
            }
        }
        Plan::Static(shifts) => {
            pieces.extend(
                shifts
                    .iter()
                    .filter_map(|s| clip(*s, from, until))
                    .map(|s| (0, s)),
            );
        }
    }
    let top = usize::MAX;
    pieces.extend(
        overrides
            .iter()
            .filter_map(|s| clip(*s, from, until))
            .map(|s| (top, s)),
    );
    flatten(&pieces)
}

fn clip(s: Segment, from: i64, until: i64) -> Option<Segment> {
    let start = s.start.max(from);
    let end = s.end.min(until);
    (start < end).then_some(Segment {
        user_id: s.user_id,
        start,
        end,
    })
}

/// The highest-priority piece at every instant, with neighbours of the same user merged.
fn flatten(pieces: &[(usize, Segment)]) -> Vec<Segment> {
    let mut points: Vec<i64> = pieces.iter().flat_map(|(_, s)| [s.start, s.end]).collect();
    points.sort_unstable();
    points.dedup();
    let mut out: Vec<Segment> = Vec::new();
    for pair in points.windows(2) {
        let (a, b) = match pair {
            [a, b] => (*a, *b),
            _ => continue,
        };
        let winner = pieces
            .iter()
            .filter(|(_, s)| s.start <= a && b <= s.end)
            .max_by_key(|(priority, _)| *priority);
        let Some((_, s)) = winner else { continue };
        match out.last_mut() {
            Some(last) if last.user_id == s.user_id && last.end == a => last.end = b,
            _ => out.push(Segment {
                user_id: s.user_id,
                start: a,
                end: b,
            }),
        }
    }
    out
}

fn layer_segments(tz: Tz, layer: &Layer, from: i64, until: i64) -> Vec<Segment> {
    let n = layer.users.len();
    let lo = from.max(layer.starts_on);
    let hi = until.min(layer.ends_on.unwrap_or(i64::MAX));
    if n == 0 || lo >= hi {
        return Vec::new();
    }
    let windows = if layer.restrictions.is_empty() {
        vec![(lo, hi)]
    } else {
        restriction_windows(tz, &layer.restrictions, lo, hi)
    };
    let start_of = |k: u32| layer.rotation.add_times(tz, layer.starts_on, k);
    let nominal = layer.rotation.nominal_ms().max(1);
    let mut k =
        u32::try_from(((lo - layer.starts_on) / nominal).saturating_sub(2).max(0)).unwrap_or(0);
    while k > 0 && start_of(k).is_none_or(|s| s > lo) {
        k -= 1;
    }
    let mut out = Vec::new();
    for _ in 0..MAX_ROTATIONS {
        let (Some(s), Some(e)) = (start_of(k), start_of(k + 1)) else {
            break;
        };
        if s >= hi || e <= s {
            break;
        }
        if e > lo {
            let user_id = layer.users.get(k as usize % n).copied().unwrap_or_default();
            for &(ws, we) in &windows {
                let start = s.max(lo).max(ws);
                let end = e.min(hi).min(we);
                if start < end {
                    out.push(Segment {
                        user_id,
                        start,
                        end,
                    });
                }
            }
        }
        k += 1;
    }
    out
}

/// The restriction windows as absolute intervals covering `[lo, hi)`, merged and clipped.
fn restriction_windows(tz: Tz, restrictions: &[WeekWindow], lo: i64, hi: i64) -> Vec<(i64, i64)> {
    let Some(lo_local) = time::ms_to_local(tz, lo - 7 * DAY) else {
        return Vec::new();
    };
    let date = lo_local.date();
    let mut monday: NaiveDateTime = (date
        - Duration::days(i64::from(date.weekday().num_days_from_monday())))
    .and_time(NaiveTime::MIN);
    let mut windows = Vec::new();
    loop {
        let week_start = time::local_to_ms(tz, monday);
        if week_start > hi {
            break;
        }
        for r in restrictions {
            let at = |(day, t): (Weekday, NaiveTime)| {
                monday
                    + Duration::days(i64::from(day.num_days_from_monday()))
                    + (t - NaiveTime::MIN)
            };
            let from_local = at(r.from);
            let mut to_local = at(r.to);
            if to_local <= from_local {
                to_local += Duration::days(7);
            }
            let start = time::local_to_ms(tz, from_local).max(lo);
            let end = time::local_to_ms(tz, to_local).min(hi);
            if start < end {
                windows.push((start, end));
            }
        }
        monday += Duration::days(7);
    }
    windows.sort_unstable();
    let mut merged: Vec<(i64, i64)> = Vec::new();
    for (s, e) in windows {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    merged
}

/// `MONDAY` → `Weekday::Mon`.
pub fn parse_weekday(s: &str) -> Option<Weekday> {
    Some(match s.trim().to_ascii_uppercase().as_str() {
        "MONDAY" => Weekday::Mon,
        "TUESDAY" => Weekday::Tue,
        "WEDNESDAY" => Weekday::Wed,
        "THURSDAY" => Weekday::Thu,
        "FRIDAY" => Weekday::Fri,
        "SATURDAY" => Weekday::Sat,
        "SUNDAY" => Weekday::Sun,
        _ => return None,
    })
}

pub fn weekday_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "MONDAY",
        Weekday::Tue => "TUESDAY",
        Weekday::Wed => "WEDNESDAY",
        Weekday::Thu => "THURSDAY",
        Weekday::Fri => "FRIDAY",
        Weekday::Sat => "SATURDAY",
        Weekday::Sun => "SUNDAY",
    }
}

/// `"15:00"`; `"24:00"` is read as the end of the day.
pub fn parse_time_of_day(s: &str) -> Option<NaiveTime> {
    let s = s.trim();
    if s == "24:00" {
        return NaiveTime::from_hms_opt(23, 59, 59);
    }
    NaiveTime::parse_from_str(s, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(s, "%H:%M:%S"))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{HOUR, format_ms, parse};

    fn t(s: &str) -> i64 {
        parse(s).unwrap()
    }

    fn berlin() -> Tz {
        "Europe/Berlin".parse().unwrap()
    }

    fn window(from: (Weekday, &str), to: (Weekday, &str)) -> WeekWindow {
        WeekWindow {
            from: (from.0, parse_time_of_day(from.1).unwrap()),
            to: (to.0, parse_time_of_day(to.1).unwrap()),
        }
    }

    fn daily(from: &str, to: &str) -> Vec<WeekWindow> {
        use Weekday::*;
        [Mon, Tue, Wed, Thu, Fri, Sat, Sun]
            .into_iter()
            .map(|d| {
                let end_day = if to <= from { d.succ() } else { d };
                window((d, from), (end_day, to))
            })
            .collect()
    }

    fn show(segments: &[Segment]) -> Vec<(i64, String, String)> {
        segments
            .iter()
            .map(|s| (s.user_id, format_ms(s.start), format_ms(s.end)))
            .collect()
    }

    #[test]
    fn weekly_rotation_keeps_local_handover_across_dst() {
        // Berlin falls back on Sunday 2026-10-25: 08:00 local is 06:00Z before, 07:00Z after.
        let layer = Layer {
            starts_on: t("2026-10-12T06:00:00Z"),
            ends_on: None,
            users: vec![1, 2],
            rotation: IsoDuration::parse("P7D").unwrap(),
            restrictions: vec![],
        };
        let got = compute(
            berlin(),
            Plan::Recurring(std::slice::from_ref(&layer)),
            &[],
            t("2026-10-12T00:00:00Z"),
            t("2026-11-02T12:00:00Z"),
        );
        assert_eq!(
            show(&got),
            [
                (
                    1,
                    "2026-10-12T06:00:00.000Z".into(),
                    "2026-10-19T06:00:00.000Z".into()
                ),
                (
                    2,
                    "2026-10-19T06:00:00.000Z".into(),
                    "2026-10-26T07:00:00.000Z".into()
                ),
                (
                    1,
                    "2026-10-26T07:00:00.000Z".into(),
                    "2026-11-02T07:00:00.000Z".into()
                ),
                (
                    2,
                    "2026-11-02T07:00:00.000Z".into(),
                    "2026-11-02T12:00:00.000Z".into()
                ),
            ]
        );
    }

    #[test]
    fn follow_the_sun_layers_with_restrictions_and_an_override() {
        let start = t("2026-03-23T00:00:00+01:00");
        let layer = |users: Vec<i64>, from: &str, to: &str| Layer {
            starts_on: start,
            ends_on: None,
            users,
            rotation: IsoDuration::parse("P7D").unwrap(),
            restrictions: daily(from, to),
        };
        let layers = [
            layer(vec![1, 2], "08:00", "16:00"),
            layer(vec![3], "16:00", "00:00"),
            layer(vec![4], "00:00", "08:00"),
        ];
        let overrides = [Segment {
            user_id: 9,
            start: t("2026-03-30T10:00:00+02:00"),
            end: t("2026-03-30T12:00:00+02:00"),
        }];
        // Sunday 2026-03-29 is the spring-forward day in Berlin.
        let got = compute(
            berlin(),
            Plan::Recurring(&layers),
            &overrides,
            t("2026-03-28T00:00:00+01:00"),
            t("2026-03-31T00:00:00+02:00"),
        );
        assert_eq!(
            show(&got),
            [
                (
                    4,
                    "2026-03-27T23:00:00.000Z".into(),
                    "2026-03-28T07:00:00.000Z".into()
                ),
                (
                    1,
                    "2026-03-28T07:00:00.000Z".into(),
                    "2026-03-28T15:00:00.000Z".into()
                ),
                (
                    3,
                    "2026-03-28T15:00:00.000Z".into(),
                    "2026-03-28T23:00:00.000Z".into()
                ),
                // The night of the change is one hour shorter.
                (
                    4,
                    "2026-03-28T23:00:00.000Z".into(),
                    "2026-03-29T06:00:00.000Z".into()
                ),
                (
                    1,
                    "2026-03-29T06:00:00.000Z".into(),
                    "2026-03-29T14:00:00.000Z".into()
                ),
                (
                    3,
                    "2026-03-29T14:00:00.000Z".into(),
                    "2026-03-29T22:00:00.000Z".into()
                ),
                (
                    4,
                    "2026-03-29T22:00:00.000Z".into(),
                    "2026-03-30T06:00:00.000Z".into()
                ),
                // Week two: user 2's turn, interrupted by the override.
                (
                    2,
                    "2026-03-30T06:00:00.000Z".into(),
                    "2026-03-30T08:00:00.000Z".into()
                ),
                (
                    9,
                    "2026-03-30T08:00:00.000Z".into(),
                    "2026-03-30T10:00:00.000Z".into()
                ),
                (
                    2,
                    "2026-03-30T10:00:00.000Z".into(),
                    "2026-03-30T14:00:00.000Z".into()
                ),
                (
                    3,
                    "2026-03-30T14:00:00.000Z".into(),
                    "2026-03-30T22:00:00.000Z".into()
                ),
            ]
        );
        assert!(got.windows(2).all(|w| w[0].end == w[1].start), "no gaps");
    }

    #[test]
    fn weekend_window_wraps_and_layers_end() {
        use Weekday::*;
        let layer = Layer {
            starts_on: t("2026-01-01T00:00:00Z"),
            ends_on: Some(t("2026-01-17T00:00:00Z")),
            users: vec![7],
            rotation: IsoDuration::parse("PT12H").unwrap(),
            restrictions: vec![window((Fri, "18:00"), (Mon, "08:00"))],
        };
        let got = compute(
            Tz::UTC,
            Plan::Recurring(std::slice::from_ref(&layer)),
            &[],
            t("2026-01-05T00:00:00Z"),
            t("2026-01-31T00:00:00Z"),
        );
        assert_eq!(
            show(&got),
            [
                (
                    7,
                    "2026-01-05T00:00:00.000Z".into(),
                    "2026-01-05T08:00:00.000Z".into()
                ),
                (
                    7,
                    "2026-01-09T18:00:00.000Z".into(),
                    "2026-01-12T08:00:00.000Z".into()
                ),
                (
                    7,
                    "2026-01-16T18:00:00.000Z".into(),
                    "2026-01-17T00:00:00.000Z".into()
                ),
            ]
        );
    }

    #[test]
    fn static_shifts_gaps_and_far_away_windows() {
        let shifts = [
            Segment {
                user_id: 1,
                start: t("2026-01-01T00:00:00Z"),
                end: t("2026-01-02T00:00:00Z"),
            },
            Segment {
                user_id: 2,
                start: t("2026-01-03T00:00:00Z"),
                end: t("2026-01-04T00:00:00Z"),
            },
        ];
        let got = compute(
            Tz::UTC,
            Plan::Static(&shifts),
            &[],
            t("2026-01-01T12:00:00Z"),
            t("2026-01-10T00:00:00Z"),
        );
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].start, t("2026-01-01T12:00:00Z"));
        // A layer that started years ago with an hourly rotation is still cheap to evaluate.
        let layer = Layer {
            starts_on: t("2020-01-01T00:00:00Z"),
            ends_on: None,
            users: vec![1, 2, 3],
            rotation: IsoDuration::parse("PT1H").unwrap(),
            restrictions: vec![],
        };
        let from = t("2026-06-01T00:00:00Z");
        let got = compute(
            Tz::UTC,
            Plan::Recurring(std::slice::from_ref(&layer)),
            &[],
            from,
            from + 5 * HOUR,
        );
        assert_eq!(got.len(), 5);
        assert!(got.windows(2).all(|w| w[0].user_id != w[1].user_id));
    }
}
