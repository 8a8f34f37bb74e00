use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

/// Lifecycle state of a booking (Buchung).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum BookingState {
    /// Beantragt: accepted, being provisioned.
    Beantragt,
    /// Aktiv: provisioned and billed.
    Aktiv,
    /// Gekündigt: cancelled; its history stays for billing.
    Gekuendigt,
}

impl BookingState {
    pub const ALL: [BookingState; 3] = [
        BookingState::Beantragt,
        BookingState::Aktiv,
        BookingState::Gekuendigt,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            BookingState::Beantragt => "beantragt",
            BookingState::Aktiv => "aktiv",
            BookingState::Gekuendigt => "gekuendigt",
        }
    }

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

impl fmt::Display for BookingState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unbekannter Buchungsstatus „{0}“ (erlaubt: beantragt, aktiv, gekuendigt)")]
pub struct UnknownState(pub String);

impl FromStr for BookingState {
    type Err = UnknownState;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        BookingState::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| UnknownState(s.chars().take(40).collect()))
    }
}
