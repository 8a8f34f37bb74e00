//! `kontor kontingent request`: new ceilings asked for with a reason
//! instead of a ticket.

use serde_json::{Value, json};

use super::{Client, Failure};

impl Client {
    /// `kontor kontingent request`.
    pub async fn request_kontingent(
        &self,
        number: &str,
        ceilings: &Ceilings,
        reason: &str,
    ) -> Result<String, Failure> {
        if ceilings.is_empty() {
            return Err(Failure::usage(
                "bitte mindestens eine Obergrenze angeben (--vcpu, --memory-gib, --storage-gib, --budget-eur)",
            ));
        }
        let contracts = self.list("/contracts").await?.value;
        let contract = contracts
            .as_array()
            .into_iter()
            .flatten()
            .find(|k| k["number"] == number)
            .ok_or_else(|| {
                Failure::refused(format!(
                    "Vertrag {number} nicht gefunden (oder nicht sichtbar für dieses Token)"
                ))
            })?;
        let request = self
            .call(
                reqwest::Method::POST,
                &format!("/contracts/{}/kontingent-requests", contract["id"]),
                Some(&json!({"kontingent": ceilings.body(), "reason": reason})),
            )
            .await?;
        Ok(format!(
            "Kontingent-Antrag {} für Vertrag {number} gestellt; der Betreiber entscheidet.",
            request["id"]
        ))
    }
}

/// Ceilings as the command line takes them: whole cores, GiB, euros.
#[derive(clap::Args, Debug)]
pub struct Ceilings {
    /// vCPU (whole cores).
    #[arg(long)]
    pub vcpu: Option<u32>,
    /// Memory in GiB.
    #[arg(long)]
    pub memory_gib: Option<u32>,
    /// Storage in GiB.
    #[arg(long)]
    pub storage_gib: Option<u32>,
    /// Monthly budget in whole euros.
    #[arg(long)]
    pub budget_eur: Option<u32>,
}

impl Ceilings {
    pub(super) fn is_empty(&self) -> bool {
        self.vcpu.is_none()
            && self.memory_gib.is_none()
            && self.storage_gib.is_none()
            && self.budget_eur.is_none()
    }

    /// The API's `kontingent` object, in its units.
    pub(super) fn body(&self) -> Value {
        let mut body = serde_json::Map::new();
        if let Some(v) = self.vcpu {
            body.insert("vcpu_millicores".into(), json!(i64::from(v) * 1000));
        }
        if let Some(v) = self.memory_gib {
            body.insert("memory_mib".into(), json!(i64::from(v) * 1024));
        }
        if let Some(v) = self.storage_gib {
            body.insert("storage_gib".into(), json!(v));
        }
        if let Some(v) = self.budget_eur {
            body.insert("monthly_budget_cents".into(), json!(i64::from(v) * 100));
        }
        Value::Object(body)
    }
}
