//! Freigaben: requests to move a release one stage on, decided by another
//! person with the role the target stage needs. An approval starts the
//! deployment in the same change; of two people approving at once, exactly
//! one succeeds.

use serde_json::json;
use sqlx::AnyConnection;

use super::{Begun, Change, Created, Error, FieldErrors, Result, approvals, deployments, visible};
use crate::{
    db::{
        self, Db, audit,
        constraints::{Unique, violated},
        promotions::Promotion,
    },
    domain::{
        Role, Stage,
        actor::CurrentUser,
        approval::{ApprovalKind, Step},
        idempotency::Key,
        notification::Audience,
        policy,
        release::Checkup,
    },
    i18n::{Arg, Worded, t, t_with},
};

/// The promotion rule: a release enters a stage from the stage before,
/// where it runs successfully now — or returns to a stage it has run in
/// successfully before (a rollback). Nothing else: no skipping.
async fn may_enter(
    conn: &mut AnyConnection,
    application_id: i64,
    release_id: i64,
    from: Stage,
    to: Stage,
) -> Result<bool> {
    Ok(
        db::promotions::running_release(conn, application_id, from).await? == Some(release_id)
            || db::promotions::ran_in(conn, application_id, to, release_id).await?,
    )
}

fn not_running(version: &str, stage: Stage) -> Error {
    Error::Conflict(t_with(
        "conflict-promotion-not-running",
        &[
            ("version", Arg::from(version)),
            ("stage", stage_name(stage)),
        ],
    ))
}

/// A stage's name in the request's language.
fn stage_name(stage: Stage) -> Arg {
    Arg::from(t(&stage.message_id()))
}

/// Requests moving `release_id` into `to` (from the stage before it). With
/// an `Idempotency-Key` a retry gets the first request back.
pub async fn request(
    db: &Db,
    user: &CurrentUser,
    application_id: i64,
    release_id: i64,
    to: Stage,
    key: Option<&Key>,
    now: i64,
) -> Result<Created> {
    let mut change = match Change::begin_idempotent(db, user, now, key).await? {
        Begun::Fresh(change) => change,
        Begun::Replayed(id) => return Ok(Created::Replayed(id)),
    };
    let (customer_id, _) = db::applications::owner(change.conn(), application_id)
        .await?
        .ok_or(Error::NotFound)?;
    policy::request_promotion(user, customer_id)?;
    let Some(from) = to.previous() else {
        return Err(Error::Validation(FieldErrors::single(
            "to_stage",
            t("invalid-promotion-into-first"),
        )));
    };
    let version = db::promotions::release_of(change.conn(), application_id, release_id)
        .await?
        .filter(|(_, checkup)| *checkup == Checkup::Bestanden)
        .map(|(version, _)| version)
        .ok_or_else(|| {
            Error::Validation(FieldErrors::single(
                "release_id",
                t("invalid-promotion-release"),
            ))
        })?;
    if !may_enter(change.conn(), application_id, release_id, from, to).await? {
        return Err(not_running(&version, from));
    }
    if db::promotions::running_release(change.conn(), application_id, to).await? == Some(release_id)
    {
        return Err(Error::Conflict(t_with(
            "conflict-promotion-running",
            &[
                ("version", Arg::from(version.as_str())),
                ("stage", stage_name(to)),
            ],
        )));
    }
    let inserted = db::promotions::insert(
        change.tx(),
        &db::promotions::NewRow {
            customer_id,
            application_id,
            release_id,
            from,
            to,
            requested_by: user.id,
            now,
        },
    )
    .await;
    let id = match inserted {
        Ok(id) => id,
        Err(e) if violated(&e) == Some(Unique::OpenApproval) => {
            return Err(Error::Conflict(t_with(
                "conflict-promotion-open",
                &[("stage", stage_name(to))],
            )));
        }
        Err(e) => return Err(e.into()),
    };
    change
        .audit(audit::Entry {
            customer_id: Some(customer_id),
            action: "promotion.requested",
            object_type: "promotion",
            object_id: id,
            before: None,
            after: Some(json!({"release": release_id, "version": version,
                "from": from, "to": to})),
        })
        .await?;
    let deciders = match to.approver() {
        Some(role) => Audience::CustomerRoles(customer_id, role_slice(role)),
        None => Audience::Betreiber,
    };
    let application = db::applications::name_of(change.conn(), application_id).await?;
    approvals::opened(
        &mut change,
        ApprovalKind::Promotion,
        id,
        customer_id,
        deciders,
        &format!(
            "Lieferung {version} des Verfahrens {application} von {} nach {} freigeben.",
            from.label(),
            to.label()
        ),
        "/freigaben",
    )
    .await?;
    change.commit_created(id).await
}

/// One role as the static list an `Audience` holds.
fn role_slice(role: Role) -> &'static [Role] {
    match role {
        Role::Betreiber => &[Role::Betreiber],
        Role::Systempfleger => &[Role::Systempfleger],
        Role::Verfahrensverantwortlicher => &[Role::Verfahrensverantwortlicher],
        Role::Entwickler => &[Role::Entwickler],
        Role::Finanzen => &[Role::Finanzen],
    }
}

/// Loads a request for a change, under a row lock on PostgreSQL.
async fn load_for_change(
    change: &mut Change<'_>,
    user: &CurrentUser,
    id: i64,
) -> Result<Promotion> {
    let lock = !change.db().for_update().is_empty();
    let row = db::promotions::find(change.conn(), id, lock).await?;
    visible(user, row, |p| p.customer_id)
}

/// Approves (`approve`) or rejects with `reason`.
pub async fn decide(
    db: &Db,
    user: &CurrentUser,
    id: i64,
    approve: bool,
    reason: Option<&str>,
    now: i64,
) -> Result<Promotion> {
    let step = if approve { Step::Approve } else { Step::Reject };
    let mut change = Change::begin(db, user, now).await?;
    let p = load_for_change(&mut change, user, id).await?;
    policy::decide_promotion(user, p.customer_id, p.to_stage, p.requested_by)?;
    approvals::next(p.state, step)?;
    let reason = approvals::reason(step, reason)?;
    let mut deployment = None;
    if approve {
        if !may_enter(
            change.conn(),
            p.application_id,
            p.release_id,
            p.from_stage,
            p.to_stage,
        )
        .await?
        {
            return Err(not_running(&p.version, p.from_stage));
        }
        let environment_id =
            db::environments::id_of(change.conn(), p.application_id, p.to_stage).await?;
        let started = deployments::start(&mut change, environment_id, p.release_id).await?;
        db::promotions::set_deployment(change.tx(), id, started).await?;
        deployment = Some(started);
    }
    approvals::close(
        &mut change,
        ApprovalKind::Promotion,
        id,
        p.customer_id,
        step,
        reason.as_ref(),
        json!({"deployment": deployment, "release": p.release_id, "to": p.to_stage}),
    )
    .await?;
    change.commit().await?;
    get(db, user, id).await
}

/// The requester takes an open request back.
pub async fn withdraw(db: &Db, user: &CurrentUser, id: i64, now: i64) -> Result<Promotion> {
    let mut change = Change::begin(db, user, now).await?;
    let p = load_for_change(&mut change, user, id).await?;
    policy::withdraw_request(user, p.customer_id, p.requested_by)?;
    approvals::next(p.state, Step::Withdraw)?;
    approvals::close(
        &mut change,
        ApprovalKind::Promotion,
        id,
        p.customer_id,
        Step::Withdraw,
        None,
        json!({}),
    )
    .await?;
    change.commit().await?;
    get(db, user, id).await
}

/// A request the user may see; another tenant's id is `NotFound`.
pub async fn get(db: &Db, user: &CurrentUser, id: i64) -> Result<Promotion> {
    let mut conn = db.pool.acquire().await?;
    let row = db::promotions::find(&mut conn, id, false).await?;
    visible(user, row, |p| p.customer_id)
}

/// Requests the user may see, newest first; only open ones with `open`.
pub async fn list(
    db: &Db,
    user: &CurrentUser,
    application_id: Option<i64>,
    open: bool,
) -> Result<Vec<Promotion>> {
    Ok(db::promotions::list(&db.pool, user.scope(), application_id, open).await?)
}

/// Whether `user` may decide `p` now: open, the right role, not their own.
pub fn decidable_by(p: &Promotion, user: &CurrentUser) -> bool {
    p.is_open()
        && policy::allows(policy::decide_promotion(
            user,
            p.customer_id,
            p.to_stage,
            p.requested_by,
        ))
}

/// Who may decide requests into a stage, for messages.
pub fn approver_label(to: Stage) -> &'static str {
    match to.approver() {
        Some(Role::Verfahrensverantwortlicher) => "Verfahrensverantwortliche:r",
        Some(_) => "Systempfleger:in",
        None => "niemand",
    }
}
