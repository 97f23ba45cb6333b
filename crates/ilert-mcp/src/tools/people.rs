//! People toolset: `get_current_user`, `find_users`, `list_teams`, `list_escalation_policies`,
//! `get_escalation_policy` (`/users*`, `/teams`, `/escalation-policies*`).

use crate::rules::untrusted;
use ilert_client::{EscalationPolicy, Page};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, Extensions};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::rules::names::Kind;
use crate::rules::render::Ref;
use crate::rules::toolbox::Toolbox;
use crate::rules::{check, ilert, input_schema, output_schema, session, structured};

/// No arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

/// An ilert user.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Person {
    pub id: i64,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// STAKEHOLDER, GUEST, RESPONDER, USER or ADMIN; stakeholders and guests can only read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// IANA time zone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
}

impl From<&ilert_client::User> for Person {
    fn from(u: &ilert_client::User) -> Self {
        Self {
            id: u.id,
            name: untrusted::inline_owned(u.display_name()),
            email: u.email.clone(),
            role: u.role.clone(),
            timezone: u.timezone.clone(),
        }
    }
}

pub(crate) fn person_line(p: &Person) -> String {
    format!(
        "{} (id {}) · {} · {} · {}",
        untrusted::quoted(&p.name),
        p.id,
        p.role.as_deref().unwrap_or("?"),
        p.email.as_deref().unwrap_or("no e-mail"),
        p.timezone.as_deref().unwrap_or("no time zone")
    )
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FindUsersParams {
    /// Name, part of one, or e-mail; empty: all (up to 100).
    #[serde(default)]
    pub query: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct UsersOutput {
    pub users: Vec<Person>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct TeamsOutput {
    pub teams: Vec<TeamOut>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct TeamOut {
    pub id: i64,
    pub name: String,
    /// Members as "Name (ROLE)".
    pub members: Vec<String>,
    /// The members as the text shows them, names quoted.
    #[serde(skip)]
    shown: Vec<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct PoliciesOutput {
    pub policies: Vec<PolicyOut>,
}

/// An escalation policy: who is notified, level by level.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PolicyOut {
    pub id: i64,
    pub name: String,
    /// Events with this routing key use the policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub routing_key: Option<String>,
    pub levels: Vec<LevelOut>,
    /// Whether escalation starts over after the last level.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repeating: Option<bool>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct LevelOut {
    /// 1-based.
    pub level: usize,
    /// Minutes before the next level is notified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub escalate_after_minutes: Option<i64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<Ref>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub schedules: Vec<Ref>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub teams: Vec<Ref>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyParams {
    /// Escalation policy id or name, e.g. "Checkout on-call".
    pub policy: String,
}

pub fn policy_out(p: &EscalationPolicy) -> PolicyOut {
    let levels = p
        .escalation_rules
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut users: Vec<Ref> = r
                .users
                .iter()
                .map(|u| Ref {
                    id: u.id,
                    name: Some(untrusted::inline_owned(u.display_name())),
                })
                .collect();
            users.extend(r.user.iter().map(|u| Ref {
                id: u.id,
                name: Some(untrusted::inline_owned(u.display_name())),
            }));
            let mut schedules: Vec<Ref> = r.schedules.iter().map(Ref::from).collect();
            schedules.extend(r.schedule.iter().map(Ref::from));
            LevelOut {
                level: i + 1,
                escalate_after_minutes: r.escalation_timeout,
                users,
                schedules,
                teams: r
                    .teams
                    .iter()
                    .map(|t| Ref {
                        id: t.id,
                        name: t.name.clone().map(untrusted::inline_owned),
                    })
                    .collect(),
            }
        })
        .collect();
    PolicyOut {
        id: p.id,
        name: untrusted::inline_owned(p.name.clone().unwrap_or_default()),
        routing_key: p.routing_key.clone(),
        levels,
        repeating: p.repeating,
    }
}

pub(crate) fn policy_text(p: &PolicyOut) -> String {
    let mut text = format!("{} (id {})", untrusted::quoted(&p.name), p.id);
    let name = |r: &Ref| {
        r.name
            .as_deref()
            .map_or_else(|| r.id.to_string(), untrusted::quoted)
    };
    for (i, level) in p.levels.iter().enumerate() {
        // Users by name; schedules and teams say what they are (a team reads like a schedule).
        let names: Vec<String> = level
            .users
            .iter()
            .map(name)
            .chain(
                level
                    .schedules
                    .iter()
                    .map(|r| format!("schedule {}", name(r))),
            )
            .chain(level.teams.iter().map(|r| format!("team {}", name(r))))
            .collect();
        let last = i + 1 == p.levels.len();
        let after = match (level.escalate_after_minutes, last, p.repeating) {
            (Some(m), false, _) => format!(", escalates after {m} min"),
            (Some(m), true, Some(true)) => format!(", then level 1 again after {m} min"),
            (None, true, Some(true)) => ", then level 1 again".to_owned(),
            (_, true, _) => ", the last level: nobody after it".to_owned(),
            (None, false, _) => String::new(),
        };
        text.push_str(&format!(
            "\n  level {}: {}{after}",
            level.level,
            names.join(", ")
        ));
    }
    text
}

#[tool_router(router = people_router, vis = "pub(crate)")]
impl Toolbox {
    /// Who am I: the user behind the API key, with role and time zone.
    #[tool(
        title = "Get current user",
        input_schema = input_schema::<NoParams>(),
        output_schema = output_schema::<Person>(),
        annotations(title = "Get current user", read_only_hint = true, destructive_hint = false,
                    idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn get_current_user(
        &self,
        Parameters(NoParams {}): Parameters<NoParams>,
        ext: Extensions,
    ) -> CallToolResult {
        let api = session!(self, ext);
        let user = ilert!(api.current_user(), "your user");
        let person = Person::from(&user);
        let text = person_line(&person);
        structured(&person, text)
    }

    /// Find users by name or e-mail (id, role, e-mail, time zone).
    #[tool(
        title = "Find users",
        input_schema = input_schema::<FindUsersParams>(),
        output_schema = output_schema::<UsersOutput>(),
        annotations(title = "Find users", read_only_hint = true, destructive_hint = false,
                    idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn find_users(
        &self,
        Parameters(p): Parameters<FindUsersParams>,
        ext: Extensions,
    ) -> CallToolResult {
        let api = session!(self, ext);
        let query = p.query.trim().to_lowercase();
        let users = if query.contains('@') {
            match api.find_user_by_email(&query).await {
                Ok(user) => vec![user],
                Err(ilert_client::ApiError::NotFound { .. }) => Vec::new(),
                Err(e) => {
                    return crate::rules::failure(crate::rules::explain(&e, "the user search"));
                }
            }
        } else {
            let all = ilert!(api.list_users(Page::new(0, 100)), "the user list");
            let words: Vec<&str> = query.split_whitespace().collect();
            all.into_iter()
                .filter(|u| {
                    let hay = format!(
                        "{} {}",
                        untrusted::inline_owned(u.display_name()),
                        u.email.as_deref().unwrap_or("")
                    )
                    .to_lowercase();
                    words.iter().all(|w| hay.contains(w))
                })
                .collect()
        };
        let people: Vec<Person> = users.iter().map(Person::from).collect();
        let text = if people.is_empty() {
            format!("No ilert user matches \"{}\".", p.query)
        } else {
            people
                .iter()
                .map(person_line)
                .collect::<Vec<_>>()
                .join("\n")
        };
        structured(&UsersOutput { users: people }, text)
    }

    /// List teams with their members and each member's role.
    #[tool(
        title = "List teams",
        input_schema = input_schema::<NoParams>(),
        output_schema = output_schema::<TeamsOutput>(),
        annotations(title = "List teams", read_only_hint = true, destructive_hint = false,
                    idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn list_teams(
        &self,
        Parameters(NoParams {}): Parameters<NoParams>,
        ext: Extensions,
    ) -> CallToolResult {
        let api = session!(self, ext);
        let teams = ilert!(api.list_teams(Page::new(0, 100)), "the team list");
        let teams: Vec<TeamOut> = teams
            .iter()
            .map(|t| {
                let members: Vec<(String, &str)> = t
                    .members
                    .iter()
                    .filter_map(|m| {
                        Some((
                            untrusted::inline_owned(m.user.as_ref()?.display_name()),
                            m.role.as_deref().unwrap_or("?"),
                        ))
                    })
                    .collect();
                TeamOut {
                    id: t.id,
                    name: untrusted::inline_owned(t.name.clone().unwrap_or_default()),
                    shown: members
                        .iter()
                        .map(|(name, role)| format!("{} ({role})", untrusted::quoted(name)))
                        .collect(),
                    members: members
                        .into_iter()
                        .map(|(name, role)| format!("{name} ({role})"))
                        .collect(),
                }
            })
            .collect();
        let text = crate::rules::lines_or(
            &teams,
            |t| {
                format!(
                    "{} (id {}): {}",
                    untrusted::quoted(&t.name),
                    t.id,
                    t.shown.join(", ")
                )
            },
            "No teams.",
        );
        structured(&TeamsOutput { teams }, text)
    }

    /// List escalation policies with their levels: who is notified first and after how long.
    #[tool(
        title = "List escalation policies",
        input_schema = input_schema::<NoParams>(),
        output_schema = output_schema::<PoliciesOutput>(),
        annotations(title = "List escalation policies", read_only_hint = true, destructive_hint = false,
                    idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn list_escalation_policies(
        &self,
        Parameters(NoParams {}): Parameters<NoParams>,
        ext: Extensions,
    ) -> CallToolResult {
        let api = session!(self, ext);
        let policies = ilert!(
            api.list_escalation_policies(Page::new(0, 50)),
            "the escalation policy list"
        );
        let policies: Vec<PolicyOut> = policies.iter().map(policy_out).collect();
        let text = crate::rules::lines_or(&policies, policy_text, "No escalation policies.");
        structured(&PoliciesOutput { policies }, text)
    }

    /// One escalation policy by id or name, level by level.
    #[tool(
        title = "Get escalation policy",
        input_schema = input_schema::<PolicyParams>(),
        output_schema = output_schema::<PolicyOut>(),
        annotations(title = "Get escalation policy", read_only_hint = true, destructive_hint = false,
                    idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn get_escalation_policy(
        &self,
        Parameters(p): Parameters<PolicyParams>,
        ext: Extensions,
    ) -> CallToolResult {
        let api = session!(self, ext);
        let found = check!(self.refs.resolve(&api, Kind::Policy, &p.policy).await);
        let policy = ilert!(
            api.get_escalation_policy(found.id),
            format!("escalation policy {}", found.id)
        );
        let out = policy_out(&policy);
        let text = policy_text(&out);
        structured(&out, text)
    }
}
