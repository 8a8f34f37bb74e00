use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

/// A role of a portal user.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Betreiber: the provider's platform team; sees everything.
    Betreiber,
    /// Systempfleger:in: books, resizes and cancels quotas for the customer.
    Systempfleger,
    /// Verfahrensverantwortliche:r: the customer's owner of an application.
    Verfahrensverantwortlicher,
    /// Entwickler:in: delivers releases, requests promotions.
    Entwickler,
    /// Finanzen: reads statements and billing exports.
    Finanzen,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Betreiber,
        Role::Systempfleger,
        Role::Verfahrensverantwortlicher,
        Role::Entwickler,
        Role::Finanzen,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Betreiber => "betreiber",
            Role::Systempfleger => "systempfleger",
            Role::Verfahrensverantwortlicher => "verfahrensverantwortlicher",
            Role::Entwickler => "entwickler",
            Role::Finanzen => "finanzen",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Betreiber => "Betreiber",
            Role::Systempfleger => "Systempfleger:in",
            Role::Verfahrensverantwortlicher => "Verfahrensverantwortliche:r",
            Role::Entwickler => "Entwickler:in",
            Role::Finanzen => "Finanzen",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unbekannte Rolle „{0}“")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}
