//! How lists are searched and sorted, for the API's lists (docs/api.md,
//! "Lists": `q` and `sort`) and the pages' lists (`suche` and
//! `sortierung`) alike, so that a list answers the same in both.
//!
//! `sort` names a field, with `-` in front for descending, from the list's
//! own choice; ties keep the list's own order (or go by id, in SQL). A
//! search text is one line of at most [`MAX_SEARCH`] characters, matched
//! without regard to case as a part of the list's text fields.

use super::{Error, Result};
use crate::i18n::{Arg, t_with};

/// A sort order: one of the list's fields, ascending or descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub field: &'static str,
    pub descending: bool,
}

impl Sort {
    /// Reads `sort` (`field` or `-field`, one of `fields`); `default` when
    /// absent.
    pub fn parse(raw: Option<&str>, fields: &[&'static str], default: &str) -> Result<Sort> {
        let raw = raw
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .unwrap_or(default);
        Sort::one_of(raw, fields)
    }

    /// Reads `sort` where a list has an order of its own when none is asked
    /// for (`None`).
    pub fn optional(raw: Option<&str>, fields: &[&'static str]) -> Result<Option<Sort>> {
        match raw.map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(raw) => Sort::one_of(raw, fields).map(Some),
        }
    }

    fn one_of(raw: &str, fields: &[&'static str]) -> Result<Sort> {
        let (descending, name) = match raw.strip_prefix('-') {
            Some(name) => (true, name),
            None => (false, raw),
        };
        fields
            .iter()
            .find(|f| **f == name)
            .map(|field| Sort { field, descending })
            .ok_or_else(|| {
                Error::validation(
                    "sort",
                    t_with("invalid-sort", &[("fields", Arg::from(fields.join(", ")))]),
                )
            })
    }

    /// The order by `field`: ascending, or the other way round when the
    /// list is sorted by that field already (a column header's link).
    pub fn toggle(self, field: &'static str) -> Sort {
        Sort {
            field,
            descending: self.field == field && !self.descending,
        }
    }

    /// As written in a query: `field` or `-field`.
    pub fn param(&self) -> String {
        if self.descending {
            format!("-{}", self.field)
        } else {
            self.field.to_owned()
        }
    }
}

/// The longest search text.
pub const MAX_SEARCH: usize = 200;

/// A search text, lower-cased for matching without regard to case; `None`
/// when absent or empty. Refused: more than [`MAX_SEARCH`] characters, or
/// control characters.
pub fn search(raw: Option<&str>) -> Result<Option<String>> {
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    if raw.chars().count() > MAX_SEARCH || raw.chars().any(char::is_control) {
        return Err(Error::validation(
            "q",
            t_with("invalid-search", &[("max", Arg::from(MAX_SEARCH))]),
        ));
    }
    Ok(Some(raw.to_lowercase()))
}

/// Whether one of `texts` contains the (lower-cased) search text; every
/// text when there is none.
pub fn matches(wanted: Option<&str>, texts: &[&str]) -> bool {
    wanted.is_none_or(|w| texts.iter().any(|t| t.to_lowercase().contains(w)))
}

/// What a list is sorted by, per item.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Key {
    Int(i64),
    /// Compared without regard to case.
    Text(String),
}

impl Key {
    pub fn text(s: &str) -> Key {
        Key::Text(s.to_lowercase())
    }
}

/// Sorts a list held in memory by `key` of `sort`'s field; ties keep the
/// list's own order.
pub fn sort<T>(items: &mut [T], sort: Sort, key: impl Fn(&T, &str) -> Key) {
    items.sort_by(|a, b| {
        let order = key(a, sort.field).cmp(&key(b, sort.field));
        if sort.descending {
            order.reverse()
        } else {
            order
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_column_header_sorts_ascending_first_then_toggles() {
        let by_name = Sort::parse(None, &["id", "name"], "id")
            .unwrap()
            .toggle("name");
        assert_eq!(by_name.param(), "name");
        assert_eq!(by_name.toggle("name").param(), "-name");
        assert_eq!(by_name.toggle("name").toggle("name").param(), "name");
        assert_eq!(by_name.toggle("id").param(), "id");
    }

    #[test]
    fn search_text_is_one_short_line() {
        assert_eq!(search(Some("  ")).unwrap(), None);
        assert_eq!(search(Some("Amt")).unwrap().as_deref(), Some("amt"));
        assert!(search(Some(&"x".repeat(201))).is_err());
        assert!(search(Some("a\nb")).is_err());
        assert!(matches(Some("amt"), &["x", "Stadtamt"]));
        assert!(!matches(Some("amt"), &["x"]));
        assert!(matches(None, &[]));
    }
}
