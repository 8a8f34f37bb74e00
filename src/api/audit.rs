//! The Revision in the API: the entries the caller reads, filtered and
//! paged by cursor, and the same selection as CSV or JSON Lines; the
//! Betreiber's check of the hash chain.
//!
//! Another customer's `customer_id` narrows the answer to nothing (200 with
//! no items), as every list filter does: a filter never widens what the
//! caller sees, and an empty answer tells nothing about whether that
//! customer exists.

use axum::{
    Json, Router,
    extract::State,
    routing::{get, post},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    extract::{ApiQuery, ApiUser},
    paging::Paging,
    problem::Problem,
};
use crate::{
    app::{
        export::{Export, Format},
        revision::{self, EntryView, ExportKind, RawFilter},
    },
    db::{self, audit::Filter},
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/audit", get(list))
        .route("/audit/csv", get(export_csv))
        .route("/audit/jsonl", get(export_jsonl))
        .route("/audit/verify", post(verify))
}

/// The filters of the Revision; all optional, all must hold.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditFilter {
    /// From this day (`JJJJ-MM-TT`, German time, inclusive) or instant
    /// (RFC 3339, inclusive).
    #[param(schema_with = super::params::day_or_instant)]
    from: Option<String>,
    /// To this day (`JJJJ-MM-TT`, the whole day included) or before this
    /// instant (RFC 3339, exclusive).
    #[param(schema_with = super::params::day_or_instant)]
    to: Option<String>,
    /// Only this customer's entries (Betreiber); another customer's id
    /// gives nothing.
    #[param(schema_with = super::params::positive_or_empty)]
    customer_id: Option<String>,
    /// E.g. `booking`, `contract`, `promotion`.
    #[param(pattern = "^([a-z0-9_]{1,60})?$")]
    object_type: Option<String>,
    #[param(schema_with = super::params::positive_or_empty)]
    object_id: Option<String>,
    /// E.g. `booking.resized`.
    #[param(pattern = r"^([a-z0-9_]{1,60}\.[a-z0-9_]{1,60})?$")]
    action: Option<String>,
    /// A part of the acting person's name or login, any case.
    #[param(schema_with = search_text)]
    actor: Option<String>,
    /// Free text: a part of the person, the action, its German label or
    /// the recorded values, any case.
    #[param(schema_with = search_text)]
    q: Option<String>,
}

/// `actor` and `q`: one line of at most 200 characters (`MAX_SEARCH`).
fn search_text() -> utoipa::openapi::Schema {
    super::params::one_line(200)
}

impl AuditFilter {
    fn parse(&self) -> Result<Filter, Problem> {
        Ok(revision::parse_filter(&RawFilter {
            from: self.from.as_deref(),
            to: self.to.as_deref(),
            customer_id: self.customer_id.as_deref(),
            object_type: self.object_type.as_deref(),
            object_id: self.object_id.as_deref(),
            action: self.action.as_deref(),
            actor: self.actor.as_deref(),
            q: self.q.as_deref(),
        })?)
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportFormat {
    /// `rfc4180` for `,`; German spreadsheet format (`;`, BOM) if absent.
    #[param(schema_with = super::params::csv_format)]
    format: Option<String>,
}

/// A page of the Revision, newest first.
#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<EntryView>,
    /// The cursor of the next (older) page; `null` on the last page.
    pub next: Option<String>,
}

/// Both query structs of the list, read from one query string.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(flatten)]
    filter: AuditFilter,
    #[serde(flatten)]
    paging: Paging,
}

/// Entries of the Revision the caller reads (the Betreiber all; a
/// customer's Systempfleger:in, Verfahrensverantwortliche:r and Finanzen
/// those about their customer), newest first, each with its German
/// sentence, the changed values in display words, the values as recorded
/// and its place in the hash chain.
#[utoipa::path(get, path = "/api/v1/audit", tag = "Revision",
    params(AuditFilter, Paging),
    responses(
        (status = 200, body = AuditPage),
    ))]
pub async fn list(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<AuditPage>, Problem> {
    let filter = q.filter.parse()?;
    let limit = q.paging.limit()?;
    let start = revision::parse_cursor(q.paging.cursor.as_deref())?;
    let page = revision::list(&state.db, &user, &filter, start, limit).await?;
    let next = page
        .older
        .then(|| page.rows.last().map(|r| r.id.to_string()))
        .flatten();
    Ok(Json(AuditPage {
        items: page
            .rows
            .iter()
            .map(|r| revision::view(r, &page.names))
            .collect(),
        next,
    }))
}

/// The Revision as CSV: every entry of the selection, oldest first, with
/// its sentence, the changes, the values as recorded and its place in the
/// hash chain (columns: docs/revision.md). Streamed.
#[utoipa::path(get, path = "/api/v1/audit/csv", tag = "Revision",
    params(AuditFilter, ExportFormat),
    responses(
        (status = 200, content_type = "text/csv", body = String,
         description = "Eine Zeile je Eintrag; Spalten siehe docs/revision.md"),
    ))]
pub async fn export_csv(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiQuery(q): ApiQuery<CsvQuery>,
) -> Result<Export, Problem> {
    let filter = q.filter.parse()?;
    let format = Format::parse(q.format.format.as_deref())
        .ok_or_else(|| Problem::validation("format", crate::i18n::t("api-unknown-csv-format")))?;
    Ok(revision::export(&state.db, &user, filter, ExportKind::Csv(format), db::now()).await?)
}

#[derive(Debug, Default, Deserialize)]
pub struct CsvQuery {
    #[serde(flatten)]
    filter: AuditFilter,
    #[serde(flatten)]
    format: ExportFormat,
}

/// The Revision as JSON Lines: one entry per line, oldest first, each as
/// an item of `GET /api/v1/audit`. Streamed.
#[utoipa::path(get, path = "/api/v1/audit/jsonl", tag = "Revision",
    params(AuditFilter),
    responses(
        (status = 200, content_type = "application/jsonl", body = String,
         description = "Ein Eintrag (wie `items` von /api/v1/audit) je Zeile"),
    ))]
pub async fn export_jsonl(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiQuery(q): ApiQuery<AuditFilter>,
) -> Result<Export, Problem> {
    let filter = q.parse()?;
    Ok(revision::export(&state.db, &user, filter, ExportKind::JsonLines, db::now()).await?)
}

/// The outcome of a check of the hash chain.
#[derive(Serialize, ToSchema)]
pub struct Verification {
    /// No entry altered, deleted or inserted since the retention checkpoint.
    pub intact: bool,
    /// Entries checked.
    pub entries: i64,
    /// Position and hash of the last entry checked (note them: a later
    /// check proves nothing before them was changed).
    pub head_seq: i64,
    pub head_hash: String,
    /// The first problem, in German, naming the entry.
    pub problem: Option<String>,
    /// The entry the problem is about, when it can be told.
    pub audit_id: Option<i64>,
}

/// Checks the Revision's hash chain now (Betreiber), as `kontor audit
/// verify` does on the server; the check is recorded. A broken chain is
/// still a 200: the answer is the finding.
#[utoipa::path(post, path = "/api/v1/audit/verify", tag = "Revision",
    responses(
        (status = 200, body = Verification),
    ))]
pub async fn verify(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
) -> Result<Json<Verification>, Problem> {
    let verdict = revision::chain::verify_as(&state.db, &user, db::now()).await?;
    Ok(Json(Verification {
        intact: verdict.intact(),
        entries: verdict.entries,
        head_seq: verdict.head_seq,
        head_hash: verdict.head_hash,
        problem: verdict.problem.as_ref().map(|p| p.message()),
        audit_id: verdict.problem.as_ref().and_then(|p| p.audit_id()),
    }))
}
