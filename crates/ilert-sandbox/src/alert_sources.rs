//! Alert sources (ilert `AlertSource`): storage and JSON. The `/api/alert-sources` endpoints
//! come later; alerts already embed their source.

use std::collections::HashMap;

use rusqlite::Connection;
use serde_json::{Value, json};

use crate::escalation_policies::{self, EscalationPolicy};
use crate::time;
use crate::users::User;

#[derive(Debug, Clone)]
pub struct AlertSource {
    pub id: i64,
    pub name: String,
    pub integration_type: String,
    pub integration_key: String,
    pub escalation_policy_id: i64,
    pub alert_creation: String,
    pub alert_priority_rule: String,
    pub active: bool,
    pub created_at: i64,
    pub updated_at: i64,
    /// Derived from the source's open alerts, as ilert's read-only `status` is.
    pub status: &'static str,
}

pub fn load_all(conn: &Connection) -> rusqlite::Result<HashMap<i64, AlertSource>> {
    let mut stmt = conn.prepare_cached(
        "SELECT s.id, s.name, s.integration_type, s.integration_key, s.escalation_policy_id, \
                s.alert_creation, s.alert_priority_rule, s.active, s.created_at, s.updated_at, \
                (SELECT COUNT(*) FROM alerts a WHERE a.alert_source_id = s.id AND a.status = 'PENDING'), \
                (SELECT COUNT(*) FROM alerts a WHERE a.alert_source_id = s.id AND a.status = 'ACCEPTED') \
         FROM alert_sources s",
    )?;
    let rows = stmt.query_map([], |r| {
        let active: bool = r.get(7)?;
        let pending: i64 = r.get(10)?;
        let accepted: i64 = r.get(11)?;
        let status = if !active {
            "DISABLED"
        } else if pending > 0 {
            "PENDING"
        } else if accepted > 0 {
            "ALL_ACCEPTED"
        } else {
            "ALL_RESOLVED"
        };
        Ok(AlertSource {
            id: r.get(0)?,
            name: r.get(1)?,
            integration_type: r.get(2)?,
            integration_key: r.get(3)?,
            escalation_policy_id: r.get(4)?,
            alert_creation: r.get(5)?,
            alert_priority_rule: r.get(6)?,
            active,
            created_at: r.get(8)?,
            updated_at: r.get(9)?,
            status,
        })
    })?;
    rows.map(|r| r.map(|s| (s.id, s))).collect()
}

/// `AlertSource` without any `?include` fields (templates, event filters).
pub fn source_json(
    source: &AlertSource,
    policy: Option<&EscalationPolicy>,
    users: &HashMap<i64, User>,
) -> Value {
    let policy = match policy {
        Some(p) => escalation_policies::policy_json(p, users),
        None => json!({"id": source.escalation_policy_id}),
    };
    json!({
        "id": source.id,
        "name": source.name,
        "integrationType": source.integration_type,
        "integrationKey": source.integration_key,
        "escalationPolicy": policy,
        "alertCreation": source.alert_creation,
        "alertPriorityRule": source.alert_priority_rule,
        "active": source.active,
        "status": source.status,
        "teams": [],
        "createdAt": time::format_ms(source.created_at),
        "updatedAt": time::format_ms(source.updated_at),
    })
}
