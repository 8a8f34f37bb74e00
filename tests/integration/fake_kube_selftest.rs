//! Tests of the fake Kubernetes API server itself, spoken to by the real
//! `kube` client over plain http, so that the provisioning tests can trust
//! what it says about Kontor. No database needed.

use std::fmt::Debug;
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{LimitRange, Namespace, ResourceQuota};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::Status;
use kube::{Client, Config, ResourceExt};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::support::fake_kube::FakeKube;

async fn client(fake: &FakeKube) -> Client {
    client_with(fake, |_| {}).await
}

async fn client_with(fake: &FakeKube, adjust: impl FnOnce(&mut Config)) -> Client {
    let kubeconfig =
        Kubeconfig::from_yaml(&fake.kubeconfig_yaml("fake")).expect("kubeconfig parses");
    let mut config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("kubeconfig loads");
    adjust(&mut config);
    Client::try_from(config).expect("client builds")
}

fn namespace(name: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": {"kontor.example/tenant": "t1"}},
    })
}

fn quota(namespace: &str, name: &str, cpu: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": "kontor"}},
        "spec": {"hard": {"requests.cpu": cpu, "pods": "10"}},
    })
}

/// Applies as Kontor does: manager `kontor`, forced.
async fn apply<K>(api: &Api<K>, name: &str, body: &Value) -> Result<K, kube::Error>
where
    K: Clone + DeserializeOwned + Debug,
{
    api.patch(
        name,
        &PatchParams::apply("kontor").force(),
        &Patch::Apply(body),
    )
    .await
}

async fn apply_unforced<K>(api: &Api<K>, name: &str, body: &Value) -> Result<K, kube::Error>
where
    K: Clone + DeserializeOwned + Debug,
{
    api.patch(name, &PatchParams::apply("kontor"), &Patch::Apply(body))
        .await
}

fn api_error<T: Debug>(result: Result<T, kube::Error>) -> Status {
    match result {
        Err(kube::Error::Api(status)) => *status,
        other => panic!("expected an error Status, got {other:?}"),
    }
}

/// A namespace and a quota in it, through the fake's API.
async fn namespace_with_quota(client: &Client, ns: &str, cpu: &str) -> ResourceQuota {
    apply(&Api::<Namespace>::all(client.clone()), ns, &namespace(ns))
        .await
        .unwrap();
    apply(
        &Api::<ResourceQuota>::namespaced(client.clone(), ns),
        "compute",
        &quota(ns, "compute", cpu),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn the_version_endpoint_answers_like_kubernetes_1_33() {
    let fake = FakeKube::start().await;
    let version = client(&fake).await.apiserver_version().await.unwrap();
    assert_eq!(
        (version.major.as_str(), version.minor.as_str()),
        ("1", "33")
    );
    assert_eq!(version.git_version, "v1.33.0");
}

#[tokio::test]
async fn a_kubeconfig_written_to_a_file_loads_with_its_context() {
    let fake = FakeKube::start().await;
    let path = std::env::temp_dir().join(format!("kontor-fake-kube-{}.yaml", uuid::Uuid::new_v4()));
    fake.write_kubeconfig(&path, "kontor-test");
    let kubeconfig = Kubeconfig::read_from(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(kubeconfig.current_context.as_deref(), Some("kontor-test"));
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .unwrap();
    assert_eq!(
        config.cluster_url.to_string().trim_end_matches('/'),
        fake.url()
    );
}

#[tokio::test]
async fn an_apply_creates_with_201_and_an_identical_apply_is_200_with_the_same_resource_version() {
    let fake = FakeKube::start().await;
    let client = client(&fake).await;
    // The typed API hides the status code, so send the same request kube builds.
    let send = |body: Value| {
        let client = client.clone();
        async move {
            let request = kube::core::Request::new("/api/v1/namespaces")
                .patch(
                    "team-a",
                    &PatchParams::apply("kontor").force(),
                    &Patch::Apply(&body),
                )
                .unwrap();
            client
                .send(request.map(kube::client::Body::from))
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(send(namespace("team-a")).await, 201);
    let created = fake.get("namespaces", None, "team-a").unwrap();
    assert_eq!(send(namespace("team-a")).await, 200);
    let again = fake.get("namespaces", None, "team-a").unwrap();
    assert_eq!(
        again["metadata"]["resourceVersion"],
        created["metadata"]["resourceVersion"]
    );
    assert_eq!(fake.writes(), 2);

    let ns = Api::<Namespace>::all(client).get("team-a").await.unwrap();
    assert_eq!(ns.status.as_ref().unwrap().phase.as_deref(), Some("Active"));
    assert!(ns.metadata.uid.is_some() && ns.metadata.creation_timestamp.is_some());
    assert_eq!(
        ns.labels()["kubernetes.io/metadata.name"],
        "team-a",
        "set by the API server"
    );
    let managed = ns.metadata.managed_fields.unwrap();
    assert_eq!(managed.len(), 1);
    assert_eq!(managed[0].manager.as_deref(), Some("kontor"));
    assert_eq!(managed[0].operation.as_deref(), Some("Apply"));
}

#[tokio::test]
async fn a_changed_apply_bumps_the_resource_version() {
    let fake = FakeKube::start().await;
    let client = client(&fake).await;
    let first = namespace_with_quota(&client, "team-a", "2").await;
    let quotas = Api::<ResourceQuota>::namespaced(client, "team-a");
    let same = apply(&quotas, "compute", &quota("team-a", "compute", "2"))
        .await
        .unwrap();
    assert_eq!(same.resource_version(), first.resource_version());
    let changed = apply(&quotas, "compute", &quota("team-a", "compute", "4"))
        .await
        .unwrap();
    let (before, after): (u64, u64) = (
        first.resource_version().unwrap().parse().unwrap(),
        changed.resource_version().unwrap().parse().unwrap(),
    );
    assert!(after > before, "{after} > {before}");
    assert_eq!(changed.spec.unwrap().hard.unwrap()["requests.cpu"].0, "4");
}

#[tokio::test]
async fn a_dry_run_answers_without_changing_anything() {
    let fake = FakeKube::start().await;
    let namespaces = Api::<Namespace>::all(client(&fake).await);
    let params = PatchParams::apply("kontor").force().dry_run();
    let answered = namespaces
        .patch("team-a", &params, &Patch::Apply(namespace("team-a")))
        .await;
    assert_eq!(answered.unwrap().name_any(), "team-a");
    assert!(fake.namespaces().is_empty());
    apply(&namespaces, "team-a", &namespace("team-a"))
        .await
        .unwrap();
    let dry_delete = DeleteParams {
        dry_run: true,
        ..DeleteParams::default()
    };
    namespaces.delete("team-a", &dry_delete).await.unwrap();
    let ns = fake.get("namespaces", None, "team-a").unwrap();
    assert_eq!(ns["status"]["phase"], "Active");
}

#[tokio::test]
async fn a_list_with_a_label_selector_finds_matching_objects_across_namespaces() {
    let fake = FakeKube::start().await;
    let client = client(&fake).await;
    namespace_with_quota(&client, "team-b", "1").await;
    namespace_with_quota(&client, "team-a", "1").await;
    let other = json!({
        "apiVersion": "v1", "kind": "ResourceQuota",
        "metadata": {"name": "other", "namespace": "team-a", "labels": {"app": "someone-else"}},
        "spec": {"hard": {"pods": "1"}},
    });
    apply(
        &Api::<ResourceQuota>::namespaced(client.clone(), "team-a"),
        "other",
        &other,
    )
    .await
    .unwrap();

    let all = Api::<ResourceQuota>::all(client.clone());
    let names = |list: kube::core::ObjectList<ResourceQuota>| {
        list.items
            .iter()
            .map(|q| format!("{}/{}", q.namespace().unwrap(), q.name_any()))
            .collect::<Vec<_>>()
    };
    let kontor = all
        .list(&ListParams::default().labels("app=kontor"))
        .await
        .unwrap();
    assert_eq!(names(kontor), ["team-a/compute", "team-b/compute"]);
    let not_kontor = all
        .list(&ListParams::default().labels("app!=kontor"))
        .await
        .unwrap();
    assert_eq!(names(not_kontor), ["team-a/other"]);
    let both = all
        .list(&ListParams::default().labels("app,app==kontor"))
        .await
        .unwrap();
    assert_eq!(both.items.len(), 2);
    let everything = all.list(&ListParams::default()).await.unwrap();
    assert_eq!(everything.items.len(), 3);
    assert!(everything.metadata.resource_version.is_some());
    let in_a = Api::<ResourceQuota>::namespaced(client.clone(), "team-a")
        .list(&ListParams::default())
        .await
        .unwrap();
    assert_eq!(names(in_a), ["team-a/compute", "team-a/other"]);
    let tenants = Api::<Namespace>::all(client)
        .list(&ListParams::default().labels("kontor.example/tenant=t1"))
        .await;
    assert_eq!(tenants.unwrap().items.len(), 2);
}

#[tokio::test]
async fn an_apply_into_a_missing_namespace_is_404_and_into_a_terminating_one_403() {
    let fake = FakeKube::start().await;
    let client = client(&fake).await;
    let missing = Api::<ResourceQuota>::namespaced(client.clone(), "nowhere");
    let status = api_error(apply(&missing, "compute", &quota("nowhere", "compute", "1")).await);
    assert_eq!((status.code, status.reason.as_str()), (404, "NotFound"));
    assert_eq!(status.message, r#"namespaces "nowhere" not found"#);

    fake.set_namespace_deletion_delay(Duration::from_secs(60));
    namespace_with_quota(&client, "leaving", "1").await;
    Api::<Namespace>::all(client.clone())
        .delete("leaving", &DeleteParams::default())
        .await
        .unwrap();
    let leaving = Api::<ResourceQuota>::namespaced(client, "leaving");
    let status = api_error(apply(&leaving, "more", &quota("leaving", "more", "1")).await);
    assert_eq!((status.code, status.reason.as_str()), (403, "Forbidden"));
    assert!(
        status.message.ends_with("because it is being terminated"),
        "{}",
        status.message
    );
    // Updating what is already there is still allowed, as in Kubernetes.
    apply(&leaving, "compute", &quota("leaving", "compute", "2"))
        .await
        .unwrap();
}

#[tokio::test]
async fn invalid_quantities_names_and_labels_are_422() {
    let fake = FakeKube::start().await;
    let client = client(&fake).await;
    namespace_with_quota(&client, "team-a", "1").await;
    let quotas = Api::<ResourceQuota>::namespaced(client.clone(), "team-a");
    let status =
        api_error(apply(&quotas, "compute", &quota("team-a", "compute", "two cores")).await);
    assert_eq!((status.code, status.reason.as_str()), (422, "Invalid"));
    assert!(
        status.message.contains("spec.hard[requests.cpu]"),
        "{}",
        status.message
    );

    for valid in [
        "500m", "2", "1.5", "512Mi", "4Gi", "1Ti", "100k", "1G", "1e3",
    ] {
        apply(&quotas, "compute", &quota("team-a", "compute", valid))
            .await
            .unwrap();
    }

    let limits = Api::<LimitRange>::namespaced(client.clone(), "team-a");
    let limit_range = |memory: &str| {
        json!({
            "apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "defaults"},
            "spec": {"limits": [{"type": "Container", "default": {"memory": memory}, "defaultRequest": {"cpu": "100m"}}]},
        })
    };
    apply(&limits, "defaults", &limit_range("512Mi"))
        .await
        .unwrap();
    let status = api_error(apply(&limits, "defaults", &limit_range("lots")).await);
    assert_eq!(status.code, 422);
    assert!(
        status.message.contains("spec.limits[0].default[memory]"),
        "{}",
        status.message
    );

    let namespaces = Api::<Namespace>::all(client);
    for bad in ["Team-A", "team.a", "-team", &"a".repeat(64)] {
        let status = api_error(apply(&namespaces, bad, &namespace(bad)).await);
        assert_eq!(status.code, 422, "{bad}");
    }
    let mut bad_label = namespace("team-c");
    bad_label["metadata"]["labels"]["kontor.example/tenant"] = json!("not a label value!");
    assert_eq!(
        api_error(apply(&namespaces, "team-c", &bad_label).await).code,
        422
    );
    assert_eq!(
        fake.get("namespaces", None, "team-c"),
        None,
        "nothing stored"
    );
}

#[tokio::test]
async fn a_body_that_does_not_match_the_url_is_400() {
    let fake = FakeKube::start().await;
    let client = client(&fake).await;
    let namespaces = Api::<Namespace>::all(client.clone());
    assert_eq!(
        api_error(apply(&namespaces, "other-name", &namespace("team-a")).await).code,
        400
    );
    let mut wrong_kind = namespace("team-a");
    wrong_kind["kind"] = json!("ConfigMap");
    assert_eq!(
        api_error(apply(&namespaces, "team-a", &wrong_kind).await).code,
        400
    );
    namespace_with_quota(&client, "team-a", "1").await;
    let quotas = Api::<ResourceQuota>::namespaced(client, "team-a");
    let status = api_error(apply(&quotas, "compute", &quota("team-b", "compute", "1")).await);
    assert_eq!((status.code, status.reason.as_str()), (400, "BadRequest"));
}

#[tokio::test]
async fn an_apply_conflicts_with_a_kubectl_edit_unless_forced_and_forcing_takes_ownership() {
    let fake = FakeKube::start().await;
    let client = client(&fake).await;
    namespace_with_quota(&client, "team-a", "2").await;
    fake.edit("resourcequotas", Some("team-a"), "compute", |q| {
        q["spec"]["hard"]["requests.cpu"] = json!("4");
    });
    let edited = fake
        .get("resourcequotas", Some("team-a"), "compute")
        .unwrap();
    let managers: Vec<&str> = edited["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["manager"].as_str().unwrap())
        .collect();
    assert_eq!(managers, ["kontor", "kubectl-edit"]);

    let quotas = Api::<ResourceQuota>::namespaced(client, "team-a");
    let status =
        api_error(apply_unforced(&quotas, "compute", &quota("team-a", "compute", "2")).await);
    assert_eq!((status.code, status.reason.as_str()), (409, "Conflict"));
    assert!(
        status.message.contains(r#"conflict with "kubectl-edit""#),
        "{}",
        status.message
    );
    assert!(
        status.message.contains(".spec.hard.requests.cpu"),
        "{}",
        status.message
    );
    let unchanged = fake
        .get("resourcequotas", Some("team-a"), "compute")
        .unwrap();
    assert_eq!(unchanged, edited, "a conflict changes nothing");

    // Agreeing with the other manager's value is no conflict.
    apply_unforced(&quotas, "compute", &quota("team-a", "compute", "4"))
        .await
        .unwrap();

    let forced = apply(&quotas, "compute", &quota("team-a", "compute", "2"))
        .await
        .unwrap();
    assert_eq!(forced.spec.unwrap().hard.unwrap()["requests.cpu"].0, "2");
    let managers: Vec<String> = forced
        .metadata
        .managed_fields
        .unwrap()
        .into_iter()
        .map(|m| m.manager.unwrap())
        .collect();
    assert_eq!(
        managers,
        ["kontor"],
        "kubectl-edit owned only the field kontor took over"
    );
    apply_unforced(&quotas, "compute", &quota("team-a", "compute", "3"))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_merge_patch_through_the_api_is_an_update_by_kubectl_edit() {
    let fake = FakeKube::start().await;
    let client = client(&fake).await;
    let before = namespace_with_quota(&client, "team-a", "2").await;
    let quotas = Api::<ResourceQuota>::namespaced(client, "team-a");
    let patch =
        json!({"spec": {"hard": {"pods": "20"}}, "metadata": {"labels": {"edited": "yes"}}});
    let patched = quotas
        .patch("compute", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    assert_ne!(patched.resource_version(), before.resource_version());
    assert_eq!(patched.labels()["edited"], "yes");
    let edit = patched
        .metadata
        .managed_fields
        .unwrap()
        .into_iter()
        .find(|m| m.manager.as_deref() == Some("kubectl-edit"));
    assert_eq!(edit.unwrap().operation.as_deref(), Some("Update"));
    // Kontor still applies pods: 10, so that is now a conflict.
    let status =
        api_error(apply_unforced(&quotas, "compute", &quota("team-a", "compute", "2")).await);
    assert_eq!(status.code, 409);
    let missing = quotas
        .patch("nothing", &PatchParams::default(), &Patch::Merge(&patch))
        .await;
    assert_eq!(api_error(missing).code, 404);
}

#[tokio::test]
async fn a_field_left_out_of_the_applied_config_is_removed_unless_someone_else_owns_it() {
    let fake = FakeKube::start().await;
    let client = client(&fake).await;
    namespace_with_quota(&client, "team-a", "2").await;
    fake.edit("resourcequotas", Some("team-a"), "compute", |q| {
        q["metadata"]["labels"]["owner"] = json!("ops");
    });
    let quotas = Api::<ResourceQuota>::namespaced(client, "team-a");
    let slimmer = json!({
        "apiVersion": "v1", "kind": "ResourceQuota",
        "metadata": {"name": "compute", "namespace": "team-a"},
        "spec": {"hard": {"requests.cpu": "2"}},
    });
    let applied = apply(&quotas, "compute", &slimmer).await.unwrap();
    let hard = applied.spec.as_ref().unwrap().hard.as_ref().unwrap();
    assert_eq!(hard.keys().collect::<Vec<_>>(), ["requests.cpu"]);
    assert_eq!(
        applied.status.unwrap().hard.unwrap().len(),
        1,
        "the quota controller follows"
    );
    let labels = applied.metadata.labels.unwrap();
    assert!(!labels.contains_key("app"), "kontor no longer applies it");
    assert_eq!(labels["owner"], "ops", "kubectl-edit still owns it");
}

#[tokio::test]
async fn deleting_a_namespace_removes_it_and_its_objects() {
    let fake = FakeKube::start().await;
    let client = client(&fake).await;
    namespace_with_quota(&client, "team-a", "1").await;
    namespace_with_quota(&client, "team-b", "1").await;
    let namespaces = Api::<Namespace>::all(client.clone());
    let deleted = namespaces
        .delete("team-a", &DeleteParams::default())
        .await
        .unwrap();
    let deleted = deleted.left().expect("a namespace answers with itself");
    assert_eq!(
        deleted.status.unwrap().phase.as_deref(),
        Some("Terminating")
    );
    assert!(deleted.metadata.deletion_timestamp.is_some());
    assert_eq!(fake.namespaces(), ["team-b"]);
    assert_eq!(fake.list("resourcequotas").len(), 1);
    assert_eq!(
        api_error(namespaces.delete("team-a", &DeleteParams::default()).await).code,
        404
    );
}

#[tokio::test]
async fn a_slowly_deleted_namespace_stays_terminating_for_the_delay() {
    let fake = FakeKube::start().await;
    fake.set_namespace_deletion_delay(Duration::from_millis(500));
    let client = client(&fake).await;
    namespace_with_quota(&client, "team-a", "1").await;
    let namespaces = Api::<Namespace>::all(client);
    namespaces
        .delete("team-a", &DeleteParams::default())
        .await
        .unwrap();
    let terminating = namespaces.get("team-a").await.unwrap();
    assert_eq!(
        terminating.status.unwrap().phase.as_deref(),
        Some("Terminating")
    );
    let again = api_error(namespaces.delete("team-a", &DeleteParams::default()).await);
    assert_eq!(
        again.code, 409,
        "what the real server says to a second delete"
    );
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert!(fake.namespaces().is_empty());
    assert!(fake.list("resourcequotas").is_empty());
    assert!(namespaces.get_opt("team-a").await.unwrap().is_none());
}

#[tokio::test]
async fn deleting_an_object_answers_a_success_status_and_a_missing_one_is_404() {
    let fake = FakeKube::start().await;
    let client = client(&fake).await;
    namespace_with_quota(&client, "team-a", "1").await;
    let quotas = Api::<ResourceQuota>::namespaced(client, "team-a");
    let deleted = quotas
        .delete("compute", &DeleteParams::default())
        .await
        .unwrap();
    assert!(deleted.right().expect("a Status").is_success());
    assert_eq!(fake.get("resourcequotas", Some("team-a"), "compute"), None);
    let status = api_error(quotas.delete("compute", &DeleteParams::default()).await);
    assert_eq!(
        (status.code, status.message.as_str()),
        (404, r#"resourcequotas "compute" not found"#)
    );
    assert_eq!(api_error(quotas.get("compute").await).code, 404);
}

#[tokio::test]
async fn quota_status_mirrors_the_spec_and_the_usage_the_test_sets() {
    let fake = FakeKube::start().await;
    let client = client(&fake).await;
    let created = namespace_with_quota(&client, "team-a", "2").await;
    let status = created.status.clone().unwrap();
    assert_eq!(status.hard.unwrap()["requests.cpu"].0, "2");
    assert_eq!(status.used.unwrap()["pods"].0, "0");

    fake.set_quota_used(
        "team-a",
        "compute",
        json!({"requests.cpu": "250m", "pods": "3"}),
    );
    let quotas = Api::<ResourceQuota>::namespaced(client, "team-a");
    let used = quotas.get("compute").await.unwrap();
    assert_ne!(used.resource_version(), created.resource_version());
    let used = used.status.unwrap().used.unwrap();
    assert_eq!(
        (used["requests.cpu"].0.as_str(), used["pods"].0.as_str()),
        ("250m", "3")
    );
}

#[tokio::test]
async fn a_deployment_becomes_available_unless_its_rollout_is_made_to_fail() {
    let fake = FakeKube::start().await;
    let client = client(&fake).await;
    apply(
        &Api::<Namespace>::all(client.clone()),
        "team-a",
        &namespace("team-a"),
    )
    .await
    .unwrap();
    let deployments = Api::<Deployment>::namespaced(client, "team-a");
    let deployment = |image: &str| {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": image}]}},
            },
        })
    };
    let created = apply(&deployments, "web", &deployment("nginx:1"))
        .await
        .unwrap();
    assert_eq!(created.metadata.generation, Some(1));
    let status = created.status.unwrap();
    assert_eq!(
        (status.ready_replicas, status.observed_generation),
        (Some(2), Some(1))
    );
    let available = status
        .conditions
        .unwrap()
        .into_iter()
        .find(|c| c.type_ == "Available")
        .unwrap();
    assert_eq!(available.status, "True");

    fake.fail_rollout(
        "team-a",
        "web",
        Some("ReplicaSet \"web-1\" has timed out progressing."),
    );
    let updated = apply(&deployments, "web", &deployment("nginx:2"))
        .await
        .unwrap();
    assert_eq!(updated.metadata.generation, Some(2));
    let conditions = updated.status.unwrap().conditions.unwrap();
    let progressing = conditions
        .iter()
        .find(|c| c.type_ == "Progressing")
        .unwrap();
    assert_eq!(
        (progressing.status.as_str(), progressing.reason.as_deref()),
        ("False", Some("ProgressDeadlineExceeded"))
    );
    assert_eq!(
        progressing.message.as_deref(),
        Some("ReplicaSet \"web-1\" has timed out progressing.")
    );

    fake.fail_rollout("team-a", "web", None);
    let recovered = deployments.get("web").await.unwrap();
    assert_eq!(
        recovered.metadata.generation,
        Some(2),
        "the spec did not change"
    );
    let available = recovered
        .status
        .unwrap()
        .conditions
        .unwrap()
        .into_iter()
        .find(|c| c.type_ == "Available");
    assert_eq!(available.unwrap().status, "True");
}

#[tokio::test]
async fn fail_next_500_fails_exactly_the_next_requests() {
    let fake = FakeKube::start().await;
    let namespaces = Api::<Namespace>::all(client(&fake).await);
    fake.fail_next(2, 500);
    for _ in 0..2 {
        let status = api_error(namespaces.list(&ListParams::default()).await);
        assert_eq!(
            (status.code, status.reason.as_str()),
            (500, "InternalError")
        );
    }
    namespaces.list(&ListParams::default()).await.unwrap();
    assert_eq!(fake.requests(), 3);
}

#[tokio::test]
async fn kube_retries_503_and_429_by_itself() {
    let fake = FakeKube::start().await;
    let namespaces = Api::<Namespace>::all(client(&fake).await);
    fake.fail_next(2, 503);
    namespaces
        .list(&ListParams::default())
        .await
        .expect("kube's default retry policy hides 503s");
    assert_eq!(fake.requests(), 3);

    fake.fail_next(1, 429);
    let started = Instant::now();
    namespaces
        .list(&ListParams::default())
        .await
        .expect("and 429s");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "it honours Retry-After: 1"
    );
}

#[tokio::test]
async fn fail_writes_fails_writes_but_not_reads_until_cleared() {
    let fake = FakeKube::start().await;
    let client = client(&fake).await;
    let namespaces = Api::<Namespace>::all(client);
    fake.fail_writes(Some(500));
    assert_eq!(
        api_error(apply(&namespaces, "team-a", &namespace("team-a")).await).code,
        500
    );
    assert!(
        namespaces
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(fake.namespaces().is_empty());
    fake.fail_writes(None);
    apply(&namespaces, "team-a", &namespace("team-a"))
        .await
        .unwrap();
    assert_eq!(fake.namespaces(), ["team-a"]);
}

#[tokio::test]
async fn a_hanging_server_makes_the_client_time_out() {
    let fake = FakeKube::start().await;
    let client = client_with(&fake, |config| {
        config.read_timeout = Some(Duration::from_millis(500))
    })
    .await;
    let namespaces = Api::<Namespace>::all(client);
    fake.hang(true);
    let started = Instant::now();
    let result = namespaces.list(&ListParams::default()).await;
    assert!(result.is_err(), "{result:?}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(fake.requests(), 0, "nothing was answered");
    fake.hang(false);
    namespaces.list(&ListParams::default()).await.unwrap();
}

#[tokio::test]
async fn a_stopped_server_refuses_connections_and_resumes_on_the_same_port_with_the_same_data() {
    let fake = FakeKube::start().await;
    let pooled = client_with(&fake, |config| {
        config.connect_timeout = Some(Duration::from_secs(1))
    })
    .await;
    let namespaces = Api::<Namespace>::all(pooled);
    apply(&namespaces, "team-a", &namespace("team-a"))
        .await
        .unwrap();
    let url = fake.url();

    fake.stop().await;
    // The client's pooled keep-alive connection is gone as well.
    assert!(namespaces.get("team-a").await.is_err());
    let fresh = Api::<Namespace>::all(client(&fake).await);
    let error = format!("{:?}", fresh.get("team-a").await.unwrap_err());
    assert!(error.contains("ConnectionRefused"), "{error}");

    fake.resume().await;
    assert_eq!(fake.url(), url);
    assert_eq!(namespaces.get("team-a").await.unwrap().name_any(), "team-a");
}

#[tokio::test]
async fn stopping_drops_the_open_connections_with_their_requests() {
    let fake = FakeKube::start().await;
    let namespaces = Api::<Namespace>::all(client(&fake).await);
    fake.hang(true);
    let pending = tokio::spawn(async move { namespaces.list(&ListParams::default()).await });
    while fake.request_log().is_empty() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    fake.stop().await;
    let result = tokio::time::timeout(Duration::from_secs(2), pending).await;
    let result = result
        .expect("answered by the dropped connection, not a timeout")
        .unwrap();
    assert!(result.is_err(), "{result:?}");
}

#[tokio::test]
async fn latency_is_added_to_every_answer() {
    let fake = FakeKube::start().await;
    let namespaces = Api::<Namespace>::all(client(&fake).await);
    fake.set_latency(Duration::from_millis(200));
    let started = Instant::now();
    assert!(namespaces.get_opt("team-a").await.unwrap().is_none());
    namespaces.list(&ListParams::default()).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn the_counters_count_requests_and_writes_and_log_what_kube_sends() {
    let fake = FakeKube::start().await;
    let client = client(&fake).await;
    namespace_with_quota(&client, "team-a", "1").await;
    fake.reset_counters();
    assert_eq!((fake.requests(), fake.writes()), (0, 0));

    let namespaces = Api::<Namespace>::all(client.clone());
    assert!(namespaces.get_opt("nope").await.unwrap().is_none());
    namespaces
        .list(&ListParams::default().labels("kontor.example/tenant=t1"))
        .await
        .unwrap();
    apply(&namespaces, "team-b", &namespace("team-b"))
        .await
        .unwrap();
    let quotas = Api::<ResourceQuota>::namespaced(client, "team-a");
    quotas
        .delete("compute", &DeleteParams::default())
        .await
        .unwrap();
    assert_eq!((fake.requests(), fake.writes()), (4, 2));

    let log = fake.request_log();
    let methods: Vec<&str> = log.iter().map(|(method, _)| method.as_str()).collect();
    assert_eq!(methods, ["GET", "GET", "PATCH", "DELETE"]);
    assert_eq!(log[0].1, "/api/v1/namespaces/nope");
    assert_eq!(
        log[1].1,
        "/api/v1/namespaces?&labelSelector=kontor.example%2Ftenant%3Dt1"
    );
    assert_eq!(
        log[2].1,
        "/api/v1/namespaces/team-b?&force=true&fieldManager=kontor"
    );
    assert_eq!(
        log[3].1,
        "/api/v1/namespaces/team-a/resourcequotas/compute?"
    );
}

#[tokio::test]
async fn max_inflight_writes_per_namespace_sees_concurrent_writes_to_one_namespace() {
    let fake = FakeKube::start().await;
    let client = client(&fake).await;
    for ns in ["team-a", "team-b"] {
        apply(&Api::<Namespace>::all(client.clone()), ns, &namespace(ns))
            .await
            .unwrap();
    }
    fake.set_latency(Duration::from_millis(200));
    fake.reset_counters();
    let quotas = Api::<ResourceQuota>::namespaced(client.clone(), "team-a");
    let applies = (0..4).map(|i| {
        let quotas = quotas.clone();
        async move {
            apply(
                &quotas,
                &format!("q{i}"),
                &quota("team-a", &format!("q{i}"), "1"),
            )
            .await
        }
    });
    for result in futures_util::future::join_all(applies).await {
        result.unwrap();
    }
    assert_eq!(fake.max_inflight_writes_per_namespace(), 4);

    fake.reset_counters();
    let quotas = Api::<ResourceQuota>::namespaced(client.clone(), "team-b");
    let other = Api::<ResourceQuota>::namespaced(client, "team-a");
    for i in 0..3 {
        let name = format!("q{i}");
        // One write per namespace at a time, even with two namespaces busy.
        let (b, a) = futures_util::future::join(
            apply(&quotas, &name, &quota("team-b", &name, "1")),
            apply(&other, &name, &quota("team-a", &name, "2")),
        )
        .await;
        b.unwrap();
        a.unwrap();
    }
    assert_eq!(fake.max_inflight_writes_per_namespace(), 1);
    assert_eq!(fake.writes(), 6);
}

#[tokio::test]
async fn edit_changes_the_live_object_and_bumps_the_resource_version() {
    let fake = FakeKube::start().await;
    let client = client(&fake).await;
    let before = namespace_with_quota(&client, "team-a", "1").await;
    fake.edit("resourcequotas", Some("team-a"), "compute", |q| {
        q["spec"]["hard"]["pods"] = json!("99");
        q["metadata"]["name"] = json!("renamed");
    });
    let after = Api::<ResourceQuota>::namespaced(client, "team-a")
        .get("compute")
        .await
        .unwrap();
    assert_ne!(after.resource_version(), before.resource_version());
    assert_eq!(after.spec.unwrap().hard.unwrap()["pods"].0, "99");
    assert_eq!(
        after.status.unwrap().hard.unwrap()["pods"].0,
        "99",
        "the controller follows"
    );
    assert_eq!(
        after.metadata.uid, before.metadata.uid,
        "identity is the server's"
    );
}
