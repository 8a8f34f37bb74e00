//! The browser session: who is logged in and the CSRF token of their forms.

use axum::{
    extract::{FromRef, FromRequestParts},
    http::request::Parts,
};
use tower_sessions::Session;

use super::{Layout, Nav, PageError};
use crate::{
    db,
    domain::actor::{CurrentUser, Via},
    state::AppState,
};

const USER_ID: &str = "user_id";
const CSRF: &str = "csrf";
const LOGIN_AT: &str = "login_at";
const SEEN_AT: &str = "seen_at";

/// A session ends after this long however active it is (absolute timeout).
const ABSOLUTE_TIMEOUT_SECS: i64 = 12 * 3600;
/// The idle timeout is renewed by saving the session, at most this often,
/// so a busy user costs one session write a minute, not one per request.
const RENEW_AFTER_SECS: i64 = 60;

/// The CSRF token of this session, created on first use.
pub async fn csrf_token(session: &Session) -> Result<String, PageError> {
    if let Some(token) = session
        .get::<String>(CSRF)
        .await
        .map_err(PageError::session)?
    {
        return Ok(token);
    }
    let token = crate::secret::random_token();
    session
        .insert(CSRF, &token)
        .await
        .map_err(PageError::session)?;
    Ok(token)
}

/// The session's CSRF token if it has one; never creates one (and with it
/// a session row).
pub async fn existing_csrf_token(session: &Session) -> Result<Option<String>, PageError> {
    session
        .get::<String>(CSRF)
        .await
        .map_err(PageError::session)
}

/// Logs a user in: a fresh session id (against fixation) and a new CSRF token.
pub async fn log_in(session: &Session, user_id: i64) -> Result<(), PageError> {
    session.cycle_id().await.map_err(PageError::session)?;
    session
        .insert(USER_ID, user_id)
        .await
        .map_err(PageError::session)?;
    let now = db::now();
    session
        .insert(LOGIN_AT, now)
        .await
        .map_err(PageError::session)?;
    session
        .insert(SEEN_AT, now)
        .await
        .map_err(PageError::session)?;
    session
        .insert(CSRF, crate::secret::random_token())
        .await
        .map_err(PageError::session)?;
    Ok(())
}

/// The logged-in user's id, if any.
pub async fn user_id(session: &Session) -> Result<Option<i64>, PageError> {
    session.get(USER_ID).await.map_err(PageError::session)
}

pub async fn log_out(session: &Session) -> Result<(), PageError> {
    session.flush().await.map_err(PageError::session)
}

/// A logged-in user with the session's CSRF token. Pages that need a login
/// take this extractor; without a session it redirects to the login page.
pub struct PageUser {
    pub user: CurrentUser,
    pub csrf: String,
    pub demo: crate::config::DemoMode,
    /// Requests waiting for this person's decision.
    pub waiting: i64,
    pub footer: super::Footer,
}

impl PageUser {
    /// The message `id` in the language of the page being answered.
    pub fn t(&self, id: &str) -> String {
        super::lang::Lang::current().t(id)
    }

    /// A message with one variable.
    pub fn t1(&self, id: &str, name: &'static str, value: impl super::lang::ToArg) -> String {
        super::lang::Lang::current().t_with(id, &[(name, value.to_arg())])
    }

    pub fn layout(&self, title: impl Into<String>, nav: Nav) -> Layout {
        Layout {
            title: title.into(),
            lang: super::lang::Lang::current(),
            nav,
            user: Some(self.user.clone()),
            csrf: self.csrf.clone(),
            demo: self.demo,
            waiting: self.waiting,
            footer: self.footer.clone(),
        }
    }
}

impl<S> FromRequestParts<S> for PageUser
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let session = Session::from_request_parts(parts, &state)
            .await
            .map_err(|_| PageError::internal(anyhow::anyhow!("session layer missing")))?;
        let user_id: Option<i64> = session.get(USER_ID).await.map_err(PageError::session)?;
        let Some(user_id) = user_id else {
            return Err(PageError::LoginRequired);
        };
        let now = db::now();
        let login_at: i64 = session
            .get(LOGIN_AT)
            .await
            .map_err(PageError::session)?
            .unwrap_or(0);
        if now - login_at > ABSOLUTE_TIMEOUT_SECS {
            session.flush().await.map_err(PageError::session)?;
            return Err(PageError::LoginRequired);
        }
        let seen_at: i64 = session
            .get(SEEN_AT)
            .await
            .map_err(PageError::session)?
            .unwrap_or(0);
        if now - seen_at >= RENEW_AFTER_SECS {
            session
                .insert(SEEN_AT, now)
                .await
                .map_err(PageError::session)?;
        }
        let user = db::users::by_id(&state.db.pool, user_id, Via::Session)
            .await
            .map_err(|e| PageError::from(crate::app::error::Error::from(e)))?
            .ok_or(PageError::LoginRequired)?;
        let csrf = csrf_token(&session).await?;
        let waiting = crate::app::approvals::waiting_count(
            &state.db,
            &user,
            state.settings.kontingent_budget_cosign,
        )
        .await?;
        Ok(PageUser {
            user,
            csrf,
            demo: state.settings.demo_mode(),
            waiting,
            footer: super::Footer::of(&state.settings),
        })
    }
}
