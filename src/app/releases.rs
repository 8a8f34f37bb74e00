//! Releases (Lieferungen): a delivery passes the Checkup and goes into
//! Vorprüfung at once, or is refused and recorded with the reason.

use std::collections::BTreeMap;

use serde_json::json;

use super::{Begun, Change, Created, Error, FieldErrors, Result, deployments, visible};
use crate::{
    db::{
        self, Db, audit,
        constraints::{Unique, violated},
        releases::Release,
    },
    domain::{
        Stage,
        actor::CurrentUser,
        idempotency::Key,
        policy,
        release::{self, Checkup, Refusal},
        text::{Text, TextError},
    },
    i18n::{Arg, t, t_with},
};

/// A delivery as the API receives it.
#[derive(Debug, Clone, Default)]
pub struct Delivery {
    pub version: String,
    pub image: String,
    pub checksums: BTreeMap<String, String>,
}

/// Longest image reference a delivery may name.
const MAX_IMAGE: usize = 1000;
/// Longest name of a checksum (`app`, `sbom`).
const MAX_CHECKSUM_NAME: usize = 100;

/// A delivery as it is recorded, accepted or not.
struct Attempt<'a> {
    customer_id: i64,
    application_id: i64,
    version: &'a str,
    delivery: &'a Delivery,
}

impl Attempt<'_> {
    fn summary(&self, checkup: Checkup, reason: Option<&str>) -> serde_json::Value {
        json!({"application_id": self.application_id, "version": self.version,
            "image": self.delivery.image.trim(), "checkup": checkup, "reason": reason})
    }

    fn row<'a>(
        &'a self,
        user: &CurrentUser,
        pinned: &'a str,
        refusal: Option<&'a Refusal>,
        now: i64,
    ) -> db::releases::NewRow<'a> {
        db::releases::NewRow {
            customer_id: self.customer_id,
            application_id: self.application_id,
            version: self.version,
            image: self.delivery.image.trim(),
            pinned,
            checksums: &self.delivery.checksums,
            refusal,
            delivered_by: user.id,
            now,
        }
    }
}

/// The application's customer, if `user` may see it.
async fn application_customer(db: &Db, user: &CurrentUser, id: i64) -> Result<i64> {
    let mut conn = db.pool.acquire().await?;
    let (customer_id, _) = db::applications::owner(&mut conn, id)
        .await?
        .ok_or(Error::NotFound)?;
    policy::see(user, customer_id)?;
    Ok(customer_id)
}

/// Delivers a release. Accepted: recorded, and deployed into Vorprüfung in
/// the same change. Refused by the Checkup: recorded as refused, with the
/// reason, and answered as `Error::Checkup`. With an `Idempotency-Key` a
/// retry of an accepted delivery gets the first answer back.
pub async fn deliver(
    db: &Db,
    user: &CurrentUser,
    application_id: i64,
    delivery: &Delivery,
    key: Option<&Key>,
    allowed_registries: &[String],
    now: i64,
) -> Result<Created> {
    let customer_id = application_customer(db, user, application_id).await?;
    policy::deliver(user, customer_id)?;
    let version = release::valid_version(&delivery.version)
        .map_err(|m| Error::Validation(FieldErrors::single("version", m)))?
        .to_owned();
    // What is refused is recorded with the reference as given, so it must
    // be text a record can hold; its shape is the Checkup's business.
    match Text::parse(&delivery.image, MAX_IMAGE) {
        Ok(_) => {}
        Err(TextError::Empty) => {
            return Err(Error::Validation(FieldErrors::single(
                "image",
                t("invalid-release-image"),
            )));
        }
        Err(e) => return Err(Error::validation("image", e.to_string())),
    }
    if let Some(name) = delivery
        .checksums
        .keys()
        .find(|name| Text::parse(name, MAX_CHECKSUM_NAME).is_err())
    {
        return Err(Error::validation(
            "checksums",
            t_with(
                "invalid-release-checksum-name",
                &[
                    ("max", Arg::from(MAX_CHECKSUM_NAME)),
                    (
                        "name",
                        Arg::from(
                            name.chars()
                                .filter(|c| !c.is_control())
                                .take(40)
                                .collect::<String>(),
                        ),
                    ),
                ],
            ),
        ));
    }
    let attempt = Attempt {
        customer_id,
        application_id,
        version: &version,
        delivery,
    };
    let mut change = match Change::begin_idempotent(db, user, now, key).await? {
        Begun::Fresh(change) => change,
        Begun::Replayed(id) => return Ok(Created::Replayed(id)),
    };
    let image = match release::checkup(&delivery.image, &delivery.checksums, allowed_registries) {
        Ok(image) => image,
        Err(refusal) => {
            drop(change);
            return refuse(db, user, &attempt, refusal, now).await;
        }
    };
    if db::releases::version_taken(change.conn(), application_id, &version).await? {
        drop(change);
        let refusal = Refusal::DuplicateVersion(version.clone());
        return refuse(db, user, &attempt, refusal, now).await;
    }
    let pinned = image.pinned();
    let id = match db::releases::insert(change.tx(), &attempt.row(user, &pinned, None, now)).await {
        Ok(id) => id,
        // The same version delivered twice at the same moment: the other
        // one won; this one is refused like any duplicate, and recorded.
        Err(e) if violated(&e) == Some(Unique::AcceptedReleaseVersion) => {
            drop(change);
            let refusal = Refusal::DuplicateVersion(version.clone());
            return refuse(db, user, &attempt, refusal, now).await;
        }
        Err(e) => return Err(e.into()),
    };
    let environment_id =
        db::environments::id_of(change.conn(), application_id, Stage::Vorpruefung).await?;
    let deployment = deployments::start(&mut change, environment_id, id).await?;
    change
        .audit(audit::Entry {
            customer_id: Some(customer_id),
            action: "release.delivered",
            object_type: "release",
            object_id: id,
            before: None,
            after: Some(json!({"release": attempt.summary(Checkup::Bestanden, None),
                "deployment": deployment, "stage": Stage::Vorpruefung})),
        })
        .await?;
    change.commit_created(id).await
}

/// Records a refused delivery in a change of its own and answers the
/// refusal: what was tried stays visible, however it was refused.
async fn refuse(
    db: &Db,
    user: &CurrentUser,
    attempt: &Attempt<'_>,
    refusal: Refusal,
    now: i64,
) -> Result<Created> {
    let mut change = Change::begin(db, user, now).await?;
    let id = db::releases::insert(change.tx(), &attempt.row(user, "", Some(&refusal), now)).await?;
    change
        .audit(audit::Entry {
            customer_id: Some(attempt.customer_id),
            action: "release.refused",
            object_type: "release",
            object_id: id,
            before: None,
            after: Some(attempt.summary(Checkup::Abgelehnt, Some(refusal.code()))),
        })
        .await?;
    change.commit().await?;
    Err(Error::Checkup(refusal))
}

/// A release the user may see; another tenant's id is `NotFound`.
pub async fn get(db: &Db, user: &CurrentUser, id: i64) -> Result<Release> {
    let row = db::releases::find(&db.pool, id).await?;
    visible(user, row, |r| r.customer_id)
}

/// An application's deliveries, newest first, refused ones included.
pub async fn of_application(
    db: &Db,
    user: &CurrentUser,
    application_id: i64,
) -> Result<Vec<Release>> {
    application_customer(db, user, application_id).await?;
    Ok(db::releases::of_application(&db.pool, application_id).await?)
}
