//! The messages of the use cases (`src/app`) in the caller's language: a
//! contract refusal, a conflict and a validation message over the API with
//! `Accept-Language: en`, a form's messages on an English page; without a
//! preference the same answers stay German, word for word.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{Browser, ENGLISH, TestApp, assert_problem, expect_json, id};

api_tests! {
    api_refusals_of_the_use_cases_follow_accept_language,
    a_forms_messages_follow_the_pages_language,
}

async fn api_refusals_of_the_use_cases_follow_accept_language(app: TestApp) {
    let english = Some(ENGLISH);

    // A contract refusal: the contract ended in 2020.
    let expired = app.expired_contract().await;
    let booking = json!({
        "application_id": expired.application_id, "stage": "abnahme",
        "product": "container-namespace", "size": "M",
    });
    for (lang, start, end) in [
        (
            english,
            "Contract DLV-T-",
            " is valid from 2020-01-01 to 2020-12-31; nothing can be booked under it today.",
        ),
        (
            None,
            "Der Vertrag DLV-T-",
            " gilt vom 2020-01-01 bis 2020-12-31; heute kann darunter nicht gebucht werden.",
        ),
    ] {
        let resp = app
            .request_in(lang, Method::POST, "/api/v1/bookings", &expired.token)
            .json(&booking)
            .send()
            .await
            .expect("booking");
        let problem = assert_problem(resp, StatusCode::CONFLICT, "contract-not-valid").await;
        let detail = problem["detail"].as_str().expect("detail");
        assert!(
            detail.starts_with(start) && detail.ends_with(end),
            "{lang:?}: {detail}"
        );
    }

    // A conflict: cancelling a booking a second time.
    let t = app.contract_with_room(20).await;
    let b = app
        .book_ok(
            &t.token,
            t.application_id,
            "schulung",
            "container-namespace",
            "M",
        )
        .await;
    expect_json(app.cancel(&t.token, id(&b)).await, StatusCode::OK).await;
    let cancel = format!("/api/v1/bookings/{}/cancel", id(&b));
    for (lang, detail) in [
        (english, "This booking has already been cancelled."),
        (None, "Diese Buchung ist bereits gekündigt."),
    ] {
        let resp = app
            .request_in(lang, Method::POST, &cancel, &t.token)
            .send()
            .await
            .expect("cancel");
        let problem = assert_problem(resp, StatusCode::CONFLICT, "conflict").await;
        assert_eq!(problem["detail"], detail, "{lang:?}");
    }

    // A validation message: an order the list does not have.
    for (lang, start, end) in [
        (
            english,
            "Can be sorted by: id, ",
            " (with a leading “-” for descending order).",
        ),
        (
            None,
            "Sortierbar nach: id, ",
            " (mit „-“ davor absteigend).",
        ),
    ] {
        let resp = app
            .request_in(
                lang,
                Method::GET,
                "/api/v1/bookings?sort=passwort",
                &t.token,
            )
            .send()
            .await
            .expect("list");
        let problem = assert_problem(resp, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(problem["errors"][0]["field"], "sort", "{problem}");
        let message = problem["errors"][0]["message"].as_str().expect("message");
        assert!(
            message.starts_with(start) && message.ends_with(end),
            "{lang:?}: {message}"
        );
    }
}

async fn a_forms_messages_follow_the_pages_language(app: TestApp) {
    let browser = Browser::log_in(&app, "systempfleger").await;
    let form = [("name", ""), ("expires_on", "2020-01-01")];

    let (status, html) = browser.post("/api-tokens", &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(
        html.contains(
            "Bitte geben Sie dem Token einen Namen, z. B. den des Systems, das es nutzt."
        ),
        "{html}"
    );
    assert!(
        html.contains("Das Ablaufdatum muss in der Zukunft liegen."),
        "{html}"
    );

    let (status, _) = browser.get("/sprache?zu=en&zurueck=/api-tokens").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, html) = browser.post("/api-tokens", &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(
        html.contains("Please give the token a name, e.g. that of the system using it."),
        "{html}"
    );
    assert!(
        html.contains("The expiry date must be in the future."),
        "{html}"
    );
    assert!(!html.contains("Ablaufdatum"), "{html}");
}
