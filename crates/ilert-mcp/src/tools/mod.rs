//! The tools: one file per ilert resource, each a router of `#[tool]` methods. The toolsets that
//! combine them are in [`crate::calls::catalogue`]; what every tool shares is in [`crate::rules`].

pub mod alert_history;
pub mod alert_work;
pub mod alerts;
pub mod chatgpt;
pub mod incidents;
pub mod load;
pub mod oncall;
pub mod overview;
pub mod paperwork;
pub mod people;
pub mod reports;
pub mod services;
pub mod sources;
pub mod view_context;
