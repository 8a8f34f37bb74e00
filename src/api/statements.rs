//! Billing in the API: monthly statements per contract, the budget watch,
//! and the finance exports as CSV.

use axum::{Json, Router, extract::State, routing::get};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    extract::{ApiQuery, ApiUser, PathId, PathParams, path_id},
    problem::Problem,
};
use crate::{
    billing::{
        BudgetWatch, Statement, Summary, csv as export,
        rating::hours_e4,
        statements::{self},
    },
    db,
    domain::{
        Stage,
        billing::{LineItem, Month},
        calendar::rfc3339,
        money::format_plain,
        policy,
    },
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/statements", get(list))
        .route("/statements/{month}/csv", get(export_month))
        .route("/contracts/{id}/statements/{month}", get(show))
        .route(
            "/contracts/{id}/statements/{month}/csv",
            get(export_contract),
        )
        .route("/contracts/{id}/budget", get(budget))
}

/// The month's cost against the Kontingent's monthly budget.
#[derive(Serialize, ToSchema)]
pub struct BudgetView {
    /// `YYYY-MM`.
    pub month: String,
    /// Cost of the month up to now (for a past month: its total), base fee
    /// included.
    pub cost_so_far_cents: i64,
    /// Cost to the end of the month if the active bookings keep running.
    pub forecast_cents: i64,
    pub monthly_budget_cents: i64,
    /// Percent of the budget, rounded down.
    pub cost_so_far_percent: i64,
    pub forecast_percent: i64,
    /// `ok`, `warnung` (80 % or more) or `ueberschritten` (100 % or more),
    /// from the forecast.
    pub level: String,
}

pub fn budget_view(w: &BudgetWatch) -> BudgetView {
    BudgetView {
        month: w.month.to_string(),
        cost_so_far_cents: w.so_far.0,
        forecast_cents: w.forecast.0,
        monthly_budget_cents: w.budget.0,
        cost_so_far_percent: w.so_far_percent(),
        forecast_percent: w.forecast_percent(),
        level: w.level().as_str().into(),
    }
}

fn status(closed_at: Option<i64>) -> &'static str {
    if closed_at.is_some() {
        "endgueltig"
    } else {
        "vorlaeufig"
    }
}

#[derive(Serialize, ToSchema)]
pub struct StatementSummary {
    pub contract_id: i64,
    pub contract_number: String,
    pub customer_id: i64,
    pub customer_name: String,
    /// `YYYY-MM`.
    pub month: String,
    /// `vorlaeufig` (open month, rated live) or `endgueltig` (closed, final).
    pub status: String,
    /// When the month was closed (RFC 3339).
    pub closed_at: Option<String>,
    pub total_cents: i64,
    pub line_count: i64,
    pub budget: BudgetView,
}

fn summary_view(s: &Summary) -> StatementSummary {
    StatementSummary {
        contract_id: s.header.contract_id,
        contract_number: s.header.contract_number.clone(),
        customer_id: s.header.customer_id,
        customer_name: s.header.customer_name.clone(),
        month: s.month.to_string(),
        status: status(s.closed_at).into(),
        closed_at: s.closed_at.map(rfc3339),
        total_cents: s.total.0,
        line_count: s.line_count,
        budget: budget_view(&s.budget),
    }
}

#[derive(Serialize, ToSchema)]
pub struct StatementList {
    pub month: String,
    pub statements: Vec<StatementSummary>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MonthQuery {
    /// `YYYY-MM`; the current month if absent.
    #[param(schema_with = super::params::month)]
    pub month: Option<String>,
}

/// The statements of a month for every contract the caller may see.
#[utoipa::path(get, path = "/api/v1/statements", tag = "Abrechnung",
    params(MonthQuery),
    responses(
        (status = 200, body = StatementList),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "`validation` for `month`: a month that has not begun, or one in which the contract is not valid (the request is well-formed; the calendar refuses it)"),
    ))]
pub async fn list(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiQuery(q): ApiQuery<MonthQuery>,
) -> Result<Json<StatementList>, Problem> {
    let now = db::now();
    if !policy::allows(policy::read_billing(&user)) {
        return Err(crate::app::error::Error::Forbidden.into());
    }
    let month = match q.month.as_deref() {
        Some(m) => statements::parse_month(m, now).map_err(refused(well_formed(m, None)))?,
        None => Month::containing(now),
    };
    let all = statements::summaries(&state.db.pool, &user, month, now).await?;
    Ok(Json(StatementList {
        month: month.to_string(),
        statements: all.iter().map(summary_view).collect(),
    }))
}

/// Whether a month (and a CSV format) are as the document describes them.
fn well_formed(month: &str, format: Option<&str>) -> bool {
    Month::parse(month).is_some() && crate::app::export::Format::parse(format).is_some()
}

/// The answer to a refusal: for a well-formed month, what is still refused
/// (a month that has not begun) is the calendar's doing, not the request's:
/// 409 with the same message. Otherwise as usual (422 for a malformed one).
fn refused(well_formed: bool) -> impl FnOnce(crate::app::Error) -> Problem {
    move |e| {
        if well_formed {
            Problem::refused_by_state(e)
        } else {
            e.into()
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct LineView {
    /// 1, 2, … in statement order.
    pub position: usize,
    /// `nutzung` (a booking's usage) or `grundgebuehr` (the base fee).
    pub kind: String,
    pub booking_id: Option<i64>,
    pub application: String,
    pub stage: Option<Stage>,
    pub product: String,
    pub size: Option<crate::domain::Size>,
    /// RFC 3339.
    pub from: String,
    /// RFC 3339, exclusive.
    pub to: String,
    pub seconds: i64,
    /// Hours as an exact-enough decimal string with four places.
    pub hours: String,
    /// EUR per hour as a decimal string with four places (`0.1200`); none
    /// for the base fee.
    pub price_per_hour: Option<String>,
    pub amount_cents: i64,
}

fn line_view(position: usize, l: &LineItem) -> LineView {
    LineView {
        position,
        kind: l.kind.as_str().into(),
        booking_id: l.booking_id,
        application: l.application_name.clone(),
        stage: l.stage,
        product: l.product_name.clone(),
        size: l.size,
        from: rfc3339(l.from),
        to: rfc3339(l.to),
        seconds: l.seconds,
        hours: format_plain(hours_e4(l.seconds), 4, '.'),
        price_per_hour: l.rate.map(|r| r.to_decimal_string()),
        amount_cents: l.amount.0,
    }
}

#[derive(Serialize, ToSchema)]
pub struct StageTotal {
    pub stage: Stage,
    pub amount_cents: i64,
}

#[derive(Serialize, ToSchema)]
pub struct NamedTotal {
    pub name: String,
    pub amount_cents: i64,
}

#[derive(Serialize, ToSchema)]
pub struct TotalsView {
    /// The exact sum of all lines.
    pub total_cents: i64,
    pub base_fee_cents: i64,
    pub by_stage: Vec<StageTotal>,
    pub by_application: Vec<NamedTotal>,
    pub by_product: Vec<NamedTotal>,
}

#[derive(Serialize, ToSchema)]
pub struct StatementView {
    pub contract_id: i64,
    pub contract_number: String,
    pub contract_title: String,
    pub customer_id: i64,
    pub customer_name: String,
    pub kostenstelle: String,
    pub haushaltsstelle: String,
    pub leitweg_id: String,
    pub month: String,
    pub status: String,
    pub closed_at: Option<String>,
    pub totals: TotalsView,
    pub lines: Vec<LineView>,
    pub budget: BudgetView,
}

pub fn statement_view(s: &Statement) -> StatementView {
    let h = &s.header;
    let named = |v: &[(String, crate::domain::Cents)]| {
        v.iter()
            .map(|(name, c)| NamedTotal {
                name: name.clone(),
                amount_cents: c.0,
            })
            .collect()
    };
    StatementView {
        contract_id: h.contract_id,
        contract_number: h.contract_number.clone(),
        contract_title: h.contract_title.clone(),
        customer_id: h.customer_id,
        customer_name: h.customer_name.clone(),
        kostenstelle: h.kostenstelle.clone(),
        haushaltsstelle: h.haushaltsstelle.clone(),
        leitweg_id: h.leitweg_id.clone(),
        month: s.month.to_string(),
        status: status(s.closed_at).into(),
        closed_at: s.closed_at.map(rfc3339),
        totals: TotalsView {
            total_cents: s.totals.total.0,
            base_fee_cents: s.totals.base_fee.0,
            by_stage: s
                .totals
                .by_stage
                .iter()
                .map(|(stage, c)| StageTotal {
                    stage: *stage,
                    amount_cents: c.0,
                })
                .collect(),
            by_application: named(&s.totals.by_application),
            by_product: named(&s.totals.by_product),
        },
        lines: s
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| line_view(i + 1, l))
            .collect(),
        budget: budget_view(&s.budget),
    }
}

/// One contract's statement of a month, with line items and totals.
#[utoipa::path(get, path = "/api/v1/contracts/{id}/statements/{month}", tag = "Abrechnung",
    params(
        ("id" = i64, Path, description = "Vertrags-Id"),
        ("month" = String, Path, description = "Monat, JJJJ-MM", pattern = r"^20[0-9]{2}-(0[1-9]|1[0-2])$"),
    ),
    responses(
        (status = 200, body = StatementView),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "`validation` for `month`: a month that has not begun, or one in which the contract is not valid (the request is well-formed; the calendar refuses it)"),
    ))]
pub async fn show(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    params: PathParams,
) -> Result<Json<StatementView>, Problem> {
    let now = db::now();
    let id = path_id(params.get("id"))?;
    let pool = &state.db.pool;
    // The contract first: another tenant's id is 404 whatever the month.
    let k = statements::readable_contract(&state.db, &user, id).await?;
    let raw = params.get("month");
    let month = statements::parse_month(raw, now).map_err(refused(well_formed(raw, None)))?;
    let s = statements::statement(pool, &k, month, now)
        .await
        .map_err(refused(well_formed(raw, None)))?;
    Ok(Json(statement_view(&s)))
}

/// The current month's cost so far, forecast and budget of a contract.
#[utoipa::path(get, path = "/api/v1/contracts/{id}/budget", tag = "Abrechnung",
    params(("id" = i64, Path, description = "Vertrags-Id")),
    responses(
        (status = 200, body = BudgetView),
    ))]
pub async fn budget(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    PathId(id): PathId,
) -> Result<Json<BudgetView>, Problem> {
    let now = db::now();
    let pool = &state.db.pool;
    let k = statements::readable_contract(&state.db, &user, id).await?;
    let w = crate::billing::live::Live::read(pool, std::slice::from_ref(&k), now)
        .await?
        .budget(&k, now);
    Ok(Json(budget_view(&w)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FormatQuery {
    /// `rfc4180` for `,` and a decimal point; German spreadsheet format
    /// (`;`, decimal comma, BOM) if absent.
    #[param(schema_with = super::params::csv_format)]
    pub format: Option<String>,
}

/// One contract's statement of a month as CSV (Finanzen and Betreiber).
#[utoipa::path(get, path = "/api/v1/contracts/{id}/statements/{month}/csv", tag = "Abrechnung",
    params(
        ("id" = i64, Path, description = "Vertrags-Id"),
        ("month" = String, Path, description = "Monat, JJJJ-MM", pattern = r"^20[0-9]{2}-(0[1-9]|1[0-2])$"),
        FormatQuery,
    ),
    responses(
        (status = 200, content_type = "text/csv", body = String,
         description = "Eine Zeile je Position; Spalten siehe docs/billing.md"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "`validation` for `month`: a month that has not begun, or one in which the contract is not valid (the request is well-formed; the calendar refuses it)"),
    ))]
pub async fn export_contract(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    params: PathParams,
    ApiQuery(q): ApiQuery<FormatQuery>,
) -> Result<export::Export, Problem> {
    let id = path_id(params.get("id"))?;
    let month = params.get("month");
    let format = q.format.as_deref();
    export::start(&state.db, &user, Some(id), month, format, db::now())
        .await
        .map_err(refused(well_formed(month, format)))
}

/// All statements of a month the caller may see, as one CSV (Finanzen and
/// Betreiber).
#[utoipa::path(get, path = "/api/v1/statements/{month}/csv", tag = "Abrechnung",
    params(
        ("month" = String, Path, description = "Monat, JJJJ-MM", pattern = r"^20[0-9]{2}-(0[1-9]|1[0-2])$"),
        FormatQuery,
    ),
    responses(
        (status = 200, content_type = "text/csv", body = String,
         description = "Eine Zeile je Position; Spalten siehe docs/billing.md"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "`validation` for `month`: a month that has not begun, or one in which the contract is not valid (the request is well-formed; the calendar refuses it)"),
    ))]
pub async fn export_month(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    params: PathParams,
    ApiQuery(q): ApiQuery<FormatQuery>,
) -> Result<export::Export, Problem> {
    let month = params.get("month");
    let format = q.format.as_deref();
    export::start(&state.db, &user, None, month, format, db::now())
        .await
        .map_err(refused(well_formed(month, format)))
}
