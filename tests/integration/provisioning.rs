//! Provisioning through Kubernetes, against the fake API server of
//! `tests/integration/support/fake_kube.rs`: a booking becomes a namespace with its quota and
//! everything around it, changes follow, a cluster that fails, hangs or goes
//! away is waited out without losing anything, drift is put back, several
//! processes share the work without stepping on each other, and what the
//! namespaces use is measured. Plus the manifest directory that stands in
//! for a cluster when none is configured.

use std::{
    collections::BTreeMap,
    fs::File,
    os::unix::fs::MetadataExt as _,
    path::{Path, PathBuf},
    process::Child,
    time::Duration,
};

use kontor::{
    config::Settings,
    db::{self, audit, outbox, targets},
    domain::{Resources, Role, quantity::Quantity},
    provisioning::{Provisioner, collector, resync},
};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    support::fake_kube::FakeKube,
    support::{
        ALL_STAGES, Backend, Tenant, TestApp, assert_forbidden, assert_not_found, assert_problem,
        expect_json, id, spawn_on, spawn_on_fake, until,
    },
};

// The embedded default: no cluster, the manifest directory.
api_tests! {
    without_a_cluster_bookings_are_rendered_as_manifests_and_unchanged_state_touches_no_file,
    a_booking_refused_for_the_kontingent_enqueues_no_provisioning_work,
}

cluster_tests! {
    a_booking_creates_its_namespace_with_quota_limits_network_policy_and_access,
    resize_and_cancel_move_the_quota_and_dissolving_removes_the_namespace_until_the_next_booking,
    a_booking_right_after_dissolving_is_aktiv_only_once_the_old_namespace_is_gone,
    dissolving_is_refused_with_open_bookings_to_developers_and_to_other_tenants_and_writes_nothing,
    each_stage_is_provisioned_in_the_cluster_it_is_mapped_to,
    bookings_made_while_the_api_server_is_down_are_kept_and_converge_when_it_returns,
    server_errors_are_retried_with_growing_backoff_until_they_converge,
    a_hanging_api_server_times_out_and_is_retried_until_it_answers,
    a_resync_puts_back_drift_and_a_deleted_namespace_and_writes_nothing_when_nothing_differs,
    two_processes_on_one_database_never_work_on_one_environment_at_once_and_converge,
    a_process_killed_mid_reconcile_is_taken_over_once_its_lease_runs_out,
    metering_samples_the_used_quota_once_per_interval_and_nothing_from_manifests,
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
    list.as_array()
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

async fn customer_slug(app: &TestApp, customer_id: i64) -> String {
    let (slug,): (String,) = sqlx::query_as("SELECT slug FROM customers WHERE id = $1")
        .bind(customer_id)
        .fetch_one(&app.db().pool)
        .await
        .expect("customer slug");
    slug
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
    claimed_until_ms: Option<i64>,
    last_error: Option<String>,
    last_error_kind: Option<String>,
    last_attempt_ms: Option<i64>,
    done_at_ms: Option<i64>,
}

async fn outbox_row(app: &TestApp, environment_id: i64) -> OutboxRow {
    sqlx::query_as(
        "SELECT generation, done_generation, attempts, due_at_ms, claimed_by, claimed_until_ms, \
         last_error, last_error_kind, last_attempt_ms, done_at_ms \
         FROM provisioning_outbox WHERE environment_id = $1",
    )
    .bind(environment_id)
    .fetch_one(&app.db().pool)
    .await
    .expect("outbox row")
}

/// Write requests (method, path and query) the fake received.
fn writes_logged(fake: &FakeKube) -> Vec<(String, String)> {
    fake.request_log()
        .into_iter()
        .filter(|(method, _)| method != "GET")
        .collect()
}

// ----- the objects of an environment -------------------------------------

async fn a_booking_creates_its_namespace_with_quota_limits_network_policy_and_access(
    backend: Backend,
) {
    let fake = FakeKube::start().await;
    let app = spawn_on_fake(backend, &fake).await;
    let t = app.contract_with_room(20).await;
    let slug = customer_slug(&app, t.customer_id).await;
    let (contract,): (String,) = sqlx::query_as("SELECT number FROM contracts WHERE id = $1")
        .bind(t.contract_id)
        .fetch_one(&app.db().pool)
        .await
        .unwrap();

    let b = app
        .book_ok(
            &t.token,
            t.application_id,
            "abnahme",
            "container-namespace",
            "S",
        )
        .await;
    // Accepted; aktiv only once the cluster has it.
    assert_eq!(b["state"], "beantragt", "{b}");
    let dev = app
        .book_ok(
            &t.token,
            t.application_id,
            "vorpruefung",
            "container-namespace",
            "S",
        )
        .await;
    app.settle().await;

    let ns = format!("{slug}-fachverfahren-abnahme");
    let env = environment(&app, &t.token, environment_id(&b)).await;
    assert_eq!(env["namespace"], ns.as_str());
    assert_eq!(env["lifecycle"], "aktiv");
    assert_eq!(env["provisioning"], json!({"state": "bereit"}));

    let namespace = fake
        .get("namespaces", None, &ns)
        .unwrap_or_else(|| panic!("no namespace {ns}; there are {:?}", fake.namespaces()));
    let labels = &namespace["metadata"]["labels"];
    assert_eq!(labels["app.kubernetes.io/managed-by"], "kontor", "{labels}");
    assert_eq!(labels["kontor/customer"], slug.as_str(), "{labels}");
    assert_eq!(labels["kontor/application"], "fachverfahren", "{labels}");
    assert_eq!(labels["kontor/stage"], "abnahme", "{labels}");
    assert_eq!(labels["kontor/contract"], contract.as_str(), "{labels}");
    assert_eq!(
        labels["kontor/environment"],
        environment_id(&b).to_string(),
        "{labels}"
    );

    // The quota is the booked size S: 2 vCPU, 8 GiB, no storage, 20 pods.
    let quota = fake.get("resourcequotas", Some(&ns), "kontor").unwrap();
    let hard = &quota["spec"]["hard"];
    for (key, value) in [
        ("requests.cpu", "2"),
        ("limits.cpu", "2"),
        ("requests.memory", "8Gi"),
        ("limits.memory", "8Gi"),
        ("requests.storage", "0"),
        ("pods", "20"),
    ] {
        assert_eq!(hard[key], value, "{key} in {hard}");
    }
    assert_eq!(
        live_quota(&fake, &ns),
        Some(booked(&app, environment_id(&b)).await)
    );

    let limits = fake
        .get("limitranges", Some(&ns), "kontor-defaults")
        .expect("the LimitRange");
    let item = &limits["spec"]["limits"][0];
    assert_eq!(item["type"], "Container", "{limits}");
    assert!(item["default"]["cpu"].is_string(), "{limits}");
    assert!(item["defaultRequest"]["memory"].is_string(), "{limits}");

    // Default deny: every pod selected, both directions, and the only
    // peers allowed are pods of this namespace (and DNS on the way out).
    let policy = fake
        .get("networkpolicies", Some(&ns), "kontor-default-deny")
        .expect("the NetworkPolicy");
    let spec = &policy["spec"];
    assert_eq!(spec["podSelector"], json!({}), "{spec}");
    assert_eq!(spec["policyTypes"], json!(["Ingress", "Egress"]), "{spec}");
    assert_eq!(
        spec["ingress"],
        json!([{"from": [{"podSelector": {}}]}]),
        "{spec}"
    );
    let egress = spec["egress"].as_array().expect("egress rules");
    assert_eq!(egress[0], json!({"to": [{"podSelector": {}}]}), "{spec}");
    assert!(
        egress[1..].iter().all(|rule| {
            rule["ports"]
                .as_array()
                .is_some_and(|ports| ports.iter().all(|p| p["port"] == 53))
        }),
        "beyond the namespace only DNS: {spec}"
    );

    assert!(
        fake.get("serviceaccounts", Some(&ns), "kontor-deployer")
            .is_some(),
        "the deployer's ServiceAccount"
    );
    let binding = |namespace: &str, name: &str| {
        let rb = fake
            .get("rolebindings", Some(namespace), name)
            .unwrap_or_else(|| panic!("no RoleBinding {namespace}/{name}"));
        let subject = &rb["subjects"][0];
        (
            rb["roleRef"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            subject["kind"].as_str().unwrap_or_default().to_owned(),
            subject["name"].as_str().unwrap_or_default().to_owned(),
        )
    };
    let developers = format!("{slug}/entwickler");
    // Developers only look in Abnahme; they edit in Vorprüfung.
    assert_eq!(
        binding(&ns, "kontor-entwickler"),
        ("view".into(), "Group".into(), developers.clone())
    );
    let dev_ns = format!("{slug}-fachverfahren-vorpruefung");
    assert_eq!(
        binding(&dev_ns, "kontor-entwickler"),
        ("edit".into(), "Group".into(), developers)
    );
    assert_eq!(
        binding(&ns, "kontor-systempflege"),
        (
            "view".into(),
            "Group".into(),
            format!("{slug}/systempfleger")
        )
    );
    assert_eq!(
        binding(&ns, "kontor-deployer"),
        (
            "edit".into(),
            "ServiceAccount".into(),
            "kontor-deployer".into()
        )
    );

    // Everything Kontor made carries its label, so a resync finds it.
    for (resource, name) in [
        ("resourcequotas", "kontor"),
        ("limitranges", "kontor-defaults"),
        ("networkpolicies", "kontor-default-deny"),
        ("serviceaccounts", "kontor-deployer"),
        ("rolebindings", "kontor-entwickler"),
        ("rolebindings", "kontor-systempflege"),
        ("rolebindings", "kontor-deployer"),
    ] {
        let object = fake.get(resource, Some(&ns), name).unwrap();
        assert_eq!(
            object["metadata"]["labels"]["app.kubernetes.io/managed-by"], "kontor",
            "{resource}/{name}"
        );
    }

    // beantragt → aktiv, with the provisioning layer's audit entry.
    for booking_id in [id(&b), id(&dev)] {
        let now = booking(&app, &t.token, booking_id).await;
        assert_eq!(now["state"], "aktiv", "{now}");
        assert_eq!(now["provisioning"], json!({"state": "bereit"}), "{now}");
        let log = audit::for_object(&app.db().pool, "booking", booking_id)
            .await
            .unwrap();
        let provisioned: Vec<_> = log
            .iter()
            .filter(|r| r.action == "booking.provisioned")
            .collect();
        assert_eq!(provisioned.len(), 1, "one booking.provisioned entry");
        assert_eq!(provisioned[0].via.as_str(), "system");
    }

    // Server-side apply, as field manager `kontor`, the namespace first;
    // nothing else writes.
    let writes = writes_logged(&fake);
    assert_eq!(writes.len(), 16, "eight objects per namespace: {writes:?}");
    for (method, target) in &writes {
        assert_eq!(method, "PATCH", "{target}");
        let (_, query) = target.split_once('?').unwrap_or((target, ""));
        let params: BTreeMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        assert_eq!(
            params.get("fieldManager").map(String::as_str),
            Some("kontor"),
            "{target}"
        );
        assert_eq!(
            params.get("force").map(String::as_str),
            Some("true"),
            "{target}"
        );
    }
    for namespace in [&ns, &dev_ns] {
        let position = |prefix: &str| {
            writes
                .iter()
                .position(|(_, target)| target.starts_with(prefix))
                .unwrap_or_else(|| panic!("no write to {prefix}: {writes:?}"))
        };
        assert!(
            position(&format!("/api/v1/namespaces/{namespace}?"))
                < position(&format!("/api/v1/namespaces/{namespace}/")),
            "the namespace before what goes into it: {writes:?}"
        );
    }
}

async fn resize_and_cancel_move_the_quota_and_dissolving_removes_the_namespace_until_the_next_booking(
    backend: Backend,
) {
    let fake = FakeKube::start().await;
    let app = spawn_on_fake(backend, &fake).await;
    let t = app.contract_with_room(50).await;
    let compute = app
        .book_ok(
            &t.token,
            t.application_id,
            "abnahme",
            "container-namespace",
            "S",
        )
        .await;
    let env = environment_id(&compute);
    app.settle().await;
    let ns = environment(&app, &t.token, env).await["namespace"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(live_quota(&fake, &ns).unwrap().millicpu, 2000);

    // Resize: the quota follows.
    expect_json(
        app.resize(&t.token, id(&compute), "M").await,
        StatusCode::OK,
    )
    .await;
    app.settle().await;
    let quota = live_quota(&fake, &ns).unwrap();
    assert_eq!((quota.millicpu, quota.memory_mib), (4000, 16384));
    assert_eq!(quota, booked(&app, env).await);

    // A second booking there adds to it.
    let storage = app
        .book_ok(
            &t.token,
            t.application_id,
            "abnahme",
            "persistent-storage",
            "M",
        )
        .await;
    assert_eq!(environment_id(&storage), env, "one environment per stage");
    app.settle().await;
    let quota = live_quota(&fake, &ns).unwrap();
    assert_eq!((quota.millicpu, quota.storage_gib), (4000, 100));

    // Cancelling shrinks it; with the last booking gone it is zero, and
    // the namespace stays until someone dissolves it.
    expect_json(app.cancel(&t.token, id(&compute)).await, StatusCode::OK).await;
    app.settle().await;
    let quota = live_quota(&fake, &ns).unwrap();
    assert_eq!((quota.millicpu, quota.storage_gib), (0, 100));
    expect_json(app.cancel(&t.token, id(&storage)).await, StatusCode::OK).await;
    app.settle().await;
    assert_eq!(live_quota(&fake, &ns), Some(Resources::default()));
    let view = environment(&app, &t.token, env).await;
    assert_eq!(
        (&view["lifecycle"], &view["open_bookings"]),
        (&json!("aktiv"), &json!(0))
    );

    // Umgebung auflösen: 202, and the namespace goes.
    let resp = app
        .post(&format!("/api/v1/environments/{env}/dissolve"), &t.token)
        .await;
    let accepted = expect_json(resp, StatusCode::ACCEPTED).await;
    assert_eq!(accepted["lifecycle"], "aufgeloest", "{accepted}");
    app.settle().await;
    assert!(
        !fake.namespaces().contains(&ns),
        "{ns} still there: {:?}",
        fake.namespaces()
    );
    let view = environment(&app, &t.token, env).await;
    assert_eq!(view["lifecycle"], "aufgeloest", "{view}");
    assert_eq!(view["provisioning"], json!({"state": "bereit"}), "{view}");

    // The next booking brings it back.
    let again = app
        .book_ok(
            &t.token,
            t.application_id,
            "abnahme",
            "container-namespace",
            "L",
        )
        .await;
    assert_eq!(environment_id(&again), env);
    app.settle().await;
    assert!(fake.namespaces().contains(&ns));
    assert_eq!(live_quota(&fake, &ns).unwrap().millicpu, 8000);
    let view = environment(&app, &t.token, env).await;
    assert_eq!(view["lifecycle"], "aktiv", "{view}");
    assert_eq!(view["provisioning"], json!({"state": "bereit"}), "{view}");
    assert_eq!(booking(&app, &t.token, id(&again)).await["state"], "aktiv");
}

async fn a_booking_right_after_dissolving_is_aktiv_only_once_the_old_namespace_is_gone(
    backend: Backend,
) {
    let fake = FakeKube::start().await;
    let app = spawn_on_fake(backend, &fake).await;
    let t = app.contract_with_room(20).await;
    let first = app
        .book_ok(
            &t.token,
            t.application_id,
            "schulung",
            "container-namespace",
            "S",
        )
        .await;
    let env = environment_id(&first);
    app.settle().await;
    let ns = namespace_of(&app, env).await;
    expect_json(app.cancel(&t.token, id(&first)).await, StatusCode::OK).await;
    app.settle().await;

    // A namespace takes a while to go (its content is deleted first).
    fake.set_namespace_deletion_delay(Duration::from_millis(1500));
    expect_json(
        app.post(&format!("/api/v1/environments/{env}/dissolve"), &t.token)
            .await,
        StatusCode::ACCEPTED,
    )
    .await;
    app.settle().await;
    let terminating = fake.get("namespaces", None, &ns).expect("still there");
    assert!(
        !terminating["metadata"]["deletionTimestamp"].is_null(),
        "Terminating: {terminating}"
    );

    // Booked again while the old namespace is still Terminating: whatever
    // is applied into it now goes with it.
    let again = app
        .book_ok(
            &t.token,
            t.application_id,
            "schulung",
            "container-namespace",
            "M",
        )
        .await;
    app.settle().await;
    let live = fake.get("namespaces", None, &ns);
    // The API server accepts updates of objects that already exist in a
    // terminating namespace (only creating new ones is refused); had Kontor
    // taken that for success, the booking would be aktiv and its quota
    // purged moments later. It waits for the namespace to go and creates it
    // anew.
    assert!(
        live.as_ref()
            .is_some_and(|n| n["metadata"]["deletionTimestamp"].is_null()),
        "the booking is {} while its namespace is {}",
        booking(&app, &t.token, id(&again)).await["state"],
        live.map_or("gone".into(), |n| format!(
            "{} since {}",
            n["status"]["phase"], n["metadata"]["deletionTimestamp"]
        ))
    );
    assert_eq!(live_quota(&fake, &ns).unwrap().millicpu, 4000);
    assert_eq!(booking(&app, &t.token, id(&again)).await["state"], "aktiv");
}

// ----- Umgebung auflösen: who may, and when ------------------------------

async fn dissolving_is_refused_with_open_bookings_to_developers_and_to_other_tenants_and_writes_nothing(
    backend: Backend,
) {
    let fake = FakeKube::start().await;
    let app = spawn_on_fake(backend, &fake).await;
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
    let never_booked = id(&environment_in(&app, &t, "vorpruefung").await);
    let developer = app
        .user_with_roles(Some(t.customer_id), &[Role::Entwickler])
        .await;
    let stranger = app.contract_with_room(20).await;
    let before = app.counts().await;
    fake.reset_counters();
    let dissolve = |env: i64, token: String| {
        let app = app.clone();
        async move {
            app.post(&format!("/api/v1/environments/{env}/dissolve"), &token)
                .await
        }
    };

    let p = assert_problem(
        dissolve(env, t.token.clone()).await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    assert!(
        p["detail"].as_str().unwrap().contains("kündigen"),
        "says what to do first: {p}"
    );
    // Nothing booked there ever: nothing to dissolve.
    assert_problem(
        dissolve(never_booked, t.token.clone()).await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    assert_forbidden(dissolve(env, developer).await).await;
    // Another tenant's environment looks exactly like one that does not
    // exist.
    let foreign = assert_not_found(dissolve(env, stranger.token.clone()).await).await;
    let missing = assert_not_found(dissolve(env + 100_000, stranger.token.clone()).await).await;
    for field in ["type", "title", "detail", "status"] {
        assert_eq!(foreign[field], missing[field], "{field}");
    }
    assert_not_found(
        app.get(&format!("/api/v1/environments/{env}"), &stranger.token)
            .await,
    )
    .await;

    assert_eq!(app.counts().await, before, "the database is unchanged");
    assert_eq!(fake.writes(), 0, "the cluster is unchanged");
    let view = environment(&app, &t.token, env).await;
    assert_eq!(view["lifecycle"], "aktiv", "{view}");
    assert!(fake.namespaces().contains(&namespace_of(&app, env).await));
}

// ----- stages and clusters -----------------------------------------------

async fn each_stage_is_provisioned_in_the_cluster_it_is_mapped_to(backend: Backend) {
    let zone_a = FakeKube::start().await;
    let zone_b = FakeKube::start().await;
    let app = spawn_on(
        backend,
        &[
            ("zone-a", &zone_a, &["vorpruefung", "abnahme", "schulung"]),
            ("zone-b", &zone_b, &["produktion"]),
        ],
        |_| {},
    )
    .await;
    let t = app.contract_with_room(20).await;
    let slug = customer_slug(&app, t.customer_id).await;
    let mut envs = BTreeMap::new();
    for stage in ALL_STAGES {
        let b = app
            .book_ok(
                &t.token,
                t.application_id,
                stage,
                "container-namespace",
                "S",
            )
            .await;
        envs.insert(stage, environment_id(&b));
    }
    app.settle().await;

    let ours = |fake: &FakeKube| -> Vec<String> {
        fake.namespaces()
            .into_iter()
            .filter(|n| n.starts_with(&slug))
            .collect()
    };
    assert_eq!(
        ours(&zone_a),
        [
            format!("{slug}-fachverfahren-abnahme"),
            format!("{slug}-fachverfahren-schulung"),
            format!("{slug}-fachverfahren-vorpruefung"),
        ]
    );
    assert_eq!(ours(&zone_b), [format!("{slug}-fachverfahren-produktion")]);
    assert!(
        writes_logged(&zone_b)
            .iter()
            .all(|(_, target)| target.contains("-produktion")),
        "zone B only hears of Produktion"
    );
    assert!(
        writes_logged(&zone_a)
            .iter()
            .all(|(_, target)| !target.contains("-produktion")),
        "zone A never hears of Produktion"
    );
    for (stage, env) in &envs {
        let view = environment(&app, &t.token, *env).await;
        let expected = if *stage == "produktion" {
            "zone-b"
        } else {
            "zone-a"
        };
        assert_eq!(view["target"], expected, "{view}");
        assert_eq!(view["provisioning"], json!({"state": "bereit"}), "{view}");
        let fake = if *stage == "produktion" {
            &zone_b
        } else {
            &zone_a
        };
        assert_eq!(
            live_quota(fake, view["namespace"].as_str().unwrap()),
            Some(booked(&app, *env).await)
        );
    }
}

// ----- faults ------------------------------------------------------------

async fn bookings_made_while_the_api_server_is_down_are_kept_and_converge_when_it_returns(
    backend: Backend,
) {
    let fake = FakeKube::start().await;
    let app = spawn_on(backend, &[("rz-nord", &fake, &ALL_STAGES)], |_| {}).await;
    let t = app.contract_with_room(100).await;
    // The cluster was there once, so it went away rather than never came.
    let warmup = app
        .book_ok(
            &t.token,
            t.application_id,
            "vorpruefung",
            "container-namespace",
            "S",
        )
        .await;
    app.settle().await;

    fake.stop().await;
    let mut bookings = Vec::new();
    for (stage, product, size) in [
        ("vorpruefung", "container-namespace", "M"),
        ("abnahme", "container-namespace", "S"),
        ("abnahme", "persistent-storage", "S"),
        ("schulung", "container-namespace", "L"),
        ("produktion", "container-namespace", "XL"),
    ] {
        let b = app
            .book_ok(&t.token, t.application_id, stage, product, size)
            .await;
        assert_eq!(b["state"], "beantragt");
        bookings.push(b);
    }
    // Changes to what was there are kept too.
    expect_json(app.resize(&t.token, id(&warmup), "L").await, StatusCode::OK).await;
    expect_json(app.cancel(&t.token, id(&bookings[2])).await, StatusCode::OK).await;

    for b in bookings
        .iter()
        .filter(|b| b["product"] != "persistent-storage")
    {
        let now = until("the outage is recorded on the booking", async || {
            let now = booking(&app, &t.token, id(b)).await;
            (now["provisioning"]["state"] == "fehler").then_some(now)
        })
        .await;
        assert_eq!(now["state"], "beantragt", "{now}");
        let message = now["provisioning"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("„rz-nord“"), "names the cluster: {now}");
    }
    // Retried meanwhile, with the attempts counted.
    let env = environment_id(&bookings[0]);
    until("a few retries", async || {
        (outbox_row(&app, env).await.attempts >= 3).then_some(())
    })
    .await;
    let view = environment(&app, &t.token, env).await;
    assert_eq!(view["provisioning"]["state"], "fehler", "{view}");
    assert!(view["failed_attempts"].as_i64().unwrap() >= 3, "{view}");
    let status = targets::all(&app.db().pool).await.unwrap();
    let rz = status
        .iter()
        .find(|s| s.name == "rz-nord")
        .unwrap_or_else(|| panic!("no state of rz-nord: {status:?}"));
    assert_eq!(rz.reachable, 0, "{rz:?}");
    assert!(
        rz.message
            .as_deref()
            .unwrap_or_default()
            .contains("rz-nord"),
        "{rz:?}"
    );
    let depth = outbox::depth(&app.db().pool).await.unwrap();
    assert_eq!((depth.pending, depth.failing), (4, 4), "{depth:?}");

    fake.resume().await;
    app.settle().await;
    let mut envs: Vec<i64> = bookings.iter().map(environment_id).collect();
    envs.dedup();
    assert_converged(&app, &fake, &envs).await;
    for b in &bookings {
        let now = booking(&app, &t.token, id(b)).await;
        let expected = if id(b) == id(&bookings[2]) {
            "gekuendigt"
        } else {
            "aktiv"
        };
        assert_eq!(now["state"], expected, "{now}");
        assert_eq!(now["provisioning"], json!({"state": "bereit"}), "{now}");
    }
    assert_eq!(
        live_quota(&fake, &namespace_of(&app, environment_id(&warmup)).await)
            .unwrap()
            .millicpu,
        // The resized S → L and the M booked meanwhile.
        8000 + 4000
    );
    let rz = targets::all(&app.db().pool)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.name == "rz-nord")
        .unwrap();
    assert_eq!((rz.reachable, rz.message), (1, None));
}

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

async fn a_resync_puts_back_drift_and_a_deleted_namespace_and_writes_nothing_when_nothing_differs(
    backend: Backend,
) {
    let fake = FakeKube::start().await;
    let app = spawn_on_fake(backend, &fake).await;
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
    let env = environment_id(&b);
    // A second environment that nobody touches.
    let other = environment_id(
        &app.book_ok(
            &t.token,
            t.application_id,
            "abnahme",
            "container-namespace",
            "S",
        )
        .await,
    );
    app.settle().await;
    let ns = namespace_of(&app, env).await;
    let provisioner = Provisioner::from_settings(&app.settings).await.unwrap();

    // Someone raises the quota with kubectl edit.
    fake.edit("resourcequotas", Some(&ns), "kontor", |quota| {
        quota["spec"]["hard"]["requests.cpu"] = json!("64");
        quota["spec"]["hard"]["limits.cpu"] = json!("64");
    });
    assert_eq!(live_quota(&fake, &ns).unwrap().millicpu, 64_000);
    let report = resync::resync(app.db(), &provisioner).await.unwrap();
    assert_eq!(report.drifted, [env], "{report:?}");
    app.settle().await;
    assert_eq!(live_quota(&fake, &ns), Some(booked(&app, env).await));

    // What others add beside Kontor's fields is not drift.
    fake.edit("namespaces", None, &ns, |namespace| {
        namespace["metadata"]["annotations"]["team.example/owner"] = json!("fachbereich-3");
    });
    // Nothing differs: the resync reads, and writes nothing anywhere.
    fake.reset_counters();
    let before = app.counts().await;
    let report = resync::resync(app.db(), &provisioner).await.unwrap();
    assert!(report.drifted.is_empty(), "{report:?}");
    assert!(report.checked >= 2, "{report:?}");
    assert_eq!(fake.writes(), 0, "{:?}", fake.request_log());
    assert!(fake.requests() > 0, "it did look");
    assert_eq!(app.counts().await, before);
    assert_eq!(outbox::depth(&app.db().pool).await.unwrap().pending, 0);

    // The namespace deleted behind Kontor's back (kubectl delete).
    let resp = reqwest::Client::new()
        .delete(format!("{}/api/v1/namespaces/{ns}", fake.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    until("the namespace is gone", async || {
        (!fake.namespaces().contains(&ns)).then_some(())
    })
    .await;
    let report = resync::resync(app.db(), &provisioner).await.unwrap();
    assert_eq!(report.drifted, [env], "only the deleted one: {report:?}");
    app.settle().await;
    assert!(fake.namespaces().contains(&ns));
    assert!(
        fake.get("rolebindings", Some(&ns), "kontor-entwickler")
            .is_some()
    );
    assert_converged(&app, &fake, &[env, other]).await;
    fake.reset_counters();
    let report = resync::resync(app.db(), &provisioner).await.unwrap();
    assert!(report.drifted.is_empty(), "{report:?}");
    assert_eq!(fake.writes(), 0);
}

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

/// A `kontor serve` in a process of its own; killed when dropped, so a
/// failing test leaves nothing running. Shows its log when the test failed.
struct Subprocess {
    child: Child,
    log: PathBuf,
}

impl Subprocess {
    fn start(settings: &Settings, kubeconfig: &Path) -> Subprocess {
        let log = settings.data_dir.join("kontor-subprocess.log");
        let stderr = File::create(&log).expect("log file of the subprocess");
        let mut command = crate::support::serve_command(settings);
        command
            .env("KONTOR_LISTEN", "127.0.0.1:0")
            .env("KONTOR_CLUSTERS__FAKE__KUBECONFIG", kubeconfig)
            .env("KONTOR_RECONCILE_LEASE_SECONDS", "2")
            // Stuck for good, not until a timeout gives the claim back.
            .env("KONTOR_KUBE_TIMEOUT_SECONDS", "300")
            .stderr(stderr);
        for stage in ALL_STAGES {
            command.env(format!("KONTOR_STAGES__{}", stage.to_uppercase()), "fake");
        }
        let child = command.spawn().expect("start kontor serve");
        Subprocess { child, log }
    }

    /// Fails the test (with the log) if the process has ended.
    fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!(
                "kontor serve ended ({status}):\n{}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
        }
    }
}

impl Drop for Subprocess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "--- log of the kontor subprocess ---\n{}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
        }
    }
}

async fn a_process_killed_mid_reconcile_is_taken_over_once_its_lease_runs_out(backend: Backend) {
    let fake = FakeKube::start().await;
    // This process serves the API but reconciles nothing.
    let app = spawn_on(backend, &[("fake", &fake, &ALL_STAGES)], |s| {
        s.reconcile_workers = 0;
    })
    .await;
    let t = app.contract_with_room(20).await;
    fake.hang(true);
    let mut process = Subprocess::start(
        &app.settings,
        &app.settings.data_dir.join("kubeconfig-fake.yaml"),
    );
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

    // The subprocess claims the environment and is stuck in its first call.
    let claimed = until("the subprocess claims the environment", async || {
        process.assert_running();
        let row = outbox_row(&app, env).await;
        (row.claimed_by.is_some() && !fake.request_log().is_empty()).then_some(row)
    })
    .await;
    process.child.kill().expect("SIGKILL");
    process.child.wait().expect("the killed process is reaped");
    let row = outbox_row(&app, env).await;
    assert_eq!(row.claimed_by, claimed.claimed_by, "the claim outlives it");
    assert_eq!(booking(&app, &t.token, id(&b)).await["state"], "beantragt");

    fake.hang(false);
    let successor = app.sibling(|s| s.reconcile_workers = 4).await;
    successor.settle().await;
    let done = outbox_row(&app, env).await;
    assert!(
        done.done_at_ms.unwrap() >= claimed.claimed_until_ms.unwrap(),
        "taken over only after the lease: {claimed:?} → {done:?}"
    );
    assert_ne!(done.claimed_by, claimed.claimed_by);
    assert_converged(&app, &fake, &[env]).await;
    assert_eq!(booking(&app, &t.token, id(&b)).await["state"], "aktiv");
}

// ----- metering ----------------------------------------------------------

async fn metering_samples_the_used_quota_once_per_interval_and_nothing_from_manifests(
    backend: Backend,
) {
    let fake = FakeKube::start().await;
    let app = spawn_on_fake(backend, &fake).await;
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
    app.book_ok(
        &t.token,
        t.application_id,
        "produktion",
        "persistent-storage",
        "S",
    )
    .await;
    let env = environment_id(&b);
    app.settle().await;
    let ns = namespace_of(&app, env).await;
    fake.set_quota_used(
        &ns,
        "kontor",
        json!({"requests.cpu": "1500m", "requests.memory": "1536Mi",
               "requests.storage": "10Gi", "pods": "4"}),
    );

    let provisioner = Provisioner::from_settings(&app.settings).await.unwrap();
    let every = 300;
    let now = db::now();
    let at = now - now.rem_euclid(every);
    let samples = async || -> Vec<(i64, i64, i64, i64, i64, i64)> {
        sqlx::query_as(
            "SELECT environment_id, sampled_at, millicpu, memory_mib, storage_gib, pods \
             FROM usage_samples ORDER BY sampled_at",
        )
        .fetch_all(&app.db().pool)
        .await
        .unwrap()
    };
    let taken = collector::collect(app.db(), &provisioner, now, every)
        .await
        .unwrap();
    assert_eq!(taken, 1);
    assert_eq!(samples().await, [(env, at, 1500, 1536, 10, 4)]);

    // Later in the same interval (another replica, say): the first stays.
    fake.set_quota_used(&ns, "kontor", json!({"requests.cpu": "3", "pods": "9"}));
    collector::collect(app.db(), &provisioner, at + every - 1, every)
        .await
        .unwrap();
    assert_eq!(samples().await, [(env, at, 1500, 1536, 10, 4)]);
    // The next interval is a new sample.
    collector::collect(app.db(), &provisioner, at + every, every)
        .await
        .unwrap();
    assert_eq!(
        samples().await,
        [
            (env, at, 1500, 1536, 10, 4),
            (env, at + every, 3000, 0, 0, 9)
        ]
    );

    // The manifest directory measures nothing.
    let manifests_only = Settings {
        clusters: BTreeMap::new(),
        stages: BTreeMap::new(),
        kubeconfig: None,
        ..app.settings.clone()
    };
    let manifests = Provisioner::from_settings(&manifests_only).await.unwrap();
    assert!(manifests.targets().iter().all(|t| !t.is_cluster()));
    let taken = collector::collect(app.db(), &manifests, at + 2 * every, every)
        .await
        .unwrap();
    assert_eq!(taken, 0);
    assert_eq!(samples().await.len(), 2);
}

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
