//! The reconciler: takes environments from the outbox, brings their
//! target to the desired state, and records the outcome. Idempotent: doing
//! a generation twice applies the same objects twice, which changes
//! nothing the second time.

use std::{sync::Arc, time::Duration};

use serde_json::json;
use tokio::{sync::Semaphore, task::JoinSet};

use super::{
    Provisioner,
    desired::{Kind, manifests},
    target::ProvisionError,
};
use crate::{
    app::notify,
    db::{self, Db, audit, environments, outbox},
    domain::Lifecycle,
};

#[derive(Debug, Clone)]
pub struct Options {
    /// Environments worked on at the same time.
    pub workers: usize,
    /// Look at the outbox at least this often.
    pub poll: Duration,
    pub lease: Duration,
    pub retry_base: Duration,
    pub retry_max: Duration,
}

pub use crate::jobs::retry_delay;

pub struct Reconciler {
    db: Db,
    provisioner: Arc<Provisioner>,
    /// This process's name on its claims.
    worker: String,
    options: Options,
    /// Set at shutdown: claim nothing more, finish what is claimed.
    stopping: tokio::sync::watch::Sender<bool>,
}

impl Reconciler {
    pub fn new(db: Db, provisioner: Arc<Provisioner>, options: Options) -> Reconciler {
        let worker = format!(
            "{}-{}",
            std::env::var("HOSTNAME").unwrap_or_else(|_| "kontor".into()),
            crate::secret::random_id(8)
        );
        Reconciler {
            db,
            provisioner,
            worker,
            options,
            stopping: tokio::sync::watch::Sender::new(false),
        }
    }

    /// Asks [`Reconciler::run`] to take no more claims and to return once
    /// the environments it is working on are done.
    pub fn stop(&self) {
        self.stopping.send_replace(true);
    }

    /// Works until [`Reconciler::stop`] (then finishes the claimed work and
    /// returns) or until the task is dropped (which drops the workers too).
    /// Each worker that finishes makes room for the next claim at once, so
    /// one slow environment never holds up the others; with nothing due it
    /// waits for a wake-up from this process or the next poll.
    pub async fn run(self: Arc<Self>) {
        let free = Arc::new(Semaphore::new(self.options.workers.max(1)));
        let mut running = JoinSet::new();
        let mut stopping = self.stopping.subscribe();
        loop {
            // Reap finished workers so the set does not grow.
            while running.try_join_next().is_some() {}
            if *stopping.borrow() {
                break;
            }
            let first = tokio::select! {
                permit = free.clone().acquire_owned() => match permit {
                    Ok(permit) => permit,
                    Err(_) => break,
                },
                _ = stopping.changed() => continue,
            };
            let room = 1 + free.available_permits();
            let claims = match outbox::claim(
                &self.db,
                &self.worker,
                i64::try_from(room).unwrap_or(1),
                db::now_ms(),
                i64::try_from(self.options.lease.as_millis()).unwrap_or(i64::MAX / 2),
            )
            .await
            {
                Ok(claims) => claims,
                Err(e) => {
                    tracing::warn!(error = %e, "reading the provisioning outbox failed");
                    Vec::new()
                }
            };
            if claims.is_empty() {
                drop(first);
                tokio::select! {
                    _ = self.db.provisioning_woken() => {}
                    _ = tokio::time::sleep(self.options.poll) => {}
                    _ = stopping.changed() => {}
                }
                continue;
            }
            let mut permit = Some(first);
            for claim in claims {
                // Only this loop takes permits, so the room it counted is
                // still there.
                let Some(held) = permit
                    .take()
                    .or_else(|| free.clone().try_acquire_owned().ok())
                else {
                    break;
                };
                let this = self.clone();
                running.spawn(async move {
                    if let Err(e) = this.handle(claim).await {
                        tracing::warn!(environment = claim.environment_id, error = %e,
                            "recording a reconciliation failed; the claim runs out and it is retried");
                    }
                    drop(held);
                });
            }
        }
        let working = running.len();
        if working > 0 {
            tracing::info!(
                environments = working,
                "finishing claimed provisioning work"
            );
        }
        while running.join_next().await.is_some() {}
    }

    async fn handle(&self, claim: outbox::Claim) -> sqlx::Result<()> {
        let outcome = self.reconcile(claim.environment_id, claim.full == 1).await;
        crate::metrics::reconciled(outcome.as_ref().err().map(|e| e.kind.as_str()));
        match outcome {
            Ok(()) => self.succeeded(claim).await,
            Err(e) => {
                let delay = retry_delay(
                    claim.attempts,
                    self.options.retry_base,
                    self.options.retry_max,
                );
                tracing::warn!(environment = claim.environment_id, kind = e.kind.as_str(),
                    attempts = claim.attempts + 1, retry_in_ms = delay.as_millis() as u64,
                    error = %e.message, "reconciliation failed");
                let now = db::now_ms();
                let mut tx = self.db.begin_write().await?;
                let recorded = outbox::fail(
                    &mut tx,
                    &self.worker,
                    claim,
                    e.kind.as_str(),
                    &e.message,
                    now,
                    now + i64::try_from(delay.as_millis()).unwrap_or(i64::MAX / 2),
                )
                .await?;
                // The first failure of a run is told; the retries are not.
                let told = recorded && claim.attempts == 0;
                if told {
                    self.notify(&mut tx, claim, false, &e.message).await?;
                }
                tx.commit().await?;
                if told {
                    self.db.wake_notifications();
                }
                Ok(())
            }
        }
    }

    /// Records that an environment's provisioning failed, or works again
    /// after failing (`recovered`), in the transaction that records it.
    async fn notify(
        &self,
        tx: &mut db::Tx,
        claim: outbox::Claim,
        recovered: bool,
        message: &str,
    ) -> sqlx::Result<()> {
        let Some(at) = environments::whereabouts(tx, claim.environment_id).await? else {
            return Ok(());
        };
        let namespace = at.namespace();
        let place = notify::Place {
            customer_id: at.customer_id,
            application_id: at.application_id,
            application_name: &at.application_name,
            stage: at.stage,
            namespace: &namespace,
        };
        let event = notify::provisioning(
            claim.environment_id,
            claim.generation,
            &place,
            recovered,
            message,
        );
        match notify::record(tx, db::now(), &event, self.db.email_enabled()).await {
            Ok(_) => Ok(()),
            Err(crate::app::Error::Database(e)) => Err(e),
            Err(e) => Err(sqlx::Error::Protocol(e.to_string())),
        }
    }

    /// Brings one environment's target to what the database says now: every
    /// object when `full`, else only the quota (all a booking change can
    /// alter; a resync puts back anything else that went missing).
    async fn reconcile(&self, environment_id: i64, full: bool) -> Result<(), ProvisionError> {
        let spec = environments::spec(&self.db.pool, environment_id)
            .await
            .map_err(|e| ProvisionError {
                kind: super::target::ErrorKind::Storage,
                message: format!("Datenbank nicht lesbar ({e})"),
            })?;
        let Some(spec) = spec else {
            return Ok(());
        };
        let target = self.provisioner.target_for(spec.stage);
        let outcome = match spec.lifecycle {
            Lifecycle::Aktiv => {
                let mut objects = manifests(&spec);
                // A manifest directory is rewritten whole: it compares each
                // file anyway, and a partial write would lose the others.
                if !full && target.is_cluster() {
                    objects.retain(|o| o.kind == Kind::ResourceQuota);
                }
                target.apply(&objects).await
            }
            Lifecycle::Aufgeloest => target.remove(&spec.namespace()).await,
            Lifecycle::Leer => Ok(()),
        };
        self.provisioner
            .report(&self.db, target, outcome.as_ref().err())
            .await;
        outcome
    }

    /// Records the generation as done and makes the bookings it carried
    /// `aktiv`, with an audit entry each, in one transaction.
    async fn succeeded(&self, claim: outbox::Claim) -> sqlx::Result<()> {
        let now = db::now();
        let mut tx = self.db.begin_write().await?;
        if !outbox::complete(&mut tx, &self.worker, claim, db::now_ms()).await? {
            // Someone took the claim over meanwhile; they record it.
            return Ok(());
        }
        let activated =
            db::bookings::activate_provisioned(&mut tx, claim.environment_id, claim.generation)
                .await?;
        for (id, customer_id) in activated {
            audit::record_system(
                &mut tx,
                now,
                audit::Entry {
                    customer_id: Some(customer_id),
                    action: "booking.provisioned",
                    object_type: "booking",
                    object_id: id,
                    before: Some(json!({"state": "beantragt"})),
                    after: Some(json!({"state": "aktiv"})),
                },
            )
            .await?;
        }
        let recovered = claim.attempts > 0;
        if recovered {
            self.notify(&mut tx, claim, true, "").await?;
        }
        tx.commit().await?;
        if recovered {
            self.db.wake_notifications();
        }
        Ok(())
    }

    /// Gives back this process's claims (at shutdown).
    pub async fn release(&self) -> sqlx::Result<u64> {
        outbox::release(&self.db.pool, &self.worker).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_within_the_ceiling() {
        let base = Duration::from_millis(100);
        let max = Duration::from_secs(10);
        for attempts in 0..40 {
            let full = (base * 2u32.saturating_pow(attempts.min(30) as u32)).min(max);
            let d = retry_delay(attempts, base, max);
            assert!(
                d >= full / 2 && d <= full,
                "attempt {attempts}: {d:?} vs {full:?}"
            );
        }
        assert!(retry_delay(0, base, max) <= base);
        assert!(retry_delay(100, base, max) >= max / 2);
    }
}
