//! What people do about notifications: choose which e-mails they get, and
//! manage the webhooks of a customer (the Betreiber's for all customers).
//! A webhook's secret is made here and shown once.

use base64::Engine as _;
use rand::RngCore as _;
use serde_json::json;

use super::{Change, Error, Result};
use crate::{
    db::{self, Db, audit, notifications as store},
    domain::{actor::CurrentUser, notification::EventKind, policy, text::Text},
    i18n::t,
};

/// Longest webhook URL and description.
pub const MAX_URL: usize = 2000;
pub const MAX_DESCRIPTION: usize = 200;

/// Sets the kinds of events `user` gets no e-mail for.
pub async fn set_opt_outs(db: &Db, user: &CurrentUser, off: &[EventKind], now: i64) -> Result<()> {
    let mut change = Change::begin(db, user, now).await?;
    store::set_opt_outs(change.tx(), user.id, off).await?;
    let off: Vec<&str> = off.iter().map(|k| k.as_str()).collect();
    change
        .audit(audit::Entry {
            customer_id: user.customer_id,
            action: "notifications.preferences",
            object_type: "user",
            object_id: user.id,
            before: None,
            after: Some(json!({"email_off": off})),
        })
        .await?;
    change.commit().await
}

/// A webhook endpoint as people enter it: an absolute `https://` URL
/// (`http://` only where the settings allow it, for test systems), without
/// credentials in it.
pub fn parse_url(raw: &str, allow_http: bool) -> Result<String> {
    let text = Text::parse(raw, MAX_URL).map_err(|e| Error::validation("url", e.to_string()))?;
    let url = url::Url::parse(text.as_str())
        .map_err(|_| Error::validation("url", t("invalid-webhook-url")))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_http => {}
        _ => {
            return Err(Error::validation("url", t("invalid-webhook-https")));
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::validation("url", t("invalid-webhook-host")));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::validation("url", t("invalid-webhook-credentials")));
    }
    Ok(url.to_string())
}

/// A webhook as entered, both fields checked at once so that the form shows
/// every message.
pub fn parse_webhook(url: &str, description: &str, allow_http: bool) -> Result<(String, Text)> {
    let mut errors = super::FieldErrors::default();
    let url = match parse_url(url, allow_http) {
        Ok(url) => Some(url),
        Err(Error::Validation(e)) => {
            errors.0.extend(e.0);
            None
        }
        Err(e) => return Err(e),
    };
    let description = Text::parse(description, MAX_DESCRIPTION)
        .map_err(|e| errors.add("description", e.to_string()))
        .ok();
    errors.into_result()?;
    Ok((url.expect("checked"), description.expect("checked")))
}

/// A new signing secret: `whsec_` and 32 random bytes in base64, as the
/// Standard Webhooks specification writes them.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// A webhook just created, with its secret (shown this once).
pub struct Created {
    pub id: i64,
    pub secret: String,
}

/// Adds a webhook for `customer_id` (`None`: every customer, Betreiber
/// only).
pub async fn create_webhook(
    db: &Db,
    user: &CurrentUser,
    customer_id: Option<i64>,
    url: &str,
    description: &Text,
    now: i64,
) -> Result<Created> {
    if let Some(customer) = customer_id {
        db::customers::find(&db.pool, customer)
            .await?
            .ok_or(Error::NotFound)?;
    }
    let mut change = Change::begin(db, user, now).await?;
    policy::manage_webhooks(user, customer_id)?;
    let secret = new_secret();
    let id = store::insert_webhook(
        change.tx(),
        &store::NewWebhook {
            customer_id,
            url,
            description: description.as_str(),
            secret: &secret,
            created_by: user.id,
            now,
        },
    )
    .await?;
    change
        .audit(audit::Entry {
            customer_id,
            action: "webhook.created",
            object_type: "webhook",
            object_id: id,
            before: None,
            after: Some(json!({"url": url, "description": description.as_str()})),
        })
        .await?;
    change.commit().await?;
    Ok(Created { id, secret })
}

/// Removes a webhook; what still waits for it is given up.
pub async fn delete_webhook(db: &Db, user: &CurrentUser, id: i64, now: i64) -> Result<()> {
    let mut change = Change::begin(db, user, now).await?;
    let owner = store::webhook_owner(change.conn(), id)
        .await?
        .ok_or(Error::NotFound)?;
    if let Some(customer) = owner {
        policy::see(user, customer)?;
    }
    policy::manage_webhooks(user, owner).map_err(|denied| match (owner, denied) {
        // The Betreiber's webhooks do not exist for anyone else.
        (None, _) => Error::NotFound,
        (_, denied) => denied.into(),
    })?;
    store::delete_webhook(change.tx(), id, now).await?;
    change
        .audit(audit::Entry {
            customer_id: owner,
            action: "webhook.deleted",
            object_type: "webhook",
            object_id: id,
            before: None,
            after: None,
        })
        .await?;
    change.commit().await
}

/// The webhooks the user may see.
pub async fn webhooks(db: &Db, user: &CurrentUser) -> Result<Vec<store::Webhook>> {
    Ok(store::webhooks(&db.pool, user.scope()).await?)
}

/// What `user` chose: their e-mail address (from the login) and the kinds
/// of events they get no e-mail for.
pub async fn settings(db: &Db, user: &CurrentUser) -> Result<(Option<String>, Vec<EventKind>)> {
    let email = store::email_of(&db.pool, user.id).await?;
    let off = store::opt_outs(&db.pool, user.id).await?;
    Ok((email, off))
}
