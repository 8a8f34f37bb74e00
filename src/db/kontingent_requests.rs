//! Kontingent change requests: what a contract's ceilings should become and
//! why. Their request and decision are in `approvals` (same id).

use sqlx::{AnyConnection, AnyPool};

use super::{Tx, Visible};
use crate::domain::{
    Cents, Kontingent,
    actor::Scope,
    approval::{ApprovalKind, ApprovalState},
    kontingent::CeilingChange,
};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KontingentRequest {
    pub id: i64,
    pub customer_id: i64,
    pub customer_name: String,
    pub contract_id: i64,
    pub contract_number: String,
    pub state: ApprovalState,
    pub max_millicpu: Option<i64>,
    pub max_memory_mib: Option<i64>,
    pub max_storage_gib: Option<i64>,
    pub monthly_budget_cents: Option<i64>,
    pub justification: String,
    pub granted_millicpu: Option<i64>,
    pub granted_memory_mib: Option<i64>,
    pub granted_storage_gib: Option<i64>,
    pub granted_monthly_budget_cents: Option<i64>,
    pub requested_by: i64,
    pub requested_by_name: String,
    pub requested_at: i64,
    pub decided_by: Option<i64>,
    pub decided_by_name: Option<String>,
    pub decided_at: Option<i64>,
    pub reason: Option<String>,
    pub cosigned_by: Option<i64>,
    pub cosigned_by_name: Option<String>,
    pub cosigned_at: Option<i64>,
    /// The contract's ceilings now (what an open request would change).
    pub current_millicpu: i64,
    pub current_memory_mib: i64,
    pub current_storage_gib: i64,
    pub current_monthly_budget_cents: i64,
}

impl KontingentRequest {
    /// The ceilings asked for.
    pub fn asked(&self) -> CeilingChange {
        CeilingChange {
            millicpu: self.max_millicpu,
            memory_mib: self.max_memory_mib,
            storage_gib: self.max_storage_gib,
            monthly_budget: self.monthly_budget_cents.map(Cents),
        }
    }

    /// The ceilings granted, once approved (other values than asked when
    /// the decider chose them).
    pub fn granted(&self) -> Option<CeilingChange> {
        let granted = CeilingChange {
            millicpu: self.granted_millicpu,
            memory_mib: self.granted_memory_mib,
            storage_gib: self.granted_storage_gib,
            monthly_budget: self.granted_monthly_budget_cents.map(Cents),
        };
        (self.state == ApprovalState::Genehmigt).then_some(granted)
    }

    pub fn is_open(&self) -> bool {
        self.state.is_open()
    }

    /// The contract's Kontingent as it is now.
    pub fn current(&self) -> Kontingent {
        Kontingent {
            millicpu: self.current_millicpu,
            memory_mib: self.current_memory_mib,
            storage_gib: self.current_storage_gib,
            monthly_budget: Cents(self.current_monthly_budget_cents),
        }
    }

    /// Whether the request still waits for the customer's Finanzen to sign
    /// (with the setting on: an open request that raises the budget).
    pub fn awaits_cosign(&self, cosign_required: bool) -> bool {
        cosign_required
            && self.is_open()
            && self.cosigned_by.is_none()
            && self.asked().raises_budget(&self.current())
    }
}

const SELECT: &str = "SELECT q.id, ap.customer_id, c.name AS customer_name, q.contract_id, \
    k.number AS contract_number, ap.state, q.max_millicpu, q.max_memory_mib, q.max_storage_gib, \
    q.monthly_budget_cents, q.justification, q.granted_millicpu, q.granted_memory_mib, \
    q.granted_storage_gib, q.granted_monthly_budget_cents, ap.requested_by, \
    ru.display_name AS requested_by_name, ap.requested_at, ap.decided_by, \
    du.display_name AS decided_by_name, ap.decided_at, ap.reason, ap.cosigned_by, \
    cu.display_name AS cosigned_by_name, ap.cosigned_at, k.max_millicpu AS current_millicpu, \
    k.max_memory_mib AS current_memory_mib, k.max_storage_gib AS current_storage_gib, \
    k.monthly_budget_cents AS current_monthly_budget_cents \
    FROM kontingent_requests q JOIN approvals ap ON ap.id = q.id \
    JOIN contracts k ON k.id = q.contract_id JOIN customers c ON c.id = ap.customer_id \
    JOIN users ru ON ru.id = ap.requested_by \
    LEFT JOIN users du ON du.id = ap.decided_by LEFT JOIN users cu ON cu.id = ap.cosigned_by";

/// The subject of an open request: one per contract.
pub fn subject(contract_id: i64) -> String {
    format!("kontingent:{contract_id}")
}

/// One request; `lock` locks its `approvals` row until the commit
/// (PostgreSQL).
pub async fn find(
    conn: &mut AnyConnection,
    id: i64,
    lock: bool,
) -> sqlx::Result<Option<KontingentRequest>> {
    // FOR UPDATE cannot lock the nullable side of an outer join.
    let lock = if lock { " FOR UPDATE OF ap" } else { "" };
    sqlx::query_as(super::sql(format!("{SELECT} WHERE q.id = $1{lock}")))
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// The requests `scope` may see, newest first; of one state when given.
pub async fn list(
    pool: &AnyPool,
    scope: Scope,
    state: Option<ApprovalState>,
) -> sqlx::Result<Vec<KontingentRequest>> {
    let Some(visible) = Visible::to(scope, "ap.customer_id") else {
        return Ok(Vec::new());
    };
    let visible = visible.value("ap.state", state.map(ApprovalState::as_str));
    let sql = format!("{SELECT}{} ORDER BY q.id DESC LIMIT 500", visible.sql());
    visible
        .bind(sqlx::query_as::<_, KontingentRequest>(super::sql(sql)))
        .fetch_all(pool)
        .await
}

/// What a new request asks.
pub struct NewRow<'a> {
    pub customer_id: i64,
    pub contract_id: i64,
    pub asked: &'a CeilingChange,
    pub justification: &'a str,
    pub requested_by: i64,
    pub now: i64,
}

/// Opens a request; a unique violation on `approvals_open_key` means one
/// is open already for this contract.
pub async fn insert(tx: &mut Tx, row: &NewRow<'_>) -> sqlx::Result<i64> {
    let id = super::approvals::insert(
        tx,
        ApprovalKind::Kontingent,
        row.customer_id,
        &subject(row.contract_id),
        row.requested_by,
        row.now,
    )
    .await?;
    sqlx::query(
        "INSERT INTO kontingent_requests (id, contract_id, max_millicpu, max_memory_mib, \
         max_storage_gib, monthly_budget_cents, justification) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(row.contract_id)
    .bind(row.asked.millicpu)
    .bind(row.asked.memory_mib)
    .bind(row.asked.storage_gib)
    .bind(row.asked.monthly_budget.map(|c| c.0))
    .bind(row.justification)
    .execute(&mut **tx)
    .await?;
    Ok(id)
}

/// Records what an approval granted.
pub async fn set_granted(tx: &mut Tx, id: i64, granted: &CeilingChange) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE kontingent_requests SET granted_millicpu = $1, granted_memory_mib = $2, \
         granted_storage_gib = $3, granted_monthly_budget_cents = $4 WHERE id = $5",
    )
    .bind(granted.millicpu)
    .bind(granted.memory_mib)
    .bind(granted.storage_gib)
    .bind(granted.monthly_budget.map(|c| c.0))
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
