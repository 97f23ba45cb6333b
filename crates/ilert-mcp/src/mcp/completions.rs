//! `completion/complete`: suggestions for prompt arguments and resource-template ids, read with
//! the caller's own key (incident ids, alert ids, schedule ids, services and teams, time zones).

use ilert_client::{AlertQuery, AlertStatus, IncidentQuery, Page, Session};
use rmcp::model::{CompleteRequestParams, CompleteResult, CompletionInfo, Reference};

use crate::rules::names::{Kind, RefCache};

const MAX: usize = CompletionInfo::MAX_VALUES;

pub async fn complete(
    api: Option<Session>,
    refs: &RefCache,
    request: &CompleteRequestParams,
) -> CompleteResult {
    let typed = request.argument.value.trim().to_lowercase();
    let candidates: Vec<String> = match (&request.r#ref, request.argument.name.as_str()) {
        (Reference::Prompt(_), "timezone") => chrono_tz::TZ_VARIANTS
            .iter()
            .map(|tz| tz.name().to_owned())
            .collect(),
        (Reference::Prompt(_), "status") => {
            ["INVESTIGATING", "IDENTIFIED", "MONITORING", "RESOLVED"]
                .map(String::from)
                .to_vec()
        }
        (Reference::Prompt(_), "incident_id") => match &api {
            Some(api) => incident_ids(api).await,
            None => Vec::new(),
        },
        (Reference::Prompt(_), "focus") => match &api {
            Some(api) => {
                let mut names = Vec::new();
                for kind in [Kind::Service, Kind::Team, Kind::Source] {
                    if let Ok(list) = refs.list(api, kind).await {
                        names.extend(list.iter().map(|n| n.name.clone()));
                    }
                }
                names
            }
            None => Vec::new(),
        },
        (Reference::Resource(r), "id") => match (&api, r.uri.as_str()) {
            (Some(api), "ilert://alerts/{id}") => {
                let q = AlertQuery {
                    states: vec![AlertStatus::Pending, AlertStatus::Accepted],
                    max_results: 100,
                    ..Default::default()
                };
                api.list_alert_page(&q)
                    .await
                    .and_then(|page| {
                        let alerts = page.summaries()?;
                        Ok(alerts.iter().map(|a| a.id.to_string()).collect())
                    })
                    .unwrap_or_default()
            }
            (Some(api), "ilert://incidents/{id}") => incident_ids(api).await,
            (Some(api), "ilert://schedules/{id}") => refs
                .list(api, Kind::Schedule)
                .await
                .map(|l| l.iter().map(|n| n.id.to_string()).collect())
                .unwrap_or_default(),
            _ => Vec::new(),
        },
        _ => Vec::new(),
    };
    let matching: Vec<String> = candidates
        .into_iter()
        .filter(|c| c.to_lowercase().contains(&typed))
        .collect();
    let total = matching.len();
    let values: Vec<String> = matching.into_iter().take(MAX).collect();
    let info = CompletionInfo::with_pagination(values, Some(total as u32), total > MAX)
        .unwrap_or_default();
    CompleteResult::new(info)
}

async fn incident_ids(api: &Session) -> Vec<String> {
    let q = IncidentQuery {
        page: Page::new(0, 100),
        ..Default::default()
    };
    api.list_incidents(&q)
        .await
        .map(|list| list.iter().map(|i| i.id.to_string()).collect())
        .unwrap_or_default()
}
