//! The connector flow over real HTTP, as claude.ai or ChatGPT run it: 401 → metadata → registration
//! (DCR and client ID metadata documents) → authorize page → code → token → MCP calls → refresh,
//! and the ways it must fail. The headless-browser run of the page lives in tests/oauth/.

use std::sync::Arc;

use base64::Engine;
use ilert_mcp::auth::seal::TokenKey;
use ilert_mcp::auth::{ACCESS_PREFIX, CODE_PREFIX, Grant, OAuth, REFRESH_PREFIX, Scope, store};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tracing_subscriber::fmt::writer::MakeWriterExt;

use crate::common::*;

const REDIRECT: &str = "https://claude.ai/api/mcp/auth_callback";

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn base(mcp_url: &str) -> String {
    mcp_url.trim_end_matches("/mcp").to_owned()
}

struct Pkce {
    verifier: String,
    challenge: String,
}

fn pkce() -> Pkce {
    let verifier = ilert_mcp::auth::seal::random_id();
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    Pkce {
        verifier,
        challenge,
    }
}

async fn register(base: &str, redirect: &str) -> String {
    let response = http()
        .post(format!("{base}/register"))
        .json(&json!({"client_name": "Claude", "redirect_uris": [redirect], "token_endpoint_auth_method": "none"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_endpoint_auth_method"], "none");
    body["client_id"].as_str().unwrap().to_owned()
}

/// Loads the authorize page, submits the form with `key` and `scope`, and returns the redirect URL.
async fn authorize(
    base: &str,
    client_id: &str,
    redirect: &str,
    challenge: &str,
    key: &str,
    scope: &str,
) -> reqwest::Url {
    let client = http();
    let page = client
        .get(format!("{base}/authorize"))
        .query(&[
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", redirect),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
            ("state", "xyz"),
            ("scope", "ilert:read ilert:write"),
            ("resource", &format!("{base}/mcp")),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    assert!(
        page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    let cookie = page.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let html = page.text().await.unwrap();
    assert!(
        html.contains(" to ilert</h1>") && html.contains("<strong>https://claude.ai</strong>"),
        "the page names the client and its host"
    );
    let request = hidden_request(&html);
    let submitted = client
        .post(format!("{base}/authorize"))
        .header("cookie", cookie)
        .form(&[
            ("request", request.as_str()),
            ("api_key", key),
            ("scope", scope),
            ("decision", "allow"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        submitted.status(),
        303,
        "{}",
        submitted.text().await.unwrap_or_default()
    );
    reqwest::Url::parse(submitted.headers()["location"].to_str().unwrap()).unwrap()
}

fn hidden_request(html: &str) -> String {
    let at = html.find("name=\"request\" value=\"").unwrap() + "name=\"request\" value=\"".len();
    html[at..at + html[at..].find('"').unwrap()].replace("&amp;", "&")
}

fn param(url: &reqwest::Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

async fn token(base: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let response = http()
        .post(format!("{base}/token"))
        .form(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["cache-control"], "no-store");
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn exchange(base: &str, client_id: &str, code: &str, verifier: &str) -> (u16, Value) {
    token(
        base,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", client_id),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ],
    )
    .await
}

#[tokio::test]
async fn the_full_connector_flow_with_dynamic_registration() {
    // Every log line of the flow, at TRACE, from this server and the libraries under it (the test
    // runtime is single-threaded, so the thread's subscriber sees the spawned server too); scanned
    // at the end, and written to the run's capture as well when there is one.
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(logs.clone().and(crate::capture::log()))
        .with_env_filter(crate::capture::FILTER)
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let key = TokenKey::generate();
    let (h, _oauth) = start_with_oauth(&key, false).await;
    let base = base(&h.mcp_url);

    // 1. An unauthenticated call names the protected-resource metadata.
    let unauth = http()
        .post(&h.mcp_url)
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
        .send()
        .await
        .unwrap();
    assert_eq!(unauth.status(), 401);
    let challenge = unauth.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    let metadata_url = challenge
        .split("resource_metadata=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(
        metadata_url,
        format!("{base}/.well-known/oauth-protected-resource/mcp")
    );

    // 2. Metadata discovery.
    let resource: Value = http()
        .get(&metadata_url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(resource["resource"], h.mcp_url);
    let issuer = resource["authorization_servers"][0]
        .as_str()
        .unwrap()
        .to_owned();
    let server: Value = http()
        .get(format!("{issuer}/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(server["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(server["client_id_metadata_document_supported"], true);
    assert!(
        server["token_endpoint_auth_methods_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("none"))
    );
    let oidc: Value = http()
        .get(format!("{issuer}/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(oidc["token_endpoint"], server["token_endpoint"]);

    // 3. Registration, 4. authorize page, 5. code.
    let client_id = register(&base, REDIRECT).await;
    let p = pkce();
    let back = authorize(&base, &client_id, REDIRECT, &p.challenge, USER_KEY, "write").await;
    assert!(back.as_str().starts_with(REDIRECT));
    assert_eq!(param(&back, "state").as_deref(), Some("xyz"));
    assert_eq!(param(&back, "iss").as_deref(), Some(issuer.as_str()));
    let code = param(&back, "code").unwrap();

    // 6. Token.
    let (status, tokens) = exchange(&base, &client_id, &code, &p.verifier).await;
    assert_eq!(status, 200, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    assert!(access.starts_with(ACCESS_PREFIX));
    assert!(
        !access.contains(USER_KEY),
        "the ilert key is sealed inside, not visible"
    );
    assert_eq!(tokens["scope"], "ilert:read ilert:write");

    // 7. tools/list and a write tool call with the token, in both eras.
    for era in [Era::Legacy, Era::Stateless] {
        let client = connect(&h.mcp_url, &access, era).await;
        assert!(
            client
                .list_all_tools()
                .await
                .unwrap()
                .iter()
                .any(|t| t.name == "accept_alerts")
        );
        let me = call(&client, "get_current_user", json!({})).await;
        assert_eq!(structured(&me)["name"], "Jonas Weber");
    }

    // 8. Refresh rotates; the old refresh token is refused.
    let (status, renewed) = token(
        &base,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("client_id", &client_id),
        ],
    )
    .await;
    assert_eq!(status, 200, "{renewed}");
    assert_ne!(renewed["refresh_token"], refresh.as_str());
    let client = connect(
        &h.mcp_url,
        renewed["access_token"].as_str().unwrap(),
        Era::Legacy,
    )
    .await;
    assert_eq!(
        structured(&call(&client, "get_current_user", json!({})).await)["role"],
        "USER"
    );
    let (status, again) = token(
        &base,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("client_id", &client_id),
        ],
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(again["error"], "invalid_grant");
    // The reuse revoked the family: its access tokens stop working now, not at their expiry.
    let revoked = reqwest::Client::new()
        .post(&h.mcp_url)
        .bearer_auth(renewed["access_token"].as_str().unwrap())
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 401);

    // The code was single-use.
    let (status, reused) = exchange(&base, &client_id, &code, &p.verifier).await;
    assert_eq!(
        (status, reused["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    // No secret of the flow in any log line, though the capture saw the flow.
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("authorization granted"), "nothing captured");
    let renewed_refresh = renewed["refresh_token"].as_str().unwrap();
    for (what, secret) in [
        ("the ilert key", USER_KEY),
        ("the access token", access.as_str()),
        ("the refresh token", refresh.as_str()),
        ("the rotated refresh token", renewed_refresh),
        ("the authorization code", code.as_str()),
        ("the PKCE verifier", p.verifier.as_str()),
        ("an access token", ACCESS_PREFIX),
        ("a refresh token", REFRESH_PREFIX),
        ("an authorization code", CODE_PREFIX),
    ] {
        assert!(!text.contains(secret), "{what} is in the logs");
    }
}

#[tokio::test]
async fn read_only_grants_narrow_the_list_and_refuse_writes() {
    let key = TokenKey::generate();
    let (h, _) = start_with_oauth(&key, false).await;
    let base = base(&h.mcp_url);
    let client_id = register(&base, REDIRECT).await;
    let p = pkce();
    let back = authorize(&base, &client_id, REDIRECT, &p.challenge, USER_KEY, "read").await;
    let (_, tokens) = exchange(
        &base,
        &client_id,
        &param(&back, "code").unwrap(),
        &p.verifier,
    )
    .await;
    assert_eq!(tokens["scope"], "ilert:read");
    let client = connect(
        &h.mcp_url,
        tokens["access_token"].as_str().unwrap(),
        Era::Stateless,
    )
    .await;
    let tools = client.list_all_tools().await.unwrap();
    assert!(
        tools
            .iter()
            .all(|t| t.annotations.as_ref().and_then(|a| a.read_only_hint) == Some(true))
    );
    // A write is refused at HTTP level with a step-up challenge (tests/it/grants.rs has more).
    let id = alert_ids(&h.sandbox_url, "PENDING").await[0];
    let refused = http()
        .post(&h.mcp_url)
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-06-18")
        .json(&json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                      "params": {"name": "accept_alerts", "arguments": {"ids": [id]}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let challenge = refused.headers()["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.contains("error=\"insufficient_scope\"")
            && challenge.contains("ilert:alerts:write"),
        "{challenge}"
    );
    assert!(alert_ids(&h.sandbox_url, "PENDING").await.contains(&id));
}

#[tokio::test]
async fn client_id_metadata_documents_work_and_private_ones_are_refused() {
    // A client metadata document served on loopback; allowed only because this server is
    // configured for tests (allow_insecure_metadata).
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let doc_url = format!("http://{}/client.json", listener.local_addr().unwrap());
    let doc = json!({"client_id": doc_url, "client_name": "ChatGPT", "redirect_uris": [REDIRECT]});
    let app = axum::Router::new().route(
        "/client.json",
        axum::routing::get(move || async move { axum::Json(doc) }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });

    let key = TokenKey::generate();
    let (h, _) = start_with_oauth(&key, true).await;
    let base = base(&h.mcp_url);
    let p = pkce();
    let back = authorize(&base, &doc_url, REDIRECT, &p.challenge, USER_KEY, "read").await;
    let (status, tokens) =
        exchange(&base, &doc_url, &param(&back, "code").unwrap(), &p.verifier).await;
    assert_eq!(status, 200, "{tokens}");

    // The same document on a production server (no insecure metadata) is refused: http and loopback.
    let (strict, _) = start_with_oauth(&key, false).await;
    let page = http()
        .get(format!("{}/authorize", base_of(&strict.mcp_url)))
        .query(&[
            ("response_type", "code"),
            ("client_id", &doc_url),
            ("redirect_uri", REDIRECT),
            ("code_challenge", &p.challenge),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 400);
    let https_private = "https://127.0.0.1:1/client.json";
    let page = http()
        .get(format!("{}/authorize", base_of(&strict.mcp_url)))
        .query(&[
            ("response_type", "code"),
            ("client_id", https_private),
            ("redirect_uri", REDIRECT),
            ("code_challenge", &p.challenge),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 400);
    assert!(page.text().await.unwrap().contains("private address"));
}

fn base_of(mcp_url: &str) -> String {
    base(mcp_url)
}

#[tokio::test]
async fn the_flow_fails_safely() {
    let key = TokenKey::generate();
    let (h, oauth) = start_with_oauth(&key, false).await;
    let base = base(&h.mcp_url);
    let client_id = register(&base, REDIRECT).await;

    // A foreign redirect URI gets an error page, not a redirect.
    let foreign = http()
        .get(format!("{base}/authorize"))
        .query(&[
            ("response_type", "code"),
            ("client_id", client_id.as_str()),
            ("redirect_uri", "https://evil.example/cb"),
            ("code_challenge", &pkce().challenge),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 400);
    assert!(foreign.headers().get("location").is_none());

    // Registration refuses unusable redirect URIs.
    let bad = http()
        .post(format!("{base}/register"))
        .json(&json!({"redirect_uris": ["http://evil.example/cb"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);

    // Missing PKCE is an error page before consent, never a redirect.
    let no_pkce = http()
        .get(format!("{base}/authorize"))
        .query(&[
            ("response_type", "code"),
            ("client_id", client_id.as_str()),
            ("redirect_uri", REDIRECT),
            ("state", "s"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(no_pkce.status(), 400);
    assert!(no_pkce.headers().get("location").is_none());

    // A wrong key is re-asked, not granted.
    let page = http()
        .get(format!("{base}/authorize"))
        .query(&[
            ("response_type", "code"),
            ("client_id", client_id.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_challenge", &pkce().challenge),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await
        .unwrap();
    let cookie = page.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let request = hidden_request(&page.text().await.unwrap());
    let wrong = http()
        .post(format!("{base}/authorize"))
        .header("cookie", &cookie)
        .form(&[
            ("request", request.as_str()),
            ("api_key", "not-a-key"),
            ("scope", "read"),
            ("decision", "allow"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 400);
    assert!(
        wrong
            .text()
            .await
            .unwrap()
            .contains("did not accept this API key")
    );
    // Without the cookie (another browser, a forged post) the form is refused.
    let forged = http()
        .post(format!("{base}/authorize"))
        .form(&[
            ("request", request.as_str()),
            ("api_key", USER_KEY),
            ("scope", "write"),
            ("decision", "allow"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 400);

    // Wrong PKCE verifier.
    let p = pkce();
    let back = authorize(&base, &client_id, REDIRECT, &p.challenge, USER_KEY, "read").await;
    let code = param(&back, "code").unwrap();
    let (status, body) = exchange(&base, &client_id, &code, &pkce().verifier).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // Another client cannot redeem it.
    let other = register(&base, REDIRECT).await;
    let (status, _) = exchange(&base, &other, &code, &p.verifier).await;
    assert_eq!(status, 400);

    // Expired, foreign-audience and tampered access tokens are 401 invalid_token.
    let grant = |exp: i64, aud: &str| Grant {
        key: USER_KEY.into(),
        uid: 10002,
        name: "Jonas Weber".into(),
        cid: client_id.clone(),
        scope: Scope::Write,
        aud: aud.into(),
        iat: store::now() - 10,
        exp,
        jti: "t".into(),
        fam: "f".into(),
    };
    let expired = oauth
        .sealer
        .seal(ACCESS_PREFIX, &grant(store::now() - 1, &oauth.resource));
    let other_aud = oauth.sealer.seal(
        ACCESS_PREFIX,
        &grant(store::now() + 600, "https://other.example/mcp"),
    );
    let good = oauth
        .sealer
        .seal(ACCESS_PREFIX, &grant(store::now() + 600, &oauth.resource));
    let mut tampered = good.clone().into_bytes();
    let i = tampered.len() - 5;
    tampered[i] = if tampered[i] == b'x' { b'y' } else { b'x' };
    let tampered = String::from_utf8(tampered).unwrap();
    let foreign_key = OAuth::new(
        &oauth.issuer,
        &TokenKey::generate(),
        Arc::new(store::InMemory::default()),
        fast_client(&h.sandbox_url),
    )
    .sealer
    .seal(ACCESS_PREFIX, &grant(store::now() + 600, &oauth.resource));
    for (what, token) in [
        ("expired", &expired),
        ("other audience", &other_aud),
        ("tampered", &tampered),
        ("other key", &foreign_key),
    ] {
        let response = http()
            .post(&h.mcp_url)
            .bearer_auth(token)
            .header("accept", "application/json, text/event-stream")
            .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{what}");
        assert!(
            response.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .contains("invalid_token"),
            "{what}"
        );
    }
    let ok = http()
        .post(&h.mcp_url)
        .bearer_auth(&good)
        .header("accept", "application/json, text/event-stream")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        ok.status(),
        200,
        "a well-formed token works, so the refusals above are about the token"
    );

    // Raw ilert keys still pass through on the same endpoint.
    let client = connect(&h.mcp_url, USER_KEY, Era::Legacy).await;
    assert_eq!(
        structured(&call(&client, "get_current_user", json!({})).await)["role"],
        "USER"
    );
}

#[tokio::test]
async fn a_store_that_does_not_answer_refuses_codes_and_refreshes() {
    // Redis on a loopback port where nothing listens: every use fails to be recorded.
    let used = Arc::new(
        ilert_mcp::auth::redis_store::RedisStore::new("redis://127.0.0.1:1/0", "t:").unwrap(),
    );
    let key = TokenKey::generate();
    let (h, oauth) = start_with_oauth_store(&key, false, used).await;
    let base = base(&h.mcp_url);

    // Registration and the sign-in page need no store; the code exchange does, and fails closed.
    let client_id = register(&base, REDIRECT).await;
    let p = pkce();
    let back = authorize(&base, &client_id, REDIRECT, &p.challenge, USER_KEY, "read").await;
    let code = param(&back, "code").unwrap();
    let response = http()
        .post(format!("{base}/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("client_id", client_id.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", p.verifier.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert!(response.headers().contains_key("retry-after"));
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable", "{body}");
    assert!(body.get("access_token").is_none());

    let refresh = oauth.sealer.seal(
        ilert_mcp::auth::REFRESH_PREFIX,
        &Grant {
            key: USER_KEY.into(),
            uid: 10002,
            name: "Jonas Weber".into(),
            cid: client_id.clone(),
            scope: Scope::Read,
            aud: oauth.resource.clone(),
            iat: store::now(),
            exp: store::now() + 600,
            jti: "r".into(),
            fam: "f".into(),
        },
    );
    let (status, body) = token(
        &base,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("client_id", &client_id),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (503, Some("temporarily_unavailable"))
    );

    // /readyz names the store that is down; ilert itself is fine.
    let ready = reqwest::get(format!("{base}/readyz")).await.unwrap();
    assert_eq!(ready.status(), 503);
    let text = ready.text().await.unwrap();
    assert!(text.starts_with("not ready\n"), "{text}");
    assert!(text.contains("ilert: reachable"), "{text}");
    assert!(
        text.contains("oauth store (redis): not reachable"),
        "{text}"
    );
    let metrics = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !metrics.contains("ilert_mcp_oauth_store_errors_total 0\n"),
        "store errors are counted"
    );
}
