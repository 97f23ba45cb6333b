//! Prometheus metrics at `/metrics`: tool calls by tool and outcome with a latency histogram,
//! upstream answers by status, rate-limit hits, calls in flight, HTTP requests by status. Labels
//! are tool names and status codes only: never a key, token, user or argument.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use ilert_client::Outcome;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The outcomes a call is counted under (see [`crate::calls::meter`]).
const OUTCOMES: [&str; 6] = [
    "ok",
    "tool_error",
    "protocol_error",
    "refused",
    "confirmation",
    "input_required",
];

/// Slots for tools: more than the catalogue has. A name that finds no free slot is counted in
/// the (locked) spill maps instead, so nothing is lost.
const TOOL_SLOTS: usize = 128;

/// HTTP status codes counted without a lock: 100 to 599.
const STATUSES: usize = 600;

/// Calls by tool and outcome.
type CallCounts = BTreeMap<(String, &'static str), u64>;

/// The counters of one tool, each an atomic: recording a call takes no lock and allocates nothing.
#[derive(Default)]
struct ToolSlot {
    name: OnceLock<Box<str>>,
    calls: [AtomicU64; OUTCOMES.len()],
    /// Calls by the first bucket that holds their latency (not cumulative; [`Metrics::render`]
    /// sums them); calls slower than the last bound are only in `total`.
    buckets: [AtomicU64; BUCKETS.len()],
    sum_nanos: AtomicU64,
    total: AtomicU64,
}

/// Counters by HTTP status code, one atomic each.
struct ByStatus(Box<[AtomicU64]>);

impl Default for ByStatus {
    fn default() -> Self {
        Self((0..STATUSES).map(|_| AtomicU64::new(0)).collect())
    }
}

impl ByStatus {
    /// Counts `status`; false when it is out of range (the caller spills it).
    fn add(&self, status: u16) -> bool {
        match self.0.get(usize::from(status)) {
            Some(n) if status >= 100 => {
                n.fetch_add(1, Ordering::Relaxed);
                true
            }
            _ => false,
        }
    }

    fn counted(&self) -> impl Iterator<Item = (u16, u64)> + '_ {
        self.0.iter().enumerate().filter_map(|(status, n)| {
            let n = n.load(Ordering::Relaxed);
            (n > 0).then(|| (u16::try_from(status).unwrap_or(u16::MAX), n))
        })
    }
}

pub struct Metrics {
    tools: Box<[ToolSlot]>,
    /// Tools or outcomes without a slot (never the case for the catalogue's tools).
    spill_calls: Mutex<CallCounts>,
    spill_latency: Mutex<BTreeMap<String, Histogram>>,
    upstream_status: ByStatus,
    upstream_transport: AtomicU64,
    upstream_budget_spent: AtomicU64,
    upstream_circuit_open: AtomicU64,
    spill_upstream: Mutex<BTreeMap<String, u64>>,
    http: ByStatus,
    spill_http: Mutex<BTreeMap<u16, u64>>,
    rate_limited: AtomicU64,
    in_flight: AtomicI64,
    store_errors: AtomicU64,
    /// The ilert client whose per-key budget `/metrics` reports (the latest one built).
    budget: Mutex<Option<ilert_client::Client>>,
    audit_write_errors: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            tools: (0..TOOL_SLOTS).map(|_| ToolSlot::default()).collect(),
            spill_calls: Mutex::default(),
            spill_latency: Mutex::default(),
            upstream_status: ByStatus::default(),
            upstream_transport: AtomicU64::new(0),
            upstream_budget_spent: AtomicU64::new(0),
            upstream_circuit_open: AtomicU64::new(0),
            spill_upstream: Mutex::default(),
            http: ByStatus::default(),
            spill_http: Mutex::default(),
            rate_limited: AtomicU64::new(0),
            in_flight: AtomicI64::new(0),
            store_errors: AtomicU64::new(0),
            budget: Mutex::default(),
            audit_write_errors: AtomicU64::new(0),
        }
    }
}

#[derive(Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    total: u64,
}

impl Histogram {
    fn add(&mut self, secs: f64) {
        for (count, bound) in self.counts.iter_mut().zip(BUCKETS.iter()) {
            if secs <= *bound {
                *count += 1;
            }
        }
        self.sum += secs;
        self.total += 1;
    }
}

/// The process's registry.
pub fn global() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::default)
}

/// The ilert client's observer that feeds [`Metrics::upstream`].
pub fn observer() -> ilert_client::Observer {
    std::sync::Arc::new(|outcome| global().upstream(outcome))
}

/// Counts a call as in flight until dropped.
pub struct InFlight;

impl Drop for InFlight {
    fn drop(&mut self) {
        global().in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// FNV-1a: where a tool's slot search starts.
fn slot_hash(name: &str) -> usize {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    usize::try_from(h % TOOL_SLOTS as u64).unwrap_or(0)
}

impl Metrics {
    pub fn start_call(&self) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight
    }

    /// The slot of `tool`, claimed on its first call: open addressing over slots whose name is
    /// set once, so lookups take no lock.
    fn slot(&self, tool: &str) -> Option<&ToolSlot> {
        let start = slot_hash(tool);
        (0..TOOL_SLOTS).find_map(|i| {
            let slot = self.tools.get((start + i) % TOOL_SLOTS)?;
            let name = slot.name.get_or_init(|| tool.into());
            (**name == *tool).then_some(slot)
        })
    }

    /// `outcome`: ok, tool_error, protocol_error, refused, confirmation or input_required.
    pub fn tool_call(&self, tool: &str, outcome: &'static str, took: Duration) {
        let slot = self.slot(tool);
        let which = OUTCOMES.iter().position(|o| *o == outcome);
        let (Some(slot), Some(which)) = (slot, which) else {
            self.spill_call(tool, outcome, took);
            return;
        };
        if let Some(n) = slot.calls.get(which) {
            n.fetch_add(1, Ordering::Relaxed);
        }
        let secs = took.as_secs_f64();
        if let Some(bucket) = BUCKETS
            .iter()
            .position(|bound| secs <= *bound)
            .and_then(|i| slot.buckets.get(i))
        {
            bucket.fetch_add(1, Ordering::Relaxed);
        }
        let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        slot.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
        slot.total.fetch_add(1, Ordering::Relaxed);
    }

    fn spill_call(&self, tool: &str, outcome: &'static str, took: Duration) {
        if let Ok(mut calls) = self.spill_calls.lock() {
            *calls.entry((tool.to_owned(), outcome)).or_default() += 1;
        }
        if let Ok(mut latency) = self.spill_latency.lock() {
            latency
                .entry(tool.to_owned())
                .or_default()
                .add(took.as_secs_f64());
        }
    }

    pub fn upstream(&self, outcome: Outcome) {
        if matches!(outcome, Outcome::Status(429) | Outcome::BudgetSpent) {
            self.rate_limited.fetch_add(1, Ordering::Relaxed);
        }
        let counted = match outcome {
            Outcome::Status(s) => self.upstream_status.add(s),
            Outcome::Transport => {
                self.upstream_transport.fetch_add(1, Ordering::Relaxed);
                true
            }
            Outcome::BudgetSpent => {
                self.upstream_budget_spent.fetch_add(1, Ordering::Relaxed);
                true
            }
            Outcome::CircuitOpen => {
                self.upstream_circuit_open.fetch_add(1, Ordering::Relaxed);
                true
            }
        };
        if !counted
            && let Outcome::Status(s) = outcome
            && let Ok(mut upstream) = self.spill_upstream.lock()
        {
            *upstream.entry(s.to_string()).or_default() += 1;
        }
    }

    /// Calls by tool and outcome, and latency by tool, slots and spill together.
    fn calls_and_latency(&self) -> (CallCounts, BTreeMap<String, Histogram>) {
        let mut calls = self
            .spill_calls
            .lock()
            .map(|c| c.clone())
            .unwrap_or_default();
        let mut latency = self
            .spill_latency
            .lock()
            .map(|l| l.clone())
            .unwrap_or_default();
        for slot in self.tools.iter() {
            let Some(name) = slot.name.get() else {
                continue;
            };
            let total = slot.total.load(Ordering::Relaxed);
            if total == 0 {
                continue;
            }
            for (outcome, n) in OUTCOMES.iter().zip(slot.calls.iter()) {
                let n = n.load(Ordering::Relaxed);
                if n > 0 {
                    *calls.entry((name.to_string(), *outcome)).or_default() += n;
                }
            }
            let h = latency.entry(name.to_string()).or_default();
            let mut below = 0;
            for (count, n) in h.counts.iter_mut().zip(slot.buckets.iter()) {
                below += n.load(Ordering::Relaxed);
                *count += below;
            }
            h.sum += slot.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
            h.total += total;
        }
        (calls, latency)
    }

    /// Upstream answers by label: status codes, then the local refusals, in label order.
    fn upstream_counts(&self) -> BTreeMap<String, u64> {
        let mut out = self
            .spill_upstream
            .lock()
            .map(|u| u.clone())
            .unwrap_or_default();
        for (status, n) in self.upstream_status.counted() {
            *out.entry(status.to_string()).or_default() += n;
        }
        for (label, n) in [
            ("transport_error", &self.upstream_transport),
            ("budget_spent", &self.upstream_budget_spent),
            ("circuit_open", &self.upstream_circuit_open),
        ] {
            let n = n.load(Ordering::Relaxed);
            if n > 0 {
                *out.entry(label.to_owned()).or_default() += n;
            }
        }
        out
    }

    /// Report `client`'s per-key budget from now on.
    pub fn watch_budget(&self, client: &ilert_client::Client) {
        if let Ok(mut budget) = self.budget.lock() {
            *budget = Some(client.clone());
        }
    }

    /// An audit event could not be written.
    pub fn audit_write_failed(&self) {
        self.audit_write_errors.fetch_add(1, Ordering::Relaxed);
    }

    /// The shared OAuth store (Redis) failed or did not answer in time.
    pub fn store_error(&self) {
        self.store_errors.fetch_add(1, Ordering::Relaxed);
    }

    pub fn http(&self, status: u16) {
        if !self.http.add(status)
            && let Ok(mut http) = self.spill_http.lock()
        {
            *http.entry(status).or_default() += 1;
        }
    }

    /// The Prometheus text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP ilert_mcp_tool_calls_total Tool calls by tool and outcome.\n# TYPE ilert_mcp_tool_calls_total counter\n");
        let (calls, latency) = self.calls_and_latency();
        {
            for ((tool, outcome), n) in calls.iter() {
                let _ = writeln!(
                    out,
                    "ilert_mcp_tool_calls_total{{tool=\"{tool}\",outcome=\"{outcome}\"}} {n}"
                );
            }
        }
        out.push_str("# HELP ilert_mcp_tool_call_duration_seconds Tool call latency.\n# TYPE ilert_mcp_tool_call_duration_seconds histogram\n");
        {
            for (tool, h) in latency.iter() {
                for (bound, count) in BUCKETS.iter().zip(h.counts.iter()) {
                    let _ = writeln!(
                        out,
                        "ilert_mcp_tool_call_duration_seconds_bucket{{tool=\"{tool}\",le=\"{bound}\"}} {count}"
                    );
                }
                let _ = writeln!(
                    out,
                    "ilert_mcp_tool_call_duration_seconds_bucket{{tool=\"{tool}\",le=\"+Inf\"}} {}",
                    h.total
                );
                let _ = writeln!(
                    out,
                    "ilert_mcp_tool_call_duration_seconds_sum{{tool=\"{tool}\"}} {}",
                    h.sum
                );
                let _ = writeln!(
                    out,
                    "ilert_mcp_tool_call_duration_seconds_count{{tool=\"{tool}\"}} {}",
                    h.total
                );
            }
        }
        out.push_str("# HELP ilert_mcp_upstream_responses_total ilert answers by status (or local refusal).\n# TYPE ilert_mcp_upstream_responses_total counter\n");
        {
            for (status, n) in self.upstream_counts().iter() {
                let _ = writeln!(
                    out,
                    "ilert_mcp_upstream_responses_total{{status=\"{status}\"}} {n}"
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP ilert_mcp_rate_limited_total Requests refused for rate limits (ilert 429 or the local per-key budget).\n# TYPE ilert_mcp_rate_limited_total counter\nilert_mcp_rate_limited_total {}",
            self.rate_limited.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP ilert_mcp_tool_calls_in_flight Tool calls running now.\n# TYPE ilert_mcp_tool_calls_in_flight gauge\nilert_mcp_tool_calls_in_flight {}",
            self.in_flight.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP ilert_mcp_oauth_store_errors_total Failed or timed-out calls to the shared OAuth store (Redis).\n# TYPE ilert_mcp_oauth_store_errors_total counter\nilert_mcp_oauth_store_errors_total {}",
            self.store_errors.load(Ordering::Relaxed)
        );
        let usage = self
            .budget
            .lock()
            .ok()
            .and_then(|b| b.as_ref().map(ilert_client::Client::budget_usage))
            .unwrap_or_default();
        render_budget(&mut out, usage);
        let _ = writeln!(
            out,
            "# HELP ilert_mcp_audit_write_errors_total Audit events that could not be written to the audit log.\n# TYPE ilert_mcp_audit_write_errors_total counter\nilert_mcp_audit_write_errors_total {}",
            self.audit_write_errors.load(Ordering::Relaxed)
        );
        out.push_str("# HELP ilert_mcp_http_requests_total MCP HTTP requests by status.\n# TYPE ilert_mcp_http_requests_total counter\n");
        {
            let mut http: BTreeMap<u16, u64> = self
                .spill_http
                .lock()
                .map(|h| h.clone())
                .unwrap_or_default();
            for (status, n) in self.http.counted() {
                *http.entry(status).or_default() += n;
            }
            for (status, n) in http.iter() {
                let _ = writeln!(
                    out,
                    "ilert_mcp_http_requests_total{{status=\"{status}\"}} {n}"
                );
            }
        }
        out
    }
}

/// The upstream budget in total: never labelled by key.
fn render_budget(out: &mut String, usage: ilert_client::BudgetUsage) {
    let _ = writeln!(
        out,
        "# HELP ilert_mcp_upstream_budget_per_key Requests each API key may send to ilert per minute (--ilert-rate-limit; 0: no local budget).\n# TYPE ilert_mcp_upstream_budget_per_key gauge\nilert_mcp_upstream_budget_per_key {}",
        usage.per_key_per_minute
    );
    let _ = writeln!(
        out,
        "# HELP ilert_mcp_upstream_budget_used Requests sent to ilert in the current minute, all keys together.\n# TYPE ilert_mcp_upstream_budget_used gauge\nilert_mcp_upstream_budget_used {}",
        usage.used
    );
    let _ = writeln!(
        out,
        "# HELP ilert_mcp_upstream_budget_active_keys API keys that called ilert in the current minute.\n# TYPE ilert_mcp_upstream_budget_active_keys gauge\nilert_mcp_upstream_budget_active_keys {}",
        usage.active_keys
    );
    let _ = writeln!(
        out,
        "# HELP ilert_mcp_upstream_budget_exhausted_keys API keys that have used their whole budget for the current minute.\n# TYPE ilert_mcp_upstream_budget_exhausted_keys gauge\nilert_mcp_upstream_budget_exhausted_keys {}",
        usage.exhausted_keys
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_histograms() {
        let m = Metrics::default();
        m.tool_call("list_alerts", "ok", Duration::from_millis(7));
        m.upstream(Outcome::Status(429));
        m.http(200);
        let text = m.render();
        assert!(text.contains("ilert_mcp_tool_calls_total{tool=\"list_alerts\",outcome=\"ok\"} 1"));
        assert!(text.contains(
            "ilert_mcp_tool_call_duration_seconds_bucket{tool=\"list_alerts\",le=\"0.01\"} 1"
        ));
        assert!(text.contains(
            "ilert_mcp_tool_call_duration_seconds_bucket{tool=\"list_alerts\",le=\"0.005\"} 0"
        ));
        assert!(text.contains("ilert_mcp_upstream_responses_total{status=\"429\"} 1"));
        assert!(text.contains("ilert_mcp_rate_limited_total 1"));
        assert!(text.contains("ilert_mcp_http_requests_total{status=\"200\"} 1"));
    }

    #[test]
    fn counts_without_slots_spill_and_nothing_is_lost() {
        let m = Metrics::default();
        m.tool_call("slow_tool", "ok", Duration::from_secs(20));
        // Slower than the last bound: counted in +Inf only. The spilled call is in every bucket.
        m.tool_call("slow_tool", "weird_outcome", Duration::from_millis(1));
        // More tools than slots: the rest are counted in the spill maps.
        let names: Vec<String> = (0..TOOL_SLOTS + 10).map(|i| format!("t{i}")).collect();
        for name in &names {
            m.tool_call(name, "refused", Duration::ZERO);
        }
        m.upstream(Outcome::Status(999));
        m.upstream(Outcome::Status(200));
        m.upstream(Outcome::BudgetSpent);
        m.http(42);
        m.http(200);
        let text = m.render();
        assert!(text.contains(
            "ilert_mcp_tool_call_duration_seconds_bucket{tool=\"slow_tool\",le=\"10\"} 1"
        ));
        assert!(text.contains(
            "ilert_mcp_tool_call_duration_seconds_bucket{tool=\"slow_tool\",le=\"0.005\"} 1"
        ));
        assert!(text.contains("ilert_mcp_tool_call_duration_seconds_count{tool=\"slow_tool\"} 2"));
        assert!(text.contains(
            "ilert_mcp_tool_call_duration_seconds_bucket{tool=\"slow_tool\",le=\"+Inf\"} 2"
        ));
        assert!(text.contains(
            "ilert_mcp_tool_calls_total{tool=\"slow_tool\",outcome=\"weird_outcome\"} 1"
        ));
        for name in &names {
            let line =
                format!("ilert_mcp_tool_calls_total{{tool=\"{name}\",outcome=\"refused\"}} 1");
            assert!(text.contains(&line), "{line}");
        }
        for status in ["999", "200", "budget_spent"] {
            let line = format!("ilert_mcp_upstream_responses_total{{status=\"{status}\"}} 1");
            assert!(text.contains(&line), "{line}");
        }
        assert!(text.contains("ilert_mcp_rate_limited_total 1"));
        assert!(text.contains("ilert_mcp_http_requests_total{status=\"42\"} 1"));
        assert!(text.contains("ilert_mcp_http_requests_total{status=\"200\"} 1"));
    }
}
