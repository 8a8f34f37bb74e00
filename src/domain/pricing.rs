//! Prices over time: the price versions of each catalogue size, and what a
//! stretch of time costs at them — per second at the rate valid in it,
//! rounded once per piece. Rating statements (`billing::rating`) and
//! storing a closed period's cost (`app::bookings`) both build on it.

use std::collections::HashMap;

use super::{Cents, HourlyRate, billing::Month, money::div_round_half_up};

/// Seconds per hour times cents per 1/10 000 EUR: `rate × seconds / this`
/// is an amount in cents.
pub(crate) const RATE_SECONDS_PER_CENT: i128 = 3600 * 100;

/// The cost of `seconds` at `rate`, rounded once to cents.
pub fn amount(rate: HourlyRate, seconds: i64) -> Cents {
    Cents(div_round_half_up(
        i128::from(rate.0) * i128::from(seconds),
        RATE_SECONDS_PER_CENT,
    ) as i64)
}

/// The price versions of every product size.
#[derive(Debug, Clone, Default)]
pub struct Prices {
    by_size: HashMap<i64, Vec<(i64, HourlyRate)>>,
}

impl Prices {
    /// From `(product_size_id, valid_from, rate)` rows in any order.
    pub fn new(rows: impl IntoIterator<Item = (i64, i64, HourlyRate)>) -> Prices {
        let mut by_size: HashMap<i64, Vec<(i64, HourlyRate)>> = HashMap::new();
        for (size_id, valid_from, rate) in rows {
            by_size.entry(size_id).or_default().push((valid_from, rate));
        }
        for versions in by_size.values_mut() {
            versions.sort_unstable_by_key(|(from, _)| *from);
        }
        Prices { by_size }
    }

    /// The rate valid at `at` (the newest version from `at` or before), as
    /// the Kontingent check prices what is committed; none before a size's
    /// first version.
    pub fn rate_at(&self, size_id: i64, at: i64) -> Option<HourlyRate> {
        self.by_size
            .get(&size_id)?
            .iter()
            .rev()
            .find(|(from, _)| *from <= at)
            .map(|(_, rate)| *rate)
    }

    /// The interval `[from, to)` cut where the price changes, with the rate
    /// of each piece. Time before a size's first price version is charged at
    /// that first price (it is the price the booking was made at); a size
    /// without any price is charged nothing.
    pub fn segments(&self, size_id: i64, from: i64, to: i64) -> Vec<(i64, i64, HourlyRate)> {
        let Some(versions) = self.by_size.get(&size_id).filter(|v| !v.is_empty()) else {
            return vec![(from, to, HourlyRate(0))];
        };
        let mut out = Vec::with_capacity(1);
        for (i, &(valid_from, rate)) in versions.iter().enumerate() {
            let start = if i == 0 { i64::MIN } else { valid_from };
            let end = versions.get(i + 1).map_or(i64::MAX, |(next, _)| *next);
            let (a, b) = (from.max(start), to.min(end));
            if a < b {
                out.push((a, b, rate));
            }
        }
        out
    }
}

/// The pieces of a period inside `[window_from, window_to)` at each price.
pub(crate) fn priced_segments(
    prices: &Prices,
    size_id: i64,
    starts_at: i64,
    ends_at: Option<i64>,
    window_from: i64,
    window_to: i64,
) -> Vec<(i64, i64, HourlyRate)> {
    let from = starts_at.max(window_from);
    let to = ends_at.unwrap_or(window_to).min(window_to);
    if from >= to {
        return Vec::new();
    }
    prices.segments(size_id, from, to)
}

/// What a period costs inside the window: exactly the sum of the lines
/// `billing::rating::rate_period` gives, each rounded on its own.
pub fn period_cost(
    prices: &Prices,
    size_id: i64,
    starts_at: i64,
    ends_at: Option<i64>,
    window_from: i64,
    window_to: i64,
) -> Cents {
    Cents(
        priced_segments(prices, size_id, starts_at, ends_at, window_from, window_to)
            .into_iter()
            .map(|(a, b, rate)| amount(rate, b - a).0)
            .sum(),
    )
}

/// The cost of a closed period within the month its end falls in: what the
/// running month's view adds up instead of rating it again.
pub fn month_cost(prices: &Prices, size_id: i64, starts_at: i64, ends_at: i64) -> Cents {
    let month = Month::containing(ends_at);
    period_cost(
        prices,
        size_id,
        starts_at,
        Some(ends_at),
        month.start(),
        month.end(),
    )
}
