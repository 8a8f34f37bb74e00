//! Promotion requests (Freigabeanträge) over the API: listed, read, and
//! decided — approved or rejected under the four-eyes rule, or withdrawn by
//! the requester. Requesting one is `POST /applications/{id}/promotions`
//! (`releases.rs`).

use axum::{
    Json, Router,
    extract::State,
    http::HeaderMap,
    routing::{get, post},
};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema, openapi::schema::Object};

use super::{
    extract::{ApiBytes, ApiJson, ApiQuery, ApiUser, PathId, parse_json},
    paging::{self, Key, Listed, Page, Paging, Sort},
    problem::Problem,
    releases::{PromotionView, promotion_view},
};
use crate::{
    app::error::{Error, FieldErrors},
    app::promotions,
    db,
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/promotions", get(list_promotions))
        .route("/promotions/{id}", get(show_promotion))
        .route("/promotions/{id}/approve", post(approve))
        .route("/promotions/{id}/reject", post(reject))
        .route("/promotions/{id}/withdraw", post(withdraw))
}

paging::page_schema!(PromotionPage => PromotionView);

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PromotionParams {
    /// `true`: only open requests.
    #[param(schema_with = super::params::flag)]
    open: Option<String>,
    /// `true`: only requests the caller may decide now (the inbox).
    #[param(schema_with = super::params::flag)]
    mine_to_decide: Option<String>,
    #[param(schema_with = super::params::integer_or_empty)]
    application_id: Option<String>,
    /// Default `-id` (newest first).
    #[param(schema_with = promotion_sorts)]
    sort: Option<String>,
}

const PROMOTION_SORTS: &[&str] = &["id"];
fn promotion_sorts() -> Object {
    paging::sort_schema(PROMOTION_SORTS)
}

fn flag(field: &str, value: Option<&str>) -> Result<bool, Error> {
    match value {
        None | Some("") | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(Error::Validation(FieldErrors::single(
            field,
            crate::i18n::t("invalid-boolean"),
        ))),
    }
}

/// Promotion requests the caller may see, newest first (at most 500).
#[utoipa::path(get, path = "/api/v1/promotions", tag = "Releases",
    params(PromotionParams, Paging),
    responses(
        (status = 200, body = PromotionPage),
    ))]
pub async fn list_promotions(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiQuery(Listed {
        filter: params,
        paging,
    }): ApiQuery<Listed<PromotionParams>>,
) -> Result<Json<Page<PromotionView>>, Problem> {
    let sort = Sort::parse(params.sort.as_deref(), PROMOTION_SORTS, "-id")?;
    let window = paging.window()?;
    let open = flag("open", params.open.as_deref())?;
    let inbox = flag("mine_to_decide", params.mine_to_decide.as_deref())?;
    let application_id = match params.application_id.as_deref() {
        None | Some("") => None,
        Some(raw) => Some(raw.parse::<i64>().map_err(|_| {
            Error::Validation(FieldErrors::single(
                "application_id",
                crate::i18n::t("invalid-application-id"),
            ))
        })?),
    };
    let list =
        db::promotions::list(&state.db.pool, user.scope(), application_id, open || inbox).await?;
    let views = list
        .into_iter()
        .filter(|p| !inbox || promotions::decidable_by(p, &user))
        .map(|p| promotion_view(p, &user))
        .collect();
    Ok(Json(paging::page_of(
        views,
        sort,
        |p: &PromotionView, _| Key::Int(p.id),
        window,
    )))
}

/// One promotion request.
#[utoipa::path(get, path = "/api/v1/promotions/{id}", tag = "Releases",
    params(("id" = i64, Path, description = "Antrags-Id")),
    responses(
        (status = 200, body = PromotionView),
    ))]
pub async fn show_promotion(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    PathId(id): PathId,
) -> Result<Json<PromotionView>, Problem> {
    let p = crate::app::promotions::get(&state.db, &user, id).await?;
    Ok(Json(promotion_view(p, &user)))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// Required for a rejection; shown to the requester.
    #[serde(default)]
    #[schema(
        max_length = 2000,
        pattern = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$"
    )]
    pub reason: Option<String>,
}

/// A rejection: a [`Decision`] whose reason is required (the requester
/// reads it). Only the document's view; the handler reads a `Decision`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct Rejection {
    /// Why; shown to the requester (up to 2,000 characters).
    #[schema(
        min_length = 1,
        max_length = 2000,
        pattern = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$"
    )]
    pub reason: String,
}

/// Approves a request: someone other than the requester, with the role the
/// target stage needs (Systempfleger:in for Abnahme and Schulung,
/// Verfahrensverantwortliche:r for Produktion). Starts the deployment.
#[utoipa::path(post, path = "/api/v1/promotions/{id}/approve", tag = "Releases",
    params(("id" = i64, Path, description = "Antrags-Id")),
    request_body(content = Option<Decision>, description = "optional"),
    responses(
        (status = 200, body = PromotionView),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "forbidden, or four-eyes"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "already decided, or the release no longer runs in the stage before"),
        (status = 415, body = Problem, content_type = "application/problem+json", description = "a body not sent as application/json"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "JSON that is not a Decision"),
    ))]
pub async fn approve(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    PathId(id): PathId,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> Result<Json<PromotionView>, Problem> {
    // The body is optional here: an approval needs no words. As documented,
    // it is nothing, `null` or a Decision.
    let reason = if body.is_empty() {
        None
    } else {
        parse_json::<Option<Decision>>(&headers, &body)?.and_then(|d| d.reason)
    };
    let p =
        crate::app::promotions::decide(&state.db, &user, id, true, reason.as_deref(), db::now())
            .await?;
    Ok(Json(promotion_view(p, &user)))
}

/// Rejects a request with a reason (same people as approving).
#[utoipa::path(post, path = "/api/v1/promotions/{id}/reject", tag = "Releases",
    params(("id" = i64, Path, description = "Antrags-Id")),
    request_body = Rejection,
    responses(
        (status = 200, body = PromotionView),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "forbidden, or four-eyes"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "already decided"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "no reason, or JSON that is not a Decision"),
    ))]
pub async fn reject(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    PathId(id): PathId,
    ApiJson(decision): ApiJson<Decision>,
) -> Result<Json<PromotionView>, Problem> {
    let p = crate::app::promotions::decide(
        &state.db,
        &user,
        id,
        false,
        decision.reason.as_deref(),
        db::now(),
    )
    .await?;
    Ok(Json(promotion_view(p, &user)))
}

/// Withdraws an open request (its requester only).
#[utoipa::path(post, path = "/api/v1/promotions/{id}/withdraw", tag = "Releases",
    params(("id" = i64, Path, description = "Antrags-Id")),
    responses(
        (status = 200, body = PromotionView),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "already decided"),
    ))]
pub async fn withdraw(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    PathId(id): PathId,
) -> Result<Json<PromotionView>, Problem> {
    let p = crate::app::promotions::withdraw(&state.db, &user, id, db::now()).await?;
    Ok(Json(promotion_view(p, &user)))
}
