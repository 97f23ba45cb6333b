//! What a caller may do: read-only narrowing (the `X-MCP-Readonly` header and read grants) of the
//! server's own tool selection, consent per toolset carried as scopes, and step-up on 403.

use std::collections::BTreeSet;
use std::sync::Arc;

use ilert_mcp::auth::seal::TokenKey;
use ilert_mcp::auth::{ACCESS_PREFIX, Grant, OAuth, Scope, store};
use ilert_mcp::calls::catalogue::{Catalogue, Selection};
use serde_json::{Value, json};

use crate::common::*;

fn post(url: &str) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-06-18")
}

/// The names `tools/list` answers with, given extra `headers`, and whether each is read-only.
async fn listed(url: &str, bearer: &str, headers: &[(&str, &str)]) -> Vec<(String, bool)> {
    let mut request = post(url).bearer_auth(bearer);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    answer["result"]["tools"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"))
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap().to_owned(),
                t["annotations"]["readOnlyHint"].as_bool().unwrap(),
            )
        })
        .collect()
}

fn names(tools: &[(String, bool)]) -> BTreeSet<String> {
    tools.iter().map(|(n, _)| n.clone()).collect()
}

/// One `tools/call` over HTTP: the status and the answer (JSON when there is one).
async fn call_http(
    url: &str,
    bearer: &str,
    headers: &[(&str, &str)],
    tool: &str,
    args: Value,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut request = post(url).bearer_auth(bearer);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request
        .json(&json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
                      "params": {"name": tool, "arguments": args}}))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    (
        status,
        headers,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// A server offering the alerts and chatgpt toolsets: chatgpt is not on by default, so this is a
/// configured selection the defaults do not give.
fn alerts_and_chatgpt() -> Catalogue {
    Catalogue::select(&Selection {
        toolsets: Some(vec!["alerts".into(), "chatgpt".into()]),
        ..Default::default()
    })
}

/// An access token for `oauth`, as the token endpoint would issue it.
fn access_token(oauth: &OAuth, scope: Scope) -> String {
    let now = store::now();
    oauth.sealer.seal(
        ACCESS_PREFIX,
        &Grant {
            key: USER_KEY.into(),
            uid: 10002,
            name: "Jonas Weber".into(),
            cid: "test-client".into(),
            scope,
            aud: oauth.resource.clone(),
            iat: now,
            exp: now + 600,
            jti: "test".into(),
            fam: "f".into(),
        },
    )
}

#[tokio::test]
async fn read_only_narrows_the_configured_selection_not_the_defaults() {
    let (h, oauth) = start_oauth_selected(
        &TokenKey::generate(),
        false,
        Arc::new(store::InMemory::default()),
        alerts_and_chatgpt(),
    )
    .await;
    // The read tools of the alerts and chatgpt toolsets, from the catalogue table in the README.
    let expected: BTreeSet<String> = [
        "fetch",
        "find_similar_alerts",
        "get_alert",
        "get_view_context",
        "list_alerts",
        "search",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    let full = listed(&h.mcp_url, USER_KEY, &[]).await;
    assert!(names(&full).contains("accept_alerts"), "{full:?}");

    // By header, and by a read-only grant (a ChatGPT connector granted read access).
    let read_grant = access_token(&oauth, Scope::Read);
    for (what, bearer, headers) in [
        ("header", USER_KEY, vec![("x-mcp-readonly", "true")]),
        ("read grant", read_grant.as_str(), vec![]),
    ] {
        let tools = listed(&h.mcp_url, bearer, &headers).await;
        assert_eq!(names(&tools), expected, "{what}");
        assert!(tools.iter().all(|(_, ro)| *ro), "{what}: {tools:?}");
        let (status, _, answer) = call_http(
            &h.mcp_url,
            bearer,
            &headers,
            "search",
            json!({"query": "checkout"}),
        )
        .await;
        assert_eq!(status, 200, "{what}: {answer}");
        assert_ne!(answer["result"]["isError"], true, "{what}: {answer}");
        let results: Value =
            serde_json::from_str(answer["result"]["content"][0]["text"].as_str().unwrap()).unwrap();
        assert!(!results["results"].as_array().unwrap().is_empty(), "{what}");
    }
}

#[tokio::test]
async fn read_only_keeps_tools_named_alone() {
    // `--tools search,fetch` alone: exactly those two, and read-only must not hide them.
    let catalogue = Catalogue::select(&Selection {
        tools: vec!["search".into(), "fetch".into()],
        ..Default::default()
    });
    let (h, _) = start_oauth_selected(
        &TokenKey::generate(),
        false,
        Arc::new(store::InMemory::default()),
        catalogue,
    )
    .await;
    let tools = listed(&h.mcp_url, USER_KEY, &[("x-mcp-readonly", "1")]).await;
    assert_eq!(
        names(&tools),
        BTreeSet::from(["fetch".to_owned(), "search".to_owned()])
    );
}

#[tokio::test]
async fn the_read_only_header_fails_closed() {
    let h = start().await;
    let writes = |tools: &[(String, bool)]| tools.iter().filter(|(_, ro)| !ro).count();
    assert!(writes(&listed(&h.mcp_url, USER_KEY, &[]).await) > 0);
    // Only an explicit "off" turns it off.
    for off in ["false", "0", "no", "off", " False "] {
        let tools = listed(&h.mcp_url, USER_KEY, &[("x-mcp-readonly", off)]).await;
        assert!(writes(&tools) > 0, "{off:?} is off");
    }
    // Anything else is read-only: a value this server does not know, an empty one.
    for on in ["true", "enabled", "y", "readonly", "", "2"] {
        let tools = listed(&h.mcp_url, USER_KEY, &[("x-mcp-readonly", on)]).await;
        assert_eq!(writes(&tools), 0, "{on:?} is read-only: {tools:?}");
    }
    // Repeated headers are all read and the strictest wins, in either order.
    for pair in [["false", "true"], ["true", "false"], ["no", "yes please"]] {
        let headers = [("x-mcp-readonly", pair[0]), ("x-mcp-readonly", pair[1])];
        let tools = listed(&h.mcp_url, USER_KEY, &headers).await;
        assert_eq!(writes(&tools), 0, "{pair:?}: {tools:?}");
    }
    // And a write is refused at call time, not just hidden.
    let id = alert_ids(&h.sandbox_url, "PENDING").await[0];
    let headers = [("x-mcp-readonly", "false"), ("x-mcp-readonly", "enabled")];
    let (status, _, answer) = call_http(
        &h.mcp_url,
        USER_KEY,
        &headers,
        "accept_alerts",
        json!({"ids": [id]}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["result"]["isError"], true, "{answer}");
    assert!(
        answer["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("read-only"),
        "{answer}"
    );
    assert!(alert_ids(&h.sandbox_url, "PENDING").await.contains(&id));
}

// ---- Consent per toolset, over the real sign-in flow ----

const REDIRECT: &str = "https://claude.ai/api/mcp/auth_callback";

fn plain() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn base(mcp_url: &str) -> String {
    mcp_url.trim_end_matches("/mcp").to_owned()
}

/// A registered client and a PKCE pair: (client_id, verifier, challenge).
async fn client_and_pkce(base: &str) -> (String, String, String) {
    use base64::Engine;
    use sha2::Digest;
    let registered: Value = plain()
        .post(format!("{base}/register"))
        .json(&json!({"client_name": "Claude", "redirect_uris": [REDIRECT]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let verifier = ilert_mcp::auth::seal::random_id();
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    (
        registered["client_id"].as_str().unwrap().to_owned(),
        verifier,
        challenge,
    )
}

/// The sign-in page for `scope`: (its HTML, the CSRF cookie, the sealed request).
async fn sign_in_page(
    base: &str,
    client_id: &str,
    challenge: &str,
    scope: &str,
) -> (String, String, String) {
    let page = plain()
        .get(format!("{base}/authorize"))
        .query(&[
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", REDIRECT),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
            ("scope", scope),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let cookie = page.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let html = page.text().await.unwrap();
    let marker = "name=\"request\" value=\"";
    let at = html.find(marker).unwrap() + marker.len();
    let request = html[at..at + html[at..].find('"').unwrap()].replace("&amp;", "&");
    (html, cookie, request)
}

/// Submits the page with `fields` (besides the request, the key and Allow); returns the status and
/// the code when it redirected.
async fn submit(
    base: &str,
    cookie: &str,
    request: &str,
    fields: &[(&str, &str)],
) -> (u16, Option<String>) {
    let mut form = vec![
        ("request", request),
        ("api_key", USER_KEY),
        ("decision", "allow"),
    ];
    form.extend_from_slice(fields);
    let response = plain()
        .post(format!("{base}/authorize"))
        .header("cookie", cookie)
        .form(&form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let code = response
        .headers()
        .get("location")
        .and_then(|l| reqwest::Url::parse(l.to_str().unwrap()).ok())
        .and_then(|u| {
            u.query_pairs()
                .find(|(k, _)| k == "code")
                .map(|(_, v)| v.into_owned())
        });
    (status, code)
}

async fn exchange(base: &str, client_id: &str, code: &str, verifier: &str) -> Value {
    let response = plain()
        .post(format!("{base}/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", client_id),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// The whole sign-in with the consent `fields` ticked; the token answer.
async fn consent(base: &str, scope: &str, fields: &[(&str, &str)]) -> Value {
    let (client_id, verifier, challenge) = client_and_pkce(base).await;
    let (_, cookie, request) = sign_in_page(base, &client_id, &challenge, scope).await;
    let (status, code) = submit(base, &cookie, &request, fields).await;
    assert_eq!(status, 303);
    exchange(base, &client_id, &code.unwrap(), &verifier).await
}

/// Whether the checkbox `name` on the page is ticked; `None` when there is none.
fn ticked(html: &str, name: &str) -> Option<bool> {
    let at = html.find(&format!(r#"type="checkbox" name="{name}""#))?;
    let tag = &html[at..at + html[at..].find('>').unwrap()];
    Some(tag.ends_with(" checked"))
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

#[tokio::test]
async fn consent_per_toolset_hides_refuses_and_asks_for_step_up() {
    let (h, _) = start_with_oauth(&TokenKey::generate(), false).await;
    let base = base(&h.mcp_url);

    // The page offers the four groups, each readable and (here, every group has writes but
    // configuration) changeable, ticked as the client asked.
    let (client_id, _, challenge) = client_and_pkce(&base).await;
    let (html, _, _) = sign_in_page(
        &base,
        &client_id,
        &challenge,
        "ilert:alerts:write ilert:oncall:read",
    )
    .await;
    for label in [
        "Alerts",
        "Incidents and status",
        "On-call and overrides",
        "Configuration",
    ] {
        assert!(
            html.contains(&format!("<strong>{label}</strong>")),
            "{label}"
        );
    }
    assert_eq!(ticked(&html, "alerts"), Some(true), "{html}");
    assert_eq!(ticked(&html, "alerts_write"), Some(true));
    assert_eq!(ticked(&html, "oncall"), Some(true));
    assert_eq!(ticked(&html, "oncall_write"), Some(false));
    assert_eq!(ticked(&html, "incidents"), Some(false));
    assert_eq!(ticked(&html, "incidents_write"), Some(false));
    assert_eq!(ticked(&html, "config"), Some(false));
    assert_eq!(
        ticked(&html, "config_write"),
        None,
        "configuration has no tool that writes"
    );

    // The user allows alerts read-write and on-call read only.
    let tokens = consent(
        &base,
        "ilert:read ilert:write",
        &[
            ("consent", "groups"),
            ("alerts", "read"),
            ("alerts_write", "write"),
            ("oncall", "read"),
        ],
    )
    .await;
    assert_eq!(
        tokens["scope"],
        "ilert:alerts:read ilert:alerts:write ilert:oncall:read"
    );
    let access = tokens["access_token"].as_str().unwrap();
    // Alerts (its toolset, alert metrics and events) and the on-call reads: nothing else, not
    // even the overview, which also shows incidents.
    let expected = set(&[
        "accept_alerts",
        "add_alert_responder",
        "assign_alert",
        "comment_on_alert",
        "create_alert",
        "find_similar_alerts",
        "get_alert",
        "get_view_context",
        "list_alerts",
        "resolve_alerts",
        "run_alert_action",
        "get_alert_metrics",
        "send_event",
        "get_oncall_load",
        "get_schedule_shifts",
        "list_schedules",
        "who_is_on_call",
    ]);
    assert_eq!(names(&listed(&h.mcp_url, access, &[]).await), expected);

    // Allowed: a write in alerts.
    let id = alert_ids(&h.sandbox_url, "PENDING").await[0];
    let (status, _, answer) = call_http(
        &h.mcp_url,
        access,
        &[],
        "accept_alerts",
        json!({"ids": [id]}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_ne!(answer["result"]["isError"], true, "{answer}");
    assert!(!alert_ids(&h.sandbox_url, "PENDING").await.contains(&id));

    // Needs more: 403 insufficient_scope naming what is granted plus what is needed.
    for (tool, args, needs) in [
        (
            "create_schedule_override",
            json!({"schedule": "1", "user": "me", "start": "2030-01-01T00:00:00Z", "end": "2030-01-01T01:00:00Z"}),
            "ilert:oncall:write",
        ),
        ("list_incidents", json!({}), "ilert:incidents:read"),
        ("get_overview", json!({}), "ilert:incidents:read"),
    ] {
        let (status, headers, body) = call_http(&h.mcp_url, access, &[], tool, args).await;
        assert_eq!(status, 403, "{tool}: {body}");
        let challenge = headers["www-authenticate"].to_str().unwrap();
        assert!(
            challenge.starts_with("Bearer error=\"insufficient_scope\""),
            "{challenge}"
        );
        let scope = challenge
            .split("scope=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let words: BTreeSet<&str> = scope.split(' ').collect();
        for word in [needs, "ilert:alerts:write", "ilert:oncall:read"] {
            assert!(words.contains(word), "{tool}: {word} missing from {scope}");
        }
        assert!(challenge.contains("resource_metadata=\""), "{challenge}");
        assert_eq!(body["error"], "insufficient_scope");
    }

    // Step-up: signing in with the challenge's scope ticks it all, and the new grant can.
    let (client_id, verifier, challenge) = client_and_pkce(&base).await;
    let wanted = "ilert:alerts:read ilert:alerts:write ilert:oncall:read ilert:oncall:write";
    let (html, cookie, request) = sign_in_page(&base, &client_id, &challenge, wanted).await;
    assert_eq!(ticked(&html, "oncall_write"), Some(true));
    let (_, code) = submit(
        &base,
        &cookie,
        &request,
        &[
            ("consent", "groups"),
            ("alerts", "read"),
            ("alerts_write", "write"),
            ("oncall", "read"),
            ("oncall_write", "write"),
        ],
    )
    .await;
    let tokens = exchange(&base, &client_id, &code.unwrap(), &verifier).await;
    let access = tokens["access_token"].as_str().unwrap();
    assert!(names(&listed(&h.mcp_url, access, &[]).await).contains("create_schedule_override"));

    // Unticking everything grants nothing: the page asks again.
    let (client_id, _, challenge) = client_and_pkce(&base).await;
    let (_, cookie, request) = sign_in_page(&base, &client_id, &challenge, "ilert:read").await;
    let (status, code) = submit(&base, &cookie, &request, &[("consent", "groups")]).await;
    assert_eq!((status, code), (400, None));
}

#[tokio::test]
async fn metadata_advertises_the_scopes() {
    let (h, _) = start_with_oauth(&TokenKey::generate(), false).await;
    let base = base(&h.mcp_url);
    for path in [
        "/.well-known/oauth-protected-resource/mcp",
        "/.well-known/oauth-authorization-server",
    ] {
        let doc: Value = reqwest::get(format!("{base}{path}"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let scopes: BTreeSet<&str> = doc["scopes_supported"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        for scope in [
            "ilert:read",
            "ilert:write",
            "ilert:alerts:read",
            "ilert:alerts:write",
            "ilert:incidents:read",
            "ilert:incidents:write",
            "ilert:oncall:read",
            "ilert:oncall:write",
            "ilert:config:read",
        ] {
            assert!(scopes.contains(scope), "{path}: {scope}");
        }
    }
}

#[tokio::test]
async fn a_read_only_server_grants_only_read() {
    let catalogue = Catalogue::select(&Selection {
        toolsets: Some(vec!["all".into()]),
        read_only: true,
        ..Default::default()
    });
    let (h, _) = start_oauth_selected(
        &TokenKey::generate(),
        false,
        Arc::new(store::InMemory::default()),
        catalogue,
    )
    .await;
    let base = base(&h.mcp_url);
    // Metadata: no write scope.
    for path in [
        "/.well-known/oauth-protected-resource/mcp",
        "/.well-known/oauth-authorization-server",
    ] {
        let doc: Value = reqwest::get(format!("{base}{path}"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let scopes = doc["scopes_supported"].to_string();
        assert!(scopes.contains("ilert:read"), "{path}: {scopes}");
        assert!(!scopes.contains("write"), "{path}: {scopes}");
    }
    // The page offers no write, even when the client asks for it.
    let (client_id, verifier, challenge) = client_and_pkce(&base).await;
    let (html, cookie, request) =
        sign_in_page(&base, &client_id, &challenge, "ilert:read ilert:write").await;
    assert!(!html.contains("_write"), "{html}");
    assert!(html.contains("This server is read-only"));
    // A forged form asking for write, old style and per group, still gets read.
    let (_, code) = submit(
        &base,
        &cookie,
        &request,
        &[
            ("consent", "groups"),
            ("alerts", "read"),
            ("alerts_write", "write"),
            ("scope", "write"),
        ],
    )
    .await;
    let tokens = exchange(&base, &client_id, &code.unwrap(), &verifier).await;
    assert_eq!(tokens["scope"], "ilert:alerts:read");
    let (client_id, verifier, challenge) = client_and_pkce(&base).await;
    let (_, cookie, request) = sign_in_page(&base, &client_id, &challenge, "ilert:write").await;
    let (_, code) = submit(&base, &cookie, &request, &[("scope", "write")]).await;
    let tokens = exchange(&base, &client_id, &code.unwrap(), &verifier).await;
    assert_eq!(tokens["scope"], "ilert:read");
    // Refreshing cannot widen it either.
    let refreshed: Value = plain()
        .post(format!("{base}/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
            ("client_id", client_id.as_str()),
            ("scope", "ilert:read ilert:write"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(refreshed["scope"], "ilert:read", "{refreshed}");
}

#[tokio::test]
async fn token_lifetimes_are_configurable_and_refresh_comes_without_offline_access() {
    let (h, _) = start_oauth_configured(
        &TokenKey::generate(),
        false,
        Arc::new(store::InMemory::default()),
        Catalogue::full(),
        None,
        |o| {
            o.access_ttl = 7_200;
            o.refresh_ttl = 600;
        },
    )
    .await;
    let base = base(&h.mcp_url);
    for scope in ["ilert:read", "ilert:read offline_access"] {
        let tokens = consent(&base, scope, &[("scope", "read")]).await;
        assert_eq!(tokens["expires_in"], 7_200, "{scope}");
        assert!(
            tokens["refresh_token"]
                .as_str()
                .unwrap()
                .starts_with("imcp_rt."),
            "{scope}: {tokens}"
        );
    }
    // And the flags refuse what they cannot honour.
    use clap::Parser;
    let client = fast_client(&h.sandbox_url);
    for (flags, wrong) in [
        (vec!["--access-token-secs", "30"], "--access-token-secs"),
        (vec!["--refresh-token-secs", "100"], "--refresh-token-secs"),
        (
            vec![
                "--access-token-secs",
                "7200",
                "--refresh-token-secs",
                "3600",
            ],
            "--refresh-token-secs",
        ),
    ] {
        let mut argv = vec!["ilert-mcp", "serve"];
        argv.extend(flags.iter().copied());
        let cli = ilert_mcp::commands::cli::Cli::try_parse_from(&argv).unwrap();
        let ilert_mcp::commands::cli::Command::Serve(args) = cli.command else {
            unreachable!()
        };
        let bound = "127.0.0.1:1".parse().unwrap();
        let error = ilert_mcp::oauth(&args.http, bound, &client, &Catalogue::full()).unwrap_err();
        assert!(error.starts_with(wrong), "{flags:?}: {error}");
    }
    let cli = ilert_mcp::commands::cli::Cli::try_parse_from([
        "ilert-mcp",
        "serve",
        "--access-token-secs",
        "7200",
        "--refresh-token-secs",
        "86400",
    ])
    .unwrap();
    let ilert_mcp::commands::cli::Command::Serve(args) = cli.command else {
        unreachable!()
    };
    let oauth = ilert_mcp::oauth(
        &args.http,
        "127.0.0.1:1".parse().unwrap(),
        &client,
        &Catalogue::full(),
    )
    .unwrap()
    .unwrap();
    assert_eq!((oauth.access_ttl, oauth.refresh_ttl), (7_200, 86_400));
}

/// The tools offered follow the key's ilert role (issue 23 §4): a stakeholder is offered no write,
/// a responder no configuration, and a call of a tool the role cannot use is refused before any
/// question, changing nothing. The roles come from the sandbox's own users.
#[tokio::test]
async fn the_tools_offered_follow_the_keys_role() {
    let h = start().await;
    let role = |key: &'static str| {
        let sandbox = h.sandbox_url.clone();
        async move {
            crate::tools_support::sandbox_get(&sandbox, key, "users/current").await["role"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    assert_eq!(role(STAKEHOLDER_KEY).await, "STAKEHOLDER");
    assert_eq!(role("demo-key-responder").await, "RESPONDER");
    assert_eq!(role(USER_KEY).await, "USER");

    let everything = listed(&h.mcp_url, USER_KEY, &[]).await;
    let reads: BTreeSet<String> = everything
        .iter()
        .filter(|(_, read_only)| *read_only)
        .map(|(n, _)| n.clone())
        .collect();
    assert!(
        everything.iter().any(|(_, ro)| !ro),
        "a USER is offered writes"
    );

    // A stakeholder: exactly the reads.
    let stakeholder = listed(&h.mcp_url, STAKEHOLDER_KEY, &[]).await;
    assert_eq!(names(&stakeholder), reads);

    // A responder: everything but configuration.
    let responder = names(&listed(&h.mcp_url, "demo-key-responder", &[]).await);
    let configure: BTreeSet<String> = ["create_maintenance_window", "create_schedule_override"]
        .into_iter()
        .map(String::from)
        .collect();
    let expected: BTreeSet<String> = names(&everything).difference(&configure).cloned().collect();
    assert_eq!(responder, expected);

    // Called anyway: refused with the role named, before any confirmation question (the client
    // declares elicitation in 2026-07-28, so a question would have been an input_required).
    let windows = || async {
        crate::tools_support::sandbox_get(&h.sandbox_url, USER_KEY, "maintenance-windows")
            .await
            .as_array()
            .map_or(0, Vec::len)
    };
    let before = windows().await;
    let response = reqwest::Client::new()
        .post(&h.mcp_url)
        .bearer_auth("demo-key-responder")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", "create_maintenance_window")
        .json(
            &json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
            "name": "create_maintenance_window",
            "arguments": {"summary": "DB upgrade", "start": "in 1 hour", "end": "in 2 hours",
                          "services": ["Checkout"]},
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientInfo": {"name": "role-test", "version": "1"},
                "io.modelcontextprotocol/clientCapabilities": {"elicitation": {"form": {}}},
            }}}),
        )
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    let result = &body["result"];
    assert_ne!(
        result["resultType"], "input_required",
        "asked first: {body}"
    );
    assert_eq!(result["isError"], true, "{body}");
    let text = result["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("RESPONDER"), "{text}");
    assert_eq!(windows().await, before, "nothing changed");
}
