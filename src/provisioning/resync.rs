//! The resync: compares every target with the database and enqueues the
//! environments that differ, so the reconciler (which holds the claim and
//! reads the newest state) puts them right. It only reads from the targets:
//! when nothing differs it makes no write call and no database write.

use std::collections::HashSet;

use super::{
    Provisioner,
    desired::{Kind, covered_by, manifests},
};
use crate::{
    db::{Db, environments, outbox},
    domain::Lifecycle,
};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Environments compared.
    pub checked: usize,
    /// Of those, the ones enqueued because they differ.
    pub drifted: Vec<i64>,
    /// Targets that could not be read.
    pub unreachable: Vec<String>,
}

/// An object on its way out counts as gone: it will be.
fn terminating(live: &serde_json::Value) -> bool {
    live.pointer("/metadata/deletionTimestamp")
        .is_some_and(|t| !t.is_null())
}

pub async fn resync(db: &Db, provisioner: &Provisioner) -> sqlx::Result<Report> {
    let mut report = Report::default();
    let pending: HashSet<i64> = outbox::pending_ids(&db.pool).await?.into_iter().collect();
    for target in provisioner.targets() {
        let live = match target.observe().await {
            Ok(live) => live,
            Err(e) => {
                provisioner.report(db, target, Some(&e)).await;
                report.unreachable.push(target.name.clone());
                continue;
            }
        };
        provisioner.report(db, target, None).await;
        let specs = environments::specs(&db.pool, &provisioner.stages_of(&target.name)).await?;
        for spec in specs {
            report.checked += 1;
            let differs = match spec.lifecycle {
                Lifecycle::Aktiv => manifests(&spec).iter().any(|m| {
                    !live
                        .get(&m.key())
                        .is_some_and(|l| covered_by(&m.body, l) && !terminating(l))
                }),
                Lifecycle::Aufgeloest => {
                    live.contains_key(&(Kind::Namespace, String::new(), spec.namespace()))
                }
                Lifecycle::Leer => false,
            };
            // Environments already waiting are the reconciler's anyway.
            if differs && !pending.contains(&spec.id) {
                report.drifted.push(spec.id);
            }
        }
    }
    if !report.drifted.is_empty() {
        tracing::info!(
            environments = report.drifted.len(),
            "resync found drift; reconciling"
        );
        outbox::enqueue_all(db, &report.drifted).await?;
        db.wake_provisioning();
    }
    Ok(report)
}
