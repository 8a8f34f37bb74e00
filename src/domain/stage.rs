use serde::{Deserialize, Serialize};

use super::ids::id_enum;

id_enum! {
    /// A stage (Stufe) of the administrative staging chain, in promotion order.
    #[derive(PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
    #[serde(rename_all = "lowercase")]
    pub enum Stage ("unknown-stage") {
        /// Vorprüfung: the developers' integration stage.
        Vorpruefung = "vorpruefung",
        /// Abnahme: acceptance testing by the customer.
        Abnahme = "abnahme",
        /// Schulung: training of the users.
        Schulung = "schulung",
        /// Produktion: live operation.
        Produktion = "produktion",
    }
}

impl Stage {
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
