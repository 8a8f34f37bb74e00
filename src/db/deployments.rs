//! Deployments: a release put into an environment. Started by a delivery
//! (Vorprüfung) or an approved promotion, carried into the cluster by the
//! reconciler (the environment's Deployment object), and finished by the
//! rollout watcher with the cluster's verdict. The rules are in
//! src/app/deployments.rs.

use sqlx::{AnyConnection, AnyPool};

use super::Tx;
use crate::domain::{Stage, release::DeploymentState};

/// A deployment with what the portal shows about it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Deployment {
    pub id: i64,
    pub environment_id: i64,
    pub customer_id: i64,
    pub application_id: i64,
    pub stage: Stage,
    pub release_id: i64,
    pub version: String,
    pub state: DeploymentState,
    pub message: Option<String>,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    /// The environment's current deployment (only that one can be retried).
    pub current: i64,
}

impl Deployment {
    /// Whether this, the latest deployment of its stage, says what is
    /// there: a success only while the environment still runs it (not after
    /// a dissolution); an attempt in progress or a failure always.
    pub fn in_place(&self) -> bool {
        self.current == 1 || self.state != DeploymentState::Erfolgreich
    }
}

const SELECT: &str = "SELECT d.id, d.environment_id, a.customer_id, a.id AS application_id, \
    e.stage, d.release_id, r.version, d.state, d.message, d.started_at, d.finished_at, \
    CAST(CASE WHEN e.deployment_id = d.id THEN 1 ELSE 0 END AS BIGINT) AS current \
    FROM deployments d JOIN environments e ON e.id = d.environment_id \
    JOIN applications a ON a.id = e.application_id JOIN releases r ON r.id = d.release_id";

/// One deployment; `lock` keeps its row locked until the commit
/// (PostgreSQL).
pub async fn find(
    conn: &mut AnyConnection,
    id: i64,
    lock: &str,
) -> sqlx::Result<Option<Deployment>> {
    sqlx::query_as(super::sql(format!("{SELECT} WHERE d.id = $1{lock}")))
        .bind(id)
        .fetch_optional(conn)
        .await
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

/// The latest deployment of an environment.
pub async fn latest_of(conn: &mut AnyConnection, environment_id: i64) -> sqlx::Result<Option<i64>> {
    let (latest,): (Option<i64>,) =
        sqlx::query_as("SELECT MAX(id) FROM deployments WHERE environment_id = $1")
            .bind(environment_id)
            .fetch_one(conn)
            .await?;
    Ok(latest)
}

/// A new deployment's row.
pub struct NewRow<'a> {
    pub environment_id: i64,
    pub release_id: i64,
    pub state: DeploymentState,
    pub generation: i64,
    pub message: Option<&'a str>,
    pub now: i64,
    pub finished_at: Option<i64>,
}

pub async fn insert(tx: &mut Tx, row: &NewRow<'_>) -> sqlx::Result<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO deployments (environment_id, release_id, state, generation, message, \
         started_at, finished_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(row.environment_id)
    .bind(row.release_id)
    .bind(row.state)
    .bind(row.generation)
    .bind(row.message)
    .bind(row.now)
    .bind(row.finished_at)
    .fetch_one(&mut **tx)
    .await?;
    Ok(id)
}

/// Closes the environment's running deployments as superseded; their ids.
pub async fn supersede_running(
    tx: &mut Tx,
    environment_id: i64,
    message: &str,
    now: i64,
) -> sqlx::Result<Vec<i64>> {
    let closed: Vec<(i64,)> = sqlx::query_as(
        "UPDATE deployments SET state = 'abgeloest', message = $1, finished_at = $2 \
         WHERE environment_id = $3 AND state = 'laeuft' RETURNING id",
    )
    .bind(message)
    .bind(now)
    .bind(environment_id)
    .fetch_all(&mut **tx)
    .await?;
    Ok(closed.into_iter().map(|(id,)| id).collect())
}

/// A deployment the watcher has to look at: applied, not yet decided.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Running {
    pub id: i64,
    pub environment_id: i64,
    pub customer_id: i64,
    pub stage: Stage,
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

/// Records a running deployment's outcome; false when it was no longer
/// running (another watcher came first).
pub async fn set_outcome(
    tx: &mut Tx,
    id: i64,
    state: DeploymentState,
    message: &str,
    now: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE deployments SET state = $1, message = $2, finished_at = $3 \
         WHERE id = $4 AND state = 'laeuft'",
    )
    .bind(state)
    .bind(message)
    .bind(now)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() > 0)
}
