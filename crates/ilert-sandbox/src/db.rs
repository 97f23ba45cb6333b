//! The SQLite store behind every sandboxed ilert resource: file layout, pragmas, schema and
//! the one shared connection.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::Connection;

use crate::error::{ApiError, SandboxError};

/// Bumped whenever `SCHEMA` changes shape or the seed tells a new story (3: 90 days of history);
/// `PRAGMA user_version` records what a file holds.
/// A file from an older version is demo data, so it is wiped and seeded afresh.
pub const SCHEMA_VERSION: i64 = 3;

/// Nested configuration that is only ever read and written whole (schedule layers, escalation
/// rules, team and service references) lives in JSON columns; everything that is filtered,
/// joined or updated on its own has columns of its own. Times are Unix epoch milliseconds.
const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS users (
    id          INTEGER PRIMARY KEY,
    username    TEXT NOT NULL UNIQUE,
    first_name  TEXT NOT NULL,
    last_name   TEXT NOT NULL,
    email       TEXT NOT NULL UNIQUE,
    timezone    TEXT NOT NULL,
    language    TEXT NOT NULL,
    region      TEXT,
    role        TEXT NOT NULL,
    position    TEXT,
    department  TEXT,
    shift_color TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS api_keys (
    key     TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS teams (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    visibility TEXT NOT NULL DEFAULT 'PUBLIC',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS team_members (
    team_id INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role    TEXT NOT NULL,
    PRIMARY KEY (team_id, user_id)
);

-- `layers` holds `ScheduleLayerConfig`s (RECURRING) and `shifts` `ShiftRel`s (STATIC), both
-- with user ids only.
CREATE TABLE IF NOT EXISTS schedules (
    id                     INTEGER PRIMARY KEY,
    name                   TEXT NOT NULL,
    timezone               TEXT NOT NULL,
    type                   TEXT NOT NULL,
    show_gaps              INTEGER NOT NULL DEFAULT 1,
    default_shift_duration TEXT,
    layers                 TEXT NOT NULL DEFAULT '[]',
    shifts                 TEXT NOT NULL DEFAULT '[]',
    teams                  TEXT NOT NULL DEFAULT '[]'
);

CREATE TABLE IF NOT EXISTS schedule_overrides (
    id          INTEGER PRIMARY KEY,
    schedule_id INTEGER NOT NULL REFERENCES schedules(id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    start       INTEGER NOT NULL,
    end         INTEGER NOT NULL
);

-- `rules` holds `EscalationRule`s with user, schedule and team ids.
CREATE TABLE IF NOT EXISTS escalation_policies (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    routing_key TEXT,
    repeating   INTEGER NOT NULL DEFAULT 0,
    frequency   INTEGER NOT NULL DEFAULT 1,
    delay_min   INTEGER NOT NULL DEFAULT 0,
    rules       TEXT NOT NULL DEFAULT '[]',
    teams       TEXT NOT NULL DEFAULT '[]'
);

CREATE TABLE IF NOT EXISTS alert_sources (
    id                      INTEGER PRIMARY KEY,
    name                    TEXT NOT NULL,
    integration_type        TEXT NOT NULL,
    integration_key         TEXT NOT NULL UNIQUE,
    escalation_policy_id    INTEGER NOT NULL REFERENCES escalation_policies(id),
    alert_creation          TEXT NOT NULL DEFAULT 'ONE_ALERT_PER_EMAIL',
    alert_priority_rule     TEXT NOT NULL DEFAULT 'HIGH',
    auto_resolution_timeout TEXT,
    alert_grouping_window   TEXT,
    active                  INTEGER NOT NULL DEFAULT 1,
    teams                   TEXT NOT NULL DEFAULT '[]',
    created_at              INTEGER NOT NULL,
    updated_at              INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS alerts (
    id                         INTEGER PRIMARY KEY,
    summary                    TEXT NOT NULL,
    details                    TEXT NOT NULL DEFAULT '',
    report_time                INTEGER NOT NULL,
    resolved_on                INTEGER,
    accepted_at                INTEGER,
    status                     TEXT NOT NULL,
    priority                   TEXT NOT NULL,
    severity                   INTEGER,
    alert_key                  TEXT,
    alert_source_id            INTEGER NOT NULL REFERENCES alert_sources(id) ON DELETE CASCADE,
    escalation_policy_id       INTEGER NOT NULL,
    next_escalation            INTEGER,
    next_escalation_rule_index INTEGER,
    escalation_round           INTEGER NOT NULL DEFAULT 0,
    labels                     TEXT NOT NULL DEFAULT '{}',
    images                     TEXT NOT NULL DEFAULT '[]',
    links                      TEXT NOT NULL DEFAULT '[]',
    custom_details             TEXT NOT NULL DEFAULT '{}',
    merge_state                TEXT NOT NULL DEFAULT 'NONE'
);
CREATE INDEX IF NOT EXISTS alerts_by_time ON alerts(report_time DESC, id DESC);
CREATE INDEX IF NOT EXISTS alerts_by_key ON alerts(alert_source_id, lower(alert_key));
CREATE INDEX IF NOT EXISTS alerts_escalating ON alerts(next_escalation) WHERE next_escalation IS NOT NULL;

CREATE TABLE IF NOT EXISTS alert_responders (
    alert_id    INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    status      TEXT NOT NULL,
    accepted_at INTEGER,
    added_at    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (alert_id, user_id)
);
CREATE INDEX IF NOT EXISTS alert_responders_by_user ON alert_responders(user_id);

-- The alert timeline. `vars` are the values the text is rendered from, in either language.
CREATE TABLE IF NOT EXISTS log_entries (
    id        INTEGER PRIMARY KEY,
    alert_id  INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
    timestamp INTEGER NOT NULL,
    type      TEXT NOT NULL,
    vars      TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS log_entries_by_alert ON log_entries(alert_id, timestamp, id);

CREATE TABLE IF NOT EXISTS notifications (
    id        INTEGER PRIMARY KEY,
    alert_id  INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
    user_id   INTEGER NOT NULL,
    method    TEXT NOT NULL,
    target    TEXT NOT NULL,
    subject   TEXT NOT NULL,
    time      INTEGER NOT NULL,
    status    TEXT NOT NULL,
    error     TEXT
);
CREATE INDEX IF NOT EXISTS notifications_by_alert ON notifications(alert_id, time, id);

CREATE TABLE IF NOT EXISTS alert_actions (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    connector_type TEXT NOT NULL,
    connector_id   TEXT,
    icon_url       TEXT,
    alert_sources  TEXT NOT NULL DEFAULT '[]'
);

CREATE TABLE IF NOT EXISTS alert_action_results (
    id              TEXT PRIMARY KEY,
    alert_action_id TEXT NOT NULL REFERENCES alert_actions(id) ON DELETE CASCADE,
    alert_id        INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
    actor_id        INTEGER,
    success         INTEGER NOT NULL,
    created_at      INTEGER NOT NULL
);

-- `status` is what was last set by hand or by an incident; maintenance is applied on read.
CREATE TABLE IF NOT EXISTS services (
    id                     INTEGER PRIMARY KEY,
    name                   TEXT NOT NULL,
    alias                  TEXT,
    status                 TEXT NOT NULL DEFAULT 'OPERATIONAL',
    one_open_incident_only INTEGER NOT NULL DEFAULT 0,
    show_uptime_history    INTEGER NOT NULL DEFAULT 1,
    teams                  TEXT NOT NULL DEFAULT '[]',
    subscribers            TEXT NOT NULL DEFAULT '[]',
    created_at             INTEGER NOT NULL
);

-- Every status a service has been in since it was created, for uptime and outages.
CREATE TABLE IF NOT EXISTS service_status_log (
    service_id INTEGER NOT NULL REFERENCES services(id) ON DELETE CASCADE,
    at         INTEGER NOT NULL,
    status     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS service_status_log_by_service ON service_status_log(service_id, at);

CREATE TABLE IF NOT EXISTS status_pages (
    id                 INTEGER PRIMARY KEY,
    name               TEXT NOT NULL,
    subdomain          TEXT,
    domain             TEXT,
    timezone           TEXT,
    visibility         TEXT NOT NULL,
    page_title         TEXT,
    page_description   TEXT,
    page_layout        TEXT NOT NULL DEFAULT 'SINGLE_COLUMN',
    appearance         TEXT NOT NULL DEFAULT 'LIGHT',
    activated          INTEGER NOT NULL DEFAULT 1,
    services           TEXT NOT NULL DEFAULT '[]',
    structure          TEXT NOT NULL DEFAULT '{"elements":[]}',
    groups_json        TEXT NOT NULL DEFAULT '[]',
    teams              TEXT NOT NULL DEFAULT '[]',
    subscribers        TEXT NOT NULL DEFAULT '[]',
    public_subscribers INTEGER NOT NULL DEFAULT 0,
    announcement       TEXT
);

CREATE TABLE IF NOT EXISTS incidents (
    id                INTEGER PRIMARY KEY,
    summary           TEXT NOT NULL,
    status            TEXT NOT NULL,
    message           TEXT,
    send_notification INTEGER NOT NULL DEFAULT 0,
    affected_services TEXT NOT NULL DEFAULT '[]',
    subscribers       TEXT NOT NULL DEFAULT '[]',
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    resolved_on       INTEGER,
    version           INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE IF NOT EXISTS incident_updates (
    id                TEXT PRIMARY KEY,
    incident_id       INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    content           TEXT NOT NULL,
    status            TEXT NOT NULL,
    creator_id        INTEGER,
    send_notification INTEGER NOT NULL DEFAULT 0,
    created_at        INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS incident_updates_by_incident ON incident_updates(incident_id, created_at);

CREATE TABLE IF NOT EXISTS maintenance_windows (
    id            INTEGER PRIMARY KEY,
    summary       TEXT NOT NULL,
    timezone      TEXT,
    start         INTEGER NOT NULL,
    end           INTEGER NOT NULL,
    created_by    TEXT,
    alert_sources TEXT NOT NULL DEFAULT '[]',
    services      TEXT NOT NULL DEFAULT '[]',
    notifications TEXT NOT NULL DEFAULT '{}'
);

CREATE TABLE IF NOT EXISTS heartbeat_monitors (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    interval_sec    INTEGER NOT NULL,
    alert_summary   TEXT,
    alert_source_id INTEGER REFERENCES alert_sources(id) ON DELETE SET NULL,
    integration_key TEXT NOT NULL UNIQUE,
    teams           TEXT NOT NULL DEFAULT '[]',
    last_ping       INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
"#;

/// The shared connection. Queries take microseconds, so one connection behind a mutex is
/// plenty; `call` keeps the blocking work off the async runtime.
#[derive(Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
}

impl Db {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    /// Returns whether the file holds no data yet, so the caller knows to seed it.
    pub fn open(path: &Path) -> Result<(Db, bool), SandboxError> {
        let sql_err = |source| SandboxError::Sqlite {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open(path).map_err(sql_err)?;
        conn.busy_timeout(Duration::from_secs(5)).map_err(sql_err)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             PRAGMA foreign_keys = ON;",
        )
        .map_err(sql_err)?;
        let found: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(sql_err)?;
        if found > SCHEMA_VERSION {
            return Err(SandboxError::SchemaTooNew {
                path: path.to_path_buf(),
                found,
                supported: SCHEMA_VERSION,
            });
        }
        if found > 0 && found < SCHEMA_VERSION {
            tracing::warn!(
                path = %path.display(),
                found,
                current = SCHEMA_VERSION,
                "the sandbox database is from an older version; seeding the demo organisation afresh"
            );
            drop_all_tables(&conn).map_err(sql_err)?;
        }
        conn.execute_batch(SCHEMA).map_err(sql_err)?;
        conn.pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(sql_err)?;
        let users: i64 = conn
            .query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0))
            .map_err(sql_err)?;
        Ok((
            Db {
                conn: Arc::new(Mutex::new(conn)),
            },
            users == 0,
        ))
    }

    /// Runs `f` with exclusive access to the connection on the blocking thread pool.
    pub async fn call<R, F>(&self, f: F) -> Result<R, ApiError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<R, ApiError> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            // A panic elsewhere while holding the lock leaves SQLite itself consistent
            // (statements are atomic), so a poisoned lock is safe to reuse.
            let mut guard = conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            f(&mut guard)
        })
        .await
        .map_err(|err| ApiError::internal(format!("database task failed: {err}")))?
    }

    /// Deletes the row of `table` with this id; `missing` is the error when there is none. `table`
    /// is one of the schema's own names, never input.
    pub async fn delete_by_id(
        &self,
        table: &'static str,
        id: i64,
        missing: fn(i64) -> ApiError,
    ) -> Result<(), ApiError> {
        self.call(move |conn| {
            match conn.execute(&format!("DELETE FROM {table} WHERE id = ?1"), [id])? {
                0 => Err(missing(id)),
                _ => Ok(()),
            }
        })
        .await
    }

    /// Synchronous access, for start-up work such as seeding.
    pub fn with_conn<R>(&self, f: impl FnOnce(&mut Connection) -> R) -> R {
        let mut guard = self
            .conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut guard)
    }
}

/// Paths of the database and its WAL side files, all removed on reset.
pub fn files(data_dir: &Path) -> [PathBuf; 3] {
    [
        data_dir.join("sandbox.db"),
        data_dir.join("sandbox.db-wal"),
        data_dir.join("sandbox.db-shm"),
    ]
}

/// Empties a database of an older schema version. Foreign keys are off meanwhile, so the drop
/// order does not matter.
fn drop_all_tables(conn: &Connection) -> rusqlite::Result<()> {
    let tables: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    conn.execute_batch("PRAGMA foreign_keys = OFF;")?;
    for table in tables {
        conn.execute_batch(&format!(
            "DROP TABLE IF EXISTS \"{}\";",
            table.replace('"', "\"\"")
        ))?;
    }
    conn.execute_batch("PRAGMA foreign_keys = ON;")
}
