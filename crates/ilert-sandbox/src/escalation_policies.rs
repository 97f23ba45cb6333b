//! Escalation policies (ilert `EscalationPolicy` / `EscalationRule`): storage and JSON. The
//! `/api/escalation-policies` endpoints come later; alerts already embed policies and rules.

use std::collections::HashMap;

use rusqlite::Connection;
use serde_json::{Value, json};

use crate::users::{self, User};

#[derive(Debug, Clone)]
pub struct EscalationRule {
    /// Minutes before the alert moves on to the next rule.
    pub escalation_timeout: i64,
    pub user_ids: Vec<i64>,
}

#[derive(Debug, Clone)]
pub struct EscalationPolicy {
    pub id: i64,
    pub name: String,
    pub routing_key: Option<String>,
    pub repeating: bool,
    pub frequency: i64,
    pub delay_min: i64,
    pub rules: Vec<EscalationRule>,
}

impl EscalationPolicy {
    /// The first user of rule `index`, whom ilert reports as `nextEscalationUser`.
    pub fn first_user_of_rule(&self, index: usize) -> Option<i64> {
        self.rules
            .get(index)
            .and_then(|r| r.user_ids.first().copied())
    }
}

pub fn load_all(conn: &Connection) -> rusqlite::Result<HashMap<i64, EscalationPolicy>> {
    let mut policies = HashMap::new();
    let mut stmt = conn.prepare_cached(
        "SELECT id, name, routing_key, repeating, frequency, delay_min FROM escalation_policies",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(EscalationPolicy {
            id: r.get(0)?,
            name: r.get(1)?,
            routing_key: r.get(2)?,
            repeating: r.get(3)?,
            frequency: r.get(4)?,
            delay_min: r.get(5)?,
            rules: Vec::new(),
        })
    })?;
    for p in rows {
        let p = p?;
        policies.insert(p.id, p);
    }
    let mut stmt = conn.prepare_cached(
        "SELECT policy_id, escalation_timeout FROM escalation_rules ORDER BY policy_id, position",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))?;
    for row in rows {
        let (policy_id, escalation_timeout) = row?;
        if let Some(p) = policies.get_mut(&policy_id) {
            p.rules.push(EscalationRule {
                escalation_timeout,
                user_ids: Vec::new(),
            });
        }
    }
    let mut stmt = conn.prepare_cached(
        "SELECT policy_id, position, user_id FROM escalation_rule_users ORDER BY policy_id, position, ord",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })?;
    for row in rows {
        let (policy_id, position, user_id) = row?;
        let position = usize::try_from(position).unwrap_or(usize::MAX);
        if let Some(rule) = policies
            .get_mut(&policy_id)
            .and_then(|p| p.rules.get_mut(position))
        {
            rule.user_ids.push(user_id);
        }
    }
    Ok(policies)
}

/// `EscalationRule` with its users as `UserRel`s; schedules and teams arrive with their own
/// resources.
pub fn rule_json(rule: &EscalationRule, users: &HashMap<i64, User>) -> Value {
    let user_refs: Vec<Value> = rule
        .user_ids
        .iter()
        .filter_map(|id| users.get(id))
        .map(users::user_rel_json)
        .collect();
    json!({
        "escalationTimeout": rule.escalation_timeout,
        "users": user_refs,
        "schedules": [],
        "teams": [],
    })
}

pub fn rules_json(policy: &EscalationPolicy, users: &HashMap<i64, User>) -> Value {
    Value::Array(policy.rules.iter().map(|r| rule_json(r, users)).collect())
}

/// The full `EscalationPolicy` schema.
pub fn policy_json(policy: &EscalationPolicy, users: &HashMap<i64, User>) -> Value {
    json!({
        "id": policy.id,
        "name": policy.name,
        "escalationRules": rules_json(policy, users),
        "teams": [],
        "repeating": policy.repeating,
        "frequency": policy.frequency,
        "delayMin": policy.delay_min,
        "routingKey": policy.routing_key,
    })
}
