//! Releases, the stage pipeline, promotion requests, and deployments
//! (retry); the requests' lists and decisions are in `promotions.rs`.

use crate::domain::{
    approval::ApprovalState,
    release::{Checkup, DeploymentState},
};
use std::collections::BTreeMap;

use axum::{
    Json, Router,
    extract::State,
    http::HeaderMap,
    response::Response,
    routing::{get, post},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema, openapi::schema::Object};

use super::{
    extract::{ApiBytes, ApiQuery, ApiUser, PathId, idempotency_key, parse_json},
    paging::{self, Key, Listed, Page, Paging, Sort},
    problem::Problem,
};
use crate::{
    app::error::{Error, FieldErrors},
    app::{Created, promotions, releases::Delivery},
    db::{self, deployments::Deployment, promotions::Promotion, releases::Release},
    domain::actor::CurrentUser,
    domain::{Stage, calendar::rfc3339},
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/applications/{id}/releases",
            get(list_releases).post(deliver),
        )
        .route("/applications/{id}/pipeline", get(pipeline))
        .route("/applications/{id}/promotions", post(request))
        .route("/deployments/{id}", get(show_deployment))
        .route("/deployments/{id}/retry", post(retry))
}

paging::page_schema!(ReleasePage => ReleaseView);

#[derive(Serialize, ToSchema)]
pub struct RefusalView {
    /// Stable code: `not-pinned`, `foreign-registry`, `malformed-image`,
    /// `malformed-checksum`, `duplicate-version`.
    pub reason: String,
    pub message: String,
}

#[derive(Serialize, ToSchema)]
pub struct ReleaseView {
    pub id: i64,
    pub application_id: i64,
    pub version: String,
    /// As delivered.
    pub image: String,
    /// What runs: `registry/path@sha256:…`; absent when refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pinned_image: Option<String>,
    pub checksums: BTreeMap<String, String>,
    pub checkup: Checkup,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refusal: Option<RefusalView>,
    /// RFC 3339, UTC.
    pub delivered_at: String,
}

fn release_view(r: Release) -> ReleaseView {
    ReleaseView {
        id: r.id,
        application_id: r.application_id,
        pinned_image: r.accepted().then(|| r.pinned_image.clone()),
        checksums: r.checksums,
        refusal: r.refusal_code.map(|reason| RefusalView {
            reason,
            message: r.refusal.unwrap_or_default(),
        }),
        version: r.version,
        image: r.image,
        checkup: r.checkup,
        delivered_at: rfc3339(r.delivered_at),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliverRelease {
    /// e.g. `1.4.2`; once per application.
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = "^[A-Za-z0-9][A-Za-z0-9._+-]*$"
    )]
    pub version: String,
    /// OCI image pinned by digest: `registry/path[:tag]@sha256:<64 hex>`.
    #[schema(
        max_length = 512,
        pattern = r"^(localhost|[A-Za-z0-9-]*[.:][A-Za-z0-9.:-]*)/[a-z0-9._-]+(/[a-z0-9._-]+)*(:[^\s/:@\u0000-\u001f\u007f-\u009f]*)?@sha256:[0-9a-f]{64}$"
    )]
    pub image: String,
    /// Optional checksums, each `sha256:<64 hex>` (e.g. of the SBOM).
    #[serde(default)]
    #[schema(schema_with = super::params::checksums)]
    pub checksums: BTreeMap<String, String>,
}

/// Delivers a release (Lieferung). The Checkup refuses images not pinned by
/// digest, from registries off the allow-list, malformed checksums and a
/// version the application already has (`checkup-refused` with `reason`;
/// the refusal is recorded). An accepted release is deployed into
/// Vorprüfung at once.
#[utoipa::path(post, path = "/api/v1/applications/{id}/releases", tag = "Releases",
    params(("id" = i64, Path, description = "Verfahrens-Id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Client-chosen key that makes retries safe")),
    request_body = DeliverRelease,
    responses(
        (status = 201, body = ReleaseView, headers(("Location" = String))),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "the Idempotency-Key was used for another request, or `checkup-refused` with `reason` `duplicate-version` or `foreign-registry` (the request is well-formed; the application's releases or the provider's allow-list refuse it)"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "validation, or `checkup-refused` with `reason` `not-pinned`, `malformed-image` or `malformed-checksum`"),
    ))]
pub async fn deliver(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    PathId(application_id): PathId,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> Result<Response, Problem> {
    let input: DeliverRelease = parse_json(&headers, &body)?;
    let key = idempotency_key(&headers, "releases", application_id, &body)?;
    let delivery = Delivery {
        version: input.version,
        image: input.image,
        checksums: input.checksums,
    };
    let outcome = crate::app::releases::deliver(
        &state.db,
        &user,
        application_id,
        &delivery,
        key.as_ref(),
        &state.settings.allowed_registries(),
        db::now(),
    )
    .await?;
    let release = crate::app::releases::get(&state.db, &user, outcome.id()).await?;
    Ok(super::created(
        Json(release_view(release)),
        &format!("/api/v1/applications/{application_id}/releases"),
        outcome,
    ))
}

/// An application's deliveries with their Checkup results, newest first.
#[utoipa::path(get, path = "/api/v1/applications/{id}/releases", tag = "Releases",
    params(("id" = i64, Path, description = "Verfahrens-Id"), ReleaseParams, Paging),
    responses(
        (status = 200, body = ReleasePage),
    ))]
pub async fn list_releases(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    PathId(application_id): PathId,
    ApiQuery(q): ApiQuery<Listed<ReleaseParams>>,
) -> Result<Json<Page<ReleaseView>>, Problem> {
    let sort = Sort::parse(q.filter.sort.as_deref(), RELEASE_SORTS, "-id")?;
    let window = q.paging.window()?;
    let releases = crate::app::releases::of_application(&state.db, &user, application_id).await?;
    Ok(Json(paging::page_of(
        releases.into_iter().map(release_view).collect(),
        sort,
        |r: &ReleaseView, field| match field {
            "version" => Key::text(&r.version),
            _ => Key::Int(r.id),
        },
        window,
    )))
}

#[derive(Serialize, ToSchema)]
pub struct DeploymentView {
    pub id: i64,
    pub environment_id: i64,
    pub stage: Stage,
    pub release_id: i64,
    pub version: String,
    /// `abgeloest`: a newer deployment or the dissolution of the
    /// environment came first.
    pub state: DeploymentState,
    /// The cluster's words on success or failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub started_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
}

fn deployment_view(d: Deployment) -> DeploymentView {
    DeploymentView {
        id: d.id,
        environment_id: d.environment_id,
        stage: d.stage,
        release_id: d.release_id,
        version: d.version,
        state: d.state,
        message: d.message,
        started_at: rfc3339(d.started_at),
        finished_at: d.finished_at.map(rfc3339),
    }
}

#[derive(Serialize, ToSchema)]
pub struct PromotionView {
    pub id: i64,
    pub application_id: i64,
    pub release_id: i64,
    pub version: String,
    pub from_stage: Stage,
    pub to_stage: Stage,
    pub state: ApprovalState,
    pub requested_by: String,
    pub requested_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<String>,
    /// The reason given with a rejection (or an approval).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The deployment an approval started.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<i64>,
    /// Whether the caller may approve or reject it now.
    pub may_decide: bool,
}

pub(super) fn promotion_view(p: Promotion, user: &CurrentUser) -> PromotionView {
    PromotionView {
        may_decide: promotions::decidable_by(&p, user),
        id: p.id,
        application_id: p.application_id,
        release_id: p.release_id,
        from_stage: p.from_stage,
        to_stage: p.to_stage,
        version: p.version,
        state: p.state,
        requested_by: p.requested_by_name,
        requested_at: rfc3339(p.requested_at),
        decided_by: p.decided_by_name,
        decided_at: p.decided_at.map(rfc3339),
        reason: p.reason,
        deployment_id: p.deployment_id,
    }
}

#[derive(Serialize, ToSchema)]
pub struct StageView {
    pub stage: Stage,
    /// The latest deployment there, with its release (absent when nothing
    /// runs there, e.g. after the environment was dissolved).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployment: Option<DeploymentView>,
    /// An open request to promote into this stage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending: Option<PromotionView>,
}

#[derive(Serialize, ToSchema)]
pub struct PipelineView {
    pub application_id: i64,
    /// Vorprüfung, Abnahme, Schulung, Produktion.
    pub stages: Vec<StageView>,
}

/// The four stages of an application: what runs where, and what waits.
#[utoipa::path(get, path = "/api/v1/applications/{id}/pipeline", tag = "Releases",
    params(("id" = i64, Path, description = "Verfahrens-Id")),
    responses(
        (status = 200, body = PipelineView),
    ))]
pub async fn pipeline(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    PathId(application_id): PathId,
) -> Result<Json<PipelineView>, Problem> {
    let pool = &state.db.pool;
    crate::app::applications::get(&state.db, &user, application_id).await?;
    let deployments = db::deployments::of_application(pool, application_id).await?;
    let mut open = db::promotions::list(pool, user.scope(), Some(application_id), true).await?;
    let stages = Stage::ALL
        .into_iter()
        .map(|stage| StageView {
            stage,
            deployment: deployments
                .iter()
                .find(|d| d.stage == stage)
                .filter(|d| d.in_place())
                .cloned()
                .map(deployment_view),
            pending: open
                .iter()
                .position(|p| p.to_stage == stage)
                .map(|i| promotion_view(open.swap_remove(i), &user)),
        })
        .collect();
    Ok(Json(PipelineView {
        application_id,
        stages,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestPromotion {
    pub release_id: i64,
    /// The next stage after the one the release runs in: `abnahme`,
    /// `schulung` or `produktion`.
    #[schema(schema_with = super::params::target_stage)]
    pub to_stage: String,
}

/// Requests a promotion (Freigabeantrag) of the release running in the
/// stage before `to_stage`. Never skips a stage.
#[utoipa::path(post, path = "/api/v1/applications/{id}/promotions", tag = "Releases",
    params(("id" = i64, Path, description = "Verfahrens-Id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Client-chosen key that makes retries safe")),
    request_body = RequestPromotion,
    responses(
        (status = 201, body = PromotionView, headers(("Location" = String))),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "the release does not run in the stage before, or a request is open (`conflict`); `validation` for `release_id`: the application has no accepted release with that id"),
    ))]
pub async fn request(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    PathId(application_id): PathId,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> Result<Response, Problem> {
    let input: RequestPromotion = parse_json(&headers, &body)?;
    let key = idempotency_key(&headers, "promotions", application_id, &body)?;
    let to: Stage = input.to_stage.parse().map_err(|_| {
        Error::Validation(FieldErrors::single(
            "to_stage",
            crate::i18n::t("invalid-promotion-stage"),
        ))
    })?;
    let outcome = crate::app::promotions::request(
        &state.db,
        &user,
        application_id,
        input.release_id,
        to,
        key.as_ref(),
        db::now(),
    )
    .await
    .map_err(|e| match &e {
        // A release id the application has no accepted release for is the
        // state of its deliveries: 409, like a release not running in the
        // stage before. (Vorprüfung as the target stays 422: the document
        // does not offer it.)
        Error::Validation(fields) if fields.0.iter().all(|(field, _)| field == "release_id") => {
            Problem::refused_by_state(e)
        }
        _ => e.into(),
    })?;
    let id = outcome.id();
    let p = crate::app::promotions::get(&state.db, &user, id).await?;
    Ok(super::created(
        Json(promotion_view(p, &user)),
        &format!("/api/v1/promotions/{id}"),
        outcome,
    ))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReleaseParams {
    /// Default `-id` (newest first).
    #[param(schema_with = release_sorts)]
    sort: Option<String>,
}

const RELEASE_SORTS: &[&str] = &["id", "version"];
fn release_sorts() -> Object {
    paging::sort_schema(RELEASE_SORTS)
}

/// One deployment with the cluster's verdict.
#[utoipa::path(get, path = "/api/v1/deployments/{id}", tag = "Releases",
    params(("id" = i64, Path, description = "Bereitstellungs-Id")),
    responses(
        (status = 200, body = DeploymentView),
    ))]
pub async fn show_deployment(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    PathId(id): PathId,
) -> Result<Json<DeploymentView>, Problem> {
    let d = crate::app::deployments::get(&state.db, &user, id).await?;
    Ok(Json(deployment_view(d)))
}

/// Retries a failed deployment (the latest of its stage): the same release,
/// a new rollout. Systempfleger:in; developers in Vorprüfung.
#[utoipa::path(post, path = "/api/v1/deployments/{id}/retry", tag = "Releases",
    params(("id" = i64, Path, description = "Bereitstellungs-Id")),
    responses(
        (status = 201, body = DeploymentView, headers(("Location" = String))),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "not failed, or superseded"),
    ))]
pub async fn retry(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    PathId(id): PathId,
) -> Result<Response, Problem> {
    let new = crate::app::deployments::retry(&state.db, &user, id, db::now()).await?;
    let d = crate::app::deployments::get(&state.db, &user, new).await?;
    Ok(super::created(
        Json(deployment_view(d)),
        &format!("/api/v1/deployments/{new}"),
        Created::New(new),
    ))
}
