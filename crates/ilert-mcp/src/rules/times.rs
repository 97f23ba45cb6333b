//! Times in and out: the one time grammar every tool reads. Models send "2026-11-28",
//! "2026-11-28 09:00", full ISO-8601, or relative forms ("now", "24h ago", "yesterday 18:00",
//! "next Saturday 03:00"); times without an offset are read in the caller's `timezone`. Answers use
//! ISO-8601 with the offset of that zone (UTC by default).

use chrono::{
    DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, SecondsFormat, TimeZone,
    Utc, Weekday,
};
use chrono_tz::Tz;

/// The server's one clock: every tool, resource and rule that needs "now" reads it here, so a
/// test can move it in one place ([`shift_clock`]) or pin the whole process (libfaketime).
pub fn now() -> DateTime<Utc> {
    Utc::now() + Duration::seconds(SHIFT_SECS.load(std::sync::atomic::Ordering::Relaxed))
}

static SHIFT_SECS: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);

/// Moves this process's clock on by `secs` (tests only: to keep step with a sandbox whose clock
/// they moved, e.g. to watch escalation run out). Process-wide, so a test that uses it runs in a
/// process of its own (nextest runs each test so).
#[doc(hidden)]
pub fn shift_clock(secs: i64) {
    SHIFT_SECS.fetch_add(secs, std::sync::atomic::Ordering::Relaxed);
}

/// What the `timezone` argument accepts, for field docs.
pub const ZONE_DOC: &str = "IANA zone (any case) or city, e.g. Europe/Berlin or Berlin";

/// The IANA zone named `raw` (any case; a city such as "Berlin", "new york", "São Paulo" or
/// "Bengaluru" names its zone, accents or not), or UTC when none is given. An unknown name is
/// answered with the nearest zone names.
pub fn zone(raw: Option<&str>) -> Result<Tz, String> {
    let Some(name) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(Tz::UTC);
    };
    if let Ok(tz) = name.parse::<Tz>() {
        return Ok(tz);
    }
    let wanted = fold(name);
    let by_name = || {
        chrono_tz::TZ_VARIANTS
            .iter()
            .find(|tz| fold(tz.name()) == wanted)
            .copied()
    };
    let by_alias = || {
        CITY_ALIASES
            .iter()
            .find(|(city, _)| fold(city) == wanted)
            .map(|(_, tz)| *tz)
    };
    let by_city = || {
        let suffix = format!("/{wanted}");
        let mut cities = chrono_tz::TZ_VARIANTS
            .iter()
            .filter(|tz| fold(tz.name()).ends_with(&suffix));
        // Only an unambiguous city counts; "Berlin" is Europe/Berlin.
        match (cities.next(), cities.next()) {
            (Some(one), None) => Some(*one),
            _ => None,
        }
    };
    by_name()
        .or_else(by_alias)
        .or_else(by_city)
        .ok_or_else(|| unknown_zone(name, &wanted))
}

/// Cities people name that are not the last part of an IANA zone name (or are spelled
/// differently there), with their zone.
const CITY_ALIASES: &[(&str, Tz)] = &[
    ("Bengaluru", Tz::Asia__Kolkata),
    ("Bangalore", Tz::Asia__Kolkata),
    ("Mumbai", Tz::Asia__Kolkata),
    ("Bombay", Tz::Asia__Kolkata),
    ("Delhi", Tz::Asia__Kolkata),
    ("New Delhi", Tz::Asia__Kolkata),
    ("Chennai", Tz::Asia__Kolkata),
    ("Hyderabad", Tz::Asia__Kolkata),
    ("Pune", Tz::Asia__Kolkata),
    ("Ho Chi Minh City", Tz::Asia__Ho_Chi_Minh),
    ("Saigon", Tz::Asia__Ho_Chi_Minh),
    ("Hanoi", Tz::Asia__Ho_Chi_Minh),
    ("Kyiv", Tz::Europe__Kyiv),
    ("Kiev", Tz::Europe__Kyiv),
    ("Beijing", Tz::Asia__Shanghai),
    ("Shenzhen", Tz::Asia__Shanghai),
    ("Munich", Tz::Europe__Berlin),
    ("München", Tz::Europe__Berlin),
    ("Frankfurt", Tz::Europe__Berlin),
    ("Hamburg", Tz::Europe__Berlin),
    ("Cologne", Tz::Europe__Berlin),
    ("Köln", Tz::Europe__Berlin),
    ("Geneva", Tz::Europe__Zurich),
    ("Genève", Tz::Europe__Zurich),
    ("Milan", Tz::Europe__Rome),
    ("Barcelona", Tz::Europe__Madrid),
    ("Rio de Janeiro", Tz::America__Sao_Paulo),
    ("San Francisco", Tz::America__Los_Angeles),
    ("Seattle", Tz::America__Los_Angeles),
    ("Washington", Tz::America__New_York),
    ("Boston", Tz::America__New_York),
    ("Miami", Tz::America__New_York),
    ("Austin", Tz::America__Chicago),
    ("Dallas", Tz::America__Chicago),
    ("Houston", Tz::America__Chicago),
    ("Osaka", Tz::Asia__Tokyo),
    ("Melbourne", Tz::Australia__Melbourne),
    ("Tel Aviv", Tz::Asia__Jerusalem),
];

/// What names are compared as: lower case, accents dropped ("São Paulo" is "sao_paulo"), and
/// spaces and hyphens as IANA's underscores.
fn fold(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.trim().chars().flat_map(char::to_lowercase) {
        let plain = match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ą' => "a",
            'æ' => "ae",
            'ç' | 'ć' | 'č' => "c",
            'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ę' | 'ě' => "e",
            'ì' | 'í' | 'î' | 'ï' | 'ı' => "i",
            'ł' => "l",
            'ñ' | 'ń' | 'ň' => "n",
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ő' => "o",
            'œ' => "oe",
            'ř' => "r",
            'ś' | 'š' | 'ș' | 'ş' => "s",
            'ß' => "ss",
            'ț' | 'ţ' => "t",
            'ù' | 'ú' | 'û' | 'ü' | 'ů' | 'ű' => "u",
            'ý' | 'ÿ' => "y",
            'ź' | 'ż' | 'ž' => "z",
            ' ' | '-' => "_",
            '.' | ',' | '\'' => "",
            _ => {
                out.push(c);
                continue;
            }
        };
        out.push_str(plain);
    }
    out
}

/// The error for a zone nobody knows, with the nearest zone and city names (none for a name
/// longer than any zone, which would only cost time).
fn unknown_zone(name: &str, wanted: &str) -> String {
    let city = wanted.rsplit('/').next().unwrap_or(wanted);
    if wanted.chars().count() > MAX_SUGGESTED_LEN {
        return format!(
            "`timezone` {:?}... is not an IANA time zone; use a name like Europe/Berlin, Asia/Tokyo or UTC.",
            name.chars().take(MAX_SUGGESTED_LEN).collect::<String>()
        );
    }
    let mut near: Vec<(usize, String)> = chrono_tz::TZ_VARIANTS
        .iter()
        .map(|tz| {
            let folded = fold(tz.name());
            let last = folded.rsplit('/').next().unwrap_or(&folded).to_owned();
            (
                edits(city, &last).min(edits(wanted, &folded)),
                tz.name().to_owned(),
            )
        })
        .chain(
            CITY_ALIASES
                .iter()
                .map(|(c, tz)| (edits(city, &fold(c)), format!("{c} ({})", tz.name()))),
        )
        .filter(|(d, _)| *d <= (city.chars().count() / 3).max(2))
        .collect();
    near.sort();
    near.dedup_by(|a, b| a.1 == b.1);
    let near: Vec<String> = near.into_iter().take(3).map(|(_, n)| n).collect();
    if near.is_empty() {
        format!(
            "`timezone` {name:?} is not an IANA time zone; use a name like Europe/Berlin, Asia/Tokyo or UTC."
        )
    } else {
        format!(
            "`timezone` {name:?} is not an IANA time zone or known city; nearest: {}.",
            near.join(", ")
        )
    }
}

/// Longest name nearest zones are looked for (IANA's longest is 32 characters).
const MAX_SUGGESTED_LEN: usize = 40;

/// Levenshtein distance by characters.
fn edits(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut next = Vec::with_capacity(row.len());
        next.push(i + 1);
        for ((cb, diag), up) in b.iter().zip(&row).zip(row.iter().skip(1)) {
            let left = next.last().copied().unwrap_or(0);
            next.push((diag + usize::from(ca != *cb)).min(left + 1).min(up + 1));
        }
        row = next;
    }
    row.last().copied().unwrap_or(0)
}

/// Parses a time argument (see the module doc). Without an offset, it is read in `tz`; a bare
/// date means its midnight.
pub fn parse(name: &str, raw: &str, tz: Tz) -> Result<DateTime<Utc>, String> {
    parse_at(name, raw, tz, now())
}

/// [`parse`] with "now" given, so relative forms can be tested.
pub fn parse_at(
    name: &str,
    raw: &str,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, String> {
    let raw = raw.trim();
    if raw.eq_ignore_ascii_case("now") {
        return Ok(now);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Ok(t.with_timezone(&Utc));
    }
    for f in [
        "%Y-%m-%dT%H:%M%#z",
        "%Y-%m-%d %H:%M%#z",
        "%Y-%m-%d %H:%M:%S%#z",
    ] {
        if let Ok(t) = DateTime::parse_from_str(raw, f) {
            return Ok(t.with_timezone(&Utc));
        }
    }
    if let Some(t) = relative(raw, tz, now) {
        return t.map_err(|local| gap(name, &local, tz));
    }
    let local = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
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
            "`{name}` {raw:?} is not a time; use ISO-8601 (2026-11-28T09:00:00Z, or 2026-11-28 09:00 read in `timezone`), \
             a date, or a relative time: now, 24h ago, 3 days ago, yesterday 18:00, next Saturday 03:00."
        ));
    };
    in_zone(&local, tz).map_err(|local| gap(name, &local, tz))
}

fn gap(name: &str, local: &NaiveDateTime, tz: Tz) -> String {
    format!(
        "`{name}` {} does not exist in {tz} (a daylight-saving gap); pick another time.",
        local.format("%Y-%m-%d %H:%M")
    )
}

/// A wall-clock time in `tz`; the earlier one where clocks go back, an error in a gap.
fn in_zone(local: &NaiveDateTime, tz: Tz) -> Result<DateTime<Utc>, NaiveDateTime> {
    tz.from_local_datetime(local)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .ok_or(*local)
}

/// Relative forms; `None` when `raw` is not one. "24h ago", "3 days ago", "in 2 hours",
/// "today", "yesterday 18:00", "tomorrow 9:30", "Saturday", "next Saturday 03:00",
/// "last Monday", "18:00" (today).
fn relative(raw: &str, tz: Tz, now: DateTime<Utc>) -> Option<Result<DateTime<Utc>, NaiveDateTime>> {
    let lower = raw.to_ascii_lowercase();
    let words: Vec<&str> = lower.split_whitespace().collect();
    // "24h ago", "24 h ago", "3 days ago", "in 2h", "in 2 hours"
    let span = match words.as_slice() {
        [amount, "ago"] => duration(amount, "").map(|d| -d),
        [amount, unit, "ago"] => duration(amount, unit).map(|d| -d),
        ["in", amount] => duration(amount, ""),
        ["in", amount, unit] => duration(amount, unit),
        _ => None,
    };
    if let Some(d) = span {
        return Some(Ok(now + d));
    }
    let today = now.with_timezone(&tz).date_naive();
    let (day, rest) = match words.as_slice() {
        ["today", rest @ ..] => (today, rest),
        ["yesterday", rest @ ..] => (today - Duration::days(1), rest),
        ["tomorrow", rest @ ..] => (today + Duration::days(1), rest),
        ["next", day, rest @ ..] => (after(today, weekday(day)?, false), rest),
        ["last", day, rest @ ..] => (before(today, weekday(day)?), rest),
        ["this", day, rest @ ..] => (after(today, weekday(day)?, true), rest),
        [day, rest @ ..] if weekday(day).is_some() => (after(today, weekday(day)?, true), rest),
        [clock] => (today, std::slice::from_ref(clock)),
        _ => return None,
    };
    let at = match rest {
        [] => NaiveTime::MIN,
        ["at", clock] | [clock] => clock_time(clock)?,
        _ => return None,
    };
    Some(in_zone(&day.and_time(at), tz))
}

/// "24h", "90m", "2d", or an amount with a unit word ("3", "days").
fn duration(amount: &str, unit: &str) -> Option<Duration> {
    let split = amount
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(amount.len());
    let (digits, glued) = amount.split_at(split);
    let n: i64 = digits.parse().ok()?;
    let unit = if glued.is_empty() { unit } else { glued };
    if !glued.is_empty() && !unit.is_empty() && unit != glued {
        return None;
    }
    let minutes = match unit.trim_end_matches('s') {
        "m" | "min" | "minute" => 1,
        "h" | "hr" | "hour" => 60,
        "d" | "day" => 1_440,
        "w" | "wk" | "week" => 10_080,
        _ => return None,
    };
    n.checked_mul(minutes)
        .filter(|m| *m <= 525_600 * 5)
        .map(Duration::minutes)
}

fn weekday(word: &str) -> Option<Weekday> {
    let w = word.trim_end_matches(',');
    [
        ("monday", Weekday::Mon),
        ("tuesday", Weekday::Tue),
        ("wednesday", Weekday::Wed),
        ("thursday", Weekday::Thu),
        ("friday", Weekday::Fri),
        ("saturday", Weekday::Sat),
        ("sunday", Weekday::Sun),
    ]
    .into_iter()
    .find(|(full, _)| w == *full || (w.len() >= 3 && full.starts_with(w)))
    .map(|(_, day)| day)
}

/// The first `day` after `today` (or on it, with `inclusive`).
fn after(today: NaiveDate, day: Weekday, inclusive: bool) -> NaiveDate {
    let ahead = (7 + day.num_days_from_monday() - today.weekday().num_days_from_monday()) % 7;
    let ahead = if ahead == 0 && !inclusive { 7 } else { ahead };
    today + Duration::days(i64::from(ahead))
}

/// The last `day` before `today`.
fn before(today: NaiveDate, day: Weekday) -> NaiveDate {
    let back = (7 + today.weekday().num_days_from_monday() - day.num_days_from_monday()) % 7;
    today - Duration::days(i64::from(if back == 0 { 7 } else { back }))
}

/// "18:00", "9:30", "03:00:00", "18h".
fn clock_time(word: &str) -> Option<NaiveTime> {
    ["%H:%M", "%H:%M:%S"]
        .iter()
        .find_map(|f| NaiveTime::parse_from_str(word, f).ok())
        .or_else(|| {
            let hour: u32 = word.strip_suffix('h')?.parse().ok()?;
            NaiveTime::from_hms_opt(hour, 0, 0)
        })
}

/// "from 2026-11-27T00:00:00Z to 2026-11-28T00:00:00Z": the window an answer used.
pub fn window(from: Option<DateTime<Utc>>, until: Option<DateTime<Utc>>, tz: Tz) -> String {
    match (from, until) {
        (Some(f), Some(u)) => format!("from {} to {}", show(f, tz), show(u, tz)),
        (Some(f), None) => format!("since {}", show(f, tz)),
        (None, Some(u)) => format!("before {}", show(u, tz)),
        (None, None) => "at any time".to_owned(),
    }
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

/// ilert's time string as a moment; `None` when absent or unparseable.
pub fn read(raw: Option<&str>) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw?.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
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
    fn relative_times_are_read_in_the_zone() {
        // Thursday 2026-12-03 10:00 UTC = 11:00 in Berlin.
        let now = Utc.with_ymd_and_hms(2026, 12, 3, 10, 0, 0).unwrap();
        let berlin = zone(Some("berlin")).unwrap();
        assert_eq!(berlin, Tz::Europe__Berlin);
        assert_eq!(zone(Some("europe/berlin")).unwrap(), Tz::Europe__Berlin);
        assert_eq!(zone(Some("New York")).unwrap(), Tz::America__New_York);
        let at = |raw: &str, tz: Tz| show(parse_at("at", raw, tz, now).unwrap(), Tz::UTC);
        assert_eq!(at("now", Tz::UTC), "2026-12-03T10:00:00Z");
        assert_eq!(at("24h ago", Tz::UTC), "2026-12-02T10:00:00Z");
        assert_eq!(at("3 days ago", Tz::UTC), "2026-11-30T10:00:00Z");
        assert_eq!(at("90 minutes ago", Tz::UTC), "2026-12-03T08:30:00Z");
        assert_eq!(at("in 2h", Tz::UTC), "2026-12-03T12:00:00Z");
        assert_eq!(at("yesterday 18:00", berlin), "2026-12-02T17:00:00Z");
        assert_eq!(at("Yesterday", Tz::UTC), "2026-12-02T00:00:00Z");
        assert_eq!(at("next Saturday 03:00", berlin), "2026-12-05T02:00:00Z");
        assert_eq!(at("next thursday", Tz::UTC), "2026-12-10T00:00:00Z");
        assert_eq!(at("thursday 9:30", Tz::UTC), "2026-12-03T09:30:00Z");
        assert_eq!(at("last Monday", Tz::UTC), "2026-11-30T00:00:00Z");
        assert_eq!(at("18:00", berlin), "2026-12-03T17:00:00Z");
        assert_eq!(at("2026-12-03T09:00Z", berlin), "2026-12-03T09:00:00Z");
        assert!(parse_at("at", "next blursday", Tz::UTC, now).is_err());
        assert!(parse_at("at", "3 fortnights ago", Tz::UTC, now).is_err());
    }

    #[test]
    fn cities_are_read_as_people_spell_them() {
        for (city, tz) in [
            ("São Paulo", Tz::America__Sao_Paulo),
            ("sao paulo", Tz::America__Sao_Paulo),
            ("Zürich", Tz::Europe__Zurich),
            ("Bogotá", Tz::America__Bogota),
            ("Bengaluru", Tz::Asia__Kolkata),
            ("Bangalore", Tz::Asia__Kolkata),
            ("Mexico City", Tz::America__Mexico_City),
            ("Ho Chi Minh", Tz::Asia__Ho_Chi_Minh),
            ("Ho Chi Minh City", Tz::Asia__Ho_Chi_Minh),
            ("Kyiv", Tz::Europe__Kyiv),
            ("Kiev", Tz::Europe__Kyiv),
            ("america/são_paulo", Tz::America__Sao_Paulo),
        ] {
            assert_eq!(zone(Some(city)).unwrap(), tz, "{city}");
        }
        let err = zone(Some("Zurik")).unwrap_err();
        assert!(err.contains("Europe/Zurich"), "{err}");
        let err = zone(Some("Bengalore")).unwrap_err();
        assert!(err.contains("Asia/Kolkata"), "{err}");
        // A huge name is refused at once, without echoing all of it.
        let huge = "}᳀\"𑏔'".repeat(20_000);
        let started = std::time::Instant::now();
        let err = zone(Some(&huge)).unwrap_err();
        assert!(err.len() < 300, "{err}");
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human(Duration::seconds(42)), "42s");
        assert_eq!(human(Duration::minutes(125)), "2h 5m");
        assert_eq!(human(Duration::hours(76)), "3d 4h");
    }
}
