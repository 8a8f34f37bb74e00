//! Booked against measured: samples recorded for an environment come back as
//! peak and mean for the month, with a smaller size where it would have done.

use kontor::{
    db::{self, metering},
    domain::{Resources, Size, Stage, billing::Month},
};

use crate::support::{TestApp, id};

api_tests! {
    a_namespace_used_at_a_fifth_gets_a_smaller_size_and_a_busy_one_none,
    samples_of_other_months_and_other_contracts_do_not_count,
}

async fn environment_of(app: &TestApp, booking_id: i64) -> i64 {
    let (env,): (i64,) = sqlx::query_as("SELECT environment_id FROM bookings WHERE id = $1")
        .bind(booking_id)
        .fetch_one(&app.db().pool)
        .await
        .expect("booking's environment");
    env
}

fn used(vcpu_milli: i64, memory_mib: i64) -> Resources {
    Resources {
        millicpu: vcpu_milli,
        memory_mib,
        storage_gib: 0,
        pods: 5,
    }
}

async fn a_namespace_used_at_a_fifth_gets_a_smaller_size_and_a_busy_one_none(app: TestApp) {
    let t = app.contract_with_room(100).await;
    // L = 8 vCPU / 32 GiB in Abnahme, S = 2 vCPU / 8 GiB in Vorprüfung.
    let big = id(&app
        .book_ok(
            &t.token,
            t.application_id,
            "abnahme",
            "container-namespace",
            "L",
        )
        .await);
    let small = id(&app
        .book_ok(
            &t.token,
            t.application_id,
            "vorpruefung",
            "container-namespace",
            "S",
        )
        .await);
    let now = db::now();
    let month = Month::containing(now);
    let pool = &app.db().pool;
    let (env_big, env_small) = (
        environment_of(&app, big).await,
        environment_of(&app, small).await,
    );
    // Three samples each, an hour apart, ending now; peaks 1.5 vCPU / 6 GiB
    // and 1.9 vCPU / 7.5 GiB.
    for (k, (cpu, mem)) in [(1000, 4096), (1500, 6144), (1200, 5120)]
        .iter()
        .enumerate()
    {
        let at = now - 3600 * k as i64;
        metering::record(pool, env_big, at, used(*cpu, *mem))
            .await
            .unwrap();
        metering::record(pool, env_small, at, used(cpu + 400, mem + 1536))
            .await
            .unwrap();
    }
    // The same instant again is ignored, not counted twice.
    metering::record(pool, env_big, now, used(8000, 32768))
        .await
        .unwrap();

    let usage = metering::month_usage(pool, t.contract_id, month, now)
        .await
        .unwrap();
    assert_eq!(usage.len(), 2, "{usage:?}");
    let abnahme = usage
        .iter()
        .find(|u| u.stage == Stage::Abnahme)
        .expect("Abnahme");
    assert_eq!(abnahme.samples, 3);
    assert_eq!(abnahme.booked.millicpu, 8000);
    assert_eq!(abnahme.peak.millicpu, 1500);
    assert_eq!(abnahme.peak.memory_mib, 6144);
    // Mean of 1000, 1500, 1200 = 1233 (rounded down).
    assert_eq!(abnahme.mean.millicpu, 1233);
    // S (2 vCPU / 8 GiB) covers a peak of 1.5 vCPU / 6 GiB.
    assert_eq!(abnahme.hints.len(), 1, "{:?}", abnahme.hints);
    assert_eq!(abnahme.hints[0].booking_id, big);
    assert_eq!(
        (abnahme.hints[0].from, abnahme.hints[0].to),
        (Size::L, Size::S)
    );
    let vorpruefung = usage
        .iter()
        .find(|u| u.stage == Stage::Vorpruefung)
        .expect("Vorprüfung");
    assert!(
        vorpruefung.hints.is_empty(),
        "S is the smallest size: {:?}",
        vorpruefung.hints
    );
}

async fn samples_of_other_months_and_other_contracts_do_not_count(app: TestApp) {
    let t = app.contract_with_room(100).await;
    let other = app.contract_with_room(100).await;
    let mine = id(&app
        .book_ok(
            &t.token,
            t.application_id,
            "produktion",
            "container-namespace",
            "M",
        )
        .await);
    let theirs = id(&app
        .book_ok(
            &other.token,
            other.application_id,
            "produktion",
            "container-namespace",
            "M",
        )
        .await);
    let now = db::now();
    let month = Month::containing(now);
    let pool = &app.db().pool;
    let env = environment_of(&app, mine).await;
    metering::record(pool, env, now, used(3900, 15000))
        .await
        .unwrap();
    // Last month, and another customer's environment: neither belongs here.
    metering::record(pool, env, month.start() - 1, used(100, 100))
        .await
        .unwrap();
    metering::record(
        pool,
        environment_of(&app, theirs).await,
        now,
        used(4000, 16384),
    )
    .await
    .unwrap();

    let usage = metering::month_usage(pool, t.contract_id, month, now)
        .await
        .unwrap();
    assert_eq!(usage.len(), 1);
    assert_eq!(usage[0].samples, 1);
    assert_eq!(usage[0].peak.millicpu, 3900);
    assert!(usage[0].hints.is_empty(), "a busy M keeps its size");
    let last_month = metering::month_usage(pool, t.contract_id, month.prev(), now)
        .await
        .unwrap();
    assert_eq!(last_month.len(), 1);
    assert_eq!(last_month[0].peak.millicpu, 100);
}
