//! Kontingent change requests over the API: asked by the customer's
//! Systempfleger:in, decided by the Betreiber (four eyes), optionally
//! co-signed by the customer's Finanzen.

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
    extract::{ApiBytes, ApiJson, ApiQuery, ApiUser, PathId, idempotency_key, parse_json},
    paging::{self, Key, Listed, Page, Paging, Sort},
    problem::Problem,
};
use crate::{
    app::{Error, FieldErrors, kontingent::MAX_JUSTIFICATION},
    db::{self, kontingent_requests::KontingentRequest},
    domain::{
        Cents, actor::CurrentUser, approval::ApprovalState, calendar::rfc3339,
        kontingent::CeilingChange, text::Text,
    },
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/contracts/{id}/kontingent-requests", post(create))
        .route("/kontingent-requests", get(list))
        .route("/kontingent-requests/{id}", get(show))
        .route("/kontingent-requests/{id}/approve", post(approve))
        .route("/kontingent-requests/{id}/reject", post(reject))
        .route("/kontingent-requests/{id}/withdraw", post(withdraw))
        .route("/kontingent-requests/{id}/cosign", post(cosign))
}

paging::page_schema!(KontingentRequestPage => KontingentRequestView);

/// New absolute values for some ceilings, named like a contract's
/// `kontingent`; a ceiling left out stays as it is.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Ceilings {
    #[schema(minimum = 0, maximum = 100_000_000)]
    pub vcpu_millicores: Option<i64>,
    #[schema(minimum = 0, maximum = 1_073_741_824)]
    pub memory_mib: Option<i64>,
    #[schema(minimum = 0, maximum = 100_000_000)]
    pub storage_gib: Option<i64>,
    #[schema(minimum = 0, maximum = 100_000_000_000i64)]
    pub monthly_budget_cents: Option<i64>,
}

/// The body of a problem's `kontingent-request` link.
pub fn ceiling_body(c: &CeilingChange) -> Ceilings {
    Ceilings {
        vcpu_millicores: c.millicpu,
        memory_mib: c.memory_mib,
        storage_gib: c.storage_gib,
        monthly_budget_cents: c.monthly_budget.map(|b| b.0),
    }
}

impl Ceilings {
    /// The change, or a message per value out of range.
    fn parse(&self, field: &str) -> Result<CeilingChange, Error> {
        let mut e = FieldErrors::default();
        let mut check = |name: &str, value: Option<i64>, max: i64| {
            value.filter(|v| {
                let ok = (0..=max).contains(v);
                if !ok {
                    e.add(
                        &format!("{field}.{name}"),
                        super::paging::whole_number_between(0, max),
                    );
                }
                ok
            })
        };
        let change = CeilingChange {
            millicpu: check("vcpu_millicores", self.vcpu_millicores, 100_000_000),
            memory_mib: check("memory_mib", self.memory_mib, 1_073_741_824),
            storage_gib: check("storage_gib", self.storage_gib, 100_000_000),
            monthly_budget: check(
                "monthly_budget_cents",
                self.monthly_budget_cents,
                100_000_000_000,
            )
            .map(Cents),
        };
        e.into_result()?;
        Ok(change)
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKontingentRequest {
    pub kontingent: Ceilings,
    /// Why the ceilings should change (required, up to 2,000 characters).
    #[schema(
        min_length = 1,
        max_length = 2000,
        pattern = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$"
    )]
    pub reason: String,
}

#[derive(Serialize, ToSchema)]
pub struct KontingentRequestView {
    pub id: i64,
    pub customer_id: i64,
    pub contract_id: i64,
    pub contract_number: String,
    pub state: ApprovalState,
    /// The ceilings asked for (absent: unchanged).
    pub kontingent: Ceilings,
    pub reason: String,
    /// What was granted, once approved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub granted: Option<Ceilings>,
    pub requested_by: String,
    /// RFC 3339, UTC.
    pub requested_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<String>,
    /// The reason of the decision (always given with a rejection).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision_reason: Option<String>,
    /// The customer's Finanzen who co-signed a budget increase.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cosigned_by: Option<String>,
    /// Whether the caller may decide it now.
    pub may_decide: bool,
    /// Whether it waits for the second signature of the customer's
    /// Finanzen (a budget increase, where the provider asks for one).
    pub awaits_cosign: bool,
    /// Whether the caller may co-sign it now.
    pub may_cosign: bool,
}

fn view(q: KontingentRequest, user: &CurrentUser, state: &AppState) -> KontingentRequestView {
    let cosign = state.settings.kontingent_budget_cosign;
    KontingentRequestView {
        may_decide: crate::app::kontingent::decidable_by(&q, user),
        awaits_cosign: q.awaits_cosign(cosign),
        may_cosign: crate::app::kontingent::cosignable_by(&q, user, cosign),
        id: q.id,
        customer_id: q.customer_id,
        contract_id: q.contract_id,
        contract_number: q.contract_number.clone(),
        state: q.state,
        kontingent: ceiling_body(&q.asked()),
        granted: q.granted().map(|g| ceiling_body(&g)),
        reason: q.justification.clone(),
        requested_by: q.requested_by_name.clone(),
        requested_at: rfc3339(q.requested_at),
        decided_by: q.decided_by_name.clone(),
        decided_at: q.decided_at.map(rfc3339),
        decision_reason: q.reason.clone(),
        cosigned_by: q.cosigned_by_name,
    }
}

/// Asks for new ceilings of a contract (Systempfleger:in of its customer).
/// One open request per contract; a retry with the same `Idempotency-Key`
/// returns the first request.
#[utoipa::path(post, path = "/api/v1/contracts/{id}/kontingent-requests", tag = "Verträge",
    params(
        ("id" = i64, Path, description = "Vertrags-Id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Client-chosen key that makes retries safe"),
    ),
    request_body = CreateKontingentRequest,
    responses(
        (status = 201, body = KontingentRequestView, headers(("Location" = String))),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "a request for this contract is open already"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    PathId(contract_id): PathId,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> Result<Response, Problem> {
    let input: CreateKontingentRequest = parse_json(&headers, &body)?;
    let key = idempotency_key(&headers, "kontingent-requests", contract_id, &body)?;
    let asked = input.kontingent.parse("kontingent")?;
    let reason = Text::optional_lines(&input.reason, MAX_JUSTIFICATION)
        .map_err(|e| Error::validation("reason", e.to_string()))?
        .ok_or_else(|| Error::validation("reason", crate::i18n::t("invalid-reason-empty")))?;
    let outcome = crate::app::kontingent::request(
        &state.db,
        &user,
        contract_id,
        &asked,
        &reason,
        key.as_ref(),
        db::now(),
    )
    .await?;
    let id = outcome.id();
    let q = crate::app::kontingent::get(&state.db, &user, id).await?;
    Ok(super::created(
        Json(view(q, &user, &state)),
        &format!("/api/v1/kontingent-requests/{id}"),
        outcome,
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// `offen`, `genehmigt`, `abgelehnt` or `zurueckgezogen`.
    #[param(schema_with = super::params::approval_state)]
    state: Option<String>,
    /// Only the requests about this contract.
    #[param(schema_with = super::params::positive_or_empty)]
    contract_id: Option<String>,
    /// Default `-id` (newest first).
    #[param(schema_with = sorts)]
    sort: Option<String>,
}

const SORTS: &[&str] = &["id"];
fn sorts() -> Object {
    paging::sort_schema(SORTS)
}

/// Kontingent requests the caller may see, newest first (at most 500).
#[utoipa::path(get, path = "/api/v1/kontingent-requests", tag = "Verträge",
    params(ListParams, Paging),
    responses((status = 200, body = KontingentRequestPage)))]
pub async fn list(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiQuery(Listed {
        filter: params,
        paging,
    }): ApiQuery<Listed<ListParams>>,
) -> Result<Json<Page<KontingentRequestView>>, Problem> {
    let contract_id = paging::id_filter("contract_id", params.contract_id.as_deref())?;
    let sort = Sort::parse(params.sort.as_deref(), SORTS, "-id")?;
    let window = paging.window()?;
    let wanted = match params.state.as_deref() {
        None | Some("") => None,
        Some(raw) => Some(
            raw.parse::<ApprovalState>()
                .map_err(|e| Error::validation("state", e.to_string()))?,
        ),
    };
    let list = crate::app::kontingent::list(&state.db, &user, wanted).await?;
    let views = list
        .into_iter()
        .map(|q| view(q, &user, &state))
        .filter(|q| contract_id.is_none_or(|c| q.contract_id == c))
        .collect();
    Ok(Json(paging::page_of(
        views,
        sort,
        |q: &KontingentRequestView, _| Key::Int(q.id),
        window,
    )))
}

/// One Kontingent request.
#[utoipa::path(get, path = "/api/v1/kontingent-requests/{id}", tag = "Verträge",
    params(("id" = i64, Path, description = "Antrags-Id")),
    responses((status = 200, body = KontingentRequestView)))]
pub async fn show(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    PathId(id): PathId,
) -> Result<Json<KontingentRequestView>, Problem> {
    let q = crate::app::kontingent::get(&state.db, &user, id).await?;
    Ok(Json(view(q, &user, &state)))
}

/// A decision on a Kontingent request.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct KontingentDecision {
    /// Approve: other values than asked (optional).
    pub kontingent: Option<Ceilings>,
    /// Reject: required; approve: optional.
    #[schema(
        max_length = 2000,
        pattern = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$"
    )]
    pub reason: Option<String>,
}

/// Approves a request, with the values asked or others (Betreiber, not the
/// requester). The contract's Kontingent changes at once.
#[utoipa::path(post, path = "/api/v1/kontingent-requests/{id}/approve", tag = "Verträge",
    params(("id" = i64, Path, description = "Antrags-Id")),
    request_body(content = Option<KontingentDecision>, description = "optional"),
    responses(
        (status = 200, body = KontingentRequestView),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "forbidden, or four-eyes"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "already decided, a second signature missing, or values below what is booked"),
    ))]
pub async fn approve(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    PathId(id): PathId,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> Result<Json<KontingentRequestView>, Problem> {
    let decision = if body.is_empty() {
        KontingentDecision::default()
    } else {
        parse_json::<Option<KontingentDecision>>(&headers, &body)?.unwrap_or_default()
    };
    let other = decision
        .kontingent
        .as_ref()
        .map(|c| c.parse("kontingent"))
        .transpose()?;
    let q = crate::app::kontingent::approve(
        &state.db,
        &user,
        id,
        other.as_ref(),
        decision.reason.as_deref(),
        state.settings.kontingent_budget_cosign,
        db::now(),
    )
    .await?;
    Ok(Json(view(q, &user, &state)))
}

/// Rejects a request with a reason (Betreiber, not the requester).
#[utoipa::path(post, path = "/api/v1/kontingent-requests/{id}/reject", tag = "Verträge",
    params(("id" = i64, Path, description = "Antrags-Id")),
    request_body = KontingentDecision,
    responses(
        (status = 200, body = KontingentRequestView),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "forbidden, or four-eyes"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "already decided"),
    ))]
pub async fn reject(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    PathId(id): PathId,
    ApiJson(decision): ApiJson<KontingentDecision>,
) -> Result<Json<KontingentRequestView>, Problem> {
    let q =
        crate::app::kontingent::reject(&state.db, &user, id, decision.reason.as_deref(), db::now())
            .await?;
    Ok(Json(view(q, &user, &state)))
}

/// Withdraws an open request (its requester only).
#[utoipa::path(post, path = "/api/v1/kontingent-requests/{id}/withdraw", tag = "Verträge",
    params(("id" = i64, Path, description = "Antrags-Id")),
    responses(
        (status = 200, body = KontingentRequestView),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "already decided"),
    ))]
pub async fn withdraw(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    PathId(id): PathId,
) -> Result<Json<KontingentRequestView>, Problem> {
    let q = crate::app::kontingent::withdraw(&state.db, &user, id, db::now()).await?;
    Ok(Json(view(q, &user, &state)))
}

/// Co-signs a budget increase (the customer's Finanzen, not the requester).
#[utoipa::path(post, path = "/api/v1/kontingent-requests/{id}/cosign", tag = "Verträge",
    params(("id" = i64, Path, description = "Antrags-Id")),
    responses(
        (status = 200, body = KontingentRequestView),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "decided or signed already"),
    ))]
pub async fn cosign(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    PathId(id): PathId,
) -> Result<Json<KontingentRequestView>, Problem> {
    let q = crate::app::kontingent::cosign(
        &state.db,
        &user,
        id,
        state.settings.kontingent_budget_cosign,
        db::now(),
    )
    .await?;
    Ok(Json(view(q, &user, &state)))
}
