//! Bereitstellung (Betreiber): each provisioning target with the stages it
//! serves and whether it answers, and the queue of work not done yet.

use crate::web::lang::{Worded, t as t_lang};
use askama::Template;
use axum::{Router, extract::State, response::Response, routing::get};

use super::require_betreiber;
use crate::{
    db::{self, outbox::Depth},
    domain::{Stage, environment::namespace_name},
    state::AppState,
    web::{Layout, Nav, PageError, Route, render, session::PageUser},
};

pub fn router() -> Router<AppState> {
    Router::new().route(Route::Provisioning.pattern(), get(page))
}

pub struct TargetRow {
    pub name: String,
    pub cluster: bool,
    pub stages: String,
    /// `None` until the target was first called.
    pub reachable: Option<bool>,
    pub since: String,
    pub message: String,
}

pub struct QueueRow {
    pub environment_id: i64,
    pub namespace: String,
    pub customer: String,
    pub attempts: i64,
    pub due: String,
    pub in_work: bool,
    pub error: String,
}

#[derive(Template)]
#[template(path = "admin_provisioning.html")]
struct Page {
    layout: Layout,
    targets: Vec<TargetRow>,
    depth: Depth,
    queue: Vec<QueueRow>,
}

/// Rows shown of the queue; the count above says how many there are.
const SHOWN: i64 = 100;

async fn page(State(state): State<AppState>, page: PageUser) -> Result<Response, PageError> {
    require_betreiber(&page)?;
    let pool = &state.db.pool;
    let known = db::targets::all(pool).await?;
    let targets = state
        .provisioner
        .targets()
        .iter()
        .map(|t| {
            let status = known.iter().find(|k| k.name == t.name);
            let stages: Vec<String> = state
                .provisioner
                .stages_of(&t.name)
                .into_iter()
                .map(|s: Stage| t_lang(&s.message_id()))
                .collect();
            TargetRow {
                name: t.name.clone(),
                cluster: t.is_cluster(),
                stages: stages.join(", "),
                reachable: status.map(|s| s.reachable == 1),
                since: status
                    .map(|s| crate::web::format::date_time(s.checked_at))
                    .unwrap_or_default(),
                message: status.and_then(|s| s.message.clone()).unwrap_or_default(),
            }
        })
        .collect();
    let depth = db::outbox::depth(pool).await?;
    let queue = db::outbox::pending(pool, SHOWN)
        .await?
        .into_iter()
        .map(|p| QueueRow {
            environment_id: p.environment_id,
            namespace: namespace_name(&p.namespace_customer, &p.namespace_application, p.stage),
            customer: p.customer_name,
            attempts: p.attempts,
            due: crate::web::format::date_time(p.due_at_ms / 1000),
            in_work: p.claimed == 1,
            error: p.last_error.unwrap_or_default(),
        })
        .collect();
    render(&Page {
        layout: page.layout(t_lang("nav-provisioning"), Nav::Provisioning),
        targets,
        depth,
        queue,
    })
}
