//! Deployments: a release put into an environment. Started by a delivery
//! (Vorprüfung) or an approved promotion, carried into the cluster by the
//! reconciler (the environment's Deployment object), and finished by the
//! rollout watcher with the cluster's verdict.

use serde_json::json;
use sqlx::AnyPool;

use super::{Db, Tx, audit, outbox};
use crate::{
    domain::actor::CurrentUser,
    domain::{Role, Stage},
    error::{Error, Result},
};

/// Puts `release_id` into the environment: a new deployment row, the
/// environment's desired workload, and the outbox entry, in the caller's
/// transaction. An environment without bookings has no quota for anything
/// to run in; its deployment fails at once, saying so.
pub async fn start(
    tx: &mut Tx,
    environment_id: i64,
    release_id: i64,
    now: i64,
) -> sqlx::Result<i64> {
    supersede(
        tx,
        environment_id,
        "Abgelöst durch eine neuere Bereitstellung, bevor der Rollout entschieden war.",
        now,
    )
    .await?;
    let (open,): (i64,) = sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM bookings WHERE environment_id = $1 \
         AND state <> 'gekuendigt'",
    )
    .bind(environment_id)
    .fetch_one(&mut **tx)
    .await?;
    let (state, generation, message, finished) = if open == 0 {
        (
            "fehlgeschlagen",
            0,
            Some(
                "In dieser Stufe ist nichts gebucht: ohne Kontingent kann das Release nicht \
                 laufen. Bitte buchen und die Bereitstellung wiederholen.",
            ),
            Some(now),
        )
    } else {
        (
            "laeuft",
            outbox::enqueue(tx, environment_id, outbox::Scope::Full).await?,
            None,
            None,
        )
    };
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO deployments (environment_id, release_id, state, generation, message, \
         started_at, finished_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(environment_id)
    .bind(release_id)
    .bind(state)
    .bind(generation)
    .bind(message)
    .bind(now)
    .bind(finished)
    .fetch_one(&mut **tx)
    .await?;
    if open > 0 {
        sqlx::query("UPDATE environments SET deployment_id = $1 WHERE id = $2")
            .bind(id)
            .bind(environment_id)
            .execute(&mut **tx)
            .await?;
    } else {
        let customer_id = customer_of(tx, environment_id).await?;
        audit::record_system(
            tx,
            now,
            audit::Entry {
                customer_id: Some(customer_id),
                action: "deployment.failed",
                object_type: "deployment",
                object_id: id,
                before: None,
                after: Some(json!({"state": state, "message": message})),
            },
        )
        .await?;
    }
    Ok(id)
}

async fn customer_of(tx: &mut Tx, environment_id: i64) -> sqlx::Result<i64> {
    let (customer_id,): (i64,) = sqlx::query_as(
        "SELECT a.customer_id FROM environments e JOIN applications a ON a.id = e.application_id \
         WHERE e.id = $1",
    )
    .bind(environment_id)
    .fetch_one(&mut **tx)
    .await?;
    Ok(customer_id)
}

/// Closes the environment's running deployments, whose rollout will never
/// be decided now (a newer one replaces it, or the environment goes), with
/// an audit entry each.
pub async fn supersede(
    tx: &mut Tx,
    environment_id: i64,
    message: &str,
    now: i64,
) -> sqlx::Result<()> {
    let closed: Vec<(i64,)> = sqlx::query_as(
        "UPDATE deployments SET state = 'abgeloest', message = $1, finished_at = $2 \
         WHERE environment_id = $3 AND state = 'laeuft' RETURNING id",
    )
    .bind(message)
    .bind(now)
    .bind(environment_id)
    .fetch_all(&mut **tx)
    .await?;
    if closed.is_empty() {
        return Ok(());
    }
    let customer_id = customer_of(tx, environment_id).await?;
    for (id,) in closed {
        audit::record_system(
            tx,
            now,
            audit::Entry {
                customer_id: Some(customer_id),
                action: "deployment.superseded",
                object_type: "deployment",
                object_id: id,
                before: Some(json!({"state": "laeuft"})),
                after: Some(json!({"state": "abgeloest", "message": message})),
            },
        )
        .await?;
    }
    Ok(())
}

/// A deployment with what the portal shows about it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Deployment {
    pub id: i64,
    pub environment_id: i64,
    pub customer_id: i64,
    pub application_id: i64,
    pub stage: String,
    pub release_id: i64,
    pub version: String,
    pub state: String,
    pub message: Option<String>,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    /// The environment's current deployment (only that one can be retried).
    pub current: i64,
}

impl Deployment {
    pub fn stage(&self) -> Stage {
        self.stage.parse().unwrap_or(Stage::Vorpruefung)
    }

    /// Whether this, the latest deployment of its stage, says what is
    /// there: a success only while the environment still runs it (not after
    /// a dissolution); an attempt in progress or a failure always.
    pub fn in_place(&self) -> bool {
        self.current == 1 || self.state != "erfolgreich"
    }
}

const SELECT: &str = "SELECT d.id, d.environment_id, a.customer_id, a.id AS application_id, \
    e.stage, d.release_id, r.version, d.state, d.message, d.started_at, d.finished_at, \
    CAST(CASE WHEN e.deployment_id = d.id THEN 1 ELSE 0 END AS BIGINT) AS current \
    FROM deployments d JOIN environments e ON e.id = d.environment_id \
    JOIN applications a ON a.id = e.application_id JOIN releases r ON r.id = d.release_id";

pub async fn get(pool: &AnyPool, user: &CurrentUser, id: i64) -> Result<Deployment> {
    let d: Option<Deployment> = sqlx::query_as(super::sql(format!("{SELECT} WHERE d.id = $1")))
        .bind(id)
        .fetch_optional(pool)
        .await?;
    d.filter(|d| user.can_see(d.customer_id))
        .ok_or(Error::NotFound)
}

/// The deployments of an application, newest first.
pub async fn of_application(pool: &AnyPool, application_id: i64) -> sqlx::Result<Vec<Deployment>> {
    sqlx::query_as(super::sql(format!(
        "{SELECT} WHERE a.id = $1 ORDER BY d.id DESC"
    )))
    .bind(application_id)
    .fetch_all(pool)
    .await
}

/// Whether `user` may start deployments in `stage` of `customer_id`'s
/// applications by hand (a retry): the Systempfleger:in everywhere,
/// developers only where they may change things themselves.
pub fn may_deploy(user: &CurrentUser, customer_id: i64, stage: Stage) -> bool {
    user.customer_id == Some(customer_id)
        && (user.has(Role::Systempfleger)
            || (user.has(Role::Entwickler) && stage == Stage::Vorpruefung))
}

/// Retries a failed deployment: the same release, a new rollout.
pub async fn retry(db: &Db, user: &CurrentUser, id: i64, now: i64) -> Result<i64> {
    let mut tx = db.begin_write().await?;
    let d: Option<Deployment> = sqlx::query_as(super::sql(format!(
        "{SELECT} WHERE d.id = $1{}",
        db.for_update()
    )))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let d = d
        .filter(|d| user.can_see(d.customer_id))
        .ok_or(Error::NotFound)?;
    if !may_deploy(user, d.customer_id, d.stage()) {
        return Err(Error::Forbidden);
    }
    if d.state != "fehlgeschlagen" {
        return Err(Error::Conflict(
            "Nur eine fehlgeschlagene Bereitstellung kann wiederholt werden.".into(),
        ));
    }
    // Only the latest: an older failure was superseded by what came after.
    let (latest,): (Option<i64>,) =
        sqlx::query_as("SELECT MAX(id) FROM deployments WHERE environment_id = $1")
            .bind(d.environment_id)
            .fetch_one(&mut *tx)
            .await?;
    if latest != Some(d.id) {
        return Err(Error::Conflict(
            "Seitdem wurde in dieser Stufe neu bereitgestellt; diese Bereitstellung ist überholt."
                .into(),
        ));
    }
    let new = start(&mut tx, d.environment_id, d.release_id, now).await?;
    audit::record(
        &mut tx,
        user,
        now,
        audit::Entry {
            customer_id: Some(d.customer_id),
            action: "deployment.retried",
            object_type: "deployment",
            object_id: new,
            before: Some(json!({"deployment": d.id, "message": d.message})),
            after: Some(json!({"release": d.release_id, "stage": d.stage})),
        },
    )
    .await?;
    tx.commit().await?;
    db.wake_provisioning();
    Ok(new)
}

/// A deployment the watcher has to look at: applied, not yet decided.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Running {
    pub id: i64,
    pub environment_id: i64,
    pub customer_id: i64,
    pub stage: String,
    pub customer_slug: String,
    pub application_slug: String,
    pub started_at: i64,
}

/// Running deployments whose generation the reconciler has applied.
pub async fn applied_running(pool: &AnyPool) -> sqlx::Result<Vec<Running>> {
    sqlx::query_as(
        "SELECT d.id, d.environment_id, a.customer_id, e.stage, c.slug AS customer_slug, \
         a.slug AS application_slug, d.started_at \
         FROM deployments d JOIN environments e ON e.id = d.environment_id \
         JOIN applications a ON a.id = e.application_id JOIN customers c ON c.id = a.customer_id \
         JOIN provisioning_outbox o ON o.environment_id = d.environment_id \
         WHERE d.state = 'laeuft' AND o.done_generation >= d.generation ORDER BY d.id",
    )
    .fetch_all(pool)
    .await
}

/// Records the cluster's verdict, once: a second watcher (replica) that
/// comes to the same verdict changes nothing.
pub async fn finish(
    db: &Db,
    running: &Running,
    succeeded: bool,
    message: &str,
    now: i64,
) -> sqlx::Result<bool> {
    let mut tx = db.begin_write().await?;
    let state = if succeeded {
        "erfolgreich"
    } else {
        "fehlgeschlagen"
    };
    let done = sqlx::query(
        "UPDATE deployments SET state = $1, message = $2, finished_at = $3 \
         WHERE id = $4 AND state = 'laeuft'",
    )
    .bind(state)
    .bind(message)
    .bind(now)
    .bind(running.id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    audit::record_system(
        &mut tx,
        now,
        audit::Entry {
            customer_id: Some(running.customer_id),
            action: if succeeded {
                "deployment.succeeded"
            } else {
                "deployment.failed"
            },
            object_type: "deployment",
            object_id: running.id,
            before: Some(json!({"state": "laeuft"})),
            after: Some(json!({"state": state, "message": message})),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}
