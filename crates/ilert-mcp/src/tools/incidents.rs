//! Incidents toolset: `list_incidents`, `get_incident`, `create_incident` (with a dry run),
//! `update_incident` (`/incidents*`, `If-Match` against concurrent edits).

use ilert_client::{
    AffectedServiceWrite, ApiError, IdOnly, Incident, IncidentQuery, IncidentWrite, Page, Session,
};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, Extensions};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::rules::confirm::confirm;
use crate::rules::details::{IncidentOut, incident_line, incident_out, incident_text};
use crate::rules::names::Kind;
use crate::rules::previews;
use crate::rules::toolbox::Toolbox;
use crate::rules::untrusted;
use crate::rules::{
    args, check, explain, failure, ilert, input_schema, output_schema, session, structured,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum IncidentStatus {
    Investigating,
    Identified,
    Monitoring,
    Resolved,
}

impl IncidentStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Investigating => "INVESTIGATING",
            Self::Identified => "IDENTIFIED",
            Self::Monitoring => "MONITORING",
            Self::Resolved => "RESOLVED",
        }
    }
}

/// How badly a service is affected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Impact {
    Operational,
    UnderMaintenance,
    Degraded,
    PartialOutage,
    MajorOutage,
}

impl Impact {
    fn as_str(self) -> &'static str {
        match self {
            Self::Operational => "OPERATIONAL",
            Self::UnderMaintenance => "UNDER_MAINTENANCE",
            Self::Degraded => "DEGRADED",
            Self::PartialOutage => "PARTIAL_OUTAGE",
            Self::MajorOutage => "MAJOR_OUTAGE",
        }
    }
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListIncidentsParams {
    /// Default ongoing: INVESTIGATING, IDENTIFIED, MONITORING.
    #[serde(default, deserialize_with = "args::any_case")]
    pub states: Option<Vec<IncidentStatus>>,
    /// Only incidents affecting this service (id or name).
    #[serde(default)]
    pub service: Option<String>,
    /// 1 to 100, default 20.
    #[serde(default)]
    #[schemars(range(min = 1, max = 100))]
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct IncidentsOutput {
    pub incidents: Vec<IncidentOut>,
    pub has_more: bool,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IdParams {
    /// Incident id.
    #[serde(deserialize_with = "crate::rules::args::id")]
    #[schemars(with = "i64")]
    pub id: i64,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceImpact {
    /// Service id or name.
    pub service: String,
    #[serde(deserialize_with = "args::any_case")]
    pub impact: Impact,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateIncidentParams {
    /// Headline, e.g. "Checkout errors for some customers".
    pub summary: String,
    /// What is known and what comes next.
    pub message: String,
    /// Default INVESTIGATING.
    #[serde(default, deserialize_with = "args::any_case")]
    pub status: Option<IncidentStatus>,
    /// Affected services and how badly.
    pub services: Vec<ServiceImpact>,
    /// Default true.
    #[serde(default)]
    pub notify_subscribers: Option<bool>,
    /// Preview who would be notified; create nothing.
    #[serde(default)]
    pub dry_run: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CreateIncidentOutput {
    /// True when nothing was created (dry run).
    pub dry_run: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incident: Option<IncidentOut>,
    /// Who is (or would be) told.
    pub audience: Audience,
    /// Incidents already open on any of these services (a new one would be a second).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub already_open: Vec<IncidentOut>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Audience {
    /// Status pages showing the affected services, "Name (public)" (get_incident only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub status_pages: Vec<String>,
    pub public_status_pages: i64,
    pub private_status_pages: i64,
    pub public_subscribers: i64,
    pub private_subscribers: i64,
    pub notify_subscribers: bool,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateIncidentParams {
    /// Incident id.
    #[serde(deserialize_with = "crate::rules::args::id")]
    #[schemars(with = "i64")]
    pub id: i64,
    /// E.g. MONITORING once a fix is out.
    #[serde(deserialize_with = "args::any_case")]
    pub status: IncidentStatus,
    /// The update text subscribers read.
    pub message: String,
    /// New impacts; others keep theirs (RESOLVED sets all OPERATIONAL).
    #[serde(default)]
    pub services: Vec<ServiceImpact>,
    /// Default true.
    #[serde(default)]
    pub notify_subscribers: Option<bool>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct IncidentDetailOut {
    #[serde(flatten)]
    pub incident: IncidentOut,
    /// Whom a status update would reach now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audience: Option<Audience>,
}

const DEFAULT_LIMIT: u32 = 20;

impl Audience {
    /// ilert's publish-info figures for a write that does (or does not) notify subscribers.
    fn of(info: &ilert_client::PublishInfo, notify: bool, status_pages: Vec<String>) -> Audience {
        Audience {
            status_pages,
            public_status_pages: info.public_status_pages.unwrap_or(0.0) as i64,
            private_status_pages: info.private_status_pages.unwrap_or(0.0) as i64,
            public_subscribers: info.public_subscribers.unwrap_or(0.0) as i64,
            private_subscribers: info.private_subscribers.unwrap_or(0.0) as i64,
            notify_subscribers: notify,
        }
    }

    /// "1 public and 1 private status page(s); 120 public and 4 private subscriber(s) notified".
    fn reach(&self) -> String {
        format!(
            "{} public and {} private status page(s); {} public and {} private subscriber(s){}",
            self.public_status_pages,
            self.private_status_pages,
            self.public_subscribers,
            self.private_subscribers,
            if self.notify_subscribers {
                " notified"
            } else {
                " (not notified)"
            }
        )
    }
}

#[tool_router(router = incidents_router, vis = "pub(crate)")]
impl Toolbox {
    /// List status-page incidents (ongoing by default) with affected services and latest message.
    #[tool(
        title = "List incidents",
        input_schema = input_schema::<ListIncidentsParams>(),
        output_schema = output_schema::<IncidentsOutput>(),
        annotations(title = "List incidents", read_only_hint = true, destructive_hint = false,
                    idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn list_incidents(
        &self,
        Parameters(p): Parameters<ListIncidentsParams>,
        ext: Extensions,
    ) -> CallToolResult {
        let api = session!(self, ext);
        let limit = p.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, 100);
        let states = match &p.states {
            Some(s) if !s.is_empty() => s.iter().map(|s| s.as_str().to_owned()).collect(),
            _ => ["INVESTIGATING", "IDENTIFIED", "MONITORING"]
                .map(String::from)
                .to_vec(),
        };
        let mut query = IncidentQuery {
            states,
            page: Page::new(0, (limit + 1).min(100)),
            ..Default::default()
        };
        if let Some(service) = &p.service {
            query
                .services
                .push(check!(self.refs.resolve(&api, Kind::Service, service).await).id);
        }
        let mut incidents = ilert!(api.list_incidents(&query), "the incident list");
        let has_more = incidents.len() > limit as usize;
        incidents.truncate(limit as usize);
        let incidents: Vec<IncidentOut> = incidents
            .iter()
            .map(|i| incident_out(i, &self.app_url))
            .collect();
        let mut text = incidents
            .iter()
            .map(incident_line)
            .collect::<Vec<_>>()
            .join("\n");
        if text.is_empty() {
            text = format!("No {} incidents.", query.states.join("/"));
        }
        if has_more {
            text.push_str(&format!(
                "\nMore incidents match; raise `limit` (now {limit})."
            ));
        }
        structured(
            &IncidentsOutput {
                incidents,
                has_more,
            },
            text,
        )
    }

    /// One incident with all its status updates, oldest first, and whom an update would reach.
    #[tool(
        title = "Get incident",
        input_schema = input_schema::<IdParams>(),
        output_schema = output_schema::<IncidentDetailOut>(),
        annotations(title = "Get incident", read_only_hint = true, destructive_hint = false,
                    idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn get_incident(
        &self,
        Parameters(p): Parameters<IdParams>,
        ext: Extensions,
    ) -> CallToolResult {
        let api = session!(self, ext);
        let incident = ilert!(api.get_incident(p.id), format!("incident {}", p.id));
        let out = incident_out(&incident.value, &self.app_url);
        let mut text = incident_text(&out);
        // Whom the next update would reach: the same publish-info preview and status page
        // lookup create_incident's dry run and the confirmation use, for an update that keeps
        // today's status, text and impacts.
        let current = &incident.value;
        let body = update_body(
            current,
            current.status.as_deref().unwrap_or("INVESTIGATING"),
            current.message.as_deref().unwrap_or(""),
            true,
            &[],
        );
        let service_ids: Vec<i64> = body
            .affected_services
            .iter()
            .map(|a| a.service.id)
            .collect();
        let (info, pages) = tokio::join!(
            api.incident_publish_info(&body),
            previews::pages_showing(&api, &service_ids)
        );
        let audience = match (info, pages) {
            (Ok(info), Ok(pages)) => {
                let audience = Audience::of(&info, true, pages);
                text.push_str(&format!(
                    "\nAn update would reach {}: {}.",
                    audience.reach(),
                    previews::list_or(&audience.status_pages, "no status page shows its services")
                ));
                Some(audience)
            }
            (Err(e), _) | (_, Err(e)) => {
                text.push_str(&format!(
                    "\nWhom an update would reach is unknown: {}",
                    explain(&e, "the notification preview")
                ));
                None
            }
        };
        structured(
            &IncidentDetailOut {
                incident: out,
                audience,
            },
            text,
        )
    }

    /// Open a status-page incident and notify subscribers; `dry_run` previews who is told. To page
    /// people use create_alert.
    #[tool(
        title = "Create incident",
        input_schema = input_schema::<CreateIncidentParams>(),
        output_schema = output_schema::<CreateIncidentOutput>(),
        meta = crate::rules::confirm::outward(),
        annotations(title = "Create incident", read_only_hint = false, destructive_hint = false,
                    idempotent_hint = false, open_world_hint = true)
    )]
    pub async fn create_incident(
        &self,
        Parameters(p): Parameters<CreateIncidentParams>,
        ext: Extensions,
    ) -> CallToolResult {
        let api = session!(self, ext);
        if p.summary.trim().is_empty() || p.message.trim().is_empty() {
            return failure("`summary` and `message` must not be empty.");
        }
        if p.services.is_empty() {
            return failure(
                "Name at least one affected service in `services` (see list_services).",
            );
        }
        let affected = check!(self.affected(&api, &p.services).await);
        let already_open = self.open_on(&api, &affected).await;
        // Customers told twice about one outage: say so before and after, and point at the update.
        let twice = if already_open.is_empty() {
            String::new()
        } else {
            format!(
                "Already open on these services: {}. To tell subscribers more about it, use update_incident on it instead.",
                already_open
                    .iter()
                    .map(incident_line)
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        };
        let notify = p.notify_subscribers.unwrap_or(true);
        let body = IncidentWrite {
            summary: p.summary.trim().to_owned(),
            status: p
                .status
                .unwrap_or(IncidentStatus::Investigating)
                .as_str()
                .to_owned(),
            message: Some(p.message.trim().to_owned()),
            send_notification: notify,
            affected_services: affected,
        };
        let info = ilert!(api.incident_publish_info(&body), "the notification preview");
        let audience = Audience::of(&info, notify, Vec::new());
        let reach = audience.reach();
        if p.dry_run {
            let mut text = format!(
                "Dry run, nothing created. \"{}\" would reach {reach}.",
                body.summary
            );
            if !twice.is_empty() {
                text = format!("{text}\n{twice}");
            }
            return structured(
                &CreateIncidentOutput {
                    dry_run: true,
                    incident: None,
                    audience,
                    already_open,
                },
                text,
            );
        }
        confirm!(ext, async {
            let preview = previews::incident(&api, &body, None, Some(&info)).await;
            if twice.is_empty() {
                preview
            } else {
                preview.line(twice.clone())
            }
        });
        let created = ilert!(api.create_incident(&body), "the new incident");
        let incident = incident_out(&created, &self.app_url);
        let mut text = format!(
            "Created incident #{} {} ({}), reaching {reach}.\n{}",
            incident.id,
            untrusted::quoted(&incident.summary),
            incident.status,
            incident.url
        );
        if !already_open.is_empty() {
            let ids: Vec<String> = already_open.iter().map(|i| format!("#{}", i.id)).collect();
            text = format!(
                "{text}\nNote: {} was already open on these services.",
                ids.join(", ")
            );
        }
        structured(
            &CreateIncidentOutput {
                dry_run: false,
                incident: Some(incident),
                audience,
                already_open,
            },
            text,
        )
    }

    /// Post a status update on an incident: status, message for subscribers, optionally service
    /// impacts.
    #[tool(
        title = "Update incident",
        input_schema = input_schema::<UpdateIncidentParams>(),
        output_schema = output_schema::<IncidentOut>(),
        meta = crate::rules::confirm::outward(),
        annotations(title = "Update incident", read_only_hint = false, destructive_hint = true,
                    idempotent_hint = false, open_world_hint = true)
    )]
    pub async fn update_incident(
        &self,
        Parameters(p): Parameters<UpdateIncidentParams>,
        ext: Extensions,
    ) -> CallToolResult {
        let api = session!(self, ext);
        if p.message.trim().is_empty() {
            return failure("`message` must not be empty: it is what subscribers read.");
        }
        let changes = check!(self.affected(&api, &p.services).await);
        let mut note = String::new();
        // One retry: if someone else updated the incident between our read and write, re-read and
        // apply this update on top of theirs.
        for attempt in 0..2 {
            let current = ilert!(api.get_incident(p.id), format!("incident {}", p.id));
            let body = update_body(
                &current.value,
                p.status.as_str(),
                &p.message,
                p.notify_subscribers.unwrap_or(true),
                &changes,
            );
            if attempt == 0 {
                confirm!(ext, previews::incident(&api, &body, Some(p.id), None));
            }
            match api
                .update_incident(p.id, &body, current.etag.as_deref())
                .await
            {
                Ok(_) => {
                    let fresh = ilert!(api.get_incident(p.id), format!("incident {}", p.id));
                    let out = incident_out(&fresh.value, &self.app_url);
                    let text = format!(
                        "Posted {} update on incident #{}.{note}\n{}",
                        p.status.as_str(),
                        p.id,
                        incident_text(&out)
                    );
                    return structured(&out, text);
                }
                // Someone else updated it between our read and write: read again and retry once.
                Err(ApiError::Rejected { status: 412, .. }) if attempt == 0 => {
                    note = " (Someone else updated it meanwhile; this update was applied on top of theirs.)".into();
                }
                Err(ApiError::Rejected { status: 412, .. }) => break,
                Err(e) => return failure(explain(&e, &format!("incident {}", p.id))),
            }
        }
        failure(format!(
            "Incident {} keeps changing under us; read it with get_incident and try again.",
            p.id
        ))
    }
}

impl Toolbox {
    /// Incidents not yet resolved on any of `affected`'s services; none when ilert cannot say
    /// (the preview then simply has no warning).
    async fn open_on(&self, api: &Session, affected: &[AffectedServiceWrite]) -> Vec<IncidentOut> {
        let query = IncidentQuery {
            states: ["INVESTIGATING", "IDENTIFIED", "MONITORING"]
                .map(String::from)
                .to_vec(),
            services: affected.iter().map(|a| a.service.id).collect(),
            page: Page::new(0, 20),
            ..Default::default()
        };
        match api.list_incidents(&query).await {
            Ok(found) => found
                .iter()
                .map(|i| incident_out(i, &self.app_url))
                .collect(),
            Err(e) => {
                tracing::debug!(error = %crate::observe::logsafe::escaped(&e.to_string()), "could not look for open incidents");
                Vec::new()
            }
        }
    }

    async fn affected(
        &self,
        api: &Session,
        services: &[ServiceImpact],
    ) -> Result<Vec<AffectedServiceWrite>, String> {
        let mut out = Vec::with_capacity(services.len());
        for s in services {
            let found = self.refs.resolve(api, Kind::Service, &s.service).await?;
            out.push(AffectedServiceWrite {
                impact: s.impact.as_str().to_owned(),
                service: IdOnly { id: found.id },
            });
        }
        Ok(out)
    }
}

/// A status update on `current`: `status` and `message`, with `changes` to the impacts (RESOLVED
/// sets every service OPERATIONAL).
fn update_body(
    current: &Incident,
    status: &str,
    message: &str,
    notify: bool,
    changes: &[AffectedServiceWrite],
) -> IncidentWrite {
    let resolved = status == IncidentStatus::Resolved.as_str();
    let mut affected: Vec<AffectedServiceWrite> = current
        .affected_services
        .iter()
        .map(|a| AffectedServiceWrite {
            impact: if resolved {
                "OPERATIONAL".into()
            } else {
                a.impact.clone().unwrap_or_else(|| "DEGRADED".into())
            },
            service: IdOnly { id: a.service.id },
        })
        .collect();
    for change in changes {
        match affected
            .iter_mut()
            .find(|a| a.service.id == change.service.id)
        {
            Some(existing) => existing.impact = change.impact.clone(),
            None => affected.push(change.clone()),
        }
    }
    IncidentWrite {
        summary: current.summary.clone().unwrap_or_default(),
        status: status.to_owned(),
        message: Some(message.trim().to_owned()),
        send_notification: notify,
        affected_services: affected,
    }
}
