//! The little state OAuth needs: single-use authorization codes and rotated refresh tokens. Each
//! is remembered by id until it would have expired anyway, so a second use is refused.

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

    /// Whether the store answers now (for `/readyz`).
    fn check(&self) -> BoxFuture<'_, Result<(), StoreError>>;

    /// A short name for logs and `/readyz`: `memory`, `redis`.
    fn name(&self) -> &'static str;
}

#[derive(Default)]
pub struct InMemory {
    used: Mutex<HashMap<String, i64>>,
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
}
