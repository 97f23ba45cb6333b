//! Stage 4, confirmation: when the tool stopped at its checkpoint, the person is asked what it
//! showed. A 2026-07-28 client gets `input_required` with a sealed state any replica can finish;
//! a handshake-era stdio client is asked in band with `elicitation/create`, and on yes the tool
//! runs again, confirmed.

use rmcp::model::{CallToolRequestParams, CallToolResponse, ElicitationAction};
use rmcp::service::{RequestContext, ServiceError};
use rmcp::{ErrorData, RoleServer};

use crate::calls::permit::answered;
use crate::calls::run::Runner;
use crate::rules::confirm::{self, Confirmer, Outcome, Preview, Stage};

/// The tool's answer, or the question its checkpoint raised; with the person's answer when they
/// were asked in band. `retry` is the call again, kept when a stage was given.
pub async fn after(
    runner: &Runner<'_>,
    confirmer: &Confirmer,
    stage: Option<&Stage>,
    retry: Option<(CallToolRequestParams, RequestContext<RoleServer>)>,
    result: Result<CallToolResponse, ErrorData>,
) -> (Result<CallToolResponse, ErrorData>, Option<Outcome>) {
    let (Some(stage), Some((request, context))) = (stage, retry) else {
        return (result, None);
    };
    let Some(preview) = stage.take_preview() else {
        return (result, None);
    };
    if super::is_2026_era(&context) {
        return (Ok(confirmer.ask(stage.binding(), &preview).into()), None);
    }
    let (result, outcome) = in_band(runner, &preview, stage, request, context).await;
    (result, Some(outcome))
}

/// Handshake-era stdio, where the server may send requests mid-call: ask with
/// `elicitation/create` and run the tool again, confirmed, on accept.
async fn in_band(
    runner: &Runner<'_>,
    preview: &Preview,
    stage: &Stage,
    request: CallToolRequestParams,
    context: RequestContext<RoleServer>,
) -> (Result<CallToolResponse, ErrorData>, Outcome) {
    let name = request.name.to_string();
    let answer = context
        .peer
        .create_elicitation_with_timeout(
            confirm::elicitation(preview),
            Some(std::time::Duration::from_secs(
                confirm::STATE_TTL_SECS.unsigned_abs(),
            )),
        )
        .await;
    let outcome = outcome_of(&name, answer.map(|a| a.action));
    answered(&name, outcome);
    let result = match outcome {
        Outcome::Accepted => {
            runner
                .call(request, context, Some(&stage.confirmed()))
                .await
        }
        _ => {
            let tool = runner.catalogue.router.get(&name);
            let title = tool.and_then(|t| t.title.as_deref()).unwrap_or(&name);
            Ok(confirm::not_done(outcome, title, &name).into())
        }
    };
    (result, outcome)
}

/// What the person's answer (or the client's failure to give one) means.
fn outcome_of(tool: &str, answer: Result<ElicitationAction, ServiceError>) -> Outcome {
    match answer {
        Ok(ElicitationAction::Accept) => Outcome::Accepted,
        Ok(ElicitationAction::Cancel) => Outcome::Cancelled,
        Ok(_) => Outcome::Declined,
        Err(e) => {
            tracing::warn!(tool, error = %e, "the client did not answer the confirmation");
            Outcome::Cancelled
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_yes_runs_the_tool() {
        assert_eq!(
            outcome_of("t", Ok(ElicitationAction::Accept)),
            Outcome::Accepted
        );
        assert_eq!(
            outcome_of("t", Ok(ElicitationAction::Decline)),
            Outcome::Declined
        );
        assert_eq!(
            outcome_of("t", Ok(ElicitationAction::Cancel)),
            Outcome::Cancelled
        );
        // A client that never answers has not said yes.
        assert_eq!(
            outcome_of("t", Err(ServiceError::Cancelled { reason: None })),
            Outcome::Cancelled
        );
    }
}
