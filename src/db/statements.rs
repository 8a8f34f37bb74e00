//! Monthly statements: rated live from the booking periods while a month is
//! open, written once and never changed again when it is closed.

use std::collections::{HashMap, HashSet};

use serde_json::json;
use sqlx::{AnyPool, Row as _, any::AnyRow};

use super::{Db, Tx, audit, contracts::Contract, seed};
use crate::{
    app::error::{Error, FieldErrors, Result},
    domain::actor::{CurrentUser, Scope},
    domain::{
        Cents, HourlyRate, Stage,
        billing::{
            self, BudgetWatch, LineItem, LineKind, Month, Period, Prices, Totals, base_fee_line,
            rate_month,
        },
        calendar::parse_date,
    },
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

#[derive(Debug, Clone)]
pub struct Statement {
    pub header: Header,
    pub month: Month,
    /// Set once the month is closed; the statement is final then.
    pub closed_at: Option<i64>,
    pub lines: Vec<LineItem>,
    pub totals: Totals,
    /// Live for an open month; for a closed one its total against the budget
    /// it was closed with, so nothing about a final statement changes when
    /// the contract does.
    pub budget: BudgetWatch,
}

impl Statement {
    pub fn is_final(&self) -> bool {
        self.closed_at.is_some()
    }
}

/// A statement without its lines, for lists.
#[derive(Debug, Clone)]
pub struct Summary {
    pub header: Header,
    pub month: Month,
    pub closed_at: Option<i64>,
    pub total: Cents,
    pub line_count: i64,
    pub budget: BudgetWatch,
}

/// Who may read statements: the provider's staff, and of a customer those
/// who answer for its cost. Developers see no money.
pub fn may_read(user: &CurrentUser) -> bool {
    use crate::domain::Role::*;
    [
        Betreiber,
        Finanzen,
        Systempfleger,
        Verfahrensverantwortlicher,
    ]
    .iter()
    .any(|r| user.has(*r))
}

/// Who may download the finance exports.
pub fn may_export(user: &CurrentUser) -> bool {
    use crate::domain::Role::*;
    user.has(Betreiber) || user.has(Finanzen)
}

/// Checks a month a user asks for: well-formed, not in the future, and (for
/// one contract) within the contract's validity.
pub fn parse_month(input: &str, now: i64) -> Result<Month> {
    let month = Month::parse(input).ok_or_else(|| {
        Error::validation(
            "month",
            format!(
                "„{}“ ist kein Monat im Format JJJJ-MM (Beispiel: 2026-11).",
                input.chars().take(20).collect::<String>()
            ),
        )
    })?;
    if month > Month::containing(now) {
        return Err(Error::validation(
            "month",
            format!(
                "Für {} gibt es noch keine Abrechnung; der Monat hat nicht begonnen.",
                month.label()
            ),
        ));
    }
    Ok(month)
}

fn validity(k: &Contract) -> Option<(jiff::civil::Date, jiff::civil::Date)> {
    Some((parse_date(&k.valid_from)?, parse_date(&k.valid_until)?))
}

/// Whether the contract is valid on any day of the month.
pub fn covers(k: &Contract, month: Month) -> bool {
    validity(k).is_some_and(|(from, until)| from <= month.last_day() && until >= month.first_day())
}

/// The months for which a contract has statements, newest first, up to the
/// current one.
pub fn months_of(k: &Contract, now: i64) -> Vec<Month> {
    let Some((from, until)) = validity(k) else {
        return Vec::new();
    };
    let last = Month::of(until).min(Month::containing(now));
    let mut months = Vec::new();
    let mut m = Month::of(from);
    while m <= last {
        months.push(m);
        m = m.next();
    }
    months.reverse();
    months
}

fn not_covered(k: &Contract, month: Month) -> Error {
    Error::validation(
        "month",
        format!(
            "Der Vertrag {} gilt im {} nicht (gültig {} bis {}).",
            k.number,
            month.label(),
            k.valid_from,
            k.valid_until
        ),
    )
}

// ----- rating from the bookings ----------------------------------------------

pub async fn prices<'e, E>(executor: E) -> sqlx::Result<Prices>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let rows: Vec<(i64, i64, i64)> =
        sqlx::query_as("SELECT product_size_id, valid_from, rate FROM prices")
            .fetch_all(executor)
            .await?;
    Ok(Prices::new(
        rows.into_iter().map(|(s, f, r)| (s, f, HourlyRate(r))),
    ))
}

/// Which contracts' periods to load.
#[derive(Debug, Clone, Copy)]
enum Of {
    Contract(i64),
    Customer(i64),
    All,
}

/// The booking periods that overlap `[from, to)`, by contract.
async fn periods<'e, E>(
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

/// The lines of a contract's month from its bookings, up to `until`.
fn rate(
    k: &Contract,
    periods: &[Period],
    prices: &Prices,
    month: Month,
    until: i64,
) -> Vec<LineItem> {
    let fee = match (k.billing_model.as_str(), validity(k)) {
        ("gemischt", Some((from, to))) => base_fee_line(k.base_fee(), from, to, month),
        _ => None,
    };
    rate_month(periods, prices, fee, month, until)
}

fn watch(k: &Contract, periods: &[Period], prices: &Prices, month: Month, now: i64) -> BudgetWatch {
    let so_far = billing::totals(&rate(k, periods, prices, month, now)).total;
    let forecast = if now < month.end() {
        billing::totals(&rate(k, periods, prices, month, month.end())).total
    } else {
        so_far
    };
    BudgetWatch {
        month,
        so_far,
        forecast,
        budget: Cents(k.monthly_budget_cents),
    }
}

/// The current month's cost so far and forecast of each contract.
pub async fn budgets(
    pool: &AnyPool,
    contracts: &[Contract],
    now: i64,
) -> sqlx::Result<HashMap<i64, BudgetWatch>> {
    let month = Month::containing(now);
    let of = match contracts {
        [one] => Of::Contract(one.id),
        [first, rest @ ..] if rest.iter().all(|k| k.customer_id == first.customer_id) => {
            Of::Customer(first.customer_id)
        }
        _ => Of::All,
    };
    let periods = periods(pool, of, month.start(), month.end()).await?;
    let prices = prices(pool).await?;
    Ok(contracts
        .iter()
        .map(|k| {
            let p = periods.get(&k.id).map_or(&[][..], Vec::as_slice);
            (k.id, watch(k, p, &prices, month, now))
        })
        .collect())
}

// ----- reading statements -------------------------------------------------------

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

async fn closed_of_month(pool: &AnyPool, month: Month) -> sqlx::Result<HashMap<i64, Closed>> {
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

/// A contract the user may see, with the role check for statements:
/// another tenant's contract is 404, a role without access to money 403.
pub async fn readable_contract(pool: &AnyPool, user: &CurrentUser, id: i64) -> Result<Contract> {
    let k = super::contracts::get(pool, user, id).await?;
    if !may_read(user) {
        return Err(Error::Forbidden);
    }
    Ok(k)
}

/// One statement of a month of a contract from [`readable_contract`]: the
/// closed one, or rated live up to now.
pub async fn statement(pool: &AnyPool, k: &Contract, month: Month, now: i64) -> Result<Statement> {
    let closed = closed(pool, k.id, month).await?;
    // A closed statement stays readable even if the contract's validity was
    // edited afterwards so that it no longer covers the month.
    if closed.is_none() && !covers(k, month) {
        return Err(not_covered(k, month));
    }
    if let Some(c) = closed {
        let lines = sqlx::query(LINES_SQL)
            .bind(c.id)
            .fetch_all(pool)
            .await?
            .iter()
            .map(line_from_row)
            .collect::<sqlx::Result<Vec<_>>>()?;
        let totals = billing::totals(&lines);
        return Ok(Statement {
            header: c.header,
            month,
            closed_at: Some(c.closed_at),
            budget: BudgetWatch {
                month,
                so_far: totals.total,
                forecast: totals.total,
                budget: c.budget,
            },
            lines,
            totals,
        });
    }
    let periods = periods(pool, Of::Contract(k.id), month.start(), month.end()).await?;
    let periods = periods.get(&k.id).map_or(&[][..], Vec::as_slice);
    let prices = prices(pool).await?;
    let lines = rate(k, periods, &prices, month, now);
    let totals = billing::totals(&lines);
    Ok(Statement {
        header: Header::of(k),
        month,
        closed_at: None,
        budget: watch(k, periods, &prices, month, now),
        lines,
        totals,
    })
}

/// The budget watch of a contract's month: so far and forecast for the
/// current month, the month's total for a past one.
pub async fn budget_of(
    pool: &AnyPool,
    k: &Contract,
    month: Month,
    now: i64,
) -> Result<BudgetWatch> {
    let periods = periods(pool, Of::Contract(k.id), month.start(), month.end()).await?;
    let prices = prices(pool).await?;
    Ok(watch(
        k,
        periods.get(&k.id).map_or(&[][..], Vec::as_slice),
        &prices,
        month,
        now,
    ))
}

/// The statements of a month for every contract the user may see that is
/// valid in it, ordered by customer and contract number.
pub async fn summaries(
    pool: &AnyPool,
    user: &CurrentUser,
    month: Month,
    now: i64,
) -> Result<Vec<Summary>> {
    if !may_read(user) {
        return Err(Error::Forbidden);
    }
    let scope = user.scope();
    let closed = closed_of_month(pool, month).await?;
    let contracts: Vec<Contract> = super::contracts::list(pool, scope)
        .await?
        .into_iter()
        .filter(|k| covers(k, month) || closed.contains_key(&k.id))
        .collect();
    let of = match scope {
        Scope::Customer(id) => Of::Customer(id),
        _ => Of::All,
    };
    let open_needed = contracts.iter().any(|k| !closed.contains_key(&k.id));
    let periods = if open_needed {
        periods(pool, of, month.start(), month.end()).await?
    } else {
        HashMap::new()
    };
    let prices = prices(pool).await?;
    Ok(contracts
        .iter()
        .map(|k| {
            let p = periods.get(&k.id).map_or(&[][..], Vec::as_slice);
            match closed.get(&k.id) {
                Some(c) => Summary {
                    header: c.header.clone(),
                    month,
                    closed_at: Some(c.closed_at),
                    total: c.total,
                    line_count: c.line_count,
                    budget: BudgetWatch {
                        month,
                        so_far: c.total,
                        forecast: c.total,
                        budget: c.budget,
                    },
                },
                None => {
                    let lines = rate(k, p, &prices, month, now);
                    Summary {
                        header: Header::of(k),
                        month,
                        closed_at: None,
                        total: billing::totals(&lines).total,
                        line_count: lines.len() as i64,
                        budget: watch(k, p, &prices, month, now),
                    }
                }
            }
        })
        .collect())
}

/// The contracts whose statements of `month` a user may export: one, or all
/// visible ones valid in the month.
pub async fn exportable(
    pool: &AnyPool,
    user: &CurrentUser,
    contract_id: Option<i64>,
    month: Month,
) -> Result<Vec<Contract>> {
    match contract_id {
        Some(id) => {
            let k = super::contracts::get(pool, user, id).await?;
            if !may_export(user) {
                return Err(Error::Forbidden);
            }
            if !covers(&k, month) && closed(pool, k.id, month).await?.is_none() {
                return Err(not_covered(&k, month));
            }
            Ok(vec![k])
        }
        None => {
            if !may_export(user) {
                return Err(Error::Forbidden);
            }
            let closed = closed_of_month(pool, month).await?;
            Ok(super::contracts::list(pool, user.scope())
                .await?
                .into_iter()
                .filter(|k| covers(k, month) || closed.contains_key(&k.id))
                .collect())
        }
    }
}

/// The live lines of one contract's month, for an export of an open month.
pub async fn live_lines(
    pool: &AnyPool,
    k: &Contract,
    prices: &Prices,
    month: Month,
    now: i64,
) -> Result<Vec<LineItem>> {
    let periods = periods(pool, Of::Contract(k.id), month.start(), month.end()).await?;
    Ok(rate(
        k,
        periods.get(&k.id).map_or(&[][..], Vec::as_slice),
        prices,
        month,
        now,
    ))
}

// ----- closing months -------------------------------------------------------

/// What a closing run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CloseReport {
    /// Statements written now.
    pub closed: usize,
    /// Statements that were already final (by an earlier run or another
    /// replica) and were left as they are.
    pub already: usize,
    /// Line items written.
    pub lines: usize,
}

impl std::ops::AddAssign for CloseReport {
    fn add_assign(&mut self, o: CloseReport) {
        self.closed += o.closed;
        self.already += o.already;
        self.lines += o.lines;
    }
}

/// Closes `month` for every contract valid in it. Only a month that is over
/// can be closed; closing it again changes nothing.
pub async fn close_month(db: &Db, month: Month, now: i64) -> Result<CloseReport> {
    if month.end() > now {
        return Err(Error::Validation(FieldErrors::single(
            "month",
            format!(
                "{} ist noch nicht zu Ende und kann nicht abgeschlossen werden.",
                month.label()
            ),
        )));
    }
    let system = seed::system_user(db).await?;
    let prices = prices(&db.pool).await?;
    let contracts = super::contracts::list(&db.pool, Scope::All).await?;
    let done: HashSet<i64> = closed_of_month(&db.pool, month)
        .await?
        .into_keys()
        .collect();
    let mut report = CloseReport::default();
    for k in contracts.iter().filter(|k| covers(k, month)) {
        if done.contains(&k.id) {
            report.already += 1;
        } else {
            report += close_one(db, &system, k, month, &prices, now).await?;
        }
    }
    Ok(report)
}

/// Closes every month that is over and not yet closed, for every contract:
/// the scheduled job. With nothing due it costs two reads.
pub async fn close_due(db: &Db, now: i64) -> Result<CloseReport> {
    let last = Month::containing(now).prev();
    let contracts = super::contracts::list(&db.pool, Scope::All).await?;
    let rows: Vec<(i64, String)> = sqlx::query_as("SELECT contract_id, month FROM statements")
        .fetch_all(&db.pool)
        .await?;
    let done: HashSet<(i64, String)> = rows.into_iter().collect();
    let mut due: Vec<(&Contract, Month)> = Vec::new();
    for k in &contracts {
        for m in months_of(k, now).into_iter().rev().filter(|m| *m <= last) {
            if !done.contains(&(k.id, m.to_string())) {
                due.push((k, m));
            }
        }
    }
    let mut report = CloseReport::default();
    if due.is_empty() {
        return Ok(report);
    }
    let system = seed::system_user(db).await?;
    let prices = prices(&db.pool).await?;
    for (k, m) in due {
        report += close_one(db, &system, k, m, &prices, now).await?;
    }
    Ok(report)
}

/// At most this many lines per `INSERT` (13 values each, below SQLite's
/// limit of 32 766 bound values).
const LINES_PER_INSERT: usize = 1_000;

async fn close_one(
    db: &Db,
    system: &CurrentUser,
    k: &Contract,
    month: Month,
    prices: &Prices,
    now: i64,
) -> Result<CloseReport> {
    let mut tx = db.begin_write().await?;
    let periods = periods(&mut *tx, Of::Contract(k.id), month.start(), month.end()).await?;
    let lines = rate(
        k,
        periods.get(&k.id).map_or(&[][..], Vec::as_slice),
        prices,
        month,
        month.end(),
    );
    let total = billing::totals(&lines).total;
    // Another replica may close the same month at the same moment: the
    // unique key lets exactly one insert through, the other one backs off.
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
    .bind(lines.len() as i64)
    .bind(now)
    .bind(k.monthly_budget_cents)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((statement_id,)) = inserted else {
        tx.rollback().await?;
        return Ok(CloseReport {
            already: 1,
            ..CloseReport::default()
        });
    };
    insert_lines(&mut tx, statement_id, &lines).await?;
    audit::record(
        &mut tx,
        system,
        now,
        audit::Entry {
            customer_id: Some(k.customer_id),
            action: "statement.closed",
            object_type: "statement",
            object_id: statement_id,
            before: None,
            after: Some(json!({
                "contract_id": k.id,
                "month": month.to_string(),
                "total_cents": total.0,
                "lines": lines.len(),
            })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(CloseReport {
        closed: 1,
        already: 0,
        lines: lines.len(),
    })
}

async fn insert_lines(tx: &mut Tx, statement_id: i64, lines: &[LineItem]) -> sqlx::Result<()> {
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
