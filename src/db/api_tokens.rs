//! A user's own portal API tokens: listed, created and revoked on the page
//! "API-Tokens". Only the hash of a token is stored (see `auth::tokens`).

use serde_json::json;

use super::{Db, audit};
use crate::{auth::tokens, domain::actor::CurrentUser};

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

pub async fn list(db: &Db, user_id: i64) -> sqlx::Result<Vec<TokenRow>> {
    sqlx::query_as(
        "SELECT id, name, created_at, expires_at, revoked_at, last_used_at FROM api_tokens \
         WHERE user_id = $1 ORDER BY id DESC",
    )
    .bind(user_id)
    .fetch_all(&db.pool)
    .await
}

/// Creates a token for `user` and answers its secret, to be shown once.
pub async fn create(
    db: &Db,
    user: &CurrentUser,
    name: &str,
    expires_at: i64,
    now: i64,
) -> sqlx::Result<String> {
    let token = tokens::generate();
    let mut tx = db.begin_write().await?;
    let id = super::users::create_token(&mut tx, user.id, name, &token.hash, now, Some(expires_at))
        .await?;
    audit::record(
        &mut tx,
        user,
        now,
        audit::Entry {
            customer_id: user.customer_id,
            action: "token.created",
            object_type: "api_token",
            object_id: id,
            before: None,
            after: Some(json!({"name": name, "expires_at": expires_at})),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(token.secret)
}

/// Revokes one of `user`'s own tokens; `false` when there is no such token
/// of theirs (another user's id looks the same as a missing one).
pub async fn revoke(db: &Db, user: &CurrentUser, id: i64, now: i64) -> sqlx::Result<bool> {
    let mut tx = db.begin_write().await?;
    let done = sqlx::query(
        "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(id)
    .bind(user.id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        // Already revoked is fine (a second click); someone else's is not.
        let own: Option<(i64,)> =
            sqlx::query_as("SELECT id FROM api_tokens WHERE id = $1 AND user_id = $2")
                .bind(id)
                .bind(user.id)
                .fetch_optional(&mut *tx)
                .await?;
        return Ok(own.is_some());
    }
    audit::record(
        &mut tx,
        user,
        now,
        audit::Entry {
            customer_id: user.customer_id,
            action: "token.revoked",
            object_type: "api_token",
            object_id: id,
            before: None,
            after: Some(json!({"revoked_at": now})),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}
