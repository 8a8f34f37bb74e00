//! Measured use (Verbrauch): samples of each environment's used resources,
//! and booked against measured for a contract's month.

use std::collections::HashMap;

use sqlx::{AnyPool, Row as _};

use crate::domain::{
    Resources, Size, Stage,
    billing::Month,
    rightsizing::{self, Booked, Hint},
};

/// Records one sample; a second sample of the same instant is ignored
/// (returns false).
pub async fn record<'e, E>(
    executor: E,
    environment_id: i64,
    at: i64,
    used: Resources,
) -> sqlx::Result<bool>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let inserted = sqlx::query(
        "INSERT INTO usage_samples (environment_id, sampled_at, millicpu, memory_mib, storage_gib, pods) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (environment_id, sampled_at) DO NOTHING",
    )
    .bind(environment_id)
    .bind(at)
    .bind(used.millicpu)
    .bind(used.memory_mib)
    .bind(used.storage_gib)
    .bind(used.pods)
    .execute(executor)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

/// One environment's month: booked, peak and mean measured use, and the
/// smaller sizes that would have done.
#[derive(Debug, Clone)]
pub struct EnvironmentUsage {
    pub application_name: String,
    pub stage: Stage,
    pub samples: i64,
    pub booked: Resources,
    pub peak: Resources,
    pub mean: Resources,
    pub hints: Vec<Hint>,
}

fn resources(row: &sqlx::any::AnyRow, from: usize) -> sqlx::Result<Resources> {
    Ok(Resources {
        millicpu: row.try_get(from)?,
        memory_mib: row.try_get(from + 1)?,
        storage_gib: row.try_get(from + 2)?,
        pods: row.try_get(from + 3)?,
    })
}

/// Booked against measured for every environment of a contract with
/// samples in `month`. "Booked" is what was active at the end of the month
/// (or now, for the running month).
pub async fn month_usage(
    pool: &AnyPool,
    contract_id: i64,
    month: Month,
    now: i64,
) -> sqlx::Result<Vec<EnvironmentUsage>> {
    let measured = sqlx::query(
        "SELECT s.environment_id, a.name, e.stage, CAST(COUNT(*) AS BIGINT), \
           CAST(MAX(s.millicpu) AS BIGINT), CAST(MAX(s.memory_mib) AS BIGINT), \
           CAST(MAX(s.storage_gib) AS BIGINT), CAST(MAX(s.pods) AS BIGINT), \
           CAST(SUM(s.millicpu) AS BIGINT), CAST(SUM(s.memory_mib) AS BIGINT), \
           CAST(SUM(s.storage_gib) AS BIGINT), CAST(SUM(s.pods) AS BIGINT) \
         FROM usage_samples s \
         JOIN environments e ON e.id = s.environment_id \
         JOIN applications a ON a.id = e.application_id \
         WHERE a.contract_id = $1 AND s.sampled_at >= $2 AND s.sampled_at < $3 \
         GROUP BY s.environment_id, a.name, e.stage",
    )
    .bind(contract_id)
    .bind(month.start())
    .bind(month.end())
    .fetch_all(pool)
    .await?;
    if measured.is_empty() {
        return Ok(Vec::new());
    }
    let at = now.min(month.end() - 1);
    let booked_rows = sqlx::query(
        "SELECT b.environment_id, b.id, pr.name, b.product_id, p.size, \
           p.millicpu, p.memory_mib, p.storage_gib, p.pods \
         FROM booking_periods p \
         JOIN bookings b ON b.id = p.booking_id \
         JOIN products pr ON pr.id = b.product_id \
         WHERE b.contract_id = $1 AND p.starts_at <= $2 AND (p.ends_at IS NULL OR p.ends_at > $2)",
    )
    .bind(contract_id)
    .bind(at)
    .fetch_all(pool)
    .await?;
    let size_rows = sqlx::query(
        "SELECT product_id, size, millicpu, memory_mib, storage_gib, pods FROM product_sizes",
    )
    .fetch_all(pool)
    .await?;
    let mut sizes: HashMap<i64, Vec<(Size, Resources)>> = HashMap::new();
    for row in &size_rows {
        let size: Size = row.try_get(1)?;
        sizes
            .entry(row.try_get(0)?)
            .or_default()
            .push((size, resources(row, 2)?));
    }
    for v in sizes.values_mut() {
        v.sort_by_key(|(s, _)| *s);
    }
    let mut booked: HashMap<i64, Vec<Booked>> = HashMap::new();
    for row in &booked_rows {
        let size: Size = row.try_get(4)?;
        let product_id: i64 = row.try_get(3)?;
        booked.entry(row.try_get(0)?).or_default().push(Booked {
            booking_id: row.try_get(1)?,
            product_name: row.try_get(2)?,
            size,
            resources: resources(row, 5)?,
            sizes: sizes.get(&product_id).cloned().unwrap_or_default(),
        });
    }
    let mut out = Vec::with_capacity(measured.len());
    for row in &measured {
        let environment_id: i64 = row.try_get(0)?;
        let stage: Stage = row.try_get(2)?;
        let samples: i64 = row.try_get(3)?;
        let peak = resources(row, 4)?;
        let sum = resources(row, 8)?;
        let n = samples.max(1);
        let items = booked.remove(&environment_id).unwrap_or_default();
        out.push(EnvironmentUsage {
            application_name: row.try_get(1)?,
            stage,
            samples,
            booked: items
                .iter()
                .fold(Resources::default(), |acc, b| acc + b.resources),
            peak,
            mean: Resources {
                millicpu: sum.millicpu / n,
                memory_mib: sum.memory_mib / n,
                storage_gib: sum.storage_gib / n,
                pods: sum.pods / n,
            },
            hints: rightsizing::hints(&items, peak),
        });
    }
    out.sort_by(|a, b| (&a.application_name, a.stage).cmp(&(&b.application_name, b.stage)));
    Ok(out)
}
