//! Abrechnung: the month's statements per contract, one statement with chart,
//! sums and line items, and the CSV downloads for finance.

use askama::Template;
use axum::{
    Router,
    extract::{Path, Query, State},
    response::Response,
    routing::get,
};
use serde::Deserialize;

use super::{
    Layout, Nav, PageError, Route,
    chart::{self, Chart},
    format,
    lang::{Lang, Worded, t, t_with},
    render,
    session::PageUser,
    view::BudgetBar,
};
use crate::{
    app::error::Error,
    billing::{self, DayCost, Statement, Summary, csv as export, rating::hours_e4, statements},
    db::{self, metering::EnvironmentUsage},
    domain::{
        Cents, Resources, Stage,
        actor::Scope,
        billing::{LineItem, Month},
        policy,
    },
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(Route::Billing.pattern(), get(list))
        .route(Route::MonthCsv.pattern(), get(export_month))
        .route(Route::Statement.pattern(), get(show))
        .route(Route::StatementCsv.pattern(), get(export_contract))
}

pub struct MonthOption {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub struct SummaryRow {
    pub summary: Summary,
    pub budget: BudgetBar,
}

#[derive(Template)]
#[template(path = "billing.html")]
struct ListPage {
    layout: Layout,
    month: Month,
    months: Vec<MonthOption>,
    month_error: Option<String>,
    rows: Vec<SummaryRow>,
    total: Cents,
    can_export: bool,
}

#[derive(Deserialize)]
struct ListParams {
    monat: Option<String>,
}

/// The months a user can choose: from the earliest start of a visible
/// contract to now, newest first.
async fn month_options(
    state: &AppState,
    scope: Scope,
    selected: Month,
    now: i64,
) -> Result<Vec<MonthOption>, PageError> {
    let contracts = db::contracts::list(&state.db.pool, scope).await?;
    let mut months: Vec<Month> = contracts
        .iter()
        .flat_map(|k| statements::months_of(k, now))
        .collect();
    months.push(Month::containing(now));
    months.sort_unstable();
    months.dedup();
    months.reverse();
    Ok(months
        .into_iter()
        .map(|m| MonthOption {
            value: m.to_string(),
            label: format::month_in(Lang::current(), m),
            selected: m == selected,
        })
        .collect())
}

async fn list(
    State(state): State<AppState>,
    page: PageUser,
    Query(params): Query<ListParams>,
) -> Result<Response, PageError> {
    let user = &page.user;
    if !policy::allows(policy::read_billing(user)) {
        return Err(PageError::Forbidden);
    }
    let now = db::now();
    // A bad month in the address shows the current one with the reason
    // beside the selector, instead of an error page.
    let (month, month_error) = match params.monat.as_deref().filter(|m| !m.is_empty()) {
        None => (Month::containing(now), None),
        Some(m) => match statements::parse_month(m, now) {
            Ok(month) => (month, None),
            Err(Error::Validation(f)) => {
                (Month::containing(now), f.get("month").map(str::to_owned))
            }
            Err(e) => return Err(e.into()),
        },
    };
    let summaries = statements::summaries(&state.db.pool, user, month, now).await?;
    let total = Cents(summaries.iter().map(|s| s.total.0).sum());
    let rows = summaries
        .into_iter()
        .map(|summary| SummaryRow {
            budget: BudgetBar::new(&summary.budget, summary.closed_at.is_none()),
            summary,
        })
        .collect();
    render(&ListPage {
        layout: page.layout(t("nav-billing"), Nav::Billing),
        months: month_options(&state, user.scope(), month, now).await?,
        month,
        month_error,
        rows,
        total,
        can_export: policy::allows(policy::export_billing(user)),
    })
}

pub struct LineRow {
    pub no: usize,
    pub line: LineItem,
    pub from: String,
    pub to: String,
    pub hours: String,
    pub rate: String,
}

pub struct DayRow {
    pub date: String,
    pub cells: [Cents; 4],
    pub total: Cents,
}

/// Booked against measured for one environment, formatted.
pub struct UsageRow {
    pub application: String,
    pub stage: String,
    pub samples: String,
    pub vcpu: [String; 3],
    pub memory: [String; 3],
    pub storage: [String; 3],
    pub hints: Vec<String>,
}

fn usage_row(u: &EnvironmentUsage) -> UsageRow {
    let cpu = |r: &Resources| format::vcpu(r.millicpu);
    let mem = |r: &Resources| format::gib(r.memory_mib);
    let disk = |r: &Resources| format::count(r.storage_gib);
    UsageRow {
        application: u.application_name.clone(),
        stage: t(&u.stage.message_id()),
        samples: format::count(u.samples),
        vcpu: [cpu(&u.booked), cpu(&u.peak), cpu(&u.mean)],
        memory: [mem(&u.booked), mem(&u.peak), mem(&u.mean)],
        storage: [disk(&u.booked), disk(&u.peak), disk(&u.mean)],
        hints: u
            .hints
            .iter()
            .map(|h| {
                t_with(
                    "statement-smaller-hint",
                    &[
                        ("product", h.product_name.clone().into()),
                        ("from", h.from.as_str().into()),
                        ("booking", h.booking_id.to_string().into()),
                        ("to", h.to.as_str().into()),
                    ],
                )
            })
            .collect(),
    }
}

#[derive(Template)]
#[template(path = "statement.html")]
struct StatementPage {
    layout: Layout,
    statement: Statement,
    billing_model: String,
    budget: BudgetBar,
    lines: Vec<LineRow>,
    chart: Chart,
    days: Vec<DayRow>,
    stages: [Stage; 4],
    stand: String,
    can_export: bool,
    usage: Vec<UsageRow>,
}

fn parse_id(raw: &str) -> Result<i64, PageError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or(PageError::NotFound)
}

async fn show(
    State(state): State<AppState>,
    page: PageUser,
    Path((month, id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let now = db::now();
    let pool = &state.db.pool;
    let id = parse_id(&id)?;
    let k = statements::readable_contract(&state.db, &page.user, id).await?;
    let month = statements::parse_month(&month, now)?;
    let statement = statements::statement(pool, &k, month, now).await?;
    let daily: Vec<DayCost> = billing::daily_by_stage(&statement.lines, month);
    let usage = db::metering::month_usage(pool, k.id, month, now)
        .await?
        .iter()
        .map(usage_row)
        .collect();
    let lines = statement
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| LineRow {
            no: i + 1,
            from: crate::web::format::date_time(l.from),
            to: crate::web::format::date_time(l.to),
            hours: format::hours(hours_e4(l.seconds)),
            rate: l
                .rate
                .map(|r| format::number_in(Lang::current(), r.to_string()))
                .unwrap_or_default(),
            line: l.clone(),
        })
        .collect();
    let days = daily
        .iter()
        .filter(|d| d.total().0 > 0)
        .map(|d| DayRow {
            date: format::date(d.date),
            cells: d.by_stage,
            total: d.total(),
        })
        .collect();
    render(&StatementPage {
        layout: page.layout(
            t_with(
                "statement-title",
                &[
                    ("month", format::month_in(Lang::current(), month).into()),
                    ("number", k.number.clone().into()),
                ],
            ),
            Nav::Billing,
        ),
        billing_model: t(&k.billing_model.message_id()),
        budget: BudgetBar::new(
            &statement.budget,
            !statement.is_final() && month == Month::containing(now),
        ),
        chart: chart::daily(&daily),
        days,
        lines,
        stages: Stage::ALL,
        stand: crate::web::format::date_time(now),
        can_export: policy::allows(policy::export_billing(&page.user)),
        usage,
        statement,
    })
}

#[derive(Deserialize)]
struct FormatParams {
    format: Option<String>,
}

async fn export_contract(
    State(state): State<AppState>,
    page: PageUser,
    Path((month, id)): Path<(String, String)>,
    Query(params): Query<FormatParams>,
) -> Result<export::Export, PageError> {
    let id = parse_id(&id)?;
    let format = params.format.as_deref();
    Ok(export::start(&state.db, &page.user, Some(id), &month, format, db::now()).await?)
}

async fn export_month(
    State(state): State<AppState>,
    page: PageUser,
    Path(month): Path<String>,
    Query(params): Query<FormatParams>,
) -> Result<export::Export, PageError> {
    let format = params.format.as_deref();
    Ok(export::start(&state.db, &page.user, None, &month, format, db::now()).await?)
}
