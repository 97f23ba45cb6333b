//! ilert-mcp end to end: a real sandbox over SQLite and real HTTP on 127.0.0.1, driven by rmcp's
//! own client and by raw HTTP requests.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod audit;
#[path = "../../../../tests/support/capture.rs"]
mod capture;
mod chatgpt;
mod common;
mod config;
mod confirm;
mod connect;
mod fuzz;
mod grants;
mod hostile;
mod oauth;
mod operations;
mod packaging;
mod readme;
mod redis_store;
mod rooms;
mod schema;
mod security;
mod skills;
mod stdio;
mod tasks;
mod tls;
mod tools;
mod tools_alert_work;
mod tools_incidents;
mod tools_load;
mod tools_oncall;
mod tools_overview;
mod tools_paperwork;
mod tools_people;
mod tools_reports;
mod tools_services;
mod tools_sources;
mod tools_support;
mod tools_trust;
mod traces;
mod transport;
mod untrusted;
mod views;
