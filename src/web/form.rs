//! Reading form fields: text as typed becomes typed values here, once, and
//! every field that does not parse leaves its message for the field, so a
//! refused form comes back with all its messages at once.

use jiff::civil::Date;

use super::lang::{t, t_with};
use crate::{
    app::FieldErrors,
    domain::{Cents, calendar::parse_date, text::Text},
};

/// Collects the messages of one form while its fields are read.
#[derive(Default)]
pub struct Fields {
    pub errors: FieldErrors,
}

impl Fields {
    /// Required one-line text of at most `max` characters.
    pub fn text(&mut self, field: &str, value: &str, max: usize) -> Option<Text> {
        Text::parse(value, max)
            .map_err(|e| self.errors.add(field, e.to_string()))
            .ok()
    }

    /// Optional several-line text (a reason) of at most `max` characters.
    pub fn lines(&mut self, field: &str, value: &str, max: usize) -> Option<Option<Text>> {
        Text::optional_lines(value, max)
            .map_err(|e| self.errors.add(field, e.to_string()))
            .ok()
    }

    /// A whole number from 0 to `max`.
    pub fn whole_number(&mut self, field: &str, value: &str, max: i64) -> Option<i64> {
        match value.trim().parse::<i64>() {
            Ok(n) if (0..=max).contains(&n) => Some(n),
            Ok(_) => {
                self.errors.add(
                    field,
                    t_with("form-whole-number-range", &[("max", max.into())]),
                );
                None
            }
            Err(_) => {
                self.errors.add(field, t("form-whole-number"));
                None
            }
        }
    }

    /// The id of something chosen from a list; `message` when none was.
    pub fn choice(&mut self, field: &str, value: &str, message: &str) -> Option<i64> {
        value
            .trim()
            .parse::<i64>()
            .map_err(|_| self.errors.add(field, message))
            .ok()
    }

    /// A date `JJJJ-MM-TT`.
    pub fn date(&mut self, field: &str, value: &str) -> Option<Date> {
        let date = parse_date(value);
        if date.is_none() {
            self.errors.add(field, t("form-date"));
        }
        date
    }

    /// An amount in euros with a decimal comma; empty is zero when
    /// `empty_is_zero`.
    pub fn money(&mut self, field: &str, value: &str, empty_is_zero: bool) -> Option<Cents> {
        if empty_is_zero && value.trim().is_empty() {
            return Some(Cents(0));
        }
        Cents::parse(value)
            .map_err(|e| self.errors.add(field, e.to_string()))
            .ok()
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.errors.add(field, message);
    }

    /// The value when every field parsed, else all messages.
    pub fn finish<T>(self, value: impl FnOnce() -> T) -> Result<T, FieldErrors> {
        if self.errors.is_empty() {
            Ok(value())
        } else {
            Err(self.errors)
        }
    }
}
