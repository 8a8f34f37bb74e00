//! Notifications: what people are told about, by which channel, and how far
//! a delivery got. Which events there are and who hears of each is decided
//! here; the texts are written where the event happens (`app::notify`).

use super::{Role, ids::id_enum};

id_enum! {
    /// A kind of event people are told about (also the webhook's `type`).
    #[derive(serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
    pub enum EventKind ("unknown-event-kind") {
        /// A request waits for my decision.
        #[serde(rename = "approval.waiting")]
        ApprovalWaiting = "approval.waiting",
        /// My request was approved or rejected.
        #[serde(rename = "approval.decided")]
        ApprovalDecided = "approval.decided",
        /// The month's forecast reached 80 % of the contract's budget.
        #[serde(rename = "budget.warning")]
        BudgetWarning = "budget.warning",
        /// The month's forecast reached 100 % of the contract's budget.
        #[serde(rename = "budget.exceeded")]
        BudgetExceeded = "budget.exceeded",
        /// An environment could not be provisioned (first failure of a run).
        #[serde(rename = "provisioning.failed")]
        ProvisioningFailed = "provisioning.failed",
        /// An environment is provisioned again after failing.
        #[serde(rename = "provisioning.recovered")]
        ProvisioningRecovered = "provisioning.recovered",
        /// A deployment failed.
        #[serde(rename = "deployment.failed")]
        DeploymentFailed = "deployment.failed",
    }
}

impl EventKind {
    /// What the settings page calls it.
    pub fn label(self) -> &'static str {
        match self {
            EventKind::ApprovalWaiting => "Ein Antrag wartet auf meine Entscheidung",
            EventKind::ApprovalDecided => "Über meinen Antrag wurde entschieden",
            EventKind::BudgetWarning => "Die Budgetprognose erreicht 80 %",
            EventKind::BudgetExceeded => "Die Budgetprognose erreicht 100 %",
            EventKind::ProvisioningFailed => "Die Bereitstellung einer Umgebung ist fehlgeschlagen",
            EventKind::ProvisioningRecovered => {
                "Eine Umgebung ist nach einem Fehler wieder bereitgestellt"
            }
            EventKind::DeploymentFailed => "Eine Bereitstellung (Deployment) ist fehlgeschlagen",
        }
    }

    /// The roles of the customer's people who are told about it by e-mail
    /// (besides those named by the event itself: the deciders of a request,
    /// its requester). The Betreiber hears of failures of every customer.
    pub fn customer_roles(self) -> &'static [Role] {
        match self {
            EventKind::ApprovalWaiting | EventKind::ApprovalDecided => &[],
            EventKind::BudgetWarning | EventKind::BudgetExceeded => {
                &[Role::Systempfleger, Role::Finanzen]
            }
            EventKind::ProvisioningFailed
            | EventKind::ProvisioningRecovered
            | EventKind::DeploymentFailed => &[Role::Systempfleger],
        }
    }

    /// Whether the Betreiber is told by e-mail of this kind of event of
    /// every customer (the failures they may have to mend).
    pub fn to_betreiber(self) -> bool {
        matches!(
            self,
            EventKind::ProvisioningFailed | EventKind::ProvisioningRecovered
        )
    }
}

id_enum! {
    /// How a notification travels.
    pub enum Channel ("unknown-channel") {
        Email = "email",
        Webhook = "webhook",
    }
}

impl Channel {
    pub fn label(self) -> &'static str {
        match self {
            Channel::Email => "E-Mail",
            Channel::Webhook => "Webhook",
        }
    }
}

id_enum! {
    /// How far a delivery got.
    pub enum DeliveryState ("unknown-delivery-state") {
        /// Not delivered yet; tried again later.
        Offen = "offen",
        /// Accepted by the mail server or the webhook's receiver.
        Zugestellt = "zugestellt",
        /// Given up after trying for the configured time.
        Aufgegeben = "aufgegeben",
    }
}

impl DeliveryState {
    pub fn label(self) -> &'static str {
        match self {
            DeliveryState::Offen => "ausstehend",
            DeliveryState::Zugestellt => "zugestellt",
            DeliveryState::Aufgegeben => "aufgegeben",
        }
    }
}

/// Who hears of an event by e-mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// The customer's people with one of these roles.
    CustomerRoles(i64, &'static [Role]),
    /// Everyone with the Betreiber role.
    Betreiber,
    /// One person.
    Person(i64),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_from_its_id() {
        for kind in EventKind::ALL {
            assert_eq!(kind.as_str().parse::<EventKind>(), Ok(kind));
            assert!(!kind.label().is_empty());
        }
    }

    #[test]
    fn the_budget_is_told_to_those_who_answer_for_cost() {
        assert!(
            EventKind::BudgetWarning
                .customer_roles()
                .contains(&Role::Finanzen)
        );
        assert!(
            !EventKind::DeploymentFailed
                .customer_roles()
                .contains(&Role::Finanzen)
        );
    }
}
