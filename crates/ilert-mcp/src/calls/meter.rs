//! Stage 6, metrics: every call is counted by tool and outcome with its latency, and the calls
//! in flight are gauged ([`crate::observe::metrics`]).

use std::time::{Duration, Instant};

use rmcp::ErrorData;
use rmcp::model::CallToolResponse;

use crate::observe::metrics::{self, InFlight};

/// A call refused before it started (selection and grant): counted, with no latency.
pub fn refused(tool: &str) {
    metrics::global().tool_call(tool, "refused", Duration::ZERO);
}

/// A call under way: in flight until dropped, timed from its start. It borrows the tool's name
/// from the catalogue: nothing is allocated per call.
pub struct Meter<'a> {
    tool: &'a str,
    started: Instant,
    _in_flight: InFlight,
}

impl<'a> Meter<'a> {
    pub fn start(tool: &'a str) -> Self {
        Self {
            tool,
            _in_flight: metrics::global().start_call(),
            started: Instant::now(),
        }
    }

    /// Counts the call with `outcome` (see [`outcome`]) and the time since it started.
    pub fn record(&self, outcome: &'static str) {
        metrics::global().tool_call(self.tool, outcome, self.started.elapsed());
    }
}

/// The outcome label of a call that ran; `confirmation` is used for calls answered by stage 2.
pub fn outcome(result: &Result<CallToolResponse, ErrorData>) -> &'static str {
    match result {
        Ok(CallToolResponse::Complete(r)) if r.is_error == Some(true) => "tool_error",
        Ok(CallToolResponse::InputRequired(_)) => "input_required",
        Ok(_) => "ok",
        Err(_) => "protocol_error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{failure, structured_value};

    #[test]
    fn outcomes_are_labelled() {
        let ok = Ok(structured_value(serde_json::json!({}), "ok".into()).into());
        assert_eq!(outcome(&ok), "ok");
        assert_eq!(outcome(&Ok(failure("no").into())), "tool_error");
        let asked = Ok(CallToolResponse::InputRequired(
            rmcp::model::InputRequiredResult::new(None, None),
        ));
        assert_eq!(outcome(&asked), "input_required");
        assert_eq!(
            outcome(&Err(ErrorData::internal_error("bug", None))),
            "protocol_error"
        );
    }

    #[test]
    fn a_call_is_counted_and_leaves_flight() {
        let tool = "meter_test_tool";
        {
            let meter = Meter::start(tool);
            meter.record("ok");
        }
        refused(tool);
        let page = metrics::global().render();
        assert!(page.contains("meter_test_tool"), "{page}");
    }
}
