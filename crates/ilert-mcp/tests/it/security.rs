//! The findings of the adversarial review of `serve` and its OAuth server (issue 14), one test or
//! more each, over real HTTP on loopback: what an attacker tried, and that it now fails.

use std::sync::Arc;

use base64::Engine;
use ilert_mcp::auth::seal::TokenKey;
use ilert_mcp::auth::{CLIENT_PREFIX, Grant, OAuth, REFRESH_PREFIX, Scope, store};
use ilert_mcp::calls::catalogue::Catalogue;
use ilert_mcp::rules::toolbox::Toolbox;
use ilert_mcp::transport::http::{self, HttpConfig};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

use crate::common::*;

const REDIRECT: &str = "https://claude.ai/api/mcp/auth_callback";

fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap()
}

fn base(mcp_url: &str) -> String {
    mcp_url.trim_end_matches("/mcp").to_owned()
}

fn challenge() -> (String, String) {
    let verifier = ilert_mcp::auth::seal::random_id();
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

async fn register(base: &str, redirect: &str) -> reqwest::Response {
    http_client()
        .post(format!("{base}/register"))
        .json(&json!({"client_name": "Claude", "redirect_uris": [redirect]}))
        .send()
        .await
        .unwrap()
}

async fn client_id(base: &str, redirect: &str) -> String {
    let response = register(base, redirect).await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    body["client_id"].as_str().unwrap().to_owned()
}

async fn authorize_page(base: &str, query: &[(&str, &str)]) -> reqwest::Response {
    http_client()
        .get(format!("{base}/authorize"))
        .query(query)
        .send()
        .await
        .unwrap()
}

fn hidden_request(html: &str) -> String {
    let marker = "name=\"request\" value=\"";
    let at = html.find(marker).unwrap() + marker.len();
    html[at..at + html[at..].find('"').unwrap()].replace("&amp;", "&")
}

fn cookie_of(response: &reqwest::Response) -> String {
    response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

/// Finding 1: before consent, a bad or incomplete request shows a page and never redirects, so
/// /authorize is no open redirect to whatever a registrant named.
#[tokio::test]
async fn authorize_errors_before_consent_are_pages_not_redirects() {
    let (h, _) = start_with_oauth(&TokenKey::generate(), false).await;
    let base = base(&h.mcp_url);
    let id = client_id(&base, "https://attacker.example/landing").await;
    let (_, good_challenge) = challenge();
    let resource = format!("{base}/mcp");
    let cases: Vec<(&str, Vec<(&str, &str)>)> = vec![
        (
            "no response_type",
            vec![("client_id", &id), ("code_challenge", &good_challenge)],
        ),
        (
            "response_type=token",
            vec![
                ("response_type", "token"),
                ("client_id", &id),
                ("code_challenge", &good_challenge),
                ("code_challenge_method", "S256"),
            ],
        ),
        (
            "no PKCE",
            vec![("response_type", "code"), ("client_id", &id)],
        ),
        (
            "plain PKCE",
            vec![
                ("response_type", "code"),
                ("client_id", &id),
                ("code_challenge", &good_challenge),
                ("code_challenge_method", "plain"),
            ],
        ),
        (
            "another resource",
            vec![
                ("response_type", "code"),
                ("client_id", &id),
                ("code_challenge", &good_challenge),
                ("code_challenge_method", "S256"),
                ("resource", "https://other.example/mcp"),
            ],
        ),
    ];
    for (what, query) in cases {
        let response = authorize_page(&base, &query).await;
        assert_eq!(response.status(), 400, "{what}");
        assert!(response.headers().get("location").is_none(), "{what}");
        let html = response.text().await.unwrap();
        assert!(!html.contains("attacker.example"), "{what}: {html}");
        assert!(
            html.contains("Start again") || html.contains("another server"),
            "{what}: {html}"
        );
    }
    // The same client with a valid request gets the consent page, so the refusals above are about
    // the request.
    let ok = authorize_page(
        &base,
        &[
            ("response_type", "code"),
            ("client_id", &id),
            ("code_challenge", &good_challenge),
            ("code_challenge_method", "S256"),
            ("resource", &resource),
        ],
    )
    .await;
    assert_eq!(ok.status(), 200);
}

/// Finding 1: redirect URI schemes are an allowlist: https, loopback http, the native clients'
/// own schemes; anything else (an invented scheme, intent:, ms-msdt:) is refused at registration.
#[tokio::test]
async fn redirect_schemes_are_allowlisted() {
    let (h, _) = start_with_oauth(&TokenKey::generate(), false).await;
    let base = base(&h.mcp_url);
    for ok in [
        REDIRECT,
        "http://127.0.0.1:33418/callback",
        "cursor://anysphere.cursor-mcp/oauth/callback",
        "vscode://vscode.github-authentication/did-authenticate",
        "vscode-insiders://vscode.github-authentication/did-authenticate",
        "windsurf://codeium.windsurf-mcp/oauth/callback",
        "claude://claude.ai/oauth/callback",
    ] {
        assert_eq!(register(&base, ok).await.status(), 201, "{ok}");
    }
    for bad in [
        "x-evil://claude.ai/api/mcp/auth_callback",
        "intent://scan/#Intent;end",
        "ms-msdt:/id%20PCWDiagnostic",
        "http://evil.example/cb",
        "https://user:pw@claude.ai/cb",
    ] {
        let response = register(&base, bad).await;
        assert_eq!(response.status(), 400, "{bad}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "invalid_client_metadata", "{bad}");
    }
}

async fn token(base: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let response = http_client()
        .post(format!("{base}/token"))
        .form(form)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

/// Signs in through the page with `USER_KEY`: (client id, refresh token).
async fn signed_in(base: &str) -> (String, String) {
    let id = client_id(base, REDIRECT).await;
    let (verifier, c) = challenge();
    let page = authorize_page(
        base,
        &[
            ("response_type", "code"),
            ("client_id", id.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_challenge", c.as_str()),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    assert_eq!(page.status(), 200);
    let cookie = cookie_of(&page);
    let request = hidden_request(&page.text().await.unwrap());
    let posted = http_client()
        .post(format!("{base}/authorize"))
        .header("cookie", &cookie)
        .form(&[
            ("request", request.as_str()),
            ("api_key", USER_KEY),
            ("scope", "read"),
            ("decision", "allow"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 303);
    let back = reqwest::Url::parse(posted.headers()["location"].to_str().unwrap()).unwrap();
    let code = back
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let (status, tokens) = token(
        base,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", &id),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    (id, tokens["refresh_token"].as_str().unwrap().to_owned())
}

async fn refresh(base: &str, id: &str, refresh: &str) -> (u16, Value) {
    token(
        base,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("client_id", id),
        ],
    )
    .await
}

/// Finding 2: a stolen refresh token used first by the thief; when the real client then uses it
/// too, the reuse revokes the whole family, the thief's fresh chain included. Another sign-in
/// (another family) is untouched.
#[tokio::test]
async fn reuse_of_a_rotated_refresh_token_revokes_its_family() {
    let (h, _) = start_with_oauth(&TokenKey::generate(), false).await;
    let base = base(&h.mcp_url);
    let (id, stolen) = signed_in(&base).await;
    let (other_id, other) = signed_in(&base).await;
    // The thief rotates first, twice.
    let (status, thief) = refresh(&base, &id, &stolen).await;
    assert_eq!(status, 200, "{thief}");
    let thief_1 = thief["refresh_token"].as_str().unwrap().to_owned();
    let (status, thief) = refresh(&base, &id, &thief_1).await;
    assert_eq!(status, 200, "{thief}");
    let thief_2 = thief["refresh_token"].as_str().unwrap().to_owned();
    let thief_access = thief["access_token"].as_str().unwrap().to_owned();
    let list_tools = |token: String| {
        let url = h.mcp_url.clone();
        async move {
            http_client()
                .post(url)
                .bearer_auth(token)
                .header("content-type", "application/json")
                .header("accept", "application/json, text/event-stream")
                .header("mcp-protocol-version", "2025-11-25")
                .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(list_tools(thief_access.clone()).await.status(), 200);
    // The real client uses its (already rotated) token: refused, and the family revoked.
    let (status, body) = refresh(&base, &id, &stolen).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // The thief's newest token, never used before, is refused now.
    let (status, body) = refresh(&base, &id, &thief_2).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("revoked"),
        "{body}"
    );
    // Issue 23 §5: the family's access tokens stop working now, not at their expiry.
    let refused = list_tools(thief_access).await;
    assert_eq!(refused.status(), 401);
    let challenge = refused.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(challenge.contains("invalid_token"), "{challenge}");
    assert!(refused.text().await.unwrap().contains("revoked"));
    // Another sign-in's family goes on, its access token too.
    let (status, body) = refresh(&base, &other_id, &other).await;
    assert_eq!(status, 200, "{body}");
    let other_access = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(list_tools(other_access).await.status(), 200);
}

/// Finding 5: the consent page shows scheme and host, and a redirect that is neither https nor a
/// website is called an app on this device.
#[tokio::test]
async fn the_consent_page_shows_scheme_and_host() {
    let (h, _) = start_with_oauth(&TokenKey::generate(), false).await;
    let base = base(&h.mcp_url);
    let (_, c) = challenge();
    let cases = [
        (
            "https://claude.ai/api/mcp/auth_callback",
            "<strong>https://claude.ai</strong>.",
            false,
        ),
        (
            "cursor://claude.ai/oauth/callback",
            "<strong>cursor://claude.ai</strong>, an app on this device",
            true,
        ),
        (
            "http://127.0.0.1:33418/callback",
            "<strong>http://127.0.0.1:33418</strong>, an app on this device",
            true,
        ),
        // Issue 23 §5: a website's port is shown unless it is the default one.
        (
            "https://claude.ai:8443/api/mcp/auth_callback",
            "<strong>https://claude.ai:8443</strong>.",
            false,
        ),
        (
            "https://claude.ai:443/api/mcp/auth_callback",
            "<strong>https://claude.ai</strong>.",
            false,
        ),
    ];
    for (redirect, shown, app) in cases {
        let id = client_id(&base, redirect).await;
        let page = authorize_page(
            &base,
            &[
                ("response_type", "code"),
                ("client_id", &id),
                ("redirect_uri", redirect),
                ("code_challenge", &c),
                ("code_challenge_method", "S256"),
            ],
        )
        .await;
        assert_eq!(page.status(), 200, "{redirect}");
        let html = page.text().await.unwrap();
        assert!(html.contains(shown), "{redirect}: {html}");
        assert_eq!(html.contains("an app on this device"), app, "{redirect}");
        assert!(!html.contains("<strong>claude.ai</strong>"), "{redirect}");
    }
}

/// Finding 6: our refresh tokens, codes, client ids and forms sent as a bearer are refused
/// locally: ilert never sees them (counted at a stand-in for ilert).
#[tokio::test]
async fn our_other_tokens_are_refused_locally_and_never_reach_ilert() {
    let ilert = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(json!({"id": 1})))
        .mount(&ilert)
        .await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let shared = Arc::new(Toolbox::new(
        fast_client(&format!("{}/api", ilert.uri())),
        "https://app.ilert.com",
        None,
    ));
    let oauth = OAuth::new(
        &format!("http://{addr}"),
        &TokenKey::generate(),
        Arc::new(store::InMemory::default()),
        shared.client.clone(),
    );
    let config = HttpConfig {
        oauth: Some(oauth.clone()),
        ..HttpConfig::default()
    };
    let shutdown = CancellationToken::new();
    let app = http::router(shared, Arc::new(Catalogue::full()), &config);
    tokio::spawn(http::serve(listener, app, shutdown.clone()));
    let grant = Grant {
        key: USER_KEY.into(),
        uid: 1,
        name: "x".into(),
        cid: "c".into(),
        scope: Scope::Read,
        aud: oauth.resource.clone(),
        iat: store::now(),
        exp: store::now() + 600,
        jti: "j".into(),
        fam: "f".into(),
    };
    let refresh = oauth.sealer.seal(REFRESH_PREFIX, &grant);
    let client = oauth.sealer.seal(
        CLIENT_PREFIX,
        &json!({"name": "x", "redirect_uris": [REDIRECT]}),
    );
    let code = oauth.sealer.seal(ilert_mcp::auth::CODE_PREFIX, &grant);
    let form = oauth.sealer.seal(ilert_mcp::auth::CSRF_PREFIX, &grant);
    for (what, bearer) in [
        ("refresh token", refresh.as_str()),
        ("client id", client.as_str()),
        ("code", code.as_str()),
        ("sign-in form", form.as_str()),
        ("metadata client id", "https://client.example/metadata.json"),
    ] {
        let response = http_client()
            .post(format!("http://{addr}/mcp"))
            .bearer_auth(bearer)
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
    let asked = ilert.received_requests().await.unwrap_or_default();
    assert!(asked.is_empty(), "ilert was asked {} times", asked.len());
    // A raw key still goes to ilert: the stand-in is reachable and counted.
    let response = http_client()
        .post(format!("http://{addr}/mcp"))
        .bearer_auth("some-ilert-key-1234567890")
        .header("accept", "application/json, text/event-stream")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(ilert.received_requests().await.unwrap().len(), 1);
    shutdown.cancel();
}

/// Finding 7: codes, sign-in forms and client ids made by one issuer are refused by another that
/// shares the token key.
#[tokio::test]
async fn codes_forms_and_client_ids_are_bound_to_the_issuer() {
    let key = TokenKey::generate();
    let (a, _) = start_with_oauth(&key, false).await;
    let (b, _) = start_with_oauth(&key, false).await;
    let (base_a, base_b) = (base(&a.mcp_url), base(&b.mcp_url));
    let id = client_id(&base_a, REDIRECT).await;
    let (verifier, c) = challenge();
    let query = [
        ("response_type", "code"),
        ("client_id", id.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_challenge", c.as_str()),
        ("code_challenge_method", "S256"),
    ];
    // The client id of A is unknown at B.
    let at_b = authorize_page(&base_b, &query).await;
    assert_eq!(at_b.status(), 400);
    assert!(at_b.text().await.unwrap().contains("unknown client_id"));
    // A's sign-in form, posted to B with its cookie, is refused.
    let page = authorize_page(&base_a, &query).await;
    assert_eq!(page.status(), 200);
    let cookie = cookie_of(&page);
    let request = hidden_request(&page.text().await.unwrap());
    let form = [
        ("request", request.as_str()),
        ("api_key", USER_KEY),
        ("scope", "read"),
        ("decision", "allow"),
    ];
    let posted_b = http_client()
        .post(format!("{base_b}/authorize"))
        .header("cookie", &cookie)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(posted_b.status(), 400);
    assert!(posted_b.headers().get("location").is_none());
    // At A it works, and A's code is refused at B's token endpoint.
    let posted_a = http_client()
        .post(format!("{base_a}/authorize"))
        .header("cookie", &cookie)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(posted_a.status(), 303);
    let back = reqwest::Url::parse(posted_a.headers()["location"].to_str().unwrap()).unwrap();
    let code = back
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let exchange = |base: String| {
        let (code, id, verifier) = (code.clone(), id.clone(), verifier.clone());
        async move {
            http_client()
                .post(format!("{base}/token"))
                .form(&[
                    ("grant_type", "authorization_code"),
                    ("code", code.as_str()),
                    ("client_id", id.as_str()),
                    ("redirect_uri", REDIRECT),
                    ("code_verifier", verifier.as_str()),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let at_b = exchange(base_b.clone()).await;
    assert_eq!(at_b.status(), 400);
    let body: Value = at_b.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant", "{body}");
    assert_eq!(exchange(base_a.clone()).await.status(), 200);
}

/// A server whose ilert is a stand-in answering `status` to everything, and its /mcp URL.
async fn server_with_ilert(ilert: &wiremock::MockServer) -> (String, CancellationToken) {
    server_with_ilert_and(ilert, &HttpConfig::default()).await
}

/// The same with other HTTP settings.
async fn server_with_ilert_and(
    ilert: &wiremock::MockServer,
    config: &HttpConfig,
) -> (String, CancellationToken) {
    let shared = Arc::new(Toolbox::new(
        fast_client(&format!("{}/api", ilert.uri())),
        "https://app.ilert.com",
        None,
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    let shutdown = CancellationToken::new();
    let app = http::router(shared, Arc::new(Catalogue::full()), config);
    tokio::spawn(http::serve(listener, app, shutdown.clone()));
    (url, shutdown)
}

async fn list_with(url: &str, key: &str) -> reqwest::Response {
    http_client()
        .post(url)
        .bearer_auth(key)
        .header("accept", "application/json, text/event-stream")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
        .send()
        .await
        .unwrap()
}

/// Finding 8: a key ilert could not check (429, 5xx) is not let through: 503 saying so.
#[tokio::test]
async fn unverified_keys_fail_closed() {
    for status in [429u16, 500, 503] {
        let ilert = wiremock::MockServer::start().await;
        wiremock::Mock::given(wiremock::matchers::any())
            .respond_with(
                wiremock::ResponseTemplate::new(status)
                    .set_body_json(json!({"status": status, "message": "try later"})),
            )
            .mount(&ilert)
            .await;
        let (url, shutdown) = server_with_ilert(&ilert).await;
        let response = list_with(&url, "an-unchecked-key-0000000001").await;
        assert_eq!(response.status(), 503, "ilert answered {status}");
        assert!(response.headers().contains_key("retry-after"));
        let body: Value = response.json().await.unwrap();
        assert!(
            body["error_description"]
                .as_str()
                .unwrap()
                .contains("ilert could not verify the API key"),
            "{body}"
        );
        assert!(body.get("result").is_none(), "the request did not run");
        shutdown.cancel();
    }
}

/// 200 distinct unknown bearers at once against a server checking `per_sec` new keys a second:
/// (401s, 503s, requests ilert received, seconds taken).
async fn flood_of_unknown_keys(per_sec: u32) -> (usize, usize, usize, f64) {
    let ilert = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(
            wiremock::ResponseTemplate::new(401)
                .set_body_json(json!({"status": 401, "message": "no"})),
        )
        .mount(&ilert)
        .await;
    let config = HttpConfig {
        key_checks_per_second: per_sec,
        ..HttpConfig::default()
    };
    let (url, shutdown) = server_with_ilert_and(&ilert, &config).await;
    let started = std::time::Instant::now();
    let (mut unauthorized, mut busy) = (0, 0);
    // All at once, as a flood of random bearers would come.
    let calls = (0..200).map(|i| {
        let url = url.clone();
        async move {
            list_with(&url, &format!("random-bearer-{i:020}"))
                .await
                .status()
                .as_u16()
        }
    });
    for status in futures::future::join_all(calls).await {
        match status {
            401 => unauthorized += 1,
            503 => busy += 1,
            other => panic!("unexpected {other}"),
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let asked = ilert.received_requests().await.unwrap().len();
    shutdown.cancel();
    (unauthorized, busy, asked, elapsed)
}

/// Finding 8: random bearers cannot each cost an upstream call: verifications of unknown keys
/// are bounded (a burst of twice the rate, then the rate, `--key-checks-per-second`); past it
/// callers get 503. 0 lifts the bound, for a benchmark or a trusted network.
#[tokio::test]
async fn verifications_of_unknown_keys_are_bounded() {
    let sent = 200;
    for per_sec in [ilert_mcp::transport::auth::KEY_CHECKS_PER_SECOND, 40] {
        let (unauthorized, busy, asked, elapsed) = flood_of_unknown_keys(per_sec).await;
        // The ilert client may retry once.
        let rate = f64::from(per_sec);
        let bound = ((2.0 * rate + rate * elapsed).ceil() as usize + 1) * 2;
        println!(
            "{per_sec}/s: {sent} random bearers in {elapsed:.2} s: {unauthorized} checked (401), {busy} refused (503), ilert asked {asked} times (bound {bound})"
        );
        assert!(
            asked <= bound,
            "ilert was asked {asked} times (bound {bound})"
        );
        if per_sec == ilert_mcp::transport::auth::KEY_CHECKS_PER_SECOND {
            // Unbounded, every one of them is an upstream call.
            assert!(
                asked < sent / 2,
                "ilert was asked {asked} times for {sent} bearers"
            );
        }
        // At least the burst is checked; the rest waits for the rate.
        assert!(busy > 0 && unauthorized >= 2 * per_sec as usize);
        assert_eq!(unauthorized + busy, sent);
    }
    let (unauthorized, busy, asked, _) = flood_of_unknown_keys(0).await;
    assert_eq!(
        (unauthorized, busy),
        (sent, 0),
        "no limit: every key is checked"
    );
    assert!(asked >= sent);
}

/// Finding 11: a portless --allowed-origin is its default port, not every port.
#[tokio::test]
async fn portless_allowed_origins_mean_the_default_port() {
    let config = HttpConfig {
        allowed_origins: vec!["https://chat.example.com".into()],
        ..Default::default()
    };
    let h = start_with(None, config).await;
    for (origin, status) in [
        ("https://chat.example.com", 200),
        ("https://chat.example.com:443", 200),
        ("https://chat.example.com:8443", 403),
        ("http://chat.example.com", 403),
    ] {
        let response = http_client()
            .post(&h.mcp_url)
            .bearer_auth(USER_KEY)
            .header("origin", origin)
            .header("accept", "application/json, text/event-stream")
            .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "{origin}");
    }
}

/// Browsers: an allowed origin's CORS preflight is answered and its answers are readable
/// (MCP Inspector's web UI); another origin's preflight is not.
#[tokio::test]
async fn allowed_origins_get_cors_preflights_answered() {
    let config = HttpConfig {
        allowed_origins: vec!["https://inspector.example.com".into()],
        ..Default::default()
    };
    let h = start_with(None, config).await;
    for origin in ["https://inspector.example.com", "http://localhost:6274"] {
        let preflight = http_client()
            .request(reqwest::Method::OPTIONS, &h.mcp_url)
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type, mcp-protocol-version",
            )
            .send()
            .await
            .unwrap();
        assert_eq!(preflight.status(), 204, "{origin}");
        let headers = preflight.headers();
        assert_eq!(headers["access-control-allow-origin"], origin);
        let allowed = headers["access-control-allow-headers"].to_str().unwrap();
        for needed in ["authorization", "content-type", "mcp-protocol-version"] {
            assert!(allowed.contains(needed), "{needed} in {allowed}");
        }
        assert!(
            headers["access-control-allow-methods"]
                .to_str()
                .unwrap()
                .contains("POST")
        );
        let call = http_client()
            .post(&h.mcp_url)
            .bearer_auth(USER_KEY)
            .header("origin", origin)
            .header("accept", "application/json, text/event-stream")
            .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
            .send()
            .await
            .unwrap();
        assert_eq!(call.status(), 200);
        assert_eq!(call.headers()["access-control-allow-origin"], origin);
        // A 401 is readable too, so the client can find the OAuth metadata.
        let unauth = http_client()
            .post(&h.mcp_url)
            .header("origin", origin)
            .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
            .send()
            .await
            .unwrap();
        assert_eq!(unauth.status(), 401);
        assert_eq!(unauth.headers()["access-control-allow-origin"], origin);
        assert!(
            unauth.headers()["access-control-expose-headers"]
                .to_str()
                .unwrap()
                .contains("www-authenticate")
        );
    }
    let foreign = http_client()
        .request(reqwest::Method::OPTIONS, &h.mcp_url)
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403);
    assert!(
        foreign
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

fn serve_args(args: &[&str]) -> ilert_mcp::commands::cli::HttpArgs {
    use clap::Parser;
    let mut argv = vec!["ilert-mcp", "serve"];
    argv.extend_from_slice(args);
    match ilert_mcp::commands::cli::Cli::try_parse_from(argv)
        .unwrap()
        .command
    {
        ilert_mcp::commands::cli::Command::Serve(serve) => serve.http,
        _ => unreachable!(),
    }
}

/// Issue 23 §5: a token key without Redis lets replicas that share the key each accept one
/// confirmation once; `serve` warns at start, and not when Redis is set or no key is.
#[tokio::test]
async fn a_shared_key_without_redis_is_warned_about_at_start() {
    use ilert_mcp::rules::confirm::Policy;
    let warned = |args: &[&str]| {
        let logs = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(logs.clone())
            .with_max_level(tracing::Level::INFO)
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            ilert_mcp::confirmer(&serve_args(args), Policy::Outward).unwrap();
        });
        let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
        text.lines()
            .any(|l| l.contains("WARN") && l.contains("replayed once per replica"))
    };
    let key = TokenKey::generate().to_base64();
    assert!(warned(&["--token-key", &key]));
    assert!(!warned(&[
        "--token-key",
        &key,
        "--redis-url",
        "redis://127.0.0.1:1/0"
    ]));
    assert!(!warned(&[]));
}

/// Finding 14: an http:// public URL on a host other than loopback needs an explicit flag, and
/// without a public URL a server bound to every interface names no issuer.
#[tokio::test]
async fn unsafe_public_urls_are_refused() {
    let client = fast_client("http://127.0.0.1:9/api");
    let bound: std::net::SocketAddr = "127.0.0.1:8384".parse().unwrap();
    let refused = ilert_mcp::oauth(
        &serve_args(&["--public-url", "http://mcp.example.com"]),
        bound,
        &client,
        &ilert_mcp::calls::catalogue::Catalogue::full(),
    )
    .unwrap_err();
    assert!(refused.contains("--insecure-public-url"), "{refused}");
    let allowed = ilert_mcp::oauth(
        &serve_args(&[
            "--public-url",
            "http://mcp.example.com",
            "--insecure-public-url",
        ]),
        bound,
        &client,
        &ilert_mcp::calls::catalogue::Catalogue::full(),
    )
    .unwrap()
    .unwrap();
    assert_eq!(allowed.issuer, "http://mcp.example.com");
    for ok in [
        "https://mcp.example.com/",
        "http://127.0.0.1:8384",
        "http://localhost:1",
    ] {
        let oauth = ilert_mcp::oauth(
            &serve_args(&["--public-url", ok]),
            bound,
            &client,
            &ilert_mcp::calls::catalogue::Catalogue::full(),
        )
        .unwrap()
        .unwrap();
        assert_eq!(oauth.issuer, ok.trim_end_matches('/'));
    }
    // Bound to 0.0.0.0 without --public-url: no OAuth, so no issuer on 0.0.0.0.
    let everywhere: std::net::SocketAddr = "0.0.0.0:8384".parse().unwrap();
    assert!(
        ilert_mcp::oauth(
            &serve_args(&[]),
            everywhere,
            &client,
            &ilert_mcp::calls::catalogue::Catalogue::full()
        )
        .unwrap()
        .is_none()
    );
    let named = ilert_mcp::oauth(
        &serve_args(&["--public-url", "https://mcp.example.com"]),
        everywhere,
        &client,
        &ilert_mcp::calls::catalogue::Catalogue::full(),
    )
    .unwrap()
    .unwrap();
    assert_eq!(named.issuer, "https://mcp.example.com");
}

/// The resident memory of process `pid` in KiB (Linux).
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap()
}

/// `ilert-mcp serve` (OAuth on) on a free loopback port: the child and its base URL.
async fn spawn_serve() -> (tokio::process::Child, String) {
    spawn_serve_with(&["--ilert-url", "http://127.0.0.1:9/api"], &[], &[]).await
}

/// `ilert-mcp serve --bind 127.0.0.1:0` with more arguments, variables set and variables removed.
pub(crate) async fn spawn_serve_with(
    args: &[&str],
    set: &[(&str, &str)],
    remove: &[&str],
) -> (tokio::process::Child, String) {
    use std::process::Stdio;
    use tokio::io::{AsyncBufReadExt, BufReader};
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_ilert-mcp"));
    command.args(["serve", "--bind", "127.0.0.1:0"]).args(args);
    for (name, value) in set {
        command.env(name, value);
    }
    for name in remove {
        command.env_remove(name);
    }
    let mut child = command
        .env("NO_COLOR", "1")
        .env("ILERT_MCP_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let base = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        loop {
            let mut line = String::new();
            assert!(
                stderr.read_line(&mut line).await.unwrap() > 0,
                "serve exited early"
            );
            if let Some(at) = line.find("serving MCP on http://") {
                let url = &line[at + "serving MCP on ".len()..];
                return url[..url.find("/mcp").unwrap()].to_owned();
            }
        }
    })
    .await
    .expect("serve announces its address");
    // Keep draining stderr so the child never blocks on a full pipe.
    tokio::spawn(async move {
        let mut sink = Vec::new();
        let _ = tokio::io::AsyncReadExt::read_to_end(&mut stderr, &mut sink).await;
    });
    (child, base)
}

/// Finding 3: 300 slow clients before authentication (half trickling headers, half pushing 1 MB
/// into a 2 MB body of /register, /token or /mcp) neither hold /healthz off nor grow the server's
/// memory beyond a bound; the OAuth endpoints read 16 KiB at most, and a client that never
/// finishes its headers is disconnected.
#[tokio::test]
async fn slow_clients_cannot_exhaust_the_server() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (child, base) = spawn_serve().await;
    let pid = child.id().unwrap();
    let addr = base.trim_start_matches("http://").to_owned();
    let healthz = format!("{base}/healthz");
    assert_eq!(
        http_client().get(&healthz).send().await.unwrap().status(),
        200
    );
    let before = rss_kib(pid);

    let mut held = Vec::new();
    for i in 0..150 {
        // Headers that never end.
        let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
        tcp.write_all(
            format!("POST /register HTTP/1.1\r\nHost: {addr}\r\nX-Slow-{i}: ").as_bytes(),
        )
        .await
        .unwrap();
        held.push(tcp);
    }
    let chunk = vec![b'a'; 64 * 1024];
    let mut bodies = Vec::new();
    for i in 0..150 {
        let path = ["/register", "/token", "/authorize"][i % 3];
        let addr = addr.clone();
        let chunk = chunk.clone();
        bodies.push(tokio::spawn(async move {
            let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
            let head = format!(
                "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: 2000000\r\n\r\n"
            );
            let _ = tcp.write_all(head.as_bytes()).await;
            // 1 MB of the promised 2 MB, then silence; the server may refuse it earlier.
            for _ in 0..16 {
                if tcp.write_all(&chunk).await.is_err() {
                    break;
                }
            }
            tcp
        }));
    }
    let mut refused_early = 0;
    let mut body_conns = Vec::new();
    for task in bodies {
        let mut tcp = task.await.unwrap();
        let mut answer = [0u8; 64];
        // An answer already there (413) means the server stopped reading early.
        if let Ok(Ok(n)) =
            tokio::time::timeout(std::time::Duration::from_millis(1), tcp.read(&mut answer)).await
            && answer[..n].starts_with(b"HTTP/1.1 413")
        {
            refused_early += 1;
        }
        body_conns.push(tcp);
    }
    // /healthz answers while all of them are held.
    let answered = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        http_client().get(&healthz).send(),
    )
    .await
    .expect("/healthz answers while 300 slow clients are connected")
    .unwrap();
    assert_eq!(answered.status(), 200);
    let after = rss_kib(pid);
    let grown_mib = after.saturating_sub(before) / 1024;
    println!(
        "rss {before} KiB before, {after} KiB with 300 slow clients (+{grown_mib} MiB); \
         {refused_early} of 150 large bodies already answered 413"
    );
    // Unbounded, 150 bodies of 1 MB are buffered: 150 MiB and more.
    assert!(grown_mib < 48, "the server grew by {grown_mib} MiB");

    // A client that never finishes its headers is cut off (the header timeout, 10 s).
    let mut slow = held.pop().unwrap();
    let mut buf = [0u8; 256];
    let closed = tokio::time::timeout(std::time::Duration::from_secs(60), async {
        loop {
            match slow.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(
        closed.is_ok(),
        "a client stuck in its headers was never disconnected"
    );
    drop(held);
    drop(body_conns);
}

/// Finding 9: a client name with a newline cannot forge a log line: control characters are
/// escaped in the "authorization granted" line (the text format, as `serve` logs by default).
#[tokio::test]
async fn a_client_name_cannot_forge_a_log_line() {
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(logs.clone())
        .with_env_filter("info")
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let (h, _) = start_with_oauth(&TokenKey::generate(), false).await;
    let base = base(&h.mcp_url);
    let forged = "Claude\n2026-12-03T00:00:00Z  INFO authorization granted client=admin\u{1b}[2K";
    let registered = http_client()
        .post(format!("{base}/register"))
        .json(&json!({"client_name": forged, "redirect_uris": [REDIRECT]}))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), 201);
    let id = registered.json::<Value>().await.unwrap()["client_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, c) = challenge();
    let page = authorize_page(
        &base,
        &[
            ("response_type", "code"),
            ("client_id", id.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_challenge", c.as_str()),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    let cookie = cookie_of(&page);
    let request = hidden_request(&page.text().await.unwrap());
    let posted = http_client()
        .post(format!("{base}/authorize"))
        .header("cookie", &cookie)
        .form(&[
            ("request", request.as_str()),
            ("api_key", USER_KEY),
            ("scope", "read"),
            ("decision", "allow"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 303);
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let granted: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("authorization granted"))
        .collect();
    assert_eq!(granted.len(), 1, "one line, not a forged second: {text}");
    assert!(granted[0].contains(r"Claude\n2026"), "{}", granted[0]);
    assert!(
        !text.contains('\u{1b}'),
        "no raw escape sequence reaches the log"
    );
}

/// Finding 10: tool arguments never reach the log, at any level: `stdio` at TRACE sends an event
/// with an integration key, and the key is nowhere in its stderr (rmcp logs whole requests at
/// DEBUG and messages at TRACE; those events are dropped).
#[tokio::test]
async fn integration_keys_in_arguments_never_reach_the_log() {
    use rmcp::ServiceExt;
    let h = start().await;
    let key = "il1api0460d849fcdc753d4f"; // seeded: the sandbox accepts it
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_ilert-mcp"));
    command
        .arg("stdio")
        .env("ILERT_API_KEY", USER_KEY)
        .env("ILERT_BASE_URL", &h.sandbox_url)
        .env("ILERT_MCP_LOG", "trace")
        .env("ILERT_MCP_TOOLSETS", "all")
        .env("NO_COLOR", "1")
        .env_remove("ILERT_AUTH_TOKEN");
    let (transport, stderr) = rmcp::transport::TokioChildProcess::builder(command)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = stderr.unwrap();
    let collected = tokio::spawn(async move {
        let mut out = Vec::new();
        let _ = tokio::io::AsyncReadExt::read_to_end(&mut stderr, &mut out).await;
        out
    });
    let client = ().serve(transport).await.unwrap();
    let result = call(
        &client,
        "send_event",
        json!({"integration_key": key, "event_type": "ALERT", "summary": "Disk full on db-7"}),
    )
    .await;
    assert!(!is_error(&result), "{}", text(&result));
    client.cancel().await.unwrap();
    let log = String::from_utf8_lossy(&collected.await.unwrap()).into_owned();
    keep("stdio-trace.stderr", log.as_bytes());
    assert!(
        log.contains("TRACE") || log.contains("DEBUG"),
        "logged at TRACE: {log}"
    );
    assert!(!log.contains(key), "the integration key is in the log");
    assert!(
        !log.contains("Disk full on db-7"),
        "tool arguments are in the log"
    );
}

const PROXY_CHILD_URL: &str = "ILERT_MCP_TEST_CIMD_URL";

/// The half of [`client_metadata_is_fetched_without_a_proxy`] that runs in a child process with
/// the proxy variables set (tests cannot set the environment of their own process).
#[tokio::test]
#[ignore = "run by client_metadata_is_fetched_without_a_proxy in a child process"]
async fn client_metadata_fetch_in_a_proxied_environment() {
    let url = std::env::var(PROXY_CHILD_URL).expect("started by the parent test");
    let mut oauth = OAuth::new(
        "http://127.0.0.1:1",
        &TokenKey::generate(),
        Arc::new(store::InMemory::default()),
        fast_client("http://127.0.0.1:9/api"),
    );
    Arc::get_mut(&mut oauth).unwrap().allow_insecure_metadata = true;
    let info = oauth.client(&url).await.unwrap();
    assert_eq!(info.name, "Proxy test");
}

/// Finding 12: the client ID metadata document is fetched from the address that was checked, not
/// through `HTTP(S)_PROXY`, which would resolve the name again and could reach a private address.
#[tokio::test]
async fn client_metadata_is_fetched_without_a_proxy() {
    let documents = wiremock::MockServer::start().await;
    let url = format!("{}/client.json", documents.uri());
    wiremock::Mock::given(wiremock::matchers::path("/client.json"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(
            json!({"client_id": url, "client_name": "Proxy test", "redirect_uris": [REDIRECT]}),
        ))
        .mount(&documents)
        .await;
    // A "proxy" that counts connections and answers 502.
    let proxy = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_url = format!("http://{}", proxy.local_addr().unwrap());
    let through_proxy = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = through_proxy.clone();
    tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        while let Ok((mut tcp, _)) = proxy.accept().await {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let _ = tcp
                .write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n")
                .await;
        }
    });
    let child = tokio::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "security::client_metadata_fetch_in_a_proxied_environment",
            "--ignored",
            "--nocapture",
        ])
        .env(PROXY_CHILD_URL, &url)
        .env("HTTP_PROXY", &proxy_url)
        .env("http_proxy", &proxy_url)
        .env("HTTPS_PROXY", &proxy_url)
        .env("ALL_PROXY", &proxy_url)
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .output();
    let output = tokio::time::timeout(std::time::Duration::from_secs(60), child)
        .await
        .expect("the child test finishes")
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        through_proxy.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "the fetch went through the proxy"
    );
    assert_eq!(documents.received_requests().await.unwrap().len(), 1);
}

/// Finding 3: an idle keep-alive connection is closed once the header timeout has passed without
/// a next request (here 3 s), and a connection cap of 2 leaves a third client waiting until one of
/// them is gone, after which it is served.
#[tokio::test]
async fn idle_connections_are_closed_and_connections_capped() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().route("/healthz", axum::routing::get(|| async { "ok" }));
    let shutdown = CancellationToken::new();
    let limits = http::Limits {
        max_connections: 2,
        header_timeout: std::time::Duration::from_secs(3),
    };
    tokio::spawn(http::serve_with(listener, app, shutdown.clone(), limits));
    let request = format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    let mut first = tokio::net::TcpStream::connect(addr).await.unwrap();
    first.write_all(request.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 1024];
    let n = first.read(&mut buf).await.unwrap();
    assert!(
        buf[..n].starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&buf[..n])
    );
    // Idle after its answer: the server closes it (EOF), within a bounded wait.
    let closed =
        tokio::time::timeout(std::time::Duration::from_secs(30), first.read(&mut buf)).await;
    assert!(
        matches!(closed, Ok(Ok(0)) | Ok(Err(_))),
        "the idle connection stayed open"
    );

    // Two silent connections fill the cap; a third is not served until they are cut off.
    let _a = tokio::net::TcpStream::connect(addr).await.unwrap();
    let _b = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut third = tokio::net::TcpStream::connect(addr).await.unwrap();
    third.write_all(request.as_bytes()).await.unwrap();
    let early =
        tokio::time::timeout(std::time::Duration::from_millis(300), third.read(&mut buf)).await;
    assert!(
        early.is_err(),
        "a third connection was served beyond the cap of 2"
    );
    let later = tokio::time::timeout(std::time::Duration::from_secs(30), third.read(&mut buf))
        .await
        .expect("served once the silent ones were cut off")
        .unwrap();
    assert!(buf[..later].starts_with(b"HTTP/1.1 200"));
    shutdown.cancel();
}
