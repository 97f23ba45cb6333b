//! Typed async client for ilert's REST API (`https://api.ilert.com/api`).
//!
//! [`Client`] holds the connection pool and settings and carries no credentials; [`Client::session`]
//! binds one caller's [`ApiKey`] for a series of calls. A server that serves many callers keeps one
//! `Client` and makes a `Session` per request, so one caller's key is never used for another.

mod alerts;
mod error;
mod http;
mod key;
mod users;

pub use alerts::{Alert, AlertInclude, AlertQuery, AlertResponder, AlertStatus, Link, NamedRef};
pub use error::{ApiError, TransportKind};
pub use http::{Client, ClientConfig, RetryPolicy, Session};
pub use key::{ApiKey, InvalidApiKey};
pub use users::{User, UserRef};

/// ilert's public API base URL.
pub const DEFAULT_BASE_URL: &str = "https://api.ilert.com/api";

/// `User-Agent` sent on every request.
pub const USER_AGENT: &str = concat!("ilert-mcp/", env!("CARGO_PKG_VERSION"));
