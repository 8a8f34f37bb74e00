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
    Layout, Nav, PageError, Route, Url, admin::path_id, render, see_other, session::PageUser,
};
use crate::{
    app::error::FieldErrors,
    db::{self, api_tokens::TokenRow},
    domain::{
        calendar,
        text::{Text, TextError},
    },
    state::AppState,
};

/// A token lives at most a year: long-lived secrets in CI systems are how
/// leaks stay useful.
const MAX_DAYS: i64 = 366;
const DEFAULT_DAYS: i64 = 90;

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
    pub state: &'static str,
    pub active: bool,
}

impl TokenView {
    fn new(row: TokenRow, now: i64) -> TokenView {
        let state = match (row.revoked_at, row.expires_at) {
            (Some(_), _) => "widerrufen",
            (None, Some(at)) if at <= now => "abgelaufen",
            _ => "gültig",
        };
        TokenView {
            id: row.id,
            active: row.active(now),
            name: row.name,
            created: calendar::format_berlin(row.created_at),
            // Stored as the first second after the last valid day.
            expires: row
                .expires_at
                .map(|at| {
                    calendar::berlin_date(at - 1)
                        .strftime("%d.%m.%Y")
                        .to_string()
                })
                .unwrap_or_else(|| "unbefristet".into()),
            last_used: row
                .last_used_at
                .map(calendar::format_berlin)
                .unwrap_or_else(|| "nie".into()),
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
    min_date: String,
    max_date: String,
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
        layout: page.layout("API-Tokens", Nav::Tokens),
        tokens,
        form,
        errors,
        created,
        min_date: today.tomorrow().map(|d| d.to_string()).unwrap_or_default(),
        max_date: today
            .checked_add(jiff::Span::new().days(MAX_DAYS))
            .map(|d| d.to_string())
            .unwrap_or_default(),
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

/// The token's name and the end of its last day (Berlin time), or the
/// messages for the fields.
fn validate(form: &TokenForm, now: i64) -> Result<(Text, i64), FieldErrors> {
    let mut errors = FieldErrors::default();
    let name = match Text::parse(&form.name, 80) {
        Ok(name) => Some(name),
        Err(TextError::Empty) => {
            errors.add(
                "name",
                "Bitte geben Sie dem Token einen Namen, z. B. den des Systems, das es nutzt.",
            );
            None
        }
        Err(TextError::TooLong(_)) => {
            errors.add("name", "Der Name darf höchstens 80 Zeichen lang sein.");
            None
        }
        Err(e) => {
            errors.add("name", e.to_string());
            None
        }
    };
    let today = calendar::berlin_date(now);
    let expires = match form.expires_on.trim().parse::<jiff::civil::Date>() {
        Err(_) => {
            errors.add(
                "expires_on",
                "Bitte ein Datum im Format JJJJ-MM-TT angeben.",
            );
            None
        }
        Ok(date) if date <= today => {
            errors.add("expires_on", "Das Ablaufdatum muss in der Zukunft liegen.");
            None
        }
        Ok(date)
            if today
                .checked_add(jiff::Span::new().days(MAX_DAYS))
                .is_ok_and(|max| date > max) =>
        {
            errors.add("expires_on", "Ein Token gilt höchstens ein Jahr.");
            None
        }
        Ok(date) => date.tomorrow().ok().map(calendar::berlin_midnight),
    };
    match (errors.is_empty(), name, expires) {
        (true, Some(name), Some(at)) => Ok((name, at)),
        _ => Err(errors),
    }
}

async fn create(
    State(state): State<AppState>,
    user: PageUser,
    Form(form): Form<TokenForm>,
) -> Result<Response, PageError> {
    let now = db::now();
    match validate(&form, now) {
        Ok((name, expires_at)) => {
            let secret =
                crate::app::tokens::create(&state.db, &user.user, &name, Some(expires_at), now)
                    .await?;
            tracing::info!(login = %user.user.login, token = %name, "API token created");
            let mut response = page(
                &state,
                &user,
                TokenForm::default(),
                FieldErrors::default(),
                Some((name.into_string(), secret)),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn form(name: &str, expires_on: &str) -> TokenForm {
        TokenForm {
            name: name.into(),
            expires_on: expires_on.into(),
        }
    }

    // 2026-11-22 12:00 UTC
    const NOW: i64 = 1_795_348_800;

    #[test]
    fn a_token_expires_at_the_end_of_its_last_day_in_berlin() {
        let (name, at) = validate(&form(" CI ", "2026-12-31"), NOW).unwrap();
        assert_eq!(name.as_str(), "CI");
        assert_eq!(at, calendar::berlin_midnight("2027-01-01".parse().unwrap()));
    }

    #[test]
    fn bad_input_names_the_field() {
        let errors = validate(&form("", "morgen"), NOW).unwrap_err();
        assert!(errors.get("name").is_some());
        assert!(errors.get("expires_on").is_some());
        assert!(
            validate(&form("x", "2026-11-22"), NOW)
                .unwrap_err()
                .get("expires_on")
                .is_some()
        );
        assert!(
            validate(&form("x", "2028-01-01"), NOW)
                .unwrap_err()
                .get("expires_on")
                .is_some()
        );
        assert!(
            validate(&form(&"x".repeat(81), "2026-12-01"), NOW)
                .unwrap_err()
                .get("name")
                .is_some()
        );
    }
}
