//! `kontor release push` and `kontor promote`: a developer's delivery and
//! the request to move it on.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{Client, Failure};

impl Client {
    /// An application by id or slug, among those the token may see.
    async fn application(&self, app: &str) -> Result<Value, Failure> {
        let apps = self.list("/applications").await?.value;
        let matches: Vec<&Value> = apps
            .as_array()
            .into_iter()
            .flatten()
            .filter(|a| a["slug"] == app || app.parse::<i64>().is_ok_and(|id| a["id"] == id))
            .collect();
        match matches.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(Failure::refused(format!(
                "Verfahren {app} nicht gefunden (oder nicht sichtbar für dieses Token)"
            ))),
            _ => Err(Failure::usage(format!(
                "Kürzel {app} ist mehrdeutig; bitte die Verfahrens-Id angeben"
            ))),
        }
    }

    /// `kontor release push`.
    pub async fn push(
        &self,
        app: &str,
        version: &str,
        image: &str,
        checksums: &[String],
    ) -> Result<String, Failure> {
        let mut sums = BTreeMap::new();
        for c in checksums {
            let (name, value) = c
                .split_once('=')
                .ok_or_else(|| Failure::usage(format!("--checksum {c}: erwartet name=sha256:…")))?;
            sums.insert(name.to_owned(), value.to_owned());
        }
        let application = self.application(app).await?;
        let id = &application["id"];
        let release = self
            .call(
                reqwest::Method::POST,
                &format!("/applications/{id}/releases"),
                Some(&json!({"version": version, "image": image, "checksums": sums})),
            )
            .await?;
        Ok(format!(
            "Lieferung {} von {} angenommen (Id {}): {}. Sie wird in die Vorprüfung gebracht.",
            release["version"].as_str().unwrap_or(version),
            application["name"].as_str().unwrap_or(app),
            release["id"],
            release["pinned_image"].as_str().unwrap_or(image),
        ))
    }

    /// `kontor promote`: requests moving what runs in the stage before
    /// `to` into `to`.
    pub async fn promote(&self, app: &str, to: &str) -> Result<String, Failure> {
        let application = self.application(app).await?;
        let id = &application["id"];
        let pipeline = self
            .call(
                reqwest::Method::GET,
                &format!("/applications/{id}/pipeline"),
                None,
            )
            .await?;
        let stages = pipeline["stages"].as_array().cloned().unwrap_or_default();
        let position = stages
            .iter()
            .position(|s| s["stage"] == to)
            .ok_or_else(|| {
                Failure::usage(format!("--to {to}: abnahme, schulung oder produktion"))
            })?;
        if position == 0 {
            return Err(Failure::usage(
                "In die Vorprüfung kommt eine Lieferung nach ihrem Checkup (kontor release push)",
            ));
        }
        let source = &stages[position - 1];
        let running = &source["deployment"];
        if running["state"] != "erfolgreich" {
            return Err(Failure::refused(format!(
                "In {} läuft keine Lieferung erfolgreich ({}); nichts zu befördern",
                source["stage"].as_str().unwrap_or("?"),
                running["state"].as_str().unwrap_or("nichts bereitgestellt"),
            )));
        }
        let request = self
            .call(
                reqwest::Method::POST,
                &format!("/applications/{id}/promotions"),
                Some(&json!({"release_id": running["release_id"], "to_stage": to})),
            )
            .await?;
        Ok(format!(
            "Freigabe beantragt (Antrag {}): Lieferung {} von {} nach {}. Entscheiden muss eine andere Person.",
            request["id"],
            request["version"].as_str().unwrap_or("?"),
            request["from_stage"].as_str().unwrap_or("?"),
            request["to_stage"].as_str().unwrap_or(to),
        ))
    }
}
