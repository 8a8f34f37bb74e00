//! Money without floating point: amounts are integer cents, hourly prices are
//! integer hundredths of a cent (1/10 000 EUR) so that small per-hour prices
//! stay exact. Rounding happens once, half-up, where an amount is produced.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Hours in the planning month used for budget figures (8 760 h / 12).
pub const HOURS_PER_MONTH: i64 = 730;

/// An amount of money in euro cents.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Cents(pub i64);

/// A price per hour in 1/10 000 EUR (hundredths of a cent).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct HourlyRate(pub i64);

/// Divides and rounds half away from zero; the only rounding rule in Kontor.
pub fn div_round_half_up(numerator: i128, denominator: i128) -> i128 {
    debug_assert!(denominator > 0);
    let half = denominator / 2;
    if numerator >= 0 {
        (numerator + half) / denominator
    } else {
        -((-numerator + half) / denominator)
    }
}

impl HourlyRate {
    /// Exact cost of a planning month (730 h) in 1/10 000 EUR.
    pub fn monthly_exact(self) -> i64 {
        self.0 * HOURS_PER_MONTH
    }

    /// Cost of a planning month (730 h), rounded to cents.
    pub fn monthly(self) -> Cents {
        Cents(div_round_half_up(self.monthly_exact() as i128, 100) as i64)
    }

    /// Parses a German or English decimal with at most four fraction digits,
    /// e.g. `0,1234` or `0.12`.
    pub fn parse(input: &str) -> Result<Self, MoneyError> {
        parse_decimal(input, 4).map(HourlyRate)
    }
}

impl Cents {
    /// Parses a German or English decimal with at most two fraction digits.
    pub fn parse(input: &str) -> Result<Self, MoneyError> {
        parse_decimal(input, 2).map(Cents)
    }

    /// The amount as a plain decimal string with a point, e.g. `1234.50`.
    pub fn to_decimal_string(self) -> String {
        format_fixed(self.0, 2, '.', false)
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MoneyError {
    #[error("{}", crate::i18n::t("invalid-amount-empty"))]
    Empty,
    #[error("{}", crate::i18n::t_with("invalid-amount", &[("input", .0.as_str().into())]))]
    Malformed(String),
    #[error("{}", crate::i18n::t_with("invalid-amount-decimals", &[("places", (*.0).into())]))]
    TooPrecise(u32),
    #[error("{}", crate::i18n::t("invalid-amount-negative"))]
    Negative,
    #[error("{}", crate::i18n::t("invalid-amount-too-large"))]
    TooLarge,
}

/// Largest amount accepted from input: a billion euro is more than any
/// contract of a public authority and keeps every sum far from overflow.
const MAX_UNITS_EUR: i64 = 1_000_000_000;

fn parse_decimal(input: &str, scale: u32) -> Result<i64, MoneyError> {
    let trimmed = input.trim().trim_end_matches('€').trim();
    if trimmed.is_empty() {
        return Err(MoneyError::Empty);
    }
    if trimmed.starts_with('-') {
        return Err(MoneyError::Negative);
    }
    let malformed = || MoneyError::Malformed(input.chars().take(40).collect());
    // Thousands separators are not accepted: "1.234" would be ambiguous.
    let (whole, fraction) = match trimmed.split_once([',', '.']) {
        Some((w, f)) => (w, f),
        None => (trimmed, ""),
    };
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(malformed());
    }
    if fraction.len() > scale as usize {
        return Err(MoneyError::TooPrecise(scale));
    }
    if whole.len() > 12 {
        return Err(MoneyError::TooLarge);
    }
    let whole: i64 = whole.parse().map_err(|_| malformed())?;
    if whole > MAX_UNITS_EUR {
        return Err(MoneyError::TooLarge);
    }
    let mut frac: i64 = 0;
    for (i, digit) in fraction.bytes().enumerate() {
        frac += i64::from(digit - b'0') * 10_i64.pow(scale - 1 - i as u32);
    }
    Ok(whole * 10_i64.pow(scale) + frac)
}

/// A fixed-point value as plain text without grouping, e.g. `1234,5000`.
pub fn format_plain(value: i64, scale: u32, decimal: char) -> String {
    let mut out = String::new();
    push_plain(&mut out, value, scale, decimal);
    out
}

/// [`format_plain`] appended to `out`: exports write millions of numbers
/// and reuse one buffer per column instead of allocating per number.
pub fn push_plain(out: &mut String, value: i64, scale: u32, decimal: char) {
    use std::fmt::Write as _;
    let factor = 10_u64.pow(scale);
    let sign = if value < 0 { "-" } else { "" };
    let abs = value.unsigned_abs();
    // Writing into a String cannot fail.
    let _ = write!(
        out,
        "{sign}{}{decimal}{:0width$}",
        abs / factor,
        abs % factor,
        width = scale as usize
    );
}

fn format_fixed(value: i64, scale: u32, decimal: char, group: bool) -> String {
    let factor = 10_i64.pow(scale);
    let sign = if value < 0 { "-" } else { "" };
    let abs = value.unsigned_abs();
    let whole = abs / factor as u64;
    let frac = abs % factor as u64;
    let mut whole_str = whole.to_string();
    if group && whole_str.len() > 3 {
        let mut grouped = String::new();
        for (i, c) in whole_str.chars().enumerate() {
            if i > 0 && (whole_str.len() - i).is_multiple_of(3) {
                grouped.push('.');
            }
            grouped.push(c);
        }
        whole_str = grouped;
    }
    format!(
        "{sign}{whole_str}{decimal}{frac:0width$}",
        width = scale as usize
    )
}

/// German display: `1.234,50 €`.
impl fmt::Display for Cents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} €", format_fixed(self.0, 2, ',', true))
    }
}

/// German display: `0,1200 €`.
impl fmt::Display for HourlyRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} €", format_fixed(self.0, 4, ',', true))
    }
}

impl HourlyRate {
    /// The rate as a plain decimal string with a point, e.g. `0.1200`.
    pub fn to_decimal_string(self) -> String {
        format_fixed(self.0, 4, '.', false)
    }

    /// The rate as German input text, e.g. `0,1200`.
    pub fn to_input(self) -> String {
        format_fixed(self.0, 4, ',', false)
    }
}

impl Cents {
    /// The amount as German input text, e.g. `1234,50`.
    pub fn to_input(self) -> String {
        format_fixed(self.0, 2, ',', false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_is_half_up_away_from_zero() {
        assert_eq!(div_round_half_up(149, 100), 1);
        assert_eq!(div_round_half_up(150, 100), 2);
        assert_eq!(div_round_half_up(-150, 100), -2);
        assert_eq!(div_round_half_up(-149, 100), -1);
    }

    #[test]
    fn a_monthly_price_is_730_hours_rounded_once() {
        // 0,1234 €/h × 730 h = 90,082 € → 90,08 €
        assert_eq!(HourlyRate(1234).monthly(), Cents(9008));
        // 0,0005 €/h × 730 h = 0,365 € → 0,37 €
        assert_eq!(HourlyRate(5).monthly(), Cents(37));
    }

    #[test]
    fn amounts_parse_in_german_and_english_notation() {
        assert_eq!(Cents::parse("1234,5").unwrap(), Cents(123450));
        assert_eq!(Cents::parse("1234.50").unwrap(), Cents(123450));
        assert_eq!(Cents::parse(" 12 € ").unwrap(), Cents(1200));
        assert_eq!(HourlyRate::parse("0,1234").unwrap(), HourlyRate(1234));
    }

    #[test]
    fn bad_amounts_are_refused_with_a_reason() {
        assert_eq!(Cents::parse(""), Err(MoneyError::Empty));
        assert_eq!(Cents::parse("-1"), Err(MoneyError::Negative));
        assert_eq!(Cents::parse("1,234"), Err(MoneyError::TooPrecise(2)));
        assert!(matches!(
            Cents::parse("1.234,5"),
            Err(MoneyError::Malformed(_))
        ));
        assert!(matches!(Cents::parse("1e9"), Err(MoneyError::Malformed(_))));
        assert_eq!(Cents::parse("99999999999999"), Err(MoneyError::TooLarge));
    }

    #[test]
    fn plain_numbers_are_the_same_whether_appended_or_formatted() {
        for value in [0, 5, -5, 12_345, -12_345, 1_000_000_007, i64::MIN + 1] {
            for scale in [2, 4] {
                let mut out = String::from("x");
                push_plain(&mut out, value, scale, ',');
                assert_eq!(out, format!("x{}", format_fixed(value, scale, ',', false)));
            }
        }
        assert_eq!(format_plain(-5, 4, '.'), "-0.0005");
    }

    #[test]
    fn amounts_display_the_german_way() {
        assert_eq!(Cents(123456789).to_string(), "1.234.567,89 €");
        assert_eq!(Cents(5).to_string(), "0,05 €");
        assert_eq!(HourlyRate(1200).to_string(), "0,1200 €");
        assert_eq!(Cents(-250).to_string(), "-2,50 €");
    }
}
