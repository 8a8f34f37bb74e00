//! Kontingent-Änderungsantrag in the browser: the Systempfleger:in's form
//! (one click from a refused booking, pre-filled with what would have let
//! it through), and on the Freigaben page the open requests with what each
//! person may do: approve, with other values if need be, or reject
//! (Betreiber), co-sign a budget increase (the customer's Finanzen),
//! withdraw (the requester).

use askama::Template;
use axum::{
    Form, Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::Response,
    routing::{get, post},
};
use serde::Deserialize;

use super::{
    Layout, Nav, PageError, Route, Url,
    admin::path_id,
    form::Fields,
    format::number_in,
    lang::{Lang, Worded, t},
    render, see_other,
    session::PageUser,
    urls::{Hinweis, KontingentAsk},
    view::{limit_label, limit_value},
};
use crate::{
    app::{
        self, Error, FieldErrors,
        error::KontingentRefusal,
        kontingent::{MAX_JUSTIFICATION, cosignable_by, decidable_by},
    },
    db::{self, contracts::Contract, kontingent_requests::KontingentRequest},
    domain::{
        Cents, Kontingent, Size,
        actor::CurrentUser,
        approval::ApprovalState,
        kontingent::{CeilingChange, Commitment, Limit},
        text::Text,
    },
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            Route::KontingentRequestNew.pattern(),
            get(request_form).post(create),
        )
        .route(Route::KontingentApprove.pattern(), post(approve))
        .route(Route::KontingentReject.pattern(), post(reject))
        .route(Route::KontingentWithdraw.pattern(), post(withdraw))
        .route(Route::KontingentCosign.pattern(), post(cosign))
}

/// Why a booking or resize was refused, with the request that would make
/// room where the Kontingent was the reason.
pub struct Refusal {
    pub message: String,
    pub request: Option<Url>,
    /// Where the Kontingent was the reason: the sizes of the same product
    /// that fit as they are (possibly none), each offered as a choice.
    pub fitting: Option<Vec<Size>>,
}

impl Refusal {
    pub fn of(refusal: &KontingentRefusal) -> Refusal {
        let lang = Lang::current();
        let e = &refusal.exceeded;
        let value = |v: i64| limit_value(lang, e.limit, v).into();
        Refusal {
            message: lang.t_with(
                "kontingent-refused",
                &[
                    ("limit", limit_label(lang, e.limit).into()),
                    ("requested", value(e.requested)),
                    ("remaining", value(e.remaining.max(0))),
                    ("ceiling", value(e.ceiling)),
                ],
            ),
            request: Some(request_link(refusal)),
            fitting: Some(refusal.fitting.clone()),
        }
    }

    pub fn because(message: String) -> Refusal {
        Refusal {
            message,
            request: None,
            fitting: None,
        }
    }
}

/// The request that would have let a refused booking or resize through.
pub fn request_link(refusal: &KontingentRefusal) -> Url {
    Url::KontingentRequestNew {
        contract: refusal.contract_id,
        ask: ask_of(&refusal.fit),
    }
}

/// A change as the form shows it: whole vCPU and GiB rounded up, so that
/// what is shown is at least what is needed.
fn ask_of(c: &CeilingChange) -> KontingentAsk {
    let shown = |v: Option<i64>, unit: i64| v.map(|v| (v + unit - 1) / unit);
    KontingentAsk {
        vcpu: text(shown(c.millicpu, 1000)),
        memory_gib: text(shown(c.memory_mib, 1024)),
        storage_gib: text(c.storage_gib),
        monthly_budget: c.monthly_budget.map(Cents::to_input).unwrap_or_default(),
    }
}

fn text(v: Option<i64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// New ceilings as typed; an empty field leaves its ceiling as it is.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct CeilingFields {
    vcpu: String,
    memory_gib: String,
    storage_gib: String,
    monthly_budget: String,
    reason: String,
}

impl CeilingFields {
    fn of(ask: KontingentAsk) -> CeilingFields {
        CeilingFields {
            vcpu: ask.vcpu,
            memory_gib: ask.memory_gib,
            storage_gib: ask.storage_gib,
            monthly_budget: ask.monthly_budget,
            reason: String::new(),
        }
    }

    /// The ceilings named, or every field's message.
    fn parse(&self, f: &mut Fields) -> Option<CeilingChange> {
        let whole = |f: &mut Fields, name: &str, value: &str, max: i64, unit: i64| {
            let value = value.trim();
            if value.is_empty() {
                return Ok(None);
            }
            f.whole_number(name, value, max)
                .map(|n| Some(n * unit))
                .ok_or(())
        };
        let vcpu = whole(f, "vcpu", &self.vcpu, 100_000, 1000);
        let memory = whole(f, "memory_gib", &self.memory_gib, 1_000_000, 1024);
        let storage = whole(f, "storage_gib", &self.storage_gib, 100_000_000, 1);
        let budget = match self.monthly_budget.trim() {
            "" => Ok(None),
            v => f.money("monthly_budget", v, false).map(Some).ok_or(()),
        };
        let change = CeilingChange {
            millicpu: vcpu.ok()?,
            memory_mib: memory.ok()?,
            storage_gib: storage.ok()?,
            monthly_budget: budget.ok()?,
        };
        if change.is_empty() {
            f.add("vcpu", t("kontingent-name-one-ceiling"));
            return None;
        }
        Some(change)
    }
}

/// The messages of the use cases under the form's field names.
fn on_fields(errors: FieldErrors) -> FieldErrors {
    let mut mapped = FieldErrors::default();
    for (field, message) in errors.0 {
        let field = match field.as_str() {
            "reason" => "reason",
            _ => "vcpu",
        };
        mapped.add(field, message);
    }
    mapped
}

/// The hint beside a ceiling: what it is and what is booked under it.
struct Ceiling {
    now: String,
    booked: String,
}

fn ceilings(k: &Kontingent, booked: &Commitment) -> [Ceiling; 4] {
    Limit::ALL.map(|limit| Ceiling {
        now: limit_value(Lang::current(), limit, k.ceiling(limit)),
        booked: limit_value(Lang::current(), limit, booked.of(limit)),
    })
}

#[derive(Template)]
#[template(path = "kontingent_request.html")]
struct RequestPage {
    layout: Layout,
    contract: Contract,
    ceilings: [Ceiling; 4],
    form: CeilingFields,
    errors: FieldErrors,
    /// A request of this contract already open (another cannot be asked).
    open: Option<Url>,
}

async fn request_page(
    state: &AppState,
    page: &PageUser,
    id: i64,
    form: CeilingFields,
    errors: FieldErrors,
) -> Result<Response, PageError> {
    let contract = app::contracts::get(&state.db, &page.user, id).await?;
    // Only whoever may ask sees the form; everyone else as for a refused
    // request.
    crate::domain::policy::request_kontingent(&page.user, contract.customer_id)
        .map_err(Error::from)?;
    let booked = db::contracts::usage(&state.db.pool, &contract, db::now()).await?;
    let open = app::kontingent::list(&state.db, &page.user, Some(ApprovalState::Offen))
        .await?
        .iter()
        .any(|q| q.contract_id == id)
        .then_some(Url::Approvals);
    let failed = !errors.is_empty();
    let mut response = render(&RequestPage {
        layout: page.layout(t("overview-request-increase"), Nav::Approvals),
        ceilings: ceilings(&contract.kontingent(), &booked),
        contract,
        form,
        errors,
        open,
    })?;
    if failed {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Prefill {
    vcpu: String,
    arbeitsspeicher: String,
    speicher: String,
    budget: String,
}

async fn request_form(
    State(state): State<AppState>,
    page: PageUser,
    Path(id): Path<String>,
    Query(p): Query<Prefill>,
) -> Result<Response, PageError> {
    let form = CeilingFields::of(KontingentAsk {
        vcpu: p.vcpu,
        memory_gib: p.arbeitsspeicher,
        storage_gib: p.speicher,
        monthly_budget: p.budget,
    });
    request_page(&state, &page, path_id(&id)?, form, FieldErrors::default()).await
}

async fn create(
    State(state): State<AppState>,
    page: PageUser,
    Path(id): Path<String>,
    Form(form): Form<CeilingFields>,
) -> Result<Response, PageError> {
    let id = path_id(&id)?;
    let mut f = Fields::default();
    let asked = form.parse(&mut f);
    let reason = match f.lines("reason", &form.reason, MAX_JUSTIFICATION) {
        Some(None) => {
            f.add("reason", t("kontingent-give-reason"));
            None
        }
        reason => reason.flatten(),
    };
    let parsed = f.finish(|| (asked, reason));
    let created = match parsed {
        Ok((Some(asked), Some(reason))) => {
            app::kontingent::request(&state.db, &page.user, id, &asked, &reason, None, db::now())
                .await
        }
        Ok(_) => unreachable!("every field parsed"),
        Err(errors) => Err(Error::Validation(errors)),
    };
    match created {
        Ok(_) => Ok(see_other(Url::ApprovalsNotice(
            Hinweis::KontingentBeantragt,
        ))),
        Err(Error::Validation(errors)) => {
            request_page(&state, &page, id, form, on_fields(errors)).await
        }
        Err(Error::Conflict(message)) => {
            let errors = FieldErrors::single("vcpu", message);
            request_page(&state, &page, id, form, errors).await
        }
        Err(e) => Err(e.into()),
    }
}

// ----- on the Freigaben page ---------------------------------------------

/// An open (or lately decided) request as the Freigaben page shows it.
pub struct RequestCard {
    pub q: KontingentRequest,
    /// "vCPU 8 → 16, Monatsbudget …"
    pub asked: String,
    pub requested: String,
    pub state_label: String,
    /// What an approval granted ("vCPU 16 vCPU, …").
    pub granted: Option<String>,
    pub may_decide: bool,
    pub may_cosign: bool,
    pub may_withdraw: bool,
    pub awaits_cosign: bool,
    /// The approval form's values: what was asked, to change if need be.
    pub form: KontingentAsk,
    /// Why the last step on this request was refused.
    pub error: Option<String>,
}

/// The ceilings a change names, from what they are to what they would be
/// ("vCPU 8 → 16, Monatsbudget …"), in the request's language.
fn asked_words(change: &CeilingChange, current: &crate::domain::Kontingent) -> String {
    use crate::domain::resources::{format_gib, format_vcpu, format_whole};
    let lang = Lang::current();
    let n = |german: String| number_in(lang, german);
    let after = change.applied_to(current);
    [
        (
            "kontingent-asked-vcpu",
            change.millicpu.is_some(),
            n(format_vcpu(current.millicpu)),
            n(format_vcpu(after.millicpu)),
        ),
        (
            "kontingent-asked-memory",
            change.memory_mib.is_some(),
            n(format_gib(current.memory_mib)),
            n(format_gib(after.memory_mib)),
        ),
        (
            "kontingent-asked-storage",
            change.storage_gib.is_some(),
            n(format_whole(current.storage_gib)),
            n(format_whole(after.storage_gib)),
        ),
        (
            "kontingent-asked-budget",
            change.monthly_budget.is_some(),
            n(current.monthly_budget.to_string()),
            n(after.monthly_budget.to_string()),
        ),
    ]
    .into_iter()
    .filter(|(_, asked, _, _)| *asked)
    .map(|(id, _, before, after)| {
        lang.t_with(id, &[("before", before.into()), ("after", after.into())])
    })
    .collect::<Vec<_>>()
    .join(", ")
}

/// The ceilings a change names, with their values ("vCPU: 16 vCPU, …").
fn absolute(c: &CeilingChange) -> String {
    [
        (Limit::Vcpu, c.millicpu),
        (Limit::Memory, c.memory_mib),
        (Limit::Storage, c.storage_gib),
        (Limit::MonthlyBudget, c.monthly_budget.map(|b| b.0)),
    ]
    .into_iter()
    .filter_map(|(limit, v)| {
        let lang = Lang::current();
        v.map(|v| {
            format!(
                "{}: {}",
                limit_label(lang, limit),
                limit_value(lang, limit, v)
            )
        })
    })
    .collect::<Vec<_>>()
    .join(", ")
}

/// The Kontingent requests of the Freigaben page.
pub struct Section {
    pub open: Vec<RequestCard>,
    pub decided: Vec<RequestCard>,
}

/// The requests the person sees: open ones, and the last ones decided.
pub async fn section(
    state: &AppState,
    user: &CurrentUser,
    error: Option<(i64, String)>,
) -> Result<Section, PageError> {
    let all = app::kontingent::list(&state.db, user, None).await?;
    let cosign = state.settings.kontingent_budget_cosign;
    let (mut open, mut decided) = (Vec::new(), Vec::new());
    for q in all {
        let card = RequestCard {
            asked: asked_words(&q.asked(), &q.current()),
            requested: crate::web::format::date_time(q.requested_at),
            state_label: t(&q.state.message_id()),
            granted: q.granted().map(|g| absolute(&g)),
            may_decide: decidable_by(&q, user),
            may_cosign: cosignable_by(&q, user, cosign),
            may_withdraw: q.is_open() && q.requested_by == user.id,
            awaits_cosign: q.awaits_cosign(cosign),
            form: ask_of(&q.asked()),
            error: error
                .as_ref()
                .filter(|(id, _)| *id == q.id)
                .map(|(_, m)| m.clone()),
            q,
        };
        if card.q.is_open() {
            open.push(card);
        } else if decided.len() < 10 {
            decided.push(card);
        }
    }
    Ok(Section { open, decided })
}

/// Back on the Freigaben page with the step refused: the message on the
/// request's card.
async fn refused(
    state: &AppState,
    page: &PageUser,
    id: i64,
    message: String,
) -> Result<Response, PageError> {
    let mut response = super::releases::inbox_with(state, page, Some((id, message))).await?;
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(response)
}

/// A step's outcome: on to the Freigaben page with its note, or back with
/// the reason it was refused where the person can act on it.
async fn after_step(
    state: &AppState,
    page: &PageUser,
    id: i64,
    outcome: Result<KontingentRequest, Error>,
    note: Hinweis,
) -> Result<Response, PageError> {
    match outcome {
        Ok(_) => Ok(see_other(Url::ApprovalsNotice(note))),
        Err(Error::Validation(errors)) => refused(state, page, id, errors.to_string()).await,
        Err(Error::Conflict(message)) => refused(state, page, id, message).await,
        Err(e) => Err(e.into()),
    }
}

async fn approve(
    State(state): State<AppState>,
    page: PageUser,
    Path(id): Path<String>,
    Form(form): Form<CeilingFields>,
) -> Result<Response, PageError> {
    let id = path_id(&id)?;
    let mut f = Fields::default();
    let granted = form.parse(&mut f);
    let reason = f.lines("reason", &form.reason, MAX_JUSTIFICATION).flatten();
    let outcome = match (f.finish(|| ()), granted) {
        (Ok(()), Some(granted)) => {
            app::kontingent::approve(
                &state.db,
                &page.user,
                id,
                Some(&granted),
                reason.as_ref().map(Text::as_str),
                state.settings.kontingent_budget_cosign,
                db::now(),
            )
            .await
        }
        (Err(errors), _) => Err(Error::Validation(errors)),
        (Ok(()), None) => unreachable!("a change parsed without messages"),
    };
    after_step(&state, &page, id, outcome, Hinweis::KontingentGenehmigt).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ReasonForm {
    reason: String,
}

async fn reject(
    State(state): State<AppState>,
    page: PageUser,
    Path(id): Path<String>,
    Form(form): Form<ReasonForm>,
) -> Result<Response, PageError> {
    let id = path_id(&id)?;
    let outcome =
        app::kontingent::reject(&state.db, &page.user, id, Some(&form.reason), db::now()).await;
    after_step(&state, &page, id, outcome, Hinweis::KontingentAbgelehnt).await
}

async fn withdraw(
    State(state): State<AppState>,
    page: PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = path_id(&id)?;
    let outcome = app::kontingent::withdraw(&state.db, &page.user, id, db::now()).await;
    after_step(
        &state,
        &page,
        id,
        outcome,
        Hinweis::KontingentZurueckgezogen,
    )
    .await
}

async fn cosign(
    State(state): State<AppState>,
    page: PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = path_id(&id)?;
    let outcome = app::kontingent::cosign(
        &state.db,
        &page.user,
        id,
        state.settings.kontingent_budget_cosign,
        db::now(),
    )
    .await;
    after_step(&state, &page, id, outcome, Hinweis::KontingentMitgezeichnet).await
}
