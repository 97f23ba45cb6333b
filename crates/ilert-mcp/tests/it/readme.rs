//! The README's tools table is generated from the catalogue; this fails when it is stale. Also
//! the README's client configurations and the nginx settings in docs/deploy.md.

use ilert_mcp::calls::catalogue::Catalogue;
use ilert_mcp::commands::listing;

#[test]
fn readme_tools_table_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let start = readme
        .find("<!-- tools:start")
        .expect("README has a tools:start marker");
    let body_start = start + readme[start..].find("-->\n").expect("marker closes") + 4;
    let end = readme
        .find("<!-- tools:end -->")
        .expect("README has a tools:end marker");
    let expected = listing::markdown(&Catalogue::full());
    assert!(
        readme[body_start..end] == expected,
        "README's tools table is stale: replace it with the output of \
         `cargo run -p ilert-mcp -- tools --markdown --toolsets all`"
    );
}

/// Every `<!-- config:CLIENT [--stdio] -->` block in the README equals `ilert-mcp config`'s output.
#[test]
fn readme_client_configs_match_the_config_command() {
    use clap::ValueEnum;
    use ilert_mcp::commands::cli::ClientKind;

    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let mut checked = 0;
    for (at, _) in readme.match_indices("<!-- config:") {
        let head = &readme[at + "<!-- config:".len()..];
        let spec = &head[..head.find(" -->").unwrap()];
        let mut words = spec.split_whitespace();
        let client = ClientKind::from_str(words.next().unwrap(), true).unwrap();
        let stdio = words.next() == Some("--stdio");
        let body = &head[head.find("```json\n").unwrap() + 8..];
        let block: serde_json::Value =
            serde_json::from_str(&body[..body.find("```").unwrap()]).unwrap();
        let text = ilert_mcp::commands::config::render(client, "https://mcp.ilert.com/mcp", stdio)
            .unwrap();
        let expected: serde_json::Value =
            serde_json::from_str(&text[..text.find("\n\n").unwrap()]).unwrap();
        assert_eq!(
            block, expected,
            "README block config:{spec} differs from `ilert-mcp config {spec}`"
        );
        checked += 1;
    }
    assert!(checked >= 7, "only {checked} config blocks found");
}

/// docs/deploy.md shows deploy/nginx-proxy.conf, the file scripts/scaleout runs nginx with.
#[test]
fn deploy_doc_shows_the_tested_nginx_settings() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let doc = std::fs::read_to_string(root.join("docs/deploy.md")).unwrap();
    let file = std::fs::read_to_string(root.join("deploy/nginx-proxy.conf")).unwrap();
    let start = doc
        .find("<!-- nginx-proxy:start")
        .expect("docs/deploy.md has a nginx-proxy:start marker");
    let body = &doc[start..];
    let body = &body[body.find("```nginx\n").expect("a nginx code block") + "```nginx\n".len()..];
    let end = body
        .find("```\n<!-- nginx-proxy:end -->")
        .expect("the block ends at the nginx-proxy:end marker");
    assert!(
        body[..end] == file,
        "docs/deploy.md's nginx-proxy block differs from deploy/nginx-proxy.conf: copy the file into it"
    );
}

/// Every relative link in README.md and docs/*.md names a file that exists, and a `#fragment`
/// names a heading of that file (GitHub's anchors: lower case, punctuation dropped, spaces as
/// hyphens). Links inside code blocks and to other schemes are not links.
#[test]
fn relative_links_in_readme_and_docs_resolve() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut pages = vec![root.join("README.md")];
    for entry in std::fs::read_dir(root.join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            pages.push(path);
        }
    }
    let anchors = |path: &std::path::Path| -> Vec<String> {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        prose(&text)
            .lines()
            .filter(|l| l.starts_with('#'))
            .map(|l| {
                l.trim_start_matches('#')
                    .trim()
                    .to_lowercase()
                    .chars()
                    .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
                    .map(|c| if c == ' ' { '-' } else { c })
                    .collect()
            })
            .collect()
    };
    let mut checked = 0;
    for page in &pages {
        let text = std::fs::read_to_string(page).unwrap();
        for (at, _) in prose(&text).match_indices("](") {
            let rest = &prose(&text)[at + 2..];
            let target = &rest[..rest.find(')').unwrap()];
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (file, anchor) = target.split_once('#').unwrap_or((target, ""));
            let file = if file.is_empty() {
                page.clone()
            } else {
                page.parent().unwrap().join(file)
            };
            assert!(
                file.exists(),
                "{}: the link ({target}) names no file",
                page.display()
            );
            if !anchor.is_empty() {
                assert!(
                    anchors(&file).iter().any(|a| a == anchor),
                    "{}: the link ({target}) names no heading of {}",
                    page.display(),
                    file.display()
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} links checked");
}

/// `text` without its fenced code blocks.
fn prose(text: &str) -> String {
    let mut out = String::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}
