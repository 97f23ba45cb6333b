//! Skills (issue 25 §4, SEP-2640) over real MCP, in both protocol eras: the server declares the
//! extension, lists the four workflows, gets each, serves its SKILL.md as a resource with the
//! digest the manifest promises, and every tool a skill names exists.

use std::collections::BTreeSet;

use ilert_mcp::calls::catalogue::Catalogue;
use rmcp::model::{GetSkillRequestParams, ReadResourceRequestParams, ResourceContents};

use crate::common::*;

#[tokio::test]
async fn skills_are_listed_got_and_read_and_name_only_real_tools() {
    let h = start().await;
    for era in [Era::Legacy, Era::Stateless] {
        let client = connect(&h.mcp_url, USER_KEY, era).await;
        let skills = client.list_all_skills().await.unwrap();
        let names: BTreeSet<&str> = skills.iter().map(|s| s.frontmatter.name.as_str()).collect();
        assert_eq!(
            names,
            BTreeSet::from([
                "ilert-handover",
                "ilert-postmortem",
                "ilert-status-update",
                "ilert-triage"
            ]),
            "{era:?}"
        );
        for s in &skills {
            s.validate().unwrap();
            let got = client
                .get_skill(GetSkillRequestParams::new(s.uri.clone()))
                .await
                .unwrap();
            assert_eq!(got.skill, *s);
            let read = client
                .read_resource(ReadResourceRequestParams::new(s.uri.clone()))
                .await
                .unwrap();
            let Some(ResourceContents::TextResourceContents { text, .. }) = read.contents.first()
            else {
                panic!("{}: no text", s.uri);
            };
            let rmcp::model::SkillResources::Files(files) = &s.resources else {
                panic!("{}: a fixed skill lists its files", s.uri);
            };
            files[0].verify(text.as_bytes()).unwrap();
            assert!(text.starts_with("---\nname: "), "{text}");
        }
        assert!(
            client
                .get_skill(GetSkillRequestParams::new("skill://nope/SKILL.md"))
                .await
                .is_err()
        );
    }
    let tools: BTreeSet<String> = Catalogue::full()
        .tools()
        .iter()
        .map(|t| t.name.to_string())
        .collect();
    let named = ilert_mcp::mcp::skills::named_tools();
    assert!(named.len() >= 15, "{named:?}");
    for (skill, tool) in named {
        assert!(
            tools.contains(&tool),
            "{skill} names {tool}, which is no tool"
        );
    }
}
