//! The README's tools table is generated from the catalogue; this fails when it is stale.

use ilert_mcp::tools::catalogue::Catalogue;
use ilert_mcp::tools::listing;

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
