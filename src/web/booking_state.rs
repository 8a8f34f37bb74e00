//! A booking's provisioning state alone (`/buchungen/{id}/zustand`): the
//! fragment that the booking list, a booking's page and the overview fetch
//! with htmx while the state is not final, so "Bereitstellung läuft" turns
//! into "aktiv" without a reload. Without JavaScript the pages are the same
//! and keep their "Aktualisieren" link.

use askama::Template;
use axum::{
    extract::{Path, Query, State},
    response::Response,
};
use serde::Deserialize;

use super::{
    PageError,
    bookings::{Row, booking_id, row},
    render,
    session::PageUser,
    urls::BookingStateView,
};
use crate::{db, state::AppState};

#[derive(Deserialize)]
pub struct StateParams {
    #[serde(default)]
    ansicht: Option<String>,
}

/// A booking's provisioning state, as the pages show it; while it is not
/// final (`beantragt`, or a change still on its way to the cluster) the
/// element asks for itself again (htmx, `hx-trigger="every 2s"`), and the
/// answer without that attribute ends the polling.
#[derive(Template)]
#[template(path = "_booking_state.html")]
struct StateFragment {
    /// Only for its words: the fragment has no frame.
    layout: super::Layout,
    view: BookingStateView,
    r: Row,
}

/// The fragment a page showing "Bereitstellung läuft" fetches; 404 for
/// another customer's booking, as its page.
pub async fn fragment(
    State(state): State<AppState>,
    page: PageUser,
    Path(id): Path<String>,
    Query(q): Query<StateParams>,
) -> Result<Response, PageError> {
    let id = booking_id(&id)?;
    let view = BookingStateView::parse(q.ansicht.as_deref())
        .ok_or_else(|| PageError::BadForm(page.t("state-no-such-view")))?;
    let b = crate::app::bookings::get(&state.db, &page.user, id, db::now()).await?;
    render(&StateFragment {
        layout: page.layout(String::new(), super::Nav::None),
        view,
        r: row(&b),
    })
}
