//! The command line over the REST API: `kontor release push`,
//! `kontor promote` and `kontor kontingent request` for developers and
//! system maintainers, `kontor customer|contract|application|price` for
//! the Betreiber. They talk to a Kontor (`KONTOR_URL`, `KONTOR_TOKEN`) like
//! any other client, print what happened in a line or a table (or the
//! API's JSON with `--json`), and exit with a code a pipeline can branch on.
//!
//! One HTTP call ([`Client::send`]) and one rendering of a refusal serve
//! every command; each resource has its module with its subcommands.

pub mod applications;
pub mod contracts;
pub mod customers;
mod kontingent;
mod output;
pub mod prices;
mod releases;

use std::process::ExitCode;

use clap::Args;
use reqwest::{Method, header::HeaderMap};
use serde_json::Value;

pub use kontingent::Ceilings;

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
    /// The HTTP status of a refusal, for commands that explain one further.
    pub status: Option<u16>,
}

impl Failure {
    fn usage(message: impl Into<String>) -> Failure {
        Failure {
            code: USAGE,
            message: message.into(),
            status: None,
        }
    }
    fn unreachable(message: impl Into<String>) -> Failure {
        Failure {
            code: UNREACHABLE,
            message: message.into(),
            status: None,
        }
    }
    fn refused(message: impl Into<String>) -> Failure {
        Failure {
            code: REFUSED,
            message: message.into(),
            status: None,
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

/// `--json`: the API's answer as it came, for scripts.
#[derive(Args, Clone, Copy, Debug)]
pub struct Json {
    /// Print the API's JSON unchanged instead of a line or table.
    #[arg(long, global = true)]
    pub json: bool,
}

/// `--idempotency-key` of a creating command.
#[derive(Args, Debug)]
pub struct Key {
    /// The Idempotency-Key to send (default: a fresh random one). Giving the
    /// key of an earlier attempt retries it safely: Kontor answers what it
    /// created then instead of creating it twice.
    #[arg(long = "idempotency-key", value_name = "KEY")]
    pub idempotency_key: Option<String>,
}

impl Key {
    fn header(&self) -> (&'static str, String) {
        let key = self.idempotency_key.clone().unwrap_or_else(|| {
            let bytes: [u8; 16] = rand::random();
            hex::encode(bytes)
        });
        ("Idempotency-Key", key)
    }
}

/// An answer of the API: its JSON as sent (for `--json`) and parsed.
struct Answer {
    body: String,
    value: Value,
    headers: HeaderMap,
}

impl Answer {
    /// The JSON unchanged with `--json`, else what `text` makes of it.
    fn render(self, json: Json, text: impl FnOnce(&Value) -> String) -> String {
        if json.json {
            self.body
        } else {
            text(&self.value)
        }
    }

    /// ` (wiederholt)` when Kontor answered an earlier attempt with the same
    /// Idempotency-Key instead of creating anew.
    fn replayed(&self) -> &'static str {
        if self.headers.contains_key("idempotent-replayed") {
            " (Wiederholung: bereits angelegt)"
        } else {
            ""
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
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, Failure> {
        Ok(self.send(method, path, body, &[]).await?.value)
    }

    /// One request to `/api/v1{path}`; a refusal becomes a [`Failure`]
    /// with Kontor's message, the fields it names and its figures.
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, String)],
    ) -> Result<Answer, Failure> {
        let url = format!("{}/api/v1{path}", self.base);
        let mut request = self.http.request(method, &url).bearer_auth(&self.token);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| Failure::unreachable(format!("{url} nicht erreichbar: {e}")))?;
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_default();
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if status.is_success() {
            return Ok(Answer {
                body: text,
                value,
                headers,
            });
        }
        Err(Failure {
            code: if status.is_client_error() {
                REFUSED
            } else {
                UNREACHABLE
            },
            message: output::refusal(status.as_u16(), &value),
            status: Some(status.as_u16()),
        })
    }

    /// A creating call with an `Idempotency-Key`.
    async fn create(&self, path: &str, body: &Value, key: &Key) -> Result<Answer, Failure> {
        self.send(Method::POST, path, Some(body), &[key.header()])
            .await
    }

    /// A read for `show`.
    async fn get(&self, path: &str) -> Result<Answer, Failure> {
        self.send(Method::GET, path, None, &[]).await
    }

    /// Every item of a list, page after page (docs/api.md, "Lists"), as
    /// one JSON array.
    async fn list(&self, path: &str) -> Result<Answer, Failure> {
        let joiner = if path.contains('?') { '&' } else { '?' };
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page_path = match &cursor {
                None => format!("{path}{joiner}limit=200"),
                Some(c) => format!("{path}{joiner}limit=200&cursor={c}"),
            };
            let page = self.get(&page_path).await?.value;
            let Some(page_items) = page["items"].as_array() else {
                return Err(Failure::unreachable(format!(
                    "{page_path}: die Antwort ist keine Liste"
                )));
            };
            items.extend(page_items.iter().cloned());
            match page["next"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
        }
        let value = Value::Array(items);
        Ok(Answer {
            body: value.to_string(),
            value,
            headers: reqwest::header::HeaderMap::new(),
        })
    }
}
