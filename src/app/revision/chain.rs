//! The Revision's hash chain: walking it to find the first entry altered,
//! deleted or inserted behind Kontor's back (`verify`), deleting entries
//! past the retention period behind a checkpoint (`prune`), and chaining
//! the entries written before the chain existed (`seal_backlog`).

use futures_util::TryStreamExt as _;
use serde_json::json;

use super::{Error, Result};
use crate::{
    db::{
        self, Backend, Db,
        audit::{self, AuditRow, Entry, Pending},
        audit_chain::{self, Head, Verification},
    },
    domain::{
        actor::CurrentUser,
        audit::chain::{GENESIS, entry_hash},
        calendar::berlin_date,
        policy,
    },
    i18n::{Arg, Lang, t, t_with},
};

/// What is wrong with the chain, at the first place it is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// An entry's content no longer matches its hash, or it no longer
    /// matches the entry after it (changed and hashed anew).
    Altered { id: i64, detail: Detail },
    /// Entries are missing at these positions: `ids` when they can be
    /// told (the neighbours' ids leave exactly that gap), else the entry
    /// after the gap (`next`).
    Deleted {
        positions: (i64, i64),
        ids: Option<(i64, i64)>,
        previous: Option<i64>,
        next: Option<i64>,
    },
    /// An entry that Kontor did not put into the chain.
    Inserted { id: i64, detail: Detail },
}

/// How an entry gives away that it was altered or inserted; kept as what
/// was found, so that the message can be written in any language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Detail {
    HashMissing,
    ContentChanged,
    /// The entry after it (this id) points to another hash.
    NextPointsElsewhere(i64),
    NotAtCheckpoint,
    BeyondHead {
        at: i64,
        head: i64,
    },
    /// Its hash is not the one a verification finished at this instant saw.
    Recomputed(i64),
    NotInChain,
    HeadDiffers,
}

impl Detail {
    fn text(&self, lang: Lang) -> String {
        let n = |v: i64| Arg::from(v.to_string());
        match self {
            Detail::HashMissing => lang.t("audit-chain-hash-missing"),
            Detail::ContentChanged => lang.t("audit-chain-content-changed"),
            Detail::NextPointsElsewhere(next) => {
                lang.t_with("audit-chain-next-points-elsewhere", &[("next", n(*next))])
            }
            Detail::NotAtCheckpoint => lang.t("audit-chain-not-at-checkpoint"),
            Detail::BeyondHead { at, head } => lang.t_with(
                "audit-chain-beyond-head",
                &[("at", n(*at)), ("head", n(*head))],
            ),
            Detail::Recomputed(at) => {
                let at = crate::domain::audit::instant_in(lang, *at);
                lang.t_with("audit-chain-recomputed", &[("at", at.into())])
            }
            Detail::NotInChain => lang.t("audit-chain-not-in-chain"),
            Detail::HeadDiffers => lang.t("audit-chain-head-differs"),
        }
    }
}

impl Problem {
    /// The entry to name: the altered or inserted one, the (first) deleted
    /// one when it can be told, else the one after the gap.
    pub fn audit_id(&self) -> Option<i64> {
        match self {
            Problem::Altered { id, .. } | Problem::Inserted { id, .. } => Some(*id),
            Problem::Deleted {
                ids,
                next,
                previous,
                ..
            } => ids.map(|(first, _)| first).or(*next).or(*previous),
        }
    }

    /// The problem in the request's language (German outside of one),
    /// naming the entry.
    pub fn message(&self) -> String {
        self.message_in(Lang::current())
    }

    /// The problem in `lang`.
    pub fn message_in(&self, lang: Lang) -> String {
        // Ids and positions are names, written as they are, not as amounts.
        let n = |v: i64| Arg::from(v.to_string());
        match self {
            Problem::Altered { id, detail } => lang.t_with(
                "audit-chain-altered",
                &[("id", n(*id)), ("detail", detail.text(lang).into())],
            ),
            Problem::Inserted { id, detail } => lang.t_with(
                "audit-chain-inserted",
                &[("id", n(*id)), ("detail", detail.text(lang).into())],
            ),
            Problem::Deleted {
                positions: (from, to),
                ids,
                previous,
                next,
            } => {
                let which = match ids {
                    Some((a, b)) if a == b => {
                        lang.t_with("audit-chain-deleted-entry", &[("id", n(*a))])
                    }
                    Some((a, b)) => lang.t_with(
                        "audit-chain-deleted-entries",
                        &[("first", n(*a)), ("last", n(*b))],
                    ),
                    None if from == to => {
                        lang.t_with("audit-chain-deleted-position", &[("from", n(*from))])
                    }
                    None => lang.t_with(
                        "audit-chain-deleted-positions",
                        &[("from", n(*from)), ("to", n(*to))],
                    ),
                };
                let around = match (previous, next) {
                    (Some(p), Some(n_)) => Some(lang.t_with(
                        "audit-chain-between",
                        &[("previous", n(*p)), ("next", n(*n_))],
                    )),
                    (None, Some(n_)) => {
                        Some(lang.t_with("audit-chain-before", &[("next", n(*n_))]))
                    }
                    (Some(p), None) => {
                        Some(lang.t_with("audit-chain-after", &[("previous", n(*p))]))
                    }
                    (None, None) => None,
                };
                let which = match around {
                    Some(around) => format!("{which} ({around})"),
                    None => which,
                };
                lang.t_with(
                    "audit-chain-deleted",
                    &[("which", which.into()), ("from", n(*from)), ("to", n(*to))],
                )
            }
        }
    }
}

/// The outcome of a walk along the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Entries checked.
    pub entries: i64,
    /// Position and hash of the last entry checked.
    pub head_seq: i64,
    pub head_hash: String,
    pub problem: Option<Problem>,
}

impl Verdict {
    pub fn intact(&self) -> bool {
        self.problem.is_none()
    }
}

/// Whether `row` is the intact successor of the entry with `prev_hash` at
/// position `seq - 1`: its hash matches its content, and it points back.
/// `None` when it is.
fn check(row: &AuditRow, seq: i64, prev_hash: &str, previous: Option<i64>) -> Option<Problem> {
    let (Some(stored_prev), Some(stored)) = (&row.prev_hash, &row.entry_hash) else {
        return Some(Problem::Altered {
            id: row.id,
            detail: Detail::HashMissing,
        });
    };
    if entry_hash(seq, stored_prev, &row.content()) != *stored {
        return Some(Problem::Altered {
            id: row.id,
            detail: Detail::ContentChanged,
        });
    }
    if stored_prev != prev_hash {
        // This entry is intact in itself, so the one before it was
        // replaced (changed and hashed anew), or this one points elsewhere.
        return Some(match previous {
            Some(p) => Problem::Altered {
                id: p,
                detail: Detail::NextPointsElsewhere(row.id),
            },
            None => Problem::Altered {
                id: row.id,
                detail: Detail::NotAtCheckpoint,
            },
        });
    }
    None
}

/// Walks the chain from the retention checkpoint to its head in one
/// consistent snapshot and returns the first problem, if any.
pub async fn walk(db: &Db) -> Result<Verdict> {
    let mut tx = match db.backend {
        Backend::Postgres => {
            db.pool
                .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                .await?
        }
        // A read transaction in WAL mode sees one snapshot from its first
        // read on.
        Backend::Sqlite => db.pool.begin().await?,
    };
    let head = audit_chain::head(&mut tx).await?;
    let anchor = audit_chain::latest_intact(&mut tx).await?;
    let (mut seq, mut hash) = (head.checkpoint_seq, head.checkpoint_hash.clone());
    let mut previous: Option<i64> = None;
    let mut entries = 0;
    let mut problem = None;
    {
        let mut rows = audit::chained_after(&mut tx, head.checkpoint_seq);
        while let Some(row) = rows.try_next().await? {
            let at = row.chain_seq.unwrap_or_default();
            if at > head.head_seq {
                problem = Some(Problem::Inserted {
                    id: row.id,
                    detail: Detail::BeyondHead {
                        at,
                        head: head.head_seq,
                    },
                });
                break;
            }
            if at != seq + 1 {
                problem = Some(deleted(seq + 1, at - 1, previous, Some(row.id)));
                break;
            }
            if let Some(p) = check(&row, at, &hash, previous) {
                problem = Some(p);
                break;
            }
            let stored = row.entry_hash.clone().unwrap_or_default();
            if let Some(a) = anchor
                .as_ref()
                .filter(|a| a.head_seq == at && a.head_hash != stored)
            {
                problem = Some(Problem::Altered {
                    id: row.id,
                    detail: Detail::Recomputed(a.finished_at),
                });
                break;
            }
            (seq, hash, previous) = (at, stored, Some(row.id));
            entries += 1;
        }
    }
    if problem.is_none() {
        problem = end_of_chain(&head, anchor.as_ref(), seq, &hash, previous);
    }
    // An entry outside the chain (above the ids chained at the upgrade).
    if let Some(id) = audit::first_unchained(&mut tx, head.seal_until).await? {
        let inserted = Problem::Inserted {
            id,
            detail: Detail::NotInChain,
        };
        if problem
            .as_ref()
            .and_then(Problem::audit_id)
            .is_none_or(|p| id < p)
        {
            problem = Some(inserted);
        }
    }
    tx.rollback().await?;
    Ok(Verdict {
        entries,
        head_seq: seq,
        head_hash: hash,
        problem,
    })
}

fn deleted(from: i64, to: i64, previous: Option<i64>, next: Option<i64>) -> Problem {
    // Kontor's entries get increasing ids in chain order; when the ids of
    // the neighbours leave exactly as many as are missing, those are they.
    let ids = match (previous, next) {
        (Some(p), Some(n)) if n - p - 1 == to - from + 1 => Some((p + 1, n - 1)),
        _ => None,
    };
    Problem::Deleted {
        positions: (from, to),
        ids,
        previous,
        next,
    }
}

/// Whether the walk ended where the chain's head says it ends.
fn end_of_chain(
    head: &Head,
    anchor: Option<&Verification>,
    seq: i64,
    hash: &str,
    previous: Option<i64>,
) -> Option<Problem> {
    if seq < head.head_seq {
        return Some(deleted(seq + 1, head.head_seq, previous, None));
    }
    if let Some(a) = anchor.filter(|a| a.head_seq > seq && a.head_seq > head.checkpoint_seq) {
        return Some(deleted(seq + 1, a.head_seq, previous, None));
    }
    if hash != head.head_hash {
        return Some(Problem::Altered {
            id: previous.unwrap_or_default(),
            detail: Detail::HeadDiffers,
        });
    }
    None
}

/// Walks the chain and stores the outcome (shown on the Betreiber's
/// Revision page); `by` says who asked.
pub async fn verify(db: &Db, by: &str, now: i64) -> Result<Verdict> {
    let verdict = walk(db).await?;
    audit_chain::record_verification(
        &db.pool,
        &Verification {
            started_at: now,
            finished_at: db::now(),
            by_whom: by.to_owned(),
            intact: i64::from(verdict.intact()),
            entries: verdict.entries,
            head_seq: verdict.head_seq,
            head_hash: verdict.head_hash.clone(),
            problem_audit_id: verdict.problem.as_ref().and_then(Problem::audit_id),
            // Stored and shown to whoever reads it later, in any language:
            // German, like every record of the Revision.
            problem: verdict.problem.as_ref().map(|p| p.message_in(Lang::De)),
        },
    )
    .await?;
    Ok(verdict)
}

/// What became of a chain position and hash noted outside Kontor (as
/// `kontor audit verify` prints them and the Betreiber's Revision page
/// shows them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Noted {
    /// The entry at that position still carries that hash.
    Holds,
    /// Retention has deleted the entry and the checkpoint lies beyond it:
    /// it can no longer be checked.
    Pruned,
    /// The entry there carries another hash, or it is gone (in the
    /// request's language; German for the CLI).
    Broken(String),
}

/// Checks a position and hash noted earlier against the chain as it is
/// now. Someone with write access to the database can compute the whole
/// chain anew, and remove the verifications that saw it before; an entry
/// whose hash was written down elsewhere still gives that away.
pub async fn check_noted(db: &Db, seq: i64, hash: &str) -> Result<Noted> {
    let mut conn = db.pool.acquire().await?;
    let head = audit_chain::head(&mut conn).await?;
    let noted = |holds: bool, broken: String| {
        if holds {
            Noted::Holds
        } else {
            Noted::Broken(broken)
        }
    };
    if seq == 0 {
        return Ok(noted(hash == GENESIS, t("audit-chain-noted-genesis")));
    }
    if let Some((id, stored)) = audit_chain::hash_at(&mut conn, seq).await? {
        return Ok(noted(
            stored.as_deref() == Some(hash),
            t_with(
                "audit-chain-noted-recomputed",
                &[
                    ("id", id.to_string().into()),
                    ("seq", seq.to_string().into()),
                ],
            ),
        ));
    }
    Ok(if seq < head.checkpoint_seq {
        Noted::Pruned
    } else if seq == head.checkpoint_seq {
        noted(
            head.checkpoint_hash == hash,
            t_with(
                "audit-chain-noted-checkpoint",
                &[("seq", seq.to_string().into())],
            ),
        )
    } else if seq > head.head_seq {
        Noted::Broken(t_with(
            "audit-chain-noted-beyond-head",
            &[
                ("head", head.head_seq.to_string().into()),
                ("seq", seq.to_string().into()),
            ],
        ))
    } else {
        Noted::Broken(t_with(
            "audit-chain-noted-missing",
            &[("seq", seq.to_string().into())],
        ))
    })
}

/// The Betreiber's "Kette jetzt prüfen".
pub async fn verify_as(db: &Db, user: &CurrentUser, now: i64) -> Result<Verdict> {
    policy::verify_audit(user)?;
    verify(db, &user.audit_label(), now).await
}

/// The chain's head and the newest verification, for the Betreiber.
pub struct Status {
    pub head: Head,
    pub latest: Option<Verification>,
}

pub async fn status(db: &Db, user: &CurrentUser) -> Result<Status> {
    policy::verify_audit(user)?;
    // Both on one connection: holding one while waiting for a second from
    // the pool starves the pool when many ask at once (each holds one,
    // all wait for another).
    let mut conn = db.pool.acquire().await?;
    let head = audit_chain::head(&mut conn).await?;
    let latest = audit_chain::latest_verification(&mut conn).await?;
    Ok(Status { head, latest })
}

/// Chains the entries written before the chain existed, if any are left
/// (the first start after the upgrade). Returns how many.
pub async fn seal_backlog(db: &Db) -> Result<u64> {
    let mut tx = db.begin_write().await?;
    let mut head = audit_chain::lock(&mut tx).await?;
    if head.seal_until == 0 {
        return Ok(0);
    }
    let sealed = audit_chain::seal_backlog(&mut tx, &mut head).await?;
    tx.commit().await?;
    Ok(sealed)
}

/// What a retention run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PruneReport {
    /// Entries deleted.
    pub deleted: u64,
    /// The checkpoint afterwards: the position of the last deleted entry.
    pub checkpoint_seq: i64,
}

/// Entries deleted per transaction: each batch holds the chain's lock
/// (every writer of audit entries waits) only briefly.
const PRUNE_BATCH: i64 = 10_000;

/// Deletes the entries older than `days` days, oldest first and only as a
/// prefix of the chain, behind a checkpoint: the position and hash of the
/// last deleted entry, which the first entry kept still points to, so the
/// chain verifies as before. Each batch is recorded as an entry itself.
/// Stops at a break in the chain instead of deleting the evidence.
pub async fn prune(db: &Db, days: u32, now: i64) -> Result<PruneReport> {
    let cutoff = now - i64::from(days) * 86_400;
    let mut report = PruneReport::default();
    loop {
        let mut tx = db.begin_write().await?;
        let mut head = audit_chain::lock(&mut tx).await?;
        if head.seal_until > 0 {
            audit_chain::seal_backlog(&mut tx, &mut head).await?;
        }
        report.checkpoint_seq = head.checkpoint_seq;
        let rows = audit_chain::next_entries(&mut tx, head.checkpoint_seq, PRUNE_BATCH).await?;
        let (mut seq, mut hash, mut previous) = (head.checkpoint_seq, head.checkpoint_hash, None);
        for row in rows.iter().take_while(|r| r.at < cutoff) {
            let at = row.chain_seq.unwrap_or_default();
            let problem = if at != seq + 1 {
                Some(deleted(seq + 1, at - 1, previous, Some(row.id)))
            } else {
                check(row, at, &hash, previous)
            };
            if let Some(p) = problem {
                return Err(Error::Conflict(t_with(
                    "audit-chain-prune-stopped",
                    &[("problem", p.message().into())],
                )));
            }
            (seq, hash, previous) = (at, row.entry_hash.clone().unwrap_or_default(), Some(row.id));
        }
        if seq == head.checkpoint_seq {
            break;
        }
        let n = audit_chain::delete_through(&mut tx, head.checkpoint_seq, seq, &hash, now).await?;
        audit::append(
            &mut tx,
            &[Pending::new(
                None,
                now,
                Entry {
                    customer_id: None,
                    action: "audit.pruned",
                    object_type: "audit_log",
                    object_id: seq,
                    before: None,
                    after: Some(json!({
                        "entries": n,
                        "checkpoint_seq": seq,
                        "checkpoint_hash": hash,
                        // Recorded and hashed: German, whoever prunes.
                        "reason": format!(
                            "Aufbewahrungsfrist {days} Tage: Einträge vor dem {}",
                            berlin_date(cutoff).strftime("%d.%m.%Y")
                        ),
                    })),
                },
            )],
        )
        .await?;
        tx.commit().await?;
        report.deleted += n;
        report.checkpoint_seq = seq;
        if (n as i64) < PRUNE_BATCH {
            break;
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_problem_reads_in_german_and_in_english() {
        let deleted = Problem::Deleted {
            positions: (4, 5),
            ids: Some((14, 15)),
            previous: Some(13),
            next: Some(16),
        };
        let german = "Die Einträge 14 bis 15 wurden gelöscht (zwischen Eintrag 13 und Eintrag 16); \
                      Position 4–5 der Kette fehlt";
        assert_eq!(deleted.message(), german);
        let altered = Problem::Altered {
            id: 1234,
            detail: Detail::NextPointsElsewhere(1235),
        };
        assert_eq!(
            altered.message(),
            "Eintrag 1234 wurde verändert: der nachfolgende Eintrag 1235 verweist auf einen \
             anderen Hash (geändert und neu gehasht)"
        );
        crate::i18n::scope(Lang::En, async {
            assert_eq!(
                deleted.message(),
                "Entries 14 to 15 have been deleted (between entry 13 and entry 16); \
                 positions 4–5 of the chain are missing"
            );
            assert_eq!(
                Problem::Inserted {
                    id: 7,
                    detail: Detail::NotInChain
                }
                .message(),
                "Entry 7 has been inserted past Kontor: it is not in the chain"
            );
            // What is stored stays German.
            assert_eq!(deleted.message_in(Lang::De), german);
        })
        .await;
    }
}
