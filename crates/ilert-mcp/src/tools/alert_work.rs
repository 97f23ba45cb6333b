//! Working on alerts beyond accept/resolve: `assign_alert`, `add_alert_responder`,
//! `comment_on_alert`, `run_alert_action`, `create_alert` (`/alerts/{id}/assign`,
//! `/alerts/{id}/responders`, `/events` COMMENT, `/alerts/{id}/actions`, `POST /alerts`).

use ilert_client::{
    ApiError, AssignTarget, Event, EventComment, IdOnly, ManualAlert, OnCallQuery, Page,
    ResponderWrite, Session,
};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, Extensions};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::server::IlertMcp;
use crate::tools::confirm::confirm;
use crate::tools::lookup::{Kind, Named};
use crate::tools::previews;
use crate::tools::render::{self, AlertItem, Ref};
use crate::tools::{
    check, explain, failure, ilert, input_schema, output_schema, session, structured,
};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignParams {
    /// Alert id.
    #[serde(deserialize_with = "crate::tools::args::id")]
    #[schemars(with = "i64")]
    pub id: i64,
    /// Assign to this user (id, name or e-mail).
    #[serde(default)]
    pub user: Option<String>,
    /// Or to this escalation policy (id or name): escalation starts over along it.
    #[serde(default)]
    pub policy: Option<String>,
    /// Or to whoever is on call on this schedule (id or name).
    #[serde(default)]
    pub schedule: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResponderParams {
    /// Alert id.
    #[serde(deserialize_with = "crate::tools::args::id")]
    #[schemars(with = "i64")]
    pub id: i64,
    /// User to add (id, name or e-mail).
    pub user: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentParams {
    /// Alert id.
    #[serde(deserialize_with = "crate::tools::args::id")]
    #[schemars(with = "i64")]
    pub id: i64,
    /// The comment, e.g. "Rolled back deploy 4512; watching error rate".
    pub comment: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunActionParams {
    /// Alert id.
    #[serde(deserialize_with = "crate::tools::args::id")]
    #[schemars(with = "i64")]
    pub id: i64,
    /// Action id or name, as get_alert lists them (e.g. "Create Jira ticket").
    pub action: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAlertParams {
    /// One line: what is wrong, e.g. "Checkout API returns 500 for EU customers".
    pub summary: String,
    #[serde(default)]
    pub details: Option<String>,
    /// HIGH (default) or LOW.
    #[serde(default)]
    pub priority: Option<String>,
    /// Alert source (id or name) to raise it on; its escalation policy decides who is paged.
    #[serde(default)]
    pub source: Option<String>,
    /// Or the affected service (id or name): the alert source reporting on it is used.
    #[serde(default)]
    pub service: Option<String>,
    /// Page exactly these users (ids, names or e-mails) instead of escalating.
    #[serde(default)]
    pub responders: Vec<String>,
    /// Make whoever is on call now (level 1 of the source's policy) the responders.
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
    /// Who is paged.
    pub responders: Vec<Ref>,
}

#[tool_router(router = alert_work_router, vis = "pub(crate)")]
impl IlertMcp {
    /// Assign an alert to a user, an escalation policy or a schedule's on-call (by id, name or
    /// e-mail). Says clearly when a name matches several.
    #[tool(
        title = "Assign alert",
        input_schema = input_schema::<AssignParams>(),
        output_schema = output_schema::<AlertChangeOutput>(),
        meta = crate::tools::confirm::internal(),
        annotations(title = "Assign alert", read_only_hint = false, destructive_hint = false,
                    idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn assign_alert(
        &self,
        Parameters(p): Parameters<AssignParams>,
        ext: Extensions,
    ) -> CallToolResult {
        let api = session!(self, ext);
        let refs = &self.shared.refs;
        let (target, who) = match (&p.user, &p.policy, &p.schedule) {
            (Some(u), None, None) => {
                let n = check!(refs.resolve(&api, Kind::User, u).await);
                (AssignTarget::User(n.id), n.name)
            }
            (None, Some(pol), None) => {
                let n = check!(refs.resolve(&api, Kind::Policy, pol).await);
                (
                    AssignTarget::Policy(n.id),
                    format!("escalation policy {}", n.name),
                )
            }
            (None, None, Some(s)) => {
                let n = check!(refs.resolve(&api, Kind::Schedule, s).await);
                (
                    AssignTarget::Schedule(n.id),
                    format!("the on-call of {}", n.name),
                )
            }
            _ => return failure("Give exactly one of `user`, `policy` or `schedule`."),
        };
        let alert = ilert!(api.assign_alert(p.id, target), format!("alert {}", p.id));
        let out = AlertChangeOutput {
            alert: render::alert_item((&alert).into(), Some(&self.shared.app_url)),
            done: format!("Alert #{} assigned to {who}.", p.id),
        };
        let text = format!("{}\n{}", out.done, render::alert_line(&out.alert));
        structured(&out, text)
    }

    /// Add a user (id, name or e-mail) as responder to an alert; they are notified.
    #[tool(
        title = "Add alert responder",
        input_schema = input_schema::<ResponderParams>(),
        output_schema = output_schema::<AlertChangeOutput>(),
        meta = crate::tools::confirm::internal(),
        annotations(title = "Add alert responder", read_only_hint = false, destructive_hint = false,
                    idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn add_alert_responder(
        &self,
        Parameters(p): Parameters<ResponderParams>,
        ext: Extensions,
    ) -> CallToolResult {
        let api = session!(self, ext);
        let user = check!(self.shared.refs.resolve(&api, Kind::User, &p.user).await);
        let done = match api.add_alert_responder(p.id, user.id).await {
            Ok(_) => format!(
                "{} added as responder to alert #{} and notified.",
                user.name, p.id
            ),
            // ilert answers 405 when the user already responds: the goal is met.
            Err(ApiError::Rejected { status: 405, .. }) => {
                format!("{} already is a responder on alert #{}.", user.name, p.id)
            }
            // A 404 means the alert or the user is missing: say which.
            Err(ApiError::NotFound { .. }) => {
                return match api.get_alert(p.id, &[]).await {
                    Ok(_) => {
                        // A bare id resolves to the name "user <id>": do not say it twice.
                        let who = if user.name == format!("user {}", user.id) {
                            format!("user with id {}", user.id)
                        } else {
                            format!("user {} (id {})", user.name, user.id)
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
            alert: render::alert_item((&alert).into(), Some(&self.shared.app_url)),
            done,
        };
        let text = format!("{}\n{}", out.done, render::alert_line(&out.alert));
        structured(&out, text)
    }

    /// Add a comment to an alert's timeline (sent as a COMMENT event on the alert's source).
    #[tool(
        title = "Comment on alert",
        input_schema = input_schema::<CommentParams>(),
        output_schema = output_schema::<AlertChangeOutput>(),
        meta = crate::tools::confirm::internal(),
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
        let (Some(alert_key), Some(source)) = (
            alert.alert_key.clone().filter(|k| !k.is_empty()),
            alert.alert_source.as_ref(),
        ) else {
            return failure(format!(
                "Alert #{} has no alert key, so ilert's API cannot attach a comment to it. Add the comment in the ilert app: {}",
                p.id,
                render::alert_url(&self.shared.app_url, p.id)
            ));
        };
        let full = ilert!(
            api.get_alert_source(source.id),
            format!("alert source {}", source.id)
        );
        let Some(key) = full.integration_key.filter(|k| !k.is_empty()) else {
            return failure(format!(
                "ilert's API adds comments through the alert source's integration key, and only users and admins \
                 may see the key of {}. Comment in the ilert app instead: {}",
                source.name.as_deref().unwrap_or("this alert source"),
                render::alert_url(&self.shared.app_url, p.id)
            ));
        };
        let me = ilert!(api.current_user(), "your user");
        let event = Event {
            integration_key: key,
            event_type: "COMMENT".into(),
            summary: alert.summary.clone().unwrap_or_default(),
            alert_key: Some(alert_key),
            comments: vec![EventComment {
                creator: me.display_name(),
                content: p.comment.trim().to_owned(),
            }],
            ..Default::default()
        };
        ilert!(api.send_event(&event), format!("alert {}", p.id));
        let out = AlertChangeOutput {
            alert: render::alert_item((&alert).into(), Some(&self.shared.app_url)),
            done: format!("Comment added to alert #{} as {}.", p.id, me.display_name()),
        };
        let text = out.done.clone();
        structured(&out, text)
    }

    /// Run one of an alert's actions (a webhook, a ticket, a chat message...), by id or name as
    /// get_alert lists them. It acts outside ilert.
    #[tool(
        title = "Run alert action",
        input_schema = input_schema::<RunActionParams>(),
        output_schema = output_schema::<ActionOutput>(),
        meta = crate::tools::confirm::outward(),
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
                        "\"{}\" (id {})",
                        a.name.as_deref().unwrap_or("?"),
                        a.alert_action_id.as_deref().unwrap_or("?")
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
        let name = action.name.clone().unwrap_or(action_id);
        let success = result.success.unwrap_or(false);
        let out = ActionOutput {
            alert_id: p.id,
            action: name.clone(),
            success,
        };
        let text = if success {
            format!("Ran \"{name}\" on alert #{}: it reported success.", p.id)
        } else {
            format!(
                "Ran \"{name}\" on alert #{}, but it reported failure; check the action's target or run it in the ilert app.",
                p.id
            )
        };
        structured(&out, text)
    }

    /// Raise an alert by hand and page people: on an alert source (or the source of a service),
    /// HIGH by default, to named responders or to whoever is on call now. This is how to "page
    /// the on-call"; for telling customers use create_incident.
    #[tool(
        title = "Create alert",
        input_schema = input_schema::<CreateAlertParams>(),
        output_schema = output_schema::<CreateAlertOutput>(),
        meta = crate::tools::confirm::outward(),
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
            responders.push(check!(self.shared.refs.resolve(&api, Kind::User, r).await));
        }
        if p.page_on_call {
            let Some(policy) = source.policy_id else {
                return failure(format!(
                    "Alert source {} has no escalation policy, so there is no on-call to page.",
                    source.name
                ));
            };
            let q = OnCallQuery {
                policies: vec![policy],
                ..Default::default()
            };
            let on_call = ilert!(api.list_on_calls(&q), "the on-call list");
            for entry in on_call
                .iter()
                .filter(|o| o.escalation_level.is_none_or(|l| l <= 1.0))
            {
                if let Some(user) = &entry.user
                    && !responders.iter().any(|r| r.id == user.id)
                {
                    responders.push(Named {
                        id: user.id,
                        name: user.display_name(),
                        detail: None,
                        policy_id: None,
                    });
                }
            }
            if responders.is_empty() {
                return failure(format!(
                    "Nobody is on call now for the policy of {}; name `responders` instead.",
                    source.name
                ));
            }
        }
        let body = ManualAlert {
            summary: p.summary.trim().to_owned(),
            details: p.details.clone(),
            alert_source: IdOnly { id: source.id },
            priority: Some(priority.clone()),
            responders: responders
                .iter()
                .map(|r| ResponderWrite {
                    user: IdOnly { id: r.id },
                })
                .collect(),
            ..Default::default()
        };
        confirm!(
            ext,
            previews::paging(&api, &source, &responders, &body.summary, &priority)
        );
        let alert = ilert!(api.create_alert(&body), "the new alert");
        let item = render::alert_item((&alert).into(), Some(&self.shared.app_url));
        let paged: Vec<Ref> = if responders.is_empty() {
            item.responders
                .iter()
                .map(|r| Ref {
                    id: r.id,
                    name: Some(r.name.clone()),
                })
                .collect()
        } else {
            responders
                .iter()
                .map(|r| Ref {
                    id: r.id,
                    name: Some(r.name.clone()),
                })
                .collect()
        };
        let names: Vec<String> = paged.iter().filter_map(|r| r.name.clone()).collect();
        let text = format!(
            "Raised alert #{} on {}; paging {}.\n{}",
            item.id,
            source.name,
            if names.is_empty() {
                "along its escalation policy".to_owned()
            } else {
                names.join(", ")
            },
            item.url.as_deref().unwrap_or_default()
        );
        structured(
            &CreateAlertOutput {
                alert: item,
                source: Ref {
                    id: source.id,
                    name: Some(source.name),
                },
                responders: paged,
            },
            text,
        )
    }
}

impl IlertMcp {
    /// The alert source to raise an alert on: named directly, or the one reporting on `service`.
    async fn pick_source(
        &self,
        api: &Session,
        source: Option<&str>,
        service: Option<&str>,
    ) -> Result<Named, String> {
        if let Some(source) = source {
            return self.shared.refs.resolve(api, Kind::Source, source).await;
        }
        let Some(service) = service else {
            return Err(
                "Name the alert source (`source`) or the affected `service`; list_alert_sources shows the sources."
                    .into(),
            );
        };
        let service = self
            .shared
            .refs
            .resolve(api, Kind::Service, service)
            .await?;
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
                name: one.name.clone().unwrap_or_default(),
                detail: one.integration_type.clone(),
                policy_id: one.escalation_policy.as_ref().map(|p| p.id),
            }),
            [] => Err(format!(
                "No alert source is linked to service {}. Pass `source` (list_alert_sources shows them).",
                service.name
            )),
            many => Err(format!(
                "Several alert sources report on {}: {}. Pass `source`.",
                service.name,
                many.iter()
                    .map(|s| format!("{} (id {})", s.name.as_deref().unwrap_or("?"), s.id))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }
}
