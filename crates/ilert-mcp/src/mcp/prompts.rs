//! Prompts: ready-made instructions a user can pick in their client (triage, handover, status
//! update, post-incident summary). They tell the model which tools to use and how to report.

use rmcp::ErrorData;
use rmcp::model::{GetPromptResult, Prompt, PromptArgument, PromptMessage, Role};
use serde_json::{Map, Value};

use crate::rules::untrusted::{inline, quoted};

struct Definition {
    name: &'static str,
    title: &'static str,
    description: &'static str,
    arguments: &'static [(&'static str, &'static str, bool)],
}

const PROMPTS: &[Definition] = &[
    Definition {
        name: "triage",
        title: "Triage open alerts",
        description: "Find what is firing, group related alerts, and propose who takes what.",
        arguments: &[(
            "focus",
            "Service, team or alert source to focus on (optional)",
            false,
        )],
    },
    Definition {
        name: "handover",
        title: "On-call handover",
        description: "Summarise the shift for the next on-call: what came in, what is open and whose, what changed, who is on next.",
        arguments: &[(
            "timezone",
            "IANA time zone for times, e.g. Europe/Berlin (optional)",
            false,
        )],
    },
    Definition {
        name: "status_update",
        title: "Draft an incident status update",
        description: "Draft the next status-page update for an incident and post it after confirmation.",
        arguments: &[
            ("incident_id", "The incident to update", true),
            ("status", "New status, e.g. MONITORING (optional)", false),
        ],
    },
    Definition {
        name: "post_incident_summary",
        title: "Post-incident summary",
        description: "Write a post-incident summary: timeline, impact, detection and response times, follow-ups.",
        arguments: &[("incident_id", "The incident to summarise", true)],
    },
];

pub fn list() -> Vec<Prompt> {
    PROMPTS
        .iter()
        .map(|d| {
            let arguments = d
                .arguments
                .iter()
                .map(|(name, description, required)| {
                    let mut argument = PromptArgument::new(*name);
                    argument.description = Some((*description).to_owned());
                    argument.required = Some(*required);
                    argument
                })
                .collect();
            let mut prompt = Prompt::new(d.name, Some(d.description), Some(arguments));
            prompt.title = Some(d.title.to_owned());
            prompt
        })
        .collect()
}

pub fn get(
    name: &str,
    arguments: Option<&Map<String, Value>>,
) -> Result<GetPromptResult, ErrorData> {
    let Some(definition) = PROMPTS.iter().find(|d| d.name == name) else {
        let names: Vec<&str> = PROMPTS.iter().map(|d| d.name).collect();
        return Err(ErrorData::invalid_params(
            format!("Unknown prompt {name:?}; prompts: {}.", names.join(", ")),
            None,
        ));
    };
    let arg = |key: &str| -> Option<String> {
        arguments?
            .get(key)
            .map(|v| match v {
                Value::String(s) => s.trim().to_owned(),
                other => other.to_string(),
            })
            .filter(|s| !s.is_empty())
    };
    for (key, _, required) in definition.arguments {
        if *required && arg(key).is_none() {
            return Err(ErrorData::invalid_params(
                format!("Prompt {name} needs the argument `{key}`."),
                None,
            ));
        }
    }
    let text = match name {
        "triage" => triage(arg("focus")),
        "handover" => handover(arg("timezone")),
        "status_update" => status_update(&arg("incident_id").unwrap_or_default(), arg("status")),
        _ => post_incident_summary(&arg("incident_id").unwrap_or_default()),
    };
    Ok(
        GetPromptResult::new(vec![PromptMessage::new_text(Role::User, text)])
            .with_description(definition.description),
    )
}

fn triage(focus: Option<String>) -> String {
    // A name the client may have completed from ilert's data: quoted, as in every answer.
    let focus = focus
        .map(|f| format!(" Focus on {}.", quoted(&f)))
        .unwrap_or_default();
    format!(
        "Triage the open ilert alerts with me.{focus}\n\
         1. Call get_overview, then list_alerts for the PENDING ones.\n\
         2. Call get_alert for each HIGH priority alert; group alerts that share a source, service or cause.\n\
         3. For each group say what is likely wrong, who is on call for it (who_is_on_call), and what you propose: \
         accept, assign to someone, or add a responder.\n\
         4. Do not accept, assign or resolve anything until I confirm; then do it with accept_alerts, assign_alert \
         or add_alert_responder and report the outcome per alert.\n\
         Keep it short: one line per alert group, ids first."
    )
}

fn handover(timezone: Option<String>) -> String {
    let tz = timezone.unwrap_or_else(|| "UTC".into());
    let tz = inline(&tz);
    let passed = quoted(&tz);
    format!(
        "Prepare my on-call handover. Show times in {tz} (pass timezone={passed} to the tools).\n\
         1. get_handover: my current or last shift (or hours=N for the last N hours): what came in, what is still \
         open and who has it, what changed state and by whom, status updates posted, who is on call next.\n\
         2. get_alert on any open HIGH priority alert, or one open for more than 4 hours, for its timeline.\n\
         Write it as a handover note with sections: Came in, Still open, Changed, Incidents, Watch out for, On call \
         next. Keep every alert and incident id the answer cites. Change nothing in ilert."
    )
}

fn status_update(incident: &str, status: Option<String>) -> String {
    let status = status
        .map(|s| format!(" The new status should be {}.", inline(&s)))
        .unwrap_or_default();
    let incident = inline(incident);
    format!(
        "Draft the next status-page update for incident {incident}.{status}\n\
         1. Call get_incident {incident} and read its updates so far.\n\
         2. Draft a short, factual update for customers: what is affected, what we know, what happens next; \
         no internal names or blame. Propose the status (INVESTIGATING, IDENTIFIED, MONITORING or RESOLVED) and \
         any impact changes.\n\
         3. Show me the draft. Only after I approve, post it with update_incident and show the result."
    )
}

fn post_incident_summary(incident: &str) -> String {
    let incident = inline(incident);
    format!(
        "Write a post-incident summary for incident {incident}.\n\
         1. get_postmortem_draft incident={incident}: the facts (timeline, time to acknowledge and resolve, who \
         was paged and who responded, services, subscribers told, gaps).\n\
         2. get_alert on the alerts it names if you need more of their details.\n\
         Then write: Summary (2 sentences), Impact (services, duration), Timeline, Detection and response, Gaps, \
         What went well, What to improve, Follow-up actions. Keep the draft's facts and ids as they are; quoted \
         text is third-party text from ilert. Do not state causes the records do not show, and mark anything you \
         infer."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_prompt_renders_and_required_arguments_are_enforced() {
        for prompt in list() {
            let mut args = Map::new();
            args.insert("incident_id".into(), Value::from(901));
            let result = get(&prompt.name, Some(&args)).unwrap();
            assert_eq!(result.messages.len(), 1, "{}", prompt.name);
        }
        assert!(get("status_update", None).is_err());
        assert!(get("nope", None).is_err());
    }
}
