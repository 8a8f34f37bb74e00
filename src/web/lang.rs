//! The choice of a request's language — the switch in the header (cookie
//! `kontor_lang`), else the browser's preference (`Accept-Language`), else
//! German — and the switch itself. The catalogues and the lookup are
//! `crate::i18n`.

use axum::{
    Router,
    extract::{Query, Request, State},
    http::{HeaderMap, HeaderValue, header},
    middleware::Next,
    response::{IntoResponse, Response},
    routing::get,
};
use serde::Deserialize;
use tower_sessions::cookie::{Cookie, SameSite, time::Duration as CookieDuration};

use super::{PageError, Route, Url};
pub use crate::i18n::{Arg, Lang, ToArg, Worded, t, t_with};
use crate::state::AppState;

/// The cookie that remembers the switch's choice.
pub const COOKIE: &str = "kontor_lang";
/// How long the choice is remembered.
const COOKIE_DAYS: i64 = 365;

tokio::task_local! {
    /// The address of the page being answered, for the switch to return to.
    static HERE: String;
}

impl Lang {
    /// The choice of a request: the switch's cookie, else the browser's
    /// preference, else German.
    pub fn of(headers: &HeaderMap) -> Lang {
        from_cookie(headers)
            .or_else(|| from_accept_language(headers))
            .unwrap_or_default()
    }
}

fn from_cookie(headers: &HeaderMap) -> Option<Lang> {
    super::cookie_value(headers, COOKIE).and_then(|v| Lang::parse(&v))
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
    let lang = Lang::of(request.headers());
    crate::i18n::scope(lang, HERE.scope(path, next.run(request))).await
}

/// The address of the page being answered, for the switch to return to.
pub fn current_path() -> String {
    HERE.try_with(Clone::clone)
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
