//! The hash chain of the Revision: every entry carries the SHA-256 of its
//! content and of the entry before it, so an entry changed, removed or
//! slipped in afterwards breaks the chain at that point.
//!
//! The hashed bytes are documented in `docs/revision.md` so that anyone can
//! check an export without Kontor: a version line, then each field in a
//! fixed order as `0x00` (no value) or `0x01`, the length as 8 bytes big
//! endian and the UTF-8 bytes (integers as decimal digits). The lengths
//! make the encoding unambiguous: no two different entries hash the same
//! bytes.

use sha2::{Digest, Sha256};

/// The `prev_hash` of the first entry of a chain: 64 zeros.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What is hashed of an entry, besides its position and predecessor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Content<'a> {
    pub at: i64,
    pub actor_user_id: Option<i64>,
    pub actor: &'a str,
    pub actor_subject: Option<&'a str>,
    pub via: &'a str,
    pub customer_id: Option<i64>,
    pub action: &'a str,
    pub object_type: &'a str,
    pub object_id: i64,
    pub before_json: Option<&'a str>,
    pub after_json: Option<&'a str>,
}

const VERSION: &[u8] = b"kontor-revision-chain/1\n";

fn text(hasher: &mut Sha256, value: Option<&str>) {
    match value {
        None => hasher.update([0u8]),
        Some(v) => {
            hasher.update([1u8]);
            hasher.update((v.len() as u64).to_be_bytes());
            hasher.update(v.as_bytes());
        }
    }
}

fn number(hasher: &mut Sha256, value: Option<i64>) {
    text(hasher, value.map(|v| v.to_string()).as_deref());
}

/// The hash of the entry at chain position `seq` after the entry whose
/// hash is `prev_hash`, as 64 lower-case hex digits.
pub fn entry_hash(seq: i64, prev_hash: &str, c: &Content<'_>) -> String {
    let mut h = Sha256::new();
    h.update(VERSION);
    number(&mut h, Some(seq));
    text(&mut h, Some(prev_hash));
    number(&mut h, Some(c.at));
    number(&mut h, c.actor_user_id);
    text(&mut h, Some(c.actor));
    text(&mut h, c.actor_subject);
    text(&mut h, Some(c.via));
    number(&mut h, c.customer_id);
    text(&mut h, Some(c.action));
    text(&mut h, Some(c.object_type));
    number(&mut h, Some(c.object_id));
    text(&mut h, c.before_json);
    text(&mut h, c.after_json);
    hex::encode(h.finalize())
}

/// Whether `s` looks like a hash of this chain (64 lower-case hex digits).
pub fn is_hash(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content() -> Content<'static> {
        Content {
            at: 1_767_225_600,
            actor_user_id: Some(3),
            actor: "Anna Admin (admin)",
            actor_subject: None,
            via: "sitzung",
            customer_id: Some(1),
            action: "booking.resized",
            object_type: "booking",
            object_id: 17,
            before_json: Some(r#"{"size":"S"}"#),
            after_json: Some(r#"{"size":"M"}"#),
        }
    }

    #[test]
    fn the_hash_is_stable_across_versions_of_kontor() {
        // Changing the encoding would make every existing chain fail: a
        // new encoding needs a new version line, and verify must know both.
        assert_eq!(
            entry_hash(1, GENESIS, &content()),
            "d494980a2a88fa7ff6a4f0d6e8ecd50353be8d7e5e205aab36e8de574fc7238f"
        );
    }

    #[test]
    fn every_field_and_the_predecessor_count() {
        let base = entry_hash(1, GENESIS, &content());
        assert_ne!(entry_hash(2, GENESIS, &content()), base);
        assert_ne!(entry_hash(1, &"1".repeat(64), &content()), base);
        let changed = [
            Content { at: 1, ..content() },
            Content {
                actor_user_id: None,
                ..content()
            },
            Content {
                actor: "Bob",
                ..content()
            },
            Content {
                actor_subject: Some(""),
                ..content()
            },
            Content {
                via: "token",
                ..content()
            },
            Content {
                customer_id: Some(2),
                ..content()
            },
            Content {
                action: "booking.cancelled",
                ..content()
            },
            Content {
                object_type: "release",
                ..content()
            },
            Content {
                object_id: 18,
                ..content()
            },
            Content {
                before_json: None,
                ..content()
            },
            Content {
                after_json: Some(r#"{"size":"L"}"#),
                ..content()
            },
        ];
        for c in changed {
            assert_ne!(entry_hash(1, GENESIS, &c), base, "{c:?}");
        }
    }

    #[test]
    fn no_value_differs_from_an_empty_value_and_fields_do_not_run_together() {
        let a = Content {
            actor_subject: None,
            ..content()
        };
        let b = Content {
            actor_subject: Some(""),
            ..content()
        };
        assert_ne!(entry_hash(1, GENESIS, &a), entry_hash(1, GENESIS, &b));
        let c = Content {
            actor: "ab",
            via: "c",
            ..content()
        };
        let d = Content {
            actor: "a",
            via: "bc",
            ..content()
        };
        assert_ne!(entry_hash(1, GENESIS, &c), entry_hash(1, GENESIS, &d));
    }

    #[test]
    fn hashes_are_64_hex_digits() {
        assert!(is_hash(&entry_hash(1, GENESIS, &content())));
        assert!(is_hash(GENESIS));
        assert!(!is_hash("abc"));
        assert!(!is_hash(&"G".repeat(64)));
    }
}
