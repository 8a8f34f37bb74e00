//! The one approval model: everything that waits for someone else's
//! decision — a promotion (Freigabe) or a Kontingent change request — is a
//! request that is open until it is approved, rejected (with a reason) or
//! withdrawn by the requester. Who may decide is `policy`'s business; here
//! is what may happen to a request in which state.

use serde::Serialize;

use super::ids::id_enum;

id_enum! {
    /// The state of a request.
    #[derive(Serialize, utoipa::ToSchema)]
    #[serde(rename_all = "lowercase")]
    pub enum ApprovalState ("unknown-approval-state") {
        /// Waiting for a decision.
        Offen = "offen",
        /// Approved; what it asked for was done with the decision.
        Genehmigt = "genehmigt",
        /// Rejected, with a reason.
        Abgelehnt = "abgelehnt",
        /// Taken back by the requester.
        Zurueckgezogen = "zurueckgezogen",
    }
}

impl ApprovalState {
    pub fn is_open(self) -> bool {
        self == ApprovalState::Offen
    }

    /// The German word shown to people.
    pub fn label(self) -> &'static str {
        match self {
            ApprovalState::Offen => "offen",
            ApprovalState::Genehmigt => "genehmigt",
            ApprovalState::Abgelehnt => "abgelehnt",
            ApprovalState::Zurueckgezogen => "zurückgezogen",
        }
    }
}

id_enum! {
    /// What a request is about.
    #[derive(Serialize, utoipa::ToSchema)]
    #[serde(rename_all = "lowercase")]
    pub enum ApprovalKind ("unknown-approval-kind") {
        /// Moving a release one stage on.
        Promotion = "promotion",
        /// New ceilings for a contract's Kontingent.
        Kontingent = "kontingent",
    }
}

/// What someone does with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Approve,
    Reject,
    Withdraw,
}

/// Why a step cannot be taken: the request is closed already.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{}", closed_message(*.0))]
pub struct Closed(pub ApprovalState);

fn closed_message(state: ApprovalState) -> String {
    use crate::i18n::t;
    match state {
        ApprovalState::Genehmigt => t("refusal-approval-approved"),
        ApprovalState::Abgelehnt => t("refusal-approval-rejected"),
        _ => t("refusal-approval-withdrawn"),
    }
}

/// The state a step leads to. Only an open request moves, and only once.
pub fn next(state: ApprovalState, step: Step) -> Result<ApprovalState, Closed> {
    if !state.is_open() {
        return Err(Closed(state));
    }
    Ok(match step {
        Step::Approve => ApprovalState::Genehmigt,
        Step::Reject => ApprovalState::Abgelehnt,
        Step::Withdraw => ApprovalState::Zurueckgezogen,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_open_request_moves_once() {
        assert_eq!(
            next(ApprovalState::Offen, Step::Approve),
            Ok(ApprovalState::Genehmigt)
        );
        assert_eq!(
            next(ApprovalState::Offen, Step::Reject),
            Ok(ApprovalState::Abgelehnt)
        );
        assert_eq!(
            next(ApprovalState::Offen, Step::Withdraw),
            Ok(ApprovalState::Zurueckgezogen)
        );
    }

    #[test]
    fn a_closed_request_says_how_it_was_closed() {
        for state in [
            ApprovalState::Genehmigt,
            ApprovalState::Abgelehnt,
            ApprovalState::Zurueckgezogen,
        ] {
            for step in [Step::Approve, Step::Reject, Step::Withdraw] {
                assert_eq!(next(state, step), Err(Closed(state)));
            }
        }
        assert_eq!(
            Closed(ApprovalState::Abgelehnt).to_string(),
            "Dieser Antrag ist bereits abgelehnt."
        );
    }
}
