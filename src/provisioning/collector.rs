//! The metering collector: samples what each namespace uses (its quota's
//! `status.used`) into `usage_samples`, for booked-against-measured.

use std::collections::HashMap;

use super::Provisioner;
use crate::{
    db::{Db, environments, metering},
    domain::{Lifecycle, Stage},
};

/// Samples every cluster once. The instant is rounded down to the
/// interval, so replicas sampling the same round write the same key and
/// the second write is ignored. Returns the number of samples written.
pub async fn collect(
    db: &Db,
    provisioner: &Provisioner,
    now: i64,
    every_seconds: i64,
) -> sqlx::Result<usize> {
    let at = now - now.rem_euclid(every_seconds.max(1));
    // An environment is known by its id *and* its namespace: another
    // installation on the same cluster numbers its environments too, so an
    // id alone may name someone else's quota.
    let known: HashMap<i64, String> = environments::specs(&db.pool, &Stage::ALL)
        .await?
        .into_iter()
        .filter(|spec| spec.lifecycle == Lifecycle::Aktiv)
        .map(|spec| (spec.id, spec.namespace()))
        .collect();
    let mut taken = 0;
    for target in provisioner.targets().iter().filter(|t| t.is_cluster()) {
        let usage = match target.usage().await {
            Ok(usage) => usage,
            Err(e) => {
                provisioner.report(db, target, Some(&e)).await;
                continue;
            }
        };
        // Quotas of environments this database does not know (another
        // installation on the same cluster) are not ours to record.
        let ours = usage
            .into_iter()
            .filter(|(id, namespace, _)| known.get(id) == Some(namespace));
        for (environment_id, _, used) in ours {
            if metering::record(&db.pool, environment_id, at, used).await? {
                taken += 1;
            }
        }
    }
    Ok(taken)
}
