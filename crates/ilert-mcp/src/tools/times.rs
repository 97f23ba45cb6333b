//! Times in and out. Models send "2026-11-28", "2026-11-28 09:00", "now" or full ISO-8601; answers
//! use ISO-8601 with the offset of the zone the caller asked for (UTC by default).

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, SecondsFormat, TimeZone, Utc};
use chrono_tz::Tz;

/// The IANA zone named `raw`, or UTC when none is given.
pub fn zone(raw: Option<&str>) -> Result<Tz, String> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(Tz::UTC),
        Some(name) => name.parse::<Tz>().map_err(|_| {
            format!("`timezone` {name:?} is not an IANA time zone; use a name like Europe/Berlin, Asia/Tokyo or UTC.")
        }),
    }
}

/// Parses a time argument. Without an offset, it is read in `tz`; a bare date means its midnight.
pub fn parse(name: &str, raw: &str, tz: Tz) -> Result<DateTime<Utc>, String> {
    let raw = raw.trim();
    if raw.eq_ignore_ascii_case("now") {
        return Ok(Utc::now());
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Ok(t.with_timezone(&Utc));
    }
    let local = [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(raw, f).ok())
    .or_else(|| {
        NaiveDate::parse_from_str(raw, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
    });
    let Some(local) = local else {
        return Err(format!(
            "`{name}` {raw:?} is not a time; use ISO-8601 such as 2026-11-28T09:00:00Z, or 2026-11-28 09:00 with `timezone`."
        ));
    };
    tz.from_local_datetime(&local)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| {
            format!(
                "`{name}` {raw} does not exist in {tz} (a daylight-saving gap); pick another time."
            )
        })
}

/// ISO-8601 in `tz`, whole seconds: `2026-11-28T09:00:00+09:00` (or `Z` for UTC).
pub fn show(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz)
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// ilert's time string shown in `tz`; unparseable strings pass through.
pub fn show_raw(raw: Option<&str>, tz: Tz) -> Option<String> {
    let raw = raw?.trim();
    if raw.is_empty() {
        return None;
    }
    Some(match DateTime::parse_from_rfc3339(raw) {
        Ok(t) => show(t.with_timezone(&Utc), tz),
        Err(_) => raw.to_owned(),
    })
}

/// ilert wants ISO UTC with milliseconds.
pub fn wire(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// "2h 5m", "3d 4h", "45s": durations for people.
pub fn human(d: Duration) -> String {
    let secs = d.num_seconds().max(0);
    let (days, hours, mins) = (secs / 86_400, secs % 86_400 / 3_600, secs % 3_600 / 60);
    match (days, hours, mins) {
        (0, 0, 0) => format!("{secs}s"),
        (0, 0, m) => format!("{m}m"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_times_are_read_in_the_given_zone() {
        let tokyo = zone(Some("Asia/Tokyo")).unwrap();
        let t = parse("at", "2026-11-28 09:00", tokyo).unwrap();
        assert_eq!(show(t, Tz::UTC), "2026-11-28T00:00:00Z");
        assert_eq!(show(t, tokyo), "2026-11-28T09:00:00+09:00");
        assert_eq!(
            show(parse("at", "2026-11-28", Tz::UTC).unwrap(), Tz::UTC),
            "2026-11-28T00:00:00Z"
        );
        assert_eq!(
            show(
                parse("at", "2026-11-28T10:00:00+01:00", tokyo).unwrap(),
                Tz::UTC
            ),
            "2026-11-28T09:00:00Z"
        );
    }

    #[test]
    fn bad_zones_times_and_dst_gaps_are_explained() {
        assert!(zone(Some("Mars/Olympus")).unwrap_err().contains("IANA"));
        assert!(
            parse("from", "tomorrow-ish", Tz::UTC)
                .unwrap_err()
                .contains("`from`")
        );
        let berlin = zone(Some("Europe/Berlin")).unwrap();
        assert!(
            parse("at", "2026-03-29 02:30", berlin)
                .unwrap_err()
                .contains("daylight-saving")
        );
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human(Duration::seconds(42)), "42s");
        assert_eq!(human(Duration::minutes(125)), "2h 5m");
        assert_eq!(human(Duration::hours(76)), "3d 4h");
    }
}
