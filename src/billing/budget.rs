//! The budget watch: a month's cost so far and its forecast against the
//! Kontingent's monthly budget, with warnings at 80 % and 100 %.

use crate::domain::Cents;
use crate::domain::billing::Month;

/// How close a month's cost comes to the monthly budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum BudgetLevel {
    Ok,
    /// At least 80 %.
    Warning,
    /// At least 100 %.
    Exceeded,
}

impl BudgetLevel {
    pub fn of(amount: Cents, budget: Cents) -> BudgetLevel {
        // A contract without budget cannot be overrun in any meaningful way.
        if budget.0 <= 0 {
            return BudgetLevel::Ok;
        }
        if amount.0 >= budget.0 {
            BudgetLevel::Exceeded
        } else if amount.0 * 5 >= budget.0 * 4 {
            BudgetLevel::Warning
        } else {
            BudgetLevel::Ok
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            BudgetLevel::Ok => "ok",
            BudgetLevel::Warning => "warnung",
            BudgetLevel::Exceeded => "ueberschritten",
        }
    }
}

/// The month so far, the forecast to its end, and the budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetWatch {
    pub month: Month,
    pub so_far: Cents,
    pub forecast: Cents,
    pub budget: Cents,
}

impl BudgetWatch {
    /// Percent of the budget, rounded down (0 without a budget).
    pub fn percent(amount: Cents, budget: Cents) -> i64 {
        if budget.0 <= 0 {
            0
        } else {
            (i128::from(amount.0) * 100 / i128::from(budget.0)) as i64
        }
    }

    pub fn so_far_percent(&self) -> i64 {
        Self::percent(self.so_far, self.budget)
    }

    pub fn forecast_percent(&self) -> i64 {
        Self::percent(self.forecast, self.budget)
    }

    pub fn so_far_level(&self) -> BudgetLevel {
        BudgetLevel::of(self.so_far, self.budget)
    }

    /// The warning shown: the forecast decides, since it is never below the
    /// cost so far.
    pub fn level(&self) -> BudgetLevel {
        BudgetLevel::of(self.forecast, self.budget).max(self.so_far_level())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn month(s: &str) -> Month {
        Month::parse(s).unwrap()
    }

    #[test]
    fn budget_levels_warn_at_80_and_100_percent() {
        let b = Cents(100_000);
        assert_eq!(BudgetLevel::of(Cents(79_999), b), BudgetLevel::Ok);
        assert_eq!(BudgetLevel::of(Cents(80_000), b), BudgetLevel::Warning);
        assert_eq!(BudgetLevel::of(Cents(100_000), b), BudgetLevel::Exceeded);
        assert_eq!(BudgetLevel::of(Cents(5), Cents(0)), BudgetLevel::Ok);
        let w = BudgetWatch {
            month: month("2026-11"),
            so_far: Cents(50_000),
            forecast: Cents(95_000),
            budget: b,
        };
        assert_eq!(w.level(), BudgetLevel::Warning);
        assert_eq!((w.so_far_percent(), w.forecast_percent()), (50, 95));
    }
}
