use serde::{Deserialize, Serialize};

use super::ids::id_enum;

id_enum! {
    /// A role of a portal user.
    #[derive(PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
    #[serde(rename_all = "lowercase")]
    pub enum Role ("unknown-role") {
        /// Betreiber: the provider's platform team; sees everything.
        Betreiber = "betreiber",
        /// Systempfleger:in: books, resizes and cancels quotas for the customer.
        Systempfleger = "systempfleger",
        /// Verfahrensverantwortliche:r: the customer's owner of an application.
        Verfahrensverantwortlicher = "verfahrensverantwortlicher",
        /// Entwickler:in: delivers releases, requests promotions.
        Entwickler = "entwickler",
        /// Finanzen: reads statements and billing exports.
        Finanzen = "finanzen",
    }
}

impl Role {
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
