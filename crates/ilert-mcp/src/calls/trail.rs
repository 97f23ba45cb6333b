//! Stage 5, audit outcome: every call of a tool that writes leaves one audit event, whatever
//! becomes of it. The entry is opened when the call arrives (who, how authenticated, which
//! client, tool, targets) and closed with its outcome, whether a person was asked to confirm and
//! what they said (or why nobody was), and the ids the write created; the writer is
//! [`crate::observe::audit`].

use ilert_client::Session;
use rmcp::ErrorData;
use rmcp::RoleServer;
use rmcp::model::{CallToolRequestParams, CallToolResponse, Tool};
use rmcp::service::RequestContext;
use serde_json::Value;

use crate::calls::catalogue::is_read_only;
use crate::observe::audit::{Answer, AuditLog, Confirmation, Entry, Outcome};
use crate::rules::confirm::{Outcome as Said, Policy};
use crate::rules::toolbox::Toolbox;

/// Why nobody was asked, for a call refused before the confirmation stage.
pub const REFUSED_FIRST: &str = "refused before any question (selection, read-only or grant)";
const NEVER: &str = "--confirm never: this server asks nobody";
const CANNOT_ASK: &str =
    "the client cannot ask a person (no elicitation); the host's own approval applies";
const ENDED_EARLY: &str = "the call ended before any question";
const OUTWARD_SKIPS: &str = "--confirm outward asks nobody for this write";
const ALWAYS_SKIPS: &str = "--confirm always asks nobody for this write";
/// Why a write under `--confirm always` from a client that cannot ask is refused.
const MUST_ASK: &str = "a person must confirm (--confirm always) and the client cannot ask";

/// What the confirmation stages saw of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asked {
    /// Answered before the tool ran: the person's answer that came with the call, if any.
    Answered(Option<Said>),
    /// The tool ran: the person's answer (brought with the call, or given in band), the policy,
    /// and whether the client could ask.
    Ran {
        said: Option<Said>,
        policy: Policy,
        can_ask: bool,
    },
}

impl Asked {
    pub fn answered(said: Option<Said>) -> Self {
        Self::Answered(said)
    }

    pub fn ran(said: Option<Said>, policy: Policy, can_ask: bool) -> Self {
        Self::Ran {
            said,
            policy,
            can_ask,
        }
    }
}

/// What the trail records for a call: an outcome and why, or nothing yet (the person is asked).
pub type Verdict = Option<(Outcome, Option<&'static str>)>;

/// One call's audit entry; empty for tools that only read.
pub struct Trail<'a> {
    log: &'a AuditLog,
    entry: Option<(Entry, Option<Session>)>,
}

impl<'a> Trail<'a> {
    /// Opens the entry for a call of `tool`, if it writes.
    pub fn open(
        tool: &Tool,
        request: &CallToolRequestParams,
        context: &RequestContext<RoleServer>,
        tools: &'a Toolbox,
    ) -> Self {
        let entry = (!is_read_only(tool)).then(|| {
            let parts = context.extensions.get::<http::request::Parts>();
            // Over stateless HTTP rmcp stands in a default client for one that never said who it
            // is; only the request's own metadata (2026-07-28) names it, else the user agent.
            let client = match parts {
                Some(_) => context.meta.client_info(),
                None => context.client_info(),
            };
            let entry = Entry::open(
                &request.name,
                request.arguments.as_ref(),
                parts,
                client,
                tools.stdio_key.as_ref(),
            );
            (entry, tools.session(&context.extensions).ok())
        });
        Self {
            log: &tools.audit,
            entry,
        }
    }

    /// Closes the entry of a call stage 1 refused, saying why.
    pub async fn refused(self, why: &'static str) {
        let verdict = Some((Outcome::Refused, Some(why)));
        self.finish(verdict, Confirmation::not_asked(REFUSED_FIRST), Vec::new())
            .await;
    }

    /// Closes the entry of a call answered before the tool ran with `verdict`; with none (the
    /// person is being asked), the call that completes it is recorded when it comes back.
    pub async fn close(self, verdict: Verdict, asked: Asked) {
        let confirmation = confirmation(asked, None);
        self.finish(verdict, confirmation, Vec::new()).await;
    }

    /// Closes the entry of a call whose tool ran, with what became of it.
    pub async fn ended(self, result: &Result<CallToolResponse, ErrorData>, asked: Asked) {
        let verdict = verdict(result, asked);
        let created = match (&verdict, &self.entry) {
            (Some((Outcome::Done, _)), Some((entry, _))) => created(entry.tool(), result),
            _ => Vec::new(),
        };
        let confirmation = confirmation(asked, Some(result));
        self.finish(verdict, confirmation, created).await;
    }

    async fn finish(self, verdict: Verdict, confirmation: Confirmation, created: Vec<Value>) {
        if let (Some((mut entry, api)), Some((outcome, reason))) = (self.entry, verdict) {
            entry.confirmation(confirmation);
            entry.created(created);
            entry.finish(self.log, api.as_ref(), outcome, reason).await;
        }
    }
}

/// What became of a call that ran: `declined` when the person said no when asked in band;
/// `refused` when `--confirm always` stopped it because the client cannot ask.
pub fn verdict(result: &Result<CallToolResponse, ErrorData>, asked: Asked) -> Verdict {
    let said = match asked {
        Asked::Answered(said) | Asked::Ran { said, .. } => said,
    };
    match result {
        _ if matches!(said, Some(Said::Declined | Said::Cancelled)) => {
            Some((Outcome::Declined, Some("the person declined")))
        }
        Ok(CallToolResponse::Complete(r)) if r.is_error == Some(true) => {
            if stopped_by_always(asked, r) {
                Some((Outcome::Refused, Some(MUST_ASK)))
            } else {
                Some((Outcome::Failed, Some("the tool answered with an error")))
            }
        }
        Ok(CallToolResponse::Complete(_)) => Some((Outcome::Done, None)),
        Ok(_) => None,
        Err(_) => Some((Outcome::Failed, Some("internal error"))),
    }
}

/// Whether the tool's checkpoint refused the call because `--confirm always` wants a person and
/// the client cannot ask: only then are policy and client so, no answer came, and the tool's
/// error is the checkpoint's (it names the flag; no error from ilert does).
fn stopped_by_always(asked: Asked, result: &rmcp::model::CallToolResult) -> bool {
    matches!(
        asked,
        Asked::Ran {
            said: None,
            policy: Policy::Always,
            can_ask: false,
        }
    ) && crate::rules::result_text(result).contains("(--confirm always)")
}

/// Whether a person was asked and what they said, or why nobody was. `result` is the tool's, when
/// it ran.
fn confirmation(
    asked: Asked,
    result: Option<&Result<CallToolResponse, ErrorData>>,
) -> Confirmation {
    let answer = |said| match said {
        Said::Accepted => Answer::Accepted,
        Said::Declined => Answer::Declined,
        Said::Cancelled => Answer::Cancelled,
        Said::Refused => Answer::Invalid,
    };
    match asked {
        Asked::Answered(Some(said))
        | Asked::Ran {
            said: Some(said), ..
        } => Confirmation::answered(answer(said)),
        Asked::Answered(None) => Confirmation::not_asked(ENDED_EARLY),
        Asked::Ran {
            policy: Policy::Never,
            ..
        } => Confirmation::not_asked(NEVER),
        Asked::Ran { can_ask: false, .. } => Confirmation::not_asked(CANNOT_ASK),
        Asked::Ran { policy, .. } => {
            let failed = !matches!(result, Some(Ok(CallToolResponse::Complete(r))) if r.is_error != Some(true));
            match policy {
                _ if failed => Confirmation::not_asked(ENDED_EARLY),
                Policy::Always => Confirmation::not_asked(ALWAYS_SKIPS),
                _ => Confirmation::not_asked(OUTWARD_SKIPS),
            }
        }
    }
}

/// The ids of what a write created, from its structured result.
fn created(tool: &str, result: &Result<CallToolResponse, ErrorData>) -> Vec<Value> {
    let Ok(CallToolResponse::Complete(r)) = result else {
        return Vec::new();
    };
    let Some(out) = r.structured_content.as_ref() else {
        return Vec::new();
    };
    let ids: Vec<&Value> = match tool {
        "create_alert" => out.pointer("/alert/id").into_iter().collect(),
        // An ALERT event creates an alert only when ilert says so; otherwise it joined one.
        "send_event" => out
            .get("alert_id")
            .filter(|_| {
                out.get("response_code").and_then(Value::as_str) == Some("NEW_ALERT_CREATED")
            })
            .into_iter()
            .collect(),
        // Absent on a dry run, which creates nothing.
        "create_incident" => out.pointer("/incident/id").into_iter().collect(),
        "create_maintenance_window" => out
            .get("maintenance_windows")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|w| w.get("id"))
            .collect(),
        _ => Vec::new(),
    };
    ids.into_iter().filter(|id| id.is_i64()).cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{failure, structured_value};

    fn ran(said: Option<Said>) -> Asked {
        Asked::ran(said, Policy::Outward, true)
    }

    #[test]
    fn each_ending_is_recorded_once_and_questions_wait() {
        let done = Ok(structured_value(serde_json::json!({}), "ok".into()).into());
        assert_eq!(verdict(&done, ran(None)), Some((Outcome::Done, None)));
        assert_eq!(
            verdict(&done, ran(Some(Said::Declined))),
            Some((Outcome::Declined, Some("the person declined")))
        );
        let failed = Ok(failure("ilert refused").into());
        assert_eq!(
            verdict(&failed, ran(None)),
            Some((Outcome::Failed, Some("the tool answered with an error")))
        );
        let asked = Ok(CallToolResponse::InputRequired(
            rmcp::model::InputRequiredResult::new(None, None),
        ));
        assert_eq!(verdict(&asked, ran(None)), None);
        let broken = Err(ErrorData::internal_error("bug", None));
        assert_eq!(
            verdict(&broken, ran(None)),
            Some((Outcome::Failed, Some("internal error")))
        );
    }

    #[test]
    fn a_refusal_under_always_is_refused_and_other_errors_failed() {
        let stopped = Ok(failure(
            "Not done: this server requires a person to confirm create_alert first (--confirm \
             always), and this client cannot ask them.",
        )
        .into());
        let cannot_ask = Asked::ran(None, Policy::Always, false);
        assert_eq!(
            verdict(&stopped, cannot_ask),
            Some((Outcome::Refused, Some(MUST_ASK)))
        );
        assert_eq!(
            confirmation(cannot_ask, Some(&stopped)),
            Confirmation::not_asked(CANNOT_ASK)
        );
        // ilert's own error under the same policy is a failure.
        let failed = Ok(failure("ilert refused: 403").into());
        assert_eq!(
            verdict(&failed, cannot_ask),
            Some((Outcome::Failed, Some("the tool answered with an error")))
        );
    }

    #[test]
    fn the_answer_or_why_nobody_was_asked() {
        let done: Result<CallToolResponse, ErrorData> =
            Ok(structured_value(serde_json::json!({}), "ok".into()).into());
        let failed = Ok(failure("no such alert").into());
        assert_eq!(
            confirmation(ran(Some(Said::Accepted)), Some(&done)),
            Confirmation::answered(Answer::Accepted)
        );
        assert_eq!(
            confirmation(Asked::answered(Some(Said::Refused)), None),
            Confirmation::answered(Answer::Invalid)
        );
        assert_eq!(
            confirmation(Asked::answered(Some(Said::Cancelled)), None),
            Confirmation::answered(Answer::Cancelled)
        );
        assert_eq!(
            confirmation(Asked::ran(None, Policy::Never, true), Some(&done)),
            Confirmation::not_asked(NEVER)
        );
        assert_eq!(
            confirmation(ran(None), Some(&done)),
            Confirmation::not_asked(OUTWARD_SKIPS)
        );
        assert_eq!(
            confirmation(ran(None), Some(&failed)),
            Confirmation::not_asked(ENDED_EARLY)
        );
    }

    #[test]
    fn created_ids_come_from_the_result_of_creating_tools() {
        let result = |out: Value| -> Result<CallToolResponse, ErrorData> {
            Ok(structured_value(out, "ok".into()).into())
        };
        let alert = result(serde_json::json!({"alert": {"id": 77}, "source": {"id": 5}}));
        assert_eq!(created("create_alert", &alert), vec![serde_json::json!(77)]);
        assert!(created("accept_alerts", &alert).is_empty());
        let event = |code: &str| {
            Ok(structured_value(
                serde_json::json!({"alert_id": 78, "response_code": code}),
                "ok".into(),
            )
            .into())
        };
        assert_eq!(
            created("send_event", &event("NEW_ALERT_CREATED")),
            vec![serde_json::json!(78)]
        );
        assert!(created("send_event", &event("EVENT_ADDED_TO_ALERT")).is_empty());
        let dry = result(serde_json::json!({"dry_run": true, "audience": {}}));
        assert!(created("create_incident", &dry).is_empty());
        let windows = result(serde_json::json!({"maintenance_windows": [{"id": 3}, {"id": 4}]}));
        assert_eq!(
            created("create_maintenance_window", &windows),
            vec![serde_json::json!(3), serde_json::json!(4)]
        );
    }
}
