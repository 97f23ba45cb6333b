//! Everything an answer may embed, loaded once per request: users, teams, schedules (with their
//! overrides), escalation policies, alert sources, services and maintenance windows. The demo
//! organisation has dozens of these, not thousands, so loading them whole is cheaper than
//! joining.

use std::collections::HashMap;

use rusqlite::Connection;

use crate::alert_sources::{self, AlertSource};
use crate::escalation_policies::{self, EscalationPolicy};
use crate::maintenance_windows::{self, MaintenanceWindow};
use crate::schedules::{self, Schedule};
use crate::services::{self, Service};
use crate::teams::{self, Team};
use crate::users::{self, User};

pub struct Catalog {
    pub users: HashMap<i64, User>,
    pub teams: HashMap<i64, Team>,
    pub schedules: HashMap<i64, Schedule>,
    pub policies: HashMap<i64, EscalationPolicy>,
    pub sources: HashMap<i64, AlertSource>,
    pub services: HashMap<i64, Service>,
    pub maintenance: Vec<MaintenanceWindow>,
}

impl Catalog {
    pub fn load(conn: &Connection) -> rusqlite::Result<Catalog> {
        Ok(Catalog {
            users: users::load_all(conn)?,
            teams: teams::load_all(conn)?,
            schedules: schedules::load_all(conn)?,
            policies: escalation_policies::load_all(conn)?,
            sources: alert_sources::load_all(conn)?,
            services: services::load_all(conn)?,
            maintenance: maintenance_windows::load_all(conn)?,
        })
    }

    /// Whether a maintenance window covers alert source `id` at `t`.
    pub fn source_in_maintenance(&self, id: i64, t: i64) -> bool {
        self.maintenance
            .iter()
            .any(|m| m.active_at(t) && m.alert_sources.contains(&id))
    }

    /// Whether a maintenance window covers service `id` at `t`.
    pub fn service_in_maintenance(&self, id: i64, t: i64) -> bool {
        self.maintenance
            .iter()
            .any(|m| m.active_at(t) && m.services.contains(&id))
    }
}
