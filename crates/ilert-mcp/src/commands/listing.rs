//! `ilert-mcp tools`: the catalogue as plain text or as the README's Markdown table.

use crate::calls::catalogue::{Catalogue, is_read_only};

/// First sentence of a description, on one line.
fn summary(description: Option<&str>) -> String {
    let one_line = description
        .unwrap_or("")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    // The first ". " that ends a sentence, not an abbreviation such as "e.g. ".
    let end = one_line.match_indices(". ").map(|(i, _)| i).find(|&i| {
        let before = one_line.get(..=i).unwrap_or("");
        !before.ends_with("e.g.") && !before.ends_with("i.e.")
    });
    match end {
        Some(end) => one_line.get(..=end).unwrap_or(&one_line).trim().to_owned(),
        None => one_line,
    }
}

/// Bytes of one tool's definition as tools/list sends it (compact JSON).
pub fn tool_bytes(tool: &rmcp::model::Tool) -> usize {
    serde_json::to_vec(tool).map_or(0, |v| v.len())
}

/// Bytes of the whole tools/list result, `{"tools":[...]}`, for the catalogue.
pub fn list_bytes(catalogue: &Catalogue) -> usize {
    serde_json::to_vec(&serde_json::json!({ "tools": catalogue.tools() })).map_or(0, |v| v.len())
}

/// One line per tool (name, toolset, read or write, bytes in tools/list, first sentence), then
/// the whole tools/list size.
pub fn plain(catalogue: &Catalogue) -> String {
    let mut out = String::new();
    for tool in catalogue.tools() {
        let set = catalogue
            .toolset_of
            .get(tool.name.as_ref())
            .copied()
            .unwrap_or("");
        let mode = if is_read_only(&tool) { "read" } else { "write" };
        out.push_str(&format!(
            "{:<26} {:<10} {:<6} {:>5} B  {}\n",
            tool.name,
            set,
            mode,
            tool_bytes(&tool),
            summary(tool.description.as_deref())
        ));
    }
    out.push_str(&format!(
        "{} tools; tools/list result: {} bytes\n",
        catalogue.tools().len(),
        list_bytes(catalogue)
    ));
    out
}

/// The README's tools table; a test fails when the README's copy differs.
pub fn markdown(catalogue: &Catalogue) -> String {
    let mut out = String::from("| tool | toolset | writes | what it does |\n|---|---|---|---|\n");
    for tool in catalogue.tools() {
        let set = catalogue
            .toolset_of
            .get(tool.name.as_ref())
            .copied()
            .unwrap_or("");
        let writes = if is_read_only(&tool) { "no" } else { "yes" };
        let text = summary(tool.description.as_deref()).replace('|', "\\|");
        out.push_str(&format!(
            "| `{}` | {set} | {writes} | {text} |\n",
            tool.name
        ));
    }
    out
}
