//! Contracts (Dienstleistungsvereinbarungen) with their Kontingent: created
//! and changed by the Betreiber, read by the customer's people.

use std::collections::HashMap;

use super::{
    Begun, Change, Created, Error, Result,
    error::on_constraint,
    listing::{self, Key as SortKey, Sort},
    visible,
};
use crate::{
    db::{self, Db, audit, contracts::Contract},
    domain::{
        actor::CurrentUser,
        contract::Terms,
        idempotency::Key,
        kontingent::{BelowUse, Commitment},
        policy,
    },
    i18n::t,
};

pub async fn create(
    db: &Db,
    user: &CurrentUser,
    customer_id: i64,
    terms: &Terms,
    now: i64,
) -> Result<i64> {
    Ok(create_once(db, user, customer_id, terms, None, now)
        .await?
        .id())
}

/// Creates a contract; a retry with the same idempotency `key` answers the
/// contract created the first time.
pub async fn create_once(
    db: &Db,
    user: &CurrentUser,
    customer_id: i64,
    terms: &Terms,
    key: Option<&Key>,
    now: i64,
) -> Result<Created> {
    policy::administer(user)?;
    let mut change = match Change::begin_idempotent(db, user, now, key).await? {
        Begun::Fresh(change) => change,
        Begun::Replayed(id) => return Ok(Created::Replayed(id)),
    };
    if db::customers::find(&db.pool, customer_id).await?.is_none() {
        return Err(Error::validation(
            "customer_id",
            t("invalid-customer-unknown"),
        ));
    }
    let id = db::contracts::insert(change.tx(), customer_id, terms, now)
        .await
        .map_err(on_constraint)?;
    change
        .audit(audit::Entry {
            customer_id: Some(customer_id),
            action: "contract.created",
            object_type: "contract",
            object_id: id,
            before: None,
            after: Some(terms.snapshot()),
        })
        .await?;
    change.commit_created(id).await
}

/// Changes a contract's terms. The customer of a contract never changes.
///
/// Lowering a ceiling below what is booked under it is refused
/// (`BelowUse`, with the figures) unless `confirm_below_use`: it stops new
/// bookings until use falls, which nobody should do by accident. With
/// `expected_version` (what the editor read, [`Terms::version`]) a change
/// made meanwhile by someone else is refused (`Stale`) instead of being
/// overwritten.
pub async fn update(
    db: &Db,
    user: &CurrentUser,
    id: i64,
    terms: &Terms,
    expected_version: Option<&str>,
    confirm_below_use: bool,
    now: i64,
) -> Result<()> {
    policy::administer(user)?;
    let mut change = Change::begin(db, user, now).await?;
    // Locked like a booking locks it, so no booking slips in between the
    // use read here and the new ceilings.
    let before = db::contracts::load(db, change.conn(), id, true)
        .await?
        .ok_or(Error::NotFound)?;
    if let Some(expected) = expected_version
        && before.terms().map(|t| t.version()).ok().as_deref() != Some(expected)
    {
        return Err(Error::Stale("stale-contract"));
    }
    let committed = db::contracts::usage(change.conn(), &before, now).await?;
    let below = terms
        .kontingent
        .lowered_below_use(&before.kontingent(), &committed);
    if !below.is_empty() && !confirm_below_use {
        return Err(Error::BelowUse(below));
    }
    db::contracts::update(change.tx(), id, terms)
        .await
        .map_err(on_constraint)?;
    change
        .audit(audit::Entry {
            customer_id: Some(before.customer_id),
            action: "contract.updated",
            object_type: "contract",
            object_id: id,
            before: before.terms().ok().map(|t| t.snapshot()),
            after: Some(with_confirmation(terms.snapshot(), &below)),
        })
        .await?;
    change.commit().await
}

/// The terms as audited, naming the ceilings that were knowingly lowered
/// below use.
fn with_confirmation(mut snapshot: serde_json::Value, below: &[BelowUse]) -> serde_json::Value {
    if !below.is_empty() {
        let limits: Vec<&str> = below.iter().map(|b| b.limit.label()).collect();
        snapshot["below_use_confirmed"] = serde_json::json!(limits);
    }
    snapshot
}

/// A contract the user may see; another tenant's id is `NotFound`.
pub async fn get(db: &Db, user: &CurrentUser, id: i64) -> Result<Contract> {
    let row = db::contracts::find(&db.pool, id).await?;
    visible(user, row, |contract| contract.customer_id)
}

/// The contracts the user may see.
pub async fn list(db: &Db, user: &CurrentUser) -> Result<Vec<Contract>> {
    Ok(db::contracts::list(&db.pool, user.scope()).await?)
}

/// The contracts the user may see with what is committed under each at
/// `now`.
pub async fn list_with_usage(
    db: &Db,
    user: &CurrentUser,
    now: i64,
) -> Result<(Vec<Contract>, HashMap<i64, Commitment>)> {
    let scope = user.scope();
    let contracts = db::contracts::list(&db.pool, scope).await?;
    let usage = db::contracts::usage_of_all(&db.pool, &contracts, scope, now).await?;
    Ok((contracts, usage))
}

/// The fields the contract list sorts by.
pub const SORTS: &[&str] = &["id", "number", "customer", "valid_from", "valid_until"];

/// What the contract list is narrowed to.
#[derive(Debug, Clone, Default)]
pub struct Wanted {
    /// Only this customer's contracts.
    pub customer_id: Option<i64>,
    /// A part of the number, title, customer, Kostenstelle, Haushaltsstelle
    /// or Leitweg-ID (lower-cased, see [`super::listing::search`]).
    pub text: Option<String>,
}

/// The contracts the user may see that match `wanted`, in `sort`'s order,
/// with what is committed under each at `now`: the API's list and the
/// Betreiber's page.
pub async fn search(
    db: &Db,
    user: &CurrentUser,
    wanted: &Wanted,
    sort: Sort,
    now: i64,
) -> Result<Vec<(Contract, Commitment)>> {
    let scope = user.scope();
    let mut found: Vec<Contract> = db::contracts::list(&db.pool, scope)
        .await?
        .into_iter()
        .filter(|k| wanted.customer_id.is_none_or(|c| k.customer_id == c))
        .filter(|k| {
            listing::matches(
                wanted.text.as_deref(),
                &[
                    &k.number,
                    &k.title,
                    &k.customer_name,
                    &k.kostenstelle,
                    &k.haushaltsstelle,
                    &k.leitweg_id,
                ],
            )
        })
        .collect();
    listing::sort(&mut found, sort, |k, field| match field {
        "number" => SortKey::text(&k.number),
        "customer" => SortKey::text(&k.customer_name),
        "valid_from" => SortKey::text(&k.valid_from.to_string()),
        "valid_until" => SortKey::text(&k.valid_until.to_string()),
        _ => SortKey::Int(k.id),
    });
    let usage = db::contracts::usage_of_all(&db.pool, &found, scope, now).await?;
    Ok(found
        .into_iter()
        .map(|k| {
            let used = usage.get(&k.id).copied().unwrap_or_default();
            (k, used)
        })
        .collect())
}
