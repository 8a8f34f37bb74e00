//! Portal API tokens: rows and the statements that write them. Only the
//! hash of a token is stored (see src/auth/tokens.rs).

use sqlx::{AnyConnection, AnyPool};

use super::Tx;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

impl TokenRow {
    /// Usable now: neither revoked nor expired.
    pub fn active(&self, now: i64) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|at| at > now)
    }
}

pub async fn list(pool: &AnyPool, user_id: i64) -> sqlx::Result<Vec<TokenRow>> {
    sqlx::query_as(
        "SELECT id, name, created_at, expires_at, revoked_at, last_used_at FROM api_tokens \
         WHERE user_id = $1 ORDER BY id DESC",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await
}

pub async fn insert(
    tx: &mut Tx,
    user_id: i64,
    name: &str,
    hash: &str,
    now: i64,
    expires_at: Option<i64>,
) -> sqlx::Result<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO api_tokens (user_id, name, token_hash, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(user_id)
    .bind(name)
    .bind(hash)
    .bind(now)
    .bind(expires_at)
    .fetch_one(&mut **tx)
    .await?;
    Ok(id)
}

/// Revokes a token of `user_id` that is not revoked yet; whether it did.
pub async fn set_revoked(tx: &mut Tx, id: i64, user_id: i64, now: i64) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(id)
    .bind(user_id)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Whether the token belongs to `user_id`.
pub async fn is_own(conn: &mut AnyConnection, id: i64, user_id: i64) -> sqlx::Result<bool> {
    let own: Option<(i64,)> =
        sqlx::query_as("SELECT id FROM api_tokens WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user_id)
            .fetch_optional(conn)
            .await?;
    Ok(own.is_some())
}
