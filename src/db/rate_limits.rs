//! Rate-limit counters shared by all replicas: one row per bucket and
//! minute window.

use sqlx::AnyPool;

/// Counts one hit in `bucket`'s window starting at `window_start`; the hits
/// of the window so far.
pub async fn hit(pool: &AnyPool, bucket: &str, window_start: i64) -> sqlx::Result<i64> {
    let (hits,): (i64,) = sqlx::query_as(
        "INSERT INTO rate_limits (bucket, window_start, hits) VALUES ($1, $2, 1) \
         ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_limits.hits + 1 \
         RETURNING hits",
    )
    .bind(bucket)
    .bind(window_start)
    .fetch_one(pool)
    .await?;
    Ok(hits)
}

/// Removes the counters of windows that started before `before`.
pub async fn prune(pool: &AnyPool, before: i64) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM rate_limits WHERE window_start < $1")
        .bind(before)
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}
