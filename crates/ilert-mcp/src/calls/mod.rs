//! The call pipeline: the catalogue of tools and the stages one `tools/call` passes through, in
//! this order (read it in [`crate::mcp::server`]'s `call_tool`):
//!
//! 1. [`offer`]: selection and grant: the tool exists, and this request's narrowing, read-only
//!    header and OAuth grant offer it;
//! 2. [`permit`]: permission: the confirmation policy and any answer the caller brings back;
//! 3. [`run`]: the tool in its span, on the [`crate::rules::toolbox::Toolbox`];
//! 4. [`ask`]: confirmation: the person is asked what the tool's checkpoint showed;
//! 5. [`trail`]: the audit outcome of a write;
//! 6. [`meter`]: metrics by tool and outcome (recorded before the audit write, so latency does
//!    not include it);
//! 7. [`follow`]: follow-through: with the tasks extension declared, a write that pages people
//!    (or a watch of an alert) answers with a task that ends when someone accepts.
//!
//! Stages use the rules and the tools below them and nothing of the handler above them.

pub mod ask;
pub mod catalogue;
pub mod follow;
pub mod meter;
pub mod offer;
pub mod permit;
pub mod run;
pub mod trail;

use rmcp::RoleServer;
use rmcp::service::RequestContext;

/// Whether a request speaks protocol 2026-07-28 or later, by its `_meta` or its HTTP header.
pub fn is_2026_era(context: &RequestContext<RoleServer>) -> bool {
    const MODERN: &str = "2026-07-28";
    let by_meta = context
        .meta
        .protocol_version()
        .is_some_and(|v| v.as_str() >= MODERN);
    let by_header = context
        .extensions
        .get::<http::request::Parts>()
        .and_then(|p| p.headers.get("mcp-protocol-version"))
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v >= MODERN);
    by_meta || by_header
}
