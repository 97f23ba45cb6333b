//! Checks the sandbox's JSON against the schemas of ilert's OpenAPI document: required fields,
//! JSON types, enums and date-time formats.

use serde_json::Value;

use crate::db::Db;
use crate::openapi::OPENAPI_JSON;
use crate::{alerts, seed, users};

/// Enums the server treats as open: ilert accepts any IANA zone (the spec lists four).
const OPEN_ENUMS: &[&str] = &["#/components/schemas/TimeZone"];

/// Every `Alert` property of spec v2.2026.5-r.3, the newer revision (YAML, not embedded).
const ALERT_PROPERTIES_V2026_5: &[&str] = &[
    "id",
    "summary",
    "details",
    "reportTime",
    "resolvedOn",
    "status",
    "alertSource",
    "escalationPolicy",
    "priority",
    "alertKey",
    "assignedTo",
    "nextEscalation",
    "escalationRules",
    "nextEscalationUser",
    "nextEscalationRuleIndex",
    "images",
    "links",
    "responders",
    "severity",
    "labels",
    "customDetails",
    "linkedIncidentId",
    "mergedIntoId",
    "mergeState",
];

fn spec() -> Value {
    serde_json::from_slice(OPENAPI_JSON).unwrap()
}

fn resolve<'a>(spec: &'a Value, reference: &str) -> &'a Value {
    let pointer = reference.trim_start_matches('#');
    spec.pointer(pointer)
        .unwrap_or_else(|| panic!("unresolvable {reference}"))
}

fn check(spec: &Value, schema: &Value, value: &Value, path: &str, errors: &mut Vec<String>) {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let target = resolve(spec, reference);
        if OPEN_ENUMS.contains(&reference) {
            if !value.is_string() {
                errors.push(format!("{path}: expected a string"));
            }
            return;
        }
        check(spec, target, value, path, errors);
        return;
    }
    if value.is_null() {
        return;
    }
    let ty = schema.get("type").and_then(Value::as_str);
    match ty {
        Some("object") | None if schema.get("properties").is_some() || ty == Some("object") => {
            let Some(obj) = value.as_object() else {
                errors.push(format!("{path}: expected an object, got {value}"));
                return;
            };
            for req in schema["required"].as_array().into_iter().flatten() {
                let name = req.as_str().unwrap();
                if obj.get(name).is_none_or(Value::is_null) {
                    errors.push(format!("{path}: required field '{name}' is missing"));
                }
            }
            let props = schema.get("properties").and_then(Value::as_object);
            for (k, v) in obj {
                if let Some(prop) = props.and_then(|p| p.get(k)) {
                    check(spec, prop, v, &format!("{path}.{k}"), errors);
                } else if let Some(extra) =
                    schema.get("additionalProperties").filter(|a| a.is_object())
                {
                    check(spec, extra, v, &format!("{path}.{k}"), errors);
                }
            }
        }
        Some("array") => {
            let Some(items) = value.as_array() else {
                errors.push(format!("{path}: expected an array, got {value}"));
                return;
            };
            for (i, item) in items.iter().enumerate() {
                check(
                    spec,
                    &schema["items"],
                    item,
                    &format!("{path}[{i}]"),
                    errors,
                );
            }
        }
        Some("string") => match value.as_str() {
            None => errors.push(format!("{path}: expected a string, got {value}")),
            Some(s) => {
                if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
                    && !allowed.iter().any(|a| a == s)
                {
                    errors.push(format!("{path}: '{s}' is not one of {allowed:?}"));
                }
                if schema.get("format").and_then(Value::as_str) == Some("date-time")
                    && !(s.ends_with('Z') && crate::time::parse(s).is_some())
                {
                    errors.push(format!("{path}: '{s}' is not an ISO-8601 UTC date-time"));
                }
            }
        },
        Some("integer") => match value.as_i64() {
            None => errors.push(format!("{path}: expected an integer, got {value}")),
            Some(n) => {
                let min = schema
                    .get("minimum")
                    .and_then(Value::as_i64)
                    .unwrap_or(i64::MIN);
                let max = schema
                    .get("maximum")
                    .and_then(Value::as_i64)
                    .unwrap_or(i64::MAX);
                if !(min..=max).contains(&n) {
                    errors.push(format!("{path}: {n} is outside {min}..={max}"));
                }
            }
        },
        Some("number") if !value.is_number() => {
            errors.push(format!("{path}: expected a number, got {value}"));
        }
        Some("boolean") if !value.is_boolean() => {
            errors.push(format!("{path}: expected a boolean, got {value}"));
        }
        _ => {}
    }
}

fn seeded_db() -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().unwrap();
    let (db, empty) = Db::open(&dir.path().join("sandbox.db")).unwrap();
    assert!(empty);
    db.with_conn(seed::seed).unwrap();
    (dir, db)
}

fn assert_conforms(schema_name: &str, values: &[Value]) {
    let spec = spec();
    let schema = resolve(&spec, &format!("#/components/schemas/{schema_name}"));
    let mut errors = Vec::new();
    for v in values {
        check(
            &spec,
            schema,
            v,
            &format!("{schema_name}#{}", v["id"]),
            &mut errors,
        );
    }
    assert!(
        errors.is_empty(),
        "{} violations:\n{}",
        errors.len(),
        errors.join("\n")
    );
}

#[test]
fn every_seeded_alert_matches_the_alert_schema() {
    let (_dir, db) = seeded_db();
    let alerts = db.with_conn(|c| alerts::tests::all_seeded_alerts_json(c));
    assert_eq!(alerts.len(), 14);
    assert_conforms("Alert", &alerts);
    for alert in &alerts {
        for key in alert.as_object().unwrap().keys() {
            assert!(
                ALERT_PROPERTIES_V2026_5.contains(&key.as_str()),
                "alert {} has '{key}', which the Alert schema does not define",
                alert["id"]
            );
        }
        for field in [
            "id",
            "summary",
            "reportTime",
            "status",
            "priority",
            "alertSource",
            "escalationPolicy",
            "responders",
            "links",
            "images",
            "labels",
            "mergeState",
        ] {
            assert!(
                !alert[field].is_null(),
                "alert {} lacks {field}",
                alert["id"]
            );
        }
        assert!(
            alert["alertSource"]["integrationKey"]
                .as_str()
                .is_some_and(|k| k.starts_with("il1"))
        );
        let resolved = alert["status"] == "RESOLVED";
        assert_eq!(
            resolved,
            !alert["resolvedOn"].is_null(),
            "alert {}",
            alert["id"]
        );
    }
}

#[test]
fn every_seeded_user_matches_the_user_schema() {
    let (_dir, db) = seeded_db();
    let all: Vec<Value> = db.with_conn(|c| {
        let mut list: Vec<_> = users::load_all(c).unwrap().into_values().collect();
        list.sort_by_key(|u| u.id);
        list.iter().map(users::user_json).collect()
    });
    assert_eq!(all.len(), 6);
    assert_conforms("User", &all);
}

#[test]
fn the_checker_catches_violations() {
    let (_dir, db) = seeded_db();
    let mut alert = db
        .with_conn(|c| alerts::tests::all_seeded_alerts_json(c))
        .remove(0);
    alert["status"] = "FOO".into();
    alert["reportTime"] = "yesterday".into();
    alert["alertSource"]["name"] = Value::Null;
    alert["responders"][0]["user"]["firstName"] = 7.into();
    let spec = spec();
    let mut errors = Vec::new();
    check(
        &spec,
        resolve(&spec, "#/components/schemas/Alert"),
        &alert,
        "a",
        &mut errors,
    );
    assert_eq!(errors.len(), 4, "{errors:#?}");
}
