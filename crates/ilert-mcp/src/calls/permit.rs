//! Stage 2, permission: before a write runs, the confirmation policy and any answer the caller
//! brings back (a sealed `requestState` with the person's yes or no) decide whether it may run,
//! must be answered without running, or runs with a checkpoint that may still stop it to ask
//! (stage 4, [`crate::calls::ask`]). Reads pass untouched. The rule itself is
//! [`crate::rules::confirm`]; this stage only applies it to one call.

use rmcp::RoleServer;
use rmcp::model::{CallToolRequestParams, CallToolResponse, Tool};
use rmcp::service::RequestContext;

use crate::observe::audit;
use crate::rules::confirm::{self, Before, Binding, Confirmer, Outcome, Stage};

/// A call answered here, without running the tool: a question, a refusal, or "declined".
pub struct Answered {
    pub answer: CallToolResponse,
    /// What the person's answer was, when the call carried one.
    pub outcome: Option<Outcome>,
}

impl Answered {
    /// What the audit trail records: nothing while the person is being asked; a no, or a state or
    /// policy refusal, is final.
    pub fn audited(&self) -> Option<(audit::Outcome, Option<&'static str>)> {
        match (&self.answer, self.outcome) {
            (CallToolResponse::InputRequired(_), _) => None,
            (_, Some(Outcome::Declined | Outcome::Cancelled)) => {
                Some((audit::Outcome::Declined, Some("the person declined")))
            }
            _ => Some((audit::Outcome::Refused, Some("not confirmed"))),
        }
    }
}

/// Whether `tool` may run for this call: `Ok((stage, outcome))` to run it (the stage goes into the
/// tool's extensions for its checkpoint; `None` for reads; `outcome` is `Accepted` when the call
/// brought the person's yes), `Err` to answer without running it.
/// `caller` names who calls (see [`confirm::caller_id`]); `can_ask` comes from [`can_ask`].
pub async fn check(
    confirmer: &Confirmer,
    tool: &Tool,
    request: &CallToolRequestParams,
    caller: impl FnOnce() -> String,
    can_ask: bool,
) -> Result<(Option<Stage>, Option<Outcome>), Answered> {
    let Some(class) = confirm::class_of(tool) else {
        return Ok((None, None));
    };
    let title = tool.title.as_deref().unwrap_or(tool.name.as_ref());
    let binding = Binding::new(&caller(), &tool.name, request.arguments.as_ref());
    let (before, outcome) = confirmer
        .before(class, title, binding, request, can_ask)
        .await;
    if let Some(outcome) = outcome {
        answered(&tool.name, outcome);
    }
    match before {
        Before::Run(stage) => Ok((Some(stage), outcome)),
        Before::Answer(answer) => Err(Answered { answer, outcome }),
    }
}

/// The one place a person's answer to a confirmation is recorded (accepted, declined, cancelled,
/// or a state refused as forged, expired, replayed or another caller's). The audit trail records
/// "declined" separately.
pub fn answered(tool: &str, outcome: Outcome) {
    tracing::info!(tool, outcome = ?outcome, "confirmation answered");
}

/// Whether the client can answer an elicitation inside a tool call: it declared form elicitation,
/// and either speaks 2026-07-28 (a call may answer `input_required`) or is a handshake-era stdio
/// client (the server may send it `elicitation/create` mid-call; over stateless HTTP it cannot).
pub fn can_ask(context: &RequestContext<RoleServer>) -> bool {
    let declared = context
        .client_capabilities()
        .and_then(|c| c.elicitation)
        .is_some_and(|e| e.form.is_some() || e.url.is_none());
    let over_http = context.extensions.get::<http::request::Parts>().is_some();
    declared && (super::is_2026_era(context) || !over_http)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::auth::seal::TokenKey;
    use crate::auth::store::InMemory;
    use crate::calls::catalogue::Catalogue;
    use crate::calls::offer::find;
    use crate::rules::confirm::Policy;

    fn confirmer(policy: Policy) -> Confirmer {
        Confirmer::new(policy, &TokenKey::generate(), Arc::new(InMemory::default()))
    }

    #[tokio::test]
    async fn reads_pass_and_writes_get_a_checkpoint() {
        let catalogue = Catalogue::full();
        let confirmer = confirmer(Policy::Outward);
        let read = find(&catalogue, "list_alerts").unwrap();
        let request = CallToolRequestParams::new("list_alerts");
        let stage = check(&confirmer, read, &request, || unreachable!(), true).await;
        assert!(matches!(stage, Ok((None, None))));
        let write = find(&catalogue, "create_alert").unwrap();
        let request = CallToolRequestParams::new("create_alert");
        let stage = check(&confirmer, write, &request, || "caller".into(), true).await;
        assert!(matches!(stage, Ok((Some(_), None))));
    }

    #[tokio::test]
    async fn a_forged_answer_is_refused_and_audited_as_refused() {
        let catalogue = Catalogue::full();
        let write = find(&catalogue, "create_alert").unwrap();
        let request =
            CallToolRequestParams::new("create_alert").with_request_state("imcp_confirm.forged");
        let answered = check(
            &confirmer(Policy::Outward),
            write,
            &request,
            || "c".into(),
            true,
        )
        .await
        .err()
        .unwrap();
        assert_eq!(answered.outcome, Some(Outcome::Refused));
        assert_eq!(
            answered.audited(),
            Some((audit::Outcome::Refused, Some("not confirmed")))
        );
    }

    #[test]
    fn a_question_is_not_audited_yet_and_a_no_is_declined() {
        let question = Answered {
            answer: CallToolResponse::InputRequired(rmcp::model::InputRequiredResult::new(
                None, None,
            )),
            outcome: None,
        };
        assert_eq!(question.audited(), None);
        let no = Answered {
            answer: crate::rules::failure("Not done").into(),
            outcome: Some(Outcome::Cancelled),
        };
        assert_eq!(
            no.audited(),
            Some((audit::Outcome::Declined, Some("the person declined")))
        );
    }
}
