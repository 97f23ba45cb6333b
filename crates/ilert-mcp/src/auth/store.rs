//! The little state OAuth needs: single-use authorization codes and rotated refresh tokens. Each
//! is remembered by id until it would have expired anyway, so a second use is refused.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// Where used ids are kept. In-process for one instance; a shared store (Redis) for replicas.
pub trait UsedIds: Send + Sync {
    /// Marks `id` used until `expires` (unix seconds). True the first time, false ever after.
    fn first_use(&self, id: &str, expires: i64) -> bool;
}

#[derive(Default)]
pub struct InMemory {
    used: Mutex<HashMap<String, i64>>,
}

const MAX_REMEMBERED: usize = 100_000;

impl UsedIds for InMemory {
    fn first_use(&self, id: &str, expires: i64) -> bool {
        let Ok(mut used) = self.used.lock() else {
            return false;
        };
        let now = now();
        if used.len() >= MAX_REMEMBERED {
            used.retain(|_, exp| *exp > now);
        }
        if used.len() >= MAX_REMEMBERED {
            // Refusing is safe: the client starts the flow again.
            return false;
        }
        match used.get(id) {
            Some(_) => false,
            None => {
                used.insert(id.to_owned(), expires);
                true
            }
        }
    }
}

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_used_once() {
        let store = InMemory::default();
        assert!(store.first_use("a", now() + 60));
        assert!(!store.first_use("a", now() + 60));
        assert!(store.first_use("b", now() + 60));
    }
}
