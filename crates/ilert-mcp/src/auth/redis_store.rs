//! Used ids in Redis, shared by every replica: `SET <prefix>used:<digest> 1 NX EX <ttl>` records a
//! first use atomically, so of two replicas redeeming one code at the same moment exactly one
//! wins. Keys hold a SHA-256 digest of the id, never the id; they expire with the value they
//! guard. When Redis does not answer in time the use is refused (fail closed).

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures::future::BoxFuture;
use redis::Value;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use sha2::{Digest, Sha256};

use super::store::{StoreError, UsedIds, now};

/// Longest a token request waits on Redis before it is refused.
const OP_TIMEOUT: Duration = Duration::from_secs(2);
/// Kept this much longer than the value's own expiry, so replicas whose clocks run a little behind
/// the one that recorded the use still find it.
const CLOCK_MARGIN_SECS: i64 = 300;

/// KEYS[1] the tally; ARGV: now, window, count, a batch id, the key's lifetime. Forgets events a
/// window old, adds `count` members scored `now`, and answers how many remain.
const TALLY_SCRIPT: &str = r"
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
for i = 1, tonumber(ARGV[3]) do
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4] .. ':' .. i)
end
redis.call('EXPIRE', KEYS[1], ARGV[5])
return redis.call('ZCARD', KEYS[1])
";

pub struct RedisStore {
    conn: ConnectionManager,
    prefix: String,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// A store for `url` (`redis://`, `rediss://`, `redis+unix://`). Connects lazily, so a server
    /// starts while Redis is still coming up; `/readyz` says when it is not there. Must be called
    /// inside the Tokio runtime.
    pub fn new(url: &str, prefix: &str) -> Result<Self, String> {
        let client = redis::Client::open(url.trim()).map_err(|e| {
            format!(
                "--redis-url is not a usable Redis URL ({e}); expected redis://[[user]:password@]host[:port][/db], \
                 rediss://... for TLS, or redis+unix:///path"
            )
        })?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(Duration::from_secs(1)))
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(500));
        let conn = client
            .get_connection_manager_lazy(config)
            .map_err(|e| format!("cannot set up the Redis connection: {e}"))?;
        Ok(Self {
            conn,
            prefix: prefix.to_owned(),
        })
    }

    fn key(&self, id: &str) -> String {
        format!(
            "{}used:{}",
            self.prefix,
            URL_SAFE_NO_PAD.encode(Sha256::digest(id.as_bytes()))
        )
    }

    fn kept_key(&self, id: &str) -> String {
        format!(
            "{}kept:{}",
            self.prefix,
            URL_SAFE_NO_PAD.encode(Sha256::digest(id.as_bytes()))
        )
    }

    /// `SET key value NX EX ttl`: `Ok(true)` when this call set it, `Ok(false)` when it was set.
    async fn set_nx(&self, key: String, value: &str, ttl: i64) -> Result<bool, StoreError> {
        let mut cmd = redis::cmd("SET");
        cmd.arg(key).arg(value).arg("NX").arg("EX").arg(ttl);
        match self.query(cmd).await? {
            Value::Okay => Ok(true),
            Value::SimpleString(s) if s == "OK" => Ok(true),
            Value::Nil => Ok(false),
            other => {
                crate::observe::metrics::global().store_error();
                Err(StoreError::Unavailable(format!(
                    "unexpected answer to SET NX: {}",
                    kind(&other)
                )))
            }
        }
    }

    async fn query(&self, cmd: redis::Cmd) -> Result<Value, StoreError> {
        let mut conn = self.conn.clone();
        match tokio::time::timeout(OP_TIMEOUT, cmd.query_async::<Value>(&mut conn)).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => {
                crate::observe::metrics::global().store_error();
                Err(StoreError::Unavailable(e.to_string()))
            }
            Err(_) => {
                crate::observe::metrics::global().store_error();
                Err(StoreError::Unavailable(format!(
                    "no answer within {} s",
                    OP_TIMEOUT.as_secs()
                )))
            }
        }
    }
}

impl UsedIds for RedisStore {
    fn first_use<'a>(
        &'a self,
        id: &'a str,
        expires: i64,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            // A relative expiry from this replica's clock: Redis's own clock does not matter.
            let ttl = (expires - now()).max(0) + CLOCK_MARGIN_SECS;
            self.set_nx(self.key(id), "1", ttl).await
        })
    }

    fn is_used<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let mut cmd = redis::cmd("EXISTS");
            cmd.arg(self.key(id));
            match self.query(cmd).await? {
                Value::Int(n) => Ok(n > 0),
                other => {
                    crate::observe::metrics::global().store_error();
                    Err(StoreError::Unavailable(format!(
                        "unexpected answer to EXISTS: {}",
                        kind(&other)
                    )))
                }
            }
        })
    }

    fn tally<'a>(
        &'a self,
        key: &'a str,
        count: u32,
        now: i64,
        window: i64,
    ) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(async move {
            // One sorted set per key, a member per event scored by its time; the script runs
            // atomically, so replicas adding at once all count. The key holds a digest.
            let key = format!(
                "{}tally:{}",
                self.prefix,
                URL_SAFE_NO_PAD.encode(Sha256::digest(key.as_bytes()))
            );
            let mut cmd = redis::cmd("EVAL");
            cmd.arg(TALLY_SCRIPT)
                .arg(1)
                .arg(key)
                .arg(now)
                .arg(window)
                .arg(count)
                .arg(super::seal::random_id())
                .arg(window + CLOCK_MARGIN_SECS);
            match self.query(cmd).await? {
                Value::Int(n) => Ok(u64::try_from(n).unwrap_or(0)),
                other => {
                    crate::observe::metrics::global().store_error();
                    Err(StoreError::Unavailable(format!(
                        "unexpected answer to the tally script: {}",
                        kind(&other)
                    )))
                }
            }
        })
    }

    fn remember<'a>(
        &'a self,
        id: &'a str,
        value: &'a str,
        expires: i64,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let ttl = (expires - now()).max(1) + CLOCK_MARGIN_SECS;
            self.set_nx(self.kept_key(id), value, ttl).await
        })
    }

    fn recall<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<String>, StoreError>> {
        Box::pin(async move {
            let mut cmd = redis::cmd("GET");
            cmd.arg(self.kept_key(id));
            match self.query(cmd).await? {
                Value::Nil => Ok(None),
                Value::BulkString(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
                Value::SimpleString(s) => Ok(Some(s)),
                other => {
                    crate::observe::metrics::global().store_error();
                    Err(StoreError::Unavailable(format!(
                        "unexpected answer to GET: {}",
                        kind(&other)
                    )))
                }
            }
        })
    }

    fn check(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            match self.query(redis::cmd("PING")).await? {
                Value::SimpleString(s) if s == "PONG" => Ok(()),
                Value::Okay => Ok(()),
                other => Err(StoreError::Unavailable(format!(
                    "unexpected answer to PING: {}",
                    kind(&other)
                ))),
            }
        })
    }

    fn name(&self) -> &'static str {
        "redis"
    }
}

/// The kind of a reply, for errors (never its content).
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Nil => "nil",
        Value::Int(_) => "integer",
        Value::BulkString(_) => "bulk string",
        Value::Array(_) => "array",
        Value::SimpleString(_) => "simple string",
        Value::Okay => "OK",
        Value::ServerError(_) => "server error",
        _ => "other",
    }
}

/// `url` without its password, for logs: `redis://redis.internal:6379/0`.
pub fn redacted(url: &str) -> String {
    match url::Url::parse(url.trim()) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            parsed.to_string()
        }
        Err(_) => "(unparsable URL)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_the_log() {
        assert_eq!(
            redacted("redis://:s3cret@redis.internal:6379/0"),
            "redis://:***@redis.internal:6379/0"
        );
        assert_eq!(
            redacted("rediss://app:s3cret@redis.internal/1"),
            "rediss://app:***@redis.internal/1"
        );
        assert_eq!(redacted("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
    }

    #[tokio::test]
    async fn keys_hold_a_digest_not_the_id() {
        let store = RedisStore::new("redis://127.0.0.1:1", "app:").unwrap();
        let key = store.key("code:secret-jti");
        assert!(key.starts_with("app:used:"));
        assert!(!key.contains("secret-jti"));
        assert_eq!(key, store.key("code:secret-jti"));
        assert_ne!(key, store.key("refresh:secret-jti"));
    }

    #[tokio::test]
    async fn an_unreachable_redis_refuses_instead_of_allowing() {
        // Port 1 on loopback: nothing listens, the connection is refused at once.
        let store = RedisStore::new("redis://127.0.0.1:1", "t:").unwrap();
        assert!(matches!(
            store.first_use("code:x", now() + 60).await,
            Err(StoreError::Unavailable(_))
        ));
        assert!(store.check().await.is_err());
    }

    #[test]
    fn bad_urls_are_refused_without_echoing_them() {
        let Err(e) = RedisStore::new("http://:s3cret@example", "t:") else {
            panic!("an http URL is not a Redis URL");
        };
        assert!(!e.contains("s3cret"), "{e}");
    }
}
