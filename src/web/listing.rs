//! The Betreiber's lists on the pages (Buchungen, Kunden, Verträge): a
//! search field (`suche`), column headers that sort (`sortierung`, as the
//! API's `sort`: a field, `-` in front for descending; the GOV.UK sortable
//! table, done with links so it works without JavaScript) and the CSV
//! download of exactly the list shown. Search and sort are read by
//! `app::listing`, the same rules as the API's `q` and `sort`.

use super::lang::{t, t_with};
use serde::Deserialize;

use super::Url;
use crate::app::{
    FieldErrors,
    export::Format,
    listing::{self, Sort},
};

/// The query of a searchable, sortable list page.
#[derive(Debug, Default, Deserialize)]
pub struct ListParams {
    pub suche: Option<String>,
    pub sortierung: Option<String>,
    /// `rfc4180` for the machine CSV.
    pub format: Option<String>,
}

/// A list's search and order, read; what could not be read is in
/// `errors` (keyed `suche` / `sortierung`) and left at the default.
pub struct Listing {
    pub text: Option<String>,
    pub sort: Sort,
    pub errors: FieldErrors,
}

impl Listing {
    pub fn parse(
        suche: Option<&str>,
        sortierung: Option<&str>,
        fields: &[&'static str],
        default: &str,
    ) -> Listing {
        let mut errors = FieldErrors::default();
        let text = listing::search(suche).unwrap_or_else(|_| {
            errors.add(
                "suche",
                t_with(
                    "list-search-too-long",
                    &[("max", listing::MAX_SEARCH.into())],
                ),
            );
            None
        });
        let default_sort = Sort::parse(None, fields, default).expect("the default is a field");
        let sort = Sort::parse(sortierung, fields, default).unwrap_or_else(|_| {
            errors.add("sortierung", t("list-bad-sort"));
            default_sort
        });
        Listing { text, sort, errors }
    }

    /// The message a CSV download answers bad parameters with.
    pub fn refusal(&self) -> Option<String> {
        (!self.errors.is_empty()).then(|| {
            self.errors
                .0
                .iter()
                .map(|(_, m)| m.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        })
    }
}

/// The CSV format a download asks for, or the message refusing it.
pub fn format(raw: Option<&str>) -> Result<Format, String> {
    Format::parse(raw).ok_or_else(|| t("list-bad-format"))
}

/// A column header that sorts the list: its link sorts by the column,
/// ascending first, and the other way round when it is sorted by it.
pub struct Column {
    pub label: String,
    pub href: String,
    /// `aria-sort` of the column the list is sorted by.
    pub aria_sort: Option<&'static str>,
    pub numeric: bool,
}

impl Column {
    /// The header of `field` (its label the message `label`), with the
    /// address of the list sorted by it (`to` gives the address for a
    /// `sortierung` value).
    pub fn new(
        label: &str,
        field: &'static str,
        current: Sort,
        to: impl Fn(String) -> Url,
    ) -> Column {
        let aria_sort = (current.field == field).then_some(if current.descending {
            "descending"
        } else {
            "ascending"
        });
        Column {
            label: t(label),
            href: to(current.toggle(field).param()).to_string(),
            aria_sort,
            numeric: false,
        }
    }

    pub fn numeric(mut self) -> Column {
        self.numeric = true;
        self
    }
}
