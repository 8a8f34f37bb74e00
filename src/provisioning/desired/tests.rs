//! What the desired objects of an environment look like.

use serde_json::json;

use super::*;
use crate::domain::Resources;

fn spec(stage: Stage, lifecycle: Lifecycle) -> EnvironmentSpec {
    EnvironmentSpec {
        id: 7,
        customer: "stadt-ulm".into(),
        application: "kfz".into(),
        stage,
        contract: "DLV 2026/0042".into(),
        lifecycle,
        booked: Resources {
            millicpu: 6000,
            memory_mib: 12288,
            storage_gib: 100,
            pods: 30,
        },
        workload: None,
    }
}

#[test]
fn an_active_environment_is_a_namespace_and_seven_objects_in_it() {
    let m = manifests(&spec(Stage::Abnahme, Lifecycle::Aktiv));
    let kinds: Vec<Kind> = m.iter().map(|m| m.kind).collect();
    assert_eq!(kinds[0], Kind::Namespace);
    assert_eq!(m.len(), 8);
    assert!(
        m.iter()
            .all(|o| o.body["metadata"]["labels"][ENVIRONMENT_LABEL] == "7")
    );
    assert!(
        m[1..]
            .iter()
            .all(|o| o.namespace == "stadt-ulm-kfz-abnahme")
    );
    assert_eq!(
        m[0].key(),
        (
            Kind::Namespace,
            String::new(),
            "stadt-ulm-kfz-abnahme".into()
        )
    );
}

#[test]
fn the_quota_is_the_booked_sum_in_canonical_quantities() {
    let m = manifests(&spec(Stage::Abnahme, Lifecycle::Aktiv));
    let hard = &m[1].body["spec"]["hard"];
    assert_eq!(hard["requests.cpu"], "6");
    assert_eq!(hard["limits.memory"], "12Gi");
    assert_eq!(hard["requests.storage"], "100Gi");
    assert_eq!(hard["pods"], "30");
    assert_eq!(m[1].body["apiVersion"], "v1");
    assert_eq!(m[1].body["kind"], "ResourceQuota");
}

#[test]
fn a_release_runs_as_a_deployment_of_its_pinned_image() {
    let mut s = spec(Stage::Abnahme, Lifecycle::Aktiv);
    assert!(manifests(&s).iter().all(|m| m.kind != Kind::Deployment));
    s.workload = Some(Workload {
        image: "registry.rz.example/kfz@sha256:00".into(),
        deployment_id: 42,
    });
    let m = manifests(&s);
    let d = m.last().unwrap();
    assert_eq!((d.kind, d.name.as_str()), (Kind::Deployment, "kfz"));
    assert_eq!(d.body["apiVersion"], "apps/v1");
    let pod = &d.body["spec"]["template"];
    assert_eq!(
        pod["spec"]["containers"][0]["image"],
        "registry.rz.example/kfz@sha256:00"
    );
    assert_eq!(pod["metadata"]["annotations"][DEPLOYMENT_ANNOTATION], "42");
    assert_eq!(pod["spec"]["securityContext"]["runAsNonRoot"], true);
}

#[test]
fn developers_may_edit_only_in_vorpruefung() {
    let role = |stage| {
        manifests(&spec(stage, Lifecycle::Aktiv))
            .into_iter()
            .find(|m| m.name == "kontor-entwickler")
            .map(|m| m.body["roleRef"]["name"].clone())
    };
    assert_eq!(role(Stage::Vorpruefung), Some(json!("edit")));
    for stage in [Stage::Abnahme, Stage::Schulung, Stage::Produktion] {
        assert_eq!(role(stage), Some(json!("view")));
    }
}

#[test]
fn an_environment_that_is_not_active_has_no_objects() {
    assert!(manifests(&spec(Stage::Abnahme, Lifecycle::Leer)).is_empty());
    assert!(manifests(&spec(Stage::Abnahme, Lifecycle::Aufgeloest)).is_empty());
}

#[test]
fn a_free_text_contract_number_becomes_a_valid_label_value() {
    assert_eq!(label_value("DLV 2026/0042"), "DLV-2026-0042");
    assert_eq!(label_value("§ 12 (neu)"), "12--neu");
    assert_eq!(label_value(&"x".repeat(80)).len(), 63);
}

#[test]
fn live_objects_with_more_fields_still_cover_the_desired_ones() {
    let desired = json!({"apiVersion": "v1", "kind": "X", "spec": {"hard": {"pods": "3"}}});
    let live =
        json!({"metadata": {"uid": "u"}, "spec": {"hard": {"pods": "3", "x": "1"}}, "status": {}});
    assert!(covered_by(&desired, &live));
    let drifted = json!({"spec": {"hard": {"pods": "4"}}});
    assert!(!covered_by(&desired, &drifted));
    assert!(!covered_by(&desired, &json!({})));
    let list = json!({"a": [{"x": 1}, {"y": 2}]});
    assert!(covered_by(
        &list,
        &json!({"a": [{"x": 1, "z": 0}, {"y": 2}]})
    ));
    assert!(!covered_by(&list, &json!({"a": [{"x": 1}]})));
}
