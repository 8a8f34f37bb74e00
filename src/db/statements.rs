//! Monthly statements in the database: the booking periods and prices they
//! are rated from, and the closed statements with their lines, written once
//! and never changed (triggers refuse it). The rules are in `billing`.

use std::collections::{HashMap, HashSet};

use sqlx::{AnyPool, Row as _, any::AnyRow};

use super::{Tx, contracts::Contract};
use crate::domain::{
    BookingState, Cents, HourlyRate, Resources, Stage,
    billing::{LineItem, LineKind, Month, Period},
};

/// The contract data a statement is addressed with. For a closed month it is
/// the copy taken at closing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub contract_id: i64,
    pub customer_id: i64,
    pub customer_name: String,
    pub contract_number: String,
    pub contract_title: String,
    pub kostenstelle: String,
    pub haushaltsstelle: String,
    pub leitweg_id: String,
}

impl Header {
    pub fn of(k: &Contract) -> Header {
        Header {
            contract_id: k.id,
            customer_id: k.customer_id,
            customer_name: k.customer_name.clone(),
            contract_number: k.number.clone(),
            contract_title: k.title.clone(),
            kostenstelle: k.kostenstelle.clone(),
            haushaltsstelle: k.haushaltsstelle.clone(),
            leitweg_id: k.leitweg_id.clone(),
        }
    }
}

/// Every price version: `(product_size_id, valid_from, rate)`.
pub async fn prices<'e, E>(executor: E) -> sqlx::Result<Vec<(i64, i64, HourlyRate)>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let rows: Vec<(i64, i64, i64)> =
        sqlx::query_as("SELECT product_size_id, valid_from, rate FROM prices")
            .fetch_all(executor)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(s, f, r)| (s, f, HourlyRate(r)))
        .collect())
}

/// Which contracts' periods to load.
#[derive(Debug, Clone, Copy)]
pub enum Of {
    Contract(i64),
    Customer(i64),
    All,
}

/// The booking periods that overlap `[from, to)`, by contract.
pub async fn periods<'e, E>(
    executor: E,
    of: Of,
    from: i64,
    to: i64,
) -> sqlx::Result<HashMap<i64, Vec<Period>>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let filter = match of {
        Of::Contract(_) => "AND b.contract_id = $3",
        Of::Customer(_) => "AND b.customer_id = $3",
        Of::All => "",
    };
    let sql = format!(
        "SELECT b.contract_id, p.booking_id, b.application_id, a.name, b.stage, pr.name, \
                p.size, p.product_size_id, p.starts_at, p.ends_at \
         FROM booking_periods p \
         JOIN bookings b ON b.id = p.booking_id \
         JOIN applications a ON a.id = b.application_id \
         JOIN products pr ON pr.id = b.product_id \
         WHERE p.starts_at < $1 AND (p.ends_at IS NULL OR p.ends_at > $2) {filter}"
    );
    let mut query = sqlx::query(super::sql(sql)).bind(to).bind(from);
    if let Of::Contract(id) | Of::Customer(id) = of {
        query = query.bind(id);
    }
    let rows = query.fetch_all(executor).await?;
    let mut out: HashMap<i64, Vec<Period>> = HashMap::new();
    for row in rows {
        let stage: Stage = row.try_get(4)?;
        out.entry(row.try_get(0)?).or_default().push(Period {
            booking_id: row.try_get(1)?,
            application_id: row.try_get(2)?,
            application_name: row.try_get(3)?,
            stage,
            product_name: row.try_get(5)?,
            size: row.try_get(6)?,
            product_size_id: row.try_get(7)?,
            starts_at: row.try_get(8)?,
            ends_at: row.try_get(9)?,
        });
    }
    Ok(out)
}

/// A period of the running month as the live month view needs it: rated
/// for the budget, summed for the Kontingent, shown in the Übersicht.
#[derive(Debug, Clone)]
pub struct LivePeriod {
    pub period: Period,
    pub product_id: i64,
    pub state: BookingState,
    pub resources: Resources,
}

/// The running month of some contracts, read in one statement: the open
/// periods (and those closed in the month before their cost was stored),
/// and per contract the stored cost of the periods that ended in it.
#[derive(Debug, Default)]
pub struct LiveMonth {
    pub periods: HashMap<i64, Vec<LivePeriod>>,
    pub settled: HashMap<i64, Cents>,
}

impl LiveMonth {
    pub fn periods_of(&self, contract_id: i64) -> &[LivePeriod] {
        self.periods.get(&contract_id).map_or(&[], Vec::as_slice)
    }

    pub fn settled_of(&self, contract_id: i64) -> Cents {
        self.settled.get(&contract_id).copied().unwrap_or_default()
    }
}

/// [`LiveMonth`] for the month `[from, to)`: the periods that touch it,
/// found through the bookings of the contract or customer; a closed one
/// with its cost stored counts only as that sum.
pub async fn live_month<'e, E>(executor: E, of: Of, from: i64, to: i64) -> sqlx::Result<LiveMonth>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let filter = match of {
        Of::Contract(_) => "AND b.contract_id = $3",
        Of::Customer(_) => "AND b.customer_id = $3",
        Of::All => "",
    };
    let sql = format!(
        "SELECT b.contract_id, p.booking_id, b.application_id, a.name, b.stage, pr.name, \
                p.size, p.product_size_id, p.starts_at, p.ends_at, b.product_id, b.state, \
                p.millicpu, p.memory_mib, p.storage_gib, p.pods, p.month_cents \
         FROM booking_periods p \
         JOIN bookings b ON b.id = p.booking_id \
         JOIN applications a ON a.id = b.application_id \
         JOIN products pr ON pr.id = b.product_id \
         WHERE p.starts_at < $1 AND (p.ends_at IS NULL OR p.ends_at > $2) {filter}"
    );
    let mut query = sqlx::query(super::sql(sql)).bind(to).bind(from);
    if let Of::Contract(id) | Of::Customer(id) = of {
        query = query.bind(id);
    }
    let mut out = LiveMonth::default();
    for row in query.fetch_all(executor).await? {
        let contract_id: i64 = row.try_get(0)?;
        if let Some(cents) = row.try_get::<Option<i64>, _>(16)? {
            out.settled.entry(contract_id).or_default().0 += cents;
            continue;
        }
        out.periods
            .entry(contract_id)
            .or_default()
            .push(LivePeriod {
                period: Period {
                    booking_id: row.try_get(1)?,
                    application_id: row.try_get(2)?,
                    application_name: row.try_get(3)?,
                    stage: row.try_get(4)?,
                    product_name: row.try_get(5)?,
                    size: row.try_get(6)?,
                    product_size_id: row.try_get(7)?,
                    starts_at: row.try_get(8)?,
                    ends_at: row.try_get(9)?,
                },
                product_id: row.try_get(10)?,
                state: row.try_get(11)?,
                resources: Resources {
                    millicpu: row.try_get(12)?,
                    memory_mib: row.try_get(13)?,
                    storage_gib: row.try_get(14)?,
                    pods: row.try_get(15)?,
                },
            });
    }
    Ok(out)
}

/// Closed periods that ended in `[from, to)` without a stored cost (closed
/// before the column existed, or seeded): `(id, product_size_id, starts_at,
/// ends_at)`.
pub async fn unsettled(
    pool: &AnyPool,
    from: i64,
    to: i64,
) -> sqlx::Result<Vec<(i64, i64, i64, i64)>> {
    sqlx::query_as(
        "SELECT id, product_size_id, starts_at, ends_at FROM booking_periods \
         WHERE ends_at > $1 AND ends_at < $2 AND month_cents IS NULL",
    )
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await
}

/// Stores a closed period's cost within the month it ended in.
pub async fn settle_period(tx: &mut Tx, period_id: i64, cents: Cents) -> sqlx::Result<()> {
    sqlx::query("UPDATE booking_periods SET month_cents = $1 WHERE id = $2")
        .bind(cents.0)
        .bind(period_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

// ----- closed statements ----------------------------------------------------

const LINES_SQL: &str = "SELECT kind, booking_id, application_name, stage, product_name, size, \
     starts_at, ends_at, seconds, rate, amount_cents \
     FROM statement_lines WHERE statement_id = $1 ORDER BY line_no";

pub fn line_from_row(row: &AnyRow) -> sqlx::Result<LineItem> {
    let kind: LineKind = row.try_get(0)?;
    let stage: Option<Stage> = row.try_get(3)?;
    let rate: Option<i64> = row.try_get(9)?;
    Ok(LineItem {
        kind,
        booking_id: row.try_get(1)?,
        application_name: row.try_get(2)?,
        stage,
        product_name: row.try_get(4)?,
        size: row.try_get(5)?,
        from: row.try_get(6)?,
        to: row.try_get(7)?,
        seconds: row.try_get(8)?,
        rate: rate.map(HourlyRate),
        amount: Cents(row.try_get(10)?),
    })
}

/// A closed statement's head row.
#[derive(Debug, Clone)]
pub struct Closed {
    pub id: i64,
    pub header: Header,
    pub total: Cents,
    /// The contract's monthly budget when the month was closed.
    pub budget: Cents,
    pub line_count: i64,
    pub closed_at: i64,
}

const CLOSED_COLUMNS: &str = "id, contract_id, customer_id, customer_name, contract_number, \
    contract_title, kostenstelle, haushaltsstelle, leitweg_id, total_cents, line_count, closed_at, \
    monthly_budget_cents";

fn closed_from_row(row: &AnyRow) -> sqlx::Result<Closed> {
    Ok(Closed {
        id: row.try_get(0)?,
        header: Header {
            contract_id: row.try_get(1)?,
            customer_id: row.try_get(2)?,
            customer_name: row.try_get(3)?,
            contract_number: row.try_get(4)?,
            contract_title: row.try_get(5)?,
            kostenstelle: row.try_get(6)?,
            haushaltsstelle: row.try_get(7)?,
            leitweg_id: row.try_get(8)?,
        },
        total: Cents(row.try_get(9)?),
        line_count: row.try_get(10)?,
        closed_at: row.try_get(11)?,
        budget: Cents(row.try_get(12)?),
    })
}

pub async fn closed(
    pool: &AnyPool,
    contract_id: i64,
    month: Month,
) -> sqlx::Result<Option<Closed>> {
    let row = sqlx::query(super::sql(format!(
        "SELECT {CLOSED_COLUMNS} FROM statements WHERE contract_id = $1 AND month = $2"
    )))
    .bind(contract_id)
    .bind(month.to_string())
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(closed_from_row).transpose()
}

pub async fn closed_of_month(pool: &AnyPool, month: Month) -> sqlx::Result<HashMap<i64, Closed>> {
    let rows = sqlx::query(super::sql(format!(
        "SELECT {CLOSED_COLUMNS} FROM statements WHERE month = $1"
    )))
    .bind(month.to_string())
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| closed_from_row(r).map(|c| (c.header.contract_id, c)))
        .collect()
}

/// The lines of a closed statement, as a stream (exports read them one by
/// one, so a month of a million lines never sits in memory).
pub fn closed_lines(
    pool: &AnyPool,
    statement_id: i64,
) -> impl futures_util::Stream<Item = sqlx::Result<AnyRow>> + Send + '_ {
    sqlx::query(LINES_SQL).bind(statement_id).fetch(pool)
}

/// The lines of a closed statement, all at once.
pub async fn lines_of(pool: &AnyPool, statement_id: i64) -> sqlx::Result<Vec<LineItem>> {
    sqlx::query(LINES_SQL)
        .bind(statement_id)
        .fetch_all(pool)
        .await?
        .iter()
        .map(line_from_row)
        .collect()
}

/// Every `(contract, month)` that has a closed statement.
pub async fn closed_months(pool: &AnyPool) -> sqlx::Result<HashSet<(i64, String)>> {
    let rows: Vec<(i64, String)> = sqlx::query_as("SELECT contract_id, month FROM statements")
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().collect())
}

/// Writes a closed statement's head, copying the contract's data as it is
/// now; `None` when the month of this contract is closed already (another
/// replica came first: the unique key lets exactly one through).
pub async fn insert(
    tx: &mut Tx,
    k: &Contract,
    month: Month,
    total: Cents,
    line_count: i64,
    now: i64,
) -> sqlx::Result<Option<i64>> {
    let inserted: Option<(i64,)> = sqlx::query_as(
        "INSERT INTO statements (contract_id, month, customer_id, customer_name, contract_number, \
           contract_title, kostenstelle, haushaltsstelle, leitweg_id, total_cents, line_count, closed_at, \
           monthly_budget_cents) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
         ON CONFLICT (contract_id, month) DO NOTHING RETURNING id",
    )
    .bind(k.id)
    .bind(month.to_string())
    .bind(k.customer_id)
    .bind(&k.customer_name)
    .bind(&k.number)
    .bind(&k.title)
    .bind(&k.kostenstelle)
    .bind(&k.haushaltsstelle)
    .bind(&k.leitweg_id)
    .bind(total.0)
    .bind(line_count)
    .bind(now)
    .bind(k.monthly_budget_cents)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(inserted.map(|(id,)| id))
}

/// At most this many lines per `INSERT` (13 values each, below SQLite's
/// limit of 32 766 bound values).
const LINES_PER_INSERT: usize = 1_000;

pub async fn insert_lines(tx: &mut Tx, statement_id: i64, lines: &[LineItem]) -> sqlx::Result<()> {
    for (chunk_no, chunk) in lines.chunks(LINES_PER_INSERT).enumerate() {
        let mut sql = String::from(
            "INSERT INTO statement_lines (statement_id, line_no, kind, booking_id, application_name, \
             stage, product_name, size, starts_at, ends_at, seconds, rate, amount_cents) VALUES ",
        );
        for i in 0..chunk.len() {
            let b = i * 13;
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for c in 1..=13 {
                if c > 1 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!("${}", b + c));
            }
            sql.push(')');
        }
        let mut query = sqlx::query(super::sql(sql));
        for (i, line) in chunk.iter().enumerate() {
            query = query
                .bind(statement_id)
                .bind((chunk_no * LINES_PER_INSERT + i + 1) as i64)
                .bind(line.kind.as_str())
                .bind(line.booking_id)
                .bind(line.application_name.clone())
                .bind(line.stage.map(|s| s.as_str()))
                .bind(line.product_name.clone())
                .bind(line.size)
                .bind(line.from)
                .bind(line.to)
                .bind(line.seconds)
                .bind(line.rate.map(|r| r.0))
                .bind(line.amount.0);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}
