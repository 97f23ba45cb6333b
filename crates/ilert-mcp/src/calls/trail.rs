//! Stage 5, audit outcome: every call of a tool that writes leaves one audit event, whatever
//! becomes of it. The entry is opened when the call arrives (who, how authenticated, which
//! client, tool, targets) and closed with its outcome; the writer is [`crate::observe::audit`].

use ilert_client::Session;
use rmcp::ErrorData;
use rmcp::RoleServer;
use rmcp::model::{CallToolRequestParams, CallToolResponse, Tool};
use rmcp::service::RequestContext;

use crate::calls::catalogue::is_read_only;
use crate::observe::audit::{AuditLog, Entry, Outcome};
use crate::rules::toolbox::Toolbox;

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
        self.close(Some((Outcome::Refused, Some(why)))).await;
    }

    /// Closes the entry with `verdict`; with none (the person is being asked), the call that
    /// completes it is recorded when it comes back.
    pub async fn close(self, verdict: Verdict) {
        if let (Some((entry, api)), Some((outcome, reason))) = (self.entry, verdict) {
            entry.finish(self.log, api.as_ref(), outcome, reason).await;
        }
    }
}

/// What became of a call that ran: `declined` when the person said no when asked in band.
pub fn verdict(result: &Result<CallToolResponse, ErrorData>, declined: bool) -> Verdict {
    match result {
        _ if declined => Some((Outcome::Declined, Some("the person declined"))),
        Ok(CallToolResponse::Complete(r)) if r.is_error == Some(true) => {
            Some((Outcome::Failed, Some("the tool answered with an error")))
        }
        Ok(CallToolResponse::Complete(_)) => Some((Outcome::Done, None)),
        Ok(_) => None,
        Err(_) => Some((Outcome::Failed, Some("internal error"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{failure, structured_value};

    #[test]
    fn each_ending_is_recorded_once_and_questions_wait() {
        let done = Ok(structured_value(serde_json::json!({}), "ok".into()).into());
        assert_eq!(verdict(&done, false), Some((Outcome::Done, None)));
        assert_eq!(
            verdict(&done, true),
            Some((Outcome::Declined, Some("the person declined")))
        );
        let failed = Ok(failure("ilert refused").into());
        assert_eq!(
            verdict(&failed, false),
            Some((Outcome::Failed, Some("the tool answered with an error")))
        );
        let asked = Ok(CallToolResponse::InputRequired(
            rmcp::model::InputRequiredResult::new(None, None),
        ));
        assert_eq!(verdict(&asked, false), None);
        let broken = Err(ErrorData::internal_error("bug", None));
        assert_eq!(
            verdict(&broken, false),
            Some((Outcome::Failed, Some("internal error")))
        );
    }
}
