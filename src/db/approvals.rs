//! Requests that wait for a decision (`approvals`): the part every kind
//! shares — who asked, when, the state, who decided, the reason, a
//! co-signature. What a request is about lives in its kind's table
//! (`promotions`, `kontingent_requests`) under the same id.

use sqlx::AnyConnection;

use super::Tx;
use crate::domain::approval::{ApprovalKind, ApprovalState};

/// The shared part of a request, for deciding it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Head {
    pub id: i64,
    pub kind: ApprovalKind,
    pub customer_id: i64,
    pub state: ApprovalState,
    pub requested_by: i64,
    pub cosigned_by: Option<i64>,
}

/// Opens a request about `subject` (e.g. `kontingent:17`). A unique
/// violation on `approvals_open_key` means one about it is open already.
pub async fn insert(
    tx: &mut Tx,
    kind: ApprovalKind,
    customer_id: i64,
    subject: &str,
    requested_by: i64,
    now: i64,
) -> sqlx::Result<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO approvals (kind, customer_id, state, open_key, requested_by, requested_at) \
         VALUES ($1, $2, 'offen', $3, $4, $5) RETURNING id",
    )
    .bind(kind)
    .bind(customer_id)
    .bind(subject)
    .bind(requested_by)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    Ok(id)
}

/// The shared part of a request, its row locked with `lock`
/// (`Db::for_update`).
pub async fn head(conn: &mut AnyConnection, id: i64, lock: &str) -> sqlx::Result<Option<Head>> {
    sqlx::query_as(super::sql(format!(
        "SELECT id, kind, customer_id, state, requested_by, cosigned_by FROM approvals \
         WHERE id = $1{lock}"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Closes an open request (decided or withdrawn); false when it was no
/// longer open (a simultaneous decision came first).
pub async fn close(
    tx: &mut Tx,
    id: i64,
    state: ApprovalState,
    by: i64,
    now: i64,
    reason: Option<&str>,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE approvals SET state = $1, open_key = NULL, decided_by = $2, decided_at = $3, \
         reason = $4 WHERE id = $5 AND state = 'offen'",
    )
    .bind(state)
    .bind(by)
    .bind(now)
    .bind(reason)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Adds the second signature to an open request; false when it is closed
/// or signed already.
pub async fn cosign(tx: &mut Tx, id: i64, by: i64, now: i64) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE approvals SET cosigned_by = $1, cosigned_at = $2 \
         WHERE id = $3 AND state = 'offen' AND cosigned_by IS NULL",
    )
    .bind(by)
    .bind(now)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// How many requests wait for a decision, by kind, among those of
/// `customer_id` (all customers with `None`).
pub async fn open_count(
    conn: &mut AnyConnection,
    kind: ApprovalKind,
    customer_id: Option<i64>,
) -> sqlx::Result<i64> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM approvals WHERE kind = $1 AND state = 'offen' \
         AND ($2 IS NULL OR customer_id = $2)",
    )
    .bind(kind)
    .bind(customer_id)
    .fetch_one(conn)
    .await?;
    Ok(n)
}

/// Whose open requests to count, and of which kinds.
pub struct Waiting<'a> {
    pub user_id: i64,
    pub customer_id: Option<i64>,
    /// Promotions into these stages of the customer.
    pub stages: &'a [crate::domain::Stage],
    /// Every Kontingent request (the Betreiber's).
    pub kontingent: bool,
    /// The customer's Kontingent requests raising the budget, not signed.
    pub cosign: bool,
}

/// How many open requests wait for the person; never their own.
pub async fn waiting_for(conn: &mut AnyConnection, w: &Waiting<'_>) -> sqlx::Result<i64> {
    let mut total = 0;
    if let (Some(customer_id), false) = (w.customer_id, w.stages.is_empty()) {
        let placeholders: Vec<String> =
            (0..w.stages.len()).map(|i| format!("${}", i + 3)).collect();
        let sql = format!(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM approvals a JOIN promotions p ON p.id = a.id \
             WHERE a.state = 'offen' AND a.customer_id = $1 AND a.requested_by <> $2 \
             AND p.to_stage IN ({})",
            placeholders.join(", ")
        );
        let mut q = sqlx::query_as(super::sql(sql))
            .bind(customer_id)
            .bind(w.user_id);
        for stage in w.stages {
            q = q.bind(*stage);
        }
        let (n,): (i64,) = q.fetch_one(&mut *conn).await?;
        total += n;
    }
    if w.kontingent {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM approvals WHERE kind = 'kontingent' \
             AND state = 'offen' AND requested_by <> $1",
        )
        .bind(w.user_id)
        .fetch_one(&mut *conn)
        .await?;
        total += n;
    }
    if let (Some(customer_id), true) = (w.customer_id, w.cosign) {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM approvals a \
             JOIN kontingent_requests q ON q.id = a.id JOIN contracts k ON k.id = q.contract_id \
             WHERE a.kind = 'kontingent' AND a.state = 'offen' AND a.customer_id = $1 \
             AND a.requested_by <> $2 AND a.cosigned_by IS NULL \
             AND q.monthly_budget_cents > k.monthly_budget_cents",
        )
        .bind(customer_id)
        .bind(w.user_id)
        .fetch_one(&mut *conn)
        .await?;
        total += n;
    }
    Ok(total)
}
