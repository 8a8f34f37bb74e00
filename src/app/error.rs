//! The one error type below the web layers. Handlers return it; it is mapped
//! once to problem+json (`api::problem`) and once to HTML (`web::error`).
//!
//! Which variant to use:
//! - `NotFound` for missing ids *and* for ids of another tenant (never reveal
//!   that they exist),
//! - `Forbidden` for a visible object the user's role may not change,
//! - `Validation` for input a user can correct, with a message per field,
//! - `Kontingent`/`ContractNotValid` for a change the contract does not allow,
//! - `BelowUse` for ceilings lowered below what is booked without confirmation,
//! - `Conflict` for a change the object's current state does not allow,
//! - `Checkup` for a delivery the automatic Checkup refused,
//! - `FourEyes` for deciding one's own promotion request,
//! - `Stale` for a change made against a version of the object that has
//!   changed since it was read (`If-Match`, the edit form's version),
//! - `Database`/`Internal` for everything else; logged, shown as a request id.

use std::fmt;

use crate::{
    db::constraints::{Unique, violated},
    domain::{KontingentExceeded, policy::Denied},
    i18n::{Arg, t, t_with},
};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("nicht gefunden")]
    NotFound,
    #[error("Anmeldung erforderlich")]
    Unauthorized,
    #[error("keine Berechtigung für diese Aktion")]
    Forbidden,
    #[error("ungültige Eingabe: {0}")]
    Validation(FieldErrors),
    /// Boxed: the refusal carries the sizes that fit, and every `Result`
    /// of the layer would otherwise be as large.
    #[error("{0}")]
    Kontingent(Box<KontingentRefusal>),
    #[error("{0}")]
    ContractNotValid(String),
    /// Ceilings lowered below what is booked, not confirmed.
    #[error("{}", below_use_message(.0))]
    BelowUse(Vec<crate::domain::kontingent::BelowUse>),
    #[error("{0}")]
    Conflict(String),
    /// A delivery the Checkup refused (recorded as refused).
    #[error("{0}")]
    Checkup(crate::domain::release::Refusal),
    /// Deciding one's own request: someone else must.
    #[error("{0}")]
    FourEyes(String),
    /// Changed since the caller read it: the message id of the sentence
    /// that names the object (`stale-contract`), so that it reads in the
    /// request's language.
    #[error("{}", t(.0))]
    Stale(&'static str),
    #[error("Datenbankfehler")]
    Database(#[from] sqlx::Error),
    #[error("interner Fehler")]
    Internal(#[from] anyhow::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

fn below_use_message(below: &[crate::domain::kontingent::BelowUse]) -> String {
    let named: Vec<String> = below.iter().map(ToString::to_string).collect();
    t_with(
        "refusal-below-use",
        &[("limits", Arg::from(named.join("; ")))],
    )
}

/// A change the Kontingent of a contract does not admit: which contract,
/// so that the answer can offer the request for more, and the sizes of the
/// same product that would fit instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KontingentRefusal {
    pub contract_id: i64,
    pub exceeded: KontingentExceeded,
    /// The ceilings that would have let the change through.
    pub fit: crate::domain::kontingent::CeilingChange,
    /// The product's sizes (with a price) that the Kontingent admits as
    /// they are, S to XL; for a resize without the booking's own size.
    pub fitting: Vec<crate::domain::Size>,
}

impl fmt::Display for KontingentRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.exceeded.fmt(f)
    }
}

/// Messages for individual input fields, in the request's language, keyed
/// by the field name used in the form and in the JSON body.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FieldErrors(pub Vec<(String, String)>);

impl FieldErrors {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push((field.to_owned(), message.into()));
    }

    pub fn single(field: &str, message: impl Into<String>) -> Self {
        let mut errors = FieldErrors::default();
        errors.add(field, message);
        errors
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(())` when there are no messages, else a validation error.
    pub fn into_result(self) -> Result<()> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation(self))
        }
    }
}

impl fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        f.write_str(&parts.join("; "))
    }
}

impl Error {
    pub fn validation(field: &str, message: impl Into<String>) -> Error {
        Error::Validation(FieldErrors::single(field, message))
    }

    /// Whether a database error is a unique-constraint violation, the one
    /// database error that is the user's to fix (a name already taken).
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, Error::Database(sqlx::Error::Database(e)) if e.is_unique_violation())
    }
}

/// The message a person sees on the field whose unique rule they broke.
fn unique_field(rule: Unique) -> (&'static str, String) {
    match rule {
        Unique::CustomerSlug => ("slug", t("taken-slug")),
        Unique::ContractNumber => ("number", t("taken-contract-number")),
        Unique::ApplicationSlug => ("slug", t("taken-application-slug")),
        Unique::ProductSlug => ("slug", t("taken-slug")),
        Unique::PriceValidFrom => ("valid_from", t("taken-price-valid-from")),
        Unique::UserLogin => ("login", t("taken-login")),
        Unique::OpenApproval => ("body", t("taken-open-approval")),
        Unique::AcceptedReleaseVersion => ("version", t("taken-release-version")),
    }
}

/// A database error, with a broken unique rule turned into the message on
/// its field (the way realworld-axum-sqlx's `on_constraint` does).
pub fn on_constraint(e: sqlx::Error) -> Error {
    match violated(&e) {
        Some(rule) => {
            let (field, message) = unique_field(rule);
            Error::validation(field, message)
        }
        None => Error::Database(e),
    }
}

impl From<Denied> for Error {
    fn from(denied: Denied) -> Error {
        match denied {
            Denied::NotVisible => Error::NotFound,
            Denied::NotAllowed => Error::Forbidden,
            Denied::OwnRequest => Error::FourEyes(t("refusal-own-request")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stale_change_names_its_object() {
        assert_eq!(
            Error::Stale("stale-contract").to_string(),
            "Der Vertrag wurde inzwischen geändert. Es wurde nichts gespeichert; bitte die \
             aktuelle Fassung laden und die Änderung erneut vornehmen."
        );
    }
}
