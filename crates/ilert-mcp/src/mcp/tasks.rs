//! The tasks extension's methods (SEP-2663) for follow-through tasks: `tasks/get` works the
//! status out from ilert on each poll, `tasks/update` takes the person's answer to a task's
//! question and runs the call through the whole pipeline, `tasks/cancel` stops watching. Ids are
//! sealed and bound to the caller ([`crate::rules::follow`]); any replica answers.

use chrono::{DateTime, Utc};
use ilert_client::ApiError;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, DetailedTask, GetTaskResult,
    InputRequests, TaskPayload, TaskStatus,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};

use crate::calls::follow::{TaskRun, alert_of, question_key};
use crate::mcp::server::IlertMcp;
use crate::rules::follow::{self, Answer, Facts, Step, TaskId};
use crate::rules::{failure, times};

/// The id, opened for this caller, or the error that says why not.
fn opened(
    server: &IlertMcp,
    raw: &str,
    context: &RequestContext<RoleServer>,
) -> Result<TaskId, ErrorData> {
    let caller = server.tools.caller_id(&context.extensions);
    follow::open(
        server.tools.confirm.sealer(),
        raw,
        &caller,
        times::now().timestamp(),
    )
    .map_err(|why| ErrorData::invalid_params(why.message(), None))
}

fn unavailable(e: impl std::fmt::Display) -> ErrorData {
    tracing::warn!(error = %e, "the task store did not answer");
    ErrorData::internal_error(
        "The server could not read this task's state (its store is unavailable). Poll again.",
        None,
    )
}

/// `tasks/get`.
pub async fn get(
    server: &IlertMcp,
    raw: &str,
    context: RequestContext<RoleServer>,
) -> Result<GetTaskResult, ErrorData> {
    let id = opened(server, raw, &context)?;
    let (status, payload, message) = state(server, &id, &context).await?;
    let task = follow::task(&id, raw, status, message);
    Ok(GetTaskResult::new(DetailedTask::new(task, payload)))
}

/// The task's status now, its payload, and its status message.
async fn state(
    server: &IlertMcp,
    id: &TaskId,
    context: &RequestContext<RoleServer>,
) -> Result<(TaskStatus, TaskPayload, Option<String>), ErrorData> {
    let store = server.tools.confirm.store();
    if store.is_used(&id.cancel_key()).await.map_err(unavailable)? {
        let asked_only = id.q.is_some() && answer(server, id).await?.is_none();
        let said = if asked_only {
            "Cancelled before the person answered: nothing was sent, nobody was paged."
        } else {
            "Cancelled: the server stopped watching. Nobody was un-paged; the alert goes on in ilert."
        };
        return Ok((
            TaskStatus::Cancelled,
            TaskPayload::Cancelled,
            Some(said.into()),
        ));
    }
    let (alert, since) = match (&id.q, id.a) {
        (_, Some(alert)) => (alert, id.s),
        (None, None) => {
            return Err(ErrorData::invalid_params(
                "This task watches nothing.",
                None,
            ));
        }
        (Some(_), None) => match answer(server, id).await? {
            Some(Answer::Paged { alert, at }) => (alert, at),
            Some(Answer::Ended { result }) => {
                let result =
                    serde_json::from_value::<serde_json::Map<_, _>>(result).unwrap_or_default();
                return Ok(completed(result, "The call ended without paging anyone."));
            }
            None if times::now().timestamp() > id.s + crate::rules::confirm::STATE_TTL_SECS => {
                let said = "Not done: nobody answered the confirmation within 5 minutes. Nothing \
                            was changed in ilert.";
                return Ok(completed(object(&failure(said)), said));
            }
            None => {
                let question = store.recall(&question_key(id)).await.map_err(unavailable)?;
                let Some(requests) =
                    question.and_then(|q| serde_json::from_str::<InputRequests>(&q).ok())
                else {
                    let said = "Not done: this server no longer holds the question (it may have \
                                restarted). Nothing was changed in ilert; call the tool again.";
                    return Ok(completed(object(&failure(said)), said));
                };
                let said = "Waiting for the person to confirm; nothing has been sent yet.";
                return Ok((
                    TaskStatus::InputRequired,
                    TaskPayload::InputRequired {
                        input_requests: requests,
                    },
                    Some(said.into()),
                ));
            }
        },
    };
    let since = DateTime::<Utc>::from_timestamp(since, 0).unwrap_or_else(times::now);
    let deadline = since + chrono::Duration::minutes(id.w);
    let caller = server.tools.caller_id(&context.extensions);
    let facts = match facts(server, &caller, alert, context).await {
        Ok(facts) => facts,
        Err(Gone(result)) => return Ok(completed(object(&result), "The alert could not be read.")),
        Err(Later(why)) => {
            let said = format!(
                "Still watching alert #{alert}; ilert could not be asked just now ({why}). The next poll tries again."
            );
            return Ok((TaskStatus::Working, TaskPayload::Working, Some(said)));
        }
    };
    let step = follow::step(&facts, since, deadline, times::now());
    Ok(match &step {
        Step::Working(said) => (
            TaskStatus::Working,
            TaskPayload::Working,
            Some(said.clone()),
        ),
        Step::Done(outcome) | Step::Unanswered(outcome) => {
            let unanswered = matches!(step, Step::Unanswered(_));
            let mut result = crate::tools::alert_work::followed(
                &id.t,
                &facts.alert,
                &server.tools.app_url,
                outcome.clone(),
            );
            // Nobody picked it up: what was asked for did not happen.
            if unanswered {
                result.is_error = Some(true);
            }
            completed(object(&result), outcome)
        }
    })
}

fn object(result: &CallToolResult) -> serde_json::Map<String, serde_json::Value> {
    match serde_json::to_value(result) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    }
}

fn completed(
    result: serde_json::Map<String, serde_json::Value>,
    message: &str,
) -> (TaskStatus, TaskPayload, Option<String>) {
    (
        TaskStatus::Completed,
        TaskPayload::Completed { result },
        Some(message.to_owned()),
    )
}

async fn answer(server: &IlertMcp, id: &TaskId) -> Result<Option<Answer>, ErrorData> {
    let kept = server
        .tools
        .confirm
        .store()
        .recall(&id.answer_key())
        .await
        .map_err(unavailable)?;
    Ok(kept.and_then(|k| serde_json::from_str(&k).ok()))
}

enum Miss {
    /// The alert cannot be read at all (gone, or the key may not read it): the task ends.
    Gone(CallToolResult),
    /// ilert did not answer now (rate limit, outage): the task keeps working.
    Later(String),
}
use Miss::{Gone, Later};

/// What ilert says about `alert` now, or within the last [`follow::POLL_CACHE`].
async fn facts(
    server: &IlertMcp,
    caller: &str,
    alert: i64,
    context: &RequestContext<RoleServer>,
) -> Result<std::sync::Arc<Facts>, Miss> {
    let tools = &server.tools;
    if let Some(facts) = tools.polls.get(caller, alert) {
        return Ok(facts);
    }
    let api = tools.session(&context.extensions).map_err(Gone)?;
    let fault = |e: ApiError| match e {
        ApiError::NotFound { .. } | ApiError::Unauthorized { .. } | ApiError::Forbidden { .. } => {
            Gone(failure(crate::rules::explain(
                &e,
                &format!("alert {alert}"),
            )))
        }
        other => Later(crate::rules::explain(&other, &format!("alert {alert}"))),
    };
    let found = api
        .get_alert(alert, &[ilert_client::AlertInclude::NextEscalationUser])
        .await
        .map_err(fault)?;
    let notifications = api.alert_notifications(alert).await.map_err(fault)?;
    // The policy tells how long the last level waits; needed only once no level is due.
    let policy = match (&found.next_escalation, &found.escalation_policy) {
        (None, Some(p)) => api.get_escalation_policy(p.id).await.ok(),
        _ => None,
    };
    let facts = std::sync::Arc::new(Facts {
        alert: found,
        notifications,
        policy,
    });
    tools.polls.put(caller, alert, facts.clone());
    Ok(facts)
}

/// `tasks/update`: the person's answer to the task's question. A yes runs the call through the
/// whole pipeline (the sealed confirmation is checked and used once, the write is audited); what
/// it did is kept for the polls.
pub async fn update(
    server: &IlertMcp,
    raw: &str,
    responses: rmcp::model::InputResponses,
    context: RequestContext<RoleServer>,
) -> Result<(), ErrorData> {
    let id = opened(server, raw, &context)?;
    let Some(waiting) = &id.q else {
        return Err(ErrorData::invalid_params(
            "This task asks nothing: it only watches an alert.",
            None,
        ));
    };
    if !responses.contains_key("confirm") {
        return Err(ErrorData::invalid_params(
            "inputResponses must answer the task's one request, \"confirm\".",
            None,
        ));
    }
    let store = server.tools.confirm.store();
    if store.is_used(&id.cancel_key()).await.map_err(unavailable)? {
        return Err(ErrorData::invalid_params("This task was cancelled.", None));
    }
    // One answer per task, on any replica.
    let first = store
        .first_use(&run_key(&id), id.expires())
        .await
        .map_err(unavailable)?;
    if !first {
        let why = if store.is_used(&id.cancel_key()).await.map_err(unavailable)? {
            "This task was cancelled; nothing was sent."
        } else {
            "This task's question was already answered."
        };
        return Err(ErrorData::invalid_params(why, None));
    }
    let mut request = CallToolRequestParams::new(id.t.clone()).with_arguments(waiting.args.clone());
    request.request_state = Some(waiting.state.clone());
    request.input_responses = Some(responses);
    let mut context = context;
    context.extensions.insert(TaskRun);
    let answer = match server.call_tool(request, context).await {
        Ok(CallToolResponse::Complete(result)) => match alert_of(&result) {
            Some(alert) if result.is_error != Some(true) => Answer::Paged {
                alert,
                at: times::now().timestamp(),
            },
            _ => Answer::Ended {
                result: serde_json::to_value(&result).unwrap_or_default(),
            },
        },
        Ok(_) => Answer::Ended {
            result: serde_json::to_value(failure(
                "Not done: the confirmation no longer matched the call. Nothing was changed in ilert.",
            ))
            .unwrap_or_default(),
        },
        Err(e) => Answer::Ended {
            result: serde_json::to_value(failure(format!("Not done: {}", e.message)))
                .unwrap_or_default(),
        },
    };
    let kept = serde_json::to_string(&answer).unwrap_or_default();
    store
        .remember(&id.answer_key(), &kept, id.expires())
        .await
        .map_err(unavailable)?;
    Ok(())
}

/// Where a task's one run (the person's answer acted on) is claimed.
fn run_key(id: &TaskId) -> String {
    format!("task-run:{}", id.n)
}

/// `tasks/cancel`: stops watching. A task already finished (or cancelled) is refused, as the
/// extension asks.
pub async fn cancel(
    server: &IlertMcp,
    raw: &str,
    context: RequestContext<RoleServer>,
) -> Result<(), ErrorData> {
    let id = opened(server, raw, &context)?;
    let (status, _, _) = state(server, &id, &context).await?;
    if status.is_terminal() {
        let why = if status == TaskStatus::Cancelled {
            "This task was already cancelled."
        } else {
            "This task has already completed; there is nothing to stop."
        };
        return Err(ErrorData::invalid_params(why, None));
    }
    let store = server.tools.confirm.store();
    // A task still asking: taking its one run first means a yes arriving now cannot page anyone
    // after the cancel (whichever comes second loses, on any replica).
    if id.q.is_some() {
        let _ = store
            .first_use(&run_key(&id), id.expires())
            .await
            .map_err(unavailable)?;
    }
    if !store
        .first_use(&id.cancel_key(), id.expires())
        .await
        .map_err(unavailable)?
    {
        return Err(ErrorData::invalid_params(
            "This task was already cancelled.",
            None,
        ));
    }
    Ok(())
}
