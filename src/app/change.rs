//! The one write path. A use case opens a [`Change`], checks and writes
//! through it, records its audit entries and provisioning work on it, and
//! commits it; dropping it unfinished rolls everything back. So a change,
//! its audit entry and its outbox row are committed together or not at
//! all, and the reconciler is woken only for work that was committed.

use sqlx::AnyConnection;

use super::error::{Error, Result};
use crate::{
    db::{Db, Tx, audit, idempotency, outbox},
    domain::{actor::CurrentUser, idempotency::Key},
    i18n::t,
};

/// Who a change is recorded for.
#[derive(Clone, Copy)]
enum Actor<'a> {
    Person(&'a CurrentUser),
    /// Kontor itself: the provisioning layer reporting back, scheduled jobs.
    System,
}

pub struct Change<'a> {
    db: &'a Db,
    tx: Tx,
    actor: Actor<'a>,
    /// The business time of the change (Unix seconds).
    pub now: i64,
    key: Option<&'a Key>,
    provisioning: bool,
    /// Whether the change recorded notifications, to wake the sender.
    notifying: bool,
    /// Audit entries, appended to the chain as the change commits.
    audit: Vec<audit::Pending>,
}

/// The outcome of a creating call: a new object, or the replay of an earlier
/// call with the same `Idempotency-Key`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    New(i64),
    Replayed(i64),
}

impl Created {
    pub fn id(self) -> i64 {
        match self {
            Created::New(id) | Created::Replayed(id) => id,
        }
    }
}

/// A change that may be the retry of an earlier request.
pub enum Begun<'a> {
    Fresh(Change<'a>),
    Replayed(i64),
}

impl<'a> Change<'a> {
    /// Opens the write transaction of a change made by `person` at `now`
    /// (`BEGIN IMMEDIATE` on SQLite, so writers queue instead of failing).
    pub async fn begin(db: &'a Db, person: &'a CurrentUser, now: i64) -> Result<Change<'a>> {
        Change::open(db, Actor::Person(person), now).await
    }

    /// A change Kontor makes by itself.
    pub async fn system(db: &'a Db, now: i64) -> Result<Change<'a>> {
        Change::open(db, Actor::System, now).await
    }

    async fn open(db: &'a Db, actor: Actor<'a>, now: i64) -> Result<Change<'a>> {
        Ok(Change {
            db,
            tx: db.begin_write().await?,
            actor,
            now,
            key: None,
            provisioning: false,
            notifying: false,
            audit: Vec::new(),
        })
    }

    /// Like [`Change::begin`] for a creating call with an optional
    /// `Idempotency-Key`: a key used before brings back what it created; a
    /// new key is claimed first thing, so a simultaneous retry waits for
    /// this change and replays it rather than being judged on its own.
    pub async fn begin_idempotent(
        db: &'a Db,
        person: &'a CurrentUser,
        now: i64,
        key: Option<&'a Key>,
    ) -> Result<Begun<'a>> {
        let mut change = Change::begin(db, person, now).await?;
        let Some(key) = key else {
            return Ok(Begun::Fresh(change));
        };
        if let Some(stored) = idempotency::find(&mut change.tx, person.id, key).await? {
            return replayed(stored).map(Begun::Replayed);
        }
        match idempotency::claim(&mut change.tx, person.id, key, now).await {
            Ok(()) => {
                change.key = Some(key);
                Ok(Begun::Fresh(change))
            }
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                drop(change);
                replay_after_race(db, person.id, key)
                    .await
                    .map(Begun::Replayed)
            }
            Err(e) => Err(e.into()),
        }
    }

    pub fn db(&self) -> &'a Db {
        self.db
    }

    /// The transaction's connection, for the `db` functions.
    pub fn conn(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }

    /// The transaction itself, for `db` functions that insist on one.
    pub fn tx(&mut self) -> &mut Tx {
        &mut self.tx
    }

    /// The person making the change.
    ///
    /// # Panics
    /// On a change of Kontor itself, which has no person: a use case that
    /// asks for one was written for people.
    pub fn person(&self) -> &'a CurrentUser {
        match self.actor {
            Actor::Person(p) => p,
            Actor::System => panic!("a change of Kontor itself has no person"),
        }
    }

    /// Records an audit entry of the change's actor. Entries are kept
    /// until [`Change::commit`] appends them to the chain: the chain's lock
    /// is then the last lock the change takes (no lock order to get wrong)
    /// and is held only while the entries are written and committed.
    pub async fn audit(&mut self, entry: audit::Entry<'_>) -> Result<()> {
        let person = match self.actor {
            Actor::Person(p) => Some(p),
            Actor::System => None,
        };
        self.audit
            .push(audit::Pending::new(person, self.now, entry));
        Ok(())
    }

    /// Records an audit entry of `person` in a change that began without
    /// one (a person's own record, created as they log in).
    pub async fn audit_by(&mut self, person: &CurrentUser, entry: audit::Entry<'_>) -> Result<()> {
        self.audit
            .push(audit::Pending::new(Some(person), self.now, entry));
        Ok(())
    }

    /// Records an audit entry of Kontor itself inside a person's change
    /// (e.g. a deployment that fails at once because nothing is booked).
    pub async fn audit_system(&mut self, entry: audit::Entry<'_>) -> Result<()> {
        self.audit.push(audit::Pending::new(None, self.now, entry));
        Ok(())
    }

    /// Tells the clusters that an environment's desired state changed; the
    /// reconciler is woken once the change is committed. Returns the outbox
    /// generation that carries it.
    pub async fn provision(&mut self, environment_id: i64, scope: outbox::Scope) -> Result<i64> {
        self.provisioning = true;
        Ok(outbox::enqueue(&mut self.tx, environment_id, scope).await?)
    }

    /// Notes that the change recorded notifications (`app::notify`).
    pub(super) fn notified(&mut self) {
        self.notifying = true;
    }

    /// Appends the change's audit entries to the chain and commits the
    /// change (its writes, audit entries, provisioning and notification
    /// outbox rows together), then wakes this process's reconciler and
    /// notification sender if the change gave them work.
    pub async fn commit(mut self) -> Result<()> {
        audit::append(&mut self.tx, &self.audit).await?;
        let (db, provisioning, notifying) = (self.db, self.provisioning, self.notifying);
        self.tx.commit().await?;
        if provisioning {
            db.wake_provisioning();
        }
        if notifying {
            db.wake_notifications();
        }
        Ok(())
    }

    /// Commits a creating change; with an `Idempotency-Key` the key now
    /// names what was created.
    pub async fn commit_created(mut self, id: i64) -> Result<Created> {
        if let Some(key) = self.key {
            let person = self.person().id;
            idempotency::complete(&mut self.tx, person, key, id).await?;
        }
        self.commit().await?;
        Ok(Created::New(id))
    }
}

fn replayed(stored: idempotency::Stored) -> Result<i64> {
    match stored {
        idempotency::Stored::Created(id) => Ok(id),
        idempotency::Stored::OtherRequest => {
            Err(Error::Conflict(t("conflict-idempotency-other-request")))
        }
    }
}

/// After losing the race to claim a key: the other request's answer, once
/// it has committed; a conflict while it still runs.
async fn replay_after_race(db: &Db, user_id: i64, key: &Key) -> Result<i64> {
    let mut conn = db.pool.acquire().await?;
    match idempotency::find(&mut conn, user_id, key).await? {
        Some(stored) => replayed(stored),
        None => Err(Error::Conflict(t("conflict-idempotency-running"))),
    }
}
