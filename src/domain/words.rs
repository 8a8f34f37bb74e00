//! The catalogue words the pages name domain values with (`stage-abnahme`,
//! `role-betreiber`): the ids live beside the types, so that `i18n` knows
//! nothing of the domain.

use crate::i18n::{Worded, worded};

worded! {
    super::stage::Stage => "stage",
    super::Role => "role",
    super::booking::BookingState => "booking-state",
    super::approval::ApprovalState => "approval-state",
    super::contract::BillingModel => "billing-model",
}

impl Worded for super::notification::EventKind {
    fn message_id(&self) -> String {
        // Fluent ids take no dots (`approval.waiting`).
        format!("event-{}", self.as_str().replace('.', "-"))
    }
}
