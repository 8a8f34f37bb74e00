//! Notifications: events, the delivery outbox, webhooks and the e-mails
//! people switched off. Events and their deliveries are written in the
//! transaction of what caused them; senders on any number of replicas claim
//! deliveries with a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL, the one
//! writer on SQLite), like the provisioning outbox (`db::outbox`).

use sqlx::{AnyConnection, AnyPool};

use super::{Backend, Db, Tx};
use crate::domain::{
    Role,
    actor::Scope,
    notification::{Audience, Channel, DeliveryState, EventKind},
};

/// An event to record.
pub struct NewEvent<'a> {
    pub kind: EventKind,
    pub key: &'a str,
    pub customer_id: Option<i64>,
    pub subject: &'a str,
    pub body: &'a str,
    pub link: &'a str,
    pub data: &'a str,
    pub now: i64,
}

/// Records an event once: `None` when an event with its key is there
/// already (then nothing more is to be done for it).
pub async fn insert_event(tx: &mut Tx, e: &NewEvent<'_>) -> sqlx::Result<Option<i64>> {
    let row: Option<(i64,)> = sqlx::query_as(
        "INSERT INTO notification_events \
         (kind, event_key, customer_id, subject, body, link, data, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (event_key) DO NOTHING RETURNING id",
    )
    .bind(e.kind)
    .bind(e.key)
    .bind(e.customer_id)
    .bind(e.subject)
    .bind(e.body)
    .bind(e.link)
    .bind(e.data)
    .bind(e.now)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.map(|(id,)| id))
}

/// People of `audience` with an e-mail address who did not switch off
/// e-mails of `kind`: `(user id, address)`.
pub async fn email_recipients(
    conn: &mut AnyConnection,
    audience: &Audience,
    kind: EventKind,
) -> sqlx::Result<Vec<(i64, String)>> {
    const BASE: &str = "SELECT DISTINCT u.id, u.email FROM users u \
        JOIN user_roles r ON r.user_id = u.id \
        WHERE u.email IS NOT NULL AND u.email <> '' \
        AND NOT EXISTS (SELECT 1 FROM notification_opt_outs o \
            WHERE o.user_id = u.id AND o.kind = $1)";
    let rows: Vec<(i64, String)> = match audience {
        Audience::CustomerRoles(customer_id, roles) => {
            if roles.is_empty() {
                return Ok(Vec::new());
            }
            let placeholders: Vec<String> =
                (0..roles.len()).map(|i| format!("${}", i + 3)).collect();
            let sql = format!(
                "{BASE} AND u.customer_id = $2 AND r.role IN ({}) ORDER BY u.id",
                placeholders.join(", ")
            );
            let mut q = sqlx::query_as(super::sql(sql))
                .bind(kind)
                .bind(*customer_id);
            for role in *roles {
                q = q.bind(*role);
            }
            q.fetch_all(conn).await?
        }
        Audience::Betreiber => {
            sqlx::query_as(super::sql(format!("{BASE} AND r.role = $2 ORDER BY u.id")))
                .bind(kind)
                .bind(Role::Betreiber)
                .fetch_all(conn)
                .await?
        }
        Audience::Person(id) => {
            sqlx::query_as(super::sql(format!("{BASE} AND u.id = $2")))
                .bind(kind)
                .bind(*id)
                .fetch_all(conn)
                .await?
        }
    };
    Ok(rows)
}

/// The webhooks that hear of a customer's events (the customer's own and
/// the Betreiber's for all); of events without a customer only the
/// Betreiber's. `(id, url)`.
pub async fn webhooks_for(
    conn: &mut AnyConnection,
    customer_id: Option<i64>,
) -> sqlx::Result<Vec<(i64, String)>> {
    sqlx::query_as(
        "SELECT id, url FROM webhooks WHERE deleted_at IS NULL \
         AND (customer_id IS NULL OR customer_id = $1) ORDER BY id",
    )
    .bind(customer_id)
    .fetch_all(conn)
    .await
}

/// One delivery to write with its event.
pub struct NewDelivery<'a> {
    pub event_id: i64,
    pub channel: Channel,
    pub user_id: Option<i64>,
    pub webhook_id: Option<i64>,
    pub address: &'a str,
    pub due_at_ms: i64,
}

pub async fn insert_delivery(tx: &mut Tx, d: &NewDelivery<'_>) -> sqlx::Result<()> {
    let recipient = match (d.user_id, d.webhook_id) {
        (Some(user), _) => format!("user:{user}"),
        (None, Some(hook)) => format!("webhook:{hook}"),
        (None, None) => return Ok(()),
    };
    sqlx::query(
        "INSERT INTO notification_deliveries \
         (event_id, channel, recipient, user_id, webhook_id, address, state, due_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, 'offen', $7) \
         ON CONFLICT (event_id, recipient) DO NOTHING",
    )
    .bind(d.event_id)
    .bind(d.channel)
    .bind(recipient)
    .bind(d.user_id)
    .bind(d.webhook_id)
    .bind(d.address)
    .bind(d.due_at_ms)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

// ----- sending ------------------------------------------------------------

/// A delivery a sender holds, with what it needs to send it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Claimed {
    pub id: i64,
    pub channel: Channel,
    pub address: String,
    pub attempts: i64,
    pub event_id: i64,
    pub kind: EventKind,
    pub event_key: String,
    pub subject: String,
    pub body: String,
    pub link: String,
    pub data: String,
    pub created_at: i64,
    /// The webhook's signing secret (webhooks only).
    pub secret: Option<String>,
}

/// Claims up to `limit` due deliveries for `worker` until `now_ms +
/// lease_ms`. A claim whose lease ran out (its process died) is free again.
pub async fn claim(
    db: &Db,
    worker: &str,
    limit: i64,
    now_ms: i64,
    lease_ms: i64,
) -> sqlx::Result<Vec<Claimed>> {
    let lock = match db.backend {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let mut tx = db.begin_write().await?;
    let ids: Vec<(i64,)> = sqlx::query_as(super::sql(format!(
        "UPDATE notification_deliveries SET claimed_by = $1, claimed_until_ms = $2 \
         WHERE id IN (SELECT id FROM notification_deliveries \
           WHERE state = 'offen' AND due_at_ms <= $3 \
           AND (claimed_until_ms IS NULL OR claimed_until_ms < $3) \
           ORDER BY due_at_ms, id LIMIT {limit}{lock}) \
         RETURNING id",
        limit = limit.max(1),
    )))
    .bind(worker)
    .bind(now_ms + lease_ms)
    .bind(now_ms)
    .fetch_all(&mut *tx)
    .await?;
    let mut claimed = Vec::with_capacity(ids.len());
    for (id,) in ids {
        let row: Claimed = sqlx::query_as(
            "SELECT d.id, d.channel, d.address, d.attempts, e.id AS event_id, e.kind, \
             e.event_key, e.subject, e.body, e.link, e.data, e.created_at, w.secret \
             FROM notification_deliveries d JOIN notification_events e ON e.id = d.event_id \
             LEFT JOIN webhooks w ON w.id = d.webhook_id WHERE d.id = $1",
        )
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        claimed.push(row);
    }
    tx.commit().await?;
    Ok(claimed)
}

/// Records a delivery as delivered. False when the claim had been lost.
pub async fn complete(pool: &AnyPool, worker: &str, id: i64, now_ms: i64) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE notification_deliveries SET state = 'zugestellt', attempts = attempts + 1, \
         delivered_at_ms = $1, last_attempt_ms = $1, claimed_by = NULL, claimed_until_ms = NULL \
         WHERE id = $2 AND claimed_by = $3 AND state = 'offen'",
    )
    .bind(now_ms)
    .bind(id)
    .bind(worker)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records a failed attempt: tried again at `retry_at_ms`, or given up.
pub async fn fail(
    pool: &AnyPool,
    worker: &str,
    id: i64,
    message: &str,
    now_ms: i64,
    retry_at_ms: Option<i64>,
) -> sqlx::Result<()> {
    let state = if retry_at_ms.is_some() {
        DeliveryState::Offen
    } else {
        DeliveryState::Aufgegeben
    };
    sqlx::query(
        "UPDATE notification_deliveries SET attempts = attempts + 1, state = $1, \
         due_at_ms = COALESCE($2, due_at_ms), last_error = $3, last_attempt_ms = $4, \
         claimed_by = NULL, claimed_until_ms = NULL \
         WHERE id = $5 AND claimed_by = $6 AND state = 'offen'",
    )
    .bind(state)
    .bind(retry_at_ms)
    .bind(message)
    .bind(now_ms)
    .bind(id)
    .bind(worker)
    .execute(pool)
    .await?;
    Ok(())
}

/// Gives back every claim of `worker` (at shutdown).
pub async fn release(pool: &AnyPool, worker: &str) -> sqlx::Result<u64> {
    let r = sqlx::query(
        "UPDATE notification_deliveries SET claimed_by = NULL, claimed_until_ms = NULL \
         WHERE claimed_by = $1 AND state = 'offen'",
    )
    .bind(worker)
    .execute(pool)
    .await?;
    Ok(r.rows_affected())
}

// ----- the Betreiber's view ------------------------------------------------

/// Deliveries by state, for the Betreiber and for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct Counts {
    pub pending: i64,
    /// Of the pending ones, those whose last attempt failed.
    pub failing: i64,
    pub delivered: i64,
    pub given_up: i64,
}

pub async fn counts(pool: &AnyPool) -> sqlx::Result<Counts> {
    sqlx::query_as(
        "SELECT \
         CAST(COALESCE(SUM(CASE WHEN state = 'offen' THEN 1 ELSE 0 END), 0) AS BIGINT) AS pending, \
         CAST(COALESCE(SUM(CASE WHEN state = 'offen' AND last_error IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT) AS failing, \
         CAST(COALESCE(SUM(CASE WHEN state = 'zugestellt' THEN 1 ELSE 0 END), 0) AS BIGINT) AS delivered, \
         CAST(COALESCE(SUM(CASE WHEN state = 'aufgegeben' THEN 1 ELSE 0 END), 0) AS BIGINT) AS given_up \
         FROM notification_deliveries",
    )
    .fetch_one(pool)
    .await
}

/// One delivery as the Betreiber sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Listed {
    pub id: i64,
    pub channel: Channel,
    pub address: String,
    pub state: DeliveryState,
    pub attempts: i64,
    pub due_at_ms: i64,
    pub last_error: Option<String>,
    pub delivered_at_ms: Option<i64>,
    pub kind: EventKind,
    pub subject: String,
    pub customer_name: Option<String>,
    pub created_at: i64,
}

/// The newest deliveries; only those not delivered (pending with an error,
/// given up) with `problems`.
pub async fn recent(pool: &AnyPool, problems: bool, limit: i64) -> sqlx::Result<Vec<Listed>> {
    let filter = if problems {
        " WHERE (d.state = 'offen' AND d.last_error IS NOT NULL) OR d.state = 'aufgegeben'"
    } else {
        ""
    };
    sqlx::query_as(super::sql(format!(
        "SELECT d.id, d.channel, d.address, d.state, d.attempts, d.due_at_ms, d.last_error, \
         d.delivered_at_ms, e.kind, e.subject, c.name AS customer_name, e.created_at \
         FROM notification_deliveries d JOIN notification_events e ON e.id = d.event_id \
         LEFT JOIN customers c ON c.id = e.customer_id{filter} \
         ORDER BY d.id DESC LIMIT {}",
        limit.clamp(1, 1000)
    )))
    .fetch_all(pool)
    .await
}

// ----- each person's choice ---------------------------------------------------

/// The kinds of events `user_id` gets no e-mail for.
pub async fn opt_outs(pool: &AnyPool, user_id: i64) -> sqlx::Result<Vec<EventKind>> {
    let rows: Vec<(EventKind,)> =
        sqlx::query_as("SELECT kind FROM notification_opt_outs WHERE user_id = $1")
            .bind(user_id)
            .fetch_all(pool)
            .await?;
    Ok(rows.into_iter().map(|(k,)| k).collect())
}

/// Replaces the kinds `user_id` gets no e-mail for.
pub async fn set_opt_outs(tx: &mut Tx, user_id: i64, kinds: &[EventKind]) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM notification_opt_outs WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    for kind in kinds {
        sqlx::query("INSERT INTO notification_opt_outs (user_id, kind) VALUES ($1, $2)")
            .bind(user_id)
            .bind(*kind)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// A person's e-mail address, if the identity provider gave one.
pub async fn email_of(pool: &AnyPool, user_id: i64) -> sqlx::Result<Option<String>> {
    let row: Option<(Option<String>,)> = sqlx::query_as("SELECT email FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(pool)
        .await?;
    Ok(row.and_then(|(e,)| e).filter(|e| !e.is_empty()))
}

// ----- webhooks -------------------------------------------------------------

/// A webhook as listed (never with its secret).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Webhook {
    pub id: i64,
    pub customer_id: Option<i64>,
    pub customer_name: Option<String>,
    pub url: String,
    pub description: String,
    pub created_at: i64,
    /// Deliveries to it not delivered yet, and given up.
    pub pending: i64,
    pub given_up: i64,
}

/// The webhooks a scope may see: a customer's own; all for `Scope::All`.
pub async fn webhooks(pool: &AnyPool, scope: Scope) -> sqlx::Result<Vec<Webhook>> {
    let Some(visible) = super::Visible::to(scope, "w.customer_id") else {
        return Ok(Vec::new());
    };
    let sql = format!(
        "SELECT w.id, w.customer_id, c.name AS customer_name, w.url, w.description, w.created_at, \
         CAST(COALESCE(SUM(CASE WHEN d.state = 'offen' THEN 1 ELSE 0 END), 0) AS BIGINT) AS pending, \
         CAST(COALESCE(SUM(CASE WHEN d.state = 'aufgegeben' THEN 1 ELSE 0 END), 0) AS BIGINT) AS given_up \
         FROM webhooks w LEFT JOIN customers c ON c.id = w.customer_id \
         LEFT JOIN notification_deliveries d ON d.webhook_id = w.id \
         WHERE w.deleted_at IS NULL{} \
         GROUP BY w.id, w.customer_id, c.name, w.url, w.description, w.created_at ORDER BY w.id",
        visible.and_sql()
    );
    visible
        .bind(sqlx::query_as(super::sql(sql)))
        .fetch_all(pool)
        .await
}

/// A webhook's owner (`Some(None)`: the Betreiber's for all customers);
/// `None` when there is no such webhook (or it was removed).
pub async fn webhook_owner(conn: &mut AnyConnection, id: i64) -> sqlx::Result<Option<Option<i64>>> {
    let row: Option<(Option<i64>,)> =
        sqlx::query_as("SELECT customer_id FROM webhooks WHERE id = $1 AND deleted_at IS NULL")
            .bind(id)
            .fetch_optional(conn)
            .await?;
    Ok(row.map(|(c,)| c))
}

pub struct NewWebhook<'a> {
    pub customer_id: Option<i64>,
    pub url: &'a str,
    pub description: &'a str,
    pub secret: &'a str,
    pub created_by: i64,
    pub now: i64,
}

pub async fn insert_webhook(tx: &mut Tx, w: &NewWebhook<'_>) -> sqlx::Result<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO webhooks (customer_id, url, description, secret, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(w.customer_id)
    .bind(w.url)
    .bind(w.description)
    .bind(w.secret)
    .bind(w.created_by)
    .bind(w.now)
    .fetch_one(&mut **tx)
    .await?;
    Ok(id)
}

/// Removes a webhook: nothing more is sent to it, and what waits for it is
/// given up.
pub async fn delete_webhook(tx: &mut Tx, id: i64, now: i64) -> sqlx::Result<bool> {
    let done =
        sqlx::query("UPDATE webhooks SET deleted_at = $1 WHERE id = $2 AND deleted_at IS NULL")
            .bind(now)
            .bind(id)
            .execute(&mut **tx)
            .await?;
    sqlx::query(
        "UPDATE notification_deliveries SET state = 'aufgegeben', \
         last_error = 'Webhook entfernt', claimed_by = NULL, claimed_until_ms = NULL \
         WHERE webhook_id = $1 AND state = 'offen'",
    )
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}
