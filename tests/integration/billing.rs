//! Billing through the API: a statement charges every second of a booking at
//! the price valid in it (the golden amounts below are worked out by hand), a
//! closed month is final and cannot be changed, the CSV exports say cent for
//! cent what the statements say (with formulas neutralised), another tenant's
//! statements do not exist for a user, bad input is a problem and never a
//! 500, and the budget watch warns at 80 and 100 % of the forecast.
//!
//! History is made by booking through the API and then moving the booking's
//! periods into the past with SQL; months are closed by calling
//! `close_month` the way the scheduled job does.

use std::collections::{BTreeMap, BTreeSet};

use jiff::{Timestamp, civil::DateTime, tz::TimeZone};
use kontor::{
    app::{self, Error, applications::NewApplication, catalog::NewProduct},
    billing::{
        close::{CloseReport, close_month},
        csv::COLUMNS,
    },
    db,
    domain::{Role, Slug, Stage, billing::Month},
    seed,
};

use crate::support::text as fixture_text;
use reqwest::{Method, StatusCode, header};
use serde_json::Value;

use crate::support::{
    ContractSpec, Tenant, TestApp, assert_forbidden, assert_not_found, assert_problem,
    assert_refused_by_state, assert_unauthorized, assert_validation, expect_json, id,
};

/// A contract id that no test creates.
const MISSING: i64 = 999_999_999;

const HOUR: i64 = 3600;
const DAY: i64 = 24 * HOUR;

/// Rates of the demo catalogue in 1/10 000 EUR per hour.
const CONTAINER_S: i64 = 1180;
const CONTAINER_XL: i64 = 9440;

api_tests! {
    a_booking_from_mid_month_pays_from_its_first_second,
    a_resized_booking_has_one_line_per_size,
    a_cancelled_booking_stops_paying_at_the_second_it_ended,
    a_booking_across_a_month_boundary_is_split_between_the_months,
    march_has_743_hours_and_october_745,
    a_price_change_mid_month_splits_the_line_at_the_change,
    the_base_fee_is_charged_pro_rata_by_the_days_the_contract_is_valid,
    a_closed_month_is_final_and_nothing_changes_it,
    a_closed_statement_stays_readable_when_the_contract_is_changed_later,
    only_a_month_that_is_over_can_be_closed,
    two_simultaneous_closings_write_one_statement_per_contract,
    the_csv_export_says_cent_for_cent_what_the_statement_says,
    the_month_export_holds_every_visible_contract_and_no_other,
    text_a_spreadsheet_would_run_as_a_formula_is_neutralised,
    another_tenants_statements_are_not_found_on_every_billing_route,
    roles_decide_who_reads_statements_and_who_exports_them,
    bad_months_formats_ids_and_tokens_are_problems_that_change_nothing,
    the_budget_watch_warns_at_80_and_100_percent_of_the_forecast,
}

// ----- time, money and fixtures ----------------------------------------------

/// A German wall-clock time as a Unix second.
fn at(s: &str) -> i64 {
    let dt: DateTime = s.parse().expect("a wall-clock time");
    dt.to_zoned(TimeZone::get("Europe/Berlin").expect("tz database"))
        .expect("a time that exists in Germany")
        .timestamp()
        .as_second()
}

fn month(s: &str) -> Month {
    Month::parse(s).expect("a month")
}

/// The instant an RFC 3339 text names (the API's times, the CSV's cells).
fn instant(v: &Value) -> i64 {
    instant_of(v.as_str().unwrap_or_else(|| panic!("not a time: {v}")))
}

fn instant_of(s: &str) -> i64 {
    s.parse::<Timestamp>()
        .unwrap_or_else(|e| panic!("not an RFC 3339 time {s:?}: {e}"))
        .as_second()
}

/// `rate` (1/10 000 EUR per hour) for `seconds`, rounded half up to cents:
/// the test's own statement of the rating rule, for amounts that depend on
/// the month the suite runs in.
fn cost(rate: i64, seconds: i64) -> i64 {
    (rate * seconds + 180_000) / 360_000
}

/// Books `product` in `size` on the tenant's application in Vorprüfung and
/// moves the booking's period to `[from, to)` (open with `None`).
async fn booked(
    app: &TestApp,
    t: &Tenant,
    product: &str,
    size: &str,
    from: i64,
    to: Option<i64>,
) -> i64 {
    booked_in(app, t, "vorpruefung", product, size, from, to).await
}

async fn booked_in(
    app: &TestApp,
    t: &Tenant,
    stage: &str,
    product: &str,
    size: &str,
    from: i64,
    to: Option<i64>,
) -> i64 {
    let b = app
        .book_ok(&t.token, t.application_id, stage, product, size)
        .await;
    place(app, id(&b), from, to).await;
    id(&b)
}

/// Moves the only period of a booking to `[from, to)`. Its stored month
/// cost (if closed) was for the old times, so it is cleared: the live month
/// rates such a period as one closed by an older version.
async fn place(app: &TestApp, booking_id: i64, from: i64, to: Option<i64>) {
    let done = sqlx::query(
        "UPDATE booking_periods SET starts_at = $1, ends_at = $2, month_cents = NULL \
         WHERE booking_id = $3",
    )
    .bind(from)
    .bind(to)
    .bind(booking_id)
    .execute(&app.db().pool)
    .await
    .expect("move the period");
    assert_eq!(
        done.rows_affected(),
        1,
        "booking {booking_id} has one period"
    );
}

async fn size_id(app: &TestApp, product: &str, size: &str) -> i64 {
    let (id,): (i64,) = sqlx::query_as(
        "SELECT ps.id FROM product_sizes ps JOIN products p ON p.id = ps.product_id \
         WHERE p.slug = $1 AND ps.size = $2",
    )
    .bind(product)
    .bind(size)
    .fetch_one(&app.db().pool)
    .await
    .expect("product size");
    id
}

async fn add_price(app: &TestApp, size_id: i64, valid_from: i64, rate: i64) {
    sqlx::query(
        "INSERT INTO prices (product_size_id, valid_from, rate, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(size_id)
    .bind(valid_from)
    .bind(rate)
    .bind(db::now())
    .execute(&app.db().pool)
    .await
    .expect("price version");
}

async fn count(app: &TestApp, sql: &'static str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sql)
        .fetch_one(&app.db().pool)
        .await
        .expect("count");
    n
}

/// Rows of the tables closing a month writes: statements, their lines, and
/// the audit log.
async fn billing_rows(app: &TestApp) -> (i64, i64, i64) {
    (
        count(app, "SELECT CAST(COUNT(*) AS BIGINT) FROM statements").await,
        count(app, "SELECT CAST(COUNT(*) AS BIGINT) FROM statement_lines").await,
        // The reconciler's reports come whenever it is done.
        count(
            app,
            "SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE action <> 'booking.provisioned'",
        )
        .await,
    )
}

/// Contracts valid on at least one day of the month.
async fn contracts_in(app: &TestApp, m: Month) -> usize {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM contracts WHERE valid_from <= $1 AND valid_until >= $2",
    )
    .bind(m.last_day().to_string())
    .bind(m.first_day().to_string())
    .fetch_one(&app.db().pool)
    .await
    .expect("count contracts");
    n as usize
}

// ----- statements ------------------------------------------------------------

fn statement_path(contract_id: i64, month: &str) -> String {
    format!("/api/v1/contracts/{contract_id}/statements/{month}")
}

/// A statement, insisting on 200, numbered positions and a total that is
/// the exact sum of its lines.
async fn statement(app: &TestApp, token: &str, contract_id: i64, month: &str) -> Value {
    let s = expect_json(
        app.get(&statement_path(contract_id, month), token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(s["contract_id"], contract_id, "{s}");
    assert_eq!(s["month"], month, "{s}");
    let mut sum = 0;
    for (i, l) in lines(&s).iter().enumerate() {
        assert_eq!(l["position"], i + 1, "{l}");
        sum += l["amount_cents"].as_i64().expect("amount_cents");
    }
    assert_eq!(s["totals"]["total_cents"], sum, "total = sum of lines: {s}");
    s
}

/// A statement exactly as sent.
async fn statement_text(app: &TestApp, token: &str, contract_id: i64, month: Month) -> String {
    let resp = app
        .get(&statement_path(contract_id, &month.to_string()), token)
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    resp.text().await.expect("body")
}

fn lines(s: &Value) -> &[Value] {
    s["lines"]
        .as_array()
        .unwrap_or_else(|| panic!("no lines: {s}"))
}

/// A usage line as worked out by hand: times are German wall-clock times.
struct Line<'a> {
    booking: i64,
    size: &'a str,
    from: &'a str,
    to: &'a str,
    seconds: i64,
    price: &'a str,
    amount: i64,
}

/// The statement has exactly these usage lines, in this order, and their
/// sum as its total.
fn assert_lines(s: &Value, expected: &[Line<'_>]) {
    let got = lines(s);
    assert_eq!(got.len(), expected.len(), "{s:#}");
    for (l, e) in got.iter().zip(expected) {
        assert_eq!(
            e.seconds,
            at(e.to) - at(e.from),
            "the hand-computed seconds of {} – {}",
            e.from,
            e.to
        );
        assert_eq!(l["kind"], "nutzung", "{l}");
        assert_eq!(l["booking_id"], e.booking, "{l}");
        assert_eq!(l["size"], e.size, "{l}");
        assert_eq!(instant(&l["from"]), at(e.from), "from: {l}");
        assert_eq!(instant(&l["to"]), at(e.to), "to: {l}");
        assert_eq!(l["seconds"], e.seconds, "{l}");
        assert_eq!(l["price_per_hour"], e.price, "{l}");
        assert_eq!(l["amount_cents"], e.amount, "{l}");
    }
    let total: i64 = expected.iter().map(|e| e.amount).sum();
    assert_eq!(s["totals"]["total_cents"], total, "{s:#}");
}

// ----- golden amounts -----------------------------------------------------

async fn a_booking_from_mid_month_pays_from_its_first_second(app: TestApp) {
    let t = app.contract_with_room(10).await;
    let b = booked(
        &app,
        &t,
        "container-namespace",
        "S",
        at("2026-06-16T09:30"),
        None,
    )
    .await;

    let june = statement(&app, &t.token, t.contract_id, "2026-06").await;
    assert_eq!(june["status"], "vorlaeufig");
    assert!(june["closed_at"].is_null());
    // 16 June 09:30 to 1 July 00:00 = 14 days 14,5 hours = 350,5 h
    // = 1 261 800 s; 350,5 h × 0,1180 € = 41,359 € → 41,36 €.
    assert_lines(
        &june,
        &[Line {
            booking: b,
            size: "S",
            from: "2026-06-16T09:30",
            to: "2026-07-01T00:00",
            seconds: 1_261_800,
            price: "0.1180",
            amount: 4136,
        }],
    );
    assert_eq!(lines(&june)[0]["hours"], "350.5000");
    assert_eq!(lines(&june)[0]["stage"], "vorpruefung");
    assert_eq!(lines(&june)[0]["product"], "Container-Namespace");
    assert_eq!(june["totals"]["base_fee_cents"], 0);
    // Nothing before the booking began.
    let may = statement(&app, &t.token, t.contract_id, "2026-05").await;
    assert_lines(&may, &[]);
}

async fn a_resized_booking_has_one_line_per_size(app: TestApp) {
    let t = app.contract_with_room(10).await;
    let b = id(&app
        .book_ok(
            &t.token,
            t.application_id,
            "vorpruefung",
            "container-namespace",
            "S",
        )
        .await);
    expect_json(app.resize(&t.token, b, "M").await, StatusCode::OK).await;
    let periods: Vec<(i64, String, i64)> = sqlx::query_as(
        "SELECT id, size, product_size_id FROM booking_periods WHERE booking_id = $1 ORDER BY id",
    )
    .bind(b)
    .fetch_all(&app.db().pool)
    .await
    .unwrap();
    let (s_size, m_size) = (
        size_id(&app, "container-namespace", "S").await,
        size_id(&app, "container-namespace", "M").await,
    );
    assert_eq!(periods.len(), 2);
    assert_eq!((periods[0].1.as_str(), periods[0].2), ("S", s_size));
    assert_eq!((periods[1].1.as_str(), periods[1].2), ("M", m_size));
    for (period, from, to) in [
        (
            periods[0].0,
            at("2026-06-01T00:00"),
            Some(at("2026-06-11T12:00")),
        ),
        (periods[1].0, at("2026-06-11T12:00"), None),
    ] {
        sqlx::query(
            "UPDATE booking_periods SET starts_at = $1, ends_at = $2, month_cents = NULL \
             WHERE id = $3",
        )
        .bind(from)
        .bind(to)
        .bind(period)
        .execute(&app.db().pool)
        .await
        .unwrap();
    }

    let june = statement(&app, &t.token, t.contract_id, "2026-06").await;
    assert_lines(
        &june,
        &[
            // S for 10,5 days = 252 h = 907 200 s;
            // 252 h × 0,1180 € = 29,736 € → 29,74 €.
            Line {
                booking: b,
                size: "S",
                from: "2026-06-01T00:00",
                to: "2026-06-11T12:00",
                seconds: 907_200,
                price: "0.1180",
                amount: 2974,
            },
            // M for 19,5 days = 468 h = 1 684 800 s;
            // 468 h × 0,2360 € = 110,448 € → 110,45 €.
            Line {
                booking: b,
                size: "M",
                from: "2026-06-11T12:00",
                to: "2026-07-01T00:00",
                seconds: 1_684_800,
                price: "0.2360",
                amount: 11045,
            },
        ],
    );
    // 29,74 € + 110,45 € = 140,19 €, all of it in Vorprüfung.
    assert_eq!(
        june["totals"]["by_stage"],
        serde_json::json!([{"stage": "vorpruefung", "amount_cents": 14019}])
    );
}

async fn a_cancelled_booking_stops_paying_at_the_second_it_ended(app: TestApp) {
    let t = app.contract_with_room(10).await;
    let b = id(&app
        .book_ok(
            &t.token,
            t.application_id,
            "vorpruefung",
            "container-namespace",
            "S",
        )
        .await);
    let cancelled = expect_json(app.cancel(&t.token, b).await, StatusCode::OK).await;
    assert_eq!(cancelled["state"], "gekuendigt");
    place(
        &app,
        b,
        at("2026-06-01T00:00"),
        Some(at("2026-06-03T08:30")),
    )
    .await;

    let june = statement(&app, &t.token, t.contract_id, "2026-06").await;
    // 1 June 00:00 to 3 June 08:30 = 56,5 h = 203 400 s;
    // 56,5 h × 0,1180 € = 6,667 € → 6,67 €.
    assert_lines(
        &june,
        &[Line {
            booking: b,
            size: "S",
            from: "2026-06-01T00:00",
            to: "2026-06-03T08:30",
            seconds: 203_400,
            price: "0.1180",
            amount: 667,
        }],
    );
    // Nothing after it ended.
    let july = statement(&app, &t.token, t.contract_id, "2026-07").await;
    assert_lines(&july, &[]);
}

async fn a_booking_across_a_month_boundary_is_split_between_the_months(app: TestApp) {
    let t = app.contract_with_room(10).await;
    let b = booked(
        &app,
        &t,
        "container-namespace",
        "S",
        at("2026-06-30T12:00"),
        Some(at("2026-07-02T12:00")),
    )
    .await;

    // June: 30 June 12:00 to midnight = 12 h = 43 200 s;
    // 12 h × 0,1180 € = 1,416 € → 1,42 €.
    let june = statement(&app, &t.token, t.contract_id, "2026-06").await;
    assert_lines(
        &june,
        &[Line {
            booking: b,
            size: "S",
            from: "2026-06-30T12:00",
            to: "2026-07-01T00:00",
            seconds: 43_200,
            price: "0.1180",
            amount: 142,
        }],
    );
    // July: midnight to 2 July 12:00 = 36 h = 129 600 s;
    // 36 h × 0,1180 € = 4,248 € → 4,25 €. (Rounded per month: 5,67 € in
    // all, where 48 h at once would be 5,66 €.)
    let july = statement(&app, &t.token, t.contract_id, "2026-07").await;
    assert_lines(
        &july,
        &[Line {
            booking: b,
            size: "S",
            from: "2026-07-01T00:00",
            to: "2026-07-02T12:00",
            seconds: 129_600,
            price: "0.1180",
            amount: 425,
        }],
    );
}

async fn march_has_743_hours_and_october_745(app: TestApp) {
    let t = app.contract_with_room(10).await;
    let whole = booked(
        &app,
        &t,
        "container-namespace",
        "S",
        at("2026-02-15T00:00"),
        None,
    )
    .await;
    // The nights the clocks change.
    let march_night = booked(
        &app,
        &t,
        "persistent-storage",
        "S",
        at("2026-03-28T22:00"),
        Some(at("2026-03-29T04:00")),
    )
    .await;
    let october_night = booked(
        &app,
        &t,
        "container-namespace",
        "S",
        at("2026-10-25T01:00"),
        Some(at("2026-10-25T04:00")),
    )
    .await;

    let march = statement(&app, &t.token, t.contract_id, "2026-03").await;
    assert_lines(
        &march,
        &[
            // 31 days less the hour lost to summer time = 743 h
            // = 2 674 800 s; 743 h × 0,1180 € = 87,674 € → 87,67 €.
            Line {
                booking: whole,
                size: "S",
                from: "2026-03-01T00:00",
                to: "2026-04-01T00:00",
                seconds: 2_674_800,
                price: "0.1180",
                amount: 8767,
            },
            // 28 March 22:00 to 29 March 04:00 on the wall clock is five
            // hours = 18 000 s; 5 h × 0,0068 € = 0,034 € → 0,03 €.
            Line {
                booking: march_night,
                size: "S",
                from: "2026-03-28T22:00",
                to: "2026-03-29T04:00",
                seconds: 18_000,
                price: "0.0068",
                amount: 3,
            },
        ],
    );
    assert_eq!(lines(&march)[0]["hours"], "743.0000");

    let october = statement(&app, &t.token, t.contract_id, "2026-10").await;
    assert_lines(
        &october,
        &[
            // 31 days and the hour gained = 745 h = 2 682 000 s;
            // 745 h × 0,1180 € = 87,91 €.
            Line {
                booking: whole,
                size: "S",
                from: "2026-10-01T00:00",
                to: "2026-11-01T00:00",
                seconds: 2_682_000,
                price: "0.1180",
                amount: 8791,
            },
            // 25 October 01:00 to 04:00 on the wall clock is four hours
            // = 14 400 s; 4 h × 0,1180 € = 0,472 € → 0,47 €.
            Line {
                booking: october_night,
                size: "S",
                from: "2026-10-25T01:00",
                to: "2026-10-25T04:00",
                seconds: 14_400,
                price: "0.1180",
                amount: 47,
            },
        ],
    );
    assert_eq!(lines(&october)[0]["hours"], "745.0000");
    assert_eq!(lines(&october)[1]["hours"], "4.0000");
}

async fn a_price_change_mid_month_splits_the_line_at_the_change(app: TestApp) {
    // A product of its own, so the price versions are this test's alone.
    let system = seed::system_user(app.db()).await.unwrap();
    let product = app::catalog::create_product(
        app.db(),
        &system,
        &NewProduct {
            slug: Slug::parse("preiswechsel").unwrap(),
            name: fixture_text("Preiswechsel"),
            description: Some(fixture_text("Nur für den Test")),
        },
        db::now(),
    )
    .await
    .expect("product");
    let size = size_id(&app, "preiswechsel", "S").await;
    let (owner,): (i64,) = sqlx::query_as("SELECT product_id FROM product_sizes WHERE id = $1")
        .bind(size)
        .fetch_one(&app.db().pool)
        .await
        .unwrap();
    assert_eq!(owner, product);
    add_price(&app, size, at("2026-01-01T00:00"), 1234).await;
    add_price(&app, size, at("2026-06-15T00:00"), 1567).await;
    let t = app.contract_with_room(10).await;
    let b = booked(&app, &t, "preiswechsel", "S", at("2026-06-10T06:00"), None).await;

    let june = statement(&app, &t.token, t.contract_id, "2026-06").await;
    assert_lines(
        &june,
        &[
            // 10 June 06:00 to 15 June 00:00 = 4 days 18 h = 114 h
            // = 410 400 s; 114 h × 0,1234 € = 14,0676 € → 14,07 €.
            Line {
                booking: b,
                size: "S",
                from: "2026-06-10T06:00",
                to: "2026-06-15T00:00",
                seconds: 410_400,
                price: "0.1234",
                amount: 1407,
            },
            // 15 June to 1 July = 16 days = 384 h = 1 382 400 s;
            // 384 h × 0,1567 € = 60,1728 € → 60,17 €.
            Line {
                booking: b,
                size: "S",
                from: "2026-06-15T00:00",
                to: "2026-07-01T00:00",
                seconds: 1_382_400,
                price: "0.1567",
                amount: 6017,
            },
        ],
    );
    assert_eq!(lines(&june)[0]["product"], "Preiswechsel");
    // The new price holds on: July, 31 days = 744 h = 2 678 400 s;
    // 744 h × 0,1567 € = 116,5848 € → 116,58 €.
    let july = statement(&app, &t.token, t.contract_id, "2026-07").await;
    assert_lines(
        &july,
        &[Line {
            booking: b,
            size: "S",
            from: "2026-07-01T00:00",
            to: "2026-08-01T00:00",
            seconds: 2_678_400,
            price: "0.1567",
            amount: 11658,
        }],
    );
}

async fn the_base_fee_is_charged_pro_rata_by_the_days_the_contract_is_valid(app: TestApp) {
    let t = app.contract_with_room(10).await;
    // Mischmodell with 150,00 € a month, valid from 21 May.
    let g = app
        .second_contract(&t, "gemischt", "150,00", ("2026-05-21", "2099-12-31"))
        .await;
    let b = booked(
        &app,
        &g,
        "container-namespace",
        "S",
        at("2026-05-25T00:00"),
        Some(at("2026-05-26T00:00")),
    )
    .await;

    let may = statement(&app, &t.token, g.contract_id, "2026-05").await;
    let l = lines(&may);
    assert_eq!(l.len(), 2, "{may:#}");
    // The base fee comes first: 21 to 31 May are 11 of 31 days;
    // 150,00 € × 11 / 31 = 53,2258 € → 53,23 €, over 11 × 24 h = 950 400 s.
    assert_eq!(l[0]["kind"], "grundgebuehr");
    assert_eq!(l[0]["amount_cents"], 5323);
    assert_eq!(l[0]["seconds"], 950_400);
    assert_eq!(instant(&l[0]["from"]), at("2026-05-21T00:00"));
    assert_eq!(instant(&l[0]["to"]), at("2026-06-01T00:00"));
    assert!(l[0]["price_per_hour"].is_null(), "{}", l[0]);
    assert!(l[0]["booking_id"].is_null(), "{}", l[0]);
    assert!(l[0]["stage"].is_null(), "{}", l[0]);
    // Then the usage: 24 h = 86 400 s × 0,1180 € = 2,832 € → 2,83 €.
    assert_eq!(l[1]["kind"], "nutzung");
    assert_eq!(l[1]["booking_id"], b);
    assert_eq!(l[1]["seconds"], 86_400);
    assert_eq!(l[1]["amount_cents"], 283);
    // 53,23 € + 2,83 € = 56,06 €, of which 53,23 € base fee.
    assert_eq!(may["totals"]["total_cents"], 5606);
    assert_eq!(may["totals"]["base_fee_cents"], 5323);
    assert_eq!(
        may["totals"]["by_stage"],
        serde_json::json!([{"stage": "vorpruefung", "amount_cents": 283}])
    );

    // June, valid all 30 days: the whole 150,00 € and no usage.
    let june = statement(&app, &t.token, g.contract_id, "2026-06").await;
    assert_eq!(lines(&june).len(), 1, "{june:#}");
    assert_eq!(lines(&june)[0]["kind"], "grundgebuehr");
    assert_eq!(lines(&june)[0]["amount_cents"], 15000);
    assert_eq!(lines(&june)[0]["seconds"], 30 * DAY);
    assert_eq!(june["totals"]["total_cents"], 15000);

    // Before the contract begins there is no statement to ask for (a
    // well-formed month, refused by the contract's validity: 409).
    assert_refused_by_state(
        app.get(&statement_path(g.contract_id, "2026-04"), &t.token)
            .await,
        "month",
    )
    .await;
    // The customer's other contract bills by usage only: no base fee.
    let other = statement(&app, &t.token, t.contract_id, "2026-06").await;
    assert_lines(&other, &[]);

    // A contract that begins and ends inside February pays for the days
    // in between, both included: 10 to 20 February are 11 of 28 days;
    // 100,00 € × 11 / 28 = 39,2857 € → 39,29 €, over 950 400 s.
    let short = app
        .second_contract(&t, "gemischt", "100,00", ("2026-02-10", "2026-02-20"))
        .await;
    let february = statement(&app, &t.token, short.contract_id, "2026-02").await;
    assert_eq!(lines(&february).len(), 1, "{february:#}");
    let fee = &lines(&february)[0];
    assert_eq!(fee["kind"], "grundgebuehr");
    assert_eq!(fee["amount_cents"], 3929, "{fee}");
    assert_eq!(fee["seconds"], 950_400, "{fee}");
    assert_eq!(instant(&fee["from"]), at("2026-02-10T00:00"));
    assert_eq!(instant(&fee["to"]), at("2026-02-21T00:00"));
    for outside in ["2026-01", "2026-03"] {
        assert_refused_by_state(
            app.get(&statement_path(short.contract_id, outside), &t.token)
                .await,
            "month",
        )
        .await;
    }

    // Nordkreis' demo contract (Mischmodell, 150,00 €, valid all year):
    // March carries the whole fee over its 743 hours.
    let nord = app.demo().await.nordkreis;
    let token = app.token_for("systempfleger-nordkreis").await;
    let march = statement(&app, &token, nord.contract_id, "2026-03").await;
    assert_eq!(lines(&march)[0]["kind"], "grundgebuehr");
    assert_eq!(lines(&march)[0]["amount_cents"], 15000);
    assert_eq!(lines(&march)[0]["seconds"], 743 * HOUR);
    assert_eq!(march["totals"]["base_fee_cents"], 15000);
}

// ----- closing months -----------------------------------------------------

/// The statement without the fields that say whether it is final.
fn content(s: &Value) -> Value {
    let mut s = s.clone();
    let o = s.as_object_mut().expect("an object");
    o.remove("status");
    o.remove("closed_at");
    s
}

async fn a_closed_month_is_final_and_nothing_changes_it(app: TestApp) {
    let now = db::now();
    let current = Month::containing(now);
    let last = current.prev();
    let earlier = last.prev();
    let t = app.contract_with_room(10).await;
    let running = booked(
        &app,
        &t,
        "container-namespace",
        "S",
        last.start() + 2 * DAY,
        None,
    )
    .await;

    let live = statement(&app, &t.token, t.contract_id, &last.to_string()).await;
    assert_eq!(live["status"], "vorlaeufig");
    assert!(live["closed_at"].is_null());
    assert_eq!(lines(&live).len(), 1);
    let before = billing_rows(&app).await;
    let contracts = contracts_in(&app, last).await;
    assert!(contracts >= 1, "the tenant's contract at least");

    let report = close_month(app.db(), last, now).await.expect("closing");
    assert_eq!(report.closed, contracts, "{report:?}");
    assert_eq!(report.already, 0, "{report:?}");
    let after = billing_rows(&app).await;
    assert_eq!(after.0 - before.0, contracts as i64, "one statement each");
    assert_eq!(after.1 - before.1, report.lines as i64, "{report:?}");
    assert_eq!(after.2 - before.2, contracts as i64, "one audit entry each");

    let text = statement_text(&app, &t.token, t.contract_id, last).await;
    let closed: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(closed["status"], "endgueltig");
    assert_eq!(instant(&closed["closed_at"]), now);
    assert_eq!(
        content(&closed),
        content(&live),
        "closing writes what the month said"
    );
    let total = &closed["totals"]["total_cents"];
    assert_eq!(&closed["budget"]["cost_so_far_cents"], total);
    assert_eq!(&closed["budget"]["forecast_cents"], total);
    let list = expect_json(
        app.get(&format!("/api/v1/statements?month={last}"), &t.token)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(list["statements"][0]["status"], "endgueltig", "{list}");
    assert_eq!(&list["statements"][0]["total_cents"], total, "{list}");

    // Again: nothing more to do, nothing written.
    let again = close_month(app.db(), last, db::now())
        .await
        .expect("closing again");
    assert_eq!(
        again,
        CloseReport {
            closed: 0,
            already: contracts,
            lines: 0
        }
    );
    assert_eq!(
        billing_rows(&app).await,
        after,
        "closing again writes nothing"
    );

    // History changes after closing: another booking inside the month, a
    // new price version from the month before on, and a new customer name.
    let current_before = statement(&app, &t.token, t.contract_id, &current.to_string()).await;
    assert_eq!(lines(&current_before)[0]["price_per_hour"], "0.1180");
    let earlier_before = statement(&app, &t.token, t.contract_id, &earlier.to_string()).await;
    assert_lines(&earlier_before, &[]);
    let late = booked(
        &app,
        &t,
        "container-namespace",
        "S",
        earlier.start() + 20 * DAY,
        Some(last.start() + 5 * DAY),
    )
    .await;
    add_price(
        &app,
        size_id(&app, "container-namespace", "S").await,
        earlier.start() + 10 * DAY,
        2000,
    )
    .await;
    let system = seed::system_user(app.db()).await.unwrap();
    app::customers::rename(
        app.db(),
        &system,
        t.customer_id,
        &fixture_text("Umbenannter Kunde"),
        db::now(),
    )
    .await
    .unwrap();
    let mut changed = app::contracts::get(app.db(), &system, t.contract_id)
        .await
        .unwrap()
        .terms()
        .unwrap();
    changed.title = fixture_text("Neuer Titel");
    changed.kostenstelle = fixture_text("9999-9");
    changed.leitweg_id = fixture_text("04011000-77777-11");
    app::contracts::update(
        app.db(),
        &system,
        t.contract_id,
        &changed,
        None,
        false,
        db::now(),
    )
    .await
    .expect("contract data changed");

    assert_eq!(
        statement_text(&app, &t.token, t.contract_id, last).await,
        text,
        "the closed statement is byte for byte what it was"
    );
    // The open months do see the changes.
    let earlier_now = statement(&app, &t.token, t.contract_id, &earlier.to_string()).await;
    assert_eq!(lines(&earlier_now).len(), 1, "{earlier_now:#}");
    assert_eq!(lines(&earlier_now)[0]["booking_id"], late);
    assert_eq!(lines(&earlier_now)[0]["price_per_hour"], "0.2000");
    assert_eq!(earlier_now["customer_name"], "Umbenannter Kunde");
    assert_eq!(earlier_now["contract_title"], "Neuer Titel");
    assert_eq!(earlier_now["kostenstelle"], "9999-9");
    assert_eq!(earlier_now["leitweg_id"], "04011000-77777-11");
    let current_now = statement(&app, &t.token, t.contract_id, &current.to_string()).await;
    assert_eq!(lines(&current_now)[0]["booking_id"], running);
    assert_eq!(lines(&current_now)[0]["price_per_hour"], "0.2000");

    // And the database itself refuses to change a closed statement.
    let (statement_id,): (i64,) =
        sqlx::query_as("SELECT id FROM statements WHERE contract_id = $1 AND month = $2")
            .bind(t.contract_id)
            .bind(last.to_string())
            .fetch_one(&app.db().pool)
            .await
            .unwrap();
    for sql in [
        "UPDATE statement_lines SET amount_cents = 0 WHERE statement_id = $1",
        "DELETE FROM statement_lines WHERE statement_id = $1",
        "UPDATE statements SET total_cents = 0 WHERE id = $1",
        "DELETE FROM statements WHERE id = $1",
    ] {
        let err = sqlx::query(sql)
            .bind(statement_id)
            .execute(&app.db().pool)
            .await
            .expect_err(sql);
        assert!(
            err.to_string().contains("closed statements are final"),
            "{sql}: {err}"
        );
    }
    assert_eq!(billing_rows(&app).await.0, after.0);
    assert_eq!(billing_rows(&app).await.1, after.1);
    assert_eq!(
        statement_text(&app, &t.token, t.contract_id, last).await,
        text
    );
}

/// A final statement is what was invoiced: editing the contract afterwards
/// (here: a later start of validity, as when correcting a typo) must not make
/// it disappear. Either the edit is refused, or the statement stays readable
/// and exportable exactly as it was.
async fn a_closed_statement_stays_readable_when_the_contract_is_changed_later(app: TestApp) {
    let t = app.contract_with_room(10).await;
    booked(
        &app,
        &t,
        "container-namespace",
        "S",
        at("2026-06-16T09:30"),
        None,
    )
    .await;
    let finance = app
        .user_with_roles(Some(t.customer_id), &[Role::Finanzen])
        .await;
    close_month(app.db(), month("2026-06"), db::now())
        .await
        .expect("closing June");
    let text = statement_text(&app, &finance, t.contract_id, month("2026-06")).await;
    let closed: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(closed["status"], "endgueltig");
    assert_eq!(closed["totals"]["total_cents"], 4136);

    let system = seed::system_user(app.db()).await.unwrap();
    let mut later = app::contracts::get(app.db(), &system, t.contract_id)
        .await
        .unwrap()
        .terms()
        .unwrap();
    later.validity.from = "2026-07-01".parse().unwrap();
    if app::contracts::update(
        app.db(),
        &system,
        t.contract_id,
        &later,
        None,
        false,
        db::now(),
    )
    .await
    .is_err()
    {
        // Refused: the closed month stays inside the contract.
        return;
    }
    // Accepted: the final June statement must stay readable, listed and
    // exportable although the contract no longer covers June.
    let resp = app
        .get(&statement_path(t.contract_id, "2026-06"), &finance)
        .await;
    assert_eq!(resp.status(), StatusCode::OK, "the final June statement");
    assert_eq!(resp.text().await.unwrap(), text, "unchanged");
    let list = expect_json(
        app.get("/api/v1/statements?month=2026-06", &finance).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        list["statements"][0]["contract_id"], t.contract_id,
        "{list}"
    );
    assert_eq!(list["statements"][0]["status"], "endgueltig", "{list}");
    let csv = fetch_csv(
        &app,
        &csv_path(t.contract_id, "2026-06"),
        &finance,
        Format::German,
    )
    .await;
    assert_rows_say(&csv.rows, &closed, Format::German, "endgültig");
}

async fn only_a_month_that_is_over_can_be_closed(app: TestApp) {
    let now = db::now();
    let t = app.contract_with_room(10).await;
    let current = Month::containing(now);
    booked(&app, &t, "container-namespace", "S", current.start(), None).await;
    let before = billing_rows(&app).await;
    for m in [current, current.next()] {
        match close_month(app.db(), m, now).await {
            Err(Error::Validation(fields)) => {
                assert!(fields.get("month").is_some(), "{m}: {fields}")
            }
            other => panic!("closing {m} must be refused, got {other:?}"),
        }
    }
    assert_eq!(billing_rows(&app).await, before, "nothing written");
    let s = statement(&app, &t.token, t.contract_id, &current.to_string()).await;
    assert_eq!(s["status"], "vorlaeufig");
}

async fn two_simultaneous_closings_write_one_statement_per_contract(app: TestApp) {
    /// Closing runs at the same moment, as on that many replicas.
    const RUNS: usize = 4;
    let now = db::now();
    let months = [
        "2026-02", "2026-03", "2026-04", "2026-05", "2026-06", "2026-07",
    ];
    for (i, m) in months.into_iter().enumerate() {
        let m = month(m);
        let t = app.contract_with_room(10).await;
        for n in 0..3 {
            booked(
                &app,
                &t,
                "container-namespace",
                "S",
                m.start() + (n + i as i64 % 3) * DAY,
                Some(m.start() + (n + 5) * DAY),
            )
            .await;
        }
        let contracts = contracts_in(&app, m).await;
        let before = billing_rows(&app).await;
        let runs: Vec<_> = (0..RUNS)
            .map(|_| {
                let db = app.db().clone();
                tokio::spawn(async move { close_month(&db, m, now).await })
            })
            .collect();
        let mut reports = Vec::new();
        for run in runs {
            reports.push(run.await.unwrap().expect("a closing run"));
        }
        let closed: usize = reports.iter().map(|r| r.closed).sum();
        let already: usize = reports.iter().map(|r| r.already).sum();
        let lines_written: usize = reports.iter().map(|r| r.lines).sum();
        assert_eq!(closed, contracts, "{m}: each closed once: {reports:?}");
        assert_eq!(
            already,
            contracts * (RUNS - 1),
            "{m}: the others left it: {reports:?}"
        );

        let per_contract: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT contract_id, CAST(COUNT(*) AS BIGINT) FROM statements WHERE month = $1 \
             GROUP BY contract_id",
        )
        .bind(m.to_string())
        .fetch_all(&app.db().pool)
        .await
        .unwrap();
        assert_eq!(per_contract.len(), contracts, "{m}");
        assert!(
            per_contract.iter().all(|(_, n)| *n == 1),
            "{per_contract:?}"
        );
        let after = billing_rows(&app).await;
        assert_eq!(after.0 - before.0, contracts as i64);
        assert_eq!(after.1 - before.1, lines_written as i64);
        assert_eq!(after.2 - before.2, contracts as i64, "one audit entry each");
        let s = statement(&app, &t.token, t.contract_id, &m.to_string()).await;
        assert_eq!(s["status"], "endgueltig");
        assert_eq!(lines(&s).len(), 3);
    }
}

// ----- CSV exports ---------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    German,
    Rfc4180,
}

impl Format {
    const BOTH: [Format; 2] = [Format::German, Format::Rfc4180];

    fn query(self) -> &'static str {
        match self {
            Format::German => "",
            Format::Rfc4180 => "?format=rfc4180",
        }
    }

    fn delimiter(self) -> u8 {
        match self {
            Format::German => b';',
            Format::Rfc4180 => b',',
        }
    }

    fn decimal(self) -> char {
        match self {
            Format::German => ',',
            Format::Rfc4180 => '.',
        }
    }
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A CSV download: its rows below the header, and its file name.
struct Csv {
    rows: Vec<Vec<String>>,
    disposition: String,
}

/// Downloads a CSV in `format`, insisting on the headers, the BOM (German
/// only), CRLF line ends, UTF-8 and the header row; returns the data rows.
async fn fetch_csv(app: &TestApp, path: &str, token: &str, format: Format) -> Csv {
    let url = format!("{path}{}", format.query());
    let resp = app.get(&url, token).await;
    let status = resp.status();
    let content_type = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let disposition = resp
        .headers()
        .get(header::CONTENT_DISPOSITION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let raw = resp.bytes().await.expect("body").to_vec();
    assert_eq!(
        status,
        StatusCode::OK,
        "{url}: {}",
        String::from_utf8_lossy(&raw)
    );
    assert_eq!(content_type, "text/csv; charset=utf-8", "{url}");
    assert!(
        disposition.starts_with("attachment"),
        "{url}: {disposition}"
    );
    let body = match format {
        Format::German => {
            assert!(raw.starts_with(BOM), "{url}: German CSV starts with a BOM");
            &raw[BOM.len()..]
        }
        Format::Rfc4180 => {
            assert!(!raw.starts_with(BOM), "{url}: no BOM for machines");
            &raw[..]
        }
    };
    assert!(body.ends_with(b"\r\n"), "{url}: the last line ends in CRLF");
    let newlines = body.iter().filter(|b| **b == b'\n').count();
    let crlf = body.windows(2).filter(|w| *w == b"\r\n").count();
    assert_eq!(newlines, crlf, "{url}: every line ends in CRLF");
    std::str::from_utf8(body).expect("UTF-8");
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(format.delimiter())
        .has_headers(false)
        .from_reader(body);
    let mut rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| {
            r.unwrap_or_else(|e| panic!("{url}: not CSV: {e}"))
                .iter()
                .map(str::to_owned)
                .collect()
        })
        .collect();
    assert!(!rows.is_empty(), "{url}: a header row at least");
    let header = rows.remove(0);
    assert_eq!(header, COLUMNS, "{url}");
    Csv { rows, disposition }
}

fn col(name: &str) -> usize {
    COLUMNS
        .iter()
        .position(|c| *c == name)
        .unwrap_or_else(|| panic!("no column {name}"))
}

fn cell<'a>(row: &'a [String], name: &str) -> &'a str {
    &row[col(name)]
}

/// A fixed-point number with `scale` places in the format's notation
/// (`41,36` or `41.36`, no grouping), as an integer (`4136`).
fn fixed(text: &str, scale: usize, format: Format) -> i64 {
    let (whole, fraction) = text
        .split_once(format.decimal())
        .unwrap_or_else(|| panic!("{text:?} has no {:?}", format.decimal()));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    assert!(
        digits(whole) && digits(fraction) && fraction.len() == scale,
        "{text:?} is not a number with {scale} places after {:?}",
        format.decimal()
    );
    whole.parse::<i64>().unwrap() * 10_i64.pow(scale as u32) + fraction.parse::<i64>().unwrap()
}

/// The API's decimal strings (`"0.1180"`).
fn fixed_json(v: &Value, scale: usize) -> i64 {
    fixed(
        v.as_str().expect("a decimal string"),
        scale,
        Format::Rfc4180,
    )
}

/// What the export must make of text: a leading `=`, `+`, `-`, `@`, tab or
/// carriage return gets a `'` in front; anything else stays as it is.
fn neutralised(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
}

/// The export rows of one statement say, one per line and in its order,
/// what the statement's JSON says: address data, names, times, hours,
/// price and amount, cent for cent.
fn assert_rows_say(rows: &[Vec<String>], s: &Value, format: Format, status: &str) {
    let ls = lines(s);
    assert_eq!(rows.len(), ls.len(), "one row per line: {s:#}");
    let mut sum = 0;
    for (row, l) in rows.iter().zip(ls) {
        let at_row = format!("{format:?} row {row:?} for {l}");
        for (column, field) in [
            ("Vertragsnummer", "contract_number"),
            ("Kostenstelle", "kostenstelle"),
            ("Haushaltsstelle", "haushaltsstelle"),
            ("Leitweg-ID", "leitweg_id"),
            ("Kunde", "customer_name"),
        ] {
            assert_eq!(cell(row, column), neutralised(text(&s[field])), "{at_row}");
        }
        assert_eq!(cell(row, "Monat"), text(&s["month"]), "{at_row}");
        assert_eq!(cell(row, "Status"), status, "{at_row}");
        assert_eq!(cell(row, "Position"), l["position"].to_string(), "{at_row}");
        let fee = l["kind"] == "grundgebuehr";
        assert_eq!(
            cell(row, "Art"),
            if fee { "Grundgebühr" } else { "Nutzung" },
            "{at_row}"
        );
        assert_eq!(
            cell(row, "Verfahren"),
            neutralised(text(&l["application"])),
            "{at_row}"
        );
        let stage = if l["stage"].is_null() {
            ""
        } else {
            serde_json::from_value::<Stage>(l["stage"].clone())
                .unwrap()
                .label()
        };
        assert_eq!(cell(row, "Stufe"), stage, "{at_row}");
        assert_eq!(
            cell(row, "Produkt"),
            neutralised(text(&l["product"])),
            "{at_row}"
        );
        assert_eq!(
            cell(row, "Größe"),
            l["size"].as_str().unwrap_or(""),
            "{at_row}"
        );
        let booking = l["booking_id"]
            .as_i64()
            .map(|b| b.to_string())
            .unwrap_or_default();
        assert_eq!(cell(row, "Buchung"), booking, "{at_row}");
        for (column, field) in [("Von", "from"), ("Bis", "to")] {
            let c = cell(row, column);
            assert_eq!(instant_of(c), instant(&l[field]), "{at_row}");
            assert!(
                c.ends_with("+01:00") || c.ends_with("+02:00"),
                "German time: {at_row}"
            );
        }
        assert_eq!(
            fixed(cell(row, "Stunden"), 4, format),
            fixed_json(&l["hours"], 4),
            "{at_row}"
        );
        if l["price_per_hour"].is_null() {
            assert_eq!(cell(row, "Preis je Stunde (EUR)"), "", "{at_row}");
        } else {
            assert_eq!(
                fixed(cell(row, "Preis je Stunde (EUR)"), 4, format),
                fixed_json(&l["price_per_hour"], 4),
                "{at_row}"
            );
        }
        let amount = fixed(cell(row, "Betrag (EUR)"), 2, format);
        assert_eq!(amount, l["amount_cents"].as_i64().unwrap(), "{at_row}");
        sum += amount;
    }
    assert_eq!(
        s["totals"]["total_cents"], sum,
        "the rows add up to the total"
    );
}

fn csv_path(contract_id: i64, month: &str) -> String {
    format!("{}/csv", statement_path(contract_id, month))
}

/// A tenant with a Mischmodell contract whose June has a base fee, a running
/// booking, a one-hour booking worth one cent, and a production booking of
/// odd length: every kind of line, and amounts from 0,01 € up.
async fn tenant_with_a_june(app: &TestApp) -> (Tenant, Tenant) {
    let t = app.contract_with_room(10).await;
    let g = app
        .second_contract(&t, "gemischt", "150,00", ("2026-01-01", "2099-12-31"))
        .await;
    booked(
        app,
        &g,
        "container-namespace",
        "S",
        at("2026-06-16T09:30"),
        None,
    )
    .await;
    // 1 h × 0,0068 € = 0,0068 € → 0,01 €.
    booked(
        app,
        &g,
        "persistent-storage",
        "S",
        at("2026-06-02T10:00"),
        Some(at("2026-06-02T11:00")),
    )
    .await;
    // 4 days 13:17:11 = 393 431 s = 109,2864 h × 0,9440 € = 103,17 €.
    booked_in(
        app,
        &g,
        "produktion",
        "container-namespace",
        "XL",
        at("2026-06-01T00:00"),
        Some(at("2026-06-05T13:17:11")),
    )
    .await;
    (t, g)
}

async fn the_csv_export_says_cent_for_cent_what_the_statement_says(app: TestApp) {
    let (t, g) = tenant_with_a_june(&app).await;
    let finance = app
        .user_with_roles(Some(t.customer_id), &[Role::Finanzen])
        .await;
    let june = statement(&app, &finance, g.contract_id, "2026-06").await;
    assert_eq!(lines(&june).len(), 4, "{june:#}");
    // The one-cent line and the odd hours, as worked out above.
    assert!(
        lines(&june)
            .iter()
            .any(|l| l["amount_cents"] == 1 && l["hours"] == "1.0000")
    );
    assert!(
        lines(&june)
            .iter()
            .any(|l| l["amount_cents"] == 10317 && l["hours"] == "109.2864")
    );
    let number = text(&june["contract_number"]).to_owned();
    assert_eq!(june["kostenstelle"], "4711-2");
    assert_eq!(june["haushaltsstelle"], "0610.53200");
    assert_eq!(june["leitweg_id"], "04011000-99999-42");

    let mut open = Vec::new();
    for format in Format::BOTH {
        let csv = fetch_csv(&app, &csv_path(g.contract_id, "2026-06"), &finance, format).await;
        assert_eq!(
            csv.disposition,
            format!("attachment; filename=\"abrechnung-{number}-2026-06.csv\"")
        );
        assert_rows_say(&csv.rows, &june, format, "vorläufig");
        open.push(csv.rows);
    }
    // Decimal comma in the German file, decimal point in the machine file
    // (`fixed` above has already refused the other separator in every
    // number cell).
    let amount = col("Betrag (EUR)");
    assert!(open[0].iter().all(|r| r[amount].contains(',')));
    assert!(open[1].iter().all(|r| r[amount].contains('.')));

    // Closed, the export reads the stored lines: the same rows, now final.
    close_month(app.db(), month("2026-06"), db::now())
        .await
        .expect("closing June");
    let closed = statement(&app, &finance, g.contract_id, "2026-06").await;
    assert_eq!(content(&closed), content(&june));
    for (format, before) in Format::BOTH.into_iter().zip(open) {
        let csv = fetch_csv(&app, &csv_path(g.contract_id, "2026-06"), &finance, format).await;
        assert_rows_say(&csv.rows, &closed, format, "endgültig");
        let status = col("Status");
        let strip = |rows: &[Vec<String>]| -> Vec<Vec<String>> {
            rows.iter()
                .map(|r| {
                    let mut r = r.clone();
                    r.remove(status);
                    r
                })
                .collect()
        };
        assert_eq!(strip(&csv.rows), strip(&before), "{format:?}");
    }
}

/// The month export against the month's list: exactly the contracts with
/// lines, each with as many rows as lines and its total, cent for cent.
/// Returns the contract numbers and customer names in the file.
async fn assert_month_export(
    app: &TestApp,
    token: &str,
    m: &str,
    format: Format,
) -> (BTreeSet<String>, BTreeSet<String>) {
    let csv = fetch_csv(app, &format!("/api/v1/statements/{m}/csv"), token, format).await;
    assert_eq!(
        csv.disposition,
        format!("attachment; filename=\"abrechnung-{m}.csv\"")
    );
    let list = expect_json(
        app.get(&format!("/api/v1/statements?month={m}"), token)
            .await,
        StatusCode::OK,
    )
    .await;
    let mut in_file: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    let mut customers = BTreeSet::new();
    for row in &csv.rows {
        let e = in_file
            .entry(cell(row, "Vertragsnummer").to_owned())
            .or_default();
        e.0 += 1;
        e.1 += fixed(cell(row, "Betrag (EUR)"), 2, format);
        customers.insert(cell(row, "Kunde").to_owned());
        assert_eq!(cell(row, "Monat"), m);
    }
    let expected: BTreeMap<String, (i64, i64)> = list["statements"]
        .as_array()
        .expect("statements")
        .iter()
        .filter(|s| s["line_count"].as_i64().unwrap() > 0)
        .map(|s| {
            (
                text(&s["contract_number"]).to_owned(),
                (
                    s["line_count"].as_i64().unwrap(),
                    s["total_cents"].as_i64().unwrap(),
                ),
            )
        })
        .collect();
    assert_eq!(in_file, expected, "{format:?} month export of {m}");
    (in_file.into_keys().collect(), customers)
}

async fn the_month_export_holds_every_visible_contract_and_no_other(app: TestApp) {
    let (t, g) = tenant_with_a_june(&app).await;
    let numbers = |list: Value| -> BTreeSet<String> {
        list["statements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| text(&s["contract_number"]).to_owned())
            .collect()
    };
    let own = numbers(
        expect_json(
            app.get("/api/v1/statements?month=2026-06", &t.token).await,
            StatusCode::OK,
        )
        .await,
    );
    assert_eq!(own.len(), 2, "the tenant's two contracts: {own:?}");
    let g_number =
        text(&statement(&app, &t.token, g.contract_id, "2026-06").await["contract_number"])
            .to_owned();
    let demo: BTreeSet<String> = ["DLV-2026-0042", "DLV-2026-0107", "DLV-2026-0311"]
        .map(String::from)
        .into();

    let provider = app.token_for("finanzen-rz").await;
    let tenant_finance = app
        .user_with_roles(Some(t.customer_id), &[Role::Finanzen])
        .await;
    let musterhausen = app.token_for("finanzen").await;
    // Open and rated live, then closed and read from the stored lines.
    for closed in [false, true] {
        if closed {
            close_month(app.db(), month("2026-06"), db::now())
                .await
                .expect("closing June");
        }
        for format in Format::BOTH {
            let (in_file, customers) =
                assert_month_export(&app, &provider, "2026-06", format).await;
            assert!(
                in_file.is_superset(&demo) && in_file.contains(&g_number),
                "provider finance gets every customer's rows: {in_file:?}"
            );
            assert!(customers.len() >= 4, "{customers:?}");

            let (in_file, customers) =
                assert_month_export(&app, &tenant_finance, "2026-06", format).await;
            assert_eq!(
                in_file,
                BTreeSet::from([g_number.clone()]),
                "closed: {closed}"
            );
            assert!(in_file.is_subset(&own));
            assert_eq!(customers.len(), 1, "{customers:?}");

            let (in_file, _) = assert_month_export(&app, &musterhausen, "2026-06", format).await;
            assert_eq!(
                in_file,
                BTreeSet::from(["DLV-2026-0042".to_owned()]),
                "closed: {closed}"
            );
        }
    }
}

async fn text_a_spreadsheet_would_run_as_a_formula_is_neutralised(app: TestApp) {
    const CUSTOMER: &str = "=HYPERLINK(\"http://evil.example\",\"klick\")";
    let t = app.contract_with_room(10).await;
    let system = seed::system_user(app.db()).await.unwrap();
    app::customers::rename(
        app.db(),
        &system,
        t.customer_id,
        &fixture_text(CUSTOMER),
        db::now(),
    )
    .await
    .expect("rename");
    let mut tenants = vec![t.clone()];
    for (slug, name) in [("summe", "+SUM(1)"), ("kommando", "@cmd")] {
        let application = NewApplication {
            contract_id: t.contract_id,
            slug: Slug::parse(slug).unwrap(),
            name: fixture_text(name),
        };
        let application_id =
            app::applications::create(app.db(), &system, t.customer_id, &application, db::now())
                .await
                .expect("application");
        tenants.push(Tenant {
            application_id,
            ..t.clone()
        });
    }
    for (i, tenant) in tenants.iter().enumerate() {
        booked(
            &app,
            tenant,
            "container-namespace",
            "S",
            at("2026-06-10T00:00") + i as i64 * DAY,
            Some(at("2026-06-20T00:00")),
        )
        .await;
    }
    let finance = app
        .user_with_roles(Some(t.customer_id), &[Role::Finanzen])
        .await;
    let june = statement(&app, &finance, t.contract_id, "2026-06").await;
    // The API hands out the names as they are.
    assert_eq!(june["customer_name"], CUSTOMER);
    let mut apps: Vec<&str> = lines(&june)
        .iter()
        .map(|l| text(&l["application"]))
        .collect();
    apps.sort_unstable();
    assert_eq!(apps, ["+SUM(1)", "@cmd", "Testverfahren"]);

    let provider = app.token_for("finanzen-rz").await;
    for format in Format::BOTH {
        let csv = fetch_csv(&app, &csv_path(t.contract_id, "2026-06"), &finance, format).await;
        // Everything else in the rows as the statement says.
        assert_rows_say(&csv.rows, &june, format, "vorläufig");
        for row in &csv.rows {
            assert_eq!(
                cell(row, "Kunde"),
                "'=HYPERLINK(\"http://evil.example\",\"klick\")"
            );
            assert_eq!(cell(row, "Vertragsnummer"), text(&june["contract_number"]));
        }
        let mut apps: Vec<&str> = csv.rows.iter().map(|r| cell(r, "Verfahren")).collect();
        apps.sort_unstable();
        assert_eq!(apps, ["'+SUM(1)", "'@cmd", "Testverfahren"], "{format:?}");

        // The same in the month export.
        let all = fetch_csv(&app, "/api/v1/statements/2026-06/csv", &provider, format).await;
        let ours: Vec<&Vec<String>> = all
            .rows
            .iter()
            .filter(|r| cell(r, "Vertragsnummer") == text(&june["contract_number"]))
            .collect();
        assert_eq!(ours.len(), 3);
        for (row, line) in ours.iter().zip(&csv.rows) {
            assert_eq!(*row, line, "{format:?}");
        }
        // No other cell in the whole file starts a formula.
        for row in &all.rows {
            for c in row {
                assert!(
                    !c.starts_with(['=', '+', '-', '@', '\t', '\r']),
                    "{format:?}: {c:?} in {row:?}"
                );
            }
        }
    }
}

// ----- tenants and roles --------------------------------------------------

/// The billing routes of one contract, with a month that exists and some
/// that do not (an invisible contract is 404 before its month is looked at).
fn contract_routes(contract_id: i64) -> Vec<String> {
    vec![
        statement_path(contract_id, "2026-06"),
        csv_path(contract_id, "2026-06"),
        format!("{}?format=rfc4180", csv_path(contract_id, "2026-06")),
        format!("/api/v1/contracts/{contract_id}/budget"),
        statement_path(contract_id, "2026-13"),
        csv_path(contract_id, "2025-12"),
        format!("{}?format=xlsx", csv_path(contract_id, "2026-06")),
    ]
}

async fn another_tenants_statements_are_not_found_on_every_billing_route(app: TestApp) {
    let d = app.demo().await;
    let (mh, nk) = (&d.musterhausen, &d.nordkreis);
    let t = app.contract_with_room(10).await;
    booked(
        &app,
        &t,
        "container-namespace",
        "S",
        at("2026-06-01T00:00"),
        None,
    )
    .await;
    let tenant_finance = app
        .user_with_roles(Some(t.customer_id), &[Role::Finanzen])
        .await;
    let nordkreis_finance = app.user_with_roles(Some(nk.id), &[Role::Finanzen]).await;
    let before = (app.counts().await, billing_rows(&app).await);

    let cases = [
        (
            app.token_for("finanzen").await,
            mh.contract_id,
            vec![nk.contract_id, t.contract_id],
        ),
        (
            nordkreis_finance,
            nk.contract_id,
            vec![mh.contract_id, t.contract_id],
        ),
        (
            tenant_finance,
            t.contract_id,
            vec![mh.contract_id, nk.contract_id],
        ),
    ];
    for (token, own, others) in &cases {
        for other in others {
            for (theirs, missing) in contract_routes(*other)
                .into_iter()
                .zip(contract_routes(MISSING))
            {
                let expected = assert_not_found(app.get(&missing, token).await).await;
                let body = assert_not_found(app.get(&theirs, token).await).await;
                assert_eq!(
                    body, expected,
                    "{theirs} answers exactly like a contract that does not exist"
                );
            }
        }
        // Their own statements they do get, and the list holds only them.
        let s = statement(&app, token, *own, "2026-06").await;
        assert!(!lines(&s).is_empty());
        fetch_csv(&app, &csv_path(*own, "2026-06"), token, Format::German).await;
        let list = expect_json(
            app.get("/api/v1/statements?month=2026-06", token).await,
            StatusCode::OK,
        )
        .await;
        let listed: Vec<&Value> = list["statements"].as_array().unwrap().iter().collect();
        assert_eq!(listed.len(), 1, "{list}");
        assert_eq!(listed[0]["contract_id"], *own, "{list}");
        assert_eq!(listed[0]["customer_id"], s["customer_id"], "{list}");
    }
    assert_eq!(
        (app.counts().await, billing_rows(&app).await),
        before,
        "nothing written"
    );
}

async fn roles_decide_who_reads_statements_and_who_exports_them(app: TestApp) {
    let d = app.demo().await;
    let contracts = [
        d.musterhausen.contract_id,
        d.lastat.contract_id,
        d.nordkreis.contract_id,
    ];
    let mh = d.musterhausen.contract_id;
    let json = statement_path(mh, "2026-06");
    let csv = csv_path(mh, "2026-06");
    let budget = format!("/api/v1/contracts/{mh}/budget");
    let list = "/api/v1/statements?month=2026-06";
    let month_csv = "/api/v1/statements/2026-06/csv";
    let before = (app.counts().await, billing_rows(&app).await);

    // Developers see no money at all.
    let dev = app.token_for("entwickler").await;
    for path in [
        json.as_str(),
        csv.as_str(),
        budget.as_str(),
        list,
        month_csv,
    ] {
        assert_forbidden(app.get(path, &dev).await).await;
    }
    assert_forbidden(app.get(&format!("{csv}?format=rfc4180"), &dev).await).await;
    // Still, another tenant's contract does not exist for them either.
    assert_not_found(
        app.get(&statement_path(d.nordkreis.contract_id, "2026-06"), &dev)
            .await,
    )
    .await;

    // Systempfleger:innen and application owners read, but do not export.
    for login in ["systempfleger", "verfahrensverantwortliche"] {
        let token = app.token_for(login).await;
        let s = statement(&app, &token, mh, "2026-06").await;
        assert!(!lines(&s).is_empty(), "{login}");
        let b = expect_json(app.get(&budget, &token).await, StatusCode::OK).await;
        assert!(b["level"].is_string(), "{b}");
        let l = expect_json(app.get(list, &token).await, StatusCode::OK).await;
        assert_eq!(l["statements"].as_array().unwrap().len(), 1, "{l}");
        assert_forbidden(app.get(&csv, &token).await).await;
        assert_forbidden(app.get(&format!("{csv}?format=rfc4180"), &token).await).await;
        assert_forbidden(app.get(month_csv, &token).await).await;
    }

    // Finance of the customer reads and exports its own.
    let finance = app.token_for("finanzen").await;
    statement(&app, &finance, mh, "2026-06").await;
    expect_json(app.get(&budget, &finance).await, StatusCode::OK).await;
    for format in Format::BOTH {
        fetch_csv(&app, &csv_path(mh, "2026-06"), &finance, format).await;
        fetch_csv(&app, month_csv, &finance, format).await;
    }

    // The Betreiber and the provider's finance read and export everything.
    for login in ["betreiber", "finanzen-rz"] {
        let token = app.token_for(login).await;
        for c in contracts {
            let s = statement(&app, &token, c, "2026-06").await;
            assert!(!lines(&s).is_empty(), "{login}: {s}");
            expect_json(
                app.get(&format!("/api/v1/contracts/{c}/budget"), &token)
                    .await,
                StatusCode::OK,
            )
            .await;
            for format in Format::BOTH {
                let file = fetch_csv(&app, &csv_path(c, "2026-06"), &token, format).await;
                assert_rows_say(&file.rows, &s, format, "vorläufig");
            }
        }
        let l = expect_json(app.get(list, &token).await, StatusCode::OK).await;
        let mut listed: Vec<i64> = l["statements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["contract_id"].as_i64().unwrap())
            .collect();
        listed.sort_unstable();
        let mut all = contracts.to_vec();
        all.sort_unstable();
        assert_eq!(listed, all, "{login}");
        for format in Format::BOTH {
            assert_month_export(&app, &token, "2026-06", format).await;
        }
    }
    assert_eq!(
        (app.counts().await, billing_rows(&app).await),
        before,
        "reading writes nothing"
    );
}

// ----- bad input ----------------------------------------------------------

async fn bad_months_formats_ids_and_tokens_are_problems_that_change_nothing(app: TestApp) {
    let d = app.demo().await;
    let c = d.musterhausen.contract_id;
    let finance = app.token_for("finanzen").await;
    let before = (app.counts().await, billing_rows(&app).await);
    let now = db::now();
    let next = Month::containing(now).next().to_string();

    // Malformed months: 422.
    let bad = [
        "2026-13",
        "2026-1",
        "abc",
        "2026-00",
        "1999-12",
        "2026-06-01",
        "06-2026",
        "2026_06",
    ];
    for m in bad {
        assert_validation(app.get(&statement_path(c, m), &finance).await, "month").await;
        assert_validation(app.get(&csv_path(c, m), &finance).await, "month").await;
        assert_validation(
            app.get(&format!("/api/v1/statements/{m}/csv"), &finance)
                .await,
            "month",
        )
        .await;
        assert_validation(
            app.get(&format!("/api/v1/statements?month={m}"), &finance)
                .await,
            "month",
        )
        .await;
    }
    // Well-formed months that have not begun: the calendar refuses, 409.
    for m in ["2099-12", next.as_str()] {
        assert_refused_by_state(app.get(&statement_path(c, m), &finance).await, "month").await;
        assert_refused_by_state(app.get(&csv_path(c, m), &finance).await, "month").await;
        assert_refused_by_state(
            app.get(&format!("/api/v1/statements/{m}/csv"), &finance)
                .await,
            "month",
        )
        .await;
        assert_refused_by_state(
            app.get(&format!("/api/v1/statements?month={m}"), &finance)
                .await,
            "month",
        )
        .await;
    }
    assert_validation(
        app.get("/api/v1/statements?month=", &finance).await,
        "month",
    )
    .await;
    // Musterhausen's contract is valid from 2026-01-01 to 2028-12-31.
    // Outside it: well-formed months the contract refuses (409).
    for m in ["2025-12", "2020-01"] {
        assert_refused_by_state(app.get(&statement_path(c, m), &finance).await, "month").await;
        assert_refused_by_state(app.get(&csv_path(c, m), &finance).await, "month").await;
    }
    // Unknown export formats.
    for format in ["xlsx", "RFC4180", "json"] {
        assert_validation(
            app.get(
                &format!("{}?format={format}", csv_path(c, "2026-06")),
                &finance,
            )
            .await,
            "format",
        )
        .await;
        assert_validation(
            app.get(
                &format!("/api/v1/statements/2026-06/csv?format={format}"),
                &finance,
            )
            .await,
            "format",
        )
        .await;
    }
    // Ids that are not ids.
    for bad_id in ["abc", "-1", "0", "1.5", "12abc", "99999999999999999999"] {
        for path in [
            format!("/api/v1/contracts/{bad_id}/statements/2026-06"),
            format!("/api/v1/contracts/{bad_id}/statements/2026-06/csv"),
            format!("/api/v1/contracts/{bad_id}/budget"),
        ] {
            assert_not_found(app.get(&path, &finance).await).await;
        }
    }
    // No token, or one nobody issued.
    for path in [
        statement_path(c, "2026-06"),
        csv_path(c, "2026-06"),
        format!("/api/v1/contracts/{c}/budget"),
        "/api/v1/statements?month=2026-06".to_owned(),
        "/api/v1/statements/2026-06/csv".to_owned(),
    ] {
        assert_unauthorized(app.request(Method::GET, &path).send().await.unwrap()).await;
        assert_unauthorized(app.get(&path, "kontor_not-a-token").await).await;
    }
    assert_eq!(
        (app.counts().await, billing_rows(&app).await),
        before,
        "nothing written"
    );
}

// ----- budget watch -------------------------------------------------------

async fn budget(app: &TestApp, token: &str, contract_id: i64) -> Value {
    expect_json(
        app.get(&format!("/api/v1/contracts/{contract_id}/budget"), token)
            .await,
        StatusCode::OK,
    )
    .await
}

async fn the_budget_watch_warns_at_80_and_100_percent_of_the_forecast(app: TestApp) {
    // The budget is exactly the planning month (730 h) of one S namespace:
    // 730 h × 0,1180 € = 86,14 €. The Kontingent admits that one booking.
    let t = app
        .tenant(ContractSpec {
            monthly_budget: "86,14".into(),
            ..ContractSpec::default()
        })
        .await;
    let this = Month::containing(db::now());
    let start = this.start();
    booked(&app, &t, "container-namespace", "S", start, None).await;
    let refused = app
        .book(
            &t.token,
            t.application_id,
            "vorpruefung",
            "container-namespace",
            "S",
        )
        .await;
    let p = assert_problem(refused, StatusCode::CONFLICT, "kontingent-exceeded").await;
    assert_eq!(p["limit"], "monthly_budget", "{p}");

    // Running the whole month, the forecast is the month's hours at the
    // rate: 672 to 745 hours against the 730 the budget is planned for, so
    // at least 92 %: a warning, or overrun in a month longer than 730 h.
    let whole_month = cost(CONTAINER_S, this.end() - start);
    let t0 = db::now();
    let w = budget(&app, &t.token, t.contract_id).await;
    let t1 = db::now();
    assert_eq!(w["month"], this.to_string());
    assert_eq!(w["monthly_budget_cents"], 8614);
    assert_eq!(w["forecast_cents"], whole_month, "{w}");
    assert_eq!(w["forecast_percent"], whole_month * 100 / 8614, "{w}");
    let so_far = w["cost_so_far_cents"].as_i64().unwrap();
    assert!(
        (cost(CONTAINER_S, t0 - start)..=cost(CONTAINER_S, t1 - start)).contains(&so_far),
        "so far is the month up to now: {w}"
    );
    assert!(so_far <= whole_month, "{w}");
    let expected = if whole_month >= 8614 {
        "ueberschritten"
    } else {
        "warnung"
    };
    assert_eq!(w["level"], expected, "{w}");

    // A cancelled booking costs what it ran and no more: XL for the first
    // ten minutes of the month (600 s × 0,9440 €/h = 0,157 € → 0,16 €).
    sqlx::query("UPDATE contracts SET monthly_budget_cents = 10000000 WHERE id = $1")
        .bind(t.contract_id)
        .execute(&app.db().pool)
        .await
        .unwrap();
    let xl = id(&app
        .book_ok(
            &t.token,
            t.application_id,
            "produktion",
            "container-namespace",
            "XL",
        )
        .await);
    expect_json(app.cancel(&t.token, xl).await, StatusCode::OK).await;
    place(&app, xl, start, Some(start + 600)).await;
    let forecast = whole_month + cost(CONTAINER_XL, 600);
    let so_far_at = |now: i64| {
        cost(CONTAINER_S, now - start) + cost(CONTAINER_XL, now.min(start + 600) - start)
    };

    // The levels, with the budget set around the forecast.
    let warn_from = forecast * 5 / 4; // the largest budget of which it is 80 %
    for (budget_cents, level) in [
        (forecast * 10, "ok"),
        (warn_from + 1, "ok"),
        (warn_from, "warnung"),
        (forecast + 1, "warnung"),
        (forecast, "ueberschritten"),
        (forecast / 2, "ueberschritten"),
        // Without a budget there is nothing to overrun.
        (0, "ok"),
    ] {
        sqlx::query("UPDATE contracts SET monthly_budget_cents = $1 WHERE id = $2")
            .bind(budget_cents)
            .bind(t.contract_id)
            .execute(&app.db().pool)
            .await
            .unwrap();
        let t0 = db::now();
        let w = budget(&app, &t.token, t.contract_id).await;
        let t1 = db::now();
        let context = format!("budget {budget_cents}: {w}");
        assert_eq!(w["monthly_budget_cents"], budget_cents, "{context}");
        assert_eq!(w["forecast_cents"], forecast, "{context}");
        assert_eq!(w["level"], level, "{context}");
        let percent = if budget_cents > 0 {
            forecast * 100 / budget_cents
        } else {
            0
        };
        assert_eq!(w["forecast_percent"], percent, "{context}");
        let so_far = w["cost_so_far_cents"].as_i64().unwrap();
        assert!(
            (so_far_at(t0)..=so_far_at(t1)).contains(&so_far),
            "{context}"
        );
        assert!(so_far <= forecast, "{context}");
        assert!(
            w["cost_so_far_percent"].as_i64().unwrap() <= percent,
            "{context}"
        );

        // The statement of the month and the month's list say the same.
        let s = statement(&app, &t.token, t.contract_id, &this.to_string()).await;
        assert_eq!(s["budget"]["level"], level, "{context}: {}", s["budget"]);
        assert_eq!(s["budget"]["forecast_cents"], forecast, "{context}");
        let list = expect_json(
            app.get("/api/v1/statements", &t.token).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(list["month"], this.to_string());
        assert_eq!(
            list["statements"][0]["budget"]["level"], level,
            "{context}: {list}"
        );
        assert_eq!(
            list["statements"][0]["budget"]["forecast_cents"], forecast,
            "{context}"
        );
    }

    // A past month's statement measures its total against the budget, to
    // the cent: 16 June 09:30 to the end of June is 41,36 € (see above),
    // and 41,36 € is 80 % of 51,70 €.
    let past = app.contract_with_room(10).await;
    booked(
        &app,
        &past,
        "container-namespace",
        "S",
        at("2026-06-16T09:30"),
        Some(at("2026-07-01T00:00")),
    )
    .await;
    for (budget_cents, level, percent) in [
        (5171_i64, "ok", 79),
        (5170, "warnung", 80),
        (4137, "warnung", 99),
        (4136, "ueberschritten", 100),
    ] {
        sqlx::query("UPDATE contracts SET monthly_budget_cents = $1 WHERE id = $2")
            .bind(budget_cents)
            .bind(past.contract_id)
            .execute(&app.db().pool)
            .await
            .unwrap();
        let s = statement(&app, &past.token, past.contract_id, "2026-06").await;
        let w = &s["budget"];
        assert_eq!(w["month"], "2026-06", "{w}");
        assert_eq!(w["cost_so_far_cents"], 4136, "{w}");
        assert_eq!(
            w["forecast_cents"], 4136,
            "a past month has nothing left to forecast: {w}"
        );
        assert_eq!(w["monthly_budget_cents"], budget_cents, "{w}");
        assert_eq!(w["forecast_percent"], percent, "{w}");
        assert_eq!(w["cost_so_far_percent"], percent, "{w}");
        assert_eq!(w["level"], level, "{w}");
    }

    // A tenant far below its budget: ok.
    let small = app.contract_with_room(10).await;
    booked(&app, &small, "container-namespace", "S", start, None).await;
    let w = budget(&app, &small.token, small.contract_id).await;
    assert_eq!(w["level"], "ok", "{w}");
    assert_eq!(w["forecast_percent"], 0, "{w}");
    assert!(w["forecast_cents"].as_i64() >= w["cost_so_far_cents"].as_i64());
}
