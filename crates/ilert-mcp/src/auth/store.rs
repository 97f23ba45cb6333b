//! The little state the server shares between replicas: single-use authorization codes, rotated
//! refresh tokens and answered confirmations, each remembered by id until it would have expired
//! anyway, so a second use is refused; and per-caller tallies over a sliding window (how many
//! alerts a caller changed lately, for the bulk rule).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use futures::future::BoxFuture;

/// Why a use could not be recorded. Either way the exchange is refused (fail closed): the client
/// tries again or starts the flow afresh.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("too many unexpired ids are remembered")]
    Full,
    #[error("the store is unavailable: {0}")]
    Unavailable(String),
}

/// Where used ids are kept. In-process for one instance; a shared store (Redis) for replicas.
pub trait UsedIds: Send + Sync {
    /// Marks `id` used until `expires` (unix seconds). `Ok(true)` the first time, `Ok(false)` ever
    /// after; an error when the use could not be recorded, which callers must treat as a refusal.
    /// Atomic: of concurrent first uses of one id (on any replica sharing the store) one wins.
    fn first_use<'a>(
        &'a self,
        id: &'a str,
        expires: i64,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// Whether `id` has been used (and is not yet expired), without marking it: for revoked
    /// families, which every replica sharing the store must see.
    fn is_used<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// Adds `count` events at `now` (unix seconds) to the tally `key`, forgets events older than
    /// `window` seconds, and returns how many remain (these included). Atomic per key.
    fn tally<'a>(
        &'a self,
        key: &'a str,
        count: u32,
        now: i64,
        window: i64,
    ) -> BoxFuture<'a, Result<u64, StoreError>>;

    /// Keeps `value` under `id` until `expires` (unix seconds), unless something is kept there
    /// already: `Ok(true)` when this value was kept. For a task's answer, which any replica reads.
    fn remember<'a>(
        &'a self,
        id: &'a str,
        value: &'a str,
        expires: i64,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// What [`UsedIds::remember`] kept under `id`, if it has not expired.
    fn recall<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<String>, StoreError>>;

    /// Whether the store answers now (for `/readyz`).
    fn check(&self) -> BoxFuture<'_, Result<(), StoreError>>;

    /// A short name for logs and `/readyz`: `memory`, `redis`.
    fn name(&self) -> &'static str;
}

#[derive(Default)]
pub struct InMemory {
    used: Mutex<HashMap<String, i64>>,
    /// Per key, (when, how many) of each tallied batch.
    tallies: Mutex<HashMap<String, Vec<(i64, u32)>>>,
    /// Kept values and their expiry.
    kept: Mutex<HashMap<String, (String, i64)>>,
}

const MAX_REMEMBERED: usize = 100_000;

impl InMemory {
    fn record(&self, id: &str, expires: i64) -> Result<bool, StoreError> {
        let mut used = self
            .used
            .lock()
            .map_err(|_| StoreError::Unavailable("a lock was poisoned".into()))?;
        let now = now();
        if used.len() >= MAX_REMEMBERED {
            used.retain(|_, exp| *exp > now);
        }
        if used.contains_key(id) {
            return Ok(false);
        }
        if used.len() >= MAX_REMEMBERED {
            return Err(StoreError::Full);
        }
        used.insert(id.to_owned(), expires);
        Ok(true)
    }

    fn count(&self, key: &str, count: u32, now: i64, window: i64) -> Result<u64, StoreError> {
        let mut tallies = self
            .tallies
            .lock()
            .map_err(|_| StoreError::Unavailable("a lock was poisoned".into()))?;
        if tallies.len() >= MAX_REMEMBERED {
            tallies.retain(|_, batches| batches.iter().any(|(at, _)| *at > now - window));
            if tallies.len() >= MAX_REMEMBERED {
                return Err(StoreError::Full);
            }
        }
        let batches = tallies.entry(key.to_owned()).or_default();
        batches.retain(|(at, _)| *at > now - window);
        if count > 0 {
            batches.push((now, count));
        }
        Ok(batches.iter().map(|(_, n)| u64::from(*n)).sum())
    }

    fn keep(&self, id: &str, value: &str, expires: i64) -> Result<bool, StoreError> {
        let mut kept = self
            .kept
            .lock()
            .map_err(|_| StoreError::Unavailable("a lock was poisoned".into()))?;
        let now = now();
        if kept.len() >= MAX_REMEMBERED {
            kept.retain(|_, (_, exp)| *exp > now);
        }
        if kept.get(id).is_some_and(|(_, exp)| *exp > now) {
            return Ok(false);
        }
        if kept.len() >= MAX_REMEMBERED {
            return Err(StoreError::Full);
        }
        kept.insert(id.to_owned(), (value.to_owned(), expires));
        Ok(true)
    }

    fn kept(&self, id: &str) -> Result<Option<String>, StoreError> {
        let kept = self
            .kept
            .lock()
            .map_err(|_| StoreError::Unavailable("a lock was poisoned".into()))?;
        Ok(kept
            .get(id)
            .filter(|(_, exp)| *exp > now())
            .map(|(v, _)| v.clone()))
    }

    fn seen(&self, id: &str) -> Result<bool, StoreError> {
        let used = self
            .used
            .lock()
            .map_err(|_| StoreError::Unavailable("a lock was poisoned".into()))?;
        Ok(used.get(id).is_some_and(|exp| *exp > now()))
    }
}

impl UsedIds for InMemory {
    fn first_use<'a>(
        &'a self,
        id: &'a str,
        expires: i64,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        let result = self.record(id, expires);
        Box::pin(std::future::ready(result))
    }

    fn is_used<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(std::future::ready(self.seen(id)))
    }

    fn tally<'a>(
        &'a self,
        key: &'a str,
        count: u32,
        now: i64,
        window: i64,
    ) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(std::future::ready(self.count(key, count, now, window)))
    }

    fn remember<'a>(
        &'a self,
        id: &'a str,
        value: &'a str,
        expires: i64,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(std::future::ready(self.keep(id, value, expires)))
    }

    fn recall<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<String>, StoreError>> {
        Box::pin(std::future::ready(self.kept(id)))
    }

    fn check(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(std::future::ready(Ok(())))
    }

    fn name(&self) -> &'static str {
        "memory"
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

    #[tokio::test]
    async fn an_id_is_used_once() {
        let store = InMemory::default();
        assert!(store.first_use("a", now() + 60).await.unwrap());
        assert!(!store.first_use("a", now() + 60).await.unwrap());
        assert!(store.first_use("b", now() + 60).await.unwrap());
        assert!(store.is_used("a").await.unwrap());
        assert!(!store.is_used("c").await.unwrap());
        assert!(store.first_use("old", now() - 1).await.unwrap());
        assert!(!store.is_used("old").await.unwrap(), "expired ids are gone");
        assert!(store.check().await.is_ok());
    }

    #[tokio::test]
    async fn a_kept_value_is_kept_once_and_read_until_it_expires() {
        let store = InMemory::default();
        assert_eq!(store.recall("task:a").await.unwrap(), None);
        assert!(store.remember("task:a", "one", now() + 60).await.unwrap());
        assert!(!store.remember("task:a", "two", now() + 60).await.unwrap());
        assert_eq!(
            store.recall("task:a").await.unwrap().as_deref(),
            Some("one")
        );
        assert!(store.remember("task:b", "old", now() - 1).await.unwrap());
        assert_eq!(store.recall("task:b").await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_tally_counts_within_its_sliding_window_only() {
        let store = InMemory::default();
        assert_eq!(store.tally("c", 3, 1_000, 600).await.unwrap(), 3);
        assert_eq!(store.tally("c", 3, 1_300, 600).await.unwrap(), 6);
        // Another caller's tally is its own.
        assert_eq!(store.tally("d", 1, 1_300, 600).await.unwrap(), 1);
        // At 1_600 the first batch is exactly a window old and drops out.
        assert_eq!(store.tally("c", 0, 1_600, 600).await.unwrap(), 3);
        assert_eq!(store.tally("c", 0, 1_900, 600).await.unwrap(), 0);
    }
}
