//! Resource templates: `ilert://alerts/{id}`, `ilert://incidents/{id}`, `ilert://schedules/{id}`,
//! read with the caller's own key and rendered as the matching tool would.

use ilert_client::{AlertInclude, ApiError, Session};
use rmcp::ErrorData;
use rmcp::model::{ReadResourceResult, ResourceContents, ResourceTemplate};

use crate::rules::details;

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
            details::detail_text(&details::alert_detail(&alert, app_url))
        }
        "incidents" => {
            let incident = api.get_incident(id).await.map_err(|e| upstream(e, uri))?;
            details::incident_text(&details::incident_out(&incident.value, app_url))
        }
        _ => details::schedule_text(api, id)
            .await
            .map_err(|e| upstream(e, uri))?,
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
    let missing = matches!(error, ApiError::NotFound { .. });
    let message = details::unreadable(error, uri);
    if missing {
        resource_not_found(message, uri)
    } else {
        ErrorData::internal_error(message, None)
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
