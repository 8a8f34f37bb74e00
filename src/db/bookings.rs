//! Bookings (Buchungen): the one place where quotas are booked, resized and
//! cancelled. Each function checks the role, checks the Kontingent under a
//! lock on the contract, writes the change and its audit entry, and commits
//! it all in one transaction.

use serde_json::json;
use sqlx::AnyPool;

use super::{Db, Tx, audit, catalog, contracts, environments, idempotency};
use crate::{
    domain::actor::{CurrentUser, Scope},
    domain::{
        BookingState, HourlyRate, Resources, Size, Stage, environment::SyncState,
        kontingent::Commitment,
    },
    error::{Error, Result},
};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Booking {
    pub id: i64,
    pub customer_id: i64,
    pub customer_name: String,
    pub customer_slug: String,
    pub contract_id: i64,
    pub contract_number: String,
    pub application_id: i64,
    pub environment_id: i64,
    pub application_slug: String,
    pub application_name: String,
    pub stage: String,
    pub product_slug: String,
    pub product_name: String,
    pub size: String,
    pub state: String,
    pub created_at: i64,
    pub cancelled_at: Option<i64>,
    pub millicpu: i64,
    pub memory_mib: i64,
    pub storage_gib: i64,
    pub pods: i64,
    pub rate: Option<i64>,
    /// The outbox generation of the booking's latest change.
    pub sync_generation: i64,
    /// How far the environment's reconciliation got.
    pub done_generation: Option<i64>,
    pub provisioning_error: Option<String>,
}

impl Booking {
    pub fn stage(&self) -> Stage {
        self.stage.parse().unwrap_or(Stage::Vorpruefung)
    }
    pub fn size(&self) -> Size {
        self.size.parse().unwrap_or(Size::S)
    }
    pub fn state(&self) -> BookingState {
        self.state.parse().unwrap_or(BookingState::Beantragt)
    }
    pub fn resources(&self) -> Resources {
        Resources {
            millicpu: self.millicpu,
            memory_mib: self.memory_mib,
            storage_gib: self.storage_gib,
            pods: self.pods,
        }
    }
    pub fn rate(&self) -> HourlyRate {
        HourlyRate(self.rate.unwrap_or(0))
    }
    /// The environment's namespace.
    pub fn namespace(&self) -> String {
        crate::domain::environment::namespace_name(
            &self.customer_slug,
            &self.application_slug,
            self.stage(),
        )
    }
    /// Whether the cluster has the booking's latest change.
    pub fn sync(&self) -> SyncState {
        SyncState::of(
            self.sync_generation,
            self.done_generation.unwrap_or(0),
            self.provisioning_error.as_deref(),
        )
    }
}

// The latest period holds the current (or, once cancelled, the last) size.
// Columns and FROM are separate macros so that `list` can add a column.
macro_rules! booking_columns {
    () => {
        "SELECT b.id, b.customer_id, c.name AS customer_name, c.slug AS customer_slug, b.contract_id, \
      k.number AS contract_number, b.application_id, b.environment_id, a.slug AS application_slug, \
      a.name AS application_name, b.stage, p.slug AS product_slug, p.name AS product_name, \
      b.size, b.state, b.created_at, b.cancelled_at, bp.millicpu, bp.memory_mib, \
      bp.storage_gib, bp.pods, \
      (SELECT pr.rate FROM prices pr WHERE pr.product_size_id = bp.product_size_id \
        AND pr.valid_from <= $1 ORDER BY pr.valid_from DESC LIMIT 1) AS rate, \
      b.sync_generation, o.done_generation, o.last_error AS provisioning_error"
    };
}
macro_rules! booking_from {
    () => {
        " FROM bookings b \
    JOIN customers c ON c.id = b.customer_id \
    JOIN contracts k ON k.id = b.contract_id \
    JOIN applications a ON a.id = b.application_id \
    JOIN products p ON p.id = b.product_id \
    JOIN booking_periods bp ON bp.id = (SELECT MAX(x.id) FROM booking_periods x WHERE x.booking_id = b.id) \
    LEFT JOIN provisioning_outbox o ON o.environment_id = b.environment_id"
    };
}
const SELECT: &str = concat!(booking_columns!(), booking_from!());

/// Filters of the booking list; all optional.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub customer_id: Option<i64>,
    pub application_id: Option<i64>,
    pub stage: Option<Stage>,
    pub state: Option<BookingState>,
    pub product: Option<String>,
    pub size: Option<Size>,
}

enum Param {
    Int(i64),
    Text(String),
}

/// Binds the filter values after `now` (`$1`), in placeholder order.
fn bind_params<'q, O>(
    mut query: sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments>,
    params: &[Param],
) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments> {
    for p in params {
        query = match p {
            Param::Int(v) => query.bind(*v),
            Param::Text(v) => query.bind(v.clone()),
        };
    }
    query
}

/// WHERE clause with numbered placeholders; `$1` is always `now`.
fn where_clause(scope: Scope, filter: &Filter) -> (String, Vec<Param>) {
    let mut clauses: Vec<String> = Vec::new();
    let mut params: Vec<Param> = Vec::new();
    let mut push = |column: &str, param: Param| {
        params.push(param);
        clauses.push(format!("{column} = ${}", params.len() + 1));
    };
    match scope {
        Scope::Customer(id) => push("b.customer_id", Param::Int(id)),
        Scope::Nothing => push("b.customer_id", Param::Int(-1)),
        Scope::All => {}
    }
    if let Some(id) = filter.customer_id {
        push("b.customer_id", Param::Int(id));
    }
    if let Some(id) = filter.application_id {
        push("b.application_id", Param::Int(id));
    }
    if let Some(stage) = filter.stage {
        push("b.stage", Param::Text(stage.as_str().into()));
    }
    if let Some(state) = filter.state {
        push("b.state", Param::Text(state.as_str().into()));
    }
    if let Some(product) = &filter.product {
        push("p.slug", Param::Text(product.clone()));
    }
    if let Some(size) = filter.size {
        push("b.size", Param::Text(size.as_str().into()));
    }
    let sql = if clauses.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", clauses.join(" AND "))
    };
    (sql, params)
}

pub struct Page {
    pub items: Vec<Booking>,
    pub total: i64,
}

/// A row of the list: the booking and the number of all matching bookings.
#[derive(sqlx::FromRow)]
struct Listed {
    #[sqlx(flatten)]
    booking: Booking,
    total: i64,
}

/// Largest page `list` returns, whatever the caller asks for.
const MAX_LIMIT: i64 = 1_000;

pub async fn list(
    pool: &AnyPool,
    scope: Scope,
    filter: &Filter,
    limit: i64,
    offset: i64,
    now: i64,
) -> sqlx::Result<Page> {
    let (where_sql, params) = where_clause(scope, filter);
    let n = params.len();
    let limit = limit.clamp(1, MAX_LIMIT);
    let offset = offset.max(0);
    // The count needs the product join only when filtering by product.
    let count_from = if filter.product.is_some() {
        " FROM bookings b JOIN products p ON p.id = b.product_id"
    } else {
        " FROM bookings b"
    };
    // One round trip: the total is an uncorrelated subquery, computed once.
    // LIMIT is an integer literal (clamped above, never text from a request):
    // with a bound LIMIT, PostgreSQL's generic plan assumes 10 % of the rows,
    // so it keeps planning every execution afresh, which cost more than
    // running the query. The first page, the one nearly every request asks
    // for, has no OFFSET, so its statement is planned once per connection;
    // later pages bind the OFFSET as usual.
    let mut items_sql = format!(
        "{columns}, (SELECT CAST(COUNT(*) AS BIGINT){count_from}{where_sql}) AS total\
         {from}{where_sql} ORDER BY b.id DESC LIMIT {limit}",
        columns = booking_columns!(),
        from = booking_from!(),
    );
    if offset > 0 {
        items_sql.push_str(&format!(" OFFSET ${}", n + 2));
    }
    let mut items = bind_params(
        sqlx::query_as::<_, Listed>(super::sql(items_sql)).bind(now),
        &params,
    );
    if offset > 0 {
        items = items.bind(offset);
    }
    let rows = items.fetch_all(pool).await?;
    let total = match rows.first() {
        Some(row) => row.total,
        None if offset == 0 => 0,
        // Past the last page: no row carries the total, so count alone.
        None => {
            let count_sql = format!(
                "SELECT CAST(COUNT(*) AS BIGINT){count_from} WHERE $1 = $1{}",
                where_sql.replacen(" WHERE ", " AND ", 1)
            );
            let count = sqlx::query_as::<_, (i64,)>(super::sql(count_sql)).bind(now);
            bind_params(count, &params).fetch_one(pool).await?.0
        }
    };
    Ok(Page {
        items: rows.into_iter().map(|r| r.booking).collect(),
        total,
    })
}

/// A booking the user may see; another tenant's id is `NotFound`.
pub async fn get(pool: &AnyPool, user: &CurrentUser, id: i64, now: i64) -> Result<Booking> {
    let booking: Option<Booking> = sqlx::query_as(super::sql(format!("{SELECT} WHERE b.id = $2")))
        .bind(now)
        .bind(id)
        .fetch_optional(pool)
        .await?;
    booking
        .filter(|b| user.can_see(b.customer_id))
        .ok_or(Error::NotFound)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Period {
    pub id: i64,
    pub size: String,
    pub millicpu: i64,
    pub memory_mib: i64,
    pub storage_gib: i64,
    pub pods: i64,
    pub starts_at: i64,
    pub ends_at: Option<i64>,
}

pub async fn periods(pool: &AnyPool, booking_id: i64) -> sqlx::Result<Vec<Period>> {
    sqlx::query_as(
        "SELECT id, size, millicpu, memory_mib, storage_gib, pods, starts_at, ends_at \
         FROM booking_periods WHERE booking_id = $1 ORDER BY id",
    )
    .bind(booking_id)
    .fetch_all(pool)
    .await
}

/// A booking request, parsed.
#[derive(Debug, Clone)]
pub struct NewBooking {
    pub application_id: i64,
    pub stage: Stage,
    pub product: String,
    pub size: Size,
}

/// The outcome of a create call: a new booking or the replay of an earlier
/// call with the same `Idempotency-Key`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    New(i64),
    Replayed(i64),
}

impl Created {
    pub fn id(self) -> i64 {
        match self {
            Created::New(id) | Created::Replayed(id) => id,
        }
    }
}

#[derive(sqlx::FromRow)]
struct AppRow {
    customer_id: i64,
    contract_id: i64,
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

async fn plan(
    db: &Db,
    conn: &mut sqlx::AnyConnection,
    user: &CurrentUser,
    req: &NewBooking,
    now: i64,
    lock: bool,
) -> Result<Plan> {
    let app: Option<AppRow> =
        sqlx::query_as("SELECT customer_id, contract_id FROM applications WHERE id = $1")
            .bind(req.application_id)
            .fetch_optional(&mut *conn)
            .await?;
    let app = app
        .filter(|a| user.can_see(a.customer_id))
        .ok_or(Error::NotFound)?;
    if !user.can_book_for(app.customer_id) {
        return Err(Error::Forbidden);
    }
    let contract = contracts::load(db, conn, app.contract_id, lock)
        .await?
        .ok_or(Error::NotFound)?;
    if !contract.is_valid_at(now) {
        return Err(Error::ContractNotValid(format!(
            "Der Vertrag {} gilt vom {} bis {}; heute kann darunter nicht gebucht werden.",
            contract.number, contract.valid_from, contract.valid_until
        )));
    }
    let (product, size) = catalog::size(conn, &req.product, req.size, now)
        .await?
        .ok_or_else(|| Error::validation("product", "Dieses Produkt gibt es nicht im Katalog."))?;
    let rate = size.rate().ok_or_else(|| {
        Error::validation(
            "size",
            "Für diese Größe gilt noch kein Preis; sie ist nicht buchbar.",
        )
    })?;
    let committed = contracts::usage(&mut *conn, &contract, now).await?;
    let change = Commitment {
        resources: size.resources(),
        monthly_exact: rate.monthly_exact(),
    };
    contract
        .kontingent()
        .admit(&committed, &change)
        .map_err(Error::Kontingent)?;
    Ok(Plan {
        customer_id: app.customer_id,
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

pub async fn book(
    db: &Db,
    user: &CurrentUser,
    req: &NewBooking,
    idempotency_key: Option<&idempotency::Key>,
    now: i64,
) -> Result<Created> {
    let mut tx = db.begin_write().await?;
    if let Some(key) = idempotency_key {
        if let Some(id) = idempotency::find(&mut tx, user.id, key).await? {
            return Ok(Created::Replayed(id));
        }
        // Claim the key before the Kontingent is checked: a simultaneous
        // retry must wait for this request and replay it, not be refused
        // because this request filled the contract.
        match idempotency::claim(&mut tx, user.id, key, now).await {
            Ok(()) => {}
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                drop(tx);
                return replay_after_race(db, user, key).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
    let plan = plan(db, &mut tx, user, req, now, true).await?;
    let (environment_id,): (i64,) =
        sqlx::query_as("SELECT id FROM environments WHERE application_id = $1 AND stage = $2")
            .bind(req.application_id)
            .bind(req.stage.as_str())
            .fetch_one(&mut *tx)
            .await?;
    // Accepted is not provisioned: the reconciler makes the booking aktiv
    // once the cluster has it.
    let state = BookingState::Beantragt;
    let generation = environments::changed(&mut tx, environment_id, true).await?;
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO bookings (customer_id, contract_id, application_id, environment_id, stage, \
         product_id, size, state, created_at, created_by, sync_generation) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
    )
    .bind(plan.customer_id)
    .bind(plan.contract.id)
    .bind(req.application_id)
    .bind(environment_id)
    .bind(req.stage.as_str())
    .bind(plan.product.id)
    .bind(req.size.as_str())
    .bind(state.as_str())
    .bind(now)
    .bind(user.id)
    .bind(generation)
    .fetch_one(&mut *tx)
    .await?;
    open_period(&mut tx, id, &plan.size, now).await?;
    audit::record(
        &mut tx,
        user,
        now,
        audit::Entry {
            customer_id: Some(plan.customer_id),
            action: "booking.created",
            object_type: "booking",
            object_id: id,
            before: None,
            after: Some(json!({
                "application_id": req.application_id, "stage": req.stage.as_str(),
                "product": plan.product.slug, "size": req.size.as_str(), "state": state.as_str(),
            })),
        },
    )
    .await?;
    if let Some(key) = idempotency_key {
        idempotency::complete(&mut tx, user.id, key, id).await?;
    }
    tx.commit().await?;
    db.wake_provisioning();
    Ok(Created::New(id))
}

async fn replay_after_race(db: &Db, user: &CurrentUser, key: &idempotency::Key) -> Result<Created> {
    idempotency::replay_after_race(db, user.id, key)
        .await
        .map(Created::Replayed)
}

async fn open_period(
    tx: &mut Tx,
    booking_id: i64,
    size: &catalog::SizeRow,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO booking_periods (booking_id, product_size_id, size, millicpu, memory_mib, \
         storage_gib, pods, starts_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(booking_id)
    .bind(size.id)
    .bind(size.size.as_str())
    .bind(size.millicpu)
    .bind(size.memory_mib)
    .bind(size.storage_gib)
    .bind(size.pods)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn close_period(tx: &mut Tx, booking_id: i64, now: i64) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE booking_periods SET ends_at = $1 WHERE booking_id = $2 AND ends_at IS NULL",
    )
    .bind(now)
    .bind(booking_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Loads a booking for a change, after locking its contract when `lock`.
async fn load_for_change(
    db: &Db,
    conn: &mut sqlx::AnyConnection,
    user: &CurrentUser,
    id: i64,
    now: i64,
    lock: bool,
) -> Result<(Booking, contracts::Contract)> {
    let head: Option<(i64, i64)> =
        sqlx::query_as("SELECT customer_id, contract_id FROM bookings WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    let (customer_id, contract_id) = head
        .filter(|(customer_id, _)| user.can_see(*customer_id))
        .ok_or(Error::NotFound)?;
    if !user.can_book_for(customer_id) {
        return Err(Error::Forbidden);
    }
    let contract = contracts::load(db, conn, contract_id, lock)
        .await?
        .ok_or(Error::NotFound)?;
    let booking: Booking = sqlx::query_as(super::sql(format!("{SELECT} WHERE b.id = $2")))
        .bind(now)
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
    if !booking.state().is_open() {
        return Err(Error::Conflict(
            "Diese Buchung ist bereits gekündigt.".into(),
        ));
    }
    Ok((booking, contract))
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
    conn: &mut sqlx::AnyConnection,
    user: &CurrentUser,
    id: i64,
    new_size: Size,
    now: i64,
    lock: bool,
) -> Result<ResizePlan> {
    let (booking, contract) = load_for_change(db, conn, user, id, now, lock).await?;
    if booking.size() == new_size {
        return Err(Error::validation(
            "size",
            format!("Die Buchung hat bereits die Größe {new_size}."),
        ));
    }
    let (_, size) = catalog::size(conn, &booking.product_slug, new_size, now)
        .await?
        .ok_or_else(|| Error::validation("size", "Diese Größe gibt es für das Produkt nicht."))?;
    let rate = size.rate().ok_or_else(|| {
        Error::validation(
            "size",
            "Für diese Größe gilt noch kein Preis; sie ist nicht buchbar.",
        )
    })?;
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
        return Err(Error::ContractNotValid(format!(
            "Der Vertrag {} gilt vom {} bis {}; vergrößern ist heute nicht möglich.",
            contract.number, contract.valid_from, contract.valid_until
        )));
    }
    let committed = contracts::usage(&mut *conn, &contract, now).await?;
    contract
        .kontingent()
        .admit(&committed, &(new - old))
        .map_err(Error::Kontingent)?;
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
    let mut tx = db.begin_write().await?;
    let plan = plan_resize(db, &mut tx, user, id, new_size, now, true).await?;
    close_period(&mut tx, id, now).await?;
    open_period(&mut tx, id, &plan.size, now).await?;
    let generation = environments::changed(&mut tx, plan.booking.environment_id, false).await?;
    sqlx::query("UPDATE bookings SET size = $1, sync_generation = $2 WHERE id = $3")
        .bind(new_size.as_str())
        .bind(generation)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        user,
        now,
        audit::Entry {
            customer_id: Some(plan.booking.customer_id),
            action: "booking.resized",
            object_type: "booking",
            object_id: id,
            before: Some(json!({"size": plan.booking.size})),
            after: Some(json!({"size": new_size.as_str()})),
        },
    )
    .await?;
    tx.commit().await?;
    db.wake_provisioning();
    Ok(())
}

/// A booking that `user` may resize or cancel now (the forms and
/// confirmation pages); the change itself checks again under the lock.
pub async fn changeable(db: &Db, user: &CurrentUser, id: i64, now: i64) -> Result<Booking> {
    let mut conn = db.pool.acquire().await?;
    Ok(load_for_change(db, &mut conn, user, id, now, false)
        .await?
        .0)
}

/// Kündigen: ends the booking now; its periods stay for billing.
pub async fn cancel(db: &Db, user: &CurrentUser, id: i64, now: i64) -> Result<()> {
    let mut tx = db.begin_write().await?;
    let (booking, _) = load_for_change(db, &mut tx, user, id, now, true).await?;
    close_period(&mut tx, id, now).await?;
    let generation = environments::changed(&mut tx, booking.environment_id, false).await?;
    sqlx::query(
        "UPDATE bookings SET state = 'gekuendigt', cancelled_at = $1, sync_generation = $2 \
         WHERE id = $3",
    )
    .bind(now)
    .bind(generation)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        user,
        now,
        audit::Entry {
            customer_id: Some(booking.customer_id),
            action: "booking.cancelled",
            object_type: "booking",
            object_id: id,
            before: Some(json!({"state": booking.state})),
            after: Some(json!({"state": "gekuendigt"})),
        },
    )
    .await?;
    tx.commit().await?;
    db.wake_provisioning();
    Ok(())
}

/// A booking as one line of the overview matrix.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Compact {
    pub id: i64,
    pub application_id: i64,
    pub stage: String,
    pub product_name: String,
    pub size: String,
    pub state: String,
}

/// Bookings of a customer that are not cancelled, for the overview.
pub async fn open_for_customer(pool: &AnyPool, customer_id: i64) -> sqlx::Result<Vec<Compact>> {
    sqlx::query_as(
        "SELECT b.id, b.application_id, b.stage, p.name AS product_name, b.size, b.state \
         FROM bookings b JOIN products p ON p.id = b.product_id \
         WHERE b.customer_id = $1 AND b.state <> 'gekuendigt' ORDER BY p.id, b.id",
    )
    .bind(customer_id)
    .fetch_all(pool)
    .await
}
