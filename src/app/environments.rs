//! Environments (Umgebungen): what the portal shows of them, "Umgebung
//! auflösen", and the step every booking change takes on its environment.

use serde_json::json;

use super::{Change, Error, Result, deployments, visible};
use crate::{
    db::{self, Db, audit, environments::Environment, outbox},
    domain::{Lifecycle, actor::CurrentUser, policy},
    i18n::{Arg, t, t_with},
};

/// Called in the change of every booking: the environment must exist
/// (again) and the reconciler must look at it. Returns the outbox
/// generation that carries the change.
pub async fn booking_changed(
    change: &mut Change<'_>,
    environment_id: i64,
    activate: bool,
) -> Result<i64> {
    let revived = activate && db::environments::revive(change.tx(), environment_id).await?;
    let scope = if revived {
        outbox::Scope::Full
    } else {
        outbox::Scope::Quota
    };
    change.provision(environment_id, scope).await
}

/// An environment the user may see; another tenant's id is `NotFound`.
pub async fn get(db: &Db, user: &CurrentUser, id: i64) -> Result<Environment> {
    let row = db::environments::find(&db.pool, id).await?;
    visible(user, row, |env| env.customer_id)
}

/// The environments the user may see, optionally of one application.
pub async fn list(
    db: &Db,
    user: &CurrentUser,
    application_id: Option<i64>,
) -> Result<Vec<Environment>> {
    Ok(db::environments::list(&db.pool, user.scope(), application_id).await?)
}

/// "Umgebung auflösen": the Systempfleger:in removes an environment in which
/// nothing is booked any more; the reconciler deletes its namespace.
pub async fn dissolve(db: &Db, user: &CurrentUser, id: i64, now: i64) -> Result<()> {
    let mut change = Change::begin(db, user, now).await?;
    let (customer_id, contract_id) = db::environments::owner(change.conn(), id)
        .await?
        .ok_or(Error::NotFound)?;
    policy::book(user, customer_id)?;
    // Bookings lock the contract; so does this, so that no booking can
    // slip into the environment between the check and the removal.
    db::contracts::load(db, change.conn(), contract_id, true).await?;
    let lifecycle = db::environments::lifecycle(change.conn(), id).await?;
    if lifecycle != Lifecycle::Aktiv {
        return Err(Error::Conflict(t("environment-nothing-to-dissolve")));
    }
    let open = db::bookings::open_in_environment(change.conn(), id).await?;
    if open > 0 {
        return Err(Error::Conflict(t_with(
            "conflict-environment-bookings",
            &[("count", Arg::from(open))],
        )));
    }
    // Nothing runs there any more: a release that ran there is no longer
    // promotable from it, and a rollout in progress is over.
    db::environments::set_dissolved(change.tx(), id).await?;
    deployments::supersede(&mut change, id, "Die Umgebung wurde aufgelöst.").await?;
    change.provision(id, outbox::Scope::Full).await?;
    change
        .audit(audit::Entry {
            customer_id: Some(customer_id),
            action: "environment.dissolved",
            object_type: "environment",
            object_id: id,
            before: Some(json!({"lifecycle": lifecycle})),
            after: Some(json!({"lifecycle": Lifecycle::Aufgeloest})),
        })
        .await?;
    change.commit().await
}

#[cfg(test)]
mod tests {
    use crate::i18n::{Arg, Lang};

    #[test]
    fn the_refusal_to_dissolve_counts_the_open_bookings_in_either_language() {
        let text = |lang: Lang, n: i64| {
            lang.t_with("conflict-environment-bookings", &[("count", Arg::from(n))])
        };
        assert_eq!(
            text(Lang::De, 1),
            "In dieser Umgebung ist noch 1 Buchung aktiv; bitte erst kündigen."
        );
        assert_eq!(
            text(Lang::De, 3),
            "In dieser Umgebung sind noch 3 Buchungen aktiv; bitte erst kündigen."
        );
        assert_eq!(
            text(Lang::En, 1),
            "There is still 1 active booking in this environment; please cancel it first."
        );
        assert_eq!(
            text(Lang::En, 3),
            "There are still 3 active bookings in this environment; please cancel them first."
        );
    }
}
