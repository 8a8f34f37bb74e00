//! `kontor customer`: the Betreiber's customers (Kunden) over
//! `/api/v1/customers`.

use clap::Subcommand;
use reqwest::Method;
use serde_json::{Value, json};

use super::{
    Client, Failure, Json, Key,
    output::{cell, fields, rows, table},
};

#[derive(Subcommand, Debug)]
pub enum Command {
    /// List the customers the token sees.
    List,
    /// Show one customer.
    Show {
        /// The customer's id.
        id: i64,
    },
    /// Create a customer (Betreiber).
    Create {
        /// Short name used in Kubernetes names (lower-case letters, digits,
        /// dashes); it never changes.
        #[arg(long)]
        slug: String,
        /// The authority's name.
        #[arg(long)]
        name: String,
        #[command(flatten)]
        key: Key,
    },
    /// Rename a customer (Betreiber); the slug stays.
    Rename {
        /// The customer's id.
        id: i64,
        /// The new name.
        #[arg(long)]
        name: String,
    },
}

fn describe(c: &Value) -> String {
    fields(&[
        ("Id", cell(&c["id"])),
        ("Kürzel", cell(&c["slug"])),
        ("Name", cell(&c["name"])),
    ])
}

impl Client {
    /// `kontor customer …`.
    pub async fn customers(&self, command: Command, json: Json) -> Result<String, Failure> {
        Ok(match command {
            Command::List => self.list("/customers").await?.render(json, |list| {
                let rows = rows(list, |c| {
                    vec![cell(&c["id"]), cell(&c["slug"]), cell(&c["name"])]
                });
                table(&["Id", "Kürzel", "Name"], &rows, "Keine Kunden sichtbar.")
            }),
            Command::Show { id } => self
                .get(&format!("/customers/{id}"))
                .await?
                .render(json, describe),
            Command::Create { slug, name, key } => {
                let answer = self
                    .create("/customers", &json!({"slug": slug, "name": name}), &key)
                    .await?;
                let again = answer.replayed();
                answer.render(json, |c| {
                    format!(
                        "Kunde {} angelegt{again}: {} – {}",
                        c["id"],
                        cell(&c["slug"]),
                        cell(&c["name"])
                    )
                })
            }
            Command::Rename { id, name } => self
                .send(
                    Method::PATCH,
                    &format!("/customers/{id}"),
                    Some(&json!({"name": name})),
                    &[],
                )
                .await?
                .render(json, |c| {
                    format!("Kunde {} heißt jetzt „{}“.", c["id"], cell(&c["name"]))
                }),
        })
    }
}
