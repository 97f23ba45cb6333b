//! An ilert-compatible REST API over SQLite, for offline demos and tests. Mirrors the paths,
//! JSON shapes, auth, role limits, errors and behaviour (escalation, on-call shifts, events,
//! status updates) of `https://api.ilert.com/api` (spec v2.2026.5).

mod alert_actions;
mod alert_responders;
mod alert_sources;
mod alerts;
mod auth;
mod catalog;
mod clock;
mod coordination_incidents;
mod db;
mod error;
mod escalation_policies;
mod escalations;
mod events;
mod health;
mod heartbeat_monitors;
mod incidents;
mod input;
mod log_entries;
mod maintenance_windows;
mod notifications;
mod on_calls;
mod openapi;
mod query;
mod reply;
mod reports;
mod request_counter;
mod schedules;
pub mod seed;
mod services;
mod shifts;
mod status_pages;
mod subscribers;
mod teams;
mod time;
mod users;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::middleware;
use axum::serve::ListenerExt;

pub use clock::Clock;
pub use coordination_incidents::IncidentModel;
pub use error::SandboxError;

use auth::RateLimiter;
use db::Db;

/// How to open a sandbox.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// The SQLite file lives at `data_dir/sandbox.db`; the directory is created if missing.
    pub data_dir: PathBuf,
    /// Delete the database and seed a fresh demo organisation.
    pub reset: bool,
    /// Requests per API key per fixed 60 s window; `None` turns limiting off, for the Events
    /// API's per-integration-key budget (50 a minute, as ilert's) too.
    pub rate_limit_per_minute: Option<u32>,
    /// Seed the 90 days of history before the recent weeks (the demo does; the sandbox's own API
    /// tests, whose fixtures are the recent alerts' ids, do not).
    pub history: bool,
}

/// ilert's budget per alert-source integration key on `POST /api/events`.
const EVENTS_PER_MINUTE: u32 = 50;

/// Shared by every handler.
#[derive(Clone)]
pub(crate) struct AppState {
    pub db: Db,
    pub clock: Clock,
    pub limiter: Option<Arc<RateLimiter>>,
    pub event_limiter: Option<Arc<RateLimiter>>,
    pub incident_model: IncidentModel,
}

/// An opened sandbox. Cheap to clone; clones share the database and rate-limit windows.
#[derive(Clone)]
pub struct Sandbox {
    state: AppState,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox").finish_non_exhaustive()
    }
}

impl Sandbox {
    /// Opens the database in `config.data_dir`, creating and seeding it on first start.
    pub fn open(config: SandboxConfig) -> Result<Sandbox, SandboxError> {
        std::fs::create_dir_all(&config.data_dir).map_err(|source| SandboxError::CreateDir {
            path: config.data_dir.clone(),
            source,
        })?;
        let [db_path, ..] = db::files(&config.data_dir);
        if config.reset {
            for path in db::files(&config.data_dir) {
                match std::fs::remove_file(&path) {
                    Ok(()) => {}
                    Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                    Err(source) => return Err(SandboxError::Remove { path, source }),
                }
            }
        }
        let (db, empty) = Db::open(&db_path)?;
        let clock = Clock::default();
        if empty {
            let now = clock.now_ms();
            db.with_conn(|conn| seed::seed(conn, now, config.history))
                .map_err(|source| SandboxError::Sqlite {
                    path: db_path.clone(),
                    source,
                })?;
            tracing::info!(path = %db_path.display(), "seeded the sandbox demo organisation");
        }
        Ok(Sandbox {
            state: AppState {
                db,
                clock,
                limiter: config
                    .rate_limit_per_minute
                    .map(|n| Arc::new(RateLimiter::per_minute(n))),
                event_limiter: config
                    .rate_limit_per_minute
                    .map(|_| Arc::new(RateLimiter::per_minute(EVENTS_PER_MINUTE))),
                incident_model: IncidentModel::default(),
            },
        })
    }

    /// Makes the sandbox the given kind of ilert account (classic unless set): under
    /// [`IncidentModel::Coordination2026`], `/incidents` are coordination records and status
    /// updates live at `/status-updates`.
    pub fn with_incident_model(mut self, model: IncidentModel) -> Sandbox {
        self.state.incident_model = model;
        self
    }

    /// The sandbox's clock, shared with every clone. Real time unless moved, which is how tests
    /// watch alerts escalate and shifts hand over.
    pub fn clock(&self) -> Clock {
        self.state.clock.clone()
    }

    /// Everything the sandbox serves: `/api/...` behind API-key auth, the Events API and
    /// heartbeat pings (their keys are in the body or path), and the unauthenticated
    /// `/api-docs/openapi.json` and `/healthz`.
    pub fn router(&self) -> Router {
        let api = Router::new()
            .merge(users::routes())
            .merge(teams::routes())
            .merge(alerts::routes())
            .merge(alert_responders::routes())
            .merge(alert_actions::routes())
            .merge(log_entries::routes())
            .merge(notifications::routes())
            .merge(alert_sources::routes())
            .merge(escalation_policies::routes())
            .merge(schedules::routes())
            .merge(on_calls::routes())
            .merge(match self.state.incident_model {
                IncidentModel::Classic => incidents::routes("/incidents"),
                IncidentModel::Coordination2026 => {
                    incidents::routes("/status-updates").merge(coordination_incidents::routes())
                }
            })
            .merge(services::routes())
            .merge(status_pages::routes())
            .merge(maintenance_windows::routes())
            .merge(heartbeat_monitors::routes())
            .merge(reports::routes())
            .fallback(error::not_found)
            .route_layer(middleware::from_fn_with_state(
                self.state.clone(),
                auth::require_api_key,
            ))
            .merge(events::routes())
            .merge(heartbeat_monitors::ping_routes());
        let router = Router::new()
            .nest("/api", api)
            .merge(openapi::routes())
            .merge(health::routes())
            .fallback(error::not_found)
            .layer(middleware::from_fn(error::json_errors))
            .with_state(self.state.clone());
        request_counter::wrap(router)
    }
}

/// Serves `sandbox` on an already-bound listener until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    sandbox: Sandbox,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Small JSON responses would otherwise wait on Nagle's algorithm.
    let listener = listener.tap_io(|stream| {
        if let Err(err) = stream.set_nodelay(true) {
            tracing::debug!(%err, "cannot set TCP_NODELAY");
        }
    });
    axum::serve(listener, sandbox.router())
        .with_graceful_shutdown(shutdown)
        .await
}
