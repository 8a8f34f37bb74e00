//! The booking lifecycle through the API: book, resize (periods history),
//! cancel, and the audit entry each change leaves.

use kontor::{app, db::audit, seed};
use reqwest::{StatusCode, header};
use serde_json::Value;

use crate::support::{
    ContractSpec, TestApp, assert_problem, assert_refused_by_state, assert_validation, expect_json,
    id,
};

async fn booking(app: &TestApp, token: &str, booking_id: i64) -> Value {
    expect_json(
        app.get(&format!("/api/v1/bookings/{booking_id}"), token)
            .await,
        StatusCode::OK,
    )
    .await
}

/// A booking as it reads once the reconciler has it: aktiv (unless
/// cancelled) and ready.
fn provisioned(b: &Value) -> Value {
    let mut b = b.clone();
    if b["state"] == "beantragt" {
        b["state"] = "aktiv".into();
    }
    b["provisioning"] = serde_json::json!({"state": "bereit"});
    b
}

fn periods(booking: &Value) -> &Vec<Value> {
    booking["periods"]
        .as_array()
        .unwrap_or_else(|| panic!("no periods in {booking}"))
}

/// Lowers or moves a contract as the Betreiber would in the portal
/// (confirming a ceiling below what is booked).
async fn change_contract(
    app: &TestApp,
    contract_id: i64,
    change: impl FnOnce(&mut kontor::domain::contract::Terms),
) {
    let system = seed::system_user(app.db()).await.unwrap();
    let contract = app::contracts::get(app.db(), &system, contract_id)
        .await
        .unwrap();
    let mut terms = contract.terms().unwrap();
    change(&mut terms);
    app::contracts::update(
        app.db(),
        &system,
        contract_id,
        &terms,
        None,
        true,
        kontor::db::now(),
    )
    .await
    .unwrap();
}

api_tests! {
    a_new_booking_is_active_with_one_open_period_and_an_audit_entry,
    a_resize_closes_the_current_period_and_opens_the_next,
    resizing_past_the_kontingent_is_refused_and_changes_nothing,
    shrinking_always_works_even_below_a_lowered_ceiling_or_after_the_contract_ended,
    resizing_to_the_current_or_an_unknown_size_is_a_validation_error,
    a_cancelled_booking_is_gekuendigt_and_cannot_be_cancelled_or_resized_again,
    a_contract_that_has_ended_or_not_begun_takes_no_bookings,
}

async fn a_new_booking_is_active_with_one_open_period_and_an_audit_entry(app: TestApp) {
    let t = app.contract_with_room(20).await;
    let resp = app
        .book(
            &t.token,
            t.application_id,
            "abnahme",
            "container-namespace",
            "S",
        )
        .await;
    let location = resp
        .headers()
        .get(header::LOCATION)
        .map(|v| v.to_str().unwrap().to_owned());
    assert!(resp.headers().get("idempotent-replayed").is_none());
    let b = expect_json(resp, StatusCode::CREATED).await;
    assert_eq!(location, Some(format!("/api/v1/bookings/{}", id(&b))));
    assert_eq!(b["customer_id"], t.customer_id);
    assert_eq!(b["contract_id"], t.contract_id);
    assert_eq!(b["application_id"], t.application_id);
    assert_eq!(b["stage"], "abnahme");
    assert_eq!(b["product"], "container-namespace");
    assert_eq!(b["size"], "S");
    // Accepted, not yet provisioned: the reconciler makes it aktiv. POST
    // reads its answer back after the commit, which woke the reconciler; on
    // a busy machine the reconciler may have finished first, and then the
    // answer says so (the audit entry below shows what was created).
    match (b["state"].as_str(), b["provisioning"]["state"].as_str()) {
        (Some("beantragt"), Some("laeuft" | "bereit")) | (Some("aktiv"), Some("bereit")) => {}
        other => panic!("a new booking answered {other:?}: {b}"),
    }
    assert_eq!(b["resources"]["millicpu"], 2000);
    assert_eq!(b["resources"]["memory_mib"], 8192);
    assert_eq!(b["price_per_hour"], "0.1180");
    assert_eq!(b["price_per_month_cents"], 8614);
    assert!(b.get("cancelled_at").is_none());
    let p = periods(&b);
    assert_eq!(p.len(), 1);
    assert_eq!(p[0]["size"], "S");
    assert!(p[0].get("ends_at").is_none());

    // Once the reconciler has it, the booking is aktiv and otherwise
    // exactly what POST answered.
    app.settle().await;
    assert_eq!(booking(&app, &t.token, id(&b)).await, provisioned(&b));
    let log = audit::for_object(&app.db().pool, "booking", id(&b))
        .await
        .unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].action, "booking.created");
    let created: serde_json::Value =
        serde_json::from_str(log[0].after_json.as_deref().unwrap()).unwrap();
    assert_eq!(created["state"], "beantragt", "created as beantragt");
    assert_eq!(log[0].via.as_str(), "token");
    assert!(log[0].actor.contains(&t.login), "actor {:?}", log[0].actor);
    assert_eq!(log[1].action, "booking.provisioned");
    assert_eq!(log[1].via.as_str(), "system");
}

async fn a_resize_closes_the_current_period_and_opens_the_next(app: TestApp) {
    let t = app.contract_with_room(20).await;
    let b = app
        .book_ok(
            &t.token,
            t.application_id,
            "produktion",
            "container-namespace",
            "S",
        )
        .await;
    let booking_id = id(&b);

    let resized = expect_json(app.resize(&t.token, booking_id, "M").await, StatusCode::OK).await;
    assert_eq!(resized["size"], "M");
    assert_eq!(resized["resources"]["millicpu"], 4000);
    assert_eq!(resized["price_per_hour"], "0.2360");
    let p = periods(&resized);
    assert_eq!(p.len(), 2);
    assert_eq!(
        (p[0]["size"].as_str(), p[1]["size"].as_str()),
        (Some("S"), Some("M"))
    );
    assert_eq!(p[0]["ends_at"], p[1]["starts_at"], "no gap and no overlap");
    assert!(p[1].get("ends_at").is_none(), "the new period is open");

    let resized = expect_json(app.resize(&t.token, booking_id, "L").await, StatusCode::OK).await;
    let p = periods(&resized);
    assert_eq!(
        p.iter()
            .map(|p| p["size"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["S", "M", "L"]
    );
    assert_eq!(p.iter().filter(|p| p.get("ends_at").is_none()).count(), 1);
    app.settle().await;
    assert_eq!(
        booking(&app, &t.token, booking_id).await,
        provisioned(&resized)
    );

    let log: Vec<_> = audit::for_object(&app.db().pool, "booking", booking_id)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.action != "booking.provisioned")
        .collect();
    let actions: Vec<&str> = log.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(
        actions,
        ["booking.created", "booking.resized", "booking.resized"]
    );
    let before: Value = serde_json::from_str(log[1].before_json.as_deref().unwrap()).unwrap();
    let after: Value = serde_json::from_str(log[1].after_json.as_deref().unwrap()).unwrap();
    assert_eq!(
        (before["size"].as_str(), after["size"].as_str()),
        (Some("S"), Some("M"))
    );
}

async fn resizing_past_the_kontingent_is_refused_and_changes_nothing(app: TestApp) {
    let t = app.contract_with_room(20).await;
    app.book_ok(
        &t.token,
        t.application_id,
        "produktion",
        "container-namespace",
        "L",
    )
    .await; // 8
    let b = app
        .book_ok(
            &t.token,
            t.application_id,
            "abnahme",
            "container-namespace",
            "M",
        )
        .await; // 4
    app.settle().await;
    let before_state = booking(&app, &t.token, id(&b)).await;
    let before = app.counts().await;

    // M → XL grows by 12 vCPU; 8 remain.
    let p = assert_problem(
        app.resize(&t.token, id(&b), "XL").await,
        StatusCode::CONFLICT,
        "kontingent-exceeded",
    )
    .await;
    assert_eq!(
        (
            p["limit"].as_str(),
            p["requested"].as_i64(),
            p["remaining"].as_i64()
        ),
        (Some("vcpu"), Some(12_000), Some(8_000)),
        "{p}"
    );
    assert_eq!(app.counts().await, before);
    assert_eq!(booking(&app, &t.token, id(&b)).await, before_state);
    assert_eq!(app.audit_actions(id(&b)).await, ["booking.created"]);

    // M → L grows by 4 of the 8 vCPU left: that fits.
    expect_json(app.resize(&t.token, id(&b), "L").await, StatusCode::OK).await;
}

async fn shrinking_always_works_even_below_a_lowered_ceiling_or_after_the_contract_ended(
    app: TestApp,
) {
    let t = app.contract_with_room(20).await;
    let b = app
        .book_ok(
            &t.token,
            t.application_id,
            "produktion",
            "container-namespace",
            "XL",
        )
        .await; // 16
    // The Betreiber lowers the ceiling below what is booked.
    change_contract(&app, t.contract_id, |c| c.kontingent.millicpu = 4_000).await;

    let shrunk = expect_json(app.resize(&t.token, id(&b), "L").await, StatusCode::OK).await;
    assert_eq!(shrunk["size"], "L");
    let p = assert_problem(
        app.resize(&t.token, id(&b), "XL").await,
        StatusCode::CONFLICT,
        "kontingent-exceeded",
    )
    .await;
    assert_eq!(
        p["remaining"], 0,
        "an over-committed contract reports no room, not negative room: {p}"
    );

    // The contract ends; shrinking still works, growing does not.
    change_contract(&app, t.contract_id, |c| {
        c.kontingent.millicpu = 100_000;
        c.validity.from = "2020-01-01".parse().unwrap();
        c.validity.until = "2020-12-31".parse().unwrap();
    })
    .await;
    expect_json(app.resize(&t.token, id(&b), "M").await, StatusCode::OK).await;
    let before = app.counts().await;
    assert_problem(
        app.resize(&t.token, id(&b), "XL").await,
        StatusCode::CONFLICT,
        "contract-not-valid",
    )
    .await;
    assert_eq!(app.counts().await, before);
    assert_eq!(
        app.audit_actions(id(&b)).await,
        ["booking.created", "booking.resized", "booking.resized"]
    );
}

async fn resizing_to_the_current_or_an_unknown_size_is_a_validation_error(app: TestApp) {
    let t = app.contract_with_room(20).await;
    let b = app
        .book_ok(
            &t.token,
            t.application_id,
            "produktion",
            "container-namespace",
            "M",
        )
        .await;
    let before = app.counts().await;
    // The size booked already: the request is fine, the booking's state
    // refuses it (409).
    assert_refused_by_state(app.resize(&t.token, id(&b), "M").await, "size").await;
    assert_validation(app.resize(&t.token, id(&b), "XXL").await, "size").await;
    assert_validation(app.resize(&t.token, id(&b), "m").await, "size").await;
    let resp = app
        .post_json(
            &format!("/api/v1/bookings/{}/resize", id(&b)),
            &t.token,
            &serde_json::json!({"groesse": "L"}),
        )
        .await;
    assert_problem(resp, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
    assert_eq!(app.counts().await, before);
}

async fn a_cancelled_booking_is_gekuendigt_and_cannot_be_cancelled_or_resized_again(app: TestApp) {
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

    let cancelled = expect_json(app.cancel(&t.token, id(&b)).await, StatusCode::OK).await;
    assert_eq!(cancelled["state"], "gekuendigt");
    assert!(cancelled["cancelled_at"].is_string(), "{cancelled}");
    let p = periods(&cancelled);
    assert_eq!(p.len(), 1);
    assert_eq!(
        p[0]["ends_at"], cancelled["cancelled_at"],
        "the last period ends with the cancellation"
    );
    assert_eq!(app.open_bookings(t.contract_id).await, 0);

    let before = app.counts().await;
    assert_problem(
        app.cancel(&t.token, id(&b)).await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    assert_problem(
        app.resize(&t.token, id(&b), "L").await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    assert_eq!(app.counts().await, before, "refused changes write nothing");
    app.settle().await;
    assert_eq!(
        booking(&app, &t.token, id(&b)).await,
        provisioned(&cancelled)
    );
    assert_eq!(
        app.audit_actions(id(&b)).await,
        ["booking.created", "booking.cancelled"]
    );

    let contract = expect_json(
        app.get(&format!("/api/v1/contracts/{}", t.contract_id), &t.token)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(contract["used"]["vcpu_millicores"], 0);
    assert_eq!(contract["used"]["monthly_budget_cents"], 0);
}

async fn a_contract_that_has_ended_or_not_begun_takes_no_bookings(app: TestApp) {
    let expired = app.expired_contract().await;
    let future = app
        .tenant(ContractSpec {
            valid_from: "2098-01-01".into(),
            ..ContractSpec::default()
        })
        .await;
    let before = app.counts().await;
    for t in [&expired, &future] {
        let resp = app
            .book(
                &t.token,
                t.application_id,
                "vorpruefung",
                "container-namespace",
                "S",
            )
            .await;
        assert_problem(resp, StatusCode::CONFLICT, "contract-not-valid").await;
    }
    assert_eq!(app.counts().await, before);
}
