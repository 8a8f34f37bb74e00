//! Webhooks after the Standard Webhooks specification
//! (<https://www.standardwebhooks.com/>, "Webhook Standard"): a JSON body
//! `{"type", "timestamp", "data"}` POSTed with the headers
//!
//! - `webhook-id`: the message's id, the same on every retry, so receivers
//!   can drop a duplicate;
//! - `webhook-timestamp`: Unix seconds of this attempt (receivers refuse old
//!   ones against replay);
//! - `webhook-signature`: `v1,` and the base64 of the HMAC-SHA256, keyed
//!   with the secret's bytes (the base64 after `whsec_`), over
//!   `<id>.<timestamp>.<body>`.
//!
//! Any 2xx answer is delivery; anything else, and no answer in time, is
//! tried again later.

use std::time::Duration;

use base64::Engine as _;
use hmac::{Hmac, Mac as _};
use sha2::Sha256;

use super::SendError;
use crate::db::notifications::Claimed;

/// The signing key of a `whsec_…` secret.
pub fn key(secret: &str) -> Option<Vec<u8>> {
    let encoded = secret.strip_prefix("whsec_").unwrap_or(secret);
    base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()
}

/// The `webhook-signature` value of a message.
pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    )
}

/// The message id of a delivery: the same on each of its retries.
pub fn message_id(delivery_id: i64) -> String {
    format!("msg_kontor_{delivery_id}")
}

/// The body of a delivery: the event's type, when it happened and its data,
/// with the German subject and the link to the page.
pub fn body(d: &Claimed, public_url: &str) -> String {
    let data: serde_json::Value = serde_json::from_str(&d.data).unwrap_or(serde_json::Value::Null);
    let mut data = match data {
        serde_json::Value::Object(map) => map,
        other => {
            let mut map = serde_json::Map::new();
            map.insert("value".into(), other);
            map
        }
    };
    data.insert("event_id".into(), d.event_id.into());
    data.insert("subject".into(), d.subject.clone().into());
    data.insert("url".into(), format!("{public_url}{}", d.link).into());
    let timestamp = jiff::Timestamp::from_second(d.created_at)
        .map(|t| t.to_string())
        .unwrap_or_default();
    serde_json::json!({
        "type": d.kind.as_str(),
        "timestamp": timestamp,
        "data": data,
    })
    .to_string()
}

/// POSTs a delivery, signed, within `timeout`.
pub async fn send(
    client: &reqwest::Client,
    d: &Claimed,
    public_url: &str,
    timeout: Duration,
) -> Result<(), SendError> {
    let Some(key) = d.secret.as_deref().and_then(key) else {
        return Err(SendError::Permanent(
            "Das Geheimnis des Webhooks ist nicht lesbar.".into(),
        ));
    };
    let id = message_id(d.id);
    let timestamp = jiff::Timestamp::now().as_second();
    let body = body(d, public_url);
    let signature = sign(&key, &id, timestamp, &body);
    let request = client
        .post(&d.address)
        .timeout(timeout)
        .header("content-type", "application/json")
        .header("user-agent", "Kontor-Webhooks/1")
        .header("webhook-id", id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body)
        .send();
    // reqwest's timeout covers the whole call; the outer one is the same
    // promise made by every send of Kontor's, whatever the client does.
    let answer = tokio::time::timeout(timeout + Duration::from_secs(1), request)
        .await
        .map_err(|_| SendError::Transient(format!("keine Antwort in {} s", timeout.as_secs())))?
        .map_err(|e| {
            if e.is_timeout() {
                SendError::Transient(format!("keine Antwort in {} s", timeout.as_secs()))
            } else if e.is_connect() {
                SendError::Transient("Verbindung zum Empfänger nicht möglich".into())
            } else {
                SendError::Transient(format!("Übertragung fehlgeschlagen ({e})"))
            }
        })?;
    let status = answer.status();
    if status.is_success() {
        Ok(())
    } else if status == reqwest::StatusCode::GONE {
        // The receiver wants no more (the specification's 410).
        Err(SendError::Permanent(
            "Der Empfänger antwortete 410 (Gone): er nimmt nichts mehr an".into(),
        ))
    } else {
        Err(SendError::Transient(format!(
            "Der Empfänger antwortete {}",
            status.as_u16()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_one_of_the_specifications_example() {
        // The example of the Standard Webhooks reference libraries.
        let key = key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            sign(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn a_secret_reads_with_or_without_its_prefix() {
        assert_eq!(key("whsec_AAEC"), Some(vec![0, 1, 2]));
        assert_eq!(key("AAEC"), Some(vec![0, 1, 2]));
        assert_eq!(key("whsec_!!"), None);
    }
}
