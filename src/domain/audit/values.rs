//! The labels of the fields an entry records before and after a change,
//! and their values in display words: sizes, states and stages as people
//! read them, money in euros, resources in vCPU and GiB, ids as the names
//! of what they refer to.

use serde_json::Value;

use super::describe::Names;
use crate::domain::{
    BookingState, Cents, HourlyRate, Lifecycle, Role, Stage,
    approval::ApprovalState,
    billing::Month,
    calendar::format_berlin,
    contract::BillingModel,
    notification::EventKind,
    release::{Checkup, DeploymentState},
    resources::{format_gib, format_vcpu, format_whole},
};

/// Field keys with their German labels, in the order they are listed.
const FIELDS: &[(&str, &str)] = &[
    ("login", "Anmeldename"),
    ("number", "Vertragsnummer"),
    ("title", "Titel"),
    ("slug", "Kurzname"),
    ("name", "Name"),
    ("description", "Beschreibung"),
    ("customer_id", "Kunde"),
    ("contract_id", "Vertrag"),
    ("application_id", "Verfahren"),
    ("stage", "Stufe"),
    ("product", "Produkt"),
    ("product_size_id", "Produktgröße"),
    ("size", "Größe"),
    ("state", "Status"),
    ("lifecycle", "Zustand"),
    ("release", "Lieferung"),
    ("release_id", "Lieferung"),
    ("version", "Version"),
    ("image", "Image"),
    ("checkup", "Checkup"),
    ("from", "von Stufe"),
    ("to", "in Stufe"),
    ("deployment", "Bereitstellung"),
    ("valid_from", "gültig ab"),
    ("valid_until", "gültig bis"),
    ("kostenstelle", "Kostenstelle"),
    ("haushaltsstelle", "Haushaltsstelle"),
    ("leitweg_id", "Leitweg-ID"),
    ("billing_model", "Abrechnungsmodell"),
    ("base_fee_cents", "Grundgebühr"),
    ("max_millicpu", "Obergrenze vCPU"),
    ("max_memory_mib", "Obergrenze Arbeitsspeicher"),
    ("max_storage_gib", "Obergrenze Speicher"),
    ("monthly_budget_cents", "Monatsbudget"),
    ("vcpu_millicores", "vCPU"),
    ("millicpu", "vCPU"),
    ("memory_mib", "Arbeitsspeicher"),
    ("storage_gib", "Speicher"),
    ("pods", "Pods"),
    ("rate", "Preis je Stunde"),
    ("month", "Monat"),
    ("lines", "Positionen"),
    ("total_cents", "Betrag"),
    ("expires_at", "läuft ab"),
    ("revoked_at", "widerrufen am"),
    ("subject", "Kennung beim Identitätsanbieter"),
    ("roles", "Rollen"),
    ("groups", "Gruppen"),
    ("entries", "Einträge"),
    ("checkpoint_seq", "Prüfpunkt (Position)"),
    ("checkpoint_hash", "Prüfpunkt (Hash)"),
    ("url", "Adresse"),
    ("email_off", "keine E-Mail bei"),
    ("reason", "Begründung"),
    ("kontingent", "Kontingent"),
    ("kontingent_request", "Kontingent-Antrag"),
    ("justification", "Begründung des Antrags"),
    ("cosigned_by", "mitgezeichnet von (Nr.)"),
    ("below_use_confirmed", "unter dem Gebuchten bestätigt"),
    ("message", "Meldung"),
];

/// The German label of a field; the key as recorded if unknown.
pub fn label(key: &str) -> &str {
    FIELDS
        .iter()
        .find(|(k, _)| *k == key)
        .map_or(key, |(_, l)| l)
}

/// Where a field goes in the list: known fields in their order, unknown
/// ones after them.
pub fn rank(key: &str) -> usize {
    FIELDS
        .iter()
        .position(|(k, _)| *k == key)
        .unwrap_or(FIELDS.len())
}

fn id_named(kind: &str, id: i64, name: Option<&str>) -> String {
    match name {
        Some(name) => format!("{name} ({kind} {id})"),
        None => format!("{kind} {id}"),
    }
}

/// A JSON value as text, without quotes around strings.
pub fn plain(v: &Value) -> String {
    match v {
        Value::Null => "–".into(),
        Value::Bool(true) => "ja".into(),
        Value::Bool(false) => "nein".into(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(plain).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// The display word of an id enum's value, or the value as recorded.
fn word<T: std::str::FromStr>(raw: &str, label: impl Fn(T) -> String) -> String {
    raw.parse::<T>().map_or_else(|_| raw.to_owned(), label)
}

fn state(object_type: &str, raw: &str) -> String {
    match object_type {
        "booking" => word(raw, |s: BookingState| s.label().into()),
        "deployment" => word(raw, |s: DeploymentState| {
            match s {
                DeploymentState::Laeuft => "läuft",
                DeploymentState::Erfolgreich => "erfolgreich",
                DeploymentState::Fehlgeschlagen => "fehlgeschlagen",
                DeploymentState::Abgeloest => "abgelöst",
            }
            .into()
        }),
        "promotion" | "kontingent" => word(raw, |s: ApprovalState| s.label().into()),
        _ => raw.to_owned(),
    }
}

/// A value of field `key` of an entry about `object_type`, in display
/// words. Whatever does not fit what the key usually holds is shown as
/// recorded.
pub fn display(key: &str, v: &Value, object_type: &str, names: &Names) -> String {
    let int = v.as_i64();
    let text = v.as_str();
    match (key, int, text) {
        // The ceilings of a Kontingent (request), each in its words.
        ("kontingent", _, _) if v.is_object() => v
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, x)| format!("{} {}", label(k), display(k, x, object_type, names)))
            .collect::<Vec<_>>()
            .join(", "),
        ("kontingent_request", Some(id), _) => format!("Nr. {id}"),
        (_, _, _) if v.is_null() => match key {
            "expires_at" => "nie".into(),
            "customer_id" => "keiner (Anbieter)".into(),
            _ => "–".into(),
        },
        ("state", _, Some(s)) => state(object_type, s),
        ("stage" | "from" | "to", _, Some(s)) => word(s, |st: Stage| st.label().into()),
        ("lifecycle", _, Some(s)) => word(s, |l: Lifecycle| {
            match l {
                Lifecycle::Leer => "leer",
                Lifecycle::Aktiv => "aktiv",
                Lifecycle::Aufgeloest => "aufgelöst",
            }
            .into()
        }),
        ("checkup", _, Some(s)) => word(s, |c: Checkup| {
            match c {
                Checkup::Bestanden => "bestanden",
                Checkup::Abgelehnt => "abgelehnt",
            }
            .into()
        }),
        ("billing_model", _, Some(s)) => word(s, |m: BillingModel| m.label().into()),
        ("month", _, Some(s)) => Month::parse(s).map_or_else(|| s.to_owned(), Month::label),
        ("valid_from" | "valid_until", _, Some(s)) => german_date(s),
        ("application_id", Some(id), _) => id_named("Nr.", id, names.application(id)),
        ("contract_id", Some(id), _) => id_named("Nr.", id, names.contract(id)),
        ("customer_id", Some(id), _) => id_named("Nr.", id, names.customer(id)),
        ("product_size_id", Some(id), _) => id_named("Nr.", id, names.size(id)),
        ("product", _, Some(slug)) => names.product(slug).unwrap_or(slug).to_owned(),
        ("release" | "release_id", Some(id), _) => format!("Lieferung {id}"),
        ("deployment", Some(id), _) => format!("Bereitstellung {id}"),
        ("base_fee_cents" | "monthly_budget_cents" | "total_cents", Some(c), _) => {
            Cents(c).to_string()
        }
        ("rate", Some(r), _) => HourlyRate(r).to_string(),
        ("max_millicpu" | "millicpu" | "vcpu_millicores", Some(m), _) => {
            format!("{} vCPU", format_vcpu(m))
        }
        ("max_memory_mib" | "memory_mib", Some(m), _) => format!("{} GiB", format_gib(m)),
        ("max_storage_gib" | "storage_gib", Some(g), _) => format!("{} GiB", format_whole(g)),
        ("expires_at" | "revoked_at", Some(at), _) => format_berlin(at),
        ("roles", _, _) => match v.as_array() {
            Some(roles) if roles.is_empty() => "keine".into(),
            Some(roles) => roles
                .iter()
                .map(|r| match r.as_str() {
                    Some(s) => word(s, |role: Role| role.label().into()),
                    None => plain(r),
                })
                .collect::<Vec<_>>()
                .join(", "),
            None => plain(v),
        },
        ("email_off", _, _) => match v.as_array() {
            Some(kinds) if kinds.is_empty() => "nichts (alle E-Mails an)".into(),
            Some(kinds) => kinds
                .iter()
                .map(|k| match k.as_str() {
                    Some(s) => word(s, |kind: EventKind| kind.label().into()),
                    None => plain(k),
                })
                .collect::<Vec<_>>()
                .join(", "),
            None => plain(v),
        },
        _ => plain(v),
    }
}

/// `2026-01-01` → `01.01.2026`; anything else as recorded.
fn german_date(s: &str) -> String {
    match crate::domain::calendar::parse_date(s) {
        Some(d) => d.strftime("%d.%m.%Y").to_string(),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn show(key: &str, v: Value, object_type: &str) -> String {
        display(key, &v, object_type, &Names::default())
    }

    #[test]
    fn states_read_in_the_words_of_their_object() {
        assert_eq!(show("state", json!("gekuendigt"), "booking"), "gekündigt");
        assert_eq!(show("state", json!("abgeloest"), "deployment"), "abgelöst");
        assert_eq!(
            show("state", json!("zurueckgezogen"), "promotion"),
            "zurückgezogen"
        );
        assert_eq!(show("state", json!("seltsam"), "booking"), "seltsam");
    }

    #[test]
    fn stages_money_and_resources_read_as_people_say_them() {
        assert_eq!(show("stage", json!("vorpruefung"), "booking"), "Vorprüfung");
        assert_eq!(show("to", json!("produktion"), "promotion"), "Produktion");
        assert_eq!(
            show("monthly_budget_cents", json!(123_456), "contract"),
            "1.234,56 €"
        );
        assert_eq!(show("rate", json!(1200), "price"), "0,1200 €");
        assert_eq!(show("max_millicpu", json!(2500), "contract"), "2,5 vCPU");
        assert_eq!(show("memory_mib", json!(1536), "product_size"), "1,5 GiB");
        assert_eq!(
            show("valid_until", json!("2026-12-31"), "contract"),
            "31.12.2026"
        );
        assert_eq!(
            show("roles", json!(["systempfleger", "finanzen"]), "user"),
            "Systempfleger:in, Finanzen"
        );
        assert_eq!(show("expires_at", Value::Null, "api_token"), "nie");
    }

    #[test]
    fn ids_are_named_when_the_name_is_known() {
        let mut names = Names::default();
        names.applications.insert(12, "Kfz-Zulassung".into());
        assert_eq!(
            display("application_id", &json!(12), "booking", &names),
            "Kfz-Zulassung (Nr. 12)"
        );
        assert_eq!(
            display("application_id", &json!(13), "booking", &names),
            "Nr. 13"
        );
    }

    #[test]
    fn a_kontingent_reads_as_its_ceilings() {
        let k = json!({"vcpu_millicores": 16000, "monthly_budget_cents": 250_000});
        let text = display("kontingent", &k, "contract", &Names::default());
        assert!(text.contains("vCPU 16 vCPU"), "{text}");
        assert!(text.contains("Monatsbudget 2.500,00 €"), "{text}");
    }
}
