//! problem+json in the caller's language: the `title` of every kind and
//! the details that are the same every time follow `Accept-Language`;
//! without it they are German. The `type` never changes.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::TestApp;

api_tests! {
    problem_titles_and_fixed_details_follow_accept_language,
}

async fn problem(
    app: &TestApp,
    token: &str,
    lang: Option<&str>,
    method: Method,
    path: &str,
    body: Option<&str>,
) -> (StatusCode, Value) {
    let mut req = app.request(method, path).bearer_auth(token);
    if let Some(lang) = lang {
        req = req.header("Accept-Language", lang);
    }
    if let Some(body) = body {
        req = req
            .header("Content-Type", "application/json")
            .body(body.to_owned());
    }
    let resp = req.send().await.expect("request");
    let status = resp.status();
    assert_eq!(
        resp.headers()["content-type"],
        "application/problem+json",
        "{path}"
    );
    (status, resp.json().await.expect("problem+json"))
}

async fn problem_titles_and_fixed_details_follow_accept_language(app: TestApp) {
    let token = app.token_for("systempfleger").await;
    let english = Some("en-GB,en;q=0.9,de;q=0.5");

    // Not found: title and detail.
    let (status, en) = problem(
        &app,
        &token,
        english,
        Method::GET,
        "/api/v1/bookings/999999",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(en["type"], "urn:kontor:problem:not-found");
    assert_eq!(en["title"], "Not found");
    assert_eq!(
        en["detail"],
        "This object does not exist or does not belong to your area."
    );
    let (_, de) = problem(
        &app,
        &token,
        None,
        Method::GET,
        "/api/v1/bookings/999999",
        None,
    )
    .await;
    assert_eq!(de["type"], en["type"]);
    assert_eq!(de["title"], "Nicht gefunden");
    assert_eq!(
        de["detail"],
        "Dieses Objekt gibt es nicht oder es gehört nicht zu Ihrem Bereich."
    );
    // German ranked first wins.
    let (_, de_first) = problem(
        &app,
        &token,
        Some("de-DE,en;q=0.8"),
        Method::GET,
        "/api/v1/bookings/999999",
        None,
    )
    .await;
    assert_eq!(de_first["title"], "Nicht gefunden");

    // A body that is no JSON, and a validation refusal: the title follows
    // the language, the type and the field stay.
    let (status, en) = problem(
        &app,
        &token,
        english,
        Method::POST,
        "/api/v1/bookings",
        Some("{"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(en["type"], "urn:kontor:problem:malformed-body");
    assert_eq!(en["title"], "Malformed content");
    assert!(
        en["detail"]
            .as_str()
            .unwrap()
            .starts_with("The content is not valid JSON: "),
        "{en}"
    );
    let body = json!({ "application_id": 1, "stage": "nirgendwo", "product": "container-namespace", "size": "M" }).to_string();
    let (status, en) = problem(
        &app,
        &token,
        english,
        Method::POST,
        "/api/v1/bookings",
        Some(&body),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{en}");
    assert_eq!(en["type"], "urn:kontor:problem:validation");
    assert_eq!(en["title"], "Invalid input");
    assert_eq!(en["errors"][0]["field"], "stage", "{en}");
    let (_, de) = problem(
        &app,
        &token,
        None,
        Method::POST,
        "/api/v1/bookings",
        Some(&body),
    )
    .await;
    assert_eq!(de["title"], "Ungültige Eingabe");

    // Without a token: 401 in English.
    let resp = app
        .request(Method::GET, "/api/v1/bookings")
        .header("Accept-Language", "en")
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let en: Value = resp.json().await.expect("problem+json");
    assert_eq!(en["title"], "Authentication required", "{en}");

    // A method the address does not have.
    let (status, en) = problem(
        &app,
        &token,
        Some("en"),
        Method::PATCH,
        "/api/v1/bookings",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(en["title"], "Method not allowed");
    assert_eq!(en["detail"], "This address does not support the method.");
}
