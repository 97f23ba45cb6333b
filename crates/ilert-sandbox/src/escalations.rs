//! Escalation: which people an alert reaches, level by level, along its escalation policy.
//!
//! Escalation runs lazily and deterministically instead of on a timer: every request that reads
//! or writes alerts first calls [`advance_due`], which moves each PENDING alert whose
//! `nextEscalation` has passed on to its next level, as of that moment. Nothing runs in the
//! background, a restarted sandbox catches up on its first request, and tests control time
//! through the [`crate::clock::Clock`].
//!
//! A level reaches its users, whoever is on call in its schedules at that moment (layers,
//! restrictions and overrides) and the members of its teams (stakeholders excepted). They
//! become PENDING responders and are notified. A level that reaches nobody falls through to the
//! next at once. `escalationTimeout` minutes later the next level follows, unless the alert was
//! accepted or resolved. LOW-priority alerts stay on the first level, as in ilert; a repeating
//! policy starts over from the first level up to `frequency` times.

use rusqlite::{Connection, params};

use crate::catalog::Catalog;
use crate::error::ApiResult;
use crate::escalation_policies::{EscalationPolicy, EscalationRule};
use crate::log_entries::{self, Entry};
use crate::notifications;
use crate::time::MINUTE;

/// The users a level reaches at `at`, in order, without duplicates.
pub fn level_targets(cat: &Catalog, rule: &EscalationRule, at: i64) -> Vec<i64> {
    let mut out: Vec<i64> = Vec::new();
    let mut push = |id: i64| {
        if !out.contains(&id) && cat.users.contains_key(&id) {
            out.push(id);
        }
    };
    rule.users.iter().copied().for_each(&mut push);
    for id in &rule.schedules {
        if let Some(user) = cat.schedules.get(id).and_then(|s| s.on_call_at(at)) {
            push(user);
        }
    }
    for id in &rule.teams {
        if let Some(team) = cat.teams.get(id) {
            team.members
                .iter()
                .filter(|(_, role)| role != "STAKEHOLDER")
                .for_each(|(u, _)| push(*u));
        }
    }
    out
}

/// The first person the next level would reach, for `nextEscalationUser`.
pub fn next_user(
    cat: &Catalog,
    policy_id: i64,
    rule_index: Option<i64>,
    at: Option<i64>,
) -> Option<i64> {
    let policy = cat.policies.get(&policy_id)?;
    let rule = policy.rules.get(usize::try_from(rule_index?).ok()?)?;
    level_targets(cat, rule, at?).first().copied()
}

/// The alert fields escalation needs.
struct Escalating {
    id: i64,
    summary: String,
    high: bool,
    policy_id: i64,
}

fn load(conn: &Connection, id: i64) -> rusqlite::Result<Escalating> {
    conn.query_row(
        "SELECT id, summary, priority, escalation_policy_id FROM alerts WHERE id = ?1",
        [id],
        |r| {
            Ok(Escalating {
                id: r.get(0)?,
                summary: r.get(1)?,
                high: r.get::<_, String>(2)? == "HIGH",
                policy_id: r.get(3)?,
            })
        },
    )
}

/// Adds `user` as a PENDING responder and notifies them; false if they already were one.
pub fn add_responder(
    conn: &Connection,
    cat: &Catalog,
    alert_id: i64,
    summary: &str,
    high: bool,
    user: i64,
    at: i64,
) -> rusqlite::Result<bool> {
    let added = conn.execute(
        "INSERT OR IGNORE INTO alert_responders (alert_id, user_id, status, added_at) VALUES (?1, ?2, 'PENDING', ?3)",
        params![alert_id, user, at],
    )?;
    if added > 0 {
        notifications::notify(conn, cat, alert_id, summary, high, user, at)?;
    }
    Ok(added > 0)
}

fn user_names(cat: &Catalog, ids: &[i64]) -> String {
    ids.iter()
        .filter_map(|id| cat.users.get(id))
        .map(|u| format!("{} {}", u.first_name, u.last_name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs level `level` (round `round`) of the alert's policy at `at`, falling through levels
/// that reach nobody, and schedules the next step.
fn run_level(
    conn: &Connection,
    cat: &Catalog,
    alert_id: i64,
    mut level: usize,
    round: i64,
    at: i64,
) -> ApiResult<()> {
    let alert = load(conn, alert_id)?;
    let Some(policy) = cat.policies.get(&alert.policy_id) else {
        return stop(conn, alert_id);
    };
    loop {
        let Some(rule) = policy.rules.get(level) else {
            return stop(conn, alert_id);
        };
        let targets = level_targets(cat, rule, at);
        if targets.is_empty() {
            log_entries::add(
                conn,
                alert_id,
                at,
                Entry::NobodyOnCall {
                    level: level + 1,
                    policy: &policy.name,
                },
            )?;
            if alert.high && level + 1 < policy.rules.len() {
                level += 1;
                continue;
            }
        } else {
            log_entries::add(
                conn,
                alert_id,
                at,
                Entry::Escalated {
                    level: level + 1,
                    policy: &policy.name,
                    users: user_names(cat, &targets),
                },
            )?;
            for user in &targets {
                add_responder(conn, cat, alert_id, &alert.summary, alert.high, *user, at)?;
            }
        }
        return schedule_next(conn, policy, &alert, level, round, rule, at);
    }
}

fn schedule_next(
    conn: &Connection,
    policy: &EscalationPolicy,
    alert: &Escalating,
    level: usize,
    round: i64,
    rule: &EscalationRule,
    at: i64,
) -> ApiResult<()> {
    let due = at + rule.escalation_timeout.max(0) * MINUTE;
    let next = if !alert.high {
        None
    } else if level + 1 < policy.rules.len() {
        Some((level + 1, round))
    } else if policy.repeating && round + 1 < policy.frequency {
        Some((0, round + 1))
    } else {
        None
    };
    match next {
        Some((index, next_round)) => {
            conn.execute(
                "UPDATE alerts SET next_escalation = ?1, next_escalation_rule_index = ?2, escalation_round = ?3 \
                 WHERE id = ?4",
                params![due, index as i64, next_round, alert.id],
            )?;
            Ok(())
        }
        None => stop(conn, alert.id),
    }
}

/// No further escalation: accepted, resolved, or the policy is exhausted.
pub fn stop(conn: &Connection, alert_id: i64) -> ApiResult<()> {
    conn.execute(
        "UPDATE alerts SET next_escalation = NULL, next_escalation_rule_index = NULL WHERE id = ?1",
        [alert_id],
    )?;
    Ok(())
}

/// Starts a new (or newly assigned) alert at the first level of its policy.
pub fn start(conn: &Connection, cat: &Catalog, alert_id: i64, at: i64) -> ApiResult<()> {
    conn.execute(
        "UPDATE alerts SET escalation_round = 0 WHERE id = ?1",
        [alert_id],
    )?;
    run_level(conn, cat, alert_id, 0, 0, at)
}

/// Moves every PENDING alert whose next escalation is due by `now` on, level by level, each
/// step as of its own due time. Cheap when nothing is due: one indexed query.
pub fn advance_due(conn: &Connection, now: i64) -> ApiResult<()> {
    let due: Vec<i64> = conn
        .prepare_cached(
            "SELECT id FROM alerts WHERE status = 'PENDING' AND next_escalation IS NOT NULL \
             AND next_escalation <= ?1 ORDER BY next_escalation, id",
        )?
        .query_map([now], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    if due.is_empty() {
        return Ok(());
    }
    // All or nothing, also inside a caller's transaction: a half-run level would be run again.
    conn.execute_batch("SAVEPOINT escalate")?;
    match advance(conn, &due, now) {
        Ok(()) => {
            conn.execute_batch("RELEASE escalate")?;
            Ok(())
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK TO escalate; RELEASE escalate");
            Err(e)
        }
    }
}

fn advance(conn: &Connection, due: &[i64], now: i64) -> ApiResult<()> {
    let cat = Catalog::load(conn)?;
    for &id in due {
        // Bounded: a zero timeout on a repeating policy must not spin.
        for _ in 0..100 {
            let step: Option<(i64, i64, i64)> = conn.query_row(
                "SELECT next_escalation, next_escalation_rule_index, escalation_round FROM alerts \
                 WHERE id = ?1 AND status = 'PENDING' AND next_escalation IS NOT NULL AND next_escalation <= ?2",
                params![id, now],
                |r| Ok(Some((r.get(0)?, r.get::<_, Option<i64>>(1)?.unwrap_or(0), r.get(2)?))),
            )
            .or_else(|e| if e == rusqlite::Error::QueryReturnedNoRows { Ok(None) } else { Err(e) })?;
            let Some((at, index, round)) = step else {
                break;
            };
            run_level(
                conn,
                &cat,
                id,
                usize::try_from(index).unwrap_or(0),
                round,
                at,
            )?;
        }
    }
    Ok(())
}
