//! Assertions on answers: status, JSON body, problem+json kinds.

use reqwest::{Response, StatusCode, header};
use serde_json::Value;

// ----- assertions ---------------------------------------------------------

/// Insists on `status` and a JSON body, and returns the body.
pub async fn expect_json(resp: Response, status: StatusCode) -> Value {
    let actual = resp.status();
    let url = resp.url().path().to_owned();
    let text = resp.text().await.expect("body");
    assert_eq!(actual, status, "{url}: unexpected status; body: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{url}: body is not JSON ({e}): {text}"))
}

/// Insists on a problem+json answer of this status and kind (the last part
/// of `urn:kontor:problem:<kind>`); returns the problem document.
pub async fn assert_problem(resp: Response, status: StatusCode, kind: &str) -> Value {
    let content_type = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let problem = expect_json(resp, status).await;
    assert_eq!(
        content_type, "application/problem+json",
        "problem: {problem}"
    );
    assert_eq!(
        problem["type"],
        format!("urn:kontor:problem:{kind}"),
        "problem: {problem}"
    );
    assert_eq!(problem["status"], status.as_u16(), "problem: {problem}");
    assert!(problem["title"].is_string(), "problem: {problem}");
    assert!(problem["detail"].is_string(), "problem: {problem}");
    problem
}

pub async fn assert_not_found(resp: Response) -> Value {
    assert_problem(resp, StatusCode::NOT_FOUND, "not-found").await
}

pub async fn assert_forbidden(resp: Response) -> Value {
    assert_problem(resp, StatusCode::FORBIDDEN, "forbidden").await
}

/// A 422 that names `field` among its field errors.
pub async fn assert_validation(resp: Response, field: &str) -> Value {
    field_refusal(resp, StatusCode::UNPROCESSABLE_ENTITY, field).await
}

/// A well-formed request that the state of things refuses (a slug taken, a
/// size booked already, a month not begun): 409 with the `validation`
/// problem and a message for `field`.
pub async fn assert_refused_by_state(resp: Response, field: &str) -> Value {
    field_refusal(resp, StatusCode::CONFLICT, field).await
}

async fn field_refusal(resp: Response, status: StatusCode, field: &str) -> Value {
    let problem = assert_problem(resp, status, "validation").await;
    let errors = problem["errors"].as_array().expect("errors array");
    assert!(
        errors
            .iter()
            .any(|e| e["field"] == field && e["message"].is_string()),
        "expected a message for {field}: {problem}"
    );
    problem
}

pub async fn assert_unauthorized(resp: Response) -> Value {
    let challenge = resp
        .headers()
        .get(header::WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let problem = assert_problem(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
    assert!(
        challenge.starts_with("Bearer"),
        "401 must carry a Bearer challenge, got {challenge:?}"
    );
    problem
}

/// The id of a JSON object.
pub fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap_or_else(|| panic!("no id in {v}"))
}
