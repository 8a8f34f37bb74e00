//! Errors of page handlers, rendered as a German page. Internal errors are
//! logged with an error id that the page shows, never their details.

use askama::Template;
use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
};

use super::{Layout, Nav, Url, see_other};
use crate::app::error::Error;

#[derive(Debug)]
pub enum PageError {
    LoginRequired,
    NotFound,
    Forbidden,
    /// Refused for a reason other than the role, which the page names.
    ForbiddenBecause(String),
    CsrfRejected,
    /// A form body past the limit (413, as the API answers).
    TooLarge,
    /// The database is restarting, down or busy (503).
    Unavailable,
    BadForm(String),
    Conflict(String),
    /// Over a rate limit; try again after this many seconds.
    TooManyRequests(i64),
    Internal(anyhow::Error),
}

impl PageError {
    pub fn internal(e: anyhow::Error) -> Self {
        PageError::Internal(e)
    }
    pub fn session(e: tower_sessions::session::Error) -> Self {
        match e {
            tower_sessions::session::Error::Store(s) if crate::db::sessions::is_unavailable(&s) => {
                tracing::warn!(error = %s, "session store: database unavailable");
                PageError::Unavailable
            }
            e => PageError::Internal(anyhow::anyhow!("session store: {e}")),
        }
    }
}

impl From<Error> for PageError {
    fn from(e: Error) -> Self {
        match e {
            Error::NotFound => PageError::NotFound,
            Error::Unauthorized => PageError::LoginRequired,
            Error::Forbidden => PageError::Forbidden,
            Error::Validation(fields) => PageError::BadForm(fields.to_string()),
            Error::Kontingent(k) => PageError::Conflict(k.to_string()),
            Error::ContractNotValid(m) | Error::Conflict(m) => PageError::Conflict(m),
            e @ Error::BelowUse(_) => PageError::Conflict(e.to_string()),
            Error::Checkup(r) => PageError::Conflict(r.to_string()),
            Error::FourEyes(m) => PageError::ForbiddenBecause(m),
            e @ Error::Stale(_) => PageError::Conflict(e.to_string()),
            Error::Database(e) if crate::db::is_unavailable(&e) => {
                tracing::warn!(error = %e, "database unavailable");
                PageError::Unavailable
            }
            Error::Database(e) => PageError::Internal(e.into()),
            Error::Internal(e) => PageError::Internal(e),
        }
    }
}

impl From<sqlx::Error> for PageError {
    fn from(e: sqlx::Error) -> Self {
        PageError::from(Error::Database(e))
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    heading: String,
    message: String,
    error_id: Option<String>,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let mut retry_after = None;
        let lang = super::lang::Lang::current();
        let (status, heading, message, error_id) = match self {
            PageError::LoginRequired => return see_other(Url::Login),
            PageError::NotFound => (
                StatusCode::NOT_FOUND,
                "error-not-found",
                lang.t("error-not-found-text"),
                None,
            ),
            PageError::Forbidden => (
                StatusCode::FORBIDDEN,
                "error-forbidden",
                lang.t("error-forbidden-text"),
                None,
            ),
            PageError::ForbiddenBecause(m) => (StatusCode::FORBIDDEN, "error-not-allowed", m, None),
            PageError::CsrfRejected => (
                StatusCode::FORBIDDEN,
                "error-csrf",
                lang.t("error-csrf-text"),
                None,
            ),
            PageError::BadForm(m) => (StatusCode::BAD_REQUEST, "error-bad-input", m, None),
            PageError::Unavailable => {
                retry_after = Some(5);
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "error-unavailable",
                    lang.t("error-unavailable-text"),
                    None,
                )
            }
            PageError::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "error-too-large",
                lang.t("error-too-large-text"),
                None,
            ),
            PageError::Conflict(m) => (StatusCode::CONFLICT, "error-conflict", m, None),
            PageError::TooManyRequests(secs) => {
                retry_after = Some(secs);
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    "error-too-many",
                    lang.t_with("error-too-many-text", &[("seconds", secs.into())]),
                    None,
                )
            }
            PageError::Internal(e) => {
                let id = crate::secret::random_id(12);
                tracing::error!(error_id = %id, error = ?e, "internal error on a page");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "error-internal",
                    lang.t("error-internal-text"),
                    Some(id),
                )
            }
        };
        let heading = lang.t(heading);
        let page = ErrorPage {
            layout: Layout {
                title: heading.clone(),
                lang: super::lang::Lang::current(),
                nav: Nav::None,
                user: None,
                csrf: String::new(),
                demo: crate::config::DemoMode::Off,
                waiting: 0,
                // Built without the settings (an error may come before
                // them): Kontor's own links only.
                footer: super::Footer::default(),
            },
            heading,
            message,
            error_id,
        };
        let mut response = match page.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(_) => (status, page.heading).into_response(),
        };
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}
