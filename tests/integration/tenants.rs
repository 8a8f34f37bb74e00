//! Tenant isolation and roles: another customer's objects do not exist for
//! a user (404, indistinguishable from a missing id); within the customer
//! only a Systempfleger:in books, resizes and cancels (others get 403); the
//! Betreiber sees everything and books nothing.

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::{TestApp, assert_forbidden, assert_not_found, expect_json, id};

/// A large id that no test creates.
const MISSING: i64 = 987_654_321;

/// The answer for an id that does not exist at all, to compare against.
async fn not_found_body(app: &TestApp, path: &str, token: &str) -> Value {
    assert_not_found(app.get(path, token).await).await
}

fn ids(list: &Value) -> Vec<i64> {
    let list = list.get("items").unwrap_or(list);
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(id)
        .collect()
}

api_tests! {
    another_tenants_contract_application_and_booking_are_not_found_on_every_route,
    lists_show_only_the_callers_own_customer,
    developers_finance_and_application_owners_may_look_but_not_book,
    the_betreiber_sees_every_contract_but_books_nothing,
}

async fn another_tenants_contract_application_and_booking_are_not_found_on_every_route(
    app: TestApp,
) {
    let d = app.demo().await;
    let mh = &d.musterhausen;
    let nord = app.token_for("systempfleger-nordkreis").await;
    let lastat = app.token_for("systempfleger-lastat").await;
    let original = expect_json(
        app.get(
            &format!("/api/v1/bookings/{}", mh.booking_id),
            &app.token_for("systempfleger").await,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let before = app.counts().await;

    for token in [&nord, &lastat] {
        let missing = not_found_body(&app, &format!("/api/v1/bookings/{MISSING}"), token).await;
        let answers = [
            app.get(&format!("/api/v1/contracts/{}", mh.contract_id), token)
                .await,
            app.get(
                &format!("/api/v1/applications/{}", mh.application_ids[0]),
                token,
            )
            .await,
            app.get(
                &format!("/api/v1/applications/{}", mh.application_ids[1]),
                token,
            )
            .await,
            app.get(&format!("/api/v1/bookings/{}", mh.booking_id), token)
                .await,
            app.resize(token, mh.booking_id, "L").await,
            app.resize(token, mh.booking_id, "S").await,
            app.cancel(token, mh.booking_id).await,
            app.book(
                token,
                mh.application_ids[0],
                "vorpruefung",
                "container-namespace",
                "S",
            )
            .await,
        ];
        for resp in answers {
            let body = assert_not_found(resp).await;
            assert_eq!(
                body, missing,
                "another tenant's id answers exactly like a missing one"
            );
        }
    }
    assert_eq!(app.counts().await, before, "nothing written");
    let now = expect_json(
        app.get(
            &format!("/api/v1/bookings/{}", mh.booking_id),
            &app.token_for("systempfleger").await,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(now, original, "the booking is untouched");
}

async fn lists_show_only_the_callers_own_customer(app: TestApp) {
    let d = app.demo().await;
    let extra = app.contract_with_room(10).await;
    app.book_ok(
        &extra.token,
        extra.application_id,
        "vorpruefung",
        "container-namespace",
        "S",
    )
    .await;

    let cases = [
        (app.token_for("systempfleger").await, &d.musterhausen),
        (app.token_for("systempfleger-lastat").await, &d.lastat),
        (app.token_for("systempfleger-nordkreis").await, &d.nordkreis),
    ];
    for (token, own) in &cases {
        let contracts =
            expect_json(app.get("/api/v1/contracts", token).await, StatusCode::OK).await;
        assert_eq!(ids(&contracts), [own.contract_id]);
        let apps = expect_json(app.get("/api/v1/applications", token).await, StatusCode::OK).await;
        let mut app_ids = ids(&apps);
        app_ids.sort_unstable();
        assert_eq!(app_ids, own.application_ids);

        let bookings = expect_json(
            app.get("/api/v1/bookings?limit=200", token).await,
            StatusCode::OK,
        )
        .await;
        let (in_db,): (i64,) =
            sqlx::query_as("SELECT CAST(COUNT(*) AS BIGINT) FROM bookings WHERE customer_id = $1")
                .bind(own.id)
                .fetch_one(&app.db().pool)
                .await
                .unwrap();
        assert_eq!(bookings["total"], in_db);
        assert!(in_db > 0);
        for b in bookings["items"].as_array().unwrap() {
            assert_eq!(b["customer_id"], own.id, "{b}");
        }
        // Asking for another customer narrows, it never widens.
        for other in [
            d.musterhausen.id,
            d.lastat.id,
            d.nordkreis.id,
            extra.customer_id,
        ] {
            if other == own.id {
                continue;
            }
            let list = expect_json(
                app.get(&format!("/api/v1/bookings?customer_id={other}"), token)
                    .await,
                StatusCode::OK,
            )
            .await;
            assert_eq!(list["total"], 0, "{list}");
            assert_eq!(list["items"].as_array().unwrap().len(), 0);
        }
    }
    // The new customer sees only its own.
    let contracts = expect_json(
        app.get("/api/v1/contracts", &extra.token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ids(&contracts), [extra.contract_id]);
    let bookings = expect_json(
        app.get("/api/v1/bookings", &extra.token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(bookings["total"], 1);
}

async fn developers_finance_and_application_owners_may_look_but_not_book(app: TestApp) {
    let d = app.demo().await;
    let mh = &d.musterhausen;
    let before = app.counts().await;
    for login in ["entwickler", "finanzen", "verfahrensverantwortliche"] {
        let token = app.token_for(login).await;
        assert_forbidden(
            app.book(
                &token,
                mh.application_ids[0],
                "vorpruefung",
                "container-namespace",
                "S",
            )
            .await,
        )
        .await;
        assert_forbidden(app.resize(&token, mh.booking_id, "L").await).await;
        assert_forbidden(app.cancel(&token, mh.booking_id).await).await;
        // They do see their customer's data...
        let b = expect_json(
            app.get(&format!("/api/v1/bookings/{}", mh.booking_id), &token)
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(b["state"], "aktiv", "{login}");
        let contracts =
            expect_json(app.get("/api/v1/contracts", &token).await, StatusCode::OK).await;
        assert_eq!(ids(&contracts), [mh.contract_id], "{login}");
        // ...and nobody else's, where the answer stays 404.
        assert_not_found(
            app.get(
                &format!("/api/v1/bookings/{}", d.nordkreis.booking_id),
                &token,
            )
            .await,
        )
        .await;
        assert_not_found(app.cancel(&token, d.nordkreis.booking_id).await).await;
    }
    assert_eq!(app.counts().await, before, "nothing written");
}

async fn the_betreiber_sees_every_contract_but_books_nothing(app: TestApp) {
    let d = app.demo().await;
    let extra = app.contract_with_room(10).await;
    let before = app.counts().await;
    for login in ["betreiber", "finanzen-rz"] {
        let token = app.token_for(login).await;
        let contracts =
            expect_json(app.get("/api/v1/contracts", &token).await, StatusCode::OK).await;
        let mut seen = ids(&contracts);
        seen.sort_unstable();
        let mut all = vec![
            d.musterhausen.contract_id,
            d.lastat.contract_id,
            d.nordkreis.contract_id,
            extra.contract_id,
        ];
        all.sort_unstable();
        assert_eq!(seen, all, "{login} sees every contract");
        for c in [&d.musterhausen, &d.lastat, &d.nordkreis] {
            expect_json(
                app.get(&format!("/api/v1/contracts/{}", c.contract_id), &token)
                    .await,
                StatusCode::OK,
            )
            .await;
            expect_json(
                app.get(&format!("/api/v1/bookings/{}", c.booking_id), &token)
                    .await,
                StatusCode::OK,
            )
            .await;
            // Visible, so not 404; but the provider manages and does not book.
            assert_forbidden(
                app.book(
                    &token,
                    c.application_ids[0],
                    "abnahme",
                    "container-namespace",
                    "S",
                )
                .await,
            )
            .await;
            assert_forbidden(app.resize(&token, c.booking_id, "XL").await).await;
            assert_forbidden(app.cancel(&token, c.booking_id).await).await;
        }
        let all_bookings =
            expect_json(app.get("/api/v1/bookings", &token).await, StatusCode::OK).await;
        assert_eq!(
            all_bookings["total"], before.bookings,
            "{login} sees every booking"
        );
    }
    assert_eq!(app.counts().await, before, "nothing written");
}
