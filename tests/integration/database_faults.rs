//! PostgreSQL faults Kontor must ride out without a restart of its own: the
//! server restarted in a burst of bookings and in a billing close (a server
//! of the test's own, see support/private_pg.rs), and every connection of
//! the pool held by slow work. Requests that meet the fault get 503
//! problem+json with `Retry-After`, nothing is half-written or doubled, the
//! Kontingent is exact afterwards, and `/readyz` says what is going on.

use std::time::{Duration, Instant};

use kontor::{billing::close::close_month, domain::billing::Month};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::support::{Backend, Browser, TestApp, id, private_pg::PrivatePostgres, until_within};

const DAY: i64 = 24 * 3600;

/// A Kontor on a PostgreSQL server of the test's own.
async fn kontor_on(pg: &PrivatePostgres, acquire_timeout: u64) -> TestApp {
    let url = pg.url();
    // The SQLite backend only picks the (unused) data directory; the
    // database is the private server, with the demo catalogue.
    TestApp::spawn_configured(Backend::Sqlite, true, move |s| {
        s.database_url = Some(url);
        s.database_acquire_timeout_seconds = acquire_timeout;
    })
    .await
}

async fn ready(app: &TestApp) -> StatusCode {
    match app
        .client
        .get(format!("{}/readyz", app.address))
        .timeout(Duration::from_secs(10))
        .send()
        .await
    {
        Ok(r) => r.status(),
        Err(_) => StatusCode::REQUEST_TIMEOUT,
    }
}

async fn count(app: &TestApp, sql: &'static str, bind: i64) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sql)
        .bind(bind)
        .fetch_one(&app.db().pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    n
}

#[tokio::test(flavor = "multi_thread")]
async fn postgresql_restarting_in_a_burst_of_bookings_loses_and_doubles_nothing() {
    let pg = PrivatePostgres::start();
    let app = kontor_on(&pg, 2).await;
    // Room for ten S bookings (2 vCPU each); thirty try.
    let t = app.contract_with_room(20).await;
    let person = Browser::log_in(&app, "systempfleger").await;
    let started = Instant::now();
    let mut tasks = JoinSet::new();
    for n in 0..30 {
        let (app, token, application) = (app.clone(), t.token.clone(), t.application_id);
        tasks.spawn(async move {
            // Spread over the restart.
            tokio::time::sleep(Duration::from_millis(40 * n)).await;
            let key = format!("burst-{n}-{}", uuid::Uuid::new_v4().simple());
            let mut unavailable = 0;
            loop {
                let sent = app
                    .request(Method::POST, "/api/v1/bookings")
                    .bearer_auth(&token)
                    .header("Idempotency-Key", &key)
                    .json(&json!({
                        "application_id": application, "stage": "vorpruefung",
                        "product": "container-namespace", "size": "S",
                    }))
                    .timeout(Duration::from_secs(20))
                    .send()
                    .await;
                match sent {
                    Ok(r) if r.status() == StatusCode::SERVICE_UNAVAILABLE => {
                        assert!(r.headers().contains_key("retry-after"));
                        let p: Value = r.json().await.expect("problem+json");
                        assert_eq!(p["type"], "urn:kontor:problem:database-unavailable", "{p}");
                        unavailable += 1;
                    }
                    Ok(r) => {
                        let status = r.status();
                        let body: Value = r.json().await.unwrap_or(Value::Null);
                        assert!(
                            status == StatusCode::CREATED || status == StatusCode::CONFLICT,
                            "a booking answered {status}: {body}"
                        );
                        return (status, body, unavailable);
                    }
                    // The connection itself broke while the request was in
                    // flight: the same key again.
                    Err(_) => unavailable += 1,
                }
                assert!(unavailable < 200, "no answer but 503 for too long");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        });
    }
    // Down a quarter second into the burst, for two seconds.
    tokio::time::sleep(Duration::from_millis(250)).await;
    pg.down();
    let while_down = ready(&app).await;
    let page = person.get("/uebersicht").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    pg.up();
    until_within(
        Duration::from_secs(30),
        "/readyz 200 after the restart",
        async || (ready(&app).await == StatusCode::OK).then_some(()),
    )
    .await;
    assert_eq!(
        while_down,
        StatusCode::SERVICE_UNAVAILABLE,
        "/readyz while down"
    );
    // A person's page needs the session from the database: the same 503,
    // as a page that says to try again.
    assert_eq!(page.0, StatusCode::SERVICE_UNAVAILABLE, "{}", page.1);
    assert!(
        page.1.contains("Vorübergehend nicht verfügbar"),
        "{}",
        page.1
    );
    assert_eq!(
        person.get("/uebersicht").await.0,
        StatusCode::OK,
        "and back"
    );

    let (mut created, mut refused, mut met_the_fault) = (Vec::new(), 0, 0);
    while let Some(done) = tasks.join_next().await {
        let (status, body, unavailable) = done.expect("task");
        met_the_fault += usize::from(unavailable > 0);
        if status == StatusCode::CREATED {
            created.push(id(&body));
        } else {
            assert_eq!(
                body["type"], "urn:kontor:problem:kontingent-exceeded",
                "{body}"
            );
            refused += 1;
        }
    }
    assert!(met_the_fault > 0, "some requests met the restart");
    assert!(started.elapsed() < Duration::from_secs(120));
    // Exactly the room, each once, each whole.
    assert_eq!(created.len(), 10, "ten fit");
    assert_eq!(refused, 20);
    created.sort_unstable();
    created.dedup();
    assert_eq!(created.len(), 10, "no booking answered twice");
    let in_db = count(
        &app,
        "SELECT CAST(COUNT(*) AS BIGINT) FROM bookings b JOIN environments e ON e.id = b.environment_id \
         WHERE e.application_id = $1",
        t.application_id,
    )
    .await;
    assert_eq!(in_db, 10, "what was answered is what is stored");
    for booking in &created {
        let periods = count(
            &app,
            "SELECT CAST(COUNT(*) AS BIGINT) FROM booking_periods WHERE booking_id = $1",
            *booking,
        )
        .await;
        let audit = count(
            &app,
            "SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE action = 'booking.created' \
             AND object_id = $1",
            *booking,
        )
        .await;
        assert_eq!((periods, audit), (1, 1), "booking {booking} whole");
    }
    // The pool recovered by itself: a request now just works.
    let after = app
        .book(
            &t.token,
            t.application_id,
            "abnahme",
            "container-namespace",
            "S",
        )
        .await;
    assert_eq!(
        after.status(),
        StatusCode::CONFLICT,
        "the Kontingent is full"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn postgresql_restarting_in_a_billing_close_closes_each_statement_once() {
    let pg = PrivatePostgres::start();
    let app = kontor_on(&pg, 2).await;
    let now = kontor::db::now();
    let last = Month::containing(now).prev();
    // Sixty contracts with a booking through all of last month: a close
    // long enough to be cut short.
    for _ in 0..60 {
        let t = app.contract_with_room(2).await;
        let b = app
            .book_ok(
                &t.token,
                t.application_id,
                "vorpruefung",
                "container-namespace",
                "S",
            )
            .await;
        sqlx::query("UPDATE booking_periods SET starts_at = $1 WHERE booking_id = $2")
            .bind(last.start() - DAY)
            .bind(id(&b))
            .execute(&app.db().pool)
            .await
            .expect("move the period");
    }
    let statements = || async {
        let (n,): (i64,) =
            sqlx::query_as("SELECT CAST(COUNT(*) AS BIGINT) FROM statements WHERE month = $1")
                .bind(last.to_string())
                .fetch_one(&app.db().pool)
                .await
                .expect("count statements");
        n
    };
    let contracts = {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM contracts WHERE valid_from <= $1 AND valid_until >= $2",
        )
        .bind(last.last_day().to_string())
        .bind(last.first_day().to_string())
        .fetch_one(&app.db().pool)
        .await
        .expect("contracts");
        n
    };
    // The close runs; the server goes down under it once some statements
    // are written.
    let closing = {
        let db = app.db().clone();
        tokio::spawn(async move { close_month(&db, last, now).await })
    };
    let observer = kontor::db::Db::connect(&pg.url(), 1)
        .await
        .expect("observer");
    until_within(
        Duration::from_secs(30),
        "the first statements",
        async || {
            let (n,): (i64,) =
                sqlx::query_as("SELECT CAST(COUNT(*) AS BIGINT) FROM statements WHERE month = $1")
                    .bind(last.to_string())
                    .fetch_one(&observer.pool)
                    .await
                    .ok()?;
            (n >= 1).then_some(())
        },
    )
    .await;
    pg.down();
    let first = closing.await.expect("task");
    pg.up();
    until_within(Duration::from_secs(30), "ready again", async || {
        (ready(&app).await == StatusCode::OK).then_some(())
    })
    .await;
    let written = statements().await;
    if let Ok(report) = &first {
        // It was faster than the restart: nothing left to test, but nothing
        // wrong either.
        assert_eq!(report.closed as i64, contracts, "{report:?}");
    } else {
        assert!(
            written < contracts,
            "the restart cut the close short: {written}"
        );
    }
    // The next run completes it: what was written stays, the rest is added.
    let again = close_month(app.db(), last, kontor::db::now())
        .await
        .expect("the close after the restart");
    assert_eq!(again.already as i64, written, "{again:?}");
    assert_eq!(
        (again.already + again.closed) as i64,
        contracts,
        "{again:?}"
    );
    assert_eq!(statements().await, contracts, "one statement per contract");
    // Each whole: its lines sum to its total, one audit entry each.
    let (broken,): (i64,) = sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM statements s WHERE s.month = $1 AND \
         s.total_cents <> (SELECT COALESCE(SUM(l.amount_cents), 0) FROM statement_lines l \
         WHERE l.statement_id = s.id)",
    )
    .bind(last.to_string())
    .fetch_one(&app.db().pool)
    .await
    .expect("totals");
    assert_eq!(broken, 0, "every total is the sum of its lines");
    let (audited,): (i64,) = sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE action = 'statement.closed'",
    )
    .fetch_one(&app.db().pool)
    .await
    .expect("audit");
    assert_eq!(audited, contracts, "one audit entry per statement");
}

api_tests! {
    a_pool_held_by_slow_work_answers_503_after_the_timeout_not_never,
}

async fn a_pool_held_by_slow_work_answers_503_after_the_timeout_not_never(app: TestApp) {
    let t = app.contract_with_room(4).await;
    // A Kontor whose pool (4 connections, 1 s patience) the test holds.
    let held = app
        .sibling(|s| {
            s.database_max_connections = 4;
            s.database_acquire_timeout_seconds = 1;
        })
        .await;
    let mut connections = Vec::new();
    for _ in 0..4 {
        connections.push(held.db().pool.acquire().await.expect("a connection"));
    }
    let started = Instant::now();
    let resp = held
        .request(Method::GET, "/api/v1/bookings")
        .bearer_auth(&t.token)
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .expect("an answer, not a hang");
    let waited = started.elapsed();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(resp.headers().contains_key("retry-after"));
    let p: Value = resp.json().await.unwrap();
    assert_eq!(p["type"], "urn:kontor:problem:database-unavailable", "{p}");
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(10),
        "waited {waited:?}"
    );
    drop(connections);
    let resp = held.get("/api/v1/bookings", &t.token).await;
    assert_eq!(resp.status(), StatusCode::OK, "free again");
}
