//! Timestamps as ilert writes them (ISO-8601 UTC with milliseconds and `Z`) and as it reads
//! them (any ISO-8601 form), stored as Unix epoch milliseconds so that SQLite can compare them;
//! IANA time zones and ISO-8601 durations (`P7D`, `PT8H`) for schedules.

use chrono::{
    DateTime, Days, LocalResult, Months, NaiveDate, NaiveDateTime, SecondsFormat, TimeZone, Utc,
};
use chrono_tz::Tz;

pub const MINUTE: i64 = 60_000;
pub const HOUR: i64 = 60 * MINUTE;
pub const DAY: i64 = 24 * HOUR;

/// The wall clock. Handlers use [`crate::clock::Clock`] instead, which tests can move.
pub fn real_now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// `2026-11-23T21:58:03.512Z`
pub fn format_ms(ms: i64) -> String {
    match Utc.timestamp_millis_opt(ms).single() {
        Some(t) => t.to_rfc3339_opts(SecondsFormat::Millis, true),
        None => String::new(),
    }
}

pub fn format_opt(ms: Option<i64>) -> serde_json::Value {
    match ms {
        Some(ms) => serde_json::Value::String(format_ms(ms)),
        None => serde_json::Value::Null,
    }
}

/// `2026-11-24T09:00:00.000+01:00`: the instant as seen in `tz`, for endpoints that take a
/// `timezone` parameter. UTC keeps the `Z`.
pub fn format_in(ms: i64, tz: Tz) -> String {
    if tz == Tz::UTC {
        return format_ms(ms);
    }
    match tz.timestamp_millis_opt(ms).single() {
        Some(t) => t.to_rfc3339_opts(SecondsFormat::Millis, false),
        None => format_ms(ms),
    }
}

/// An IANA zone id such as `Europe/Berlin`; ilert accepts any, although its spec lists four.
pub fn parse_tz(name: &str) -> Option<Tz> {
    name.trim().parse().ok()
}

/// The UTC instant of a wall-clock time in `tz`. An ambiguous time (clocks going back) is the
/// earlier instant, a skipped one (clocks going forward) moves forward by the gap, as Java's
/// `ZonedDateTime` does.
pub fn local_to_ms(tz: Tz, local: NaiveDateTime) -> i64 {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.timestamp_millis(),
        LocalResult::None => {
            let later = local + chrono::Duration::hours(1);
            match tz.from_local_datetime(&later) {
                LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.timestamp_millis(),
                LocalResult::None => later.and_utc().timestamp_millis(),
            }
        }
    }
}

/// The wall-clock time of an instant in `tz`.
pub fn ms_to_local(tz: Tz, ms: i64) -> Option<NaiveDateTime> {
    tz.timestamp_millis_opt(ms)
        .single()
        .map(|t| t.naive_local())
}

/// An ISO-8601 duration. Years, months, weeks and days are calendar units, added to the local
/// date (so a `P7D` rotation hands over at the same wall-clock time across a DST change);
/// hours, minutes and seconds are exact, as with Java's `Period` and `Duration`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IsoDuration {
    pub months: u32,
    pub days: u64,
    pub millis: i64,
}

impl IsoDuration {
    pub fn parse(input: &str) -> Option<IsoDuration> {
        let s = input.trim().to_ascii_uppercase();
        let rest = s.strip_prefix('P')?;
        let (date, time) = match rest.split_once('T') {
            Some((d, t)) => (d, Some(t)),
            None => (rest, None),
        };
        let mut out = IsoDuration {
            months: 0,
            days: 0,
            millis: 0,
        };
        let mut seen = false;
        for (n, unit) in components(date)? {
            let n_int = u32::try_from(n.trunc() as i64).ok()?;
            match unit {
                'Y' => out.months = out.months.checked_add(n_int.checked_mul(12)?)?,
                'M' => out.months = out.months.checked_add(n_int)?,
                'W' => out.days = out.days.checked_add(u64::from(n_int) * 7)?,
                'D' => out.days = out.days.checked_add(u64::from(n_int))?,
                _ => return None,
            }
            seen = true;
        }
        if let Some(time) = time {
            let parts = components(time)?;
            if parts.is_empty() {
                return None;
            }
            for (n, unit) in parts {
                let factor = match unit {
                    'H' => HOUR,
                    'M' => MINUTE,
                    'S' => 1000,
                    _ => return None,
                };
                out.millis += (n * factor as f64) as i64;
                seen = true;
            }
        }
        (seen && (out.months > 0 || out.days > 0 || out.millis > 0)).then_some(out)
    }

    /// A rough length, for estimating how many rotations fit into a span.
    pub fn nominal_ms(&self) -> i64 {
        i64::from(self.months) * 30 * DAY + self.days as i64 * DAY + self.millis
    }

    /// `start` plus `k` times this duration, with calendar parts applied in `tz`.
    pub fn add_times(&self, tz: Tz, start: i64, k: u32) -> Option<i64> {
        let mut local = ms_to_local(tz, start)?;
        if self.months > 0 {
            local = local.checked_add_months(Months::new(self.months.checked_mul(k)?))?;
        }
        if self.days > 0 {
            local = local.checked_add_days(Days::new(self.days.checked_mul(u64::from(k))?))?;
        }
        let base = if self.months > 0 || self.days > 0 {
            local_to_ms(tz, local)
        } else {
            start
        };
        base.checked_add(self.millis.checked_mul(i64::from(k))?)
    }
}

/// `7D12H` → [(7, 'D'), (12, 'H')]; None on anything else.
fn components(s: &str) -> Option<Vec<(f64, char)>> {
    let mut out = Vec::new();
    let mut number = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() || c == '.' || c == ',' {
            number.push(if c == ',' { '.' } else { c });
        } else {
            let n: f64 = number.parse().ok()?;
            if !(n.is_finite() && n >= 0.0) {
                return None;
            }
            out.push((n, c));
            number.clear();
        }
    }
    number.is_empty().then_some(out)
}

/// Lenient like ilert: full RFC 3339 with any offset, a local date-time taken as UTC, a bare
/// date (midnight UTC), or epoch milliseconds.
pub fn parse(input: &str) -> Option<i64> {
    // An unencoded `+` in a query string arrives as a space.
    let s = input.trim().replace(' ', "+");
    if let Ok(t) = DateTime::parse_from_rfc3339(&s) {
        return Some(t.timestamp_millis());
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(&s, fmt) {
            return Some(t.and_utc().timestamp_millis());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(&s, "%Y-%m-%d") {
        return d
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc().timestamp_millis());
    }
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().ok();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        let week = IsoDuration::parse("P7D").unwrap();
        assert_eq!(week, IsoDuration::parse("p1w").unwrap());
        assert_eq!(IsoDuration::parse("PT8H").unwrap().millis, 8 * HOUR);
        assert_eq!(IsoDuration::parse("P1DT12H").unwrap().days, 1);
        assert_eq!(IsoDuration::parse("PT1.5H").unwrap().millis, 90 * MINUTE);
        for bad in ["", "P", "PT", "7D", "P0D", "P-1D", "PXD", "P1DT"] {
            assert_eq!(IsoDuration::parse(bad), None, "{bad}");
        }
        // Berlin leaves summer time on 2026-10-25: a weekly hand-over stays at 08:00 local.
        let start = parse("2026-10-19T06:00:00Z").unwrap();
        assert_eq!(
            format_ms(week.add_times(tz, start, 1).unwrap()),
            "2026-10-26T07:00:00.000Z"
        );
        let eight = IsoDuration::parse("PT8H").unwrap();
        assert_eq!(eight.add_times(tz, start, 3).unwrap() - start, 24 * HOUR);
        assert_eq!(format_in(start, tz), "2026-10-19T08:00:00.000+02:00");
    }

    #[test]
    fn formats_with_millis_and_z() {
        assert_eq!(format_ms(1_795_471_083_512), "2026-11-23T21:58:03.512Z");
        assert_eq!(format_ms(0), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn parses_common_forms() {
        let z = parse("2026-11-23T21:58:03.512Z").unwrap();
        assert_eq!(z, 1_795_471_083_512);
        assert_eq!(parse("2026-11-23T22:58:03.512+01:00"), Some(z));
        assert_eq!(parse("2026-11-23T22:58:03.512 01:00"), Some(z));
        assert_eq!(parse("2026-11-23T21:58:03.512"), Some(z));
        assert_eq!(parse("1795471083512"), Some(z));
        assert_eq!(
            parse("2026-11-23"),
            Some(z - ((21 * 60 + 58) * 60 + 3) * 1000 - 512)
        );
        assert_eq!(parse("yesterday"), None);
        assert_eq!(parse(""), None);
    }
}
