//! The calling person: who the API takes them for. A script checks its
//! token with it; a client shows the name and what the person may do.

use axum::{Json, Router, extract::State, routing::get};
use serde::Serialize;
use utoipa::ToSchema;

use super::{extract::ApiUser, problem::Problem};
use crate::{
    app,
    db::customers::Customer,
    domain::{Role, actor::Via},
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new().route("/me", get(show))
}

#[derive(Serialize, ToSchema)]
pub struct MeView {
    pub id: i64,
    pub login: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    /// The customer the person belongs to; absent for the provider's staff,
    /// who see every customer.
    pub customer: Option<Customer>,
    /// How this request was authenticated.
    pub via: Via,
    /// The language of texts in answers (problem `title` and `detail`):
    /// `de`.
    pub language: &'static str,
}

/// The calling person.
#[utoipa::path(get, path = "/api/v1/me", tag = "Konto",
    responses((status = 200, body = MeView)))]
pub async fn show(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
) -> Result<Json<MeView>, Problem> {
    let customer = app::customers::of_person(&state.db, &user).await?;
    Ok(Json(MeView {
        id: user.id,
        login: user.login,
        display_name: user.display_name,
        roles: user.roles,
        customer,
        via: user.via,
        language: "de",
    }))
}
