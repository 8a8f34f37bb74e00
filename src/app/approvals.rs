//! The steps every request shares, whatever it is about: the state machine
//! (`domain::approval`), the reason of a decision, closing it once even when
//! two people decide at the same moment, and the audit entry. Promotions
//! and Kontingent requests add what their kind does on approval.

use serde_json::json;

use super::{Change, Error, FieldErrors, Result, notify};
use crate::{
    db::{self, audit},
    domain::{
        Stage,
        actor::CurrentUser,
        approval::{self, ApprovalKind, ApprovalState, Step},
        notification::Audience,
        policy,
        text::Text,
    },
    i18n::t,
};

/// Longest reason of a decision.
pub const MAX_REASON: usize = 2000;

/// The reason given with a step. Rejecting needs one: the requester reads
/// it. Called only once it is clear that this person may take the step, so
/// no one else learns anything from the message.
pub fn reason(step: Step, raw: Option<&str>) -> Result<Option<Text>> {
    let reason = Text::optional_lines(raw.unwrap_or_default(), MAX_REASON)
        .map_err(|e| Error::validation("reason", e.to_string()))?;
    if step == Step::Reject && reason.is_none() {
        return Err(Error::Validation(FieldErrors::single(
            "reason",
            t("invalid-reject-reason"),
        )));
    }
    Ok(reason)
}

/// The state `step` leads to from `state`, or the conflict of a request
/// that is closed already.
pub fn next(state: ApprovalState, step: Step) -> Result<ApprovalState> {
    approval::next(state, step).map_err(|closed| Error::Conflict(closed.to_string()))
}

/// A request was opened in `change`: tells those who may decide it
/// (`deciders`, never the requester) that it waits for them. Every kind of
/// request calls this once it has written its request; `what` says in a
/// German sentence what it asks for, `link` is the page to decide it on.
pub async fn opened(
    change: &mut Change<'_>,
    kind: ApprovalKind,
    id: i64,
    customer_id: i64,
    deciders: Audience,
    what: &str,
    link: &str,
) -> Result<()> {
    let requested_by = change.person().id;
    change
        .notify(notify::waiting(
            kind,
            id,
            customer_id,
            requested_by,
            deciders,
            what,
            link,
        ))
        .await?;
    Ok(())
}

/// Closes the request with `step` in `change` and records it: the state
/// condition makes a second, simultaneous decision a conflict (its
/// transaction waits for the first and then finds nothing open).
pub async fn close(
    change: &mut Change<'_>,
    kind: ApprovalKind,
    id: i64,
    customer_id: i64,
    step: Step,
    reason: Option<&Text>,
    details: serde_json::Value,
) -> Result<ApprovalState> {
    let state = next(ApprovalState::Offen, step)?;
    let by = change.person().id;
    let now = change.now;
    let reason = reason.map(Text::as_str);
    if !db::approvals::close(change.tx(), id, state, by, now, reason).await? {
        return Err(Error::Conflict(t("conflict-request-decided")));
    }
    let mut after = json!({"state": state, "reason": reason});
    if let (Some(after), serde_json::Value::Object(more)) = (after.as_object_mut(), details) {
        after.extend(more);
    }
    change
        .audit(audit::Entry {
            customer_id: Some(customer_id),
            action: action(kind, step),
            object_type: kind.as_str(),
            object_id: id,
            before: Some(json!({"state": ApprovalState::Offen})),
            after: Some(after),
        })
        .await?;
    // A decision is told to the requester; a withdrawal was their own.
    if step != Step::Withdraw
        && let Some(head) = db::approvals::head(change.conn(), id, "").await?
    {
        change
            .notify(notify::decided(
                kind,
                id,
                customer_id,
                head.requested_by,
                state,
                reason,
            ))
            .await?;
    }
    Ok(state)
}

/// How many open requests of every kind wait for `user`'s decision (the
/// "Freigaben (N)" of the navigation): promotions into a stage whose
/// approving role the person has, Kontingent requests for the Betreiber,
/// and with `cosign_required` the budget increases its customer's Finanzen
/// have to sign; never their own.
pub async fn waiting_count(
    db: &crate::db::Db,
    user: &CurrentUser,
    cosign_required: bool,
) -> Result<i64> {
    let stages: Vec<Stage> = Stage::ALL
        .into_iter()
        .filter(|s| s.approver().is_some_and(|role| user.has(role)))
        .collect();
    let waiting = db::approvals::Waiting {
        user_id: user.id,
        customer_id: user.customer_id,
        stages: &stages,
        kontingent: policy::allows(policy::administer(user)),
        cosign: cosign_required
            && user.customer_id.is_some()
            && user.has(crate::domain::Role::Finanzen),
    };
    if stages.is_empty() && !waiting.kontingent && !waiting.cosign {
        return Ok(0);
    }
    let mut conn = db.pool.acquire().await?;
    Ok(db::approvals::waiting_for(&mut conn, &waiting).await?)
}

/// The audit action of a step on a request of `kind`.
fn action(kind: ApprovalKind, step: Step) -> &'static str {
    match (kind, step) {
        (ApprovalKind::Promotion, Step::Approve) => "promotion.approved",
        (ApprovalKind::Promotion, Step::Reject) => "promotion.rejected",
        (ApprovalKind::Promotion, Step::Withdraw) => "promotion.withdrawn",
        (ApprovalKind::Kontingent, Step::Approve) => "kontingent_request.approved",
        (ApprovalKind::Kontingent, Step::Reject) => "kontingent_request.rejected",
        (ApprovalKind::Kontingent, Step::Withdraw) => "kontingent_request.withdrawn",
    }
}
