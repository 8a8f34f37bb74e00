//! Contracts (Dienstleistungsvereinbarungen): their billing model, the
//! period they are valid in, and the Leitweg-ID that routes their invoices.

use jiff::civil::Date;
use serde::Serialize;

use super::{Cents, Kontingent, ids::id_enum, text::Text};
use crate::i18n::t;

id_enum! {
    /// How a contract is billed.
    #[derive(Serialize, serde::Deserialize, utoipa::ToSchema)]
    #[serde(rename_all = "lowercase")]
    pub enum BillingModel ("unknown-billing-model") {
        /// Pay-as-you-go only.
        Nutzung = "nutzung",
        /// A fixed monthly base fee plus pay-as-you-go (Mischmodell).
        Gemischt = "gemischt",
    }
}

impl BillingModel {
    pub fn label(self) -> &'static str {
        match self {
            BillingModel::Nutzung => "nutzungsabhängig",
            BillingModel::Gemischt => "Mischmodell (Grundgebühr + Nutzung)",
        }
    }
}

/// The days a contract is valid, both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    pub from: Date,
    pub until: Date,
}

impl Validity {
    /// Whether `day` lies within the contract's period.
    pub fn covers(self, day: Date) -> bool {
        self.from <= day && day <= self.until
    }
}

/// What the Betreiber agrees with a customer: everything of a contract but
/// its customer, which never changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terms {
    /// E.g. `DLV-2026-0042`: letters, digits, `-` and `/`.
    pub number: Text,
    pub title: Text,
    pub validity: Validity,
    pub kostenstelle: Text,
    pub haushaltsstelle: Text,
    /// Checked with [`is_leitweg_id`].
    pub leitweg_id: Text,
    pub billing_model: BillingModel,
    /// Only in the Mischmodell; zero otherwise.
    pub base_fee: Cents,
    pub kontingent: Kontingent,
}

impl Terms {
    /// The terms as the audit log records them.
    pub fn snapshot(&self) -> serde_json::Value {
        serde_json::json!({
            "number": self.number, "title": self.title,
            "valid_from": self.validity.from.to_string(),
            "valid_until": self.validity.until.to_string(),
            "kostenstelle": self.kostenstelle, "haushaltsstelle": self.haushaltsstelle,
            "leitweg_id": self.leitweg_id, "billing_model": self.billing_model,
            "base_fee_cents": self.base_fee.0,
            "max_millicpu": self.kontingent.millicpu, "max_memory_mib": self.kontingent.memory_mib,
            "max_storage_gib": self.kontingent.storage_gib,
            "monthly_budget_cents": self.kontingent.monthly_budget.0,
        })
    }
}

/// Longest values of a contract's text fields.
pub const MAX_NUMBER: usize = 40;
pub const MAX_TITLE: usize = 200;
pub const MAX_KOSTENSTELLE: usize = 40;
pub const MAX_HAUSHALTSSTELLE: usize = 60;
pub const MAX_LEITWEG_ID: usize = 46;

// What the rules of a contract's fields say when broken, in the request's
// language; the pages and the API answer the same words.

pub fn number_rule() -> String {
    t("invalid-contract-number")
}

pub fn leitweg_rule() -> String {
    t("invalid-leitweg-id")
}

pub fn ends_before_start() -> String {
    t("invalid-contract-ends-before-start")
}

pub fn base_fee_only_mixed() -> String {
    t("invalid-base-fee-only-mixed")
}

impl Terms {
    /// A short fingerprint of the terms, the contract's version for
    /// `ETag`/`If-Match` and the edit form: two people editing the same
    /// contract cannot overwrite each other unseen.
    pub fn version(&self) -> String {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(self.snapshot().to_string().as_bytes());
        hex::encode(&digest[..12])
    }
}

/// Whether a contract number has only letters, digits, `-` and `/`.
pub fn is_contract_number(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'/')
}

/// A Leitweg-ID (XRechnung routing id): coarse address, optional fine
/// address, check digits, separated by dashes, e.g. `04011000-1234512345-06`.
pub fn is_leitweg_id(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    let alnum = |p: &str| p.bytes().all(|b| b.is_ascii_alphanumeric());
    let coarse = |p: &str| (2..=12).contains(&p.len()) && digits(p);
    let check = |p: &str| p.len() == 2 && digits(p);
    match parts.as_slice() {
        [c, k] => coarse(c) && check(k),
        [c, fine, k] => coarse(c) && (1..=30).contains(&fine.len()) && alnum(fine) && check(k),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;

    #[test]
    fn leitweg_ids_follow_the_xrechnung_shape() {
        assert!(is_leitweg_id("04011000-1234512345-06"));
        assert!(is_leitweg_id("991-01234-44"));
        assert!(is_leitweg_id("05315000-44"));
        assert!(!is_leitweg_id("04011000"));
        assert!(!is_leitweg_id("0401A000-12-06"));
        assert!(!is_leitweg_id("04011000-12-6"));
    }

    #[test]
    fn a_version_changes_with_any_term_and_only_then() {
        let terms = Terms {
            number: Text::parse("DLV-1", MAX_NUMBER).unwrap(),
            title: Text::parse("Vertrag", MAX_TITLE).unwrap(),
            validity: Validity {
                from: date(2026, 1, 1),
                until: date(2026, 12, 31),
            },
            kostenstelle: Text::parse("1", 40).unwrap(),
            haushaltsstelle: Text::parse("2", 60).unwrap(),
            leitweg_id: Text::parse("05315000-44", 46).unwrap(),
            billing_model: BillingModel::Nutzung,
            base_fee: Cents(0),
            kontingent: Kontingent {
                millicpu: 1000,
                memory_mib: 1024,
                storage_gib: 10,
                monthly_budget: Cents(100),
            },
        };
        assert_eq!(terms.version(), terms.clone().version());
        assert_eq!(terms.version().len(), 24);
        let mut more = terms.clone();
        more.kontingent.millicpu += 1;
        assert_ne!(terms.version(), more.version());
    }

    #[test]
    fn a_contract_is_valid_on_its_first_and_last_day() {
        let v = Validity {
            from: date(2026, 1, 1),
            until: date(2026, 12, 31),
        };
        assert!(v.covers(date(2026, 1, 1)));
        assert!(v.covers(date(2026, 12, 31)));
        assert!(!v.covers(date(2027, 1, 1)));
        assert!(!v.covers(date(2025, 12, 31)));
    }
}
