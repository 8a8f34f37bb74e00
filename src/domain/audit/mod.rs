//! The Revision (audit log) in the users' language: what each recorded
//! action and kind of object is called, each entry as a German sentence
//! with its before/after values labelled and in their display words
//! (`describe`), and the hash chain that makes the log tamper-evident
//! (`chain`).
//!
//! Actions and object types stay text here, not id enums: the log keeps
//! what older and newer versions of Kontor recorded, and an entry whose
//! action this version does not know is shown as recorded, never hidden.

pub mod chain;
mod describe;
mod values;

pub use describe::{Described, FieldChange, Names, Recorded, Referenced, describe};

/// A kind of object in the log: its id, its German noun and the noun with
/// its article in the accusative ("hat die Buchung … geändert").
struct ObjectKind {
    id: &'static str,
    noun: &'static str,
    accusative: &'static str,
}

const OBJECTS: &[ObjectKind] = &[
    ObjectKind {
        id: "booking",
        noun: "Buchung",
        accusative: "die Buchung",
    },
    ObjectKind {
        id: "environment",
        noun: "Umgebung",
        accusative: "die Umgebung",
    },
    ObjectKind {
        id: "release",
        noun: "Lieferung",
        accusative: "die Lieferung",
    },
    ObjectKind {
        id: "promotion",
        noun: "Freigabeantrag",
        accusative: "den Freigabeantrag",
    },
    ObjectKind {
        id: "deployment",
        noun: "Bereitstellung",
        accusative: "die Bereitstellung",
    },
    ObjectKind {
        id: "kontingent",
        noun: "Kontingent-Änderungsantrag",
        accusative: "den Kontingent-Änderungsantrag",
    },
    ObjectKind {
        id: "contract",
        noun: "Vertrag",
        accusative: "den Vertrag",
    },
    ObjectKind {
        id: "customer",
        noun: "Kunde",
        accusative: "den Kunden",
    },
    ObjectKind {
        id: "application",
        noun: "Verfahren",
        accusative: "das Verfahren",
    },
    ObjectKind {
        id: "product",
        noun: "Produkt",
        accusative: "das Produkt",
    },
    ObjectKind {
        id: "product_size",
        noun: "Produktgröße",
        accusative: "die Produktgröße",
    },
    ObjectKind {
        id: "price",
        noun: "Preis",
        accusative: "den Preis",
    },
    ObjectKind {
        id: "statement",
        noun: "Abrechnung",
        accusative: "die Abrechnung",
    },
    ObjectKind {
        id: "api_token",
        noun: "API-Token",
        accusative: "das API-Token",
    },
    ObjectKind {
        id: "user",
        noun: "Benutzerkonto",
        accusative: "das Benutzerkonto",
    },
    ObjectKind {
        id: "webhook",
        noun: "Webhook",
        accusative: "den Webhook",
    },
    ObjectKind {
        id: "audit_log",
        noun: "Revision",
        accusative: "die Revision",
    },
];

/// The object types people can filter by, with their German nouns, in the
/// order of the list above.
pub fn object_types() -> impl Iterator<Item = (&'static str, &'static str)> {
    OBJECTS.iter().map(|o| (o.id, o.noun))
}

/// The German noun of an object type; the type as recorded if unknown.
pub fn object_noun(object_type: &str) -> &str {
    OBJECTS
        .iter()
        .find(|o| o.id == object_type)
        .map_or(object_type, |o| o.noun)
}

fn object_accusative(object_type: &str) -> Option<&'static str> {
    OBJECTS
        .iter()
        .find(|o| o.id == object_type)
        .map(|o| o.accusative)
}

/// Every action this version records, with its short German label (the
/// "Aktion" column and the filter), in a sensible order for a list.
const ACTIONS: &[(&str, &str)] = &[
    ("booking.created", "gebucht"),
    ("booking.resized", "Größe geändert"),
    ("booking.cancelled", "gekündigt"),
    ("booking.moved", "auf anderen Vertrag übertragen"),
    ("booking.provisioned", "bereitgestellt"),
    ("environment.dissolved", "Umgebung aufgelöst"),
    ("release.delivered", "geliefert"),
    ("release.refused", "Lieferung abgelehnt"),
    ("promotion.requested", "Freigabe beantragt"),
    ("promotion.approved", "Freigabe erteilt"),
    ("promotion.rejected", "Freigabe abgelehnt"),
    ("promotion.withdrawn", "Antrag zurückgezogen"),
    ("kontingent_request.created", "Kontingent beantragt"),
    ("kontingent_request.approved", "Kontingent-Antrag genehmigt"),
    ("kontingent_request.rejected", "Kontingent-Antrag abgelehnt"),
    (
        "kontingent_request.withdrawn",
        "Kontingent-Antrag zurückgezogen",
    ),
    (
        "kontingent_request.cosigned",
        "Kontingent-Antrag mitgezeichnet",
    ),
    ("deployment.succeeded", "Bereitstellung erfolgreich"),
    ("deployment.failed", "Bereitstellung fehlgeschlagen"),
    ("deployment.superseded", "Bereitstellung abgelöst"),
    ("deployment.retried", "Bereitstellung wiederholt"),
    ("customer.created", "Kunde angelegt"),
    ("customer.updated", "Kunde geändert"),
    ("contract.created", "Vertrag angelegt"),
    ("contract.updated", "Vertrag geändert"),
    ("contract.kontingent_changed", "Kontingent geändert"),
    ("application.created", "Verfahren angelegt"),
    ("application.renamed", "Verfahren umbenannt"),
    ("application.moved", "Verfahren umgezogen"),
    ("product.created", "Produkt angelegt"),
    ("product_size.updated", "Produktgröße geändert"),
    ("price.created", "Preis angelegt"),
    ("price.updated", "Preis geändert"),
    ("statement.closed", "Abrechnung abgeschlossen"),
    ("token.created", "API-Token angelegt"),
    ("token.revoked", "API-Token widerrufen"),
    ("user.created", "Benutzerkonto angelegt"),
    ("user.roles_changed", "Rollen geändert"),
    ("notifications.preferences", "Benachrichtigungen geändert"),
    ("webhook.created", "Webhook angelegt"),
    ("webhook.deleted", "Webhook entfernt"),
    ("audit.pruned", "Revision gekürzt"),
];

/// The actions people can filter by, with their labels.
pub fn actions() -> impl Iterator<Item = (&'static str, &'static str)> {
    ACTIONS.iter().copied()
}

/// What an entry's action reads as in a list; the action as recorded if
/// this version does not know it.
pub fn action_label(action: &str) -> &str {
    ACTIONS
        .iter()
        .find(|(a, _)| *a == action)
        .map_or(action, |(_, label)| label)
}

/// The name of the acting person without the login that the log keeps in
/// parentheses: `Anna Admin (admin)` → `Anna Admin`.
pub fn actor_name(actor: &str) -> &str {
    match actor.rfind(" (") {
        Some(i) if actor.ends_with(')') && i > 0 => &actor[..i],
        _ => actor,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_actions_have_labels_and_unknown_ones_stay_as_recorded() {
        assert_eq!(action_label("booking.resized"), "Größe geändert");
        assert_eq!(action_label("something.new"), "something.new");
    }

    #[test]
    fn the_login_in_parentheses_is_left_out_of_the_name() {
        assert_eq!(actor_name("Anna Admin (admin)"), "Anna Admin");
        assert_eq!(actor_name("Kontor (Bereitstellung)"), "Kontor");
        assert_eq!(actor_name("(x)"), "(x)");
        assert_eq!(actor_name("Ohne Klammer"), "Ohne Klammer");
    }

    #[test]
    fn object_nouns_are_german_and_unknown_types_stay_as_recorded() {
        assert_eq!(object_noun("booking"), "Buchung");
        assert_eq!(object_noun("gadget"), "gadget");
        assert_eq!(object_accusative("customer"), Some("den Kunden"));
    }
}
