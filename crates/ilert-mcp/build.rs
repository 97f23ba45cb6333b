//! Names the git commit in `ilert-mcp --version`, so a running binary can be traced to its source.
//! `ILERT_MCP_COMMIT` overrides it (a container build without `.git`); without git it says
//! "unknown commit".

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    let text = text.trim();
    (output.status.success() && !text.is_empty()).then(|| text.to_owned())
}

fn main() {
    println!("cargo:rerun-if-env-changed=ILERT_MCP_COMMIT");
    // HEAD moves on checkout; logs/HEAD on every commit, merge and reset.
    for path in ["HEAD", "logs/HEAD"] {
        if let Some(file) = git(&["rev-parse", "--git-path", path]) {
            println!("cargo:rerun-if-changed={file}");
        }
    }
    let commit = std::env::var("ILERT_MCP_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(|| git(&["rev-parse", "--short=12", "HEAD"]))
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=ILERT_MCP_COMMIT={commit}");
}
