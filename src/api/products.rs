//! The catalogue's products and sizes over the API (Betreiber): a new
//! product with its four sizes, and what each size grants — the API twins of
//! the catalogue page's forms, through the same use cases. Prices are in
//! `catalog.rs`.

use axum::{
    Json, Router,
    extract::{Path, State},
    http::HeaderMap,
    response::Response,
    routing::{get, post},
};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{
    catalog::{ProductView, SizeView, product_view, size_view},
    extract::{ApiBytes, ApiJson, ApiUser, PathId, parse_json},
    problem::Problem,
};
use crate::{
    app::{self, Error, FieldErrors, catalog::NewProduct},
    db,
    domain::{Resources, Slug, policy, text::Text},
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/catalog/products", post(create_product))
        .route("/catalog/products/{slug}", get(show_product))
        .route("/catalog/sizes/{id}", get(show_size).put(update_size))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProduct {
    /// Short name in URLs and bookings: lower-case letters, digits and
    /// dashes; it never changes.
    #[schema(min_length = 1, max_length = 24, pattern = "^[a-z](-?[a-z0-9])*$")]
    pub slug: String,
    #[schema(
        min_length = 1,
        max_length = 120,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub name: String,
    /// A few lines for the shop.
    #[schema(
        max_length = 1000,
        pattern = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$"
    )]
    #[serde(default)]
    pub description: String,
}

async fn product(state: &AppState, slug: &str) -> Result<ProductView, Problem> {
    db::catalog::products(&state.db.pool, db::now())
        .await?
        .into_iter()
        .find(|p| p.product.slug == slug)
        .map(product_view)
        .ok_or_else(|| Error::NotFound.into())
}

/// Adds a product with its four sizes (S, M, L, XL), all granting nothing
/// and without price: set each size's resources (`PUT
/// /api/v1/catalog/sizes/{id}`) and first price (`POST
/// /api/v1/catalog/prices`) before it can be booked (Betreiber).
#[utoipa::path(post, path = "/api/v1/catalog/products", tag = "Katalog",
    request_body = CreateProduct,
    responses(
        (status = 201, body = ProductView, headers(("Location" = String))),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "`validation` on `slug`: taken already"),
    ))]
pub async fn create_product(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> Result<Response, Problem> {
    policy::administer(&user).map_err(Error::from)?;
    let input: CreateProduct = parse_json(&headers, &body)?;
    let mut e = FieldErrors::default();
    let slug = Slug::parse(&input.slug)
        .map_err(|x| e.add("slug", x.to_string()))
        .ok();
    let name = Text::parse(&input.name, 120)
        .map_err(|x| e.add("name", x.to_string()))
        .ok();
    let description = Text::optional_lines(&input.description, 1000)
        .map_err(|x| e.add("description", x.to_string()))
        .ok();
    e.into_result()?;
    let new = NewProduct {
        slug: slug.expect("checked"),
        name: name.expect("checked"),
        description: description.expect("checked"),
    };
    // Well-formed (checked above); a slug taken already is the catalogue's
    // state.
    let id = app::catalog::create_product(&state.db, &user, &new, db::now())
        .await
        .map_err(Problem::refused_by_state)?;
    let view = product(&state, new.slug.as_str()).await?;
    Ok(super::created(
        Json(view),
        &format!("/api/v1/catalog/products/{}", new.slug.as_str()),
        app::Created::New(id),
    ))
}

/// One product with its sizes and the prices valid now.
#[utoipa::path(get, path = "/api/v1/catalog/products/{slug}", tag = "Katalog",
    params(("slug" = String, Path, description = "Kurzname des Produkts")),
    responses(
        (status = 200, body = ProductView),
    ))]
pub async fn show_product(
    State(state): State<AppState>,
    _user: ApiUser,
    Path(slug): Path<String>,
) -> Result<Json<ProductView>, Problem> {
    Ok(Json(product(&state, &slug).await?))
}

/// One size of a product, with what it grants and its price now.
#[utoipa::path(get, path = "/api/v1/catalog/sizes/{id}", tag = "Katalog",
    params(("id" = i64, Path, description = "Größen-Id")),
    responses(
        (status = 200, body = SizeView),
    ))]
pub async fn show_size(
    State(state): State<AppState>,
    _user: ApiUser,
    PathId(id): PathId,
) -> Result<Json<SizeView>, Problem> {
    Ok(Json(size_view(&app::catalog::size(&state.db, id).await?)))
}

/// What a size grants, each within what one booking may sensibly hold.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SizeResources {
    /// CPU in millicores (1000 = 1 vCPU), at most 1,024 vCPU.
    #[schema(minimum = 0, maximum = 1_024_000)]
    pub millicpu: i64,
    /// Memory in MiB, at most 16 TiB.
    #[schema(minimum = 0, maximum = 16_777_216)]
    pub memory_mib: i64,
    /// Persistent storage in GiB.
    #[schema(minimum = 0, maximum = 1_000_000)]
    pub storage_gib: i64,
    /// Maximum number of pods.
    #[schema(minimum = 0, maximum = 10_000)]
    pub pods: i64,
}

impl SizeResources {
    fn parse(&self) -> Result<Resources, Error> {
        let mut e = FieldErrors::default();
        for (field, value, max) in [
            ("millicpu", self.millicpu, 1_024_000),
            ("memory_mib", self.memory_mib, 16_777_216),
            ("storage_gib", self.storage_gib, 1_000_000),
            ("pods", self.pods, 10_000),
        ] {
            if !(0..=max).contains(&value) {
                e.add(field, super::paging::whole_number_between(0, max));
            }
        }
        e.into_result()?;
        Ok(Resources {
            millicpu: self.millicpu,
            memory_mib: self.memory_mib,
            storage_gib: self.storage_gib,
            pods: self.pods,
        })
    }
}

/// Sets what a size grants from now on (Betreiber). Existing bookings keep
/// what they were booked with.
#[utoipa::path(put, path = "/api/v1/catalog/sizes/{id}", tag = "Katalog",
    params(("id" = i64, Path, description = "Größen-Id")),
    request_body = SizeResources,
    responses(
        (status = 200, body = SizeView),
    ))]
pub async fn update_size(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    PathId(id): PathId,
    ApiJson(input): ApiJson<SizeResources>,
) -> Result<Json<SizeView>, Problem> {
    policy::administer(&user).map_err(Error::from)?;
    let resources = input.parse()?;
    app::catalog::update_size(&state.db, &user, id, &resources, db::now()).await?;
    Ok(Json(size_view(&app::catalog::size(&state.db, id).await?)))
}
