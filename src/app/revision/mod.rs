//! The Revision: reading the audit log (filtered, paged by cursor, each
//! entry as a sentence with its before/after values, in the request's
//! language), exporting it (CSV in both formats, JSON Lines; German), and
//! its hash chain (`chain`: verify, retention, chaining older entries).
//!
//! Who reads what is `policy::read_audit`: the Betreiber everything, a
//! customer's Systempfleger:in, Verfahrensverantwortliche:r and Finanzen
//! the entries about their customer. Asking for another customer's entries
//! narrows the result to nothing, as every list does.

pub mod chain;
mod exports;

use serde::Serialize;

pub use exports::{
    COLUMNS as CSV_COLUMNS, Kind as ExportKind, spawn as spawn_export, start as export,
};

use super::{Error, FieldErrors, Result};
use crate::{
    db::{
        self, Db,
        audit::{AuditRow, Filter, Start},
    },
    domain::{
        actor::{CurrentUser, Scope, Via},
        audit::{self, Described, Names, Recorded},
        calendar::{berlin_midnight, parse_date, rfc3339},
        policy,
        text::Text,
    },
    i18n::t,
};

/// The filters as they arrive (query parameters of the API and the page),
/// not yet parsed.
#[derive(Debug, Clone, Default)]
pub struct RawFilter<'a> {
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    pub customer_id: Option<&'a str>,
    pub object_type: Option<&'a str>,
    pub object_id: Option<&'a str>,
    pub action: Option<&'a str>,
    pub actor: Option<&'a str>,
    pub q: Option<&'a str>,
}

/// Longest text of the person and free-text filters.
const MAX_SEARCH: usize = 200;

fn present(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|v| !v.is_empty())
}

/// An instant from `YYYY-MM-DD` (the start of that day in Germany, or of
/// the next day for the end of a period, so that the day is included) or
/// RFC 3339.
fn instant(raw: &str, end: bool) -> Option<i64> {
    if let Some(date) = parse_date(raw) {
        let day = if end { date.tomorrow().ok()? } else { date };
        return Some(berlin_midnight(day));
    }
    raw.parse::<jiff::Timestamp>().ok().map(|t| t.as_second())
}

/// An id of the log's vocabulary: lower-case letters, digits and `_`,
/// with one `.` between the parts of an action.
fn vocabulary(raw: &str, dotted: bool) -> bool {
    let parts: Vec<&str> = raw.split('.').collect();
    parts.len() == if dotted { 2 } else { 1 }
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.len() <= 60
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        })
}

/// Parses the filters; every message is keyed by the API's parameter name.
pub fn parse_filter(raw: &RawFilter<'_>) -> Result<Filter> {
    let mut errors = FieldErrors::default();
    let mut filter = Filter::default();
    let date_message = t("audit-filter-date");
    if let Some(v) = present(raw.from) {
        match instant(v, false) {
            Some(at) => filter.from = Some(at),
            None => errors.add("from", date_message.clone()),
        }
    }
    if let Some(v) = present(raw.to) {
        match instant(v, true) {
            Some(at) => filter.until = Some(at),
            None => errors.add("to", date_message),
        }
    }
    if let (Some(from), Some(until)) = (filter.from, filter.until)
        && until <= from
    {
        errors.add("to", t("audit-filter-end-before-start"));
    }
    for (field, raw, slot) in [
        ("customer_id", raw.customer_id, &mut filter.customer_id),
        ("object_id", raw.object_id, &mut filter.object_id),
    ] {
        if let Some(v) = present(raw) {
            match v.parse::<i64>() {
                Ok(id) if id > 0 => *slot = Some(id),
                _ => errors.add(field, t("audit-filter-positive")),
            }
        }
    }
    if let Some(v) = present(raw.object_type) {
        if vocabulary(v, false) {
            filter.object_type = Some(v.to_owned());
        } else {
            errors.add("object_type", t("audit-filter-object-type"));
        }
    }
    if let Some(v) = present(raw.action) {
        if vocabulary(v, true) {
            filter.action = Some(v.to_owned());
        } else {
            errors.add("action", t("audit-filter-action"));
        }
    }
    for (field, raw, slot) in [
        ("actor", raw.actor, &mut filter.actor),
        ("q", raw.q, &mut filter.text),
    ] {
        match Text::optional(raw.unwrap_or_default(), MAX_SEARCH) {
            Ok(text) => *slot = text.map(|t| t.as_str().to_owned()),
            Err(e) => errors.add(field, e.to_string()),
        }
    }
    // The free text also finds the actions whose label contains it, in
    // German or English, whichever the reader's language: an auditor
    // searches in the words of the German exports, a colleague in those of
    // the English page, and a search must not find less because of the
    // language switch.
    if let Some(text) = &filter.text {
        filter.text_actions = audit::actions_labelled(text);
    }
    errors.into_result()?;
    Ok(filter)
}

/// One recorded change of a field, in display words.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FieldView {
    /// The field's label in the request's language, e.g. `Größe`, `Size`.
    pub field: String,
    /// The value before, in display words; absent when not recorded.
    pub before: Option<String>,
    pub after: Option<String>,
}

/// An entry's place in the hash chain.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChainLink {
    /// Position in the chain (1, 2, …; without gaps).
    pub seq: i64,
    /// The hash of the entry before (64 hex digits; zeros for the first).
    pub prev_hash: String,
    /// SHA-256 over this entry's content and `prev_hash` (docs/revision.md).
    pub hash: String,
}

/// One entry of the Revision, as the API and the JSON Lines export give it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EntryView {
    pub id: i64,
    /// RFC 3339, UTC.
    pub at: String,
    /// The same instant in Unix seconds (what the hash covers).
    pub at_unix: i64,
    /// The acting person as recorded (`Name (login)`), or Kontor itself.
    pub actor: String,
    pub actor_user_id: Option<i64>,
    /// The OpenID provider's subject of the person, if they came through it.
    pub actor_subject: Option<String>,
    /// How the person reached Kontor.
    pub via: Via,
    /// The customer the entry is about; none for the provider's own
    /// objects (catalogue, prices).
    pub customer_id: Option<i64>,
    pub customer: Option<String>,
    /// E.g. `booking.resized`.
    pub action: String,
    /// In the request's language, e.g. `Größe geändert`, `size changed`.
    pub action_label: String,
    /// E.g. `booking`.
    pub object_type: String,
    pub object_id: i64,
    /// The entry as a sentence in the request's language (German in the
    /// JSON Lines export).
    pub sentence: String,
    /// The changed fields (all fields of a creation), in display words.
    pub changes: Vec<FieldView>,
    /// The recorded values before and after, exactly as stored (JSON
    /// text; the hash covers this text).
    pub before_json: Option<String>,
    pub after_json: Option<String>,
    /// Absent for an entry that is not in the chain.
    pub chain: Option<ChainLink>,
}

/// An entry described for people.
pub fn describe(row: &AuditRow, names: &Names) -> Described {
    audit::describe(
        &Recorded {
            actor: &row.actor,
            action: &row.action,
            object_type: &row.object_type,
            object_id: row.object_id,
            before_json: row.before_json.as_deref(),
            after_json: row.after_json.as_deref(),
        },
        names,
    )
}

pub fn view(row: &AuditRow, names: &Names) -> EntryView {
    let d = describe(row, names);
    EntryView {
        id: row.id,
        at: rfc3339(row.at),
        at_unix: row.at,
        actor: row.actor.clone(),
        actor_user_id: row.actor_user_id,
        actor_subject: row.actor_subject.clone(),
        via: row.via,
        customer_id: row.customer_id,
        customer: row.customer_name.clone(),
        action: row.action.clone(),
        action_label: d.action.clone(),
        object_type: row.object_type.clone(),
        object_id: row.object_id,
        sentence: d.sentence,
        changes: d
            .fields
            .into_iter()
            .map(|f| FieldView {
                field: f.label,
                before: f.before,
                after: f.after,
            })
            .collect(),
        before_json: row.before_json.clone(),
        after_json: row.after_json.clone(),
        chain: match (row.chain_seq, &row.prev_hash, &row.entry_hash) {
            (Some(seq), Some(prev), Some(hash)) => Some(ChainLink {
                seq,
                prev_hash: prev.clone(),
                hash: hash.clone(),
            }),
            _ => None,
        },
    }
}

/// A page of entries, newest first.
pub struct Page {
    pub rows: Vec<AuditRow>,
    /// Whether there are older entries after this page.
    pub older: bool,
    /// Whether there are newer entries before this page.
    pub newer: bool,
    /// What the ids on the page refer to.
    pub names: Names,
    /// Whose entries the person reads.
    pub scope: Scope,
}

/// Entries the person may read, matching `filter`, from `start`: up to
/// `limit`, newest first.
pub async fn list(
    db: &Db,
    user: &CurrentUser,
    filter: &Filter,
    start: Start,
    limit: i64,
) -> Result<Page> {
    let scope = policy::read_audit(user)?;
    let limit = limit.clamp(1, db::audit::MAX_LIMIT - 1);
    let mut rows = db::audit::list(&db.pool, scope, filter, start, limit + 1).await?;
    let more = rows.len() as i64 > limit;
    let (older, newer) = match start {
        Start::Newest => (more, false),
        Start::Before(_) => (more, true),
        Start::After(_) => (true, more),
    };
    if more {
        match start {
            // Newest first: the extra row is the oldest, at the end …
            Start::Newest | Start::Before(_) => {
                rows.pop();
            }
            // … or, going back to newer entries, the newest, at the start.
            Start::After(_) => {
                rows.remove(0);
            }
        }
    }
    let names = db::audit::names_for(&db.pool, scope, &referenced(&rows)).await?;
    Ok(Page {
        rows,
        older,
        newer,
        names,
        scope,
    })
}

/// The entries about one object, oldest first, described: the history on
/// the object's own page. Whoever sees the object reads them (the caller
/// has checked that), also a developer on a booking's page, since they are
/// about nothing but that object.
pub async fn of_object(
    db: &Db,
    user: &CurrentUser,
    object_type: &str,
    object_id: i64,
) -> Result<Vec<(AuditRow, Described)>> {
    let rows = db::audit::for_object(&db.pool, object_type, object_id).await?;
    let names = db::audit::names_for(&db.pool, user.scope(), &referenced(&rows)).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let d = describe(&r, &names);
            (r, d)
        })
        .collect())
}

/// What the rows' recorded values refer to.
fn referenced(rows: &[AuditRow]) -> audit::Referenced {
    let mut r = audit::Referenced::default();
    for row in rows {
        r.add(row.before_json.as_deref(), row.after_json.as_deref());
    }
    r
}

/// A cursor of the API: the id of the last entry of the page before.
pub fn parse_cursor(raw: Option<&str>) -> Result<Start> {
    match present(raw) {
        None => Ok(Start::Newest),
        Some(v) => match v.parse::<i64>() {
            Ok(id) if id > 0 => Ok(Start::Before(id)),
            _ => Err(Error::validation("cursor", t("audit-filter-cursor"))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> RawFilter<'static> {
        RawFilter::default()
    }

    #[test]
    fn a_day_as_the_end_of_a_period_includes_that_day() {
        let f = parse_filter(&RawFilter {
            from: Some("2026-12-01"),
            to: Some("2026-12-01"),
            ..raw()
        })
        .unwrap();
        assert_eq!(f.until.unwrap() - f.from.unwrap(), 86_400);
    }

    #[test]
    fn bad_filters_are_named() {
        let Err(Error::Validation(e)) = parse_filter(&RawFilter {
            from: Some("gestern"),
            customer_id: Some("-3"),
            object_type: Some("Buchung; DROP"),
            action: Some("booking"),
            q: Some("a\u{0}b"),
            ..raw()
        }) else {
            panic!("refused")
        };
        for field in ["from", "customer_id", "object_type", "action", "q"] {
            assert!(e.get(field).is_some(), "{field}: {e:?}");
        }
    }

    #[test]
    fn the_free_text_also_finds_actions_by_their_german_label() {
        let f = parse_filter(&RawFilter {
            q: Some("Gekündigt"),
            ..raw()
        })
        .unwrap();
        assert_eq!(f.text_actions, ["booking.cancelled"]);
    }

    #[test]
    fn an_end_before_the_start_is_refused() {
        assert!(
            parse_filter(&RawFilter {
                from: Some("2026-12-02"),
                to: Some("2026-12-01"),
                ..raw()
            })
            .is_err()
        );
    }
}
