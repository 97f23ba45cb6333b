//! Optional (`--attribute-actions`, off by default): a write done on alerts through ilert-mcp is
//! also noted in ilert's own alert timeline, as a comment "via ilert-mcp from <client>". ilert's API
//! takes comments only as COMMENT events through the alert source's integration key, so this works
//! for alerts that have an alert key and whose source's key the caller may see; otherwise nothing
//! is noted (the audit log has the event either way).

use ilert_client::{Event, EventComment, Session};
use serde_json::Value;

/// Tools whose targets are alert ids. (`comment_on_alert` leaves its own comment.)
const ALERT_TOOLS: [&str; 5] = [
    "accept_alerts",
    "resolve_alerts",
    "assign_alert",
    "add_alert_responder",
    "run_alert_action",
];
/// At most this many alerts are noted per call: each costs three ilert requests.
const MAX_ALERTS: usize = 10;

/// Notes `tool`'s action on the alerts in `targets`, in the background: the call has answered
/// already and a failure here changes nothing about it.
pub fn note(api: Session, tool: &str, targets: &[Value], client: Option<&str>) {
    if !ALERT_TOOLS.contains(&tool) {
        return;
    }
    let ids: Vec<i64> = targets
        .iter()
        .filter_map(|t| t.as_i64().or_else(|| t.as_str()?.parse().ok()))
        .take(MAX_ALERTS)
        .collect();
    let text = format!(
        "via ilert-mcp from {} ({tool})",
        client.unwrap_or("an MCP client")
    );
    tokio::spawn(async move {
        for id in ids {
            if let Err(why) = comment(&api, id, &text).await {
                tracing::debug!(
                    alert = id,
                    why,
                    "could not note the action in the alert's timeline"
                );
            }
        }
    });
}

async fn comment(api: &Session, id: i64, text: &str) -> Result<(), &'static str> {
    let alert = api.get_alert(id, &[]).await.map_err(|_| "no alert")?;
    let alert_key = alert
        .alert_key
        .clone()
        .filter(|k| !k.is_empty())
        .ok_or("no alert key")?;
    let source = alert.alert_source.as_ref().ok_or("no alert source")?;
    let key = api
        .get_alert_source(source.id)
        .await
        .ok()
        .and_then(|s| s.integration_key)
        .filter(|k| !k.is_empty())
        .ok_or("the integration key is not visible")?;
    let event = Event {
        integration_key: key,
        event_type: "COMMENT".into(),
        summary: alert.summary.clone().unwrap_or_default(),
        alert_key: Some(alert_key),
        comments: vec![EventComment {
            creator: "ilert-mcp".into(),
            content: text.to_owned(),
        }],
        ..Default::default()
    };
    api.send_event(&event)
        .await
        .map(|_receipt| ())
        .map_err(|_| "ilert refused the event")
}
