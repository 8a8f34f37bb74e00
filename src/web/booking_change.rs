//! Größe ändern and Kündigen of a booking: the form, the confirmation with
//! the contract as it would be afterwards (or the refusal with the sizes
//! that fit), and the change itself.

use askama::Template;
use axum::{
    Form, Router,
    extract::{Path, Query, State},
    response::Response,
    routing::{get, post},
};
use serde::Deserialize;

use super::{
    Layout, Nav, PageError, Route, Url,
    bookings::booking_id,
    kontingent::Refusal,
    lang::t,
    render, see_other,
    session::PageUser,
    shop::describe,
    urls::BookingNotice,
    view::{UsageBar, usage_bars},
};
use crate::{
    app::{FieldErrors, error::Error},
    db::{self, bookings::Booking},
    domain::{Cents, Size, Stage},
    state::AppState,
};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route(
            Route::BookingResize.pattern(),
            get(resize_form).post(resize),
        )
        .route(Route::BookingResizeCheck.pattern(), post(resize_confirm))
        .route(
            Route::BookingCancel.pattern(),
            get(cancel_confirm).post(cancel),
        )
}

#[derive(Template)]
#[template(path = "booking_resize.html")]
struct ResizePage {
    layout: Layout,
    b: Booking,
    sizes: [Size; 4],
    chosen: String,
    error: Option<String>,
    refusal: Option<super::kontingent::Refusal>,
    /// The product of a Kontingent refusal and its sizes that fit.
    fit_product: String,
    fit: Vec<super::shop::FitChoice>,
}

#[derive(Deserialize)]
struct ResizeChoice {
    groesse: Option<String>,
}

async fn resize_form(
    State(state): State<AppState>,
    page: PageUser,
    Path(id): Path<String>,
    Query(choice): Query<ResizeChoice>,
) -> Result<Response, PageError> {
    let id = booking_id(&id)?;
    let b = crate::app::bookings::changeable(&state.db, &page.user, id, db::now()).await?;
    render(&ResizePage {
        layout: page.layout(t("booking-resize"), Nav::Bookings),
        chosen: choice.groesse.unwrap_or_default(),
        sizes: Size::ALL,
        error: None,
        refusal: None,
        fit_product: String::new(),
        fit: Vec::new(),
        b,
    })
}

#[derive(Deserialize)]
struct SizeForm {
    #[serde(default)]
    size: String,
}

impl SizeForm {
    fn parse(&self) -> Result<Size, Error> {
        self.size
            .parse()
            .map_err(|_| Error::validation("size", t("resize-choose-size")))
    }
}

#[derive(Template)]
#[template(path = "booking_resize_confirm.html")]
struct ResizeConfirmPage {
    layout: Layout,
    b: Booking,
    new_size: Size,
    old_resources: String,
    new_resources: String,
    old_month: Cents,
    new_month: Cents,
    after: Vec<UsageBar>,
}

/// Re-shows the size form with a message beside the field or above it.
async fn resize_refused(
    state: &AppState,
    page: &PageUser,
    id: i64,
    chosen: String,
    error: Error,
) -> Result<Response, PageError> {
    let (field, refusal) = match error {
        Error::Validation(e) => (
            e.get("size").map(str::to_owned).or(Some(e.to_string())),
            None,
        ),
        Error::Kontingent(k) => (None, Some(Refusal::of(&k))),
        Error::ContractNotValid(m) => (None, Some(Refusal::because(m))),
        other => return Err(other.into()),
    };
    let now = db::now();
    let b = crate::app::bookings::changeable(&state.db, &page.user, id, now).await?;
    let (fit_product, fit) = match refusal {
        Some(_) => super::shop::fit_choices(
            &super::shop::cards(db::catalog::products(&state.db.pool, now).await?),
            &b.product_slug,
            refusal.as_ref(),
            |size| Url::BookingResizeTo(id, size),
        ),
        None => (String::new(), Vec::new()),
    };
    let mut response = render(&ResizePage {
        layout: page.layout(t("booking-resize"), Nav::Bookings),
        sizes: Size::ALL,
        chosen,
        error: field,
        refusal,
        fit_product,
        fit,
        b,
    })?;
    *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    Ok(response)
}

async fn resize_confirm(
    State(state): State<AppState>,
    page: PageUser,
    Path(id): Path<String>,
    Form(form): Form<SizeForm>,
) -> Result<Response, PageError> {
    let id = booking_id(&id)?;
    let size = match form.parse() {
        Ok(size) => size,
        Err(e) => return resize_refused(&state, &page, id, form.size, e).await,
    };
    let plan = match crate::app::bookings::preview_resize(
        &state.db,
        &page.user,
        id,
        size,
        db::now(),
    )
    .await
    {
        Ok(plan) => plan,
        Err(e) => return resize_refused(&state, &page, id, form.size, e).await,
    };
    let after = usage_bars(
        &plan.contract.kontingent(),
        &(plan.committed - plan.old + plan.new),
    );
    render(&ResizeConfirmPage {
        layout: page.layout(t("resize-confirm-title"), Nav::Bookings),
        new_size: size,
        old_resources: describe(&plan.old.resources),
        new_resources: describe(&plan.new.resources),
        old_month: plan.old.monthly(),
        new_month: plan.new.monthly(),
        after,
        b: plan.booking,
    })
}

async fn resize(
    State(state): State<AppState>,
    page: PageUser,
    Path(id): Path<String>,
    Form(form): Form<SizeForm>,
) -> Result<Response, PageError> {
    let id = booking_id(&id)?;
    let size = match form.parse() {
        Ok(size) => size,
        Err(e) => return resize_refused(&state, &page, id, form.size, e).await,
    };
    match crate::app::bookings::resize(&state.db, &page.user, id, size, db::now()).await {
        Ok(()) => Ok(see_other(Url::BookingNotice(id, BookingNotice::Resized))),
        Err(e) => resize_refused(&state, &page, id, form.size, e).await,
    }
}

#[derive(Template)]
#[template(path = "booking_cancel.html")]
struct CancelPage {
    layout: Layout,
    b: Booking,
    stage: Stage,
    /// Persistent storage: its data goes with it, confirmed explicitly.
    holds_data: bool,
    errors: FieldErrors,
}

/// The field confirming that a storage booking's data will be deleted.
const DATA_LOSS: &str = "daten_loeschen";

fn cancel_page(page: &PageUser, b: Booking, errors: FieldErrors) -> CancelPage {
    CancelPage {
        layout: page.layout(t("cancel-title"), Nav::Bookings),
        stage: b.stage,
        holds_data: b.resources().holds_data(),
        errors,
        b,
    }
}

async fn cancel_confirm(
    State(state): State<AppState>,
    page: PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = booking_id(&id)?;
    let b = crate::app::bookings::changeable(&state.db, &page.user, id, db::now()).await?;
    render(&cancel_page(&page, b, FieldErrors::default()))
}

#[derive(Deserialize, Default)]
struct CancelForm {
    /// `ja` when the person confirmed that the data will be deleted.
    #[serde(default)]
    daten_loeschen: String,
}

/// Kündigen. Persistent storage only with the box ticked that its data
/// will be deleted (as dissolving an environment names what goes); the
/// API's explicit cancel call needs no such box.
async fn cancel(
    State(state): State<AppState>,
    page: PageUser,
    Path(id): Path<String>,
    Form(form): Form<CancelForm>,
) -> Result<Response, PageError> {
    let id = booking_id(&id)?;
    let now = db::now();
    let b = crate::app::bookings::changeable(&state.db, &page.user, id, now).await?;
    if b.resources().holds_data() && form.daten_loeschen != "ja" {
        let errors = FieldErrors::single(DATA_LOSS, t("cancel-confirm-data-loss"));
        let mut response = render(&cancel_page(&page, b, errors))?;
        *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(response);
    }
    crate::app::bookings::cancel(&state.db, &page.user, id, now).await?;
    Ok(see_other(Url::BookingNotice(id, BookingNotice::Cancelled)))
}
