//! Environments (Umgebungen): their desired state for the provisioning
//! layer, their provisioning status for the portal, and the statements that
//! change their lifecycle.

use sqlx::{AnyConnection, AnyPool};

use super::Tx;
use crate::domain::{
    Lifecycle, Resources, Stage,
    actor::Scope,
    environment::{EnvironmentSpec, SyncState, Workload, namespace_name},
};

#[derive(sqlx::FromRow)]
struct SpecRow {
    id: i64,
    customer: String,
    application: String,
    stage: Stage,
    contract: String,
    lifecycle: Lifecycle,
    millicpu: i64,
    memory_mib: i64,
    storage_gib: i64,
    pods: i64,
    deployment_id: Option<i64>,
    image: Option<String>,
}

impl SpecRow {
    fn into_spec(self) -> EnvironmentSpec {
        EnvironmentSpec {
            id: self.id,
            customer: self.customer,
            application: self.application,
            stage: self.stage,
            contract: self.contract,
            lifecycle: self.lifecycle,
            booked: Resources {
                millicpu: self.millicpu,
                memory_mib: self.memory_mib,
                storage_gib: self.storage_gib,
                pods: self.pods,
            },
            workload: self
                .deployment_id
                .zip(self.image)
                .map(|(deployment_id, image)| Workload {
                    image,
                    deployment_id,
                }),
        }
    }
}

/// The desired state of environments: names, lifecycle and the sum of the
/// current periods of their open bookings.
const SPEC: &str = "SELECT e.id, c.slug AS customer, a.slug AS application, e.stage, \
    k.number AS contract, e.lifecycle, \
    CAST(COALESCE(SUM(bp.millicpu), 0) AS BIGINT) AS millicpu, \
    CAST(COALESCE(SUM(bp.memory_mib), 0) AS BIGINT) AS memory_mib, \
    CAST(COALESCE(SUM(bp.storage_gib), 0) AS BIGINT) AS storage_gib, \
    CAST(COALESCE(SUM(bp.pods), 0) AS BIGINT) AS pods, \
    e.deployment_id, r.pinned_image AS image \
    FROM environments e JOIN applications a ON a.id = e.application_id \
    JOIN customers c ON c.id = a.customer_id JOIN contracts k ON k.id = a.contract_id \
    LEFT JOIN deployments d ON d.id = e.deployment_id LEFT JOIN releases r ON r.id = d.release_id \
    LEFT JOIN bookings b ON b.environment_id = e.id AND b.state <> 'gekuendigt' \
    LEFT JOIN booking_periods bp ON bp.booking_id = b.id AND bp.ends_at IS NULL";
const SPEC_GROUP: &str = " GROUP BY e.id, c.slug, a.slug, e.stage, k.number, e.lifecycle, e.deployment_id, r.pinned_image";

/// One environment's desired state.
pub async fn spec(pool: &AnyPool, id: i64) -> sqlx::Result<Option<EnvironmentSpec>> {
    let row: Option<SpecRow> =
        sqlx::query_as(super::sql(format!("{SPEC} WHERE e.id = $1{SPEC_GROUP}")))
            .bind(id)
            .fetch_optional(pool)
            .await?;
    Ok(row.map(SpecRow::into_spec))
}

/// The desired state of every environment in `stages` that was ever booked
/// (those never booked have nothing anywhere), for a resync.
pub async fn specs(pool: &AnyPool, stages: &[Stage]) -> sqlx::Result<Vec<EnvironmentSpec>> {
    if stages.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (1..=stages.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "{SPEC} WHERE e.lifecycle <> 'leer' AND e.stage IN ({}){SPEC_GROUP} ORDER BY e.id",
        placeholders.join(", ")
    );
    let mut query = sqlx::query_as::<_, SpecRow>(super::sql(sql));
    for stage in stages {
        query = query.bind(stage.as_str());
    }
    let rows = query.fetch_all(pool).await?;
    Ok(rows.into_iter().map(SpecRow::into_spec).collect())
}

/// Brings an environment back to `aktiv` (new, or dissolved before);
/// whether it was not active.
pub async fn revive(tx: &mut Tx, environment_id: i64) -> sqlx::Result<bool> {
    let revived = sqlx::query(
        "UPDATE environments SET lifecycle = 'aktiv' WHERE id = $1 AND lifecycle <> 'aktiv'",
    )
    .bind(environment_id)
    .execute(&mut **tx)
    .await?;
    Ok(revived.rows_affected() > 0)
}

/// A new application's environment in one stage (nothing booked yet).
pub async fn insert(tx: &mut Tx, application_id: i64, stage: Stage) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO environments (application_id, stage) VALUES ($1, $2)")
        .bind(application_id)
        .bind(stage)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The environment of an application in a stage (every application has one
/// per stage).
pub async fn id_of(
    conn: &mut AnyConnection,
    application_id: i64,
    stage: Stage,
) -> sqlx::Result<i64> {
    let (id,): (i64,) =
        sqlx::query_as("SELECT id FROM environments WHERE application_id = $1 AND stage = $2")
            .bind(application_id)
            .bind(stage)
            .fetch_one(conn)
            .await?;
    Ok(id)
}

/// An environment with its provisioning status, as the portal shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Environment {
    pub id: i64,
    pub customer_id: i64,
    pub customer_name: String,
    pub customer_slug: String,
    pub contract_id: i64,
    pub application_id: i64,
    pub application_name: String,
    pub application_slug: String,
    pub stage: Stage,
    pub lifecycle: Lifecycle,
    pub open_bookings: i64,
    pub generation: Option<i64>,
    pub done_generation: Option<i64>,
    pub attempts: Option<i64>,
    pub last_error: Option<String>,
    pub last_attempt_ms: Option<i64>,
    pub done_at_ms: Option<i64>,
}

impl Environment {
    pub fn namespace(&self) -> String {
        namespace_name(&self.customer_slug, &self.application_slug, self.stage)
    }
    /// Whether the cluster has caught up with the latest change.
    pub fn sync(&self) -> SyncState {
        SyncState::of(
            self.generation.unwrap_or(0),
            self.done_generation.unwrap_or(0),
            self.last_error.as_deref(),
        )
    }
    /// "Umgebung auflösen" is offered when the namespace exists and nothing
    /// is booked there any more.
    pub fn dissolvable(&self) -> bool {
        self.lifecycle == Lifecycle::Aktiv && self.open_bookings == 0
    }
}

const SELECT: &str = "SELECT e.id, a.customer_id, c.name AS customer_name, c.slug AS customer_slug, \
    a.contract_id, a.id AS application_id, a.name AS application_name, a.slug AS application_slug, \
    e.stage, e.lifecycle, \
    (SELECT CAST(COUNT(*) AS BIGINT) FROM bookings b WHERE b.environment_id = e.id \
       AND b.state <> 'gekuendigt') AS open_bookings, \
    o.generation, o.done_generation, o.attempts, o.last_error, o.last_attempt_ms, o.done_at_ms \
    FROM environments e JOIN applications a ON a.id = e.application_id \
    JOIN customers c ON c.id = a.customer_id \
    LEFT JOIN provisioning_outbox o ON o.environment_id = e.id";

pub async fn find(pool: &AnyPool, id: i64) -> sqlx::Result<Option<Environment>> {
    sqlx::query_as(super::sql(format!("{SELECT} WHERE e.id = $1")))
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// The environments the user may see, optionally of one application, in
/// application and stage order.
pub async fn list(
    pool: &AnyPool,
    scope: Scope,
    application_id: Option<i64>,
) -> sqlx::Result<Vec<Environment>> {
    let Some(visible) = super::Visible::to(scope, "a.customer_id") else {
        return Ok(Vec::new());
    };
    let visible = visible.id("a.id", application_id);
    // Stage order is the chain's order, not the alphabet's.
    let sql = format!(
        "{SELECT}{} ORDER BY a.name, a.id, CASE e.stage WHEN 'vorpruefung' THEN 1 \
         WHEN 'abnahme' THEN 2 WHEN 'schulung' THEN 3 ELSE 4 END",
        visible.sql()
    );
    visible
        .bind(sqlx::query_as::<_, Environment>(super::sql(sql)))
        .fetch_all(pool)
        .await
}

/// Whose environment it is: the customer and the contract its bookings
/// count against.
pub async fn owner(conn: &mut AnyConnection, id: i64) -> sqlx::Result<Option<(i64, i64)>> {
    sqlx::query_as(
        "SELECT a.customer_id, a.contract_id FROM environments e \
         JOIN applications a ON a.id = e.application_id WHERE e.id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

pub async fn lifecycle(conn: &mut AnyConnection, id: i64) -> sqlx::Result<Lifecycle> {
    let (lifecycle,): (Lifecycle,) =
        sqlx::query_as("SELECT lifecycle FROM environments WHERE id = $1")
            .bind(id)
            .fetch_one(conn)
            .await?;
    Ok(lifecycle)
}

/// Marks an environment dissolved: nothing runs there any more.
pub async fn set_dissolved(tx: &mut Tx, id: i64) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE environments SET lifecycle = 'aufgeloest', deployment_id = NULL WHERE id = $1",
    )
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The deployment whose release the environment is to run.
pub async fn set_deployment(tx: &mut Tx, id: i64, deployment_id: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE environments SET deployment_id = $1 WHERE id = $2")
        .bind(deployment_id)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The customer an environment belongs to.
pub async fn customer_of(conn: &mut AnyConnection, id: i64) -> sqlx::Result<i64> {
    let (customer_id,): (i64,) = sqlx::query_as(
        "SELECT a.customer_id FROM environments e JOIN applications a ON a.id = e.application_id \
         WHERE e.id = $1",
    )
    .bind(id)
    .fetch_one(conn)
    .await?;
    Ok(customer_id)
}

/// Where an environment is, for messages: customer, application (id and
/// name), stage and the namespace's parts.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Whereabouts {
    pub customer_id: i64,
    pub customer_slug: String,
    pub application_id: i64,
    pub application_name: String,
    pub application_slug: String,
    pub stage: Stage,
}

impl Whereabouts {
    pub fn namespace(&self) -> String {
        namespace_name(&self.customer_slug, &self.application_slug, self.stage)
    }
}

pub async fn whereabouts(conn: &mut AnyConnection, id: i64) -> sqlx::Result<Option<Whereabouts>> {
    sqlx::query_as(
        "SELECT a.customer_id, c.slug AS customer_slug, a.id AS application_id, \
         a.name AS application_name, a.slug AS application_slug, e.stage \
         FROM environments e JOIN applications a ON a.id = e.application_id \
         JOIN customers c ON c.id = a.customer_id WHERE e.id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}
