//! End-to-end tests of the ilert sandbox over real HTTP on 127.0.0.1.

// clippy.toml allows these inside #[test] functions only; the shared helpers are test code too.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod alerts_actions;
mod alerts_get;
mod alerts_list;
mod auth;
#[path = "../../../../tests/support/capture.rs"]
mod capture;
mod common;
mod contract;
mod durability;
mod errors;
mod escalation;
mod events;
mod ilert_rust;
mod incidents;
mod leniency;
mod on_calls;
mod openapi;
mod persistence;
mod rate_limit;
mod reports;
mod resources;
mod roles;
mod users;
