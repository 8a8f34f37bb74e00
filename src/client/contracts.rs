//! `kontor contract`: contracts (Dienstleistungsvereinbarungen) over
//! `/api/v1/contracts`. A change reads the contract, changes only the
//! fields given and writes the whole terms back with `If-Match`, so that a
//! change someone made in between is refused (412) instead of overwritten.

use clap::{Args, Subcommand};
use reqwest::Method;
use serde_json::{Map, Value, json};

use super::{
    Ceilings, Client, Failure, Json, Key,
    output::{cell, fields, rows, table},
};

#[derive(Subcommand, Debug)]
pub enum Command {
    /// List the contracts the token sees.
    List,
    /// Show one contract with its Kontingent, what is booked and what is left.
    Show {
        /// The contract's id.
        id: i64,
    },
    /// Create a contract for a customer (Betreiber); every term is needed.
    Create {
        /// The customer's id.
        #[arg(long)]
        customer: i64,
        #[command(flatten)]
        terms: Terms,
        #[command(flatten)]
        key: Key,
    },
    /// Change a contract's terms (Betreiber): only the fields given change.
    Update {
        /// The contract's id.
        id: i64,
        #[command(flatten)]
        terms: Terms,
        /// Lower a ceiling below what is booked: new bookings stop until use
        /// falls. Without it such a change is refused and shows the figures.
        #[arg(long)]
        confirm_below_booked: bool,
        /// The version to change (default: the ETag of the contract as just
        /// read). For tests of the conflict.
        #[arg(long, hide = true)]
        if_match: Option<String>,
    },
}

/// A contract's terms as flags; for `update` each one left out stays.
#[derive(Args, Debug)]
pub struct Terms {
    /// E.g. DLV-2026-0042: letters, digits, `-` and `/`.
    #[arg(long)]
    number: Option<String>,
    /// The contract's title.
    #[arg(long)]
    title: Option<String>,
    /// First day of validity, YYYY-MM-DD.
    #[arg(long)]
    valid_from: Option<String>,
    /// Last day of validity, YYYY-MM-DD.
    #[arg(long)]
    valid_until: Option<String>,
    /// Cost centre (Kostenstelle).
    #[arg(long)]
    kostenstelle: Option<String>,
    /// Budget line (Haushaltsstelle).
    #[arg(long)]
    haushaltsstelle: Option<String>,
    /// XRechnung routing id, e.g. 04011000-1234512345-06.
    #[arg(long)]
    leitweg_id: Option<String>,
    /// `nutzung` (pay as you go) or `gemischt` (base fee plus usage).
    #[arg(long)]
    billing_model: Option<String>,
    /// Monthly base fee in cents (only with `gemischt`).
    #[arg(long)]
    base_fee_cents: Option<i64>,
    #[command(flatten)]
    ceilings: Ceilings,
}

impl Terms {
    /// The fields given, as the API names them.
    fn given(&self) -> Map<String, Value> {
        let mut body = Map::new();
        for (name, value) in [
            ("number", &self.number),
            ("title", &self.title),
            ("valid_from", &self.valid_from),
            ("valid_until", &self.valid_until),
            ("kostenstelle", &self.kostenstelle),
            ("haushaltsstelle", &self.haushaltsstelle),
            ("leitweg_id", &self.leitweg_id),
            ("billing_model", &self.billing_model),
        ] {
            if let Some(v) = value {
                body.insert(name.into(), json!(v));
            }
        }
        if let Some(fee) = self.base_fee_cents {
            body.insert("base_fee_cents".into(), json!(fee));
        }
        body
    }

    /// A whole body for a new contract, or which flags are missing.
    fn complete(&self, customer: i64) -> Result<Value, Failure> {
        let mut body = self.given();
        body.entry("billing_model").or_insert(json!("nutzung"));
        let kontingent = self.ceilings.body();
        let missing: Vec<&str> = [
            ("number", "--number"),
            ("title", "--title"),
            ("valid_from", "--valid-from"),
            ("valid_until", "--valid-until"),
            ("kostenstelle", "--kostenstelle"),
            ("haushaltsstelle", "--haushaltsstelle"),
            ("leitweg_id", "--leitweg-id"),
        ]
        .into_iter()
        .filter(|(field, _)| !body.contains_key(*field))
        .chain(
            [
                ("vcpu_millicores", "--vcpu"),
                ("memory_mib", "--memory-gib"),
                ("storage_gib", "--storage-gib"),
                ("monthly_budget_cents", "--budget-eur"),
            ]
            .into_iter()
            .filter(|(field, _)| kontingent.get(*field).is_none()),
        )
        .map(|(_, flag)| flag)
        .collect();
        if !missing.is_empty() {
            return Err(Failure::usage(format!(
                "für einen neuen Vertrag fehlt: {}",
                missing.join(", ")
            )));
        }
        body.insert("customer_id".into(), json!(customer));
        body.insert("kontingent".into(), kontingent);
        Ok(Value::Object(body))
    }

    /// The contract as read, with the fields given changed: the body of
    /// the `PUT`. `None` when no field is given.
    fn applied_to(&self, current: &Value) -> Option<Value> {
        let given = self.given();
        let ceilings = self.ceilings.body();
        if given.is_empty() && ceilings.as_object().is_none_or(Map::is_empty) {
            return None;
        }
        let mut body = Map::new();
        for field in [
            "number",
            "title",
            "valid_from",
            "valid_until",
            "kostenstelle",
            "haushaltsstelle",
            "leitweg_id",
            "billing_model",
            "base_fee_cents",
        ] {
            body.insert(field.into(), current[field].clone());
        }
        body.extend(given);
        let mut kontingent = current["kontingent"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        if let Value::Object(changed) = ceilings {
            kontingent.extend(changed);
        }
        body.insert("kontingent".into(), Value::Object(kontingent));
        Some(Value::Object(body))
    }
}

/// `used / ceiling` of a Kontingent dimension.
fn use_of(k: &Value, field: &str, unit: &str) -> String {
    format!(
        "{} von {} {unit} (frei {})",
        cell(&k["used"][field]),
        cell(&k["kontingent"][field]),
        cell(&k["remaining"][field])
    )
}

fn describe(k: &Value) -> String {
    fields(&[
        ("Id", cell(&k["id"])),
        ("Nummer", cell(&k["number"])),
        ("Titel", cell(&k["title"])),
        ("Kunde", cell(&k["customer_id"])),
        (
            "Gültig",
            format!("{} bis {}", cell(&k["valid_from"]), cell(&k["valid_until"])),
        ),
        ("Kostenstelle", cell(&k["kostenstelle"])),
        ("Haushaltsstelle", cell(&k["haushaltsstelle"])),
        ("Leitweg-ID", cell(&k["leitweg_id"])),
        ("Abrechnung", cell(&k["billing_model"])),
        (
            "Grundgebühr",
            format!("{} Cent/Monat", cell(&k["base_fee_cents"])),
        ),
        ("vCPU", use_of(k, "vcpu_millicores", "Millicores")),
        ("Arbeitsspeicher", use_of(k, "memory_mib", "MiB")),
        ("Speicher", use_of(k, "storage_gib", "GiB")),
        ("Budget", use_of(k, "monthly_budget_cents", "Cent/Monat")),
    ])
}

impl Client {
    /// `kontor contract …`.
    pub async fn contracts(&self, command: Command, json: Json) -> Result<String, Failure> {
        Ok(match command {
            Command::List => self.list("/contracts").await?.render(json, |list| {
                let rows = rows(list, |k| {
                    vec![
                        cell(&k["id"]),
                        cell(&k["customer_id"]),
                        cell(&k["number"]),
                        cell(&k["valid_from"]),
                        cell(&k["valid_until"]),
                        cell(&k["billing_model"]),
                        cell(&k["title"]),
                    ]
                });
                table(
                    &[
                        "Id",
                        "Kunde",
                        "Nummer",
                        "Gültig ab",
                        "Gültig bis",
                        "Abrechnung",
                        "Titel",
                    ],
                    &rows,
                    "Keine Verträge sichtbar.",
                )
            }),
            Command::Show { id } => self
                .get(&format!("/contracts/{id}"))
                .await?
                .render(json, describe),
            Command::Create {
                customer,
                terms,
                key,
            } => {
                let answer = self
                    .create("/contracts", &terms.complete(customer)?, &key)
                    .await?;
                let again = answer.replayed();
                answer.render(json, |k| {
                    format!(
                        "Vertrag {} angelegt{again}: {} für Kunde {}.",
                        k["id"],
                        cell(&k["number"]),
                        cell(&k["customer_id"])
                    )
                })
            }
            Command::Update {
                id,
                terms,
                confirm_below_booked,
                if_match,
            } => self
                .update_contract(id, &terms, confirm_below_booked, if_match)
                .await?
                .render(json, |k| {
                    format!("Vertrag {} ({}) geändert.", k["id"], cell(&k["number"]))
                }),
        })
    }

    async fn update_contract(
        &self,
        id: i64,
        terms: &Terms,
        confirm_below_booked: bool,
        if_match: Option<String>,
    ) -> Result<super::Answer, Failure> {
        let path = format!("/contracts/{id}");
        let current = self.get(&path).await?;
        let Some(mut body) = terms.applied_to(&current.value) else {
            return Err(Failure::usage(
                "nichts zu ändern: bitte mindestens ein Feld angeben (kontor contract update --help)",
            ));
        };
        body["confirm_below_booked"] = json!(confirm_below_booked);
        let version = match if_match {
            Some(tag) if tag.starts_with('"') => tag,
            Some(tag) => format!("\"{tag}\""),
            None => current
                .headers
                .get(reqwest::header::ETAG)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
                .ok_or_else(|| Failure::unreachable("Kontor gab den Vertrag ohne ETag zurück"))?,
        };
        self.send(Method::PUT, &path, Some(&body), &[("If-Match", version)])
            .await
            .map_err(|mut f| {
                if f.status == Some(412) {
                    // Kontor's detail says that nothing was saved; say
                    // where the current version is.
                    f.message
                        .push_str(&format!("\n  Aktuelle Fassung: kontor contract show {id}"));
                }
                if f.status == Some(409) && f.message.contains("below-booked") {
                    f.message.push_str(
                        "\n  Mit --confirm-below-booked wird die Obergrenze trotzdem gesenkt; \
                         neue Buchungen sind dann erst wieder möglich, wenn weniger gebucht ist.",
                    );
                }
                f
            })
    }
}
