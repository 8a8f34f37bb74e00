use std::collections::HashMap;

use serde_json::json;
use sqlx::{AnyPool, Executor};

use super::{Db, audit};
use crate::{
    app::error::{Error, FieldErrors, Result},
    domain::actor::{CurrentUser, Scope},
    domain::{
        Cents, Kontingent, Resources,
        calendar::{berlin_date, parse_date},
        kontingent::Commitment,
    },
};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Contract {
    pub id: i64,
    pub customer_id: i64,
    pub customer_name: String,
    pub number: String,
    pub title: String,
    pub valid_from: String,
    pub valid_until: String,
    pub kostenstelle: String,
    pub haushaltsstelle: String,
    pub leitweg_id: String,
    pub billing_model: String,
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

    /// Whether bookings may be made on the German civil date of `now`.
    pub fn is_valid_at(&self, now: i64) -> bool {
        let today = berlin_date(now).to_string();
        self.valid_from <= today && today <= self.valid_until
    }

    pub fn billing_model_label(&self) -> &'static str {
        if self.billing_model == "gemischt" {
            "Mischmodell (Grundgebühr + Nutzung)"
        } else {
            "nutzungsabhängig"
        }
    }

    pub fn base_fee(&self) -> Cents {
        Cents(self.base_fee_cents)
    }
}

pub async fn list(pool: &AnyPool, scope: Scope) -> sqlx::Result<Vec<Contract>> {
    let base =
        format!("SELECT {COLUMNS} FROM contracts k JOIN customers c ON c.id = k.customer_id");
    match scope {
        Scope::All => {
            sqlx::query_as(super::sql(format!("{base} ORDER BY c.name, k.number")))
                .fetch_all(pool)
                .await
        }
        Scope::Customer(id) => {
            sqlx::query_as(super::sql(format!(
                "{base} WHERE k.customer_id = $1 ORDER BY k.number"
            )))
            .bind(id)
            .fetch_all(pool)
            .await
        }
        Scope::Nothing => Ok(Vec::new()),
    }
}

/// A contract the user may see; another tenant's id is `NotFound`.
pub async fn get(pool: &AnyPool, user: &CurrentUser, id: i64) -> Result<Contract> {
    let contract: Option<Contract> = sqlx::query_as(super::sql(format!(
        "SELECT {COLUMNS} FROM contracts k JOIN customers c ON c.id = k.customer_id WHERE k.id = $1"
    )))
    .bind(id)
    .fetch_optional(pool)
    .await?;
    contract
        .filter(|k| user.can_see(k.customer_id))
        .ok_or(Error::NotFound)
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
    let rows: Vec<UsageRow> = match scope {
        Scope::Customer(id) => {
            sqlx::query_as(super::sql(
                USAGE_SQL.replace("{FILTER}", "AND b.customer_id = $2"),
            ))
            .bind(now)
            .bind(id)
            .fetch_all(pool)
            .await?
        }
        Scope::All => {
            sqlx::query_as(super::sql(USAGE_SQL.replace("{FILTER}", "")))
                .bind(now)
                .fetch_all(pool)
                .await?
        }
        Scope::Nothing => Vec::new(),
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

/// Input of the Betreiber's contract form (all text, as typed).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct ContractInput {
    #[serde(default)]
    pub customer_id: String,
    pub number: String,
    pub title: String,
    pub valid_from: String,
    pub valid_until: String,
    pub kostenstelle: String,
    pub haushaltsstelle: String,
    pub leitweg_id: String,
    pub billing_model: String,
    pub base_fee: String,
    pub max_vcpu: String,
    pub max_memory_gib: String,
    pub max_storage_gib: String,
    pub monthly_budget: String,
}

#[derive(Debug, Clone)]
pub struct ValidContract {
    pub customer_id: i64,
    pub number: String,
    pub title: String,
    pub valid_from: String,
    pub valid_until: String,
    pub kostenstelle: String,
    pub haushaltsstelle: String,
    pub leitweg_id: String,
    pub billing_model: &'static str,
    pub base_fee_cents: i64,
    pub max_millicpu: i64,
    pub max_memory_mib: i64,
    pub max_storage_gib: i64,
    pub monthly_budget_cents: i64,
}

fn required(errors: &mut FieldErrors, field: &str, value: &str, max: usize) -> String {
    let v = value.trim();
    if v.is_empty() {
        errors.add(field, "Bitte ausfüllen.");
    } else if v.chars().count() > max {
        errors.add(field, format!("Höchstens {max} Zeichen."));
    }
    v.to_owned()
}

fn whole_number(errors: &mut FieldErrors, field: &str, value: &str, max: i64) -> i64 {
    match value.trim().parse::<i64>() {
        Ok(n) if (0..=max).contains(&n) => n,
        Ok(_) => {
            errors.add(
                field,
                format!("Bitte eine ganze Zahl von 0 bis {max} angeben."),
            );
            0
        }
        Err(_) => {
            errors.add(field, "Bitte eine ganze Zahl angeben.");
            0
        }
    }
}

/// A Leitweg-ID (XRechnung routing id): coarse address, optional fine
/// address, check digits, separated by dashes, e.g. `04011000-1234512345-06`.
fn valid_leitweg_id(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let alnum = |p: &str| p.bytes().all(|b| b.is_ascii_alphanumeric());
    match parts.as_slice() {
        [coarse, check] => {
            (2..=12).contains(&coarse.len())
                && coarse.bytes().all(|b| b.is_ascii_digit())
                && check.len() == 2
                && check.bytes().all(|b| b.is_ascii_digit())
        }
        [coarse, fine, check] => {
            (2..=12).contains(&coarse.len())
                && coarse.bytes().all(|b| b.is_ascii_digit())
                && (1..=30).contains(&fine.len())
                && alnum(fine)
                && check.len() == 2
                && check.bytes().all(|b| b.is_ascii_digit())
        }
        _ => false,
    }
}

impl ContractInput {
    pub fn validate(&self) -> Result<ValidContract> {
        let mut e = FieldErrors::default();
        let customer_id = self.customer_id.trim().parse::<i64>().unwrap_or_else(|_| {
            e.add("customer_id", "Bitte einen Kunden wählen.");
            0
        });
        let number = required(&mut e, "number", &self.number, 40);
        if !number.is_empty()
            && !number
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'/')
        {
            e.add(
                "number",
                "Nur Buchstaben, Ziffern, „-“ und „/“, z. B. DLV-2026-0042.",
            );
        }
        let title = required(&mut e, "title", &self.title, 200);
        let from = parse_date(&self.valid_from);
        if from.is_none() {
            e.add(
                "valid_from",
                "Bitte ein Datum im Format JJJJ-MM-TT angeben.",
            );
        }
        let until = parse_date(&self.valid_until);
        if until.is_none() {
            e.add(
                "valid_until",
                "Bitte ein Datum im Format JJJJ-MM-TT angeben.",
            );
        }
        if let (Some(f), Some(u)) = (from, until)
            && u < f
        {
            e.add("valid_until", "Das Vertragsende liegt vor dem Beginn.");
        }
        let kostenstelle = required(&mut e, "kostenstelle", &self.kostenstelle, 40);
        let haushaltsstelle = required(&mut e, "haushaltsstelle", &self.haushaltsstelle, 60);
        let leitweg_id = required(&mut e, "leitweg_id", &self.leitweg_id, 46);
        if !leitweg_id.is_empty() && !valid_leitweg_id(&leitweg_id) {
            e.add(
                "leitweg_id",
                "Keine gültige Leitweg-ID (Beispiel: 04011000-1234512345-06).",
            );
        }
        let billing_model = match self.billing_model.as_str() {
            "nutzung" => "nutzung",
            "gemischt" => "gemischt",
            _ => {
                e.add("billing_model", "Bitte ein Abrechnungsmodell wählen.");
                "nutzung"
            }
        };
        let base_fee_cents = if self.base_fee.trim().is_empty() {
            0
        } else {
            Cents::parse(&self.base_fee)
                .map(|c| c.0)
                .unwrap_or_else(|err| {
                    e.add("base_fee", err.to_string());
                    0
                })
        };
        if billing_model == "nutzung" && base_fee_cents > 0 {
            e.add("base_fee", "Eine Grundgebühr gibt es nur im Mischmodell.");
        }
        let max_vcpu = whole_number(&mut e, "max_vcpu", &self.max_vcpu, 100_000);
        let max_memory_gib =
            whole_number(&mut e, "max_memory_gib", &self.max_memory_gib, 1_000_000);
        let max_storage_gib = whole_number(
            &mut e,
            "max_storage_gib",
            &self.max_storage_gib,
            100_000_000,
        );
        let monthly_budget_cents = Cents::parse(&self.monthly_budget)
            .map(|c| c.0)
            .unwrap_or_else(|err| {
                e.add("monthly_budget", err.to_string());
                0
            });
        e.into_result()?;
        Ok(ValidContract {
            customer_id,
            number,
            title,
            valid_from: from.expect("checked").to_string(),
            valid_until: until.expect("checked").to_string(),
            kostenstelle,
            haushaltsstelle,
            leitweg_id,
            billing_model,
            base_fee_cents,
            max_millicpu: max_vcpu * 1000,
            max_memory_mib: max_memory_gib * 1024,
            max_storage_gib,
            monthly_budget_cents,
        })
    }
}

impl Contract {
    /// The form pre-filled with this contract, for editing.
    pub fn to_input(&self) -> ContractInput {
        ContractInput {
            customer_id: self.customer_id.to_string(),
            number: self.number.clone(),
            title: self.title.clone(),
            valid_from: self.valid_from.clone(),
            valid_until: self.valid_until.clone(),
            kostenstelle: self.kostenstelle.clone(),
            haushaltsstelle: self.haushaltsstelle.clone(),
            leitweg_id: self.leitweg_id.clone(),
            billing_model: self.billing_model.clone(),
            base_fee: Cents(self.base_fee_cents).to_input(),
            max_vcpu: (self.max_millicpu / 1000).to_string(),
            max_memory_gib: (self.max_memory_mib / 1024).to_string(),
            max_storage_gib: self.max_storage_gib.to_string(),
            monthly_budget: Cents(self.monthly_budget_cents).to_input(),
        }
    }
}

fn snapshot(v: &ValidContract) -> serde_json::Value {
    json!({
        "number": v.number, "title": v.title, "valid_from": v.valid_from,
        "valid_until": v.valid_until, "kostenstelle": v.kostenstelle,
        "haushaltsstelle": v.haushaltsstelle, "leitweg_id": v.leitweg_id,
        "billing_model": v.billing_model, "base_fee_cents": v.base_fee_cents,
        "max_millicpu": v.max_millicpu, "max_memory_mib": v.max_memory_mib,
        "max_storage_gib": v.max_storage_gib, "monthly_budget_cents": v.monthly_budget_cents,
    })
}

fn number_taken(e: Error) -> Error {
    if e.is_unique_violation() {
        Error::validation("number", "Diese Vertragsnummer ist schon vergeben.")
    } else {
        e
    }
}

pub async fn create(db: &Db, user: &CurrentUser, input: &ContractInput) -> Result<i64> {
    if !user.is_betreiber() {
        return Err(Error::Forbidden);
    }
    let v = input.validate()?;
    let now = super::now();
    let mut tx = db.begin_write().await?;
    let exists: Option<(i64,)> = sqlx::query_as("SELECT id FROM customers WHERE id = $1")
        .bind(v.customer_id)
        .fetch_optional(&mut *tx)
        .await?;
    if exists.is_none() {
        return Err(Error::validation(
            "customer_id",
            "Diesen Kunden gibt es nicht.",
        ));
    }
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO contracts (customer_id, number, title, valid_from, valid_until, kostenstelle, \
         haushaltsstelle, leitweg_id, billing_model, base_fee_cents, max_millicpu, max_memory_mib, \
         max_storage_gib, monthly_budget_cents, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id",
    )
    .bind(v.customer_id)
    .bind(&v.number)
    .bind(&v.title)
    .bind(&v.valid_from)
    .bind(&v.valid_until)
    .bind(&v.kostenstelle)
    .bind(&v.haushaltsstelle)
    .bind(&v.leitweg_id)
    .bind(v.billing_model)
    .bind(v.base_fee_cents)
    .bind(v.max_millicpu)
    .bind(v.max_memory_mib)
    .bind(v.max_storage_gib)
    .bind(v.monthly_budget_cents)
    .bind(now)
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| number_taken(e.into()))?;
    audit::record(
        &mut tx,
        user,
        now,
        audit::Entry {
            customer_id: Some(v.customer_id),
            action: "contract.created",
            object_type: "contract",
            object_id: id,
            before: None,
            after: Some(snapshot(&v)),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Changes a contract. The customer of a contract never changes.
pub async fn update(db: &Db, user: &CurrentUser, id: i64, input: &ContractInput) -> Result<()> {
    if !user.is_betreiber() {
        return Err(Error::Forbidden);
    }
    let now = super::now();
    let mut tx = db.begin_write().await?;
    let before = load(db, &mut tx, id, true).await?.ok_or(Error::NotFound)?;
    let mut input = input.clone();
    input.customer_id = before.customer_id.to_string();
    let v = input.validate()?;
    sqlx::query(
        "UPDATE contracts SET number = $1, title = $2, valid_from = $3, valid_until = $4, \
         kostenstelle = $5, haushaltsstelle = $6, leitweg_id = $7, billing_model = $8, \
         base_fee_cents = $9, max_millicpu = $10, max_memory_mib = $11, max_storage_gib = $12, \
         monthly_budget_cents = $13 WHERE id = $14",
    )
    .bind(&v.number)
    .bind(&v.title)
    .bind(&v.valid_from)
    .bind(&v.valid_until)
    .bind(&v.kostenstelle)
    .bind(&v.haushaltsstelle)
    .bind(&v.leitweg_id)
    .bind(v.billing_model)
    .bind(v.base_fee_cents)
    .bind(v.max_millicpu)
    .bind(v.max_memory_mib)
    .bind(v.max_storage_gib)
    .bind(v.monthly_budget_cents)
    .bind(id)
    .execute(&mut *tx)
    .await
    .map_err(|e| number_taken(e.into()))?;
    let before_input = before.to_input();
    let before_valid = before_input.validate().ok();
    audit::record(
        &mut tx,
        user,
        now,
        audit::Entry {
            customer_id: Some(before.customer_id),
            action: "contract.updated",
            object_type: "contract",
            object_id: id,
            before: before_valid.as_ref().map(snapshot),
            after: Some(snapshot(&v)),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leitweg_ids_follow_the_xrechnung_shape() {
        assert!(valid_leitweg_id("04011000-1234512345-06"));
        assert!(valid_leitweg_id("991-01234-44"));
        assert!(valid_leitweg_id("05315000-44"));
        assert!(!valid_leitweg_id("04011000"));
        assert!(!valid_leitweg_id("0401A000-12-06"));
        assert!(!valid_leitweg_id("04011000-12-6"));
    }
}
