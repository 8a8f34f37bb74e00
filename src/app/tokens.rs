//! A person's own portal API tokens: listed, created and revoked on the
//! page "API-Tokens" (and by `kontor token create`). Only the hash of a
//! token is stored (`auth::tokens`); its secret is answered once.

use serde_json::json;

use super::{Change, Result};
use crate::{
    auth::tokens,
    db::{self, Db, api_tokens::TokenRow, audit},
    domain::{actor::CurrentUser, text::Text},
};

/// The person's tokens, newest first.
pub async fn list(db: &Db, user: &CurrentUser) -> Result<Vec<TokenRow>> {
    Ok(db::api_tokens::list(&db.pool, user.id).await?)
}

/// Creates a token for `user` and answers its secret, to be shown once.
pub async fn create(
    db: &Db,
    user: &CurrentUser,
    name: &Text,
    expires_at: Option<i64>,
    now: i64,
) -> Result<String> {
    let token = tokens::generate();
    let mut change = Change::begin(db, user, now).await?;
    let id = db::api_tokens::insert(
        change.tx(),
        user.id,
        name.as_str(),
        &token.hash,
        now,
        expires_at,
    )
    .await?;
    change
        .audit(audit::Entry {
            customer_id: user.customer_id,
            action: "token.created",
            object_type: "api_token",
            object_id: id,
            before: None,
            after: Some(json!({"name": name, "expires_at": expires_at})),
        })
        .await?;
    change.commit().await?;
    Ok(token.secret)
}

/// Revokes one of `user`'s own tokens; `false` when there is no such token
/// of theirs (another user's id looks the same as a missing one).
pub async fn revoke(db: &Db, user: &CurrentUser, id: i64, now: i64) -> Result<bool> {
    let mut change = Change::begin(db, user, now).await?;
    if !db::api_tokens::set_revoked(change.tx(), id, user.id, now).await? {
        // Already revoked is fine (a second click); someone else's is not.
        return Ok(db::api_tokens::is_own(change.conn(), id, user.id).await?);
    }
    change
        .audit(audit::Entry {
            customer_id: user.customer_id,
            action: "token.revoked",
            object_type: "api_token",
            object_id: id,
            before: None,
            after: Some(json!({"revoked_at": now})),
        })
        .await?;
    change.commit().await?;
    Ok(true)
}
