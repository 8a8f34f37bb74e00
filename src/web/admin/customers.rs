use askama::Template;
use axum::{
    Form, Router,
    extract::{Path, State},
    http::StatusCode,
    response::Response,
    routing::{get, post},
};

use super::{field_errors, path_id, require_betreiber};
use crate::{
    app::error::FieldErrors,
    db::{
        self,
        applications::{Application, ApplicationInput},
        contracts::Contract,
        customers::{Customer, CustomerInput},
    },
    domain::actor::Scope,
    state::AppState,
    web::{Layout, Nav, PageError, render, see_other, session::PageUser},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/betrieb/kunden", get(list).post(create))
        .route("/betrieb/kunden/{id}", get(show).post(rename))
        .route("/betrieb/kunden/{id}/verfahren", post(create_application))
}

#[derive(Template)]
#[template(path = "admin_customers.html")]
struct ListPage {
    layout: Layout,
    customers: Vec<Customer>,
    form: CustomerInput,
    errors: FieldErrors,
}

async fn list_page(
    state: &AppState,
    page: &PageUser,
    form: CustomerInput,
    errors: FieldErrors,
) -> Result<Response, PageError> {
    let customers = db::customers::list(&state.db.pool, Scope::All).await?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let mut response = render(&ListPage {
        layout: page.layout("Kunden", Nav::Customers),
        customers,
        form,
        errors,
    })?;
    *response.status_mut() = status;
    Ok(response)
}

async fn list(State(state): State<AppState>, page: PageUser) -> Result<Response, PageError> {
    require_betreiber(&page)?;
    list_page(
        &state,
        &page,
        CustomerInput::default(),
        FieldErrors::default(),
    )
    .await
}

async fn create(
    State(state): State<AppState>,
    page: PageUser,
    Form(form): Form<CustomerInput>,
) -> Result<Response, PageError> {
    require_betreiber(&page)?;
    match db::customers::create(&state.db, &page.user, &form).await {
        Ok(id) => Ok(see_other(&format!("/betrieb/kunden/{id}"))),
        Err(e) => list_page(&state, &page, form, field_errors(e)?).await,
    }
}

#[derive(Template)]
#[template(path = "admin_customer.html")]
struct DetailPage {
    layout: Layout,
    customer: Customer,
    contracts: Vec<Contract>,
    applications: Vec<Application>,
    name: String,
    name_errors: FieldErrors,
    app_form: ApplicationInput,
    app_errors: FieldErrors,
}

async fn detail_page(
    state: &AppState,
    page: &PageUser,
    id: i64,
    name: Option<(String, FieldErrors)>,
    app: Option<(ApplicationInput, FieldErrors)>,
) -> Result<Response, PageError> {
    let pool = &state.db.pool;
    let customer = db::customers::get(pool, &page.user, id).await?;
    let contracts = db::contracts::list(pool, Scope::Customer(id)).await?;
    let applications = db::applications::list_for_customer(pool, id).await?;
    let failed = name.as_ref().is_some_and(|(_, e)| !e.is_empty())
        || app.as_ref().is_some_and(|(_, e)| !e.is_empty());
    let (name, name_errors) =
        name.unwrap_or_else(|| (customer.name.clone(), FieldErrors::default()));
    let (app_form, app_errors) = app.unwrap_or_default();
    let mut response = render(&DetailPage {
        layout: page.layout(customer.name.clone(), Nav::Customers),
        customer,
        contracts,
        applications,
        name,
        name_errors,
        app_form,
        app_errors,
    })?;
    if failed {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

async fn show(
    State(state): State<AppState>,
    page: PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    require_betreiber(&page)?;
    detail_page(&state, &page, path_id(&id)?, None, None).await
}

#[derive(serde::Deserialize)]
struct NameForm {
    #[serde(default)]
    name: String,
}

async fn rename(
    State(state): State<AppState>,
    page: PageUser,
    Path(id): Path<String>,
    Form(form): Form<NameForm>,
) -> Result<Response, PageError> {
    require_betreiber(&page)?;
    let id = path_id(&id)?;
    match db::customers::update_name(&state.db, &page.user, id, &form.name).await {
        Ok(()) => Ok(see_other(&format!("/betrieb/kunden/{id}"))),
        Err(e) => detail_page(&state, &page, id, Some((form.name, field_errors(e)?)), None).await,
    }
}

async fn create_application(
    State(state): State<AppState>,
    page: PageUser,
    Path(id): Path<String>,
    Form(form): Form<ApplicationInput>,
) -> Result<Response, PageError> {
    require_betreiber(&page)?;
    let id = path_id(&id)?;
    // The contract must belong to this customer.
    let contracts = db::contracts::list(&state.db.pool, Scope::Customer(id)).await?;
    if !contracts
        .iter()
        .any(|k| k.id.to_string() == form.contract_id)
    {
        let errors =
            FieldErrors::single("contract_id", "Bitte einen Vertrag dieses Kunden wählen.");
        return detail_page(&state, &page, id, None, Some((form, errors))).await;
    }
    match db::applications::create(&state.db, &page.user, &form).await {
        Ok(_) => Ok(see_other(&format!("/betrieb/kunden/{id}"))),
        Err(e) => detail_page(&state, &page, id, None, Some((form, field_errors(e)?))).await,
    }
}
