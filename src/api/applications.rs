use axum::{
    Json, Router,
    extract::State,
    http::HeaderMap,
    response::Response,
    routing::{get, post},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    extract::{ApiBytes, ApiUser, PathId, idempotency_key, parse_json},
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
        .route("/applications/{id}", get(show))
        .route("/customers/{id}/applications", post(create))
}

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
    let name = Text::parse(&input.name, MAX_NAME)
        .map_err(|x| e.add("name", x.to_string()))
        .ok();
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

/// Applications (IT-Fachverfahren) the caller may see.
#[utoipa::path(get, path = "/api/v1/applications", tag = "Verfahren",
    responses(
        (status = 200, body = Vec<ApplicationView>),
    ))]
pub async fn list(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
) -> Result<Json<Vec<ApplicationView>>, Problem> {
    let apps = db::applications::list(&state.db.pool, user.scope()).await?;
    Ok(Json(apps.into_iter().map(view).collect()))
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
