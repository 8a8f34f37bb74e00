//! Who may do what: every rule as a pure function of the acting person and
//! the target, in one place. Use cases call these before they change
//! anything; pages call them to decide which buttons to offer.
//!
//! The answer distinguishes *not visible* (another customer's object: it
//! does not exist for this person, answered 404) from *not allowed* (a
//! visible object the person's roles may not change, answered 403), so no
//! one learns about another tenant by guessing ids.

use super::{
    Role, Stage,
    actor::{CurrentUser, Scope},
};

/// Why a person may not do something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// Another customer's object, or a person who sees nothing.
    NotVisible,
    /// Visible, but not the person's to change.
    NotAllowed,
    /// A decision on one's own request: four eyes need someone else.
    OwnRequest,
}

pub type Decision = Result<(), Denied>;

/// Whether a decision allows, for showing or hiding an action.
pub fn allows(decision: Decision) -> bool {
    decision.is_ok()
}

/// Reading anything of a customer: their own people, the Betreiber and the
/// provider's finance.
pub fn see(user: &CurrentUser, customer_id: i64) -> Decision {
    if user.can_see(customer_id) {
        Ok(())
    } else {
        Err(Denied::NotVisible)
    }
}

fn own_customer_with(user: &CurrentUser, customer_id: i64, roles: &[Role]) -> Decision {
    see(user, customer_id)?;
    let allowed = user.customer_id == Some(customer_id) && roles.iter().any(|r| user.has(*r));
    if allowed {
        Ok(())
    } else {
        Err(Denied::NotAllowed)
    }
}

/// Booking, resizing and cancelling quotas, and dissolving an environment:
/// the customer's Systempfleger:in. The Betreiber sees, but books nothing.
pub fn book(user: &CurrentUser, customer_id: i64) -> Decision {
    own_customer_with(user, customer_id, &[Role::Systempfleger])
}

/// Delivering a release and requesting its promotion: the customer's
/// developers and Systempfleger:in.
pub fn deliver(user: &CurrentUser, customer_id: i64) -> Decision {
    own_customer_with(user, customer_id, &[Role::Entwickler, Role::Systempfleger])
}

/// Requesting a promotion: whoever may deliver.
pub fn request_promotion(user: &CurrentUser, customer_id: i64) -> Decision {
    deliver(user, customer_id)
}

/// The role part of deciding a promotion into `to`: Systempfleger:in for
/// Abnahme and Schulung, Verfahrensverantwortliche:r for Produktion.
pub fn decide_promotion_into(user: &CurrentUser, customer_id: i64, to: Stage) -> Decision {
    match to.approver() {
        Some(role) => own_customer_with(user, customer_id, &[role]),
        None => see(user, customer_id).and(Err(Denied::NotAllowed)),
    }
}

/// Deciding a request of `requested_by`: the right role, and someone else
/// than the requester.
pub fn decide_promotion(
    user: &CurrentUser,
    customer_id: i64,
    to: Stage,
    requested_by: i64,
) -> Decision {
    decide_promotion_into(user, customer_id, to)?;
    four_eyes(user, requested_by)
}

/// Taking a request back (of any kind): only the one who made it.
pub fn withdraw_request(user: &CurrentUser, customer_id: i64, requested_by: i64) -> Decision {
    see(user, customer_id)?;
    if requested_by == user.id {
        Ok(())
    } else {
        Err(Denied::NotAllowed)
    }
}

/// Asking for new Kontingent ceilings of a contract: the customer's
/// Systempfleger:in, who books within them.
pub fn request_kontingent(user: &CurrentUser, customer_id: i64) -> Decision {
    book(user, customer_id)
}

/// Deciding a Kontingent request: the Betreiber, and someone else than the
/// requester.
pub fn decide_kontingent(user: &CurrentUser, requested_by: i64) -> Decision {
    administer(user)?;
    four_eyes(user, requested_by)
}

/// The second signature of a budget increase: the customer's own finance
/// (four eyes across the two organisations), not the requester.
pub fn cosign_kontingent(user: &CurrentUser, customer_id: i64, requested_by: i64) -> Decision {
    own_customer_with(user, customer_id, &[Role::Finanzen])?;
    four_eyes(user, requested_by)
}

/// Someone else than the one who asked decides.
pub fn four_eyes(user: &CurrentUser, requested_by: i64) -> Decision {
    if requested_by == user.id {
        Err(Denied::OwnRequest)
    } else {
        Ok(())
    }
}

/// Starting a deployment by hand (a retry): the Systempfleger:in in every
/// stage, developers only in Vorprüfung, where they may change things
/// themselves.
pub fn deploy(user: &CurrentUser, customer_id: i64, stage: Stage) -> Decision {
    if stage == Stage::Vorpruefung {
        own_customer_with(user, customer_id, &[Role::Systempfleger, Role::Entwickler])
    } else {
        book(user, customer_id)
    }
}

/// Customers, contracts, applications and the catalogue: the Betreiber.
pub fn administer(user: &CurrentUser) -> Decision {
    if user.has(Role::Betreiber) {
        Ok(())
    } else {
        Err(Denied::NotAllowed)
    }
}

/// Managing webhooks: of a customer (`Some`), the Betreiber and the
/// customer's Systempfleger:in, who runs its systems and can receive them;
/// for every customer (`None`), only the Betreiber.
pub fn manage_webhooks(user: &CurrentUser, customer_id: Option<i64>) -> Decision {
    match customer_id {
        None => administer(user),
        Some(customer_id) if user.has(Role::Betreiber) => see(user, customer_id),
        Some(customer_id) => own_customer_with(user, customer_id, &[Role::Systempfleger]),
    }
}

/// Seeing and keeping webhooks at all: the Betreiber and Systempfleger:innen
/// (whose they may change, `manage_webhooks` decides).
pub fn keep_webhooks(user: &CurrentUser) -> Decision {
    if user.has(Role::Betreiber) || user.has(Role::Systempfleger) {
        Ok(())
    } else {
        Err(Denied::NotAllowed)
    }
}

/// Seeing the deliveries of notifications and their failures: the
/// Betreiber.
pub fn read_deliveries(user: &CurrentUser) -> Decision {
    administer(user)
}

/// Reading statements: the provider's staff, and of a customer those who
/// answer for its cost. Developers see no money.
pub fn read_billing(user: &CurrentUser) -> Decision {
    let roles = [
        Role::Betreiber,
        Role::Finanzen,
        Role::Systempfleger,
        Role::Verfahrensverantwortlicher,
    ];
    if roles.iter().any(|r| user.has(*r)) {
        Ok(())
    } else {
        Err(Denied::NotAllowed)
    }
}

/// Downloading the finance exports: the Betreiber and Finanzen.
pub fn export_billing(user: &CurrentUser) -> Decision {
    if user.has(Role::Betreiber) || user.has(Role::Finanzen) {
        Ok(())
    } else {
        Err(Denied::NotAllowed)
    }
}

/// Reading the Revision: the Betreiber all of it; a customer's
/// Systempfleger:in, Verfahrensverantwortliche:r and Finanzen the entries
/// about their customer (BSI C5 OPS-14: customers see what concerns them).
/// Not developers: the log holds money (statements closed, prices,
/// budgets), which they do not see, and who decided what about whom. Not
/// provider finance either: it reads the bills of every customer, the log
/// is the platform team's. Returns which entries the person reads.
pub fn read_audit(user: &CurrentUser) -> Result<Scope, Denied> {
    if user.has(Role::Betreiber) {
        return Ok(Scope::All);
    }
    let readers = [
        Role::Systempfleger,
        Role::Verfahrensverantwortlicher,
        Role::Finanzen,
    ];
    match user.customer_id {
        Some(id) if readers.iter().any(|r| user.has(*r)) => Ok(Scope::Customer(id)),
        _ => Err(Denied::NotAllowed),
    }
}

/// The state of the Revision's hash chain and its verification: the
/// Betreiber.
pub fn verify_audit(user: &CurrentUser) -> Decision {
    administer(user)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::actor::Via;

    fn user(id: i64, customer_id: Option<i64>, roles: &[Role]) -> CurrentUser {
        CurrentUser {
            id,
            login: "x".into(),
            display_name: "X".into(),
            customer_id,
            roles: roles.to_vec(),
            via: Via::Session,
            subject: None,
        }
    }

    #[test]
    fn another_customers_object_is_not_visible_whatever_the_role() {
        let sp = user(1, Some(7), &[Role::Systempfleger]);
        assert_eq!(book(&sp, 8), Err(Denied::NotVisible));
        assert_eq!(deliver(&sp, 8), Err(Denied::NotVisible));
        assert_eq!(
            decide_promotion(&sp, 8, Stage::Abnahme, 2),
            Err(Denied::NotVisible)
        );
    }

    #[test]
    fn the_betreiber_sees_every_customer_but_books_nothing() {
        let b = user(1, None, &[Role::Betreiber]);
        assert_eq!(see(&b, 42), Ok(()));
        assert_eq!(book(&b, 42), Err(Denied::NotAllowed));
        assert_eq!(administer(&b), Ok(()));
    }

    #[test]
    fn developers_deliver_but_do_not_book_or_approve() {
        let dev = user(1, Some(7), &[Role::Entwickler]);
        assert_eq!(deliver(&dev, 7), Ok(()));
        assert_eq!(book(&dev, 7), Err(Denied::NotAllowed));
        assert_eq!(
            decide_promotion(&dev, 7, Stage::Abnahme, 2),
            Err(Denied::NotAllowed)
        );
    }

    #[test]
    fn produktion_needs_the_application_owner_and_someone_else() {
        let sp = user(1, Some(7), &[Role::Systempfleger]);
        let owner = user(2, Some(7), &[Role::Verfahrensverantwortlicher]);
        assert_eq!(
            decide_promotion(&sp, 7, Stage::Produktion, 3),
            Err(Denied::NotAllowed)
        );
        assert_eq!(decide_promotion(&owner, 7, Stage::Produktion, 3), Ok(()));
        assert_eq!(
            decide_promotion(&owner, 7, Stage::Produktion, 2),
            Err(Denied::OwnRequest)
        );
    }

    #[test]
    fn only_the_requester_withdraws() {
        let a = user(1, Some(7), &[Role::Entwickler]);
        assert_eq!(withdraw_request(&a, 7, 1), Ok(()));
        assert_eq!(withdraw_request(&a, 7, 2), Err(Denied::NotAllowed));
    }

    #[test]
    fn developers_retry_deployments_only_in_vorpruefung() {
        let dev = user(1, Some(7), &[Role::Entwickler]);
        assert_eq!(deploy(&dev, 7, Stage::Vorpruefung), Ok(()));
        assert_eq!(deploy(&dev, 7, Stage::Abnahme), Err(Denied::NotAllowed));
    }

    #[test]
    fn webhooks_are_the_betreibers_and_the_customers_systempflege() {
        let b = user(1, None, &[Role::Betreiber]);
        let sp = user(2, Some(7), &[Role::Systempfleger]);
        let dev = user(3, Some(7), &[Role::Entwickler]);
        assert_eq!(manage_webhooks(&b, None), Ok(()));
        assert_eq!(manage_webhooks(&b, Some(7)), Ok(()));
        assert_eq!(manage_webhooks(&sp, Some(7)), Ok(()));
        assert_eq!(manage_webhooks(&sp, None), Err(Denied::NotAllowed));
        assert_eq!(manage_webhooks(&sp, Some(8)), Err(Denied::NotVisible));
        assert_eq!(manage_webhooks(&dev, Some(7)), Err(Denied::NotAllowed));
    }

    #[test]
    fn the_revision_is_read_by_the_betreiber_and_by_the_customers_own_people() {
        assert_eq!(
            read_audit(&user(1, None, &[Role::Betreiber])),
            Ok(Scope::All)
        );
        for role in [
            Role::Systempfleger,
            Role::Verfahrensverantwortlicher,
            Role::Finanzen,
        ] {
            assert_eq!(
                read_audit(&user(1, Some(7), &[role])),
                Ok(Scope::Customer(7))
            );
        }
        assert_eq!(
            read_audit(&user(1, Some(7), &[Role::Entwickler])),
            Err(Denied::NotAllowed)
        );
        assert_eq!(
            read_audit(&user(1, None, &[Role::Finanzen])),
            Err(Denied::NotAllowed)
        );
        assert_eq!(read_audit(&user(1, Some(7), &[])), Err(Denied::NotAllowed));
        assert!(verify_audit(&user(1, Some(7), &[Role::Systempfleger])).is_err());
    }

    #[test]
    fn developers_see_no_money_and_finance_exports() {
        assert!(read_billing(&user(1, Some(7), &[Role::Entwickler])).is_err());
        assert!(export_billing(&user(1, Some(7), &[Role::Finanzen])).is_ok());
        assert!(export_billing(&user(1, Some(7), &[Role::Systempfleger])).is_err());
    }

    #[test]
    fn the_betreiber_decides_kontingent_requests_of_others_and_finance_cosigns() {
        let b = user(1, None, &[Role::Betreiber]);
        let sp = user(2, Some(7), &[Role::Systempfleger]);
        let fin = user(3, Some(7), &[Role::Finanzen]);
        assert_eq!(request_kontingent(&sp, 7), Ok(()));
        assert_eq!(request_kontingent(&fin, 7), Err(Denied::NotAllowed));
        assert_eq!(decide_kontingent(&b, 2), Ok(()));
        assert_eq!(decide_kontingent(&b, 1), Err(Denied::OwnRequest));
        assert_eq!(decide_kontingent(&sp, 1), Err(Denied::NotAllowed));
        assert_eq!(cosign_kontingent(&fin, 7, 2), Ok(()));
        assert_eq!(cosign_kontingent(&fin, 8, 2), Err(Denied::NotVisible));
        assert_eq!(cosign_kontingent(&b, 7, 2), Err(Denied::NotAllowed));
    }
}
