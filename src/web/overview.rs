//! Übersicht: a customer's applications × stages with their bookings, and the
//! Kontingent of each contract as bars with numbers.

use askama::Template;
use axum::{
    Router,
    extract::{Query, State},
    response::Response,
    routing::get,
};
use serde::Deserialize;

use super::{
    Layout, Nav, PageError, Route, Url, render,
    session::PageUser,
    view::{BudgetBar, UsageBar, usage_bars},
};
use crate::{
    billing::live::Live,
    db::{self, applications::Application, contracts::Contract, customers::Customer},
    domain::actor::Scope,
    domain::{BookingState, Size, Stage, kontingent::Commitment},
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new().route(Route::Overview.pattern(), get(show))
}

pub struct ContractView {
    pub contract: Contract,
    pub bars: Vec<UsageBar>,
    pub valid_now: bool,
    /// This month's cost against the budget, for those who may see money.
    pub budget: Option<BudgetBar>,
    /// The request form for more, for whoever may ask.
    pub request: Option<Url>,
}

/// A booking as one line of the matrix.
#[derive(Debug, Clone)]
pub struct Compact {
    pub id: i64,
    pub application_id: i64,
    pub stage: Stage,
    pub product_name: String,
    pub size: Size,
    pub state: BookingState,
}

pub struct Cell {
    pub stage: Stage,
    pub bookings: Vec<Compact>,
}

pub struct Row {
    pub application: Application,
    pub cells: Vec<Cell>,
}

/// One line of the Betreiber's all-customers table.
pub struct CustomerLine {
    pub customer_id: i64,
    pub customer_name: String,
    pub contract_number: String,
    pub bars: Vec<UsageBar>,
}

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    layout: Layout,
    customer: Option<Customer>,
    contracts: Vec<ContractView>,
    rows: Vec<Row>,
    stages: [Stage; 4],
    all_customers: Vec<CustomerLine>,
}

#[derive(Deserialize)]
struct Params {
    kunde: Option<String>,
}

async fn show(
    State(state): State<AppState>,
    page: PageUser,
    Query(params): Query<Params>,
) -> Result<Response, PageError> {
    let pool = &state.db.pool;
    let now = db::now();
    let customer_id = match (page.user.scope(), params.kunde.as_deref()) {
        (Scope::Customer(id), _) => Some(id),
        (Scope::All, Some(k)) => Some(k.parse::<i64>().map_err(|_| PageError::NotFound)?),
        (Scope::All, None) => None,
        (Scope::Nothing, _) => return Err(PageError::Forbidden),
    };
    let layout = page.layout(page.t("nav-overview"), Nav::Overview);
    let Some(customer_id) = customer_id else {
        // Everything the provider runs, one line per contract.
        let contracts = db::contracts::list(pool, Scope::All).await?;
        let usage = db::contracts::usage_of_all(pool, &contracts, Scope::All, now).await?;
        let all_customers = contracts
            .into_iter()
            .map(|k| {
                let c = usage.get(&k.id).copied().unwrap_or_default();
                CustomerLine {
                    customer_id: k.customer_id,
                    bars: usage_bars(&k.kontingent(), &c),
                    customer_name: k.customer_name,
                    contract_number: k.number,
                }
            })
            .collect();
        return render(&OverviewPage {
            layout,
            customer: None,
            contracts: Vec::new(),
            rows: Vec::new(),
            stages: Stage::ALL,
            all_customers,
        });
    };
    let customer = crate::app::customers::get(&state.db, &page.user, customer_id).await?;
    let scope = Scope::Customer(customer.id);
    let contracts = db::contracts::list(pool, scope).await?;
    // One read of the running month serves the Kontingent bars, the budget
    // and the bookings of the matrix.
    let live = Live::read(pool, &contracts, now).await?;
    let sees_money = crate::domain::policy::allows(crate::domain::policy::read_billing(&page.user));
    let mut bookings: Vec<(i64, Compact)> = contracts
        .iter()
        .flat_map(|k| live.open(k.id))
        .map(|p| {
            (
                p.product_id,
                Compact {
                    id: p.period.booking_id,
                    application_id: p.period.application_id,
                    stage: p.period.stage,
                    product_name: p.period.product_name.clone(),
                    size: p.period.size,
                    state: p.state,
                },
            )
        })
        .collect();
    bookings.sort_by_key(|(product_id, b)| (*product_id, b.id));
    let contracts = contracts
        .into_iter()
        .map(|k| {
            let c: Commitment = live.commitment(&k, now);
            ContractView {
                bars: usage_bars(&k.kontingent(), &c),
                valid_now: k.is_valid_at(now),
                budget: sees_money.then(|| BudgetBar::new(&live.budget(&k, now), true)),
                request: crate::domain::policy::allows(crate::domain::policy::request_kontingent(
                    &page.user,
                    k.customer_id,
                ))
                .then(|| Url::KontingentRequestNew {
                    contract: k.id,
                    ask: Default::default(),
                }),
                contract: k,
            }
        })
        .collect();
    let applications = db::applications::list_for_customer(pool, customer.id).await?;
    let rows = applications
        .into_iter()
        .map(|application| Row {
            cells: Stage::ALL
                .into_iter()
                .map(|stage| Cell {
                    stage,
                    bookings: bookings
                        .iter()
                        .map(|(_, b)| b)
                        .filter(|b| b.application_id == application.id && b.stage == stage)
                        .cloned()
                        .collect(),
                })
                .collect(),
            application,
        })
        .collect();
    render(&OverviewPage {
        layout,
        customer: Some(customer),
        contracts,
        rows,
        stages: Stage::ALL,
        all_customers: Vec::new(),
    })
}
