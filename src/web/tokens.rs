//! "API-Tokens": every user creates, lists and revokes their own portal API
//! tokens. A new token's secret is shown once, on the answer to the form,
//! and never again (only its hash is stored).

use askama::Template;
use axum::{
    Form, Router,
    extract::{Path, State},
    http::{HeaderValue, StatusCode, header},
    response::Response,
    routing::{get, post},
};
use serde::Deserialize;

use super::{
    Layout, Nav, PageError, Route, Url, admin::path_id, format, lang::t, render, see_other,
    session::PageUser,
};
use crate::{
    app::{
        error::FieldErrors,
        tokens::{DEFAULT_DAYS, NewToken, last_day},
    },
    db::{self, api_tokens::TokenRow},
    domain::calendar,
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(Route::Tokens.pattern(), get(list).post(create))
        .route(Route::TokenRevoke.pattern(), post(revoke))
}

#[derive(Debug, Default, Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    expires_on: String,
}

pub struct TokenView {
    pub id: i64,
    pub name: String,
    pub created: String,
    pub expires: String,
    pub last_used: String,
    pub state: String,
    pub active: bool,
}

impl TokenView {
    fn new(row: TokenRow, now: i64) -> TokenView {
        let state = t(match (row.revoked_at, row.expires_at) {
            (Some(_), _) => "token-revoked",
            (None, Some(at)) if at <= now => "token-expired",
            _ => "token-valid",
        });
        TokenView {
            id: row.id,
            active: row.active(now),
            name: row.name,
            created: crate::web::format::date_time(row.created_at),
            // Stored as the first second after the last valid day.
            expires: row
                .expires_at
                .map(|at| format::date(calendar::berlin_date(at - 1)))
                .unwrap_or_else(|| t("token-unlimited")),
            last_used: row
                .last_used_at
                .map(crate::web::format::date_time)
                .unwrap_or_else(|| t("token-never")),
            state,
        }
    }
}

#[derive(Template)]
#[template(path = "api_tokens.html")]
struct TokensPage {
    layout: Layout,
    tokens: Vec<TokenView>,
    form: TokenForm,
    errors: FieldErrors,
    /// The secret of the token just created.
    created: Option<(String, String)>,
    /// The bounds of the date field, ISO as `<input type="date">` wants them.
    min_date: String,
    max_date: String,
    /// `max_date` for the person to read.
    max_date_text: String,
}

async fn page(
    state: &AppState,
    page: &PageUser,
    form: TokenForm,
    errors: FieldErrors,
    created: Option<(String, String)>,
) -> Result<Response, PageError> {
    let now = db::now();
    let tokens = crate::app::tokens::list(&state.db, &page.user)
        .await?
        .into_iter()
        .map(|t| TokenView::new(t, now))
        .collect();
    let today = calendar::berlin_date(now);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let mut response = render(&TokensPage {
        layout: page.layout(t("nav-tokens"), Nav::Tokens),
        tokens,
        form,
        errors,
        created,
        min_date: today.tomorrow().map(|d| d.to_string()).unwrap_or_default(),
        max_date: last_day(today).map(|d| d.to_string()).unwrap_or_default(),
        max_date_text: last_day(today).map(format::date).unwrap_or_default(),
    })?;
    *response.status_mut() = status;
    // The page may carry a secret: no cache may keep it.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

async fn list(State(state): State<AppState>, user: PageUser) -> Result<Response, PageError> {
    let today = calendar::berlin_date(db::now());
    let form = TokenForm {
        name: String::new(),
        expires_on: today
            .checked_add(jiff::Span::new().days(DEFAULT_DAYS))
            .map(|d| d.to_string())
            .unwrap_or_default(),
    };
    page(&state, &user, form, FieldErrors::default(), None).await
}

async fn create(
    State(state): State<AppState>,
    user: PageUser,
    Form(form): Form<TokenForm>,
) -> Result<Response, PageError> {
    let now = db::now();
    match NewToken::parse(&form.name, &form.expires_on, now) {
        Ok(new) => {
            let (_, secret) =
                crate::app::tokens::create(&state.db, &user.user, &new, None, now).await?;
            let secret = secret.ok_or_else(|| {
                PageError::internal(anyhow::anyhow!("a token without key came back replayed"))
            })?;
            tracing::info!(login = %user.user.login, token = %new.name, "API token created");
            let mut response = page(
                &state,
                &user,
                TokenForm::default(),
                FieldErrors::default(),
                Some((new.name.into_string(), secret)),
            )
            .await?;
            *response.status_mut() = StatusCode::CREATED;
            Ok(response)
        }
        Err(errors) => page(&state, &user, form, errors, None).await,
    }
}

async fn revoke(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = path_id(&id)?;
    if !crate::app::tokens::revoke(&state.db, &user.user, id, db::now()).await? {
        return Err(PageError::NotFound);
    }
    Ok(see_other(Url::Tokens))
}
