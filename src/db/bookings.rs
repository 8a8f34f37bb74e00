//! Bookings (Buchungen) and their periods: rows, the list query and the
//! statements that write them. The rules live in the use cases (src/app/bookings.rs).

use sqlx::{AnyConnection, AnyPool};

use super::{Tx, Visible, catalog};
use crate::domain::{
    BookingState, HourlyRate, Resources, Size, Stage, actor::Scope, environment::SyncState,
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
    pub stage: Stage,
    pub product_slug: String,
    pub product_name: String,
    pub size: Size,
    pub state: BookingState,
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
            self.stage,
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
    /// A part of the customer's, application's or product's name or the
    /// application's slug, lower-cased.
    pub text: Option<String>,
}

/// What the booking list is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderBy {
    Id,
    Customer,
    Application,
    /// Along the staging chain, Vorprüfung first.
    Stage,
    Product,
    /// S, M, L, XL.
    Size,
    /// Along the lifecycle: beantragt, aktiv, gekündigt.
    State,
    CreatedAt,
    /// The current price per hour.
    Price,
}

impl OrderBy {
    fn sql(self) -> &'static str {
        match self {
            OrderBy::Id => "b.id",
            OrderBy::Customer => "LOWER(c.name)",
            OrderBy::Application => "LOWER(a.name)",
            OrderBy::Stage => {
                "CASE b.stage WHEN 'vorpruefung' THEN 1 WHEN 'abnahme' THEN 2 \
                 WHEN 'schulung' THEN 3 ELSE 4 END"
            }
            OrderBy::Product => "LOWER(p.name)",
            OrderBy::Size => {
                "CASE b.size WHEN 'S' THEN 1 WHEN 'M' THEN 2 WHEN 'L' THEN 3 ELSE 4 END"
            }
            OrderBy::State => "CASE b.state WHEN 'beantragt' THEN 1 WHEN 'aktiv' THEN 2 ELSE 3 END",
            OrderBy::CreatedAt => "b.created_at",
            // The output column; PostgreSQL allows its name only bare.
            OrderBy::Price => "rate",
        }
    }
}

/// The order of the booking list; ties go by id in the same direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Order {
    pub by: OrderBy,
    pub descending: bool,
}

impl Order {
    /// Newest first, the list's own order.
    pub const NEWEST: Order = Order {
        by: OrderBy::Id,
        descending: true,
    };

    fn sql(self) -> String {
        let dir = if self.descending { "DESC" } else { "ASC" };
        match self.by {
            OrderBy::Id => format!(" ORDER BY b.id {dir}"),
            by => format!(" ORDER BY {} {dir}, b.id {dir}", by.sql()),
        }
    }
}

/// Columns the search text is looked for in.
const SEARCHED: [&str; 4] = ["c.name", "a.name", "a.slug", "p.name"];

/// What `scope` may see of the bookings, narrowed by `filter`; `$1` is
/// always `now`, the filter's placeholders follow.
fn visible(scope: Scope, filter: &Filter) -> Option<Visible> {
    Some(
        Visible::after(1, scope, "b.customer_id")?
            .id("b.customer_id", filter.customer_id)
            .id("b.application_id", filter.application_id)
            .value("b.stage", filter.stage.map(Stage::as_str))
            .value("b.state", filter.state.map(BookingState::as_str))
            .text("p.slug", filter.product.as_deref())
            .value("b.size", filter.size.map(Size::as_str))
            .contains(
                &SEARCHED,
                filter.text.as_deref().map(super::like_pattern),
                ("", &[]),
            ),
    )
}

/// The statement that counts the bookings `visible` selects, with its
/// placeholders. The numbers the database keeps make the totals that need
/// no filter cheap: all bookings are the sum of 64 shards
/// (`booking_count_shards`, migration 0013), a customer's the row kept for
/// it (`booking_counts`, 0012), so the Betreiber's unfiltered total costs
/// the same at 200,000 bookings and 2,000 customers as at 20,000 and 200.
/// Any other filter counts the matching bookings.
fn count_sql(scope: Scope, filter: &Filter, visible: &Visible) -> String {
    let by_customer_only = filter.application_id.is_none()
        && filter.stage.is_none()
        && filter.state.is_none()
        && filter.product.is_none()
        && filter.size.is_none()
        && filter.text.is_none();
    if by_customer_only && scope == Scope::All && filter.customer_id.is_none() {
        return "SELECT CAST(COALESCE(SUM(s.bookings), 0) AS BIGINT) \
                FROM booking_count_shards s WHERE $1 = $1"
            .to_owned();
    }
    if by_customer_only {
        // Built in the same order as `visible`, so the placeholders agree.
        if let Some(kept) = Visible::after(1, scope, "n.customer_id") {
            let kept = kept.id("n.customer_id", filter.customer_id);
            return format!(
                "SELECT CAST(COALESCE(SUM(n.bookings), 0) AS BIGINT) \
                 FROM booking_counts n WHERE $1 = $1{}",
                kept.and_sql()
            );
        }
    }
    // The product join only when filtering by product, the names only when
    // searching them.
    let from = if filter.text.is_some() {
        " FROM bookings b JOIN customers c ON c.id = b.customer_id \
          JOIN applications a ON a.id = b.application_id \
          JOIN products p ON p.id = b.product_id"
    } else if filter.product.is_some() {
        " FROM bookings b JOIN products p ON p.id = b.product_id"
    } else {
        " FROM bookings b"
    };
    format!(
        "SELECT CAST(COUNT(*) AS BIGINT){from} WHERE $1 = $1{}",
        visible.and_sql()
    )
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
    (limit, offset): (i64, i64),
    order: Order,
    now: i64,
) -> sqlx::Result<Page> {
    let Some(visible) = visible(scope, filter) else {
        return Ok(Page {
            items: Vec::new(),
            total: 0,
        });
    };
    let where_sql = visible.sql();
    let n = visible.len();
    let limit = limit.clamp(1, MAX_LIMIT);
    let offset = offset.max(0);
    let count_sql = count_sql(scope, filter, &visible);
    // One round trip: the total is an uncorrelated subquery, computed once.
    // LIMIT is an integer literal (clamped above, never text from a request):
    // with a bound LIMIT, PostgreSQL's generic plan assumes 10 % of the rows,
    // so it keeps planning every execution afresh, which cost more than
    // running the query. The first page, the one nearly every request asks
    // for, has no OFFSET, so its statement is planned once per connection;
    // later pages bind the OFFSET as usual.
    let mut items_sql = format!(
        "{columns}, ({count_sql}) AS total{from}{where_sql}{order} LIMIT {limit}",
        columns = booking_columns!(),
        from = booking_from!(),
        order = order.sql(),
    );
    if offset > 0 {
        items_sql.push_str(&format!(" OFFSET ${}", n + 2));
    }
    let mut items = visible.bind(sqlx::query_as::<_, Listed>(super::sql(items_sql)).bind(now));
    if offset > 0 {
        items = items.bind(offset);
    }
    let rows = items.fetch_all(pool).await?;
    let total = match rows.first() {
        Some(row) => row.total,
        None if offset == 0 => 0,
        // Past the last page: no row carries the total, so count alone.
        None => {
            let count = sqlx::query_as::<_, (i64,)>(super::sql(count_sql)).bind(now);
            visible.bind(count).fetch_one(pool).await?.0
        }
    };
    Ok(Page {
        items: rows.into_iter().map(|r| r.booking).collect(),
        total,
    })
}

/// Every booking `scope` may see that matches `filter`, in `order`, as a
/// stream (the CSV download reads them one by one, whatever their number).
pub fn all<'a>(
    pool: &'a AnyPool,
    scope: Scope,
    filter: &Filter,
    order: Order,
    now: i64,
) -> impl futures_util::Stream<Item = sqlx::Result<Booking>> + Send + 'a {
    use futures_util::StreamExt as _;
    let Some(visible) = visible(scope, filter) else {
        return futures_util::stream::empty().left_stream();
    };
    let sql = format!("{SELECT}{}{}", visible.sql(), order.sql());
    visible
        .bind(sqlx::query_as::<_, Booking>(super::sql(sql)).bind(now))
        .fetch(pool)
        .right_stream()
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Period {
    pub id: i64,
    pub size: Size,
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

pub async fn open_period(
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

/// A period just closed: what it takes to store its cost.
#[derive(Debug, Clone, Copy, sqlx::FromRow)]
pub struct Closed {
    pub id: i64,
    pub product_size_id: i64,
    pub starts_at: i64,
    pub ends_at: i64,
}

/// Ends the booking's open period at `now`; the caller settles its cost
/// (`billing::live::settle`) in the same transaction.
pub async fn close_period(tx: &mut Tx, booking_id: i64, now: i64) -> sqlx::Result<Option<Closed>> {
    sqlx::query_as(
        "UPDATE booking_periods SET ends_at = $1 WHERE booking_id = $2 AND ends_at IS NULL \
         RETURNING id, product_size_id, starts_at, ends_at",
    )
    .bind(now)
    .bind(booking_id)
    .fetch_optional(&mut **tx)
    .await
}

/// One booking with what the portal shows about it.
pub async fn find(conn: &mut AnyConnection, id: i64, now: i64) -> sqlx::Result<Option<Booking>> {
    sqlx::query_as(super::sql(format!("{SELECT} WHERE b.id = $2")))
        .bind(now)
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// Whose booking it is: the customer and the contract it counts against.
pub async fn owner(conn: &mut AnyConnection, id: i64) -> sqlx::Result<Option<(i64, i64)>> {
    sqlx::query_as("SELECT customer_id, contract_id FROM bookings WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// A new booking's row.
pub struct NewRow {
    pub customer_id: i64,
    pub contract_id: i64,
    pub application_id: i64,
    pub environment_id: i64,
    pub stage: Stage,
    pub product_id: i64,
    pub size: Size,
    pub state: BookingState,
    pub created_by: i64,
    pub sync_generation: i64,
    pub now: i64,
}

pub async fn insert(tx: &mut Tx, row: &NewRow) -> sqlx::Result<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO bookings (customer_id, contract_id, application_id, environment_id, stage, \
         product_id, size, state, created_at, created_by, sync_generation) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
    )
    .bind(row.customer_id)
    .bind(row.contract_id)
    .bind(row.application_id)
    .bind(row.environment_id)
    .bind(row.stage)
    .bind(row.product_id)
    .bind(row.size)
    .bind(row.state)
    .bind(row.now)
    .bind(row.created_by)
    .bind(row.sync_generation)
    .fetch_one(&mut **tx)
    .await?;
    Ok(id)
}

pub async fn set_size(tx: &mut Tx, id: i64, size: Size, generation: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE bookings SET size = $1, sync_generation = $2 WHERE id = $3")
        .bind(size)
        .bind(generation)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn set_cancelled(tx: &mut Tx, id: i64, now: i64, generation: i64) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE bookings SET state = $1, cancelled_at = $2, sync_generation = $3 WHERE id = $4",
    )
    .bind(BookingState::Gekuendigt)
    .bind(now)
    .bind(generation)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// How many bookings of an environment are not cancelled.
pub async fn open_in_environment(
    conn: &mut AnyConnection,
    environment_id: i64,
) -> sqlx::Result<i64> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM bookings WHERE environment_id = $1 \
         AND state <> 'gekuendigt'",
    )
    .bind(environment_id)
    .fetch_one(conn)
    .await?;
    Ok(n)
}

/// Makes the bookings of an environment `aktiv` that a provisioned
/// generation carried; their ids and customers.
pub async fn activate_provisioned(
    tx: &mut Tx,
    environment_id: i64,
    generation: i64,
) -> sqlx::Result<Vec<(i64, i64)>> {
    sqlx::query_as(
        "UPDATE bookings SET state = 'aktiv' WHERE environment_id = $1 \
         AND state = 'beantragt' AND sync_generation <= $2 RETURNING id, customer_id",
    )
    .bind(environment_id)
    .bind(generation)
    .fetch_all(&mut **tx)
    .await
}

/// The bookings of an application that are not cancelled, oldest first.
pub async fn open_of_application(
    conn: &mut AnyConnection,
    application_id: i64,
    now: i64,
) -> sqlx::Result<Vec<Booking>> {
    sqlx::query_as(super::sql(format!(
        "{SELECT} WHERE b.application_id = $2 AND b.state <> 'gekuendigt' ORDER BY b.id"
    )))
    .bind(now)
    .bind(application_id)
    .fetch_all(conn)
    .await
}

/// Ends `booking` now and continues it under `contract_id` as a new booking
/// from now: same environment, product, size and state, and the same
/// provisioning generation (the environment's quota does not change). Its id,
/// and the old booking's period just closed (to be settled by the caller).
pub async fn carry_over(
    tx: &mut Tx,
    booking: &Booking,
    contract_id: i64,
    by: i64,
    now: i64,
) -> sqlx::Result<(i64, Option<Closed>)> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO bookings (customer_id, contract_id, application_id, environment_id, stage, \
         product_id, size, state, created_at, created_by, sync_generation) \
         SELECT customer_id, $1, application_id, environment_id, stage, product_id, size, state, \
         $2, $3, sync_generation FROM bookings WHERE id = $4 RETURNING id",
    )
    .bind(contract_id)
    .bind(now)
    .bind(by)
    .bind(booking.id)
    .fetch_one(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO booking_periods (booking_id, product_size_id, size, millicpu, memory_mib, \
         storage_gib, pods, starts_at) SELECT $1, product_size_id, size, millicpu, memory_mib, \
         storage_gib, pods, $2 FROM booking_periods WHERE booking_id = $3 AND ends_at IS NULL",
    )
    .bind(id)
    .bind(now)
    .bind(booking.id)
    .execute(&mut **tx)
    .await?;
    let closed = close_period(tx, booking.id, now).await?;
    set_cancelled(tx, booking.id, now, booking.sync_generation).await?;
    Ok((id, closed))
}
