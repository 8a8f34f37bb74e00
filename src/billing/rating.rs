//! Rating: what a booking costs in a billing month.
//!
//! A booking is charged per second of each period at the hourly price valid
//! during that second; a price change inside a period splits it into two line
//! items. Each line item is rounded once, half-up, to cents, and a total is the
//! exact sum of its lines. Billing months are calendar months in German civil
//! time, so March has 743 hours and October 745.

use std::collections::HashMap;

use jiff::civil::Date;

pub use crate::domain::pricing::{Prices, amount, period_cost};
use crate::domain::{
    Cents, Stage,
    billing::{LineItem, LineKind, Month, Period},
    calendar::berlin_midnight,
    money::div_round_half_up,
    pricing::{RATE_SECONDS_PER_CENT, priced_segments},
};

/// Hours as a decimal with four places, in 1/10 000 h (for display only; the
/// amount is computed from the seconds).
pub fn hours_e4(seconds: i64) -> i64 {
    div_round_half_up(i128::from(seconds) * 10_000, 3600) as i64
}

/// Name of the base-fee line in statements and exports.
pub const BASE_FEE_LABEL: &str = "Grundgebühr";

/// The line items of one period inside `[window_from, window_to)`. A running
/// period counts as running until `window_to`.
pub fn rate_period(
    period: &Period,
    prices: &Prices,
    window_from: i64,
    window_to: i64,
) -> Vec<LineItem> {
    priced_segments(
        prices,
        period.product_size_id,
        period.starts_at,
        period.ends_at,
        window_from,
        window_to,
    )
    .into_iter()
    .map(|(a, b, rate)| LineItem {
        kind: LineKind::Usage,
        booking_id: Some(period.booking_id),
        application_name: period.application_name.clone(),
        stage: Some(period.stage),
        product_name: period.product_name.clone(),
        size: Some(period.size),
        from: a,
        to: b,
        seconds: b - a,
        rate: Some(rate),
        amount: amount(rate, b - a),
    })
    .collect()
}

/// The base fee of a month, pro rata by the calendar days of the month on
/// which the contract is valid.
pub fn base_fee_line(
    fee: Cents,
    valid_from: Date,
    valid_until: Date,
    month: Month,
) -> Option<LineItem> {
    let first = month.first_day().max(valid_from);
    let last = month.last_day().min(valid_until);
    if fee.0 == 0 || first > last {
        return None;
    }
    let days = i64::from((last - first).get_days()) + 1;
    let amount = Cents(div_round_half_up(
        i128::from(fee.0) * i128::from(days),
        i128::from(month.days()),
    ) as i64);
    let from = berlin_midnight(first);
    let to = berlin_midnight(last.tomorrow().expect("dates before 2100 have a tomorrow"));
    Some(LineItem {
        kind: LineKind::BaseFee,
        booking_id: None,
        application_name: String::new(),
        stage: None,
        product_name: BASE_FEE_LABEL.into(),
        size: None,
        from,
        to,
        seconds: to - from,
        rate: None,
        amount,
    })
}

/// All line items of a contract's month up to `until` (the month's end for a
/// finished month or a forecast, now for the month so far), in the order a
/// statement lists them: base fee first, then by application, stage,
/// product, booking and time.
pub fn rate_month<'a>(
    periods: impl IntoIterator<Item = &'a Period>,
    prices: &Prices,
    base_fee: Option<LineItem>,
    month: Month,
    until: i64,
) -> Vec<LineItem> {
    let window_to = until.min(month.end());
    let mut usage: Vec<LineItem> = periods
        .into_iter()
        .flat_map(|p| rate_period(p, prices, month.start(), window_to))
        .collect();
    usage.sort_by(|a, b| {
        (
            &a.application_name,
            a.stage,
            &a.product_name,
            a.booking_id,
            a.from,
        )
            .cmp(&(
                &b.application_name,
                b.stage,
                &b.product_name,
                b.booking_id,
                b.from,
            ))
    });
    base_fee.into_iter().chain(usage).collect()
}

/// A statement's sums.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    pub total: Cents,
    pub base_fee: Cents,
    pub by_stage: Vec<(Stage, Cents)>,
    pub by_application: Vec<(String, Cents)>,
    pub by_product: Vec<(String, Cents)>,
}

pub fn totals(lines: &[LineItem]) -> Totals {
    let mut t = Totals::default();
    let mut stages: HashMap<Stage, i64> = HashMap::new();
    let mut apps: HashMap<&str, i64> = HashMap::new();
    let mut products: HashMap<&str, i64> = HashMap::new();
    for line in lines {
        t.total.0 += line.amount.0;
        match line.stage {
            Some(stage) => {
                *stages.entry(stage).or_default() += line.amount.0;
                *apps.entry(&line.application_name).or_default() += line.amount.0;
                *products.entry(&line.product_name).or_default() += line.amount.0;
            }
            None => t.base_fee.0 += line.amount.0,
        }
    }
    t.by_stage = Stage::ALL
        .iter()
        .filter_map(|s| stages.get(s).map(|c| (*s, Cents(*c))))
        .collect();
    let sorted = |m: HashMap<&str, i64>| {
        let mut v: Vec<(String, Cents)> = m
            .into_iter()
            .map(|(k, c)| (k.to_string(), Cents(c)))
            .collect();
        v.sort();
        v
    };
    t.by_application = sorted(apps);
    t.by_product = sorted(products);
    t
}

/// One day of the month with its cost per stage (in `Stage::ALL` order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayCost {
    pub date: Date,
    pub by_stage: [Cents; 4],
}

impl DayCost {
    pub fn total(&self) -> Cents {
        Cents(self.by_stage.iter().map(|c| c.0).sum())
    }
}

/// Usage cost per German calendar day and stage, for the chart. The base
/// fee is not a daily cost and is left out. Each cell is rounded on its own,
/// so the days may differ from the statement by a cent in sum.
pub fn daily_by_stage(lines: &[LineItem], month: Month) -> Vec<DayCost> {
    let days = month.days() as usize;
    let mut exact = vec![[0_i128; 4]; days];
    let bounds: Vec<i64> = (0..=days)
        .map(|d| {
            let date = month
                .first_day()
                .checked_add(jiff::Span::new().days(d as i64))
                .expect("within the month");
            berlin_midnight(date)
        })
        .collect();
    for line in lines {
        let (Some(stage), Some(rate)) = (line.stage, line.rate) else {
            continue;
        };
        let s = Stage::ALL.iter().position(|x| *x == stage).unwrap_or(0);
        for (d, cell) in exact.iter_mut().enumerate() {
            let (a, b) = (line.from.max(bounds[d]), line.to.min(bounds[d + 1]));
            if a < b {
                cell[s] += i128::from(rate.0) * i128::from(b - a);
            }
        }
    }
    exact
        .into_iter()
        .enumerate()
        .map(|(d, cells)| DayCost {
            date: month
                .first_day()
                .checked_add(jiff::Span::new().days(d as i64))
                .expect("within the month"),
            by_stage: cells.map(|x| Cents(div_round_half_up(x, RATE_SECONDS_PER_CENT) as i64)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use jiff::{civil::DateTime, tz::TimeZone};

    use super::*;
    use crate::domain::HourlyRate;

    /// A German wall-clock time as a Unix second.
    fn at(s: &str) -> i64 {
        let dt: DateTime = s.parse().unwrap();
        dt.to_zoned(TimeZone::get("Europe/Berlin").unwrap())
            .unwrap()
            .timestamp()
            .as_second()
    }

    fn month(s: &str) -> Month {
        Month::parse(s).unwrap()
    }

    const SIZE: i64 = 1;
    /// 0,1200 € per hour.
    const RATE: HourlyRate = HourlyRate(1200);

    fn flat_price() -> Prices {
        Prices::new([(SIZE, at("2026-01-01T00:00"), RATE)])
    }

    fn period(id: i64, size: &str, from: &str, to: Option<&str>) -> Period {
        Period {
            booking_id: id,
            application_id: 1,
            application_name: "Bürgerservice".into(),
            stage: Stage::Produktion,
            product_name: "Container-Namespace".into(),
            size: size.parse().expect("a size"),
            product_size_id: SIZE,
            starts_at: at(from),
            ends_at: to.map(at),
        }
    }

    fn amounts(lines: &[LineItem]) -> Vec<i64> {
        lines.iter().map(|l| l.amount.0).collect()
    }

    fn closed(m: &str, periods: &[Period], prices: &Prices) -> Vec<LineItem> {
        let m = month(m);
        rate_month(periods, prices, None, m, m.end())
    }

    #[test]
    fn a_booking_from_mid_month_pays_from_its_first_second() {
        // 16 to 30 November: 15 days = 360 h × 0,12 € = 43,20 €.
        let lines = closed(
            "2026-11",
            &[period(1, "S", "2026-11-16T00:00", None)],
            &flat_price(),
        );
        assert_eq!(amounts(&lines), [4320]);
        assert_eq!(lines[0].seconds, 360 * 3600);
        assert_eq!(lines[0].from, at("2026-11-16T00:00"));
        assert_eq!(lines[0].to, at("2026-12-01T00:00"));
    }

    #[test]
    fn a_resize_gives_one_line_per_size() {
        // S at 0,12 € for 10.5 days (252 h = 30,24 €), then M at 0,24 € for
        // 19.5 days (468 h = 112,32 €).
        let prices = Prices::new([
            (1, at("2026-01-01T00:00"), HourlyRate(1200)),
            (2, at("2026-01-01T00:00"), HourlyRate(2400)),
        ]);
        let mut m = period(7, "M", "2026-11-11T12:00", None);
        m.product_size_id = 2;
        let lines = closed(
            "2026-11",
            &[
                period(7, "S", "2026-11-01T00:00", Some("2026-11-11T12:00")),
                m,
            ],
            &prices,
        );
        assert_eq!(amounts(&lines), [3024, 11232]);
        assert_eq!(totals(&lines).total, Cents(14256));
    }

    #[test]
    fn a_cancelled_booking_stops_paying_at_the_second_it_was_cancelled() {
        // 1 November 00:00 to 3 November 08:30 = 56,5 h × 0,12 € = 6,78 €.
        let lines = closed(
            "2026-11",
            &[period(1, "S", "2026-11-01T00:00", Some("2026-11-03T08:30"))],
            &flat_price(),
        );
        assert_eq!(amounts(&lines), [678]);
    }

    #[test]
    fn a_price_change_mid_month_splits_the_charge() {
        // 0,12 € until 15 November (14 days, 336 h = 40,32 €), then 0,15 €
        // (16 days, 384 h = 57,60 €).
        let prices = Prices::new([
            (SIZE, at("2026-01-01T00:00"), HourlyRate(1200)),
            (SIZE, at("2026-11-15T00:00"), HourlyRate(1500)),
        ]);
        let lines = closed(
            "2026-11",
            &[period(1, "S", "2026-10-20T00:00", None)],
            &prices,
        );
        assert_eq!(amounts(&lines), [4032, 5760]);
        assert_eq!(lines[0].rate, Some(HourlyRate(1200)));
        assert_eq!(lines[1].rate, Some(HourlyRate(1500)));
        assert_eq!(lines[0].to, lines[1].from);
    }

    #[test]
    fn a_booking_across_the_month_boundary_is_split_between_the_months() {
        // 31 October 12:00 to 2 November 12:00: 12 h in October (1,44 €),
        // 36 h in November (4,32 €).
        let p = [period(1, "S", "2026-10-31T12:00", Some("2026-11-02T12:00"))];
        assert_eq!(amounts(&closed("2026-10", &p, &flat_price())), [144]);
        assert_eq!(amounts(&closed("2026-11", &p, &flat_price())), [432]);
    }

    #[test]
    fn march_has_743_hours_and_october_745() {
        let p = [period(1, "S", "2026-01-01T00:00", None)];
        // 743 h × 0,12 € = 89,16 €; 745 h × 0,12 € = 89,40 €.
        assert_eq!(amounts(&closed("2026-03", &p, &flat_price())), [8916]);
        assert_eq!(amounts(&closed("2026-10", &p, &flat_price())), [8940]);
        // The night of the change: 28 March 22:00 to 29 March 04:00 is
        // five hours of real time, not six.
        let night = [period(2, "S", "2026-03-28T22:00", Some("2026-03-29T04:00"))];
        let lines = closed("2026-03", &night, &flat_price());
        assert_eq!(lines[0].seconds, 5 * 3600);
        assert_eq!(amounts(&lines), [60]);
        // And in October, 25 October 01:00 to 04:00 is four hours.
        let night = [period(3, "S", "2026-10-25T01:00", Some("2026-10-25T04:00"))];
        assert_eq!(
            closed("2026-10", &night, &flat_price())[0].seconds,
            4 * 3600
        );
    }

    #[test]
    fn the_base_fee_is_charged_pro_rata_by_valid_days() {
        let d = |s: &str| s.parse::<Date>().unwrap();
        let fee = Cents(15000);
        let whole = base_fee_line(fee, d("2026-01-01"), d("2028-12-31"), month("2026-11")).unwrap();
        assert_eq!(whole.amount, Cents(15000));
        assert_eq!(whole.from, month("2026-11").start());
        assert_eq!(whole.to, month("2026-11").end());
        // Valid from 16 November: 15 of 30 days = 75,00 €.
        let half = base_fee_line(fee, d("2026-11-16"), d("2028-12-31"), month("2026-11")).unwrap();
        assert_eq!(half.amount, Cents(7500));
        // 100,00 € for 10 of 30 days = 33,333… € → 33,33 €.
        let third = base_fee_line(
            Cents(10000),
            d("2026-11-21"),
            d("2026-12-31"),
            month("2026-11"),
        );
        assert_eq!(third.unwrap().amount, Cents(3333));
        // Not valid in the month, or no fee: no line.
        assert!(base_fee_line(fee, d("2027-01-01"), d("2027-12-31"), month("2026-11")).is_none());
        assert!(
            base_fee_line(Cents(0), d("2026-01-01"), d("2027-12-31"), month("2026-11")).is_none()
        );
        // The base fee comes first, and counts in the total but no stage.
        let m = month("2026-11");
        let lines = rate_month(
            &[period(1, "S", "2026-11-16T00:00", None)],
            &flat_price(),
            Some(whole),
            m,
            m.end(),
        );
        assert_eq!(amounts(&lines), [15000, 4320]);
        let t = totals(&lines);
        assert_eq!(t.total, Cents(19320));
        assert_eq!(t.base_fee, Cents(15000));
        assert_eq!(t.by_stage, [(Stage::Produktion, Cents(4320))]);
    }

    #[test]
    fn each_line_is_rounded_once_half_up_and_the_total_is_their_sum() {
        // 0,0005 € per hour for 15 h = 0,75 ct → 1 ct, three times.
        let prices = Prices::new([(SIZE, 0, HourlyRate(5))]);
        let p: Vec<Period> = (1..=3)
            .map(|i| period(i, "S", "2026-11-02T00:00", Some("2026-11-02T15:00")))
            .collect();
        let lines = closed("2026-11", &p, &prices);
        assert_eq!(amounts(&lines), [1, 1, 1]);
        assert_eq!(totals(&lines).total, Cents(3));
    }

    #[test]
    fn the_month_so_far_stops_now_and_the_forecast_runs_to_its_end() {
        let m = month("2026-11");
        let p = [period(1, "S", "2026-11-01T00:00", None)];
        let so_far = rate_month(&p, &flat_price(), None, m, at("2026-11-11T00:00"));
        let forecast = rate_month(&p, &flat_price(), None, m, m.end());
        assert_eq!(amounts(&so_far), [2880]);
        assert_eq!(amounts(&forecast), [8640]);
    }

    #[test]
    fn time_before_the_first_price_is_charged_at_the_first_price() {
        let prices = Prices::new([(SIZE, at("2026-11-10T00:00"), RATE)]);
        let lines = closed(
            "2026-11",
            &[period(1, "S", "2026-11-01T00:00", None)],
            &prices,
        );
        assert_eq!(amounts(&lines), [8640]);
    }

    #[test]
    fn daily_costs_split_at_german_midnight() {
        let m = month("2026-11");
        let lines = closed(
            "2026-11",
            &[period(1, "S", "2026-11-01T12:00", Some("2026-11-03T06:00"))],
            &flat_price(),
        );
        let days = daily_by_stage(&lines, m);
        assert_eq!(days.len(), 30);
        let prod = |d: usize| days[d].by_stage[3].0;
        // 12 h, 24 h, 6 h at 0,12 €.
        assert_eq!((prod(0), prod(1), prod(2), prod(3)), (144, 288, 72, 0));
        assert_eq!(days[1].date.to_string(), "2026-11-02");
        assert_eq!(
            days.iter().map(|d| d.total().0).sum::<i64>(),
            totals(&lines).total.0
        );
    }
}
