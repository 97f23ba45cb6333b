//! The SQLite store behind every sandboxed ilert resource: file layout, pragmas, schema and
//! the one shared connection.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::Connection;

use crate::error::{ApiError, SandboxError};

/// Bumped whenever `SCHEMA` changes shape; `PRAGMA user_version` records what a file holds.
pub const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS users (
    id          INTEGER PRIMARY KEY,
    username    TEXT NOT NULL UNIQUE,
    first_name  TEXT NOT NULL,
    last_name   TEXT NOT NULL,
    email       TEXT NOT NULL UNIQUE,
    timezone    TEXT NOT NULL,
    language    TEXT NOT NULL,
    region      TEXT NOT NULL,
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

CREATE TABLE IF NOT EXISTS escalation_policies (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    routing_key TEXT,
    repeating   INTEGER NOT NULL DEFAULT 0,
    frequency   INTEGER NOT NULL DEFAULT 1,
    delay_min   INTEGER NOT NULL DEFAULT 0
);

-- One row per level; `position` is the zero-based level index ilert uses in /levels/{level}.
CREATE TABLE IF NOT EXISTS escalation_rules (
    policy_id          INTEGER NOT NULL REFERENCES escalation_policies(id) ON DELETE CASCADE,
    position           INTEGER NOT NULL,
    escalation_timeout INTEGER NOT NULL,
    PRIMARY KEY (policy_id, position)
);

CREATE TABLE IF NOT EXISTS escalation_rule_users (
    policy_id INTEGER NOT NULL,
    position  INTEGER NOT NULL,
    ord       INTEGER NOT NULL,
    user_id   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (policy_id, position, user_id),
    FOREIGN KEY (policy_id, position) REFERENCES escalation_rules(policy_id, position) ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS alert_sources (
    id                   INTEGER PRIMARY KEY,
    name                 TEXT NOT NULL,
    integration_type     TEXT NOT NULL,
    integration_key      TEXT NOT NULL UNIQUE,
    escalation_policy_id INTEGER NOT NULL REFERENCES escalation_policies(id),
    alert_creation       TEXT NOT NULL DEFAULT 'ONE_ALERT_PER_EMAIL',
    alert_priority_rule  TEXT NOT NULL DEFAULT 'HIGH',
    active               INTEGER NOT NULL DEFAULT 1,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS alerts (
    id                         INTEGER PRIMARY KEY,
    summary                    TEXT NOT NULL,
    details                    TEXT NOT NULL DEFAULT '',
    report_time                INTEGER NOT NULL,
    resolved_on                INTEGER,
    status                     TEXT NOT NULL,
    priority                   TEXT NOT NULL,
    severity                   INTEGER,
    alert_key                  TEXT,
    alert_source_id            INTEGER NOT NULL REFERENCES alert_sources(id),
    escalation_policy_id       INTEGER NOT NULL REFERENCES escalation_policies(id),
    next_escalation            INTEGER,
    next_escalation_rule_index INTEGER,
    labels                     TEXT NOT NULL DEFAULT '{}',
    images                     TEXT NOT NULL DEFAULT '[]',
    links                      TEXT NOT NULL DEFAULT '[]',
    custom_details             TEXT NOT NULL DEFAULT '{}',
    merge_state                TEXT NOT NULL DEFAULT 'NONE'
);
CREATE INDEX IF NOT EXISTS alerts_by_time ON alerts(report_time DESC, id DESC);

CREATE TABLE IF NOT EXISTS alert_responders (
    alert_id    INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    status      TEXT NOT NULL,
    accepted_at INTEGER,
    PRIMARY KEY (alert_id, user_id)
);
CREATE INDEX IF NOT EXISTS alert_responders_by_user ON alert_responders(user_id);
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
