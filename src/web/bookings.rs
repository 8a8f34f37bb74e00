//! Buchungen: the list with filters, search, sorting and its CSV, and the
//! detail with period history and audit entries (Größe ändern and Kündigen
//! are in `booking_change`).

use askama::Template;
use axum::{
    Router,
    extract::{Path, Query, State},
    response::{IntoResponse as _, Response},
    routing::get,
};
use serde::Deserialize;

use super::{
    Layout, Nav, PageError, Route, Url,
    lang::t,
    listing::{self, Column, Listing},
    render,
    session::PageUser,
    shop::describe,
    urls::BookingFilter,
};
use crate::{
    app::FieldErrors,
    db::{
        self,
        applications::Application,
        bookings::{Booking, Filter, Period},
    },
    domain::actor::Scope,
    domain::{BookingState, Cents, Size, Stage, environment::SyncState},
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(Route::Bookings.pattern(), get(list))
        .route(Route::BookingsCsv.pattern(), get(list_csv))
        .route(Route::Booking.pattern(), get(detail))
        .route(
            Route::BookingState.pattern(),
            get(super::booking_state::fragment),
        )
        .merge(super::booking_change::router())
}

const PER_PAGE: i64 = 50;

#[derive(Debug, Default, Deserialize)]
struct ListParams {
    verfahren: Option<String>,
    stufe: Option<String>,
    status: Option<String>,
    produkt: Option<String>,
    groesse: Option<String>,
    suche: Option<String>,
    sortierung: Option<String>,
    seite: Option<String>,
    /// `rfc4180` for the machine CSV.
    format: Option<String>,
}

impl ListParams {
    /// The filter as typed, for links (paging, sorting, the CSV).
    fn typed(&self) -> BookingFilter {
        let f = |v: &Option<String>| nonempty(v).unwrap_or_default().to_owned();
        BookingFilter {
            application: f(&self.verfahren),
            stage: f(&self.stufe),
            state: f(&self.status),
            product: f(&self.produkt),
            size: f(&self.groesse),
            text: f(&self.suche),
            sort: f(&self.sortierung),
        }
    }

    /// Search and order, read as the API reads `q` and `sort`.
    fn listing(&self) -> Listing {
        Listing::parse(
            self.suche.as_deref(),
            self.sortierung.as_deref(),
            crate::app::bookings::SORTS,
            "-id",
        )
    }

    /// The filter. Unknown filter values are ignored rather than refused:
    /// a stale bookmark should still show a list.
    fn filter(&self, text: Option<String>) -> Filter {
        Filter {
            customer_id: None,
            application_id: nonempty(&self.verfahren).and_then(|v| v.parse().ok()),
            stage: nonempty(&self.stufe).and_then(|v| v.parse().ok()),
            state: nonempty(&self.status).and_then(|v| v.parse().ok()),
            product: nonempty(&self.produkt).map(str::to_owned),
            size: nonempty(&self.groesse).and_then(|v| v.parse().ok()),
            text,
        }
    }
}

/// A filter value kept as typed, for re-showing it in the form.
fn nonempty(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.is_empty())
}

pub struct Row {
    pub id: i64,
    pub customer: String,
    pub application: String,
    pub stage: Stage,
    pub product: String,
    pub size: Size,
    pub state: BookingState,
    pub sync: SyncState,
    pub since: String,
    pub per_month: Cents,
}

impl Row {
    /// Whether the state is not final yet: the booking is not provisioned,
    /// or a change is still on its way to the cluster.
    pub fn pending(&self) -> bool {
        self.state == BookingState::Beantragt || self.sync == SyncState::Laeuft
    }
}

pub(super) fn row(b: &Booking) -> Row {
    Row {
        id: b.id,
        customer: b.customer_name.clone(),
        application: b.application_name.clone(),
        stage: b.stage,
        product: b.product_name.clone(),
        size: b.size,
        state: b.state,
        sync: b.sync(),
        since: super::format::date_time(b.created_at),
        per_month: b.rate().monthly(),
    }
}

#[derive(Template)]
#[template(path = "bookings.html")]
struct ListPage {
    layout: Layout,
    rows: Vec<Row>,
    total: i64,
    page: i64,
    pages: i64,
    applications: Vec<Application>,
    stages: [Stage; 4],
    states: [BookingState; 3],
    sizes: [Size; 4],
    products: Vec<(String, String)>,
    show_customer: bool,
    f_application: String,
    f_stage: String,
    f_state: String,
    f_product: String,
    f_size: String,
    f_text: String,
    /// The order as in the address, kept by the filter form.
    f_sort: String,
    columns: Vec<Column>,
    csv: Url,
    /// This page again, while a row's state is not final (without
    /// JavaScript the list does not refresh itself).
    refresh: Option<Url>,
    errors: FieldErrors,
    /// The neighbouring pages with the same filter, where there are some.
    previous: Option<Url>,
    next: Option<Url>,
}

async fn list(
    State(state): State<AppState>,
    page: PageUser,
    Query(p): Query<ListParams>,
) -> Result<Response, PageError> {
    let pool = &state.db.pool;
    let now = db::now();
    let scope = page.user.scope();
    if scope == Scope::Nothing {
        return Err(PageError::Forbidden);
    }
    let listing = p.listing();
    let filter = p.filter(listing.text.clone());
    let current = nonempty(&p.seite)
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|n| (1..=100_000).contains(n))
        .unwrap_or(1);
    let result = crate::app::bookings::list(
        &state.db,
        &page.user,
        &filter,
        (PER_PAGE, (current - 1) * PER_PAGE),
        crate::app::bookings::order(listing.sort),
        now,
    )
    .await?;
    let products = db::catalog::products(pool, now)
        .await?
        .into_iter()
        .map(|p| (p.product.slug, p.product.name))
        .collect();
    let applications = match scope {
        Scope::Customer(_) => db::applications::list(pool, scope).await?,
        _ => Vec::new(),
    };
    let f = |v: &Option<String>| nonempty(v).unwrap_or_default().to_owned();
    let pages = ((result.total + PER_PAGE - 1) / PER_PAGE).max(1);
    let typed = p.typed();
    let page_url = |page: i64| Url::BookingsPage {
        filter: typed.clone(),
        page,
    };
    // A header link sorts from the first page, keeping the filters.
    let sorted = |sort: String| Url::BookingsPage {
        filter: BookingFilter {
            sort,
            ..typed.clone()
        },
        page: 1,
    };
    let show_customer = scope == Scope::All;
    let mut columns = vec![Column::new("col-number", "id", listing.sort, sorted)];
    if show_customer {
        columns.push(Column::new(
            "col-customer",
            "customer",
            listing.sort,
            sorted,
        ));
    }
    columns.extend([
        Column::new("col-application", "application", listing.sort, sorted),
        Column::new("col-stage", "stage", listing.sort, sorted),
        Column::new("col-product", "product", listing.sort, sorted),
        Column::new("col-size", "size", listing.sort, sorted),
        Column::new("col-state", "state", listing.sort, sorted),
        Column::new("col-booked-on", "created_at", listing.sort, sorted),
        Column::new("col-per-month", "price", listing.sort, sorted).numeric(),
    ]);
    let invalid = !listing.errors.is_empty();
    let rows: Vec<Row> = result.items.iter().map(row).collect();
    let refresh = rows.iter().any(Row::pending).then(|| page_url(current));
    let mut response = render(&ListPage {
        layout: page.layout(page.t("nav-bookings"), Nav::Bookings),
        rows,
        refresh,
        total: result.total,
        page: current,
        pages,
        applications,
        stages: Stage::ALL,
        states: BookingState::ALL,
        sizes: Size::ALL,
        products,
        show_customer,
        f_application: f(&p.verfahren),
        f_stage: f(&p.stufe),
        f_state: f(&p.status),
        f_product: f(&p.produkt),
        f_size: f(&p.groesse),
        f_text: f(&p.suche),
        f_sort: if listing.errors.get("sortierung").is_some() {
            String::new()
        } else {
            f(&p.sortierung)
        },
        columns,
        csv: Url::BookingsCsv(typed.clone()),
        errors: listing.errors,
        previous: (current > 1).then(|| page_url(current - 1)),
        next: (current < pages).then(|| page_url(current + 1)),
    })?;
    if invalid {
        *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

/// The list as CSV: every booking that matches, in the list's order (not
/// only one page), within the person's scope.
async fn list_csv(
    State(state): State<AppState>,
    page: PageUser,
    Query(p): Query<ListParams>,
) -> Result<Response, PageError> {
    if page.user.scope() == Scope::Nothing {
        return Err(PageError::Forbidden);
    }
    let listing = p.listing();
    if let Some(message) = listing.refusal() {
        return Err(PageError::BadForm(message));
    }
    let format = listing::format(p.format.as_deref()).map_err(PageError::BadForm)?;
    let export = crate::app::bookings::export(
        &state.db,
        &page.user,
        p.filter(listing.text),
        crate::app::bookings::order(listing.sort),
        format,
        db::now(),
    );
    Ok(export.into_response())
}

pub struct PeriodRow {
    pub size: Size,
    pub resources: String,
    pub from: String,
    pub until: String,
}

fn period_row(p: &Period) -> PeriodRow {
    PeriodRow {
        size: p.size,
        resources: describe(&crate::domain::Resources {
            millicpu: p.millicpu,
            memory_mib: p.memory_mib,
            storage_gib: p.storage_gib,
            pods: p.pods,
        }),
        from: crate::web::format::date_time(p.starts_at),
        until: p
            .ends_at
            .map(crate::web::format::date_time)
            .unwrap_or_else(|| t("booking-running")),
    }
}

/// An entry of the booking's history, read as on the Revision page.
pub struct AuditView {
    pub at: String,
    pub actor: String,
    pub entry: crate::domain::audit::Described,
}

#[derive(Template)]
#[template(path = "booking.html")]
struct DetailPage {
    layout: Layout,
    r: Row,
    b: Booking,
    stage: Stage,
    state: BookingState,
    namespace: String,
    resources: String,
    created: String,
    cancelled: Option<String>,
    periods: Vec<PeriodRow>,
    audit: Vec<AuditView>,
    notice: Option<String>,
    can_change: bool,
}

#[derive(Deserialize)]
struct Notice {
    gebucht: Option<String>,
    geaendert: Option<String>,
    gekuendigt: Option<String>,
}

pub(super) fn booking_id(raw: &str) -> Result<i64, PageError> {
    raw.parse::<i64>().map_err(|_| PageError::NotFound)
}

async fn detail(
    State(state): State<AppState>,
    page: PageUser,
    Path(id): Path<String>,
    Query(n): Query<Notice>,
) -> Result<Response, PageError> {
    let id = booking_id(&id)?;
    let pool = &state.db.pool;
    let b = crate::app::bookings::get(&state.db, &page.user, id, db::now()).await?;
    let periods = db::bookings::periods(pool, id).await?;
    let audit = crate::app::revision::of_object(&state.db, &page.user, "booking", id).await?;
    let notice = if n.gebucht.is_some() {
        Some(t("booking-notice-booked"))
    } else if n.geaendert.is_some() {
        Some(t("booking-notice-resized"))
    } else if n.gekuendigt.is_some() {
        Some(t("booking-notice-cancelled"))
    } else {
        None
    };
    render(&DetailPage {
        layout: page.layout(
            page.t1("booking-title", "id", id.to_string()),
            Nav::Bookings,
        ),
        stage: b.stage,
        state: b.state,
        namespace: b.namespace(),
        resources: describe(&b.resources()),
        created: crate::web::format::date_time(b.created_at),
        cancelled: b.cancelled_at.map(crate::web::format::date_time),
        periods: periods.iter().map(period_row).collect(),
        audit: audit
            .into_iter()
            .map(|(row, entry)| AuditView {
                at: crate::web::format::date_time(row.at),
                actor: row.actor,
                entry,
            })
            .collect(),
        notice,
        can_change: page.user.can_book_for(b.customer_id) && b.state.is_open(),
        r: row(&b),
        b,
    })
}
