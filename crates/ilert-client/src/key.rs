//! The ilert API key: a secret that prints as `***` wherever it is formatted.

use std::fmt;
use std::sync::Arc;

/// A user API key for ilert. `Debug` and `Display` never show it; only [`ApiKey::expose`] does,
/// and only the HTTP layer calls that.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ApiKey(Arc<str>);

/// Why a string is not usable as an API key. Carries no part of the rejected value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidApiKey {
    #[error("the API key is empty")]
    Empty,
    #[error("the API key contains whitespace or control characters")]
    BadCharacters,
    #[error("the API key is longer than 4096 characters")]
    TooLong,
}

impl ApiKey {
    /// Accepts a key with or without a leading `Bearer ` (users paste either form).
    pub fn new(raw: &str) -> Result<Self, InvalidApiKey> {
        let trimmed = raw.trim();
        let key = match trimmed.split_once(' ') {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
            _ => trimmed,
        };
        if key.is_empty() || key.eq_ignore_ascii_case("bearer") {
            return Err(InvalidApiKey::Empty);
        }
        if key.len() > 4096 {
            return Err(InvalidApiKey::TooLong);
        }
        if key.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(InvalidApiKey::BadCharacters);
        }
        Ok(Self(Arc::from(key)))
    }

    /// The key itself, for the `Authorization` header and nothing else.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_bearer_prefix_and_whitespace() {
        assert_eq!(ApiKey::new("  Bearer abc123 ").unwrap().expose(), "abc123");
        assert_eq!(ApiKey::new("bearer abc123").unwrap().expose(), "abc123");
        assert_eq!(ApiKey::new("abc123").unwrap().expose(), "abc123");
    }

    #[test]
    fn rejects_empty_and_malformed_keys() {
        assert_eq!(ApiKey::new("  "), Err(InvalidApiKey::Empty));
        assert_eq!(ApiKey::new("Bearer "), Err(InvalidApiKey::Empty));
        assert_eq!(ApiKey::new("a b c"), Err(InvalidApiKey::BadCharacters));
        assert_eq!(ApiKey::new("ab\ncd"), Err(InvalidApiKey::BadCharacters));
        assert_eq!(ApiKey::new(&"x".repeat(4097)), Err(InvalidApiKey::TooLong));
    }

    #[test]
    fn never_formats_the_secret() {
        let key = ApiKey::new("sekrit-value").unwrap();
        assert_eq!(format!("{key:?} {key}"), "ApiKey(***) ***");
    }
}
