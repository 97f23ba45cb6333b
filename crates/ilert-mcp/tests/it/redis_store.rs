//! The Redis store against a real `redis-server` on a loopback port (started here, no persistence).
//! Skipped, saying so, where no redis-server is installed: scripts/scaleout installs Debian's and
//! sets ILERT_MCP_REQUIRE_REDIS=1 when it runs these, so there they cannot skip.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ilert_mcp::auth::redis_store::RedisStore;
use ilert_mcp::auth::store::{StoreError, UsedIds, now};

struct RedisServer {
    child: Child,
    port: u16,
}

impl RedisServer {
    /// A fresh redis-server on a free port, or None (the test is skipped) where there is none.
    fn start() -> Option<Self> {
        let bin = std::env::var("REDIS_SERVER").unwrap_or_else(|_| "redis-server".into());
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Self::start_on(&bin, port).or_else(|| {
            assert!(
                std::env::var_os("ILERT_MCP_REQUIRE_REDIS").is_none(),
                "ILERT_MCP_REQUIRE_REDIS is set but {bin} could not be started"
            );
            eprintln!("skipped: no {bin} on PATH (scripts/scaleout installs one and runs this)");
            None
        })
    }

    fn start_on(bin: &str, port: u16) -> Option<Self> {
        let child = Command::new(bin)
            // Redis keeps the real clock when the any-hour sweep (scripts/sweep) moves this
            // test's with libfaketime: redis-server does not start under it, and the store sets
            // relative expiries, so a replica whose clock differs from Redis's is the real case.
            .env_remove("LD_PRELOAD")
            .env_remove("FAKETIME")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args([
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "yes",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let server = Self { child, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(server)
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

#[tokio::test]
async fn first_use_is_atomic_across_replicas() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    // Two stores, as two replicas would hold them, racing for the same ids.
    let a: Arc<dyn UsedIds> = Arc::new(RedisStore::new(&redis.url(), "t1:").unwrap());
    let b: Arc<dyn UsedIds> = Arc::new(RedisStore::new(&redis.url(), "t1:").unwrap());
    a.check().await.unwrap();
    for round in 0..20 {
        let id = format!("code:race-{round}");
        let attempts = (0..16).map(|i| {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            let id = id.clone();
            tokio::spawn(async move { store.first_use(&id, now() + 120).await.unwrap() })
        });
        let wins = futures::future::join_all(attempts)
            .await
            .into_iter()
            .filter(|won| *won.as_ref().unwrap())
            .count();
        assert_eq!(wins, 1, "round {round}: exactly one first use");
    }
    // Another prefix is another deployment: its ids are its own.
    let other = RedisStore::new(&redis.url(), "t2:").unwrap();
    assert!(other.first_use("code:race-0", now() + 120).await.unwrap());
}

#[tokio::test]
async fn a_revoked_family_is_seen_by_every_replica() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let a: Arc<dyn UsedIds> = Arc::new(RedisStore::new(&redis.url(), "t:").unwrap());
    let b: Arc<dyn UsedIds> = Arc::new(RedisStore::new(&redis.url(), "t:").unwrap());
    assert!(!b.is_used("family:f1").await.unwrap());
    assert!(a.first_use("family:f1", now() + 600).await.unwrap());
    assert!(
        b.is_used("family:f1").await.unwrap(),
        "B sees A's revocation"
    );
    assert!(!b.is_used("family:f2").await.unwrap());
    let other = RedisStore::new(&redis.url(), "other:").unwrap();
    assert!(!other.is_used("family:f1").await.unwrap());
}

/// A follow-through task's kept answer (issue 26): kept once by whichever replica answers first,
/// read by every replica, another deployment's prefix apart.
#[tokio::test]
async fn a_kept_answer_is_kept_once_and_read_by_every_replica() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let a: Arc<dyn UsedIds> = Arc::new(RedisStore::new(&redis.url(), "t:").unwrap());
    let b: Arc<dyn UsedIds> = Arc::new(RedisStore::new(&redis.url(), "t:").unwrap());
    assert_eq!(b.recall("task-answer:n1").await.unwrap(), None);
    assert!(
        a.remember("task-answer:n1", "{\"paged\":4722}", now() + 600)
            .await
            .unwrap()
    );
    assert!(
        !b.remember("task-answer:n1", "other", now() + 600)
            .await
            .unwrap()
    );
    assert_eq!(
        b.recall("task-answer:n1").await.unwrap().as_deref(),
        Some("{\"paged\":4722}")
    );
    let other = RedisStore::new(&redis.url(), "other:").unwrap();
    assert_eq!(other.recall("task-answer:n1").await.unwrap(), None);
}

/// The bulk rule's tally is one count for every replica: 16 concurrent additions from two
/// replicas all count, and events a window old drop out.
#[tokio::test]
async fn a_tally_is_shared_by_every_replica() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let a: Arc<dyn UsedIds> = Arc::new(RedisStore::new(&redis.url(), "t:").unwrap());
    let b: Arc<dyn UsedIds> = Arc::new(RedisStore::new(&redis.url(), "t:").unwrap());
    let at = 1_000_000;
    let adds = (0..16).map(|i| {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        tokio::spawn(async move { store.tally("bulk:c", 1, at, 600).await.unwrap() })
    });
    let totals: Vec<u64> = futures::future::join_all(adds)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(totals.iter().max(), Some(&16), "{totals:?}");
    assert_eq!(b.tally("bulk:c", 2, at + 300, 600).await.unwrap(), 18);
    assert_eq!(a.tally("bulk:other", 1, at + 300, 600).await.unwrap(), 1);
    // A window after the first 16, only the 2 added later remain.
    assert_eq!(a.tally("bulk:c", 0, at + 600, 600).await.unwrap(), 2);
}

#[tokio::test]
async fn keys_expire_with_the_value_and_hold_no_id() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let store = RedisStore::new(&redis.url(), "t:").unwrap();
    assert!(
        store
            .first_use("refresh:the-secret-jti", now() + 600)
            .await
            .unwrap()
    );
    let client = redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(keys[0].starts_with("t:used:") && !keys[0].contains("the-secret-jti"));
    let ttl: i64 = redis::cmd("TTL")
        .arg(&keys[0])
        .query_async(&mut conn)
        .await
        .unwrap();
    // The value's 600 s plus the clock margin, never unbounded.
    assert!((600..=600 + 300).contains(&ttl), "ttl {ttl}");
}

#[tokio::test]
async fn a_lost_redis_refuses_then_recovers() {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let store = RedisStore::new(&redis.url(), "t:").unwrap();
    assert!(store.first_use("code:before", now() + 60).await.unwrap());

    redis.kill();
    let started = Instant::now();
    assert!(matches!(
        store.first_use("code:during", now() + 60).await,
        Err(StoreError::Unavailable(_))
    ));
    assert!(store.check().await.is_err());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "refusals are prompt: {:?}",
        started.elapsed()
    );

    // Back on the same port (empty: no persistence); the store reconnects by itself.
    let port = redis.port;
    let bin = std::env::var("REDIS_SERVER").unwrap_or_else(|_| "redis-server".into());
    let _again = RedisServer::start_on(&bin, port).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match store.first_use("code:after", now() + 60).await {
            Ok(first) => {
                assert!(first);
                break;
            }
            Err(e) => assert!(Instant::now() < deadline, "no recovery: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!store.first_use("code:after", now() + 60).await.unwrap());
    store.check().await.unwrap();
}
