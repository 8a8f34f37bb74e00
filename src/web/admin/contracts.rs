use askama::Template;
use axum::{
    Form, Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::Response,
    routing::get,
};
use serde::Deserialize;

use super::{field_errors, path_id, require_betreiber};
use crate::{
    app::error::FieldErrors,
    db::{
        self,
        contracts::{Contract, ContractInput},
        customers::Customer,
    },
    domain::actor::Scope,
    state::AppState,
    web::{
        Layout, Nav, PageError, render, see_other,
        session::PageUser,
        view::{UsageBar, usage_bars},
    },
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/betrieb/vertraege", get(list).post(create))
        .route("/betrieb/vertraege/neu", get(new))
        .route("/betrieb/vertraege/{id}", get(edit).post(update))
}

pub struct Line {
    pub contract: Contract,
    pub bars: Vec<UsageBar>,
}

#[derive(Template)]
#[template(path = "admin_contracts.html")]
struct ListPage {
    layout: Layout,
    lines: Vec<Line>,
}

async fn list(State(state): State<AppState>, page: PageUser) -> Result<Response, PageError> {
    require_betreiber(&page)?;
    let pool = &state.db.pool;
    let contracts = db::contracts::list(pool, Scope::All).await?;
    let usage = db::contracts::usage_of_all(pool, &contracts, Scope::All, db::now()).await?;
    let lines = contracts
        .into_iter()
        .map(|k| Line {
            bars: usage_bars(
                &k.kontingent(),
                &usage.get(&k.id).copied().unwrap_or_default(),
            ),
            contract: k,
        })
        .collect();
    render(&ListPage {
        layout: page.layout("Verträge", Nav::Contracts),
        lines,
    })
}

#[derive(Template)]
#[template(path = "admin_contract_form.html")]
struct FormPage {
    layout: Layout,
    /// `None` for a new contract.
    id: Option<i64>,
    customers: Vec<Customer>,
    form: ContractInput,
    errors: FieldErrors,
}

async fn form_page(
    state: &AppState,
    page: &PageUser,
    id: Option<i64>,
    form: ContractInput,
    errors: FieldErrors,
) -> Result<Response, PageError> {
    let customers = db::customers::list(&state.db.pool, Scope::All).await?;
    let failed = !errors.is_empty();
    let title = if id.is_some() {
        "Vertrag bearbeiten"
    } else {
        "Neuer Vertrag"
    };
    let mut response = render(&FormPage {
        layout: page.layout(title, Nav::Contracts),
        id,
        customers,
        form,
        errors,
    })?;
    if failed {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

#[derive(Deserialize)]
struct NewParams {
    kunde: Option<String>,
}

async fn new(
    State(state): State<AppState>,
    page: PageUser,
    Query(p): Query<NewParams>,
) -> Result<Response, PageError> {
    require_betreiber(&page)?;
    let form = ContractInput {
        customer_id: p.kunde.unwrap_or_default(),
        billing_model: "nutzung".into(),
        ..ContractInput::default()
    };
    form_page(&state, &page, None, form, FieldErrors::default()).await
}

async fn create(
    State(state): State<AppState>,
    page: PageUser,
    Form(form): Form<ContractInput>,
) -> Result<Response, PageError> {
    require_betreiber(&page)?;
    match db::contracts::create(&state.db, &page.user, &form).await {
        Ok(_) => Ok(see_other("/betrieb/vertraege")),
        Err(e) => form_page(&state, &page, None, form, field_errors(e)?).await,
    }
}

async fn edit(
    State(state): State<AppState>,
    page: PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    require_betreiber(&page)?;
    let id = path_id(&id)?;
    let contract = db::contracts::get(&state.db.pool, &page.user, id).await?;
    form_page(
        &state,
        &page,
        Some(id),
        contract.to_input(),
        FieldErrors::default(),
    )
    .await
}

async fn update(
    State(state): State<AppState>,
    page: PageUser,
    Path(id): Path<String>,
    Form(form): Form<ContractInput>,
) -> Result<Response, PageError> {
    require_betreiber(&page)?;
    let id = path_id(&id)?;
    match db::contracts::update(&state.db, &page.user, id, &form).await {
        Ok(()) => Ok(see_other("/betrieb/vertraege")),
        Err(e) => form_page(&state, &page, Some(id), form, field_errors(e)?).await,
    }
}
