//! The benchmark's dataset generator (`kontor seed bench`) on a small scale,
//! so the benchmark cannot rot unnoticed: it fills an empty database with
//! consistent data on both backends and refuses one that has data.

use kontor::seed::bench as bench_seed;

use crate::support::{Backend, TestApp};

async fn a_small_generated_dataset_is_consistent(backend: Backend) {
    let app = TestApp::spawn_with(backend, false).await;
    let db = app.db();
    let summary = bench_seed::generate(db, 5, 20, 300)
        .await
        .expect("the generator fills an empty database");
    assert!(summary.contains("300"), "{summary}");

    let count = |sql: &'static str| async move {
        let (n,): (i64,) = sqlx::query_as(sql).fetch_one(&db.pool).await.expect(sql);
        n
    };
    assert_eq!(
        count("SELECT CAST(COUNT(*) AS BIGINT) FROM customers").await,
        5
    );
    assert_eq!(
        count("SELECT CAST(COUNT(*) AS BIGINT) FROM applications").await,
        20
    );
    assert_eq!(
        count("SELECT CAST(COUNT(*) AS BIGINT) FROM environments").await,
        80
    );
    assert_eq!(
        count("SELECT CAST(COUNT(*) AS BIGINT) FROM bookings").await,
        300
    );
    // Exactly one open period per booking that is not cancelled, none else.
    assert_eq!(
        count(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM bookings b WHERE b.state <> 'gekuendigt' AND \
             (SELECT COUNT(*) FROM booking_periods p WHERE p.booking_id = b.id AND p.ends_at IS NULL) <> 1"
        )
        .await,
        0
    );
    assert_eq!(
        count(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM booking_periods p JOIN bookings b ON b.id = p.booking_id \
             WHERE b.state = 'gekuendigt' AND p.ends_at IS NULL"
        )
        .await,
        0
    );
    // Every contract has room left: the Kontingent holds for generated data.
    let contracts = kontor::db::contracts::list(&db.pool, kontor::domain::actor::Scope::All)
        .await
        .expect("contracts");
    let usage = kontor::db::contracts::usage_of_all(
        &db.pool,
        &contracts,
        kontor::domain::actor::Scope::All,
        kontor::db::now(),
    )
    .await
    .expect("usage");
    for k in &contracts {
        let used = usage[&k.id];
        assert!(
            k.kontingent().admit(&Default::default(), &used).is_ok(),
            "contract {} is over its Kontingent",
            k.number
        );
    }

    // A second run refuses: the database is no longer empty.
    assert!(bench_seed::generate(db, 5, 20, 300).await.is_err());
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite() {
    a_small_generated_dataset_is_consistent(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres() {
    a_small_generated_dataset_is_consistent(Backend::Postgres).await;
}
