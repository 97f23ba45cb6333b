//! Resource templates: `ilert://alerts/{id}`, `ilert://incidents/{id}`, `ilert://schedules/{id}`,
//! read with the caller's own key and rendered as the matching tool would.

use chrono::{Duration, Utc};
use ilert_client::{AlertInclude, ApiError, Session};
use rmcp::ErrorData;
use rmcp::model::{ReadResourceResult, ResourceContents, ResourceTemplate};

use crate::rules::times::{self, show_raw};

pub fn templates() -> Vec<ResourceTemplate> {
    vec![
        ResourceTemplate::new("ilert://alerts/{id}", "alert")
            .with_title("ilert alert")
            .with_description("One alert: status, responders, escalation, details")
            .with_mime_type("text/plain"),
        ResourceTemplate::new("ilert://incidents/{id}", "incident")
            .with_title("ilert incident")
            .with_description("One status-page incident with its updates")
            .with_mime_type("text/plain"),
        ResourceTemplate::new("ilert://schedules/{id}", "schedule")
            .with_title("ilert on-call schedule")
            .with_description("A schedule and its shifts for the next 7 days")
            .with_mime_type("text/plain"),
    ]
}

/// Reads `uri` for the session's user.
pub async fn read(
    api: &Session,
    app_url: &str,
    uri: &str,
) -> Result<ReadResourceResult, ErrorData> {
    let (kind, id) = parse(uri)?;
    let text = match kind {
        "alerts" => {
            let alert = api
                .get_alert(id, &[AlertInclude::NextEscalationUser])
                .await
                .map_err(|e| upstream(e, uri))?;
            crate::tools::alerts::detail_text(&crate::tools::alerts::alert_detail(&alert, app_url))
        }
        "incidents" => {
            let incident = api.get_incident(id).await.map_err(|e| upstream(e, uri))?;
            crate::tools::incidents::incident_text(&crate::tools::incidents::incident_out(
                &incident.value,
                app_url,
            ))
        }
        _ => schedule_text(api, id).await.map_err(|e| upstream(e, uri))?,
    };
    Ok(ReadResourceResult::new(vec![ResourceContents::text(
        text, uri,
    )]))
}

fn parse(uri: &str) -> Result<(&str, i64), ErrorData> {
    let rest = uri.strip_prefix("ilert://").ok_or_else(|| not_found(uri))?;
    let (kind, id) = rest.split_once('/').ok_or_else(|| not_found(uri))?;
    if !matches!(kind, "alerts" | "incidents" | "schedules") {
        return Err(not_found(uri));
    }
    let id = id.trim_end_matches('/').parse::<i64>().map_err(|_| {
        ErrorData::invalid_params(
            format!("{uri}: the id must be a number, e.g. ilert://{kind}/4711"),
            None,
        )
    })?;
    Ok((kind, id))
}

async fn schedule_text(api: &Session, id: i64) -> Result<String, ApiError> {
    let schedule = api.get_schedule(id).await?;
    let tz = schedule
        .timezone
        .as_deref()
        .and_then(|t| t.parse().ok())
        .unwrap_or(chrono_tz::Tz::UTC);
    let now = Utc::now();
    let shifts = api
        .schedule_shifts(id, &times::wire(now), &times::wire(now + Duration::days(7)))
        .await?;
    let mut text = format!(
        "{} (id {id}), time zone {}, next 7 days:",
        schedule.name.unwrap_or_default(),
        tz.name()
    );
    for s in shifts {
        text.push_str(&format!(
            "\n{} → {}: {}",
            show_raw(s.start.as_deref(), tz).unwrap_or_default(),
            show_raw(s.end.as_deref(), tz).unwrap_or_default(),
            s.user
                .map(|u| u.display_name())
                .unwrap_or_else(|| "nobody".into())
        ));
    }
    Ok(text)
}

fn not_found(uri: &str) -> ErrorData {
    resource_not_found(
        format!(
            "{uri} is not an ilert resource; use ilert://alerts/{{id}}, ilert://incidents/{{id}} or ilert://schedules/{{id}}"
        ),
        uri,
    )
}

/// -32002 with the URI in `data`, as the spec asks.
fn resource_not_found(message: String, uri: &str) -> ErrorData {
    ErrorData::resource_not_found(message, Some(serde_json::json!({ "uri": uri })))
}

fn upstream(error: ApiError, uri: &str) -> ErrorData {
    match error {
        ApiError::NotFound { .. } => resource_not_found(
            format!("{uri} does not exist or is not visible to you"),
            uri,
        ),
        other => ErrorData::internal_error(crate::rules::explain(&other, uri), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_parse_or_explain() {
        assert_eq!(parse("ilert://alerts/4711").unwrap(), ("alerts", 4711));
        assert_eq!(parse("ilert://schedules/88/").unwrap(), ("schedules", 88));
        assert!(
            parse("ilert://alerts/abc")
                .unwrap_err()
                .message
                .contains("must be a number")
        );
        assert!(parse("https://example.com/x").is_err());
        assert!(parse("ilert://users/1").is_err());
    }
}
