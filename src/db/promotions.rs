//! Promotion requests (Freigabeanträge): rows, the list query, the
//! statements that write them, and the facts the promotion rule needs (what
//! runs where, what ran where). The rules are in the use cases (src/app/promotions.rs).

use sqlx::{AnyConnection, AnyPool};

use super::Tx;
use crate::domain::{
    Stage,
    actor::Scope,
    approval::{ApprovalKind, ApprovalState},
    release::{Checkup, DeploymentState},
};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Promotion {
    pub id: i64,
    pub customer_id: i64,
    pub application_id: i64,
    pub application_name: String,
    pub release_id: i64,
    pub version: String,
    pub from_stage: Stage,
    pub to_stage: Stage,
    pub state: ApprovalState,
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
    pub fn is_open(&self) -> bool {
        self.state.is_open()
    }
}

const SELECT: &str = "SELECT p.id, ap.customer_id, p.application_id, a.name AS application_name, \
    p.release_id, r.version, p.from_stage, p.to_stage, ap.state, ap.requested_by, \
    ru.display_name AS requested_by_name, ap.requested_at, ap.decided_by, \
    du.display_name AS decided_by_name, ap.decided_at, ap.reason, p.deployment_id \
    FROM promotions p JOIN approvals ap ON ap.id = p.id \
    JOIN applications a ON a.id = p.application_id \
    JOIN releases r ON r.id = p.release_id JOIN users ru ON ru.id = ap.requested_by \
    LEFT JOIN users du ON du.id = ap.decided_by";

/// One request; `lock` locks its row until the commit (PostgreSQL).
pub async fn find(
    conn: &mut AnyConnection,
    id: i64,
    lock: bool,
) -> sqlx::Result<Option<Promotion>> {
    // FOR UPDATE cannot lock the nullable side of an outer join; the
    // request's state is in `approvals`.
    let lock = if lock { " FOR UPDATE OF ap" } else { "" };
    sqlx::query_as(super::sql(format!("{SELECT} WHERE p.id = $1{lock}")))
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// Requests the user may see, newest first; only open ones with `open`.
pub async fn list(
    pool: &AnyPool,
    scope: Scope,
    application_id: Option<i64>,
    open: bool,
) -> sqlx::Result<Vec<Promotion>> {
    let Some(visible) = super::Visible::to(scope, "ap.customer_id") else {
        return Ok(Vec::new());
    };
    let visible = visible
        .id("p.application_id", application_id)
        .and("ap.state = 'offen'", open);
    let sql = format!("{SELECT}{} ORDER BY p.id DESC LIMIT 500", visible.sql());
    visible
        .bind(sqlx::query_as::<_, Promotion>(super::sql(sql)))
        .fetch_all(pool)
        .await
}

/// The release running successfully in an environment, if any.
pub async fn running_release(
    conn: &mut AnyConnection,
    application_id: i64,
    stage: Stage,
) -> sqlx::Result<Option<i64>> {
    let row: Option<(i64, DeploymentState)> = sqlx::query_as(
        "SELECT d.release_id, d.state FROM environments e JOIN deployments d ON d.id = e.deployment_id \
         WHERE e.application_id = $1 AND e.stage = $2",
    )
    .bind(application_id)
    .bind(stage)
    .fetch_optional(conn)
    .await?;
    Ok(row
        .filter(|(_, state)| *state == DeploymentState::Erfolgreich)
        .map(|(id, _)| id))
}

/// Whether a release has run successfully in a stage before.
pub async fn ran_in(
    conn: &mut AnyConnection,
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
    .bind(stage)
    .bind(release_id)
    .fetch_one(conn)
    .await?;
    Ok(n > 0)
}

/// A release of an application: its version and the Checkup's verdict.
pub async fn release_of(
    conn: &mut AnyConnection,
    application_id: i64,
    release_id: i64,
) -> sqlx::Result<Option<(String, Checkup)>> {
    sqlx::query_as("SELECT version, checkup FROM releases WHERE id = $1 AND application_id = $2")
        .bind(release_id)
        .bind(application_id)
        .fetch_optional(conn)
        .await
}

/// What a new promotion request is about.
pub struct NewRow {
    pub customer_id: i64,
    pub application_id: i64,
    pub release_id: i64,
    pub from: Stage,
    pub to: Stage,
    pub requested_by: i64,
    pub now: i64,
}

/// The subject of an open promotion request: one per application and
/// target stage.
pub fn subject(application_id: i64, to: Stage) -> String {
    format!("promotion:{application_id}:{to}")
}

/// Opens a promotion request; a unique violation on `approvals_open_key`
/// means one is open already for this application and stage.
pub async fn insert(tx: &mut Tx, row: &NewRow) -> sqlx::Result<i64> {
    let id = super::approvals::insert(
        tx,
        ApprovalKind::Promotion,
        row.customer_id,
        &subject(row.application_id, row.to),
        row.requested_by,
        row.now,
    )
    .await?;
    sqlx::query(
        "INSERT INTO promotions (id, application_id, release_id, from_stage, to_stage) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(row.application_id)
    .bind(row.release_id)
    .bind(row.from)
    .bind(row.to)
    .execute(&mut **tx)
    .await?;
    Ok(id)
}

/// The deployment an approval started.
pub async fn set_deployment(tx: &mut Tx, id: i64, deployment_id: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE promotions SET deployment_id = $1 WHERE id = $2")
        .bind(deployment_id)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
