//! Reference data (users, policies, schedules, services, sources, teams) cached per API key for a
//! minute, and resolution of what a model says ("Priya", "jonas@acme.com", "Checkout on-call",
//! "4711") to ilert ids. Entries are keyed by the SHA-256 of the caller's key, so one caller's data
//! is never served to another.

use crate::rules::untrusted;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ilert_client::{ApiError, Page, Session};
use sha2::{Digest, Sha256};

use crate::rules::explain;

const TTL: Duration = Duration::from_secs(60);
const MAX_ENTRIES: usize = 4_096;
/// Pages fetched per list (ilert pages of 20 to 100): enough for lookups in large accounts
/// without draining the 120-a-minute budget.
const MAX_PAGES: u32 = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    User,
    Policy,
    Schedule,
    Service,
    Source,
    Team,
}

impl Kind {
    pub fn plural(self) -> &'static str {
        match self {
            Self::Policy => "escalation policies",
            Self::User => "users",
            Self::Schedule => "schedules",
            Self::Service => "services",
            Self::Source => "alert sources",
            Self::Team => "teams",
        }
    }

    pub fn noun(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Policy => "escalation policy",
            Self::Schedule => "schedule",
            Self::Service => "service",
            Self::Source => "alert source",
            Self::Team => "team",
        }
    }

    fn list_tool(self) -> &'static str {
        match self {
            Self::User => "find_users",
            Self::Policy => "list_escalation_policies",
            Self::Schedule => "list_schedules",
            Self::Service => "list_services",
            Self::Source => "list_alert_sources",
            Self::Team => "list_teams",
        }
    }
}

/// Just enough of an object to find it by name and show it.
#[derive(Debug, Clone, PartialEq)]
pub struct Named {
    pub id: i64,
    pub name: String,
    /// E-mail for users; integration type for sources; time zone for schedules.
    pub detail: Option<String>,
    /// The escalation policy of an alert source or the team of a policy, where known.
    pub policy_id: Option<i64>,
}

/// Key digest and kind → when fetched, and the list.
type Entries = HashMap<([u8; 32], Kind), (Instant, Arc<Vec<Named>>)>;

#[derive(Default)]
pub struct RefCache {
    entries: Mutex<Entries>,
}

impl RefCache {
    /// The caller's list of `kind`, from cache or ilert.
    pub async fn list(&self, api: &Session, kind: Kind) -> Result<Arc<Vec<Named>>, ApiError> {
        let digest: [u8; 32] = Sha256::digest(api.key().expose().as_bytes()).into();
        if let Ok(entries) = self.entries.lock()
            && let Some((at, list)) = entries.get(&(digest, kind))
            && at.elapsed() < TTL
        {
            return Ok(list.clone());
        }
        let list = Arc::new(fetch(api, kind).await?);
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_ENTRIES {
                entries.retain(|_, (at, _)| at.elapsed() < TTL);
            }
            if entries.len() < MAX_ENTRIES {
                entries.insert((digest, kind), (Instant::now(), list.clone()));
            }
        }
        Ok(list)
    }

    /// Resolves `query` (an id, an e-mail for users, or a name) to one object, or says precisely
    /// why not: nothing matches (with suggestions) or several do (with their ids).
    pub async fn resolve(&self, api: &Session, kind: Kind, query: &str) -> Result<Named, String> {
        let query = query.trim().trim_start_matches('#');
        if query.is_empty() {
            return Err(format!("The {} to look up is empty.", kind.noun()));
        }
        if kind == Kind::User && is_me(query) {
            return api
                .current_user()
                .await
                .map(|me| Named {
                    id: me.id,
                    name: untrusted::inline_owned(me.display_name()),
                    detail: me.email,
                    policy_id: None,
                })
                .map_err(|e| explain(&e, "your user"));
        }
        let list = self
            .list(api, kind)
            .await
            .map_err(|e| explain(&e, &format!("the {} list", kind.noun())))?;
        if let Ok(id) = query.parse::<i64>() {
            return Ok(list.iter().find(|n| n.id == id).cloned().unwrap_or(Named {
                id,
                name: format!("{} {id}", kind.noun()),
                detail: None,
                policy_id: None,
            }));
        }
        if kind == Kind::User && query.contains('@') {
            if let Some(found) = list.iter().find(|n| {
                n.detail
                    .as_deref()
                    .is_some_and(|e| e.eq_ignore_ascii_case(query))
            }) {
                return Ok(found.clone());
            }
            return match api.find_user_by_email(query).await {
                Ok(user) => Ok(Named {
                    id: user.id,
                    name: untrusted::inline_owned(user.display_name()),
                    detail: user.email,
                    policy_id: None,
                }),
                Err(ApiError::NotFound { .. }) => {
                    Err(format!("No ilert user has the e-mail {query}."))
                }
                Err(e) => Err(explain(&e, &format!("the user {query}"))),
            };
        }
        pick(kind, query, &list)
    }
}

/// "me", "myself", "I": the key's owner, never a user whose name contains "me".
pub fn is_me(query: &str) -> bool {
    ["me", "myself", "i", "@me"]
        .iter()
        .any(|m| query.trim().eq_ignore_ascii_case(m))
}

/// `"Jonas Weber" (id 7)`: how an answer names what a name resolved to (the name is third-party
/// text, so it is quoted).
pub fn resolved(n: &Named) -> String {
    format!("{} (id {})", untrusted::quoted(&n.name), n.id)
}

/// `user "me" is Jonas Weber (id 7)`: the line an answer carries for each name it resolved, so a
/// wrong match is visible; `None` when the caller gave the id itself.
pub fn note(kind: Kind, query: &str, n: &Named) -> Option<String> {
    (query.trim().trim_start_matches('#') != n.id.to_string())
        .then(|| format!("{} {query:?} is {}", kind.noun(), resolved(n)))
}

/// One way of matching a name, from strictest to loosest.
type Tier<'a> = Box<dyn Fn(&Named) -> bool + 'a>;

/// Exact (case-insensitive) name first, then names containing every word of the query.
fn pick(kind: Kind, query: &str, list: &[Named]) -> Result<Named, String> {
    let q = query.to_lowercase();
    let words: Vec<&str> = q.split_whitespace().collect();
    let name_words = |n: &Named| -> Vec<String> {
        n.name
            .to_lowercase()
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect()
    };
    // Tiers: the exact name; names containing every query word as a whole word ("Ana" is Ana
    // Souza, not Yuki Tanaka); names or details containing every word anywhere.
    let tiers: [Tier<'_>; 3] = [
        Box::new(|n: &Named| n.name.to_lowercase() == q),
        Box::new(|n: &Named| {
            let have = name_words(n);
            words.iter().all(|w| have.iter().any(|h| h == w))
        }),
        Box::new(|n: &Named| {
            let hay = format!("{} {}", n.name, n.detail.as_deref().unwrap_or("")).to_lowercase();
            words.iter().all(|w| hay.contains(w))
        }),
    ];
    let candidates: Vec<&Named> = tiers
        .iter()
        .map(|tier| list.iter().filter(|n| tier(n)).collect::<Vec<_>>())
        .find(|c| !c.is_empty())
        .unwrap_or_default();
    match candidates.as_slice() {
        [one] => Ok((*one).clone()),
        [] => {
            // A short hint, not the directory: names only.
            let mut known: Vec<String> = list.iter().take(6).map(resolved).collect();
            if list.len() > known.len() {
                known.push(format!("and {} more", list.len() - known.len()));
            }
            Err(format!(
                "No {} matches \"{query}\". {}{}",
                kind.noun(),
                if known.is_empty() {
                    String::new()
                } else {
                    format!("Known: {}. ", known.join("; "))
                },
                format_args!("Use an id, or {} to search.", kind.list_tool())
            ))
        }
        many => {
            let mut listed: Vec<String> = many.iter().take(10).map(|n| describe(n)).collect();
            if many.len() > listed.len() {
                listed.push(format!("and {} more", many.len() - listed.len()));
            }
            Err(format!(
                "\"{query}\" matches {} {}: {}. Ask the user which one, then pass its id.",
                many.len(),
                kind.plural(),
                listed.join("; ")
            ))
        }
    }
}

fn describe(n: &Named) -> String {
    match &n.detail {
        Some(detail) => format!(
            "{} (id {}, {})",
            untrusted::quoted(&n.name),
            n.id,
            untrusted::inline(detail)
        ),
        None => resolved(n),
    }
}

async fn fetch(api: &Session, kind: Kind) -> Result<Vec<Named>, ApiError> {
    let mut all = Vec::new();
    let size = match kind {
        Kind::Schedule => 20,
        Kind::Policy | Kind::Source => 50,
        _ => 100,
    };
    for page in 0..MAX_PAGES {
        let page = Page::new(page * size, size);
        let batch: Vec<Named> = match kind {
            Kind::User => api
                .list_users(page)
                .await?
                .into_iter()
                .map(|u| Named {
                    id: u.id,
                    name: untrusted::inline_owned(u.display_name()),
                    detail: u.email.clone(),
                    policy_id: None,
                })
                .collect(),
            Kind::Policy => api
                .list_escalation_policies(page)
                .await?
                .into_iter()
                .map(|p| Named {
                    id: p.id,
                    name: untrusted::inline_owned(p.name.unwrap_or_default()),
                    detail: p.routing_key,
                    policy_id: Some(p.id),
                })
                .collect(),
            Kind::Schedule => api
                .list_schedules(page)
                .await?
                .into_iter()
                .map(|s| Named {
                    id: s.id,
                    name: untrusted::inline_owned(s.name.unwrap_or_default()),
                    detail: s.timezone,
                    policy_id: None,
                })
                .collect(),
            Kind::Service => api
                .list_services(page, false)
                .await?
                .into_iter()
                .map(|s| Named {
                    id: s.id,
                    name: untrusted::inline_owned(s.name.unwrap_or_default()),
                    detail: s.alias,
                    policy_id: None,
                })
                .collect(),
            Kind::Source => api
                .list_alert_sources(page)
                .await?
                .into_iter()
                .map(|s| Named {
                    id: s.id,
                    name: untrusted::inline_owned(s.name.unwrap_or_default()),
                    detail: s.integration_type,
                    policy_id: s.escalation_policy.map(|p| p.id),
                })
                .collect(),
            Kind::Team => api
                .list_teams(page)
                .await?
                .into_iter()
                .map(|t| Named {
                    id: t.id,
                    name: untrusted::inline_owned(t.name.unwrap_or_default()),
                    detail: None,
                    policy_id: None,
                })
                .collect(),
        };
        let full = batch.len() as u32 == size;
        all.extend(batch);
        if !full {
            break;
        }
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(id: i64, name: &str, detail: &str) -> Named {
        Named {
            id,
            name: name.into(),
            detail: Some(detail.into()),
            policy_id: None,
        }
    }

    #[test]
    fn exact_names_win_then_all_words_must_match() {
        let list = vec![
            n(1, "Priya Nair", "priya@x"),
            n(2, "Priya Sharma", "ps@x"),
            n(3, "Jonas Weber", "j@x"),
        ];
        assert_eq!(pick(Kind::User, "jonas", &list).unwrap().id, 3);
        assert_eq!(pick(Kind::User, "priya nair", &list).unwrap().id, 1);
        let ambiguous = pick(Kind::User, "priya", &list).unwrap_err();
        assert!(
            ambiguous.contains("matches 2 users")
                && ambiguous.contains("id 1")
                && ambiguous.contains("id 2"),
            "{ambiguous}"
        );
        // Cut lists say how many were left out.
        let many: Vec<Named> = (1..=14).map(|i| n(i, &format!("Sam {i}"), "s@x")).collect();
        let cut = pick(Kind::User, "sam", &many).unwrap_err();
        assert!(
            cut.contains("matches 14 users") && cut.contains("and 4 more"),
            "{cut}"
        );
        let unknown = pick(Kind::User, "zed", &many).unwrap_err();
        assert!(unknown.contains("and 8 more"), "{unknown}");
        let none = pick(Kind::User, "zed", &list).unwrap_err();
        assert!(
            none.contains("No user matches") && none.contains("\"Jonas Weber\" (id 3"),
            "{none}"
        );
    }
}
