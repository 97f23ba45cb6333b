//! The one confirmation rule every write uses. A write tool states its class in its own record,
//! next to its annotations (`meta = confirm::outward()`); the pipeline's stages (`calls/permit.rs`,
//! `calls/ask.rs`) and the tools' `confirm!` checkpoint do the rest, so tools stay thin.
//!
//! - **internal**: inside ilert and easy to undo (a comment, accepting one alert, a responder);
//! - **outward**: reaches people or systems outside the chat, or is hard to undo (pages,
//!   subscriber or public notifications, alert actions, maintenance, on-call overrides);
//! - **bulk**: accept/resolve alerts; outward once a caller has changed more than
//!   [`BULK_CONFIRM_ABOVE`] alerts within [`BULK_WINDOW_SECS`], counted across calls and (with
//!   Redis) replicas, so 3 + 3 + 3 asks on the second call.
//!
//! A write that is outward only when it reaches someone else (assigning an alert, adding a
//! responder) is classed outward, and its checkpoint says when it only reaches the caller
//! (`confirm!(ext, only_caller = true, ...)`), which makes it internal.
//!
//! Where the client can answer (protocol 2026-07-28 with elicitation declared), an outward call
//! first answers `input_required`: an elicitation that says exactly what will happen, and a
//! `requestState` sealed with the token key and bound to the caller, the tool, the canonical
//! arguments and an expiry. Any replica opens it and nothing is stored, except the state's nonce
//! once it is answered, in the store OAuth already uses for single-use codes, so a replay is
//! refused. Elsewhere truthful annotations let the host ask (`--confirm always` refuses instead).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use rmcp::model::{
    CallToolRequestParams, CallToolResult, ElicitRequest, ElicitRequestParams, ElicitResult,
    ElicitationAction, ElicitationSchema, Extensions, InputRequest, InputRequests,
    InputRequiredResult, JsonObject, MetaObject, Tool,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::auth::seal::{Sealer, TokenKey, random_id};
use crate::auth::store::{InMemory, UsedIds};
use crate::rules::failure;

/// Where a tool's class is written in its record (`_meta` in tools/list, so hosts can read it).
pub const META_KEY: &str = "com.ilert/write";

/// Accepting or resolving more alerts than this within [`BULK_WINDOW_SECS`] is outward. Three
/// covers the everyday "accept the two checkout alerts" without a prompt, while a sweep across the
/// board (what a runaway or prompt-injected model does, in one call or in many) needs a person's
/// yes.
pub const BULK_CONFIRM_ABOVE: usize = 3;

/// The sliding window of the bulk rule, per caller: ten minutes.
pub const BULK_WINDOW_SECS: i64 = 600;

/// How long a confirmation prompt stays answerable: long enough to read it, short enough that
/// what it showed (who is on call, which alerts are open) is still true.
pub const STATE_TTL_SECS: i64 = 300;

/// Prefix of a sealed `requestState`; authenticated, so no other sealed value opens as one.
const STATE_PREFIX: &str = "imcp_confirm.";
/// The key of our one elicitation in `inputRequests` / `inputResponses`.
const INPUT_KEY: &str = "confirm";

/// What a write does to the world.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Internal,
    Outward,
    Bulk,
}

impl Class {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Internal => "internal",
            Self::Outward => "outward",
            Self::Bulk => "bulk",
        }
    }

    fn meta(self) -> MetaObject {
        let mut object = JsonObject::new();
        object.insert(META_KEY.into(), self.as_str().into());
        MetaObject(object)
    }
}

/// `meta = confirm::internal()` in a `#[tool]`: inside ilert, easy to undo.
pub fn internal() -> MetaObject {
    Class::Internal.meta()
}

/// `meta = confirm::outward()`: pages, notifies, acts outside ilert or is hard to undo.
pub fn outward() -> MetaObject {
    Class::Outward.meta()
}

/// `meta = confirm::bulk()`: changes many alerts; outward above [`BULK_CONFIRM_ABOVE`].
pub fn bulk() -> MetaObject {
    Class::Bulk.meta()
}

/// A tool's class from its record; `None` for tools that only read.
pub fn class_of(tool: &Tool) -> Option<Class> {
    match tool.meta.as_ref()?.0.get(META_KEY)?.as_str()? {
        "internal" => Some(Class::Internal),
        "outward" => Some(Class::Outward),
        "bulk" => Some(Class::Bulk),
        _ => None,
    }
}

/// `--confirm`: which writes ask a person first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Policy {
    /// Every write asks where the client can; outward writes from clients that cannot ask are
    /// refused (internal ones go ahead: the host's own approval applies).
    Always,
    /// Outward writes ask where the client can; elsewhere the host's approval applies.
    #[default]
    Outward,
    /// Nobody is asked by the server (trusted automation); hosts may still ask.
    Never,
}

/// What a person is shown before an outward write: a headline and one line per fact.
#[derive(Debug, Clone, Default)]
pub struct Preview {
    pub headline: String,
    pub lines: Vec<String>,
}

impl Preview {
    pub fn new(headline: impl Into<String>) -> Self {
        Self {
            headline: headline.into(),
            lines: Vec::new(),
        }
    }

    pub fn line(mut self, line: impl Into<String>) -> Self {
        self.lines.push(line.into());
        self
    }

    /// The elicitation's message.
    pub fn message(&self) -> String {
        let mut text = format!("ilert-mcp asks before it acts. {}", self.headline);
        for line in &self.lines {
            text.push_str("\n- ");
            text.push_str(line);
        }
        text.push_str("\nAccept to go ahead; decline or cancel and nothing changes.");
        text
    }
}

/// The server's confirmation settings and the means to seal and check states.
pub struct Confirmer {
    pub policy: Policy,
    sealer: Sealer,
    used: Arc<dyn UsedIds>,
    ttl_secs: i64,
    clock: Arc<dyn Fn() -> i64 + Send + Sync>,
}

impl std::fmt::Debug for Confirmer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Confirmer")
            .field("policy", &self.policy)
            .field("store", &self.used.name())
            .finish_non_exhaustive()
    }
}

impl Default for Confirmer {
    /// Outward policy, a per-process key and an in-process store: right for stdio and one
    /// instance. Replicas pass the shared token key and store to [`Confirmer::new`].
    fn default() -> Self {
        Self::new(
            Policy::default(),
            &TokenKey::generate(),
            Arc::new(InMemory::default()),
        )
    }
}

/// Who asks, what, with which arguments: what a state is bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    caller: String,
    tool: String,
    args: String,
}

impl Binding {
    /// `caller` identifies the caller (see [`caller_id`]); the arguments are hashed canonically.
    pub fn new(caller: &str, tool: &str, arguments: Option<&JsonObject>) -> Self {
        let canonical = canonical(&serde_json::Value::Object(
            arguments.cloned().unwrap_or_default(),
        ));
        Self {
            caller: caller.to_owned(),
            tool: tool.to_owned(),
            args: hex(&Sha256::digest(canonical.as_bytes())),
        }
    }
}

/// A digest of the caller's ilert key and, for OAuth callers, the client they connected with.
/// Never the key itself: it sits inside the sealed state.
pub fn caller_id(key: &str, oauth_client: Option<&str>) -> String {
    let mut hash = Sha256::new();
    hash.update(b"ilert-mcp confirm caller\0");
    hash.update(key.as_bytes());
    hash.update(b"\0");
    hash.update(oauth_client.unwrap_or("").as_bytes());
    hex(&hash.finalize())
}

/// The content of a `requestState`.
#[derive(Serialize, Deserialize)]
struct State {
    /// Caller digest.
    c: String,
    /// Tool name.
    t: String,
    /// SHA-256 of the canonical arguments.
    a: String,
    /// One-time nonce.
    n: String,
    /// Expiry, unix seconds.
    e: i64,
}

/// What to do with a call before the tool runs.
pub enum Before {
    /// Run the tool; its `confirm!` checkpoint consults the stage.
    Run(Stage),
    /// Answer without running it: a refusal, "declined", or a question.
    Answer(rmcp::model::CallToolResponse),
}

/// How a call that carried a `requestState` ended up, for logs and the audit trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Accepted,
    Declined,
    Cancelled,
    Refused,
}

impl Confirmer {
    pub fn new(policy: Policy, key: &TokenKey, used: Arc<dyn UsedIds>) -> Self {
        Self {
            policy,
            sealer: Sealer::new(key),
            used,
            ttl_secs: STATE_TTL_SECS,
            clock: Arc::new(crate::auth::store::now),
        }
    }

    /// The sealer of confirmation states, which follow-through tasks share (another prefix).
    pub fn sealer(&self) -> &Sealer {
        &self.sealer
    }

    /// The store of used ids and kept answers, shared by the replicas when configured.
    pub fn store(&self) -> &Arc<dyn UsedIds> {
        &self.used
    }

    /// Replaces the clock (unix seconds): tests use it to let states expire.
    pub fn with_clock(mut self, clock: Arc<dyn Fn() -> i64 + Send + Sync>) -> Self {
        self.clock = clock;
        self
    }

    /// Checks a call of a write tool of `class` before it runs. `can_ask`: the client speaks
    /// 2026-07-28 and declared elicitation. Selection, read-only and grants were checked before.
    pub async fn before(
        &self,
        class: Class,
        title: &str,
        binding: Binding,
        request: &CallToolRequestParams,
        can_ask: bool,
    ) -> (Before, Option<Outcome>) {
        let stage = |confirmed| {
            Stage(Arc::new(StageInner {
                policy: self.policy,
                class,
                can_ask,
                confirmed,
                binding: binding.clone(),
                preview: Mutex::new(None),
                tally: self.used.clone(),
                clock: self.clock.clone(),
                tallied: Default::default(),
            }))
        };
        if self.policy == Policy::Never {
            return (Before::Run(stage(false)), None);
        }
        if let Some(raw) = request.request_state.as_deref() {
            match self.check(raw, &binding, request).await {
                Verdict::Accepted => return (Before::Run(stage(true)), Some(Outcome::Accepted)),
                Verdict::Declined(action) => {
                    let outcome = match action {
                        ElicitationAction::Cancel => Outcome::Cancelled,
                        _ => Outcome::Declined,
                    };
                    let text = not_done(outcome, title, &binding.tool);
                    return (Before::Answer(text.into()), Some(outcome));
                }
                Verdict::Refused(why) => {
                    let text = format!(
                        "Not done: {why} Nothing was changed in ilert. Call {} again (without \
                         requestState) to ask the person afresh.",
                        binding.tool
                    );
                    return (Before::Answer(failure(text).into()), Some(Outcome::Refused));
                }
                // Other arguments than the ones confirmed: this is a new question.
                Verdict::Stale => {}
            }
        }
        // Internal writes under `always` ask here, with their arguments as the preview.
        if class == Class::Internal && self.policy == Policy::Always && can_ask {
            let mut preview = Preview::new(format!("{title}:"));
            let args = serde_json::Value::Object(request.arguments.clone().unwrap_or_default());
            if let serde_json::Value::Object(map) = args {
                for (name, value) in map {
                    preview.lines.push(format!("{name}: {}", display(&value)));
                }
            }
            return (Before::Answer(self.ask(&binding, &preview).into()), None);
        }
        (Before::Run(stage(false)), None)
    }

    /// The `input_required` answer: the elicitation and a fresh sealed state.
    pub fn ask(&self, binding: &Binding, preview: &Preview) -> InputRequiredResult {
        let state = State {
            c: binding.caller.clone(),
            t: binding.tool.clone(),
            a: binding.args.clone(),
            n: random_id(),
            e: (self.clock)() + self.ttl_secs,
        };
        let sealed = self.sealer.seal(STATE_PREFIX, &state);
        let mut requests = InputRequests::new();
        requests.insert(
            INPUT_KEY.to_owned(),
            InputRequest::Elicitation(ElicitRequest::new(elicitation(preview))),
        );
        InputRequiredResult::new(Some(requests), Some(sealed))
    }

    async fn check(
        &self,
        raw: &str,
        binding: &Binding,
        request: &CallToolRequestParams,
    ) -> Verdict {
        let Some(state) = self.sealer.open::<State>(STATE_PREFIX, raw) else {
            return Verdict::Refused(
                "the confirmation (requestState) was not issued by this server or was altered.",
            );
        };
        if state.c != binding.caller {
            return Verdict::Refused("the confirmation belongs to another caller.");
        }
        if state.t != binding.tool {
            return Verdict::Refused("the confirmation was given for another tool.");
        }
        if state.e <= (self.clock)() {
            return Verdict::Refused("the confirmation has expired.");
        }
        if state.a != binding.args {
            return Verdict::Stale;
        }
        let answer = request
            .input_responses
            .as_ref()
            .and_then(|r| r.get(INPUT_KEY))
            .and_then(|v| serde_json::from_value::<ElicitResult>(v.clone()).ok());
        let Some(answer) = answer else {
            return Verdict::Stale;
        };
        match self
            .used
            .first_use(&format!("confirm:{}", state.n), state.e)
            .await
        {
            Ok(true) => {}
            Ok(false) => return Verdict::Refused("the confirmation was already used."),
            Err(e) => {
                tracing::warn!(error = %e, store = self.used.name(), "could not record a confirmation's use; refusing it");
                return Verdict::Refused(
                    "the server could not record the confirmation's use (its store is unavailable).",
                );
            }
        }
        match answer.action {
            ElicitationAction::Accept => Verdict::Accepted,
            other => Verdict::Declined(other),
        }
    }
}

/// The form elicitation that asks for `preview`: a message and nothing to fill in.
pub fn elicitation(preview: &Preview) -> ElicitRequestParams {
    ElicitRequestParams::FormElicitationParams {
        meta: None,
        message: preview.message(),
        requested_schema: ElicitationSchema::new(BTreeMap::new()),
    }
}

/// The answer after a person declined or cancelled: nothing happened, and no retry on its own.
pub fn not_done(outcome: Outcome, title: &str, tool: &str) -> CallToolResult {
    let how = if outcome == Outcome::Cancelled {
        "cancelled"
    } else {
        "declined"
    };
    failure(format!(
        "Not done: the person {how} {title} ({tool}). Nothing was changed in ilert. Do not retry \
         unless they ask for it again."
    ))
}

enum Verdict {
    Accepted,
    Declined(ElicitationAction),
    Refused(&'static str),
    Stale,
}

/// Per-call confirmation state, in the request's extensions for the tool's checkpoint.
#[derive(Clone)]
pub struct Stage(Arc<StageInner>);

struct StageInner {
    policy: Policy,
    class: Class,
    can_ask: bool,
    confirmed: bool,
    binding: Binding,
    preview: Mutex<Option<Preview>>,
    /// Where the bulk rule counts this caller's changes, and its clock.
    tally: Arc<dyn UsedIds>,
    clock: Arc<dyn Fn() -> i64 + Send + Sync>,
    /// The caller's tally once this call was counted (0 before): the question says it.
    tallied: std::sync::atomic::AtomicU64,
}

/// How far a write reaches, as its checkpoint knows it once the arguments are resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// This many alerts accepted or resolved (bulk tools).
    Alerts(usize),
    /// Only the caller (assigning an alert to oneself): an outward tool acting as internal.
    OnlyCaller,
    /// Whatever the tool's class says.
    Class,
}

/// What a tool's checkpoint does.
pub enum Step {
    Go,
    Ask(Stage),
    Refuse(CallToolResult),
}

impl Stage {
    /// Whether a write of this `reach` must wait for a person. For bulk tools the alerts are
    /// added to the caller's tally (unless confirmed): the total within [`BULK_WINDOW_SECS`]
    /// decides. A tally the store cannot keep counts as over the threshold (fail closed).
    pub async fn step(&self, reach: Reach) -> Step {
        let s = &self.0;
        let outward = match (s.class, reach) {
            (_, Reach::OnlyCaller) => false,
            (Class::Bulk, reach) => {
                let count = match reach {
                    Reach::Alerts(count) => count,
                    _ => 1,
                };
                s.policy != Policy::Never && !s.confirmed && self.over_bulk(count).await
            }
            (Class::Outward, _) => true,
            (Class::Internal, _) => false,
        };
        let asks = match s.policy {
            Policy::Never => false,
            Policy::Outward => outward,
            Policy::Always => true,
        };
        if s.confirmed || !asks {
            return Step::Go;
        }
        if s.can_ask {
            return Step::Ask(self.clone());
        }
        if s.policy == Policy::Always && outward {
            return Step::Refuse(failure(format!(
                "Not done: this server requires a person to confirm {} first (--confirm always), and \
                 this client cannot ask them: it needs MCP 2026-07-28 with elicitation. Nothing was \
                 changed in ilert. Use a client that supports elicitation, or ask the operator to run \
                 ilert-mcp with --confirm outward so the client's own approval prompt applies.",
                s.binding.tool
            )));
        }
        Step::Go
    }

    /// Adds `count` alerts to the caller's tally; whether the window now holds more than allowed.
    async fn over_bulk(&self, count: usize) -> bool {
        let s = &self.0;
        if count > BULK_CONFIRM_ABOVE {
            return true;
        }
        let key = format!("bulk:{}", s.binding.caller);
        let added = u32::try_from(count).unwrap_or(u32::MAX);
        match s
            .tally
            .tally(&key, added, (s.clock)(), BULK_WINDOW_SECS)
            .await
        {
            Ok(total) => {
                s.tallied.store(total, std::sync::atomic::Ordering::Relaxed);
                total > BULK_CONFIRM_ABOVE as u64
            }
            Err(e) => {
                tracing::warn!(error = %e, store = s.tally.name(), "could not count a caller's alert changes; asking");
                true
            }
        }
    }

    /// Records what the person must see; the server answers `input_required` with it. The result
    /// returned here never reaches a client unless the server is miswired, and then it is true.
    pub fn ask(&self, mut preview: Preview) -> CallToolResult {
        let tallied = self.0.tallied.load(std::sync::atomic::Ordering::Relaxed);
        if tallied > 0 {
            // Why a small batch asks: the caller's own recent changes, counted by the server.
            preview.lines.insert(
                0,
                format!(
                    "This call makes {tallied} alerts accepted or resolved with your key within {} \
                     minutes; more than {BULK_CONFIRM_ABOVE} needs your yes.",
                    BULK_WINDOW_SECS / 60
                ),
            );
        }
        if let Ok(mut slot) = self.0.preview.lock() {
            *slot = Some(preview);
        }
        failure("Not done: a person must confirm this first. Nothing was changed in ilert.")
    }

    /// The preview a checkpoint left, if it asked.
    pub fn take_preview(&self) -> Option<Preview> {
        self.0.preview.lock().ok().and_then(|mut slot| slot.take())
    }

    pub fn binding(&self) -> &Binding {
        &self.0.binding
    }

    /// The same call, confirmed by the person.
    pub fn confirmed(&self) -> Stage {
        let s = &self.0;
        Stage(Arc::new(StageInner {
            policy: s.policy,
            class: s.class,
            can_ask: s.can_ask,
            confirmed: true,
            binding: s.binding.clone(),
            preview: Mutex::new(None),
            tally: s.tally.clone(),
            clock: s.clock.clone(),
            tallied: Default::default(),
        }))
    }
}

/// The checkpoint's decision for this call (`Go` when the server attached no stage).
pub async fn step(ext: &Extensions, reach: Reach) -> Step {
    match ext.get::<Stage>() {
        Some(stage) => stage.step(reach).await,
        None => Step::Go,
    }
}

/// Stops before an outward write until a person confirms: `confirm!(ext, preview_future)`;
/// `confirm!(ext, count = n, preview_future)` for bulk changes of `n` alerts;
/// `confirm!(ext, only_caller = b, preview_future)` for a write that is internal when it reaches
/// only the caller. The preview is only built when the person is asked.
macro_rules! confirm {
    (@reach $ext:expr, $reach:expr, $preview:expr) => {
        match $crate::rules::confirm::step(&$ext, $reach).await {
            $crate::rules::confirm::Step::Go => {}
            $crate::rules::confirm::Step::Refuse(result) => return result,
            $crate::rules::confirm::Step::Ask(stage) => return stage.ask($preview.await),
        }
    };
    ($ext:expr, count = $count:expr, $preview:expr) => {
        confirm!(@reach $ext, $crate::rules::confirm::Reach::Alerts($count), $preview)
    };
    ($ext:expr, only_caller = $only:expr, $preview:expr) => {
        confirm!(
            @reach $ext,
            if $only {
                $crate::rules::confirm::Reach::OnlyCaller
            } else {
                $crate::rules::confirm::Reach::Class
            },
            $preview
        )
    };
    ($ext:expr, $preview:expr) => {
        confirm!(@reach $ext, $crate::rules::confirm::Reach::Class, $preview)
    };
}
pub(crate) use confirm;

/// JSON with object keys sorted at every level: equal arguments hash equally.
fn canonical(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Object(map) => {
            let sorted: BTreeMap<&String, String> =
                map.iter().map(|(k, v)| (k, canonical(v))).collect();
            let body: Vec<String> = sorted
                .iter()
                .map(|(k, v)| format!("{}:{v}", serde_json::Value::String((*k).clone())))
                .collect();
            format!("{{{}}}", body.join(","))
        }
        serde_json::Value::Array(items) => {
            let body: Vec<String> = items.iter().map(canonical).collect();
            format!("[{}]", body.join(","))
        }
        other => other.to_string(),
    }
}

fn display(value: &serde_json::Value) -> String {
    match value {
        // The model's argument, possibly copied from ilert: one quoted value, no added lines.
        serde_json::Value::String(s) => crate::rules::untrusted::quoted(s),
        other => other.to_string(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_ignores_key_order_only() {
        let a = serde_json::json!({"b": 1, "a": {"y": [1, 2], "x": "s"}});
        let b = serde_json::json!({"a": {"x": "s", "y": [1, 2]}, "b": 1});
        let c = serde_json::json!({"a": {"x": "s", "y": [2, 1]}, "b": 1});
        assert_eq!(canonical(&a), canonical(&b));
        assert_ne!(canonical(&a), canonical(&c));
    }

    fn stage_at(
        class: Class,
        policy: Policy,
        can_ask: bool,
        caller: &str,
        store: Arc<dyn UsedIds>,
        now: Arc<std::sync::atomic::AtomicI64>,
    ) -> Stage {
        Stage(Arc::new(StageInner {
            policy,
            class,
            can_ask,
            confirmed: false,
            binding: Binding::new(caller, "t", None),
            preview: Mutex::new(None),
            tally: store,
            clock: Arc::new(move || now.load(std::sync::atomic::Ordering::SeqCst)),
            tallied: Default::default(),
        }))
    }

    fn stage(class: Class, policy: Policy, can_ask: bool) -> Stage {
        let now = Arc::new(std::sync::atomic::AtomicI64::new(1_000_000));
        stage_at(
            class,
            policy,
            can_ask,
            "c",
            Arc::new(InMemory::default()),
            now,
        )
    }

    async fn asks(s: &Stage, reach: Reach) -> bool {
        matches!(s.step(reach).await, Step::Ask(_))
    }

    #[tokio::test]
    async fn classes_and_policies_decide_who_asks() {
        assert!(!asks(&stage(Class::Bulk, Policy::Outward, true), Reach::Alerts(3)).await);
        assert!(asks(&stage(Class::Bulk, Policy::Outward, true), Reach::Alerts(4)).await);
        assert!(asks(&stage(Class::Outward, Policy::Outward, true), Reach::Class).await);
        assert!(
            !asks(
                &stage(Class::Outward, Policy::Outward, true),
                Reach::OnlyCaller
            )
            .await
        );
        assert!(!asks(&stage(Class::Internal, Policy::Outward, true), Reach::Class).await);
        assert!(asks(&stage(Class::Internal, Policy::Always, true), Reach::Class).await);
        assert!(
            asks(
                &stage(Class::Outward, Policy::Always, true),
                Reach::OnlyCaller
            )
            .await
        );
        assert!(!asks(&stage(Class::Outward, Policy::Never, true), Reach::Class).await);
        // A client that cannot ask: go ahead under `outward`, refused under `always`.
        assert!(matches!(
            stage(Class::Outward, Policy::Outward, false)
                .step(Reach::Class)
                .await,
            Step::Go
        ));
        assert!(matches!(
            stage(Class::Outward, Policy::Always, false)
                .step(Reach::Class)
                .await,
            Step::Refuse(_)
        ));
        assert!(matches!(
            stage(Class::Outward, Policy::Always, false)
                .step(Reach::OnlyCaller)
                .await,
            Step::Go
        ));
        assert!(matches!(
            stage(Class::Internal, Policy::Always, false)
                .step(Reach::Class)
                .await,
            Step::Go
        ));
    }

    #[tokio::test]
    async fn the_bulk_rule_counts_across_calls_within_its_window() {
        let store: Arc<dyn UsedIds> = Arc::new(InMemory::default());
        let now = Arc::new(std::sync::atomic::AtomicI64::new(1_000_000));
        let call = |caller: &str| {
            stage_at(
                Class::Bulk,
                Policy::Outward,
                true,
                caller,
                store.clone(),
                now.clone(),
            )
        };
        // 3 alerts go ahead; 3 more within ten minutes ask, in a new call.
        assert!(!asks(&call("a"), Reach::Alerts(3)).await);
        now.fetch_add(60, std::sync::atomic::Ordering::SeqCst);
        assert!(asks(&call("a"), Reach::Alerts(3)).await);
        // Another caller has a tally of its own.
        assert!(!asks(&call("b"), Reach::Alerts(2)).await);
        // Once the window has passed, the caller starts afresh.
        now.fetch_add(BULK_WINDOW_SECS, std::sync::atomic::Ordering::SeqCst);
        assert!(!asks(&call("a"), Reach::Alerts(1)).await);
        // A confirmed call goes ahead and is not counted.
        let confirmed = call("a").confirmed();
        assert!(matches!(confirmed.step(Reach::Alerts(10)).await, Step::Go));
        assert!(!asks(&call("a"), Reach::Alerts(2)).await);
    }
}
