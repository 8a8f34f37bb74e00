//! End to end against a real Kubernetes cluster: only with `KUBECONFIG`
//! pointing at a disposable one (e.g. `kind create cluster`), where
//! `scripts/test.sh` runs them with `cargo test --test integration real_cluster --
//! --ignored`. Everything Kontor creates there is deleted at the end.

use std::time::Duration;

use k8s_openapi::api::core::v1::{Namespace, ResourceQuota};
use kube::{
    Api, Client,
    api::{DeleteParams, ListParams},
};
use reqwest::StatusCode;
use serde_json::Value;

use crate::support::{Backend, TestApp, expect_json};

/// Deletes every namespace of this run's customers, also when the test
/// failed half-way.
async fn clean_up(client: &Client, app: &TestApp) {
    let slugs: Vec<(String,)> = sqlx::query_as("SELECT slug FROM customers")
        .fetch_all(&app.db().pool)
        .await
        .expect("customers");
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let ours = namespaces
        .list(&ListParams::default().labels("app.kubernetes.io/managed-by=kontor"))
        .await
        .expect("list namespaces");
    for ns in ours.items {
        let customer = ns
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get("kontor/customer").cloned())
            .unwrap_or_default();
        if slugs.iter().any(|(s,)| *s == customer) {
            let name = ns.metadata.name.unwrap_or_default();
            let _ = namespaces.delete(&name, &DeleteParams::background()).await;
        }
    }
}

async fn hard_cpu(quotas: &Api<ResourceQuota>) -> Option<String> {
    let quota = quotas.get_opt("kontor").await.expect("read the quota")?;
    quota.spec?.hard?.get("requests.cpu").map(|q| q.0.clone())
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a disposable cluster in KUBECONFIG"]
async fn a_booking_lives_in_a_real_cluster_from_creation_to_dissolution() {
    let kubeconfig = std::env::var("KUBECONFIG").expect("KUBECONFIG names the test cluster");
    let app = TestApp::spawn_configured(Backend::Sqlite, true, |s| {
        s.kubeconfig = Some(kubeconfig.into());
        s.kube_timeout_seconds = 30;
    })
    .await;
    let client = Client::try_default()
        .await
        .expect("a client for KUBECONFIG");
    let outcome = tokio::time::timeout(Duration::from_secs(300), async {
        let t = app.contract_with_room(100).await;
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
        let env: Value = expect_json(
            app.get(
                &format!("/api/v1/environments/{}", b["environment_id"]),
                &t.token,
            )
            .await,
            StatusCode::OK,
        )
        .await;
        let namespace = env["namespace"].as_str().expect("namespace").to_owned();
        let quotas: Api<ResourceQuota> = Api::namespaced(client.clone(), &namespace);
        assert_eq!(hard_cpu(&quotas).await.as_deref(), Some("2"));

        let id = b["id"].as_i64().expect("id");
        expect_json(app.resize(&t.token, id, "M").await, StatusCode::OK).await;
        app.settle().await;
        assert_eq!(hard_cpu(&quotas).await.as_deref(), Some("4"));

        expect_json(app.cancel(&t.token, id).await, StatusCode::OK).await;
        app.settle().await;
        assert_eq!(hard_cpu(&quotas).await.as_deref(), Some("0"));

        expect_json(
            app.post(
                &format!("/api/v1/environments/{}/dissolve", b["environment_id"]),
                &t.token,
            )
            .await,
            StatusCode::ACCEPTED,
        )
        .await;
        app.settle().await;
        let namespaces: Api<Namespace> = Api::all(client.clone());
        let gone_or_going = namespaces
            .get_opt(&namespace)
            .await
            .expect("read the namespace")
            .is_none_or(|ns| ns.metadata.deletion_timestamp.is_some());
        assert!(gone_or_going, "{namespace} is still there");
    })
    .await;
    clean_up(&client, &app).await;
    outcome.expect("the round trip finishes within five minutes");
}
