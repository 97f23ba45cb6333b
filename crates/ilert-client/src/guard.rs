//! Upstream economy: a per-key request budget (ilert allows 120 a minute per API key) kept
//! locally so a busy caller never spends another's, and a circuit that stops calling an ilert that
//! keeps failing, then lets one probe through.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::ApiKey;

/// What happened to one upstream request, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// ilert answered with this status.
    Status(u16),
    /// No answer (connect failure, timeout, reset).
    Transport,
    /// Refused locally: the key's budget for this minute is spent.
    BudgetSpent,
    /// Refused locally: the circuit is open.
    CircuitOpen,
}

/// Called once per upstream attempt with its outcome (never with the key).
pub type Observer = std::sync::Arc<dyn Fn(Outcome) + Send + Sync>;

const WINDOW: Duration = Duration::from_secs(60);

/// How much of the per-key budget is in use, summed over keys: never per key, so nothing here
/// tells one caller apart from another.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BudgetUsage {
    /// Requests allowed per key per minute (0: no budget).
    pub per_key_per_minute: u32,
    /// Keys that sent a request in their current one-minute window.
    pub active_keys: usize,
    /// Requests taken in those windows, all keys together.
    pub used: u64,
    /// Keys whose window is used up.
    pub exhausted_keys: usize,
}

/// Fixed one-minute windows per key, as ilert counts them.
pub(crate) struct Budget {
    per_minute: u32,
    windows: Mutex<HashMap<[u8; 32], (Instant, u32)>>,
}

impl Budget {
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from the key's budget, or says how long until the window resets.
    pub fn take(&self, key: &ApiKey) -> Result<(), Duration> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let digest: [u8; 32] = Sha256::digest(key.expose().as_bytes()).into();
        let Ok(mut windows) = self.windows.lock() else {
            return Ok(());
        };
        if windows.len() > 50_000 {
            windows.retain(|_, (start, _)| start.elapsed() < WINDOW);
        }
        let now = Instant::now();
        let (start, used) = windows.entry(digest).or_insert((now, 0));
        if now.duration_since(*start) >= WINDOW {
            *start = now;
            *used = 0;
        }
        if *used >= self.per_minute {
            return Err(WINDOW.saturating_sub(now.duration_since(*start)));
        }
        *used += 1;
        Ok(())
    }

    /// The current windows, summed.
    pub fn usage(&self) -> BudgetUsage {
        let mut usage = BudgetUsage {
            per_key_per_minute: self.per_minute,
            ..BudgetUsage::default()
        };
        let Ok(windows) = self.windows.lock() else {
            return usage;
        };
        for (start, used) in windows.values() {
            if start.elapsed() < WINDOW && *used > 0 {
                usage.active_keys += 1;
                usage.used += u64::from(*used);
                if self.per_minute > 0 && *used >= self.per_minute {
                    usage.exhausted_keys += 1;
                }
            }
        }
        usage
    }
}

/// Closed (calls go through), open (calls fail fast until `until`), then one probe.
pub(crate) struct Circuit {
    threshold: u32,
    open_for: Duration,
    state: Mutex<CircuitState>,
}

#[derive(Default)]
struct CircuitState {
    failures: u32,
    open_until: Option<Instant>,
    probing: bool,
}

impl Circuit {
    pub fn new(threshold: u32, open_for: Duration) -> Self {
        Self {
            threshold,
            open_for,
            state: Mutex::new(CircuitState::default()),
        }
    }

    /// Ok to call ilert now, or how long the circuit stays open.
    pub fn allow(&self) -> Result<(), Duration> {
        if self.threshold == 0 {
            return Ok(());
        }
        let Ok(mut s) = self.state.lock() else {
            return Ok(());
        };
        match s.open_until {
            Some(until) if Instant::now() < until => Err(until - Instant::now()),
            Some(_) if s.probing => Err(Duration::from_secs(1)),
            Some(_) => {
                // Half-open: this caller is the probe.
                s.probing = true;
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Records how a call that went through ended: `healthy` is false for transport failures and
    /// 5xx answers (what a broken ilert looks like), true otherwise.
    pub fn record(&self, healthy: bool) {
        if self.threshold == 0 {
            return;
        }
        let Ok(mut s) = self.state.lock() else { return };
        if healthy {
            *s = CircuitState::default();
            return;
        }
        s.failures += 1;
        if s.probing || s.failures >= self.threshold {
            s.open_until = Some(Instant::now() + self.open_for);
            s.probing = false;
            tracing::warn!(failures = s.failures, open_for = ?self.open_for, "ilert keeps failing; pausing calls to it");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_key_has_its_own_budget() {
        let budget = Budget::new(2);
        let (a, b) = (ApiKey::new("key-a").unwrap(), ApiKey::new("key-b").unwrap());
        assert!(budget.take(&a).is_ok() && budget.take(&a).is_ok());
        let wait = budget.take(&a).unwrap_err();
        assert!(wait <= WINDOW && wait > Duration::from_secs(50));
        assert!(budget.take(&b).is_ok(), "another key is not starved");
        assert!(Budget::new(0).take(&a).is_ok(), "0 turns the budget off");
        let usage = budget.usage();
        assert_eq!(
            usage,
            BudgetUsage {
                per_key_per_minute: 2,
                active_keys: 2,
                used: 3,
                exhausted_keys: 1
            }
        );
    }

    #[test]
    fn the_circuit_opens_after_failures_and_probes_once() {
        let circuit = Circuit::new(3, Duration::from_millis(50));
        for _ in 0..3 {
            assert!(circuit.allow().is_ok());
            circuit.record(false);
        }
        assert!(circuit.allow().is_err(), "open");
        std::thread::sleep(Duration::from_millis(60));
        assert!(circuit.allow().is_ok(), "the probe");
        assert!(circuit.allow().is_err(), "only one probe at a time");
        circuit.record(true);
        assert!(
            circuit.allow().is_ok() && circuit.allow().is_ok(),
            "closed again"
        );
    }
}
