//! The Kontingent: the ceilings a contract sets for the sum of everything
//! booked under it, and the rule that admits or refuses a change.

use std::fmt;

use serde::Serialize;

use super::{
    Cents, Resources,
    money::div_round_half_up,
    resources::{format_gib, format_vcpu},
};

/// Ceilings of a contract (Dienstleistungsvereinbarung).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kontingent {
    pub millicpu: i64,
    pub memory_mib: i64,
    pub storage_gib: i64,
    pub monthly_budget: Cents,
}

/// What is committed under a contract, or what a change adds to it.
/// `monthly_exact` is in 1/10 000 EUR so that sums are not rounded early.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Commitment {
    pub resources: Resources,
    pub monthly_exact: i64,
}

impl Commitment {
    pub fn monthly(&self) -> Cents {
        Cents(div_round_half_up(self.monthly_exact as i128, 100) as i64)
    }
}

impl std::ops::Add for Commitment {
    type Output = Commitment;
    fn add(self, o: Commitment) -> Commitment {
        Commitment {
            resources: self.resources + o.resources,
            monthly_exact: self.monthly_exact + o.monthly_exact,
        }
    }
}

impl std::ops::Sub for Commitment {
    type Output = Commitment;
    fn sub(self, o: Commitment) -> Commitment {
        Commitment {
            resources: self.resources - o.resources,
            monthly_exact: self.monthly_exact - o.monthly_exact,
        }
    }
}

/// The ceiling that a change would break.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Limit {
    Vcpu,
    Memory,
    Storage,
    MonthlyBudget,
}

impl Limit {
    pub fn label(self) -> &'static str {
        match self {
            Limit::Vcpu => "vCPU",
            Limit::Memory => "Arbeitsspeicher",
            Limit::Storage => "Speicher",
            Limit::MonthlyBudget => "Monatsbudget",
        }
    }
}

/// A refused change: which limit, what was asked, what remains.
/// Quantities are in the limit's own unit (millicores, MiB, GiB, cents).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KontingentExceeded {
    pub limit: Limit,
    pub requested: i64,
    pub remaining: i64,
    pub ceiling: i64,
}

impl KontingentExceeded {
    fn format(&self, value: i64) -> String {
        match self.limit {
            Limit::Vcpu => format!("{} vCPU", format_vcpu(value)),
            Limit::Memory => format!("{} GiB", format_gib(value)),
            Limit::Storage => format!("{value} GiB"),
            Limit::MonthlyBudget => format!("{} pro Monat", Cents(value)),
        }
    }
}

impl fmt::Display for KontingentExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Das Kontingent reicht nicht: {} – benötigt {}, verfügbar {} von {}.",
            self.limit.label(),
            self.format(self.requested),
            self.format(self.remaining.max(0)),
            self.format(self.ceiling),
        )
    }
}

impl Kontingent {
    /// What remains of each ceiling given the current commitment.
    pub fn remaining(&self, committed: &Commitment) -> Remaining {
        Remaining {
            millicpu: self.millicpu - committed.resources.millicpu,
            memory_mib: self.memory_mib - committed.resources.memory_mib,
            storage_gib: self.storage_gib - committed.resources.storage_gib,
            monthly_budget: Cents(self.monthly_budget.0 - committed.monthly().0),
        }
    }

    /// Admits `change` on top of `committed`, or names the first ceiling it
    /// would break. A dimension the change does not grow is never refused, so
    /// shrinking stays possible under a ceiling that was lowered later.
    pub fn admit(
        &self,
        committed: &Commitment,
        change: &Commitment,
    ) -> Result<(), KontingentExceeded> {
        let checks = [
            (
                Limit::Vcpu,
                committed.resources.millicpu,
                change.resources.millicpu,
                self.millicpu,
                1,
            ),
            (
                Limit::Memory,
                committed.resources.memory_mib,
                change.resources.memory_mib,
                self.memory_mib,
                1,
            ),
            (
                Limit::Storage,
                committed.resources.storage_gib,
                change.resources.storage_gib,
                self.storage_gib,
                1,
            ),
            // Budget compared exactly in 1/10 000 EUR, reported in cents.
            (
                Limit::MonthlyBudget,
                committed.monthly_exact,
                change.monthly_exact,
                self.monthly_budget.0 * 100,
                100,
            ),
        ];
        for (limit, used, delta, ceiling, unit) in checks {
            if delta > 0 && used + delta > ceiling {
                let to_unit = |v: i64| div_round_half_up(v as i128, unit as i128) as i64;
                return Err(KontingentExceeded {
                    limit,
                    requested: to_unit(delta),
                    remaining: to_unit(ceiling - used),
                    ceiling: to_unit(ceiling),
                });
            }
        }
        Ok(())
    }
}

/// Remaining room under each ceiling (negative when a ceiling was lowered
/// below what is already booked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Remaining {
    pub millicpu: i64,
    pub memory_mib: i64,
    pub storage_gib: i64,
    pub monthly_budget: Cents,
}

/// New values for some ceilings of a Kontingent (a change request); the
/// others stay as they are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CeilingChange {
    pub millicpu: Option<i64>,
    pub memory_mib: Option<i64>,
    pub storage_gib: Option<i64>,
    pub monthly_budget: Option<Cents>,
}

impl CeilingChange {
    /// Whether it names no ceiling at all.
    pub fn is_empty(&self) -> bool {
        *self == CeilingChange::default()
    }

    /// The Kontingent with these ceilings in place.
    pub fn applied_to(&self, k: &Kontingent) -> Kontingent {
        Kontingent {
            millicpu: self.millicpu.unwrap_or(k.millicpu),
            memory_mib: self.memory_mib.unwrap_or(k.memory_mib),
            storage_gib: self.storage_gib.unwrap_or(k.storage_gib),
            monthly_budget: self.monthly_budget.unwrap_or(k.monthly_budget),
        }
    }

    /// Whether it would change anything of `k`.
    pub fn changes(&self, k: &Kontingent) -> bool {
        self.applied_to(k) != *k
    }

    /// Whether it raises the monthly budget of `k` (which may need a second
    /// signature of the customer's finance).
    pub fn raises_budget(&self, k: &Kontingent) -> bool {
        self.monthly_budget.is_some_and(|b| b > k.monthly_budget)
    }

    /// The ceiling that would have let a refused change through: the
    /// shortfall added to the ceiling it broke. The budget gets a cent more,
    /// as the refusal reports it rounded to cents.
    pub fn to_fit(refused: &KontingentExceeded) -> CeilingChange {
        let needed = refused.ceiling + refused.requested - refused.remaining.max(0);
        let mut change = CeilingChange::default();
        match refused.limit {
            Limit::Vcpu => change.millicpu = Some(needed),
            Limit::Memory => change.memory_mib = Some(needed),
            Limit::Storage => change.storage_gib = Some(needed),
            Limit::MonthlyBudget => change.monthly_budget = Some(Cents(needed + 1)),
        }
        change
    }
}

impl Kontingent {
    /// The ceilings that are below what is committed now: lowering one there
    /// blocks every new booking until use falls.
    pub fn below(&self, committed: &Commitment) -> Vec<Limit> {
        let rest = self.remaining(committed);
        [
            (Limit::Vcpu, rest.millicpu < 0),
            (Limit::Memory, rest.memory_mib < 0),
            (Limit::Storage, rest.storage_gib < 0),
            (Limit::MonthlyBudget, rest.monthly_budget.0 < 0),
        ]
        .into_iter()
        .filter_map(|(limit, below)| below.then_some(limit))
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::HourlyRate;

    fn kontingent() -> Kontingent {
        Kontingent {
            millicpu: 8000,
            memory_mib: 32768,
            storage_gib: 500,
            monthly_budget: Cents(100_000),
        }
    }

    fn ns(millicpu: i64, rate: HourlyRate) -> Commitment {
        Commitment {
            resources: Resources {
                millicpu,
                memory_mib: millicpu * 4 * 1024 / 1000,
                storage_gib: 0,
                pods: 10,
            },
            monthly_exact: rate.monthly_exact(),
        }
    }

    #[test]
    fn a_change_that_fits_exactly_is_admitted() {
        let k = kontingent();
        let committed = ns(6000, HourlyRate(0));
        assert_eq!(k.admit(&committed, &ns(2000, HourlyRate(0))), Ok(()));
    }

    #[test]
    fn a_change_past_the_vcpu_ceiling_names_the_limit_and_the_rest() {
        let k = kontingent();
        let err = k
            .admit(&ns(6000, HourlyRate(0)), &ns(4000, HourlyRate(0)))
            .unwrap_err();
        assert_eq!(err.limit, Limit::Vcpu);
        assert_eq!(err.requested, 4000);
        assert_eq!(err.remaining, 2000);
        assert_eq!(
            err.to_string(),
            "Das Kontingent reicht nicht: vCPU – benötigt 4 vCPU, verfügbar 2 vCPU von 8 vCPU."
        );
    }

    #[test]
    fn the_budget_counts_730_hours_of_the_hourly_price() {
        let k = kontingent(); // 1 000 € per month
        // 1,3699 €/h × 730 h = 1 000,027 € – just over.
        let err = k
            .admit(&Commitment::default(), &ns(1000, HourlyRate(13699)))
            .unwrap_err();
        assert_eq!(err.limit, Limit::MonthlyBudget);
        assert_eq!(
            k.admit(&Commitment::default(), &ns(1000, HourlyRate(13698))),
            Ok(())
        );
    }

    #[test]
    fn shrinking_is_allowed_even_above_a_lowered_ceiling() {
        let k = kontingent();
        let committed = ns(12000, HourlyRate(0));
        let shrink = ns(-2000, HourlyRate(0));
        assert_eq!(k.admit(&committed, &shrink), Ok(()));
    }

    #[test]
    fn a_change_request_replaces_only_the_ceilings_it_names() {
        let k = kontingent();
        let change = CeilingChange {
            millicpu: Some(16_000),
            ..CeilingChange::default()
        };
        let after = change.applied_to(&k);
        assert_eq!(after.millicpu, 16_000);
        assert_eq!(after.memory_mib, k.memory_mib);
        assert!(change.changes(&k));
        assert!(!CeilingChange::default().changes(&k));
        assert!(CeilingChange::default().is_empty());
    }

    #[test]
    fn a_refusal_suggests_the_ceiling_that_fits() {
        let k = kontingent();
        let refused = k
            .admit(&ns(6000, HourlyRate(0)), &ns(4000, HourlyRate(0)))
            .unwrap_err();
        let fit = CeilingChange::to_fit(&refused);
        assert_eq!(fit.millicpu, Some(10_000));
        let bigger = fit.applied_to(&k);
        assert_eq!(
            bigger.admit(&ns(6000, HourlyRate(0)), &ns(4000, HourlyRate(0))),
            Ok(())
        );
    }

    #[test]
    fn a_budget_suggestion_makes_room_despite_rounding() {
        let k = kontingent();
        let change = ns(1000, HourlyRate(13_699));
        let refused = k.admit(&Commitment::default(), &change).unwrap_err();
        let fit = CeilingChange::to_fit(&refused).applied_to(&k);
        assert_eq!(fit.admit(&Commitment::default(), &change), Ok(()));
        assert!(CeilingChange::to_fit(&refused).raises_budget(&k));
    }

    #[test]
    fn ceilings_below_use_are_named() {
        let k = kontingent();
        assert_eq!(
            k.below(&ns(12_000, HourlyRate(0))),
            vec![Limit::Vcpu, Limit::Memory]
        );
        assert!(k.below(&ns(1000, HourlyRate(0))).is_empty());
    }
}
