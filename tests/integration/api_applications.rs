//! Applications over the API (issue 18): the Betreiber renames them and
//! moves them to another contract of the same customer; the open bookings
//! go along where the new contract's Kontingent takes them, and each
//! contract keeps its own part of the month.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{
    TestApp, assert_forbidden, assert_not_found, assert_problem, assert_refused_by_state,
    assert_validation, expect_json, id, until,
};

api_tests! {
    the_betreiber_renames_an_application_and_its_slug_stays,
    a_move_carries_the_open_bookings_to_the_new_contract_from_now_on,
    a_move_the_new_kontingent_cannot_take_is_refused_and_nothing_moves,
    a_move_needs_another_running_contract_of_the_same_customer,
}

/// A second contract of `customer_id`, through the API.
async fn contract(
    app: &TestApp,
    customer_id: i64,
    valid: (&str, &str),
    vcpu_millicores: i64,
) -> i64 {
    let betreiber = app.token_for("betreiber").await;
    let body = json!({
        "customer_id": customer_id,
        "number": format!("DLV-MV-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]),
        "title": "Zweiter Vertrag", "valid_from": valid.0, "valid_until": valid.1,
        "kostenstelle": "4711-2", "haushaltsstelle": "0610.53100",
        "leitweg_id": "04011000-1234512345-06", "billing_model": "nutzung",
        "kontingent": {"vcpu_millicores": vcpu_millicores, "memory_mib": 65536,
                       "storage_gib": 1000, "monthly_budget_cents": 10_000_000},
    });
    let resp = app.post_json("/api/v1/contracts", &betreiber, &body).await;
    id(&expect_json(resp, StatusCode::CREATED).await)
}

async fn move_to(
    app: &TestApp,
    token: &str,
    application_id: i64,
    contract_id: i64,
) -> reqwest::Response {
    app.post_json(
        &format!("/api/v1/applications/{application_id}/move"),
        token,
        &json!({"contract_id": contract_id}),
    )
    .await
}

/// `(id, contract_id, state, cancelled_at)` of the application's bookings.
async fn bookings_of(app: &TestApp, application_id: i64) -> Vec<(i64, i64, String, Option<i64>)> {
    sqlx::query_as(
        "SELECT id, contract_id, state, cancelled_at FROM bookings WHERE application_id = $1 ORDER BY id",
    )
    .bind(application_id)
    .fetch_all(&app.db().pool)
    .await
    .expect("bookings")
}

async fn the_betreiber_renames_an_application_and_its_slug_stays(app: TestApp) {
    let t = app.contract_with_room(4).await;
    let betreiber = app.token_for("betreiber").await;
    let path = format!("/api/v1/applications/{}", t.application_id);
    let patch = |token: &str, body: Value| {
        app.request(reqwest::Method::PATCH, &path)
            .bearer_auth(token.to_owned())
            .json(&body)
            .send()
    };

    let before = app.counts().await;
    assert_forbidden(patch(&t.token, json!({"name": "Umbenannt"})).await.unwrap()).await;
    assert_validation(
        patch(&betreiber, json!({"name": "  "})).await.unwrap(),
        "name",
    )
    .await;
    assert_eq!(app.counts().await, before, "nothing written on refusal");
    assert_not_found(
        app.request(reqwest::Method::PATCH, "/api/v1/applications/999999")
            .bearer_auth(&betreiber)
            .json(&json!({"name": "Umbenannt"}))
            .send()
            .await
            .unwrap(),
    )
    .await;

    let renamed = expect_json(
        patch(&betreiber, json!({"name": "Elektronische Akte"}))
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(renamed["name"], "Elektronische Akte");
    assert_eq!(
        renamed["slug"], "fachverfahren",
        "the slug names namespaces and stays"
    );
    let read = expect_json(app.get(&path, &t.token).await, StatusCode::OK).await;
    assert_eq!(read["name"], "Elektronische Akte");
    let audit = expect_json(
        app.get(
            &format!(
                "/api/v1/audit?object_type=application&object_id={}",
                t.application_id
            ),
            &betreiber,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let entry = &audit["items"][0];
    assert_eq!(entry["action"], "application.renamed", "{audit}");
    assert!(
        entry["sentence"]
            .as_str()
            .unwrap_or("")
            .contains("Elektronische Akte"),
        "{entry}"
    );
}

async fn a_move_carries_the_open_bookings_to_the_new_contract_from_now_on(app: TestApp) {
    let t = app.contract_with_room(8).await;
    let second = contract(&app, t.customer_id, ("2026-01-01", "2099-12-31"), 8000).await;
    let kept = app
        .book_ok(
            &t.token,
            t.application_id,
            "vorpruefung",
            "container-namespace",
            "M",
        )
        .await;
    let ended = app
        .book_ok(
            &t.token,
            t.application_id,
            "abnahme",
            "container-namespace",
            "S",
        )
        .await;
    expect_json(app.cancel(&t.token, id(&ended)).await, StatusCode::OK).await;
    // The reconciler makes the booking `aktiv` before the move.
    until("the booking is aktiv", async || {
        let rows = bookings_of(&app, t.application_id).await;
        (rows[0].2 == "aktiv").then_some(())
    })
    .await;
    let contract_view = |token: String, contract_id: i64| {
        let app = &app;
        async move {
            expect_json(
                app.get(&format!("/api/v1/contracts/{contract_id}"), &token)
                    .await,
                StatusCode::OK,
            )
            .await
        }
    };
    let old_before = contract_view(t.token.clone(), t.contract_id).await;

    let betreiber = app.token_for("betreiber").await;
    let moved = expect_json(
        move_to(&app, &betreiber, t.application_id, second).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(moved["contract_id"], second, "{moved}");

    let rows = bookings_of(&app, t.application_id).await;
    assert_eq!(rows.len(), 3, "{rows:?}");
    let (old_id, old_contract, old_state, old_end) = &rows[0];
    assert_eq!(
        (*old_id, *old_contract, old_state.as_str()),
        (id(&kept), t.contract_id, "gekuendigt")
    );
    let (_, _, cancelled_state, _) = &rows[1];
    assert_eq!(
        cancelled_state, "gekuendigt",
        "the cancelled booking stays where it was"
    );
    assert_eq!(rows[1].1, t.contract_id);
    let (new_id, new_contract, new_state, new_end) = &rows[2];
    assert_eq!(*new_contract, second);
    assert_eq!(new_state, "aktiv", "the state goes along");
    assert_eq!(*new_end, None);
    let carried = expect_json(
        app.get(&format!("/api/v1/bookings/{new_id}"), &t.token)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(carried["size"], "M");
    assert_eq!(carried["stage"], "vorpruefung");
    assert_eq!(carried["product"], kept["product"]);

    // The old booking's period ends when the new one's starts: no hour is
    // billed twice or lost between the two contracts.
    let (ends,): (Option<i64>,) =
        sqlx::query_as("SELECT MAX(ends_at) FROM booking_periods WHERE booking_id = $1")
            .bind(old_id)
            .fetch_one(&app.db().pool)
            .await
            .unwrap();
    let (starts,): (i64,) =
        sqlx::query_as("SELECT MIN(starts_at) FROM booking_periods WHERE booking_id = $1")
            .bind(new_id)
            .fetch_one(&app.db().pool)
            .await
            .unwrap();
    assert_eq!(ends, Some(starts));
    assert_eq!(*old_end, Some(starts));

    // What was booked under the old contract is now booked under the new.
    let old_after = contract_view(t.token.clone(), t.contract_id).await;
    let new_after = contract_view(t.token.clone(), second).await;
    assert_ne!(
        old_before["used"], old_after["used"],
        "{old_before} {old_after}"
    );
    assert_eq!(
        old_before["used"], new_after["used"],
        "{old_before} {new_after}"
    );

    let audit = expect_json(
        app.get(
            &format!("/api/v1/audit?object_type=booking&object_id={old_id}"),
            &betreiber,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(audit["items"][0]["action"], "booking.moved", "{audit}");
}

async fn a_move_the_new_kontingent_cannot_take_is_refused_and_nothing_moves(app: TestApp) {
    let t = app.contract_with_room(8).await;
    let small = contract(&app, t.customer_id, ("2026-01-01", "2099-12-31"), 100).await;
    app.book_ok(
        &t.token,
        t.application_id,
        "vorpruefung",
        "container-namespace",
        "S",
    )
    .await;
    let betreiber = app.token_for("betreiber").await;
    let before = app.counts().await;
    let rows = bookings_of(&app, t.application_id).await;

    assert_forbidden(move_to(&app, &t.token, t.application_id, small).await).await;
    let refused = assert_problem(
        move_to(&app, &betreiber, t.application_id, small).await,
        StatusCode::CONFLICT,
        "kontingent-exceeded",
    )
    .await;
    assert_eq!(refused["limit"], "vcpu", "{refused}");
    assert_eq!(
        refused["links"][0]["href"],
        format!("/api/v1/contracts/{small}/kontingent-requests"),
        "the refusal offers a request for more on the new contract: {refused}"
    );
    assert_eq!(app.counts().await, before, "nothing written");
    // Where each booking counts and whether it ended; its state may have
    // gone from `beantragt` to `aktiv` meanwhile (the reconciler).
    let placed = |rows: Vec<(i64, i64, String, Option<i64>)>| {
        rows.into_iter()
            .map(|(id, contract, _, ended)| (id, contract, ended))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        placed(bookings_of(&app, t.application_id).await),
        placed(rows)
    );
    let read = expect_json(
        app.get(
            &format!("/api/v1/applications/{}", t.application_id),
            &t.token,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(read["contract_id"], t.contract_id);
}

async fn a_move_needs_another_running_contract_of_the_same_customer(app: TestApp) {
    let t = app.contract_with_room(4).await;
    let other = app.contract_with_room(4).await;
    let ended = contract(&app, t.customer_id, ("2020-01-01", "2020-12-31"), 8000).await;
    app.book_ok(
        &t.token,
        t.application_id,
        "vorpruefung",
        "container-namespace",
        "S",
    )
    .await;
    let betreiber = app.token_for("betreiber").await;
    let before = app.counts().await;

    assert_refused_by_state(
        move_to(&app, &betreiber, t.application_id, other.contract_id).await,
        "contract_id",
    )
    .await;
    assert_refused_by_state(
        move_to(&app, &betreiber, t.application_id, 999_999).await,
        "contract_id",
    )
    .await;
    assert_problem(
        move_to(&app, &betreiber, t.application_id, t.contract_id).await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    assert_problem(
        move_to(&app, &betreiber, t.application_id, ended).await,
        StatusCode::CONFLICT,
        "contract-not-valid",
    )
    .await;
    assert_not_found(move_to(&app, &betreiber, 999_999, t.contract_id).await).await;
    assert_eq!(app.counts().await, before, "nothing written on refusal");
}
