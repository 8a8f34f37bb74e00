//! Scheduled jobs of a serving process.
//!
//! Every replica runs them; what makes that safe is the database, not an
//! election: closing a month inserts each statement under a unique key, so a
//! month is closed exactly once however many replicas try at the same moment.

use std::time::Duration;

use crate::db::{self, Db, statements};

/// Closes finished billing months now and then every `every`.
pub fn spawn_billing_close(db: Db, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let started = std::time::Instant::now();
            let outcome = statements::close_due(&db, db::now()).await;
            crate::metrics::billing_run(started.elapsed().as_secs_f64());
            match outcome {
                Ok(r) if r.closed > 0 => tracing::info!(
                    statements = r.closed,
                    lines = r.lines,
                    "closed finished billing months"
                ),
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "closing billing months failed; retrying later")
                }
            }
            tokio::time::sleep(every).await;
        }
    })
}

/// Clears rate-limit counters of long-past windows every ten minutes. Any
/// replica may do it; deleting what is already gone changes nothing.
pub fn spawn_rate_limit_prune(db: Db) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let limiter = crate::ratelimit::RateLimiter::new(db.pool.clone());
        loop {
            tokio::time::sleep(Duration::from_secs(600)).await;
            if let Err(e) = limiter.prune(db::now()).await {
                tracing::warn!(error = %e, "pruning rate-limit counters failed");
            }
        }
    })
}
