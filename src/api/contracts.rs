use axum::{Json, Router, extract::State, routing::get};
use serde::Serialize;
use utoipa::ToSchema;

use super::{
    extract::{ApiUser, PathId},
    problem::Problem,
};
use crate::{
    db::{self, contracts::Contract},
    domain::kontingent::Commitment,
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/contracts", get(list))
        .route("/contracts/{id}", get(show))
}

/// Amounts of each Kontingent dimension.
#[derive(Serialize, ToSchema)]
pub struct Amounts {
    pub vcpu_millicores: i64,
    pub memory_mib: i64,
    pub storage_gib: i64,
    pub monthly_budget_cents: i64,
}

#[derive(Serialize, ToSchema)]
pub struct ContractView {
    pub id: i64,
    pub customer_id: i64,
    pub number: String,
    pub title: String,
    /// First day of validity (ISO 8601 date).
    pub valid_from: String,
    /// Last day of validity (ISO 8601 date).
    pub valid_until: String,
    pub kostenstelle: String,
    pub haushaltsstelle: String,
    pub leitweg_id: String,
    /// `nutzung` (pay as you go) or `gemischt` (base fee plus usage).
    pub billing_model: String,
    pub base_fee_cents: i64,
    /// The ceilings.
    pub kontingent: Amounts,
    /// Committed by bookings that are not cancelled (budget: 730 h of the
    /// current prices plus the base fee).
    pub used: Amounts,
    /// Ceiling minus used; negative if a ceiling was lowered below use.
    pub remaining: Amounts,
}

pub fn view(k: &Contract, used: &Commitment) -> ContractView {
    let kontingent = k.kontingent();
    let rest = kontingent.remaining(used);
    ContractView {
        id: k.id,
        customer_id: k.customer_id,
        number: k.number.clone(),
        title: k.title.clone(),
        valid_from: k.valid_from.to_string(),
        valid_until: k.valid_until.to_string(),
        kostenstelle: k.kostenstelle.clone(),
        haushaltsstelle: k.haushaltsstelle.clone(),
        leitweg_id: k.leitweg_id.clone(),
        billing_model: k.billing_model.as_str().into(),
        base_fee_cents: k.base_fee_cents,
        kontingent: Amounts {
            vcpu_millicores: kontingent.millicpu,
            memory_mib: kontingent.memory_mib,
            storage_gib: kontingent.storage_gib,
            monthly_budget_cents: kontingent.monthly_budget.0,
        },
        used: Amounts {
            vcpu_millicores: used.resources.millicpu,
            memory_mib: used.resources.memory_mib,
            storage_gib: used.resources.storage_gib,
            monthly_budget_cents: used.monthly().0,
        },
        remaining: Amounts {
            vcpu_millicores: rest.millicpu,
            memory_mib: rest.memory_mib,
            storage_gib: rest.storage_gib,
            monthly_budget_cents: rest.monthly_budget.0,
        },
    }
}

/// Contracts the caller may see, with Kontingent use and rest.
#[utoipa::path(get, path = "/api/v1/contracts", tag = "Verträge",
    responses(
        (status = 200, body = Vec<ContractView>),
    ))]
pub async fn list(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
) -> Result<Json<Vec<ContractView>>, Problem> {
    let pool = &state.db.pool;
    let scope = user.scope();
    let contracts = db::contracts::list(pool, scope).await?;
    let usage = db::contracts::usage_of_all(pool, &contracts, scope, db::now()).await?;
    Ok(Json(
        contracts
            .iter()
            .map(|k| view(k, &usage.get(&k.id).copied().unwrap_or_default()))
            .collect(),
    ))
}

/// One contract with Kontingent use and rest.
#[utoipa::path(get, path = "/api/v1/contracts/{id}", tag = "Verträge",
    params(("id" = i64, Path, description = "Vertrags-Id")),
    responses(
        (status = 200, body = ContractView),
    ))]
pub async fn show(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    PathId(id): PathId,
) -> Result<Json<ContractView>, Problem> {
    let pool = &state.db.pool;
    let contract = crate::app::contracts::get(&state.db, &user, id).await?;
    let used = db::contracts::usage(pool, &contract, db::now()).await?;
    Ok(Json(view(&contract, &used)))
}
