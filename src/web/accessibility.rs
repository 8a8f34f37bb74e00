//! The Barrierefreiheitserklärung a public body must publish (BITV 2.0 § 7,
//! BGG § 12b): the state of compliance, how it was assessed, where to report
//! a barrier, and the Schlichtungsstelle. Readable without login, linked in
//! every page's footer. The provider names itself, its contact and, if it
//! wants, its own assessment (`KONTOR_PROVIDER_NAME`,
//! `KONTOR_ACCESSIBILITY_CONTACT`, `KONTOR_ACCESSIBILITY_STATEMENT_FILE`).

use askama::Template;
use axum::{Router, extract::State, response::Response, routing::get};

use super::{Footer, Layout, Nav, PageError, Route, render};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route(Route::Accessibility.pattern(), get(show))
}

#[derive(Template)]
#[template(path = "accessibility.html")]
struct AccessibilityPage {
    layout: Layout,
    provider: String,
    contact: Option<String>,
    /// The provider's own paragraphs; Kontor's assessment when empty.
    own_assessment: Vec<String>,
}

async fn show(State(state): State<AppState>) -> Result<Response, PageError> {
    let settings = &state.settings;
    let own_assessment = match &settings.accessibility_statement_file {
        Some(path) => paragraphs(&tokio::fs::read_to_string(path).await.map_err(|e| {
            PageError::internal(anyhow::anyhow!(
                "KONTOR_ACCESSIBILITY_STATEMENT_FILE {}: {e}",
                path.display()
            ))
        })?),
        None => Vec::new(),
    };
    render(&AccessibilityPage {
        layout: Layout {
            title: super::lang::Lang::current().t("a11y-title"),
            lang: super::lang::Lang::current(),
            nav: Nav::None,
            user: None,
            csrf: String::new(),
            demo: settings.demo_mode(),
            waiting: 0,
            footer: Footer::of(settings),
        },
        provider: settings.provider_name.clone(),
        contact: settings.accessibility_contact.clone(),
        own_assessment,
    })
}

/// Paragraphs of a text file: blocks separated by blank lines, each joined
/// into one line.
fn paragraphs(text: &str) -> Vec<String> {
    text.split("\n\n")
        .map(|block| block.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::paragraphs;

    #[test]
    fn a_statement_file_becomes_paragraphs_at_its_blank_lines() {
        assert_eq!(
            paragraphs("Erster Absatz,\nzweite Zeile.\n\n\nZweiter Absatz.\n"),
            ["Erster Absatz, zweite Zeile.", "Zweiter Absatz."]
        );
        assert!(paragraphs(" \n\n ").is_empty());
    }
}
