//! Server-rendered pages (askama + KERN UX). One module per page; every page
//! works without JavaScript. German first.

pub mod accessibility;
pub mod admin;
pub mod billing;
mod booking_change;
pub mod booking_state;
pub mod bookings;
pub mod chart;
pub mod csrf;
pub mod decide;
pub mod download;
pub mod environments;
pub mod error;
pub mod form;
pub mod format;
pub mod glossary;
pub mod kontingent;
pub mod lang;
pub mod listing;
pub mod login;
pub mod notifications;
pub mod overview;
pub mod releases;
pub mod revision;
pub mod session;
pub mod shop;
pub mod tokens;
pub mod urls;
pub mod view;

use askama::Template;

use axum::{
    Router,
    response::{Html, IntoResponse, Redirect, Response},
    routing::get,
};

use crate::{config::DemoMode, domain::actor::CurrentUser, state::AppState};

pub use error::PageError;
pub use urls::{Route, Url};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            Route::Home.pattern(),
            get(|| async { see_other(Url::Overview) }),
        )
        .merge(login::router())
        .merge(lang::router())
        .merge(accessibility::router())
        .merge(glossary::router())
        .merge(tokens::router())
        .merge(notifications::router())
        .merge(overview::router())
        .merge(shop::router())
        .merge(bookings::router())
        .merge(environments::router())
        .merge(releases::router())
        .merge(kontingent::router())
        .merge(billing::router())
        .merge(revision::router())
        .merge(admin::router())
        .layer(axum::middleware::from_fn(refuse_control_in_query))
        .layer(axum::middleware::from_fn(title_names_refusal))
}

/// A page that refuses a form (422) says so in its title first, "Fehler:
/// …" (the GOV.UK pattern): the title is what a screen reader announces
/// when the page opens and what the browser tab shows. Done once here for
/// every form instead of in each handler.
async fn title_names_refusal(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let response = next.run(request).await;
    let html = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html"));
    if response.status() != axum::http::StatusCode::UNPROCESSABLE_ENTITY || !html {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // Pages are rendered whole in memory already; 8 MiB is far above any.
    let Ok(bytes) = axum::body::to_bytes(body, 8 << 20).await else {
        return PageError::internal(anyhow::anyhow!("page body unreadable")).into_response();
    };
    let page = String::from_utf8_lossy(&bytes).replacen(
        "<title>",
        &format!("<title>{} ", lang::Lang::current().t("title-error-prefix")),
        1,
    );
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(page))
}

/// Query parameters reach list filters and lookups; a control character
/// (a NUL byte, which PostgreSQL refuses in text) never names anything, so
/// the request is answered here, before any handler sees it.
async fn refuse_control_in_query(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let bad = request.uri().query().is_some_and(|q| {
        url::form_urlencoded::parse(q.as_bytes()).any(|(k, v)| {
            crate::domain::text::has_control(&k) || crate::domain::text::has_control(&v)
        })
    });
    if bad {
        return PageError::BadForm(lang::Lang::current().t("error-control-in-query"))
            .into_response();
    }
    next.run(request).await
}

/// Main navigation entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Overview,
    Shop,
    Bookings,
    Environments,
    /// The Stufen: the list of applications and each one's pipeline.
    Stages,
    Approvals,
    Provisioning,
    Billing,
    Revision,
    Customers,
    Contracts,
    Catalogue,
    Tokens,
    Notifications,
    Webhooks,
    Deliveries,
    None,
}

/// What every page's frame needs: title, who is logged in, the CSRF token
/// for forms, and the demo-mode banner.
pub struct Layout {
    pub title: String,
    /// The page's language, chosen for the request by [`lang::scope`].
    pub lang: lang::Lang,
    pub nav: Nav,
    pub user: Option<CurrentUser>,
    pub csrf: String,
    pub demo: DemoMode,
    /// Requests waiting for this person's decision ("Freigaben (N)").
    pub waiting: i64,
    pub footer: Footer,
}

/// What every page's footer links to besides Kontor's own pages: the
/// provider's Impressum and Datenschutzerklärung, where configured.
#[derive(Debug, Clone, Default)]
pub struct Footer {
    pub imprint: Option<String>,
    pub privacy: Option<String>,
}

impl Footer {
    pub fn of(settings: &crate::config::Settings) -> Footer {
        Footer {
            imprint: settings.imprint_url.clone(),
            privacy: settings.privacy_url.clone(),
        }
    }
}

impl Layout {
    /// The text of the demo banner, when demo users may log in.
    pub fn demo_banner(&self) -> Option<String> {
        match self.demo {
            DemoMode::Off => None,
            DemoMode::Only => Some(self.t("demo-only")),
            DemoMode::BesideProvider => Some(self.t("demo-beside-provider")),
        }
    }

    /// The message `id` in the page's language: `{{ layout.t("nav-overview") }}`.
    pub fn t(&self, id: &str) -> String {
        self.lang.t(id)
    }

    /// A message with one variable: `{{ layout.t1("booking-title", "id", b.id) }}`.
    pub fn t1(&self, id: &str, name: &'static str, value: impl lang::ToArg) -> String {
        self.lang.t_with(id, &[(name, value.to_arg())])
    }

    /// A message with two variables.
    pub fn t2(
        &self,
        id: &str,
        a: &'static str,
        va: impl lang::ToArg,
        b: &'static str,
        vb: impl lang::ToArg,
    ) -> String {
        self.lang.t_with(id, &[(a, va.to_arg()), (b, vb.to_arg())])
    }

    /// A message with three variables.
    #[allow(clippy::too_many_arguments)]
    pub fn t3(
        &self,
        id: &str,
        a: &'static str,
        va: impl lang::ToArg,
        b: &'static str,
        vb: impl lang::ToArg,
        c: &'static str,
        vc: impl lang::ToArg,
    ) -> String {
        self.lang
            .t_with(id, &[(a, va.to_arg()), (b, vb.to_arg()), (c, vc.to_arg())])
    }

    /// The page's word for a domain value (a stage, a role, a state).
    pub fn word(&self, value: impl lang::Worded) -> String {
        self.t(&value.message_id())
    }

    /// The logged-in person's roles, in the page's language.
    pub fn roles(&self) -> String {
        self.user
            .as_ref()
            .map(|u| self.role_list(&u.roles))
            .unwrap_or_default()
    }

    /// Roles in the page's language, separated by commas.
    pub fn role_list(&self, roles: &[crate::domain::Role]) -> String {
        roles
            .iter()
            .map(|r| self.word(r))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// A provisioning state in the page's language.
    pub fn sync(&self, sync: &crate::domain::environment::SyncState) -> String {
        use crate::domain::environment::SyncState;
        match sync {
            SyncState::Bereit => self.t("sync-ready"),
            SyncState::Laeuft => self.t("sync-running"),
            SyncState::Fehler { message } => self.t1("sync-error", "message", message),
        }
    }

    /// A message with four variables.
    #[allow(clippy::too_many_arguments)]
    pub fn t4(
        &self,
        id: &str,
        a: &'static str,
        va: impl lang::ToArg,
        b: &'static str,
        vb: impl lang::ToArg,
        c: &'static str,
        vc: impl lang::ToArg,
        d: &'static str,
        vd: impl lang::ToArg,
    ) -> String {
        self.lang.t_with(
            id,
            &[
                (a, va.to_arg()),
                (b, vb.to_arg()),
                (c, vc.to_arg()),
                (d, vd.to_arg()),
            ],
        )
    }

    /// `<html lang>`.
    pub fn html_lang(&self) -> &'static str {
        self.lang.code()
    }

    /// The header's switch to the other language, back to this page.
    pub fn switch_url(&self) -> Url {
        lang::switch_url(self.lang)
    }
    pub fn switch_label(&self) -> &'static str {
        self.lang.other().endonym()
    }
    pub fn switch_lang(&self) -> &'static str {
        self.lang.other().code()
    }

    /// A calendar day in the page's language.
    pub fn date(&self, day: impl std::borrow::Borrow<jiff::civil::Date>) -> String {
        format::date_in(self.lang, day)
    }

    /// An instant (German time) to the minute in the page's language.
    pub fn date_time(&self, unix_seconds: impl format::Whole) -> String {
        format::date_time_in(self.lang, unix_seconds.whole())
    }

    /// A figure the domain wrote the German way (money, sizes) in the
    /// page's language.
    pub fn number(&self, german: impl std::fmt::Display) -> String {
        format::number_in(self.lang, german.to_string())
    }

    /// A billing month (`Dezember 2026`) in the page's language.
    pub fn month(&self, month: impl std::borrow::Borrow<crate::domain::billing::Month>) -> String {
        format::month_in(self.lang, *month.borrow())
    }

    /// A whole number grouped by thousands in the page's language.
    pub fn count(&self, n: impl format::Whole) -> String {
        format::count_in(self.lang, n)
    }

    /// Kontor's version, in the footer (a report of a problem names it).
    pub fn version(&self) -> &'static str {
        env!("CARGO_PKG_VERSION")
    }

    pub fn is(&self, nav: Nav) -> bool {
        self.nav == nav
    }
    pub fn can_book(&self) -> bool {
        self.user
            .as_ref()
            .is_some_and(|u| u.has(crate::domain::Role::Systempfleger))
    }
    /// Webhooks are managed by the Betreiber and a customer's
    /// Systempfleger:in.
    pub fn can_manage_webhooks(&self) -> bool {
        self.user
            .as_ref()
            .is_some_and(|u| u.is_betreiber() || u.has(crate::domain::Role::Systempfleger))
    }
    pub fn is_betreiber(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.is_betreiber())
    }
    pub fn can_read_audit(&self) -> bool {
        self.user
            .as_ref()
            .is_some_and(|u| crate::domain::policy::read_audit(u).is_ok())
    }
    pub fn can_read_billing(&self) -> bool {
        self.user
            .as_ref()
            .is_some_and(|u| crate::domain::policy::allows(crate::domain::policy::read_billing(u)))
    }
}

/// Renders a template as an HTML response.
pub fn render<T: Template>(template: &T) -> Result<Response, PageError> {
    let html = template
        .render()
        .map_err(|e| PageError::internal(anyhow::anyhow!("template: {e}")))?;
    Ok(Html(html).into_response())
}

/// 303 to a page of the portal, e.g. after a successful POST, so reload
/// does not post again.
pub fn see_other(to: Url) -> Response {
    Redirect::to(&to.to_string()).into_response()
}

/// The value of the request's cookie `name` (the first, if a browser sends
/// it twice).
pub fn cookie_value(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(tower_sessions::cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

/// 303 to the identity provider (login and logout there); the portal's own
/// pages go through [`see_other`].
pub fn see_other_at_provider(location: &str) -> Response {
    Redirect::to(location).into_response()
}
