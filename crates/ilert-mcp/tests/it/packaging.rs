//! The packages: the MCP Registry entry (`server.json`, checked against the registry's own
//! 2025-12-11 schema kept in `packaging/registry/`), the Claude Desktop bundle's manifest
//! (`packaging/mcpb/manifest.json`, launched here the way Claude Desktop launches it) and the
//! container image file (`deploy/Containerfile`, which no engine on this machine can build, so its
//! promises are checked as text). `scripts/package` packs the bundle and runs the ignored
//! `release_*` test on the registry entry it writes for that bundle.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use clap::CommandFactory;
use rmcp::ServiceExt;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::process::Command;

use crate::common::*;

const SCHEMA_URL: &str =
    "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json";
const VERSION: &str = env!("CARGO_PKG_VERSION");

fn repo_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn server_json() -> Value {
    read_json(&repo_file("server.json"))
}

fn manifest() -> Value {
    read_json(&repo_file("packaging/mcpb/manifest.json"))
}

/// The registry's schema, asserting formats (`uri`) as the registry's validator does.
fn registry_validator() -> jsonschema::Validator {
    let schema = read_json(&repo_file("packaging/registry/server.schema.json"));
    assert_eq!(
        schema["$id"], SCHEMA_URL,
        "the kept schema is the 2025-12-11 one"
    );
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .should_validate_formats(true)
        .build(&schema)
        .unwrap()
}

fn schema_errors(validator: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

/// `{name}` placeholders in a template, in order of appearance.
fn placeholders(template: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}').expect("every { closes") + open;
        names.insert(rest[open + 1..close].to_string());
        rest = &rest[close + 1..];
    }
    names
}

fn keys(object: &Value) -> BTreeSet<String> {
    object
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

#[test]
fn server_json_is_valid_against_the_registry_schema() {
    let server = server_json();
    assert_eq!(server["$schema"], SCHEMA_URL);
    let errors = schema_errors(&registry_validator(), &server);
    assert!(errors.is_empty(), "server.json: {errors:#?}");
}

/// The kept schema is enforcing, not just parsed: what the registry rejects, it rejects.
#[test]
fn the_kept_schema_rejects_what_the_registry_rejects() {
    let validator = registry_validator();
    type Breakage = (&'static str, fn(&mut Value));
    let broken: [Breakage; 6] = [
        ("remote URL without a scheme", |s| {
            s["remotes"][0]["url"] = json!("{host}/mcp")
        }),
        ("description over 100 characters", |s| {
            s["description"] = json!("x".repeat(101))
        }),
        ("name without a namespace", |s| {
            s["name"] = json!("ilert-mcp")
        }),
        ("no version", |s| {
            s.as_object_mut().unwrap().remove("version");
        }),
        ("mcpb package with a malformed SHA-256", |s| {
            s["packages"] = json!([{"registryType": "mcpb", "identifier": "https://example.com/a.mcpb",
                "fileSha256": "ABC", "transport": {"type": "stdio"}}])
        }),
        ("package version `latest`", |s| {
            s["packages"] = json!([{"registryType": "mcpb", "identifier": "https://example.com/a.mcpb",
                "version": "latest", "transport": {"type": "stdio"}}])
        }),
    ];
    for (what, break_it) in broken {
        let mut server = server_json();
        break_it(&mut server);
        assert!(
            !validator.is_valid(&server),
            "the schema accepted server.json with {what}"
        );
    }
}

#[test]
fn server_json_and_the_bundle_carry_the_crate_version() {
    let server = server_json();
    assert_eq!(server["version"], VERSION, "server.json version");
    for package in server["packages"].as_array().into_iter().flatten() {
        assert_eq!(package["version"], VERSION, "server.json package {package}");
    }
    assert_eq!(
        manifest()["version"],
        VERSION,
        "packaging/mcpb/manifest.json version"
    );
}

/// The registry proves a `io.github.<owner>/` name by the owner's GitHub account: the name, both
/// files' repository and the workspace's `repository` name the same one.
#[test]
fn server_json_and_the_bundle_name_the_workspace_repository() {
    let cargo_toml = std::fs::read_to_string(repo_file("Cargo.toml")).unwrap();
    let repository = cargo_toml
        .lines()
        .find_map(|l| l.strip_prefix("repository = \""))
        .and_then(|rest| rest.strip_suffix('"'))
        .expect("[workspace.package] repository");
    let server = server_json();
    assert_eq!(server["repository"]["url"], repository);
    assert_eq!(server["repository"]["source"], "github");
    let path = repository
        .strip_prefix("https://github.com/")
        .expect("a GitHub repository");
    let (owner, name) = path.split_once('/').unwrap();
    assert_eq!(server["name"], format!("io.github.{owner}/{name}"));
    assert_eq!(manifest()["repository"]["url"], repository);
}

/// Self-hosted installs fill in their own host; every placeholder is declared and every declared
/// variable is used, and the key travels only in a header marked secret.
#[test]
fn server_json_remote_is_a_url_template_for_any_deployment() {
    let server = server_json();
    let remotes = server["remotes"]
        .as_array()
        .expect("server.json has remotes");
    assert_eq!(remotes.len(), 1);
    let remote = &remotes[0];
    assert_eq!(remote["type"], "streamable-http");
    let template = remote["url"].as_str().unwrap();
    let used = placeholders(template);
    assert!(!used.is_empty(), "the remote URL is a template: {template}");
    assert_eq!(
        used,
        keys(&remote["variables"]),
        "URL placeholders vs variables"
    );
    for name in &used {
        assert_eq!(remote["variables"][name]["isRequired"], true, "{name}");
    }
    // Filled in, the template names this server's MCP endpoint.
    let filled = template.replace("{host}", "mcp.example.com:8443");
    let url = url::Url::parse(&filled).unwrap();
    assert_eq!(url.path(), "/mcp");
    assert_eq!(url.port(), Some(8443));

    let headers = remote["headers"].as_array().unwrap();
    let auth = headers
        .iter()
        .find(|h| h["name"] == "Authorization")
        .expect("an Authorization header");
    assert_eq!(auth["isSecret"], true);
    assert_eq!(auth["isRequired"], false, "OAuth works without the header");
    let value = auth["value"].as_str().unwrap();
    assert!(value.starts_with("Bearer {"), "{value}");
    assert_eq!(placeholders(value), keys(&auth["variables"]));
    for variable in auth["variables"].as_object().unwrap().values() {
        assert_eq!(variable["isSecret"], true);
    }
}

#[test]
fn bundle_manifest_asks_for_the_key_and_the_ilert_url() {
    let manifest = manifest();
    assert_eq!(manifest["manifest_version"], "0.4");
    assert_eq!(manifest["server"]["type"], "binary");
    let config = &manifest["server"]["mcp_config"];
    let entry = manifest["server"]["entry_point"].as_str().unwrap();
    assert_eq!(config["command"], format!("${{__dirname}}/{entry}"));
    assert_eq!(config["args"], json!(["stdio"]));

    let user_config = &manifest["user_config"];
    let key = &user_config["api_key"];
    assert_eq!(key["type"], "string");
    assert_eq!(key["sensitive"], true, "the API key is a sensitive field");
    assert_eq!(key["required"], true);
    assert_eq!(config["env"]["ILERT_API_KEY"], "${user_config.api_key}");

    // The URL field's default is the binary's own default for ILERT_BASE_URL.
    let stdio = ilert_mcp::commands::cli::Cli::command();
    let stdio = stdio.find_subcommand("stdio").expect("a stdio command");
    let ilert_url = stdio
        .get_arguments()
        .find(|a| a.get_env() == Some(std::ffi::OsStr::new("ILERT_BASE_URL")))
        .expect("stdio reads ILERT_BASE_URL");
    let default: Vec<_> = ilert_url.get_default_values().iter().collect();
    let url = &user_config["ilert_url"];
    assert_eq!(url["type"], "string");
    assert_eq!(url["required"], false);
    assert_eq!(default.len(), 1);
    assert_eq!(
        url["default"].as_str().map(std::ffi::OsStr::new),
        Some(default[0].as_os_str())
    );
    assert_eq!(config["env"]["ILERT_BASE_URL"], "${user_config.ilert_url}");

    // Every field asked for is used, and nothing unasked is referenced.
    let referenced: BTreeSet<String> = config["env"]
        .as_object()
        .unwrap()
        .values()
        .filter_map(|v| {
            v.as_str()?
                .strip_prefix("${user_config.")?
                .strip_suffix('}')
        })
        .map(str::to_string)
        .collect();
    assert_eq!(referenced, keys(user_config));
}

/// Runs a bundle's server the way Claude Desktop does: `${__dirname}` is the bundle's folder
/// (`None`: the built binary stands in for `${__dirname}/<entry_point>`), `${user_config.*}` are
/// the user's settings, and the command gets that environment. Then it must serve the sandbox as
/// the key's owner.
async fn serve_as_claude_desktop_would(manifest: &Value, bundle_dir: Option<&Path>) {
    let h = start().await;
    let config = &manifest["server"]["mcp_config"];
    let entry = manifest["server"]["entry_point"].as_str().unwrap();
    assert_eq!(config["command"], format!("${{__dirname}}/{entry}"));
    let program = match bundle_dir {
        Some(dir) => config["command"]
            .as_str()
            .unwrap()
            .replace("${__dirname}", dir.to_str().unwrap()),
        None => env!("CARGO_BIN_EXE_ilert-mcp").to_string(),
    };
    let fill = |s: &str| {
        s.replace("${user_config.api_key}", USER_KEY)
            .replace("${user_config.ilert_url}", &h.sandbox_url)
    };
    let mut command = Command::new(program);
    for key in ["ILERT_API_KEY", "ILERT_AUTH_TOKEN", "ILERT_BASE_URL"] {
        command.env_remove(key);
    }
    for arg in config["args"].as_array().unwrap() {
        command.arg(fill(arg.as_str().unwrap()));
    }
    for (name, value) in config["env"].as_object().unwrap() {
        command.env(name, fill(value.as_str().unwrap()));
    }
    let client = ().serve(child(command)).await.unwrap();
    let tools = client.list_all_tools().await.unwrap();
    assert!(tools.iter().any(|t| t.name == "list_alerts"));
    // The sandbox seeds demo-key-user for Jonas Weber (README, "Demo keys").
    let result = call(&client, "get_current_user", json!({})).await;
    assert_eq!(structured(&result)["name"], "Jonas Weber");
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn bundle_manifest_launches_the_server_as_claude_desktop_would() {
    serve_as_claude_desktop_would(&manifest(), None).await;
}

/// `FROM`, `ARG`, `USER`, `HEALTHCHECK` ... instructions of the Containerfile, continuation lines
/// joined, comments dropped.
fn container_instructions() -> Vec<String> {
    let text = std::fs::read_to_string(repo_file("deploy/Containerfile")).unwrap();
    let mut instructions = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || (line.is_empty() && current.is_empty()) {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(part) => current.push_str(part),
            None => {
                current.push_str(line);
                instructions.push(std::mem::take(&mut current));
            }
        }
    }
    instructions
}

fn version_parts(version: &str) -> Vec<u32> {
    version.split('.').map(|p| p.parse().unwrap()).collect()
}

/// No container engine runs here, so the image is not built in the tests: this checks what the
/// file promises. The toolchain image is pinned to the exact compiler these tests were built
/// with (and no older than the workspace's rust-version); the build is `--locked`; the image
/// ends as a non-root user and has a health check on /readyz.
#[test]
fn containerfile_pins_the_toolchain_runs_as_non_root_and_checks_health() {
    let instructions = container_instructions();
    let arg = instructions
        .iter()
        .find_map(|i| i.strip_prefix("ARG RUST_VERSION="))
        .expect("ARG RUST_VERSION=<x.y.z>");
    let pinned = version_parts(arg);
    assert_eq!(
        pinned.len(),
        3,
        "RUST_VERSION {arg} names one release (x.y.z)"
    );

    let rustc = std::process::Command::new(std::env::var("RUSTC").unwrap_or("rustc".into()))
        .arg("--version")
        .output()
        .unwrap();
    let rustc = String::from_utf8(rustc.stdout).unwrap();
    let ours = rustc.split_whitespace().nth(1).expect("rustc x.y.z (...)");
    assert_eq!(
        arg, ours,
        "deploy/Containerfile builds with Rust {arg}, the tests with {ours}: set ARG RUST_VERSION={ours}"
    );
    let msrv = version_parts(env!("CARGO_PKG_RUST_VERSION"));
    assert!(
        pinned >= msrv,
        "RUST_VERSION {arg} is older than rust-version"
    );

    let froms: Vec<&String> = instructions
        .iter()
        .filter(|i| i.starts_with("FROM "))
        .collect();
    assert!(
        froms[0].starts_with("FROM rust:${RUST_VERSION}-"),
        "the build stage uses the pinned toolchain image: {}",
        froms[0]
    );
    assert!(froms.len() >= 2, "a separate runtime stage");
    let build = instructions
        .iter()
        .find(|i| i.contains("cargo build"))
        .expect("a cargo build");
    assert!(build.contains("--locked"), "{build}");
    assert!(build.contains("--profile dist"), "{build}");

    let last_from = instructions
        .iter()
        .rposition(|i| i.starts_with("FROM "))
        .unwrap();
    let runtime = &instructions[last_from..];
    let user = runtime
        .iter()
        .rev()
        .find_map(|i| i.strip_prefix("USER "))
        .expect("the runtime stage sets USER");
    let name = user.split(':').next().unwrap().trim();
    assert!(
        name != "root" && name != "0" && !name.is_empty(),
        "runs as non-root: USER {user}"
    );
    let health = runtime
        .iter()
        .find_map(|i| i.strip_prefix("HEALTHCHECK "))
        .expect("the runtime stage has a HEALTHCHECK");
    assert!(!health.trim().eq_ignore_ascii_case("NONE"));
    assert!(
        health.contains("CMD") && health.contains("/readyz"),
        "{health}"
    );
}

/// Run by `scripts/package` on the registry entry it writes next to the bundle it packed:
/// valid, the same as ./server.json but for the mcpb package, whose SHA-256 is the file's.
/// Then the bundle, unpacked by the MCP Bundle CLI, serves from its own manifest and binary.
#[tokio::test]
#[ignore = "needs a packed bundle: run by scripts/package"]
async fn release_server_json_lists_this_bundle() {
    let path =
        std::env::var("ILERT_MCP_RELEASE_SERVER_JSON").expect("ILERT_MCP_RELEASE_SERVER_JSON");
    let bundle =
        PathBuf::from(std::env::var("ILERT_MCP_RELEASE_BUNDLE").expect("ILERT_MCP_RELEASE_BUNDLE"));
    let mut release = read_json(Path::new(&path));
    let errors = schema_errors(&registry_validator(), &release);
    assert!(errors.is_empty(), "{path}: {errors:#?}");

    let packages = release["packages"].as_array().unwrap();
    let mcpb: Vec<&Value> = packages
        .iter()
        .filter(|p| p["registryType"] == "mcpb")
        .collect();
    assert_eq!(mcpb.len(), 1, "one mcpb package");
    let package = mcpb[0];
    let bytes = std::fs::read(&bundle).unwrap();
    let sha = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>();
    assert_eq!(package["fileSha256"], sha, "fileSha256 is the bundle's");
    let file = bundle.file_name().unwrap().to_str().unwrap();
    let identifier = package["identifier"].as_str().unwrap();
    let repository = release["repository"]["url"].as_str().unwrap();
    assert_eq!(
        identifier,
        format!("{repository}/releases/download/v{VERSION}/{file}")
    );
    assert_eq!(package["version"], VERSION);
    assert_eq!(package["transport"], json!({"type": "stdio"}));

    // Apart from the bundle, the release entry is the committed one.
    let others: Vec<Value> = packages
        .iter()
        .filter(|p| p["registryType"] != "mcpb")
        .cloned()
        .collect();
    let committed = server_json();
    let committed_packages = committed["packages"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(others, committed_packages);
    release.as_object_mut().unwrap().remove("packages");
    let mut committed = committed;
    committed.as_object_mut().unwrap().remove("packages");
    assert_eq!(release, committed);

    let unpacked = PathBuf::from(
        std::env::var("ILERT_MCP_RELEASE_UNPACKED").expect("ILERT_MCP_RELEASE_UNPACKED"),
    );
    let manifest = read_json(&unpacked.join("manifest.json"));
    assert_eq!(manifest["version"], VERSION);
    serve_as_claude_desktop_would(&manifest, Some(&unpacked)).await;
}
