use axum::{
    Json, Router,
    extract::State,
    http::HeaderMap,
    response::Response,
    routing::{get, post},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema, openapi::schema::Object};

use super::{
    extract::{ApiBytes, ApiQuery, ApiUser, PathId, idempotency_key, parse_json},
    paging::{self, Key, Listed, Page, Paging, Sort},
    problem::Problem,
};
use crate::{
    app::{self, Error, FieldErrors, applications::NewApplication, customers::MAX_NAME},
    db::{self, applications::Application},
    domain::{Slug, policy, text::Text},
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/applications", get(list))
        .route("/applications/{id}", get(show).patch(rename))
        .route("/applications/{id}/move", post(move_to))
        .route("/customers/{id}/applications", post(create))
}

paging::page_schema!(ApplicationPage => ApplicationView);

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApplication {
    /// A contract of the customer the application is booked under.
    #[schema(minimum = 1)]
    pub contract_id: i64,
    /// Short name used in namespace names; it never changes.
    #[schema(min_length = 1, max_length = 24, pattern = "^[a-z](-?[a-z0-9])*$")]
    pub slug: String,
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub name: String,
}

/// Creates an application of a customer under one of its contracts, with
/// an environment for each stage (Betreiber).
#[utoipa::path(post, path = "/api/v1/customers/{id}/applications", tag = "Verfahren",
    params(
        ("id" = i64, Path, description = "Kunden-Id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Client-chosen key that makes retries safe"),
    ),
    request_body = CreateApplication,
    responses(
        (status = 201, body = ApplicationView, headers(("Location" = String))),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "the Idempotency-Key was used for another request (`conflict`), or `validation`: the customer has an application with the slug (`slug`), or the contract is not the customer's (`contract_id`)"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    PathId(customer_id): PathId,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> Result<Response, Problem> {
    policy::administer(&user).map_err(Error::from)?;
    let input: CreateApplication = parse_json(&headers, &body)?;
    let key = idempotency_key(&headers, "applications", customer_id, &body)?;
    let mut e = FieldErrors::default();
    let slug = Slug::parse(&input.slug)
        .map_err(|x| e.add("slug", x.to_string()))
        .ok();
    let name = name(&input.name, &mut e);
    e.into_result()?;
    let (Some(slug), Some(name)) = (slug, name) else {
        unreachable!("a field without a value has its message")
    };
    let new = NewApplication {
        contract_id: input.contract_id,
        slug,
        name,
    };
    // An unknown customer is not found, like any id in a path.
    app::customers::get(&state.db, &user, customer_id).await?;
    let outcome = app::applications::create_once(
        &state.db,
        &user,
        customer_id,
        &new,
        key.as_ref(),
        db::now(),
    )
    .await
    // A slug the customer has already, or a contract that is not the
    // customer's, is the state of things; the request was well-formed.
    .map_err(Problem::refused_by_state)?;
    let id = outcome.id();
    let application = app::applications::get(&state.db, &user, id).await?;
    Ok(super::created(
        Json(view(application)),
        &format!("/api/v1/applications/{id}"),
        outcome,
    ))
}

#[derive(Serialize, ToSchema)]
pub struct ApplicationView {
    pub id: i64,
    pub customer_id: i64,
    pub contract_id: i64,
    pub contract_number: String,
    /// Short name used in namespace names.
    pub slug: String,
    pub name: String,
}

fn view(a: Application) -> ApplicationView {
    ApplicationView {
        id: a.id,
        customer_id: a.customer_id,
        contract_id: a.contract_id,
        contract_number: a.contract_number,
        slug: a.slug,
        name: a.name,
    }
}

const SORTS: &[&str] = &["id", "name", "slug"];
fn sorts() -> Object {
    paging::sort_schema(SORTS)
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ApplicationFilter {
    /// Only this customer's applications.
    #[param(schema_with = super::params::positive_or_empty)]
    customer_id: Option<String>,
    /// Only the applications booked under this contract.
    #[param(schema_with = super::params::positive_or_empty)]
    contract_id: Option<String>,
    /// A part of the name or the slug, any case.
    #[param(schema_with = paging::search_schema)]
    q: Option<String>,
    /// Default `name`.
    #[param(schema_with = sorts)]
    sort: Option<String>,
}

/// Applications (IT-Fachverfahren) the caller may see.
#[utoipa::path(get, path = "/api/v1/applications", tag = "Verfahren",
    params(ApplicationFilter, Paging),
    responses(
        (status = 200, body = ApplicationPage),
    ))]
pub async fn list(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiQuery(q): ApiQuery<Listed<ApplicationFilter>>,
) -> Result<Json<Page<ApplicationView>>, Problem> {
    let f = &q.filter;
    let customer_id = paging::id_filter("customer_id", f.customer_id.as_deref())?;
    let contract_id = paging::id_filter("contract_id", f.contract_id.as_deref())?;
    let wanted = paging::search(f.q.as_deref())?;
    let sort = Sort::parse(f.sort.as_deref(), SORTS, "name")?;
    let window = q.paging.window()?;
    let apps: Vec<ApplicationView> = db::applications::list(&state.db.pool, user.scope())
        .await?
        .into_iter()
        .filter(|a| customer_id.is_none_or(|c| a.customer_id == c))
        .filter(|a| contract_id.is_none_or(|c| a.contract_id == c))
        .filter(|a| {
            wanted
                .as_deref()
                .is_none_or(|w| a.name.to_lowercase().contains(w) || a.slug.contains(w))
        })
        .map(view)
        .collect();
    Ok(Json(paging::page_of(
        apps,
        sort,
        |a, field| match field {
            "name" => Key::text(&a.name),
            "slug" => Key::text(&a.slug),
            _ => Key::Int(a.id),
        },
        window,
    )))
}

/// One application.
#[utoipa::path(get, path = "/api/v1/applications/{id}", tag = "Verfahren",
    params(("id" = i64, Path, description = "Verfahrens-Id")),
    responses(
        (status = 200, body = ApplicationView),
    ))]
pub async fn show(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    PathId(id): PathId,
) -> Result<Json<ApplicationView>, Problem> {
    Ok(Json(view(
        crate::app::applications::get(&state.db, &user, id).await?,
    )))
}

fn name(raw: &str, e: &mut FieldErrors) -> Option<Text> {
    Text::parse(raw, MAX_NAME)
        .map_err(|x| e.add("name", x.to_string()))
        .ok()
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenameApplication {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub name: String,
}

/// Renames an application (Betreiber); its slug and namespaces stay.
#[utoipa::path(patch, path = "/api/v1/applications/{id}", tag = "Verfahren",
    params(("id" = i64, Path, description = "Verfahrens-Id")),
    request_body = RenameApplication,
    responses(
        (status = 200, body = ApplicationView),
    ))]
pub async fn rename(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    PathId(id): PathId,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> Result<Json<ApplicationView>, Problem> {
    policy::administer(&user).map_err(Error::from)?;
    let input: RenameApplication = parse_json(&headers, &body)?;
    let mut e = FieldErrors::default();
    let name = name(&input.name, &mut e);
    e.into_result()?;
    let name = name.expect("checked");
    app::applications::rename(&state.db, &user, id, &name, db::now()).await?;
    Ok(Json(view(
        app::applications::get(&state.db, &user, id).await?,
    )))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveApplication {
    /// Another contract of the same customer.
    #[schema(minimum = 1)]
    pub contract_id: i64,
}

/// Moves an application to another contract of its customer (Betreiber).
/// Its open bookings go along: each ends under the old contract now and
/// continues under the new one as a new booking (the answer's
/// `contract_id`; the old bookings read `gekuendigt`, the Revision says
/// where they went). 409 `kontingent-exceeded` when the new contract's
/// Kontingent cannot take them, 409 `contract-not-valid` when the new
/// contract does not run today, 409 `conflict` when it is the same contract.
#[utoipa::path(post, path = "/api/v1/applications/{id}/move", tag = "Verfahren",
    params(("id" = i64, Path, description = "Verfahrens-Id")),
    request_body = MoveApplication,
    responses(
        (status = 200, body = ApplicationView),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "`kontingent-exceeded`, `contract-not-valid`, `conflict` (it is that contract already), or `validation` on `contract_id`: not a contract of the customer"),
    ))]
pub async fn move_to(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    PathId(id): PathId,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> Result<Json<ApplicationView>, Problem> {
    policy::administer(&user).map_err(Error::from)?;
    let input: MoveApplication = parse_json(&headers, &body)?;
    // A contract that is not the customer's is the state of things, as on
    // creation: 409.
    app::applications::move_to(&state.db, &user, id, input.contract_id, db::now())
        .await
        .map_err(Problem::refused_by_state)?;
    Ok(Json(view(
        app::applications::get(&state.db, &user, id).await?,
    )))
}
