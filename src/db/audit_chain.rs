//! The hash chain's bookkeeping: its head (one row, the lock every writer
//! of audit entries takes), the chaining of entries written before the
//! chain existed, the retention checkpoint, and the record of each
//! verification.

use sqlx::{AnyConnection, AnyPool};

use super::{
    Tx,
    audit::{AuditRow, COLUMNS},
};
use crate::domain::audit::chain;

/// The chain's row.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Head {
    /// Position and hash of the newest entry (0 and the genesis hash for an
    /// empty chain).
    pub head_seq: i64,
    pub head_hash: String,
    /// Position and hash of the last entry retention deleted (0 and the
    /// genesis hash while nothing was deleted): the first entry kept must
    /// follow it.
    pub checkpoint_seq: i64,
    pub checkpoint_hash: String,
    pub checkpoint_at: Option<i64>,
    /// Entries up to this id were written before the chain existed and are
    /// chained once by this version (0 when there are none left).
    pub seal_until: i64,
}

const HEAD: &str = "SELECT head_seq, head_hash, checkpoint_seq, checkpoint_hash, checkpoint_at, \
    seal_until FROM audit_chain WHERE id = 1";

/// Reads the head under its lock, for appending or moving the checkpoint.
/// On PostgreSQL `FOR UPDATE` makes every other writer of audit entries
/// wait here until this transaction ends; on SQLite the write transaction
/// (`BEGIN IMMEDIATE`) holds the database's one write lock already.
pub async fn lock(tx: &mut Tx) -> sqlx::Result<Head> {
    let sql = if tx.backend_name().eq_ignore_ascii_case("PostgreSQL") {
        "SELECT head_seq, head_hash, checkpoint_seq, checkpoint_hash, checkpoint_at, seal_until \
         FROM audit_chain WHERE id = 1 FOR UPDATE"
    } else {
        HEAD
    };
    sqlx::query_as(sql).fetch_one(&mut **tx).await
}

/// Reads the head without a lock.
pub async fn head(conn: &mut AnyConnection) -> sqlx::Result<Head> {
    sqlx::query_as(HEAD).fetch_one(conn).await
}

pub async fn set_head(tx: &mut Tx, seq: i64, hash: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE audit_chain SET head_seq = $1, head_hash = $2 WHERE id = 1")
        .bind(seq)
        .bind(hash)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Entries sealed per query while chaining the backlog.
const SEAL_BATCH: i64 = 5_000;

/// Chains the entries written before the chain existed (ids up to
/// `seal_until`), oldest first, at the head; then there are none left.
/// Runs under the chain's lock, so nothing is appended in between.
pub async fn seal_backlog(tx: &mut Tx, head: &mut Head) -> sqlx::Result<u64> {
    let mut sealed = 0;
    let mut after_id = 0;
    loop {
        let rows: Vec<AuditRow> = sqlx::query_as(super::sql(format!(
            "{COLUMNS} WHERE l.chain_seq IS NULL AND l.id > $1 AND l.id <= $2 \
             ORDER BY l.id LIMIT {SEAL_BATCH}"
        )))
        .bind(after_id)
        .bind(head.seal_until)
        .fetch_all(&mut **tx)
        .await?;
        let Some(last) = rows.last() else { break };
        after_id = last.id;
        for row in &rows {
            let seq = head.head_seq + 1;
            let hash = chain::entry_hash(seq, &head.head_hash, &row.content());
            sqlx::query(
                "UPDATE audit_log SET chain_seq = $1, prev_hash = $2, entry_hash = $3 WHERE id = $4",
            )
            .bind(seq)
            .bind(&head.head_hash)
            .bind(&hash)
            .bind(row.id)
            .execute(&mut **tx)
            .await?;
            head.head_seq = seq;
            head.head_hash = hash;
            sealed += 1;
        }
    }
    sqlx::query(
        "UPDATE audit_chain SET head_seq = $1, head_hash = $2, seal_until = 0 WHERE id = 1",
    )
    .bind(head.head_seq)
    .bind(&head.head_hash)
    .execute(&mut **tx)
    .await?;
    head.seal_until = 0;
    Ok(sealed)
}

/// Up to `limit` chained entries after position `after_seq`, in chain
/// order (what retention looks at next).
pub async fn next_entries(tx: &mut Tx, after_seq: i64, limit: i64) -> sqlx::Result<Vec<AuditRow>> {
    sqlx::query_as(super::sql(format!(
        "{COLUMNS} WHERE l.chain_seq > $1 ORDER BY l.chain_seq LIMIT {}",
        limit.clamp(1, 100_000)
    )))
    .bind(after_seq)
    .fetch_all(&mut **tx)
    .await
}

/// Moves the checkpoint to the entry at `seq` with `hash` and deletes the
/// entries from `after_seq` (exclusive) up to it: the triggers let exactly
/// these go. Returns how many were deleted.
pub async fn delete_through(
    tx: &mut Tx,
    after_seq: i64,
    seq: i64,
    hash: &str,
    now: i64,
) -> sqlx::Result<u64> {
    sqlx::query(
        "UPDATE audit_chain SET checkpoint_seq = $1, checkpoint_hash = $2, checkpoint_at = $3 \
         WHERE id = 1",
    )
    .bind(seq)
    .bind(hash)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    let done = sqlx::query("DELETE FROM audit_log WHERE chain_seq > $1 AND chain_seq <= $2")
        .bind(after_seq)
        .bind(seq)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected())
}

/// One walk along the chain and what it found.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Verification {
    pub started_at: i64,
    pub finished_at: i64,
    /// Who ran it: `kontor audit verify`, the schedule, or a person.
    pub by_whom: String,
    /// 1 when the chain was intact, else 0.
    pub intact: i64,
    /// Entries walked.
    pub entries: i64,
    /// The head the walk ended at (the last entry it checked).
    pub head_seq: i64,
    pub head_hash: String,
    /// The first entry found altered, deleted (its successor) or inserted.
    pub problem_audit_id: Option<i64>,
    pub problem: Option<String>,
}

/// Verifications kept; older ones are removed as new ones come.
const KEEP_VERIFICATIONS: i64 = 1_000;

pub async fn record_verification(pool: &AnyPool, v: &Verification) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO audit_verifications (started_at, finished_at, by_whom, intact, entries, \
         head_seq, head_hash, problem_audit_id, problem) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(v.started_at)
    .bind(v.finished_at)
    .bind(&v.by_whom)
    .bind(v.intact)
    .bind(v.entries)
    .bind(v.head_seq)
    .bind(&v.head_hash)
    .bind(v.problem_audit_id)
    .bind(v.problem.as_deref())
    .execute(pool)
    .await?;
    sqlx::query(
        "DELETE FROM audit_verifications WHERE id <= \
         (SELECT MAX(id) FROM audit_verifications) - $1",
    )
    .bind(KEEP_VERIFICATIONS)
    .execute(pool)
    .await?;
    Ok(())
}

const VERIFICATION: &str = "SELECT started_at, finished_at, by_whom, intact, entries, head_seq, \
    head_hash, problem_audit_id, problem FROM audit_verifications";

/// The newest verification.
pub async fn latest_verification(conn: &mut AnyConnection) -> sqlx::Result<Option<Verification>> {
    sqlx::query_as(super::sql(format!(
        "{VERIFICATION} ORDER BY id DESC LIMIT 1"
    )))
    .fetch_optional(conn)
    .await
}

/// The newest verification that found the chain intact: the anchor the
/// next one checks against (an entry once verified keeps its hash).
pub async fn latest_intact(conn: &mut AnyConnection) -> sqlx::Result<Option<Verification>> {
    sqlx::query_as(super::sql(format!(
        "{VERIFICATION} WHERE intact = 1 ORDER BY id DESC LIMIT 1"
    )))
    .fetch_optional(conn)
    .await
}

/// The hash of the entry at `seq`, if it is there.
pub async fn hash_at(
    conn: &mut AnyConnection,
    seq: i64,
) -> sqlx::Result<Option<(i64, Option<String>)>> {
    sqlx::query_as("SELECT id, entry_hash FROM audit_log WHERE chain_seq = $1")
        .bind(seq)
        .fetch_optional(conn)
        .await
}

#[cfg(feature = "bench-seed")]
static UNCHAINED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether appended entries are chained: always, except in the benchmark
/// that measures what the chain costs (`bench-seed` builds only).
pub fn chaining() -> bool {
    #[cfg(feature = "bench-seed")]
    {
        !UNCHAINED.load(std::sync::atomic::Ordering::Relaxed)
    }
    #[cfg(not(feature = "bench-seed"))]
    {
        true
    }
}

/// Switches chaining off in this process, for the benchmark's run without
/// the chain: entries are then appended as before the chain existed (no
/// lock, no hash).
#[cfg(feature = "bench-seed")]
pub fn bench_without_chain(off: bool) {
    UNCHAINED.store(off, std::sync::atomic::Ordering::Relaxed);
}
