//! Portal API tokens. A token is 32 random bytes shown once; only its SHA-256
//! is stored. A fast hash is right here (unlike for passwords): the secret has
//! 256 bits of entropy, so there is nothing to brute-force, and lookups by
//! hash stay a unique-index hit on every API call.

use sha2::{Digest as _, Sha256};

/// Prefix that makes a leaked token recognisable to secret scanners.
pub const PREFIX: &str = "kontor_";

pub struct NewToken {
    /// The secret, to show exactly once.
    pub secret: String,
    pub hash: String,
}

pub fn generate() -> NewToken {
    let secret = format!("{PREFIX}{}", crate::secret::random_token());
    let hash = hash(&secret);
    NewToken { secret, hash }
}

pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_prefixed_and_its_hash_is_not_the_token() {
        let t = generate();
        assert!(t.secret.starts_with(PREFIX));
        assert_eq!(t.secret.len(), PREFIX.len() + 43);
        assert_eq!(t.hash, hash(&t.secret));
        assert!(!t.hash.contains(&t.secret));
    }

    #[test]
    fn two_tokens_differ() {
        assert_ne!(generate().secret, generate().secret);
    }
}
