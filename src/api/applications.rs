use axum::{Json, Router, extract::State, routing::get};
use serde::Serialize;
use utoipa::ToSchema;

use super::{
    extract::{ApiUser, PathId},
    problem::Problem,
};
use crate::{
    db::{self, applications::Application},
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/applications", get(list))
        .route("/applications/{id}", get(show))
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
