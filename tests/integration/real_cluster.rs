//! End to end against a real Kubernetes control plane, in every test run:
//! kube-apiserver, kube-controller-manager, kube-scheduler, etcd and kwok
//! built from their Go modules (`scripts/kube-binaries.sh`) and started once
//! per test process by `support/real_kube.rs`. Kontor authenticates as the
//! ServiceAccount `kontor/kontor` bound to the ClusterRole of
//! `deploy/kubernetes/target-cluster/` as shipped, so every call here is
//! judged by the real RBAC authorizer and the real admission plugins; the
//! tests look with admin rights. Each test works with a fresh customer, so
//! its namespaces are its own; Kontor's writes are counted from the API
//! server's audit log.
//!
//! The fake API server (`support/fake_kube.rs`) remains for what a real one
//! cannot be made to do: answer 500, hang half-way, drop connections.

use std::{collections::BTreeMap, path::PathBuf, time::Duration};

use k8s_openapi::{
    api::{
        apps::v1::Deployment,
        core::v1::{
            ConfigMap, LimitRange, Namespace, PersistentVolumeClaim, Pod, ResourceQuota,
            ServiceAccount,
        },
        networking::v1::NetworkPolicy,
        rbac::v1::{ClusterRole, ClusterRoleBinding, RoleBinding},
    },
    serde::de::DeserializeOwned,
};
use kontor::{
    config::ClusterSettings,
    db::{self, audit, outbox, targets},
    domain::{
        Lifecycle, Resources, Role, Stage,
        environment::{EnvironmentSpec, Workload},
        quantity::Quantity,
    },
    provisioning::{
        Provisioner,
        cluster::{Cluster, used_resources},
        collector,
        desired::manifests,
        resync,
        target::ErrorKind,
    },
};
use kube::{
    Api, Client, Resource,
    api::{DeleteParams, Patch, PatchParams, PostParams},
};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{
    ALL_STAGES, Backend, Tenant, TestApp, assert_forbidden, assert_not_found, assert_problem,
    expect_json, id,
    real_kube::{
        ADMIN_MANAGER, Zone, allowed, apply_as_admin, concerns, control_plane, is_write,
        spawn_supervised,
    },
    serve_command, spawn_on_kubeconfigs, spawn_on_zones, until, until_within,
};

cluster_tests! {
    a_booking_becomes_its_namespace_and_seven_objects_applied_by_kontor_as_its_service_account,
    resize_and_cancel_move_the_quota_and_dissolving_lets_the_namespace_controller_remove_it_until_the_next_booking,
    a_booking_right_after_dissolving_is_aktiv_only_once_the_old_namespace_is_gone,
    dissolving_is_refused_with_open_bookings_to_developers_and_to_other_tenants_and_writes_nothing,
    each_stage_is_provisioned_in_the_cluster_of_its_security_zone,
    a_resync_puts_back_an_edit_and_deleted_objects_ignores_foreign_annotations_and_writes_nothing_when_nothing_differs,
    the_quota_controllers_used_figures_become_metering_samples,
    an_approved_release_rolls_out_where_a_node_runs_it_and_fails_with_the_clusters_message_where_none_does,
    bookings_made_while_the_api_server_is_stopped_for_a_minute_all_arrive_when_it_is_back,
    a_process_killed_mid_reconcile_is_taken_over_by_its_successor,
}

// The database plays no part in these: SQLite only.
#[tokio::test(flavor = "multi_thread")]
async fn the_control_plane_is_the_pinned_release_built_from_go_modules() {
    let plane = control_plane();
    let version = plane
        .zone_a
        .admin()
        .await
        .apiserver_version()
        .await
        .unwrap();
    let pinned = plane
        .versions
        .split(", ")
        .find_map(|v| v.strip_prefix("kubernetes "))
        .expect("the Kubernetes version in VERSIONS");
    assert_eq!(version.git_version, pinned, "{}", plane.versions);
    eprintln!("real cluster: {}", plane.versions);
}

#[tokio::test(flavor = "multi_thread")]
async fn pod_security_in_a_kontor_namespace_refuses_a_privileged_pod() {
    pod_security(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn each_verb_of_the_shipped_cluster_role_is_needed_and_without_one_the_reconciler_reports_forbidden()
 {
    rbac_proof(Backend::Sqlite).await;
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

/// A namespaced object as JSON, None when it is not there.
async fn object<K>(admin: &Client, namespace: &str, name: &str) -> Option<Value>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug
        + serde::Serialize,
{
    Api::<K>::namespaced(admin.clone(), namespace)
        .get_opt(name)
        .await
        .unwrap_or_else(|e| panic!("read {namespace}/{name}: {e}"))
        .map(|o| serde_json::to_value(o).expect("JSON"))
}

async fn namespace(admin: &Client, name: &str) -> Option<Value> {
    Api::<Namespace>::all(admin.clone())
        .get_opt(name)
        .await
        .unwrap_or_else(|e| panic!("read namespace {name}: {e}"))
        .map(|o| serde_json::to_value(o).expect("JSON"))
}

/// The `kontor` quota of a namespace in Kontor's units (None without one);
/// requests and limits must agree.
async fn live_quota(admin: &Client, ns: &str) -> Option<Resources> {
    let quota = object::<ResourceQuota>(admin, ns, "kontor").await?;
    let hard = &quota["spec"]["hard"];
    let q = |key: &str| {
        let text = hard[key]
            .as_str()
            .unwrap_or_else(|| panic!("{ns}: no {key} in the quota: {hard}"));
        Quantity::parse(text).unwrap_or_else(|e| panic!("{ns}: {e}"))
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

/// Every environment's quota in the cluster is what the database says, and
/// nothing is left `beantragt`.
async fn assert_converged(app: &TestApp, admin: &Client, environment_ids: &[i64]) {
    for &env in environment_ids {
        let ns = app.namespace_of(env).await;
        assert_eq!(
            live_quota(admin, &ns).await,
            Some(booked(app, env).await),
            "quota of {ns}"
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
    attempts: i64,
    claimed_by: Option<String>,
    claimed_until_ms: Option<i64>,
    last_error: Option<String>,
    last_error_kind: Option<String>,
    done_at_ms: Option<i64>,
}

async fn outbox_row(app: &TestApp, environment_id: i64) -> OutboxRow {
    sqlx::query_as(
        "SELECT attempts, claimed_by, claimed_until_ms, last_error, last_error_kind, done_at_ms \
         FROM provisioning_outbox WHERE environment_id = $1",
    )
    .bind(environment_id)
    .fetch_one(&app.db().pool)
    .await
    .expect("outbox row")
}

/// Kontor's writes concerning `namespaces` in the zone's audit log after
/// `mark`. The log is written as responses complete, so it is read until
/// it has been quiet for a moment.
async fn writes_to(zone: &Zone, mark: u64, namespaces: &[String]) -> Vec<Value> {
    let mut seen = usize::MAX;
    loop {
        tokio::time::sleep(Duration::from_millis(750)).await;
        let writes: Vec<Value> = zone
            .audit_since(mark)
            .into_iter()
            .filter(|e| is_write(e) && concerns(e, namespaces))
            .collect();
        if writes.len() == seen {
            return writes;
        }
        seen = writes.len();
    }
}

/// The part of a request URI after `?`, as a map.
fn query(uri: &str) -> BTreeMap<String, String> {
    let (_, query) = uri.split_once('?').unwrap_or((uri, ""));
    url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

/// The managers of an object's fields, with their operation.
fn managers(object: &Value) -> Vec<(String, String)> {
    object["metadata"]["managedFields"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .map(|e| {
                    (
                        e["manager"].as_str().unwrap_or_default().to_owned(),
                        e["operation"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

const KONTOR_USER: &str = "system:serviceaccount:kontor:kontor";

/// Like [`until_within`], for probes that ask Kontor's API: four times a
/// second, well under its rate limit (rollouts on a real cluster take a
/// while).
async fn until_api<T>(
    patience: Duration,
    what: &str,
    mut probe: impl AsyncFnMut() -> Option<T>,
) -> T {
    until_within(patience, what, async || {
        tokio::time::sleep(Duration::from_millis(250)).await;
        probe().await
    })
    .await
}

// ----- the objects of an environment -------------------------------------

async fn a_booking_becomes_its_namespace_and_seven_objects_applied_by_kontor_as_its_service_account(
    backend: Backend,
) {
    let zone = &control_plane().zone_a;
    let app = spawn_on_zones(backend, &[(zone, &ALL_STAGES)], |_| {}).await;
    let admin = zone.admin().await;
    let t = app.contract_with_room(20).await;
    let slug = customer_slug(&app, t.customer_id).await;
    let (contract,): (String,) = sqlx::query_as("SELECT number FROM contracts WHERE id = $1")
        .bind(t.contract_id)
        .fetch_one(&app.db().pool)
        .await
        .unwrap();
    let ns = format!("{slug}-fachverfahren-abnahme");
    let dev_ns = format!("{slug}-fachverfahren-vorpruefung");
    let mark = zone.audit_mark();

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

    let env = environment(&app, &t.token, environment_id(&b)).await;
    assert_eq!(env["namespace"], ns.as_str());
    assert_eq!(env["lifecycle"], "aktiv");
    assert_eq!(env["provisioning"], json!({"state": "bereit"}));

    let live = namespace(&admin, &ns)
        .await
        .unwrap_or_else(|| panic!("no namespace {ns}"));
    let labels = &live["metadata"]["labels"];
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
    assert_eq!(
        labels["pod-security.kubernetes.io/enforce"], "baseline",
        "{labels}"
    );
    assert_eq!(live["status"]["phase"], "Active", "{live}");

    // The quota is the booked size S: 2 vCPU, 8 GiB, no storage, 20 pods,
    // as the API server holds it.
    let quota = object::<ResourceQuota>(&admin, &ns, "kontor")
        .await
        .unwrap();
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
        live_quota(&admin, &ns).await,
        Some(booked(&app, environment_id(&b)).await)
    );
    // The quota controller has seen it: nothing used yet.
    let used = until("the quota controller reports status.used", async || {
        let q = object::<ResourceQuota>(&admin, &ns, "kontor").await?;
        (!q["status"]["used"].is_null()).then(|| q["status"]["used"].clone())
    })
    .await;
    assert_eq!(used["pods"], "0", "{used}");

    let limits = object::<LimitRange>(&admin, &ns, "kontor-defaults")
        .await
        .expect("the LimitRange");
    let item = &limits["spec"]["limits"][0];
    assert_eq!(item["type"], "Container", "{limits}");
    assert_eq!(item["default"]["cpu"], "500m", "{limits}");
    assert_eq!(item["defaultRequest"]["memory"], "128Mi", "{limits}");

    // Default deny: every pod selected, both directions, and the only
    // peers allowed are pods of this namespace (and DNS on the way out).
    let policy = object::<NetworkPolicy>(&admin, &ns, "kontor-default-deny")
        .await
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
        object::<ServiceAccount>(&admin, &ns, "kontor-deployer")
            .await
            .is_some(),
        "the deployer's ServiceAccount"
    );
    let binding = async |namespace: &str, name: &str| {
        let rb = object::<RoleBinding>(&admin, namespace, name)
            .await
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
        binding(&ns, "kontor-entwickler").await,
        ("view".into(), "Group".into(), developers.clone())
    );
    assert_eq!(
        binding(&dev_ns, "kontor-entwickler").await,
        ("edit".into(), "Group".into(), developers.clone())
    );
    assert_eq!(
        binding(&ns, "kontor-systempflege").await,
        (
            "view".into(),
            "Group".into(),
            format!("{slug}/systempfleger")
        )
    );
    assert_eq!(
        binding(&ns, "kontor-deployer").await,
        (
            "edit".into(),
            "ServiceAccount".into(),
            "kontor-deployer".into()
        )
    );
    // The bindings work: the real authorizer lets developers edit in
    // Vorprüfung and only look in Abnahme.
    let developer_may = async |verb: &str, namespace: &str| {
        let review = k8s_openapi::api::authorization::v1::SubjectAccessReview {
            spec: k8s_openapi::api::authorization::v1::SubjectAccessReviewSpec {
                user: Some("jemand".into()),
                groups: Some(vec![developers.clone()]),
                resource_attributes: Some(
                    k8s_openapi::api::authorization::v1::ResourceAttributes {
                        verb: Some(verb.into()),
                        group: Some("apps".into()),
                        resource: Some("deployments".into()),
                        namespace: Some(namespace.into()),
                        ..Default::default()
                    },
                ),
                ..Default::default()
            },
            ..Default::default()
        };
        Api::<k8s_openapi::api::authorization::v1::SubjectAccessReview>::all(admin.clone())
            .create(&PostParams::default(), &review)
            .await
            .unwrap()
            .status
            .is_some_and(|s| s.allowed)
    };
    until("the aggregated edit and view roles apply", async || {
        (developer_may("update", &dev_ns).await && developer_may("list", &ns).await).then_some(())
    })
    .await;
    assert!(!developer_may("update", &ns).await, "no edit in Abnahme");

    // Every object is Kontor's: its label, and its fields applied by the
    // field manager `kontor`.
    let mut objects = vec![live.clone()];
    for (kind, name) in [
        ("ResourceQuota", "kontor"),
        ("LimitRange", "kontor-defaults"),
        ("NetworkPolicy", "kontor-default-deny"),
        ("ServiceAccount", "kontor-deployer"),
        ("RoleBinding", "kontor-entwickler"),
        ("RoleBinding", "kontor-systempflege"),
        ("RoleBinding", "kontor-deployer"),
    ] {
        let o = match kind {
            "ResourceQuota" => object::<ResourceQuota>(&admin, &ns, name).await,
            "LimitRange" => object::<LimitRange>(&admin, &ns, name).await,
            "NetworkPolicy" => object::<NetworkPolicy>(&admin, &ns, name).await,
            "ServiceAccount" => object::<ServiceAccount>(&admin, &ns, name).await,
            _ => object::<RoleBinding>(&admin, &ns, name).await,
        };
        objects.push(o.unwrap_or_else(|| panic!("no {kind} {name}")));
    }
    for o in &objects {
        assert_eq!(
            o["metadata"]["labels"]["app.kubernetes.io/managed-by"], "kontor",
            "{o}"
        );
        assert!(
            managers(o).contains(&("kontor".into(), "Apply".into())),
            "applied by the field manager kontor: {:?} of {}",
            managers(o),
            o["metadata"]["name"]
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

    // In the API server's audit log: server-side apply by Kontor's
    // ServiceAccount as field manager `kontor`, the namespace first,
    // eight objects per namespace, all accepted; nothing else writes.
    let writes = writes_to(zone, mark, &[ns.clone(), dev_ns.clone()]).await;
    let uris: Vec<&str> = writes
        .iter()
        .map(|w| w["requestURI"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(writes.len(), 16, "eight objects per namespace: {uris:?}");
    for w in &writes {
        assert_eq!(w["verb"], "patch", "{w}");
        assert_eq!(w["user"]["username"], KONTOR_USER, "{w}");
        assert!(
            w["responseStatus"]["code"]
                .as_i64()
                .is_some_and(|c| (200..300).contains(&c)),
            "{w}"
        );
        let params = query(w["requestURI"].as_str().unwrap());
        assert_eq!(
            params.get("fieldManager").map(String::as_str),
            Some("kontor"),
            "{w}"
        );
        assert_eq!(params.get("force").map(String::as_str), Some("true"), "{w}");
    }
    for namespace in [&ns, &dev_ns] {
        let position = |prefix: &str| {
            uris.iter()
                .position(|uri| uri.starts_with(prefix))
                .unwrap_or_else(|| panic!("no write to {prefix}: {uris:?}"))
        };
        assert!(
            position(&format!("/api/v1/namespaces/{namespace}?"))
                < position(&format!("/api/v1/namespaces/{namespace}/")),
            "the namespace before what goes into it: {uris:?}"
        );
    }
}

async fn resize_and_cancel_move_the_quota_and_dissolving_lets_the_namespace_controller_remove_it_until_the_next_booking(
    backend: Backend,
) {
    let zone = &control_plane().zone_a;
    let app = spawn_on_zones(backend, &[(zone, &ALL_STAGES)], |_| {}).await;
    let admin = zone.admin().await;
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
    let ns = app.namespace_of(env).await;
    assert_eq!(live_quota(&admin, &ns).await.unwrap().millicpu, 2000);

    // Resize: the quota follows.
    expect_json(
        app.resize(&t.token, id(&compute), "M").await,
        StatusCode::OK,
    )
    .await;
    app.settle().await;
    let quota = live_quota(&admin, &ns).await.unwrap();
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
    let quota = live_quota(&admin, &ns).await.unwrap();
    assert_eq!((quota.millicpu, quota.storage_gib), (4000, 100));

    // Cancelling shrinks it; with the last booking gone it is zero, and
    // the namespace stays until someone dissolves it.
    expect_json(app.cancel(&t.token, id(&compute)).await, StatusCode::OK).await;
    app.settle().await;
    let quota = live_quota(&admin, &ns).await.unwrap();
    assert_eq!((quota.millicpu, quota.storage_gib), (0, 100));
    expect_json(app.cancel(&t.token, id(&storage)).await, StatusCode::OK).await;
    app.settle().await;
    assert_eq!(live_quota(&admin, &ns).await, Some(Resources::default()));
    // A zero quota is enforced: the API server refuses a pod there.
    quota_in_force(&admin, &ns).await;
    let refused = Api::<Pod>::namespaced(admin.clone(), &ns)
        .create(&PostParams::default(), &small_pod("abgelehnt"))
        .await
        .expect_err("no pod fits into a zero quota");
    assert!(refused.to_string().contains("exceeded quota"), "{refused}");
    let view = environment(&app, &t.token, env).await;
    assert_eq!(
        (&view["lifecycle"], &view["open_bookings"]),
        (&json!("aktiv"), &json!(0))
    );

    // Umgebung auflösen: 202; the namespace is Terminating and the
    // namespace controller removes it with everything in it.
    let resp = app
        .post(&format!("/api/v1/environments/{env}/dissolve"), &t.token)
        .await;
    let accepted = expect_json(resp, StatusCode::ACCEPTED).await;
    assert_eq!(accepted["lifecycle"], "aufgeloest", "{accepted}");
    app.settle().await;
    until_within(
        Duration::from_secs(120),
        "the namespace controller removes the namespace",
        async || namespace(&admin, &ns).await.is_none().then_some(()),
    )
    .await;
    let view = environment(&app, &t.token, env).await;
    assert_eq!(view["lifecycle"], "aufgeloest", "{view}");
    assert_eq!(view["provisioning"], json!({"state": "bereit"}), "{view}");

    // The next booking brings it back, empty.
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
    let back = namespace(&admin, &ns).await.expect("the namespace is back");
    assert_eq!(back["status"]["phase"], "Active", "{back}");
    assert_eq!(live_quota(&admin, &ns).await.unwrap().millicpu, 8000);
    let view = environment(&app, &t.token, env).await;
    assert_eq!(view["lifecycle"], "aktiv", "{view}");
    assert_eq!(view["provisioning"], json!({"state": "bereit"}), "{view}");
    assert_eq!(booking(&app, &t.token, id(&again)).await["state"], "aktiv");
}

/// A pod that fits the LimitRange's defaults and the restricted profile.
fn small_pod(name: &str) -> Pod {
    serde_json::from_value(json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "serviceAccountName": "kontor-deployer",
            "automountServiceAccountToken": false,
            "securityContext": {"runAsNonRoot": true, "runAsUser": 1000,
                                "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{
                "name": "app",
                "image": "registry.rz.example/probe@sha256:0000000000000000000000000000000000000000000000000000000000000000",
                "securityContext": {"allowPrivilegeEscalation": false,
                                    "capabilities": {"drop": ["ALL"]}}
            }]
        }
    }))
    .expect("pod")
}

async fn a_booking_right_after_dissolving_is_aktiv_only_once_the_old_namespace_is_gone(
    backend: Backend,
) {
    let zone = &control_plane().zone_a;
    let app = spawn_on_zones(backend, &[(zone, &ALL_STAGES)], |_| {}).await;
    let admin = zone.admin().await;
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
    let ns = app.namespace_of(env).await;
    expect_json(app.cancel(&t.token, id(&first)).await, StatusCode::OK).await;
    app.settle().await;

    // Something in the namespace holds it back while it is deleted (a
    // finalizer someone's controller has not yet removed), so it stays
    // Terminating for as long as the test wants.
    let held: ConfigMap = serde_json::from_value(json!({
        "metadata": {"name": "festgehalten", "finalizers": ["kontor.test/festhalten"]},
        "data": {"x": "y"}
    }))
    .unwrap();
    let configmaps = Api::<ConfigMap>::namespaced(admin.clone(), &ns);
    configmaps
        .create(&PostParams::default(), &held)
        .await
        .expect("the held ConfigMap");
    expect_json(
        app.post(&format!("/api/v1/environments/{env}/dissolve"), &t.token)
            .await,
        StatusCode::ACCEPTED,
    )
    .await;
    app.settle().await;
    let terminating = namespace(&admin, &ns).await.expect("still there");
    assert_eq!(
        terminating["status"]["phase"], "Terminating",
        "{terminating}"
    );

    // Booked again while the old namespace is Terminating: the API server
    // accepts updates there but nothing new, and everything goes with it.
    let again = app
        .book_ok(
            &t.token,
            t.application_id,
            "schulung",
            "container-namespace",
            "M",
        )
        .await;
    let waiting = until_api(
        Duration::from_secs(60),
        "Kontor reports the namespace as still going",
        async || {
            let b = booking(&app, &t.token, id(&again)).await;
            (b["provisioning"]["state"] == "fehler").then_some(b)
        },
    )
    .await;
    assert_eq!(waiting["state"], "beantragt", "{waiting}");
    assert!(
        waiting["provisioning"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("wird noch gelöscht")),
        "{waiting}"
    );

    // The finalizer goes; the namespace controller removes the namespace;
    // Kontor creates it anew and only then is the booking aktiv.
    configmaps
        .patch(
            "festgehalten",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"finalizers": null}})),
        )
        .await
        .expect("remove the finalizer");
    let b = until_api(
        Duration::from_secs(120),
        "the booking is aktiv",
        async || {
            let b = booking(&app, &t.token, id(&again)).await;
            (b["state"] == "aktiv").then_some(b)
        },
    )
    .await;
    assert_eq!(b["provisioning"], json!({"state": "bereit"}), "{b}");
    let live = namespace(&admin, &ns).await.expect("the namespace");
    assert_eq!(live["status"]["phase"], "Active", "{live}");
    assert!(live["metadata"]["deletionTimestamp"].is_null(), "{live}");
    assert_eq!(live_quota(&admin, &ns).await.unwrap().millicpu, 4000);
    assert!(
        object::<ConfigMap>(&admin, &ns, "festgehalten")
            .await
            .is_none(),
        "a new namespace, not the old one"
    );
}

// ----- Umgebung auflösen: who may, and when ------------------------------

async fn dissolving_is_refused_with_open_bookings_to_developers_and_to_other_tenants_and_writes_nothing(
    backend: Backend,
) {
    let zone = &control_plane().zone_a;
    let app = spawn_on_zones(backend, &[(zone, &ALL_STAGES)], |_| {}).await;
    let admin = zone.admin().await;
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
    let ns = app.namespace_of(env).await;
    let list = expect_json(
        app.get(
            &format!("/api/v1/environments?application_id={}", t.application_id),
            &t.token,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let never_booked = id(list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["stage"] == "vorpruefung")
        .expect("the Vorprüfung environment"));
    let developer = app
        .user_with_roles(Some(t.customer_id), &[Role::Entwickler])
        .await;
    let stranger = app.contract_with_room(20).await;
    let before = app.counts().await;
    let mark = zone.audit_mark();
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
    let vorpruefung = ns.replace("-abnahme", "-vorpruefung");
    assert_eq!(
        writes_to(zone, mark, &[ns.clone(), vorpruefung]).await,
        Vec::<Value>::new(),
        "the cluster is unchanged"
    );
    let view = environment(&app, &t.token, env).await;
    assert_eq!(view["lifecycle"], "aktiv", "{view}");
    let live = namespace(&admin, &ns).await.expect("the namespace");
    assert_eq!(live["status"]["phase"], "Active", "{live}");
}

// ----- stages and security zones -----------------------------------------

async fn each_stage_is_provisioned_in_the_cluster_of_its_security_zone(backend: Backend) {
    let plane = control_plane();
    let (zone_a, zone_b) = (&plane.zone_a, &plane.zone_b);
    let app = spawn_on_zones(
        backend,
        &[
            (zone_a, &["vorpruefung", "abnahme", "schulung"]),
            (zone_b, &["produktion"]),
        ],
        |_| {},
    )
    .await;
    let (admin_a, admin_b) = (zone_a.admin().await, zone_b.admin().await);
    let t = app.contract_with_room(20).await;
    let slug = customer_slug(&app, t.customer_id).await;
    let (mark_a, mark_b) = (zone_a.audit_mark(), zone_b.audit_mark());
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

    let all: Vec<String> = ALL_STAGES
        .iter()
        .map(|s| format!("{slug}-fachverfahren-{s}"))
        .collect();
    let ours = async |admin: &Client| -> Vec<String> {
        let mut found = Vec::new();
        for ns in &all {
            if namespace(admin, ns).await.is_some() {
                found.push(ns.clone());
            }
        }
        found.sort();
        found
    };
    assert_eq!(
        ours(&admin_a).await,
        [
            format!("{slug}-fachverfahren-abnahme"),
            format!("{slug}-fachverfahren-schulung"),
            format!("{slug}-fachverfahren-vorpruefung"),
        ]
    );
    assert_eq!(
        ours(&admin_b).await,
        [format!("{slug}-fachverfahren-produktion")]
    );
    let writes_b = writes_to(zone_b, mark_b, &all).await;
    assert_eq!(writes_b.len(), 8, "the eight objects of Produktion");
    assert!(
        writes_b
            .iter()
            .all(|w| w["requestURI"].as_str().unwrap().contains("-produktion")),
        "zone B only hears of Produktion"
    );
    let writes_a = writes_to(zone_a, mark_a, &all).await;
    assert_eq!(writes_a.len(), 24, "three namespaces of eight objects");
    assert!(
        writes_a
            .iter()
            .all(|w| !w["requestURI"].as_str().unwrap().contains("-produktion")),
        "zone A never hears of Produktion"
    );
    for (stage, env) in &envs {
        let view = environment(&app, &t.token, *env).await;
        let (expected, admin) = if *stage == "produktion" {
            (&zone_b.name, &admin_b)
        } else {
            (&zone_a.name, &admin_a)
        };
        assert_eq!(view["target"], expected.as_str(), "{view}");
        assert_eq!(view["provisioning"], json!({"state": "bereit"}), "{view}");
        assert_eq!(
            live_quota(admin, view["namespace"].as_str().unwrap()).await,
            Some(booked(&app, *env).await)
        );
    }
}

// ----- drift -------------------------------------------------------------

async fn a_resync_puts_back_an_edit_and_deleted_objects_ignores_foreign_annotations_and_writes_nothing_when_nothing_differs(
    backend: Backend,
) {
    let zone = &control_plane().zone_a;
    let app = spawn_on_zones(backend, &[(zone, &ALL_STAGES)], |_| {}).await;
    let admin = zone.admin().await;
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
    let ns = app.namespace_of(env).await;
    let ours = [ns.clone(), app.namespace_of(other).await];
    let provisioner = Provisioner::from_settings(&app.settings).await.unwrap();
    let quotas = Api::<ResourceQuota>::namespaced(admin.clone(), &ns);

    // Someone raises the quota with kubectl edit (another field manager).
    quotas
        .patch(
            "kontor",
            &PatchParams {
                field_manager: Some("kubectl-edit".into()),
                ..PatchParams::default()
            },
            &Patch::Merge(json!({"spec": {"hard": {"requests.cpu": "64", "limits.cpu": "64"}}})),
        )
        .await
        .expect("kubectl edit");
    assert_eq!(live_quota(&admin, &ns).await.unwrap().millicpu, 64_000);
    let edited = object::<ResourceQuota>(&admin, &ns, "kontor")
        .await
        .unwrap();
    assert!(
        managers(&edited).contains(&("kubectl-edit".into(), "Update".into())),
        "{:?}",
        managers(&edited)
    );
    let report = resync::resync(app.db(), &provisioner).await.unwrap();
    assert_eq!(report.drifted, [env], "{report:?}");
    app.settle().await;
    assert_eq!(live_quota(&admin, &ns).await, Some(booked(&app, env).await));
    let taken_back = object::<ResourceQuota>(&admin, &ns, "kontor")
        .await
        .unwrap();
    let owner_of_cpu = taken_back["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["fieldsV1"]["f:spec"]["f:hard"]
                .get("f:requests.cpu")
                .is_some()
        })
        .map(|e| e["manager"].as_str().unwrap().to_owned())
        .collect::<Vec<_>>();
    assert_eq!(owner_of_cpu, ["kontor"], "{taken_back}");

    // Objects deleted behind Kontor's back come back.
    Api::<LimitRange>::namespaced(admin.clone(), &ns)
        .delete("kontor-defaults", &DeleteParams::default())
        .await
        .expect("delete the LimitRange");
    Api::<NetworkPolicy>::namespaced(admin.clone(), &ns)
        .delete("kontor-default-deny", &DeleteParams::default())
        .await
        .expect("delete the NetworkPolicy");
    let report = resync::resync(app.db(), &provisioner).await.unwrap();
    assert_eq!(report.drifted, [env], "{report:?}");
    app.settle().await;
    assert!(
        object::<LimitRange>(&admin, &ns, "kontor-defaults")
            .await
            .is_some()
    );
    assert!(
        object::<NetworkPolicy>(&admin, &ns, "kontor-default-deny")
            .await
            .is_some()
    );

    // What others add beside Kontor's fields is not drift.
    Api::<Namespace>::all(admin.clone())
        .patch(
            &ns,
            &PatchParams::apply(ADMIN_MANAGER),
            &Patch::Apply(json!({
                "apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": ns, "annotations": {"team.example/owner": "fachbereich-3"}}
            })),
        )
        .await
        .expect("a foreign annotation");
    // Nothing differs: the resync reads, and writes nothing anywhere.
    let before = app.counts().await;
    let mark = zone.audit_mark();
    let report = resync::resync(app.db(), &provisioner).await.unwrap();
    assert!(report.drifted.is_empty(), "{report:?}");
    assert!(report.checked >= 2, "{report:?}");
    assert_eq!(
        writes_to(zone, mark, &ours).await,
        Vec::<Value>::new(),
        "the idle resync writes nothing"
    );
    let looked = zone
        .audit_since(mark)
        .into_iter()
        .filter(|e| e["verb"] == "list" && e["user"]["username"] == KONTOR_USER)
        .count();
    assert!(looked >= 7, "it did look: one list per kind, {looked}");
    assert_eq!(app.counts().await, before);
    assert_eq!(outbox::depth(&app.db().pool).await.unwrap().pending, 0);
    let annotated = namespace(&admin, &ns).await.unwrap();
    assert_eq!(
        annotated["metadata"]["annotations"]["team.example/owner"],
        "fachbereich-3"
    );

    // The namespace deleted behind Kontor's back (kubectl delete): the
    // namespace controller removes it, the resync notices, and it comes
    // back with everything in it.
    Api::<Namespace>::all(admin.clone())
        .delete(&ns, &DeleteParams::default())
        .await
        .expect("kubectl delete namespace");
    until_within(
        Duration::from_secs(120),
        "the namespace is gone",
        async || namespace(&admin, &ns).await.is_none().then_some(()),
    )
    .await;
    let report = resync::resync(app.db(), &provisioner).await.unwrap();
    assert_eq!(report.drifted, [env], "only the deleted one: {report:?}");
    app.settle().await;
    assert!(namespace(&admin, &ns).await.is_some());
    assert!(
        object::<RoleBinding>(&admin, &ns, "kontor-entwickler")
            .await
            .is_some()
    );
    assert_converged(&app, &admin, &[env, other]).await;
    let mark = zone.audit_mark();
    let report = resync::resync(app.db(), &provisioner).await.unwrap();
    assert!(report.drifted.is_empty(), "{report:?}");
    assert_eq!(writes_to(zone, mark, &ours).await, Vec::<Value>::new());
}

// ----- metering ----------------------------------------------------------

/// Waits until the quota controller has copied the reconciler's last
/// `spec.hard` into `status.hard`: quota admission checks against the
/// status, so a pod or claim created before that meets the old ceilings.
async fn quota_in_force(admin: &Client, ns: &str) {
    until(
        "the quota controller has taken over spec.hard",
        async || {
            let q = object::<ResourceQuota>(admin, ns, "kontor").await?;
            (q["status"]["hard"] == q["spec"]["hard"]).then_some(())
        },
    )
    .await;
}

async fn the_quota_controllers_used_figures_become_metering_samples(backend: Backend) {
    let zone = &control_plane().zone_a;
    let app = spawn_on_zones(backend, &[(zone, &ALL_STAGES)], |_| {}).await;
    let admin = zone.admin().await;
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
    let ns = app.namespace_of(env).await;

    // Something runs there: a volume claim of 10 GiB, and a pod asking
    // for 1.5 vCPU and 1.5 GiB.
    let used = async |cpu: &str, pods: &str| {
        until(
            &format!("status.used shows {cpu} vCPU and {pods} pods"),
            async || {
                let q = object::<ResourceQuota>(&admin, &ns, "kontor").await?;
                let used = &q["status"]["used"];
                (used["requests.cpu"] == cpu
                    && used["pods"] == pods
                    && used["requests.storage"] == "10Gi")
                    .then(|| used.clone())
            },
        )
        .await
    };
    quota_in_force(&admin, &ns).await;
    let claim: PersistentVolumeClaim = serde_json::from_value(json!({
        "metadata": {"name": "daten"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}}}
    }))
    .unwrap();
    Api::<PersistentVolumeClaim>::namespaced(admin.clone(), &ns)
        .create(&PostParams::default(), &claim)
        .await
        .expect("the claim fits the quota");
    used("0", "0").await;
    // The quota controller recounts from its caches after an event; a pod
    // created right after the claim could be missed by that recount for a
    // moment (it counts it again at the next one). Let it finish first.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut pod = small_pod("verbraucher");
    pod.spec.as_mut().unwrap().containers[0].resources = Some(
        serde_json::from_value(json!({
            "requests": {"cpu": "1500m", "memory": "1536Mi"},
            "limits": {"cpu": "1500m", "memory": "1536Mi"}
        }))
        .unwrap(),
    );
    let pods = Api::<Pod>::namespaced(admin.clone(), &ns);
    pods.create(&PostParams::default(), &pod)
        .await
        .expect("the pod fits the quota");
    used("1500m", "1").await;

    // Another installation on the same cluster has an environment with the
    // same id, and something runs there (7m, 7Mi, one pod); its quota is not
    // this one's to record.
    let foreign = format!("fremd-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    apply_as_admin(
        &admin,
        &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": foreign}}),
    )
    .await;
    apply_as_admin(
        &admin,
        &json!({"apiVersion": "v1", "kind": "ResourceQuota",
                "metadata": {"name": "kontor", "namespace": foreign, "labels": {
                    "app.kubernetes.io/managed-by": "kontor", "kontor/environment": env.to_string()}},
                "spec": {"hard": {"pods": "5", "requests.cpu": "1", "requests.memory": "1Gi"}}}),
    )
    .await;
    // A pod is admitted under a quota only once the quota controller has
    // given the quota its status.
    until(
        "the foreign quota has a status and its namespace a default ServiceAccount",
        async || {
            let q = object::<ResourceQuota>(&admin, &foreign, "kontor").await?;
            object::<ServiceAccount>(&admin, &foreign, "default").await?;
            (q["status"]["used"]["pods"] == "0").then_some(())
        },
    )
    .await;
    let mut other = small_pod("fremd");
    other.spec.as_mut().unwrap().service_account_name = None;
    other.spec.as_mut().unwrap().containers[0].resources =
        Some(serde_json::from_value(json!({"requests": {"cpu": "7m", "memory": "7Mi"}})).unwrap());
    Api::<Pod>::namespaced(admin.clone(), &foreign)
        .create(&PostParams::default(), &other)
        .await
        .expect("the foreign pod");
    until("the foreign quota counts its pod", async || {
        let q = object::<ResourceQuota>(&admin, &foreign, "kontor").await?;
        (q["status"]["used"]["pods"] == "1").then_some(())
    })
    .await;

    let provisioner = Provisioner::from_settings(&app.settings).await.unwrap();
    let every = 300;
    let now = db::now();
    let sample_at = async |at: i64| -> Option<(i64, i64, i64, i64)> {
        sqlx::query_as(
            "SELECT millicpu, memory_mib, storage_gib, pods FROM usage_samples \
             WHERE environment_id = $1 AND sampled_at = $2",
        )
        .bind(env)
        .bind(at)
        .fetch_optional(&app.db().pool)
        .await
        .unwrap()
    };
    let status_used = async || {
        let q = object::<ResourceQuota>(&admin, &ns, "kontor")
            .await
            .unwrap();
        used_resources(&q["status"]["used"])
    };
    // The quota controller may recount at any moment, from its caches; what
    // a sample must hold is what the API server reported at that moment.
    // So sample interval after interval, from `from`, until status.used
    // stood at `expected` before and after the collection; that interval's
    // sample must be exactly it.
    let steady_sample = async |from: i64, expected: Resources| -> i64 {
        for k in 0..10 {
            let at = from + k * every;
            let before = status_used().await;
            collector::collect(app.db(), &provisioner, at, every)
                .await
                .unwrap();
            if before == expected && status_used().await == expected {
                return at;
            }
        }
        panic!("status.used never stood at {expected:?}");
    };
    let first = steady_sample(
        now - now.rem_euclid(every),
        Resources {
            millicpu: 1500,
            memory_mib: 1536,
            storage_gib: 10,
            pods: 1,
        },
    )
    .await;
    assert_eq!(sample_at(first).await, Some((1500, 1536, 10, 1)));

    // The pod goes; the quota controller gives its share back.
    pods.delete("verbraucher", &DeleteParams::default().grace_period(0))
        .await
        .expect("delete the pod");
    used("0", "0").await;
    // Later in the same interval (another replica, say): the first stays.
    collector::collect(app.db(), &provisioner, first + every - 1, every)
        .await
        .unwrap();
    assert_eq!(sample_at(first).await, Some((1500, 1536, 10, 1)));
    // A later interval is a new sample.
    let second = steady_sample(
        first + every,
        Resources {
            millicpu: 0,
            memory_mib: 0,
            storage_gib: 10,
            pods: 0,
        },
    )
    .await;
    assert_eq!(sample_at(second).await, Some((0, 0, 10, 0)));
    // One sample per interval, and never the other installation's.
    let all: Vec<(i64, i64, i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT environment_id, sampled_at, millicpu, memory_mib, storage_gib, pods \
         FROM usage_samples ORDER BY sampled_at",
    )
    .fetch_all(&app.db().pool)
    .await
    .unwrap();
    let mut intervals: Vec<i64> = all.iter().map(|s| s.1).collect();
    intervals.dedup();
    assert_eq!(intervals.len(), all.len(), "{all:?}");
    assert!(
        all.iter()
            .all(|s| s.0 == env && (s.2, s.3, s.5) != (7, 7, 1)),
        "{all:?}"
    );
    let _ = Api::<Namespace>::all(admin.clone())
        .delete(&foreign, &DeleteParams::default())
        .await;

    // The manifest directory measures nothing.
    let manifests_only = kontor::config::Settings {
        clusters: BTreeMap::new(),
        stages: BTreeMap::new(),
        kubeconfig: None,
        ..app.settings.clone()
    };
    let manifests = Provisioner::from_settings(&manifests_only).await.unwrap();
    assert!(manifests.targets().iter().all(|t| !t.is_cluster()));
    let taken = collector::collect(app.db(), &manifests, second + every, every)
        .await
        .unwrap();
    assert_eq!(taken, 0);
    assert_eq!(
        sqlx::query_as::<_, (i64,)>("SELECT CAST(COUNT(*) AS BIGINT) FROM usage_samples")
            .fetch_one(&app.db().pool)
            .await
            .unwrap()
            .0,
        i64::try_from(all.len()).unwrap()
    );
}

// ----- Pod Security --------------------------------------------------------

async fn pod_security(backend: Backend) {
    let zone = &control_plane().zone_a;
    let app = spawn_on_zones(backend, &[(zone, &ALL_STAGES)], |_| {}).await;
    let admin = zone.admin().await;
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
    app.settle().await;
    let ns = app.namespace_of(environment_id(&b)).await;
    let pods = Api::<Pod>::namespaced(admin.clone(), &ns);

    let mut privileged = small_pod("privilegiert");
    privileged.spec.as_mut().unwrap().containers[0].security_context =
        Some(serde_json::from_value(json!({"privileged": true})).unwrap());
    let refused = pods
        .create(&PostParams::default(), &privileged)
        .await
        .expect_err("a privileged pod is refused");
    let kube::Error::Api(status) = &refused else {
        panic!("refused by the API server, not {refused}");
    };
    assert_eq!(status.code, 403, "{status:?}");
    assert!(
        status
            .message
            .contains("violates PodSecurity \"baseline:latest\""),
        "{status:?}"
    );
    assert!(status.message.contains("privileged"), "{status:?}");
    // Also from the host's network, with admin rights.
    let mut host = small_pod("hostnetz");
    host.spec.as_mut().unwrap().host_network = Some(true);
    let refused = pods
        .create(&PostParams::default(), &host)
        .await
        .expect_err("a pod on the host network is refused");
    assert!(refused.to_string().contains("PodSecurity"), "{refused}");
    // A pod as the restricted profile asks is admitted.
    quota_in_force(&admin, &ns).await;
    pods.create(&PostParams::default(), &small_pod("eingeschraenkt"))
        .await
        .expect("a restricted pod is admitted");
}

// ----- rollouts ------------------------------------------------------------

/// An image on the default allow-list, pinned by digest.
fn image(n: u64) -> String {
    format!("registry.rz.example/kfz/portal@sha256:{n:064x}")
}

async fn pipeline_deployment(
    app: &TestApp,
    token: &str,
    application_id: i64,
    stage: &str,
) -> Value {
    let p = expect_json(
        app.get(
            &format!("/api/v1/applications/{application_id}/pipeline"),
            token,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    p["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .find(|s| s["stage"] == stage)
        .unwrap_or_else(|| panic!("no {stage} in {p}"))["deployment"]
        .clone()
}

async fn an_approved_release_rolls_out_where_a_node_runs_it_and_fails_with_the_clusters_message_where_none_does(
    backend: Backend,
) {
    let plane = control_plane();
    let (zone_a, zone_b) = (&plane.zone_a, &plane.zone_b);
    // Vorprüfung where kwok plays a node; Abnahme in a zone without one.
    let app = spawn_on_zones(
        backend,
        &[
            (zone_a, &["vorpruefung", "schulung", "produktion"]),
            (zone_b, &["abnahme"]),
        ],
        |_| {},
    )
    .await;
    let t = app.contract_with_room(20).await;
    for stage in ["vorpruefung", "abnahme"] {
        app.book_ok(
            &t.token,
            t.application_id,
            stage,
            "container-namespace",
            "S",
        )
        .await;
    }
    app.settle().await;
    let dev = app.person(Some(t.customer_id), &[Role::Entwickler]).await;

    // Delivered: deployed into Vorprüfung, and the deployment controller,
    // the scheduler and the kwok node make it available.
    let release = expect_json(
        app.post_json(
            &format!("/api/v1/applications/{}/releases", t.application_id),
            &dev.token,
            &json!({"version": "1.0.0", "image": image(1)}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let done = until_api(
        Duration::from_secs(120),
        "the rollout in Vorprüfung is decided",
        async || {
            let d = pipeline_deployment(&app, &dev.token, t.application_id, "vorpruefung").await;
            (d["release_id"] == release["id"] && d["state"] != "laeuft").then_some(d)
        },
    )
    .await;
    assert_eq!(done["state"], "erfolgreich", "{done}");
    let vorpruefung = app
        .namespace_of(
            sqlx::query_as::<_, (i64,)>(
                "SELECT id FROM environments WHERE application_id = $1 AND stage = 'vorpruefung'",
            )
            .bind(t.application_id)
            .fetch_one(&app.db().pool)
            .await
            .unwrap()
            .0,
        )
        .await;
    let admin_a = zone_a.admin().await;
    let live = object::<Deployment>(&admin_a, &vorpruefung, "fachverfahren")
        .await
        .expect("the Deployment");
    assert_eq!(
        live["spec"]["template"]["spec"]["containers"][0]["image"],
        image(1).as_str(),
        "the pinned digest"
    );
    assert!(
        managers(&live).contains(&("kontor".into(), "Apply".into())),
        "{:?}",
        managers(&live)
    );
    assert_eq!(live["status"]["availableReplicas"], 1, "{}", live["status"]);
    let running = Api::<Pod>::namespaced(admin_a.clone(), &vorpruefung)
        .list(&Default::default())
        .await
        .unwrap();
    assert!(
        running
            .items
            .iter()
            .any(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")),
        "a pod runs on the kwok node"
    );

    // Promoted into Abnahme, where no node runs anything: the deployment
    // controller declares the rollout stuck once its progress deadline has
    // passed, and Kontor reports that with the cluster's words. (The
    // deadline, five minutes as Kontor sets it, is shortened here the way
    // an operator would, with another field manager.)
    let request = expect_json(
        app.post_json(
            &format!("/api/v1/applications/{}/promotions", t.application_id),
            &dev.token,
            &json!({"release_id": release["id"], "to_stage": "abnahme"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let approved = expect_json(
        app.post(
            &format!("/api/v1/promotions/{}/approve", id(&request)),
            &t.token,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(approved["state"], "genehmigt", "{approved}");
    let abnahme = vorpruefung.replace("-vorpruefung", "-abnahme");
    let admin_b = zone_b.admin().await;
    let deployments = Api::<Deployment>::namespaced(admin_b.clone(), &abnahme);
    until("the Deployment is applied in Abnahme", async || {
        deployments.get_opt("fachverfahren").await.ok().flatten()
    })
    .await;
    deployments
        .patch(
            "fachverfahren",
            &PatchParams {
                field_manager: Some("kubectl-edit".into()),
                ..PatchParams::default()
            },
            &Patch::Merge(json!({"spec": {"progressDeadlineSeconds": 5}})),
        )
        .await
        .expect("shorten the progress deadline");
    let failed = until_api(
        Duration::from_secs(120),
        "the rollout in Abnahme is decided",
        async || {
            let d = pipeline_deployment(&app, &t.token, t.application_id, "abnahme").await;
            (d["release_id"] == release["id"] && d["state"] != "laeuft").then_some(d)
        },
    )
    .await;
    assert_eq!(failed["state"], "fehlgeschlagen", "{failed}");
    let live = object::<Deployment>(&admin_b, &abnahme, "fachverfahren")
        .await
        .unwrap();
    let progressing = live["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Progressing")
        .cloned()
        .unwrap();
    assert_eq!(progressing["reason"], "ProgressDeadlineExceeded", "{live}");
    let message = failed["message"].as_str().unwrap();
    assert!(
        message.contains(progressing["message"].as_str().unwrap())
            && message.contains("has timed out progressing")
            && message.contains("ProgressDeadlineExceeded"),
        "the cluster's words: {failed}"
    );
}

// ----- faults on a real API server -----------------------------------------

async fn bookings_made_while_the_api_server_is_stopped_for_a_minute_all_arrive_when_it_is_back(
    backend: Backend,
) {
    let zone = control_plane().private_zone("rz_nord").await;
    let app = spawn_on_zones(backend, &[(&zone, &ALL_STAGES)], |_| {}).await;
    let admin = zone.admin().await;
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

    zone.stop();
    let stopped = std::time::Instant::now();
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
        let now = until_api(
            Duration::from_secs(60),
            "the outage is recorded on the booking",
            async || {
                let now = booking(&app, &t.token, id(b)).await;
                (now["provisioning"]["state"] == "fehler").then_some(now)
            },
        )
        .await;
        assert_eq!(now["state"], "beantragt", "{now}");
        let message = now["provisioning"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(&format!("„{}“", zone.name)) && message.contains("nicht erreichbar"),
            "names the cluster: {now}"
        );
    }
    let env = environment_id(&bookings[0]);
    until("a few retries", async || {
        (outbox_row(&app, env).await.attempts >= 3).then_some(())
    })
    .await;
    let view = environment(&app, &t.token, env).await;
    assert_eq!(view["provisioning"]["state"], "fehler", "{view}");
    assert!(view["failed_attempts"].as_i64().unwrap() >= 3, "{view}");
    let status = targets::all(&app.db().pool).await.unwrap();
    let state = status
        .iter()
        .find(|s| s.name == zone.name)
        .unwrap_or_else(|| panic!("no state of {}: {status:?}", zone.name));
    assert_eq!(state.reachable, 0, "{state:?}");
    assert!(
        state
            .message
            .as_deref()
            .unwrap_or_default()
            .contains(&zone.name),
        "{state:?}"
    );
    let depth = outbox::depth(&app.db().pool).await.unwrap();
    assert_eq!((depth.pending, depth.failing), (4, 4), "{depth:?}");

    // A minute without the API server.
    tokio::time::sleep(Duration::from_secs(60).saturating_sub(stopped.elapsed())).await;
    zone.start().await;
    until_within(
        Duration::from_secs(120),
        "the outbox is worked off",
        async || (outbox::depth(&app.db().pool).await.unwrap().pending == 0).then_some(()),
    )
    .await;
    let mut envs: Vec<i64> = bookings.iter().map(environment_id).collect();
    envs.dedup();
    assert_converged(&app, &admin, &envs).await;
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
        live_quota(&admin, &app.namespace_of(environment_id(&warmup)).await)
            .await
            .unwrap()
            .millicpu,
        // The resized S → L and the M booked meanwhile.
        8000 + 4000
    );
    let state = targets::all(&app.db().pool)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.name == zone.name)
        .unwrap();
    assert_eq!((state.reachable, state.message), (1, None));
}

/// Whether process `pid` has an established TCP connection to
/// 127.0.0.1:`port` (its sockets' inodes, looked up in /proc/net/tcp).
fn connected(pid: u32, port: u16) -> bool {
    let inodes: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|fds| {
            fds.flatten()
                .filter_map(|fd| std::fs::read_link(fd.path()).ok())
                .filter_map(|target| {
                    let target = target.to_string_lossy().into_owned();
                    Some(
                        target
                            .strip_prefix("socket:[")?
                            .strip_suffix(']')?
                            .to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let remote = format!("0100007F:{port:04X}");
    std::fs::read_to_string("/proc/net/tcp")
        .unwrap_or_default()
        .lines()
        .skip(1)
        .map(|line| line.split_whitespace().collect::<Vec<_>>())
        .any(|f| f.len() > 9 && f[2] == remote && f[3] == "01" && inodes.iter().any(|i| i == f[9]))
}

/// A `kontor serve` in a process of its own, supervised like the control
/// plane; killed when dropped. Shows its log when the test failed.
struct Subprocess {
    child: std::process::Child,
    log: PathBuf,
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

async fn a_process_killed_mid_reconcile_is_taken_over_by_its_successor(backend: Backend) {
    let zone = control_plane().private_zone("rz_sued").await;
    // This process serves the API but reconciles nothing.
    let app = spawn_on_zones(backend, &[(&zone, &ALL_STAGES)], |s| {
        s.reconcile_workers = 0;
    })
    .await;
    let admin = zone.admin().await;
    let t = app.contract_with_room(20).await;

    // `kontor serve` as a process of its own reconciles against the zone.
    std::fs::create_dir_all(&app.settings.data_dir).expect("data directory");
    let log = app.settings.data_dir.join("kontor-subprocess.log");
    let mut command = serve_command(&app.settings);
    let upper = zone.name.to_uppercase();
    command
        .env("KONTOR_LISTEN", "127.0.0.1:0")
        .env(
            format!("KONTOR_CLUSTERS__{upper}__KUBECONFIG"),
            &zone.kontor_kubeconfig,
        )
        .env("KONTOR_RECONCILE_LEASE_SECONDS", "2")
        // Stuck for good in its call, not until a timeout gives it back.
        .env("KONTOR_KUBE_TIMEOUT_SECONDS", "300")
        .stderr(std::fs::File::create(&log).expect("log file"));
    for stage in ALL_STAGES {
        command.env(
            format!("KONTOR_STAGES__{}", stage.to_uppercase()),
            &zone.name,
        );
    }
    let mut process = Subprocess {
        child: spawn_supervised(command),
        log,
    };
    // The API server stops answering (SIGSTOP): the subprocess's call
    // hangs in the middle of its reconcile.
    zone.freeze();
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
    let claimed = until("the subprocess claims the environment", async || {
        if let Ok(Some(status)) = process.child.try_wait() {
            panic!(
                "kontor serve ended ({status}):\n{}",
                std::fs::read_to_string(&process.log).unwrap_or_default()
            );
        }
        let row = outbox_row(&app, env).await;
        row.claimed_by.is_some().then_some(row)
    })
    .await;
    // Its first call is under way: it holds a connection to the frozen API
    // server.
    let port: u16 = zone.url.rsplit(':').next().unwrap().parse().unwrap();
    until(
        "the subprocess is in a call to the API server",
        async || connected(process.child.id(), port).then_some(()),
    )
    .await;
    process.child.kill().expect("SIGKILL");
    process.child.wait().expect("the killed process is reaped");
    let row = outbox_row(&app, env).await;
    assert_eq!(row.claimed_by, claimed.claimed_by, "the claim outlives it");
    assert_eq!(booking(&app, &t.token, id(&b)).await["state"], "beantragt");

    zone.thaw();
    let successor = app.sibling(|s| s.reconcile_workers = 4).await;
    successor.settle().await;
    let done = outbox_row(&app, env).await;
    assert!(
        done.done_at_ms.unwrap() >= claimed.claimed_until_ms.unwrap(),
        "taken over only after the lease: {claimed:?} → {done:?}"
    );
    assert_ne!(done.claimed_by, claimed.claimed_by);
    assert_converged(&app, &admin, &[env]).await;
    assert_eq!(booking(&app, &t.token, id(&b)).await["state"], "aktiv");
}

// ----- least privilege, proven by the authorizer ---------------------------

/// The rules of the shipped ClusterRole.
fn shipped_rules() -> Vec<Value> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy/kubernetes/target-cluster/clusterrole.yaml");
    let role: Value =
        serde_saphyr::from_str(&std::fs::read_to_string(path).unwrap()).expect("the ClusterRole");
    role["rules"].as_array().expect("rules").clone()
}

/// A ServiceAccount in namespace `kontor` bound to a ClusterRole with
/// `rules`, and a kubeconfig with its token; waits until the authorizer
/// knows the binding.
async fn service_account_with(zone: &Zone, admin: &Client, name: &str, rules: &[Value]) -> PathBuf {
    for document in [
        json!({"apiVersion": "v1", "kind": "ServiceAccount",
               "metadata": {"name": name, "namespace": "kontor"}}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
               "metadata": {"name": name}, "rules": rules}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
               "metadata": {"name": name},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
               "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": "kontor"}]}),
    ] {
        apply_as_admin(admin, &document).await;
    }
    // A verb the role still grants, asked until the binding is in force.
    let user = format!("system:serviceaccount:kontor:{name}");
    let rule = rules
        .iter()
        .find(|r| r["resourceNames"].is_null() && !r["verbs"].as_array().unwrap().is_empty())
        .expect("a rule");
    let (group, resource, verb) = (
        rule["apiGroups"][0].as_str().unwrap().to_owned(),
        rule["resources"][0].as_str().unwrap().to_owned(),
        rule["verbs"][0].as_str().unwrap().to_owned(),
    );
    until("the binding is in force", async || {
        allowed(admin, &user, &verb, &group, &resource)
            .await
            .then_some(())
    })
    .await;
    zone.kubeconfig_for_service_account("kontor", name).await
}

/// What each of Kontor's calls came to: (call, Err message if refused).
async fn every_call(
    cluster: &Cluster,
    spec: &EnvironmentSpec,
) -> Vec<(&'static str, Option<String>)> {
    let ns = spec.namespace();
    let objects = manifests(spec);
    let err = |r: Result<(), kontor::provisioning::target::ProvisionError>| {
        r.err().map(|e| {
            assert_eq!(e.kind, ErrorKind::Rejected, "{e:?}");
            e.message
        })
    };
    vec![
        ("apply (create)", err(cluster.apply(&objects).await)),
        ("apply (update)", err(cluster.apply(&objects).await)),
        ("observe", err(cluster.observe().await.map(|_| ()))),
        ("usage", err(cluster.usage().await.map(|_| ()))),
        (
            "deployment",
            err(cluster.deployment(&ns, &spec.application).await.map(|_| ())),
        ),
        ("remove", err(cluster.remove(&ns).await)),
    ]
}

async fn rbac_proof(backend: Backend) {
    let zone = &control_plane().zone_a;
    let admin = zone.admin().await;
    let rules = shipped_rules();
    let tag = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let spec = |variant: &str| EnvironmentSpec {
        id: 900_000,
        customer: format!("rbac{tag}"),
        application: variant.to_owned(),
        stage: Stage::Abnahme,
        contract: "DLV-RBAC".into(),
        lifecycle: Lifecycle::Aktiv,
        booked: Resources {
            millicpu: 2000,
            memory_mib: 8192,
            storage_gib: 0,
            pods: 20,
        },
        workload: Some(Workload {
            image: image(7),
            deployment_id: 1,
        }),
    };
    let connect = async |kubeconfig: PathBuf| {
        Cluster::connect(
            "rbac",
            &ClusterSettings {
                kubeconfig: Some(kubeconfig),
                context: None,
                in_cluster: false,
            },
            Duration::from_secs(30),
        )
        .await
        .expect("a client")
    };

    // As shipped (the ServiceAccount every other test runs as): every call
    // Kontor makes is allowed.
    let full = connect(zone.kontor_kubeconfig.clone()).await;
    let outcome = every_call(&full, &spec("komplett")).await;
    assert!(
        outcome.iter().all(|(_, e)| e.is_none()),
        "as shipped, nothing is refused: {outcome:?}"
    );

    // Without any single verb of it, some call of Kontor's is refused by the
    // authorizer with 403 for exactly that resource.
    let mut variants = 0;
    for (r, rule) in rules.iter().enumerate() {
        for verb in rule["verbs"].as_array().unwrap() {
            let verb = verb.as_str().unwrap();
            let mut reduced = rules.clone();
            let verbs: Vec<Value> = rule["verbs"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|v| *v != verb)
                .cloned()
                .collect();
            if verbs.is_empty() {
                reduced.remove(r);
            } else {
                reduced[r]["verbs"] = json!(verbs);
            }
            let name = format!("kontor-ohne-{verb}-{r}-{tag}");
            let kubeconfig = service_account_with(zone, &admin, &name, &reduced).await;
            let cluster = connect(kubeconfig).await;
            let variant = format!("ohne{verb}{r}");
            let outcome = every_call(&cluster, &spec(&variant)).await;
            let refused: Vec<&String> = outcome.iter().filter_map(|(_, e)| e.as_ref()).collect();
            assert!(
                !refused.is_empty(),
                "without {verb} on {} Kontor still did everything: the verb is not needed",
                rule["resources"]
            );
            // Without `bind` the RoleBinding is refused as an escalation.
            let resources: Vec<&str> = if verb == "bind" {
                vec!["rolebindings"]
            } else {
                rule["resources"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r.as_str().unwrap())
                    .collect()
            };
            for message in &refused {
                assert!(
                    message.contains("HTTP 403")
                        && message.contains("forbidden")
                        && resources.iter().any(|res| message.contains(res)),
                    "without {verb} on {resources:?}: {message}"
                );
            }
            // Clean up what the variant could create.
            let _ = full.remove(&spec(&variant).namespace()).await;
            let _ = Api::<ClusterRoleBinding>::all(admin.clone())
                .delete(&name, &DeleteParams::default())
                .await;
            let _ = Api::<ClusterRole>::all(admin.clone())
                .delete(&name, &DeleteParams::default())
                .await;
            let _ = Api::<ServiceAccount>::namespaced(admin.clone(), "kontor")
                .delete(&name, &DeleteParams::default())
                .await;
            variants += 1;
        }
    }
    assert_eq!(
        variants, 18,
        "every verb of the shipped role was removed once"
    );

    // And Kontor itself says so: its reconciler reports the refusal for that
    // kind on the booking (here: NetworkPolicies without patch).
    let mut reduced = rules.clone();
    let r = rules
        .iter()
        .position(|rule| rule["resources"] == json!(["networkpolicies"]))
        .expect("the NetworkPolicy rule");
    reduced[r]["verbs"] = json!(["list", "create"]);
    let name = format!("kontor-ohne-patch-netpol-{tag}");
    let kubeconfig = service_account_with(zone, &admin, &name, &reduced).await;
    let app = spawn_on_kubeconfigs(
        backend,
        &[(
            "beschnitten".into(),
            kubeconfig,
            ALL_STAGES.iter().map(|s| (*s).to_owned()).collect(),
        )],
        |_| {},
    )
    .await;
    let t: Tenant = app.contract_with_room(20).await;
    let b = app
        .book_ok(
            &t.token,
            t.application_id,
            "abnahme",
            "container-namespace",
            "S",
        )
        .await;
    let now = until_api(
        Duration::from_secs(60),
        "the refusal is reported on the booking",
        async || {
            let now = booking(&app, &t.token, id(&b)).await;
            (now["provisioning"]["state"] == "fehler").then_some(now)
        },
    )
    .await;
    assert_eq!(now["state"], "beantragt", "{now}");
    let message = now["provisioning"]["message"].as_str().unwrap();
    assert!(
        message.contains("„beschnitten“ lehnt ab")
            && message.contains("networkpolicies")
            && message.contains("forbidden")
            && message.contains("HTTP 403"),
        "{now}"
    );
    let row = outbox_row(&app, environment_id(&b)).await;
    assert_eq!(row.last_error_kind.as_deref(), Some("rejected"), "{row:?}");
    assert!(row.last_error.is_some());
    let admin_view = app.namespace_of(environment_id(&b)).await;
    let _ = Api::<Namespace>::all(admin.clone())
        .delete(&admin_view, &DeleteParams::default())
        .await;
}
