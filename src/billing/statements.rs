//! Monthly statements (Abrechnungen) per contract: rated live from the
//! booking periods while a month is open, read from what was written when
//! it was closed. Who may read them is `domain::policy`'s business.

use std::collections::HashMap;

use sqlx::AnyPool;

use super::{
    budget::BudgetWatch,
    rating::{Prices, Totals, base_fee_line, period_cost, rate_month, totals},
};
use crate::{
    app::{self, Error, Result},
    db::{
        self, Db,
        contracts::Contract,
        statements::{Header, Of, closed, closed_of_month, periods},
    },
    domain::{
        Cents,
        actor::{CurrentUser, Scope},
        billing::{LineItem, Month, Period},
        contract::BillingModel,
        policy,
    },
};

/// The price versions, ready for rating.
pub async fn prices<'e, E>(executor: E) -> sqlx::Result<Prices>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    Ok(Prices::new(db::statements::prices(executor).await?))
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

/// Whether the contract is valid on any day of the month.
pub fn covers(k: &Contract, month: Month) -> bool {
    k.valid_from <= month.last_day() && k.valid_until >= month.first_day()
}

/// The months for which a contract has statements, newest first, up to the
/// current one.
pub fn months_of(k: &Contract, now: i64) -> Vec<Month> {
    let last = Month::of(k.valid_until).min(Month::containing(now));
    let mut months = Vec::new();
    let mut m = Month::of(k.valid_from);
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

/// The base fee line of a contract's month, if it has one.
fn base_fee(k: &Contract, month: Month) -> Option<LineItem> {
    match k.billing_model {
        BillingModel::Gemischt => base_fee_line(k.base_fee(), k.valid_from, k.valid_until, month),
        BillingModel::Nutzung => None,
    }
}

/// The lines of a contract's month from its bookings, up to `until`.
pub fn rate<'a>(
    k: &Contract,
    periods: impl IntoIterator<Item = &'a Period>,
    prices: &Prices,
    month: Month,
    until: i64,
) -> Vec<LineItem> {
    rate_month(periods, prices, base_fee(k, month), month, until)
}

/// What a contract's month costs up to `until`: exactly the total of
/// [`rate`]'s lines (each rounded on its own), without building, sorting
/// and grouping them. The budget watch needs only this sum, on every view.
pub fn cost<'a>(
    k: &Contract,
    periods: impl IntoIterator<Item = &'a Period>,
    prices: &Prices,
    month: Month,
    until: i64,
) -> Cents {
    let window_to = until.min(month.end());
    let usage: i64 = periods
        .into_iter()
        .map(|p| {
            period_cost(
                prices,
                p.product_size_id,
                p.starts_at,
                p.ends_at,
                month.start(),
                window_to,
            )
            .0
        })
        .sum();
    Cents(base_fee(k, month).map_or(0, |l| l.amount.0) + usage)
}

fn watch(k: &Contract, periods: &[Period], prices: &Prices, month: Month, now: i64) -> BudgetWatch {
    let so_far = cost(k, periods, prices, month, now);
    let forecast = if now < month.end() {
        cost(k, periods, prices, month, month.end())
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

// ----- reading statements -------------------------------------------------------

/// A contract the user may see, with the role check for statements:
/// another tenant's contract is 404, a role without access to money 403.
pub async fn readable_contract(db: &Db, user: &CurrentUser, id: i64) -> Result<Contract> {
    let k = app::contracts::get(db, user, id).await?;
    policy::read_billing(user)?;
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
        let lines = db::statements::lines_of(pool, c.id).await?;
        let totals = totals(&lines);
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
    let totals = totals(&lines);
    Ok(Statement {
        header: Header::of(k),
        month,
        closed_at: None,
        budget: watch(k, periods, &prices, month, now),
        lines,
        totals,
    })
}

/// The statements of a month for every contract the user may see that is
/// valid in it, ordered by customer and contract number.
pub async fn summaries(
    pool: &AnyPool,
    user: &CurrentUser,
    month: Month,
    now: i64,
) -> Result<Vec<Summary>> {
    policy::read_billing(user)?;
    let scope = user.scope();
    let closed = closed_of_month(pool, month).await?;
    let contracts: Vec<Contract> = db::contracts::list(pool, scope)
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
                        total: totals(&lines).total,
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
    db: &Db,
    user: &CurrentUser,
    contract_id: Option<i64>,
    month: Month,
) -> Result<Vec<Contract>> {
    match contract_id {
        Some(id) => {
            let k = app::contracts::get(db, user, id).await?;
            policy::export_billing(user)?;
            if !covers(&k, month) && closed(&db.pool, k.id, month).await?.is_none() {
                return Err(not_covered(&k, month));
            }
            Ok(vec![k])
        }
        None => {
            policy::export_billing(user)?;
            let closed = closed_of_month(&db.pool, month).await?;
            Ok(db::contracts::list(&db.pool, user.scope())
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
