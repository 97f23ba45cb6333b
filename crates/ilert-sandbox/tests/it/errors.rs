//! Every error is `{status, message, code}`: unknown paths, wrong methods, bad bodies.

use reqwest::Method;

use crate::common::*;

#[tokio::test]
async fn unknown_paths_are_json_404() {
    let s = start().await;
    for path in ["/api/nope", "/api/alerts/4711/nope", "/api/", "/api"] {
        let r = s.get(path, ADMIN).await;
        let message = assert_error(&r, 404, "NOT_FOUND");
        assert_eq!(message, format!("Resource {path} not found"));
    }
    let r = s.request(Method::GET, "/elsewhere", None, None).await;
    assert_error(&r, 404, "NOT_FOUND");
}

#[tokio::test]
async fn wrong_methods_are_json_405() {
    let s = start().await;
    for (method, path) in [
        (Method::DELETE, "/api/alerts/4711"),
        (Method::POST, "/api/alerts/4711/accept"),
        (Method::GET, "/api/alerts/4711/resolve"),
        (Method::DELETE, "/api/users/current"),
        (Method::POST, "/api-docs/openapi.json"),
    ] {
        let r = s.request(method.clone(), path, Some(ADMIN), None).await;
        let message = assert_error(&r, 405, "METHOD_NOT_ALLOWED");
        assert!(message.contains(method.as_str()), "{message}");
        assert!(r.headers.contains_key("allow"), "{method} {path}");
    }
}

#[tokio::test]
async fn malformed_json_bodies_are_400() {
    let s = start().await;
    for body in ["{not json", "[1,2]", "\"text\"", "", "{\"firstName\": 5}"] {
        let r = s
            .request(Method::PUT, "/api/users/current", Some(USER), Some(body))
            .await;
        assert_error(&r, 400, "BAD_REQUEST");
    }
}

#[tokio::test]
async fn errors_never_leak_sql() {
    let s = start().await;
    for path in [
        "/api/alerts?responders=%27%20OR%201%3D1%20--",
        "/api/alerts?states=%27%3B%20DROP%20TABLE%20alerts",
        "/api/alerts/1%20OR%201=1",
    ] {
        let r = s.get(path, ADMIN).await;
        let text = r.body.to_string().to_lowercase();
        for word in ["select", "sqlite", "syntax"] {
            assert!(!text.contains(word), "{path}: {text}");
        }
    }
    assert_eq!(
        s.alert_ids("?responders=%27%20OR%201%3D1%20--").await,
        Vec::<i64>::new()
    );
    assert_eq!(s.ok("/api/alerts/count", ADMIN).await["count"], 32);
}
