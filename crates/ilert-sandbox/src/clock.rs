//! The sandbox's "now". Real time by default; tests move it forward to watch alerts escalate and
//! shifts change hands without waiting.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use crate::time;

/// A shared clock: every clone sees the same offset from the wall clock.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    /// Milliseconds since the Unix epoch, as the sandbox sees them.
    pub fn now_ms(&self) -> i64 {
        time::real_now_ms() + self.offset_ms.load(Ordering::Relaxed)
    }

    /// Moves the sandbox's time forward; it keeps running from there.
    pub fn advance(&self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX / 2);
        self.offset_ms.fetch_add(ms, Ordering::Relaxed);
    }

    /// Makes it `epoch_ms` now (it keeps running from there). Going back in time is allowed but
    /// alerts that have escalated stay escalated.
    pub fn set_now_ms(&self, epoch_ms: i64) {
        self.offset_ms
            .store(epoch_ms - time::real_now_ms(), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advance_and_set() {
        let clock = Clock::default();
        let shared = clock.clone();
        let before = clock.now_ms();
        clock.advance(Duration::from_secs(3600));
        assert!(shared.now_ms() - before >= 3_600_000);
        clock.set_now_ms(1_000_000);
        assert!((shared.now_ms() - 1_000_000).abs() < 1_000);
    }
}
