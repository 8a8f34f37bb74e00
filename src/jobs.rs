//! Scheduled jobs of a serving process.
//!
//! Every replica schedules them, and each slot of a job's interval runs on
//! exactly one replica: the one whose claim of the slot in `job_runs` went
//! in first ([`db::schedule`]). The jobs are idempotent besides (a month is
//! closed under a unique key, samples are keyed by their instant), so even a
//! slot run twice by hand would change nothing.

use std::{future::Future, time::Duration};

use crate::db::{self, Db};

/// Runs `job` once per slot of `every`, on whichever replica claims the
/// slot: first in the slot the process starts in (unless another replica
/// ran it already), then at each slot boundary.
pub fn spawn_scheduled<F, Fut>(
    db: Db,
    name: &'static str,
    every: Duration,
    mut job: F,
) -> tokio::task::JoinHandle<()>
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let every_secs = i64::try_from(every.as_secs().max(1)).unwrap_or(i64::MAX);
    let me = format!(
        "{}-{}",
        std::env::var("HOSTNAME").unwrap_or_else(|_| "kontor".into()),
        crate::secret::random_id(8)
    );
    tokio::spawn(async move {
        loop {
            let now = db::now();
            match db::schedule::claim(&db, name, every_secs, now, &me).await {
                Ok(true) => {
                    crate::metrics::job_run(name);
                    job().await
                }
                Ok(false) => tracing::debug!(job = name, "slot already run by another replica"),
                Err(e) => tracing::warn!(job = name, error = %e, "claiming a job slot failed"),
            }
            let next = db::schedule::slot(db::now(), every_secs) + every_secs;
            let wait = u64::try_from(next - db::now()).unwrap_or(0);
            // A little past the boundary, so clocks a few ms apart agree on
            // the slot.
            tokio::time::sleep(Duration::from_secs(wait) + Duration::from_millis(50)).await;
        }
    })
}

/// Delay before attempt `attempts + 1`: doubling from `base` up to `max`,
/// and then a random point in its upper half ("equal jitter"), so that the
/// environments of a cluster that was down do not all come back at once.
pub fn retry_delay(attempts: i64, base: Duration, max: Duration) -> Duration {
    let exponent = u32::try_from(attempts.clamp(0, 30)).unwrap_or(30);
    let full = base
        .checked_mul(2u32.saturating_pow(exponent))
        .unwrap_or(max)
        .min(max);
    let half = full / 2;
    half + half.mul_f64(rand::random::<f64>())
}

/// Clears rate-limit counters of long-past windows every ten minutes.
pub fn spawn_rate_limit_prune(db: Db) -> tokio::task::JoinHandle<()> {
    let job_db = db.clone();
    spawn_scheduled(
        db,
        "rate-limit-prune",
        Duration::from_secs(600),
        move || {
            let limiter = crate::ratelimit::RateLimiter::new(job_db.pool.clone());
            async move {
                if let Err(e) = limiter.prune(db::now()).await {
                    tracing::warn!(error = %e, "pruning rate-limit counters failed");
                }
            }
        },
    )
}

/// Deletes sessions past their expiry (logged out by idleness, or never
/// logged in) once per `every` across all replicas, so the table holds only
/// sessions that can still be used.
pub fn spawn_session_prune(db: Db, every: Duration) -> tokio::task::JoinHandle<()> {
    let job_db = db.clone();
    spawn_scheduled(db, "session-prune", every, move || {
        let db = job_db.clone();
        async move {
            match db::sessions::delete_expired(&db.pool, db::now()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(sessions = n, "deleted expired sessions"),
                Err(e) => tracing::warn!(error = %e, "deleting expired sessions failed"),
            }
        }
    })
}
