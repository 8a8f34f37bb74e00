//! Once per schedule, not once per replica: time is cut into slots of the
//! job's interval, and the replica whose insert of `(job, slot)` succeeds
//! runs that slot. The primary key decides, in one statement, on SQLite and
//! PostgreSQL alike; there is no lease to renew and nothing to elect.

use super::Db;

/// Slots kept per job, for the Betreiber to see when a job last ran.
const KEEP_SLOTS: i64 = 500;

/// The slot of `now` for a job run every `every_secs` seconds.
pub fn slot(now: i64, every_secs: i64) -> i64 {
    now - now.rem_euclid(every_secs.max(1))
}

/// Whether this replica (`by`) runs `job` in the slot of `now`.
pub async fn claim(db: &Db, job: &str, every_secs: i64, now: i64, by: &str) -> sqlx::Result<bool> {
    let slot = slot(now, every_secs);
    let done = sqlx::query(
        "INSERT INTO job_runs (job, slot, claimed_by, claimed_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (job, slot) DO NOTHING",
    )
    .bind(job)
    .bind(slot)
    .bind(by)
    .bind(now)
    .execute(&db.pool)
    .await?;
    if done.rows_affected() == 1 {
        sqlx::query("DELETE FROM job_runs WHERE job = $1 AND slot < $2")
            .bind(job)
            .bind(slot - KEEP_SLOTS * every_secs.max(1))
            .execute(&db.pool)
            .await?;
        return Ok(true);
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_multiples_of_the_interval() {
        assert_eq!(slot(1_000, 300), 900);
        assert_eq!(slot(1_199, 300), 900);
        assert_eq!(slot(1_200, 300), 1_200);
        assert_eq!(slot(5, 0), 5, "an interval of 0 is treated as 1");
    }
}
