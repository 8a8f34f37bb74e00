//! `kontor price`: the catalogue's price versions over
//! `/api/v1/catalog/prices`. The API takes euros per hour as an exact
//! decimal string; `--cents-per-hour` is turned into one by moving the
//! decimal point, never through a float.

use clap::{Args, Subcommand};
use reqwest::Method;
use serde_json::{Value, json};

use super::{
    Client, Failure, Json, Key,
    output::{cell, rows, table},
};

#[derive(Subcommand, Debug)]
pub enum Command {
    /// List every price version (the whole history), of one product or
    /// size where asked.
    List {
        /// A product's slug, e.g. container-namespace.
        #[arg(long)]
        product: Option<String>,
        /// S, M, L or XL.
        #[arg(long)]
        size: Option<String>,
    },
    /// Add a price version of a product's size (Betreiber). Past prices are
    /// billed and stay.
    Add {
        /// The product's slug.
        #[arg(long)]
        product: String,
        /// S, M, L or XL.
        #[arg(long)]
        size: String,
        #[command(flatten)]
        rate: Rate,
        /// The German day it starts on, YYYY-MM-DD: tomorrow at the earliest
        /// (today only for a size's first price). Default: tomorrow.
        #[arg(long)]
        valid_from: Option<String>,
        #[command(flatten)]
        key: Key,
    },
    /// Change a price version that has not started yet (Betreiber).
    Change {
        /// The price version's id.
        id: i64,
        #[command(flatten)]
        rate: Rate,
    },
}

/// The price per hour: in cents or in euros, exactly one of them.
#[derive(Args, Debug)]
#[group(required = true, multiple = false)]
pub struct Rate {
    /// Price per hour in cents, at most two decimal places (e.g. 11.8 for
    /// 0.1180 EUR).
    #[arg(long, value_name = "CENTS")]
    cents_per_hour: Option<String>,
    /// Price per hour in euros, at most four decimal places (e.g. 0.1180).
    #[arg(long, value_name = "EUR")]
    eur_per_hour: Option<String>,
}

impl Rate {
    /// The API's `price_per_hour`: euros as a decimal string. Euros are
    /// passed on as given (Kontor checks them and names the field); cents
    /// are converted here, exactly.
    fn eur(&self) -> Result<String, Failure> {
        match (&self.cents_per_hour, &self.eur_per_hour) {
            (Some(cents), _) => cents_to_eur(cents).ok_or_else(|| {
                Failure::usage(format!(
                    "--cents-per-hour {cents}: erwartet eine Zahl mit höchstens zwei Nachkommastellen, z. B. 11,8"
                ))
            }),
            (None, Some(eur)) => Ok(eur.clone()),
            (None, None) => Err(Failure::usage(
                "bitte --cents-per-hour oder --eur-per-hour angeben",
            )),
        }
    }
}

/// Cents with at most two decimal places (`11.8`, `11,80`, `12`) as euros
/// with four (`0.1180`): ten-thousandths of a euro are hundredths of a
/// cent, so the digits only move. `None` for anything else.
fn cents_to_eur(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let (whole, fraction) = match raw.split_once(['.', ',']) {
        Some((w, f)) if !f.is_empty() => (w, f),
        Some(_) => return None,
        None => (raw, ""),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || fraction.len() > 2 || !(fraction.is_empty() || digits(fraction)) {
        return None;
    }
    let whole: u64 = whole.parse().ok()?;
    let fraction: u64 = format!("{fraction:0<2}").parse().ok()?;
    let units = whole.checked_mul(100)?.checked_add(fraction)?;
    Some(format!("{}.{:04}", units / 10_000, units % 10_000))
}

/// A German date of an RFC 3339 instant (a version starts at a German
/// midnight, which is the evening before in UTC).
fn german_day(v: &Value) -> String {
    v.as_str()
        .and_then(|s| s.parse::<jiff::Timestamp>().ok())
        .map(|t| t.to_zoned(berlin()).date().to_string())
        .unwrap_or_else(|| cell(v))
}

fn berlin() -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get("Europe/Berlin").unwrap_or(jiff::tz::TimeZone::UTC)
}

/// Tomorrow in Germany, the earliest day a new price may start.
fn tomorrow() -> Result<String, Failure> {
    jiff::Timestamp::now()
        .to_zoned(berlin())
        .date()
        .tomorrow()
        .map(|d| d.to_string())
        .map_err(|e| Failure::usage(e.to_string()))
}

fn line(p: &Value, what: &str) -> String {
    format!(
        "Preis {} {what}: {} {} ab {}, {} EUR/Stunde.",
        p["id"],
        cell(&p["product"]),
        cell(&p["size"]),
        german_day(&p["valid_from"]),
        cell(&p["price_per_hour"]),
    )
}

impl Client {
    /// `kontor price …`.
    pub async fn prices(&self, command: Command, json: Json) -> Result<String, Failure> {
        Ok(match command {
            Command::List { product, size } => {
                let mut query = url::form_urlencoded::Serializer::new(String::new());
                if let Some(p) = &product {
                    query.append_pair("product", p);
                }
                if let Some(s) = &size {
                    query.append_pair("size", s);
                }
                let query = query.finish();
                let path = if query.is_empty() {
                    "/catalog/prices".to_owned()
                } else {
                    format!("/catalog/prices?{query}")
                };
                self.list(&path).await?.render(json, |list| {
                    let rows = rows(list, |p| {
                        vec![
                            cell(&p["id"]),
                            cell(&p["product"]),
                            cell(&p["size"]),
                            german_day(&p["valid_from"]),
                            if p["valid_until"].is_null() {
                                "–".into()
                            } else {
                                german_day(&p["valid_until"])
                            },
                            cell(&p["price_per_hour"]),
                        ]
                    });
                    table(
                        &[
                            "Id",
                            "Produkt",
                            "Größe",
                            "Gültig ab",
                            "Gültig bis",
                            "EUR/Stunde",
                        ],
                        &rows,
                        "Keine Preise.",
                    )
                })
            }
            Command::Add {
                product,
                size,
                rate,
                valid_from,
                key,
            } => {
                let body = json!({
                    "product": product,
                    "size": size,
                    "valid_from": match valid_from {
                        Some(day) => day,
                        None => tomorrow()?,
                    },
                    "price_per_hour": rate.eur()?,
                });
                let answer = self.create("/catalog/prices", &body, &key).await?;
                let again = answer.replayed();
                answer.render(json, |p| line(p, &format!("angelegt{again}")))
            }
            Command::Change { id, rate } => {
                let body = json!({"price_per_hour": rate.eur()?});
                self.send(
                    Method::PATCH,
                    &format!("/catalog/prices/{id}"),
                    Some(&body),
                    &[],
                )
                .await?
                .render(json, |p| line(p, "geändert"))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::cents_to_eur;

    #[test]
    fn cents_become_euros_with_four_places_by_moving_digits_only() {
        assert_eq!(cents_to_eur("11.8").as_deref(), Some("0.1180"));
        assert_eq!(cents_to_eur("11,80").as_deref(), Some("0.1180"));
        assert_eq!(cents_to_eur("12").as_deref(), Some("0.1200"));
        assert_eq!(cents_to_eur("0.01").as_deref(), Some("0.0001"));
        assert_eq!(cents_to_eur("123456").as_deref(), Some("1234.5600"));
    }

    #[test]
    fn anything_but_cents_with_two_places_is_not_a_price() {
        for bad in [
            "",
            "1.234",
            "-1",
            "1e3",
            "1.",
            ".5",
            "zwölf",
            "1 000",
            "99999999999999999999",
        ] {
            assert_eq!(cents_to_eur(bad), None, "{bad}");
        }
    }
}
