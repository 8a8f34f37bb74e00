//! One convention for every list of the API (docs/api.md, "Lists"):
//! `limit` (1 to 200, default 50) and `cursor` (the `next` of the page
//! before) page it; `sort` names a field, with `-` in front for descending,
//! from the list's own choice; filters are query parameters named after the
//! field they narrow. The answer is `{"items": [...], "next": …, "total":
//! …}`, `next` being `null` on the last page.
//!
//! The cursor is opaque to clients. Here it is the number of items before
//! the page (the Revision, which only grows at its head, uses an entry id);
//! clients must not build one themselves, so that this can change.

use serde::{Deserialize, Serialize};
use utoipa::{
    IntoParams,
    openapi::{ObjectBuilder, Type, schema::Object},
};

use super::problem::Problem;
pub use crate::app::listing::{Key, MAX_SEARCH, Sort, search};
use crate::{
    app::listing,
    web::lang::{Arg, t, t_with},
};

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Paging {
    /// Items per page, 1 to 200 (default 50; empty: the default).
    #[param(pattern = "^([1-9][0-9]?|1[0-9]{2}|200)?$")]
    pub limit: Option<String>,
    /// Where the page starts: the `next` of the page before; the first page
    /// without it (or empty).
    #[param(schema_with = super::params::positive_or_empty)]
    pub cursor: Option<String>,
}

/// A list's query string: its own filters (and `sort`), and the paging.
#[derive(Debug, Default, Deserialize)]
pub struct Listed<F> {
    #[serde(flatten)]
    pub filter: F,
    #[serde(flatten)]
    pub paging: Paging,
}

/// The part of a list one page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub limit: i64,
    pub offset: i64,
}

impl Paging {
    pub fn limit(&self) -> Result<i64, Problem> {
        match self.limit.as_deref().map(str::trim) {
            None | Some("") => Ok(DEFAULT_LIMIT),
            Some(v) => match v.parse::<i64>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
                _ => Err(Problem::validation(
                    "limit",
                    whole_number_between(1, MAX_LIMIT),
                )),
            },
        }
    }

    /// The window of an offset-paged list.
    pub fn window(&self) -> Result<Window, Problem> {
        let limit = self.limit()?;
        let offset = match self.cursor.as_deref().map(str::trim) {
            None | Some("") => 0,
            // Any position is a page, past the end an empty one.
            Some(v) => v
                .parse::<i64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| Problem::validation("cursor", t("api-cursor-unknown")))?,
        };
        Ok(Window { limit, offset })
    }
}

impl Window {
    /// The cursor of the page after this one, when there is one.
    pub fn next(&self, total: i64) -> Option<String> {
        let end = self.offset.saturating_add(self.limit);
        (end < total).then(|| end.to_string())
    }
}

/// A page of a list. Its schema in the document is a concrete type per
/// list (`page_schema!`): utoipa inlines a generic's argument, which gives
/// generated clients a second, anonymous type for every item.
#[derive(Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// The cursor of the next page (`cursor=`); `null` on the last page.
    pub next: Option<String>,
    /// How many items match the filters, on all pages.
    pub total: i64,
}

/// Declares the document's type of a page of `$item`s: [`Page`]'s fields,
/// the items a reference to the item's schema. Schemathesis checks every
/// answer against it, so the two cannot drift apart unnoticed.
macro_rules! page_schema {
    ($name:ident => $item:ty) => {
        #[derive(utoipa::ToSchema)]
        #[allow(dead_code)]
        #[doc = "A page of a list (docs/api.md, \"Lists\")."]
        pub struct $name {
            pub items: Vec<$item>,
            /// The cursor of the next page (`cursor=`); `null` on the last page.
            #[schema(required = true)]
            pub next: Option<String>,
            /// How many items match the filters, on all pages.
            pub total: i64,
        }
    };
}
pub(crate) use page_schema;

/// The schema of a list's `sort` parameter: each field, and each with `-`.
pub fn sort_schema(fields: &[&str]) -> Object {
    // Empty is "not given", as for every query value here.
    let values: Vec<String> = std::iter::once(String::new())
        .chain(fields.iter().flat_map(|f| [f.to_string(), format!("-{f}")]))
        .collect();
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values))
        .description(Some(
            "Sortierung: ein Feld, mit „-“ davor absteigend; bei gleichem Wert nach Id.",
        ))
        .build()
}

/// The message on a field that wants a whole number from `min` to `max`
/// (written plainly, as the API takes it).
pub fn whole_number_between(min: i64, max: i64) -> String {
    t_with(
        "invalid-whole-number-range",
        &[
            ("min", Arg::from(min.to_string())),
            ("max", Arg::from(max.to_string())),
        ],
    )
}

/// An id given as a filter: a positive whole number.
pub fn id_filter(field: &str, raw: Option<&str>) -> Result<Option<i64>, Problem> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|id| *id > 0)
            .map(Some)
            .ok_or_else(|| Problem::validation(field, t("invalid-id"))),
    }
}

/// The schema of `q`: one line of at most 200 characters.
pub fn search_schema() -> utoipa::openapi::Schema {
    super::params::one_line(MAX_SEARCH)
}

/// Pages a list held in memory: sorted by `key` of `sort`'s field (ties
/// keep the list's own order), then the window's part of it.
pub fn page_of<T>(
    mut items: Vec<T>,
    sort: impl Into<Option<Sort>>,
    key: impl Fn(&T, &str) -> Key,
    window: Window,
) -> Page<T> {
    if let Some(sort) = sort.into() {
        listing::sort(&mut items, sort, key);
    }
    let total = items.len() as i64;
    let next = window.next(total);
    let items = items
        .into_iter()
        .skip(usize::try_from(window.offset).unwrap_or(usize::MAX))
        .take(usize::try_from(window.limit).unwrap_or(0))
        .collect();
    Page { items, next, total }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paging(limit: Option<&str>, cursor: Option<&str>) -> Paging {
        Paging {
            limit: limit.map(str::to_owned),
            cursor: cursor.map(str::to_owned),
        }
    }

    #[test]
    fn pages_follow_one_another_without_gap_or_overlap() {
        let all: Vec<i64> = (1..=7).collect();
        let sort = Sort::parse(Some("-id"), &["id"], "id").unwrap();
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let w = paging(Some("3"), cursor.as_deref()).window().unwrap();
            let page = page_of(all.clone(), sort, |v, _| Key::Int(*v), w);
            seen.extend(page.items);
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        assert_eq!(seen, [7, 6, 5, 4, 3, 2, 1]);
    }

    #[test]
    fn limits_cursors_and_sorts_outside_the_convention_are_refused() {
        assert!(paging(Some("0"), None).window().is_err());
        assert!(paging(Some("201"), None).window().is_err());
        assert!(paging(None, Some("abc")).window().is_err());
        assert!(paging(None, Some("-1")).window().is_err());
        assert!(paging(None, Some("0")).window().is_err());
        assert_eq!(paging(None, Some("")).window().unwrap().offset, 0);
        assert_eq!(paging(Some(""), None).window().unwrap().limit, 50);
        assert_eq!(paging(None, None).window().unwrap().limit, 50);
        assert!(Sort::parse(Some("name"), &["id"], "id").is_err());
        assert!(Sort::parse(Some("--id"), &["id"], "id").is_err());
        let s = Sort::parse(None, &["id", "name"], "-name").unwrap();
        assert_eq!((s.field, s.descending), ("name", true));
    }

    #[test]
    fn text_sorts_without_regard_to_case_and_ties_keep_their_order() {
        let items = vec![(1, "b"), (2, "A"), (3, "a")];
        let sort = Sort::parse(Some("name"), &["id", "name"], "id").unwrap();
        let w = paging(None, None).window().unwrap();
        let page = page_of(items, sort, |v, _| Key::text(v.1), w);
        assert_eq!(page.items, [(2, "A"), (3, "a"), (1, "b")]);
        assert_eq!(page.next, None);
    }
}
