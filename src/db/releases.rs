//! Releases (Lieferungen): a delivery passes the Checkup and goes into
//! Vorprüfung at once, or is refused and recorded with the reason.

use std::collections::BTreeMap;

use serde_json::json;
use sqlx::AnyPool;

use super::{Db, Tx, audit, bookings::Created, deployments, idempotency};
use crate::{
    domain::actor::CurrentUser,
    domain::{
        Role, Stage,
        release::{self, Refusal},
    },
    error::{Error, FieldErrors, Result},
};

/// A delivery as the API receives it.
#[derive(Debug, Clone, Default)]
pub struct Delivery {
    pub version: String,
    pub image: String,
    pub checksums: BTreeMap<String, String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Release {
    pub id: i64,
    pub customer_id: i64,
    pub application_id: i64,
    pub version: String,
    pub image: String,
    pub pinned_image: String,
    pub checksums_json: String,
    pub checkup: String,
    pub refusal_code: Option<String>,
    pub refusal: Option<String>,
    pub delivered_by: Option<i64>,
    pub delivered_at: i64,
}

impl Release {
    pub fn accepted(&self) -> bool {
        self.checkup == "bestanden"
    }
    pub fn checksums(&self) -> BTreeMap<String, String> {
        serde_json::from_str(&self.checksums_json).unwrap_or_default()
    }
}

const SELECT: &str = "SELECT id, customer_id, application_id, version, image, pinned_image, \
    checksums_json, checkup, refusal_code, refusal, delivered_by, delivered_at FROM releases";

/// Developers deliver; so may the Systempfleger:in, of the same customer.
pub fn may_deliver(user: &CurrentUser, customer_id: i64) -> bool {
    user.customer_id == Some(customer_id)
        && (user.has(Role::Entwickler) || user.has(Role::Systempfleger))
}

/// The application's customer, if `user` may see it.
async fn application_customer(pool: &AnyPool, user: &CurrentUser, id: i64) -> Result<i64> {
    let row: Option<(i64,)> = sqlx::query_as("SELECT customer_id FROM applications WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    row.map(|(c,)| c)
        .filter(|c| user.can_see(*c))
        .ok_or(Error::NotFound)
}

/// Delivers a release. Accepted: recorded, and deployed into Vorprüfung in
/// the same transaction. Refused by the Checkup: recorded as refused, with
/// the reason, and answered as `Error::Checkup`. With an `Idempotency-Key`
/// a retry of an accepted delivery gets the first answer back.
pub async fn deliver(
    db: &Db,
    user: &CurrentUser,
    application_id: i64,
    delivery: &Delivery,
    key: Option<&idempotency::Key>,
    allowed_registries: &[String],
    now: i64,
) -> Result<Created> {
    let customer_id = application_customer(&db.pool, user, application_id).await?;
    if !may_deliver(user, customer_id) {
        return Err(Error::Forbidden);
    }
    let version = release::valid_version(&delivery.version)
        .map_err(|m| Error::Validation(FieldErrors::single("version", m)))?
        .to_owned();
    if delivery.image.trim().is_empty() {
        return Err(Error::Validation(FieldErrors::single(
            "image",
            "Bitte eine Image-Referenz angeben.",
        )));
    }
    let attempt = Attempt {
        customer_id,
        application_id,
        version: &version,
        delivery,
    };
    let mut tx = db.begin_write().await?;
    if let Some(key) = key
        && let Some(id) = idempotency::find(&mut tx, user.id, key).await?
    {
        return Ok(Created::Replayed(id));
    }
    let image = match release::checkup(&delivery.image, &delivery.checksums, allowed_registries) {
        Ok(image) => image,
        Err(refusal) => {
            drop(tx);
            return refuse(db, user, &attempt, refusal, now).await;
        }
    };
    let (taken,): (i64,) = sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM releases WHERE application_id = $1 \
         AND version = $2 AND checkup = 'bestanden'",
    )
    .bind(application_id)
    .bind(&version)
    .fetch_one(&mut *tx)
    .await?;
    if taken > 0 {
        drop(tx);
        return refuse(
            db,
            user,
            &attempt,
            Refusal::DuplicateVersion(version.clone()),
            now,
        )
        .await;
    }
    if let Some(key) = key {
        match idempotency::claim(&mut tx, user.id, key, now).await {
            Ok(()) => {}
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                drop(tx);
                return idempotency::replay_after_race(db, user.id, key)
                    .await
                    .map(Created::Replayed);
            }
            Err(e) => return Err(e.into()),
        }
    }
    let id = match insert(&mut tx, user, &attempt, &image.pinned(), None, now).await {
        Ok(id) => id,
        // The same version delivered twice at the same moment: the other
        // one won; this one is refused like any duplicate, and recorded.
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            drop(tx);
            return refuse(
                db,
                user,
                &attempt,
                Refusal::DuplicateVersion(version.clone()),
                now,
            )
            .await;
        }
        Err(e) => return Err(e.into()),
    };
    let (environment_id,): (i64,) =
        sqlx::query_as("SELECT id FROM environments WHERE application_id = $1 AND stage = $2")
            .bind(application_id)
            .bind(Stage::Vorpruefung.as_str())
            .fetch_one(&mut *tx)
            .await?;
    let deployment = deployments::start(&mut tx, environment_id, id, now).await?;
    audit::record(
        &mut tx,
        user,
        now,
        audit::Entry {
            customer_id: Some(customer_id),
            action: "release.delivered",
            object_type: "release",
            object_id: id,
            before: None,
            after: Some(json!({"release": attempt.summary("bestanden", None),
                "deployment": deployment, "stage": Stage::Vorpruefung.as_str()})),
        },
    )
    .await?;
    if let Some(key) = key {
        idempotency::complete(&mut tx, user.id, key, id).await?;
    }
    tx.commit().await?;
    db.wake_provisioning();
    Ok(Created::New(id))
}

/// A delivery as it is recorded, accepted or not.
struct Attempt<'a> {
    customer_id: i64,
    application_id: i64,
    version: &'a str,
    delivery: &'a Delivery,
}

impl Attempt<'_> {
    fn summary(&self, checkup: &str, reason: Option<&str>) -> serde_json::Value {
        json!({"application_id": self.application_id, "version": self.version,
            "image": self.delivery.image.trim(), "checkup": checkup, "reason": reason})
    }
}

async fn insert(
    tx: &mut Tx,
    user: &CurrentUser,
    attempt: &Attempt<'_>,
    pinned: &str,
    refusal: Option<&Refusal>,
    now: i64,
) -> sqlx::Result<i64> {
    let checksums =
        serde_json::to_string(&attempt.delivery.checksums).unwrap_or_else(|_| "{}".into());
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO releases (customer_id, application_id, version, image, pinned_image, \
         checksums_json, checkup, refusal_code, refusal, delivered_by, delivered_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
    )
    .bind(attempt.customer_id)
    .bind(attempt.application_id)
    .bind(attempt.version)
    .bind(attempt.delivery.image.trim())
    .bind(pinned)
    .bind(checksums)
    .bind(if refusal.is_some() {
        "abgelehnt"
    } else {
        "bestanden"
    })
    .bind(refusal.map(Refusal::code))
    .bind(refusal.map(ToString::to_string))
    .bind(user.id)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    Ok(id)
}

/// Records a refused delivery in a transaction of its own and answers the
/// refusal: what was tried stays visible, however it was refused.
async fn refuse(
    db: &Db,
    user: &CurrentUser,
    attempt: &Attempt<'_>,
    refusal: Refusal,
    now: i64,
) -> Result<Created> {
    let mut tx = db.begin_write().await?;
    let id = insert(&mut tx, user, attempt, "", Some(&refusal), now).await?;
    audit::record(
        &mut tx,
        user,
        now,
        audit::Entry {
            customer_id: Some(attempt.customer_id),
            action: "release.refused",
            object_type: "release",
            object_id: id,
            before: None,
            after: Some(attempt.summary("abgelehnt", Some(refusal.code()))),
        },
    )
    .await?;
    tx.commit().await?;
    Err(Error::Checkup(refusal))
}

pub async fn get(pool: &AnyPool, user: &CurrentUser, id: i64) -> Result<Release> {
    let r: Option<Release> = sqlx::query_as(super::sql(format!("{SELECT} WHERE id = $1")))
        .bind(id)
        .fetch_optional(pool)
        .await?;
    r.filter(|r| user.can_see(r.customer_id))
        .ok_or(Error::NotFound)
}

/// An application's deliveries, newest first, refused ones included.
pub async fn of_application(
    pool: &AnyPool,
    user: &CurrentUser,
    application_id: i64,
) -> Result<Vec<Release>> {
    application_customer(pool, user, application_id).await?;
    Ok(sqlx::query_as(super::sql(format!(
        "{SELECT} WHERE application_id = $1 ORDER BY id DESC"
    )))
    .bind(application_id)
    .fetch_all(pool)
    .await?)
}
