//! The catalogue (Katalog): products in S/M/L/XL, the resources each size
//! grants, and versioned hourly prices. Only the Betreiber changes it.

use jiff::civil::Date;
use serde_json::json;

use super::{Begun, Change, Created, Error, Result, error::on_constraint};
use crate::{
    db::{self, Db, audit},
    domain::{
        HourlyRate, Resources, Slug,
        actor::CurrentUser,
        calendar::{berlin_date, berlin_midnight},
        idempotency::Key,
        policy,
        text::Text,
    },
    i18n::t,
};

/// A new product, parsed at the edge.
#[derive(Debug, Clone)]
pub struct NewProduct {
    pub slug: Slug,
    pub name: Text,
    pub description: Option<Text>,
}

/// A new price version of a size, parsed at the edge.
#[derive(Debug, Clone)]
pub struct NewPrice {
    pub product_size_id: i64,
    /// The German day it starts on, at midnight.
    pub valid_from: Date,
    pub rate: HourlyRate,
}

/// Adds a price version. Prices start at a German midnight, not before
/// tomorrow: a past price is what was billed and must not change.
pub async fn add_price(db: &Db, user: &CurrentUser, new: &NewPrice, now: i64) -> Result<i64> {
    Ok(add_price_once(db, user, new, None, now).await?.id())
}

/// Like [`add_price`]; a retry with the same idempotency `key` answers the
/// version added the first time.
pub async fn add_price_once(
    db: &Db,
    user: &CurrentUser,
    new: &NewPrice,
    key: Option<&Key>,
    now: i64,
) -> Result<Created> {
    policy::administer(user)?;
    let mut change = match Change::begin_idempotent(db, user, now, key).await? {
        Begun::Fresh(change) => change,
        Begun::Replayed(id) => return Ok(Created::Replayed(id)),
    };
    if !db::catalog::size_exists(change.conn(), new.product_size_id).await? {
        return Err(Error::validation(
            "product_size_id",
            t("invalid-size-unknown"),
        ));
    }
    // The first price of a new size may start today: nothing can have been
    // booked (let alone billed) without a price.
    let today = berlin_date(now);
    let earliest = if db::catalog::price_count(change.conn(), new.product_size_id).await? == 0 {
        today
    } else {
        today.tomorrow().unwrap_or(today)
    };
    if new.valid_from < earliest {
        return Err(Error::validation("valid_from", t("invalid-price-from")));
    }
    let valid_from = berlin_midnight(new.valid_from);
    let id = db::catalog::insert_price(change.tx(), new.product_size_id, valid_from, new.rate, now)
        .await
        .map_err(on_constraint)?;
    change
        .audit(audit::Entry {
            customer_id: None,
            action: "price.created",
            object_type: "price",
            object_id: id,
            before: None,
            after: Some(json!({"product_size_id": new.product_size_id,
                "valid_from": valid_from, "rate": new.rate.0})),
        })
        .await?;
    change.commit_created(id).await
}

/// Changes the rate of a price version that has not started yet.
pub async fn update_price(
    db: &Db,
    user: &CurrentUser,
    id: i64,
    rate: HourlyRate,
    now: i64,
) -> Result<()> {
    policy::administer(user)?;
    let mut change = Change::begin(db, user, now).await?;
    let before = db::catalog::price_for_update(change.conn(), id, db.for_update())
        .await?
        .ok_or(Error::NotFound)?;
    if before.valid_from <= now {
        return Err(Error::Conflict(t("conflict-price-started")));
    }
    db::catalog::set_rate(change.tx(), id, rate).await?;
    change
        .audit(audit::Entry {
            customer_id: None,
            action: "price.updated",
            object_type: "price",
            object_id: id,
            before: Some(json!({"rate": before.rate})),
            after: Some(json!({"rate": rate.0})),
        })
        .await?;
    change.commit().await
}

/// Changes what a size grants from now on. Existing bookings keep the vector
/// they were booked with (their periods hold a copy).
pub async fn update_size(
    db: &Db,
    user: &CurrentUser,
    id: i64,
    resources: &Resources,
    now: i64,
) -> Result<()> {
    policy::administer(user)?;
    let mut change = Change::begin(db, user, now).await?;
    let before = db::catalog::size_by_id(change.conn(), id, now)
        .await?
        .ok_or(Error::NotFound)?;
    db::catalog::set_resources(change.tx(), id, resources).await?;
    change
        .audit(audit::Entry {
            customer_id: None,
            action: "product_size.updated",
            object_type: "product_size",
            object_id: id,
            before: Some(json!(before.resources())),
            after: Some(json!(resources)),
        })
        .await?;
    change.commit().await
}

/// Creates a product with its four sizes, all zero and without price; the
/// Betreiber then sets each size's resources and first price.
pub async fn create_product(
    db: &Db,
    user: &CurrentUser,
    new: &NewProduct,
    now: i64,
) -> Result<i64> {
    policy::administer(user)?;
    let mut change = Change::begin(db, user, now).await?;
    let description = new.description.as_ref().map_or("", Text::as_str);
    let id = db::catalog::insert_product(
        change.tx(),
        new.slug.as_str(),
        new.name.as_str(),
        description,
        now,
    )
    .await
    .map_err(on_constraint)?;
    change
        .audit(audit::Entry {
            customer_id: None,
            action: "product.created",
            object_type: "product",
            object_id: id,
            before: None,
            after: Some(json!({"slug": new.slug.as_str(), "name": new.name})),
        })
        .await?;
    change.commit().await?;
    Ok(id)
}

/// One size of a product, with its price now.
pub async fn size(db: &Db, id: i64) -> Result<db::catalog::SizeRow> {
    let mut conn = db.pool.acquire().await?;
    db::catalog::size_by_id(&mut conn, id, db::now())
        .await?
        .ok_or(Error::NotFound)
}
