//! What each provisioning target (a cluster or the manifest directory)
//! answered last, for the Betreiber's overview.

use sqlx::AnyPool;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TargetStatus {
    pub name: String,
    /// 1 when the last call got through.
    pub reachable: i64,
    /// Unix seconds of the change to this state.
    pub checked_at: i64,
    pub message: Option<String>,
}

/// Records a target's state; called when it changes, not on every call.
pub async fn record(
    pool: &AnyPool,
    name: &str,
    reachable: bool,
    message: Option<&str>,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO provisioning_targets (name, reachable, checked_at, message) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO UPDATE \
         SET reachable = excluded.reachable, checked_at = excluded.checked_at, \
         message = excluded.message",
    )
    .bind(name)
    .bind(i64::from(reachable))
    .bind(now)
    .bind(message)
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn all(pool: &AnyPool) -> sqlx::Result<Vec<TargetStatus>> {
    sqlx::query_as(
        "SELECT name, reachable, checked_at, message FROM provisioning_targets ORDER BY name",
    )
    .fetch_all(pool)
    .await
}
