//! The command line of developers and system maintainers: `kontor release
//! push`, `kontor promote` and `kontor kontingent request` talk to a
//! Kontor's REST API (`KONTOR_URL`, `KONTOR_TOKEN`) like any
//! other client, print what happened in a line or two, and exit with a
//! code a pipeline can branch on.

use std::{collections::BTreeMap, process::ExitCode};

use serde_json::{Value, json};

/// Exit codes: 0 done, 1 refused by Kontor (the message says why), 2 wrong
/// use (missing settings or arguments), 3 Kontor not reachable or answering
/// nonsense.
pub const REFUSED: u8 = 1;
pub const USAGE: u8 = 2;
pub const UNREACHABLE: u8 = 3;

/// A failed command: what to print and which code to exit with.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    fn usage(message: impl Into<String>) -> Failure {
        Failure {
            code: USAGE,
            message: message.into(),
        }
    }
    fn unreachable(message: impl Into<String>) -> Failure {
        Failure {
            code: UNREACHABLE,
            message: message.into(),
        }
    }
}

pub fn exit(result: Result<String, Failure>) -> ExitCode {
    match result {
        Ok(message) => {
            println!("{message}");
            ExitCode::SUCCESS
        }
        Err(f) => {
            eprintln!("kontor: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}

pub struct Client {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Client {
    /// From `KONTOR_URL` and `KONTOR_TOKEN`.
    pub fn from_env() -> Result<Client, Failure> {
        let base = std::env::var("KONTOR_URL")
            .map_err(|_| Failure::usage("KONTOR_URL fehlt (z. B. https://kontor.example.de)"))?;
        let token = std::env::var("KONTOR_TOKEN")
            .map_err(|_| Failure::usage("KONTOR_TOKEN fehlt (API-Token aus dem Portal)"))?;
        url::Url::parse(&base).map_err(|_| Failure::usage("KONTOR_URL ist keine URL"))?;
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .map_err(|e| Failure::unreachable(e.to_string()))?;
        Ok(Client {
            base: base.trim_end_matches('/').to_owned(),
            token,
            http,
        })
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, Failure> {
        let url = format!("{}/api/v1{path}", self.base);
        let mut request = self.http.request(method, &url).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| Failure::unreachable(format!("{url} nicht erreichbar: {e}")))?;
        let status = response.status();
        let value: Value = response.json().await.unwrap_or(Value::Null);
        if status.is_success() {
            return Ok(value);
        }
        let detail = value["detail"].as_str().unwrap_or("ohne Begründung");
        let kind = value["type"]
            .as_str()
            .and_then(|t| t.rsplit(':').next())
            .unwrap_or("error");
        let errors: Vec<String> = value["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .map(|e| {
                        format!(
                            "{}: {}",
                            e["field"].as_str().unwrap_or("?"),
                            e["message"].as_str().unwrap_or("")
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut message = format!("abgelehnt ({} {kind}): {detail}", status.as_u16());
        if let Some(reason) = value["reason"].as_str() {
            message.push_str(&format!(" [{reason}]"));
        }
        for e in errors {
            message.push_str(&format!("\n  {e}"));
        }
        Err(Failure {
            code: if status.is_client_error() {
                REFUSED
            } else {
                UNREACHABLE
            },
            message,
        })
    }

    /// An application by id or slug, among those the token may see.
    async fn application(&self, app: &str) -> Result<Value, Failure> {
        let apps = self
            .call(reqwest::Method::GET, "/applications", None)
            .await?;
        let matches: Vec<&Value> = apps
            .as_array()
            .into_iter()
            .flatten()
            .filter(|a| a["slug"] == app || app.parse::<i64>().is_ok_and(|id| a["id"] == id))
            .collect();
        match matches.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(Failure {
                code: REFUSED,
                message: format!(
                    "Verfahren {app} nicht gefunden (oder nicht sichtbar für dieses Token)"
                ),
            }),
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
            "Release {} von {} angenommen (Id {}): {}. Es wird in die Vorprüfung gebracht.",
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
                "In die Vorprüfung kommt ein Release durch Lieferung (kontor release push)",
            ));
        }
        let source = &stages[position - 1];
        let running = &source["deployment"];
        if running["state"] != "erfolgreich" {
            return Err(Failure {
                code: REFUSED,
                message: format!(
                    "In {} läuft kein Release erfolgreich ({}); nichts zu befördern",
                    source["stage"].as_str().unwrap_or("?"),
                    running["state"].as_str().unwrap_or("nichts bereitgestellt"),
                ),
            });
        }
        let request = self
            .call(
                reqwest::Method::POST,
                &format!("/applications/{id}/promotions"),
                Some(&json!({"release_id": running["release_id"], "to_stage": to})),
            )
            .await?;
        Ok(format!(
            "Freigabe beantragt (Antrag {}): Release {} von {} nach {}. Entscheiden muss eine andere Person.",
            request["id"],
            request["version"].as_str().unwrap_or("?"),
            request["from_stage"].as_str().unwrap_or("?"),
            request["to_stage"].as_str().unwrap_or(to),
        ))
    }

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
        let contracts = self.call(reqwest::Method::GET, "/contracts", None).await?;
        let contract = contracts
            .as_array()
            .into_iter()
            .flatten()
            .find(|k| k["number"] == number)
            .ok_or_else(|| Failure {
                code: REFUSED,
                message: format!(
                    "Vertrag {number} nicht gefunden (oder nicht sichtbar für dieses Token)"
                ),
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
pub struct Ceilings {
    pub vcpu: Option<u32>,
    pub memory_gib: Option<u32>,
    pub storage_gib: Option<u32>,
    pub budget_eur: Option<u32>,
}

impl Ceilings {
    fn is_empty(&self) -> bool {
        self.vcpu.is_none()
            && self.memory_gib.is_none()
            && self.storage_gib.is_none()
            && self.budget_eur.is_none()
    }

    /// The API's `kontingent` object, in its units.
    fn body(&self) -> Value {
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
