//! The calling person's own portal API tokens: listed, created (the secret
//! answered once) and revoked — the API twin of the page "API-Tokens".

use axum::{
    Json, Router,
    extract::State,
    http::HeaderMap,
    response::{IntoResponse, Response},
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
    app::{self, Error, tokens::NewToken},
    db::{self, api_tokens::TokenRow},
    domain::calendar::{self, rfc3339},
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tokens", get(list).post(create))
        .route("/tokens/{id}", get(show))
        .route("/tokens/{id}/revoke", post(revoke))
}

paging::page_schema!(TokenPage => TokenView);

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    /// What uses the token, e.g. the name of a pipeline.
    #[schema(
        min_length = 1,
        max_length = 80,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub name: String,
    /// The last day the token is valid (Berlin time, ISO 8601 date), from
    /// tomorrow to a year ahead.
    #[schema(format = Date)]
    pub expires_on: String,
}

#[derive(Serialize, ToSchema)]
pub struct TokenView {
    pub id: i64,
    pub name: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// The last day it is valid (ISO 8601 date, Berlin time); absent: no
    /// end (tokens made by `kontor token create` without `--expires-days`).
    pub expires_on: Option<String>,
    pub revoked_at: Option<String>,
    pub last_used_at: Option<String>,
    /// Usable now: neither revoked nor expired.
    pub active: bool,
}

/// A token just created, with its secret: answered once, never again.
#[derive(Serialize, ToSchema)]
pub struct CreatedToken {
    #[serde(flatten)]
    pub token: TokenView,
    /// `Authorization: Bearer <secret>`. Absent when a retry with the same
    /// `Idempotency-Key` answers a token created before: its secret is not
    /// stored, so it cannot be answered twice.
    pub secret: Option<String>,
}

fn view(row: TokenRow, now: i64) -> TokenView {
    TokenView {
        id: row.id,
        active: row.active(now),
        name: row.name,
        created_at: rfc3339(row.created_at),
        // Stored as the first second after the last valid day.
        expires_on: row
            .expires_at
            .map(|at| calendar::berlin_date(at - 1).to_string()),
        revoked_at: row.revoked_at.map(rfc3339),
        last_used_at: row.last_used_at.map(rfc3339),
    }
}

/// The caller's tokens, newest first.
const SORTS: &[&str] = &["id", "name"];
fn sorts() -> Object {
    paging::sort_schema(SORTS)
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TokenFilter {
    /// `true`: only tokens usable now; `false`: only revoked or expired ones.
    #[param(schema_with = super::params::flag)]
    active: Option<String>,
    /// Default `-id` (newest first).
    #[param(schema_with = sorts)]
    sort: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/tokens", tag = "Konto",
    params(TokenFilter, Paging),
    responses((status = 200, body = TokenPage)))]
pub async fn list(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiQuery(q): ApiQuery<Listed<TokenFilter>>,
) -> Result<Json<Page<TokenView>>, Problem> {
    let active = match q.filter.active.as_deref() {
        None | Some("") => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(_) => {
            return Err(Problem::validation(
                "active",
                crate::i18n::t("invalid-boolean"),
            ));
        }
    };
    let sort = Sort::parse(q.filter.sort.as_deref(), SORTS, "-id")?;
    let window = q.paging.window()?;
    let now = db::now();
    let tokens: Vec<TokenView> = app::tokens::list(&state.db, &user)
        .await?
        .into_iter()
        .map(|t| view(t, now))
        .filter(|t| active.is_none_or(|a| t.active == a))
        .collect();
    Ok(Json(paging::page_of(
        tokens,
        sort,
        |t, field| match field {
            "name" => Key::text(&t.name),
            _ => Key::Int(t.id),
        },
        window,
    )))
}

/// One of the caller's tokens; another person's is not found.
#[utoipa::path(get, path = "/api/v1/tokens/{id}", tag = "Konto",
    params(("id" = i64, Path, description = "Token-Id")),
    responses((status = 200, body = TokenView)))]
pub async fn show(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    PathId(id): PathId,
) -> Result<Json<TokenView>, Problem> {
    let token = app::tokens::get(&state.db, &user, id).await?;
    Ok(Json(view(token, db::now())))
}

/// Creates a token for the caller, valid through `expires_on` (at most a
/// year). The secret is in this answer only.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "Konto",
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "Client-chosen key that makes retries safe"),
    ),
    request_body = CreateToken,
    responses(
        (status = 201, body = CreatedToken, headers(("Location" = String))),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "the Idempotency-Key was used for another request (`conflict`), or `validation`: the day is not from tomorrow to a year ahead (`expires_on`)"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> Result<Response, Problem> {
    let input: CreateToken = parse_json(&headers, &body)?;
    let key = idempotency_key(&headers, "tokens", user.id, &body)?;
    let now = db::now();
    let new = NewToken::parse(&input.name, &input.expires_on, now).map_err(|errors| {
        // A name and a day that are well-formed, refused all the same: the
        // day is not from tomorrow to a year ahead, which the calendar
        // decides, not the request (409, with the message for the field).
        let well_formed = !errors.0.iter().any(|(field, _)| field == "name")
            && input.expires_on.trim().parse::<jiff::civil::Date>().is_ok();
        if well_formed {
            Problem::refused_by_state(Error::Validation(errors))
        } else {
            Error::Validation(errors).into()
        }
    })?;
    let (outcome, secret) = app::tokens::create(&state.db, &user, &new, key.as_ref(), now).await?;
    let id = outcome.id();
    let token = app::tokens::get(&state.db, &user, id).await?;
    // Every API answer carries `Cache-Control: no-store`, this one too.
    Ok(super::created(
        Json(CreatedToken {
            token: view(token, now),
            secret,
        }),
        &format!("/api/v1/tokens/{id}"),
        outcome,
    ))
}

/// Revokes one of the caller's tokens at once; revoking it again changes
/// nothing.
#[utoipa::path(post, path = "/api/v1/tokens/{id}/revoke", tag = "Konto",
    params(("id" = i64, Path, description = "Token-Id")),
    responses((status = 200, body = TokenView)))]
pub async fn revoke(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    PathId(id): PathId,
) -> Result<Response, Problem> {
    let now = db::now();
    if !app::tokens::revoke(&state.db, &user, id, now).await? {
        return Err(Error::NotFound.into());
    }
    let token = app::tokens::get(&state.db, &user, id).await?;
    Ok(Json(view(token, now)).into_response())
}
