//! What every API request goes through before its handler: the whole body
//! is read first, and text that people or programs send is checked for
//! control characters once, here.
//!
//! Reading the body up front matters for keep-alive: a handler that answers
//! early (a 404 for an unknown id, a 403) without reading the body would
//! leave its bytes on the connection, and the client's next request on it
//! would be read as garbage and never answered. A body over the limit is
//! refused with 413 and `Connection: close`, since its rest is not read.

use axum::{
    body::{Body, Bytes, to_bytes},
    extract::Request,
    http::{HeaderValue, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use serde_json::Value;

use super::problem::Problem;
use crate::domain::text::has_control;

/// Largest body the API reads (axum's default for its extractors).
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

pub async fn read_whole(request: Request, next: Next) -> Response {
    if let Some(field) = request.uri().query().and_then(control_in_query) {
        return Problem::validation(&field, crate::web::lang::t("api-query-control"))
            .into_response();
    }
    // `?=1`: a value without a name is no parameter any operation has.
    if request
        .uri()
        .query()
        .is_some_and(|q| url::form_urlencoded::parse(q.as_bytes()).any(|(k, _)| k.is_empty()))
    {
        return Problem::validation("query", crate::web::lang::t("api-query-unnamed"))
            .into_response();
    }
    let (parts, body) = request.into_parts();
    let bytes = match to_bytes(body, MAX_BODY_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => {
            let mut response = Problem::new(
                axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                crate::web::lang::t("problem-detail-payload-too-large"),
            )
            .into_response();
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            return response;
        }
    };
    if let Some(field) = control_in_json(&bytes) {
        return Problem::validation(&field, crate::web::lang::t("invalid-text-control"))
            .into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// The first query parameter whose name or value holds a control character.
fn control_in_query(query: &str) -> Option<String> {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, v)| has_control(k) || has_control(v))
        .map(|(k, _)| {
            if has_control(&k) {
                "query".to_owned()
            } else {
                k.into_owned()
            }
        })
}

/// The path (`checksums.app`, `items[2]`) of the first string in a JSON
/// body that holds a control character; nothing for a body that is not
/// JSON (the handler says what is wrong with it).
fn control_in_json(body: &Bytes) -> Option<String> {
    let value: Value = serde_json::from_slice(body).ok()?;
    find_control(&value, "")
}

fn find_control(value: &Value, path: &str) -> Option<String> {
    let field = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    match value {
        Value::String(s) if has_control(s) => Some(if path.is_empty() {
            "body".to_owned()
        } else {
            path.to_owned()
        }),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| find_control(v, &format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            if has_control(k) {
                Some(if path.is_empty() {
                    "body".to_owned()
                } else {
                    path.to_owned()
                })
            } else {
                find_control(v, &field(k))
            }
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(s: &str) -> Option<String> {
        control_in_json(&Bytes::copy_from_slice(s.as_bytes()))
    }

    #[test]
    fn a_nul_anywhere_in_a_json_body_names_its_field() {
        assert_eq!(
            json(r#"{"product": "a\u0000b"}"#).as_deref(),
            Some("product")
        );
        assert_eq!(
            json(r#"{"checksums": {"app": "sha256:\u0007"}}"#).as_deref(),
            Some("checksums.app")
        );
        assert_eq!(json(r#"{"x": ["ok", "\u001b"]}"#).as_deref(), Some("x[1]"));
        assert_eq!(json(r#"{"k\u0000": 1}"#).as_deref(), Some("body"));
    }

    #[test]
    fn line_breaks_and_plain_text_pass() {
        assert_eq!(json(r#"{"reason": "erste Zeile\r\nzweite\tZeile"}"#), None);
        assert_eq!(json(r#"{"size": "M"}"#), None);
        assert_eq!(json("not json"), None);
    }

    #[test]
    fn a_control_character_in_the_query_names_the_parameter() {
        assert_eq!(control_in_query("product=%00x").as_deref(), Some("product"));
        assert_eq!(control_in_query("a=1&b=%1B").as_deref(), Some("b"));
        assert_eq!(control_in_query("month=2026-11"), None);
    }
}
