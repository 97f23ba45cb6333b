//! Typed async client for ilert's REST API (`https://api.ilert.com/api`).
//!
//! [`Client`] holds the connection pool and settings and carries no credentials; [`Client::session`]
//! binds one caller's [`ApiKey`] for a series of calls. A server that serves many callers keeps one
//! `Client` and makes a `Session` per request, so one caller's key is never used for another.

mod alert_sources;
mod alerts;
mod common;
mod error;
mod escalation_policies;
mod events;
mod guard;
mod http;
mod incidents;
mod key;
mod notifications;
mod on_calls;
mod reports;
mod schedules;
mod services;
mod teams;
pub mod tls;
mod users;

pub use alert_sources::{AlertSource, HeartbeatMonitor, HeartbeatPage};
pub use alerts::{
    Alert, AlertAction, AlertActionResult, AlertInclude, AlertPage, AlertQuery, AlertResponder,
    AlertStatus, AlertSummary, AssignTarget, Link, LogEntry, ManualAlert, NamedRef, ResponderWrite,
    SummaryRef, SummaryResponder, SummaryUser,
};
pub use common::{Page, TeamRef};
pub use error::{ApiError, TransportKind};
pub use escalation_policies::{EscalationPolicy, EscalationRule};
pub use events::{Event, EventComment, EventReceipt};
pub use guard::{BudgetUsage, Observer, Outcome};
pub use http::{Client, ClientConfig, RetryPolicy, Session};
pub use incidents::{
    AffectedService, AffectedServiceWrite, IdOnly, Incident, IncidentQuery, IncidentUpdate,
    IncidentWrite, PublishInfo, ServiceRef, Versioned,
};
pub use key::{ApiKey, InvalidApiKey};
pub use notifications::{Notification, NotifiedUser};
pub use on_calls::{OnCall, OnCallQuery};
pub use reports::{ReportQuery, ReportSummaryRow};
pub use schedules::{OverrideWrite, Schedule, Shift, ShiftRef};
pub use services::{
    MaintenanceQuery, MaintenanceWindow, MaintenanceWindowWrite, Service, StatusPage, Uptime,
};
pub use teams::{Team, TeamMember};
pub use users::{User, UserRef};

/// ilert's public API base URL.
pub const DEFAULT_BASE_URL: &str = "https://api.ilert.com/api";

/// `User-Agent` sent on every request.
pub const USER_AGENT: &str = concat!("ilert-mcp/", env!("CARGO_PKG_VERSION"));
