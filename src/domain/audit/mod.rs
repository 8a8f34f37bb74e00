//! The Revision (audit log) in the reader's language: what each recorded
//! action and kind of object is called, each entry as a sentence with its
//! before/after values labelled and in their display words (`describe`),
//! and the hash chain that makes the log tamper-evident (`chain`). The
//! words are the catalogue's (`locales/*/audit.ftl`), in the language of
//! the request being answered; outside of one (exports, the CLI) German.
//!
//! Actions and object types stay text here, not id enums: the log keeps
//! what older and newer versions of Kontor recorded, and an entry whose
//! action this version does not know is shown as recorded, never hidden.

pub mod chain;
mod describe;
mod values;

pub use describe::{Described, FieldChange, Names, Recorded, Referenced, describe};
pub use values::instant_in;

use crate::i18n::{Lang, t};

/// The kinds of object the log knows, in the order people pick them from
/// a list. Each has a noun (`audit-object-booking`: "Buchung") and the
/// noun as a sentence's object (`audit-object-booking-acc`: "die
/// Buchung") in the catalogue.
const OBJECTS: &[&str] = &[
    "booking",
    "environment",
    "release",
    "promotion",
    "deployment",
    "kontingent",
    "contract",
    "customer",
    "application",
    "product",
    "product_size",
    "price",
    "statement",
    "api_token",
    "user",
    "webhook",
    "audit_log",
];

/// Every action this version records, in a sensible order for a list;
/// each has a short label (the "Aktion" column and the filter) in the
/// catalogue, `audit-action-booking-resized`.
const ACTIONS: &[&str] = &[
    "booking.created",
    "booking.resized",
    "booking.cancelled",
    "booking.moved",
    "booking.provisioned",
    "environment.dissolved",
    "release.delivered",
    "release.refused",
    "promotion.requested",
    "promotion.approved",
    "promotion.rejected",
    "promotion.withdrawn",
    "kontingent_request.created",
    "kontingent_request.approved",
    "kontingent_request.rejected",
    "kontingent_request.withdrawn",
    "kontingent_request.cosigned",
    "deployment.succeeded",
    "deployment.failed",
    "deployment.superseded",
    "deployment.retried",
    "customer.created",
    "customer.updated",
    "contract.created",
    "contract.updated",
    "contract.kontingent_changed",
    "application.created",
    "application.renamed",
    "application.moved",
    "product.created",
    "product_size.updated",
    "price.created",
    "price.updated",
    "statement.closed",
    "token.created",
    "token.revoked",
    "user.created",
    "user.roles_changed",
    "notifications.preferences",
    "webhook.created",
    "webhook.deleted",
    "audit.pruned",
];

/// A catalogue id from an id of the log's vocabulary: Fluent ids take
/// neither dots nor underscores (`kontingent_request.created` →
/// `audit-action-kontingent-request-created`).
fn message_id(kind: &str, id: &str) -> String {
    format!("audit-{kind}-{}", id.replace(['.', '_'], "-"))
}

/// The object types people can filter by, with their nouns in the
/// request's language, in the order of the list above.
pub fn object_types() -> impl Iterator<Item = (&'static str, String)> {
    OBJECTS.iter().map(|o| (*o, object_noun(o)))
}

/// The noun of an object type in the request's language; the type as
/// recorded if unknown.
pub fn object_noun(object_type: &str) -> String {
    if OBJECTS.contains(&object_type) {
        t(&message_id("object", object_type))
    } else {
        object_type.to_owned()
    }
}

/// The object type's noun as the object of a sentence, with its article
/// where the language needs one ("den Kunden").
fn object_accusative(object_type: &str) -> Option<String> {
    OBJECTS
        .contains(&object_type)
        .then(|| t(&format!("{}-acc", message_id("object", object_type))))
}

/// The actions people can filter by, with their labels in the request's
/// language.
pub fn actions() -> impl Iterator<Item = (&'static str, String)> {
    ACTIONS.iter().map(|a| (*a, action_label(a)))
}

/// What an entry's action reads as in a list, in the request's language;
/// the action as recorded if this version does not know it.
pub fn action_label(action: &str) -> String {
    action_label_in(Lang::current(), action)
}

/// [`action_label`] in `lang`, for the free-text search, which matches the
/// labels of every language.
pub fn action_label_in(lang: Lang, action: &str) -> String {
    if ACTIONS.contains(&action) {
        lang.t(&message_id("action", action))
    } else {
        action.to_owned()
    }
}

/// The actions whose label, in any language, contains `text` (ignoring
/// case): what the free-text search also finds.
pub fn actions_labelled(text: &str) -> Vec<&'static str> {
    let text = text.to_lowercase();
    ACTIONS
        .iter()
        .copied()
        .filter(|a| {
            Lang::ALL
                .iter()
                .any(|lang| action_label_in(*lang, a).to_lowercase().contains(&text))
        })
        .collect()
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

    /// The ids built with `format!` (which the catalogue test that reads
    /// the code for literal ids cannot see): every action, kind of object
    /// and field has its words in both languages, each its own.
    #[test]
    fn every_action_object_and_field_has_its_words_in_both_languages() {
        let mut ids: Vec<String> = ACTIONS.iter().map(|a| message_id("action", a)).collect();
        for o in OBJECTS {
            ids.push(message_id("object", o));
            ids.push(format!("{}-acc", message_id("object", o)));
        }
        ids.extend(values::FIELDS.iter().map(|f| message_id("field", f)));
        let mut distinct = ids.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), ids.len(), "two names share an id");
        for lang in Lang::ALL {
            let missing: Vec<&String> = ids.iter().filter(|id| lang.t(id) == **id).collect();
            assert!(missing.is_empty(), "{}: {missing:?}", lang.code());
        }
    }

    #[tokio::test]
    async fn labels_and_nouns_follow_the_language_of_the_request() {
        crate::i18n::scope(Lang::En, async {
            assert_eq!(action_label("booking.resized"), "size changed");
            assert_eq!(action_label("something.new"), "something.new");
            assert_eq!(object_noun("promotion"), "Approval request");
            assert_eq!(object_accusative("customer").as_deref(), Some("customer"));
        })
        .await;
        assert_eq!(action_label("booking.resized"), "Größe geändert");
    }

    #[test]
    fn actions_are_found_by_their_label_in_either_language() {
        assert_eq!(actions_labelled("Gekündigt"), ["booking.cancelled"]);
        assert_eq!(actions_labelled("CANCELLED"), ["booking.cancelled"]);
        assert_eq!(
            actions_labelled("co-signed"),
            ["kontingent_request.cosigned"]
        );
        assert!(actions_labelled("quota").contains(&"contract.kontingent_changed"));
        assert!(actions_labelled("Kontingent geändert").contains(&"contract.kontingent_changed"));
    }

    #[test]
    fn object_nouns_are_german_and_unknown_types_stay_as_recorded() {
        assert_eq!(object_noun("booking"), "Buchung");
        assert_eq!(object_noun("gadget"), "gadget");
        assert_eq!(object_accusative("customer").as_deref(), Some("den Kunden"));
    }
}
