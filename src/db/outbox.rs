//! The provisioning outbox: which environments the clusters have not caught
//! up with yet. Every change of an environment's desired state enqueues it in
//! the same transaction as the change, so a change is never lost and never
//! provisioned before it is committed. Reconcilers on any number of replicas
//! claim rows with a lease; `FOR UPDATE SKIP LOCKED` on PostgreSQL keeps two
//! of them from claiming the same row, SQLite has one writer anyway.

use sqlx::AnyPool;

use super::{Backend, Db, Tx};
use crate::domain::Stage;

/// What a change needs applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every object: a new or revived environment, a dissolution, drift.
    Full,
    /// Only what bookings decide (the quota): a booking, resize or
    /// cancellation in an environment that is set up.
    Quota,
}

/// Marks an environment's desired state as changed; returns the generation
/// that carries the change. Due times are wall-clock milliseconds, whatever
/// business time the change was made at. The row becomes due at once (also
/// when a retry was scheduled later: someone is waiting for this change),
/// but keeps its attempt count, so a broken cluster still sees the backoff
/// grow. A new row always needs everything applied.
pub async fn enqueue(tx: &mut Tx, environment_id: i64, scope: Scope) -> sqlx::Result<i64> {
    let (generation,): (i64,) = sqlx::query_as(
        "INSERT INTO provisioning_outbox (environment_id, generation, full_generation, due_at_ms) \
         VALUES ($1, 1, 1, $2) \
         ON CONFLICT (environment_id) DO UPDATE \
         SET generation = provisioning_outbox.generation + 1, due_at_ms = excluded.due_at_ms, \
         full_generation = CASE WHEN $3 = 1 THEN provisioning_outbox.generation + 1 \
           ELSE provisioning_outbox.full_generation END \
         RETURNING generation",
    )
    .bind(environment_id)
    .bind(super::now_ms())
    .bind(i64::from(scope == Scope::Full))
    .fetch_one(&mut **tx)
    .await?;
    Ok(generation)
}

/// Work a reconciler holds: the environment and the generation it is to
/// bring about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct Claim {
    pub environment_id: i64,
    pub generation: i64,
    pub attempts: i64,
    /// 1 when every object must be applied, 0 when the quota is enough.
    pub full: i64,
}

/// Claims up to `limit` due rows for `worker` until `now_ms + lease_ms`.
/// A claim whose lease ran out (its process died) is free again.
pub async fn claim(
    db: &Db,
    worker: &str,
    limit: i64,
    now_ms: i64,
    lease_ms: i64,
) -> sqlx::Result<Vec<Claim>> {
    let lock = match db.backend {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let sql = format!(
        "UPDATE provisioning_outbox SET claimed_by = $1, claimed_until_ms = $2 \
         WHERE environment_id IN (SELECT environment_id FROM provisioning_outbox \
           WHERE generation > done_generation AND due_at_ms <= $3 \
           AND (claimed_until_ms IS NULL OR claimed_until_ms < $3) \
           ORDER BY due_at_ms LIMIT {limit}{lock}) \
         RETURNING environment_id, generation, attempts, \
         CAST(CASE WHEN full_generation > done_generation THEN 1 ELSE 0 END AS BIGINT) AS full",
        limit = limit.max(1),
    );
    sqlx::query_as(super::sql(sql))
        .bind(worker)
        .bind(now_ms + lease_ms)
        .bind(now_ms)
        .fetch_all(&db.pool)
        .await
}

/// Records that `claim.generation` is in the cluster. Returns false when
/// the claim had been lost (lease expired and taken over): then nothing is
/// recorded and the bookings stay as they are.
pub async fn complete(tx: &mut Tx, worker: &str, claim: Claim, now_ms: i64) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE provisioning_outbox SET done_generation = $1, attempts = 0, last_error = NULL, \
         last_error_kind = NULL, claimed_by = NULL, claimed_until_ms = NULL, \
         done_at_ms = $2, last_attempt_ms = $2 \
         WHERE environment_id = $3 AND claimed_by = $4 AND done_generation < $1",
    )
    .bind(claim.generation)
    .bind(now_ms)
    .bind(claim.environment_id)
    .bind(worker)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records a failed attempt and when to try again; false when the claim
/// had been lost.
pub async fn fail(
    tx: &mut Tx,
    worker: &str,
    claim: Claim,
    kind: &str,
    message: &str,
    now_ms: i64,
    retry_at_ms: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE provisioning_outbox SET attempts = attempts + 1, due_at_ms = $1, last_error = $2, \
         last_error_kind = $3, last_attempt_ms = $4, claimed_by = NULL, claimed_until_ms = NULL \
         WHERE environment_id = $5 AND claimed_by = $6",
    )
    .bind(retry_at_ms)
    .bind(message)
    .bind(kind)
    .bind(now_ms)
    .bind(claim.environment_id)
    .bind(worker)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Gives back every claim of `worker` (at shutdown), so another replica
/// need not wait for the leases to run out.
pub async fn release(pool: &AnyPool, worker: &str) -> sqlx::Result<u64> {
    let r = sqlx::query(
        "UPDATE provisioning_outbox SET claimed_by = NULL, claimed_until_ms = NULL \
         WHERE claimed_by = $1",
    )
    .bind(worker)
    .execute(pool)
    .await?;
    Ok(r.rows_affected())
}

/// Enqueues environments a resync found different from the cluster.
pub async fn enqueue_all(db: &Db, environment_ids: &[i64]) -> sqlx::Result<()> {
    // Bounded transactions: a resync of thousands of environments must not
    // hold the write lock (SQLite) for all of them at once.
    for chunk in environment_ids.chunks(500) {
        let mut tx = db.begin_write().await?;
        for id in chunk {
            enqueue(&mut tx, *id, Scope::Full).await?;
        }
        tx.commit().await?;
    }
    Ok(())
}

/// Counts of the queue, for the Betreiber and for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct Depth {
    /// Environments waiting for the reconciler.
    pub pending: i64,
    /// Of those, the ones whose last attempt failed.
    pub failing: i64,
}

pub async fn depth(pool: &AnyPool) -> sqlx::Result<Depth> {
    sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT) AS pending, \
         CAST(COALESCE(SUM(CASE WHEN last_error IS NULL THEN 0 ELSE 1 END), 0) AS BIGINT) AS failing \
         FROM provisioning_outbox WHERE generation > done_generation",
    )
    .fetch_one(pool)
    .await
}

/// The environments waiting for the reconciler.
pub async fn pending_ids(pool: &AnyPool) -> sqlx::Result<Vec<i64>> {
    let rows: Vec<(i64,)> = sqlx::query_as(
        "SELECT environment_id FROM provisioning_outbox WHERE generation > done_generation",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// One waiting environment, as the Betreiber sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Pending {
    pub environment_id: i64,
    pub customer_name: String,
    pub application_name: String,
    pub stage: Stage,
    pub namespace_customer: String,
    pub namespace_application: String,
    pub attempts: i64,
    pub due_at_ms: i64,
    /// 1 while a reconciler works on it.
    pub claimed: i64,
    pub last_error: Option<String>,
}

/// The oldest waiting environments, at most `limit`.
pub async fn pending(pool: &AnyPool, limit: i64) -> sqlx::Result<Vec<Pending>> {
    sqlx::query_as(super::sql(format!(
        "SELECT o.environment_id, c.name AS customer_name, a.name AS application_name, e.stage, \
         c.slug AS namespace_customer, a.slug AS namespace_application, o.attempts, o.due_at_ms, \
         CAST(CASE WHEN o.claimed_by IS NULL THEN 0 ELSE 1 END AS BIGINT) AS claimed, o.last_error \
         FROM provisioning_outbox o JOIN environments e ON e.id = o.environment_id \
         JOIN applications a ON a.id = e.application_id JOIN customers c ON c.id = a.customer_id \
         WHERE o.generation > o.done_generation ORDER BY o.due_at_ms, o.environment_id LIMIT {}",
        limit.clamp(1, 1000)
    )))
    .fetch_all(pool)
    .await
}
