//! The labels of the fields an entry records before and after a change,
//! and their values in display words: sizes, states and stages as people
//! read them, money in euros, resources in vCPU and GiB, ids as the names
//! of what they refer to. All in the request's language (German outside
//! of one); the recorded values themselves never change.

use serde_json::Value;

use super::describe::Names;
use crate::domain::{
    BookingState, Cents, HourlyRate, Lifecycle, Role, Stage,
    approval::ApprovalState,
    billing::Month,
    calendar::{berlin, format_berlin},
    contract::BillingModel,
    notification::EventKind,
    release::{Checkup, DeploymentState},
    resources::{format_gib, format_vcpu, format_whole, in_current_language as figure},
};
use crate::i18n::{Lang, Worded, t, t_with};

/// The fields an entry records, in the order they are listed; each has a
/// label in the catalogue (`audit-field-max-millicpu`).
pub(super) const FIELDS: &[&str] = &[
    "login",
    "number",
    "title",
    "slug",
    "name",
    "description",
    "customer_id",
    "contract_id",
    "application_id",
    "stage",
    "product",
    "product_size_id",
    "size",
    "state",
    "lifecycle",
    "release",
    "release_id",
    "version",
    "image",
    "checkup",
    "from",
    "to",
    "deployment",
    "valid_from",
    "valid_until",
    "kostenstelle",
    "haushaltsstelle",
    "leitweg_id",
    "billing_model",
    "base_fee_cents",
    "max_millicpu",
    "max_memory_mib",
    "max_storage_gib",
    "monthly_budget_cents",
    "vcpu_millicores",
    "millicpu",
    "memory_mib",
    "storage_gib",
    "pods",
    "rate",
    "month",
    "lines",
    "total_cents",
    "expires_at",
    "revoked_at",
    "subject",
    "roles",
    "groups",
    "entries",
    "checkpoint_seq",
    "checkpoint_hash",
    "url",
    "email_off",
    "reason",
    "kontingent",
    "kontingent_request",
    "justification",
    "cosigned_by",
    "below_use_confirmed",
    "message",
];

/// The label of a field in the request's language; the key as recorded if
/// unknown.
pub fn label(key: &str) -> String {
    if FIELDS.contains(&key) {
        t(&super::message_id("field", key))
    } else {
        key.to_owned()
    }
}

/// Where a field goes in the list: known fields in their order, unknown
/// ones after them.
pub fn rank(key: &str) -> usize {
    FIELDS
        .iter()
        .position(|k| *k == key)
        .unwrap_or(FIELDS.len())
}

/// "Nr. 12", or with the name of what the id refers to, "Kfz-Zulassung
/// (Nr. 12)".
fn id_named(id: i64, name: Option<&str>) -> String {
    let number = t_with("audit-value-number", &[("id", id.into())]);
    match name {
        Some(name) => format!("{name} ({number})"),
        None => number,
    }
}

/// A JSON value as text, without quotes around strings.
pub fn plain(v: &Value) -> String {
    match v {
        Value::Null => "–".into(),
        Value::Bool(true) => t("audit-value-yes"),
        Value::Bool(false) => t("audit-value-no"),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(plain).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// The display word of an id enum's value, or the value as recorded.
fn word<T: std::str::FromStr>(raw: &str, label: impl Fn(T) -> String) -> String {
    raw.parse::<T>().map_or_else(|_| raw.to_owned(), label)
}

/// The catalogue's word of a value that the pages name the same way
/// (`stage-abnahme`).
fn worded<T: std::str::FromStr + Worded>(raw: &str) -> String {
    word(raw, |v: T| t(&v.message_id()))
}

fn state(object_type: &str, raw: &str) -> String {
    match object_type {
        "booking" => worded::<BookingState>(raw),
        "deployment" => word(raw, |s: DeploymentState| {
            t(match s {
                DeploymentState::Laeuft => "audit-value-deployment-running",
                DeploymentState::Erfolgreich => "audit-value-deployment-succeeded",
                DeploymentState::Fehlgeschlagen => "audit-value-deployment-failed",
                DeploymentState::Abgeloest => "audit-value-deployment-superseded",
            })
        }),
        "promotion" | "kontingent" => worded::<ApprovalState>(raw),
        _ => raw.to_owned(),
    }
}

/// A value of field `key` of an entry about `object_type`, in display
/// words of the request's language. Whatever does not fit what the key
/// usually holds is shown as recorded.
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
        ("kontingent_request", Some(id), _) => t_with("audit-value-number", &[("id", id.into())]),
        (_, _, _) if v.is_null() => match key {
            "expires_at" => t("audit-value-never"),
            "customer_id" => t("audit-value-no-customer"),
            _ => "–".into(),
        },
        ("state", _, Some(s)) => state(object_type, s),
        ("stage" | "from" | "to", _, Some(s)) => worded::<Stage>(s),
        ("lifecycle", _, Some(s)) => word(s, |l: Lifecycle| {
            t(match l {
                Lifecycle::Leer => "audit-value-lifecycle-empty",
                Lifecycle::Aktiv => "audit-value-lifecycle-active",
                Lifecycle::Aufgeloest => "audit-value-lifecycle-dissolved",
            })
        }),
        ("checkup", _, Some(s)) => word(s, |c: Checkup| {
            t(match c {
                Checkup::Bestanden => "audit-value-checkup-passed",
                Checkup::Abgelehnt => "audit-value-checkup-refused",
            })
        }),
        ("billing_model", _, Some(s)) => worded::<BillingModel>(s),
        ("month", _, Some(s)) => Month::parse(s).map_or_else(|| s.to_owned(), month),
        ("valid_from" | "valid_until", _, Some(s)) => day(s),
        ("application_id", Some(id), _) => id_named(id, names.application(id)),
        ("contract_id", Some(id), _) => id_named(id, names.contract(id)),
        ("customer_id", Some(id), _) => id_named(id, names.customer(id)),
        ("product_size_id", Some(id), _) => id_named(id, names.size(id)),
        ("product", _, Some(slug)) => names.product(slug).unwrap_or(slug).to_owned(),
        ("release" | "release_id", Some(id), _) => {
            t_with("audit-value-release", &[("id", id.into())])
        }
        ("deployment", Some(id), _) => t_with("audit-value-deployment", &[("id", id.into())]),
        ("base_fee_cents" | "monthly_budget_cents" | "total_cents", Some(c), _) => {
            figure(Cents(c).to_string())
        }
        ("rate", Some(r), _) => figure(HourlyRate(r).to_string()),
        ("max_millicpu" | "millicpu" | "vcpu_millicores", Some(m), _) => {
            format!("{} vCPU", figure(format_vcpu(m)))
        }
        ("max_memory_mib" | "memory_mib", Some(m), _) => format!("{} GiB", figure(format_gib(m))),
        ("max_storage_gib" | "storage_gib", Some(g), _) => {
            format!("{} GiB", figure(format_whole(g)))
        }
        ("expires_at" | "revoked_at", Some(at), _) => instant(at),
        ("roles", _, _) => match v.as_array() {
            Some(roles) if roles.is_empty() => t("audit-value-no-roles"),
            Some(roles) => roles
                .iter()
                .map(|r| match r.as_str() {
                    Some(s) => worded::<Role>(s),
                    None => plain(r),
                })
                .collect::<Vec<_>>()
                .join(", "),
            None => plain(v),
        },
        ("email_off", _, _) => match v.as_array() {
            Some(kinds) if kinds.is_empty() => t("audit-value-all-emails-on"),
            Some(kinds) => kinds
                .iter()
                .map(|k| match k.as_str() {
                    Some(s) => worded::<EventKind>(s),
                    None => plain(k),
                })
                .collect::<Vec<_>>()
                .join(", "),
            None => plain(v),
        },
        _ => plain(v),
    }
}

/// `2026-01-01` → `01.01.2026` (in English `1 Jan 2026`); anything else as
/// recorded.
fn day(s: &str) -> String {
    match crate::domain::calendar::parse_date(s) {
        Some(d) => match Lang::current() {
            Lang::De => d.strftime("%d.%m.%Y").to_string(),
            Lang::En => d.strftime("%-d %b %Y").to_string(),
        },
        None => s.to_owned(),
    }
}

/// An instant in German time, to the minute: `06.12.2026 11:24`, in
/// English `6 Dec 2026 11:24`.
fn instant(at: i64) -> String {
    instant_in(Lang::current(), at)
}

/// [`instant`] in `lang`, for messages written in a given language.
pub fn instant_in(lang: Lang, at: i64) -> String {
    match lang {
        Lang::De => format_berlin(at),
        Lang::En => jiff::Timestamp::from_second(at)
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
            .to_zoned(berlin())
            .strftime("%-d %b %Y %H:%M")
            .to_string(),
    }
}

/// A billing month: `Dezember 2026`, `December 2026`.
fn month(m: Month) -> String {
    match Lang::current() {
        Lang::De => m.label(),
        Lang::En => m.first_day().strftime("%B %Y").to_string(),
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
