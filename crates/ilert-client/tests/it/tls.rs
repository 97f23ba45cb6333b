//! The TLS set-up every outbound client shares (`ilert_client::tls`) still checks certificates:
//! a local TLS server with a self-signed certificate for `localhost` (not in any root store) is
//! refused, and the server sees the client abort the handshake.

use std::io::Read as _;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

// Made once with openssl: an EC P-256 key and a self-signed leaf (CA:FALSE, serverAuth, SAN
// localhost and 127.0.0.1, valid for 100 years) whose issuer no root store knows.
const CERT: &[u8] = include_bytes!("../../../../tests/support/tls/untrusted-localhost.cert.der");
const KEY: &[u8] = include_bytes!("../../../../tests/support/tls/untrusted-localhost.key.der");

/// Accepts one connection on loopback and runs the handshake; returns the server's view of it.
fn one_tls_server() -> (u16, std::thread::JoinHandle<Result<(), String>>) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(CERT.to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(KEY.to_vec())),
        )
        .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let (tcp, _) = listener.accept().map_err(|e| e.to_string())?;
        tcp.set_read_timeout(Some(Duration::from_secs(10)))
            .map_err(|e| e.to_string())?;
        let conn = rustls::ServerConnection::new(Arc::new(config)).map_err(|e| e.to_string())?;
        let mut tls = rustls::StreamOwned::new(conn, tcp);
        let mut buf = [0u8; 64];
        tls.read(&mut buf).map(|_| ()).map_err(|e| e.to_string())
    });
    (port, handle)
}

#[tokio::test]
async fn a_certificate_outside_the_platform_roots_is_refused() {
    let (port, server) = one_tls_server();
    let http = reqwest::Client::builder()
        .tls_backend_preconfigured(ilert_client::tls::client_config())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let err = http
        .get(format!("https://localhost:{port}/api/users/current"))
        .send()
        .await
        .expect_err("a self-signed certificate must not be accepted");
    let mut chain = format!("{err}");
    let mut source = std::error::Error::source(&err);
    while let Some(s) = source {
        chain.push_str(&format!(" / {s}"));
        source = s.source();
    }
    assert!(
        chain.contains("UnknownIssuer") || chain.contains("unknown issuer"),
        "expected an unknown-issuer refusal, got: {chain}"
    );
    let server_saw = server.join().unwrap();
    let alert = server_saw.expect_err("the handshake must not complete");
    assert!(
        alert.contains("UnknownCA") || alert.contains("BadCertificate"),
        "the client should abort with a certificate alert, the server saw: {alert}"
    );
}

#[test]
fn the_configuration_offers_http2_and_http1() {
    let config = ilert_client::tls::client_config();
    assert_eq!(
        config.alpn_protocols,
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    );
}
