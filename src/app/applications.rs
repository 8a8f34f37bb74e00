//! Applications (IT-Fachverfahren): created by the Betreiber under a
//! contract of the customer, with one environment per stage; renamed and
//! moved to another contract of the customer by the Betreiber.

use serde_json::json;

use super::{Begun, Change, Created, Error, Result, error::on_constraint, visible};
use crate::{
    db::{self, Db, applications::Application, audit},
    domain::{
        Slug, Stage, actor::CurrentUser, idempotency::Key, kontingent::Commitment, policy,
        text::Text,
    },
    i18n::{Arg, t, t_with},
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
            t("invalid-contract-of-customer"),
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

/// Renames an application (Betreiber); its slug, and so its namespaces,
/// stay as they are.
pub async fn rename(db: &Db, user: &CurrentUser, id: i64, name: &Text, now: i64) -> Result<()> {
    policy::administer(user)?;
    let mut change = Change::begin(db, user, now).await?;
    let before = db::applications::find(&mut *change.conn(), id)
        .await?
        .ok_or(Error::NotFound)?;
    if before.name == name.as_str() {
        return change.commit().await;
    }
    db::applications::set_name(change.tx(), id, name.as_str()).await?;
    change
        .audit(audit::Entry {
            customer_id: Some(before.customer_id),
            action: "application.renamed",
            object_type: "application",
            object_id: id,
            before: Some(json!({"name": before.name})),
            after: Some(json!({"name": name})),
        })
        .await?;
    change.commit().await
}

/// Moves an application to another contract of its customer (Betreiber).
/// Its open bookings go along: each ends under the old contract now and
/// continues under the new one from now, with the same size in the same
/// environment, so that each contract is billed for its own part of the
/// month and the cluster sees no change. The new contract's Kontingent must
/// admit them all; both contracts are locked (in id order, so that two moves
/// in opposite directions cannot deadlock).
pub async fn move_to(
    db: &Db,
    user: &CurrentUser,
    id: i64,
    contract_id: i64,
    now: i64,
) -> Result<()> {
    policy::administer(user)?;
    let mut change = Change::begin(db, user, now).await?;
    let (customer_id, from_id) = db::applications::owner(change.conn(), id)
        .await?
        .ok_or(Error::NotFound)?;
    if db::contracts::customer_of(change.conn(), contract_id).await? != Some(customer_id) {
        return Err(Error::validation(
            "contract_id",
            t("invalid-contract-of-customer"),
        ));
    }
    if contract_id == from_id {
        return Err(Error::Conflict(t("conflict-application-same-contract")));
    }
    let (first, second) = (from_id.min(contract_id), from_id.max(contract_id));
    let mut to = None;
    for locked in [first, second] {
        let contract = db::contracts::load(db, change.conn(), locked, true).await?;
        if locked == contract_id {
            to = contract;
        }
    }
    let to = to.ok_or(Error::NotFound)?;
    let open = db::bookings::open_of_application(change.conn(), id, now).await?;
    if !open.is_empty() {
        if !to.is_valid_at(now) {
            return Err(Error::ContractNotValid(t_with(
                "contract-not-valid-move",
                &[
                    ("number", Arg::from(to.number.as_str())),
                    ("from", Arg::from(to.valid_from.to_string())),
                    ("until", Arg::from(to.valid_until.to_string())),
                ],
            )));
        }
        let moving = open
            .iter()
            .map(|b| Commitment {
                resources: b.resources(),
                monthly_exact: b.rate().monthly_exact(),
            })
            .fold(Commitment::default(), |sum, c| sum + c);
        let committed = db::contracts::usage(&mut *change.conn(), &to, now).await?;
        to.kontingent()
            .admit(&committed, &moving)
            .map_err(|exceeded| {
                // Moving a whole application offers no size to pick instead.
                super::bookings::refused(&to, &committed, &moving, exceeded, Vec::new())
            })?;
    }
    db::applications::set_contract(change.tx(), id, contract_id).await?;
    for booking in &open {
        let (carried, closed) =
            db::bookings::carry_over(change.tx(), booking, contract_id, user.id, now).await?;
        super::bookings::settle(change.tx(), closed).await?;
        change
            .audit(audit::Entry {
                customer_id: Some(customer_id),
                action: "booking.moved",
                object_type: "booking",
                object_id: booking.id,
                before: Some(json!({"contract_id": from_id})),
                after: Some(json!({"contract_id": contract_id, "booking_id": carried})),
            })
            .await?;
    }
    change
        .audit(audit::Entry {
            customer_id: Some(customer_id),
            action: "application.moved",
            object_type: "application",
            object_id: id,
            before: Some(json!({"contract_id": from_id})),
            after: Some(json!({"contract_id": contract_id,
                "bookings": open.iter().map(|b| b.id).collect::<Vec<_>>()})),
        })
        .await?;
    change.commit().await
}
