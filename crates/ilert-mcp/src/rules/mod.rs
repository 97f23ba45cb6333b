//! The shared rules every tool uses, so a fix lands everywhere: arguments, times, names, rendering,
//! previews, confirmation, answers and schemas, and the toolbox a tool is handed.

pub mod answers;
pub mod args;
pub mod confirm;
pub mod details;
pub mod names;
pub mod previews;
pub mod render;
pub mod schemas;
pub mod times;
pub mod toolbox;

pub(crate) use answers::{check, ilert, session};
pub use answers::{
    explain, failure, lines_or, result_text, structured, structured_value, without_tools,
};
pub use schemas::{input_schema, output_schema, slim};
