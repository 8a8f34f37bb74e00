//! `Idempotency-Key` for creating API calls: a retried request (same user,
//! same key, same body) gets the object the first one created, never a second
//! one. The key is stored in the same transaction as the object.

use sha2::{Digest as _, Sha256};

use super::Tx;
use crate::error::{Error, Result};

/// A client-chosen key plus the hash of the request it came with.
#[derive(Debug, Clone)]
pub struct Key {
    pub key: String,
    pub request_hash: String,
}

impl Key {
    /// Keys are opaque strings of 1–255 visible ASCII characters.
    pub fn parse(key: &str, request_body: &[u8]) -> Result<Key> {
        let valid =
            !key.is_empty() && key.len() <= 255 && key.bytes().all(|b| b.is_ascii_graphic());
        if !valid {
            return Err(Error::validation(
                "Idempotency-Key",
                "Der Idempotency-Key muss 1 bis 255 sichtbare ASCII-Zeichen haben.",
            ));
        }
        Ok(Key {
            key: key.to_owned(),
            request_hash: hex::encode(Sha256::digest(request_body)),
        })
    }
}

/// The object created under this key, if any. The same key with another
/// request body is a client error, not a replay.
pub async fn find(tx: &mut Tx, user_id: i64, key: &Key) -> Result<Option<i64>> {
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT request_hash, body FROM idempotency_keys WHERE user_id = $1 AND idem_key = $2",
    )
    .bind(user_id)
    .bind(&key.key)
    .fetch_optional(&mut **tx)
    .await?;
    match row {
        None => Ok(None),
        Some((hash, _)) if hash != key.request_hash => Err(Error::Conflict(
            "Dieser Idempotency-Key wurde schon für eine andere Anfrage verwendet.".into(),
        )),
        Some((_, body)) => {
            let id = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v.get("id").and_then(|id| id.as_i64()))
                .ok_or_else(|| anyhow::anyhow!("unreadable idempotency record"))?;
            Ok(Some(id))
        }
    }
}

pub async fn store(
    tx: &mut Tx,
    user_id: i64,
    key: &Key,
    object_id: i64,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO idempotency_keys (user_id, idem_key, request_hash, status, body, created_at) \
         VALUES ($1, $2, $3, 201, $4, $5)",
    )
    .bind(user_id)
    .bind(&key.key)
    .bind(&key.request_hash)
    .bind(serde_json::json!({"id": object_id}).to_string())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
