//! Stage 5, follow-through: when the client declared the tasks extension (SEP-2663), a write that
//! pages people, or `get_alert` with `watch_minutes`, answers with a task instead of a result.
//! A question the person must answer first rides in the task (`input_required`); once the alert
//! is paged the task is `working` until someone accepts, the alert is resolved, escalation runs
//! out, or the watch ends. Clients without the extension get the tool's own answer, unchanged.
//! The sealed id and the status rule are [`crate::rules::follow`]; polls, answers and
//! cancellations are [`crate::mcp::tasks`].

use rmcp::ErrorData;
use rmcp::RoleServer;
use rmcp::model::{CallToolRequestParams, CallToolResponse, CreateTaskResult, TaskStatus};
use rmcp::service::RequestContext;

use crate::rules::follow::{self, TaskId};
use crate::rules::toolbox::Toolbox;

/// In a request's extensions: this call is a task's own run, so it is not made a task again.
#[derive(Debug, Clone, Copy)]
pub struct TaskRun;

/// What a call would follow, decided before it runs.
pub struct Follow {
    caller: String,
    tool: String,
    minutes: i64,
    /// For `get_alert`: the alert it names.
    alert: Option<i64>,
    args: rmcp::model::JsonObject,
}

/// The follow-through this call asks for: the client declared tasks, the tool pages people (or is
/// `get_alert` with `watch_minutes`), and the watch is longer than zero minutes.
pub fn wanted(
    tools: &Toolbox,
    request: &CallToolRequestParams,
    context: &RequestContext<RoleServer>,
) -> Option<Follow> {
    let declared = context
        .client_capabilities()
        .is_some_and(|c| c.supports_tasks());
    if !declared || context.extensions.get::<TaskRun>().is_some() {
        return None;
    }
    let tool = request.name.as_ref();
    if !follow::FOLLOWED_TOOLS.contains(&tool) {
        return None;
    }
    let args = request.arguments.clone().unwrap_or_default();
    let asked = args.get("watch_minutes").and_then(number);
    // Reading an alert is a watch only when asked for one.
    if tool == "get_alert" && asked.is_none() {
        return None;
    }
    let minutes = follow::minutes(asked);
    if minutes == 0 {
        return None;
    }
    let alert = args.get("id").and_then(number);
    Some(Follow {
        caller: tools.caller_id(&context.extensions),
        tool: tool.to_owned(),
        minutes,
        alert: if tool == "get_alert" { alert } else { None },
        args,
    })
}

/// The call's answer as a task, when it can be one: a question becomes an `input_required` task;
/// a successful page (or read, for a watch) becomes a `working` one. Anything else (an error, a
/// refusal, a "declined") is answered as it is.
pub async fn answer(
    tools: &Toolbox,
    follow: Option<Follow>,
    result: Result<CallToolResponse, ErrorData>,
) -> Result<CallToolResponse, ErrorData> {
    let Some(follow) = follow else {
        return result;
    };
    let sealer = tools.confirm.sealer();
    match result {
        Ok(CallToolResponse::InputRequired(asked)) => {
            let (Some(state), Some(requests)) =
                (asked.request_state.clone(), &asked.input_requests)
            else {
                return Ok(CallToolResponse::InputRequired(asked));
            };
            let id = TaskId::waiting(
                &follow.caller,
                &follow.tool,
                follow.args,
                state,
                follow.minutes,
            );
            // The question is kept for the polls; a store that cannot keep it leaves the
            // question to the plain `input_required` answer.
            let question = serde_json::to_string(requests).unwrap_or_default();
            let kept = tools
                .confirm
                .store()
                .remember(&question_key(&id), &question, id.expires())
                .await;
            if !matches!(kept, Ok(true)) {
                return Ok(CallToolResponse::InputRequired(asked));
            }
            let message = "Waiting for the person to confirm; nothing has been sent yet.";
            Ok(task(&id, sealer, TaskStatus::InputRequired, message))
        }
        Ok(CallToolResponse::Complete(done)) if done.is_error != Some(true) => {
            let Some(alert) = follow.alert.or_else(|| alert_of(&done)) else {
                return Ok(CallToolResponse::Complete(done));
            };
            let id = TaskId::watching(&follow.caller, &follow.tool, alert, follow.minutes);
            let message = format!(
                "Watching alert #{alert} until someone accepts it, it is resolved or escalation \
                 runs out, for at most {} min.",
                follow.minutes
            );
            Ok(task(&id, sealer, TaskStatus::Working, &message))
        }
        other => other,
    }
}

/// A number the model sent as a number or a string ("4711", "#4711").
fn number(value: &serde_json::Value) -> Option<i64> {
    value.as_i64().or_else(|| {
        value
            .as_str()
            .and_then(|s| s.trim().trim_start_matches('#').parse().ok())
    })
}

/// Where a waiting task's question is kept.
pub fn question_key(id: &TaskId) -> String {
    format!("task-question:{}", id.n)
}

/// The alert a paging write answered about (`alert.id` in its structured content).
pub fn alert_of(result: &rmcp::model::CallToolResult) -> Option<i64> {
    result
        .structured_content
        .as_ref()?
        .get("alert")?
        .get("id")?
        .as_i64()
}

fn task(
    id: &TaskId,
    sealer: &crate::auth::seal::Sealer,
    status: TaskStatus,
    message: &str,
) -> CallToolResponse {
    CallToolResponse::Task(CreateTaskResult::new(follow::task(
        id,
        &id.seal(sealer),
        status,
        Some(message.to_owned()),
    )))
}
