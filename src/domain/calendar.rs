//! Calendar rules: contracts and billing months follow German civil time.

use jiff::{Timestamp, civil::Date, tz::TimeZone};

pub fn berlin() -> TimeZone {
    // Looked up once: exports format a million instants with it.
    static BERLIN: std::sync::OnceLock<TimeZone> = std::sync::OnceLock::new();
    BERLIN
        .get_or_init(|| {
            // The bundled tz database always has it; a missing zone would be
            // a build defect, not a runtime condition.
            TimeZone::get("Europe/Berlin")
                .expect("tz database bundled with jiff knows Europe/Berlin")
        })
        .clone()
}

/// The civil date in Germany at a Unix second.
pub fn berlin_date(unix_seconds: i64) -> Date {
    let ts = Timestamp::from_second(unix_seconds).unwrap_or(Timestamp::UNIX_EPOCH);
    ts.to_zoned(berlin()).date()
}

/// The first second of a civil date in Germany.
pub fn berlin_midnight(date: Date) -> i64 {
    date.to_zoned(berlin())
        .map(|z| z.timestamp().as_second())
        .unwrap_or_default()
}

/// `2026-11-22 14:03` in German time, for pages.
pub fn format_berlin(unix_seconds: i64) -> String {
    let ts = Timestamp::from_second(unix_seconds).unwrap_or(Timestamp::UNIX_EPOCH);
    ts.to_zoned(berlin()).strftime("%d.%m.%Y %H:%M").to_string()
}

/// RFC 3339 in UTC, for the API.
pub fn rfc3339(unix_seconds: i64) -> String {
    Timestamp::from_second(unix_seconds)
        .unwrap_or(Timestamp::UNIX_EPOCH)
        .to_string()
}

/// Parses `YYYY-MM-DD`.
pub fn parse_date(input: &str) -> Option<Date> {
    let s = input.trim();
    if s.len() != 10 {
        return None;
    }
    s.parse::<Date>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_german_date_changes_at_german_midnight() {
        // 2026-11-21T23:30:00Z is already 22 November in Berlin (UTC+1).
        let ts: Timestamp = "2026-11-21T23:30:00Z".parse().unwrap();
        assert_eq!(berlin_date(ts.as_second()).to_string(), "2026-11-22");
    }

    #[test]
    fn midnight_respects_summer_time() {
        let d: Date = "2026-07-01".parse().unwrap();
        let ts: Timestamp = "2026-06-30T22:00:00Z".parse().unwrap();
        assert_eq!(berlin_midnight(d), ts.as_second());
    }

    #[test]
    fn only_iso_dates_parse() {
        assert!(parse_date("2026-02-30").is_none());
        assert!(parse_date("22.11.2026").is_none());
        assert!(parse_date("2026-11-22").is_some());
    }
}
