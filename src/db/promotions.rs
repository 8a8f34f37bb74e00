//! Freigaben: requests to move a release one stage on, decided by another
//! person with the role the target stage needs. An approval starts the
//! deployment in the same transaction; of two people approving at once,
//! exactly one succeeds.

use serde_json::json;
use sqlx::AnyPool;

use super::{Db, Tx, audit, bookings::Created, deployments, idempotency};
use crate::{
    domain::actor::{CurrentUser, Scope},
    domain::{Role, Stage},
    error::{Error, FieldErrors, Result},
};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Promotion {
    pub id: i64,
    pub customer_id: i64,
    pub application_id: i64,
    pub application_name: String,
    pub release_id: i64,
    pub version: String,
    pub from_stage: String,
    pub to_stage: String,
    pub state: String,
    pub requested_by: i64,
    pub requested_by_name: String,
    pub requested_at: i64,
    pub decided_by: Option<i64>,
    pub decided_by_name: Option<String>,
    pub decided_at: Option<i64>,
    pub reason: Option<String>,
    pub deployment_id: Option<i64>,
}

impl Promotion {
    pub fn from(&self) -> Stage {
        self.from_stage.parse().unwrap_or(Stage::Vorpruefung)
    }
    pub fn to(&self) -> Stage {
        self.to_stage.parse().unwrap_or(Stage::Abnahme)
    }
    pub fn is_open(&self) -> bool {
        self.state == "offen"
    }
}

const SELECT: &str = "SELECT p.id, p.customer_id, p.application_id, a.name AS application_name, \
    p.release_id, r.version, p.from_stage, p.to_stage, p.state, p.requested_by, \
    ru.display_name AS requested_by_name, p.requested_at, p.decided_by, \
    du.display_name AS decided_by_name, p.decided_at, p.reason, p.deployment_id \
    FROM promotions p JOIN applications a ON a.id = p.application_id \
    JOIN releases r ON r.id = p.release_id JOIN users ru ON ru.id = p.requested_by \
    LEFT JOIN users du ON du.id = p.decided_by";

/// Developers and the Systempfleger:in request promotions.
pub fn may_request(user: &CurrentUser, customer_id: i64) -> bool {
    crate::db::releases::may_deliver(user, customer_id)
}

/// Whether `user` may decide a request into `to` of `customer_id` — the
/// role part; that the requester is someone else is checked on deciding.
pub fn may_decide(user: &CurrentUser, customer_id: i64, to: Stage) -> bool {
    user.customer_id == Some(customer_id) && to.approver().is_some_and(|role| user.has(role))
}

/// The release running successfully in an environment, if any.
async fn running_release(
    tx: &mut Tx,
    application_id: i64,
    stage: Stage,
) -> sqlx::Result<Option<i64>> {
    let row: Option<(i64, String)> = sqlx::query_as(
        "SELECT d.release_id, d.state FROM environments e JOIN deployments d ON d.id = e.deployment_id \
         WHERE e.application_id = $1 AND e.stage = $2",
    )
    .bind(application_id)
    .bind(stage.as_str())
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row
        .filter(|(_, state)| state == "erfolgreich")
        .map(|(id, _)| id))
}

/// Whether a release has run successfully in a stage before: then it may
/// go back there (a rollback), approved like any promotion.
async fn ran_in(
    tx: &mut Tx,
    application_id: i64,
    stage: Stage,
    release_id: i64,
) -> sqlx::Result<bool> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM deployments d \
         JOIN environments e ON e.id = d.environment_id \
         WHERE e.application_id = $1 AND e.stage = $2 AND d.release_id = $3 \
         AND d.state = 'erfolgreich'",
    )
    .bind(application_id)
    .bind(stage.as_str())
    .bind(release_id)
    .fetch_one(&mut **tx)
    .await?;
    Ok(n > 0)
}

/// The promotion rule: a release enters a stage from the stage before,
/// where it runs successfully now — or returns to a stage it has run in
/// successfully before (a rollback). Nothing else: no skipping.
async fn may_enter(
    tx: &mut Tx,
    application_id: i64,
    release_id: i64,
    from: Stage,
    to: Stage,
) -> sqlx::Result<bool> {
    Ok(
        running_release(tx, application_id, from).await? == Some(release_id)
            || ran_in(tx, application_id, to, release_id).await?,
    )
}

fn not_running(version: &str, stage: Stage) -> Error {
    Error::Conflict(format!(
        "Release {version} läuft in {} nicht erfolgreich; befördert wird nur, was in der Stufe davor läuft (oder in der Zielstufe schon einmal lief).",
        stage.label()
    ))
}

/// Requests moving `release_id` into `to` (from the stage before it). With
/// an `Idempotency-Key` a retry gets the first request back.
pub async fn request(
    db: &Db,
    user: &CurrentUser,
    application_id: i64,
    release_id: i64,
    to: Stage,
    key: Option<&idempotency::Key>,
    now: i64,
) -> Result<Created> {
    let mut tx = db.begin_write().await?;
    if let Some(key) = key
        && let Some(id) = idempotency::find(&mut tx, user.id, key).await?
    {
        return Ok(Created::Replayed(id));
    }
    let app: Option<(i64,)> = sqlx::query_as("SELECT customer_id FROM applications WHERE id = $1")
        .bind(application_id)
        .fetch_optional(&mut *tx)
        .await?;
    let (customer_id,) = app.filter(|(c,)| user.can_see(*c)).ok_or(Error::NotFound)?;
    if !may_request(user, customer_id) {
        return Err(Error::Forbidden);
    }
    let Some(from) = to.previous() else {
        return Err(Error::Validation(FieldErrors::single(
            "to_stage",
            "In die Vorprüfung kommt ein Release durch Lieferung, nicht durch Freigabe.",
        )));
    };
    let release: Option<(String, String)> = sqlx::query_as(
        "SELECT version, checkup FROM releases WHERE id = $1 AND application_id = $2",
    )
    .bind(release_id)
    .bind(application_id)
    .fetch_optional(&mut *tx)
    .await?;
    let (version, _) = release
        .filter(|(_, checkup)| checkup == "bestanden")
        .ok_or_else(|| {
            Error::Validation(FieldErrors::single(
                "release_id",
                "Dieses Verfahren hat kein angenommenes Release mit dieser Id.",
            ))
        })?;
    if !may_enter(&mut tx, application_id, release_id, from, to).await? {
        return Err(not_running(&version, from));
    }
    if running_release(&mut tx, application_id, to).await? == Some(release_id) {
        return Err(Error::Conflict(format!(
            "Release {version} läuft in {} bereits.",
            to.label()
        )));
    }
    if let Some(key) = key {
        match idempotency::claim(&mut tx, user.id, key, now).await {
            Ok(()) => {}
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                drop(tx);
                return idempotency::replay_after_race(db, user.id, key)
                    .await
                    .map(Created::Replayed);
            }
            Err(e) => return Err(e.into()),
        }
    }
    let inserted: std::result::Result<(i64,), sqlx::Error> = sqlx::query_as(
        "INSERT INTO promotions (customer_id, application_id, release_id, from_stage, to_stage, \
         state, requested_by, requested_at) VALUES ($1, $2, $3, $4, $5, 'offen', $6, $7) RETURNING id",
    )
    .bind(customer_id)
    .bind(application_id)
    .bind(release_id)
    .bind(from.as_str())
    .bind(to.as_str())
    .bind(user.id)
    .bind(now)
    .fetch_one(&mut *tx)
    .await;
    let id = match inserted {
        Ok((id,)) => id,
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            return Err(Error::Conflict(format!(
                "Für {} gibt es bereits einen offenen Freigabeantrag dieses Verfahrens.",
                to.label()
            )));
        }
        Err(e) => return Err(e.into()),
    };
    audit::record(
        &mut tx,
        user,
        now,
        audit::Entry {
            customer_id: Some(customer_id),
            action: "promotion.requested",
            object_type: "promotion",
            object_id: id,
            before: None,
            after: Some(json!({"release": release_id, "version": version,
                "from": from.as_str(), "to": to.as_str()})),
        },
    )
    .await?;
    if let Some(key) = key {
        idempotency::complete(&mut tx, user.id, key, id).await?;
    }
    tx.commit().await?;
    Ok(Created::New(id))
}

/// Loads a request for a change, under a row lock on PostgreSQL.
async fn load_for_change(db: &Db, tx: &mut Tx, user: &CurrentUser, id: i64) -> Result<Promotion> {
    let p: Option<Promotion> = sqlx::query_as(super::sql(format!(
        "{SELECT} WHERE p.id = $1{}",
        // FOR UPDATE cannot lock the nullable side of an outer join.
        if db.for_update().is_empty() {
            ""
        } else {
            " FOR UPDATE OF p"
        }
    )))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    p.filter(|p| user.can_see(p.customer_id))
        .ok_or(Error::NotFound)
}

fn already_decided(p: &Promotion) -> Error {
    Error::Conflict(match p.state.as_str() {
        "genehmigt" => "Dieser Antrag ist bereits genehmigt.".into(),
        "abgelehnt" => "Dieser Antrag ist bereits abgelehnt.".into(),
        _ => "Dieser Antrag wurde zurückgezogen.".into(),
    })
}

/// Approves (`approve`) or rejects with `reason`.
pub async fn decide(
    db: &Db,
    user: &CurrentUser,
    id: i64,
    approve: bool,
    reason: Option<&str>,
    now: i64,
) -> Result<Promotion> {
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    let mut tx = db.begin_write().await?;
    let p = load_for_change(db, &mut tx, user, id).await?;
    if !may_decide(user, p.customer_id, p.to()) {
        return Err(Error::Forbidden);
    }
    if p.requested_by == user.id {
        return Err(Error::FourEyes(
            "Den eigenen Antrag entscheidet eine andere Person (Vier-Augen-Prinzip).".into(),
        ));
    }
    if !p.is_open() {
        return Err(already_decided(&p));
    }
    // The reason is looked at only once it is clear that this person may
    // decide this request: to anyone else the request does not exist or
    // is not theirs, whatever they wrote.
    if !approve && reason.is_none() {
        return Err(Error::Validation(FieldErrors::single(
            "reason",
            "Bitte die Ablehnung begründen; die Begründung sehen die Antragstellenden.",
        )));
    }
    if reason.is_some_and(|r| r.chars().count() > 2000) {
        return Err(Error::Validation(FieldErrors::single(
            "reason",
            "Höchstens 2000 Zeichen.",
        )));
    }
    let mut deployment = None;
    if approve {
        if !may_enter(&mut tx, p.application_id, p.release_id, p.from(), p.to()).await? {
            return Err(not_running(&p.version, p.from()));
        }
        let (environment_id,): (i64,) =
            sqlx::query_as("SELECT id FROM environments WHERE application_id = $1 AND stage = $2")
                .bind(p.application_id)
                .bind(p.to_stage.as_str())
                .fetch_one(&mut *tx)
                .await?;
        deployment = Some(deployments::start(&mut tx, environment_id, p.release_id, now).await?);
    }
    let state = if approve { "genehmigt" } else { "abgelehnt" };
    // The state condition makes a second, simultaneous decision a no-op
    // (its transaction waits for the first and then finds nothing open).
    let decided = sqlx::query(
        "UPDATE promotions SET state = $1, decided_by = $2, decided_at = $3, reason = $4, \
         deployment_id = $5 WHERE id = $6 AND state = 'offen'",
    )
    .bind(state)
    .bind(user.id)
    .bind(now)
    .bind(reason)
    .bind(deployment)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    if decided.rows_affected() != 1 {
        return Err(Error::Conflict(
            "Dieser Antrag ist bereits entschieden.".into(),
        ));
    }
    audit::record(
        &mut tx,
        user,
        now,
        audit::Entry {
            customer_id: Some(p.customer_id),
            action: if approve {
                "promotion.approved"
            } else {
                "promotion.rejected"
            },
            object_type: "promotion",
            object_id: id,
            before: Some(json!({"state": "offen"})),
            after: Some(
                json!({"state": state, "reason": reason, "deployment": deployment,
                "release": p.release_id, "to": p.to_stage}),
            ),
        },
    )
    .await?;
    tx.commit().await?;
    if approve {
        db.wake_provisioning();
    }
    get(&db.pool, user, id).await
}

/// The requester takes an open request back.
pub async fn withdraw(db: &Db, user: &CurrentUser, id: i64, now: i64) -> Result<Promotion> {
    let mut tx = db.begin_write().await?;
    let p = load_for_change(db, &mut tx, user, id).await?;
    if p.requested_by != user.id {
        return Err(Error::Forbidden);
    }
    if !p.is_open() {
        return Err(already_decided(&p));
    }
    sqlx::query(
        "UPDATE promotions SET state = 'zurueckgezogen', decided_by = $1, decided_at = $2 \
         WHERE id = $3 AND state = 'offen'",
    )
    .bind(user.id)
    .bind(now)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        user,
        now,
        audit::Entry {
            customer_id: Some(p.customer_id),
            action: "promotion.withdrawn",
            object_type: "promotion",
            object_id: id,
            before: Some(json!({"state": "offen"})),
            after: Some(json!({"state": "zurueckgezogen"})),
        },
    )
    .await?;
    tx.commit().await?;
    get(&db.pool, user, id).await
}

pub async fn get(pool: &AnyPool, user: &CurrentUser, id: i64) -> Result<Promotion> {
    let p: Option<Promotion> = sqlx::query_as(super::sql(format!("{SELECT} WHERE p.id = $1")))
        .bind(id)
        .fetch_optional(pool)
        .await?;
    p.filter(|p| user.can_see(p.customer_id))
        .ok_or(Error::NotFound)
}

/// Requests the user may see, newest first; only open ones with `open`.
pub async fn list(
    pool: &AnyPool,
    scope: Scope,
    application_id: Option<i64>,
    open: bool,
) -> sqlx::Result<Vec<Promotion>> {
    let Some(visible) = super::Visible::to(scope, "p.customer_id") else {
        return Ok(Vec::new());
    };
    let visible = visible
        .id("p.application_id", application_id)
        .and("p.state = 'offen'", open);
    let sql = format!("{SELECT}{} ORDER BY p.id DESC LIMIT 500", visible.sql());
    visible
        .bind(sqlx::query_as::<_, Promotion>(super::sql(sql)))
        .fetch_all(pool)
        .await
}

/// Whether `user` may decide `p` now: open, the right role, not their own.
pub fn decidable_by(p: &Promotion, user: &CurrentUser) -> bool {
    p.is_open() && p.requested_by != user.id && may_decide(user, p.customer_id, p.to())
}

/// Who may decide requests into a stage, for messages.
pub fn approver_label(to: Stage) -> &'static str {
    match to.approver() {
        Some(Role::Verfahrensverantwortlicher) => "Verfahrensverantwortliche:r",
        Some(_) => "Systempfleger:in",
        None => "niemand",
    }
}
