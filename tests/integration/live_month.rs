//! The running month read cheaply (`billing::live`): the transaction that
//! closes a period stores its cost within the month it ended in, and the
//! Übersicht, the budget watch and the budget API add those sums to the
//! rated open periods. Whatever happened in the month — bookings from the
//! month before, resizes, cancellations, an application moved to another
//! contract — the result is what rating every period gives (the statement
//! of the month), cent for cent, so far and as a forecast; and the
//! Kontingent figures are those of the Kontingent check. Periods closed
//! without a stored cost (by an older version) are rated as before until
//! the start-up stores it.

use kontor::{
    app::bookings::{self, NewBooking},
    billing::{
        live::{self, Live},
        statements,
    },
    db::{self, contracts::Contract, users},
    domain::{Size, Slug, Stage, actor::CurrentUser, actor::Via, billing::Month},
    seed,
};

use crate::support::{ContractSpec, Tenant, TestApp};

api_tests! {
    the_live_month_says_what_rating_every_period_says,
    periods_closed_without_a_stored_cost_are_rated_until_the_start_up_stores_it,
}

const DAY: i64 = 24 * 3600;
/// Container namespace S of the demo catalogue, 1/10 000 EUR per hour.
const CONTAINER_S: i64 = 1180;

async fn user(app: &TestApp, login: &str) -> CurrentUser {
    let row = users::by_login(&app.db().pool, login)
        .await
        .expect("user")
        .expect("user exists");
    users::by_id(&app.db().pool, row.id, Via::System)
        .await
        .expect("user")
        .expect("user exists")
}

async fn book(
    app: &TestApp,
    sp: &CurrentUser,
    application_id: i64,
    stage: Stage,
    product: &str,
    size: Size,
    at: i64,
) -> i64 {
    let req = NewBooking {
        application_id,
        stage,
        product: Slug::parse(product).expect("product slug"),
        size,
    };
    bookings::book(app.db(), sp, &req, None, at)
        .await
        .expect("booking")
        .id()
}

async fn contracts_of(app: &TestApp, t: &Tenant) -> Vec<Contract> {
    db::contracts::list(
        &app.db().pool,
        kontor::domain::actor::Scope::Customer(t.customer_id),
    )
    .await
    .expect("contracts")
}

/// The live view against the statement rated from every period, and the
/// Kontingent figures against the Kontingent check's query, at `at`.
async fn assert_live_matches(app: &TestApp, t: &Tenant, at: i64) {
    let pool = &app.db().pool;
    let contracts = contracts_of(app, t).await;
    assert_eq!(contracts.len(), 2, "the tenant has two contracts");
    let live = Live::read(pool, &contracts, at).await.expect("live month");
    let month = Month::containing(at);
    for k in &contracts {
        let rated = statements::statement(pool, k, month, at)
            .await
            .expect("statement")
            .budget;
        assert_eq!(
            live.budget(k, at),
            rated,
            "contract {} at {at}: live month and all periods rated differ",
            k.number
        );
        let usage = db::contracts::usage(pool, k, at).await.expect("usage");
        assert_eq!(live.commitment(k, at), usage, "contract {}", k.number);
    }
    let budgets = live::budgets(pool, &contracts, at).await.expect("budgets");
    for k in &contracts {
        assert_eq!(budgets[&k.id], live.budget(k, at));
    }
}

/// A month's history on two contracts, written through the use cases at
/// the times given: returns the tenant and the instants used, in order.
async fn history(app: &TestApp) -> (Tenant, Vec<i64>) {
    let t = app.tenant(ContractSpec::default()).await;
    let second = app
        .second_contract(&t, "gemischt", "150,00", ("2020-01-01", "2099-12-31"))
        .await;
    let sp = user(app, &t.login).await;
    let system = seed::system_user(app.db()).await.expect("system user");
    let now = db::now();
    let start = Month::containing(now).start();
    // Ten steps between the month's start and now (0 s apart on its first
    // second: the sums must hold then too).
    let step = (now - start) / 10;
    let at: Vec<i64> = (1..=9).map(|i| start + i * step).collect();

    // Two bookings from the month before, running into this one.
    let a = book(
        app,
        &sp,
        t.application_id,
        Stage::Vorpruefung,
        "container-namespace",
        Size::S,
        start - 2 * DAY,
    )
    .await;
    let b = book(
        app,
        &sp,
        t.application_id,
        Stage::Abnahme,
        "persistent-storage",
        Size::M,
        start - DAY,
    )
    .await;
    let c = book(
        app,
        &sp,
        second.application_id,
        Stage::Produktion,
        "container-namespace",
        Size::M,
        at[0],
    )
    .await;
    bookings::resize(app.db(), &sp, a, Size::L, at[1])
        .await
        .expect("resize");
    bookings::resize(app.db(), &sp, a, Size::M, at[2])
        .await
        .expect("resize again");
    bookings::cancel(app.db(), &sp, b, at[3])
        .await
        .expect("cancel");
    kontor::app::applications::move_to(
        app.db(),
        &system,
        t.application_id,
        second.contract_id,
        at[4],
    )
    .await
    .expect("move the application with its bookings");
    let d = book(
        app,
        &sp,
        second.application_id,
        Stage::Schulung,
        "container-namespace",
        Size::XL,
        at[5],
    )
    .await;
    bookings::cancel(app.db(), &sp, d, at[6])
        .await
        .expect("cancel");
    bookings::resize(app.db(), &sp, c, Size::S, at[7])
        .await
        .expect("resize");
    (t, at)
}

async fn the_live_month_says_what_rating_every_period_says(app: TestApp) {
    let (t, at) = history(&app).await;
    let pool = &app.db().pool;
    let month = Month::containing(at[0]);

    // Every period that ended this month has its cost stored.
    let (unsettled,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM booking_periods p JOIN bookings b ON b.id = p.booking_id \
         WHERE b.customer_id = $1 AND p.ends_at IS NOT NULL AND p.month_cents IS NULL",
    )
    .bind(t.customer_id)
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(unsettled, 0, "closed periods without their cost");

    // The first period of `a` began two days before the month: what is
    // stored is its part in this month only, S until the first resize.
    let (first_cost,): (Option<i64>,) = sqlx::query_as(
        "SELECT p.month_cents FROM booking_periods p JOIN bookings b ON b.id = p.booking_id \
         WHERE b.customer_id = $1 AND p.starts_at < $2 AND p.size = 'S'",
    )
    .bind(t.customer_id)
    .bind(month.start())
    .fetch_one(pool)
    .await
    .unwrap();
    let seconds = at[1] - month.start();
    assert_eq!(
        first_cost,
        Some((CONTAINER_S * seconds + 180_000) / 360_000),
        "S from the month's start to the resize, rounded once"
    );

    // Now, at each step of the history, and on the month's last second.
    assert_live_matches(&app, &t, db::now()).await;
    for &when in &at[7..] {
        assert_live_matches(&app, &t, when).await;
    }
    assert_live_matches(&app, &t, month.end() - 1).await;
}

async fn periods_closed_without_a_stored_cost_are_rated_until_the_start_up_stores_it(app: TestApp) {
    let (t, _) = history(&app).await;
    let pool = &app.db().pool;
    let stored = |pool: sqlx::AnyPool, customer_id: i64| async move {
        let rows: Vec<(i64, Option<i64>)> = sqlx::query_as(
            "SELECT p.id, p.month_cents FROM booking_periods p \
             JOIN bookings b ON b.id = p.booking_id \
             WHERE b.customer_id = $1 AND p.ends_at IS NOT NULL ORDER BY p.id",
        )
        .bind(customer_id)
        .fetch_all(&pool)
        .await
        .unwrap();
        rows
    };
    let before = stored(pool.clone(), t.customer_id).await;
    assert!(before.len() >= 5, "the history closed periods: {before:?}");

    // As if closed by a version that did not store the cost.
    sqlx::query(
        "UPDATE booking_periods SET month_cents = NULL WHERE booking_id IN \
         (SELECT id FROM bookings WHERE customer_id = $1)",
    )
    .bind(t.customer_id)
    .execute(pool)
    .await
    .unwrap();
    let now = db::now();
    assert_live_matches(&app, &t, now).await;

    // The start-up stores exactly what closing would have stored.
    let settled = bookings::settle_unsettled(app.db(), now)
        .await
        .expect("settle");
    assert!(settled >= before.len(), "settled {settled} periods");
    assert_eq!(stored(pool.clone(), t.customer_id).await, before);
    assert_live_matches(&app, &t, now).await;
}
