//! The Kontingent holds: alone, against a full contract, and under a hundred
//! simultaneous bookings.

use reqwest::StatusCode;
use tokio::task::JoinSet;

use crate::support::{ContractSpec, TestApp, assert_problem, expect_json, id};

api_tests! {
    a_hundred_simultaneous_bookings_against_room_for_ten_give_exactly_ten,
    a_booking_past_the_kontingent_is_refused_with_the_limit,
    storage_and_the_monthly_budget_are_ceilings_too,
    a_cancelled_booking_gives_its_room_back,
}

/// The design's promise: a hundred simultaneous bookings against a
/// contract with room for ten give exactly ten.
async fn a_hundred_simultaneous_bookings_against_room_for_ten_give_exactly_ten(app: TestApp) {
    // container-namespace S is 2 vCPU; 20 vCPU is room for ten.
    let t = app.contract_with_room(20).await;
    let before = app.counts().await;

    let mut requests = JoinSet::new();
    for _ in 0..100 {
        let (app, t) = (app.clone(), t.clone());
        requests.spawn(async move {
            app.book(
                &t.token,
                t.application_id,
                "vorpruefung",
                "container-namespace",
                "S",
            )
            .await
        });
    }
    let (mut created, mut refused) = (Vec::new(), 0);
    while let Some(resp) = requests.join_next().await {
        let resp = resp.expect("request task");
        match resp.status() {
            StatusCode::CREATED => created.push(id(&expect_json(resp, StatusCode::CREATED).await)),
            StatusCode::CONFLICT => {
                let p = assert_problem(resp, StatusCode::CONFLICT, "kontingent-exceeded").await;
                assert_eq!(p["limit"], "vcpu", "{p}");
                assert_eq!(p["requested"], 2000, "{p}");
                assert_eq!(p["remaining"], 0, "{p}");
                refused += 1;
            }
            other => panic!(
                "unexpected {other}: {}",
                resp.text().await.unwrap_or_default()
            ),
        }
    }
    created.sort_unstable();
    created.dedup();
    assert_eq!(created.len(), 10, "exactly ten bookings succeed");
    assert_eq!(refused, 90, "the other ninety are refused");

    assert_eq!(app.open_bookings(t.contract_id).await, 10);
    let after = app.counts().await;
    assert_eq!(after.bookings - before.bookings, 10);
    assert_eq!(after.periods - before.periods, 10);
    assert_eq!(
        after.audit - before.audit,
        10,
        "one audit entry per booking, none for refusals"
    );

    let list = expect_json(
        app.get("/api/v1/bookings?limit=200", &t.token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(list["total"], 10);
    let mut listed: Vec<i64> = list["items"].as_array().unwrap().iter().map(id).collect();
    listed.sort_unstable();
    assert_eq!(listed, created);

    let contract = expect_json(
        app.get(&format!("/api/v1/contracts/{}", t.contract_id), &t.token)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(contract["used"]["vcpu_millicores"], 20_000);
    assert_eq!(contract["remaining"]["vcpu_millicores"], 0);
}

async fn a_booking_past_the_kontingent_is_refused_with_the_limit(app: TestApp) {
    let t = app.contract_with_room(3).await;
    app.book_ok(
        &t.token,
        t.application_id,
        "vorpruefung",
        "container-namespace",
        "S",
    )
    .await;
    let before = app.counts().await;

    let resp = app
        .book(
            &t.token,
            t.application_id,
            "abnahme",
            "container-namespace",
            "S",
        )
        .await;
    let p = assert_problem(resp, StatusCode::CONFLICT, "kontingent-exceeded").await;
    assert_eq!(p["limit"], "vcpu", "{p}");
    assert_eq!(p["requested"], 2000, "{p}");
    assert_eq!(p["remaining"], 1000, "{p}");
    assert_eq!(app.counts().await, before, "a refusal writes nothing");
}

async fn storage_and_the_monthly_budget_are_ceilings_too(app: TestApp) {
    let storage = app
        .tenant(ContractSpec {
            max_storage_gib: 60,
            ..ContractSpec::default()
        })
        .await;
    app.book_ok(
        &storage.token,
        storage.application_id,
        "produktion",
        "persistent-storage",
        "S",
    )
    .await;
    let resp = app
        .book(
            &storage.token,
            storage.application_id,
            "abnahme",
            "persistent-storage",
            "S",
        )
        .await;
    let p = assert_problem(resp, StatusCode::CONFLICT, "kontingent-exceeded").await;
    assert_eq!(
        (
            p["limit"].as_str(),
            p["requested"].as_i64(),
            p["remaining"].as_i64()
        ),
        (Some("storage"), Some(50), Some(10)),
        "{p}"
    );

    // S costs 0,1180 € × 730 h = 86,14 € a month; 100 € fit it once.
    let budget = app
        .tenant(ContractSpec {
            monthly_budget: "100,00".into(),
            ..ContractSpec::default()
        })
        .await;
    app.book_ok(
        &budget.token,
        budget.application_id,
        "vorpruefung",
        "container-namespace",
        "S",
    )
    .await;
    let before = app.counts().await;
    let resp = app
        .book(
            &budget.token,
            budget.application_id,
            "abnahme",
            "container-namespace",
            "S",
        )
        .await;
    let p = assert_problem(resp, StatusCode::CONFLICT, "kontingent-exceeded").await;
    assert_eq!(
        (
            p["limit"].as_str(),
            p["requested"].as_i64(),
            p["remaining"].as_i64()
        ),
        (Some("monthly_budget"), Some(8614), Some(1386)),
        "{p}"
    );
    assert_eq!(app.counts().await, before);
}

async fn a_cancelled_booking_gives_its_room_back(app: TestApp) {
    let t = app.contract_with_room(2).await;
    let first = app
        .book_ok(
            &t.token,
            t.application_id,
            "vorpruefung",
            "container-namespace",
            "S",
        )
        .await;
    let resp = app
        .book(
            &t.token,
            t.application_id,
            "abnahme",
            "container-namespace",
            "S",
        )
        .await;
    assert_problem(resp, StatusCode::CONFLICT, "kontingent-exceeded").await;

    expect_json(app.cancel(&t.token, id(&first)).await, StatusCode::OK).await;
    app.book_ok(
        &t.token,
        t.application_id,
        "abnahme",
        "container-namespace",
        "S",
    )
    .await;
    assert_eq!(app.open_bookings(t.contract_id).await, 1);
}
