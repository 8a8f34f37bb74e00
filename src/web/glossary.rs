//! The Glossar: what the portal's own words mean (Kontingent, Stufe,
//! Checkup, Freigabe, Lieferung, …), one short definition each, taken from
//! the white paper the portal follows and its design brief. Readable
//! without login, linked in every page's footer, and where a page first
//! names a term in its heading or introduction.

use askama::Template;
use axum::{Router, extract::State, response::Response, routing::get};

use super::{Footer, Layout, Nav, PageError, Route, render, session::PageUser};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route(Route::Glossary.pattern(), get(show))
}

#[derive(Template)]
#[template(path = "glossary.html")]
struct GlossaryPage {
    layout: Layout,
}

/// With the navigation for someone logged in (who came here from a term on
/// a page and goes on from here), without it for anyone else.
async fn show(
    State(state): State<AppState>,
    page: Result<PageUser, PageError>,
) -> Result<Response, PageError> {
    let layout = match page {
        Ok(page) => page.layout(page.t("footer-glossary"), Nav::None),
        Err(PageError::LoginRequired) => Layout {
            title: super::lang::Lang::current().t("footer-glossary"),
            lang: super::lang::Lang::current(),
            nav: Nav::None,
            user: None,
            csrf: String::new(),
            demo: state.settings.demo_mode(),
            waiting: 0,
            footer: Footer::of(&state.settings),
        },
        Err(other) => return Err(other),
    };
    render(&GlossaryPage { layout })
}
