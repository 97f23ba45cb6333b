//! Stage 3, the tool in its span: the call goes to the tool's router on the toolbox, with the
//! confirmation stage in its extensions for the tool's checkpoint, inside the request's trace
//! span. Bad arguments come back as a tool result the model can read and fix, and an error names
//! only tools this request is offered.

use rmcp::handler::server::tool::ToolCallContext;
use rmcp::model::{CallToolRequestParams, CallToolResponse, CallToolResult, ErrorCode};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer};
use tracing::Instrument as _;

use crate::calls::catalogue::Catalogue;
use crate::calls::offer::Offer;
use crate::observe::traces::RequestSpan;
use crate::rules::confirm::Stage;
use crate::rules::failure;
use crate::rules::toolbox::Toolbox;

/// What running a tool needs: the toolbox its methods take, the catalogue's router, and what
/// this request is offered.
pub struct Runner<'a> {
    pub tools: &'a Toolbox,
    pub catalogue: &'a Catalogue,
    pub offer: &'a Offer,
}

impl<'a> Runner<'a> {
    pub fn new(tools: &'a Toolbox, catalogue: &'a Catalogue, offer: &'a Offer) -> Self {
        Self {
            tools,
            catalogue,
            offer,
        }
    }

    /// Runs the tool `request` names, with `stage` in its extensions for its checkpoint.
    pub async fn call(
        &self,
        request: CallToolRequestParams,
        mut context: RequestContext<RoleServer>,
        stage: Option<&Stage>,
    ) -> Result<CallToolResponse, ErrorData> {
        let name = request.name.clone();
        if let Some(stage) = stage {
            context.extensions.insert(stage.clone());
        }
        // Over HTTP the tool runs in rmcp's own task: its ilert calls join the request's span here.
        let span = context
            .extensions
            .get::<http::request::Parts>()
            .and_then(|p| p.extensions.get::<RequestSpan>())
            .map_or_else(tracing::Span::current, |s| s.0.clone());
        let context = ToolCallContext::new(self.tools, request, context);
        match self.catalogue.router.call(context).instrument(span).await {
            Ok(CallToolResponse::Complete(result)) => {
                let result = explain_bad_arguments(&name, result);
                Ok(self.offer.offered_only(self.catalogue, result).into())
            }
            // Bad arguments are the model's to fix: say so as a tool result it can read and retry.
            Err(e) if e.code == ErrorCode::INVALID_PARAMS => {
                Ok(bad_arguments(&name, &e.message).into())
            }
            other => other,
        }
    }
}

/// rmcp reports undecodable arguments as "failed to deserialize parameters: ..."; restate that as
/// an instruction the model can follow.
fn explain_bad_arguments(tool: &str, result: CallToolResult) -> CallToolResult {
    const PREFIX: &str = "failed to deserialize parameters:";
    let reason = match (
        result.is_error,
        result.content.first().and_then(|c| c.as_text()),
    ) {
        (Some(true), Some(text)) => text.text.strip_prefix(PREFIX).map(|r| r.trim().to_owned()),
        _ => None,
    };
    match reason {
        Some(reason) => bad_arguments(tool, &reason),
        None => result,
    }
}

fn bad_arguments(tool: &str, reason: &str) -> CallToolResult {
    failure(format!(
        "Invalid arguments for {tool}: {reason}. Check the tool's input schema and call it again."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::result_text;

    #[test]
    fn undecodable_arguments_become_an_instruction() {
        let rmcp_says = failure("failed to deserialize parameters: missing field `ids`");
        let said = explain_bad_arguments("accept_alerts", rmcp_says);
        assert_eq!(said.is_error, Some(true));
        assert_eq!(
            result_text(&said),
            "Invalid arguments for accept_alerts: missing field `ids`. Check the tool's input \
             schema and call it again."
        );
    }

    #[test]
    fn other_results_pass_unchanged() {
        let tool_error = failure("Alert 4711 was not found.");
        assert_eq!(
            result_text(&explain_bad_arguments("get_alert", tool_error)),
            "Alert 4711 was not found."
        );
        let ok = crate::rules::structured_value(
            serde_json::json!({}),
            "failed to deserialize parameters: is data here".into(),
        );
        assert_eq!(explain_bad_arguments("get_alert", ok.clone()), ok);
    }
}
