//! The desired state of one environment as Kubernetes objects: what the
//! cluster backend applies and the manifest backend writes, built from the
//! typed k8s-openapi structs and handed on as JSON.

use std::collections::BTreeMap;

use k8s_openapi::{
    api::{
        apps::v1::{Deployment, DeploymentSpec},
        core::v1::{
            Capabilities, Container, LimitRange, LimitRangeItem, LimitRangeSpec, Namespace,
            PodSecurityContext, PodSpec, PodTemplateSpec, ResourceQuota, ResourceQuotaSpec,
            SeccompProfile, SecurityContext, ServiceAccount,
        },
        networking::v1::{
            NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer,
            NetworkPolicyPort, NetworkPolicySpec,
        },
        rbac::v1::{RoleBinding, RoleRef, Subject},
    },
    apimachinery::pkg::{
        api::resource::Quantity,
        apis::meta::v1::{LabelSelector, ObjectMeta},
        util::intstr::IntOrString,
    },
};
use serde_json::Value;

pub use crate::domain::environment::{EnvironmentSpec, Workload};
use crate::domain::{Lifecycle, Stage, quantity};

/// Label on every object Kontor manages; resync and metering select by it.
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "kontor");
/// Label carrying the environment's id, to map live objects back.
pub const ENVIRONMENT_LABEL: &str = "kontor/environment";
/// The label selector for everything Kontor manages.
pub fn selector() -> String {
    format!("{}={}", MANAGED_BY.0, MANAGED_BY.1)
}

/// The kinds of object Kontor manages, in the order they are applied (the
/// namespace first: everything else lives in it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Namespace,
    ResourceQuota,
    LimitRange,
    NetworkPolicy,
    ServiceAccount,
    RoleBinding,
    Deployment,
}

impl Kind {
    pub const ALL: [Kind; 7] = [
        Kind::Namespace,
        Kind::ResourceQuota,
        Kind::LimitRange,
        Kind::NetworkPolicy,
        Kind::ServiceAccount,
        Kind::RoleBinding,
        Kind::Deployment,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Namespace => "Namespace",
            Kind::ResourceQuota => "ResourceQuota",
            Kind::LimitRange => "LimitRange",
            Kind::NetworkPolicy => "NetworkPolicy",
            Kind::ServiceAccount => "ServiceAccount",
            Kind::RoleBinding => "RoleBinding",
            Kind::Deployment => "Deployment",
        }
    }

    pub fn group(self) -> &'static str {
        match self {
            Kind::NetworkPolicy => "networking.k8s.io",
            Kind::RoleBinding => "rbac.authorization.k8s.io",
            Kind::Deployment => "apps",
            _ => "",
        }
    }

    pub fn api_version(self) -> &'static str {
        match self {
            Kind::NetworkPolicy => "networking.k8s.io/v1",
            Kind::RoleBinding => "rbac.authorization.k8s.io/v1",
            Kind::Deployment => "apps/v1",
            _ => "v1",
        }
    }

    pub fn plural(self) -> &'static str {
        match self {
            Kind::Namespace => "namespaces",
            Kind::ResourceQuota => "resourcequotas",
            Kind::LimitRange => "limitranges",
            Kind::NetworkPolicy => "networkpolicies",
            Kind::ServiceAccount => "serviceaccounts",
            Kind::RoleBinding => "rolebindings",
            Kind::Deployment => "deployments",
        }
    }

    pub fn namespaced(self) -> bool {
        self != Kind::Namespace
    }
}

/// An object's identity: kind, namespace (empty for a namespace) and name.
pub type ObjectKey = (Kind, String, String);

/// One desired object.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    pub kind: Kind,
    pub namespace: String,
    pub name: String,
    /// The full object as JSON, with apiVersion and kind.
    pub body: Value,
}

impl Manifest {
    pub fn key(&self) -> ObjectKey {
        let ns = if self.kind.namespaced() {
            self.namespace.clone()
        } else {
            String::new()
        };
        (self.kind, ns, self.name.clone())
    }
}

/// Label values allow letters, digits, `-_.`, at most 63 characters, and
/// must start and end alphanumeric; the contract number is free text, so it
/// is folded into that shape (the exact number goes into an annotation).
fn label_value(text: &str) -> String {
    let folded: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .take(63)
        .collect();
    folded
        .trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_owned()
}

fn labels(spec: &EnvironmentSpec) -> BTreeMap<String, String> {
    BTreeMap::from([
        (MANAGED_BY.0.into(), MANAGED_BY.1.into()),
        (ENVIRONMENT_LABEL.into(), spec.id.to_string()),
        ("kontor/customer".into(), spec.customer.clone()),
        ("kontor/application".into(), spec.application.clone()),
        ("kontor/stage".into(), spec.stage.as_str().into()),
        ("kontor/contract".into(), label_value(&spec.contract)),
    ])
}

fn meta(spec: &EnvironmentSpec, name: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.into()),
        namespace: Some(spec.namespace()),
        labels: Some(labels(spec)),
        ..ObjectMeta::default()
    }
}

fn quantities(pairs: &[(&str, String)]) -> BTreeMap<String, Quantity> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Quantity(v.clone())))
        .collect()
}

fn selector_of(pairs: &[(&str, &str)]) -> LabelSelector {
    LabelSelector {
        match_labels: Some(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        ),
        ..LabelSelector::default()
    }
}

fn group(name: String) -> Subject {
    Subject {
        api_group: Some("rbac.authorization.k8s.io".into()),
        kind: "Group".into(),
        name,
        namespace: None,
    }
}

fn binding(spec: &EnvironmentSpec, name: &str, cluster_role: &str, who: Subject) -> RoleBinding {
    RoleBinding {
        metadata: meta(spec, name),
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".into(),
            kind: "ClusterRole".into(),
            name: cluster_role.into(),
        },
        subjects: Some(vec![who]),
    }
}

/// The ServiceAccount the portal's deployments run as in each namespace.
pub const DEPLOYER: &str = "kontor-deployer";

fn manifest<T: serde::Serialize>(
    kind: Kind,
    spec: &EnvironmentSpec,
    name: &str,
    obj: T,
) -> Manifest {
    Manifest {
        kind,
        namespace: spec.namespace(),
        name: name.into(),
        // The k8s-openapi types serialise with apiVersion and kind, and
        // serialising plain structs of strings and maps cannot fail.
        body: serde_json::to_value(obj).unwrap_or(Value::Null),
    }
}

/// Everything one environment consists of, in apply order; nothing when it
/// should not exist.
pub fn manifests(spec: &EnvironmentSpec) -> Vec<Manifest> {
    if spec.lifecycle != Lifecycle::Aktiv {
        return Vec::new();
    }
    let ns = spec.namespace();
    let mut ns_labels = labels(spec);
    // Pod security: nothing privileged, and a warning for what the
    // restricted profile would refuse.
    ns_labels.insert(
        "pod-security.kubernetes.io/enforce".into(),
        "baseline".into(),
    );
    ns_labels.insert(
        "pod-security.kubernetes.io/warn".into(),
        "restricted".into(),
    );
    let namespace = Namespace {
        metadata: ObjectMeta {
            name: Some(ns.clone()),
            labels: Some(ns_labels),
            annotations: Some(BTreeMap::from([(
                "kontor/contract-number".into(),
                spec.contract.clone(),
            )])),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    };
    let b = spec.booked;
    let quota = ResourceQuota {
        metadata: meta(spec, "kontor"),
        spec: Some(ResourceQuotaSpec {
            hard: Some(quantities(&[
                ("requests.cpu", quantity::cpu(b.millicpu)),
                ("limits.cpu", quantity::cpu(b.millicpu)),
                ("requests.memory", quantity::mebibytes(b.memory_mib)),
                ("limits.memory", quantity::mebibytes(b.memory_mib)),
                ("requests.storage", quantity::gibibytes(b.storage_gib)),
                ("pods", b.pods.to_string()),
            ])),
            ..ResourceQuotaSpec::default()
        }),
        ..ResourceQuota::default()
    };
    // Under a quota on requests and limits a pod without them is refused;
    // these defaults let a plain Deployment start.
    let limits = LimitRange {
        metadata: meta(spec, "kontor-defaults"),
        spec: Some(LimitRangeSpec {
            limits: vec![LimitRangeItem {
                type_: "Container".into(),
                default: Some(quantities(&[
                    ("cpu", "500m".into()),
                    ("memory", "512Mi".into()),
                ])),
                default_request: Some(quantities(&[
                    ("cpu", "100m".into()),
                    ("memory", "128Mi".into()),
                ])),
                ..LimitRangeItem::default()
            }],
        }),
    };
    let same_namespace = NetworkPolicyPeer {
        pod_selector: Some(LabelSelector::default()),
        ..NetworkPolicyPeer::default()
    };
    let dns = |protocol: &str| NetworkPolicyPort {
        protocol: Some(protocol.into()),
        port: Some(IntOrString::Int(53)),
        end_port: None,
    };
    let network = NetworkPolicy {
        metadata: meta(spec, "kontor-default-deny"),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(LabelSelector::default()),
            policy_types: Some(vec!["Ingress".into(), "Egress".into()]),
            ingress: Some(vec![NetworkPolicyIngressRule {
                from: Some(vec![same_namespace.clone()]),
                ports: None,
            }]),
            egress: Some(vec![
                NetworkPolicyEgressRule {
                    to: Some(vec![same_namespace]),
                    ports: None,
                },
                // Name resolution, or nothing inside can reach even its
                // neighbours by service name.
                NetworkPolicyEgressRule {
                    to: Some(vec![NetworkPolicyPeer {
                        namespace_selector: Some(selector_of(&[(
                            "kubernetes.io/metadata.name",
                            "kube-system",
                        )])),
                        pod_selector: Some(selector_of(&[("k8s-app", "kube-dns")])),
                        ip_block: None,
                    }]),
                    ports: Some(vec![dns("UDP"), dns("TCP")]),
                },
            ]),
        }),
    };
    let account = ServiceAccount {
        metadata: meta(spec, DEPLOYER),
        ..ServiceAccount::default()
    };
    // Developers change things themselves only in Vorprüfung; every later
    // stage changes only through the portal.
    let developer_role = if spec.stage == Stage::Vorpruefung {
        "edit"
    } else {
        "view"
    };
    let developers = binding(
        spec,
        "kontor-entwickler",
        developer_role,
        group(format!("{}/entwickler", spec.customer)),
    );
    let maintainers = binding(
        spec,
        "kontor-systempflege",
        "view",
        group(format!("{}/systempfleger", spec.customer)),
    );
    let deployer = binding(
        spec,
        DEPLOYER,
        "edit",
        Subject {
            api_group: None,
            kind: "ServiceAccount".into(),
            name: DEPLOYER.into(),
            namespace: Some(ns.clone()),
        },
    );
    let mut namespace = manifest(Kind::Namespace, spec, &ns, namespace);
    namespace.namespace = String::new();
    let workload = spec.workload.as_ref().map(|w| {
        manifest(
            Kind::Deployment,
            spec,
            &spec.application,
            deployment(spec, w),
        )
    });
    let mut objects = vec![
        namespace,
        manifest(Kind::ResourceQuota, spec, "kontor", quota),
        manifest(Kind::LimitRange, spec, "kontor-defaults", limits),
        manifest(Kind::NetworkPolicy, spec, "kontor-default-deny", network),
        manifest(Kind::ServiceAccount, spec, DEPLOYER, account),
        manifest(Kind::RoleBinding, spec, "kontor-entwickler", developers),
        manifest(Kind::RoleBinding, spec, "kontor-systempflege", maintainers),
        manifest(Kind::RoleBinding, spec, DEPLOYER, deployer),
    ];
    objects.extend(workload);
    objects
}

/// Annotation on the pod template naming the deployment that put it
/// there; a new deployment of the same image (a retry) changes it and so
/// starts a new rollout.
pub const DEPLOYMENT_ANNOTATION: &str = "kontor/deployment";

/// The application's workload: the release's image, pinned by digest, as a
/// Deployment that runs as the restricted Pod Security profile asks.
fn deployment(spec: &EnvironmentSpec, workload: &Workload) -> Deployment {
    let app_label = BTreeMap::from([(
        "app.kubernetes.io/name".to_owned(),
        spec.application.clone(),
    )]);
    let mut pod_labels = labels(spec);
    pod_labels.extend(app_label.clone());
    Deployment {
        metadata: meta(spec, &spec.application),
        spec: Some(DeploymentSpec {
            replicas: Some(1),
            selector: LabelSelector {
                match_labels: Some(app_label),
                ..LabelSelector::default()
            },
            // A rollout that makes no progress for five minutes is failed,
            // with the cluster's reason.
            progress_deadline_seconds: Some(300),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(pod_labels),
                    annotations: Some(BTreeMap::from([(
                        DEPLOYMENT_ANNOTATION.to_owned(),
                        workload.deployment_id.to_string(),
                    )])),
                    ..ObjectMeta::default()
                }),
                spec: Some(PodSpec {
                    service_account_name: Some(DEPLOYER.into()),
                    automount_service_account_token: Some(false),
                    security_context: Some(PodSecurityContext {
                        run_as_non_root: Some(true),
                        seccomp_profile: Some(SeccompProfile {
                            type_: "RuntimeDefault".into(),
                            localhost_profile: None,
                        }),
                        ..PodSecurityContext::default()
                    }),
                    containers: vec![Container {
                        name: "app".into(),
                        image: Some(workload.image.clone()),
                        security_context: Some(SecurityContext {
                            allow_privilege_escalation: Some(false),
                            capabilities: Some(Capabilities {
                                drop: Some(vec!["ALL".into()]),
                                add: None,
                            }),
                            ..SecurityContext::default()
                        }),
                        ..Container::default()
                    }],
                    ..PodSpec::default()
                }),
            },
            ..DeploymentSpec::default()
        }),
        ..Deployment::default()
    }
}

/// Whether a live object already holds everything the desired one says:
/// each field of `desired` is in `live` with the same value; what the
/// cluster or other managers added (status, defaults, annotations) does not
/// count. Lists must match element by element. apiVersion and kind are left
/// out: list answers do not carry them per item.
pub fn covered_by(desired: &Value, live: &Value) -> bool {
    match desired {
        Value::Object(fields) => fields.iter().all(|(key, want)| {
            if key == "apiVersion" || key == "kind" {
                return true;
            }
            live.get(key).is_some_and(|have| subset(want, have))
        }),
        _ => false,
    }
}

fn subset(want: &Value, have: &Value) -> bool {
    match (want, have) {
        (Value::Object(w), Value::Object(h)) => w
            .iter()
            .all(|(k, v)| h.get(k).is_some_and(|hv| subset(v, hv))),
        (Value::Array(w), Value::Array(h)) => {
            w.len() == h.len() && w.iter().zip(h).all(|(a, b)| subset(a, b))
        }
        _ => want == have,
    }
}

#[cfg(test)]
mod tests;
