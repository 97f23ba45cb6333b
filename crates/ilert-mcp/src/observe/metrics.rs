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

#[derive(Default)]
pub struct Metrics {
    tool_calls: Mutex<BTreeMap<(String, &'static str), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
    upstream: Mutex<BTreeMap<String, u64>>,
    http: Mutex<BTreeMap<u16, u64>>,
    rate_limited: AtomicU64,
    in_flight: AtomicI64,
    store_errors: AtomicU64,
    /// The ilert client whose per-key budget `/metrics` reports (the latest one built).
    budget: Mutex<Option<ilert_client::Client>>,
    audit_write_errors: AtomicU64,
}

#[derive(Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    total: u64,
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

impl Metrics {
    pub fn start_call(&self) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight
    }

    /// `outcome`: ok, tool_error, protocol_error or refused.
    pub fn tool_call(&self, tool: &str, outcome: &'static str, took: Duration) {
        if let Ok(mut calls) = self.tool_calls.lock() {
            *calls.entry((tool.to_owned(), outcome)).or_default() += 1;
        }
        if let Ok(mut latency) = self.latency.lock() {
            let h = latency.entry(tool.to_owned()).or_default();
            let secs = took.as_secs_f64();
            for (count, bound) in h.counts.iter_mut().zip(BUCKETS.iter()) {
                if secs <= *bound {
                    *count += 1;
                }
            }
            h.sum += secs;
            h.total += 1;
        }
    }

    pub fn upstream(&self, outcome: Outcome) {
        let label = match outcome {
            Outcome::Status(s) => s.to_string(),
            Outcome::Transport => "transport_error".to_owned(),
            Outcome::BudgetSpent => "budget_spent".to_owned(),
            Outcome::CircuitOpen => "circuit_open".to_owned(),
        };
        if matches!(outcome, Outcome::Status(429) | Outcome::BudgetSpent) {
            self.rate_limited.fetch_add(1, Ordering::Relaxed);
        }
        if let Ok(mut upstream) = self.upstream.lock() {
            *upstream.entry(label).or_default() += 1;
        }
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
        if let Ok(mut http) = self.http.lock() {
            *http.entry(status).or_default() += 1;
        }
    }

    /// The Prometheus text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP ilert_mcp_tool_calls_total Tool calls by tool and outcome.\n# TYPE ilert_mcp_tool_calls_total counter\n");
        if let Ok(calls) = self.tool_calls.lock() {
            for ((tool, outcome), n) in calls.iter() {
                let _ = writeln!(
                    out,
                    "ilert_mcp_tool_calls_total{{tool=\"{tool}\",outcome=\"{outcome}\"}} {n}"
                );
            }
        }
        out.push_str("# HELP ilert_mcp_tool_call_duration_seconds Tool call latency.\n# TYPE ilert_mcp_tool_call_duration_seconds histogram\n");
        if let Ok(latency) = self.latency.lock() {
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
        if let Ok(upstream) = self.upstream.lock() {
            for (status, n) in upstream.iter() {
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
        if let Ok(http) = self.http.lock() {
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
}
