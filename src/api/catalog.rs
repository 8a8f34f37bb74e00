use axum::{Json, Router, extract::State, routing::get};
use serde::Serialize;
use utoipa::ToSchema;

use super::{extract::ApiUser, problem::Problem};
use crate::{
    db,
    domain::{Resources, Size},
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new().route("/catalog", get(list))
}

#[derive(Serialize, ToSchema)]
pub struct SizeView {
    pub size: Size,
    pub resources: Resources,
    /// EUR per hour as an exact decimal string (4 places), e.g. `"0.1180"`;
    /// absent while no price is valid.
    pub price_per_hour: Option<String>,
    /// 730 hours of the hourly price, in cents.
    pub price_per_month_cents: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct ProductView {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub sizes: Vec<SizeView>,
}

/// The catalogue with the prices valid now.
#[utoipa::path(get, path = "/api/v1/catalog", tag = "Katalog",
    responses(
        (status = 200, body = Vec<ProductView>),
    ))]
pub async fn list(
    State(state): State<AppState>,
    _user: ApiUser,
) -> Result<Json<Vec<ProductView>>, Problem> {
    let products = db::catalog::products(&state.db.pool, db::now()).await?;
    Ok(Json(
        products
            .into_iter()
            .map(|p| ProductView {
                slug: p.product.slug,
                name: p.product.name,
                description: p.product.description,
                sizes: p
                    .sizes
                    .iter()
                    .map(|s| SizeView {
                        size: s.size,
                        resources: s.resources(),
                        price_per_hour: s.rate().map(|r| r.to_decimal_string()),
                        price_per_month_cents: s.rate().map(|r| r.monthly().0),
                    })
                    .collect(),
            })
            .collect(),
    ))
}
