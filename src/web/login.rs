//! Login and logout. With an OpenID provider configured the browser goes
//! through the authorization code flow with PKCE; without one (the embedded
//! default) the page offers the demo users. A login from the provider
//! creates or updates the user just in time from the groups claim; a user
//! without any Kontor group gets the "kein Zugang" page.

use askama::Template;
use axum::{
    Form, Router,
    extract::{Query, State},
    http::{HeaderMap, StatusCode, header, request::Parts},
    response::Response,
    routing::{get, post},
};
use serde::Deserialize;
use tower_sessions::Session;

use super::lang::ToArg;
use super::{
    Layout, Nav, PageError, Route, Url, render, see_other, see_other_at_provider, session,
};
use crate::{
    app::identities::{self, Resolved},
    auth::oidc::{PENDING_LOGIN_SECS, PendingLogin},
    db::{self, users::DemoUser},
    domain::actor::Via,
    state::AppState,
};

const PENDING: &str = "oidc_pending";
pub const ID_TOKEN: &str = "oidc_id_token";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(Route::Login.pattern(), get(show).post(log_in))
        .route(Route::LoginWithProvider.pattern(), get(begin))
        .route(Route::LoginReturn.pattern(), get(callback))
        .route(Route::Logout.pattern(), post(log_out))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    demo_users: Vec<DemoUser>,
    oidc: bool,
    /// Why the last attempt failed.
    problem: Option<String>,
}

#[derive(Template)]
#[template(path = "no_access.html")]
struct NoAccessPage {
    layout: Layout,
    display_name: String,
    login: String,
    /// Set when the groups name several customers.
    customers: Vec<String>,
    groups_claim: String,
}

/// The login page. Its form's token comes from the session where there is
/// one, else from a cookie: showing it to a stranger writes nothing.
async fn login_page(
    state: &AppState,
    session: &Session,
    headers: &HeaderMap,
    status: StatusCode,
    problem: Option<String>,
) -> Result<Response, PageError> {
    let demo = state.settings.demo_login_enabled();
    let demo_users = if demo {
        db::users::demo_users(&state.db.pool).await?
    } else {
        Vec::new()
    };
    let (csrf, set_cookie) = match session::existing_csrf_token(session).await? {
        Some(token) => (token, None),
        None => super::csrf::anonymous(headers, state.settings.secure_cookies()),
    };
    let mut response = render(&LoginPage {
        layout: Layout {
            title: super::lang::Lang::current().t("login-title"),
            lang: super::lang::Lang::current(),
            nav: Nav::None,
            user: None,
            csrf,
            demo: state.settings.demo_mode(),
            waiting: 0,
            footer: super::Footer::of(&state.settings),
        },
        demo_users,
        oidc: state.oidc.is_some(),
        problem,
    })?;
    *response.status_mut() = status;
    if let Some(cookie) = set_cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

async fn show(
    State(state): State<AppState>,
    session: Session,
    parts: Parts,
) -> Result<Response, PageError> {
    if session::user_id(&session).await?.is_some() {
        return Ok(see_other(Url::Overview));
    }
    limit_page(&state, &parts).await?;
    login_page(&state, &session, &parts.headers, StatusCode::OK, None).await
}

/// Login attempts count per client address, shared by all replicas.
async fn limit(state: &AppState, parts: &Parts) -> Result<(), PageError> {
    limit_bucket(state, parts, "login").await
}

/// Views of the login page count the same way, in a bucket of their own
/// (each login is one view and one attempt).
async fn limit_page(state: &AppState, parts: &Parts) -> Result<(), PageError> {
    limit_bucket(state, parts, "login-page").await
}

async fn limit_bucket(state: &AppState, parts: &Parts, bucket: &str) -> Result<(), PageError> {
    let ip = crate::ratelimit::client_of(parts, state.settings.trusted_proxy_hops);
    state
        .limiter
        .hit(
            &format!("{bucket}:{ip}"),
            state.settings.rate_limit_login_per_minute,
            db::now(),
        )
        .await
        .map_err(|r| PageError::TooManyRequests(r.0))
}

#[derive(Deserialize)]
struct LoginForm {
    login: String,
}

async fn log_in(
    State(state): State<AppState>,
    session: Session,
    parts: Parts,
    Form(form): Form<LoginForm>,
) -> Result<Response, PageError> {
    limit(&state, &parts).await?;
    if !state.settings.demo_login_enabled() {
        return Err(PageError::Forbidden);
    }
    let user = db::users::by_login(&state.db.pool, &form.login)
        .await?
        .ok_or_else(|| PageError::BadForm(super::lang::Lang::current().t("login-unknown-demo")))?;
    if !db::users::is_demo(&state.db.pool, user.id).await? {
        return Err(PageError::BadForm(
            super::lang::Lang::current().t("login-not-demo"),
        ));
    }
    session::log_in(&session, user.id).await?;
    tracing::info!(login = %user.login, "demo login");
    Ok(see_other(Url::Overview))
}

/// Sends the browser to the provider, remembering state, nonce and the
/// PKCE verifier in the session.
async fn begin(
    State(state): State<AppState>,
    session: Session,
    parts: Parts,
) -> Result<Response, PageError> {
    limit(&state, &parts).await?;
    let Some(oidc) = &state.oidc else {
        return Err(PageError::NotFound);
    };
    match oidc.begin().await {
        Ok((url, pending)) => {
            session
                .insert(PENDING, &pending)
                .await
                .map_err(PageError::session)?;
            Ok(see_other_at_provider(url.as_str()))
        }
        Err(e) => {
            let request_id = crate::telemetry::request_id(&parts.headers);
            tracing::warn!(%request_id, error = %e, "OpenID provider not available for a login");
            login_page(
                &state,
                &session,
                &parts.headers,
                StatusCode::SERVICE_UNAVAILABLE,
                Some(super::lang::Lang::current().t_with(
                    "login-try-later",
                    &[
                        ("problem", e.public().into()),
                        ("request", request_id.to_string().into()),
                    ],
                )),
            )
            .await
        }
    }
}

#[derive(Deserialize)]
struct Callback {
    code: Option<String>,
    state: Option<String>,
    /// RFC 9207: the issuer of the response.
    iss: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The provider's redirect back: state checked against the session, code
/// exchanged, ID token validated (signature, issuer, audience, expiry,
/// nonce), groups mapped, user synced, session started with a new id.
async fn callback(
    State(state): State<AppState>,
    session: Session,
    parts: Parts,
    Query(back): Query<Callback>,
) -> Result<Response, PageError> {
    limit(&state, &parts).await?;
    let Some(oidc) = state.oidc.clone() else {
        return Err(PageError::NotFound);
    };
    // The pending login is used once, whatever happens next.
    let pending: Option<PendingLogin> =
        session.remove(PENDING).await.map_err(PageError::session)?;
    let refuse = |message: &str| {
        let message = message.to_owned();
        let state = state.clone();
        let session = session.clone();
        let headers = parts.headers.clone();
        async move {
            login_page(
                &state,
                &session,
                &headers,
                StatusCode::BAD_REQUEST,
                Some(
                    super::lang::Lang::current()
                        .t_with("login-again", &[("problem", message.into())]),
                ),
            )
            .await
        }
    };
    if let Some(error) = &back.error {
        tracing::info!(error, description = ?back.error_description, "provider ended the login with an error");
        return refuse(
            &super::lang::Lang::current()
                .t_with("login-provider-error", &[("error", error.to_arg())]),
        )
        .await;
    }
    let Some(pending) = pending.filter(|p| db::now() - p.started_at <= PENDING_LOGIN_SECS) else {
        return refuse(&super::lang::Lang::current().t("login-expired")).await;
    };
    if !back
        .state
        .as_deref()
        .is_some_and(|s| same(s, &pending.state))
    {
        tracing::warn!("login callback with a state that does not match the session");
        return refuse(&super::lang::Lang::current().t("login-state-mismatch")).await;
    }
    let Some(code) = back.code else {
        return refuse(&super::lang::Lang::current().t("login-no-code")).await;
    };
    let checked = match oidc.check_iss(back.iss.as_deref()).await {
        Ok(()) => oidc.finish(code, &pending).await,
        Err(e) => Err(e),
    };
    let login = match checked {
        Ok(login) => login,
        Err(e) => {
            // The detail (issuer, audience, clock, the library's words) is
            // for the log, under the id the page names.
            let request_id = crate::telemetry::request_id(&parts.headers);
            tracing::warn!(%request_id, error = %e, "login refused");
            let status = match e {
                crate::auth::oidc::OidcError::Unreachable(_) => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::BAD_REQUEST,
            };
            return login_page(
                &state,
                &session,
                &parts.headers,
                status,
                Some(super::lang::Lang::current().t_with(
                    "login-again-with-id",
                    &[
                        ("problem", e.public().into()),
                        ("request", request_id.to_string().into()),
                    ],
                )),
            )
            .await;
        }
    };
    let identity = &login.identity;
    let names = crate::auth::groups::GroupNames::from_settings(&state.settings);
    let (customer_id, roles) = match identities::resolve(&state.db, identity, &names).await? {
        Resolved::Granted { customer_id, roles } => (customer_id, roles),
        denied => {
            tracing::info!(subject = %identity.subject, groups = ?identity.groups, "login without Kontor access");
            // Kept so that "Abmelden" can end the provider's session too.
            session
                .insert(ID_TOKEN, &login.id_token)
                .await
                .map_err(PageError::session)?;
            let customers = match denied {
                Resolved::SeveralCustomers(slugs) => slugs,
                _ => Vec::new(),
            };
            let mut response = render(&NoAccessPage {
                layout: Layout {
                    title: super::lang::Lang::current().t("no-access-title-page"),
                    lang: super::lang::Lang::current(),
                    nav: Nav::None,
                    user: None,
                    csrf: session::csrf_token(&session).await?,
                    demo: state.settings.demo_mode(),
                    waiting: 0,
                    footer: super::Footer::of(&state.settings),
                },
                display_name: identity.display_name.clone(),
                login: identity.login.clone(),
                customers,
                groups_claim: state.settings.oidc_groups_claim.clone(),
            })?;
            *response.status_mut() = StatusCode::FORBIDDEN;
            return Ok(response);
        }
    };
    let user = identities::sync(
        &state.db,
        oidc.issuer(),
        identity,
        customer_id,
        &roles,
        Via::Session,
        true,
        db::now(),
    )
    .await?;
    session::log_in(&session, user.id).await?;
    session
        .insert(ID_TOKEN, &login.id_token)
        .await
        .map_err(PageError::session)?;
    tracing::info!(login = %user.login, subject = %identity.subject, "login through the OpenID provider");
    Ok(see_other(Url::Overview))
}

/// Ends Kontor's session and, with a provider, the provider's session too
/// (RP-initiated logout), which then sends the browser back to the login.
async fn log_out(State(state): State<AppState>, session: Session) -> Result<Response, PageError> {
    let id_token: Option<String> = session.get(ID_TOKEN).await.map_err(PageError::session)?;
    session::log_out(&session).await?;
    if let Some(oidc) = &state.oidc
        && let Some(url) = oidc.logout_url(id_token.as_deref()).await
    {
        return Ok(see_other_at_provider(url.as_str()));
    }
    Ok(see_other(Url::Login))
}
