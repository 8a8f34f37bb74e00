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
    contracts::{Amounts, ContractView, amounts},
    extract::{ApiBytes, ApiJson, ApiQuery, ApiUser, PathId, parse_json},
    paging::{self, Listed, Page, Paging, Sort},
    problem::Problem,
};
use crate::{
    app::bookings::NewBooking,
    app::error::{Error, FieldErrors},
    db::{
        self,
        bookings::{Booking, Filter},
    },
    domain::idempotency,
    domain::{
        BookingState, Resources, Size, Slug, Stage, calendar::rfc3339, environment::SyncState,
    },
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/bookings", get(list).post(create))
        .route("/bookings/check", post(check))
        .route("/bookings/{id}", get(show))
        .route("/bookings/{id}/resize", post(resize))
        .route("/bookings/{id}/resize/check", post(check_resize))
        .route("/bookings/{id}/cancel", post(cancel))
}

paging::page_schema!(BookingPage => BookingView);

#[derive(Serialize, ToSchema)]
pub struct PeriodView {
    pub size: Size,
    pub resources: Resources,
    /// RFC 3339, UTC.
    pub starts_at: String,
    /// RFC 3339, UTC; absent for the current period.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct BookingView {
    pub id: i64,
    pub customer_id: i64,
    pub contract_id: i64,
    pub application_id: i64,
    /// The application's slug.
    pub application: String,
    pub stage: Stage,
    /// The product's slug.
    pub product: String,
    pub size: Size,
    pub state: BookingState,
    /// Whether the cluster has the booking's latest change (creation,
    /// resize or cancellation).
    pub provisioning: SyncState,
    /// The environment (namespace) the booking is in.
    pub environment_id: i64,
    pub resources: Resources,
    /// Current EUR per hour as an exact decimal string, e.g. `"0.1180"`.
    pub price_per_hour: String,
    /// 730 hours of the current hourly price, in cents.
    pub price_per_month_cents: i64,
    /// RFC 3339, UTC.
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancelled_at: Option<String>,
    /// Size history, oldest first (only on single bookings).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub periods: Option<Vec<PeriodView>>,
}

fn view(b: &Booking) -> BookingView {
    BookingView {
        id: b.id,
        customer_id: b.customer_id,
        contract_id: b.contract_id,
        application_id: b.application_id,
        application: b.application_slug.clone(),
        stage: b.stage,
        product: b.product_slug.clone(),
        size: b.size,
        state: b.state,
        provisioning: b.sync(),
        environment_id: b.environment_id,
        resources: b.resources(),
        price_per_hour: b.rate().to_decimal_string(),
        price_per_month_cents: b.rate().monthly().0,
        created_at: rfc3339(b.created_at),
        cancelled_at: b.cancelled_at.map(rfc3339),
        periods: None,
    }
}

async fn detail(
    state: &AppState,
    user: &crate::domain::actor::CurrentUser,
    id: i64,
) -> Result<BookingView, Problem> {
    let pool = &state.db.pool;
    let booking = crate::app::bookings::get(&state.db, user, id, db::now()).await?;
    let periods = db::bookings::periods(pool, id).await?;
    let mut v = view(&booking);
    v.periods = Some(
        periods
            .into_iter()
            .map(|p| PeriodView {
                size: p.size,
                resources: Resources {
                    millicpu: p.millicpu,
                    memory_mib: p.memory_mib,
                    storage_gib: p.storage_gib,
                    pods: p.pods,
                },
                starts_at: rfc3339(p.starts_at),
                ends_at: p.ends_at.map(rfc3339),
            })
            .collect(),
    );
    Ok(v)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only this customer (Betreiber and provider finance; others see only their own).
    #[param(value_type = Option<i64>, minimum = 1)]
    customer_id: Option<String>,
    #[param(value_type = Option<i64>, minimum = 1)]
    application_id: Option<String>,
    /// `vorpruefung`, `abnahme`, `schulung` or `produktion`.
    #[param(value_type = Option<Stage>)]
    stage: Option<String>,
    /// `beantragt`, `aktiv` or `gekuendigt`.
    #[param(value_type = Option<BookingState>)]
    state: Option<String>,
    /// Product slug.
    #[param(pattern = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$")]
    product: Option<String>,
    /// `S`, `M`, `L` or `XL`.
    #[param(value_type = Option<Size>)]
    size: Option<String>,
    /// A part of the customer's, application's or product's name or the
    /// application's slug, any case.
    #[param(schema_with = paging::search_schema)]
    q: Option<String>,
    /// Default `-id` (newest first).
    #[param(schema_with = sorts)]
    sort: Option<String>,
}

const SORTS: &[&str] = crate::app::bookings::SORTS;
fn sorts() -> Object {
    paging::sort_schema(SORTS)
}

fn parse_id(errors: &mut FieldErrors, field: &str, raw: &Option<String>) -> Option<i64> {
    let raw = raw.as_deref()?;
    match raw.parse::<i64>() {
        Ok(v) if v > 0 => Some(v),
        _ => {
            errors.add(field, crate::i18n::t("invalid-positive-number"));
            None
        }
    }
}

fn parse_opt<T: std::str::FromStr>(
    errors: &mut FieldErrors,
    field: &str,
    raw: &Option<String>,
) -> Option<T>
where
    T::Err: std::fmt::Display,
{
    let raw = raw.as_deref()?;
    raw.parse::<T>()
        .map_err(|e| errors.add(field, e.to_string()))
        .ok()
}

/// Bookings the caller may see, newest first, filtered and paginated.
#[utoipa::path(get, path = "/api/v1/bookings", tag = "Buchungen",
    params(ListParams, Paging),
    responses(
        (status = 200, body = BookingPage),
    ))]
pub async fn list(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiQuery(Listed {
        filter: params,
        paging,
    }): ApiQuery<Listed<ListParams>>,
) -> Result<Json<Page<BookingView>>, Problem> {
    let mut e = FieldErrors::default();
    let filter = Filter {
        customer_id: parse_id(&mut e, "customer_id", &params.customer_id),
        application_id: parse_id(&mut e, "application_id", &params.application_id),
        stage: parse_opt(&mut e, "stage", &params.stage),
        state: parse_opt(&mut e, "state", &params.state),
        product: params.product.clone(),
        size: parse_opt(&mut e, "size", &params.size),
        text: match paging::search(params.q.as_deref()) {
            Ok(text) => text,
            Err(crate::app::Error::Validation(v)) => {
                e.0.extend(v.0);
                None
            }
            Err(other) => return Err(other.into()),
        },
    };
    e.into_result().map_err(Problem::from)?;
    let sort = Sort::parse(params.sort.as_deref(), SORTS, "-id")?;
    let window = paging.window()?;
    let result = crate::app::bookings::list(
        &state.db,
        &user,
        &filter,
        (window.limit, window.offset),
        crate::app::bookings::order(sort),
        db::now(),
    )
    .await?;
    Ok(Json(Page {
        items: result.items.iter().map(view).collect(),
        next: window.next(result.total),
        total: result.total,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBooking {
    #[schema(minimum = 1)]
    pub application_id: i64,
    /// `vorpruefung`, `abnahme`, `schulung` or `produktion`.
    #[schema(value_type = Stage)]
    pub stage: String,
    /// Product slug from the catalogue, e.g. `container-namespace`.
    #[schema(min_length = 1, max_length = 24, pattern = "^[a-z](-?[a-z0-9])*$")]
    pub product: String,
    /// `S`, `M`, `L` or `XL`.
    #[schema(value_type = Size)]
    pub size: String,
}

impl CreateBooking {
    fn parse(&self) -> Result<NewBooking, Problem> {
        let mut e = FieldErrors::default();
        let stage: Option<Stage> = parse_opt(&mut e, "stage", &Some(self.stage.clone()));
        let size: Option<Size> = parse_opt(&mut e, "size", &Some(self.size.clone()));
        if self.application_id <= 0 {
            e.add("application_id", crate::i18n::t("invalid-positive-number"));
        }
        let product = if self.product.trim().is_empty() {
            e.add("product", crate::i18n::t("invalid-product-empty"));
            None
        } else {
            // A name that cannot be a product's slug names no product.
            Slug::parse(&self.product)
                .map_err(|_| {
                    e.add(
                        "product",
                        crate::i18n::t("invalid-product-not-in-catalogue"),
                    )
                })
                .ok()
        };
        e.into_result().map_err(Problem::from)?;
        Ok(NewBooking {
            application_id: self.application_id,
            stage: stage.expect("checked"),
            product: product.expect("checked"),
            size: size.expect("checked"),
        })
    }
}

/// Books a quota (Systempfleger:in of the application's customer). The
/// Kontingent of the application's contract is checked in the same
/// transaction; a retry with the same `Idempotency-Key` returns the first
/// booking instead of booking twice.
#[utoipa::path(post, path = "/api/v1/bookings", tag = "Buchungen",
    request_body = CreateBooking,
    params(("Idempotency-Key" = Option<String>, Header, description = "Client-chosen key that makes retries safe")),
    responses(
        (status = 201, body = BookingView, headers(("Location" = String))),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "unknown application"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "kontingent-exceeded, contract-not-valid or conflict; `validation` with a message for `product` or `size` when the catalogue has no such product, or no price for the size yet"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> Result<Response, Problem> {
    let input: CreateBooking = parse_json(&headers, &body)?;
    let key = match headers.get("idempotency-key") {
        Some(v) => Some(
            idempotency::Key::parse(v.to_str().unwrap_or_default(), &body)
                .map_err(|e| Error::validation("Idempotency-Key", e.to_string()))?,
        ),
        None => None,
    };
    let request = input.parse()?;
    // The request is well-formed (checked above); what the catalogue
    // refuses (no such product, no price for the size yet) is its state.
    let created = crate::app::bookings::book(&state.db, &user, &request, key.as_ref(), db::now())
        .await
        .map_err(Problem::refused_by_state)?;
    let view = detail(&state, &user, created.id()).await?;
    Ok(super::created(
        Json(view),
        &format!("/api/v1/bookings/{}", created.id()),
        created,
    ))
}

/// One booking with its size history.
#[utoipa::path(get, path = "/api/v1/bookings/{id}", tag = "Buchungen",
    params(("id" = i64, Path, description = "Buchungs-Id")),
    responses(
        (status = 200, body = BookingView),
    ))]
pub async fn show(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    PathId(id): PathId,
) -> Result<Json<BookingView>, Problem> {
    Ok(Json(detail(&state, &user, id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResizeBooking {
    /// The new size: `S`, `M`, `L` or `XL`.
    #[schema(value_type = Size)]
    pub size: String,
}

impl ResizeBooking {
    fn parse(&self) -> Result<Size, Error> {
        self.size
            .parse()
            .map_err(|e: crate::domain::ids::UnknownValue| Error::validation("size", e.to_string()))
    }
}

/// Changes the size (Größe ändern): the current period ends now and one with
/// the new size starts. Growing is checked against the Kontingent.
#[utoipa::path(post, path = "/api/v1/bookings/{id}/resize", tag = "Buchungen",
    request_body = ResizeBooking,
    params(("id" = i64, Path, description = "Buchungs-Id")),
    responses(
        (status = 200, body = BookingView),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "kontingent-exceeded, contract-not-valid, conflict (cancelled); `validation` for `size` when the booking has that size already, or the size has no price yet"),
    ))]
pub async fn resize(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    PathId(id): PathId,
    ApiJson(input): ApiJson<ResizeBooking>,
) -> Result<Json<BookingView>, Problem> {
    let size = input.parse()?;
    // The size is one of S/M/L/XL (checked above); that it is the size
    // booked already, or has no price yet, is the state of booking and
    // catalogue.
    crate::app::bookings::resize(&state.db, &user, id, size, db::now())
        .await
        .map_err(Problem::refused_by_state)?;
    Ok(Json(detail(&state, &user, id).await?))
}

/// Cancels a booking (Kündigen) now. Its history stays for billing.
#[utoipa::path(post, path = "/api/v1/bookings/{id}/cancel", tag = "Buchungen",
    params(("id" = i64, Path, description = "Buchungs-Id")),
    responses(
        (status = 200, body = BookingView),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "already cancelled"),
    ))]
pub async fn cancel(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    PathId(id): PathId,
) -> Result<Json<BookingView>, Problem> {
    crate::app::bookings::cancel(&state.db, &user, id, db::now()).await?;
    Ok(Json(detail(&state, &user, id).await?))
}

/// What a booking or resize would do, checked without writing anything.
#[derive(Serialize, ToSchema)]
pub struct BookingCheck {
    /// EUR per hour of the (new) size as an exact decimal string.
    pub price_per_hour: String,
    /// 730 hours of it, in cents.
    pub price_per_month_cents: i64,
    /// What the change adds to the contract's Kontingent use (negative when
    /// a resize shrinks).
    pub adds: Amounts,
    /// The contract as it would be afterwards: ceilings, use and rest.
    pub contract_after: ContractView,
}

/// Checks a booking without booking (the shop's "Prüfen"): the same
/// answers as `POST /api/v1/bookings` for everything that would refuse it,
/// 200 with the price and the Kontingent afterwards when it fits. Nothing
/// is written; the booking itself checks again.
#[utoipa::path(post, path = "/api/v1/bookings/check", tag = "Buchungen",
    request_body = CreateBooking,
    responses(
        (status = 200, body = BookingCheck),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "unknown application"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "what the booking would refuse: kontingent-exceeded, contract-not-valid, or the catalogue's state"),
    ))]
pub async fn check(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiJson(input): ApiJson<CreateBooking>,
) -> Result<Json<BookingCheck>, Problem> {
    let request = input.parse()?;
    let plan = crate::app::bookings::preview(&state.db, &user, &request, db::now())
        .await
        .map_err(Problem::refused_by_state)?;
    Ok(Json(BookingCheck {
        price_per_hour: plan.rate.to_decimal_string(),
        price_per_month_cents: plan.rate.monthly().0,
        adds: amounts(&plan.change),
        contract_after: super::contracts::view(&plan.contract, &(plan.committed + plan.change)),
    }))
}

/// Checks a resize without resizing: like `POST …/resize`, writing nothing.
#[utoipa::path(post, path = "/api/v1/bookings/{id}/resize/check", tag = "Buchungen",
    request_body = ResizeBooking,
    params(("id" = i64, Path, description = "Buchungs-Id")),
    responses(
        (status = 200, body = BookingCheck),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "what the resize would refuse: kontingent-exceeded, already cancelled, the size booked already"),
    ))]
pub async fn check_resize(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    PathId(id): PathId,
    ApiJson(input): ApiJson<ResizeBooking>,
) -> Result<Json<BookingCheck>, Problem> {
    let size = input.parse()?;
    let plan = crate::app::bookings::preview_resize(&state.db, &user, id, size, db::now())
        .await
        .map_err(Problem::refused_by_state)?;
    let adds = plan.new - plan.old;
    Ok(Json(BookingCheck {
        price_per_hour: plan.rate.to_decimal_string(),
        price_per_month_cents: plan.rate.monthly().0,
        adds: amounts(&adds),
        contract_after: super::contracts::view(&plan.contract, &(plan.committed + adds)),
    }))
}
