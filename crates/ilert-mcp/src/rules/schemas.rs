//! Tool schemas: the input and output schemas every tool declares, inlined and compact, and the
//! trimming that keeps the whole tools/list within its byte budget.

use std::sync::Arc;

use rmcp::model::JsonObject;
use schemars::JsonSchema;
use schemars::generate::SchemaSettings;

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
