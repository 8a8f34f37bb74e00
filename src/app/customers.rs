//! Customers (Kunden): the public authorities the provider serves. The
//! Betreiber creates and renames them; the slug is part of Kubernetes names
//! and never changes.

use serde_json::json;

use super::{
    Begun, Change, Created, Error, Result,
    error::on_constraint,
    listing::{self, Key as SortKey, Sort},
    visible,
};
use crate::{
    db::{self, Db, audit, customers::Customer},
    domain::{Slug, actor::CurrentUser, idempotency::Key, policy, text::Text},
};

/// A new customer, parsed at the edge.
#[derive(Debug, Clone)]
pub struct NewCustomer {
    pub slug: Slug,
    pub name: Text,
}

/// Longest name of a customer or an application.
pub const MAX_NAME: usize = 200;

pub async fn create(db: &Db, user: &CurrentUser, new: &NewCustomer, now: i64) -> Result<i64> {
    Ok(create_once(db, user, new, None, now).await?.id())
}

/// Creates a customer; a retry with the same idempotency `key` answers the
/// customer created the first time.
pub async fn create_once(
    db: &Db,
    user: &CurrentUser,
    new: &NewCustomer,
    key: Option<&Key>,
    now: i64,
) -> Result<Created> {
    policy::administer(user)?;
    let mut change = match Change::begin_idempotent(db, user, now, key).await? {
        Begun::Fresh(change) => change,
        Begun::Replayed(id) => return Ok(Created::Replayed(id)),
    };
    let id = db::customers::insert(change.tx(), new.slug.as_str(), new.name.as_str(), now)
        .await
        .map_err(on_constraint)?;
    change
        .audit(audit::Entry {
            customer_id: Some(id),
            action: "customer.created",
            object_type: "customer",
            object_id: id,
            before: None,
            after: Some(json!({"slug": new.slug.as_str(), "name": new.name})),
        })
        .await?;
    change.commit_created(id).await
}

/// Renames a customer.
pub async fn rename(db: &Db, user: &CurrentUser, id: i64, name: &Text, now: i64) -> Result<()> {
    policy::administer(user)?;
    let mut change = Change::begin(db, user, now).await?;
    let before = db::customers::name_for_update(change.conn(), id, db.for_update())
        .await?
        .ok_or(Error::NotFound)?;
    db::customers::set_name(change.tx(), id, name.as_str()).await?;
    change
        .audit(audit::Entry {
            customer_id: Some(id),
            action: "customer.updated",
            object_type: "customer",
            object_id: id,
            before: Some(json!({"name": before})),
            after: Some(json!({"name": name})),
        })
        .await?;
    change.commit().await
}

/// A customer the user may see; another's id is `NotFound`.
pub async fn get(db: &Db, user: &CurrentUser, id: i64) -> Result<Customer> {
    let row = db::customers::find(&db.pool, id).await?;
    visible(user, row, |customer| customer.id)
}

/// The customer the person belongs to (`None` for the provider's staff),
/// whatever their roles: everyone may know whom they work for.
pub async fn of_person(db: &Db, user: &CurrentUser) -> Result<Option<Customer>> {
    match user.customer_id {
        Some(id) => Ok(db::customers::find(&db.pool, id).await?),
        None => Ok(None),
    }
}

/// The customers the user may see.
pub async fn list(db: &Db, user: &CurrentUser) -> Result<Vec<Customer>> {
    Ok(db::customers::list(&db.pool, user.scope()).await?)
}

/// The fields the customer list sorts by.
pub const SORTS: &[&str] = &["id", "name", "slug"];

/// The customers the user may see whose name or slug contains `wanted`
/// (lower-cased, see [`super::listing::search`]), in `sort`'s order: the
/// API's list and the Betreiber's page.
pub async fn search(
    db: &Db,
    user: &CurrentUser,
    wanted: Option<&str>,
    sort: Sort,
) -> Result<Vec<Customer>> {
    let mut found: Vec<Customer> = list(db, user)
        .await?
        .into_iter()
        .filter(|c| listing::matches(wanted, &[&c.name, &c.slug]))
        .collect();
    listing::sort(&mut found, sort, |c, field| match field {
        "name" => SortKey::text(&c.name),
        "slug" => SortKey::text(&c.slug),
        _ => SortKey::Int(c.id),
    });
    Ok(found)
}
