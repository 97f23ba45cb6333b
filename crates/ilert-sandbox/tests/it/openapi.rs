//! The unauthenticated extras: `GET /api-docs/openapi.json` (ilert's spec) and `GET /healthz`.

#[tokio::test]
async fn serves_the_spec_file_without_auth() {
    let s = crate::common::start().await;
    let resp = s
        .client
        .get(format!("{}/api-docs/openapi.json", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/json");
    let bytes = resp.bytes().await.unwrap();
    let file = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../spec/ilert-openapi.json"
    ))
    .unwrap();
    assert_eq!(bytes.as_ref(), file.as_slice());
    let spec: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert!(spec["paths"]["/alerts"].is_object());
}

#[tokio::test]
async fn healthz_needs_no_key() {
    let s = crate::common::start().await;
    let r = s
        .request(reqwest::Method::GET, "/healthz", None, None)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, serde_json::json!({"status": "ok"}));
}

/// The test-only counter sees every `/api` request (rejected ones too), by User-Agent product,
/// and nothing outside `/api`; it needs no key.
#[tokio::test]
async fn request_counter_counts_api_requests_by_user_agent() {
    let s = crate::common::start().await;
    let counts = |s: &crate::common::Server| {
        let url = format!("{}/_test/requests", s.base);
        let client = s.client.clone();
        async move {
            let resp = client.get(url).send().await.unwrap();
            assert_eq!(resp.status(), 200);
            resp.json::<serde_json::Value>().await.unwrap()
        }
    };
    assert_eq!(counts(&s).await["total"], 0);
    for agent in ["ilert-mcp/0.1.0", "ilert-mcp/0.1.0", "truth/1"] {
        let resp = s
            .client
            .get(format!("{}/api/users/current", s.base))
            .header("Authorization", "Bearer demo-key-user")
            .header("User-Agent", agent)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
    }
    let rejected = s
        .request(reqwest::Method::GET, "/api/alerts", None, None)
        .await;
    assert_eq!(rejected.status, 401);
    s.request(reqwest::Method::GET, "/healthz", None, None)
        .await;
    let body = counts(&s).await;
    assert_eq!(body["total"], 4, "{body}");
    assert_eq!(body["byUserAgent"]["ilert-mcp"], 2, "{body}");
    assert_eq!(body["byUserAgent"]["truth"], 1, "{body}");
}
