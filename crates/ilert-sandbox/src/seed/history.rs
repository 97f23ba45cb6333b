//! Ninety days of history with the patterns an on-call engineer learns to recognise (issue 24
//! §4), laid before the four weeks of [`super::ALERTS`] and relative to the same clock:
//!
//! - a nightly disk alert on logs-01 at about 02:00 UTC, resolved by its source within a quarter
//!   of an hour and accepted only once, by the one who commented why (noise);
//! - a weekly job failure every Sunday at about 02:30 UTC, re-run by hand;
//! - a recurring database failover on orders-db, with the fix in a comment; one of them escalated
//!   to level 2 because nobody accepted within 15 minutes;
//! - a flapping health check, in three bursts;
//! - notifications that failed: a push to a phone that was off, an SMS to a wrong number.
//!
//! Ids run from [`FIRST_ID`] in report order, below the ids of the recent alerts; ilert lists
//! alerts by report time, so the order of ids across the two ranges does not show.

use chrono::{Datelike, Weekday};
use rusqlite::{Transaction, params};

use super::{DATADOG, GRAFANA, Outcome, PROMETHEUS, SeedAlert};
use crate::time::{DAY, HOUR, MINUTE};

/// The first id of the history; the recent alerts start at 4695.
pub(super) const FIRST_ID: i64 = 3001;

/// How far back the history reaches.
pub(super) const DAYS: i64 = 90;

const DISK: (&str, &str) = ("Disk usage above 80% on logs-01", "disk-usage/logs-01");
const DISK_LABELS: &[(&str, &str)] = &[
    ("env", "production"),
    ("host", "logs-01"),
    ("team", "platform"),
];
const JOB: (&str, &str) = (
    "Weekly invoice export job failed (exit code 1)",
    "jobs/invoice-export",
);
const JOB_LABELS: &[(&str, &str)] = &[("env", "production"), ("job", "invoice-export")];
const FAILOVER: (&str, &str) = (
    "PostgreSQL primary failover on orders-db",
    "postgres/orders-db/failover",
);
const FAILOVER_LABELS: &[(&str, &str)] = &[("env", "production"), ("cluster", "orders-db")];
const FLAP: (&str, &str) = (
    "Storefront health check failing on web-3",
    "storefront/health/web-3",
);
const FLAP_LABELS: &[(&str, &str)] = &[("env", "production"), ("host", "web-3")];

/// The comment left on one nightly disk alert.
pub(super) const DISK_COMMENT: &str = "This is the 02:00 log rotation: /var/log fills while the \
     old logs are compressed and frees itself a few minutes later. Nothing to do; the threshold should move to 90%.";
/// The fix, as the Platform team wrote it on the failovers.
pub(super) const FAILOVER_FIX: &str = "Fixed: restarted pgbouncer on db-proxy-1 \
     (systemctl restart pgbouncer). It kept the old primary's address after the failover; \
     connections recovered within a minute.";
const FAILOVER_CAUSE: &str = "Replication lag on the replica before promotion; the application pool kept failing until pgbouncer was restarted.";
const JOB_COMMENT: &str = "Re-ran the export by hand (make invoice-export); it passed on retry. \
     The first run times out while the month-end reports hold the table lock.";

/// A deterministic spread of `n` minutes-ish, so the history does not look machine-made.
fn jitter(seed: i64, spread: i64) -> i64 {
    (seed * 7_919 + 13).rem_euclid(spread)
}

/// The history, oldest first, with ids from [`FIRST_ID`]; `now` is the seeding instant.
pub(super) fn alerts(now: i64) -> Vec<SeedAlert> {
    let mut out: Vec<(i64, SeedAlert)> = Vec::new();
    // Midnight UTC today. From three days back, so every nightly alert is over before the open
    // one of the recent weeks (4718, two days and some hours old) was reported.
    let today = now - now.rem_euclid(DAY);
    for d in 3..=DAYS {
        let day = today - d * DAY;
        let Some(date) = chrono::DateTime::from_timestamp_millis(day).map(|t| t.date_naive())
        else {
            continue;
        };
        // Nightly: the disk alert, resolved by the source within 8 to 14 minutes.
        let at = day + 2 * HOUR + jitter(d, 9) * MINUTE;
        {
            let comments: &'static [(i64, &'static str, &'static str)] = if d == 41 {
                &[(5 * MINUTE, "Yuki Tanaka", DISK_COMMENT)]
            } else {
                &[]
            };
            out.push((
                at,
                alert(
                    at,
                    now,
                    PROMETHEUS,
                    DISK,
                    ("LOW", 4),
                    DISK_LABELS,
                    comments,
                    // The commented one was accepted first: someone looked.
                    Outcome::Resolved {
                        accepted: (d == 41).then_some(3 * MINUTE),
                        after: (8 + jitter(d + 3, 7)) * MINUTE,
                        by_source: true,
                    },
                ),
            ));
        }
        // Weekly, on Sundays: the export job, accepted and re-run by hand.
        if date.weekday() == Weekday::Sun {
            let at = day + 2 * HOUR + 30 * MINUTE + jitter(d, 5) * MINUTE;
            let comments: &'static [(i64, &'static str, &'static str)] = if d % 3 == 0 {
                &[(35 * MINUTE, "Ana Souza", JOB_COMMENT)]
            } else {
                &[]
            };
            out.push((
                at,
                alert(
                    at,
                    now,
                    DATADOG,
                    JOB,
                    ("LOW", 3),
                    JOB_LABELS,
                    comments,
                    Outcome::Resolved {
                        accepted: Some((6 + jitter(d, 8)) * MINUTE),
                        after: (40 + jitter(d, 20)) * MINUTE,
                        by_source: false,
                    },
                ),
            ));
        }
        // The failovers, on six days at varied hours.
        if let Some(k) = [84, 71, 55, 38, 24, 9].iter().position(|x| *x == d) {
            let at = day + (5 + 3 * k as i64) * HOUR + jitter(d, 50) * MINUTE;
            let comments: &'static [(i64, &'static str, &'static str)] = match k {
                0 => &[(45 * MINUTE, "Priya Nair", FAILOVER_CAUSE)],
                1 | 3 | 5 => &[(30 * MINUTE, "Priya Nair", FAILOVER_FIX)],
                _ => &[],
            };
            // The fourth was accepted only after the first level's 15 minutes.
            let accepted = if k == 3 { 19 } else { 3 + k as i64 } * MINUTE;
            out.push((
                at,
                alert(
                    at,
                    now,
                    PROMETHEUS,
                    FAILOVER,
                    ("HIGH", 1),
                    FAILOVER_LABELS,
                    comments,
                    Outcome::Resolved {
                        accepted: Some(accepted),
                        after: (32 + 4 * k as i64) * MINUTE,
                        by_source: false,
                    },
                ),
            ));
        }
        // The flapping check: bursts of six within an hour, on three days.
        if [66, 47, 16].contains(&d) {
            for k in 0..6 {
                let at = day + 14 * HOUR + k * 9 * MINUTE + jitter(d + k, 4) * MINUTE;
                out.push((
                    at,
                    alert(
                        at,
                        now,
                        GRAFANA,
                        FLAP,
                        ("LOW", 4),
                        FLAP_LABELS,
                        &[],
                        Outcome::Resolved {
                            accepted: None,
                            after: (1 + jitter(d * k + 1, 3)) * MINUTE,
                            by_source: true,
                        },
                    ),
                ));
            }
        }
    }
    out.sort_by_key(|(at, _)| *at);
    out.into_iter()
        .enumerate()
        .map(|(i, (_, mut a))| {
            a.id = FIRST_ID + i as i64;
            a
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn alert(
    at: i64,
    now: i64,
    source: i64,
    (summary, alert_key): (&'static str, &'static str),
    (priority, severity): (&'static str, i64),
    labels: &'static [(&'static str, &'static str)],
    comments: &'static [(i64, &'static str, &'static str)],
    outcome: Outcome,
) -> SeedAlert {
    SeedAlert {
        id: 0,
        ago: now - at,
        source,
        summary,
        details: "",
        priority,
        severity: Some(severity),
        alert_key,
        labels,
        links: &[],
        custom_details: "{}",
        manual_by: None,
        comments,
        outcome,
    }
}

/// Some pages did not arrive: the newest failover's push went to a phone that was off, and an
/// SMS about the second-newest went to a number that does not exist.
pub(super) fn failed_notifications(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    let failovers: Vec<i64> = {
        let mut stmt = tx.prepare(
            "SELECT id FROM alerts WHERE alert_key = ?1 AND id < 4695 ORDER BY report_time DESC LIMIT 2",
        )?;
        stmt.query_map([FAILOVER.1], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?
    };
    if let Some(newest) = failovers.first() {
        tx.execute(
            "UPDATE notifications SET status = 'ERROR', error = 'Device unreachable: the phone was switched off' \
             WHERE alert_id = ?1 AND method = 'PUSH'",
            [newest],
        )?;
    }
    if let Some(second) = failovers.get(1) {
        tx.execute(
            "INSERT INTO notifications (alert_id, user_id, method, target, subject, time, status, error) \
             SELECT alert_id, user_id, 'SMS', '+44 7700 000000', subject, time, 'ERROR', \
                    'Invalid phone number: the number is not assigned' \
             FROM notifications WHERE alert_id = ?1 ORDER BY time, id LIMIT 1",
            params![second],
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time;

    /// Seeded at several hours of different weekdays, the history has its patterns: 88 nightly
    /// disk alerts, resolved within 15 minutes and all but one never accepted; 12 or 13
    /// Sunday jobs; six failovers, one escalated to level 2; and a failed notification.
    #[test]
    fn the_patterns_hold_at_any_hour() {
        let start = time::parse("2026-12-07T02:45:00Z").unwrap();
        for k in 0..6 {
            let now = start + k * (29 * HOUR + 17 * MINUTE);
            let when = time::format_ms(now);
            super::super::tests::seeded_at(now, |c| {
                let count = |sql: &str, key: &str| -> i64 {
                    c.query_row(sql, [key], |r| r.get(0)).unwrap()
                };
                let of_key = "SELECT COUNT(*) FROM alerts WHERE alert_key = ?1 AND id < 4695";
                assert_eq!(count(of_key, DISK.1), 88, "{when}");
                let quick = count(
                    "SELECT COUNT(*) FROM alerts a WHERE alert_key = ?1 AND id < 4695 \
                     AND resolved_on - report_time < 15 * 60000 \
                     AND NOT EXISTS (SELECT 1 FROM alert_responders r WHERE r.alert_id = a.id AND r.accepted_at IS NOT NULL)",
                    DISK.1,
                );
                assert_eq!(quick, 87, "{when}: all but the one accepted");
                let jobs = count(of_key, JOB.1);
                assert!((12..=13).contains(&jobs), "{when}: {jobs}");
                assert_eq!(count(of_key, FAILOVER.1), 6, "{when}");
                let escalated = count(
                    "SELECT COUNT(DISTINCT l.alert_id) FROM log_entries l JOIN alerts a ON a.id = l.alert_id \
                     WHERE a.alert_key = ?1 AND l.type = 'AlertEscalatedToLevelLogEntry' AND l.vars LIKE '%\"level\":\"2\"%'",
                    FAILOVER.1,
                );
                assert_eq!(escalated, 1, "{when}");
                let failed = count(
                    "SELECT COUNT(*) FROM notifications n JOIN alerts a ON a.id = n.alert_id \
                     WHERE a.alert_key = ?1 AND n.status = 'ERROR'",
                    FAILOVER.1,
                );
                assert!(failed >= 2, "{when}: {failed}");
                let open: i64 = c
                    .query_row(
                        "SELECT COUNT(*) FROM alerts WHERE id < 4695 AND status != 'RESOLVED'",
                        [],
                        |r| r.get(0),
                    )
                    .unwrap();
                assert_eq!(open, 0, "{when}");
            });
        }
    }
}
