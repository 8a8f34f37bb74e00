//! The vocabulary of billing that rows are read into: the billing month (a
//! calendar month in German civil time, so March has 743 hours and October
//! 745), a booking period, and a statement's line. The rules of rating live
//! in the `billing` module.

use std::fmt;

use jiff::civil::Date;

use super::{
    Cents, HourlyRate, Size, Stage,
    calendar::{berlin_date, berlin_midnight},
    ids::id_enum,
};

/// A calendar month, the unit of billing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    year: i16,
    month: i8,
}

const MONTH_NAMES: [&str; 12] = [
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
];

impl Month {
    /// Parses `YYYY-MM` (years 2000 to 2099: a billing month outside them
    /// is a typo).
    pub fn parse(input: &str) -> Option<Month> {
        let s = input.trim();
        let (y, m) = s.split_once('-')?;
        if y.len() != 4 || m.len() != 2 || !(y.bytes().chain(m.bytes())).all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let year: i16 = y.parse().ok()?;
        let month: i8 = m.parse().ok()?;
        ((2000..=2099).contains(&year) && (1..=12).contains(&month))
            .then_some(Month { year, month })
    }

    /// The month of a date.
    pub fn of(date: Date) -> Month {
        Month {
            year: date.year(),
            month: date.month(),
        }
    }

    /// The German month a Unix second falls in.
    pub fn containing(unix_seconds: i64) -> Month {
        Month::of(berlin_date(unix_seconds))
    }

    pub fn first_day(self) -> Date {
        Date::new(self.year, self.month, 1).expect("a parsed month has a first day")
    }

    pub fn last_day(self) -> Date {
        self.first_day().last_of_month()
    }

    pub fn next(self) -> Month {
        if self.month == 12 {
            Month {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Month {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    pub fn prev(self) -> Month {
        if self.month == 1 {
            Month {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Month {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    /// First second of the month in German time.
    pub fn start(self) -> i64 {
        berlin_midnight(self.first_day())
    }

    /// First second after the month.
    pub fn end(self) -> i64 {
        self.next().start()
    }

    pub fn days(self) -> i64 {
        i64::from(self.first_day().days_in_month())
    }

    /// `November 2026`.
    pub fn label(self) -> String {
        format!("{} {}", MONTH_NAMES[(self.month - 1) as usize], self.year)
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// One booking period, with the names a statement shows.
#[derive(Debug, Clone)]
pub struct Period {
    pub booking_id: i64,
    pub application_id: i64,
    pub application_name: String,
    pub stage: Stage,
    pub product_name: String,
    pub size: Size,
    pub product_size_id: i64,
    pub starts_at: i64,
    /// `None` while the period runs.
    pub ends_at: Option<i64>,
}

id_enum! {
    /// What a statement line bills.
    pub enum LineKind ("unknown-line-kind") {
        /// Pay-as-you-go use of a booking.
        Usage = "nutzung",
        /// The contract's fixed monthly base fee (Mischmodell).
        BaseFee = "grundgebuehr",
    }
}

/// A line of a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineItem {
    pub kind: LineKind,
    pub booking_id: Option<i64>,
    pub application_name: String,
    pub stage: Option<Stage>,
    pub product_name: String,
    pub size: Option<Size>,
    pub from: i64,
    pub to: i64,
    pub seconds: i64,
    /// `None` for the base fee, which is not charged by the hour.
    pub rate: Option<HourlyRate>,
    pub amount: Cents,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn month(s: &str) -> Month {
        Month::parse(s).unwrap()
    }

    #[test]
    fn months_parse_strictly_and_know_their_length() {
        assert_eq!(month("2026-11").to_string(), "2026-11");
        assert!(Month::parse("2026-13").is_none());
        assert!(Month::parse("2026-1").is_none());
        assert!(Month::parse("26-11").is_none());
        assert!(Month::parse("1999-12").is_none());
        assert_eq!(month("2026-12").next().to_string(), "2027-01");
        assert_eq!(month("2026-01").prev().to_string(), "2025-12");
        assert_eq!(month("2028-02").days(), 29);
        assert_eq!(month("2026-11").label(), "November 2026");
        // Daylight saving: March is an hour short, October an hour long.
        assert_eq!(
            month("2026-03").end() - month("2026-03").start(),
            743 * 3600
        );
        assert_eq!(
            month("2026-10").end() - month("2026-10").start(),
            745 * 3600
        );
        assert_eq!(
            month("2026-11").end() - month("2026-11").start(),
            720 * 3600
        );
    }
}
