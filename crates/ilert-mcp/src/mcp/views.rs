//! MCP Apps views (extension `io.modelcontextprotocol/ui`, spec 2026-01-26): four `ui://` HTML
//! resources embedded in the binary (the `_meta.ui` that links tools to them is attached in
//! [`crate::calls::catalogue`]). The HTML is
//! built from `apps/` by `scripts/build-views`; a host without Apps ignores all of it and reads the
//! tools' text answers as before.

use rmcp::model::{MetaObject, ReadResourceResult, Resource, ResourceContents};
use serde_json::json;

/// The extension's identifier, the key under `capabilities.extensions`.
pub const EXTENSION_ID: &str = "io.modelcontextprotocol/ui";
/// The one content type the extension defines for views.
pub const MIME_TYPE: &str = "text/html;profile=mcp-app";

/// One embedded view.
pub struct View {
    pub uri: &'static str,
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub html: &'static str,
}

/// Every view, built by `scripts/build-views` from `apps/src/` into `crates/ilert-mcp/views/`.
pub const VIEWS: [View; 4] = [
    View {
        uri: "ui://ilert/inbox",
        name: "inbox",
        title: "ilert alert inbox",
        description: "Open alerts with priority, severity, age and responders; accept, resolve, open in ilert",
        html: include_str!("../../views/inbox.html"),
    },
    View {
        uri: "ui://ilert/oncall",
        name: "oncall",
        title: "ilert on-call board",
        description: "Who is on call per policy and level, next handover, 7-day shift timeline",
        html: include_str!("../../views/oncall.html"),
    },
    View {
        uri: "ui://ilert/incident",
        name: "incident",
        title: "ilert incident",
        description: "An incident's status history and affected services",
        html: include_str!("../../views/incident.html"),
    },
    View {
        uri: "ui://ilert/metrics",
        name: "metrics",
        title: "ilert alert metrics",
        description: "Alerts, MTTA and MTTR per period, by source",
        html: include_str!("../../views/metrics.html"),
    },
];

/// The views' `_meta.ui`: no external domain at all (the HTML fetches nothing), and a host border.
fn resource_meta() -> MetaObject {
    let mut meta = MetaObject::new();
    meta.0.insert(
        "ui".into(),
        json!({
            "csp": { "connectDomains": [], "resourceDomains": [] },
            "prefersBorder": true
        }),
    );
    meta
}

/// The views as `resources/list` entries.
pub fn resources() -> Vec<Resource> {
    VIEWS
        .iter()
        .map(|v| {
            Resource::new(v.uri, v.name)
                .with_title(v.title)
                .with_description(v.description)
                .with_mime_type(MIME_TYPE)
                .with_size(v.html.len() as u64)
                .with_meta(resource_meta())
        })
        .collect()
}

/// `resources/read` of a view, or `None` if `uri` names none.
pub fn read(uri: &str) -> Option<ReadResourceResult> {
    let view = VIEWS.iter().find(|v| v.uri == uri)?;
    let contents = ResourceContents::text(view.html, view.uri)
        .with_mime_type(MIME_TYPE)
        .with_meta(resource_meta());
    Some(ReadResourceResult::new(vec![contents]))
}

/// The extension's server capability: the content type the views use.
pub fn capability() -> rmcp::model::ExtensionCapabilities {
    let mut settings = serde_json::Map::new();
    settings.insert("mimeTypes".into(), json!([MIME_TYPE]));
    let mut extensions = rmcp::model::ExtensionCapabilities::new();
    extensions.insert(EXTENSION_ID.into(), settings);
    extensions
}

/// Whether `capabilities` (a 2026-07-28 request's declared client capabilities) say the client
/// renders views. `None` (a handshake-era request, whose capabilities a stateless server does not
/// keep) counts as yes: listing the views there is harmless and lets Apps hosts prefetch them.
pub fn client_renders(capabilities: Option<&rmcp::model::ClientCapabilities>) -> bool {
    capabilities.is_none_or(|c| {
        c.extensions
            .as_ref()
            .and_then(|e| e.get(EXTENSION_ID))
            .and_then(|s| s.get("mimeTypes"))
            .and_then(|m| m.as_array())
            .is_some_and(|m| m.iter().any(|t| t.as_str() == Some(MIME_TYPE)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};
    use std::path::{Path, PathBuf};

    /// The same hash `apps/build.mjs` writes into each view: SHA-256 over `path NUL content NUL`
    /// of build.mjs, package.json, package-lock.json and everything under src/, sorted by path.
    fn sources_hash(apps: &Path) -> String {
        fn walk(dir: &Path, apps: &Path, out: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, apps, out);
                } else {
                    let rel: PathBuf = path.strip_prefix(apps).unwrap().to_owned();
                    let parts: Vec<String> = rel
                        .components()
                        .map(|c| c.as_os_str().to_string_lossy().into_owned())
                        .collect();
                    out.push(parts.join("/"));
                }
            }
        }
        let mut files: Vec<String> = ["build.mjs", "package.json", "package-lock.json"]
            .map(String::from)
            .to_vec();
        walk(&apps.join("src"), apps, &mut files);
        files.sort();
        let mut hash = Sha256::new();
        for file in files {
            hash.update(file.as_bytes());
            hash.update([0]);
            hash.update(std::fs::read(apps.join(&file)).unwrap());
            hash.update([0]);
        }
        hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn embedded_views_match_their_sources() {
        let apps = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../apps");
        let want = sources_hash(&apps);
        for view in &VIEWS {
            let marker = format!(
                "<!-- ilert-mcp view \"{}\": built by scripts/build-views from apps/, sources sha256 {want}.",
                view.name
            );
            assert!(
                view.html.contains(&marker),
                "crates/ilert-mcp/views/{}.html was not built from the current apps/ sources: run scripts/build-views",
                view.name
            );
            // The built file is the one the binary embeds.
            let on_disk = std::fs::read_to_string(
                Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("views/{}.html", view.name)),
            )
            .unwrap();
            assert_eq!(on_disk, view.html);
        }
    }

    #[test]
    fn views_are_bounded_in_size() {
        // The official SDK's App (with the MCP client protocol and zod) alone bundles to about
        // 330 KB minified; the views' own code adds a few KB. See docs/apps.md.
        for view in &VIEWS {
            println!("{}: {} bytes", view.uri, view.html.len());
            assert!(
                view.html.len() <= 360 * 1024,
                "{}: {}",
                view.uri,
                view.html.len()
            );
        }
    }

    #[test]
    fn every_linked_view_exists() {
        for (tool, uri) in crate::calls::catalogue::TOOL_VIEWS {
            assert!(VIEWS.iter().any(|v| v.uri == uri), "{tool} -> {uri}");
            assert!(read(uri).is_some());
        }
        assert!(read("ui://ilert/unknown").is_none());
    }

    #[test]
    fn clients_without_apps_are_not_shown_views() {
        let mut with = rmcp::model::ClientCapabilities::default();
        let mut ext = rmcp::model::ExtensionCapabilities::new();
        let mut settings = serde_json::Map::new();
        settings.insert("mimeTypes".into(), json!([MIME_TYPE]));
        ext.insert(EXTENSION_ID.into(), settings);
        with.extensions = Some(ext);
        assert!(client_renders(Some(&with)));
        assert!(!client_renders(Some(
            &rmcp::model::ClientCapabilities::default()
        )));
        assert!(client_renders(None));
    }
}
