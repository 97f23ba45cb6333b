//! Timestamps as ilert writes them (ISO-8601 UTC with milliseconds and `Z`) and as it reads
//! them (any ISO-8601 form); stored as Unix epoch milliseconds so that SQLite can compare them.

use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, TimeZone, Utc};

pub fn now_ms() -> i64 {
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
