//! Releases (Lieferungen): rows and the statements that write them. The
//! Checkup and the delivery are in the use cases (src/app/releases.rs).

use std::collections::BTreeMap;

use sqlx::{AnyConnection, AnyPool};

use super::{Tx, codec::JsonText};
use crate::domain::release::{Checkup, Refusal};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Release {
    pub id: i64,
    pub customer_id: i64,
    pub application_id: i64,
    pub version: String,
    pub image: String,
    pub pinned_image: String,
    #[sqlx(rename = "checksums_json", try_from = "JsonText")]
    pub checksums: BTreeMap<String, String>,
    pub checkup: Checkup,
    pub refusal_code: Option<String>,
    pub refusal: Option<String>,
    pub delivered_by: Option<i64>,
    pub delivered_at: i64,
}

impl Release {
    pub fn accepted(&self) -> bool {
        self.checkup == Checkup::Bestanden
    }
}

const SELECT: &str = "SELECT id, customer_id, application_id, version, image, pinned_image, \
    checksums_json, checkup, refusal_code, refusal, delivered_by, delivered_at FROM releases";

pub async fn find(pool: &AnyPool, id: i64) -> sqlx::Result<Option<Release>> {
    sqlx::query_as(super::sql(format!("{SELECT} WHERE id = $1")))
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// An application's deliveries, newest first, refused ones included.
pub async fn of_application(pool: &AnyPool, application_id: i64) -> sqlx::Result<Vec<Release>> {
    sqlx::query_as(super::sql(format!(
        "{SELECT} WHERE application_id = $1 ORDER BY id DESC"
    )))
    .bind(application_id)
    .fetch_all(pool)
    .await
}

/// Whether the application has an accepted release of this version.
pub async fn version_taken(
    conn: &mut AnyConnection,
    application_id: i64,
    version: &str,
) -> sqlx::Result<bool> {
    let (taken,): (i64,) = sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM releases WHERE application_id = $1 \
         AND version = $2 AND checkup = 'bestanden'",
    )
    .bind(application_id)
    .bind(version)
    .fetch_one(conn)
    .await?;
    Ok(taken > 0)
}

/// A delivery as it is recorded, accepted or refused.
pub struct NewRow<'a> {
    pub customer_id: i64,
    pub application_id: i64,
    pub version: &'a str,
    pub image: &'a str,
    /// What runs; empty when refused.
    pub pinned: &'a str,
    pub checksums: &'a BTreeMap<String, String>,
    pub refusal: Option<&'a Refusal>,
    pub delivered_by: i64,
    pub now: i64,
}

/// Inserts a delivery; a unique violation means the version was accepted
/// for this application at the same moment.
pub async fn insert(tx: &mut Tx, row: &NewRow<'_>) -> sqlx::Result<i64> {
    let checksums =
        serde_json::to_string(row.checksums).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let checkup = if row.refusal.is_some() {
        Checkup::Abgelehnt
    } else {
        Checkup::Bestanden
    };
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO releases (customer_id, application_id, version, image, pinned_image, \
         checksums_json, checkup, refusal_code, refusal, delivered_by, delivered_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
    )
    .bind(row.customer_id)
    .bind(row.application_id)
    .bind(row.version)
    .bind(row.image)
    .bind(row.pinned)
    .bind(checksums)
    .bind(checkup)
    .bind(row.refusal.map(Refusal::code))
    .bind(row.refusal.map(Refusal::recorded))
    .bind(row.delivered_by)
    .bind(row.now)
    .fetch_one(&mut **tx)
    .await?;
    Ok(id)
}
