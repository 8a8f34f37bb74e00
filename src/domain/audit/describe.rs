//! An entry as people read it: one sentence ("Anna Admin hat die Buchung
//! 17 von Größe S auf M geändert.", "Anna Admin resized booking 17 from
//! size S to M.") and the recorded values before and after, labelled and
//! in display words. The same text on the Revision page, on a booking's
//! page and in the exports (which stay German).

use std::collections::{BTreeSet, HashMap};

use serde_json::{Map, Value};

use super::{action_label, actor_name, object_accusative, object_noun, values};
use crate::i18n::{Arg, t, t_with};

/// What an entry recorded, as stored.
#[derive(Debug, Clone, Copy)]
pub struct Recorded<'a> {
    pub actor: &'a str,
    pub action: &'a str,
    pub object_type: &'a str,
    pub object_id: i64,
    pub before_json: Option<&'a str>,
    pub after_json: Option<&'a str>,
}

/// Names of what entries refer to by id, so that a comparison says
/// "Kfz-Zulassung (Nr. 12)" rather than a bare number. What is missing
/// is shown by its number.
#[derive(Debug, Clone, Default)]
pub struct Names {
    pub applications: HashMap<i64, String>,
    pub contracts: HashMap<i64, String>,
    pub customers: HashMap<i64, String>,
    /// Catalogue sizes: "Container-Namespace M".
    pub sizes: HashMap<i64, String>,
    /// Product names by slug.
    pub products: HashMap<String, String>,
}

impl Names {
    pub fn application(&self, id: i64) -> Option<&str> {
        self.applications.get(&id).map(String::as_str)
    }
    pub fn contract(&self, id: i64) -> Option<&str> {
        self.contracts.get(&id).map(String::as_str)
    }
    pub fn customer(&self, id: i64) -> Option<&str> {
        self.customers.get(&id).map(String::as_str)
    }
    pub fn size(&self, id: i64) -> Option<&str> {
        self.sizes.get(&id).map(String::as_str)
    }
    pub fn product(&self, slug: &str) -> Option<&str> {
        self.products.get(slug).map(String::as_str)
    }
}

/// What a set of entries refers to by id or slug: the part of [`Names`]
/// their description needs, so that a page of fifty entries does not load
/// the name of every application there is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Referenced {
    pub applications: BTreeSet<i64>,
    pub contracts: BTreeSet<i64>,
    pub customers: BTreeSet<i64>,
    pub sizes: BTreeSet<i64>,
    pub products: BTreeSet<String>,
}

impl Referenced {
    /// Adds what an entry's recorded values mention (the fields
    /// `values::display` names).
    pub fn add(&mut self, before_json: Option<&str>, after_json: Option<&str>) {
        for side in [before_json, after_json] {
            let Ok(Some(map)) = object(side) else {
                continue;
            };
            for (key, v) in &map {
                match (key.as_str(), v.as_i64(), v.as_str()) {
                    ("application_id", Some(id), _) => self.applications.insert(id),
                    ("contract_id", Some(id), _) => self.contracts.insert(id),
                    ("customer_id", Some(id), _) => self.customers.insert(id),
                    ("product_size_id", Some(id), _) => self.sizes.insert(id),
                    ("product", _, Some(slug)) => self.products.insert(slug.to_owned()),
                    _ => false,
                };
            }
        }
    }
}

/// One recorded field: its label and its value before and after the
/// change, in display words (`None`: not recorded on that side).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    pub label: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

impl FieldChange {
    /// `Größe: S → M`, `Größe: S`, `Größe: S (entfernt)`.
    pub fn text(&self) -> String {
        match (&self.before, &self.after) {
            (Some(b), Some(a)) => format!("{}: {b} → {a}", self.label),
            (None, Some(a)) => format!("{}: {a}", self.label),
            (Some(b), None) => format!("{}: {b} ({})", self.label, t("audit-removed")),
            (None, None) => self.label.clone(),
        }
    }
}

/// An entry as people read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Described {
    /// A sentence in the request's language, with the full stop.
    pub sentence: String,
    /// What the action is called (the list's "Aktion").
    pub action: String,
    /// The changed fields (all fields of a creation), in a fixed order.
    pub fields: Vec<FieldChange>,
    /// What was recorded but is not a JSON object, as recorded (never
    /// hidden).
    pub raw: Option<String>,
}

impl Described {
    /// The comparison as one line: `Größe: S → M; Status: …`.
    pub fn changes_text(&self) -> String {
        let mut parts: Vec<String> = self.fields.iter().map(FieldChange::text).collect();
        if let Some(raw) = &self.raw {
            parts.push(raw.clone());
        }
        parts.join("; ")
    }
}

fn object(v: Option<&str>) -> Result<Option<Map<String, Value>>, ()> {
    match v {
        None => Ok(None),
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => Ok(Some(map)),
            _ => Err(()),
        },
    }
}

/// Describes one entry; `names` resolves the ids it mentions.
pub fn describe(e: &Recorded<'_>, names: &Names) -> Described {
    let (before, after, raw) = match (object(e.before_json), object(e.after_json)) {
        (Ok(b), Ok(a)) => (b, a, None),
        _ => {
            let raw = [e.before_json, e.after_json]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" → ");
            (None, None, Some(raw))
        }
    };
    let fields = compare(e.object_type, before.as_ref(), after.as_ref(), names);
    let sentence = sentence(e, before.as_ref(), after.as_ref(), names);
    Described {
        sentence,
        action: action_label(e.action),
        fields,
        raw,
    }
}

/// The fields that changed, or all recorded fields when only one side
/// was recorded; a field that is `null` on the only side is left out.
fn compare(
    object_type: &str,
    before: Option<&Map<String, Value>>,
    after: Option<&Map<String, Value>>,
    names: &Names,
) -> Vec<FieldChange> {
    let empty = Map::new();
    let (b, a) = (before.unwrap_or(&empty), after.unwrap_or(&empty));
    let mut keys: Vec<&String> = a
        .keys()
        .chain(b.keys().filter(|k| !a.contains_key(*k)))
        .collect();
    keys.sort_by(|x, y| values::rank(x).cmp(&values::rank(y)).then(x.cmp(y)));
    let show = |key: &str, v: &Value| values::display(key, v, object_type, names);
    let mut out = Vec::new();
    for key in keys {
        let (old, new) = (b.get(key.as_str()), a.get(key.as_str()));
        if old == new {
            continue;
        }
        let side = |v: Option<&Value>| v.map(|v| show(key, v));
        let change = match (old, new) {
            (None, Some(Value::Null)) | (Some(Value::Null), None) => continue,
            _ => FieldChange {
                label: values::label(key),
                before: side(old),
                after: side(new),
            },
        };
        out.push(change);
    }
    out
}

fn sentence(
    e: &Recorded<'_>,
    before: Option<&Map<String, Value>>,
    after: Option<&Map<String, Value>>,
    names: &Names,
) -> String {
    let get = |side: Option<&Map<String, Value>>, key: &str| {
        side.and_then(|m| m.get(key))
            .filter(|v| !v.is_null())
            .map(|v| values::display(key, v, e.object_type, names))
    };
    let obj = match object_accusative(e.object_type) {
        Some(acc) => format!("{acc} {}", e.object_id),
        None => t_with(
            "audit-sentence-unknown-object",
            &[
                ("type", e.object_type.into()),
                ("id", e.object_id.to_string().into()),
            ],
        ),
    };
    // Every sentence names who did it, the object's number and, where
    // the entry says no more, the object with its article.
    let say = |id: &str, more: &[(&'static str, Arg)]| {
        let mut args = vec![
            ("who", Arg::from(actor_name(e.actor))),
            ("id", Arg::from(e.object_id.to_string())),
            ("obj", Arg::from(obj.as_str())),
        ];
        args.extend_from_slice(more);
        t_with(&format!("audit-sentence-{id}"), &args)
    };
    let text = match e.action {
        "booking.created" => match (get(after, "size"), get(after, "stage")) {
            (Some(size), Some(stage)) => say(
                "booking-created",
                &[("size", size.into()), ("stage", stage.into())],
            ),
            _ => say("created", &[]),
        },
        "booking.resized" => match (get(before, "size"), get(after, "size")) {
            (Some(old), Some(new)) => say(
                "booking-resized",
                &[("old", old.into()), ("new", new.into())],
            ),
            _ => say("booking-resized-plain", &[]),
        },
        "booking.cancelled" => say("booking-cancelled", &[]),
        "booking.provisioned" => say("booking-provisioned", &[]),
        "booking.moved" => match (get(after, "contract_id"), get(after, "booking_id")) {
            (Some(contract), Some(carried)) => say(
                "booking-moved",
                &[("contract", contract.into()), ("carried", carried.into())],
            ),
            _ => say("booking-moved-plain", &[]),
        },
        "application.renamed" => match get(after, "name") {
            Some(name) => say("application-renamed", &[("name", name.into())]),
            None => say("application-renamed-plain", &[]),
        },
        "application.moved" => match get(after, "contract_id") {
            Some(contract) => say("application-moved", &[("contract", contract.into())]),
            None => say("application-moved-plain", &[]),
        },
        "environment.dissolved" => say("environment-dissolved", &[]),
        "release.delivered" => match get(after, "version") {
            Some(v) => say("release-delivered", &[("version", v.into())]),
            None => say("release-delivered-plain", &[]),
        },
        "release.refused" => say("release-refused", &[]),
        "promotion.requested" => match get(after, "to") {
            Some(to) => say("promotion-requested", &[("to", to.into())]),
            None => say("filed", &[]),
        },
        "promotion.approved" | "kontingent_request.approved" => say("approved", &[]),
        "promotion.rejected" | "kontingent_request.rejected" => say("rejected", &[]),
        "promotion.withdrawn" | "kontingent_request.withdrawn" => say("withdrawn", &[]),
        "kontingent_request.created" => say("filed", &[]),
        "contract.kontingent_changed" => match get(after, "kontingent_request") {
            Some(request) => say("kontingent-changed", &[("request", request.into())]),
            None => say("kontingent-changed-plain", &[]),
        },
        "kontingent_request.cosigned" => say("cosigned", &[]),
        "deployment.succeeded" => say("deployment-succeeded", &[]),
        "deployment.failed" => say("deployment-failed", &[]),
        "deployment.superseded" => say("deployment-superseded", &[]),
        "deployment.retried" => say("deployment-retried", &[]),
        "statement.closed" => match get(after, "month") {
            Some(month) => say("statement-closed", &[("month", month.into())]),
            None => say("closed", &[]),
        },
        "token.revoked" => say("revoked", &[]),
        "user.created" => say("user-created", &[]),
        "user.roles_changed" => say("user-roles-changed", &[]),
        "notifications.preferences" => say("notifications-preferences", &[]),
        "webhook.deleted" => say("removed", &[]),
        "audit.pruned" => match get(after, "entries") {
            // The number as recorded, and as a count for the plural form.
            Some(n) => {
                let count = after
                    .and_then(|m| m.get("entries"))
                    .and_then(Value::as_i64)
                    .unwrap_or(2);
                say(
                    "audit-pruned",
                    &[("entries", n.into()), ("count", count.into())],
                )
            }
            None => say("audit-pruned-plain", &[]),
        },
        other => match other.rsplit_once('.').map(|(_, verb)| verb) {
            Some("created") => say("created", &[]),
            Some("updated") => say("updated", &[]),
            Some("deleted") => say("deleted", &[]),
            _ => say(
                "unknown",
                &[
                    ("action", other.into()),
                    ("noun", object_noun(e.object_type).into()),
                ],
            ),
        },
    };
    format!("{text}.")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    fn entry<'a>(
        action: &'a str,
        object_type: &'a str,
        before: Option<&'a str>,
        after: Option<&'a str>,
    ) -> Recorded<'a> {
        Recorded {
            actor: "Anna Admin (admin)",
            action,
            object_type,
            object_id: 17,
            before_json: before,
            after_json: after,
        }
    }

    fn said(e: Recorded<'_>) -> Described {
        describe(&e, &Names::default())
    }

    #[test]
    fn a_resize_reads_as_a_sentence_with_the_old_and_new_size() {
        let d = said(entry(
            "booking.resized",
            "booking",
            Some(r#"{"size":"S"}"#),
            Some(r#"{"size":"M"}"#),
        ));
        assert_eq!(
            d.sentence,
            "Anna Admin hat die Buchung 17 von Größe S auf M geändert."
        );
        assert_eq!(d.changes_text(), "Größe: S → M");
        assert_eq!(d.action, "Größe geändert");
    }

    #[test]
    fn a_new_booking_lists_its_fields_in_display_words() {
        let d = said(entry(
            "booking.created",
            "booking",
            None,
            Some(
                r#"{"application_id":3,"stage":"abnahme","product":"container-namespace","size":"L","state":"beantragt"}"#,
            ),
        ));
        assert_eq!(
            d.sentence,
            "Anna Admin hat die Buchung 17 in Größe L für Abnahme angelegt."
        );
        assert_eq!(
            d.changes_text(),
            "Verfahren: Nr. 3; Stufe: Abnahme; Produkt: container-namespace; Größe: L; Status: beantragt"
        );
    }

    #[test]
    fn a_cancellation_shows_the_state_words() {
        let d = said(entry(
            "booking.cancelled",
            "booking",
            Some(r#"{"state":"aktiv"}"#),
            Some(r#"{"state":"gekuendigt"}"#),
        ));
        assert_eq!(d.sentence, "Anna Admin hat die Buchung 17 gekündigt.");
        assert_eq!(d.changes_text(), "Status: aktiv → gekündigt");
    }

    #[test]
    fn only_changed_fields_of_an_update_are_compared() {
        let d = said(entry(
            "contract.updated",
            "contract",
            Some(r#"{"number":"DLV-1","max_millicpu":8000,"monthly_budget_cents":100000}"#),
            Some(r#"{"number":"DLV-1","max_millicpu":16000,"monthly_budget_cents":100000}"#),
        ));
        assert_eq!(d.sentence, "Anna Admin hat den Vertrag 17 geändert.");
        assert_eq!(d.changes_text(), "Obergrenze vCPU: 8 vCPU → 16 vCPU");
    }

    #[test]
    fn an_unknown_action_is_shown_as_recorded() {
        let d = said(entry("gadget.frobbed", "gadget", None, Some(r#"{"x":1}"#)));
        assert_eq!(d.sentence, "Anna Admin: „gadget.frobbed“ an gadget 17.");
        assert_eq!(d.changes_text(), "x: 1");
    }

    #[test]
    fn what_is_not_an_object_is_shown_as_recorded() {
        let d = said(entry("booking.created", "booking", None, Some("[1,2]")));
        assert_eq!(d.raw.as_deref(), Some("[1,2]"));
        assert!(d.fields.is_empty());
    }

    #[test]
    fn a_decision_reads_with_its_state() {
        let d = said(entry(
            "promotion.approved",
            "promotion",
            Some(r#"{"state":"offen"}"#),
            Some(r#"{"state":"genehmigt","reason":null,"to":"produktion"}"#),
        ));
        assert_eq!(
            d.sentence,
            "Anna Admin hat den Freigabeantrag 17 genehmigt."
        );
        assert_eq!(
            d.changes_text(),
            "Status: offen → genehmigt; in Stufe: Produktion"
        );
    }

    #[test]
    fn webhooks_and_e_mail_choices_read_in_the_words_of_the_settings_pages() {
        let d = said(entry(
            "webhook.created",
            "webhook",
            None,
            Some(r#"{"url":"https://empfang.example/kontor","description":"Leitstand"}"#),
        ));
        assert_eq!(d.sentence, "Anna Admin hat den Webhook 17 angelegt.");
        assert_eq!(
            d.changes_text(),
            "Beschreibung: Leitstand; Adresse: https://empfang.example/kontor"
        );
        assert_eq!(d.action, "Webhook angelegt");
        let d = said(entry("webhook.deleted", "webhook", None, None));
        assert_eq!(d.sentence, "Anna Admin hat den Webhook 17 entfernt.");
        let d = said(entry(
            "notifications.preferences",
            "user",
            None,
            Some(r#"{"email_off":["budget.warning"]}"#),
        ));
        assert_eq!(
            d.sentence,
            "Anna Admin hat die E-Mail-Benachrichtigungen des Benutzerkontos 17 eingestellt."
        );
        assert_eq!(
            d.changes_text(),
            "keine E-Mail bei: Die Budgetprognose erreicht 80 %"
        );
    }

    #[tokio::test]
    async fn in_english_the_sentence_labels_and_values_are_english() {
        let english = |e: Recorded<'static>| crate::i18n::scope(Lang::En, async move { said(e) });
        let d = english(entry(
            "booking.resized",
            "booking",
            Some(r#"{"size":"S"}"#),
            Some(r#"{"size":"M"}"#),
        ))
        .await;
        assert_eq!(
            d.sentence,
            "Anna Admin resized booking 17 from size S to M."
        );
        assert_eq!(d.changes_text(), "Size: S → M");
        assert_eq!(d.action, "size changed");
        let d = english(entry(
            "booking.created",
            "booking",
            None,
            Some(
                r#"{"application_id":3,"stage":"abnahme","product":"container-namespace","size":"L","state":"beantragt"}"#,
            ),
        ))
        .await;
        assert_eq!(
            d.sentence,
            "Anna Admin booked booking 17 in size L for Acceptance."
        );
        assert_eq!(
            d.changes_text(),
            "Application: No. 3; Stage: Acceptance; Product: container-namespace; Size: L; Status: requested"
        );
        let d = english(entry(
            "contract.updated",
            "contract",
            Some(
                r#"{"max_millicpu":2500,"monthly_budget_cents":100000,"valid_until":"2026-12-31"}"#,
            ),
            Some(r#"{"max_millicpu":16000,"monthly_budget_cents":250000,"valid_until":null}"#),
        ))
        .await;
        assert_eq!(d.sentence, "Anna Admin changed contract 17.");
        assert_eq!(
            d.changes_text(),
            "valid until: 31 Dec 2026 → –; vCPU limit: 2.5 vCPU → 16 vCPU; Monthly budget: 1,000.00 € → 2,500.00 €"
        );
        let d = english(entry(
            "promotion.approved",
            "promotion",
            Some(r#"{"state":"offen"}"#),
            Some(r#"{"state":"genehmigt","to":"produktion"}"#),
        ))
        .await;
        assert_eq!(d.sentence, "Anna Admin approved approval request 17.");
        assert_eq!(
            d.changes_text(),
            "Status: open → approved; to stage: Production"
        );
        let d = english(entry("gadget.frobbed", "gadget", None, None)).await;
        assert_eq!(d.sentence, "Anna Admin: \"gadget.frobbed\" on gadget 17.");
    }

    #[tokio::test]
    async fn a_pruning_counts_its_entries_in_either_language() {
        let pruned = |n: i64| format!(r#"{{"entries":{n}}}"#);
        let (one, many) = (pruned(1), pruned(1234));
        let e = |after: &str| said(entry("audit.pruned", "audit_log", None, Some(after)));
        assert_eq!(
            e(&many).sentence,
            "Anna Admin hat 1234 Einträge der Revision nach Ablauf der Aufbewahrungsfrist gelöscht."
        );
        crate::i18n::scope(Lang::En, async {
            assert_eq!(
                e(&one).sentence,
                "Anna Admin deleted 1 entry of the audit log after the retention period."
            );
            assert_eq!(
                e(&many).sentence,
                "Anna Admin deleted 1234 entries of the audit log after the retention period."
            );
        })
        .await;
    }

    #[test]
    fn the_names_an_entry_needs_are_the_ids_and_slugs_its_values_mention() {
        let mut r = Referenced::default();
        r.add(
            Some(r#"{"application_id":3,"size":"S"}"#),
            Some(r#"{"application_id":4,"contract_id":5,"product":"storage","customer_id":null}"#),
        );
        r.add(None, Some("[1,2]"));
        r.add(Some(r#"{"product_size_id":9,"customer_id":7}"#), None);
        assert_eq!(r.applications, BTreeSet::from([3, 4]));
        assert_eq!(r.contracts, BTreeSet::from([5]));
        assert_eq!(r.customers, BTreeSet::from([7]));
        assert_eq!(r.sizes, BTreeSet::from([9]));
        assert_eq!(r.products, BTreeSet::from(["storage".to_owned()]));
    }
}
