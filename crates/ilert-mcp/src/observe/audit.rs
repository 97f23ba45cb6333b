//! The audit trail of AI actions: one JSON line per call of a tool that writes, whatever became of
//! it (done, refused, failed, declined), on its own sink (`--audit-log FILE`, else stderr).
//!
//! An event says who (the ilert user's id and e-mail), how they authenticated (a prefix of the
//! SHA-256 of their key, or the OAuth client id and name), through which MCP client, which tool,
//! on which ids, the outcome, whether a person was asked to confirm and what they answered (or why
//! nobody was), and the ids of anything the write created. It never holds an argument value that could be a secret: ids are
//! kept, every other argument is recorded by its kind and length only.
//!
//! The tool-call path opens an [`Entry`] where a call starts and finishes it once; the HTTP scope
//! check records its refusals through the same [`Entry`].

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ilert_client::Session;
use rmcp::model::JsonObject;
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::auth::CallerKey;
use crate::auth::GrantInfo;
use crate::transport::ops::RequestId;

/// How long a key's ilert user is remembered for events.
const USER_TTL: Duration = Duration::from_secs(300);
const MAX_USERS: usize = 10_000;
/// Hex digits of the key's SHA-256 in an event: enough to tell keys apart, useless to guess one.
const KEY_PREFIX_HEX: usize = 12;

/// What became of a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// ilert did it.
    Done,
    /// This server did not let it through (read-only, selection, grant scope).
    Refused,
    /// It was tried and did not succeed (ilert refused it, bad arguments, ilert down).
    Failed,
    /// The human said no when asked to confirm.
    Declined,
}

/// Whether a person was asked to confirm a write and what they said, or why nobody was asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Confirmation {
    pub asked: bool,
    /// The answer, when a person was asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<Answer>,
    /// Why nobody was asked: this server's own words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why_not: Option<&'static str>,
}

impl Confirmation {
    /// A person was asked and answered `answer`.
    pub fn answered(answer: Answer) -> Self {
        Self {
            asked: true,
            answer: Some(answer),
            why_not: None,
        }
    }

    /// Nobody was asked, because `why`.
    pub fn not_asked(why: &'static str) -> Self {
        Self {
            asked: false,
            answer: None,
            why_not: Some(why),
        }
    }
}

/// A person's answer to a confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    Accepted,
    Declined,
    Cancelled,
    /// The answer came with a state this server would not take (altered, expired, already used,
    /// another caller's): what the person said is unknown.
    Invalid,
}

/// How the caller authenticated.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum Auth {
    /// A raw ilert API key (bearer pass-through, or stdio's own).
    ApiKey { key_sha256_prefix: String },
    /// This server's OAuth access token.
    Oauth {
        client_id: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        client_name: Option<String>,
        scope: String,
        key_sha256_prefix: String,
    },
    /// No key came with the request.
    None,
}

#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Client {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// One audit event, as written.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    pub auth: Auth,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<Client>,
    pub tool: String,
    /// The ids the call names (`id`, `ids`, `*_id`, `*_ids`).
    pub targets: Vec<Value>,
    /// Every other argument by kind and size only: `{"comment": {"text": 42}}`.
    pub arguments: Map<String, Value>,
    pub outcome: Outcome,
    /// Why, for refused, failed and declined: this server's own words, never ilert's answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Whether a person was asked and what they answered, or why nobody was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmation: Option<Confirmation>,
    /// The ids of what the write created (an alert, an incident, a maintenance window).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub created: Vec<Value>,
}

enum Sink {
    Stderr,
    File(std::fs::File),
}

/// Where events go. One per process, shared by every request.
pub struct AuditLog {
    sink: Mutex<Sink>,
    fsync: bool,
    /// Also note alert actions in ilert's alert timeline ([`crate::observe::attribution`]).
    attribute: bool,
    users: Mutex<HashMap<[u8; 32], (Instant, User)>>,
}

impl AuditLog {
    /// JSON lines on stderr, next to (not mixed into) the logs.
    pub fn stderr() -> Self {
        Self::with(Sink::Stderr, false)
    }

    /// JSON lines appended to `path`; with `fsync`, each event is on disk before the call
    /// answers.
    pub fn open(path: &Path, fsync: bool) -> Result<Self, String> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| format!("cannot open the audit log {}: {e}", path.display()))?;
        Ok(Self::with(Sink::File(file), fsync))
    }

    fn with(sink: Sink, fsync: bool) -> Self {
        Self {
            sink: Mutex::new(sink),
            fsync,
            attribute: false,
            users: Mutex::new(HashMap::new()),
        }
    }

    /// With `on`, a write done on alerts is also noted in each alert's ilert timeline.
    pub fn with_attribution(mut self, on: bool) -> Self {
        self.attribute = on;
        self
    }

    /// Writes one event as one line. A failure to write is logged (without the event) and does
    /// not fail the call: the action has already happened, or not.
    pub fn write(&self, event: &Event) {
        let mut line = match serde_json::to_vec(event) {
            Ok(line) => line,
            Err(e) => {
                tracing::error!(error = %e, "could not serialise an audit event");
                return;
            }
        };
        line.push(b'\n');
        let Ok(mut sink) = self.sink.lock() else {
            tracing::error!("the audit log is unusable after a panic; event lost");
            return;
        };
        let written = match &mut *sink {
            Sink::Stderr => std::io::stderr().lock().write_all(&line),
            Sink::File(file) => file
                .write_all(&line)
                .and_then(|()| if self.fsync { file.sync_data() } else { Ok(()) }),
        };
        if let Err(e) = written {
            crate::observe::metrics::global().audit_write_failed();
            tracing::error!(error = %e, tool = %event.tool, "could not write an audit event");
        }
    }

    /// Remembers whom `key` belongs to, as the key check just learnt from ilert.
    pub fn remember_user(&self, key: &ilert_client::ApiKey, id: i64, email: Option<String>) {
        let digest: [u8; 32] = Sha256::digest(key.expose().as_bytes()).into();
        if let Ok(mut users) = self.users.lock() {
            if users.len() >= MAX_USERS {
                users.clear();
            }
            users.insert(digest, (Instant::now(), User { id, email }));
        }
    }

    /// The ilert user id behind `api`: the key check usually told us already, so this rarely
    /// asks ilert. `None` when ilert cannot say.
    pub async fn user_id(&self, api: &Session) -> Option<i64> {
        self.user(api).await.map(|u| u.id)
    }

    /// The ilert user behind `api`, remembered per key for a few minutes. `None` when ilert
    /// cannot say (the event is still written, without the user).
    async fn user(&self, api: &Session) -> Option<User> {
        let digest: [u8; 32] = Sha256::digest(api.key().expose().as_bytes()).into();
        if let Ok(users) = self.users.lock()
            && let Some((at, user)) = users.get(&digest)
            && at.elapsed() < USER_TTL
        {
            return Some(user.clone());
        }
        let found = api.current_user().await.ok()?;
        let user = User {
            id: found.id,
            email: found.email,
        };
        if let Ok(mut users) = self.users.lock() {
            if users.len() >= MAX_USERS {
                users.clear();
            }
            users.insert(digest, (Instant::now(), user.clone()));
        }
        Some(user)
    }
}

/// An audit event in the making: opened when a write call starts, finished once with its outcome.
pub struct Entry {
    event: Event,
}

impl Entry {
    /// For a call of `tool` with `arguments`, from the request's HTTP parts (absent on stdio),
    /// the client the MCP request names, and the caller's key.
    pub fn open(
        tool: &str,
        arguments: Option<&JsonObject>,
        parts: Option<&http::request::Parts>,
        client: Option<rmcp::model::Implementation>,
        stdio_key: Option<&ilert_client::ApiKey>,
    ) -> Self {
        let extensions = parts.map(|p| &p.extensions);
        let key = match extensions {
            Some(ext) => ext.get::<CallerKey>().map(|k| &k.0),
            None => stdio_key,
        };
        let key_prefix = key.map(|k| {
            let digest = Sha256::digest(k.expose().as_bytes());
            let mut hex = String::with_capacity(KEY_PREFIX_HEX);
            for byte in digest.iter().take(KEY_PREFIX_HEX / 2) {
                hex.push_str(&format!("{byte:02x}"));
            }
            hex
        });
        let grant = extensions.and_then(|e| e.get::<GrantInfo>());
        let auth = match (grant, key_prefix) {
            (Some(grant), prefix) => Auth::Oauth {
                client_id: grant.client.clone(),
                client_name: grant.client_name.clone(),
                scope: grant.scope.to_scope_string(),
                key_sha256_prefix: prefix.unwrap_or_default(),
            },
            (None, Some(prefix)) => Auth::ApiKey {
                key_sha256_prefix: prefix,
            },
            (None, None) => Auth::None,
        };
        let client = client
            .map(|c| Client {
                name: clean(&c.name, 100),
                version: Some(clean(&c.version, 40)),
            })
            .or_else(|| {
                let agent = parts?
                    .headers
                    .get(http::header::USER_AGENT)?
                    .to_str()
                    .ok()?;
                Some(Client {
                    name: clean(agent, 100),
                    version: None,
                })
            });
        let (targets, arguments) = shape(arguments);
        Self {
            event: Event {
                time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                request_id: extensions
                    .and_then(|e| e.get::<RequestId>())
                    .map(|r| r.0.clone()),
                user: grant.map(|g| User {
                    id: g.uid,
                    email: None,
                }),
                auth,
                client,
                tool: tool.to_owned(),
                targets,
                arguments,
                outcome: Outcome::Done,
                reason: None,
                confirmation: None,
                created: Vec::new(),
            },
        }
    }

    /// The tool called.
    pub fn tool(&self) -> &str {
        &self.event.tool
    }

    /// Records whether a person was asked to confirm, and what they said.
    pub fn confirmation(&mut self, confirmation: Confirmation) {
        self.event.confirmation = Some(confirmation);
    }

    /// Records the ids of what the write created.
    pub fn created(&mut self, ids: Vec<Value>) {
        self.event.created = ids;
    }

    /// Writes the event with `outcome`, naming the ilert user (asked of ilert through `api`, or
    /// remembered).
    pub async fn finish(
        mut self,
        log: &AuditLog,
        api: Option<&Session>,
        outcome: Outcome,
        reason: Option<&str>,
    ) {
        if let Some(api) = api
            && let Some(user) = log.user(api).await
        {
            self.event.user = Some(user);
        }
        self.event.outcome = outcome;
        self.event.reason = reason.map(|r| clean(r, 300));
        log.write(&self.event);
        if log.attribute
            && outcome == Outcome::Done
            && let Some(api) = api
        {
            let client = self.event.client.as_ref().map(|c| match &c.version {
                Some(version) => format!("{} {version}", c.name),
                None => c.name.clone(),
            });
            crate::observe::attribution::note(
                api.clone(),
                &self.event.tool,
                &self.event.targets,
                client.as_deref(),
            );
        }
    }
}

/// The ids among `arguments`, and every argument by kind and size. Only integers (or strings of
/// digits) under an id-like name count as ids; every other value is described, never copied.
fn shape(arguments: Option<&JsonObject>) -> (Vec<Value>, Map<String, Value>) {
    let mut targets = Vec::new();
    let mut described = Map::new();
    for (name, value) in arguments.into_iter().flatten() {
        let id_like =
            name == "id" || name == "ids" || name.ends_with("_id") || name.ends_with("_ids");
        if id_like {
            let ids: Vec<&Value> = match value {
                Value::Array(items) => items.iter().collect(),
                one => vec![one],
            };
            if ids.iter().all(|v| is_id(v)) {
                targets.extend(ids.into_iter().cloned());
                continue;
            }
        }
        described.insert(name.clone(), describe(value));
    }
    (targets, described)
}

fn is_id(value: &Value) -> bool {
    match value {
        Value::Number(n) => n.is_i64() || n.is_u64(),
        Value::String(s) => !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit()),
        _ => false,
    }
}

fn describe(value: &Value) -> Value {
    let mut kind = Map::new();
    let (name, size) = match value {
        Value::String(s) => ("text", s.chars().count()),
        Value::Array(items) => ("list", items.len()),
        Value::Object(fields) => ("object", fields.len()),
        Value::Number(_) => ("number", 1),
        Value::Bool(_) => ("bool", 1),
        Value::Null => ("null", 0),
    };
    kind.insert(name.to_owned(), Value::from(size));
    Value::Object(kind)
}

/// A value a client chose (its name, its user agent), safe for a log line: control characters
/// escaped, length bounded.
fn clean(text: &str, max: usize) -> String {
    let mut out = String::new();
    for c in text.chars().take(max) {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_are_kept_and_everything_else_only_described() {
        let args = json!({
            "ids": [4711, "42"], "alert_id": 7, "comment": "restarted the pod", "integration_key": "il1api123",
            "user": "jonas@example.com", "urgent": true, "id": "not-an-id"
        });
        let (targets, described) = shape(args.as_object());
        assert_eq!(targets, vec![json!(7), json!(4711), json!("42")]);
        assert_eq!(described["comment"], json!({"text": 17}));
        assert_eq!(described["integration_key"], json!({"text": 9}));
        assert_eq!(described["id"], json!({"text": 9}));
        let text = serde_json::to_string(&described).unwrap_or_default();
        for secret in ["il1api123", "restarted", "jonas@", "not-an-id"] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
    }

    #[test]
    fn client_chosen_text_cannot_forge_lines() {
        assert_eq!(
            clean("Claude\n{\"forged\":1}", 100),
            "Claude\\n{\"forged\":1}"
        );
        assert_eq!(clean(&"x".repeat(500), 100).len(), 100);
    }
}
