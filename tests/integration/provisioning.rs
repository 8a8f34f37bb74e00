//! Provisioning against the fake API server of
//! `tests/integration/support/fake_kube.rs`, for what a real one cannot be
//! made to do: answer 500 until it does not, hang, and count how many writes
//! to one namespace are in flight at once while two processes share the
//! work. Plus the manifest directory that stands in for a cluster when none
//! is configured. Everything a real API server can show — the objects, resize,
//! cancel, dissolve, drift, metering, zones, outages, a killed process — is in
//! `real_cluster.rs`.

use std::{collections::BTreeMap, os::unix::fs::MetadataExt as _, path::Path, time::Duration};

use kontor::{
    db::{self, outbox},
    domain::{Resources, quantity::Quantity},
    provisioning::{Provisioner, resync},
};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    support::fake_kube::FakeKube,
    support::{
        ALL_STAGES, Backend, Tenant, TestApp, assert_problem, expect_json, id, spawn_on,
        spawn_on_fake, until,
    },
};

// The embedded default: no cluster, the manifest directory.
api_tests! {
    without_a_cluster_bookings_are_rendered_as_manifests_and_unchanged_state_touches_no_file,
    a_booking_refused_for_the_kontingent_enqueues_no_provisioning_work,
}

cluster_tests! {
    server_errors_are_retried_with_growing_backoff_until_they_converge,
    a_hanging_api_server_times_out_and_is_retried_until_it_answers,
    two_processes_on_one_database_never_work_on_one_environment_at_once_and_converge,
}

// ----- reading state -----------------------------------------------------

async fn booking(app: &TestApp, token: &str, booking_id: i64) -> Value {
    expect_json(
        app.get(&format!("/api/v1/bookings/{booking_id}"), token)
            .await,
        StatusCode::OK,
    )
    .await
}

async fn environment(app: &TestApp, token: &str, environment_id: i64) -> Value {
    expect_json(
        app.get(&format!("/api/v1/environments/{environment_id}"), token)
            .await,
        StatusCode::OK,
    )
    .await
}

/// The tenant's environment in `stage`, from the list.
async fn environment_in(app: &TestApp, t: &Tenant, stage: &str) -> Value {
    let list = expect_json(
        app.get(
            &format!("/api/v1/environments?application_id={}", t.application_id),
            &t.token,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    list["items"]
        .as_array()
        .expect("a list")
        .iter()
        .find(|e| e["stage"] == stage)
        .cloned()
        .unwrap_or_else(|| panic!("no {stage} environment in {list}"))
}

fn environment_id(booking: &Value) -> i64 {
    booking["environment_id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no environment_id in {booking}"))
}

/// The namespace of an environment, as Kontor names it.
async fn namespace_of(app: &TestApp, environment_id: i64) -> String {
    db::environments::spec(&app.db().pool, environment_id)
        .await
        .expect("environment spec")
        .expect("the environment exists")
        .namespace()
}

/// What the database says an environment's quota must be: the current
/// periods of its open bookings, summed (counted here, not by Kontor's own
/// query).
async fn booked(app: &TestApp, environment_id: i64) -> Resources {
    let (millicpu, memory_mib, storage_gib, pods): (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(p.millicpu), 0) AS BIGINT), \
         CAST(COALESCE(SUM(p.memory_mib), 0) AS BIGINT), \
         CAST(COALESCE(SUM(p.storage_gib), 0) AS BIGINT), \
         CAST(COALESCE(SUM(p.pods), 0) AS BIGINT) \
         FROM bookings b JOIN booking_periods p ON p.booking_id = b.id AND p.ends_at IS NULL \
         WHERE b.environment_id = $1 AND b.state <> 'gekuendigt'",
    )
    .bind(environment_id)
    .fetch_one(&app.db().pool)
    .await
    .expect("booked sum");
    Resources {
        millicpu,
        memory_mib,
        storage_gib,
        pods,
    }
}

/// The `kontor` quota in a namespace of the fake, in Kontor's units (None
/// without one). Requests and limits must agree.
fn live_quota(fake: &FakeKube, namespace: &str) -> Option<Resources> {
    let quota = fake.get("resourcequotas", Some(namespace), "kontor")?;
    let hard = &quota["spec"]["hard"];
    let q = |key: &str| {
        let text = hard[key]
            .as_str()
            .unwrap_or_else(|| panic!("{namespace}: no {key} in the quota: {hard}"));
        Quantity::parse(text).unwrap_or_else(|e| panic!("{namespace}: {e}"))
    };
    assert_eq!(
        q("requests.cpu").millicpu(),
        q("limits.cpu").millicpu(),
        "{hard}"
    );
    assert_eq!(
        q("requests.memory").mebibytes(),
        q("limits.memory").mebibytes(),
        "{hard}"
    );
    Some(Resources {
        millicpu: q("requests.cpu").millicpu(),
        memory_mib: q("requests.memory").mebibytes(),
        storage_gib: q("requests.storage").gibibytes(),
        pods: q("pods").count(),
    })
}

/// Every environment's quota in the fake is what the database says, and
/// nothing is left `beantragt`.
async fn assert_converged(app: &TestApp, fake: &FakeKube, environment_ids: &[i64]) {
    for &env in environment_ids {
        let namespace = namespace_of(app, env).await;
        assert_eq!(
            live_quota(fake, &namespace),
            Some(booked(app, env).await),
            "quota of {namespace}"
        );
    }
    let (waiting,): (i64,) =
        sqlx::query_as("SELECT CAST(COUNT(*) AS BIGINT) FROM bookings WHERE state = 'beantragt'")
            .fetch_one(&app.db().pool)
            .await
            .expect("count");
    assert_eq!(waiting, 0, "bookings still beantragt");
}

/// An environment's row in the provisioning outbox.
#[derive(Debug, Clone, sqlx::FromRow)]
struct OutboxRow {
    generation: i64,
    done_generation: i64,
    attempts: i64,
    due_at_ms: i64,
    claimed_by: Option<String>,
    last_error: Option<String>,
    last_error_kind: Option<String>,
    last_attempt_ms: Option<i64>,
}

async fn outbox_row(app: &TestApp, environment_id: i64) -> OutboxRow {
    sqlx::query_as(
        "SELECT generation, done_generation, attempts, due_at_ms, claimed_by, \
         last_error, last_error_kind, last_attempt_ms \
         FROM provisioning_outbox WHERE environment_id = $1",
    )
    .bind(environment_id)
    .fetch_one(&app.db().pool)
    .await
    .expect("outbox row")
}

// ----- the objects of an environment -------------------------------------

// ----- Umgebung auflösen: who may, and when ------------------------------

// ----- stages and clusters -----------------------------------------------

// ----- faults ------------------------------------------------------------

async fn server_errors_are_retried_with_growing_backoff_until_they_converge(backend: Backend) {
    let fake = FakeKube::start().await;
    let app = spawn_on_fake(backend, &fake).await;
    let t = app.contract_with_room(20).await;
    // Each attempt stops at its first failed call: four attempts fail.
    fake.reset_counters();
    fake.fail_next(4, 500);
    let b = app
        .book_ok(
            &t.token,
            t.application_id,
            "abnahme",
            "container-namespace",
            "S",
        )
        .await;
    let env = environment_id(&b);

    // (attempts, the delay scheduled after that attempt) as they go by.
    let mut seen: Vec<(i64, i64)> = Vec::new();
    let done = until("the reconciler gets through", async || {
        let row = outbox_row(&app, env).await;
        if row.done_generation >= row.generation {
            return Some(row);
        }
        if row.attempts > 0 && seen.last().is_none_or(|(a, _)| *a != row.attempts) {
            assert_eq!(row.last_error_kind.as_deref(), Some("server"), "{row:?}");
            assert!(
                row.last_error
                    .as_deref()
                    .is_some_and(|e| e.contains("HTTP 500") && e.contains("„fake“")),
                "{row:?}"
            );
            seen.push((row.attempts, row.due_at_ms - row.last_attempt_ms.unwrap()));
        }
        None
    })
    .await;
    assert!(
        seen.windows(2).all(|w| w[0].0 < w[1].0),
        "attempts only grow: {seen:?}"
    );
    assert!(!seen.is_empty(), "the failures were recorded");
    // Four attempts that failed at their first call, then one with all
    // eight calls.
    assert_eq!(fake.requests(), 4 + 8, "{:?}", fake.request_log());
    // Equal jitter: after failure k the delay is in the upper half of
    // base · 2^(k-1), base = 50 ms.
    for (attempts, delay) in &seen {
        let full = 50 * 2i64.pow(u32::try_from(attempts - 1).unwrap());
        assert!(
            (full / 2..=full).contains(delay),
            "after failure {attempts}: {delay} ms, expected {}..={full}: {seen:?}",
            full / 2
        );
    }
    assert_eq!(
        (done.attempts, done.last_error, done.claimed_by),
        (0, None, None)
    );
    app.settle().await;
    assert_converged(&app, &fake, &[env]).await;
    assert_eq!(
        booking(&app, &t.token, id(&b)).await["provisioning"],
        json!({"state": "bereit"})
    );
}

async fn a_hanging_api_server_times_out_and_is_retried_until_it_answers(backend: Backend) {
    let fake = FakeKube::start().await;
    let app = spawn_on(backend, &[("fake", &fake, &ALL_STAGES)], |s| {
        s.kube_timeout_seconds = 1;
    })
    .await;
    let t = app.contract_with_room(20).await;
    fake.hang(true);
    let b = app
        .book_ok(
            &t.token,
            t.application_id,
            "abnahme",
            "container-namespace",
            "S",
        )
        .await;
    let env = environment_id(&b);
    let row = until("two attempts time out", async || {
        let row = outbox_row(&app, env).await;
        (row.attempts >= 2).then_some(row)
    })
    .await;
    assert_eq!(row.last_error_kind.as_deref(), Some("timeout"), "{row:?}");
    let now = booking(&app, &t.token, id(&b)).await;
    assert_eq!(now["state"], "beantragt", "{now}");
    assert_eq!(now["provisioning"]["state"], "fehler", "{now}");
    assert!(
        now["provisioning"]["message"]
            .as_str()
            .unwrap()
            .contains("antwortet nicht"),
        "{now}"
    );

    fake.hang(false);
    app.settle().await;
    assert_converged(&app, &fake, &[env]).await;
    assert_eq!(outbox_row(&app, env).await.attempts, 0);
}

// ----- resync ------------------------------------------------------------

// ----- several processes -------------------------------------------------

async fn two_processes_on_one_database_never_work_on_one_environment_at_once_and_converge(
    backend: Backend,
) {
    let fake = FakeKube::start().await;
    let app = spawn_on_fake(backend, &fake).await;
    let other = app.sibling(|_| {}).await;
    let t = app.contract_with_room(100).await;
    fake.set_latency(Duration::from_millis(20));
    fake.reset_counters();

    // Twelve bookings over the four stages, through both APIs in turn.
    let mut bookings = Vec::new();
    for (i, (stage, product, size)) in ALL_STAGES
        .iter()
        .flat_map(|stage| {
            [
                (*stage, "container-namespace", "S"),
                (*stage, "persistent-storage", "S"),
                (*stage, "container-namespace", "M"),
            ]
        })
        .enumerate()
    {
        let via = if i % 2 == 0 { &app } else { &other };
        bookings.push(
            via.book_ok(&t.token, t.application_id, stage, product, size)
                .await,
        );
    }
    // And changes through the other one than booked them.
    expect_json(
        other.resize(&t.token, id(&bookings[0]), "L").await,
        StatusCode::OK,
    )
    .await;
    expect_json(app.cancel(&t.token, id(&bookings[1])).await, StatusCode::OK).await;
    app.settle().await;

    let mut envs: Vec<i64> = bookings.iter().map(environment_id).collect();
    envs.dedup();
    assert_eq!(envs.len(), 4);
    assert_converged(&app, &fake, &envs).await;
    assert_eq!(
        fake.max_inflight_writes_per_namespace(),
        1,
        "no environment was worked on by two workers at once"
    );
    // Each booking was made aktiv once, by one of the two.
    let (provisioned, distinct): (i64, i64) = sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT), CAST(COUNT(DISTINCT object_id) AS BIGINT) \
         FROM audit_log WHERE action = 'booking.provisioned'",
    )
    .fetch_one(&app.db().pool)
    .await
    .unwrap();
    assert_eq!(provisioned, distinct, "no booking made aktiv twice");
    // The cancelled one may have been cancelled before it was provisioned.
    assert!(provisioned >= 11, "{provisioned}");
}

// ----- metering ----------------------------------------------------------

// ----- the manifest directory --------------------------------------------

/// Each file of a directory with its modification time and inode: a
/// rewrite (through a rename) changes the inode even within one mtime tick.
fn stamps(dir: &Path) -> BTreeMap<String, (std::time::SystemTime, u64)> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let entry = entry.unwrap();
            let meta = entry.metadata().unwrap();
            (
                entry.file_name().to_string_lossy().into_owned(),
                (meta.modified().unwrap(), meta.ino()),
            )
        })
        .collect()
}

async fn without_a_cluster_bookings_are_rendered_as_manifests_and_unchanged_state_touches_no_file(
    app: TestApp,
) {
    let t = app.contract_with_room(20).await;
    let b = app
        .book_ok(
            &t.token,
            t.application_id,
            "abnahme",
            "container-namespace",
            "S",
        )
        .await;
    let env = environment_id(&b);
    app.settle().await;
    let view = environment(&app, &t.token, env).await;
    assert_eq!(view["target"], "manifests", "{view}");
    assert_eq!(booking(&app, &t.token, id(&b)).await["state"], "aktiv");
    let ns = view["namespace"].as_str().unwrap().to_owned();
    let dir = app.settings.data_dir.join("manifests").join(&ns);

    let files: Vec<String> = stamps(&dir).into_keys().collect();
    assert_eq!(
        files,
        [
            format!("00-namespace-{ns}.yaml"),
            "01-resourcequota-kontor.yaml".into(),
            "02-limitrange-kontor-defaults.yaml".into(),
            "03-networkpolicy-kontor-default-deny.yaml".into(),
            "04-serviceaccount-kontor-deployer.yaml".into(),
            "05-rolebinding-kontor-entwickler.yaml".into(),
            "06-rolebinding-kontor-systempflege.yaml".into(),
            "07-rolebinding-kontor-deployer.yaml".into(),
        ]
    );
    let read_quota = || -> Value {
        let text = std::fs::read_to_string(dir.join("01-resourcequota-kontor.yaml")).unwrap();
        serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("not YAML ({e}): {text}"))
    };
    let quota = read_quota();
    assert_eq!(quota["kind"], "ResourceQuota");
    assert_eq!(quota["metadata"]["namespace"], ns.as_str());
    assert_eq!(quota["spec"]["hard"]["requests.cpu"], "2", "{quota}");
    assert_eq!(quota["spec"]["hard"]["requests.memory"], "8Gi", "{quota}");
    assert_eq!(quota["spec"]["hard"]["pods"], "20", "{quota}");

    // A resync of unchanged state finds nothing (the demo's environments
    // included) and enqueues nothing; reconciling it again rewrites nothing.
    let before = stamps(&dir);
    let outbox_before = app.counts().await.outbox;
    let provisioner = Provisioner::from_settings(&app.settings).await.unwrap();
    let report = resync::resync(app.db(), &provisioner).await.unwrap();
    assert!(report.drifted.is_empty(), "{report:?}");
    assert!(report.checked > 1, "{report:?}");
    assert_eq!(app.counts().await.outbox, outbox_before);
    outbox::enqueue_all(app.db(), &[env]).await.unwrap();
    app.db().wake_provisioning();
    app.settle().await;
    assert_eq!(stamps(&dir), before, "no file touched");

    // A resize rewrites the quota's file and no other.
    expect_json(app.resize(&t.token, id(&b), "M").await, StatusCode::OK).await;
    app.settle().await;
    let after = stamps(&dir);
    let changed: Vec<&String> = after
        .iter()
        .filter(|(name, stamp)| before.get(*name) != Some(stamp))
        .map(|(name, _)| name)
        .collect();
    assert_eq!(changed, ["01-resourcequota-kontor.yaml"]);
    assert_eq!(read_quota()["spec"]["hard"]["requests.cpu"], "4");

    // Dissolving removes the directory.
    expect_json(app.cancel(&t.token, id(&b)).await, StatusCode::OK).await;
    app.settle().await;
    expect_json(
        app.post(&format!("/api/v1/environments/{env}/dissolve"), &t.token)
            .await,
        StatusCode::ACCEPTED,
    )
    .await;
    app.settle().await;
    assert!(!dir.exists(), "{} is still there", dir.display());
    let view = environment(&app, &t.token, env).await;
    assert_eq!(view["lifecycle"], "aufgeloest", "{view}");
    assert_eq!(view["provisioning"], json!({"state": "bereit"}), "{view}");
}

async fn a_booking_refused_for_the_kontingent_enqueues_no_provisioning_work(app: TestApp) {
    let t = app.contract_with_room(2).await;
    let before = app.counts().await;
    let resp = app
        .book(
            &t.token,
            t.application_id,
            "abnahme",
            "container-namespace",
            "M",
        )
        .await;
    assert_problem(resp, StatusCode::CONFLICT, "kontingent-exceeded").await;
    assert_eq!(app.counts().await, before, "outbox included");
    let view = environment_in(&app, &t, "abnahme").await;
    assert_eq!(view["lifecycle"], "leer", "{view}");
    assert!(view.get("provisioning").is_none(), "{view}");
    assert!(
        !app.settings
            .data_dir
            .join("manifests")
            .join(view["namespace"].as_str().unwrap())
            .exists()
    );
}
