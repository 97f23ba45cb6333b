//! Sealed values: JSON encrypted and authenticated with XChaCha20-Poly1305 under the server's key.
//! Tokens, codes, registered client ids and CSRF tokens are all sealed, so any replica holding
//! the key can check them and nobody else can read or forge them.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, rand_core::RngCore};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A 32-byte key. `Debug` never shows it.
#[derive(Clone)]
pub struct TokenKey([u8; 32]);

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey(***)")
    }
}

impl TokenKey {
    pub fn generate() -> Self {
        let mut key = [0u8; 32];
        OsRng.fill_bytes(&mut key);
        Self(key)
    }

    pub fn to_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.0)
    }

    /// From base64 (standard or URL-safe, padded or not) of exactly 32 bytes.
    pub fn from_base64(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(raw)
            .or_else(|_| URL_SAFE_NO_PAD.decode(raw.trim_end_matches('=')))
            .map_err(|_| "ILERT_MCP_TOKEN_KEY is not base64".to_owned())?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| {
            "ILERT_MCP_TOKEN_KEY must be 32 bytes (e.g. `openssl rand -base64 32`)".to_owned()
        })?;
        Ok(Self(key))
    }
}

pub struct Sealer {
    cipher: XChaCha20Poly1305,
}

impl Sealer {
    pub fn new(key: &TokenKey) -> Self {
        Self {
            cipher: XChaCha20Poly1305::new((&key.0).into()),
        }
    }

    /// `prefix` + base64url(nonce ‖ ciphertext). The prefix is authenticated too (as associated
    /// data), so a value sealed as one kind never opens as another.
    pub fn seal<T: Serialize>(&self, prefix: &str, value: &T) -> String {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let plaintext = serde_json::to_vec(value).unwrap_or_default();
        let payload = chacha20poly1305::aead::Payload {
            msg: &plaintext,
            aad: prefix.as_bytes(),
        };
        // Encryption with a valid key and fresh nonce cannot fail; an empty result fails to open.
        let sealed = self.cipher.encrypt(&nonce, payload).unwrap_or_default();
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
    }

    /// The value, if `text` was sealed by this key with this prefix and not altered.
    pub fn open<T: DeserializeOwned>(&self, prefix: &str, text: &str) -> Option<T> {
        let body = text.strip_prefix(prefix)?;
        if body.len() > 16 * 1024 {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(body).ok()?;
        if bytes.len() < 24 + 16 {
            return None;
        }
        let (nonce, sealed) = bytes.split_at(24);
        let payload = chacha20poly1305::aead::Payload {
            msg: sealed,
            aad: prefix.as_bytes(),
        };
        let plaintext = self
            .cipher
            .decrypt(XNonce::from_slice(nonce), payload)
            .ok()?;
        serde_json::from_slice(&plaintext).ok()
    }
}

/// 32 random bytes, base64url: for one-time ids and CSRF values.
pub fn random_id() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_unaltered_with_the_same_key_and_prefix() {
        let sealer = Sealer::new(&TokenKey::generate());
        let token = sealer.seal("imcp_at.", &("secret-ilert-key", 42));
        assert!(!token.contains("secret-ilert-key"));
        assert_eq!(
            sealer.open::<(String, i32)>("imcp_at.", &token),
            Some(("secret-ilert-key".into(), 42))
        );
        assert_eq!(
            sealer.open::<(String, i32)>("imcp_rt.", &token.replacen("imcp_at.", "imcp_rt.", 1)),
            None
        );
        let mut tampered = token.clone().into_bytes();
        let last = tampered.len() - 3;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            sealer.open::<(String, i32)>("imcp_at.", &String::from_utf8(tampered).unwrap()),
            None
        );
        let other = Sealer::new(&TokenKey::generate());
        assert_eq!(other.open::<(String, i32)>("imcp_at.", &token), None);
    }

    #[test]
    fn keys_parse_from_base64_of_32_bytes() {
        let b64 = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        assert!(TokenKey::from_base64(&b64).is_ok());
        assert!(TokenKey::from_base64("c2hvcnQ=").is_err());
        assert!(TokenKey::from_base64("!!!").is_err());
        assert_eq!(format!("{:?}", TokenKey::generate()), "TokenKey(***)");
    }
}
