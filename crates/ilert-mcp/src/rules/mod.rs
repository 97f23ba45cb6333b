//! The shared rules every tool uses, so a fix lands everywhere: arguments, times, names, rendering,
//! previews, confirmation, answers and schemas, the toolbox a tool is handed, and the boundary
//! every third-party string from ilert passes before a model or a person sees it (`untrusted`).

pub mod answers;
pub mod args;
pub mod confirm;
pub mod details;
pub mod follow;
pub mod load;
pub mod names;
pub mod paperwork;
pub mod previews;
pub mod render;
pub mod schemas;
pub mod similar;
pub mod times;
pub mod toolbox;
pub mod untrusted;

pub(crate) use answers::{check, ilert, session};
pub use answers::{
    explain, failure, lines_or, result_text, structured, structured_value, without_tools,
};
pub use schemas::{input_schema, output_schema, slim};
