use askama::Template;
use axum::{
    Form, Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse as _, Response},
    routing::{get, post},
};

use super::{field_errors, path_id, require_betreiber};
use crate::web::lang::t;
use crate::{
    app::{
        self,
        applications::NewApplication,
        customers::{MAX_NAME, NewCustomer},
        error::FieldErrors,
        export,
    },
    db::{self, applications::Application, contracts::Contract, customers::Customer},
    domain::{Slug, actor::Scope},
    state::AppState,
    web::{
        Layout, Nav, PageError, Route, Url,
        form::Fields,
        listing::{self as web_listing, Column, ListParams, Listing},
        render, see_other,
        session::PageUser,
        urls::ListQuery,
    },
};

/// The Betreiber's customer form, as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct CustomerInput {
    pub slug: String,
    pub name: String,
}

impl CustomerInput {
    fn parse(&self) -> Result<NewCustomer, FieldErrors> {
        let mut f = Fields::default();
        let slug = Slug::parse(&self.slug)
            .map_err(|e| f.add("slug", e.to_string()))
            .ok();
        let name = f.text("name", &self.name, MAX_NAME);
        f.finish(|| NewCustomer {
            slug: slug.expect("checked"),
            name: name.expect("checked"),
        })
    }
}

/// The form for a new application of the customer, as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct ApplicationInput {
    pub contract_id: String,
    pub slug: String,
    pub name: String,
}

impl ApplicationInput {
    fn parse(&self) -> Result<NewApplication, FieldErrors> {
        let mut f = Fields::default();
        let contract_id = f.choice(
            "contract_id",
            &self.contract_id,
            &t("admin-choose-contract"),
        );
        let slug = Slug::parse(&self.slug)
            .map_err(|e| f.add("slug", e.to_string()))
            .ok();
        let name = f.text("name", &self.name, MAX_NAME);
        f.finish(|| NewApplication {
            contract_id: contract_id.expect("checked"),
            slug: slug.expect("checked"),
            name: name.expect("checked"),
        })
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route(Route::Customers.pattern(), get(list).post(create))
        .route(Route::CustomersCsv.pattern(), get(list_csv))
        .route(Route::Customer.pattern(), get(show).post(rename))
        .route(
            Route::CustomerApplications.pattern(),
            post(create_application),
        )
}

#[derive(Template)]
#[template(path = "admin_customers.html")]
struct ListPage {
    layout: Layout,
    customers: Vec<Customer>,
    form: CustomerInput,
    errors: FieldErrors,
    /// The search and order as typed.
    f_text: String,
    f_sort: String,
    columns: Vec<Column>,
    csv: Url,
    list_errors: FieldErrors,
}

/// Search and order of the list, as the API's `q` and `sort`.
fn listing(p: &ListParams) -> Listing {
    Listing::parse(
        p.suche.as_deref(),
        p.sortierung.as_deref(),
        app::customers::SORTS,
        "name",
    )
}

async fn list_page(
    state: &AppState,
    page: &PageUser,
    p: &ListParams,
    form: CustomerInput,
    errors: FieldErrors,
) -> Result<Response, PageError> {
    let listing = listing(p);
    let customers =
        app::customers::search(&state.db, &page.user, listing.text.as_deref(), listing.sort)
            .await?;
    let status = if errors.is_empty() && listing.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let text = p.suche.clone().unwrap_or_default();
    let sort = match listing.errors.get("sortierung") {
        Some(_) => String::new(),
        None => p.sortierung.clone().unwrap_or_default(),
    };
    let sorted = |sort: String| {
        Url::CustomersListed(ListQuery {
            text: text.clone(),
            sort,
        })
    };
    let columns = vec![
        Column::new("col-authority", "name", listing.sort, sorted),
        Column::new("col-short-name", "slug", listing.sort, sorted),
    ];
    let mut response = render(&ListPage {
        layout: page.layout(t("nav-customers"), Nav::Customers),
        customers,
        form,
        errors,
        csv: Url::CustomersCsv(ListQuery {
            text: text.clone(),
            sort: sort.clone(),
        }),
        f_text: text,
        f_sort: sort,
        columns,
        list_errors: listing.errors,
    })?;
    *response.status_mut() = status;
    Ok(response)
}

async fn list(
    State(state): State<AppState>,
    page: PageUser,
    Query(p): Query<ListParams>,
) -> Result<Response, PageError> {
    require_betreiber(&page)?;
    list_page(
        &state,
        &page,
        &p,
        CustomerInput::default(),
        FieldErrors::default(),
    )
    .await
}

/// The list as CSV, searched and sorted as on the page.
async fn list_csv(
    State(state): State<AppState>,
    page: PageUser,
    Query(p): Query<ListParams>,
) -> Result<Response, PageError> {
    require_betreiber(&page)?;
    let listing = listing(&p);
    if let Some(message) = listing.refusal() {
        return Err(PageError::BadForm(message));
    }
    let format = web_listing::format(p.format.as_deref()).map_err(PageError::BadForm)?;
    let customers =
        app::customers::search(&state.db, &page.user, listing.text.as_deref(), listing.sort)
            .await?;
    let rows = customers
        .into_iter()
        .map(|c| vec![c.id.to_string(), c.name, c.slug]);
    Ok(export::table("kunden.csv", format, &["Nr.", "Behörde", "Kürzel"], rows).into_response())
}

async fn create(
    State(state): State<AppState>,
    page: PageUser,
    Form(form): Form<CustomerInput>,
) -> Result<Response, PageError> {
    require_betreiber(&page)?;
    let created = match form.parse() {
        Ok(new) => app::customers::create(&state.db, &page.user, &new, db::now()).await,
        Err(errors) => Err(app::Error::Validation(errors)),
    };
    match created {
        Ok(id) => Ok(see_other(Url::Customer(id))),
        Err(e) => {
            list_page(
                &state,
                &page,
                &ListParams::default(),
                form,
                field_errors(e)?,
            )
            .await
        }
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
    let customer = app::customers::get(&state.db, &page.user, id).await?;
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
    let mut f = Fields::default();
    let renamed = match f.text("name", &form.name, MAX_NAME) {
        Some(name) => app::customers::rename(&state.db, &page.user, id, &name, db::now()).await,
        None => Err(app::Error::Validation(f.errors)),
    };
    match renamed {
        Ok(()) => Ok(see_other(Url::Customer(id))),
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
    let created = match form.parse() {
        Ok(new) => app::applications::create(&state.db, &page.user, id, &new, db::now()).await,
        Err(errors) => Err(app::Error::Validation(errors)),
    };
    match created {
        Ok(_) => Ok(see_other(Url::Customer(id))),
        Err(e) => detail_page(&state, &page, id, None, Some((form, field_errors(e)?))).await,
    }
}
