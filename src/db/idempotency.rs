//! The stored `Idempotency-Key`s: claimed in the transaction that creates the
//! object, completed with its id before the commit.

use super::Tx;
use crate::domain::idempotency::Key;

/// What an earlier request under a key left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    /// The same request: the id of what it created.
    Created(i64),
    /// The key was used for another request body.
    OtherRequest,
}

/// The record under this person's key, if any.
pub async fn find(
    conn: &mut sqlx::AnyConnection,
    user_id: i64,
    key: &Key,
) -> sqlx::Result<Option<Stored>> {
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT request_hash, body FROM idempotency_keys WHERE user_id = $1 AND idem_key = $2",
    )
    .bind(user_id)
    .bind(&key.key)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((hash, body)) = row else {
        return Ok(None);
    };
    if hash != key.request_hash {
        return Ok(Some(Stored::OtherRequest));
    }
    serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("id").and_then(|id| id.as_i64()))
        .map(|id| Some(Stored::Created(id)))
        .ok_or_else(|| sqlx::Error::Protocol("unreadable idempotency record".into()))
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
