//! Consent per toolset: what an OAuth grant allows, group by group, and the scope names that carry
//! it (`ilert:alerts:read`, `ilert:alerts:write`, ...). The old `ilert:read` and `ilert:write` mean
//! every group. Which group a tool belongs to follows its toolset (and, for writes, its own
//! `readOnlyHint`): one map here, checked by a test to cover every toolset.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A consent group: what the sign-in page offers as one checkbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    Alerts,
    Incidents,
    Oncall,
    Config,
}

impl Group {
    pub const ALL: [Group; 4] = [
        Group::Alerts,
        Group::Incidents,
        Group::Oncall,
        Group::Config,
    ];

    /// The name in scopes and form fields.
    pub fn name(self) -> &'static str {
        match self {
            Group::Alerts => "alerts",
            Group::Incidents => "incidents",
            Group::Oncall => "oncall",
            Group::Config => "config",
        }
    }

    /// The heading on the sign-in page.
    pub fn label(self) -> &'static str {
        match self {
            Group::Alerts => "Alerts",
            Group::Incidents => "Incidents and status",
            Group::Oncall => "On-call and overrides",
            Group::Config => "Configuration",
        }
    }

    /// What it covers, for the sign-in page.
    pub fn covers(self) -> &'static str {
        match self {
            Group::Alerts => {
                "alerts, their metrics and events: accept, resolve, assign, comment, raise"
            }
            Group::Incidents => {
                "incidents, services, status pages, maintenance windows: post updates, plan maintenance"
            }
            Group::Oncall => "who is on call, schedules and shifts: put someone on call",
            Group::Config => "users, teams, escalation policies, alert sources, heartbeat monitors",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// How far a grant goes in one group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Access {
    #[default]
    None,
    Read,
    Write,
}

/// The groups a tool of `toolset` needs. A tool that reads across groups (the overview, ChatGPT's
/// search and fetch) needs all the groups it shows; a toolset this map does not know needs every
/// group, so a new toolset is never reachable by accident.
pub fn groups_of(toolset: &str, tool: &str) -> &'static [Group] {
    const ALERTS: &[Group] = &[Group::Alerts];
    const INCIDENTS: &[Group] = &[Group::Incidents];
    const ONCALL: &[Group] = &[Group::Oncall];
    const CONFIG: &[Group] = &[Group::Config];
    match (toolset, tool) {
        ("alerts" | "reports", _) => ALERTS,
        // Events raise, accept and resolve alerts: that is alert work, not configuration.
        ("sources", "send_event") => ALERTS,
        ("sources" | "people", _) => CONFIG,
        ("incidents" | "services", _) => INCIDENTS,
        ("oncall", _) => ONCALL,
        ("overview", _) => &[Group::Alerts, Group::Incidents, Group::Oncall],
        _ => &Group::ALL,
    }
}

/// What a grant allows, per group. Serialised as its scope string; the tokens of older versions
/// (`"read"`, `"write"`) still open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scope([Access; 4]);

#[allow(non_upper_case_globals)]
impl Scope {
    /// Every group, read only (`ilert:read`).
    pub const Read: Scope = Scope([Access::Read; 4]);
    /// Every group, read and write (`ilert:read ilert:write`).
    pub const Write: Scope = Scope([Access::Write; 4]);
    /// Nothing at all.
    pub const NONE: Scope = Scope([Access::None; 4]);

    pub fn get(&self, group: Group) -> Access {
        self.0.get(group.index()).copied().unwrap_or_default()
    }

    pub fn set(&mut self, group: Group, access: Access) {
        if let Some(slot) = self.0.get_mut(group.index()) {
            *slot = access;
        }
    }

    /// From a `scope` string as clients send it. `ilert:write` and `ilert:G:write` imply the
    /// matching read; unknown words (`offline_access`, `openid`) are ignored. Nothing known at all
    /// means the default: read everything.
    pub fn parse(raw: Option<&str>) -> Self {
        let parsed = Self::parse_strict(raw.unwrap_or(""));
        if parsed == Self::NONE {
            Self::Read
        } else {
            parsed
        }
    }

    /// As [`Scope::parse`], but nothing known is nothing granted.
    pub fn parse_strict(raw: &str) -> Self {
        let mut scope = Self::NONE;
        for word in raw.split_whitespace() {
            let Some(rest) = word.strip_prefix("ilert:") else {
                continue;
            };
            let (groups, access): (&[Group], Access) = match rest.split_once(':') {
                None => match rest {
                    "read" => (&Group::ALL, Access::Read),
                    "write" => (&Group::ALL, Access::Write),
                    _ => continue,
                },
                Some((group, level)) => {
                    let Some(group) = Group::ALL.iter().find(|g| g.name() == group) else {
                        continue;
                    };
                    let access = match level {
                        "read" => Access::Read,
                        "write" => Access::Write,
                        _ => continue,
                    };
                    (std::slice::from_ref(group), access)
                }
            };
            for group in groups {
                let now = scope.get(*group);
                scope.set(*group, now.max(access));
            }
        }
        scope
    }

    /// The scope string: the old short forms when every group is alike, else per group (a write
    /// group lists its read scope too, so a client comparing strings sees both).
    pub fn to_scope_string(&self) -> String {
        if *self == Self::Write {
            return "ilert:read ilert:write".to_owned();
        }
        if *self == Self::Read {
            return "ilert:read".to_owned();
        }
        self.words().join(" ")
    }

    /// Per-group scope words, without the short forms.
    fn words(&self) -> Vec<String> {
        let mut words = Vec::new();
        for group in Group::ALL {
            let access = self.get(group);
            if access >= Access::Read {
                words.push(format!("ilert:{}:read", group.name()));
            }
            if access >= Access::Write {
                words.push(format!("ilert:{}:write", group.name()));
            }
        }
        words
    }

    /// Each group at the lower of the two: a grant narrowed to what a server offers or a client
    /// asks for on refresh. Never wider than either.
    pub fn intersect(&self, other: &Scope) -> Scope {
        let mut out = Self::NONE;
        for group in Group::ALL {
            out.set(group, self.get(group).min(other.get(group)));
        }
        out
    }

    /// Each group at the higher of the two.
    pub fn union(&self, other: &Scope) -> Scope {
        let mut out = Self::NONE;
        for group in Group::ALL {
            out.set(group, self.get(group).max(other.get(group)));
        }
        out
    }

    /// What a server whose tools need at most `self` can grant: on a server with any tool that
    /// writes, every group it offers may be granted write (a group without write tools then simply
    /// has none to use), so "read and write everything" stays `ilert:read ilert:write`; a server
    /// with no write tool (`--read-only`) grants read only.
    pub fn grantable(&self) -> Scope {
        if self.is_read_only() {
            return *self;
        }
        let mut out = *self;
        for group in Group::ALL {
            if out.get(group) >= Access::Read {
                out.set(group, Access::Write);
            }
        }
        out
    }

    /// Whether every group allows at least read.
    pub fn is_read_only(&self) -> bool {
        Group::ALL.iter().all(|g| self.get(*g) <= Access::Read)
    }

    /// What a tool of `groups` that writes (or only reads) needs.
    pub fn needed(groups: &[Group], writes: bool) -> Scope {
        let access = if writes { Access::Write } else { Access::Read };
        let mut scope = Self::NONE;
        for group in groups {
            scope.set(*group, access);
        }
        scope
    }

    /// Whether this grant covers `needed`.
    pub fn covers(&self, needed: &Scope) -> bool {
        Group::ALL.iter().all(|g| self.get(*g) >= needed.get(*g))
    }

    /// Every scope name a server may grant, for the metadata documents.
    pub fn supported() -> Vec<String> {
        let mut names = vec!["ilert:read".to_owned(), "ilert:write".to_owned()];
        names.extend(Self::Write.words());
        names
    }

    /// The names a server whose ceiling is `self` can grant: the read-only server lists no write.
    pub fn supported_within(&self) -> Vec<String> {
        let mut names = vec!["ilert:read".to_owned()];
        if *self == Self::Write {
            names.push("ilert:write".to_owned());
        }
        names.extend(self.words());
        names
    }
}

impl Serialize for Scope {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_scope_string())
    }
}

impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Ok(match raw.as_str() {
            // Tokens sealed before consent per toolset.
            "read" => Self::Read,
            "write" => Self::Write,
            other => Self::parse_strict(other),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_scopes_mean_every_group() {
        assert_eq!(Scope::parse(Some("ilert:read")), Scope::Read);
        assert_eq!(Scope::parse(Some("ilert:read ilert:write")), Scope::Write);
        assert_eq!(Scope::parse(Some("ilert:write")), Scope::Write);
        assert_eq!(Scope::parse(None), Scope::Read);
        assert_eq!(Scope::parse(Some("offline_access")), Scope::Read);
        assert_eq!(Scope::parse_strict("offline_access"), Scope::NONE);
    }

    #[test]
    fn group_scopes_round_trip() {
        let scope = Scope::parse(Some("ilert:alerts:write ilert:oncall:read offline_access"));
        assert_eq!(scope.get(Group::Alerts), Access::Write);
        assert_eq!(scope.get(Group::Oncall), Access::Read);
        assert_eq!(scope.get(Group::Incidents), Access::None);
        assert_eq!(
            scope.to_scope_string(),
            "ilert:alerts:read ilert:alerts:write ilert:oncall:read"
        );
        let json = serde_json::to_string(&scope).unwrap_or_default();
        assert_eq!(serde_json::from_str::<Scope>(&json).ok(), Some(scope));
        assert_eq!(
            serde_json::from_str::<Scope>("\"write\"").ok(),
            Some(Scope::Write)
        );
    }

    #[test]
    fn covering_and_narrowing() {
        let alerts_write = Scope::parse(Some("ilert:alerts:write"));
        assert!(alerts_write.covers(&Scope::needed(&[Group::Alerts], true)));
        assert!(!alerts_write.covers(&Scope::needed(&[Group::Alerts, Group::Oncall], false)));
        assert_eq!(Scope::Write.intersect(&Scope::Read), Scope::Read);
        assert!(Scope::Read.is_read_only());
        assert!(!alerts_write.is_read_only());
        assert_eq!(
            Scope::Read.union(&alerts_write).get(Group::Alerts),
            Access::Write
        );
    }
}

#[cfg(test)]
mod mapping {
    use super::*;
    use crate::calls::catalogue::{Catalogue, toolsets};

    /// Every toolset has its own line in [`groups_of`]: only the cross-cutting ones need every
    /// group, so a new toolset is noticed here rather than silently needing everything.
    #[test]
    fn every_toolset_maps_to_its_groups() {
        let catalogue = Catalogue::full();
        for tool in catalogue.router.list_all() {
            let set = catalogue.toolset_of[tool.name.as_ref()];
            let groups = groups_of(set, tool.name.as_ref());
            assert!(!groups.is_empty(), "{}", tool.name);
            if groups.len() == Group::ALL.len() {
                assert_eq!(set, "chatgpt", "{} falls to the default", tool.name);
            }
        }
        assert_eq!(toolsets().len(), 9, "a new toolset: map it in groups_of");
    }
}
