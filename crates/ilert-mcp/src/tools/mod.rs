//! The tool catalogue: one router per ilert resource file, combined in [`crate::server`].
//!
//! A tool is thin: check arguments, make one or a few client calls, shape a compact output. Shared
//! pieces live here: schema generation, result building, and turning an [`ApiError`] into a
//! sentence a model can act on.

pub mod alert_work;
pub mod alerts;
pub mod args;
pub mod catalogue;
pub mod chatgpt;
pub mod confirm;
pub mod incidents;
pub mod listing;
pub mod lookup;
pub mod oncall;
pub mod overview;
pub mod people;
pub mod previews;
pub mod render;
pub mod reports;
pub mod services;
pub mod sources;
pub mod times;
pub mod view_context;

/// The caller's ilert session, or return the tool error saying why there is none.
macro_rules! session {
    ($server:expr, $ext:expr) => {
        match $server.session(&$ext) {
            Ok(api) => api,
            Err(result) => return result,
        }
    };
}

/// Awaits an ilert call; on failure returns the tool error that explains it for `$subject`.
macro_rules! ilert {
    ($call:expr, $subject:expr) => {
        match $call.await {
            Ok(value) => value,
            Err(e) => return $crate::tools::failure($crate::tools::explain(&e, &$subject)),
        }
    };
}

/// Unwraps a `Result<_, String>` whose error is already a sentence for the model.
macro_rules! check {
    ($result:expr) => {
        match $result {
            Ok(value) => value,
            Err(message) => return $crate::tools::failure(message),
        }
    };
}

pub(crate) use {check, ilert, session};

use std::sync::Arc;

use ilert_client::ApiError;
use rmcp::model::{CallToolResult, ContentBlock, JsonObject};
use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde::Serialize;
use serde_json::Value;

/// Input schema for a tool: draft 2020-12, every sub-schema inlined (no `$ref`, no `$defs`),
/// because several clients reject or mishandle references in tool schemas.
pub fn input_schema<T: JsonSchema>() -> Arc<JsonObject> {
    let mut schema = schema::<T>(SchemaSettings::draft2020_12());
    let object = Arc::make_mut(&mut schema);
    // Unknown arguments are refused with a clear error anyway (`deny_unknown_fields`).
    object.remove("additionalProperties");
    if let Some(properties) = object.get_mut("properties").and_then(|p| p.as_object_mut()) {
        properties.values_mut().for_each(drop_null_option);
        // Objects inside (e.g. a service and its impact) refuse unknown fields anyway.
        // The doc comment of an enum type ("An alert state.") repeats the field's own.
        for items in properties
            .values_mut()
            .filter_map(|p| p.get_mut("items"))
            .filter_map(|i| i.as_object_mut())
        {
            items.remove("additionalProperties");
            if items.contains_key("enum") {
                items.remove("description");
            }
            for inner in items
                .get_mut("properties")
                .and_then(|p| p.as_object_mut())
                .into_iter()
                .flat_map(|p| p.values_mut())
                .filter_map(|p| p.as_object_mut())
                .filter(|p| p.contains_key("enum"))
            {
                inner.remove("description");
            }
        }
    }
    schema
}

/// An optional argument is one the model leaves out; `"default": null` and `["string", "null"]`
/// only invite it to send nulls and cost bytes in every tools/list.
fn drop_null_option(property: &mut serde_json::Value) {
    let Some(object) = property.as_object_mut() else {
        return;
    };
    // A default that is the type's empty value (null, false, [], {}, "") says nothing.
    let empty = |d: &serde_json::Value| match d {
        serde_json::Value::Null => true,
        serde_json::Value::Bool(b) => !b,
        serde_json::Value::String(s) => s.is_empty(),
        serde_json::Value::Array(a) => a.is_empty(),
        serde_json::Value::Object(o) => o.is_empty(),
        serde_json::Value::Number(_) => false,
    };
    if object.get("default").is_some_and(empty) {
        object.remove("default");
    }
    // `Option<Enum>` lists `null` among the values: a client then offers "null" as a choice.
    if let Some(serde_json::Value::Array(values)) = object.get_mut("enum") {
        values.retain(|v| !v.is_null());
    }
    if let Some(serde_json::Value::Array(types)) = object.get("type") {
        let non_null: Vec<serde_json::Value> = types
            .iter()
            .filter(|t| t.as_str() != Some("null"))
            .cloned()
            .collect();
        if let [only] = non_null.as_slice() {
            object.insert("type".into(), only.clone());
        }
    }
}

/// Output schema for a tool: what `Serialize` writes, inlined like [`input_schema`], and compact.
/// Clients validate `structuredContent` with it; models read the text and the tool description,
/// so field descriptions are dropped and objects inside keep only their
/// type. That keeps every tool's schema while the whole tools/list stays within its byte budget.
pub fn output_schema<T: JsonSchema>() -> Arc<JsonObject> {
    let mut schema = schema::<T>(SchemaSettings::draft2020_12().for_serialize());
    compact(Arc::make_mut(&mut schema), 0);
    schema
}

/// Trims a tool's definition for tools/list, where every byte is paid in every conversation:
/// the title is said once (the top-level `title`, not again in the annotations), and an output
/// schema is kept only where it carries information. A compacted schema whose top level is a
/// holder of lists and opaque objects (`{"services": [object]}`), with a flag or two, tells a
/// client nothing its `structuredContent` does not; one that names at least four scalar fields
/// (a single alert, incident, service, user) is kept.
pub fn slim(tool: &mut rmcp::model::Tool) {
    if let Some(annotations) = tool.annotations.as_mut()
        && annotations.title.is_some()
        && annotations.title.as_deref() == tool.title.as_deref()
    {
        annotations.title = None;
    }
    // A write's answer is a receipt the model reads as text; a schema for it buys a client nothing
    // it can act on, and costs every tools/list.
    let writes = tool.annotations.as_ref().and_then(|a| a.read_only_hint) == Some(false);
    if writes
        || tool
            .output_schema
            .as_deref()
            .is_some_and(|s| !informative(s))
    {
        tool.output_schema = None;
    }
}

fn informative(schema: &JsonObject) -> bool {
    let scalars = schema
        .get("properties")
        .and_then(|p| p.as_object())
        .map_or(0, |props| {
            props
                .values()
                .filter(|p| {
                    let kind = p.get("type").and_then(|t| t.as_str());
                    kind.is_some() && !matches!(kind, Some("array" | "object"))
                })
                .count()
        });
    scalars >= 4
}

fn compact(object: &mut JsonObject, depth: usize) {
    object.remove("description");
    // Fields and their types are the information; answers leave optional fields out, so which
    // are always there is left to the answers themselves.
    object.remove("required");
    // Optional output fields are left out, never written as null (`skip_serializing_if`); a test
    // checks every tool's output against its schema.
    if let Some(serde_json::Value::Array(types)) = object.get("type")
        && let [one, null] = types.as_slice()
        && null == "null"
    {
        let one = one.clone();
        object.insert("type".into(), one);
    }
    if depth > 0 && object.get("type").is_some_and(|t| t == "object") {
        object.remove("properties");
        object.remove("required");
        object.remove("additionalProperties");
        return;
    }
    // A list of opaque objects is just a list.
    if depth > 0
        && object
            .get("items")
            .is_some_and(|i| i.get("type").is_some_and(|t| t == "object"))
    {
        object.remove("items");
        return;
    }
    for key in ["properties", "items"] {
        match object.get_mut(key) {
            Some(serde_json::Value::Object(child)) if key == "items" => compact(child, depth + 1),
            Some(serde_json::Value::Object(props)) => {
                for prop in props.values_mut().filter_map(|p| p.as_object_mut()) {
                    compact(prop, depth + 1);
                }
            }
            _ => {}
        }
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(serde_json::Value::Array(variants)) = object.get_mut(key) {
            for variant in variants.iter_mut().filter_map(|v| v.as_object_mut()) {
                compact(variant, depth);
            }
        }
    }
}

fn schema<T: JsonSchema>(mut settings: SchemaSettings) -> Arc<JsonObject> {
    settings.inline_subschemas = true;
    let schema = settings.into_generator().into_root_schema_for::<T>();
    let mut object = match schema.to_value() {
        serde_json::Value::Object(object) => object,
        _ => JsonObject::new(),
    };
    // `$schema` and `title` are noise in a tools/list answer; the tool has its own title.
    object.remove("$schema");
    object.remove("title");
    drop_numeric_formats(&mut object);
    if !object.contains_key("type") {
        object.insert("type".into(), "object".into());
    }
    Arc::new(object)
}

/// schemars marks Rust integer widths as formats (`int64`, `uint32`, `uint`); JSON Schema does not
/// define them and validators such as ajv warn on every tools/list. The range is what matters.
fn drop_numeric_formats(object: &mut JsonObject) {
    let numeric = object
        .get("format")
        .and_then(|f| f.as_str())
        .is_some_and(|f| {
            matches!(
                f,
                "int8"
                    | "int16"
                    | "int32"
                    | "int64"
                    | "uint"
                    | "uint8"
                    | "uint16"
                    | "uint32"
                    | "uint64"
                    | "float"
                    | "double"
            )
        });
    if numeric {
        object.remove("format");
    }
    for value in object.values_mut() {
        match value {
            serde_json::Value::Object(child) => drop_numeric_formats(child),
            serde_json::Value::Array(items) => {
                for item in items.iter_mut().filter_map(|i| i.as_object_mut()) {
                    drop_numeric_formats(item);
                }
            }
            _ => {}
        }
    }
}

/// A successful result: `structuredContent` for programs, a compact text rendering for the model.
pub fn structured<T: Serialize>(value: &T, text: String) -> CallToolResult {
    match serde_json::to_value(value) {
        Ok(structured) => structured_value(structured, text),
        Err(e) => failure(format!(
            "ilert-mcp could not serialise its own answer ({e}); please report this bug."
        )),
    }
}

/// [`structured`] for an answer already built as JSON.
pub fn structured_value(value: Value, text: String) -> CallToolResult {
    let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
    result.structured_content = Some(value);
    result
}

/// A result's text content, joined.
pub fn result_text(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text())
        .map(|t| t.text.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

/// `text` without pointers to the `hidden` tools: a parenthesis or a trailing "; ..." or
/// ", or ..." clause naming one is cut, any other sentence naming one is left out.
pub fn without_tools(text: &str, hidden: &[&str]) -> String {
    let names = |s: &str| {
        hidden.iter().any(|h| {
            s.match_indices(h).any(|(at, _)| {
                let before = s.get(..at).and_then(|b| b.chars().next_back());
                let after = s.get(at + h.len()..).and_then(|a| a.chars().next());
                let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
                !word(before) && !word(after)
            })
        })
    };
    if !names(text) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let mut kept: Vec<String> = Vec::new();
        for sentence in line.split_inclusive(". ") {
            if !names(sentence) {
                kept.push(sentence.to_owned());
                continue;
            }
            let mut s = sentence.to_owned();
            while let (Some(open), Some(close)) = (s.find(" ("), s.find(')'))
                && open < close
                && names(s.get(open..=close).unwrap_or(""))
            {
                s.replace_range(open..=close, "");
            }
            for joint in ["; ", ", or "] {
                if names(&s)
                    && let Some(at) = s.rfind(joint)
                    && !names(s.get(..at).unwrap_or(""))
                {
                    let end = if s.ends_with(' ') { ". " } else { "." };
                    s = format!("{}{end}", s.get(..at).unwrap_or(""));
                }
            }
            if !names(&s) {
                kept.push(s);
            }
        }
        out.push_str(kept.concat().trim_end_matches(' '));
        if line.ends_with('\n') && !out.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

/// One line per item, or `empty` when there are none: the text mirror of a list.
pub fn lines_or<T>(items: &[T], line: impl Fn(&T) -> String, empty: &str) -> String {
    if items.is_empty() {
        return empty.to_owned();
    }
    items.iter().map(line).collect::<Vec<_>>().join("\n")
}

/// A tool-level error (`isError: true`) whose text says what to do next.
pub fn failure(text: impl Into<String>) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(text.into())])
}

/// What a failed call was about, for the error sentence: "alert 4711", "your user".
pub fn explain(error: &ApiError, subject: &str) -> String {
    match error {
        ApiError::Unauthorized { .. } | ApiError::InvalidKey { .. } => format!(
            "ilert rejected the API key ({}). Check the `Authorization: Bearer <API key>` header (or \
             ILERT_API_KEY for stdio) and that the key is still active in ilert under Profile → API Keys.",
            error
                .status()
                .map_or_else(|| "auth".to_owned(), |s| s.to_string())
        ),
        ApiError::Forbidden { message, .. } => format!(
            "Your ilert user is not allowed to do this for {subject}: ilert said \"{message}\". \
             Your role in ilert limits what you may change (stakeholders and guests only read; responders \
             work alerts and incidents but not schedules); ask an ilert admin if you need more."
        ),
        ApiError::NotFound { .. } => format!(
            "{} was not found, or your ilert user cannot see it. Check the id and try again.",
            capitalise(subject)
        ),
        ApiError::RateLimited { message } => format!(
            "The rate limit for this API key is used up ({message}). Wait until it resets before \
             calling ilert tools again."
        ),
        ApiError::Rejected {
            status, message, ..
        } => {
            format!(
                "ilert refused the request for {subject} ({status}): {message}. Adjust the arguments and retry."
            )
        }
        ApiError::Upstream { status, .. } => format!(
            "ilert is having problems (HTTP {status}) and could not handle the request for {subject}. \
             Try again in a minute."
        ),
        ApiError::Transport {
            kind: ilert_client::TransportKind::Timeout,
            ..
        } => {
            format!(
                "ilert did not answer in time for {subject}. It may be slow or down; try again in a minute."
            )
        }
        ApiError::Transport { message, .. } => format!(
            "ilert-mcp could not reach ilert ({message}). Check the network and the ilert URL \
             (ILERT_BASE_URL / --ilert-url), then retry."
        ),
        ApiError::Decode { message } => format!(
            "ilert sent an answer for {subject} that ilert-mcp cannot read ({message}). This is a bug in \
             ilert-mcp; please report it."
        ),
    }
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::without_tools;

    #[test]
    fn errors_name_only_tools_the_caller_has() {
        let hidden = ["find_users", "list_alert_sources"];
        assert_eq!(
            without_tools(
                "No user matches \"zed\". Known: Ana (id 1). Use an id, or find_users to search.",
                &hidden
            ),
            "No user matches \"zed\". Known: Ana (id 1). Use an id."
        );
        assert_eq!(
            without_tools(
                "No source for X. Pass `source` (list_alert_sources shows them).",
                &hidden
            ),
            "No source for X. Pass `source`."
        );
        assert_eq!(
            without_tools(
                "Name the source or the `service`; list_alert_sources shows the sources.",
                &hidden
            ),
            "Name the source or the `service`."
        );
        assert_eq!(
            without_tools("Check the user with find_users.\nNext line.", &hidden),
            "\nNext line."
        );
        let offered = "Use an id, or list_teams to search.";
        assert_eq!(without_tools(offered, &hidden), offered);
        // A name inside a longer word is not the tool.
        assert_eq!(
            without_tools("see find_users_v2.", &hidden),
            "see find_users_v2."
        );
    }
}
