//! Kontingent-Änderungsantrag: the customer's Systempfleger:in asks for new
//! ceilings with a justification instead of writing a ticket; the Betreiber
//! decides (someone else than the requester), optionally with other values;
//! a budget increase may need a second signature of the customer's
//! Finanzen first. An approval changes the contract in the same change.

use serde_json::{Value, json};

use super::{Begun, Change, Created, Error, Result, approvals, error::on_constraint, visible};
use crate::{
    db::{
        self, Db, audit,
        constraints::{Unique, violated},
        kontingent_requests::KontingentRequest,
    },
    domain::{
        Kontingent,
        actor::CurrentUser,
        approval::{ApprovalKind, ApprovalState, Step},
        idempotency::Key,
        kontingent::{CeilingChange, Limit},
        notification::Audience,
        policy,
        resources::{format_gib, format_vcpu, format_whole},
        text::Text,
    },
    i18n::{Arg, t, t_with},
};

/// Longest justification of a request.
pub const MAX_JUSTIFICATION: usize = 2000;

/// The ceilings as the audit log and the API name them.
pub fn ceilings(k: &Kontingent) -> Value {
    json!({
        "vcpu_millicores": k.millicpu, "memory_mib": k.memory_mib,
        "storage_gib": k.storage_gib, "monthly_budget_cents": k.monthly_budget.0,
    })
}

/// The ceilings a change names, in words ("vCPU 8 → 16, Monatsbudget …").
pub fn describe(change: &CeilingChange, current: &Kontingent) -> String {
    let after = change.applied_to(current);
    let mut parts = Vec::new();
    if change.millicpu.is_some() {
        parts.push(format!(
            "vCPU {} → {}",
            format_vcpu(current.millicpu),
            format_vcpu(after.millicpu)
        ));
    }
    if change.memory_mib.is_some() {
        parts.push(format!(
            "Arbeitsspeicher {} → {} GiB",
            format_gib(current.memory_mib),
            format_gib(after.memory_mib)
        ));
    }
    if change.storage_gib.is_some() {
        parts.push(format!(
            "Speicher {} → {} GiB",
            format_whole(current.storage_gib),
            format_whole(after.storage_gib)
        ));
    }
    if change.monthly_budget.is_some() {
        parts.push(format!(
            "Monatsbudget {} → {}",
            current.monthly_budget, after.monthly_budget
        ));
    }
    parts.join(", ")
}

/// A ceiling's name in the request's language, the word the pages use;
/// `Limit::label` stays German for the audit log and the notifications.
fn limit_name(limit: Limit) -> String {
    t(match limit {
        Limit::Vcpu => "limit-vcpu",
        Limit::Memory => "limit-memory",
        Limit::Storage => "limit-storage",
        Limit::MonthlyBudget => "limit-budget",
    })
}

/// Asks for new ceilings of `contract_id`.
pub async fn request(
    db: &Db,
    user: &CurrentUser,
    contract_id: i64,
    asked: &CeilingChange,
    justification: &Text,
    key: Option<&Key>,
    now: i64,
) -> Result<Created> {
    let mut change = match Change::begin_idempotent(db, user, now, key).await? {
        Begun::Fresh(change) => change,
        Begun::Replayed(id) => return Ok(Created::Replayed(id)),
    };
    let contract = db::contracts::load(db, change.conn(), contract_id, false).await?;
    let contract = visible(user, contract, |k| k.customer_id)?;
    policy::request_kontingent(user, contract.customer_id)?;
    let current = contract.kontingent();
    if asked.is_empty() || !asked.changes(&current) {
        return Err(Error::validation(
            "kontingent",
            t("invalid-kontingent-unchanged"),
        ));
    }
    let inserted = db::kontingent_requests::insert(
        change.tx(),
        &db::kontingent_requests::NewRow {
            customer_id: contract.customer_id,
            contract_id,
            asked,
            justification: justification.as_str(),
            requested_by: user.id,
            now,
        },
    )
    .await;
    let id = match inserted {
        Ok(id) => id,
        Err(e) if violated(&e) == Some(Unique::OpenApproval) => {
            return Err(Error::Conflict(t_with(
                "conflict-kontingent-request-open",
                &[("number", Arg::from(contract.number.as_str()))],
            )));
        }
        Err(e) => return Err(on_constraint(e)),
    };
    change
        .audit(audit::Entry {
            customer_id: Some(contract.customer_id),
            action: "kontingent_request.created",
            object_type: ApprovalKind::Kontingent.as_str(),
            object_id: id,
            before: Some(json!({"contract_id": contract_id, "kontingent": ceilings(&current)})),
            after: Some(json!({"contract_id": contract_id,
                "kontingent": ceilings(&asked.applied_to(&current)),
                "justification": justification})),
        })
        .await?;
    let what = format!(
        "Vertrag {} ({}): neue Obergrenzen {} – Begründung: {}",
        contract.number,
        contract.customer_name,
        describe(asked, &current),
        justification
    );
    approvals::opened(
        &mut change,
        ApprovalKind::Kontingent,
        id,
        contract.customer_id,
        Audience::Betreiber,
        &what,
        "/freigaben",
    )
    .await?;
    change.commit_created(id).await
}

/// Loads a request for a step, its row locked (PostgreSQL).
async fn load_for_change(
    change: &mut Change<'_>,
    user: &CurrentUser,
    id: i64,
) -> Result<KontingentRequest> {
    let lock = !change.db().for_update().is_empty();
    let row = db::kontingent_requests::find(change.conn(), id, lock).await?;
    visible(user, row, |q| q.customer_id)
}

/// Whether an approval of `granted` still waits for the second signature.
fn needs_cosign(
    cosign_required: bool,
    q: &KontingentRequest,
    granted: &CeilingChange,
    current: &Kontingent,
) -> bool {
    cosign_required && q.cosigned_by.is_none() && granted.raises_budget(current)
}

/// Approves with the values asked, or with `other` values the Betreiber
/// chose; the contract's Kontingent changes in the same change.
#[allow(clippy::too_many_arguments)]
pub async fn approve(
    db: &Db,
    user: &CurrentUser,
    id: i64,
    other: Option<&CeilingChange>,
    reason: Option<&str>,
    cosign_required: bool,
    now: i64,
) -> Result<KontingentRequest> {
    let mut change = Change::begin(db, user, now).await?;
    let q = load_for_change(&mut change, user, id).await?;
    policy::decide_kontingent(user, q.requested_by)?;
    approvals::next(q.state, Step::Approve)?;
    let reason = approvals::reason(Step::Approve, reason)?;
    // The contract is locked like a booking locks it: no booking slips in
    // between reading what is committed and changing the ceilings.
    let contract = db::contracts::load(db, change.conn(), q.contract_id, true)
        .await?
        .ok_or(Error::NotFound)?;
    let current = contract.kontingent();
    let granted = other.copied().unwrap_or_else(|| q.asked());
    if granted.is_empty() {
        return Err(Error::validation(
            "kontingent",
            t("invalid-kontingent-empty"),
        ));
    }
    if needs_cosign(cosign_required, &q, &granted, &current) {
        return Err(Error::Conflict(t("conflict-kontingent-cosign-first")));
    }
    let after = granted.applied_to(&current);
    let committed = db::contracts::usage(change.conn(), &contract, now).await?;
    let below = after.below(&committed);
    if !below.is_empty() && below.iter().any(|l| !current.below(&committed).contains(l)) {
        let names: Vec<String> = below.iter().map(|l| limit_name(*l)).collect();
        return Err(Error::Conflict(t_with(
            "conflict-kontingent-below-use",
            &[("limits", Arg::from(names.join(", ")))],
        )));
    }
    db::contracts::set_kontingent(change.tx(), q.contract_id, &after).await?;
    db::kontingent_requests::set_granted(change.tx(), id, &granted).await?;
    change
        .audit(audit::Entry {
            customer_id: Some(q.customer_id),
            action: "contract.kontingent_changed",
            object_type: "contract",
            object_id: q.contract_id,
            before: Some(json!({"kontingent": ceilings(&current)})),
            after: Some(json!({"kontingent": ceilings(&after), "kontingent_request": id})),
        })
        .await?;
    approvals::close(
        &mut change,
        ApprovalKind::Kontingent,
        id,
        q.customer_id,
        Step::Approve,
        reason.as_ref(),
        json!({"contract_id": q.contract_id, "kontingent": ceilings(&after)}),
    )
    .await?;
    change.commit().await?;
    get(db, user, id).await
}

/// Rejects with a reason the requester reads.
pub async fn reject(
    db: &Db,
    user: &CurrentUser,
    id: i64,
    reason: Option<&str>,
    now: i64,
) -> Result<KontingentRequest> {
    let mut change = Change::begin(db, user, now).await?;
    let q = load_for_change(&mut change, user, id).await?;
    policy::decide_kontingent(user, q.requested_by)?;
    approvals::next(q.state, Step::Reject)?;
    let reason = approvals::reason(Step::Reject, reason)?;
    approvals::close(
        &mut change,
        ApprovalKind::Kontingent,
        id,
        q.customer_id,
        Step::Reject,
        reason.as_ref(),
        json!({"contract_id": q.contract_id}),
    )
    .await?;
    change.commit().await?;
    get(db, user, id).await
}

/// The requester takes an open request back.
pub async fn withdraw(db: &Db, user: &CurrentUser, id: i64, now: i64) -> Result<KontingentRequest> {
    let mut change = Change::begin(db, user, now).await?;
    let q = load_for_change(&mut change, user, id).await?;
    policy::withdraw_request(user, q.customer_id, q.requested_by)?;
    approvals::next(q.state, Step::Withdraw)?;
    approvals::close(
        &mut change,
        ApprovalKind::Kontingent,
        id,
        q.customer_id,
        Step::Withdraw,
        None,
        json!({"contract_id": q.contract_id}),
    )
    .await?;
    change.commit().await?;
    get(db, user, id).await
}

/// The customer's Finanzen sign a budget increase as well.
///
/// Only a request that needs it can be signed: with the setting on, one
/// that raises the monthly budget.
pub async fn cosign(
    db: &Db,
    user: &CurrentUser,
    id: i64,
    cosign_required: bool,
    now: i64,
) -> Result<KontingentRequest> {
    let mut change = Change::begin(db, user, now).await?;
    let q = load_for_change(&mut change, user, id).await?;
    policy::cosign_kontingent(user, q.customer_id, q.requested_by)?;
    approvals::next(q.state, Step::Approve)?;
    if !q.awaits_cosign(cosign_required) && q.cosigned_by.is_none() {
        return Err(Error::Conflict(t("conflict-kontingent-cosign-not-needed")));
    }
    if q.cosigned_by.is_some() || !db::approvals::cosign(change.tx(), id, user.id, now).await? {
        return Err(Error::Conflict(t("conflict-kontingent-cosigned")));
    }
    change
        .audit(audit::Entry {
            customer_id: Some(q.customer_id),
            action: "kontingent_request.cosigned",
            object_type: ApprovalKind::Kontingent.as_str(),
            object_id: id,
            before: None,
            after: Some(json!({"cosigned_by": user.id})),
        })
        .await?;
    change.commit().await?;
    get(db, user, id).await
}

/// A request the user may see; another tenant's id is `NotFound`.
pub async fn get(db: &Db, user: &CurrentUser, id: i64) -> Result<KontingentRequest> {
    let mut conn = db.pool.acquire().await?;
    let row = db::kontingent_requests::find(&mut conn, id, false).await?;
    visible(user, row, |q| q.customer_id)
}

/// The requests the user may see, newest first; of one state when given.
pub async fn list(
    db: &Db,
    user: &CurrentUser,
    state: Option<ApprovalState>,
) -> Result<Vec<KontingentRequest>> {
    Ok(db::kontingent_requests::list(&db.pool, user.scope(), state).await?)
}

/// Whether `user` may decide `q` now.
pub fn decidable_by(q: &KontingentRequest, user: &CurrentUser) -> bool {
    q.is_open() && policy::allows(policy::decide_kontingent(user, q.requested_by))
}

/// Whether `user` may add the second signature to `q` now.
pub fn cosignable_by(q: &KontingentRequest, user: &CurrentUser, cosign_required: bool) -> bool {
    q.awaits_cosign(cosign_required)
        && policy::allows(policy::cosign_kontingent(
            user,
            q.customer_id,
            q.requested_by,
        ))
}
