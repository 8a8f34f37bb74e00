//! `Idempotency-Key` on POST /bookings: a retry gets the first booking, a
//! reused key with another body is a conflict, and simultaneous retries still
//! book once.

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::support::{TestApp, assert_problem, assert_validation, expect_json, id};

fn body(application_id: i64, size: &str) -> Value {
    json!({"application_id": application_id, "stage": "vorpruefung", "product": "container-namespace", "size": size})
}

async fn book_with_key(app: &TestApp, token: &str, key: &str, body: &Value) -> Response {
    app.request(Method::POST, "/api/v1/bookings")
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .expect("POST")
}

fn replayed(resp: &Response) -> bool {
    resp.headers()
        .get("idempotent-replayed")
        .is_some_and(|v| v == "true")
}

api_tests! {
    a_retry_with_the_same_idempotency_key_returns_the_first_booking,
    a_replay_is_answered_even_when_the_kontingent_is_now_full,
    the_same_idempotency_key_with_another_body_is_a_conflict,
    ten_simultaneous_requests_with_one_idempotency_key_make_one_booking,
    idempotency_keys_belong_to_their_user,
    an_unusable_idempotency_key_is_refused,
    simultaneous_retries_that_fill_the_contract_all_get_the_one_booking,
}

async fn a_retry_with_the_same_idempotency_key_returns_the_first_booking(app: TestApp) {
    let t = app.contract_with_room(20).await;
    let before = app.counts().await;

    let first = book_with_key(&app, &t.token, "auftrag-4711", &body(t.application_id, "S")).await;
    assert!(!replayed(&first));
    let first = expect_json(first, StatusCode::CREATED).await;

    let second = book_with_key(&app, &t.token, "auftrag-4711", &body(t.application_id, "S")).await;
    assert!(replayed(&second), "the retry says it is a replay");
    let second = expect_json(second, StatusCode::CREATED).await;
    assert_eq!(id(&second), id(&first));

    let after = app.counts().await;
    assert_eq!(after.bookings - before.bookings, 1, "one booking");
    assert_eq!(after.idempotency_keys - before.idempotency_keys, 1);
    assert_eq!(after.audit - before.audit, 1);

    // Another key is another booking.
    let third = expect_json(
        book_with_key(&app, &t.token, "auftrag-4712", &body(t.application_id, "S")).await,
        StatusCode::CREATED,
    )
    .await;
    assert_ne!(id(&third), id(&first));
}

async fn a_replay_is_answered_even_when_the_kontingent_is_now_full(app: TestApp) {
    let t = app.contract_with_room(2).await;
    let first = expect_json(
        book_with_key(&app, &t.token, "k1", &body(t.application_id, "S")).await,
        StatusCode::CREATED,
    )
    .await;
    let retry = book_with_key(&app, &t.token, "k1", &body(t.application_id, "S")).await;
    assert!(replayed(&retry));
    assert_eq!(
        id(&expect_json(retry, StatusCode::CREATED).await),
        id(&first)
    );
    // Without the key it is a new booking, and there is no room for it.
    let resp = app
        .book(
            &t.token,
            t.application_id,
            "vorpruefung",
            "container-namespace",
            "S",
        )
        .await;
    assert_problem(resp, StatusCode::CONFLICT, "kontingent-exceeded").await;
}

async fn the_same_idempotency_key_with_another_body_is_a_conflict(app: TestApp) {
    let t = app.contract_with_room(20).await;
    expect_json(
        book_with_key(&app, &t.token, "einmalig", &body(t.application_id, "S")).await,
        StatusCode::CREATED,
    )
    .await;
    let before = app.counts().await;
    let resp = book_with_key(&app, &t.token, "einmalig", &body(t.application_id, "M")).await;
    assert_problem(resp, StatusCode::CONFLICT, "conflict").await;
    assert_eq!(app.counts().await, before, "nothing written");
}

async fn ten_simultaneous_requests_with_one_idempotency_key_make_one_booking(app: TestApp) {
    let t = app.contract_with_room(20).await;
    let before = app.counts().await;
    let mut requests = JoinSet::new();
    for _ in 0..10 {
        let (app, t) = (app.clone(), t.clone());
        requests.spawn(async move {
            let resp =
                book_with_key(&app, &t.token, "gleichzeitig", &body(t.application_id, "S")).await;
            let was_replay = replayed(&resp);
            (was_replay, expect_json(resp, StatusCode::CREATED).await)
        });
    }
    let mut answers = Vec::new();
    while let Some(answer) = requests.join_next().await {
        answers.push(answer.expect("request task"));
    }
    let first_id = id(&answers[0].1);
    assert!(
        answers.iter().all(|(_, b)| id(b) == first_id),
        "all ten get the same booking"
    );
    assert_eq!(
        answers.iter().filter(|(r, _)| !r).count(),
        1,
        "exactly one is not a replay"
    );

    let after = app.counts().await;
    assert_eq!(after.bookings - before.bookings, 1, "one booking");
    assert_eq!(after.periods - before.periods, 1);
    assert_eq!(after.audit - before.audit, 1);
    assert_eq!(after.idempotency_keys - before.idempotency_keys, 1);
    assert_eq!(app.open_bookings(t.contract_id).await, 1);
}

async fn idempotency_keys_belong_to_their_user(app: TestApp) {
    let a = app.contract_with_room(20).await;
    let b = app.contract_with_room(20).await;
    let first = expect_json(
        book_with_key(&app, &a.token, "gleich", &body(a.application_id, "S")).await,
        StatusCode::CREATED,
    )
    .await;
    let other = book_with_key(&app, &b.token, "gleich", &body(b.application_id, "S")).await;
    assert!(!replayed(&other));
    let other = expect_json(other, StatusCode::CREATED).await;
    assert_ne!(id(&other), id(&first));
    assert_eq!(other["customer_id"], b.customer_id);
}

async fn an_unusable_idempotency_key_is_refused(app: TestApp) {
    let t = app.contract_with_room(20).await;
    let before = app.counts().await;
    let long = "x".repeat(256);
    for key in ["", "mit leerzeichen", long.as_str()] {
        let resp = book_with_key(&app, &t.token, key, &body(t.application_id, "S")).await;
        assert_validation(resp, "Idempotency-Key").await;
    }
    // Not even ASCII.
    let resp = app
        .request(Method::POST, "/api/v1/bookings")
        .bearer_auth(&t.token)
        .header(
            "Idempotency-Key",
            reqwest::header::HeaderValue::from_bytes(b"schl\xfcssel").unwrap(),
        )
        .json(&body(t.application_id, "S"))
        .send()
        .await
        .unwrap();
    assert_validation(resp, "Idempotency-Key").await;
    assert_eq!(app.counts().await, before, "nothing written");
    // The longest allowed key works.
    let max = "y".repeat(255);
    expect_json(
        book_with_key(&app, &t.token, &max, &body(t.application_id, "S")).await,
        StatusCode::CREATED,
    )
    .await;
}

/// Retries that race each other must not be judged as new bookings: with
/// room for exactly one, every retry still gets the one booking rather
/// than a kontingent-exceeded.
async fn simultaneous_retries_that_fill_the_contract_all_get_the_one_booking(app: TestApp) {
    let t = app.contract_with_room(2).await;
    let before = app.counts().await;
    let mut requests = JoinSet::new();
    for _ in 0..10 {
        let (app, t) = (app.clone(), t.clone());
        requests.spawn(async move {
            let resp = book_with_key(&app, &t.token, "voll", &body(t.application_id, "S")).await;
            expect_json(resp, StatusCode::CREATED).await
        });
    }
    let mut ids = Vec::new();
    while let Some(answer) = requests.join_next().await {
        ids.push(id(&answer.expect("request task")));
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 1, "all ten get the same booking");
    assert_eq!(app.counts().await.bookings - before.bookings, 1);
}
