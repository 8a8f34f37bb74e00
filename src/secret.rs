//! Random secrets: CSRF tokens, API tokens, request and worker ids. One
//! source, so every secret has the same 256 bits from the OS's generator.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::RngCore as _;

/// 32 random bytes as 43 URL-safe characters.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A short random id (request ids, error ids shown to people), `len` ≤ 43
/// characters of a [`random_token`].
pub fn random_id(len: usize) -> String {
    let mut id = random_token();
    id.truncate(len);
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_has_43_url_safe_characters_and_two_differ() {
        let a = random_token();
        assert_eq!(a.len(), 43);
        assert!(
            a.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_ne!(a, random_token());
    }

    #[test]
    fn an_id_is_cut_to_its_length() {
        assert_eq!(random_id(12).len(), 12);
    }
}
