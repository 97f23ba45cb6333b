//! Per-key fixed one-minute windows; 429 without `Retry-After`.

use crate::common::*;

#[tokio::test]
async fn fourth_request_in_a_minute_is_429() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.rate_limit_per_minute = Some(3);
    let s = start_with(cfg).await;
    for _ in 0..3 {
        s.ok("/api/alerts/count", USER).await;
    }
    let r = s.get("/api/alerts", USER).await;
    let message = assert_error(&r, 429, "TOO_MANY_REQUESTS");
    assert!(message.starts_with("Too many requests"), "{message}");
    assert!(!r.headers.contains_key("retry-after"));
    assert!(
        !r.headers
            .keys()
            .any(|k| k.as_str().starts_with("x-ratelimit"))
    );
    let r = s.put("/api/alerts/4722/accept", USER).await;
    assert_error(&r, 429, "TOO_MANY_REQUESTS");

    // Other keys have their own window; bad keys are rejected before any counting.
    s.ok("/api/users/current", ADMIN).await;
    assert_error(&s.get("/api/alerts", "bogus").await, 403, "KEY_ERROR");
    // The spec stays reachable: it is not under /api.
    let resp = s
        .client
        .get(format!("{}/api-docs/openapi.json", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    s.stop().await;
}

#[tokio::test]
async fn no_limit_when_not_configured() {
    let s = start().await;
    for _ in 0..150 {
        assert_eq!(s.get("/api/alerts/count", ADMIN).await.status, 200);
    }
}
