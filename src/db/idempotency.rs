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

/// Claims the key for this transaction before any other work is done. A
/// concurrent request with the same key then waits on the key's unique index
/// (PostgreSQL) until this transaction ends and gets a unique violation if it
/// committed, so it replays instead of being judged as a second booking; on
/// SQLite `BEGIN IMMEDIATE` already serialises the two. The row stays
/// invisible to everyone else until [`complete`] and the commit.
pub async fn claim(tx: &mut Tx, user_id: i64, key: &Key, now: i64) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO idempotency_keys (user_id, idem_key, request_hash, status, body, created_at) \
         VALUES ($1, $2, $3, 0, '{}', $4)",
    )
    .bind(user_id)
    .bind(&key.key)
    .bind(&key.request_hash)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Records what the claimed key created, in the same transaction.
pub async fn complete(tx: &mut Tx, user_id: i64, key: &Key, object_id: i64) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE idempotency_keys SET status = 201, body = $1 WHERE user_id = $2 AND idem_key = $3",
    )
    .bind(serde_json::json!({"id": object_id}).to_string())
    .bind(user_id)
    .bind(&key.key)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// After losing the race to claim a key: the other request's answer, once
/// it has committed; a conflict while it still runs.
pub async fn replay_after_race(db: &super::Db, user_id: i64, key: &Key) -> Result<i64> {
    let mut tx = db.pool.begin().await?;
    let found = find(&mut tx, user_id, key).await?;
    tx.rollback().await?;
    found.ok_or_else(|| {
        Error::Conflict("Eine gleichzeitige Anfrage mit diesem Idempotency-Key läuft noch.".into())
    })
}
