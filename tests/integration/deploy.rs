//! The deployment manifests under `deploy/kubernetes`, checked offline: no
//! cluster, no kubectl. Every document must parse into the typed Kubernetes
//! API structs (k8s-openapi) and come back out unchanged, so a misspelt or
//! unknown field — which serde would silently drop, and the API server would
//! drop or refuse — fails here; then the properties that matter in
//! production are checked on the typed objects: replicas, probes,
//! resources, security contexts, selectors, the ingress backend, the
//! settings (against `docs/configuration.md`) and the provisioner's RBAC
//! (against what `src/provisioning` manages).

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

use k8s_openapi::{
    api::{
        apps::v1::Deployment,
        batch::v1::Job,
        core::v1::{
            ConfigMap, Container, Namespace, PodSpec, PodTemplateSpec, Probe, Secret, Service,
            ServiceAccount,
        },
        networking::v1::{Ingress, NetworkPolicy},
        policy::v1::PodDisruptionBudget,
        rbac::v1::{ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding},
    },
    apimachinery::pkg::{apis::meta::v1::LabelSelector, util::intstr::IntOrString},
};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;

// --- the validator -------------------------------------------------------

/// Parses a YAML stream (one or more `---`-separated documents) and checks
/// every document against its Kubernetes API type; returns the documents.
fn validate_yaml(yaml: &str) -> Result<Vec<Value>, String> {
    // The API server and kubectl read YAML 1.1, where a leading zero means
    // octal (`defaultMode: 0440` is 288); read it the same way, so what is
    // checked here is what the cluster gets. Duplicate keys are an error
    // (the default), as in kubectl.
    let options = serde_saphyr::options! { legacy_octal_numbers: true };
    let documents: Vec<Value> = serde_saphyr::from_multiple_with_options(yaml, options)
        .map_err(|e| format!("not valid YAML: {e}"))?;
    let mut problems = Vec::new();
    for (i, doc) in documents.iter().enumerate() {
        if let Err(e) = validate(doc) {
            problems.push(format!("document {}: {e}", i + 1));
        }
    }
    if problems.is_empty() {
        Ok(documents)
    } else {
        Err(problems.join("\n"))
    }
}

/// Checks one document against the typed struct its `apiVersion` and
/// `kind` name; a kind this list does not know is an error, so nothing
/// slips through unchecked.
fn validate(doc: &Value) -> Result<(), String> {
    let api_version = doc["apiVersion"].as_str().ok_or("no apiVersion")?;
    let kind = doc["kind"].as_str().ok_or("no kind")?;
    match (api_version, kind) {
        ("v1", "Namespace") => round_trip::<Namespace>(doc),
        ("v1", "ServiceAccount") => round_trip::<ServiceAccount>(doc),
        ("v1", "ConfigMap") => round_trip::<ConfigMap>(doc),
        ("v1", "Secret") => round_trip::<Secret>(doc),
        ("v1", "Service") => round_trip::<Service>(doc),
        ("apps/v1", "Deployment") => round_trip::<Deployment>(doc),
        ("batch/v1", "Job") => round_trip::<Job>(doc),
        ("networking.k8s.io/v1", "Ingress") => round_trip::<Ingress>(doc),
        ("networking.k8s.io/v1", "NetworkPolicy") => round_trip::<NetworkPolicy>(doc),
        ("policy/v1", "PodDisruptionBudget") => round_trip::<PodDisruptionBudget>(doc),
        ("rbac.authorization.k8s.io/v1", "ClusterRole") => round_trip::<ClusterRole>(doc),
        ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding") => {
            round_trip::<ClusterRoleBinding>(doc)
        }
        ("rbac.authorization.k8s.io/v1", "Role") => round_trip::<Role>(doc),
        ("rbac.authorization.k8s.io/v1", "RoleBinding") => round_trip::<RoleBinding>(doc),
        _ => Err(format!("unknown kind {api_version} {kind}")),
    }
}

/// Deserialises into `T` (a wrong type or a missing required field fails
/// here), serialises back and compares with the original: every field the
/// document has must survive, or `T` does not know it.
fn round_trip<T: Serialize + DeserializeOwned>(doc: &Value) -> Result<(), String> {
    let type_name = std::any::type_name::<T>()
        .rsplit("::")
        .next()
        .unwrap_or("?");
    let typed: T =
        serde_json::from_value(doc.clone()).map_err(|e| format!("not a valid {type_name}: {e}"))?;
    let back = serde_json::to_value(&typed).map_err(|e| format!("{type_name}: {e}"))?;
    let mut lost = Vec::new();
    compare("", doc, &back, &mut lost);
    if lost.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{type_name} does not keep {} (misspelt or unknown field?)",
            lost.join(", ")
        ))
    }
}

/// Collects the paths where `back` (through the typed struct) differs from
/// `original`.
fn compare(path: &str, original: &Value, back: &Value, lost: &mut Vec<String>) {
    match (original, back) {
        (Value::Object(o), Value::Object(b)) => {
            for (key, value) in o {
                let here = format!("{path}.{key}");
                match b.get(key) {
                    Some(v) => compare(&here, value, v, lost),
                    None => lost.push(here),
                }
            }
            // The structs add nothing on their own; anything extra would be
            // a default the file did not ask for.
            for key in b.keys().filter(|k| !o.contains_key(*k)) {
                lost.push(format!("{path}.{key} (added)"));
            }
        }
        (Value::Array(o), Value::Array(b)) if o.len() == b.len() => {
            for (i, (ov, bv)) in o.iter().zip(b).enumerate() {
                compare(&format!("{path}[{i}]"), ov, bv, lost);
            }
        }
        // The only normalisation: a Quantity (`cpu: 1`) may be written as a
        // YAML number; k8s-openapi keeps quantities as the string the API
        // server also makes of it. A number that came back as its own
        // decimal text can only have gone through a Quantity: a plain string
        // field refuses a number outright, and IntOrString (ports,
        // minAvailable) keeps numbers numbers.
        (Value::Number(n), Value::String(s)) if n.to_string() == *s => {}
        (o, b) if o == b => {}
        _ => lost.push(format!("{path} (was {original}, became {back})")),
    }
}

// --- reading the manifests ----------------------------------------------

/// One document of one file.
struct Manifest {
    /// Path relative to `deploy/kubernetes`, for messages.
    file: String,
    doc: Value,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/kubernetes")
}

fn is_yaml(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "yaml" || e == "yml")
}

fn is_kustomization(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|n| n == "kustomization.yaml" || n == "kustomization.yml")
}

/// Every YAML file under `dir`, recursively, sorted.
fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files.extend(yaml_files(&path));
        } else if is_yaml(&path) {
            files.push(path);
        }
    }
    files
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Every Kubernetes object under `deploy/kubernetes` (kustomizations are
/// not objects); panics on the first file that does not validate, the
/// validation test reports them all.
fn manifests() -> Vec<Manifest> {
    yaml_files(&root())
        .into_iter()
        .filter(|p| !is_kustomization(p))
        .flat_map(|path| {
            let file = relative(&path);
            validate_yaml(&read(&path))
                .unwrap_or_else(|e| panic!("{file}: {e}"))
                .into_iter()
                .map(move |doc| Manifest {
                    file: file.clone(),
                    doc,
                })
        })
        .collect()
}

/// The objects of one kind (all directories), typed.
fn all_of<T: DeserializeOwned>(manifests: &[Manifest], kind: &str) -> Vec<(String, T)> {
    manifests
        .iter()
        .filter(|m| m.doc["kind"] == kind)
        .map(|m| {
            let typed = serde_json::from_value(m.doc.clone())
                .unwrap_or_else(|e| panic!("{}: {kind}: {e}", m.file));
            (m.file.clone(), typed)
        })
        .collect()
}

/// The one object of a kind in the home cluster's directory (not
/// `target-cluster/`).
fn the<T: DeserializeOwned>(manifests: &[Manifest], kind: &str) -> T {
    let mut home: Vec<T> = all_of(manifests, kind)
        .into_iter()
        .filter(|(file, _)| !file.contains('/'))
        .map(|(_, t)| t)
        .collect();
    assert_eq!(home.len(), 1, "exactly one {kind} in deploy/kubernetes");
    home.remove(0)
}

fn deployment(manifests: &[Manifest]) -> Deployment {
    the(manifests, "Deployment")
}

fn migrate_job(manifests: &[Manifest]) -> Job {
    the(manifests, "Job")
}

fn pod_spec(template: &PodTemplateSpec) -> &PodSpec {
    template.spec.as_ref().expect("pod template has a spec")
}

fn pod_labels(template: &PodTemplateSpec) -> BTreeMap<String, String> {
    template
        .metadata
        .as_ref()
        .and_then(|m| m.labels.clone())
        .unwrap_or_default()
}

fn deployment_pod(manifests: &[Manifest]) -> PodTemplateSpec {
    deployment(manifests)
        .spec
        .expect("deployment spec")
        .template
}

fn job_pod(manifests: &[Manifest]) -> PodTemplateSpec {
    migrate_job(manifests).spec.expect("job spec").template
}

/// Whether a label selector (matchLabels and matchExpressions In/NotIn/
/// Exists/DoesNotExist) selects these labels.
fn selects(selector: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    let labels_match = selector
        .match_labels
        .iter()
        .flatten()
        .all(|(k, v)| labels.get(k) == Some(v));
    let expressions_match = selector.match_expressions.iter().flatten().all(|e| {
        let values = e.values.clone().unwrap_or_default();
        let have = labels.get(&e.key);
        match e.operator.as_str() {
            "In" => have.is_some_and(|v| values.contains(v)),
            "NotIn" => have.is_none_or(|v| !values.contains(v)),
            "Exists" => have.is_some(),
            "DoesNotExist" => have.is_none(),
            other => panic!("unknown selector operator {other}"),
        }
    });
    labels_match && expressions_match
}

fn map_selects(selector: &BTreeMap<String, String>, labels: &BTreeMap<String, String>) -> bool {
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// The container's port a probe or Service names, by name or number.
fn container_port(container: &Container, port: &IntOrString) -> Option<i32> {
    let mut ports = container.ports.iter().flatten();
    match port {
        IntOrString::Int(n) => ports.find(|p| p.container_port == *n),
        IntOrString::String(name) => ports.find(|p| p.name.as_deref() == Some(name)),
    }
    .map(|p| p.container_port)
}

fn kontor_container(manifests: &[Manifest]) -> Container {
    let pod = deployment_pod(manifests);
    let containers = &pod_spec(&pod).containers;
    assert_eq!(containers.len(), 1, "one container: kontor");
    containers[0].clone()
}

// --- documented settings -------------------------------------------------

/// The environment variables `docs/configuration.md` documents: every
/// backticked `KONTOR_…` in its tables. Placeholders stay as written
/// (`KONTOR_CLUSTERS__<NAME>__KUBECONFIG`); see [`setting_matches`].
fn documented_settings() -> BTreeSet<String> {
    let doc = read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/configuration.md"));
    let mut names = BTreeSet::new();
    for line in doc.lines().filter(|l| l.trim_start().starts_with('|')) {
        for (i, part) in line.split('`').enumerate() {
            // Odd parts are inside backticks.
            if i % 2 == 1 && part.starts_with("KONTOR_") {
                names.insert(part.to_owned());
            }
        }
    }
    names
}

/// Whether an environment variable matches a documented name, where a
/// `<PLACEHOLDER>` stands for one key segment (letters, digits and single
/// underscores; a double underscore separates nested keys).
fn setting_matches(pattern: &str, name: &str) -> bool {
    let Some(open) = pattern.find('<') else {
        return pattern == name;
    };
    let close = pattern[open..].find('>').map(|c| open + c + 1);
    let Some(close) = close else {
        return pattern == name;
    };
    let (prefix, rest) = (&pattern[..open], &pattern[close..]);
    let Some(tail) = name.strip_prefix(prefix) else {
        return false;
    };
    (1..=tail.len()).any(|end| {
        let segment = &tail[..end];
        !segment.contains("__")
            && !segment.ends_with('_')
            && segment
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            && setting_matches(rest, &tail[end..])
    })
}

/// Every key of the home cluster's ConfigMaps and Secrets, with the file.
fn setting_keys(manifests: &[Manifest]) -> Vec<(String, String, String)> {
    let mut keys = Vec::new();
    for (file, map) in all_of::<ConfigMap>(manifests, "ConfigMap") {
        for (k, v) in map.data.unwrap_or_default() {
            keys.push((file.clone(), k, v));
        }
        assert!(map.binary_data.is_none(), "{file}: no binaryData");
    }
    for (file, secret) in all_of::<Secret>(manifests, "Secret") {
        for (k, v) in secret.string_data.unwrap_or_default() {
            keys.push((file.clone(), k, v));
        }
        for (k, v) in secret.data.unwrap_or_default() {
            keys.push((file.clone(), k, String::from_utf8_lossy(&v.0).into_owned()));
        }
    }
    keys
}

// --- the tests ----------------------------------------------------------

#[test]
fn every_manifest_parses_into_the_kubernetes_api_types_without_losing_a_field() {
    let files: Vec<PathBuf> = yaml_files(&root())
        .into_iter()
        .filter(|p| !is_kustomization(p))
        .collect();
    assert!(files.len() >= 10, "found only {files:?}");
    let problems: Vec<String> = files
        .iter()
        .filter_map(|path| {
            validate_yaml(&read(path))
                .err()
                .map(|e| format!("{}: {e}", relative(path)))
        })
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_validator_refuses_a_misspelt_field_a_wrong_type_a_missing_field_and_an_unknown_kind() {
    let deployment = |spec: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\nspec:\n{spec}\n  \
             selector:\n    matchLabels: {{app: x}}\n  template:\n    metadata:\n      \
             labels: {{app: x}}\n    spec:\n      containers:\n        - name: x\n          \
             image: x\n          resources:\n            limits: {{cpu: 1, memory: 64Mi}}\n"
        )
    };
    validate_yaml(&deployment("  replicas: 2")).expect("the well-formed one passes");

    let misspelt = validate_yaml(&deployment("  replicass: 2")).unwrap_err();
    assert!(misspelt.contains(".spec.replicass"), "{misspelt}");

    let wrong_type = validate_yaml(&deployment("  replicas: two")).unwrap_err();
    assert!(
        wrong_type.contains("not a valid Deployment"),
        "{wrong_type}"
    );

    let unknown = validate_yaml("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n").unwrap_err();
    assert!(unknown.contains("unknown kind v1 Pod"), "{unknown}");

    let missing = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n\
                   metadata: {name: x}\nrules:\n  - apiGroups: ['']\n    resources: [pods]\n";
    let missing = validate_yaml(missing).unwrap_err();
    assert!(missing.contains("verbs"), "{missing}");

    // A typo deep down, in the second document of a stream, is found and
    // located.
    let stream = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a}\n---\n\
                  apiVersion: v1\nkind: Service\nmetadata: {name: b}\n\
                  spec:\n  ports:\n    - port: 80\n      targetport: 8080\n";
    let deep = validate_yaml(stream).unwrap_err();
    assert!(
        deep.contains("document 2") && deep.contains(".spec.ports[0].targetport"),
        "{deep}"
    );

    let config_number = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n\
                         data:\n  KONTOR_SEED_DEMO: false\n";
    assert!(
        validate_yaml(config_number).is_err(),
        "ConfigMap values must be strings"
    );
}

#[test]
fn each_kustomization_lists_exactly_the_manifests_beside_it() {
    let mut dirs: BTreeSet<PathBuf> = BTreeSet::new();
    for file in yaml_files(&root()) {
        dirs.insert(file.parent().expect("parent").to_owned());
    }
    assert!(dirs.contains(&root().join("target-cluster")));
    for dir in dirs {
        let kustomization = dir.join("kustomization.yaml");
        assert!(
            kustomization.exists(),
            "{} has manifests but no kustomization.yaml",
            relative(&dir)
        );
        let k: Value = serde_saphyr::from_str(&read(&kustomization)).expect("kustomization");
        assert_eq!(k["kind"], "Kustomization", "{}", relative(&kustomization));
        let listed: BTreeSet<String> = k["resources"]
            .as_array()
            .expect("resources")
            .iter()
            .map(|r| r.as_str().expect("a file name").to_owned())
            .collect();
        let present: BTreeSet<String> = std::fs::read_dir(&dir)
            .expect("read dir")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.is_file() && is_yaml(p) && !is_kustomization(p))
            .map(|p| p.file_name().expect("name").to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            listed,
            present,
            "{}: resources must be exactly the files beside it",
            relative(&kustomization)
        );
    }
}

#[test]
fn every_namespaced_object_lives_in_the_kontor_namespace() {
    let cluster_scoped = ["Namespace", "ClusterRole", "ClusterRoleBinding"];
    for m in manifests() {
        let namespace = m.doc["metadata"]["namespace"].as_str();
        if cluster_scoped.contains(&m.doc["kind"].as_str().unwrap_or_default()) {
            assert_eq!(namespace, None, "{}: cluster-scoped", m.file);
        } else {
            assert_eq!(namespace, Some("kontor"), "{}: {}", m.file, m.doc["kind"]);
        }
    }
}

#[test]
fn objects_in_both_kustomizations_are_identical() {
    // target-cluster/ may be applied to the home cluster as well; an object
    // in both must not flip between two versions.
    let identity = |m: &Manifest| {
        (
            m.doc["kind"].to_string(),
            m.doc["metadata"]["namespace"].to_string(),
            m.doc["metadata"]["name"].to_string(),
        )
    };
    let all = manifests();
    let home: BTreeMap<_, _> = all
        .iter()
        .filter(|m| !m.file.contains('/'))
        .map(|m| (identity(m), &m.doc))
        .collect();
    let mut shared = 0;
    for m in all.iter().filter(|m| m.file.contains('/')) {
        if let Some(doc) = home.get(&identity(m)) {
            assert_eq!(*doc, &m.doc, "{} differs from the home cluster's", m.file);
            shared += 1;
        }
    }
    assert_eq!(shared, 2, "the namespace and the ServiceAccount");
}

#[test]
fn the_deployment_runs_several_replicas_that_roll_and_stop_without_dropping_requests() {
    let m = manifests();
    let d = deployment(&m);
    let spec = d.spec.clone().expect("spec");
    assert!(spec.replicas.unwrap_or(1) >= 2, "at least two replicas");
    let strategy = spec.strategy.expect("strategy");
    assert_eq!(strategy.type_.as_deref(), Some("RollingUpdate"));
    let rolling = strategy.rolling_update.expect("rollingUpdate");
    assert_eq!(rolling.max_unavailable, Some(IntOrString::Int(0)));
    let labels = pod_labels(&spec.template);
    assert!(
        selects(&spec.selector, &labels),
        "selector selects the pods"
    );

    let pod = pod_spec(&spec.template);
    let grace = pod.termination_grace_period_seconds.unwrap_or(30);
    let pre_stop = kontor_container(&m)
        .lifecycle
        .and_then(|l| l.pre_stop)
        .expect("a preStop hook");
    let sleep = pre_stop
        .sleep
        .map(|s| s.seconds)
        .expect("preStop sleeps until the endpoint is gone");
    assert!(
        (1..=grace / 3).contains(&sleep),
        "a short preStop ({sleep} s) well inside the grace period ({grace} s)"
    );

    let spread = pod.topology_spread_constraints.iter().flatten();
    let across_nodes = spread.clone().any(|c| {
        c.topology_key == "kubernetes.io/hostname" && selects_opt(&c.label_selector, &labels)
    }) || pod
        .affinity
        .as_ref()
        .and_then(|a| a.pod_anti_affinity.as_ref())
        .is_some();
    assert!(across_nodes, "replicas are spread across nodes");

    let annotations = spec
        .template
        .metadata
        .and_then(|m| m.annotations)
        .unwrap_or_default();
    assert_eq!(
        annotations.get("prometheus.io/scrape").map(String::as_str),
        Some("true")
    );
    assert_eq!(
        annotations.get("prometheus.io/path").map(String::as_str),
        Some("/metrics")
    );
    let scrape_port: i32 = annotations["prometheus.io/port"].parse().expect("a port");
    let http = kontor_container(&m);
    assert_eq!(
        container_port(&http, &IntOrString::Int(scrape_port)),
        Some(scrape_port),
        "Prometheus scrapes the container port"
    );
}

fn selects_opt(selector: &Option<LabelSelector>, labels: &BTreeMap<String, String>) -> bool {
    selector.as_ref().is_some_and(|s| selects(s, labels))
}

fn probe_path_and_port(probe: &Probe, container: &Container) -> (String, Option<i32>) {
    let get = probe.http_get.as_ref().expect("an HTTP probe");
    (
        get.path.clone().unwrap_or_default(),
        container_port(container, &get.port),
    )
}

#[test]
fn the_probes_ask_healthz_for_liveness_and_readyz_for_readiness_on_the_listening_port() {
    let m = manifests();
    let c = kontor_container(&m);
    let listen: String = setting_keys(&m)
        .into_iter()
        .find(|(_, k, _)| k == "KONTOR_LISTEN")
        .map(|(_, _, v)| v)
        .expect("KONTOR_LISTEN is set");
    let port: i32 = listen.rsplit(':').next().unwrap().parse().expect("a port");
    assert!(
        listen.starts_with("0.0.0.0:") || listen.starts_with("[::]:"),
        "listens on all addresses, not loopback: {listen}"
    );

    let liveness = c.liveness_probe.as_ref().expect("liveness probe");
    assert_eq!(
        probe_path_and_port(liveness, &c),
        ("/healthz".into(), Some(port))
    );
    let readiness = c.readiness_probe.as_ref().expect("readiness probe");
    assert_eq!(
        probe_path_and_port(readiness, &c),
        ("/readyz".into(), Some(port))
    );
    if let Some(startup) = &c.startup_probe {
        // Not /readyz: a database outage at start would otherwise get the
        // pod killed instead of waiting unready.
        assert_eq!(
            probe_path_and_port(startup, &c),
            ("/healthz".into(), Some(port))
        );
    }
}

#[test]
fn every_container_has_resource_requests_and_limits() {
    let m = manifests();
    for (what, pod) in [("Deployment", deployment_pod(&m)), ("Job", job_pod(&m))] {
        let spec = pod_spec(&pod);
        for c in spec
            .containers
            .iter()
            .chain(spec.init_containers.iter().flatten())
        {
            let resources = c.resources.clone().unwrap_or_default();
            for (kind, map) in [
                ("requests", &resources.requests),
                ("limits", &resources.limits),
            ] {
                let map = map.clone().unwrap_or_default();
                for resource in ["cpu", "memory"] {
                    assert!(
                        map.contains_key(resource),
                        "{what} container {}: {kind}.{resource}",
                        c.name
                    );
                }
            }
        }
    }
}

#[test]
fn every_pod_runs_unprivileged_as_uid_10001_with_a_read_only_root_and_writable_scratch() {
    let m = manifests();
    for (what, pod) in [("Deployment", deployment_pod(&m)), ("Job", job_pod(&m))] {
        let spec = pod_spec(&pod);
        let psc = spec.security_context.clone().expect("pod securityContext");
        assert_eq!(psc.run_as_non_root, Some(true), "{what}: runAsNonRoot");
        assert_eq!(psc.run_as_user, Some(10001), "{what}: runAsUser");
        assert_eq!(
            psc.seccomp_profile.map(|s| s.type_).as_deref(),
            Some("RuntimeDefault"),
            "{what}: seccomp"
        );
        assert_ne!(spec.host_network, Some(true), "{what}: hostNetwork");
        assert_ne!(spec.host_pid, Some(true), "{what}: hostPID");
        let volumes = spec.volumes.clone().unwrap_or_default();
        for c in spec
            .containers
            .iter()
            .chain(spec.init_containers.iter().flatten())
        {
            let sc = c
                .security_context
                .clone()
                .expect("container securityContext");
            let who = format!("{what} container {}", c.name);
            assert_eq!(sc.allow_privilege_escalation, Some(false), "{who}");
            assert_eq!(sc.read_only_root_filesystem, Some(true), "{who}");
            assert_ne!(sc.privileged, Some(true), "{who}");
            assert_ne!(sc.run_as_user.or(psc.run_as_user), Some(0), "{who}");
            assert_ne!(sc.run_as_non_root, Some(false), "{who}");
            let caps = sc.capabilities.expect("capabilities");
            assert_eq!(caps.drop, Some(vec!["ALL".to_owned()]), "{who}");
            assert!(
                caps.add.unwrap_or_default().is_empty(),
                "{who}: adds nothing"
            );
            // The read-only root needs writable scratch: the data directory
            // (KONTOR_DATA_DIR) and /tmp, each an emptyDir.
            for dir in ["/var/lib/kontor", "/tmp"] {
                let mount = c
                    .volume_mounts
                    .iter()
                    .flatten()
                    .find(|v| v.mount_path == dir)
                    .unwrap_or_else(|| panic!("{who}: {dir} mounted"));
                assert_ne!(mount.read_only, Some(true), "{who}: {dir} writable");
                let volume = volumes
                    .iter()
                    .find(|v| v.name == mount.name)
                    .unwrap_or_else(|| panic!("{who}: volume {}", mount.name));
                assert!(volume.empty_dir.is_some(), "{who}: {dir} is an emptyDir");
            }
        }
    }
}

#[test]
fn the_service_and_the_pdb_select_the_serving_pods_and_not_the_migrate_job() {
    let m = manifests();
    let serving = pod_labels(&deployment_pod(&m));
    let migrating = pod_labels(&job_pod(&m));
    let c = kontor_container(&m);

    let service: Service = the(&m, "Service");
    let spec = service.spec.expect("service spec");
    assert_eq!(spec.type_.as_deref().unwrap_or("ClusterIP"), "ClusterIP");
    let selector = spec.selector.clone().expect("a selector");
    assert!(
        map_selects(&selector, &serving),
        "Service selects the serving pods"
    );
    assert!(
        !map_selects(&selector, &migrating),
        "Service must not send users to the migrate Job"
    );
    let ports = spec.ports.expect("ports");
    let http = ports.iter().find(|p| p.port == 80).expect("port 80");
    let target = http.target_port.clone().unwrap_or(IntOrString::Int(80));
    assert_eq!(container_port(&c, &target), Some(8080), "80 -> 8080");

    let pdb: PodDisruptionBudget = the(&m, "PodDisruptionBudget");
    let pdb = pdb.spec.expect("pdb spec");
    assert_eq!(pdb.min_available, Some(IntOrString::Int(1)));
    let selector = pdb.selector.expect("pdb selector");
    assert!(selects(&selector, &serving), "PDB selects the serving pods");
    assert!(!selects(&selector, &migrating), "PDB leaves the Job out");
}

#[test]
fn the_ingress_sends_the_public_host_to_an_existing_service_port() {
    let m = manifests();
    let service: Service = the(&m, "Service");
    let service_name = service.metadata.name.clone().expect("name");
    let service_ports = service.spec.and_then(|s| s.ports).expect("ports");
    let ingress: Ingress = the(&m, "Ingress");
    let spec = ingress.spec.expect("ingress spec");
    let public_url = setting_keys(&m)
        .into_iter()
        .find(|(_, k, _)| k == "KONTOR_PUBLIC_URL")
        .map(|(_, _, v)| v)
        .expect("KONTOR_PUBLIC_URL");
    let public = url::Url::parse(&public_url).expect("a URL");
    assert_eq!(
        public.scheme(),
        "https",
        "cookies are Secure only over https"
    );
    let host = public.host_str().expect("host").to_owned();

    let rules = spec.rules.expect("rules");
    assert!(!rules.is_empty());
    for rule in &rules {
        assert_eq!(rule.host.as_deref(), Some(host.as_str()), "the public host");
        for path in &rule.http.as_ref().expect("http").paths {
            let backend = path.backend.service.as_ref().expect("a service backend");
            assert_eq!(backend.name, service_name, "the Service");
            let port = backend.port.as_ref().expect("a port");
            let exists = service_ports.iter().any(|p| {
                port.number == Some(p.port)
                    || (port.name.is_some() && port.name.as_deref() == p.name.as_deref())
            });
            assert!(exists, "the Service has port {port:?}");
        }
    }
    let tls = spec.tls.expect("TLS");
    assert!(
        tls.iter()
            .any(|t| { t.secret_name.is_some() && t.hosts.iter().flatten().any(|h| *h == host) }),
        "TLS with a certificate Secret for {host}"
    );
}

#[test]
fn every_configmap_and_secret_key_is_a_documented_kontor_setting() {
    let documented = documented_settings();
    // The parser must find the table; if the doc changed shape this says
    // so instead of refusing every key.
    assert!(
        documented.contains("KONTOR_LISTEN") && documented.len() > 20,
        "{documented:?}"
    );
    assert!(setting_matches(
        "KONTOR_CLUSTERS__<NAME>__IN_CLUSTER",
        "KONTOR_CLUSTERS__ZONE_B__IN_CLUSTER"
    ));
    assert!(!setting_matches(
        "KONTOR_CLUSTERS__<NAME>__IN_CLUSTER",
        "KONTOR_CLUSTERS__IN_CLUSTER"
    ));
    assert!(!setting_matches("KONTOR_LISTEN", "KONTOR_LISTENS"));

    let m = manifests();
    let keys = setting_keys(&m);
    let mut clusters = BTreeSet::new();
    let mut stages = BTreeMap::new();
    for (file, key, value) in &keys {
        assert!(
            documented.iter().any(|d| setting_matches(d, key)),
            "{file}: {key} is not a setting documented in docs/configuration.md"
        );
        if let Some(rest) = key.strip_prefix("KONTOR_CLUSTERS__") {
            let name = rest.split("__").next().unwrap_or_default();
            // The environment's keys are lower-cased on the way in.
            clusters.insert(name.to_ascii_lowercase());
        }
        if let Some(stage) = key.strip_prefix("KONTOR_STAGES__") {
            stages.insert(stage.to_ascii_lowercase(), value.clone());
        }
    }
    // The stage mapping names real stages and configured clusters (a
    // cluster called ZONE_B in a variable name is "zone_b", not "zone-b").
    for (stage, target) in &stages {
        assert!(
            ["vorpruefung", "abnahme", "schulung", "produktion"].contains(&stage.as_str()),
            "no stage {stage}"
        );
        assert!(
            target == "manifests" || clusters.contains(target),
            "stage {stage} -> {target}: no such cluster among {clusters:?}"
        );
    }

    // Production defaults: no demo people, no demo data, logs as JSON.
    let value = |key: &str| {
        keys.iter()
            .find(|(_, k, _)| k == key)
            .map(|(_, _, v)| v.as_str())
    };
    assert_eq!(value("KONTOR_DEMO_LOGIN"), Some("false"));
    assert_eq!(value("KONTOR_SEED_DEMO"), Some("false"));
    assert_eq!(value("KONTOR_LOG_JSON"), Some("true"));
    assert!(value("KONTOR_DATABASE_URL").is_some_and(|u| u.starts_with("postgres://")));
    for secret in ["KONTOR_DATABASE_URL", "KONTOR_OIDC_CLIENT_SECRET"] {
        let (file, ..) = keys.iter().find(|(_, k, _)| k == secret).expect(secret);
        assert_eq!(file, "secret.yaml", "{secret} belongs in the Secret");
    }

    // The pods read exactly these ConfigMaps and Secrets.
    let names = |kind: &str| -> BTreeSet<String> {
        m.iter()
            .filter(|o| o.doc["kind"] == kind && !o.file.contains('/'))
            .map(|o| {
                o.doc["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect()
    };
    for pod in [deployment_pod(&m), job_pod(&m)] {
        for c in &pod_spec(&pod).containers {
            for from in c.env_from.iter().flatten() {
                if let Some(r) = &from.config_map_ref {
                    assert!(names("ConfigMap").contains(&r.name), "{}", r.name);
                }
                if let Some(r) = &from.secret_ref {
                    assert!(names("Secret").contains(&r.name), "{}", r.name);
                }
            }
            assert!(
                c.env_from
                    .iter()
                    .flatten()
                    .any(|f| f.config_map_ref.is_some())
            );
            assert!(c.env_from.iter().flatten().any(|f| f.secret_ref.is_some()));
        }
    }
}

/// What the provisioner manages and how: the kinds of
/// `src/provisioning/desired.rs` (`Kind::ALL`) with the calls of
/// `src/provisioning/cluster.rs` — server-side apply (patch, plus create
/// for objects that do not exist yet), list (resync, metering), get (the
/// Deployment's rollout), delete (namespaces only) — and `bind` on the two
/// ClusterRoles its RoleBindings refer to. A new kind or call there must be
/// added here and to the ClusterRole, deliberately.
fn provisioner_needs() -> BTreeSet<(String, String, Option<String>, String)> {
    let rule = |group: &str, resource: &str, verbs: &[&str]| {
        verbs
            .iter()
            .map(|v| (group.to_owned(), resource.to_owned(), None, (*v).to_owned()))
            .collect::<Vec<_>>()
    };
    let apply_and_list = ["list", "create", "patch"];
    let mut needs: BTreeSet<_> = [
        rule("", "namespaces", &["list", "create", "patch", "delete"]),
        rule("", "resourcequotas", &apply_and_list),
        rule("", "limitranges", &apply_and_list),
        rule("", "serviceaccounts", &apply_and_list),
        rule("networking.k8s.io", "networkpolicies", &apply_and_list),
        rule("rbac.authorization.k8s.io", "rolebindings", &apply_and_list),
        rule("apps", "deployments", &["get", "list", "create", "patch"]),
    ]
    .into_iter()
    .flatten()
    .collect();
    for role in ["edit", "view"] {
        needs.insert((
            "rbac.authorization.k8s.io".into(),
            "clusterroles".into(),
            Some(role.into()),
            "bind".into(),
        ));
    }
    needs
}

/// A ClusterRole's rules spelt out one (group, resource, name, verb) at a
/// time.
fn grants(rules: &[PolicyRule]) -> BTreeSet<(String, String, Option<String>, String)> {
    let mut grants = BTreeSet::new();
    for r in rules {
        assert!(r.non_resource_urls.is_none(), "no non-resource URLs");
        let names: Vec<Option<String>> = match &r.resource_names {
            Some(names) => names.iter().cloned().map(Some).collect(),
            None => vec![None],
        };
        for group in r.api_groups.iter().flatten() {
            for resource in r.resources.iter().flatten() {
                for name in &names {
                    for verb in &r.verbs {
                        grants.insert((
                            group.clone(),
                            resource.clone(),
                            name.clone(),
                            verb.clone(),
                        ));
                    }
                }
            }
        }
    }
    grants
}

#[test]
fn the_provisioner_cluster_role_grants_exactly_what_the_provisioner_uses() {
    let m = manifests();
    let roles = all_of::<ClusterRole>(&m, "ClusterRole");
    let (file, role) = roles
        .iter()
        .find(|(_, r)| r.metadata.name.as_deref() == Some("kontor-provisioner"))
        .expect("ClusterRole kontor-provisioner");
    assert!(file.starts_with("target-cluster/"), "{file}");
    assert!(role.aggregation_rule.is_none(), "no aggregation");
    let rules = role.rules.clone().unwrap_or_default();
    for r in &rules {
        let all = [
            r.api_groups.clone().unwrap_or_default(),
            r.resources.clone().unwrap_or_default(),
            r.resource_names.clone().unwrap_or_default(),
            r.verbs.clone(),
        ];
        assert!(
            all.iter().flatten().all(|s| !s.contains('*')),
            "no wildcards: {r:?}"
        );
    }
    assert_eq!(grants(&rules), provisioner_needs());

    // docs/provisioning.md shows the ClusterRole; it must say the same.
    let doc = read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/provisioning.md"));
    let block = doc
        .split("```yaml")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .find(|b| b.contains("kind: ClusterRole\n"))
        .expect("docs/provisioning.md shows the ClusterRole");
    let documented: ClusterRole = serde_saphyr::from_str(block).expect("the doc's ClusterRole");
    assert_eq!(
        grants(&documented.rules.unwrap_or_default()),
        provisioner_needs(),
        "docs/provisioning.md and target-cluster/clusterrole.yaml disagree"
    );

    // The binding gives this role to the ServiceAccount Kontor's pods run
    // as, and that ServiceAccount exists in the target cluster's files.
    let bindings = all_of::<ClusterRoleBinding>(&m, "ClusterRoleBinding");
    let (_, binding) = bindings
        .iter()
        .find(|(_, b)| b.role_ref.name == "kontor-provisioner")
        .expect("a ClusterRoleBinding of kontor-provisioner");
    assert_eq!(binding.role_ref.kind, "ClusterRole");
    let pod = deployment_pod(&m);
    let account = pod_spec(&pod)
        .service_account_name
        .clone()
        .expect("serviceAccountName");
    let subjects = binding.subjects.clone().unwrap_or_default();
    assert_eq!(subjects.len(), 1, "one subject");
    assert_eq!(
        (
            subjects[0].kind.as_str(),
            subjects[0].name.as_str(),
            subjects[0].namespace.as_deref()
        ),
        ("ServiceAccount", account.as_str(), Some("kontor"))
    );
    assert!(
        all_of::<ServiceAccount>(&m, "ServiceAccount")
            .iter()
            .any(|(file, sa)| file.starts_with("target-cluster/")
                && sa.metadata.name.as_deref() == Some(account.as_str())),
        "target-cluster/ creates the ServiceAccount"
    );
}

#[test]
fn the_migrate_job_runs_kontor_migrate_with_the_deployments_image_and_settings() {
    let m = manifests();
    let job = migrate_job(&m);
    let spec = job.spec.clone().expect("job spec");
    let pod = pod_spec(&spec.template);
    assert_eq!(pod.restart_policy.as_deref(), Some("Never"));
    assert_eq!(pod.containers.len(), 1);
    let migrate = &pod.containers[0];
    let argv = |c: &Container| -> Vec<String> {
        // Without a command the image's ENTRYPOINT, `kontor`, runs.
        let command = c.command.clone().unwrap_or_else(|| vec!["kontor".into()]);
        command
            .into_iter()
            .chain(c.args.clone().unwrap_or_default())
            .collect()
    };
    assert_eq!(argv(migrate), ["kontor", "migrate"]);
    let serve = kontor_container(&m);
    assert_eq!(argv(&serve), ["kontor", "serve"]);
    assert_eq!(
        migrate.image, serve.image,
        "the same image (and migrations)"
    );
    assert_eq!(migrate.env_from, serve.env_from, "the same settings");
    assert!(spec.backoff_limit.is_some_and(|b| b >= 1), "retries");
    assert!(
        spec.active_deadline_seconds.is_some(),
        "gives up eventually"
    );

    // The image kustomize sets is the one both use.
    let k: Value =
        serde_saphyr::from_str(&read(&root().join("kustomization.yaml"))).expect("kustomization");
    let image = serve.image.expect("image");
    let name = image.rsplit_once(':').map_or(image.as_str(), |(n, _)| n);
    assert!(
        k["images"]
            .as_array()
            .is_some_and(|i| i.iter().any(|i| i["name"] == name)),
        "kustomization.yaml sets the tag of {name}"
    );
}

#[test]
fn the_network_policy_admits_the_portal_and_metrics_ports_and_lets_out_dns_postgresql_and_https() {
    let m = manifests();
    let policy: NetworkPolicy = the(&m, "NetworkPolicy");
    let spec = policy.spec.expect("spec");
    let selector = spec.pod_selector.clone().unwrap_or_default();
    for labels in [pod_labels(&deployment_pod(&m)), pod_labels(&job_pod(&m))] {
        assert!(selects(&selector, &labels), "covers {labels:?}");
    }
    let types = spec.policy_types.clone().unwrap_or_default();
    assert!(types.contains(&"Ingress".to_owned()) && types.contains(&"Egress".to_owned()));

    let ingress_ports: BTreeSet<String> = spec
        .ingress
        .iter()
        .flatten()
        .flat_map(|r| {
            assert!(r.from.is_some(), "ingress only from named peers: {r:?}");
            r.ports.clone().unwrap_or_default()
        })
        .filter_map(|p| p.port.map(|p| port_text(&p)))
        .collect();
    assert_eq!(
        ingress_ports,
        BTreeSet::from(["8080".to_owned(), "9464".to_owned()])
    );
    // The metrics port only from the monitoring namespace.
    for rule in spec.ingress.iter().flatten() {
        let ports: Vec<String> = rule
            .ports
            .iter()
            .flatten()
            .filter_map(|p| p.port.as_ref().map(port_text))
            .collect();
        if ports.contains(&"9464".to_owned()) {
            let from = format!("{:?}", rule.from);
            assert!(
                from.contains("monitoring") && !from.contains("ingress"),
                "{from}"
            );
        }
    }

    let egress_ports: BTreeSet<String> = spec
        .egress
        .iter()
        .flatten()
        .flat_map(|r| r.ports.clone().unwrap_or_default())
        .filter_map(|p| p.port.map(|p| port_text(&p)))
        .collect();
    for port in ["53", "5432", "443", "6443"] {
        assert!(egress_ports.contains(port), "egress to {port}");
    }
    assert!(
        spec.egress.iter().flatten().all(|r| r.ports.is_some()),
        "no egress rule open on every port"
    );
}

fn port_text(port: &IntOrString) -> String {
    match port {
        IntOrString::Int(n) => n.to_string(),
        IntOrString::String(s) => s.clone(),
    }
}
