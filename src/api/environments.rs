//! Environments (Umgebungen): their namespaces and provisioning state, and
//! "Umgebung auflösen".

use axum::{
    Json, Router,
    extract::State,
    http::StatusCode,
    routing::{get, post},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema, openapi::schema::Object};

use super::{
    extract::{ApiQuery, ApiUser, PathId},
    paging::{self, Key, Listed, Page, Paging, Sort},
    problem::Problem,
};
use crate::{
    app::error::{Error, FieldErrors},
    db::{self, environments::Environment},
    domain::{Lifecycle, Stage, environment::SyncState},
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/environments", get(list))
        .route("/environments/{id}", get(show))
        .route("/environments/{id}/dissolve", post(dissolve))
}

paging::page_schema!(EnvironmentPage => EnvironmentView);

#[derive(Serialize, ToSchema)]
pub struct EnvironmentView {
    pub id: i64,
    pub customer_id: i64,
    pub application_id: i64,
    /// The application's slug.
    pub application: String,
    pub stage: Stage,
    /// The Kubernetes namespace, `<customer>-<application>-<stage>`.
    pub namespace: String,
    /// Where the stage is provisioned: a cluster name or `manifests`.
    pub target: String,
    pub lifecycle: Lifecycle,
    /// Bookings there that are not cancelled.
    pub open_bookings: i64,
    /// Whether the target has the latest change; absent while the
    /// environment was never booked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provisioning: Option<SyncState>,
    /// Failed attempts since the last success.
    pub failed_attempts: i64,
}

fn view(state: &AppState, e: Environment) -> EnvironmentView {
    let lifecycle = e.lifecycle;
    EnvironmentView {
        id: e.id,
        customer_id: e.customer_id,
        application_id: e.application_id,
        namespace: e.namespace(),
        target: state.provisioner.target_for(e.stage).name.clone(),
        stage: e.stage,
        lifecycle,
        open_bookings: e.open_bookings,
        provisioning: (lifecycle != Lifecycle::Leer).then(|| e.sync()),
        failed_attempts: e.attempts.unwrap_or(0),
        application: e.application_slug,
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only this application's four environments.
    #[param(schema_with = super::params::integer_or_empty)]
    application_id: Option<String>,
    /// Without it: by application and stage.
    #[param(schema_with = sorts)]
    sort: Option<String>,
}

const SORTS: &[&str] = &["id", "namespace"];
fn sorts() -> Object {
    paging::sort_schema(SORTS)
}

/// Environments the caller may see, in application and stage order.
#[utoipa::path(get, path = "/api/v1/environments", tag = "Umgebungen",
    params(ListParams, Paging),
    responses(
        (status = 200, body = EnvironmentPage),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "`application_id` is not an id"),
    ))]
pub async fn list(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiQuery(Listed {
        filter: params,
        paging,
    }): ApiQuery<Listed<ListParams>>,
) -> Result<Json<Page<EnvironmentView>>, Problem> {
    let sort = Sort::optional(params.sort.as_deref(), SORTS)?;
    let window = paging.window()?;
    let application_id = match params.application_id.as_deref() {
        None | Some("") => None,
        Some(raw) => Some(raw.parse::<i64>().map_err(|_| {
            let mut errors = FieldErrors::default();
            errors.add("application_id", crate::i18n::t("invalid-application-id"));
            Error::Validation(errors)
        })?),
    };
    let envs = db::environments::list(&state.db.pool, user.scope(), application_id).await?;
    let views = envs.into_iter().map(|e| view(&state, e)).collect();
    Ok(Json(paging::page_of(
        views,
        sort,
        |e: &EnvironmentView, field| match field {
            "namespace" => Key::text(&e.namespace),
            _ => Key::Int(e.id),
        },
        window,
    )))
}

/// One environment with its provisioning state.
#[utoipa::path(get, path = "/api/v1/environments/{id}", tag = "Umgebungen",
    params(("id" = i64, Path, description = "Umgebungs-Id")),
    responses(
        (status = 200, body = EnvironmentView),
    ))]
pub async fn show(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    PathId(id): PathId,
) -> Result<Json<EnvironmentView>, Problem> {
    let e = crate::app::environments::get(&state.db, &user, id).await?;
    Ok(Json(view(&state, e)))
}

/// Umgebung auflösen: deletes the namespace with everything in it. Only for
/// the customer's Systempfleger:in, and only once every booking there is
/// cancelled. Answers 202: the deletion runs in the background; the
/// environment's `provisioning` says when it is done.
#[utoipa::path(post, path = "/api/v1/environments/{id}/dissolve", tag = "Umgebungen",
    params(("id" = i64, Path, description = "Umgebungs-Id")),
    responses(
        (status = 202, body = EnvironmentView),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "bookings left, or nothing to dissolve"),
    ))]
pub async fn dissolve(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    PathId(id): PathId,
) -> Result<(StatusCode, Json<EnvironmentView>), Problem> {
    crate::app::environments::dissolve(&state.db, &user, id, db::now()).await?;
    let e = crate::app::environments::get(&state.db, &user, id).await?;
    Ok((StatusCode::ACCEPTED, Json(view(&state, e))))
}
