//! What the read side shows: the catalogue, contracts with used and remaining
//! Kontingent in step with the bookings, and the paginated, filtered booking
//! list.

use std::collections::{HashMap, HashSet};

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::{TestApp, expect_json, id};

async fn contract_views(app: &TestApp, token: &str, contract_id: i64) -> Value {
    let one = expect_json(
        app.get(&format!("/api/v1/contracts/{contract_id}"), token)
            .await,
        StatusCode::OK,
    )
    .await;
    let list = expect_json(app.get("/api/v1/contracts", token).await, StatusCode::OK).await;
    let in_list = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| id(c) == contract_id)
        .unwrap_or_else(|| panic!("contract {contract_id} not in {list}"))
        .clone();
    assert_eq!(in_list, one, "list and detail agree");
    one
}

/// `remaining` is `kontingent` minus `used`, in every dimension.
fn assert_remaining_is_the_rest(c: &Value) {
    for dim in [
        "vcpu_millicores",
        "memory_mib",
        "storage_gib",
        "monthly_budget_cents",
    ] {
        assert_eq!(
            c["remaining"][dim].as_i64().unwrap(),
            c["kontingent"][dim].as_i64().unwrap() - c["used"][dim].as_i64().unwrap(),
            "{dim} in {c}"
        );
    }
}

async fn page(app: &TestApp, token: &str, query: &str) -> Value {
    expect_json(
        app.get(&format!("/api/v1/bookings?{query}"), token).await,
        StatusCode::OK,
    )
    .await
}

/// A booking made by a test, with what it was booked as.
struct Booked {
    id: i64,
    stage: &'static str,
    product: &'static str,
    size: &'static str,
}

fn item_ids(page: &Value) -> Vec<i64> {
    page["items"].as_array().unwrap().iter().map(id).collect()
}

api_tests! {
    the_catalogue_lists_both_products_in_four_sizes_with_exact_prices,
    the_contract_shows_used_and_remaining_in_step_with_bookings,
    the_demo_contracts_add_up_to_their_open_bookings,
    the_booking_list_pages_newest_first_without_gaps_or_repeats,
    the_booking_list_filters_by_stage_product_size_state_application_and_customer,
    the_unfiltered_totals_count_every_booking_through_moves_and_cancellations,
}

async fn the_catalogue_lists_both_products_in_four_sizes_with_exact_prices(app: TestApp) {
    let token = app.token_for("entwickler").await;
    let catalog = expect_json(app.get("/api/v1/catalog", &token).await, StatusCode::OK).await;
    let products: HashMap<&str, &Value> = catalog["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["slug"].as_str().unwrap(), p))
        .collect();
    let ns = products["container-namespace"];
    let sizes: Vec<&str> = ns["sizes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["size"].as_str().unwrap())
        .collect();
    assert_eq!(sizes, ["S", "M", "L", "XL"]);
    let s = &ns["sizes"][0];
    assert_eq!(s["resources"]["millicpu"], 2000);
    assert_eq!(s["resources"]["memory_mib"], 8192);
    assert_eq!(s["price_per_hour"], "0.1180");
    assert_eq!(s["price_per_month_cents"], 8614);
    assert_eq!(ns["sizes"][3]["resources"]["millicpu"], 16_000);
    let storage = products["persistent-storage"];
    assert_eq!(storage["sizes"][0]["resources"]["storage_gib"], 50);
    assert_eq!(storage["sizes"][3]["resources"]["storage_gib"], 500);
}

async fn the_contract_shows_used_and_remaining_in_step_with_bookings(app: TestApp) {
    let t = app.contract_with_room(20).await;
    let empty = contract_views(&app, &t.token, t.contract_id).await;
    assert_eq!(empty["kontingent"]["vcpu_millicores"], 20_000);
    assert_eq!(empty["kontingent"]["monthly_budget_cents"], 10_000_000);
    assert_eq!(empty["used"]["vcpu_millicores"], 0);
    assert_eq!(empty["used"]["monthly_budget_cents"], 0);
    assert_remaining_is_the_rest(&empty);

    app.book_ok(
        &t.token,
        t.application_id,
        "vorpruefung",
        "container-namespace",
        "S",
    )
    .await;
    let m = app
        .book_ok(
            &t.token,
            t.application_id,
            "abnahme",
            "container-namespace",
            "M",
        )
        .await;
    let storage = app
        .book_ok(
            &t.token,
            t.application_id,
            "produktion",
            "persistent-storage",
            "M",
        )
        .await;
    let c = contract_views(&app, &t.token, t.contract_id).await;
    assert_eq!(c["used"]["vcpu_millicores"], 6_000);
    assert_eq!(c["used"]["memory_mib"], 24 * 1024);
    assert_eq!(c["used"]["storage_gib"], 100);
    // (0,1180 + 0,2360 + 0,0137) € × 730 h = 268,421 € → 268,42 €.
    assert_eq!(c["used"]["monthly_budget_cents"], 26_842);
    assert_eq!(c["remaining"]["vcpu_millicores"], 14_000);
    assert_remaining_is_the_rest(&c);

    expect_json(app.resize(&t.token, id(&m), "L").await, StatusCode::OK).await;
    expect_json(app.cancel(&t.token, id(&storage)).await, StatusCode::OK).await;
    let c = contract_views(&app, &t.token, t.contract_id).await;
    assert_eq!(c["used"]["vcpu_millicores"], 10_000);
    assert_eq!(c["used"]["memory_mib"], 40 * 1024);
    assert_eq!(c["used"]["storage_gib"], 0);
    // (0,1180 + 0,4720) € × 730 h = 430,70 €.
    assert_eq!(c["used"]["monthly_budget_cents"], 43_070);
    assert_remaining_is_the_rest(&c);
}

async fn the_demo_contracts_add_up_to_their_open_bookings(app: TestApp) {
    let token = app.token_for("betreiber").await;
    let contracts = expect_json(app.get("/api/v1/contracts", &token).await, StatusCode::OK).await;
    let bookings = page(&app, &token, "limit=200").await;
    assert_eq!(
        bookings["total"].as_i64().unwrap(),
        bookings["items"].as_array().unwrap().len() as i64
    );
    for c in contracts["items"].as_array().unwrap() {
        let open: Vec<&Value> = bookings["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|b| b["contract_id"] == c["id"] && b["state"] != "gekuendigt")
            .collect();
        assert!(!open.is_empty());
        for (dim, field) in [
            ("vcpu_millicores", "millicpu"),
            ("memory_mib", "memory_mib"),
            ("storage_gib", "storage_gib"),
        ] {
            let sum: i64 = open
                .iter()
                .map(|b| b["resources"][field].as_i64().unwrap())
                .sum();
            assert_eq!(c["used"][dim], sum, "{dim} of {}", c["number"]);
        }
        // The budget counts 730 h of each booking's price, rounded once,
        // plus the base fee.
        let exact: i64 = open
            .iter()
            .map(|b| {
                let (euros, frac) = b["price_per_hour"]
                    .as_str()
                    .unwrap()
                    .split_once('.')
                    .unwrap();
                euros.parse::<i64>().unwrap() * 10_000 + frac.parse::<i64>().unwrap()
            })
            .sum::<i64>()
            * 730;
        let base_fee = c["base_fee_cents"].as_i64().unwrap();
        assert_eq!(
            c["used"]["monthly_budget_cents"].as_i64().unwrap(),
            (exact + 50) / 100 + base_fee,
            "{}",
            c["number"]
        );
        assert_remaining_is_the_rest(c);
    }
}

async fn the_booking_list_pages_newest_first_without_gaps_or_repeats(app: TestApp) {
    let t = app.contract_with_room(100).await;
    let mut booked = Vec::new();
    for _ in 0..7 {
        booked.push(id(&app
            .book_ok(
                &t.token,
                t.application_id,
                "vorpruefung",
                "container-namespace",
                "S",
            )
            .await));
    }
    let default = page(&app, &t.token, "").await;
    assert_eq!(default["total"].as_i64(), Some(7));
    assert_eq!(default["items"].as_array().unwrap().len(), 7, "50 per page");
    assert!(default["next"].is_null(), "{default}");

    let mut seen = Vec::new();
    let mut query = "limit=3".to_owned();
    for expected in [3, 3, 1] {
        let p = page(&app, &t.token, &query).await;
        assert_eq!(p["total"], 7);
        assert_eq!(p["items"].as_array().unwrap().len(), expected, "{query}");
        seen.extend(item_ids(&p));
        if let Some(next) = p["next"].as_str() {
            query = format!("limit=3&cursor={next}");
        } else {
            assert_eq!(expected, 1, "the last page has no next: {p}");
        }
    }
    booked.reverse();
    assert_eq!(seen, booked, "newest first, every booking exactly once");
    // Oldest first on request, the same bookings.
    let oldest = page(&app, &t.token, "sort=id").await;
    let mut again = item_ids(&oldest);
    again.reverse();
    assert_eq!(again, booked);
    // Past the end: an empty page, no next.
    let past = page(&app, &t.token, "cursor=100").await;
    assert!(past["items"].as_array().unwrap().is_empty());
    assert!(past["next"].is_null());
}

async fn the_booking_list_filters_by_stage_product_size_state_application_and_customer(
    app: TestApp,
) {
    let t = app.contract_with_room(100).await;
    let mut by = Vec::new();
    for (stage, product, size) in [
        ("vorpruefung", "container-namespace", "S"),
        ("vorpruefung", "persistent-storage", "S"),
        ("abnahme", "container-namespace", "M"),
        ("abnahme", "container-namespace", "S"),
        ("produktion", "container-namespace", "L"),
        ("produktion", "persistent-storage", "M"),
    ] {
        let id = id(&app
            .book_ok(&t.token, t.application_id, stage, product, size)
            .await);
        by.push(Booked {
            id,
            stage,
            product,
            size,
        });
    }
    let cancelled = by[3].id;
    expect_json(app.cancel(&t.token, cancelled).await, StatusCode::OK).await;
    app.settle().await;

    let expect = |pred: &dyn Fn(&Booked) -> bool| -> HashSet<i64> {
        by.iter().filter(|b| pred(b)).map(|b| b.id).collect()
    };
    let cases: Vec<(String, HashSet<i64>)> = vec![
        ("stage=abnahme".into(), expect(&|b| b.stage == "abnahme")),
        (
            "product=persistent-storage".into(),
            expect(&|b| b.product == "persistent-storage"),
        ),
        ("size=S".into(), expect(&|b| b.size == "S")),
        (
            "size=S&product=container-namespace".into(),
            expect(&|b| b.size == "S" && b.product == "container-namespace"),
        ),
        (
            "stage=produktion&size=M".into(),
            expect(&|b| b.stage == "produktion" && b.size == "M"),
        ),
        ("state=gekuendigt".into(), HashSet::from([cancelled])),
        ("state=aktiv".into(), expect(&|b| b.id != cancelled)),
        ("state=beantragt".into(), HashSet::new()),
        ("product=gibt-es-nicht".into(), HashSet::new()),
        (
            format!("application_id={}", t.application_id),
            expect(&|_| true),
        ),
    ];
    let betreiber = app.token_for("betreiber").await;
    for (query, expected) in cases {
        let p = page(&app, &t.token, &query).await;
        let got: HashSet<i64> = item_ids(&p).into_iter().collect();
        assert_eq!(got, expected, "{query}");
        assert_eq!(
            p["total"].as_i64().unwrap(),
            expected.len() as i64,
            "total for {query}"
        );
        for b in p["items"].as_array().unwrap() {
            assert_eq!(b["customer_id"], t.customer_id);
        }
        // The Betreiber sees all customers; narrowed to this one the
        // filters give the same.
        let p = page(
            &app,
            &betreiber,
            &format!("customer_id={}&{query}", t.customer_id),
        )
        .await;
        let got: HashSet<i64> = item_ids(&p).into_iter().collect();
        assert_eq!(got, expected, "betreiber: {query}");
    }
    let p = page(&app, &t.token, &format!("customer_id={}", t.customer_id)).await;
    assert_eq!(p["total"], 6);
    // A filter and a small page: total counts all matches.
    let p = page(&app, &t.token, "state=aktiv&limit=2&cursor=2").await;
    assert_eq!(p["total"], 5);
    assert_eq!(p["items"].as_array().unwrap().len(), 2);
}

/// The `total` of a list narrowed by nothing but the customer comes from the
/// counts the database keeps per customer (migration 0012); it must be what
/// counting the bookings says, after bookings, cancellations, resizes and an
/// application moved to another contract (which ends bookings and starts
/// new ones), for the Betreiber, for one customer and for the tenant.
async fn the_unfiltered_totals_count_every_booking_through_moves_and_cancellations(app: TestApp) {
    let admin = app.token_for("betreiber").await;
    let t = app.contract_with_room(100).await;
    let mut booked = Vec::new();
    for size in ["S", "M", "S"] {
        booked.push(id(&app
            .book_ok(
                &t.token,
                t.application_id,
                "vorpruefung",
                "container-namespace",
                size,
            )
            .await));
    }
    assert_eq!(
        app.cancel(&t.token, booked[0]).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.resize(&t.token, booked[1], "L").await.status(),
        StatusCode::OK
    );
    let second = app
        .second_contract(&t, "nutzung", "0,00", ("2020-01-01", "2099-12-31"))
        .await;
    let moved = app
        .post_json(
            &format!("/api/v1/applications/{}/move", t.application_id),
            &admin,
            &serde_json::json!({ "contract_id": second.contract_id }),
        )
        .await;
    assert_eq!(
        moved.status(),
        StatusCode::OK,
        "{}",
        moved.text().await.unwrap()
    );

    let pool = &app.db().pool;
    let counted = |customer: Option<i64>| async move {
        let (n,): (i64,) = match customer {
            Some(c) => {
                sqlx::query_as(
                    "SELECT CAST(COUNT(*) AS BIGINT) FROM bookings WHERE customer_id = $1",
                )
                .bind(c)
                .fetch_one(pool)
                .await
            }
            None => {
                sqlx::query_as("SELECT CAST(COUNT(*) AS BIGINT) FROM bookings")
                    .fetch_one(pool)
                    .await
            }
        }
        .expect("count");
        n
    };
    // 3 booked, 2 open ones moved: 2 more bookings on the second contract.
    assert_eq!(counted(Some(t.customer_id)).await, 5);
    let all = page(&app, &admin, "limit=1").await;
    assert_eq!(all["total"].as_i64(), Some(counted(None).await), "{all}");
    let theirs = page(
        &app,
        &admin,
        &format!("limit=1&customer_id={}", t.customer_id),
    )
    .await;
    assert_eq!(theirs["total"].as_i64(), Some(5), "{theirs}");
    let own = page(&app, &t.token, "limit=1").await;
    assert_eq!(own["total"].as_i64(), Some(5), "{own}");
    // A filter beyond the customer counts the matching bookings.
    let ended = page(
        &app,
        &admin,
        &format!("customer_id={}&state=gekuendigt", t.customer_id),
    )
    .await;
    assert_eq!(ended["total"].as_i64(), Some(3), "{ended}");
    // A booking given to another customer by hand (an operator's repair in
    // the database) moves its count along.
    let other_customer = app.contract_with_room(10).await.customer_id;
    sqlx::query("UPDATE bookings SET customer_id = $1 WHERE id = $2")
        .bind(other_customer)
        .bind(booked[2])
        .execute(pool)
        .await
        .expect("hand repair");
    for customer in [t.customer_id, other_customer] {
        let p = page(&app, &admin, &format!("limit=1&customer_id={customer}")).await;
        assert_eq!(
            p["total"].as_i64(),
            Some(counted(Some(customer)).await),
            "{p}"
        );
    }
    assert_eq!(counted(Some(other_customer)).await, 1);
    let all = page(&app, &admin, "limit=1").await;
    assert_eq!(all["total"].as_i64(), Some(counted(None).await), "{all}");
    // Each shard holds the bookings of its customers, not only the right sum.
    let shards: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT CAST(shard AS BIGINT), CAST(bookings AS BIGINT) \
         FROM booking_count_shards ORDER BY shard",
    )
    .fetch_all(pool)
    .await
    .expect("shards");
    let recounted: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT CAST(s.shard AS BIGINT), \
                (SELECT CAST(COUNT(*) AS BIGINT) FROM bookings b WHERE b.customer_id % 64 = s.shard) \
         FROM booking_count_shards s ORDER BY s.shard",
    )
    .fetch_all(pool)
    .await
    .expect("recount");
    assert_eq!(shards.len(), 64);
    assert_eq!(shards, recounted);
    assert_ne!(
        t.customer_id % 64,
        other_customer % 64,
        "the repair crosses shards"
    );
    // Another customer's filter on a tenant's own list shows nothing.
    let other = page(&app, &t.token, "customer_id=1").await;
    assert_eq!(other["total"].as_i64(), Some(0), "{other}");
}
