//! The Kontingent: the ceilings a contract sets for the sum of everything
//! booked under it, and the rule that admits or refuses a change.

use std::fmt;

use serde::Serialize;

use super::{
    Cents, Resources,
    money::div_round_half_up,
    resources::{format_gib, format_vcpu, format_whole, in_current_language},
};
use crate::i18n::{Arg, t, t_with};

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
    /// What is committed against `limit`, in its unit (the budget in cents,
    /// rounded as the refusals report it).
    pub fn of(&self, limit: Limit) -> i64 {
        match limit {
            Limit::Vcpu => self.resources.millicpu,
            Limit::Memory => self.resources.memory_mib,
            Limit::Storage => self.resources.storage_gib,
            Limit::MonthlyBudget => self.monthly().0,
        }
    }

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
    pub const ALL: [Limit; 4] = [
        Limit::Vcpu,
        Limit::Memory,
        Limit::Storage,
        Limit::MonthlyBudget,
    ];

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

impl Limit {
    /// A quantity in this limit's unit (millicores, MiB, GiB, cents), in words.
    pub fn format(self, value: i64) -> String {
        match self {
            Limit::Vcpu => format!("{} vCPU", format_vcpu(value)),
            Limit::Memory => format!("{} GiB", format_gib(value)),
            Limit::Storage => format!("{} GiB", format_whole(value)),
            Limit::MonthlyBudget => format!("{} pro Monat", Cents(value)),
        }
    }
}

/// A ceiling that a change would set below what is booked under it: no
/// new booking fits until use falls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BelowUse {
    pub limit: Limit,
    /// The new ceiling and what is booked, in the limit's unit.
    pub ceiling: i64,
    pub booked: i64,
}

impl Limit {
    /// The limit's name in the request's language.
    fn word(self) -> String {
        match self {
            Limit::Vcpu => t("limit-vcpu"),
            Limit::Memory => t("limit-memory"),
            Limit::Storage => t("limit-storage"),
            Limit::MonthlyBudget => t("limit-budget"),
        }
    }

    /// [`Limit::format`] in the request's language.
    fn amount(self, value: i64) -> Arg {
        let text = match self {
            Limit::MonthlyBudget => t_with(
                "limit-per-month",
                &[(
                    "amount",
                    in_current_language(Cents(value).to_string()).into(),
                )],
            ),
            other => in_current_language(other.format(value)),
        };
        Arg::from(text)
    }
}

impl fmt::Display for BelowUse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&t_with(
            "below-use-item",
            &[
                ("limit", self.limit.word().into()),
                ("ceiling", self.limit.amount(self.ceiling)),
                ("booked", self.limit.amount(self.booked)),
            ],
        ))
    }
}

impl fmt::Display for KontingentExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&t_with(
            "kontingent-refused",
            &[
                ("limit", self.limit.word().into()),
                ("requested", self.limit.amount(self.requested)),
                ("remaining", self.limit.amount(self.remaining.max(0))),
                ("ceiling", self.limit.amount(self.ceiling)),
            ],
        ))
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

impl Kontingent {
    /// The options (e.g. the sizes of a product, each with the change it
    /// would make) that `admit` lets through on top of `committed`, in the
    /// order given: what a refusal can offer instead.
    pub fn fitting<T>(
        &self,
        committed: &Commitment,
        options: impl IntoIterator<Item = (T, Commitment)>,
    ) -> Vec<T> {
        options
            .into_iter()
            .filter(|(_, change)| self.admit(committed, change).is_ok())
            .map(|(option, _)| option)
            .collect()
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

    /// The ceilings that would have let `change` on top of `committed`
    /// through: every one it breaks, raised to exactly what is needed (the
    /// budget rounded up to the cent). Empty when it fits.
    pub fn to_fit(k: &Kontingent, committed: &Commitment, change: &Commitment) -> CeilingChange {
        let needed = |used: i64, delta: i64, ceiling: i64| {
            (delta > 0 && used + delta > ceiling).then_some(used + delta)
        };
        let budget = committed.monthly_exact + change.monthly_exact;
        CeilingChange {
            millicpu: needed(
                committed.resources.millicpu,
                change.resources.millicpu,
                k.millicpu,
            ),
            memory_mib: needed(
                committed.resources.memory_mib,
                change.resources.memory_mib,
                k.memory_mib,
            ),
            storage_gib: needed(
                committed.resources.storage_gib,
                change.resources.storage_gib,
                k.storage_gib,
            ),
            monthly_budget: (change.monthly_exact > 0 && budget > k.monthly_budget.0 * 100)
                .then(|| Cents((budget + 99).div_euclid(100))),
        }
    }
}

impl Kontingent {
    /// The ceilings that `self` lowers from `before` to below what is
    /// `committed`: each needs an explicit confirmation. A ceiling left as it
    /// was never does, even when use lies above it.
    pub fn lowered_below_use(&self, before: &Kontingent, committed: &Commitment) -> Vec<BelowUse> {
        Limit::ALL
            .into_iter()
            .map(|limit| (limit, self.ceiling(limit), committed.of(limit)))
            .filter(|&(limit, ceiling, booked)| ceiling < booked && ceiling < before.ceiling(limit))
            .map(|(limit, ceiling, booked)| BelowUse {
                limit,
                ceiling,
                booked,
            })
            .collect()
    }

    /// The ceiling of `limit`, in its unit (the budget in cents).
    pub fn ceiling(&self, limit: Limit) -> i64 {
        match limit {
            Limit::Vcpu => self.millicpu,
            Limit::Memory => self.memory_mib,
            Limit::Storage => self.storage_gib,
            Limit::MonthlyBudget => self.monthly_budget.0,
        }
    }

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
    fn a_refusal_suggests_every_ceiling_that_fits() {
        let k = kontingent(); // 8 vCPU, 32 GiB
        let (committed, change) = (ns(6000, HourlyRate(0)), ns(4000, HourlyRate(0)));
        assert!(k.admit(&committed, &change).is_err());
        let fit = CeilingChange::to_fit(&k, &committed, &change);
        assert_eq!(fit.millicpu, Some(10_000));
        // 10 vCPU at 4 GiB each: the memory ceiling breaks too.
        assert_eq!(fit.memory_mib, Some(40_960));
        assert_eq!(fit.storage_gib, None);
        assert_eq!(fit.monthly_budget, None);
        assert_eq!(fit.applied_to(&k).admit(&committed, &change), Ok(()));
        // What fits needs nothing.
        assert!(CeilingChange::to_fit(&k, &Commitment::default(), &change).is_empty());
    }

    #[test]
    fn the_fitting_options_are_exactly_those_the_kontingent_admits() {
        let k = kontingent(); // 8 vCPU, 32 GiB
        let committed = ns(5000, HourlyRate(0));
        let options = [("S", 1000), ("M", 2000), ("L", 4000), ("XL", 8000)]
            .map(|(name, millicpu)| (name, ns(millicpu, HourlyRate(0))));
        assert_eq!(k.fitting(&committed, options), vec!["S", "M"]);
        // A shrink always fits.
        assert_eq!(
            k.fitting(
                &ns(12_000, HourlyRate(0)),
                [("S", ns(-1000, HourlyRate(0)))]
            ),
            vec!["S"]
        );
        assert!(k.fitting(&ns(8000, HourlyRate(0)), options).is_empty());
    }

    #[test]
    fn a_budget_suggestion_makes_room_despite_rounding() {
        let k = kontingent();
        let change = ns(1000, HourlyRate(13_699));
        assert!(k.admit(&Commitment::default(), &change).is_err());
        let fit = CeilingChange::to_fit(&k, &Commitment::default(), &change);
        assert_eq!(
            fit.applied_to(&k).admit(&Commitment::default(), &change),
            Ok(())
        );
        assert!(fit.raises_budget(&k));
        // One cent less would not do.
        let short = Kontingent {
            monthly_budget: Cents(fit.monthly_budget.unwrap().0 - 1),
            ..k
        };
        assert!(short.admit(&Commitment::default(), &change).is_err());
    }

    #[test]
    fn lowering_below_use_is_named_with_its_figures_and_leaving_a_ceiling_is_not() {
        let k = kontingent(); // 8 vCPU
        let committed = ns(6000, HourlyRate(0));
        let lower = |millicpu| Kontingent { millicpu, ..k };
        assert_eq!(lower(6000).lowered_below_use(&k, &committed), vec![]);
        let below = lower(4000).lowered_below_use(&k, &committed);
        assert_eq!(
            below,
            vec![BelowUse {
                limit: Limit::Vcpu,
                ceiling: 4000,
                booked: 6000
            }]
        );
        assert_eq!(below[0].to_string(), "vCPU: neu 4 vCPU, gebucht 6 vCPU");
        // Already below: left as it is, nothing to confirm; lowered further,
        // confirmed again.
        assert_eq!(
            lower(4000).lowered_below_use(&lower(4000), &committed),
            vec![]
        );
        assert_eq!(
            lower(2000)
                .lowered_below_use(&lower(4000), &committed)
                .len(),
            1
        );
        // Raising never needs a confirmation.
        assert_eq!(
            lower(5000).lowered_below_use(&lower(4000), &committed),
            vec![]
        );
    }
}
