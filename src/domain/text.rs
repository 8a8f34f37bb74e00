//! Text typed by people: names, titles, reasons. Parsed once at the edge
//! into [`Text`], which is trimmed, not empty, not longer than its limit and
//! free of control characters (NUL among them: PostgreSQL refuses it in text
//! and a terminal or spreadsheet would act on the others). Multi-line text
//! (a reason) may keep its line breaks and tabs.

use std::fmt;

use serde::Serialize;

use super::resources::{group_thousands, in_current_language};
use crate::i18n::{Arg, t, t_with};

/// Why a text was refused; the message is for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("{}", t("invalid-text-empty"))]
    Empty,
    #[error("{}", too_long(*.0))]
    TooLong(usize),
    #[error("{}", t("invalid-text-control"))]
    ControlCharacter,
}

fn too_long(max: usize) -> String {
    let max = in_current_language(group_thousands(max as u64));
    t_with("invalid-text-too-long", &[("max", Arg::from(max))])
}

/// Checked text, trimmed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Text(String);

fn allowed(c: char, multiline: bool) -> bool {
    !c.is_control() || (multiline && matches!(c, '\n' | '\r' | '\t'))
}

fn check(input: &str, max: usize, multiline: bool) -> Result<Option<Text>, TextError> {
    let text = input.trim();
    if !text.chars().all(|c| allowed(c, multiline)) {
        return Err(TextError::ControlCharacter);
    }
    if text.chars().count() > max {
        return Err(TextError::TooLong(max));
    }
    Ok((!text.is_empty()).then(|| Text(text.to_owned())))
}

impl Text {
    /// One line of at most `max` characters, required.
    pub fn parse(input: &str, max: usize) -> Result<Text, TextError> {
        check(input, max, false)?.ok_or(TextError::Empty)
    }

    /// One line of at most `max` characters, or nothing.
    pub fn optional(input: &str, max: usize) -> Result<Option<Text>, TextError> {
        check(input, max, false)
    }

    /// Several lines of at most `max` characters, or nothing.
    pub fn optional_lines(input: &str, max: usize) -> Result<Option<Text>, TextError> {
        check(input, max, true)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Whether a string holds a control character other than line breaks and
/// tabs: the check for text that is not stored as [`Text`] (identifiers,
/// references) but must not carry one either.
pub fn has_control(input: &str) -> bool {
    input.chars().any(|c| !allowed(c, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed() {
        assert_eq!(
            Text::parse("  Stadt Musterhausen ", 200).unwrap().as_str(),
            "Stadt Musterhausen"
        );
    }

    #[test]
    fn a_nul_character_is_refused_wherever_it_stands() {
        for input in ["a\u{0}b", "\u{0}", "Name\u{0}"] {
            assert_eq!(Text::parse(input, 200), Err(TextError::ControlCharacter));
            assert_eq!(
                Text::optional_lines(input, 200),
                Err(TextError::ControlCharacter)
            );
        }
    }

    #[test]
    fn one_line_refuses_line_breaks_and_several_lines_keep_them() {
        assert_eq!(Text::parse("a\nb", 10), Err(TextError::ControlCharacter));
        assert_eq!(
            Text::optional_lines("erste Zeile\r\nzweite", 100)
                .unwrap()
                .unwrap()
                .as_str(),
            "erste Zeile\r\nzweite"
        );
        assert_eq!(
            Text::optional_lines("a\u{1b}[31m", 100),
            Err(TextError::ControlCharacter)
        );
    }

    #[test]
    fn the_limit_counts_characters_not_bytes() {
        assert!(Text::parse(&"ä".repeat(200), 200).is_ok());
        assert_eq!(
            Text::parse(&"ä".repeat(201), 200),
            Err(TextError::TooLong(200))
        );
    }

    #[test]
    fn the_limit_reads_as_a_german_number() {
        assert_eq!(
            TextError::TooLong(2000).to_string(),
            "Höchstens 2.000 Zeichen."
        );
        assert_eq!(
            TextError::TooLong(200).to_string(),
            "Höchstens 200 Zeichen."
        );
    }

    #[test]
    fn empty_text_is_missing_or_nothing() {
        assert_eq!(Text::parse("   ", 10), Err(TextError::Empty));
        assert_eq!(Text::optional("  ", 10), Ok(None));
    }

    #[test]
    fn control_characters_are_found_but_not_line_breaks() {
        assert!(has_control("x\u{7f}"));
        assert!(!has_control("a\r\nb\tc"));
    }
}
