//! The audit log (Revision): append-only, written in the same transaction as
//! the change it records.

use serde::Serialize;
use serde_json::Value;

use super::Tx;
use crate::domain::actor::{CurrentUser, SYSTEM_ACTOR, Via};

/// One entry to append.
pub struct Entry<'a> {
    pub customer_id: Option<i64>,
    pub action: &'a str,
    pub object_type: &'a str,
    pub object_id: i64,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

pub async fn record(
    tx: &mut Tx,
    actor: &CurrentUser,
    at: i64,
    entry: Entry<'_>,
) -> sqlx::Result<()> {
    append(
        tx,
        Actor {
            user_id: Some(actor.id),
            label: &actor.audit_label(),
            subject: actor.subject.as_deref(),
            via: actor.via.as_str(),
        },
        at,
        entry,
    )
    .await
}

/// An entry of Kontor itself, e.g. a booking the cluster now has.
pub async fn record_system(tx: &mut Tx, at: i64, entry: Entry<'_>) -> sqlx::Result<()> {
    append(
        tx,
        Actor {
            user_id: None,
            label: SYSTEM_ACTOR,
            subject: None,
            via: crate::domain::actor::Via::System.as_str(),
        },
        at,
        entry,
    )
    .await
}

struct Actor<'a> {
    user_id: Option<i64>,
    label: &'a str,
    subject: Option<&'a str>,
    via: &'a str,
}

async fn append(tx: &mut Tx, actor: Actor<'_>, at: i64, entry: Entry<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor_user_id, actor, actor_subject, via, customer_id, action, object_type, object_id, before_json, after_json) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(at)
    .bind(actor.user_id)
    .bind(actor.label)
    .bind(actor.subject)
    .bind(actor.via)
    .bind(entry.customer_id)
    .bind(entry.action)
    .bind(entry.object_type)
    .bind(entry.object_id)
    .bind(entry.before.map(|v| v.to_string()))
    .bind(entry.after.map(|v| v.to_string()))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AuditRow {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub via: Via,
    pub action: String,
    pub object_type: String,
    pub object_id: i64,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
}

pub async fn for_object(
    pool: &sqlx::AnyPool,
    object_type: &str,
    object_id: i64,
) -> sqlx::Result<Vec<AuditRow>> {
    sqlx::query_as(
        "SELECT id, at, actor, via, action, object_type, object_id, before_json, after_json \
         FROM audit_log WHERE object_type = $1 AND object_id = $2 ORDER BY id",
    )
    .bind(object_type)
    .bind(object_id)
    .fetch_all(pool)
    .await
}
