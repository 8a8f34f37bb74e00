//! Umgebungen: each application × stage with its namespace, where it is
//! provisioned and whether the cluster has caught up; "Umgebung auflösen"
//! with a confirmation that names everything that will be deleted.

use askama::Template;
use axum::{
    Router,
    extract::{Path, Query, State},
    response::Response,
    routing::get,
};
use serde::Deserialize;

use super::{
    Layout, Nav, PageError, Route, Url,
    admin::path_id,
    lang::{t, t_with},
    render, see_other,
    session::PageUser,
};
use crate::domain::environment::SyncState;
use crate::{
    db::{self, environments::Environment},
    domain::{Lifecycle, environment::EnvironmentSpec},
    provisioning::desired::manifests,
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(Route::Environments.pattern(), get(list))
        .route(Route::Environment.pattern(), get(detail))
        .route(
            Route::EnvironmentDissolve.pattern(),
            get(dissolve_confirm).post(dissolve),
        )
}

/// An environment as a table row or detail page shows it.
pub struct EnvironmentView {
    pub e: Environment,
    pub namespace: String,
    /// Where its stage is provisioned ("manifests" or a cluster name).
    pub target: String,
    /// Whether that is a cluster rather than the manifest directory.
    pub in_cluster: bool,
    pub lifecycle: String,
    pub status: String,
    pub badge: &'static str,
}

fn lifecycle_label(l: Lifecycle) -> String {
    t(match l {
        Lifecycle::Leer => "environment-empty",
        Lifecycle::Aktiv => "environment-active",
        Lifecycle::Aufgeloest => "environment-dissolved",
    })
}

fn view(state: &AppState, e: Environment) -> EnvironmentView {
    let sync = e.sync();
    EnvironmentView {
        namespace: e.namespace(),
        target: state.provisioner.target_for(e.stage).name.clone(),
        in_cluster: state.provisioner.target_for(e.stage).is_cluster(),
        lifecycle: lifecycle_label(e.lifecycle),
        status: match &sync {
            SyncState::Bereit => t("sync-ready"),
            SyncState::Laeuft => t("sync-running"),
            SyncState::Fehler { message } => {
                t_with("sync-error", &[("message", message.clone().into())])
            }
        },
        badge: sync.badge(),
        e,
    }
}

#[derive(Template)]
#[template(path = "environments.html")]
struct ListPage {
    layout: Layout,
    rows: Vec<EnvironmentView>,
    show_customer: bool,
}

async fn list(State(state): State<AppState>, page: PageUser) -> Result<Response, PageError> {
    let envs = db::environments::list(&state.db.pool, page.user.scope(), None).await?;
    render(&ListPage {
        layout: page.layout(t("nav-environments"), Nav::Environments),
        show_customer: page.user.customer_id.is_none(),
        rows: envs.into_iter().map(|e| view(&state, e)).collect(),
    })
}

#[derive(Template)]
#[template(path = "environment.html")]
struct DetailPage {
    layout: Layout,
    v: EnvironmentView,
    can_dissolve: bool,
    failed_attempts: i64,
    last_attempt: Option<String>,
    notice: Option<String>,
}

#[derive(Deserialize)]
struct Notice {
    aufgeloest: Option<String>,
}

async fn detail(
    State(state): State<AppState>,
    page: PageUser,
    Path(id): Path<String>,
    Query(n): Query<Notice>,
) -> Result<Response, PageError> {
    let e = crate::app::environments::get(&state.db, &page.user, path_id(&id)?).await?;
    let can_dissolve = e.dissolvable() && page.user.can_book_for(e.customer_id);
    let last_attempt = e
        .last_attempt_ms
        .map(|ms| crate::web::format::date_time(ms / 1000));
    render(&DetailPage {
        layout: page.layout(
            t_with("environment-title", &[("name", e.namespace().into())]),
            Nav::Environments,
        ),
        can_dissolve,
        failed_attempts: e.attempts.unwrap_or(0),
        last_attempt,
        notice: n.aufgeloest.map(|_| t("environment-notice-dissolved")),
        v: view(&state, e),
    })
}

/// One object the dissolution deletes.
pub struct Doomed {
    pub kind: &'static str,
    pub name: String,
}

#[derive(Template)]
#[template(path = "environment_dissolve.html")]
struct ConfirmPage {
    layout: Layout,
    v: EnvironmentView,
    objects: Vec<Doomed>,
}

/// The page (and the form's POST) only for those who may dissolve it now;
/// a refusal explains why instead of showing a button that cannot work.
async fn dissolvable(
    state: &AppState,
    page: &PageUser,
    id: &str,
) -> Result<Environment, PageError> {
    let e = crate::app::environments::get(&state.db, &page.user, path_id(id)?).await?;
    if !page.user.can_book_for(e.customer_id) {
        return Err(PageError::Forbidden);
    }
    if !e.dissolvable() {
        return Err(
            crate::app::error::Error::Conflict(if e.lifecycle == Lifecycle::Aktiv {
                t("environment-still-booked")
            } else {
                t("environment-nothing-to-dissolve")
            })
            .into(),
        );
    }
    Ok(e)
}

async fn dissolve_confirm(
    State(state): State<AppState>,
    page: PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let e = dissolvable(&state, &page, &id).await?;
    // What the cluster holds for it: the same objects the reconciler
    // applied, named as kubectl would.
    let spec = EnvironmentSpec {
        id: e.id,
        customer: e.customer_slug.clone(),
        application: e.application_slug.clone(),
        stage: e.stage,
        contract: String::new(),
        lifecycle: Lifecycle::Aktiv,
        booked: Default::default(),
        workload: None,
    };
    let objects = manifests(&spec)
        .into_iter()
        .map(|m| Doomed {
            kind: m.kind.as_str(),
            name: m.name,
        })
        .collect();
    render(&ConfirmPage {
        layout: page.layout(t("environment-dissolve"), Nav::Environments),
        v: view(&state, e),
        objects,
    })
}

async fn dissolve(
    State(state): State<AppState>,
    page: PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let e = dissolvable(&state, &page, &id).await?;
    crate::app::environments::dissolve(&state.db, &page.user, e.id, db::now()).await?;
    Ok(see_other(Url::EnvironmentDissolved(e.id)))
}
