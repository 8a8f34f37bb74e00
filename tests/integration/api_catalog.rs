//! The catalogue's prices over the API (issue 18): the whole history of
//! every size, so that anyone can recompute a bill, and price versions
//! added and changed by the Betreiber through the same use cases as the
//! catalogue page.

use jiff::{Timestamp, civil::Date, tz::TimeZone};
use kontor::domain::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{
    TestApp, assert_forbidden, assert_not_found, assert_problem, assert_refused_by_state,
    assert_validation, expect_json, id,
};

api_tests! {
    the_price_history_names_each_versions_validity_and_filters_by_product_and_size,
    the_betreiber_adds_a_price_for_tomorrow_and_changes_it_until_it_starts,
    a_statement_recomputed_from_the_price_history_matches_to_the_cent,
}

fn berlin_today() -> Date {
    kontor::domain::calendar::berlin_date(kontor::db::now())
}

fn seconds(rfc3339: &Value) -> i64 {
    rfc3339
        .as_str()
        .unwrap_or_else(|| panic!("not a time: {rfc3339}"))
        .parse::<Timestamp>()
        .expect("RFC 3339")
        .as_second()
}

async fn history(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let list = expect_json(
        app.get(&format!("/api/v1/catalog/prices{query}"), token)
            .await,
        StatusCode::OK,
    )
    .await;
    list["items"].as_array().expect("a list").clone()
}

async fn the_price_history_names_each_versions_validity_and_filters_by_product_and_size(
    app: TestApp,
) {
    let t = app.contract_with_room(4).await;
    let all = history(&app, &t.token, "").await;
    assert!(all.len() >= 8, "every demo size has a price: {all:?}");
    // Versions of one size follow each other without a gap: each ends
    // where the next begins, and only the latest is open.
    for pair in all.windows(2) {
        let same = pair[0]["product"] == pair[1]["product"] && pair[0]["size"] == pair[1]["size"];
        if same {
            assert_eq!(pair[0]["valid_until"], pair[1]["valid_from"], "{pair:?}");
        } else {
            assert_eq!(pair[0]["valid_until"], Value::Null, "{pair:?}");
        }
    }
    let s = history(&app, &t.token, "?product=container-namespace&size=S").await;
    assert!(!s.is_empty());
    assert!(
        s.iter()
            .all(|v| v["product"] == "container-namespace" && v["size"] == "S"),
        "{s:?}"
    );
    assert!(
        s.iter().all(|v| v["price_per_hour"]
            .as_str()
            .is_some_and(|p| p.len() > 5 && p.contains('.'))),
        "an exact decimal with four places: {s:?}"
    );
    let xl = history(&app, &t.token, "?size=XL").await;
    assert!(xl.iter().all(|v| v["size"] == "XL") && !xl.is_empty());

    // A product the catalogue does not hold: its state, 409.
    assert_refused_by_state(
        app.get("/api/v1/catalog/prices?product=gibt-es-nicht", &t.token)
            .await,
        "product",
    )
    .await;
    assert_validation(
        app.get("/api/v1/catalog/prices?size=XXL", &t.token).await,
        "size",
    )
    .await;
}

async fn the_betreiber_adds_a_price_for_tomorrow_and_changes_it_until_it_starts(app: TestApp) {
    let t = app.contract_with_room(4).await;
    let betreiber = app.token_for("betreiber").await;
    let tomorrow = berlin_today().tomorrow().unwrap().to_string();
    let body = json!({"product": "container-namespace", "size": "M",
                      "valid_from": tomorrow, "price_per_hour": "0.3333"});

    let before = app.counts().await;
    let finance = app.user_with_roles(None, &[Role::Finanzen]).await;
    for who in [&t.token, &finance] {
        assert_forbidden(app.post_json("/api/v1/catalog/prices", who, &body).await).await;
    }
    assert_eq!(app.counts().await, before, "a refusal writes nothing");

    let current = history(&app, &t.token, "?product=container-namespace&size=M").await;
    let latest_before = current.last().expect("a price").clone();
    let created = app
        .request(Method::POST, "/api/v1/catalog/prices")
        .bearer_auth(&betreiber)
        .header("Idempotency-Key", "preis-1")
        .json(&body)
        .send()
        .await
        .unwrap();
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let created = expect_json(created, StatusCode::CREATED).await;
    assert_eq!(created["price_per_hour"], "0.3333", "{created}");
    assert_eq!(location, format!("/api/v1/catalog/prices/{}", id(&created)));
    let read = expect_json(app.get(&location, &t.token).await, StatusCode::OK).await;
    assert_eq!(read["valid_from"], created["valid_from"]);
    assert_eq!(created["valid_until"], Value::Null);
    let starts = seconds(&created["valid_from"]);
    assert_eq!(
        starts,
        kontor::domain::calendar::berlin_midnight(berlin_today().tomorrow().unwrap()),
        "a German midnight"
    );
    // The retry is the same version; the same day again is refused.
    let again = app
        .request(Method::POST, "/api/v1/catalog/prices")
        .bearer_auth(&betreiber)
        .header("Idempotency-Key", "preis-1")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        id(&expect_json(again, StatusCode::CREATED).await),
        id(&created)
    );
    assert_refused_by_state(
        app.post_json("/api/v1/catalog/prices", &betreiber, &body)
            .await,
        "valid_from",
    )
    .await;

    // The history shows the change ahead; the catalogue still the price of
    // today.
    let now = history(&app, &t.token, "?product=container-namespace&size=M").await;
    assert_eq!(now.len(), current.len() + 1);
    assert_eq!(now[now.len() - 2]["id"], latest_before["id"]);
    assert_eq!(now[now.len() - 2]["valid_until"], created["valid_from"]);
    let catalog = expect_json(app.get("/api/v1/catalog", &t.token).await, StatusCode::OK).await;
    let m = catalog["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["slug"] == "container-namespace")
        .and_then(|p| {
            p["sizes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["size"] == "M")
        })
        .expect("container-namespace M")
        .clone();
    assert_eq!(m["price_per_hour"], latest_before["price_per_hour"]);

    // Until it starts, the Betreiber may change it; a started one never.
    let patch = |id: i64, price: &str| {
        app.request(Method::PATCH, &format!("/api/v1/catalog/prices/{id}"))
            .bearer_auth(&betreiber)
            .json(&json!({"price_per_hour": price}))
            .send()
    };
    let changed = expect_json(patch(id(&created), "0.3000").await.unwrap(), StatusCode::OK).await;
    assert_eq!(changed["price_per_hour"], "0.3000");
    assert_problem(
        patch(id(&latest_before), "0.0001").await.unwrap(),
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    assert_not_found(patch(999_999_999, "1").await.unwrap()).await;
    assert_validation(
        patch(id(&created), "1,23456").await.unwrap(),
        "price_per_hour",
    )
    .await;

    // Well-formed, refused by the catalogue and the calendar: 409.
    for (bad, field) in [
        (
            json!({"product": "gibt-es-nicht", "size": "M", "valid_from": tomorrow, "price_per_hour": "1"}),
            "product",
        ),
        (
            json!({"product": "container-namespace", "size": "M", "valid_from": berlin_today().to_string(), "price_per_hour": "1"}),
            "valid_from",
        ),
    ] {
        assert_refused_by_state(
            app.post_json("/api/v1/catalog/prices", &betreiber, &bad)
                .await,
            field,
        )
        .await;
    }
    for (bad, field) in [
        (
            json!({"product": "container-namespace", "size": "M", "valid_from": "morgen", "price_per_hour": "1"}),
            "valid_from",
        ),
        (
            json!({"product": "container-namespace", "size": "M", "valid_from": tomorrow, "price_per_hour": "-1"}),
            "price_per_hour",
        ),
    ] {
        assert_validation(
            app.post_json("/api/v1/catalog/prices", &betreiber, &bad)
                .await,
            field,
        )
        .await;
    }
}

/// A booking that ran across a price change: its statement, recomputed
/// from nothing but the API's price history and the booking's periods,
/// equals the API's statement to the cent, line by line.
async fn a_statement_recomputed_from_the_price_history_matches_to_the_cent(app: TestApp) {
    let t = app.contract_with_room(8).await;
    let betreiber = app.token_for("betreiber").await;
    let booking = app
        .book_ok(
            &t.token,
            t.application_id,
            "vorpruefung",
            "container-namespace",
            "L",
        )
        .await;
    let booking_id = id(&booking);
    // A price change through the API, from tomorrow...
    let tomorrow = berlin_today().tomorrow().unwrap();
    expect_json(
        app.post_json(
            "/api/v1/catalog/prices",
            &betreiber,
            &json!({"product": "container-namespace", "size": "L",
                    "valid_from": tomorrow.to_string(), "price_per_hour": "0.7777"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    expect_json(
        app.post(&format!("/api/v1/bookings/{booking_id}/cancel"), &t.token)
            .await,
        StatusCode::OK,
    )
    .await;
    // ...and then two days pass: the price change was yesterday, the
    // booking ran from three days ago until yesterday afternoon, across it.
    // (Time cannot be moved in a running portal; the data can.)
    const DAY: i64 = 86_400;
    let pool = &app.db().pool;
    sqlx::query("UPDATE prices SET valid_from = valid_from - $1 WHERE valid_from = $2")
        .bind(2 * DAY)
        .bind(kontor::domain::calendar::berlin_midnight(tomorrow))
        .execute(pool)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE booking_periods SET starts_at = starts_at - $1, ends_at = ends_at - $2, \
         month_cents = NULL WHERE booking_id = $3",
    )
    .bind(3 * DAY)
    .bind(DAY)
    .bind(booking_id)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "UPDATE bookings SET created_at = created_at - $1, cancelled_at = cancelled_at - $2 \
         WHERE id = $3",
    )
    .bind(3 * DAY)
    .bind(DAY)
    .bind(booking_id)
    .execute(pool)
    .await
    .unwrap();

    let month = berlin_today().strftime("%Y-%m").to_string();
    let statement = expect_json(
        app.get(
            &format!("/api/v1/contracts/{}/statements/{month}", t.contract_id),
            &t.token,
        )
        .await,
        StatusCode::OK,
    )
    .await;

    // The recomputation: the booking's periods within the month, cut where
    // a price version of its size begins, each piece at that price, each
    // rounded half up to cents on its own.
    let booked = expect_json(
        app.get(&format!("/api/v1/bookings/{booking_id}"), &t.token)
            .await,
        StatusCode::OK,
    )
    .await;
    let prices = history(&app, &t.token, "?product=container-namespace&size=L").await;
    let first_day = Date::strptime("%Y-%m-%d", format!("{month}-01")).unwrap();
    let month_start = first_day
        .to_zoned(TimeZone::get("Europe/Berlin").unwrap())
        .unwrap()
        .timestamp()
        .as_second();
    let month_end = first_day
        .last_of_month()
        .tomorrow()
        .unwrap()
        .to_zoned(TimeZone::get("Europe/Berlin").unwrap())
        .unwrap()
        .timestamp()
        .as_second();
    let mut expected: Vec<(i64, i64, String, i64)> = Vec::new();
    for period in booked["periods"].as_array().expect("periods") {
        let from = seconds(&period["starts_at"]).max(month_start);
        let to = seconds(&period["ends_at"]).min(month_end);
        for version in &prices {
            let a = seconds(&version["valid_from"]).max(from);
            let b = version
                .get("valid_until")
                .filter(|v| !v.is_null())
                .map_or(to, |v| seconds(v).min(to));
            if a >= b {
                continue;
            }
            let rate = decimal_4(version["price_per_hour"].as_str().unwrap());
            // cents = seconds × (EUR/10 000 per hour) / 3600 / 100, half up.
            let exact = i128::from(b - a) * i128::from(rate);
            let cents = ((exact + 180_000) / 360_000) as i64;
            expected.push((
                a,
                b,
                version["price_per_hour"].as_str().unwrap().to_owned(),
                cents,
            ));
        }
    }
    let lines: Vec<(i64, i64, String, i64)> = statement["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .filter(|l| l["booking_id"] == booking_id)
        .map(|l| {
            (
                seconds(&l["from"]),
                seconds(&l["to"]),
                l["price_per_hour"].as_str().unwrap().to_owned(),
                l["amount_cents"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(lines, expected, "{statement}");
    let total: i64 = expected.iter().map(|l| l.3).sum();
    assert_eq!(statement["totals"]["total_cents"], total, "{statement}");
    // Unless the month began in the last three days, the booking ran at
    // both prices this month.
    if berlin_today().day() > 3 {
        assert_eq!(expected.len(), 2, "{expected:?}");
        assert_eq!(expected[1].2, "0.7777");
    }
}

/// An exact decimal with up to four places, in 1/10 000.
fn decimal_4(s: &str) -> i64 {
    let (whole, fraction) = s.split_once('.').unwrap_or((s, ""));
    let fraction = format!("{fraction:0<4}");
    whole.parse::<i64>().unwrap() * 10_000 + fraction[..4].parse::<i64>().unwrap()
}
