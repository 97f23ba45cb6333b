//! The contract: every implemented operation, called for success and for errors, each answer
//! validated against ilert's OpenAPI document (`spec/ilert-openapi.json`, with the schemas that
//! changed in v2.2026.5 laid over it) by a JSON Schema validator.
//!
//! - OpenAPI 3.0 `nullable: true` becomes a JSON Schema `null` type.
//! - Strict: every object schema with `properties` gets `additionalProperties: false`, so a
//!   field the document does not define fails, at any depth.
//! - Every status must be one the operation documents, or one of [`ALLOWED_STATUSES`], which
//!   NOTES.md records as real ilert behaviour; error bodies are checked against `RestError`.
//! - Where the sandbox follows NOTES.md rather than the schema, [`Relax`] names the deviation
//!   and the reason, and only that call is checked against the adjusted schema.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use reqwest::Method;
use serde_json::{Map, Value, json};

use crate::common::*;

const SPEC: &str = include_str!("../../../../spec/ilert-openapi.json");
const OVERLAY: &str = include_str!("spec-v2026.5-overlay.json");

/// Statuses the document does not list per operation but ilert sends, per NOTES.md.
const ALLOWED_STATUSES: &[(u16, &str)] = &[
    (
        400,
        "NOTES 1.5/1.6: malformed bodies, bad parameters and max-results over the cap are 400",
    ),
    (401, "NOTES 1.5: a missing Authorization header is 401"),
    (
        403,
        "NOTES 1.5: a bad key is 403 KEY_ERROR; role limits are 403",
    ),
    (
        404,
        "NOTES 1.5: unknown or invisible ids are 404; NOTES 3.2: unknown integration key on /events",
    ),
    (
        412,
        "NOTES 1.5 and the spec's If-Match parameter: stale ETag on PUT /incidents/{id}",
    ),
    (429, "NOTES 1.4: over the per-key budget"),
];

/// Where the sandbox answers with the status ilert's own clients require rather than the one the
/// spec documents (spec/README.md, "Status codes"): the operation, the status answered, and the
/// documented response whose body schema the answer must match.
/// An operation's documented response: method, path, status.
type Documented = (&'static str, &'static str, &'static str);
const CLIENT_STATUSES: &[(&str, &str, u16, Documented)] = &[
    // ilert's Go client and Terraform provider accept only 201 for these creates.
    ("POST", "/teams", 201, ("POST", "/teams", "200")),
    ("POST", "/services", 201, ("POST", "/services", "200")),
    // ilert's Go client accepts only 202 and decodes the subscriber list from the body.
    (
        "PUT",
        "/services/{id}/private-subscribers",
        202,
        ("GET", "/services/{id}/private-subscribers", "200"),
    ),
    (
        "POST",
        "/incidents/{id}/private-subscribers",
        202,
        ("GET", "/incidents/{id}/private-subscribers", "200"),
    ),
];

/// A documented deviation for one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Relax {
    /// NOTES 3.3 ([CLI] on_call.rs): without `expand`, user, escalationPolicy and schedule
    /// are bare `{"id"}` references.
    BareOnCallRefs,
    /// NOTES 3.1 / 9.3: the spec types `GET /alerts/{id}/actions` as one object, its text and
    /// ilert's clients say a list; the sandbox answers with a list of `AlertActionTrigger`.
    ActionList,
    /// The list's `include=integrationKey|integrationUrl` parameter adds fields its
    /// `HeartbeatMonitorNoIncludes` item schema lacks; checked against `HeartbeatMonitor`.
    HeartbeatIncludes,
}

struct Contract {
    spec: Value,
    components: Value,
    validators: HashMap<String, jsonschema::Validator>,
    operations: BTreeSet<(String, String)>,
    exercised: BTreeMap<(String, String), BTreeSet<u16>>,
    failures: Vec<String>,
    calls: usize,
}

/// OpenAPI 3.0 schema → JSON Schema (draft 7), strict about unknown properties.
fn convert(schema: &Value) -> Value {
    let Value::Object(m) = schema else {
        return schema.clone();
    };
    let mut out = Map::new();
    for (k, v) in m {
        let converted = match k.as_str() {
            "nullable" | "example" | "discriminator" | "xml" | "externalDocs" => continue,
            "properties" => Value::Object(
                v.as_object()
                    .into_iter()
                    .flatten()
                    .map(|(name, s)| (name.clone(), convert(s)))
                    .collect(),
            ),
            "items" | "not" => convert(v),
            "additionalProperties" if v.is_object() => convert(v),
            "oneOf" | "anyOf" | "allOf" => {
                Value::Array(v.as_array().into_iter().flatten().map(convert).collect())
            }
            _ => v.clone(),
        };
        out.insert(k.clone(), converted);
    }
    if m.get("nullable") == Some(&Value::Bool(true)) {
        match out.get("type").cloned() {
            Some(t @ Value::String(_)) => {
                out.insert("type".into(), json!([t, "null"]));
            }
            _ => return json!({"anyOf": [Value::Object(out), {"type": "null"}]}),
        }
    }
    let composed = ["oneOf", "anyOf", "allOf"]
        .iter()
        .any(|k| out.contains_key(*k));
    if out.contains_key("properties") && !out.contains_key("additionalProperties") && !composed {
        out.insert("additionalProperties".into(), Value::Bool(false));
    }
    Value::Object(out)
}

impl Contract {
    fn new() -> Contract {
        let spec: Value = serde_json::from_str(SPEC).unwrap();
        let overlay: Value = serde_json::from_str(OVERLAY).unwrap();
        let mut schemas = spec["components"]["schemas"].as_object().unwrap().clone();
        for (name, schema) in overlay["schemas"].as_object().unwrap() {
            schemas.insert(name.clone(), schema.clone());
        }
        // NOTES 1.7 / 5: ilert accepts any IANA zone; the spec's enum lists four examples.
        schemas.insert("TimeZone".into(), json!({"type": "string"}));
        // NOTES 1.5: the error body carries `code` too (spec prose; every client reads it).
        schemas["RestError"]["properties"]["code"] = json!({"type": "string"});
        schemas["RestError"]["required"] = json!(["status", "message", "code"]);
        // spec/README.md: the spec types an element's `options` as one string; ilert's Go client
        // and Terraform provider decode a list, which the sandbox sends.
        schemas["StatusPageElement"]["properties"]["options"] =
            json!({"type": "array", "items": {"type": "string", "enum": ["expand", "no-graph"]}});
        // NOTES 3.7: the schema has no `id`, although windows are addressed by one.
        schemas["MaintenanceWindow"]["properties"]["id"] =
            json!({"type": "integer", "format": "int64"});
        let converted: Map<String, Value> = schemas
            .iter()
            .map(|(k, v)| (k.clone(), convert(v)))
            .collect();
        let mut operations = BTreeSet::new();
        for (path, item) in spec["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                if ["get", "put", "post", "delete", "patch"].contains(&method.as_str()) {
                    operations.insert((method.to_uppercase(), path.clone()));
                }
            }
        }
        Contract {
            spec,
            components: json!({"schemas": converted}),
            validators: HashMap::new(),
            operations,
            exercised: BTreeMap::new(),
            failures: Vec::new(),
            calls: 0,
        }
    }

    fn errors(&mut self, schema: &Value, instance: &Value) -> Vec<String> {
        let key = schema.to_string();
        if !self.validators.contains_key(&key) {
            let root = json!({"components": self.components, "allOf": [convert(schema)]});
            let validator = jsonschema::options()
                .with_draft(jsonschema::Draft::Draft7)
                .should_validate_formats(true)
                .should_ignore_unknown_formats(true)
                .build(&root)
                .unwrap();
            self.validators.insert(key.clone(), validator);
        }
        self.validators[&key]
            .iter_errors(instance)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect()
    }

    fn schema_ref(name: &str) -> Value {
        json!({"$ref": format!("#/components/schemas/{name}")})
    }

    /// Checks one answer; `op` is (method, spec path).
    fn check(&mut self, op: (&str, &str), what: &str, r: &Reply, relax: Option<Relax>) {
        self.calls += 1;
        let (method, path) = (op.0.to_owned(), op.1.to_owned());
        let status = r.status.as_u16();
        let fail = |this: &mut Contract, msg: String| {
            this.failures
                .push(format!("{method} {path} ({what}) {status}: {msg}"))
        };
        if !self.operations.contains(&(method.clone(), path.clone())) {
            fail(self, "not an operation of the spec".into());
            return;
        }
        self.exercised
            .entry((method.clone(), path.clone()))
            .or_default()
            .insert(status);
        let responses = self.spec["paths"][&path][method.to_lowercase()]["responses"].clone();
        let as_clients = CLIENT_STATUSES
            .iter()
            .find(|(m, p, st, _)| *m == method && *p == path && *st == status)
            .map(|(_, _, _, (m, p, st))| {
                self.spec["paths"][*p][m.to_lowercase()]["responses"][*st].clone()
            });
        let documented = as_clients.or_else(|| responses.get(status.to_string()).cloned());
        let allowed = ALLOWED_STATUSES.iter().any(|(s, _)| *s == status);
        if documented.is_none() && !allowed {
            fail(
                self,
                format!(
                    "status not documented (documents {:?})",
                    responses.as_object().unwrap().keys().collect::<Vec<_>>()
                ),
            );
            return;
        }
        let schema = documented
            .as_ref()
            .and_then(|d| d["content"].as_object())
            .and_then(|c| c.values().next())
            .and_then(|c| c.get("schema"))
            .cloned();
        let schema = match (status, schema, relax) {
            (200, _, Some(Relax::ActionList)) => {
                Some(json!({"type": "array", "items": Self::schema_ref("AlertActionTrigger")}))
            }
            (200, _, Some(Relax::HeartbeatIncludes)) => {
                Some(json!({"type": "array", "items": Self::schema_ref("HeartbeatMonitor")}))
            }
            (200, _, Some(Relax::BareOnCallRefs)) => {
                let bare = json!({"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}});
                let mut on_call = self.components["schemas"]["OnCall"].clone();
                for field in ["user", "escalationPolicy", "schedule"] {
                    on_call["properties"][field] = bare.clone();
                }
                Some(json!({"type": "array", "items": on_call}))
            }
            (400.., None, _) => Some(Self::schema_ref("RestError")),
            // spec/README.md: the 202 carries `{alertKey, alertUrl, responseCode}`, the shape
            // ilert's Go client decodes; the spec documents no body.
            (202, None, _) if path == "/events" => Some(json!({
                "type": "object",
                "required": ["responseCode"],
                "additionalProperties": false,
                "properties": {
                    "alertKey": {"type": ["string", "null"]},
                    "alertUrl": {"type": ["string", "null"]},
                    "responseCode": {"type": "string"}
                }
            })),
            (_, schema, _) => schema,
        };
        match (&schema, &r.body) {
            (None, Value::Null) => {}
            (None, body) if status == 200 => {
                // The reports document their shape in prose only; any JSON is accepted.
                let _ = body;
            }
            (None, body) => fail(self, format!("documented without a body, but got {body}")),
            (Some(_), Value::Null) => fail(self, "documented with a body, but got none".into()),
            (Some(schema), body) => {
                let errors = self.errors(schema, body);
                if !errors.is_empty() {
                    fail(
                        self,
                        errors.into_iter().take(8).collect::<Vec<_>>().join("; "),
                    );
                }
                if *schema == Self::schema_ref("RestError") && body["status"] != status {
                    fail(self, format!("error body says status {}", body["status"]));
                }
            }
        }
    }
}

/// Sends a request and checks the answer against the contract.
struct Caller<'a> {
    s: &'a Server,
    c: Contract,
}

impl Caller<'_> {
    async fn call(
        &mut self,
        op: (&str, &str),
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
        expect: u16,
    ) -> Reply {
        self.call_with(op, path, key, body, expect, &[], None).await
    }

    #[allow(clippy::too_many_arguments)]
    async fn call_with(
        &mut self,
        op: (&str, &str),
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
        expect: u16,
        headers: &[(&str, &str)],
        relax: Option<Relax>,
    ) -> Reply {
        let method = Method::from_bytes(op.0.as_bytes()).unwrap();
        let mut req = self
            .s
            .client
            .request(method, format!("{}/api{path}", self.s.base));
        if let Some(key) = key {
            req = req.header("Authorization", format!("Bearer {key}"));
        }
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        if let Some(body) = &body {
            req = req
                .header("Content-Type", "application/json")
                .body(body.to_string());
        }
        let r = reply(req.send().await.unwrap()).await;
        let what = format!("{path} as {}", key.unwrap_or("nobody"));
        if r.status.as_u16() != expect {
            self.c.failures.push(format!(
                "{} {} ({what}): expected {expect}, got {}: {}",
                op.0, op.1, r.status, r.body
            ));
        }
        self.c.check(op, &what, &r, relax);
        r
    }
}

fn id_of(r: &Reply) -> i64 {
    r.body["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no id in {}", r.body))
}

/// Operations the sandbox leaves out on purpose: (methods, path prefix, reason); `*` is every
/// method. The test fails when an entry names an operation the sandbox serves, or none at all.
const LEFT_OUT: &[(&str, &str, &str)] = &[
    (
        "*",
        "/users/{user-id}/contacts",
        "contact methods: the sandbox sends no notifications",
    ),
    (
        "*",
        "/users/{user-id}/notification-preferences",
        "notification rules: nothing is delivered",
    ),
    ("*", "/numbers", "phone numbers: no telephony"),
    (
        "GET",
        "/integrations",
        "integration catalogue: static marketing data",
    ),
    (
        "*",
        "/support-hours",
        "support hours: not in the tool catalogue",
    ),
    (
        "*",
        "/alert-actions",
        "alert action configuration: only per-alert actions are served",
    ),
    (
        "*",
        "/connectors",
        "connectors: credentials for third parties",
    ),
    (
        "*",
        "/series/{key}",
        "metric ingestion: metrics are not modelled",
    ),
    (
        "*",
        "/deployment-events",
        "deployment events: pipelines are not modelled",
    ),
    (
        "*",
        "/incident-templates",
        "templates: not in the tool catalogue",
    ),
    (
        "POST PUT DELETE",
        "/status-pages/{id}/groups",
        "group editing (listing and reading groups are served)",
    ),
    (
        "*",
        "/service-outages/overrides",
        "outage corrections, reads too: nothing can create one, so a read would only ever be empty",
    ),
    ("*", "/metric-data-sources", "metrics are not modelled"),
    ("*", "/metrics", "metrics are not modelled"),
    ("*", "/deployment-pipelines", "pipelines are not modelled"),
    (
        "*",
        "/event-flows",
        "event flows: routing rules are not modelled",
    ),
    ("*", "/call-flows", "call routing: no telephony"),
    ("*", "/call-flow-numbers", "call routing: no telephony"),
    (
        "GET",
        "/reports/api-keys/usage",
        "API key usage: per-tenant billing data",
    ),
];

fn left_out(op: &(String, String)) -> Option<&'static (&'static str, &'static str, &'static str)> {
    LEFT_OUT.iter().find(|(methods, prefix, _)| {
        op.1.starts_with(prefix) && (*methods == "*" || methods.split(' ').any(|m| m == op.0))
    })
}

#[tokio::test]
async fn every_operation_matches_the_openapi_document() {
    let s = start().await;
    let mut k = Caller {
        s: &s,
        c: Contract::new(),
    };
    let (a, u, r, st) = (Some(ADMIN), Some(USER), Some(RESPONDER), Some(STAKEHOLDER));

    // Users.
    k.call(("GET", "/users"), "/users?max-results=100", a, None, 200)
        .await;
    k.call(("GET", "/users"), "/users?max-results=101", a, None, 400)
        .await;
    k.call(("GET", "/users"), "/users", None, None, 401).await;
    k.call(("GET", "/users"), "/users", Some("not-a-key"), None, 403)
        .await;
    k.call(("GET", "/users/current"), "/users/current", st, None, 200)
        .await;
    let me = json!({"firstName": "Jonas", "lastName": "Weber", "email": "jonas.weber@example.com", "language": "en"});
    k.call(
        ("PUT", "/users/current"),
        "/users/current",
        u,
        Some(me),
        200,
    )
    .await;
    k.call(
        ("PUT", "/users/current"),
        "/users/current",
        u,
        Some(json!({"firstName": "J"})),
        400,
    )
    .await;
    k.call(("GET", "/users/{user-id}"), "/users/10007", r, None, 200)
        .await;
    k.call(
        ("GET", "/users/{user-id}"),
        "/users/ana.souza@example.com",
        r,
        None,
        200,
    )
    .await;
    k.call(("GET", "/users/{user-id}"), "/users/1", r, None, 404)
        .await;
    k.call(
        ("POST", "/users/search-email"),
        "/users/search-email",
        st,
        Some(json!({"email": "Yuki.Tanaka@example.com"})),
        200,
    )
    .await;
    k.call(
        ("POST", "/users/search-email"),
        "/users/search-email",
        st,
        Some(json!({"email": "nobody@example.com"})),
        404,
    )
    .await;
    let new_user = json!({"firstName": "Kai", "lastName": "Berg", "email": "kai.berg@example.com", "timezone": "Europe/Oslo", "role": "RESPONDER"});
    k.call(("POST", "/users"), "/users", u, Some(new_user.clone()), 403)
        .await;
    let kai = id_of(
        &k.call(
            ("POST", "/users"),
            "/users?send-no-invitation=true",
            a,
            Some(new_user.clone()),
            201,
        )
        .await,
    );
    let mut changed = new_user;
    changed["role"] = json!("USER");
    k.call(
        ("PUT", "/users/{user-id}"),
        &format!("/users/{kai}"),
        a,
        Some(changed),
        200,
    )
    .await;
    k.call(
        ("DELETE", "/users/{user-id}"),
        &format!("/users/{kai}"),
        a,
        None,
        204,
    )
    .await;
    k.call(
        ("DELETE", "/users/{user-id}"),
        &format!("/users/{kai}"),
        a,
        None,
        404,
    )
    .await;

    // Teams.
    k.call(("GET", "/teams"), "/teams?members=10003", st, None, 200)
        .await;
    let team = json!({"name": "Search", "visibility": "PRIVATE", "members": [{"user": {"id": 10012}, "role": "ADMIN"}]});
    k.call(("POST", "/teams"), "/teams", r, Some(team.clone()), 403)
        .await;
    let team_id = id_of(
        &k.call(("POST", "/teams"), "/teams", u, Some(team.clone()), 201)
            .await,
    );
    k.call(
        ("GET", "/teams/{id}"),
        &format!("/teams/{team_id}"),
        r,
        None,
        200,
    )
    .await;
    k.call(
        ("PUT", "/teams/{id}"),
        &format!("/teams/{team_id}"),
        u,
        Some(team),
        200,
    )
    .await;
    k.call(
        ("POST", "/teams/{id}/members"),
        &format!("/teams/{team_id}/members"),
        u,
        Some(json!({"user": {"id": 10006}, "role": "RESPONDER"})),
        200,
    )
    .await;
    k.call(
        ("DELETE", "/teams/{id}/members/{id}"),
        &format!("/teams/{team_id}/members/10006"),
        u,
        None,
        204,
    )
    .await;
    k.call(
        ("DELETE", "/teams/{id}"),
        &format!("/teams/{team_id}"),
        u,
        None,
        204,
    )
    .await;
    k.call(("GET", "/teams/{id}"), "/teams/1", r, None, 404)
        .await;

    // Alerts.
    k.call(
        ("GET", "/alerts"),
        "/alerts?include=nextEscalationUser&max-results=100",
        st,
        None,
        200,
    )
    .await;
    k.call(
        ("GET", "/alerts"),
        "/alerts?states=PENDING&states=ACCEPTED&sources=202543&policies=3101",
        a,
        None,
        200,
    )
    .await;
    k.call(("GET", "/alerts"), "/alerts?max-results=101", a, None, 400)
        .await;
    k.call(
        ("GET", "/alerts/count"),
        "/alerts/count?states=RESOLVED",
        st,
        None,
        200,
    )
    .await;
    k.call(
        ("GET", "/alerts/{id}"),
        "/alerts/4722?include=escalationRules&include=nextEscalationUser&include=customDetails",
        a,
        None,
        200,
    )
    .await;
    k.call(("GET", "/alerts/{id}"), "/alerts/1", a, None, 404)
        .await;
    k.call(
        ("GET", "/alerts/{id}/suggested-responders"),
        "/alerts/4722/suggested-responders?lang=de",
        r,
        None,
        200,
    )
    .await;
    k.call(
        ("GET", "/alerts/{id}/notifications"),
        "/alerts/4722/notifications",
        r,
        None,
        200,
    )
    .await;
    k.call(
        ("GET", "/alerts/{id}/log-entries"),
        "/alerts/4722/log-entries?include=vars&lang=de",
        r,
        None,
        200,
    )
    .await;
    k.call(
        ("GET", "/alerts/{id}/log-entries"),
        "/alerts/4722/log-entries?filter-types=NOTIFICATIONS&max-results=100",
        r,
        None,
        200,
    )
    .await;
    k.call(
        ("GET", "/alerts/{id}/log-entries"),
        "/alerts/4722/log-entries?max-results=101",
        r,
        None,
        400,
    )
    .await;
    k.call_with(
        ("GET", "/alerts/{id}/actions"),
        "/alerts/4712/actions",
        r,
        None,
        200,
        &[],
        Some(Relax::ActionList),
    )
    .await;
    k.call(
        ("POST", "/alerts/{id}/actions"),
        "/alerts/4712/actions",
        r,
        Some(json!({"alertActionId": "slack-checkout-incidents"})),
        201,
    )
    .await;
    k.call(
        ("POST", "/alerts/{id}/actions"),
        "/alerts/4712/actions",
        st,
        Some(json!({"alertActionId": "slack-checkout-incidents"})),
        403,
    )
    .await;
    let manual = json!({"summary": "Refunds stuck in pending", "details": "Support reports 12 refunds", "alertSource": {"id": 202543}, "priority": "HIGH", "links": [{"href": "https://example.com", "text": "Ticket"}]});
    let created = k
        .call(("POST", "/alerts"), "/alerts", r, Some(manual.clone()), 201)
        .await;
    let new_alert = id_of(&created);
    k.call(("POST", "/alerts"), "/alerts", st, Some(manual), 403)
        .await;
    k.call(
        ("POST", "/alerts"),
        "/alerts",
        r,
        Some(json!({"summary": "no source"})),
        400,
    )
    .await;
    k.call(
        ("POST", "/alerts/{id}/responders"),
        &format!("/alerts/{new_alert}/responders"),
        r,
        Some(json!({"user": {"id": 10012}})),
        201,
    )
    .await;
    k.call(
        ("POST", "/alerts/{id}/responders"),
        &format!("/alerts/{new_alert}/responders"),
        r,
        Some(json!({"userId": 10012})),
        405,
    )
    .await;
    k.call(
        ("POST", "/alerts/{id}/responders"),
        &format!("/alerts/{new_alert}/responders"),
        r,
        Some(json!({"userId": 1})),
        404,
    )
    .await;
    k.call(
        ("DELETE", "/alerts/{id}/responders/{user-id}"),
        &format!("/alerts/{new_alert}/responders/10012"),
        r,
        None,
        204,
    )
    .await;
    k.call(
        ("DELETE", "/alerts/{id}/responders/{user-id}"),
        &format!("/alerts/{new_alert}/responders/10012"),
        r,
        None,
        404,
    )
    .await;
    k.call(
        ("PUT", "/alerts/{id}/assign"),
        &format!("/alerts/{new_alert}/assign?user=10003"),
        r,
        None,
        200,
    )
    .await;
    k.call(
        ("PUT", "/alerts/{id}/assign"),
        &format!("/alerts/{new_alert}/assign?policy-id=3102"),
        r,
        None,
        200,
    )
    .await;
    k.call(
        ("PUT", "/alerts/{id}/assign"),
        &format!("/alerts/{new_alert}/assign?schedule=7003"),
        r,
        None,
        200,
    )
    .await;
    k.call(
        ("PUT", "/alerts/{id}/assign"),
        &format!("/alerts/{new_alert}/assign"),
        r,
        None,
        400,
    )
    .await;
    k.call(
        ("PUT", "/alerts/{id}/accept"),
        &format!("/alerts/{new_alert}/accept"),
        st,
        None,
        403,
    )
    .await;
    k.call(
        ("PUT", "/alerts/{id}/accept"),
        &format!("/alerts/{new_alert}/accept"),
        r,
        None,
        200,
    )
    .await;
    k.call(
        ("PUT", "/alerts/{id}/resolve"),
        &format!("/alerts/{new_alert}/resolve"),
        r,
        None,
        200,
    )
    .await;
    k.call(
        ("PUT", "/alerts/{id}/accept"),
        &format!("/alerts/{new_alert}/accept"),
        r,
        None,
        400,
    )
    .await;
    k.call(
        ("PUT", "/alerts/{id}/resolve"),
        "/alerts/1/resolve",
        r,
        None,
        404,
    )
    .await;

    // Events.
    let event = json!({"integrationKey": "il1dd7f2b19c4e08a36d51c", "eventType": "ALERT", "summary": "Checkout p50 latency high", "alertKey": "contract/1", "priority": "LOW", "severity": 3, "labels": {"env": "prod"}, "customDetails": {"p50": 0.8}});
    k.call(("POST", "/events"), "/events", None, Some(event), 202)
        .await;
    k.call(("POST", "/events"), "/events", None, Some(json!({"integrationKey": "il1dd7f2b19c4e08a36d51c", "eventType": "COMMENT", "alertKey": "contract/1", "comments": [{"creator": "bot", "content": "hi"}]})), 202).await;
    k.call(("POST", "/events"), "/events", None, Some(json!({"integrationKey": "il1dd7f2b19c4e08a36d51c", "eventType": "RESOLVE", "alertKey": "contract/1"})), 202).await;
    k.call(("POST", "/events"), "/events", None, Some(json!({"integrationKey": "il1dd7f2b19c4e08a36d51c", "eventType": "FIRE", "summary": "x"})), 400).await;
    k.call(
        ("POST", "/events"),
        "/events",
        None,
        Some(json!({"integrationKey": "il1nope", "eventType": "ALERT", "summary": "x"})),
        404,
    )
    .await;

    // Schedules, on-calls.
    k.call(("GET", "/schedules"), "/schedules?include=scheduleLayers&include=shifts&include=currentShift&include=nextShift&include=past", st, None, 200).await;
    k.call(
        ("GET", "/schedules"),
        "/schedules?max-results=21",
        st,
        None,
        400,
    )
    .await;
    k.call(
        ("GET", "/schedules/{id}"),
        "/schedules/7001?include=scheduleLayers&include=currentShift&include=nextShift",
        st,
        None,
        200,
    )
    .await;
    k.call(
        ("GET", "/schedules/{id}"),
        "/schedules/7004?include=shifts&include=past",
        st,
        None,
        200,
    )
    .await;
    k.call(("GET", "/schedules/{id}"), "/schedules/1", st, None, 404)
        .await;
    k.call(
        ("GET", "/schedules/{id}/shifts"),
        "/schedules/7001/shifts",
        st,
        None,
        200,
    )
    .await;
    k.call(("GET", "/schedules/{id}/shifts"), "/schedules/7002/shifts?from=2026-03-20T00:00:00Z&until=2026-04-05T00:00:00Z&exclude-overrides=true", st, None, 200).await;
    k.call(
        ("GET", "/schedules/{id}/overrides"),
        "/schedules/7001/overrides",
        st,
        None,
        200,
    )
    .await;
    k.call(
        ("GET", "/schedules/{id}/user-on-call"),
        "/schedules/7003/user-on-call",
        st,
        None,
        200,
    )
    .await;
    let future = json!({"name": "Holiday cover", "timezone": "Asia/Tokyo", "type": "STATIC", "shifts": [{"user": {"id": 10007}, "start": "2099-12-24T00:00:00Z", "end": "2099-12-27T00:00:00Z"}]});
    k.call(
        ("POST", "/schedules"),
        "/schedules",
        r,
        Some(future.clone()),
        403,
    )
    .await;
    let holiday = id_of(
        &k.call(
            ("POST", "/schedules"),
            "/schedules?abort-on-gaps=true",
            u,
            Some(future.clone()),
            201,
        )
        .await,
    );
    k.call(
        ("GET", "/schedules/{id}/user-on-call"),
        &format!("/schedules/{holiday}/user-on-call"),
        st,
        None,
        204,
    )
    .await;
    let recurring = json!({"name": "Holiday cover", "timezone": "Europe/London", "type": "RECURRING", "scheduleLayers": [{"name": "L", "startsOn": "2026-01-05T09:00:00Z", "users": [{"id": 10012}, {"id": 10006}], "rotation": "P1D", "restrictionType": "TIMES_OF_WEEK", "restrictions": [{"from": {"dayOfWeek": "MONDAY", "time": "09:00"}, "to": {"dayOfWeek": "FRIDAY", "time": "17:00"}}]}]});
    k.call(
        ("PUT", "/schedules/{id}"),
        &format!("/schedules/{holiday}"),
        u,
        Some(recurring),
        200,
    )
    .await;
    k.call(
        ("PUT", "/schedules/{id}"),
        &format!("/schedules/{holiday}"),
        u,
        Some(json!({"name": "x", "type": "RECURRING"})),
        400,
    )
    .await;
    k.call(("PUT", "/schedules/{id}/overrides"), &format!("/schedules/{holiday}/overrides"), u, Some(json!({"user": {"id": 10001}, "start": "2099-01-01T00:00:00Z", "end": "2099-01-02T00:00:00Z"})), 200).await;
    k.call(("PUT", "/schedules/{id}/overrides"), &format!("/schedules/{holiday}/overrides"), u, Some(json!({"user": {"id": 10001}, "start": "2020-01-01T00:00:00Z", "end": "2020-01-02T00:00:00Z"})), 400).await;
    k.call(
        ("DELETE", "/schedules/{id}"),
        &format!("/schedules/{holiday}"),
        u,
        None,
        204,
    )
    .await;
    k.call_with(
        ("GET", "/on-calls"),
        "/on-calls",
        st,
        None,
        200,
        &[],
        Some(Relax::BareOnCallRefs),
    )
    .await;
    k.call_with(
        ("GET", "/on-calls"),
        "/on-calls?policies=3101",
        st,
        None,
        200,
        &[],
        Some(Relax::BareOnCallRefs),
    )
    .await;
    k.call(("GET", "/on-calls"), "/on-calls?expand=user&expand=escalationPolicy&expand=schedule&timezone=Asia/Tokyo&from=2026-11-01T00:00:00Z&until=2026-11-08T00:00:00Z&max-results=250", st, None, 200).await;
    k.call(
        ("GET", "/on-calls"),
        "/on-calls?from=2026-01-01T00:00:00Z&until=2026-06-01T00:00:00Z",
        st,
        None,
        400,
    )
    .await;

    // Escalation policies.
    k.call(
        ("GET", "/escalation-policies"),
        "/escalation-policies?max-results=50",
        st,
        None,
        200,
    )
    .await;
    k.call(
        ("GET", "/escalation-policies"),
        "/escalation-policies?max-results=51",
        st,
        None,
        400,
    )
    .await;
    k.call(
        ("GET", "/escalation-policies/resolve"),
        "/escalation-policies/resolve?routing-key=nothing,storefront",
        st,
        None,
        200,
    )
    .await;
    k.call(
        ("GET", "/escalation-policies/resolve"),
        "/escalation-policies/resolve?routing-key=nothing",
        st,
        None,
        404,
    )
    .await;
    k.call(
        ("GET", "/escalation-policies/{id}"),
        "/escalation-policies/3101",
        st,
        None,
        200,
    )
    .await;
    let policy = json!({"name": "Search on-call", "routingKey": "search", "escalationRules": [{"escalationTimeout": 10, "users": [{"id": 10012}]}, {"escalationTimeout": 20, "schedules": [{"id": 7003}]}]});
    k.call(
        ("POST", "/escalation-policies"),
        "/escalation-policies",
        r,
        Some(policy.clone()),
        403,
    )
    .await;
    let policy_id = id_of(
        &k.call(
            ("POST", "/escalation-policies"),
            "/escalation-policies",
            u,
            Some(policy.clone()),
            201,
        )
        .await,
    );
    k.call(
        ("PUT", "/escalation-policies/{id}"),
        &format!("/escalation-policies/{policy_id}"),
        u,
        Some(policy),
        200,
    )
    .await;
    k.call(
        ("PUT", "/escalation-policies/{id}/levels/{level}"),
        &format!("/escalation-policies/{policy_id}/levels/2"),
        u,
        Some(json!({"escalationTimeout": 30, "teams": [{"id": 503}]})),
        200,
    )
    .await;
    k.call(
        ("PUT", "/escalation-policies/{id}/levels/{level}"),
        &format!("/escalation-policies/{policy_id}/levels/9"),
        u,
        Some(json!({"escalationTimeout": 30, "teams": [{"id": 503}]})),
        400,
    )
    .await;

    // Alert sources.
    k.call(("GET", "/alert-sources"), "/alert-sources", a, None, 200)
        .await;
    k.call(
        ("GET", "/alert-sources/{id}"),
        "/alert-sources/il1api0460d849fcdc753d4f",
        st,
        None,
        200,
    )
    .await;
    k.call(
        ("GET", "/alert-sources/{id}"),
        "/alert-sources/202541?include=summaryTemplate",
        a,
        None,
        200,
    )
    .await;
    let source = json!({"name": "Search CloudWatch", "integrationType": "CLOUDWATCH", "escalationPolicy": {"id": policy_id}, "alertCreation": "ONE_OPEN_ALERT_ALLOWED", "autoResolutionTimeout": "PT4H"});
    let source_id = id_of(
        &k.call(
            ("POST", "/alert-sources"),
            "/alert-sources",
            u,
            Some(source.clone()),
            201,
        )
        .await,
    );
    k.call(
        ("PUT", "/alert-sources/{id}"),
        &format!("/alert-sources/{source_id}"),
        u,
        Some(source),
        200,
    )
    .await;
    k.call(
        ("DELETE", "/escalation-policies/{id}"),
        &format!("/escalation-policies/{policy_id}"),
        u,
        None,
        400,
    )
    .await;
    k.call(
        ("DELETE", "/alert-sources/{id}"),
        &format!("/alert-sources/{source_id}"),
        u,
        None,
        204,
    )
    .await;
    k.call(
        ("DELETE", "/escalation-policies/{id}"),
        &format!("/escalation-policies/{policy_id}"),
        u,
        None,
        204,
    )
    .await;

    // Heartbeat monitors.
    k.call(
        ("GET", "/heartbeat-monitors"),
        "/heartbeat-monitors?max-results=2",
        st,
        None,
        200,
    )
    .await;
    k.call_with(
        ("GET", "/heartbeat-monitors"),
        "/heartbeat-monitors?include=integrationKey&include=integrationUrl",
        a,
        None,
        200,
        &[],
        Some(Relax::HeartbeatIncludes),
    )
    .await;
    k.call(
        ("GET", "/heartbeat-monitors"),
        "/heartbeat-monitors?max-results=201",
        st,
        None,
        400,
    )
    .await;
    k.call(("GET", "/heartbeat-monitors/{id}"), "/heartbeat-monitors/1101?include=alertSource&include=integrationKey&include=integrationUrl", a, None, 200).await;
    let monitor = json!({"name": "Cache warmer", "intervalSec": 300, "alertSummary": "Cache warmer stopped", "alertSource": {"id": 202546}});
    let monitor_id = id_of(
        &k.call(
            ("POST", "/heartbeat-monitors"),
            "/heartbeat-monitors?include=integrationKey",
            u,
            Some(monitor.clone()),
            201,
        )
        .await,
    );
    k.call(
        ("POST", "/heartbeat-monitors"),
        "/heartbeat-monitors",
        u,
        Some(monitor.clone()),
        409,
    )
    .await;
    k.call(
        ("PUT", "/heartbeat-monitors/{id}"),
        &format!("/heartbeat-monitors/{monitor_id}"),
        u,
        Some(json!({"name": "Cache warmer", "intervalSec": 600})),
        200,
    )
    .await;
    k.call(
        ("PUT", "/heartbeat-monitors/{id}"),
        &format!("/heartbeat-monitors/{monitor_id}"),
        u,
        Some(json!({"name": "Cache warmer", "intervalSec": 5})),
        400,
    )
    .await;
    k.call(
        ("DELETE", "/heartbeat-monitors/{id}"),
        &format!("/heartbeat-monitors/{monitor_id}"),
        u,
        None,
        204,
    )
    .await;

    // Maintenance windows.
    k.call(
        ("GET", "/maintenance-windows"),
        "/maintenance-windows?state=OPEN&services=801",
        st,
        None,
        200,
    )
    .await;
    k.call(
        ("GET", "/maintenance-windows"),
        "/maintenance-windows?state=CLOSED&max-results=100",
        a,
        None,
        200,
    )
    .await;
    k.call(
        ("GET", "/maintenance-windows/{id}"),
        "/maintenance-windows/6002",
        a,
        None,
        200,
    )
    .await;
    let window = json!({"summary": "Search reindex", "timezone": "Europe/London", "start": "2099-02-01T01:00:00Z", "end": "2099-02-01T02:00:00Z", "services": [{"id": 804}], "alertSources": [{"id": 202545}], "notifications": {"atStart": true}});
    k.call(
        ("POST", "/maintenance-windows"),
        "/maintenance-windows",
        r,
        Some(window.clone()),
        403,
    )
    .await;
    let window_id = id_of(
        &k.call(
            ("POST", "/maintenance-windows"),
            "/maintenance-windows",
            u,
            Some(window.clone()),
            200,
        )
        .await,
    );
    k.call(
        ("PUT", "/maintenance-windows/{id}"),
        &format!("/maintenance-windows/{window_id}"),
        u,
        Some(window),
        200,
    )
    .await;
    k.call(
        ("DELETE", "/maintenance-windows/{id}"),
        &format!("/maintenance-windows/{window_id}"),
        u,
        None,
        204,
    )
    .await;

    // Services, status pages, outages.
    k.call(
        ("GET", "/services"),
        "/services?include=uptime&include=incidents&include=subscribed&max-results=25",
        st,
        None,
        200,
    )
    .await;
    k.call(
        ("GET", "/services"),
        "/services?include=uptime&max-results=26",
        st,
        None,
        400,
    )
    .await;
    k.call(
        ("GET", "/services/{id}"),
        "/services/801?include=uptime&include=incidents&include=subscribed",
        st,
        None,
        200,
    )
    .await;
    let service = json!({"name": "Recommendations", "alias": "recs", "status": "DEGRADED", "teams": [{"id": 503}]});
    let service_id = id_of(
        &k.call(
            ("POST", "/services"),
            "/services",
            u,
            Some(service.clone()),
            201,
        )
        .await,
    );
    k.call(
        ("PUT", "/services/{id}"),
        &format!("/services/{service_id}"),
        u,
        Some(service),
        200,
    )
    .await;
    k.call(
        ("GET", "/services/{id}/private-subscribers"),
        "/services/801/private-subscribers",
        st,
        None,
        200,
    )
    .await;
    k.call(
        ("PUT", "/services/{id}/private-subscribers"),
        &format!("/services/{service_id}/private-subscribers"),
        u,
        Some(json!([{"id": 10004, "type": "USER"}])),
        202,
    )
    .await;
    k.call(
        ("GET", "/service-outages"),
        "/service-outages?service=801",
        st,
        None,
        200,
    )
    .await;
    k.call(
        ("GET", "/status-pages"),
        "/status-pages?include=subscribed&max-results=50",
        st,
        None,
        200,
    )
    .await;
    k.call(
        ("GET", "/status-pages/{id}"),
        "/status-pages/2101?include=subscribed&include=uptime&include=groups&include=structure",
        st,
        None,
        200,
    )
    .await;
    k.call(
        ("GET", "/status-pages/{id}/groups"),
        "/status-pages/2101/groups",
        st,
        None,
        200,
    )
    .await;
    k.call(
        ("GET", "/status-pages/{id}/groups/{group-id}"),
        "/status-pages/2101/groups/2",
        st,
        None,
        200,
    )
    .await;
    k.call(
        ("GET", "/status-pages/{id}/groups/{group-id}"),
        "/status-pages/2101/groups/99",
        st,
        None,
        404,
    )
    .await;
    let page = json!({"name": "Recommendations status", "subdomain": "recs", "visibility": "PRIVATE", "services": [{"id": service_id}], "timezone": "Europe/Berlin"});
    let page_id = id_of(
        &k.call(
            ("POST", "/status-pages"),
            "/status-pages",
            u,
            Some(page.clone()),
            200,
        )
        .await,
    );
    k.call(
        ("PUT", "/status-pages/{id}"),
        &format!("/status-pages/{page_id}"),
        u,
        Some(page),
        200,
    )
    .await;
    k.call(
        ("PUT", "/status-pages/{id}/private-subscribers"),
        &format!("/status-pages/{page_id}/private-subscribers"),
        u,
        Some(json!([{"id": 504, "type": "TEAM"}])),
        204,
    )
    .await;
    k.call(
        ("POST", "/status-pages/{id}/private-subscribers"),
        &format!("/status-pages/{page_id}/private-subscribers"),
        u,
        Some(json!([{"id": 10014, "type": "USER"}])),
        204,
    )
    .await;
    k.call(
        ("GET", "/status-pages/{id}/private-subscribers"),
        &format!("/status-pages/{page_id}/private-subscribers"),
        u,
        None,
        200,
    )
    .await;
    k.call(
        (
            "DELETE",
            "/status-pages/{id}/private-subscribers/{subscriber-id}",
        ),
        &format!("/status-pages/{page_id}/private-subscribers/504?subscriber-type=TEAM"),
        u,
        None,
        204,
    )
    .await;
    k.call(
        ("DELETE", "/status-pages/{id}"),
        &format!("/status-pages/{page_id}"),
        u,
        None,
        204,
    )
    .await;
    k.call(
        ("DELETE", "/services/{id}"),
        &format!("/services/{service_id}"),
        u,
        None,
        204,
    )
    .await;
    k.call(
        ("DELETE", "/services/{id}"),
        &format!("/services/{service_id}"),
        u,
        None,
        404,
    )
    .await;

    // Incidents (status updates).
    k.call(
        ("GET", "/incidents"),
        "/incidents?states=IDENTIFIED&services=801&include=subscribed",
        st,
        None,
        200,
    )
    .await;
    k.call(
        ("GET", "/incidents"),
        "/incidents?include=subscribed&max-results=26",
        st,
        None,
        400,
    )
    .await;
    let got = k
        .call(
            ("GET", "/incidents/{id}"),
            "/incidents/9004?include=history&include=affectedTeams&include=subscribed",
            st,
            None,
            200,
        )
        .await;
    let etag = got.headers["etag"].to_str().unwrap().to_owned();
    let update = json!({"summary": "Elevated checkout errors", "status": "MONITORING", "message": "Failover complete; monitoring.", "sendNotification": true, "affectedServices": [{"impact": "DEGRADED", "service": {"id": 801}}]});
    k.call(
        ("POST", "/incidents/publish-info"),
        "/incidents/publish-info",
        st,
        Some(update.clone()),
        200,
    )
    .await;
    k.call_with(
        ("PUT", "/incidents/{id}"),
        "/incidents/9004",
        r,
        Some(update.clone()),
        200,
        &[("If-Match", &etag)],
        None,
    )
    .await;
    k.call_with(
        ("PUT", "/incidents/{id}"),
        "/incidents/9004",
        r,
        Some(update.clone()),
        412,
        &[("If-Match", &etag)],
        None,
    )
    .await;
    k.call(
        ("PUT", "/incidents/{id}"),
        "/incidents/9004",
        st,
        Some(update.clone()),
        403,
    )
    .await;
    k.call(
        ("POST", "/incidents"),
        "/incidents",
        r,
        Some(json!({"summary": "x", "status": "INVESTIGATING", "affectedServices": []})),
        400,
    )
    .await;
    let opened = k
        .call(("POST", "/incidents"), "/incidents", r, Some(update), 200)
        .await;
    let incident = id_of(&opened);
    k.call(
        ("POST", "/incidents/{id}/private-subscribers"),
        &format!("/incidents/{incident}/private-subscribers"),
        r,
        Some(json!([{"id": 504, "type": "TEAM"}])),
        202,
    )
    .await;
    k.call(
        ("GET", "/incidents/{id}/private-subscribers"),
        &format!("/incidents/{incident}/private-subscribers"),
        st,
        None,
        200,
    )
    .await;
    k.call(("GET", "/incidents/{id}"), "/incidents/1", st, None, 404)
        .await;

    // Reports.
    k.call(("GET", "/reports/alerts"), "/reports/alerts?from=2024-01-01T00:00:00Z&until=2099-01-01T00:00:00Z&metric=MTTR&group-by=DAY", st, None, 400).await;
    let now = chrono::Utc::now();
    let from = (now - chrono::Duration::days(60)).to_rfc3339();
    let until = now.to_rfc3339();
    let range = format!("from={}&until={}", urlencode(&from), urlencode(&until));
    for metric in ["COUNT", "MTTA", "MTTR"] {
        for group in ["DAY", "WEEK", "MONTH"] {
            k.call(("GET", "/reports/alerts"), &format!("/reports/alerts?{range}&metric={metric}&group-by={group}&timezone=Europe/Berlin"), st, None, 200).await;
        }
    }
    k.call(
        ("GET", "/reports/alerts/summary"),
        &format!("/reports/alerts/summary?{range}&priority=HIGH&sources=202543"),
        st,
        None,
        200,
    )
    .await;
    k.call(
        ("GET", "/reports/alerts/summary"),
        "/reports/alerts/summary",
        st,
        None,
        400,
    )
    .await;

    // 429, on a sandbox with a budget of two requests a minute.
    let dir = tempfile::tempdir().unwrap();
    let mut limited_config = config(dir.path());
    limited_config.rate_limit_per_minute = Some(2);
    let limited = start_with(limited_config).await;
    let mut kl = Caller {
        s: &limited,
        c: k.c,
    };
    kl.call(("GET", "/alerts/count"), "/alerts/count", a, None, 200)
        .await;
    kl.call(("GET", "/alerts/count"), "/alerts/count", a, None, 200)
        .await;
    kl.call(("GET", "/alerts/count"), "/alerts/count", a, None, 429)
        .await;
    for _ in 0..50 {
        limited.event(&json!({"integrationKey": "il1api0460d849fcdc753d4f", "eventType": "RESOLVE", "alertKey": "none"})).await;
    }
    kl.call(("POST", "/events"), "/events", None, Some(json!({"integrationKey": "il1api0460d849fcdc753d4f", "eventType": "RESOLVE", "alertKey": "none"})), 429).await;
    let c = kl.c;

    // Every operation the sandbox serves was exercised, and everything else is left out on purpose.
    let implemented: BTreeSet<(String, String)> = c.exercised.keys().cloned().collect();
    let mut unexplained = Vec::new();
    let mut left_out_count: BTreeMap<&str, usize> = BTreeMap::new();
    for op in c.operations.difference(&implemented) {
        match left_out(op) {
            Some((_, prefix, _)) => *left_out_count.entry(prefix).or_default() += 1,
            None => unexplained.push(format!("{} {}", op.0, op.1)),
        }
    }
    for (methods, prefix, _) in LEFT_OUT {
        if !left_out_count.contains_key(prefix) {
            unexplained.push(format!(
                "LEFT_OUT names {methods} {prefix}, which matches no unserved operation"
            ));
        }
    }
    for op in &implemented {
        if !c.exercised[op].iter().any(|s| *s < 300) {
            unexplained.push(format!("{} {} has no success case", op.0, op.1));
        }
        if left_out(op).is_some() {
            unexplained.push(format!(
                "{} {} is implemented but listed as left out",
                op.0, op.1
            ));
        }
    }
    println!(
        "contract: {} of {} documented operations implemented, {} calls validated, {} statuses seen",
        implemented.len(),
        c.operations.len(),
        c.calls,
        c.exercised.values().map(BTreeSet::len).sum::<usize>()
    );
    for (methods, prefix, reason) in LEFT_OUT {
        println!(
            "  left out: {methods} {prefix} ({} operations): {reason}",
            left_out_count.get(prefix).copied().unwrap_or(0)
        );
    }
    assert!(
        c.failures.is_empty(),
        "{} contract violations:\n{}",
        c.failures.len(),
        c.failures.join("\n")
    );
    assert!(unexplained.is_empty(), "{}", unexplained.join("\n"));
    assert_eq!(
        implemented.len(),
        90,
        "implemented operations changed; update the report"
    );
}

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}

#[test]
fn the_validator_is_strict() {
    let mut c = Contract::new();
    let alert = json!({"id": 1, "summary": "x", "status": "PENDING", "reportTime": "2026-01-01T00:00:00.000Z"});
    assert!(c.errors(&Contract::schema_ref("Alert"), &alert).is_empty());
    for broken in [
        json!({"id": 1, "status": "FIRING"}),
        json!({"id": 1, "reportTime": "yesterday"}),
        json!({"id": "1"}),
        json!({"id": 1, "surprise": true}),
        json!({"id": 1, "responders": [{"user": {"id": 2, "email": "a@b.c"}}]}),
        json!({"id": 1, "resolvedOn": null}),
        json!({"id": 1, "severity": 7}),
    ] {
        assert!(
            !c.errors(&Contract::schema_ref("Alert"), &broken).is_empty(),
            "{broken}"
        );
    }
    // `nullable` becomes a null type.
    let nullable =
        json!({"type": "object", "properties": {"a": {"type": "string", "nullable": true}}});
    assert!(c.errors(&nullable, &json!({"a": null})).is_empty());
    assert!(!c.errors(&nullable, &json!({"a": 1})).is_empty());
    assert!(
        !c.errors(
            &Contract::schema_ref("RestError"),
            &json!({"status": 400, "message": "x"})
        )
        .is_empty()
    );
}
