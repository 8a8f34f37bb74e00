//! The running month, cheaply: what the Übersicht and the budget watch show
//! on every view. A period that has ended never changes its cost (prices
//! are fixed from tomorrow on at the earliest), so the transaction that
//! closes a period stores its cost within the month it ended in
//! (`app::bookings::settle`); the live view adds those sums to the open
//! periods, which are the only ones rated again. The result is exactly what rating every
//! period of the month gives (each line rounded on its own), which the
//! integration tests hold against the statement of the month.

use std::collections::HashMap;

use sqlx::AnyPool;

use super::{
    budget::BudgetWatch,
    rating::Prices,
    statements::{cost, prices},
};
use crate::{
    db::{
        self,
        contracts::Contract,
        statements::{LiveMonth, LivePeriod, Of},
    },
    domain::{Cents, Resources, billing::Month, kontingent::Commitment, money::HOURS_PER_MONTH},
};

/// Which contracts' rows to read: one, one customer's, or all.
fn scope_of(contracts: &[Contract]) -> Of {
    match contracts {
        [one] => Of::Contract(one.id),
        [first, rest @ ..] if rest.iter().all(|k| k.customer_id == first.customer_id) => {
            Of::Customer(first.customer_id)
        }
        _ => Of::All,
    }
}

/// The running month of `contracts` as of `now`, with the prices to rate it.
pub struct Live {
    pub month: Month,
    pub rows: LiveMonth,
    pub prices: Prices,
}

impl Live {
    /// Two statements, whatever the number of contracts and periods (none
    /// for no contracts).
    pub async fn read(pool: &AnyPool, contracts: &[Contract], now: i64) -> sqlx::Result<Live> {
        let month = Month::containing(now);
        if contracts.is_empty() {
            return Ok(Live {
                month,
                rows: LiveMonth::default(),
                prices: Prices::default(),
            });
        }
        let rows =
            db::statements::live_month(pool, scope_of(contracts), month.start(), month.end())
                .await?;
        Ok(Live {
            month,
            rows,
            prices: prices(pool).await?,
        })
    }

    /// The month so far and its forecast: the stored cost of what ended in
    /// it plus the rated lines of what did not.
    pub fn budget(&self, k: &Contract, now: i64) -> BudgetWatch {
        let open = self.rows.periods_of(k.id);
        let settled = self.rows.settled_of(k.id);
        let until = |to: i64| {
            Cents(
                settled.0
                    + cost(
                        k,
                        open.iter().map(|p| &p.period),
                        &self.prices,
                        self.month,
                        to,
                    )
                    .0,
            )
        };
        let so_far = until(now);
        BudgetWatch {
            month: self.month,
            so_far,
            forecast: if now < self.month.end() {
                until(self.month.end())
            } else {
                so_far
            },
            budget: Cents(k.monthly_budget_cents),
        }
    }

    pub fn budgets(&self, contracts: &[Contract], now: i64) -> HashMap<i64, BudgetWatch> {
        contracts
            .iter()
            .map(|k| (k.id, self.budget(k, now)))
            .collect()
    }

    /// The open periods of a contract: its bookings as they stand.
    pub fn open(&self, contract_id: i64) -> impl Iterator<Item = &LivePeriod> {
        self.rows
            .periods_of(contract_id)
            .iter()
            .filter(|p| p.period.ends_at.is_none())
    }

    /// What is committed under the contract now, as `db::contracts::usage`
    /// sums it: the open periods' resources and their hourly rates valid
    /// now, plus the base fee.
    pub fn commitment(&self, k: &Contract, now: i64) -> Commitment {
        let (resources, rate_sum) =
            self.open(k.id)
                .fold((Resources::default(), 0), |(r, sum), p| {
                    let rate = self.prices.rate_at(p.period.product_size_id, now);
                    (r + p.resources, sum + rate.map_or(0, |r| r.0))
                });
        Commitment {
            resources,
            monthly_exact: rate_sum * HOURS_PER_MONTH + k.base_fee_cents * 100,
        }
    }
}

/// The current month's cost so far and forecast of each contract.
pub async fn budgets(
    pool: &AnyPool,
    contracts: &[Contract],
    now: i64,
) -> sqlx::Result<HashMap<i64, BudgetWatch>> {
    Ok(Live::read(pool, contracts, now)
        .await?
        .budgets(contracts, now))
}
