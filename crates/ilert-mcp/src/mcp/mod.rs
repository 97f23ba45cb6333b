//! The MCP surface: the handler and what it answers besides tool calls (prompts, resources,
//! completions, MCP Apps views, skills, follow-through tasks, methods rmcp does not handle).

pub mod completions;
pub mod methods;
pub mod prompts;
pub mod resources;
pub mod server;
pub mod skills;
pub mod tasks;
pub mod views;
