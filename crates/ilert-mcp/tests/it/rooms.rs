//! The rooms of `crates/ilert-mcp/src` (docs/architecture.md) keep their kinds and their order:
//! the root holds only `main.rs` and `lib.rs`; the handler (`mcp/`) sits above the pipeline
//! (`calls/`), the pipeline above the tools, the tools above the shared rules, and the rules above
//! the plumbing they use (`observe/`, `auth/`). A room names only rooms below it, so no import
//! cycle can link the server, the pipeline and the tools.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The rooms a file's code (not its comments, not its unit tests) names as `crate::ROOM`.
fn named_rooms(path: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let code = text.split("#[cfg(test)]").next().unwrap_or("");
    let mut rooms = BTreeSet::new();
    for line in code.lines().map(str::trim).filter(|l| !l.starts_with("//")) {
        for (at, _) in line.match_indices("crate::") {
            let rest = &line[at + "crate::".len()..];
            let room: String = rest
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            rooms.insert(room);
        }
    }
    rooms
}

#[test]
fn the_root_holds_main_lib_and_rooms_only() {
    for entry in std::fs::read_dir(src()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            path.is_dir() || name == "main.rs" || name == "lib.rs",
            "src/{name} belongs in a room"
        );
    }
}

#[test]
fn rooms_name_only_rooms_below_them() {
    // Higher ranks may use lower ones, never the reverse.
    let rank = |room: &str| match room {
        "mcp" => Some(4),
        "calls" => Some(3),
        "tools" => Some(2),
        "rules" => Some(1),
        "observe" | "auth" => Some(0),
        _ => None,
    };
    let mut checked = 0;
    for room in ["mcp", "calls", "tools", "rules", "observe", "auth"] {
        let mut paths = Vec::new();
        files(&src().join(room), &mut paths);
        for path in paths {
            for named in named_rooms(&path) {
                if named == room {
                    continue;
                }
                let (Some(from), Some(to)) = (rank(room), rank(&named)) else {
                    continue;
                };
                assert!(
                    to < from || (from == 0 && to == 0),
                    "{} names crate::{named}, a room above or beside {room}",
                    path.display()
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 20, "only {checked} references checked");
}

#[test]
fn tools_do_not_know_the_server() {
    let mut paths = Vec::new();
    files(&src().join("tools"), &mut paths);
    for path in paths {
        let text = std::fs::read_to_string(&path).unwrap();
        for word in ["IlertMcp", "crate::mcp", "crate::calls", "crate::transport"] {
            let code = text
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .any(|l| l.contains(word));
            assert!(!code, "{} uses {word}", path.display());
        }
    }
}
