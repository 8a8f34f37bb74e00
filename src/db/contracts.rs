//! Contracts (Dienstleistungsvereinbarungen): rows, what is committed under
//! each, and the statements that write them.

use std::collections::HashMap;

use jiff::civil::Date;
use sqlx::{AnyConnection, AnyPool, Executor};

use super::{Db, Tx, Visible, codec::DateText};
use crate::domain::{
    Cents, Kontingent, Resources,
    actor::Scope,
    calendar::berlin_date,
    contract::{BillingModel, Terms, Validity},
    kontingent::Commitment,
    text::Text,
};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Contract {
    pub id: i64,
    pub customer_id: i64,
    pub customer_name: String,
    pub number: String,
    pub title: String,
    #[sqlx(try_from = "DateText")]
    pub valid_from: Date,
    #[sqlx(try_from = "DateText")]
    pub valid_until: Date,
    pub kostenstelle: String,
    pub haushaltsstelle: String,
    pub leitweg_id: String,
    pub billing_model: BillingModel,
    pub base_fee_cents: i64,
    pub max_millicpu: i64,
    pub max_memory_mib: i64,
    pub max_storage_gib: i64,
    pub monthly_budget_cents: i64,
}

const COLUMNS: &str = "k.id, k.customer_id, c.name AS customer_name, k.number, k.title, \
    k.valid_from, k.valid_until, k.kostenstelle, k.haushaltsstelle, k.leitweg_id, \
    k.billing_model, k.base_fee_cents, k.max_millicpu, k.max_memory_mib, k.max_storage_gib, \
    k.monthly_budget_cents";

impl Contract {
    pub fn kontingent(&self) -> Kontingent {
        Kontingent {
            millicpu: self.max_millicpu,
            memory_mib: self.max_memory_mib,
            storage_gib: self.max_storage_gib,
            monthly_budget: Cents(self.monthly_budget_cents),
        }
    }

    pub fn validity(&self) -> Validity {
        Validity {
            from: self.valid_from,
            until: self.valid_until,
        }
    }

    /// Whether bookings may be made on the German civil date of `now`.
    pub fn is_valid_at(&self, now: i64) -> bool {
        self.validity().covers(berlin_date(now))
    }

    pub fn billing_model_label(&self) -> &'static str {
        self.billing_model.label()
    }

    /// The contract's terms as they are stored. Stored text was checked when
    /// it was written; text that no longer passes (a limit tightened since)
    /// is an error, not silently cut.
    pub fn terms(&self) -> Result<Terms, crate::domain::text::TextError> {
        Ok(Terms {
            number: Text::parse(&self.number, usize::MAX)?,
            title: Text::parse(&self.title, usize::MAX)?,
            validity: self.validity(),
            kostenstelle: Text::parse(&self.kostenstelle, usize::MAX)?,
            haushaltsstelle: Text::parse(&self.haushaltsstelle, usize::MAX)?,
            leitweg_id: Text::parse(&self.leitweg_id, usize::MAX)?,
            billing_model: self.billing_model,
            base_fee: self.base_fee(),
            kontingent: self.kontingent(),
        })
    }

    pub fn base_fee(&self) -> Cents {
        Cents(self.base_fee_cents)
    }
}

pub async fn list(pool: &AnyPool, scope: Scope) -> sqlx::Result<Vec<Contract>> {
    let Some(visible) = Visible::to(scope, "k.customer_id") else {
        return Ok(Vec::new());
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM contracts k JOIN customers c ON c.id = k.customer_id{} \
         ORDER BY c.name, k.number",
        visible.sql()
    );
    visible
        .bind(sqlx::query_as(super::sql(sql)))
        .fetch_all(pool)
        .await
}

pub async fn find(pool: &AnyPool, id: i64) -> sqlx::Result<Option<Contract>> {
    sqlx::query_as(super::sql(format!(
        "SELECT {COLUMNS} FROM contracts k JOIN customers c ON c.id = k.customer_id WHERE k.id = $1"
    )))
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// The customer a contract belongs to.
pub async fn customer_of(conn: &mut AnyConnection, id: i64) -> sqlx::Result<Option<i64>> {
    let row: Option<(i64,)> = sqlx::query_as("SELECT customer_id FROM contracts WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|(c,)| c))
}

/// Loads a contract inside a transaction. With `lock`, the row stays locked
/// until commit (PostgreSQL), so concurrent bookings against one Kontingent
/// are checked one after the other; SQLite's `BEGIN IMMEDIATE` already
/// serialises writers.
pub async fn load(
    db: &Db,
    conn: &mut sqlx::AnyConnection,
    id: i64,
    lock: bool,
) -> sqlx::Result<Option<Contract>> {
    if lock {
        // Lock the contract row alone: FOR UPDATE over a join would lock the
        // customer row too, for no reason.
        sqlx::query(super::sql(format!(
            "SELECT id FROM contracts WHERE id = $1{}",
            db.for_update()
        )))
        .bind(id)
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query_as(super::sql(format!(
        "SELECT {COLUMNS} FROM contracts k JOIN customers c ON c.id = k.customer_id WHERE k.id = $1"
    )))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await
}

#[derive(sqlx::FromRow)]
struct UsageRow {
    contract_id: i64,
    millicpu: i64,
    memory_mib: i64,
    storage_gib: i64,
    pods: i64,
    rate_sum: i64,
}

/// Committed resources and monthly cost of open bookings, by contract.
/// The base fee counts against the budget too: it is money spent each month.
/// The open periods are summed per catalogue size first, so the price valid
/// at `$1` is looked up once per size, not once per booking.
const USAGE_SQL: &str = "SELECT x.contract_id, \
      CAST(COALESCE(SUM(x.millicpu), 0) AS BIGINT) AS millicpu, \
      CAST(COALESCE(SUM(x.memory_mib), 0) AS BIGINT) AS memory_mib, \
      CAST(COALESCE(SUM(x.storage_gib), 0) AS BIGINT) AS storage_gib, \
      CAST(COALESCE(SUM(x.pods), 0) AS BIGINT) AS pods, \
      CAST(COALESCE(SUM(x.n * COALESCE((SELECT pr.rate FROM prices pr \
        WHERE pr.product_size_id = x.product_size_id AND pr.valid_from <= $1 \
        ORDER BY pr.valid_from DESC LIMIT 1), 0)), 0) AS BIGINT) AS rate_sum \
    FROM (SELECT b.contract_id, bp.product_size_id, COUNT(*) AS n, \
            SUM(bp.millicpu) AS millicpu, SUM(bp.memory_mib) AS memory_mib, \
            SUM(bp.storage_gib) AS storage_gib, SUM(bp.pods) AS pods \
          FROM bookings b JOIN booking_periods bp ON bp.booking_id = b.id AND bp.ends_at IS NULL \
          WHERE b.state <> 'gekuendigt' {FILTER} \
          GROUP BY b.contract_id, bp.product_size_id) x \
    GROUP BY x.contract_id";

fn commitment(row: &UsageRow, base_fee_cents: i64) -> Commitment {
    Commitment {
        resources: Resources {
            millicpu: row.millicpu,
            memory_mib: row.memory_mib,
            storage_gib: row.storage_gib,
            pods: row.pods,
        },
        monthly_exact: row.rate_sum * crate::domain::money::HOURS_PER_MONTH + base_fee_cents * 100,
    }
}

/// What is committed under one contract at `now`.
pub async fn usage<'e, E>(executor: E, contract: &Contract, now: i64) -> sqlx::Result<Commitment>
where
    E: Executor<'e, Database = sqlx::Any>,
{
    let row: Option<UsageRow> = sqlx::query_as(super::sql(
        USAGE_SQL.replace("{FILTER}", "AND b.contract_id = $2"),
    ))
    .bind(now)
    .bind(contract.id)
    .fetch_optional(executor)
    .await?;
    Ok(match row {
        Some(row) => commitment(&row, contract.base_fee_cents),
        None => Commitment {
            resources: Resources::default(),
            monthly_exact: contract.base_fee_cents * 100,
        },
    })
}

/// Commitment of each contract in `contracts`, in one query.
pub async fn usage_of_all(
    pool: &AnyPool,
    contracts: &[Contract],
    scope: Scope,
    now: i64,
) -> sqlx::Result<HashMap<i64, Commitment>> {
    let rows: Vec<UsageRow> = match Visible::after(1, scope, "b.customer_id") {
        Some(visible) => {
            let sql = USAGE_SQL.replace("{FILTER}", &visible.and_sql());
            visible
                .bind(sqlx::query_as(super::sql(sql)).bind(now))
                .fetch_all(pool)
                .await?
        }
        None => Vec::new(),
    };
    let by_id: HashMap<i64, &UsageRow> = rows.iter().map(|r| (r.contract_id, r)).collect();
    Ok(contracts
        .iter()
        .map(|k| {
            let c = match by_id.get(&k.id) {
                Some(row) => commitment(row, k.base_fee_cents),
                None => Commitment {
                    resources: Resources::default(),
                    monthly_exact: k.base_fee_cents * 100,
                },
            };
            (k.id, c)
        })
        .collect())
}

/// Binds a contract's terms to `$first` … `$first + 12` in the column order
/// of [`TERMS_COLUMNS`].
fn bind_terms<'q, O>(
    query: sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments>,
    terms: &'q Terms,
) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments> {
    query
        .bind(terms.number.as_str())
        .bind(terms.title.as_str())
        .bind(terms.validity.from.to_string())
        .bind(terms.validity.until.to_string())
        .bind(terms.kostenstelle.as_str())
        .bind(terms.haushaltsstelle.as_str())
        .bind(terms.leitweg_id.as_str())
        .bind(terms.billing_model)
        .bind(terms.base_fee.0)
        .bind(terms.kontingent.millicpu)
        .bind(terms.kontingent.memory_mib)
        .bind(terms.kontingent.storage_gib)
        .bind(terms.kontingent.monthly_budget.0)
}

/// The columns of a contract's terms, in the order [`bind_terms`] binds.
const TERMS_COLUMNS: [&str; 13] = [
    "number",
    "title",
    "valid_from",
    "valid_until",
    "kostenstelle",
    "haushaltsstelle",
    "leitweg_id",
    "billing_model",
    "base_fee_cents",
    "max_millicpu",
    "max_memory_mib",
    "max_storage_gib",
    "monthly_budget_cents",
];

pub async fn insert(tx: &mut Tx, customer_id: i64, terms: &Terms, now: i64) -> sqlx::Result<i64> {
    let placeholders: Vec<String> = (1..=TERMS_COLUMNS.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "INSERT INTO contracts ({}, customer_id, created_at) VALUES ({}, ${}, ${}) RETURNING id",
        TERMS_COLUMNS.join(", "),
        placeholders.join(", "),
        TERMS_COLUMNS.len() + 1,
        TERMS_COLUMNS.len() + 2,
    );
    let (id,): (i64,) = bind_terms(sqlx::query_as(super::sql(sql)), terms)
        .bind(customer_id)
        .bind(now)
        .fetch_one(&mut **tx)
        .await?;
    Ok(id)
}

pub async fn update(tx: &mut Tx, id: i64, terms: &Terms) -> sqlx::Result<()> {
    let sets: Vec<String> = TERMS_COLUMNS
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{c} = ${}", i + 1))
        .collect();
    let sql = format!(
        "UPDATE contracts SET {} WHERE id = ${} RETURNING id",
        sets.join(", "),
        TERMS_COLUMNS.len() + 1
    );
    bind_terms(sqlx::query_as::<_, (i64,)>(super::sql(sql)), terms)
        .bind(id)
        .fetch_one(&mut **tx)
        .await?;
    Ok(())
}

/// Sets a contract's ceilings.
pub async fn set_kontingent(tx: &mut Tx, id: i64, k: &Kontingent) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE contracts SET max_millicpu = $1, max_memory_mib = $2, max_storage_gib = $3, \
         monthly_budget_cents = $4 WHERE id = $5",
    )
    .bind(k.millicpu)
    .bind(k.memory_mib)
    .bind(k.storage_gib)
    .bind(k.monthly_budget.0)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
