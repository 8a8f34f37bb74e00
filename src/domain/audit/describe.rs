//! An entry as people read it: one German sentence ("Anna Admin hat die
//! Buchung 17 von Größe S auf M geändert.") and the recorded values before
//! and after, labelled and in display words. The same text on the
//! Revision page, on a booking's page and in the exports.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Map, Value};

use super::{action_label, actor_name, object_accusative, object_noun, values};

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
            (Some(b), None) => format!("{}: {b} (entfernt)", self.label),
            (None, None) => self.label.clone(),
        }
    }
}

/// An entry as people read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Described {
    /// A German sentence, with the full stop.
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
        action: action_label(e.action).to_owned(),
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
                label: values::label(key).to_owned(),
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
    let who = actor_name(e.actor);
    let id = e.object_id;
    let get = |side: Option<&Map<String, Value>>, key: &str| {
        side.and_then(|m| m.get(key))
            .filter(|v| !v.is_null())
            .map(|v| values::display(key, v, e.object_type, names))
    };
    let obj = match object_accusative(e.object_type) {
        Some(acc) => format!("{acc} {id}"),
        None => format!("„{}“ {id}", e.object_type),
    };
    let text = match e.action {
        "booking.created" => match (get(after, "size"), get(after, "stage")) {
            (Some(size), Some(stage)) => {
                format!("{who} hat die Buchung {id} in Größe {size} für {stage} angelegt")
            }
            _ => format!("{who} hat {obj} angelegt"),
        },
        "booking.resized" => match (get(before, "size"), get(after, "size")) {
            (Some(old), Some(new)) => {
                format!("{who} hat die Buchung {id} von Größe {old} auf {new} geändert")
            }
            _ => format!("{who} hat die Größe der Buchung {id} geändert"),
        },
        "booking.cancelled" => format!("{who} hat die Buchung {id} gekündigt"),
        "booking.provisioned" => format!("{who} hat die Buchung {id} im Cluster bereitgestellt"),
        "booking.moved" => match (get(after, "contract_id"), get(after, "booking_id")) {
            (Some(contract), Some(carried)) => format!(
                "{who} hat die Buchung {id} auf den Vertrag {contract} übertragen; sie läuft dort als Buchung {carried} weiter"
            ),
            _ => format!("{who} hat die Buchung {id} auf einen anderen Vertrag übertragen"),
        },
        "application.renamed" => match get(after, "name") {
            Some(name) => format!("{who} hat das Verfahren {id} in {name} umbenannt"),
            None => format!("{who} hat das Verfahren {id} umbenannt"),
        },
        "application.moved" => match get(after, "contract_id") {
            Some(contract) => {
                format!("{who} hat das Verfahren {id} auf den Vertrag {contract} umgezogen")
            }
            None => format!("{who} hat das Verfahren {id} auf einen anderen Vertrag umgezogen"),
        },
        "environment.dissolved" => format!("{who} hat die Umgebung {id} aufgelöst"),
        "release.delivered" => match get(after, "version") {
            Some(v) => format!("{who} hat Version {v} geliefert (Lieferung {id})"),
            None => format!("{who} hat die Lieferung {id} gebracht"),
        },
        "release.refused" => format!(
            "{who} hat eine Lieferung eingereicht; der Checkup hat sie abgelehnt (Lieferung {id})"
        ),
        "promotion.requested" => match get(after, "to") {
            Some(to) => format!("{who} hat die Freigabe in {to} beantragt (Freigabeantrag {id})"),
            None => format!("{who} hat {obj} gestellt"),
        },
        "promotion.approved" | "kontingent_request.approved" => {
            format!("{who} hat {obj} genehmigt")
        }
        "promotion.rejected" | "kontingent_request.rejected" => {
            format!("{who} hat {obj} abgelehnt")
        }
        "promotion.withdrawn" | "kontingent_request.withdrawn" => {
            format!("{who} hat {obj} zurückgezogen")
        }
        "kontingent_request.created" => format!("{who} hat {obj} gestellt"),
        "contract.kontingent_changed" => match get(after, "kontingent_request") {
            Some(request) => format!(
                "{who} hat das Kontingent des Vertrags {id} geändert (Kontingent-Antrag {request})"
            ),
            None => format!("{who} hat das Kontingent des Vertrags {id} geändert"),
        },
        "kontingent_request.cosigned" => format!("{who} hat {obj} mitgezeichnet"),
        "deployment.succeeded" => format!("{who} meldet die Bereitstellung {id} als erfolgreich"),
        "deployment.failed" => format!("{who} meldet die Bereitstellung {id} als fehlgeschlagen"),
        "deployment.superseded" => {
            format!("{who} hat die Bereitstellung {id} durch eine neuere abgelöst")
        }
        "deployment.retried" => format!("{who} hat die Bereitstellung {id} wiederholt"),
        "statement.closed" => match get(after, "month") {
            Some(month) => format!("{who} hat die Abrechnung {id} für {month} abgeschlossen"),
            None => format!("{who} hat {obj} abgeschlossen"),
        },
        "token.revoked" => format!("{who} hat {obj} widerrufen"),
        "user.created" => format!(
            "{who} hat sich zum ersten Mal angemeldet; das Benutzerkonto {id} wurde angelegt"
        ),
        "user.roles_changed" => format!(
            "Bei der Anmeldung von {who} haben sich Kunde oder Rollen des Benutzerkontos {id} geändert"
        ),
        "notifications.preferences" => {
            format!("{who} hat die E-Mail-Benachrichtigungen des Benutzerkontos {id} eingestellt")
        }
        "webhook.deleted" => format!("{who} hat {obj} entfernt"),
        "audit.pruned" => match get(after, "entries") {
            Some(n) => format!(
                "{who} hat {n} Einträge der Revision nach Ablauf der Aufbewahrungsfrist gelöscht"
            ),
            None => format!(
                "{who} hat Einträge der Revision nach Ablauf der Aufbewahrungsfrist gelöscht"
            ),
        },
        other => match other.rsplit_once('.').map(|(_, verb)| verb) {
            Some("created") => format!("{who} hat {obj} angelegt"),
            Some("updated") => format!("{who} hat {obj} geändert"),
            Some("deleted") => format!("{who} hat {obj} gelöscht"),
            _ => format!("{who}: „{other}“ an {} {id}", object_noun(e.object_type)),
        },
    };
    format!("{text}.")
}

#[cfg(test)]
mod tests {
    use super::*;

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
