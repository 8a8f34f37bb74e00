use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

/// A stage (Stufe) of the administrative staging chain, in promotion order.
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
pub enum Stage {
    /// Vorprüfung: the developers' integration stage.
    Vorpruefung,
    /// Abnahme: acceptance testing by the customer.
    Abnahme,
    /// Schulung: training of the users.
    Schulung,
    /// Produktion: live operation.
    Produktion,
}

impl Stage {
    pub const ALL: [Stage; 4] = [
        Stage::Vorpruefung,
        Stage::Abnahme,
        Stage::Schulung,
        Stage::Produktion,
    ];

    /// The id used in URLs, JSON and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Vorpruefung => "vorpruefung",
            Stage::Abnahme => "abnahme",
            Stage::Schulung => "schulung",
            Stage::Produktion => "produktion",
        }
    }

    /// The German label shown to users.
    pub fn label(self) -> &'static str {
        match self {
            Stage::Vorpruefung => "Vorprüfung",
            Stage::Abnahme => "Abnahme",
            Stage::Schulung => "Schulung",
            Stage::Produktion => "Produktion",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unbekannte Stufe „{0}“ (erlaubt: vorpruefung, abnahme, schulung, produktion)")]
pub struct UnknownStage(pub String);

impl FromStr for Stage {
    type Err = UnknownStage;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Stage::ALL
            .into_iter()
            .find(|stage| stage.as_str() == s)
            .ok_or_else(|| UnknownStage(s.chars().take(40).collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_round_trip_through_their_ids() {
        for stage in Stage::ALL {
            assert_eq!(stage.as_str().parse::<Stage>().unwrap(), stage);
        }
    }

    #[test]
    fn stages_are_ordered_along_the_chain() {
        assert!(Stage::Vorpruefung < Stage::Abnahme);
        assert!(Stage::Schulung < Stage::Produktion);
    }

    #[test]
    fn a_label_is_not_an_id() {
        assert!("Vorprüfung".parse::<Stage>().is_err());
        assert!("PRODUKTION".parse::<Stage>().is_err());
    }
}
