use serde::{Deserialize, Serialize};

use super::ids::id_enum;

id_enum! {
    /// Lifecycle state of a booking (Buchung).
    #[derive(Serialize, Deserialize, utoipa::ToSchema)]
    #[serde(rename_all = "lowercase")]
    pub enum BookingState ("unknown-booking-state") {
        /// Beantragt: accepted, being provisioned.
        Beantragt = "beantragt",
        /// Aktiv: provisioned and billed.
        Aktiv = "aktiv",
        /// Gekündigt: cancelled; its history stays for billing.
        Gekuendigt = "gekuendigt",
    }
}

impl BookingState {
    pub fn label(self) -> &'static str {
        match self {
            BookingState::Beantragt => "beantragt",
            BookingState::Aktiv => "aktiv",
            BookingState::Gekuendigt => "gekündigt",
        }
    }

    /// Whether the booking still counts against the Kontingent.
    pub fn is_open(self) -> bool {
        !matches!(self, BookingState::Gekuendigt)
    }
}
