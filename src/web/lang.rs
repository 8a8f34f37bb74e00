//! The language of a page: German unless the person chose English with the
//! switch in the header (cookie `kontor_lang`) or their browser prefers it
//! (`Accept-Language`). The texts are Project Fluent catalogues under
//! `locales/<lang>/`, embedded into the binary at compile time.
//!
//! The choice is made once per request by [`scope`] and kept in a
//! task-local for the rest of the request: every page's [`Layout`] needs
//! it, and so does the error page, which is rendered by `IntoResponse`
//! without access to the request.
//!
//! [`Layout`]: super::Layout

use std::{borrow::Cow, collections::HashMap};

use axum::{
    Router,
    extract::{Query, Request, State},
    http::{HeaderMap, HeaderValue, header},
    middleware::Next,
    response::{IntoResponse, Response},
    routing::get,
};
use fluent_templates::{LanguageIdentifier, Loader, fluent_bundle::FluentValue, langid};
use serde::Deserialize;
use tower_sessions::cookie::{Cookie, SameSite, time::Duration as CookieDuration};

use super::{PageError, Route, Url};
use crate::state::AppState;

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "de",
        // Both languages run left to right; the bidi isolation marks Fluent
        // puts around every placeable would only end up in copied text.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// The cookie that remembers the switch's choice.
pub const COOKIE: &str = "kontor_lang";
/// How long the choice is remembered.
const COOKIE_DAYS: i64 = 365;

/// A language of the web UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    De,
    En,
}

tokio::task_local! {
    static CURRENT: Here;
}

/// The language of the request being answered and the address to come back
/// to after switching it.
#[derive(Debug, Clone)]
struct Here {
    lang: Lang,
    path: String,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::De, Lang::En];

    /// The BCP 47 tag, for `<html lang>` and the cookie.
    pub const fn code(self) -> &'static str {
        match self {
            Lang::De => "de",
            Lang::En => "en",
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        match code {
            "de" => Some(Lang::De),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The language the switch offers.
    pub const fn other(self) -> Lang {
        match self {
            Lang::De => Lang::En,
            Lang::En => Lang::De,
        }
    }

    /// The language's own name, the switch's label.
    pub const fn endonym(self) -> &'static str {
        match self {
            Lang::De => "Deutsch",
            Lang::En => "English",
        }
    }

    fn id(self) -> &'static LanguageIdentifier {
        static DE: LanguageIdentifier = langid!("de");
        static EN: LanguageIdentifier = langid!("en");
        match self {
            Lang::De => &DE,
            Lang::En => &EN,
        }
    }

    /// The language of the request being answered; German outside of one.
    pub fn current() -> Lang {
        CURRENT.try_with(|h| h.lang).unwrap_or_default()
    }

    /// The message `id`. A missing one shows its id (and the catalogue
    /// test fails), never an empty spot.
    pub fn t(self, id: &str) -> String {
        self.lookup(id, None)
    }

    /// The message `id` with its variables.
    pub fn t_with(self, id: &str, args: &[(&'static str, Arg)]) -> String {
        let args: HashMap<Cow<'static, str>, FluentValue> = args
            .iter()
            .map(|(k, v)| (Cow::Borrowed(*k), v.value()))
            .collect();
        self.lookup(id, Some(&args))
    }

    fn lookup(self, id: &str, args: Option<&HashMap<Cow<'static, str>, FluentValue>>) -> String {
        match LOCALES.try_lookup_complete(self.id(), id, args) {
            Some(text) => text,
            None => {
                tracing::warn!(id, lang = self.code(), "message missing from the catalogue");
                id.to_owned()
            }
        }
    }

    /// The choice of a request: the switch's cookie, else the browser's
    /// preference, else German.
    pub fn of(headers: &HeaderMap) -> Lang {
        from_cookie(headers)
            .or_else(|| from_accept_language(headers))
            .unwrap_or_default()
    }
}

/// The message `id` in the language of the request being answered (for
/// the texts that view code builds: form messages, notes).
pub fn t(id: &str) -> String {
    Lang::current().t(id)
}

/// The message `id` with its variables, in the request's language.
pub fn t_with(id: &str, args: &[(&'static str, Arg)]) -> String {
    Lang::current().t_with(id, args)
}

/// A value that goes into a message: a count selects the plural form, a
/// text is put in as it is.
#[derive(Debug, Clone)]
pub enum Arg {
    Number(i64),
    Text(String),
}

impl Arg {
    fn value(&self) -> FluentValue<'static> {
        match self {
            Arg::Number(n) => FluentValue::from(*n),
            Arg::Text(s) => FluentValue::from(s.clone()),
        }
    }
}

/// What templates pass into a message, by value or by any number of
/// references (askama hands over `&&String` inside loops).
pub trait ToArg {
    fn to_arg(&self) -> Arg;
}

impl<T: ToArg + ?Sized> ToArg for &T {
    fn to_arg(&self) -> Arg {
        (**self).to_arg()
    }
}

impl ToArg for str {
    fn to_arg(&self) -> Arg {
        Arg::Text(self.to_owned())
    }
}

impl ToArg for String {
    fn to_arg(&self) -> Arg {
        Arg::Text(self.clone())
    }
}

macro_rules! number_arg {
    ($($t:ty),*) => {$(
        impl From<$t> for Arg {
            fn from(n: $t) -> Arg {
                Arg::Number(i64::try_from(n).unwrap_or(i64::MAX))
            }
        }
        impl ToArg for $t {
            fn to_arg(&self) -> Arg {
                Arg::from(*self)
            }
        }
    )*};
}
number_arg!(i64, i32, u32, u64, usize);

impl From<String> for Arg {
    fn from(s: String) -> Arg {
        Arg::Text(s)
    }
}
impl From<&str> for Arg {
    fn from(s: &str) -> Arg {
        Arg::Text(s.to_owned())
    }
}

/// A domain value that the pages name with a word of the catalogue
/// (`stage-abnahme`, `role-betreiber`); the domain's own `label()` stays
/// German for the exports and the audit log.
pub trait Worded {
    fn message_id(&self) -> String;
}

macro_rules! worded {
    ($($t:ty => $prefix:literal),* $(,)?) => {$(
        impl Worded for $t {
            fn message_id(&self) -> String {
                format!(concat!($prefix, "-{}"), self.as_str())
            }
        }
    )*};
}

worded! {
    crate::domain::stage::Stage => "stage",
    crate::domain::Role => "role",
    crate::domain::booking::BookingState => "booking-state",
    crate::domain::approval::ApprovalState => "approval-state",
    crate::domain::contract::BillingModel => "billing-model",
}

impl Worded for crate::domain::notification::EventKind {
    fn message_id(&self) -> String {
        // Fluent ids take no dots (`approval.waiting`).
        format!("event-{}", self.as_str().replace('.', "-"))
    }
}

impl<T: Worded> Worded for &T {
    fn message_id(&self) -> String {
        (**self).message_id()
    }
}

fn from_cookie(headers: &HeaderMap) -> Option<Lang> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == COOKIE)
        .and_then(|c| Lang::parse(c.value()))
}

/// The first language of `Accept-Language` that Kontor speaks, by the
/// weights (`q`) the browser gives; equal weights keep the browser's order.
fn from_accept_language(headers: &HeaderMap) -> Option<Lang> {
    let value = headers.get(header::ACCEPT_LANGUAGE)?.to_str().ok()?;
    let mut ranked: Vec<(u16, usize, Lang)> = value
        .split(',')
        .enumerate()
        .filter_map(|(position, item)| {
            let mut parts = item.split(';');
            let tag = parts.next()?.trim().to_ascii_lowercase();
            let weight = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(Some(1000), quality)?;
            let primary = tag.split('-').next()?;
            let lang = match primary {
                "de" => Lang::De,
                "en" => Lang::En,
                _ => return None,
            };
            (weight > 0).then_some((weight, position, lang))
        })
        .collect();
    ranked.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    ranked.first().map(|r| r.2)
}

/// A q-value (`0.8`) in thousandths; `None` if it is not one.
fn quality(q: &str) -> Option<u16> {
    let q = q.trim();
    let (whole, frac) = q.split_once('.').unwrap_or((q, ""));
    if frac.len() > 3 || !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let frac: u16 = format!("{frac:0<3}").parse().ok()?;
    match whole {
        "0" => Some(frac),
        "1" if frac == 0 => Some(1000),
        _ => None,
    }
}

/// Chooses the language of the request and keeps it (and the address
/// the switch returns to) for everything that answers it.
pub async fn scope(request: Request, next: Next) -> Response {
    // A form's target (a POST) is no page to come back to with a GET.
    let path = match *request.method() {
        axum::http::Method::GET | axum::http::Method::HEAD => request
            .uri()
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned()),
        _ => "/".to_owned(),
    };
    let here = Here {
        lang: Lang::of(request.headers()),
        path,
    };
    CURRENT.scope(here, next.run(request)).await
}

/// The address of the page being answered, for the switch to return to.
pub fn current_path() -> String {
    CURRENT
        .try_with(|h| h.path.clone())
        .unwrap_or_else(|_| "/".to_owned())
}

pub fn router() -> Router<AppState> {
    Router::new().route(Route::Language.pattern(), get(switch))
}

#[derive(Deserialize)]
struct Switch {
    zu: String,
    #[serde(default)]
    zurueck: String,
}

/// The switch in the header: a plain link (it works without JavaScript,
/// without a session and on the error pages, where no form token exists).
/// Changing the language changes nothing but this browser's cookie, so a
/// link that a third party makes someone follow does no harm.
async fn switch(
    State(state): State<AppState>,
    Query(switch): Query<Switch>,
) -> Result<Response, PageError> {
    let lang = Lang::parse(&switch.zu)
        .ok_or_else(|| PageError::BadForm(Lang::current().t("lang-unknown")))?;
    let back = same_origin_path(&switch.zurueck)
        .ok_or_else(|| PageError::BadForm(Lang::current().t("lang-bad-return")))?;
    let cookie = Cookie::build((COOKIE, lang.code()))
        .path("/")
        .http_only(true)
        .secure(state.settings.secure_cookies())
        .same_site(SameSite::Lax)
        .max_age(CookieDuration::days(COOKIE_DAYS))
        .build();
    let mut response = axum::response::Redirect::to(back).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(response)
}

/// `back` if it is a path of this portal: it starts with one `/` (not
/// `//host`, which a browser reads as another site, nor `/\host`, which
/// some read the same way) and holds no control characters or spaces.
/// An empty one means the start page.
pub fn same_origin_path(back: &str) -> Option<&str> {
    if back.is_empty() {
        return Some("/");
    }
    let mut chars = back.chars();
    let first_ok = chars.next() == Some('/');
    let second_ok = !matches!(chars.next(), Some('/' | '\\'));
    let clean = back.chars().all(|c| !c.is_control() && !c.is_whitespace());
    (first_ok && second_ok && clean).then_some(back)
}

/// The switch's link on the page being answered: to the other language,
/// back to this page.
pub fn switch_url(lang: Lang) -> Url {
    Url::Language {
        to: lang.other(),
        back: current_path(),
    }
}

#[cfg(test)]
mod tests;
