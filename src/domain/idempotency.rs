//! `Idempotency-Key` of creating API calls: a retried request (same person,
//! same key, same body) gets back what the first one created, never a
//! second object.

use sha2::{Digest as _, Sha256};

/// A client-chosen key plus the hash of the request it came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub key: String,
    pub request_hash: String,
}

/// Why a key was refused; the message is for the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", crate::i18n::t("invalid-idempotency-key"))]
pub struct InvalidKey;

impl Key {
    /// Keys are opaque strings of 1–255 visible ASCII characters.
    pub fn parse(key: &str, request_body: &[u8]) -> Result<Key, InvalidKey> {
        let valid =
            !key.is_empty() && key.len() <= 255 && key.bytes().all(|b| b.is_ascii_graphic());
        if !valid {
            return Err(InvalidKey);
        }
        Ok(Key {
            key: key.to_owned(),
            request_hash: hex::encode(Sha256::digest(request_body)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_visible_ascii_of_at_most_255_characters() {
        assert!(Key::parse("abc-123", b"{}").is_ok());
        assert_eq!(Key::parse("", b"{}"), Err(InvalidKey));
        assert_eq!(Key::parse("mit leerzeichen", b"{}"), Err(InvalidKey));
        assert_eq!(Key::parse(&"x".repeat(256), b"{}"), Err(InvalidKey));
    }

    #[test]
    fn the_same_key_with_another_body_hashes_differently() {
        let a = Key::parse("k", b"{\"size\":\"S\"}").unwrap();
        let b = Key::parse("k", b"{\"size\":\"M\"}").unwrap();
        assert_ne!(a.request_hash, b.request_hash);
    }
}
