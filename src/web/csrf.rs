//! CSRF protection for every state-changing form: a per-session token in a
//! hidden field `csrf`, checked by middleware before any handler runs, so no
//! form can forget it. (SameSite=Lax cookies already stop most cross-site
//! posts; the token also covers same-site attackers and old browsers.)
//!
//! A browser without a session (the login page) gets its token as a cookie
//! instead (double submit): an anonymous page view writes no session row, so
//! a flood of them cannot fill the database. Behind https the cookie carries
//! the `__Host-` prefix, which keeps a subdomain from planting one.

use axum::{
    body::{Body, to_bytes},
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, Method, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use tower_sessions::{
    Session,
    cookie::{Cookie, SameSite, time::Duration as CookieDuration},
};

use super::PageError;
use crate::state::AppState;

/// How long a login form may stay open before it has to be loaded again.
const ANONYMOUS_TOKEN_MINUTES: i64 = 60;

fn anonymous_cookie(secure: bool) -> &'static str {
    if secure {
        "__Host-kontor_csrf"
    } else {
        "kontor_csrf"
    }
}

/// The anonymous token the browser brought, if any.
pub fn anonymous_token(headers: &HeaderMap, secure: bool) -> Option<String> {
    super::cookie_value(headers, anonymous_cookie(secure)).filter(|v| v.len() == 43)
}

/// The token for a form shown to a browser without a session: the one it
/// brought, or a new one with the `Set-Cookie` that hands it over.
pub fn anonymous(headers: &HeaderMap, secure: bool) -> (String, Option<HeaderValue>) {
    if let Some(token) = anonymous_token(headers, secure) {
        return (token, None);
    }
    let token = crate::secret::random_token();
    let cookie = Cookie::build((anonymous_cookie(secure), token.clone()))
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .max_age(CookieDuration::minutes(ANONYMOUS_TOKEN_MINUTES))
        .build();
    let value = HeaderValue::from_str(&cookie.to_string()).ok();
    (token, value)
}

/// Largest form body accepted; Kontor's forms are a few hundred bytes.
const MAX_FORM_BYTES: usize = 64 * 1024;

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub async fn protect(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if safe || request.uri().path().starts_with("/api/") {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let Some(session) = parts.extensions.get::<Session>().cloned() else {
        return PageError::internal(anyhow::anyhow!("session layer missing")).into_response();
    };
    let bytes = match to_bytes(body, MAX_FORM_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => {
            // The rest of the body is not read: the connection cannot carry
            // another request.
            let mut response = PageError::TooLarge.into_response();
            response.headers_mut().insert(
                header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
            return response;
        }
    };
    let from_header = parts
        .headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let is_form = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    let from_form = is_form
        .then(|| {
            url::form_urlencoded::parse(&bytes)
                .find(|(k, _)| k == "csrf")
                .map(|(_, v)| v.into_owned())
        })
        .flatten();
    // A session's own token; without one (nobody logged in) the anonymous
    // token of the cookie.
    let expected: Option<String> = match session.get("csrf").await.ok().flatten() {
        Some(token) => Some(token),
        None => anonymous_token(&parts.headers, state.settings.secure_cookies()),
    };
    let presented = from_form.or(from_header);
    let valid = matches!((&expected, &presented), (Some(e), Some(p)) if constant_time_eq(e.as_bytes(), p.as_bytes()));
    if !valid {
        tracing::warn!(path = %parts.uri.path(), "refused form without valid CSRF token");
        return PageError::CsrfRejected.into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}
