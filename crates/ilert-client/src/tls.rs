//! TLS for every outbound HTTPS client of the process: certificates are checked against the
//! platform's roots, as reqwest does by default, but the roots are read once per process and only
//! when a first certificate has to be checked.
//!
//! reqwest's default verifier reads the whole system store (on Debian a bundle plus a directory of
//! about 150 files, both when `SSL_CERT_FILE` and `SSL_CERT_DIR` are set) each time a client is
//! built. That cost sat in `serve`'s start-up before the first request could be answered, and in
//! every per-request client. Here a server whose ilert is plain http never reads them, and one on
//! https reads them on a background thread at start-up (see [`warm`]), in parallel with the rest.

use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, Error, SignatureScheme};

/// A rustls client configuration for reqwest's `tls_backend_preconfigured`: platform roots (loaded
/// on first use, shared by every client), TLS 1.2 and 1.3, ALPN for HTTP/2 and HTTP/1.1 as reqwest
/// would offer.
pub fn client_config() -> rustls::ClientConfig {
    let provider = provider();
    // The process's provider (ring, installed by `provider`) and its default versions, 1.3 and 1.2.
    let mut config = rustls::ClientConfig::builder()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PlatformRoots { provider }))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    config
}

/// Loads the platform roots on a background thread now, so that the first HTTPS handshake does
/// not wait for them. Does nothing once they are loaded or loading.
pub fn warm() {
    static STARTED: OnceLock<()> = OnceLock::new();
    if roots_loaded() || STARTED.set(()).is_err() {
        return;
    }
    let provider = provider();
    let spawned = std::thread::Builder::new()
        .name("tls-roots".into())
        .spawn(move || {
            let _ = platform(&provider);
        });
    if let Err(e) = spawned {
        tracing::debug!(error = %e, "cannot load the TLS roots ahead; the first handshake will");
    }
}

fn provider() -> Arc<CryptoProvider> {
    // reqwest is built without a TLS provider: ring, which builds fast on small machines. An
    // error means another provider is already installed, which serves just as well.
    let _ = rustls::crypto::ring::default_provider().install_default();
    CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()))
}

/// The platform verifier of the process, built (roots read) on first call.
static PLATFORM: OnceLock<Result<Arc<rustls_platform_verifier::Verifier>, Error>> = OnceLock::new();

fn platform(
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<rustls_platform_verifier::Verifier>, Error> {
    PLATFORM
        .get_or_init(|| rustls_platform_verifier::Verifier::new(provider.clone()).map(Arc::new))
        .clone()
}

fn roots_loaded() -> bool {
    PLATFORM.get().is_some()
}

/// Certificate chains go to the platform verifier; handshake signatures need no roots and are
/// checked with the provider's algorithms, as that verifier does.
#[derive(Debug)]
struct PlatformRoots {
    provider: Arc<CryptoProvider>,
}

impl PlatformRoots {
    fn algorithms(&self) -> &WebPkiSupportedAlgorithms {
        &self.provider.signature_verification_algorithms
    }
}

impl ServerCertVerifier for PlatformRoots {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        platform(&self.provider)?.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, self.algorithms())
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, self.algorithms())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms().supported_schemes()
    }
}
