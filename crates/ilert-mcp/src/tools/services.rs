//! Services toolset: `list_services`, `get_service`, `list_status_pages`,
//! `list_maintenance_windows`, `create_maintenance_window` (`/services*`, `/status-pages`,
//! `/maintenance-windows`).

use chrono::Duration;
use ilert_client::{IdOnly, MaintenanceQuery, MaintenanceWindowWrite, Page, Service};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, Extensions};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::rules::confirm::confirm;
use crate::rules::details::{IncidentOut, incident_out};
use crate::rules::names::Kind;
use crate::rules::previews;
use crate::rules::render::Ref;
use crate::rules::times::{self, parse, show, show_raw, zone};
use crate::rules::toolbox::Toolbox;
use crate::rules::untrusted;
use crate::rules::{args, check, failure, ilert, input_schema, output_schema, session, structured};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ServicesOutput {
    pub services: Vec<ServiceOut>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ServiceOut {
    pub id: i64,
    pub name: String,
    /// OPERATIONAL, UNDER_MAINTENANCE, DEGRADED, PARTIAL_OUTAGE or MAJOR_OUTAGE.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Owning teams.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub teams: Vec<Ref>,
    /// Uptime percentage over the last 30/60/90 days.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uptime_30d: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uptime_90d: Option<f64>,
    /// Ongoing incidents (get_service only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub incidents: Vec<IncidentOut>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceParams {
    /// Service id or name.
    pub service: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct StatusPagesOutput {
    pub status_pages: Vec<StatusPageOut>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct StatusPageOut {
    pub id: i64,
    pub name: String,
    /// PUBLIC or PRIVATE.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub visibility: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    pub services: Vec<Ref>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MaintenanceParams {
    /// OPEN (default: ongoing or planned) or CLOSED.
    #[serde(default, deserialize_with = "args::any_case")]
    pub state: Option<MaintenanceState>,
    /// IANA zone or city for times. Default UTC.
    #[serde(default)]
    pub timezone: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MaintenanceState {
    Open,
    Closed,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct MaintenanceOutput {
    pub maintenance_windows: Vec<MaintenanceOut>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct MaintenanceOut {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    pub summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    /// Services and alert sources in maintenance (alerts from these sources are suppressed).
    pub covers: Vec<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMaintenanceParams {
    /// What is being done, e.g. "Database failover test".
    pub summary: String,
    /// Start, e.g. "2026-11-28 22:00".
    pub start: String,
    /// End, after `start`.
    pub end: String,
    /// IANA zone or city for times. Default UTC.
    #[serde(default)]
    pub timezone: Option<String>,
    /// Services under maintenance (ids or names).
    #[serde(default)]
    pub services: Vec<String>,
    /// Alert sources to silence (ids or names).
    #[serde(default)]
    pub alert_sources: Vec<String>,
    #[serde(default)]
    pub description: Option<String>,
}

fn service_out(s: &Service, app_url: &str) -> ServiceOut {
    let pct = s
        .uptime
        .as_ref()
        .and_then(|u| u.uptime_percentage.as_ref())
        .and_then(|u| u.uptime_percentage.as_ref());
    ServiceOut {
        id: s.id,
        name: untrusted::inline_owned(s.name.clone().unwrap_or_default()),
        status: s.status.clone().unwrap_or_else(|| "UNKNOWN".into()),
        description: s
            .description
            .as_deref()
            .filter(|d| !d.is_empty())
            .map(|d| untrusted::inline(d).into_owned()),
        teams: s.teams.iter().map(team_ref).collect(),
        uptime_30d: pct.and_then(|p| p.p30),
        uptime_90d: pct.and_then(|p| p.p90),
        incidents: s
            .incidents
            .iter()
            .filter(|i| i.status.as_deref() != Some("RESOLVED"))
            .map(|i| incident_out(i, app_url))
            .collect(),
    }
}

/// A service's owning team as answers show it.
pub(crate) fn team_ref(t: &ilert_client::TeamRef) -> Ref {
    Ref {
        id: t.id,
        name: t.name.clone().map(untrusted::inline_owned),
    }
}

/// " · team Storefront (id 503)": who owns a service, for one-line answers.
pub(crate) fn owners_text(teams: &[Ref]) -> String {
    if teams.is_empty() {
        return String::new();
    }
    let names: Vec<String> = teams
        .iter()
        .map(|t| {
            format!(
                "{} (id {})",
                untrusted::quoted(t.name.as_deref().unwrap_or("?")),
                t.id
            )
        })
        .collect();
    format!(
        " · team{} {}",
        if teams.len() == 1 { "" } else { "s" },
        names.join(", ")
    )
}

fn service_line(s: &ServiceOut) -> String {
    let uptime = match (s.uptime_30d, s.uptime_90d) {
        (Some(a), Some(b)) => format!(" · uptime {a:.2}% (30d), {b:.2}% (90d)"),
        (Some(a), None) => format!(" · uptime {a:.2}% (30d)"),
        _ => String::new(),
    };
    format!(
        "{} (id {}): {}{uptime}{}",
        untrusted::quoted(&s.name),
        s.id,
        s.status,
        owners_text(&s.teams)
    )
}

#[tool_router(router = services_router, vis = "pub(crate)")]
impl Toolbox {
    /// List services with their status (operational, degraded, outage...) and uptime.
    #[tool(
        title = "List services",
        input_schema = input_schema::<NoParams>(),
        output_schema = output_schema::<ServicesOutput>(),
        annotations(title = "List services", read_only_hint = true, destructive_hint = false,
                    idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn list_services(
        &self,
        Parameters(NoParams {}): Parameters<NoParams>,
        ext: Extensions,
    ) -> CallToolResult {
        let api = session!(self, ext);
        let services = ilert!(
            api.list_services(Page::new(0, 25), true),
            "the service list"
        );
        let services: Vec<ServiceOut> = services
            .iter()
            .map(|s| service_out(s, &self.app_url))
            .collect();
        let text = crate::rules::lines_or(&services, service_line, "No services.");
        structured(&ServicesOutput { services }, text)
    }

    /// One service by id or name: status, uptime, owning team, ongoing incidents.
    #[tool(
        title = "Get service",
        input_schema = input_schema::<ServiceParams>(),
        output_schema = output_schema::<ServiceOut>(),
        annotations(title = "Get service", read_only_hint = true, destructive_hint = false,
                    idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn get_service(
        &self,
        Parameters(p): Parameters<ServiceParams>,
        ext: Extensions,
    ) -> CallToolResult {
        let api = session!(self, ext);
        let found = check!(self.refs.resolve(&api, Kind::Service, &p.service).await);
        let service = ilert!(api.get_service(found.id), format!("service {}", found.id));
        let out = service_out(&service, &self.app_url);
        let mut text = service_line(&out);
        for i in &out.incidents {
            text.push_str(&format!(
                "\n  incident #{} {} {}",
                i.id,
                i.status,
                untrusted::quoted(&i.summary)
            ));
        }
        structured(&out, text)
    }

    /// List status pages with their status and services.
    #[tool(
        title = "List status pages",
        input_schema = input_schema::<NoParams>(),
        output_schema = output_schema::<StatusPagesOutput>(),
        annotations(title = "List status pages", read_only_hint = true, destructive_hint = false,
                    idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn list_status_pages(
        &self,
        Parameters(NoParams {}): Parameters<NoParams>,
        ext: Extensions,
    ) -> CallToolResult {
        let api = session!(self, ext);
        let pages = ilert!(
            api.list_status_pages(Page::new(0, 50)),
            "the status page list"
        );
        let pages: Vec<StatusPageOut> = pages
            .iter()
            .map(|p| StatusPageOut {
                id: p.id,
                name: untrusted::inline_owned(p.name.clone().unwrap_or_default()),
                visibility: p.visibility.clone(),
                status: p.status.clone(),
                // Only a full host name makes a link; a bare label ("acme-internal") would not.
                url: p
                    .domain
                    .clone()
                    .filter(|d| !d.is_empty())
                    .or_else(|| p.subdomain.clone())
                    .filter(|d| d.contains('.'))
                    .map(|d| format!("https://{d}")),
                services: p
                    .services
                    .iter()
                    .map(|s| Ref {
                        id: s.id,
                        name: s.name.clone().map(untrusted::inline_owned),
                    })
                    .collect(),
            })
            .collect();
        let text = crate::rules::lines_or(
            &pages,
            |p| {
                let services: Vec<String> = p
                    .services
                    .iter()
                    .filter_map(|s| s.name.as_deref().map(untrusted::quoted))
                    .collect();
                format!(
                    "{} (id {}, {}): {} · {}",
                    untrusted::quoted(&p.name),
                    p.id,
                    p.visibility.as_deref().unwrap_or("?"),
                    p.status.as_deref().unwrap_or("?"),
                    services.join(", ")
                )
            },
            "No status pages.",
        );
        structured(
            &StatusPagesOutput {
                status_pages: pages,
            },
            text,
        )
    }

    /// List maintenance windows: open (ongoing or planned) by default, or closed.
    #[tool(
        title = "List maintenance windows",
        input_schema = input_schema::<MaintenanceParams>(),
        output_schema = output_schema::<MaintenanceOutput>(),
        annotations(title = "List maintenance windows", read_only_hint = true, destructive_hint = false,
                    idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn list_maintenance_windows(
        &self,
        Parameters(p): Parameters<MaintenanceParams>,
        ext: Extensions,
    ) -> CallToolResult {
        let api = session!(self, ext);
        let tz = check!(zone(p.timezone.as_deref()));
        let state = match p.state.unwrap_or(MaintenanceState::Open) {
            MaintenanceState::Open => "OPEN",
            MaintenanceState::Closed => "CLOSED",
        };
        let query = MaintenanceQuery {
            state: Some(state.into()),
            page: Page::new(0, 50),
            ..Default::default()
        };
        let windows = ilert!(
            api.list_maintenance_windows(&query),
            "the maintenance window list"
        );
        let windows: Vec<MaintenanceOut> = windows
            .iter()
            .map(|w| MaintenanceOut {
                id: w.id,
                summary: untrusted::inline_owned(w.summary.clone().unwrap_or_default()),
                start: show_raw(w.start.as_deref(), tz),
                end: show_raw(w.end.as_deref(), tz),
                covers: w
                    .services
                    .iter()
                    .filter_map(|s| s.name.as_deref())
                    .chain(w.alert_sources.iter().filter_map(|s| s.name.as_deref()))
                    .map(|n| untrusted::inline(n).into_owned())
                    .collect(),
            })
            .collect();
        let text = windows
            .iter()
            .map(|w| {
                let covers: Vec<String> = w.covers.iter().map(|c| untrusted::quoted(c)).collect();
                format!(
                    "{} {} → {} · {}",
                    untrusted::quoted(&w.summary),
                    w.start.as_deref().unwrap_or("?"),
                    w.end.as_deref().unwrap_or("?"),
                    covers.join(", ")
                )
            })
            .collect::<Vec<_>>()
            .join("\n");
        structured(
            &MaintenanceOutput {
                maintenance_windows: windows,
            },
            if text.is_empty() {
                format!("No {state} maintenance windows.")
            } else {
                text
            },
        )
    }

    /// Plan a maintenance window. Only the alert sources named are silenced; services alone do not
    /// stop paging.
    #[tool(
        title = "Create maintenance window",
        input_schema = input_schema::<CreateMaintenanceParams>(),
        output_schema = output_schema::<MaintenanceOut>(),
        meta = crate::rules::confirm::outward(),
        annotations(title = "Create maintenance window", read_only_hint = false, destructive_hint = false,
                    idempotent_hint = false, open_world_hint = true)
    )]
    pub async fn create_maintenance_window(
        &self,
        Parameters(p): Parameters<CreateMaintenanceParams>,
        ext: Extensions,
    ) -> CallToolResult {
        let api = session!(self, ext);
        let tz = check!(zone(p.timezone.as_deref()));
        let start = check!(parse("start", &p.start, tz));
        let end = check!(parse("end", &p.end, tz));
        if end <= start {
            return failure("`end` must be after `start`.");
        }
        if end < times::now() - Duration::minutes(1) {
            return failure(
                "That window is already over; maintenance windows are for now or the future.",
            );
        }
        if p.services.is_empty() && p.alert_sources.is_empty() {
            return failure("Name at least one service or alert source the maintenance covers.");
        }
        let mut services = Vec::new();
        for s in &p.services {
            services.push(IdOnly {
                id: check!(self.refs.resolve(&api, Kind::Service, s).await).id,
            });
        }
        let service_ids: Vec<i64> = services.iter().map(|s| s.id).collect();
        let mut sources = Vec::new();
        for s in &p.alert_sources {
            sources.push(IdOnly {
                id: check!(self.refs.resolve(&api, Kind::Source, s).await).id,
            });
        }
        let body = MaintenanceWindowWrite {
            summary: p.summary.trim().to_owned(),
            description: p.description.clone(),
            timezone: tz.name().to_owned(),
            start: times::wire(start),
            end: times::wire(end),
            services,
            alert_sources: sources,
        };
        confirm!(ext, async {
            previews::maintenance(
                &body.summary,
                (start, end, tz),
                &p.services,
                &p.alert_sources,
            )
        });
        let created = ilert!(
            api.create_maintenance_window(&body),
            "the new maintenance window"
        );
        let out = MaintenanceOut {
            id: created.id,
            summary: untrusted::inline_owned(created.summary.clone().unwrap_or(body.summary)),
            start: Some(show(start, tz)),
            end: Some(show(end, tz)),
            covers: p.services.iter().chain(&p.alert_sources).cloned().collect(),
        };
        let mut text = format!(
            "Maintenance {} planned {} → {} for {}.",
            untrusted::quoted(&out.summary),
            show(start, tz),
            show(end, tz),
            out.covers.join(", ")
        );
        if p.alert_sources.is_empty() {
            text.push_str(&silence_hint(&api, &service_ids).await);
        }
        structured(&out, text)
    }
}

/// Services alone stop no pages: alerts come from alert sources. Names the sources that belong
/// to `services` (reporting on one, or owned by a team that owns one) so they can be added.
async fn silence_hint(api: &ilert_client::Session, services: &[i64]) -> String {
    let (all_services, sources) = tokio::join!(
        api.list_services(ilert_client::Page::new(0, 100), false),
        api.list_alert_sources(ilert_client::Page::new(0, 50))
    );
    let teams: Vec<i64> = all_services
        .iter()
        .flatten()
        .filter(|s| services.contains(&s.id))
        .flat_map(|s| s.teams.iter().map(|t| t.id))
        .collect();
    let related: Vec<String> = sources
        .iter()
        .flatten()
        .filter(|s| {
            s.services.iter().any(|sv| services.contains(&sv.id))
                || s.teams.iter().any(|t| teams.contains(&t.id))
        })
        .map(|s| {
            format!(
                "{} (id {})",
                untrusted::quoted(s.name.as_deref().unwrap_or("?")),
                s.id
            )
        })
        .collect();
    let mut hint =
        " Services alone do not stop paging: their alert sources still page the on-call."
            .to_owned();
    if !related.is_empty() {
        hint.push_str(&format!(
            " To silence them too, create the window with `alert_sources`: {}.",
            related.join(", ")
        ));
    }
    hint
}
