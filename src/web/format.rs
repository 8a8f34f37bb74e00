//! How the pages write dates, numbers and measured quantities: the German
//! conventions (DIN 5008: `06.12.2026`, `2.000`, `0,25`) in one place, so
//! that every page writes a date or a count the same way. Only for HTML:
//! the REST API, the CSV exports and the CLI keep ISO 8601 dates and plain
//! numbers, which is their public contract (DESIGN.md).
//!
//! The functions follow the language of the request being answered
//! (`web::lang`): English swaps the separators (`2,000`, `0.25`) and writes
//! days as `6 Dec 2026`.
//!
//! Templates call these by path (`crate::web::format::date(…)`); view
//! models call them when they build their strings.

use std::borrow::Borrow;

use jiff::civil::Date;

use super::lang::Lang;

use crate::domain::{
    calendar,
    resources::{format_whole, group_thousands as group},
};
pub use crate::i18n::number_in;

/// A calendar day: `06.12.2026` (in English `6 Dec 2026`).
pub fn date(day: impl Borrow<Date>) -> String {
    date_in(Lang::current(), day)
}

fn german_date(day: impl Borrow<Date>) -> String {
    day.borrow().strftime("%d.%m.%Y").to_string()
}

/// An instant in German time, to the minute: `06.12.2026 11:24`. Events,
/// audit entries and notifications show it; the seconds matter only in the
/// exports.
pub fn date_time(unix_seconds: impl Borrow<i64>) -> String {
    date_time_in(Lang::current(), unix_seconds)
}

/// A whole number in a page's text, a count or a quantity, grouped by
/// thousands: `35.212`. Identifiers (numbers of entries, positions in the
/// hash chain, versions) are names, not amounts, and are written plainly.
pub fn count(n: impl Whole) -> String {
    count_in(Lang::current(), n)
}

/// A fixed-point `value` with `scale` decimals (e.g. millicores: 3), shown
/// with at most `places` decimals, rounded half away from zero, trailing
/// zeros dropped: measured use as `0,37`, not `0,366`.
pub fn decimal(value: i64, scale: u32, places: u32) -> String {
    let places = places.min(scale);
    let step = 10_i128.pow(scale - places);
    let abs = i128::from(value).abs();
    let rounded = (abs + step / 2) / step;
    let factor = 10_i128.pow(places);
    let whole = group((rounded / factor) as u64);
    let frac = format!("{:0width$}", rounded % factor, width = places as usize);
    let frac = frac.trim_end_matches('0');
    let sign = if value < 0 && rounded > 0 { "-" } else { "" };
    let german = if frac.is_empty() {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole},{frac}")
    };
    number_in(Lang::current(), german)
}

/// Hours of a line item from ten-thousandths of an hour (`hours_e4`):
/// two decimals, always shown so the column lines up: `720,00`. The CSV
/// keeps all four.
pub fn hours(hours_e4: i64) -> String {
    let lang = Lang::current();
    let rounded = decimal(hours_e4, 4, 2);
    let point = match lang {
        Lang::De => ',',
        Lang::En => '.',
    };
    match rounded.split_once(point) {
        Some((whole, frac)) => format!("{whole}{point}{frac:0<2}"),
        None => format!("{rounded}{point}00"),
    }
}

/// Measured vCPU from millicores: at most two decimals (`1,25`).
pub fn vcpu(millicpu: impl Borrow<i64>) -> String {
    decimal(*millicpu.borrow(), 3, 2)
}

/// Measured memory in GiB from MiB: at most two decimals (`1,5`).
pub fn gib(mib: impl Borrow<i64>) -> String {
    // GiB in thousandths first, so that rounding happens once, in `decimal`.
    let thousandths = (i128::from(*mib.borrow()) * 1000 / 1024) as i64;
    decimal(thousandths, 3, 2)
}

/// A calendar day in `lang`: `06.12.2026`, in English `6 Dec 2026` (day,
/// month name, year: unambiguous for British and American readers alike).
pub fn date_in(lang: Lang, day: impl Borrow<Date>) -> String {
    match lang {
        Lang::De => german_date(day),
        Lang::En => day.borrow().strftime("%-d %b %Y").to_string(),
    }
}

/// An instant in German time, to the minute, in `lang`: `06.12.2026 11:24`,
/// `6 Dec 2026 11:24`.
pub fn date_time_in(lang: Lang, unix_seconds: impl Borrow<i64>) -> String {
    match lang {
        Lang::De => calendar::format_berlin(*unix_seconds.borrow()),
        Lang::En => {
            let ts = jiff::Timestamp::from_second(*unix_seconds.borrow())
                .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
            ts.to_zoned(calendar::berlin())
                .strftime("%-d %b %Y %H:%M")
                .to_string()
        }
    }
}

/// A whole number grouped by thousands in `lang`: `2.000`, `2,000`.
pub fn count_in(lang: Lang, n: impl Whole) -> String {
    number_in(lang, format_whole(n.whole()))
}

/// A billing month in `lang`: `Dezember 2026`, `December 2026`.
pub fn month_in(lang: Lang, month: crate::domain::billing::Month) -> String {
    match lang {
        Lang::De => month.label(),
        Lang::En => month.first_day().strftime("%B %Y").to_string(),
    }
}

/// A whole number of any width, as the templates have them (counts are
/// `i64` from the database, `usize` from a list's length, and references
/// inside loops).
pub trait Whole {
    fn whole(&self) -> i64;
}

macro_rules! whole {
    ($($t:ty),*) => {$(
        impl Whole for $t {
            fn whole(&self) -> i64 {
                i64::try_from(*self).unwrap_or(i64::MAX)
            }
        }
    )*};
}

whole!(i64, i32, u32, u64, usize);

impl<T: Whole + ?Sized> Whole for &T {
    fn whole(&self) -> i64 {
        (**self).whole()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn english_pages_write_days_with_the_month_name_and_group_with_commas() {
        assert_eq!(date_in(Lang::En, day("2026-12-06")), "6 Dec 2026");
        assert_eq!(date_in(Lang::De, day("2026-12-06")), "06.12.2026");
        assert_eq!(count_in(Lang::En, 2_500_000_i64), "2,500,000");
        assert_eq!(count_in(Lang::De, 2_500_000_i64), "2.500.000");
        assert_eq!(number_in(Lang::En, "2.500,00 €"), "2,500.00 €");
        assert_eq!(
            month_in(
                Lang::En,
                crate::domain::billing::Month::parse("2026-03").unwrap()
            ),
            "March 2026"
        );
    }

    #[test]
    fn a_day_is_written_day_month_year_with_dots() {
        assert_eq!(date(day("2026-12-06")), "06.12.2026");
        assert_eq!(date(day("2028-01-31")), "31.01.2028");
    }

    #[test]
    fn an_instant_is_written_in_german_time_to_the_minute() {
        // 10:24 UTC is 11:24 in Berlin in winter.
        let ts: jiff::Timestamp = "2026-12-06T10:24:59Z".parse().unwrap();
        assert_eq!(date_time(ts.as_second()), "06.12.2026 11:24");
    }

    #[test]
    fn counts_are_grouped_by_thousands_with_dots() {
        assert_eq!(count(0_i64), "0");
        assert_eq!(count(999_i64), "999");
        assert_eq!(count(2000_i64), "2.000");
        assert_eq!(count(35212_usize), "35.212");
        assert_eq!(count(1_234_567_i64), "1.234.567");
        assert_eq!(count(-4200_i64), "-4.200");
    }

    #[test]
    fn measured_use_has_at_most_two_decimals_with_a_comma() {
        assert_eq!(vcpu(366), "0,37");
        assert_eq!(vcpu(2000), "2");
        assert_eq!(vcpu(2500), "2,5");
        assert_eq!(vcpu(1_500_004), "1.500");
        assert_eq!(gib(1536), "1,5");
        assert_eq!(gib(100), "0,1");
        assert_eq!(gib(4), "0");
    }

    #[test]
    fn rounding_goes_half_away_from_zero_once() {
        assert_eq!(decimal(1005, 3, 2), "1,01");
        assert_eq!(decimal(1004, 3, 2), "1");
        assert_eq!(decimal(-1005, 3, 2), "-1,01");
        assert_eq!(decimal(-4, 3, 2), "0");
        assert_eq!(decimal(1_234_567, 3, 0), "1.235");
    }

    #[test]
    fn hours_always_show_two_decimals_so_the_column_lines_up() {
        assert_eq!(hours(7_200_000), "720,00");
        assert_eq!(hours(12_345), "1,23");
        assert_eq!(hours(15_000), "1,50");
        assert_eq!(hours(74_400_000), "7.440,00");
    }
}
