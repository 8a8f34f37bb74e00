//! `kontor application`: applications (IT-Fachverfahren) over
//! `/api/v1/applications`: listed and read, created under a customer's
//! contract, renamed, moved to another contract of the same customer.

use clap::Subcommand;
use reqwest::Method;
use serde_json::{Value, json};

use super::{
    Client, Failure, Json, Key,
    output::{cell, fields, rows, table},
};

#[derive(Subcommand, Debug)]
pub enum Command {
    /// List the applications the token sees.
    List,
    /// Show one application.
    Show {
        /// The application's id.
        id: i64,
    },
    /// Create an application of a customer under one of its contracts,
    /// with an environment for each stage (Betreiber).
    Create {
        /// The customer's id.
        #[arg(long)]
        customer: i64,
        /// The id of the customer's contract it is booked under.
        #[arg(long)]
        contract: i64,
        /// Short name used in namespace names; it never changes.
        #[arg(long)]
        slug: String,
        /// The application's name.
        #[arg(long)]
        name: String,
        #[command(flatten)]
        key: Key,
    },
    /// Rename an application (Betreiber); the slug stays.
    Rename {
        /// The application's id.
        id: i64,
        /// The new name.
        #[arg(long)]
        name: String,
    },
    /// Move an application to another contract of its customer
    /// (Betreiber); its bookings count against that contract from then on.
    Move {
        /// The application's id.
        id: i64,
        /// The id of the contract it moves to.
        #[arg(long)]
        contract: i64,
    },
}

fn describe(a: &Value) -> String {
    fields(&[
        ("Id", cell(&a["id"])),
        ("Kürzel", cell(&a["slug"])),
        ("Name", cell(&a["name"])),
        ("Kunde", cell(&a["customer_id"])),
        (
            "Vertrag",
            format!(
                "{} ({})",
                cell(&a["contract_id"]),
                cell(&a["contract_number"])
            ),
        ),
    ])
}

/// One line after a change: which application, under which contract.
fn changed(a: &Value, what: &str) -> String {
    format!(
        "Verfahren {} {what}: {} – {}, Vertrag {} ({}).",
        a["id"],
        cell(&a["slug"]),
        cell(&a["name"]),
        cell(&a["contract_id"]),
        cell(&a["contract_number"]),
    )
}

impl Client {
    /// `kontor application …`.
    pub async fn applications(&self, command: Command, json: Json) -> Result<String, Failure> {
        Ok(match command {
            Command::List => self.list("/applications").await?.render(json, |list| {
                let rows = rows(list, |a| {
                    vec![
                        cell(&a["id"]),
                        cell(&a["customer_id"]),
                        cell(&a["contract_number"]),
                        cell(&a["slug"]),
                        cell(&a["name"]),
                    ]
                });
                table(
                    &["Id", "Kunde", "Vertrag", "Kürzel", "Name"],
                    &rows,
                    "Keine Verfahren sichtbar.",
                )
            }),
            Command::Show { id } => self
                .get(&format!("/applications/{id}"))
                .await?
                .render(json, describe),
            Command::Create {
                customer,
                contract,
                slug,
                name,
                key,
            } => {
                let body = json!({"contract_id": contract, "slug": slug, "name": name});
                let answer = self
                    .create(&format!("/customers/{customer}/applications"), &body, &key)
                    .await?;
                let again = answer.replayed();
                answer.render(json, |a| changed(a, &format!("angelegt{again}")))
            }
            Command::Rename { id, name } => self
                .send(
                    Method::PATCH,
                    &format!("/applications/{id}"),
                    Some(&json!({"name": name})),
                    &[],
                )
                .await?
                .render(json, |a| changed(a, "umbenannt")),
            Command::Move { id, contract } => self
                .send(
                    Method::POST,
                    &format!("/applications/{id}/move"),
                    Some(&json!({"contract_id": contract})),
                    &[],
                )
                .await?
                .render(json, |a| changed(a, "verschoben")),
        })
    }
}
