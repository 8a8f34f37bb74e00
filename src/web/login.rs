//! Login page. Without an OpenID provider (the embedded default) it offers
//! the demo users; OpenID Connect comes with the identity issue.

use askama::Template;
use axum::{
    Form, Router,
    extract::State,
    response::Response,
    routing::{get, post},
};
use serde::Deserialize;
use tower_sessions::Session;

use super::{Layout, Nav, PageError, render, see_other, session};
use crate::{
    db::{self, users::DemoUser},
    startup::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/anmelden", get(show).post(log_in))
        .route("/abmelden", post(log_out))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    demo_users: Vec<DemoUser>,
}

async fn show(State(state): State<AppState>, session: Session) -> Result<Response, PageError> {
    if session
        .get::<i64>("user_id")
        .await
        .map_err(PageError::session)?
        .is_some()
    {
        return Ok(see_other("/uebersicht"));
    }
    let demo = state.settings.demo_login_enabled();
    let demo_users = if demo {
        db::users::demo_users(&state.db.pool).await?
    } else {
        Vec::new()
    };
    render(&LoginPage {
        layout: Layout {
            title: "Anmelden".into(),
            nav: Nav::None,
            user: None,
            csrf: session::csrf_token(&session).await?,
            demo,
        },
        demo_users,
    })
}

#[derive(Deserialize)]
struct LoginForm {
    login: String,
}

async fn log_in(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<LoginForm>,
) -> Result<Response, PageError> {
    if !state.settings.demo_login_enabled() {
        return Err(PageError::Forbidden);
    }
    let user = db::users::by_login(&state.db.pool, &form.login)
        .await?
        .ok_or_else(|| PageError::BadForm("Diese Demo-Person gibt es nicht.".into()))?;
    if !db::users::is_demo(&state.db.pool, user.id).await? {
        return Err(PageError::BadForm(
            "Diese Person ist keine Demo-Person.".into(),
        ));
    }
    session::log_in(&session, user.id).await?;
    tracing::info!(login = %user.login, "demo login");
    Ok(see_other("/uebersicht"))
}

async fn log_out(session: Session) -> Result<Response, PageError> {
    session::log_out(&session).await?;
    Ok(see_other("/anmelden"))
}
