//! ChatGPT toolset: `search` and `fetch` in the exact shape ChatGPT connectors and deep research
//! require: one `query` → `{results: [{id, title, url}]}`; one `id` → `{id, title, text, url,
//! metadata}`; each answer is exactly one text content item holding that JSON. Ids are
//! `alert:4711`, `incident:45`, `service:5`, `schedule:88`, `policy:3101`, `user:10002`.

use chrono::{Duration, Utc};
use ilert_client::{AlertInclude, AlertQuery, AlertStatus, IncidentQuery, Page, Session};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock, Extensions};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::rules::details;
use crate::rules::names::Kind;
use crate::rules::toolbox::Toolbox;
use crate::rules::untrusted;
use crate::rules::{explain, failure, input_schema, output_schema, session};

#[derive(Debug, Deserialize, JsonSchema)]
pub struct SearchParams {
    /// Words to look for.
    pub query: String,
    /// Alerts and incidents since; default 30 days ago.
    #[serde(default)]
    pub from: Option<String>,
    /// And before.
    #[serde(default)]
    pub until: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SearchOutput {
    pub results: Vec<SearchResult>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SearchResult {
    pub id: String,
    pub title: String,
    pub url: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct FetchParams {
    /// An id from search, e.g. "alert:4711".
    pub id: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct FetchOutput {
    pub id: String,
    pub title: String,
    pub text: String,
    pub url: String,
    pub metadata: serde_json::Map<String, serde_json::Value>,
}

const MAX_RESULTS: usize = 20;
const PER_KIND: usize = 8;

/// A query word without its plural ending, so "payments" and "policies" match "payment" and
/// "policy" as well as themselves (matching is by containment).
fn stem(word: &str) -> String {
    let w = word.trim_matches(|c: char| !c.is_alphanumeric());
    let long = w.chars().count() > 4;
    if let Some(base) = w.strip_suffix("ies").filter(|_| long) {
        return format!("{base}y");
    }
    if long
        && ["ses", "xes", "ches", "shes"]
            .iter()
            .any(|e| w.ends_with(e))
    {
        return w.strip_suffix("es").unwrap_or(w).to_owned();
    }
    match w.strip_suffix('s') {
        Some(base) if w.chars().count() > 3 && !base.ends_with('s') => base.to_owned(),
        _ => w.to_owned(),
    }
}

/// The date part of an ilert time, for result titles.
fn day(raw: Option<&str>) -> String {
    raw.and_then(|r| r.get(..10))
        .unwrap_or("undated")
        .to_owned()
}

#[tool_router(router = chatgpt_router, vis = "pub(crate)")]
impl Toolbox {
    /// Search alerts, incidents, services, schedules, policies and people; returns ids for fetch.
    #[tool(
        title = "Search ilert",
        input_schema = input_schema::<SearchParams>(),
        output_schema = output_schema::<SearchOutput>(),
        annotations(title = "Search ilert", read_only_hint = true, destructive_hint = false,
                    idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn search(
        &self,
        Parameters(p): Parameters<SearchParams>,
        ext: Extensions,
    ) -> CallToolResult {
        let api = session!(self, ext);
        let words: Vec<String> = p
            .query
            .to_lowercase()
            .split_whitespace()
            .map(stem)
            .collect();
        let app = &self.app_url;
        let time = |name: &str, raw: &Option<String>| {
            raw.as_deref()
                .map(|raw| crate::rules::times::parse(name, raw, chrono_tz::Tz::UTC))
                .transpose()
        };
        let (from, until) = match (time("from", &p.from), time("until", &p.until)) {
            (Ok(from), Ok(until)) => (from, until),
            (Err(e), _) | (_, Err(e)) => return failure(e),
        };
        let month_ago = from.unwrap_or_else(|| crate::rules::times::now() - Duration::days(30));
        let within = |raw: Option<&str>| {
            let Some(t) = raw.and_then(|r| chrono::DateTime::parse_from_rfc3339(r).ok()) else {
                return true;
            };
            let t = t.with_timezone(&Utc);
            t >= month_ago && until.is_none_or(|u| t < u)
        };
        let alerts_q = AlertQuery {
            states: vec![
                AlertStatus::Pending,
                AlertStatus::Accepted,
                AlertStatus::Resolved,
            ],
            from: Some(crate::rules::times::wire(month_ago)),
            until: until.map(crate::rules::times::wire),
            max_results: 100,
            ..Default::default()
        };
        let incidents_q = IncidentQuery {
            page: Page::new(0, 100),
            ..Default::default()
        };
        let refs = &self.refs;
        let (alerts, incidents, services, schedules, policies, users) = tokio::join!(
            api.list_alerts(&alerts_q),
            api.list_incidents(&incidents_q),
            refs.list(&api, Kind::Service),
            refs.list(&api, Kind::Schedule),
            refs.list(&api, Kind::Policy),
            refs.list(&api, Kind::User),
        );
        // (score, result): words in the title count twice, words elsewhere once; the input order
        // (newest first) breaks ties.
        let mut found: Vec<(usize, SearchResult)> = Vec::new();
        let mut add = |body: &str, id: String, title: String, url: String| {
            let (title_text, body_text) = (title.to_lowercase(), body.to_lowercase());
            let score: usize = words
                .iter()
                .map(|w| {
                    if title_text.contains(w.as_str()) {
                        2
                    } else {
                        usize::from(body_text.contains(w.as_str()))
                    }
                })
                .sum();
            if score > 0 || words.is_empty() {
                found.push((score, SearchResult { id, title, url }));
            }
        };
        for a in alerts.iter().flatten() {
            let summary = untrusted::inline_owned(a.summary.clone().unwrap_or_default());
            let status = a.status.as_ref().map_or("", |s| s.as_str());
            let source = a
                .alert_source
                .as_ref()
                .and_then(|s| s.name.clone())
                .unwrap_or_default();
            add(
                &format!(
                    "{summary} {} {source} {status} alert {}",
                    a.details.as_deref().unwrap_or(""),
                    a.id
                ),
                format!("alert:{}", a.id),
                format!(
                    "Alert #{} ({status}, {}): {}",
                    a.id,
                    day(a.report_time.as_deref()),
                    untrusted::quoted(&summary)
                ),
                crate::rules::render::alert_url(app, a.id),
            );
        }
        for i in incidents
            .iter()
            .flatten()
            .filter(|i| within(i.created_at.as_deref()))
        {
            let summary = untrusted::inline_owned(i.summary.clone().unwrap_or_default());
            let status = i.status.clone().unwrap_or_default();
            add(
                &format!(
                    "{summary} {} {status} incident {}",
                    i.message.as_deref().unwrap_or(""),
                    i.id
                ),
                format!("incident:{}", i.id),
                format!(
                    "Incident #{} ({status}, {}): {}",
                    i.id,
                    day(i.created_at.as_deref()),
                    untrusted::quoted(&summary)
                ),
                details::incident_url(app, i.id),
            );
        }
        let named = [
            (&services, "service", "Service"),
            (&schedules, "schedule", "Schedule"),
            (&policies, "policy", "Escalation policy"),
            (&users, "user", "User"),
        ];
        for (list, kind, label) in named {
            for n in list.iter().flat_map(|l| l.iter()) {
                add(
                    &format!("{} {} {kind}", n.name, n.detail.as_deref().unwrap_or("")),
                    format!("{kind}:{}", n.id),
                    format!("{label}: {}", untrusted::quoted(&n.name)),
                    object_url(app, kind, n.id),
                );
            }
        }
        found.sort_by_key(|(score, _)| std::cmp::Reverse(*score));
        // No kind may crowd out the others: at most PER_KIND of each.
        let mut per_kind: std::collections::HashMap<String, usize> =
            std::collections::HashMap::new();
        let results: Vec<SearchResult> = found
            .into_iter()
            .filter(|(_, r)| {
                let seen = per_kind
                    .entry(r.id.split(':').next().unwrap_or("").to_owned())
                    .or_default();
                *seen += 1;
                *seen <= PER_KIND
            })
            .take(MAX_RESULTS)
            .map(|(_, r)| r)
            .collect();
        if let Err(e) = &alerts {
            return failure(explain(e, "the search"));
        }
        one_json(&SearchOutput { results })
    }

    /// Fetch an object by a search id (e.g. "alert:4711"): text to cite, link, facts.
    #[tool(
        title = "Fetch ilert object",
        input_schema = input_schema::<FetchParams>(),
        output_schema = output_schema::<FetchOutput>(),
        annotations(title = "Fetch ilert object", read_only_hint = true, destructive_hint = false,
                    idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn fetch(
        &self,
        Parameters(p): Parameters<FetchParams>,
        ext: Extensions,
    ) -> CallToolResult {
        let api = session!(self, ext);
        let Some((kind, id)) =
            p.id.trim()
                .split_once(':')
                .and_then(|(k, n)| Some((k.to_owned(), n.trim().parse::<i64>().ok()?)))
        else {
            return failure(format!(
                "{:?} is not an id from search; ids look like alert:4711 or incident:45.",
                p.id
            ));
        };
        match self.fetch_object(&api, &kind, id).await {
            Ok(out) => one_json(&out),
            Err(message) => failure(message),
        }
    }
}

impl Toolbox {
    async fn fetch_object(
        &self,
        api: &Session,
        kind: &str,
        id: i64,
    ) -> Result<FetchOutput, String> {
        let app = &self.app_url;
        let subject = format!("{kind} {id}");
        let mut metadata = serde_json::Map::new();
        let (title, text, url) = match kind {
            "alert" => {
                let (alert, log) = tokio::join!(
                    api.get_alert(id, &[AlertInclude::NextEscalationUser]),
                    api.alert_log_entries(id, 100)
                );
                let alert = alert.map_err(|e| explain(&e, &subject))?;
                let mut detail = details::alert_detail(&alert, app);
                let note = match log {
                    Ok(entries) => details::set_timeline(&mut detail, entries),
                    Err(e) => Some(format!(
                        "Timeline unavailable: {}",
                        explain(&e, "the alert timeline")
                    )),
                };
                metadata.insert("status".into(), detail.item.status.clone().into());
                metadata.insert(
                    "priority".into(),
                    detail.item.priority.clone().unwrap_or_default().into(),
                );
                metadata.insert(
                    "reported_at".into(),
                    detail.item.reported_at.clone().unwrap_or_default().into(),
                );
                let mut text = details::detail_text(&detail);
                if let Some(note) = note {
                    text.push_str(&format!("\n{note}"));
                }
                (
                    format!("Alert #{id}: {}", untrusted::quoted(&detail.item.summary)),
                    text,
                    detail.item.url.clone().unwrap_or_default(),
                )
            }
            "incident" => {
                let incident = api
                    .get_incident(id)
                    .await
                    .map_err(|e| explain(&e, &subject))?;
                let out = details::incident_out(&incident.value, app);
                metadata.insert("status".into(), out.status.clone().into());
                metadata.insert(
                    "created_at".into(),
                    out.created_at.clone().unwrap_or_default().into(),
                );
                (
                    format!("Incident #{id}: {}", untrusted::quoted(&out.summary)),
                    details::incident_text(&out),
                    out.url.clone(),
                )
            }
            "service" => {
                let service = api
                    .get_service(id)
                    .await
                    .map_err(|e| explain(&e, &subject))?;
                let status = service.status.clone().unwrap_or_default();
                metadata.insert("status".into(), status.clone().into());
                let name = untrusted::inline_owned(service.name.clone().unwrap_or_default());
                let teams: Vec<crate::rules::render::Ref> = service
                    .teams
                    .iter()
                    .map(crate::tools::services::team_ref)
                    .collect();
                let owners: Vec<String> = teams
                    .iter()
                    .map(|t| format!("{} (id {})", t.name.as_deref().unwrap_or("?"), t.id))
                    .collect();
                metadata.insert("teams".into(), owners.into());
                let mut text = format!(
                    "Service {} (id {id}) is {}.",
                    untrusted::quoted(&name),
                    untrusted::inline(&status)
                );
                if !teams.is_empty() {
                    text.push_str(&format!(
                        " Owned by{}.",
                        crate::tools::services::owners_text(&teams).trim_start_matches(" ·")
                    ));
                }
                if let Some(d) = service.description.as_deref().filter(|d| !d.is_empty()) {
                    text.push_str(&format!(" Description: {}", untrusted::quoted(d)));
                }
                for i in service
                    .incidents
                    .iter()
                    .filter(|i| i.status.as_deref() != Some("RESOLVED"))
                {
                    text.push_str(&format!(
                        "\nOngoing incident #{} ({}): {}",
                        i.id,
                        untrusted::inline(i.status.as_deref().unwrap_or("?")),
                        untrusted::quoted(i.summary.as_deref().unwrap_or(""))
                    ));
                }
                (
                    format!("Service: {}", untrusted::quoted(&name)),
                    text,
                    object_url(app, "service", id),
                )
            }
            "schedule" => {
                let uri = format!("ilert://schedules/{id}");
                let text = details::schedule_text(api, id)
                    .await
                    .map_err(|e| details::unreadable(e, &uri))?;
                let title = format!("Schedule: {}", text.split(" (id").next().unwrap_or(""));
                (title, text, object_url(app, "schedule", id))
            }
            "policy" => {
                let policy = api
                    .get_escalation_policy(id)
                    .await
                    .map_err(|e| explain(&e, &subject))?;
                let out = crate::tools::people::policy_out(&policy);
                (
                    format!("Escalation policy: {}", untrusted::quoted(&out.name)),
                    crate::tools::people::policy_text(&out),
                    object_url(app, "policy", id),
                )
            }
            "user" => {
                let user = api.get_user(id).await.map_err(|e| explain(&e, &subject))?;
                let person = crate::tools::people::Person::from(&user);
                metadata.insert(
                    "role".into(),
                    person.role.clone().unwrap_or_default().into(),
                );
                (
                    format!("User: {}", untrusted::quoted(&person.name)),
                    crate::tools::people::person_line(&person),
                    object_url(app, "user", id),
                )
            }
            other => {
                return Err(format!(
                    "Unknown kind {other:?}; ids start with alert, incident, service, schedule, policy or user."
                ));
            }
        };
        Ok(FetchOutput {
            id: format!("{kind}:{id}"),
            title,
            text,
            url,
            metadata,
        })
    }
}

/// ilert app links for objects other than alerts and incidents.
fn object_url(app: &str, kind: &str, id: i64) -> String {
    let path = match kind {
        "service" => "service/view",
        "schedule" => "schedule/view",
        "policy" => "escalation-policy/view",
        _ => "user/view",
    };
    format!("{app}/{path}?id={id}")
}

/// Exactly one text item holding the JSON (what ChatGPT reads), mirrored in structuredContent.
fn one_json<T: Serialize>(value: &T) -> CallToolResult {
    let json = serde_json::to_value(value).unwrap_or_default();
    let mut result = CallToolResult::success(vec![ContentBlock::text(json.to_string())]);
    result.structured_content = Some(json);
    result
}

#[cfg(test)]
mod tests {
    #[test]
    fn plurals_find_their_singular() {
        for (word, want) in [
            ("payments", "payment"),
            ("policies", "policy"),
            ("checkout", "checkout"),
            ("boxes", "box"),
            ("pass", "pass"),
            ("bus", "bus"),
        ] {
            assert_eq!(super::stem(word), want, "{word}");
        }
    }
}
