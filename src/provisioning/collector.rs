//! The metering collector: samples what each namespace uses (its quota's
//! `status.used`) into `usage_samples`, for booked-against-measured.

use std::collections::HashSet;

use super::Provisioner;
use crate::db::{Db, metering};

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
    let known: HashSet<i64> = crate::db::environments::active_ids(&db.pool)
        .await?
        .into_iter()
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
        for (environment_id, used) in usage.into_iter().filter(|(id, _)| known.contains(id)) {
            if metering::record(&db.pool, environment_id, at, used).await? {
                taken += 1;
            }
        }
    }
    Ok(taken)
}
