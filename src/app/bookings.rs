//! Booking, resizing and cancelling quotas (Buchungen). Every change is
//! checked against the contract's Kontingent under a lock on the contract
//! (a row lock on PostgreSQL, `BEGIN IMMEDIATE` on SQLite), so a hundred
//! simultaneous bookings against room for ten give exactly ten.

use serde_json::json;
use sqlx::AnyConnection;

use futures_util::TryStreamExt as _;

use super::{
    Begun, Change, Created, Error, Result, environments,
    error::KontingentRefusal,
    export::{self, Export, Format, neutralise},
    listing::Sort,
    visible,
};
use crate::{
    db::{
        self, Db, Tx, audit,
        bookings::{Booking, Closed, Order, OrderBy},
        catalog, contracts,
    },
    domain::{
        BookingState, HourlyRate, Size, Slug, Stage,
        actor::CurrentUser,
        billing::Month,
        idempotency::Key,
        kontingent::{Commitment, KontingentExceeded},
        money::format_plain,
        policy,
        pricing::{Prices, month_cost},
    },
    i18n::{Arg, t, t_with},
};

/// A booking request, parsed at the edge.
#[derive(Debug, Clone)]
pub struct NewBooking {
    pub application_id: i64,
    pub stage: Stage,
    /// The product's slug (no product has another shape of name).
    pub product: Slug,
    pub size: Size,
}

/// A booking request checked against role, contract, catalogue and
/// Kontingent: what the confirmation page shows and what `book` writes.
#[derive(Debug, Clone)]
pub struct Plan {
    pub customer_id: i64,
    pub contract: contracts::Contract,
    pub product: catalog::Product,
    pub size: catalog::SizeRow,
    pub rate: HourlyRate,
    pub committed: Commitment,
    pub change: Commitment,
}

/// A change the Kontingent does not admit, with the ceilings that would and
/// the sizes that fit instead (`fitting`).
pub(super) fn refused(
    contract: &contracts::Contract,
    committed: &Commitment,
    change: &Commitment,
    exceeded: KontingentExceeded,
    fitting: Vec<Size>,
) -> Error {
    Error::Kontingent(Box::new(KontingentRefusal {
        contract_id: contract.id,
        exceeded,
        fit: crate::domain::kontingent::CeilingChange::to_fit(
            &contract.kontingent(),
            committed,
            change,
        ),
        fitting,
    }))
}

/// What booking `size` commits; `None` for a size without a price (not
/// for sale, so never offered).
fn commitment_of(size: &catalog::SizeRow) -> Option<Commitment> {
    size.rate().map(|rate| Commitment {
        resources: size.resources(),
        monthly_exact: rate.monthly_exact(),
    })
}

/// The sizes of `product_id` whose change (`change_to` of the size's
/// commitment) the contract's Kontingent admits on top of `committed`:
/// the same rule as the refusal, applied to each size.
async fn fitting_sizes(
    conn: &mut AnyConnection,
    contract: &contracts::Contract,
    committed: &Commitment,
    product_id: i64,
    now: i64,
    change_to: impl Fn(Size, Commitment) -> Option<Commitment>,
) -> Result<Vec<Size>> {
    let sizes = catalog::sizes_of(conn, product_id, now).await?;
    let options = sizes.iter().filter_map(|s| {
        commitment_of(s)
            .and_then(|c| change_to(s.size, c))
            .map(|change| (s.size, change))
    });
    Ok(contract.kontingent().fitting(committed, options))
}

/// The rate a size may be booked at; a size without a price is not for sale.
fn bookable(size: &catalog::SizeRow) -> Result<HourlyRate> {
    size.rate()
        .ok_or_else(|| Error::validation("size", t("invalid-size-no-price")))
}

async fn plan(
    db: &Db,
    conn: &mut AnyConnection,
    user: &CurrentUser,
    req: &NewBooking,
    now: i64,
    lock: bool,
) -> Result<Plan> {
    let (customer_id, contract_id) = db::applications::owner(conn, req.application_id)
        .await?
        .ok_or(Error::NotFound)?;
    policy::book(user, customer_id)?;
    let contract = contracts::load(db, conn, contract_id, lock)
        .await?
        .ok_or(Error::NotFound)?;
    if !contract.is_valid_at(now) {
        return Err(Error::ContractNotValid(t_with(
            "contract-not-valid-booking",
            &[
                ("number", Arg::from(contract.number.as_str())),
                ("from", Arg::from(contract.valid_from.to_string())),
                ("until", Arg::from(contract.valid_until.to_string())),
            ],
        )));
    }
    let (product, size) = catalog::size(conn, req.product.as_str(), req.size, now)
        .await?
        .ok_or_else(|| Error::validation("product", t("invalid-product-unknown")))?;
    let rate = bookable(&size)?;
    let committed = contracts::usage(&mut *conn, &contract, now).await?;
    let change = Commitment {
        resources: size.resources(),
        monthly_exact: rate.monthly_exact(),
    };
    if let Err(exceeded) = contract.kontingent().admit(&committed, &change) {
        let fitting =
            fitting_sizes(conn, &contract, &committed, product.id, now, |_, c| Some(c)).await?;
        return Err(refused(&contract, &committed, &change, exceeded, fitting));
    }
    Ok(Plan {
        customer_id,
        contract,
        product,
        size,
        rate,
        committed,
        change,
    })
}

/// Checks a booking request without writing anything (confirmation page).
pub async fn preview(db: &Db, user: &CurrentUser, req: &NewBooking, now: i64) -> Result<Plan> {
    let mut conn = db.pool.acquire().await?;
    plan(db, &mut conn, user, req, now, false).await
}

/// Bucht: a new booking in `beantragt`; the reconciler makes it `aktiv`
/// once the cluster has it.
pub async fn book(
    db: &Db,
    user: &CurrentUser,
    req: &NewBooking,
    key: Option<&Key>,
    now: i64,
) -> Result<Created> {
    let mut change = match Change::begin_idempotent(db, user, now, key).await? {
        Begun::Fresh(change) => change,
        Begun::Replayed(id) => return Ok(Created::Replayed(id)),
    };
    let plan = plan(db, change.conn(), user, req, now, true).await?;
    let environment_id =
        db::environments::id_of(change.conn(), req.application_id, req.stage).await?;
    let generation = environments::booking_changed(&mut change, environment_id, true).await?;
    let state = BookingState::Beantragt;
    let id = db::bookings::insert(
        change.tx(),
        &db::bookings::NewRow {
            customer_id: plan.customer_id,
            contract_id: plan.contract.id,
            application_id: req.application_id,
            environment_id,
            stage: req.stage,
            product_id: plan.product.id,
            size: req.size,
            state,
            created_by: user.id,
            sync_generation: generation,
            now,
        },
    )
    .await?;
    db::bookings::open_period(change.tx(), id, &plan.size, now).await?;
    change
        .audit(audit::Entry {
            customer_id: Some(plan.customer_id),
            action: "booking.created",
            object_type: "booking",
            object_id: id,
            before: None,
            after: Some(json!({
                "application_id": req.application_id, "stage": req.stage,
                "product": plan.product.slug, "size": req.size, "state": state,
            })),
        })
        .await?;
    change.commit_created(id).await
}

/// A booking the user may see; another tenant's id is `NotFound`.
pub async fn get(db: &Db, user: &CurrentUser, id: i64, now: i64) -> Result<Booking> {
    let mut conn = db.pool.acquire().await?;
    let row = db::bookings::find(&mut conn, id, now).await?;
    visible(user, row, |booking| booking.customer_id)
}

/// A booking with its periods (the size history).
pub async fn with_periods(
    db: &Db,
    user: &CurrentUser,
    id: i64,
    now: i64,
) -> Result<(Booking, Vec<db::bookings::Period>)> {
    let booking = get(db, user, id, now).await?;
    let periods = db::bookings::periods(&db.pool, id).await?;
    Ok((booking, periods))
}

/// The fields the booking list sorts by (`sort`, `sortierung`).
pub const SORTS: &[&str] = &[
    "id",
    "customer",
    "application",
    "stage",
    "product",
    "size",
    "state",
    "created_at",
    "price",
];

/// The database's order for a sort of [`SORTS`].
pub fn order(sort: Sort) -> Order {
    let by = match sort.field {
        "customer" => OrderBy::Customer,
        "application" => OrderBy::Application,
        "stage" => OrderBy::Stage,
        "product" => OrderBy::Product,
        "size" => OrderBy::Size,
        "state" => OrderBy::State,
        "created_at" => OrderBy::CreatedAt,
        "price" => OrderBy::Price,
        _ => OrderBy::Id,
    };
    Order {
        by,
        descending: sort.descending,
    }
}

/// The bookings the user may see, filtered, sorted and paged.
pub async fn list(
    db: &Db,
    user: &CurrentUser,
    filter: &db::bookings::Filter,
    (limit, offset): (i64, i64),
    order: Order,
    now: i64,
) -> Result<db::bookings::Page> {
    Ok(db::bookings::list(&db.pool, user.scope(), filter, (limit, offset), order, now).await?)
}

/// The columns of the booking list's CSV.
pub const CSV_COLUMNS: [&str; 12] = [
    "Nr.",
    "Kunde",
    "Vertrag",
    "Verfahren",
    "Stufe",
    "Produkt",
    "Größe",
    "Status",
    "Bereitstellung",
    "Gebucht am",
    "Gekündigt am",
    "je Monat (EUR)",
];

/// Starts the CSV of every booking the user may see that matches `filter`,
/// in `order` (the list's download: all rows, not one page).
pub fn export(
    db: &Db,
    user: &CurrentUser,
    filter: db::bookings::Filter,
    order: Order,
    format: Format,
    now: i64,
) -> Export {
    let (tx, rx) = export::channel();
    let (db, scope) = (db.clone(), user.scope());
    tokio::spawn(async move {
        let mut w = export::CsvWriter::new(format, &CSV_COLUMNS);
        let mut rows = db::bookings::all(&db.pool, scope, &filter, order, now);
        loop {
            match rows.try_next().await {
                Ok(Some(b)) => {
                    csv_row(&mut w, &b);
                    if export::send(&tx, &mut w, false).await.is_err() {
                        return;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::error!(error = %e, "booking export failed");
                    export::fail(&tx, e).await;
                    return;
                }
            }
        }
        let _ = export::send(&tx, &mut w, true).await;
    });
    Export {
        rx,
        file_name: "buchungen.csv".into(),
        content_type: export::CSV,
    }
}

fn csv_row(w: &mut export::CsvWriter, b: &Booking) {
    let d = w.format().decimal();
    let sync = b.sync().label();
    w.record(&[
        &b.id.to_string(),
        &neutralise(&b.customer_name),
        &neutralise(&b.contract_number),
        &neutralise(&b.application_name),
        b.stage.label(),
        &neutralise(&b.product_name),
        b.size.as_str(),
        b.state.label(),
        &neutralise(&sync),
        &export::iso(b.created_at),
        &b.cancelled_at.map(export::iso).unwrap_or_default(),
        &format_plain(b.rate().monthly().0, 2, d),
    ]);
}

/// Loads a booking for a change, after locking its contract when `lock`.
async fn load_for_change(
    db: &Db,
    conn: &mut AnyConnection,
    user: &CurrentUser,
    id: i64,
    now: i64,
    lock: bool,
) -> Result<(Booking, contracts::Contract)> {
    let (customer_id, contract_id) = db::bookings::owner(conn, id)
        .await?
        .ok_or(Error::NotFound)?;
    policy::book(user, customer_id)?;
    let contract = contracts::load(db, conn, contract_id, lock)
        .await?
        .ok_or(Error::NotFound)?;
    let booking = db::bookings::find(conn, id, now)
        .await?
        .ok_or(Error::NotFound)?;
    if !booking.state.is_open() {
        return Err(Error::Conflict(t("conflict-booking-cancelled")));
    }
    Ok((booking, contract))
}

/// A booking that `user` may resize or cancel now (the forms and
/// confirmation pages); the change itself checks again under the lock.
pub async fn changeable(db: &Db, user: &CurrentUser, id: i64, now: i64) -> Result<Booking> {
    let mut conn = db.pool.acquire().await?;
    Ok(load_for_change(db, &mut conn, user, id, now, false)
        .await?
        .0)
}

/// A resize checked against contract, catalogue and Kontingent.
#[derive(Debug, Clone)]
pub struct ResizePlan {
    pub booking: Booking,
    pub contract: contracts::Contract,
    pub size: catalog::SizeRow,
    pub rate: HourlyRate,
    pub old: Commitment,
    pub new: Commitment,
    pub committed: Commitment,
}

async fn plan_resize(
    db: &Db,
    conn: &mut AnyConnection,
    user: &CurrentUser,
    id: i64,
    new_size: Size,
    now: i64,
    lock: bool,
) -> Result<ResizePlan> {
    let (booking, contract) = load_for_change(db, conn, user, id, now, lock).await?;
    if booking.size == new_size {
        return Err(Error::validation(
            "size",
            t_with(
                "invalid-size-same",
                &[("size", Arg::from(new_size.to_string()))],
            ),
        ));
    }
    let (_, size) = catalog::size(conn, &booking.product_slug, new_size, now)
        .await?
        .ok_or_else(|| Error::validation("size", t("invalid-size-of-product")))?;
    let rate = bookable(&size)?;
    let old = Commitment {
        resources: booking.resources(),
        monthly_exact: booking.rate().monthly_exact(),
    };
    let new = Commitment {
        resources: size.resources(),
        monthly_exact: rate.monthly_exact(),
    };
    let growing = new.resources.millicpu > old.resources.millicpu
        || new.resources.memory_mib > old.resources.memory_mib
        || new.resources.storage_gib > old.resources.storage_gib
        || new.monthly_exact > old.monthly_exact;
    if growing && !contract.is_valid_at(now) {
        return Err(Error::ContractNotValid(t_with(
            "contract-not-valid-resize",
            &[
                ("number", Arg::from(contract.number.as_str())),
                ("from", Arg::from(contract.valid_from.to_string())),
                ("until", Arg::from(contract.valid_until.to_string())),
            ],
        )));
    }
    let committed = contracts::usage(&mut *conn, &contract, now).await?;
    if let Err(exceeded) = contract.kontingent().admit(&committed, &(new - old)) {
        let current = booking.size;
        let fitting = fitting_sizes(conn, &contract, &committed, size.product_id, now, |s, c| {
            (s != current).then_some(c - old)
        })
        .await?;
        return Err(refused(
            &contract,
            &committed,
            &(new - old),
            exceeded,
            fitting,
        ));
    }
    Ok(ResizePlan {
        booking,
        contract,
        size,
        rate,
        old,
        new,
        committed,
    })
}

/// Stores the cost of a period `close_period` just ended, within the month
/// it ended in, in the same transaction: the running month's view adds
/// these up instead of rating every closed period again (`billing::live`).
pub(crate) async fn settle(tx: &mut Tx, closed: Option<Closed>) -> sqlx::Result<()> {
    let Some(c) = closed else {
        return Ok(());
    };
    let prices = Prices::new(db::statements::prices(&mut **tx).await?);
    let cents = month_cost(&prices, c.product_size_id, c.starts_at, c.ends_at);
    db::statements::settle_period(tx, c.id, cents).await
}

/// Stores the cost of the periods that ended this month without one (closed
/// by an older version, or seeded); run at start-up. Returns how many.
pub async fn settle_unsettled(db: &Db, now: i64) -> sqlx::Result<usize> {
    let month = Month::containing(now);
    let rows = db::statements::unsettled(&db.pool, month.start(), month.end()).await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let mut tx = db.begin_write().await?;
    let prices = Prices::new(db::statements::prices(&mut *tx).await?);
    for &(id, size_id, starts_at, ends_at) in &rows {
        let cents = month_cost(&prices, size_id, starts_at, ends_at);
        db::statements::settle_period(&mut tx, id, cents).await?;
    }
    tx.commit().await?;
    Ok(rows.len())
}

/// Checks a resize without writing anything (confirmation page).
pub async fn preview_resize(
    db: &Db,
    user: &CurrentUser,
    id: i64,
    new_size: Size,
    now: i64,
) -> Result<ResizePlan> {
    let mut conn = db.pool.acquire().await?;
    plan_resize(db, &mut conn, user, id, new_size, now, false).await
}

/// Größe ändern: closes the current period and opens one with the new size.
pub async fn resize(db: &Db, user: &CurrentUser, id: i64, new_size: Size, now: i64) -> Result<()> {
    let mut change = Change::begin(db, user, now).await?;
    let plan = plan_resize(db, change.conn(), user, id, new_size, now, true).await?;
    let closed = db::bookings::close_period(change.tx(), id, now).await?;
    settle(change.tx(), closed).await?;
    db::bookings::open_period(change.tx(), id, &plan.size, now).await?;
    let generation =
        environments::booking_changed(&mut change, plan.booking.environment_id, false).await?;
    db::bookings::set_size(change.tx(), id, new_size, generation).await?;
    change
        .audit(audit::Entry {
            customer_id: Some(plan.booking.customer_id),
            action: "booking.resized",
            object_type: "booking",
            object_id: id,
            before: Some(json!({"size": plan.booking.size})),
            after: Some(json!({"size": new_size})),
        })
        .await?;
    change.commit().await
}

/// Kündigen: ends the booking now; its periods stay for billing.
pub async fn cancel(db: &Db, user: &CurrentUser, id: i64, now: i64) -> Result<()> {
    let mut change = Change::begin(db, user, now).await?;
    let (booking, _) = load_for_change(db, change.conn(), user, id, now, true).await?;
    let closed = db::bookings::close_period(change.tx(), id, now).await?;
    settle(change.tx(), closed).await?;
    let generation =
        environments::booking_changed(&mut change, booking.environment_id, false).await?;
    db::bookings::set_cancelled(change.tx(), id, now, generation).await?;
    change
        .audit(audit::Entry {
            customer_id: Some(booking.customer_id),
            action: "booking.cancelled",
            object_type: "booking",
            object_id: id,
            before: Some(json!({"state": booking.state})),
            after: Some(json!({"state": BookingState::Gekuendigt})),
        })
        .await?;
    change.commit().await
}
