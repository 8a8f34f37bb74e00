//! CSRF protection for every state-changing form: a per-session token in a
//! hidden field `csrf`, checked by middleware before any handler runs, so no
//! form can forget it. (SameSite=Lax cookies already stop most cross-site
//! posts; the token also covers same-site attackers and old browsers.)

use axum::{
    body::{Body, to_bytes},
    extract::Request,
    http::{Method, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use tower_sessions::Session;

use super::PageError;

/// Largest form body accepted; Kontor's forms are a few hundred bytes.
const MAX_FORM_BYTES: usize = 64 * 1024;

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub async fn protect(request: Request, next: Next) -> Response {
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
            let mut response =
                PageError::BadForm("Das Formular ist zu groß.".into()).into_response();
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
    let expected: Option<String> = session.get("csrf").await.ok().flatten();
    let presented = from_form.or(from_header);
    let valid = matches!((&expected, &presented), (Some(e), Some(p)) if constant_time_eq(e.as_bytes(), p.as_bytes()));
    if !valid {
        tracing::warn!(path = %parts.uri.path(), "refused form without valid CSRF token");
        return PageError::CsrfRejected.into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}
