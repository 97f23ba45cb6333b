//! Working on alerts beyond accept/resolve: `assign_alert`, `add_alert_responder`,
//! `comment_on_alert`, `run_alert_action`, `create_alert` (`/alerts/{id}/assign`,
//! `/alerts/{id}/responders`, `/events` COMMENT, `/alerts/{id}/actions`, `POST /alerts`).

use crate::rules::untrusted;
use ilert_client::{
    AlertInclude, ApiError, AssignTarget, Event, EventComment, IdOnly, ManualAlert, Page,
    ResponderWrite, Session,
};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, Extensions};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::rules::confirm::confirm;
use crate::rules::names::{self, Kind, Named};
use crate::rules::previews;
use crate::rules::render::{self, AlertItem, Ref};
use crate::rules::toolbox::Toolbox;
use crate::rules::{
    check, explain, failure, ilert, input_schema, output_schema, session, structured,
};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignParams {
    /// Alert id.
    #[serde(deserialize_with = "crate::rules::args::id")]
    #[schemars(with = "i64")]
    pub id: i64,
    /// User: id, name, e-mail or "me".
    #[serde(default)]
    pub user: Option<String>,
    /// Or an escalation policy (id or name); escalation restarts.
    #[serde(default)]
    pub policy: Option<String>,
    /// Or this schedule's on-call (id or name).
    #[serde(default)]
    pub schedule: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResponderParams {
    /// Alert id.
    #[serde(deserialize_with = "crate::rules::args::id")]
    #[schemars(with = "i64")]
    pub id: i64,
    /// Id, name, e-mail or "me".
    pub user: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentParams {
    /// Alert id.
    #[serde(deserialize_with = "crate::rules::args::id")]
    #[schemars(with = "i64")]
    pub id: i64,
    /// E.g. "Rolled back deploy 4512".
    pub comment: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunActionParams {
    /// Alert id.
    #[serde(deserialize_with = "crate::rules::args::id")]
    #[schemars(with = "i64")]
    pub id: i64,
    /// Action id or name, e.g. "Create Jira ticket".
    pub action: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAlertParams {
    /// One line, e.g. "Checkout API returns 500 for EU".
    pub summary: String,
    #[serde(default)]
    pub details: Option<String>,
    /// HIGH (default) or LOW.
    #[serde(default)]
    pub priority: Option<String>,
    /// Alert source (id or name); its policy decides who is paged.
    #[serde(default)]
    pub source: Option<String>,
    /// Or the affected service (id or name).
    #[serde(default)]
    pub service: Option<String>,
    /// Page only these users (ids, names, e-mails, "me").
    #[serde(default)]
    pub responders: Vec<String>,
    /// Page the policy's on-call now, escalating if nobody accepts.
    #[serde(default)]
    pub page_on_call: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct AlertChangeOutput {
    pub alert: AlertItem,
    /// What happened, in words.
    pub done: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ActionOutput {
    pub alert_id: i64,
    pub action: String,
    /// Whether the action's target (webhook, ticket system...) reported success.
    pub success: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CreateAlertOutput {
    pub alert: AlertItem,
    pub source: Ref,
    /// Who is paged now.
    pub responders: Vec<Ref>,
    /// When escalation moves on if nobody accepts, and to whom.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_escalation_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_escalation_user: Option<Ref>,
}

#[tool_router(router = alert_work_router, vis = "pub(crate)")]
impl Toolbox {
    /// Assign an alert to a user, escalation policy or schedule's on-call, replacing its
    /// responders and notifying the assignee; ACCEPTED returns to PENDING.
    /// Asks first unless it is you.
    #[tool(
        title = "Assign alert",
        input_schema = input_schema::<AssignParams>(),
        output_schema = output_schema::<AlertChangeOutput>(),
        meta = crate::rules::confirm::outward(),
        annotations(title = "Assign alert", read_only_hint = false, destructive_hint = false,
                    idempotent_hint = false, open_world_hint = true)
    )]
    pub async fn assign_alert(
        &self,
        Parameters(p): Parameters<AssignParams>,
        ext: Extensions,
    ) -> CallToolResult {
        let api = session!(self, ext);
        let refs = &self.refs;
        let (kind, asked) = match (&p.user, &p.policy, &p.schedule) {
            (Some(u), None, None) => (Kind::User, u),
            (None, Some(pol), None) => (Kind::Policy, pol),
            (None, None, Some(s)) => (Kind::Schedule, s),
            _ => return failure("Give exactly one of `user`, `policy` or `schedule`."),
        };
        let named = check!(refs.resolve(&api, kind, asked).await);
        let (target, who, to) = match kind {
            Kind::Policy => (
                AssignTarget::Policy(named.id),
                format!("escalation policy {}", names::resolved(&named)),
                previews::Assignee::Policy(&named),
            ),
            Kind::Schedule => (
                AssignTarget::Schedule(named.id),
                format!("the on-call of {}", names::resolved(&named)),
                previews::Assignee::Schedule(&named),
            ),
            _ => (
                AssignTarget::User(named.id),
                names::resolved(&named),
                previews::Assignee::User(&named),
            ),
        };
        let before = ilert!(api.get_alert(p.id, &[]), format!("alert {}", p.id));
        let me = self.audit.user_id(&api).await;
        let accepted = acceptances(&before);
        let others_undone = accepted.iter().any(|(id, _)| *id != me);
        let only_caller =
            matches!(target, AssignTarget::User(id) if Some(id) == me) && !others_undone;
        let undone: Vec<String> = accepted.into_iter().map(|(_, name)| name).collect();
        confirm!(
            ext,
            only_caller = only_caller,
            previews::assignment(&api, &before, to, true, &undone)
        );
        let alert = ilert!(api.assign_alert(p.id, target), format!("alert {}", p.id));
        let mut done = format!("Alert #{} assigned to {who}.", p.id);
        if !undone.is_empty() {
            let now = alert.status.as_ref().map_or("?", |s| s.as_str());
            done.push_str(&format!(
                " This undid the acceptance by {}: the alert is {now} now.",
                undone.join(", ")
            ));
        }
        let out = AlertChangeOutput {
            alert: render::alert_item((&alert).into(), Some(&self.app_url)),
            done,
        };
        let text = format!("{}\n{}", out.done, render::alert_line(&out.alert));
        structured(&out, text)
    }

    /// Add a user (id, name, e-mail or "me") as responder to an alert; they are notified. Asks
    /// first unless it is you.
    #[tool(
        title = "Add alert responder",
        input_schema = input_schema::<ResponderParams>(),
        output_schema = output_schema::<AlertChangeOutput>(),
        meta = crate::rules::confirm::outward(),
        annotations(title = "Add alert responder", read_only_hint = false, destructive_hint = false,
                    idempotent_hint = true, open_world_hint = true)
    )]
    pub async fn add_alert_responder(
        &self,
        Parameters(p): Parameters<ResponderParams>,
        ext: Extensions,
    ) -> CallToolResult {
        let api = session!(self, ext);
        let user = check!(self.refs.resolve(&api, Kind::User, &p.user).await);
        let me = self.audit.user_id(&api).await;
        confirm!(ext, only_caller = Some(user.id) == me, async {
            match api.get_alert(p.id, &[]).await {
                Ok(alert) => {
                    previews::assignment(&api, &alert, previews::Assignee::User(&user), false, &[])
                        .await
                }
                Err(_) => crate::rules::confirm::Preview::new(format!(
                    "Add a responder to alert #{}: this notifies them.",
                    p.id
                ))
                .line(format!("Notified now: {}", untrusted::quoted(&user.name))),
            }
        });
        let done = match api.add_alert_responder(p.id, user.id).await {
            Ok(_) => format!(
                "{} added as responder to alert #{} and notified.",
                names::resolved(&user),
                p.id
            ),
            // ilert answers 405 when the user already responds: the goal is met.
            Err(ApiError::Rejected { status: 405, .. }) => {
                format!(
                    "{} already is a responder on alert #{}.",
                    names::resolved(&user),
                    p.id
                )
            }
            // A 404 means the alert or the user is missing: say which.
            Err(ApiError::NotFound { .. }) => {
                return match api.get_alert(p.id, &[]).await {
                    Ok(_) => {
                        // A bare id resolves to the name "user <id>": do not say it twice.
                        let who = if user.name == format!("user {}", user.id) {
                            format!("user with id {}", user.id)
                        } else {
                            format!("user {}", names::resolved(&user))
                        };
                        failure(format!(
                            "ilert has no {who} to add to alert #{}. Check the user with find_users.",
                            p.id
                        ))
                    }
                    Err(e) => failure(explain(&e, &format!("alert {}", p.id))),
                };
            }
            Err(e) => return failure(explain(&e, &format!("alert {}", p.id))),
        };
        let alert = ilert!(api.get_alert(p.id, &[]), format!("alert {}", p.id));
        let out = AlertChangeOutput {
            alert: render::alert_item((&alert).into(), Some(&self.app_url)),
            done,
        };
        let text = format!("{}\n{}", out.done, render::alert_line(&out.alert));
        structured(&out, text)
    }

    /// Add a comment to an alert's timeline, as the key's owner.
    #[tool(
        title = "Comment on alert",
        input_schema = input_schema::<CommentParams>(),
        output_schema = output_schema::<AlertChangeOutput>(),
        meta = crate::rules::confirm::internal(),
        annotations(title = "Comment on alert", read_only_hint = false, destructive_hint = false,
                    idempotent_hint = false, open_world_hint = false)
    )]
    pub async fn comment_on_alert(
        &self,
        Parameters(p): Parameters<CommentParams>,
        ext: Extensions,
    ) -> CallToolResult {
        let api = session!(self, ext);
        if p.comment.trim().is_empty() {
            return failure("`comment` is empty.");
        }
        let alert = ilert!(api.get_alert(p.id, &[]), format!("alert {}", p.id));
        let me = check!(add_comment(&api, &alert, &p.comment, &self.app_url).await);
        let out = AlertChangeOutput {
            alert: render::alert_item((&alert).into(), Some(&self.app_url)),
            done: format!(
                "Comment added to alert #{} as {}.",
                p.id,
                untrusted::quoted(&me)
            ),
        };
        let text = out.done.clone();
        structured(&out, text)
    }

    /// Run an alert's action (webhook, ticket, chat...) by id or name from get_alert. Acts outside
    /// ilert.
    #[tool(
        title = "Run alert action",
        input_schema = input_schema::<RunActionParams>(),
        output_schema = output_schema::<ActionOutput>(),
        meta = crate::rules::confirm::outward(),
        annotations(title = "Run alert action", read_only_hint = false, destructive_hint = true,
                    idempotent_hint = false, open_world_hint = true)
    )]
    pub async fn run_alert_action(
        &self,
        Parameters(p): Parameters<RunActionParams>,
        ext: Extensions,
    ) -> CallToolResult {
        let api = session!(self, ext);
        let actions = ilert!(api.alert_actions(p.id), format!("alert {}", p.id));
        let wanted = p.action.trim().to_lowercase();
        let matches: Vec<_> = actions
            .iter()
            .filter(|a| {
                a.alert_action_id
                    .as_deref()
                    .is_some_and(|id| id.eq_ignore_ascii_case(&wanted))
                    || a.name
                        .as_deref()
                        .is_some_and(|n| n.to_lowercase() == wanted)
            })
            .collect();
        let names = || {
            actions
                .iter()
                .map(|a| {
                    format!(
                        "{} (id {})",
                        untrusted::quoted(a.name.as_deref().unwrap_or("?")),
                        untrusted::inline(a.alert_action_id.as_deref().unwrap_or("?"))
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let action = match matches.as_slice() {
            [one] => *one,
            [] if actions.is_empty() => {
                return failure(format!("Alert #{} has no actions to run.", p.id));
            }
            [] => {
                return failure(format!(
                    "Alert #{} has no action \"{}\". Its actions: {}.",
                    p.id,
                    p.action,
                    names()
                ));
            }
            _ => {
                return failure(format!(
                    "\"{}\" names several actions: {}. Pass the id.",
                    p.action,
                    names()
                ));
            }
        };
        let Some(action_id) = action.alert_action_id.clone() else {
            return failure("That action has no id ilert can run.");
        };
        confirm!(ext, async {
            let name = action.name.as_deref().unwrap_or(&action_id);
            previews::alert_action(p.id, name, action.kind.as_deref())
        });
        let result = ilert!(
            api.run_alert_action(p.id, &action_id),
            format!("alert {}", p.id)
        );
        let name = untrusted::inline_owned(action.name.clone().unwrap_or(action_id));
        let success = result.success.unwrap_or(false);
        let out = ActionOutput {
            alert_id: p.id,
            action: name.clone(),
            success,
        };
        let text = if success {
            format!(
                "Ran {} on alert #{}: it reported success.",
                untrusted::quoted(&name),
                p.id
            )
        } else {
            format!(
                "Ran {} on alert #{}, but it reported failure; check the action's target or run it in the ilert app.",
                untrusted::quoted(&name),
                p.id
            )
        };
        structured(&out, text)
    }

    /// Raise an alert and page: on an alert source (or a service's), HIGH by default, to named
    /// responders or the on-call, escalating if nobody accepts. Customers: create_incident.
    #[tool(
        title = "Create alert",
        input_schema = input_schema::<CreateAlertParams>(),
        output_schema = output_schema::<CreateAlertOutput>(),
        meta = crate::rules::confirm::outward(),
        annotations(title = "Create alert", read_only_hint = false, destructive_hint = false,
                    idempotent_hint = false, open_world_hint = true)
    )]
    pub async fn create_alert(
        &self,
        Parameters(p): Parameters<CreateAlertParams>,
        ext: Extensions,
    ) -> CallToolResult {
        let api = session!(self, ext);
        if p.summary.trim().is_empty() {
            return failure("`summary` is empty.");
        }
        let priority = p
            .priority
            .as_deref()
            .map(str::to_uppercase)
            .unwrap_or_else(|| "HIGH".into());
        if !["HIGH", "LOW"].contains(&priority.as_str()) {
            return failure("`priority` must be HIGH or LOW.");
        }
        let source = check!(
            self.pick_source(&api, p.source.as_deref(), p.service.as_deref())
                .await
        );
        let mut responders: Vec<Named> = Vec::new();
        for r in &p.responders {
            responders.push(check!(self.refs.resolve(&api, Kind::User, r).await));
        }
        if p.page_on_call && source.policy_id.is_none() {
            return failure(format!(
                "Alert source {} has no escalation policy, so there is no on-call to page.",
                untrusted::quoted(&source.name)
            ));
        }
        // Named responders alone replace escalation. Paging the on-call keeps it: the alert goes
        // to the policy's first level now and escalates if nobody accepts; named responders are
        // added on top.
        let escalate = p.page_on_call || responders.is_empty();
        let body = ManualAlert {
            summary: p.summary.trim().to_owned(),
            details: p.details.clone(),
            alert_source: IdOnly { id: source.id },
            priority: Some(priority),
            responders: if escalate {
                Vec::new()
            } else {
                responders
                    .iter()
                    .map(|r| ResponderWrite {
                        user: IdOnly { id: r.id },
                    })
                    .collect()
            },
            ..Default::default()
        };
        confirm!(
            ext,
            previews::paging(
                &api,
                &source,
                &responders,
                escalate,
                &body.summary,
                body.priority.as_deref().unwrap_or("HIGH")
            )
        );
        let created = ilert!(api.create_alert(&body), "the new alert");
        let mut notes = Vec::new();
        if escalate {
            for r in &responders {
                if let Err(e) = api.add_alert_responder(created.id, r.id).await
                    && !matches!(e.status(), Some(405))
                {
                    notes.push(format!(
                        "Could not add {}: {}",
                        untrusted::quoted(&r.name),
                        explain(&e, &format!("alert {}", created.id))
                    ));
                }
            }
        }
        // Read back who is paged now and where escalation goes next.
        let alert = match api
            .get_alert(created.id, &[AlertInclude::NextEscalationUser])
            .await
        {
            Ok(alert) => alert,
            Err(_) => created,
        };
        let detail = crate::rules::details::alert_detail(&alert, &self.app_url);
        let paged: Vec<Ref> = detail
            .item
            .responders
            .iter()
            .map(|r| Ref {
                id: r.id,
                name: Some(untrusted::inline_owned(r.name.clone())),
            })
            .collect();
        let names: Vec<String> = paged
            .iter()
            .filter_map(|r| r.name.as_deref().map(untrusted::quoted))
            .collect();
        let next = match (&detail.next_escalation_user, &detail.next_escalation_at) {
            (Some(user), Some(when)) => format!(
                " If nobody accepts, it escalates to {} (id {}) at {when}.",
                untrusted::quoted(user.name.as_deref().unwrap_or("?")),
                user.id
            ),
            (None, Some(when)) => format!(" If nobody accepts, it escalates at {when}."),
            _ if escalate => " No further escalation level follows.".to_owned(),
            _ => " Escalation is off: only these responders are paged.".to_owned(),
        };
        let mut text = format!(
            "Raised alert #{} on {}; paging now: {}.{next}\n{}",
            detail.item.id,
            untrusted::quoted(&source.name),
            if names.is_empty() {
                "nobody yet (the policy's first level is empty)".to_owned()
            } else {
                names.join(", ")
            },
            detail.item.url.as_deref().unwrap_or_default()
        );
        for note in notes {
            text.push_str(&format!("\n{note}"));
        }
        structured(
            &CreateAlertOutput {
                next_escalation_at: detail.next_escalation_at.clone(),
                next_escalation_user: detail.next_escalation_user.clone(),
                alert: detail.item,
                source: Ref {
                    id: source.id,
                    name: Some(untrusted::inline_owned(source.name)),
                },
                responders: paged,
            },
            text,
        )
    }
}

/// Adds `comment` to `alert`'s timeline as the key's owner (a COMMENT event on the alert's
/// source: ilert's API has no other way); the author's name, or why it could not.
pub(crate) async fn add_comment(
    api: &Session,
    alert: &ilert_client::Alert,
    comment: &str,
    app_url: &str,
) -> Result<String, String> {
    let (Some(alert_key), Some(source)) = (
        alert.alert_key.clone().filter(|k| !k.is_empty()),
        alert.alert_source.as_ref(),
    ) else {
        return Err(format!(
            "Alert #{} has no alert key, so ilert's API cannot attach a comment to it. Add the comment in the ilert app: {}",
            alert.id,
            render::alert_url(app_url, alert.id)
        ));
    };
    let full = api
        .get_alert_source(source.id)
        .await
        .map_err(|e| explain(&e, &format!("alert source {}", source.id)))?;
    let Some(key) = full.integration_key.filter(|k| !k.is_empty()) else {
        return Err(format!(
            "ilert's API adds comments through the alert source's integration key, and only users and admins \
             may see the key of {}. Comment in the ilert app instead: {}",
            source
                .name
                .as_deref()
                .map_or_else(|| "this alert source".into(), untrusted::quoted),
            render::alert_url(app_url, alert.id)
        ));
    };
    let me = api
        .current_user()
        .await
        .map_err(|e| explain(&e, "your user"))?;
    let event = Event {
        integration_key: key,
        event_type: "COMMENT".into(),
        summary: alert.summary.clone().unwrap_or_default(),
        alert_key: Some(alert_key),
        comments: vec![EventComment {
            creator: untrusted::inline_owned(me.display_name()),
            content: comment.trim().to_owned(),
        }],
        ..Default::default()
    };
    api.send_event(&event)
        .await
        .map_err(|e| explain(&e, &format!("alert {}", alert.id)))?;
    Ok(untrusted::inline_owned(me.display_name()))
}

impl Toolbox {
    /// The alert source to raise an alert on: named directly, or the one reporting on `service`.
    async fn pick_source(
        &self,
        api: &Session,
        source: Option<&str>,
        service: Option<&str>,
    ) -> Result<Named, String> {
        if let Some(source) = source {
            return self.refs.resolve(api, Kind::Source, source).await;
        }
        let Some(service) = service else {
            return Err(
                "Name the alert source (`source`) or the affected `service`; list_alert_sources shows the sources."
                    .into(),
            );
        };
        let service = self.refs.resolve(api, Kind::Service, service).await?;
        let sources = api
            .list_alert_sources(Page::new(0, 50))
            .await
            .map_err(|e| explain(&e, "the alert source list"))?;
        let linked: Vec<_> = sources
            .iter()
            .filter(|s| s.services.iter().any(|sv| sv.id == service.id))
            .collect();
        let by_name: Vec<_> = if linked.is_empty() {
            let needle = service.name.to_lowercase();
            sources
                .iter()
                .filter(|s| {
                    s.name
                        .as_deref()
                        .is_some_and(|n| n.to_lowercase().contains(&needle))
                })
                .collect()
        } else {
            linked
        };
        match by_name.as_slice() {
            [one] => Ok(Named {
                id: one.id,
                name: untrusted::inline_owned(one.name.clone().unwrap_or_default()),
                detail: one.integration_type.clone(),
                policy_id: one.escalation_policy.as_ref().map(|p| p.id),
            }),
            [] => Err(format!(
                "No alert source is linked to service {}. Pass `source` (list_alert_sources shows them).",
                untrusted::quoted(&service.name)
            )),
            many => Err(format!(
                "Several alert sources report on {}: {}. Pass `source`.",
                untrusted::quoted(&service.name),
                many.iter()
                    .map(|s| {
                        format!(
                            "{} (id {})",
                            untrusted::quoted(s.name.as_deref().unwrap_or("?")),
                            s.id
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }
}

/// Who accepted `alert` (user id, name), from its responders; "someone" when ilert says ACCEPTED
/// without naming who.
fn acceptances(alert: &ilert_client::Alert) -> Vec<(Option<i64>, String)> {
    if alert.status != Some(ilert_client::AlertStatus::Accepted) {
        return Vec::new();
    }
    let named: Vec<(Option<i64>, String)> = alert
        .responders
        .iter()
        .filter(|r| r.status.as_deref() == Some("ACCEPTED"))
        .map(|r| (Some(r.user.id), untrusted::quoted(&r.user.display_name())))
        .collect();
    if named.is_empty() {
        vec![(None, "someone (ilert does not say who)".to_owned())]
    } else {
        named
    }
}

/// A follow-through task's final answer: `outcome` (the server's words), then the alert as it is
/// now, in the output shape of the tool whose call made the task, so a client that checks the
/// tool's output schema accepts it.
pub(crate) fn followed(
    tool: &str,
    alert: &ilert_client::Alert,
    app_url: &str,
    outcome: String,
) -> CallToolResult {
    let item = render::alert_item(alert.into(), Some(app_url));
    let text = format!("{outcome}\n{}", render::alert_line(&item));
    match tool {
        "create_alert" => {
            let source = alert
                .alert_source
                .as_ref()
                .map_or(Ref { id: 0, name: None }, |s| Ref {
                    id: s.id,
                    name: s.name.as_deref().map(|n| untrusted::inline(n).into_owned()),
                });
            let responders = alert
                .responders
                .iter()
                .map(|r| Ref {
                    id: r.user.id,
                    name: Some(untrusted::inline_owned(r.user.display_name())),
                })
                .collect();
            structured(
                &CreateAlertOutput {
                    alert: item,
                    source,
                    responders,
                    next_escalation_at: None,
                    next_escalation_user: None,
                },
                text,
            )
        }
        // get_alert's output is the alert's item and optional detail: the item alone fits it.
        "get_alert" => structured(&item, text),
        _ => structured(
            &AlertChangeOutput {
                alert: item,
                done: outcome,
            },
            text,
        ),
    }
}
