//! `serve` talking to an ilert on https: the roots come from the platform store, read once per
//! process on first use (`ilert_client::tls`). A stand-in ilert on loopback answers over TLS with a
//! certificate for `localhost` issued by a test CA; `serve` is started with `SSL_CERT_FILE`
//! naming that CA, as an operator would point it at a private CA. The first `initialize` makes the
//! key check (`GET /users/current`) go out over that connection.
//!
//! The certificates are in `tests/support/tls/` (made once with openssl; see its README).

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::{Value, json};

const SUPPORT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/support/tls");

/// What the stand-in saw: requests answered and handshakes that failed.
#[derive(Default, Debug)]
struct Seen {
    requests: Vec<String>,
    handshake_errors: Vec<String>,
}

/// An HTTPS stand-in for ilert on loopback with the certificate `name` (`localhost-by-test-ca` or
/// `untrusted-localhost`). It answers every request with one user and closes the connection; it
/// serves at most 20 connections, each within 10 s.
fn https_ilert(name: &str) -> (u16, Arc<Mutex<Seen>>) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let read = |suffix: &str| std::fs::read(format!("{SUPPORT}/{name}.{suffix}.der")).unwrap();
    let config = Arc::new(
        rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from(read("cert"))],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(read("key"))),
            )
            .unwrap(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let record = seen.clone();
    std::thread::spawn(move || {
        for tcp in listener.incoming().take(20) {
            let Ok(tcp) = tcp else { continue };
            let _ = tcp.set_read_timeout(Some(Duration::from_secs(10)));
            let conn = rustls::ServerConnection::new(config.clone()).unwrap();
            let mut tls = rustls::StreamOwned::new(conn, tcp);
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            let outcome = loop {
                match tls.read(&mut buf) {
                    Ok(0) => break Err("closed before a request".to_owned()),
                    Ok(n) => {
                        request.extend_from_slice(&buf[..n]);
                        if request.windows(4).any(|w| w == b"\r\n\r\n") {
                            break Ok(());
                        }
                    }
                    Err(e) => break Err(e.to_string()),
                }
            };
            match outcome {
                Ok(()) => {
                    let line = String::from_utf8_lossy(&request)
                        .lines()
                        .next()
                        .unwrap_or_default()
                        .to_owned();
                    record.lock().unwrap().requests.push(line);
                    let body = json!({"id": 7, "firstName": "Tess", "lastName": "Tls",
                        "email": "tess@example.com", "role": "USER"})
                    .to_string();
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = tls.write_all(answer.as_bytes());
                    tls.conn.send_close_notify();
                    let _ = tls.flush();
                }
                Err(e) => record.lock().unwrap().handshake_errors.push(e),
            }
        }
    });
    (port, seen)
}

/// `serve` in front of the stand-in, trusting only the test CA; the status and body of a first
/// `initialize` with a bearer key.
async fn first_initialize(port: u16) -> (u16, Value) {
    let ca = format!("{SUPPORT}/test-ca.cert.pem");
    let ilert = format!("https://localhost:{port}/api");
    let (_child, base) = crate::security::spawn_serve_with(
        &["--ilert-url", &ilert, "--no-oauth"],
        &[("SSL_CERT_FILE", &ca)],
        &["SSL_CERT_DIR"],
    )
    .await;
    let response = reqwest::Client::new()
        .post(format!("{base}/mcp"))
        .bearer_auth("a-key-for-the-tls-test-000001")
        .header("accept", "application/json, text/event-stream")
        .json(
            &json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "tls-test", "version": "0"}}}),
        )
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}

#[tokio::test]
async fn an_https_ilert_with_a_certificate_from_a_trusted_ca_is_reached() {
    let (port, seen) = https_ilert("localhost-by-test-ca");
    let (status, body) = first_initialize(port).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["result"]["serverInfo"].is_object(), "{body}");
    let seen = seen.lock().unwrap();
    assert!(
        seen.requests
            .iter()
            .any(|r| r.starts_with("GET /api/users/current ")),
        "the key was checked over TLS: {seen:?}"
    );
    assert!(seen.handshake_errors.is_empty(), "{seen:?}");
}

#[tokio::test]
async fn an_https_ilert_with_an_untrusted_certificate_is_refused() {
    let (port, seen) = https_ilert("untrusted-localhost");
    let (status, body) = first_initialize(port).await;
    // The key could not be checked, so the request does not run: 503, never let through.
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"], "temporarily_unavailable", "{body}");
    let seen = seen.lock().unwrap();
    assert!(
        seen.requests.is_empty(),
        "no request over an untrusted connection: {seen:?}"
    );
    assert!(
        seen.handshake_errors
            .iter()
            .any(|e| e.contains("UnknownCA") || e.contains("BadCertificate")),
        "the client aborted the handshake: {seen:?}"
    );
}
