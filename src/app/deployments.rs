//! Deployments (Bereitstellungen): starting one inside a delivery, an
//! approval or a retry; superseding what runs; retrying a failure; and the
//! cluster's verdict, recorded once.

use serde_json::json;

use super::{Change, Error, Result, notify, visible};
use crate::{
    db::{self, Db, audit, deployments::Deployment, deployments::Running, outbox},
    domain::{actor::CurrentUser, policy, release::DeploymentState},
    i18n::t,
};

/// Puts `release_id` into the environment within `change`: a new
/// deployment, the environment's desired workload, and the provisioning
/// work. An environment without bookings has no quota for anything to run
/// in; its deployment fails at once, saying so.
pub async fn start(change: &mut Change<'_>, environment_id: i64, release_id: i64) -> Result<i64> {
    supersede(
        change,
        environment_id,
        "Abgelöst durch eine neuere Bereitstellung, bevor der Rollout entschieden war.",
    )
    .await?;
    let now = change.now;
    let open = db::bookings::open_in_environment(change.conn(), environment_id).await?;
    if open == 0 {
        let message = "In dieser Stufe ist nichts gebucht: ohne Kontingent kann die Lieferung \
                       nicht laufen. Bitte buchen und die Bereitstellung wiederholen.";
        let state = DeploymentState::Fehlgeschlagen;
        let id = db::deployments::insert(
            change.tx(),
            &db::deployments::NewRow {
                environment_id,
                release_id,
                state,
                generation: 0,
                message: Some(message),
                now,
                finished_at: Some(now),
            },
        )
        .await?;
        let customer_id = db::environments::customer_of(change.conn(), environment_id).await?;
        change
            .audit_system(audit::Entry {
                customer_id: Some(customer_id),
                action: "deployment.failed",
                object_type: "deployment",
                object_id: id,
                before: None,
                after: Some(json!({"state": state, "message": message})),
            })
            .await?;
        failed(change, id, environment_id, message).await?;
        return Ok(id);
    }
    let generation = change
        .provision(environment_id, outbox::Scope::Full)
        .await?;
    let id = db::deployments::insert(
        change.tx(),
        &db::deployments::NewRow {
            environment_id,
            release_id,
            state: DeploymentState::Laeuft,
            generation,
            message: None,
            now,
            finished_at: None,
        },
    )
    .await?;
    db::environments::set_deployment(change.tx(), environment_id, id).await?;
    Ok(id)
}

/// Tells of a failed deployment (in `change`).
async fn failed(
    change: &mut Change<'_>,
    id: i64,
    environment_id: i64,
    message: &str,
) -> Result<()> {
    let Some(at) = db::environments::whereabouts(change.conn(), environment_id).await? else {
        return Ok(());
    };
    let namespace = at.namespace();
    let place = notify::Place {
        customer_id: at.customer_id,
        application_id: at.application_id,
        application_name: &at.application_name,
        stage: at.stage,
        namespace: &namespace,
    };
    change
        .notify(notify::deployment_failed(id, &place, message))
        .await?;
    Ok(())
}

/// Closes the environment's running deployments, whose rollout will never
/// be decided now (a newer one replaces it, or the environment goes), with
/// an audit entry each.
pub async fn supersede(change: &mut Change<'_>, environment_id: i64, message: &str) -> Result<()> {
    let now = change.now;
    let closed =
        db::deployments::supersede_running(change.tx(), environment_id, message, now).await?;
    if closed.is_empty() {
        return Ok(());
    }
    let customer_id = db::environments::customer_of(change.conn(), environment_id).await?;
    for id in closed {
        change
            .audit_system(audit::Entry {
                customer_id: Some(customer_id),
                action: "deployment.superseded",
                object_type: "deployment",
                object_id: id,
                before: Some(json!({"state": DeploymentState::Laeuft})),
                after: Some(json!({"state": DeploymentState::Abgeloest, "message": message})),
            })
            .await?;
    }
    Ok(())
}

/// A deployment the user may see; another tenant's id is `NotFound`.
pub async fn get(db: &Db, user: &CurrentUser, id: i64) -> Result<Deployment> {
    let mut conn = db.pool.acquire().await?;
    let row = db::deployments::find(&mut conn, id, "").await?;
    visible(user, row, |d| d.customer_id)
}

/// Retries a failed deployment: the same release, a new rollout.
pub async fn retry(db: &Db, user: &CurrentUser, id: i64, now: i64) -> Result<i64> {
    let mut change = Change::begin(db, user, now).await?;
    let d = db::deployments::find(change.conn(), id, db.for_update())
        .await?
        .ok_or(Error::NotFound)?;
    policy::deploy(user, d.customer_id, d.stage)?;
    if d.state != DeploymentState::Fehlgeschlagen {
        return Err(Error::Conflict(t("conflict-retry-not-failed")));
    }
    // Only the latest: an older failure was superseded by what came after.
    if db::deployments::latest_of(change.conn(), d.environment_id).await? != Some(d.id) {
        return Err(Error::Conflict(t("conflict-retry-superseded")));
    }
    let new = start(&mut change, d.environment_id, d.release_id).await?;
    change
        .audit(audit::Entry {
            customer_id: Some(d.customer_id),
            action: "deployment.retried",
            object_type: "deployment",
            object_id: new,
            before: Some(json!({"deployment": d.id, "message": d.message})),
            after: Some(json!({"release": d.release_id, "stage": d.stage})),
        })
        .await?;
    change.commit().await?;
    Ok(new)
}

/// Records the cluster's verdict, once: a second watcher (replica) that
/// comes to the same verdict changes nothing. Whether this call recorded it.
pub async fn finish(
    db: &Db,
    running: &Running,
    succeeded: bool,
    message: &str,
    now: i64,
) -> Result<bool> {
    let mut change = Change::system(db, now).await?;
    let state = if succeeded {
        DeploymentState::Erfolgreich
    } else {
        DeploymentState::Fehlgeschlagen
    };
    if !db::deployments::set_outcome(change.tx(), running.id, state, message, now).await? {
        return Ok(false);
    }
    change
        .audit(audit::Entry {
            customer_id: Some(running.customer_id),
            action: if succeeded {
                "deployment.succeeded"
            } else {
                "deployment.failed"
            },
            object_type: "deployment",
            object_id: running.id,
            before: Some(json!({"state": DeploymentState::Laeuft})),
            after: Some(json!({"state": state, "message": message})),
        })
        .await?;
    if !succeeded {
        failed(&mut change, running.id, running.environment_id, message).await?;
    }
    change.commit().await?;
    Ok(true)
}
