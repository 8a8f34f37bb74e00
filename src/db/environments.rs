//! Environments (Umgebungen): their desired state for the provisioning
//! layer, their provisioning status for the portal, and "Umgebung auflösen".

use serde_json::json;
use sqlx::AnyPool;

use super::{Db, Tx, audit, contracts, outbox};
use crate::{
    domain::actor::{CurrentUser, Scope},
    domain::{
        Lifecycle, Resources, Stage,
        environment::{EnvironmentSpec, SyncState, Workload, namespace_name},
    },
    error::{Error, Result},
};

#[derive(sqlx::FromRow)]
struct SpecRow {
    id: i64,
    customer: String,
    application: String,
    stage: String,
    contract: String,
    lifecycle: String,
    millicpu: i64,
    memory_mib: i64,
    storage_gib: i64,
    pods: i64,
    deployment_id: Option<i64>,
    image: Option<String>,
}

impl SpecRow {
    fn into_spec(self) -> Option<EnvironmentSpec> {
        Some(EnvironmentSpec {
            id: self.id,
            customer: self.customer,
            application: self.application,
            stage: self.stage.parse().ok()?,
            contract: self.contract,
            lifecycle: self.lifecycle.parse().ok()?,
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
        })
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
    Ok(row.and_then(SpecRow::into_spec))
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
    Ok(rows.into_iter().filter_map(SpecRow::into_spec).collect())
}

/// Called in the transaction of every booking change: the environment must
/// exist (again) and the reconciler must look at it. Returns the outbox
/// generation that carries the change.
pub async fn changed(tx: &mut Tx, environment_id: i64, activate: bool) -> sqlx::Result<i64> {
    let mut scope = outbox::Scope::Quota;
    if activate {
        let revived = sqlx::query(
            "UPDATE environments SET lifecycle = 'aktiv' WHERE id = $1 AND lifecycle <> 'aktiv'",
        )
        .bind(environment_id)
        .execute(&mut **tx)
        .await?;
        if revived.rows_affected() > 0 {
            scope = outbox::Scope::Full;
        }
    }
    outbox::enqueue(tx, environment_id, scope).await
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
    pub stage: String,
    pub lifecycle: String,
    pub open_bookings: i64,
    pub generation: Option<i64>,
    pub done_generation: Option<i64>,
    pub attempts: Option<i64>,
    pub last_error: Option<String>,
    pub last_attempt_ms: Option<i64>,
    pub done_at_ms: Option<i64>,
}

impl Environment {
    pub fn stage(&self) -> Stage {
        self.stage.parse().unwrap_or(Stage::Vorpruefung)
    }
    pub fn lifecycle(&self) -> Lifecycle {
        self.lifecycle.parse().unwrap_or(Lifecycle::Leer)
    }
    pub fn namespace(&self) -> String {
        namespace_name(&self.customer_slug, &self.application_slug, self.stage())
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
        self.lifecycle() == Lifecycle::Aktiv && self.open_bookings == 0
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

/// An environment the user may see; another tenant's id is `NotFound`.
pub async fn get(pool: &AnyPool, user: &CurrentUser, id: i64) -> Result<Environment> {
    let env: Option<Environment> = sqlx::query_as(super::sql(format!("{SELECT} WHERE e.id = $1")))
        .bind(id)
        .fetch_optional(pool)
        .await?;
    env.filter(|e| user.can_see(e.customer_id))
        .ok_or(Error::NotFound)
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

/// "Umgebung auflösen": the Systempfleger:in removes an environment in which
/// nothing is booked any more; the reconciler deletes its namespace.
pub async fn dissolve(db: &Db, user: &CurrentUser, id: i64, now: i64) -> Result<()> {
    let mut tx = db.begin_write().await?;
    let head: Option<(i64, i64, String)> = sqlx::query_as(
        "SELECT a.customer_id, a.contract_id, e.lifecycle FROM environments e \
         JOIN applications a ON a.id = e.application_id WHERE e.id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let (customer_id, contract_id, _) = head
        .filter(|(customer_id, _, _)| user.can_see(*customer_id))
        .ok_or(Error::NotFound)?;
    if !user.can_book_for(customer_id) {
        return Err(Error::Forbidden);
    }
    // Bookings lock the contract; so does this, so that no booking can
    // slip into the environment between the check and the removal.
    contracts::load(db, &mut tx, contract_id, true).await?;
    let (lifecycle, open): (String, i64) = sqlx::query_as(
        "SELECT e.lifecycle, (SELECT CAST(COUNT(*) AS BIGINT) FROM bookings b \
           WHERE b.environment_id = e.id AND b.state <> 'gekuendigt') \
         FROM environments e WHERE e.id = $1",
    )
    .bind(id)
    .fetch_one(&mut *tx)
    .await?;
    if lifecycle != Lifecycle::Aktiv.as_str() {
        return Err(Error::Conflict(
            "Diese Umgebung ist nicht eingerichtet; es gibt nichts aufzulösen.".into(),
        ));
    }
    if open > 0 {
        return Err(Error::Conflict(format!(
            "In dieser Umgebung {} noch {open} Buchung{} aktiv; bitte erst kündigen.",
            if open == 1 { "ist" } else { "sind" },
            if open == 1 { "" } else { "en" },
        )));
    }
    // Nothing runs there any more: a release that ran there is no longer
    // promotable from it, and a rollout in progress is over.
    sqlx::query(
        "UPDATE environments SET lifecycle = 'aufgeloest', deployment_id = NULL WHERE id = $1",
    )
    .bind(id)
    .execute(&mut *tx)
    .await?;
    super::deployments::supersede(&mut tx, id, "Die Umgebung wurde aufgelöst.", now).await?;
    outbox::enqueue(&mut tx, id, outbox::Scope::Full).await?;
    audit::record(
        &mut tx,
        user,
        now,
        audit::Entry {
            customer_id: Some(customer_id),
            action: "environment.dissolved",
            object_type: "environment",
            object_id: id,
            before: Some(json!({"lifecycle": lifecycle})),
            after: Some(json!({"lifecycle": Lifecycle::Aufgeloest.as_str()})),
        },
    )
    .await?;
    tx.commit().await?;
    db.wake_provisioning();
    Ok(())
}
