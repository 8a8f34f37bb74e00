//! Applications (IT-Fachverfahren): created by the Betreiber under a
//! contract of the customer, with one environment per stage.

use serde_json::json;

use super::{Begun, Change, Created, Error, Result, error::on_constraint, visible};
use crate::{
    db::{self, Db, applications::Application, audit},
    domain::{Slug, Stage, actor::CurrentUser, idempotency::Key, policy, text::Text},
};

/// A new application, parsed at the edge.
#[derive(Debug, Clone)]
pub struct NewApplication {
    pub contract_id: i64,
    pub slug: Slug,
    pub name: Text,
}

/// Creates an application under a contract of `customer_id`.
pub async fn create(
    db: &Db,
    user: &CurrentUser,
    customer_id: i64,
    new: &NewApplication,
    now: i64,
) -> Result<i64> {
    Ok(create_once(db, user, customer_id, new, None, now)
        .await?
        .id())
}

/// Like [`create`]; a retry with the same idempotency `key` answers the
/// application created the first time.
pub async fn create_once(
    db: &Db,
    user: &CurrentUser,
    customer_id: i64,
    new: &NewApplication,
    key: Option<&Key>,
    now: i64,
) -> Result<Created> {
    policy::administer(user)?;
    let mut change = match Change::begin_idempotent(db, user, now, key).await? {
        Begun::Fresh(change) => change,
        Begun::Replayed(id) => return Ok(Created::Replayed(id)),
    };
    let contract_customer = db::contracts::customer_of(change.conn(), new.contract_id).await?;
    if contract_customer != Some(customer_id) {
        return Err(Error::validation(
            "contract_id",
            "Bitte einen Vertrag dieses Kunden wählen.",
        ));
    }
    let id = db::applications::insert(
        change.tx(),
        customer_id,
        new.contract_id,
        new.slug.as_str(),
        new.name.as_str(),
        now,
    )
    .await
    .map_err(on_constraint)?;
    for stage in Stage::ALL {
        db::environments::insert(change.tx(), id, stage).await?;
    }
    change
        .audit(audit::Entry {
            customer_id: Some(customer_id),
            action: "application.created",
            object_type: "application",
            object_id: id,
            before: None,
            after: Some(json!({"slug": new.slug.as_str(), "name": new.name,
                "contract_id": new.contract_id})),
        })
        .await?;
    change.commit_created(id).await
}

/// An application the user may see; another tenant's id is `NotFound`.
pub async fn get(db: &Db, user: &CurrentUser, id: i64) -> Result<Application> {
    let row = db::applications::find(&db.pool, id).await?;
    visible(user, row, |app| app.customer_id)
}

/// The applications the user may see.
pub async fn list(db: &Db, user: &CurrentUser) -> Result<Vec<Application>> {
    Ok(db::applications::list(&db.pool, user.scope()).await?)
}
