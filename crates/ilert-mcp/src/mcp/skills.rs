//! Skills (SEP-2640): the triage, handover, postmortem and status-update workflows, written for
//! this server's tools, served beside the prompts. Hosts that load skills list them with
//! `skills/list`, fetch one with `skills/get` and read its `SKILL.md` with `resources/read`;
//! other hosts keep the prompts. The texts are compiled in (`crates/ilert-mcp/skills/`), so the
//! binary carries them and every digest is fixed at build time.

use rmcp::model::{
    GetSkillResult, ReadResourceResult, ResourceContents, Skill, SkillFrontmatter, SkillResource,
    SkillResources,
};

/// (name, SKILL.md).
const SKILLS: [(&str, &str); 4] = [
    (
        "ilert-triage",
        include_str!("../../skills/ilert-triage/SKILL.md"),
    ),
    (
        "ilert-handover",
        include_str!("../../skills/ilert-handover/SKILL.md"),
    ),
    (
        "ilert-postmortem",
        include_str!("../../skills/ilert-postmortem/SKILL.md"),
    ),
    (
        "ilert-status-update",
        include_str!("../../skills/ilert-status-update/SKILL.md"),
    ),
];

fn uri(name: &str) -> String {
    format!("skill://{name}/SKILL.md")
}

/// The `description:` line of a SKILL.md's frontmatter.
fn description(text: &str) -> &str {
    text.lines()
        .find_map(|l| l.strip_prefix("description: "))
        .unwrap_or("")
}

fn skill(name: &str, text: &str) -> Skill {
    Skill::new(
        uri(name),
        SkillFrontmatter::new(name, description(text)),
        SkillResources::Files(vec![SkillResource::from_bytes(uri(name), text.as_bytes())]),
    )
}

/// Every skill, as `skills/list` gives them.
pub fn list() -> Vec<Skill> {
    SKILLS
        .iter()
        .map(|(name, text)| skill(name, text))
        .collect()
}

/// One skill by the URI of its SKILL.md.
pub fn get(uri: &str) -> Option<GetSkillResult> {
    SKILLS
        .iter()
        .find(|(name, _)| self::uri(name) == uri)
        .map(|(name, text)| GetSkillResult::new(skill(name, text)))
}

/// A SKILL.md as a resource (`resources/read` of a `skill://` URI).
pub fn read(uri: &str) -> Option<ReadResourceResult> {
    SKILLS
        .iter()
        .find(|(name, _)| self::uri(name) == uri)
        .map(|(_, text)| {
            ReadResourceResult::new(vec![
                ResourceContents::text(*text, uri).with_mime_type("text/markdown"),
            ])
        })
}

/// The verbs this server's tool names begin with.
const VERBS: [&str; 12] = [
    "get", "list", "find", "who", "accept", "resolve", "assign", "add", "comment", "create",
    "update", "run",
];

/// The backticked tool names a skill text mentions (`get_overview`, ...), for the test that
/// every one exists.
pub fn named_tools() -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    for (name, text) in SKILLS {
        for piece in text.split('`').skip(1).step_by(2) {
            let word = piece.trim();
            // Tool names are verb_noun; argument names (`changed_since`) are not.
            let verb = word.split('_').next().unwrap_or("");
            if word.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                && word.contains('_')
                && VERBS.contains(&verb)
            {
                out.push((name, word.to_owned()));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_skill_is_valid_and_names_itself() {
        let skills = list();
        assert_eq!(skills.len(), 4);
        for s in &skills {
            s.validate().unwrap();
            assert!(!s.frontmatter.description.is_empty(), "{}", s.uri);
            let got = get(&s.uri).unwrap();
            assert_eq!(got.skill, *s);
            assert!(read(&s.uri).is_some());
        }
        assert!(get("skill://nope/SKILL.md").is_none());
    }
}
