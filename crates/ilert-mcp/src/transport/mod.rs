//! Transports: Streamable HTTP (`serve`, `demo`) with per-request bearer auth, and stdio.

pub mod auth;
pub mod cors;
pub mod guard;
pub mod http;
pub mod ops;
pub mod stdio;
