//! Customers (Kunden) over the API: listed and read by whoever sees them,
//! created and renamed by the Betreiber — the API twin of the Betreiber's
//! customer pages, through the same use cases.

use axum::{Json, Router, extract::State, http::HeaderMap, response::Response, routing::get};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema, openapi::schema::Object};

use super::{
    extract::{ApiBytes, ApiQuery, ApiUser, PathId, idempotency_key, parse_json},
    paging::{self, Key, Listed, Page, Paging, Sort},
    problem::Problem,
};
use crate::{
    app::{
        self, Error, FieldErrors,
        customers::{MAX_NAME, NewCustomer},
    },
    db::{self, customers::Customer},
    domain::{Slug, text::Text},
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/customers", get(list).post(create))
        .route("/customers/{id}", get(show).patch(rename))
}

paging::page_schema!(CustomerPage => Customer);

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCustomer {
    /// Short name used in Kubernetes names (`<customer>-<application>-<stage>`):
    /// lower-case letters, digits and dashes; it never changes.
    #[schema(min_length = 1, max_length = 24, pattern = "^[a-z](-?[a-z0-9])*$")]
    pub slug: String,
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub name: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenameCustomer {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub name: String,
}

fn name(raw: &str, e: &mut FieldErrors) -> Option<Text> {
    Text::parse(raw, MAX_NAME)
        .map_err(|x| e.add("name", x.to_string()))
        .ok()
}

/// The customers the caller sees: every one for the provider's staff, their
/// own for a customer's people.
const SORTS: &[&str] = app::customers::SORTS;
fn sorts() -> Object {
    paging::sort_schema(SORTS)
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CustomerFilter {
    /// A part of the name or the slug, any case.
    #[param(schema_with = paging::search_schema)]
    q: Option<String>,
    /// Default `name`.
    #[param(schema_with = sorts)]
    sort: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/customers", tag = "Kunden",
    params(CustomerFilter, Paging),
    responses((status = 200, body = CustomerPage)))]
pub async fn list(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiQuery(q): ApiQuery<Listed<CustomerFilter>>,
) -> Result<Json<Page<Customer>>, Problem> {
    let sort = Sort::parse(q.filter.sort.as_deref(), SORTS, "name")?;
    let window = q.paging.window()?;
    let wanted = paging::search(q.filter.q.as_deref())?;
    let found = app::customers::search(&state.db, &user, wanted.as_deref(), sort).await?;
    Ok(Json(paging::page_of(
        found,
        None::<Sort>,
        |_, _| Key::Int(0),
        window,
    )))
}

/// One customer.
#[utoipa::path(get, path = "/api/v1/customers/{id}", tag = "Kunden",
    params(("id" = i64, Path, description = "Kunden-Id")),
    responses((status = 200, body = Customer)))]
pub async fn show(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    PathId(id): PathId,
) -> Result<Json<Customer>, Problem> {
    Ok(Json(app::customers::get(&state.db, &user, id).await?))
}

/// Creates a customer (Betreiber). A slug already taken is refused with a
/// message for the field.
#[utoipa::path(post, path = "/api/v1/customers", tag = "Kunden",
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "Client-chosen key that makes retries safe"),
    ),
    request_body = CreateCustomer,
    responses(
        (status = 201, body = Customer, headers(("Location" = String))),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "the Idempotency-Key was used for another request (`conflict`), or `validation`: another customer has the slug (`slug`)"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> Result<Response, Problem> {
    crate::domain::policy::administer(&user).map_err(Error::from)?;
    let input: CreateCustomer = parse_json(&headers, &body)?;
    let key = idempotency_key(&headers, "customers", 0, &body)?;
    let mut e = FieldErrors::default();
    let slug = Slug::parse(&input.slug)
        .map_err(|x| e.add("slug", x.to_string()))
        .ok();
    let name = name(&input.name, &mut e);
    e.into_result()?;
    let (Some(slug), Some(name)) = (slug, name) else {
        unreachable!("a field without a value has its message")
    };
    let new = NewCustomer { slug, name };
    // A well-formed slug that another customer has is the state of things.
    let outcome = app::customers::create_once(&state.db, &user, &new, key.as_ref(), db::now())
        .await
        .map_err(Problem::refused_by_state)?;
    let id = outcome.id();
    let customer = app::customers::get(&state.db, &user, id).await?;
    Ok(super::created(
        Json(customer),
        &format!("/api/v1/customers/{id}"),
        outcome,
    ))
}

/// Renames a customer (Betreiber); the slug stays.
#[utoipa::path(patch, path = "/api/v1/customers/{id}", tag = "Kunden",
    params(("id" = i64, Path, description = "Kunden-Id")),
    request_body = RenameCustomer,
    responses(
        (status = 200, body = Customer),
    ))]
pub async fn rename(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    PathId(id): PathId,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> Result<Json<Customer>, Problem> {
    crate::domain::policy::administer(&user).map_err(Error::from)?;
    let input: RenameCustomer = parse_json(&headers, &body)?;
    let mut e = FieldErrors::default();
    let name = name(&input.name, &mut e);
    e.into_result()?;
    let name = name.expect("checked");
    app::customers::rename(&state.db, &user, id, &name, db::now()).await?;
    Ok(Json(app::customers::get(&state.db, &user, id).await?))
}
