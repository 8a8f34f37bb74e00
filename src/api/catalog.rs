//! The catalogue over the API: products in S/M/L/XL with the prices valid
//! now, and every price version with its validity, so that anyone can
//! recompute a bill; the Betreiber adds and changes price versions.

use axum::{Json, Router, extract::State, http::HeaderMap, response::Response, routing::get};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema, openapi::schema::Object};

use super::{
    extract::{ApiBytes, ApiQuery, ApiUser, PathId, idempotency_key, parse_json},
    paging::{self, Key, Listed, Page, Paging, Sort},
    problem::Problem,
};
use crate::{
    app::{self, Error, FieldErrors, catalog::NewPrice},
    db::{self, catalog::PriceHistoryRow},
    domain::{HourlyRate, Resources, Size, calendar::rfc3339, policy},
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/catalog", get(list))
        .route("/catalog/prices", get(prices).post(add_price))
        .route("/catalog/prices/{id}", get(show_price).patch(change_price))
}

paging::page_schema!(ProductPage => ProductView);
paging::page_schema!(PriceVersionPage => PriceVersionView);

#[derive(Serialize, ToSchema)]
pub struct SizeView {
    /// The size's id (`PUT /api/v1/catalog/sizes/{id}` changes what it
    /// grants; price versions name it by product and size).
    pub id: i64,
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

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProductFilter {
    /// Without it: in the order the products were added.
    #[param(schema_with = product_sorts)]
    sort: Option<String>,
}

const PRODUCT_SORTS: &[&str] = &["slug", "name"];
fn product_sorts() -> Object {
    paging::sort_schema(PRODUCT_SORTS)
}

/// The catalogue with the prices valid now.
#[utoipa::path(get, path = "/api/v1/catalog", tag = "Katalog",
    params(ProductFilter, Paging),
    responses(
        (status = 200, body = ProductPage),
    ))]
pub async fn list(
    State(state): State<AppState>,
    _user: ApiUser,
    ApiQuery(q): ApiQuery<Listed<ProductFilter>>,
) -> Result<Json<Page<ProductView>>, Problem> {
    let sort = Sort::optional(q.filter.sort.as_deref(), PRODUCT_SORTS)?;
    let window = q.paging.window()?;
    let products = db::catalog::products(&state.db.pool, db::now()).await?;
    Ok(Json(paging::page_of(
        products.into_iter().map(product_view).collect(),
        sort,
        |p: &ProductView, field| match field {
            "name" => Key::text(&p.name),
            _ => Key::text(&p.slug),
        },
        window,
    )))
}

pub fn product_view(p: db::catalog::ProductWithSizes) -> ProductView {
    ProductView {
        slug: p.product.slug,
        name: p.product.name,
        description: p.product.description,
        sizes: p.sizes.iter().map(size_view).collect(),
    }
}

pub fn size_view(s: &db::catalog::SizeRow) -> SizeView {
    SizeView {
        id: s.id,
        size: s.size,
        resources: s.resources(),
        price_per_hour: s.rate().map(|r| r.to_decimal_string()),
        price_per_month_cents: s.rate().map(|r| r.monthly().0),
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PriceFilter {
    /// A product's slug, e.g. `container-namespace`.
    #[param(schema_with = super::params::no_control)]
    product: Option<String>,
    /// `S`, `M`, `L` or `XL`.
    #[param(schema_with = sizes_or_empty)]
    size: Option<String>,
    /// Without it: by product, size and start.
    #[param(schema_with = price_sorts)]
    sort: Option<String>,
}

const PRICE_SORTS: &[&str] = &["id", "valid_from"];
fn price_sorts() -> Object {
    paging::sort_schema(PRICE_SORTS)
}

fn sizes_or_empty() -> utoipa::openapi::Schema {
    super::params::one_of_or_empty(&["S", "M", "L", "XL"])
}

/// One price version of a product's size.
#[derive(Serialize, ToSchema)]
pub struct PriceVersionView {
    pub id: i64,
    pub product: String,
    pub size: Size,
    /// When it starts (RFC 3339, UTC; a German midnight).
    pub valid_from: String,
    /// When the next version starts; absent for the latest.
    pub valid_until: Option<String>,
    /// EUR per hour as an exact decimal string (4 places), e.g. `"0.1180"`.
    pub price_per_hour: String,
}

fn history(rows: Vec<PriceHistoryRow>) -> Vec<PriceVersionView> {
    let mut views: Vec<PriceVersionView> = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let next = rows
            .get(i + 1)
            .filter(|n| n.product_slug == row.product_slug && n.size == row.size);
        views.push(PriceVersionView {
            id: row.id,
            product: row.product_slug.clone(),
            size: row.size,
            valid_from: rfc3339(row.valid_from),
            valid_until: next.map(|n| rfc3339(n.valid_from)),
            price_per_hour: HourlyRate(row.rate).to_decimal_string(),
        });
    }
    views
}

/// Every price version, of one product and size where asked, by product,
/// size and start: the whole history, so that a bill can be recomputed.
#[utoipa::path(get, path = "/api/v1/catalog/prices", tag = "Katalog",
    params(PriceFilter, Paging),
    responses(
        (status = 200, body = PriceVersionPage),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "`validation` for `product`: the catalogue has no such product"),
    ))]
pub async fn prices(
    State(state): State<AppState>,
    _user: ApiUser,
    ApiQuery(Listed { filter, paging }): ApiQuery<Listed<PriceFilter>>,
) -> Result<Json<Page<PriceVersionView>>, Problem> {
    let sort = Sort::optional(filter.sort.as_deref(), PRICE_SORTS)?;
    let window = paging.window()?;
    let size = match filter.size.as_deref() {
        None | Some("") => None,
        Some(raw) => Some(
            raw.parse::<Size>()
                .map_err(|x| Error::validation("size", x.to_string()))?,
        ),
    };
    let product = filter.product.as_deref().filter(|p| !p.is_empty());
    if let Some(slug) = product
        && !db::catalog::product_exists(&state.db.pool, slug).await?
    {
        // A product the catalogue does not hold is its state: 409, not 422.
        return Err(Problem::refused_by_state(Error::validation(
            "product",
            crate::i18n::t("invalid-catalog-product-unknown"),
        )));
    }
    let rows = db::catalog::price_history(&state.db.pool, product, size).await?;
    Ok(Json(paging::page_of(
        history(rows),
        sort,
        |p: &PriceVersionView, field| match field {
            // RFC 3339 in UTC sorts as text in time order.
            "valid_from" => Key::Text(p.valid_from.clone()),
            _ => Key::Int(p.id),
        },
        window,
    )))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePrice {
    /// The product's slug.
    #[schema(pattern = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$")]
    pub product: String,
    pub size: Size,
    /// The German day it starts on (ISO 8601 date): tomorrow at the
    /// earliest, today for a size's first price.
    #[schema(format = Date)]
    pub valid_from: String,
    /// EUR per hour, at most four decimal places, e.g. `"0.1180"`.
    #[schema(pattern = "^(0{0,3}[0-9]{1,9}|0{0,2}1000000000)([.,][0-9]{0,4})?$")]
    pub price_per_hour: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePrice {
    /// EUR per hour, at most four decimal places.
    #[schema(pattern = "^(0{0,3}[0-9]{1,9}|0{0,2}1000000000)([.,][0-9]{0,4})?$")]
    pub price_per_hour: String,
}

/// One price version with its validity (`history` ends each version where
/// the next one of its size begins, so the whole history serves).
async fn version_view(state: &AppState, id: i64) -> Result<PriceVersionView, Problem> {
    let rows = db::catalog::price_history(&state.db.pool, None, None).await?;
    history(rows)
        .into_iter()
        .find(|v| v.id == id)
        .ok_or_else(|| Error::NotFound.into())
}

/// One price version with its validity.
#[utoipa::path(get, path = "/api/v1/catalog/prices/{id}", tag = "Katalog",
    params(("id" = i64, Path, description = "Preis-Id")),
    responses((status = 200, body = PriceVersionView)))]
pub async fn show_price(
    State(state): State<AppState>,
    _user: ApiUser,
    PathId(id): PathId,
) -> Result<Json<PriceVersionView>, Problem> {
    Ok(Json(version_view(&state, id).await?))
}

/// Adds a price version (Betreiber). Past prices are billed and stay.
#[utoipa::path(post, path = "/api/v1/catalog/prices", tag = "Katalog",
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "Client-chosen key that makes retries safe"),
    ),
    request_body = CreatePrice,
    responses(
        (status = 201, body = PriceVersionView, headers(("Location" = String))),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "the Idempotency-Key was used for another request (`conflict`), or `validation`: the catalogue has no such product in that size (`product`), or the day is not tomorrow or later, or has a price already (`valid_from`)"),
    ))]
pub async fn add_price(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> Result<Response, Problem> {
    policy::administer(&user).map_err(Error::from)?;
    let input: CreatePrice = parse_json(&headers, &body)?;
    let key = idempotency_key(&headers, "catalog/prices", 0, &body)?;
    let mut e = FieldErrors::default();
    let valid_from = crate::domain::calendar::parse_date(&input.valid_from);
    if valid_from.is_none() {
        e.add("valid_from", crate::i18n::t("invalid-date"));
    }
    let rate = HourlyRate::parse(&input.price_per_hour)
        .map_err(|x| e.add("price_per_hour", x.to_string()))
        .ok();
    e.into_result()?;
    let (Some(valid_from), Some(rate)) = (valid_from, rate) else {
        unreachable!("a field without a value has its message")
    };
    // The request is well-formed; whether the catalogue has the product in
    // that size, and whether the day is still to come, is the state of
    // things (409, with the message for the field).
    let size_id = {
        let mut conn = state.db.pool.acquire().await?;
        db::catalog::size_id(&mut conn, &input.product, input.size).await?
    };
    let Some(product_size_id) = size_id else {
        return Err(Problem::refused_by_state(Error::validation(
            "product",
            crate::i18n::t("invalid-product-size"),
        )));
    };
    let new = NewPrice {
        product_size_id,
        valid_from,
        rate,
    };
    let outcome = app::catalog::add_price_once(&state.db, &user, &new, key.as_ref(), db::now())
        .await
        .map_err(Problem::refused_by_state)?;
    let id = outcome.id();
    Ok(super::created(
        Json(version_view(&state, id).await?),
        &format!("/api/v1/catalog/prices/{id}"),
        outcome,
    ))
}

/// Changes a price version that has not started yet (Betreiber).
#[utoipa::path(patch, path = "/api/v1/catalog/prices/{id}", tag = "Katalog",
    params(("id" = i64, Path, description = "Preis-Id")),
    request_body = ChangePrice,
    responses(
        (status = 200, body = PriceVersionView),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "the price has started and is billed"),
    ))]
pub async fn change_price(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    PathId(id): PathId,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> Result<Json<PriceVersionView>, Problem> {
    policy::administer(&user).map_err(Error::from)?;
    let input: ChangePrice = parse_json(&headers, &body)?;
    let rate = HourlyRate::parse(&input.price_per_hour)
        .map_err(|x| Error::validation("price_per_hour", x.to_string()))?;
    app::catalog::update_price(&state.db, &user, id, rate, db::now()).await?;
    Ok(Json(version_view(&state, id).await?))
}
