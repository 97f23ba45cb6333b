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
