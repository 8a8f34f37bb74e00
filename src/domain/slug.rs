use std::fmt;

use serde::Serialize;

use crate::i18n::{Arg, t, t_with};

/// A short lowercase name used in Kubernetes object names
/// (`<customer>-<application>-<stage>`), so it must be a DNS label part.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Slug(String);

/// Namespace names are DNS labels of at most 63 characters; with the longest
/// stage id (11) and two dashes, customer and application get 24 each.
pub const MAX_SLUG_LEN: usize = 24;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SlugError {
    #[error("{}", t("invalid-slug-empty"))]
    Empty,
    #[error("{}", t_with("invalid-text-too-long", &[("max", Arg::from(MAX_SLUG_LEN.to_string()))]))]
    TooLong,
    #[error("{}", t("invalid-slug"))]
    Invalid,
}

impl Slug {
    pub fn parse(input: &str) -> Result<Slug, SlugError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(SlugError::Empty);
        }
        if s.len() > MAX_SLUG_LEN {
            return Err(SlugError::TooLong);
        }
        let valid_chars = s
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        let starts = s.as_bytes()[0].is_ascii_lowercase();
        if !valid_chars || !starts || s.ends_with('-') || s.contains("--") {
            return Err(SlugError::Invalid);
        }
        Ok(Slug(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dns_friendly_short_name_is_a_slug() {
        assert_eq!(
            Slug::parse("stadt-musterhausen").unwrap().as_str(),
            "stadt-musterhausen"
        );
    }

    #[test]
    fn umlauts_uppercase_and_dangling_dashes_are_refused() {
        for bad in [
            "Köln", "Stadt", "-abc", "abc-", "a--b", "1abc", "a b", "a_b",
        ] {
            assert_eq!(Slug::parse(bad), Err(SlugError::Invalid), "{bad}");
        }
    }

    #[test]
    fn a_slug_fits_a_namespace_name() {
        assert_eq!(Slug::parse(&"a".repeat(25)), Err(SlugError::TooLong));
        assert!(Slug::parse(&"a".repeat(24)).is_ok());
    }
}
