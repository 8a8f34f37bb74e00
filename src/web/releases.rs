//! Releases and Freigaben in the browser: per application the stage
//! pipeline (what runs where, what waits, the history) and the release list
//! with Checkup results; "Freigaben", the inbox of requests the user may
//! decide, with approve and reject (with a reason).

use crate::domain::release::DeploymentState;
use askama::Template;
use axum::{
    Form, Router,
    extract::{Path, State},
    http::StatusCode,
    response::Response,
    routing::{get, post},
};
use serde::Deserialize;

use super::{
    Layout, Nav, PageError, Route, Url,
    admin::path_id,
    lang::{Worded, t, t_with},
    render, see_other,
    session::PageUser,
    urls::Hinweis,
};
use crate::{
    app::error::Error,
    app::promotions,
    db::{
        self, applications::Application, deployments::Deployment, promotions::Promotion,
        releases::Release,
    },
    domain::Stage,
    domain::actor::CurrentUser,
    domain::policy,
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(Route::Stages.pattern(), get(stages))
        .route(Route::Pipeline.pattern(), get(pipeline))
        .route(Route::Releases.pattern(), get(releases))
        .route(Route::PromotionRequest.pattern(), post(request))
        .route(Route::Approvals.pattern(), get(inbox))
        .route(
            Route::PromotionApprove.pattern(),
            get(super::decide::approve_confirm).post(approve),
        )
        .route(Route::PromotionReject.pattern(), post(reject))
        .route(Route::PromotionWithdraw.pattern(), post(withdraw))
        .route(Route::DeploymentRetry.pattern(), post(retry))
}

/// A deployment as the pages show it.
pub struct DeploymentRow {
    pub d: Deployment,
    pub label: String,
    pub badge: &'static str,
    pub started: String,
    pub finished: String,
    pub may_retry: bool,
}

fn deployment_row(d: Deployment, user: &CurrentUser, latest: bool) -> DeploymentRow {
    let (label, badge) = match d.state.as_str() {
        // In its stage's column the latest success is what runs there.
        "erfolgreich" if latest => ("deployment-state-running", "success"),
        "erfolgreich" => ("deployment-state-succeeded", "success"),
        "fehlgeschlagen" => ("deployment-state-failed", "danger"),
        "abgeloest" => ("deployment-state-superseded", "warning"),
        _ => ("deployment-state-deploying", "info"),
    };
    let label = t(label);
    DeploymentRow {
        may_retry: latest
            && d.state == DeploymentState::Fehlgeschlagen
            && policy::allows(policy::deploy(user, d.customer_id, d.stage)),
        started: crate::web::format::date_time(d.started_at),
        finished: d
            .finished_at
            .map(crate::web::format::date_time)
            .unwrap_or_default(),
        label,
        badge,
        d,
    }
}

/// A promotion request as the pages show it.
pub struct PromotionRow {
    pub p: Promotion,
    pub state_label: String,
    pub requested: String,
    pub decided: String,
    pub may_decide: bool,
    pub may_withdraw: bool,
    pub approver: String,
    /// The message beside the reason field after a refused rejection.
    pub error: Option<String>,
    /// What the approver checks (on the Freigaben page's cards).
    pub details: Option<super::decide::ApprovalDetails>,
}

pub(super) fn promotion_row(p: Promotion, user: &CurrentUser) -> PromotionRow {
    PromotionRow {
        state_label: t(&p.state.message_id()),
        requested: crate::web::format::date_time(p.requested_at),
        decided: p
            .decided_at
            .map(crate::web::format::date_time)
            .unwrap_or_default(),
        may_decide: promotions::decidable_by(&p, user),
        may_withdraw: p.is_open() && p.requested_by == user.id,
        approver: t(match p.to_stage.approver() {
            Some(crate::domain::Role::Verfahrensverantwortlicher) => {
                "role-verfahrensverantwortlicher"
            }
            Some(_) => "role-systempfleger",
            None => "approval-nobody",
        }),
        error: None,
        details: None,
        p,
    }
}

/// Puts a refused rejection's message beside its form.
fn with_error(mut row: PromotionRow, error: &Option<(i64, String)>) -> PromotionRow {
    if let Some((id, message)) = error
        && *id == row.p.id
    {
        row.error = Some(message.clone());
    }
    row
}

/// One column of the pipeline.
pub struct StageColumn {
    pub stage: Stage,
    pub current: Option<DeploymentRow>,
    pub pending: Option<PromotionRow>,
    /// The release that may be requested into the next stage from here.
    pub promotable: Option<(i64, String, Stage)>,
}

#[derive(Template)]
#[template(path = "pipeline.html")]
struct PipelinePage {
    layout: Layout,
    app: Application,
    columns: Vec<StageColumn>,
    history: Vec<PromotionRow>,
    deployments: Vec<DeploymentRow>,
    notice: Option<String>,
}

#[derive(Deserialize, Default)]
struct Notice {
    hinweis: Option<String>,
}

fn notice_text(code: Option<&str>) -> Option<String> {
    Some(t(match Hinweis::parse(code?)? {
        Hinweis::Beantragt => "notice-requested",
        Hinweis::Genehmigt => "notice-approved",
        Hinweis::Abgelehnt => "notice-rejected",
        Hinweis::Zurueckgezogen => "notice-withdrawn",
        Hinweis::Wiederholt => "notice-retried",
        Hinweis::KontingentBeantragt => "notice-kontingent-requested",
        Hinweis::KontingentGenehmigt => "notice-kontingent-approved",
        Hinweis::KontingentAbgelehnt => "notice-kontingent-rejected",
        Hinweis::KontingentZurueckgezogen => "notice-kontingent-withdrawn",
        Hinweis::KontingentMitgezeichnet => "notice-kontingent-cosigned",
    }))
}

async fn pipeline_page(
    state: &AppState,
    page: &PageUser,
    id: i64,
    notice: Option<String>,
    reason_error: Option<(i64, String)>,
) -> Result<PipelinePage, PageError> {
    let pool = &state.db.pool;
    let user = &page.user;
    let app = crate::app::applications::get(&state.db, user, id).await?;
    let all_deployments = db::deployments::of_application(pool, id).await?;
    let history = db::promotions::list(pool, user.scope(), Some(id), false).await?;
    let may_request = policy::allows(policy::request_promotion(user, app.customer_id));
    let columns = Stage::ALL
        .into_iter()
        .map(|stage| {
            let current = all_deployments
                .iter()
                .find(|d| d.stage == stage)
                .filter(|d| d.in_place())
                .cloned()
                .map(|d| deployment_row(d, user, true));
            let pending = history
                .iter()
                .find(|p| p.is_open() && p.to_stage == stage)
                .cloned()
                .map(|p| with_error(promotion_row(p, user), &reason_error));
            // Nothing to request where a request is open, or where the
            // release runs already.
            let runs_in = |next: Stage, release: i64| {
                all_deployments
                    .iter()
                    .find(|d| d.stage == next)
                    .is_some_and(|d| {
                        d.release_id == release && d.state == DeploymentState::Erfolgreich
                    })
            };
            let next_free = stage
                .next()
                .filter(|next| !history.iter().any(|p| p.is_open() && p.to_stage == *next));
            let promotable = current
                .as_ref()
                .filter(|c| may_request && c.d.state == DeploymentState::Erfolgreich)
                .and_then(|c| {
                    next_free
                        .filter(|next| !runs_in(*next, c.d.release_id))
                        .map(|next| (c.d.release_id, c.d.version.clone(), next))
                });
            StageColumn {
                stage,
                current,
                pending,
                promotable,
            }
        })
        .collect();
    Ok(PipelinePage {
        layout: page.layout(
            t_with("pipeline-title", &[("name", app.name.clone().into())]),
            Nav::Stages,
        ),
        columns,
        history: history
            .into_iter()
            .map(|p| promotion_row(p, user))
            .collect(),
        deployments: all_deployments
            .into_iter()
            .map(|d| deployment_row(d, user, false))
            .collect(),
        app,
        notice,
    })
}

async fn pipeline(
    State(state): State<AppState>,
    page: PageUser,
    Path(id): Path<String>,
    axum::extract::Query(n): axum::extract::Query<Notice>,
) -> Result<Response, PageError> {
    let p = pipeline_page(
        &state,
        &page,
        path_id(&id)?,
        notice_text(n.hinweis.as_deref()),
        None,
    )
    .await?;
    render(&p)
}

/// What runs in one stage of an application, for the Stufen list.
pub struct StageCell {
    pub stage: Stage,
    /// The release there and its state; `None`: nothing yet.
    pub current: Option<(String, String, &'static str)>,
}

/// One application in the Stufen list.
pub struct StagesRow {
    pub app: Application,
    pub cells: Vec<StageCell>,
    /// Open promotion requests of the application.
    pub open: usize,
}

#[derive(Template)]
#[template(path = "stages.html")]
struct StagesPage {
    layout: Layout,
    rows: Vec<StagesRow>,
    stages: [Stage; 4],
}

/// "Stufen" of the navigation: every application the person may see, with
/// what runs in each stage, each leading to its pipeline page.
async fn stages(State(state): State<AppState>, page: PageUser) -> Result<Response, PageError> {
    let user = &page.user;
    let pool = &state.db.pool;
    let open = db::promotions::list(pool, user.scope(), None, true).await?;
    let mut rows = Vec::new();
    for app in crate::app::applications::list(&state.db, user).await? {
        let deployments = db::deployments::of_application(pool, app.id).await?;
        let cells = Stage::ALL
            .into_iter()
            .map(|stage| StageCell {
                stage,
                current: deployments
                    .iter()
                    .find(|d| d.stage == stage)
                    .filter(|d| d.in_place())
                    .map(|d| {
                        let row = deployment_row(d.clone(), user, true);
                        (d.version.clone(), row.label, row.badge)
                    }),
            })
            .collect();
        rows.push(StagesRow {
            open: open.iter().filter(|p| p.application_id == app.id).count(),
            app,
            cells,
        });
    }
    render(&StagesPage {
        layout: page.layout(t("nav-stages"), Nav::Stages),
        rows,
        stages: Stage::ALL,
    })
}

pub struct ReleaseRow {
    pub r: Release,
    pub delivered: String,
}

#[derive(Template)]
#[template(path = "releases.html")]
struct ReleasesPage {
    layout: Layout,
    app: Application,
    rows: Vec<ReleaseRow>,
}

async fn releases(
    State(state): State<AppState>,
    page: PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = path_id(&id)?;
    let app = crate::app::applications::get(&state.db, &page.user, id).await?;
    let rows = crate::app::releases::of_application(&state.db, &page.user, id)
        .await?
        .into_iter()
        .map(|r| ReleaseRow {
            delivered: crate::web::format::date_time(r.delivered_at),
            r,
        })
        .collect();
    render(&ReleasesPage {
        layout: page.layout(
            t_with("releases-title", &[("name", app.name.clone().into())]),
            Nav::Stages,
        ),
        app,
        rows,
    })
}

#[derive(Deserialize)]
struct RequestForm {
    release_id: String,
    to_stage: String,
}

async fn request(
    State(state): State<AppState>,
    page: PageUser,
    Path(id): Path<String>,
    Form(form): Form<RequestForm>,
) -> Result<Response, PageError> {
    let id = path_id(&id)?;
    let release_id = form.release_id.parse().map_err(|_| PageError::NotFound)?;
    let to: Stage = form.to_stage.parse().map_err(|_| PageError::NotFound)?;
    crate::app::promotions::request(&state.db, &page.user, id, release_id, to, None, db::now())
        .await?;
    Ok(see_other(Url::PipelineNotice(id, Hinweis::Beantragt)))
}

#[derive(Template)]
#[template(path = "approvals.html")]
struct InboxPage {
    layout: Layout,
    to_decide: Vec<PromotionRow>,
    mine: Vec<PromotionRow>,
    kontingent: super::kontingent::Section,
    notice: Option<String>,
}

/// The Freigaben page with a Kontingent request's step refused: the
/// message on its card.
pub async fn inbox_with(
    state: &AppState,
    page: &PageUser,
    kontingent_error: Option<(i64, String)>,
) -> Result<Response, PageError> {
    render(&inbox_page(state, page, None, None, kontingent_error).await?)
}

async fn inbox_page(
    state: &AppState,
    page: &PageUser,
    notice: Option<String>,
    reason_error: Option<(i64, String)>,
    kontingent_error: Option<(i64, String)>,
) -> Result<InboxPage, PageError> {
    let user = &page.user;
    let open = db::promotions::list(&state.db.pool, user.scope(), None, true).await?;
    let (mut to_decide, mut mine) = (Vec::new(), Vec::new());
    for p in open {
        if promotions::decidable_by(&p, user) {
            to_decide.push(with_error(promotion_row(p, user), &reason_error));
        } else if p.requested_by == user.id {
            mine.push(promotion_row(p, user));
        }
    }
    super::decide::with_details(state, user, &mut to_decide).await?;
    super::decide::with_details(state, user, &mut mine).await?;
    Ok(InboxPage {
        layout: page.layout(t("nav-approvals-plain"), Nav::Approvals),
        to_decide,
        mine,
        kontingent: super::kontingent::section(state, user, kontingent_error).await?,
        notice,
    })
}

async fn inbox(
    State(state): State<AppState>,
    page: PageUser,
    axum::extract::Query(n): axum::extract::Query<Notice>,
) -> Result<Response, PageError> {
    render(&inbox_page(&state, &page, notice_text(n.hinweis.as_deref()), None, None).await?)
}

#[derive(Deserialize, Default)]
struct DecisionForm {
    #[serde(default)]
    reason: String,
    /// Where the form was: `stufen` (the pipeline) or the inbox.
    #[serde(default)]
    zurueck: String,
}

/// After a decision: back to where the form was.
fn back_to(form_origin: &str, p: &Promotion, hinweis: Hinweis) -> Response {
    if form_origin == "stufen" {
        see_other(Url::PipelineNotice(p.application_id, hinweis))
    } else {
        see_other(Url::ApprovalsNotice(hinweis))
    }
}

async fn approve(
    State(state): State<AppState>,
    page: PageUser,
    Path(id): Path<String>,
    Form(form): Form<DecisionForm>,
) -> Result<Response, PageError> {
    let reason = Some(form.reason.as_str()).filter(|r| !r.trim().is_empty());
    let p = crate::app::promotions::decide(
        &state.db,
        &page.user,
        path_id(&id)?,
        true,
        reason,
        db::now(),
    )
    .await?;
    Ok(back_to(&form.zurueck, &p, Hinweis::Genehmigt))
}

async fn reject(
    State(state): State<AppState>,
    page: PageUser,
    Path(id): Path<String>,
    Form(form): Form<DecisionForm>,
) -> Result<Response, PageError> {
    let id = path_id(&id)?;
    match crate::app::promotions::decide(
        &state.db,
        &page.user,
        id,
        false,
        Some(&form.reason),
        db::now(),
    )
    .await
    {
        Ok(p) => Ok(back_to(&form.zurueck, &p, Hinweis::Abgelehnt)),
        // A missing reason goes back to the form, with the message beside
        // the field.
        Err(Error::Validation(errors)) => {
            let message = errors
                .get("reason")
                .map(str::to_owned)
                .unwrap_or_else(|| t("form-please-check"));
            let error = Some((id, message));
            let mut response = if form.zurueck == "stufen" {
                let p = crate::app::promotions::get(&state.db, &page.user, id).await?;
                render(&pipeline_page(&state, &page, p.application_id, None, error).await?)?
            } else {
                render(&inbox_page(&state, &page, None, error, None).await?)?
            };
            *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(response)
        }
        Err(e) => Err(e.into()),
    }
}

async fn withdraw(
    State(state): State<AppState>,
    page: PageUser,
    Path(id): Path<String>,
    Form(form): Form<DecisionForm>,
) -> Result<Response, PageError> {
    let p =
        crate::app::promotions::withdraw(&state.db, &page.user, path_id(&id)?, db::now()).await?;
    Ok(back_to(&form.zurueck, &p, Hinweis::Zurueckgezogen))
}

async fn retry(
    State(state): State<AppState>,
    page: PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let new =
        crate::app::deployments::retry(&state.db, &page.user, path_id(&id)?, db::now()).await?;
    let d = crate::app::deployments::get(&state.db, &page.user, new).await?;
    Ok(see_other(Url::PipelineNotice(
        d.application_id,
        Hinweis::Wiederholt,
    )))
}
