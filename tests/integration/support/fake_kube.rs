//! A fake Kubernetes API server for the integration tests and the
//! provisioning benchmark.
//!
//! It speaks HTTP like the real API server for the calls Kontor's provisioner
//! makes through `kube`: server-side apply, get, list with a label selector and
//! delete, for the kinds Kontor manages (namespaces, resource quotas, limit
//! ranges, service accounts, network policies, role bindings, deployments). A
//! JSON merge patch stands in for someone running `kubectl edit`.
//!
//! Each test starts its own with [`FakeKube::start`] (127.0.0.1, port 0) and
//! points a kubeconfig at it. The handle inspects the stored objects, simulates
//! cluster activity (drift, quota usage, failed rollouts, slow namespace
//! deletion) and injects faults (error answers, latency, hanging requests, a
//! server that goes away and comes back on the same port).
//!
//! Server-side apply is modelled on field ownership: each field manager owns
//! the leaves it last applied (maps merge recursively; lists and scalars are
//! leaves). Setting another manager's leaf to a different value is a 409
//! conflict unless forced, which moves the ownership; a leaf a manager stops
//! applying is removed unless someone else owns it; an update (merge patch,
//! [`FakeKube::edit`]) takes over what it changes without conflicts. The
//! `resourceVersion` only moves when the content changes, so an identical
//! apply is a no-op. `dryRun=All` is honoured.
//!
//! Deliberate simplifications: no watch, no discovery beyond `/version`, no
//! POST/PUT or strategic merge patch; every list is atomic for field ownership
//! (the real server merges some lists by key, e.g. containers by name); a
//! manager has one entry whatever operations it used; field ownership changes
//! alone do not bump `resourceVersion`.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use serde_json::{Map, Value, json};
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};

/// A resource the fake serves: where it lives in the URL space and what its
/// objects are called.
#[derive(Debug)]
struct Kind {
    plural: &'static str,
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    namespaced: bool,
}

const KINDS: &[Kind] = &[
    Kind {
        plural: "namespaces",
        group: "",
        version: "v1",
        kind: "Namespace",
        namespaced: false,
    },
    Kind {
        plural: "resourcequotas",
        group: "",
        version: "v1",
        kind: "ResourceQuota",
        namespaced: true,
    },
    Kind {
        plural: "limitranges",
        group: "",
        version: "v1",
        kind: "LimitRange",
        namespaced: true,
    },
    Kind {
        plural: "serviceaccounts",
        group: "",
        version: "v1",
        kind: "ServiceAccount",
        namespaced: true,
    },
    Kind {
        plural: "networkpolicies",
        group: "networking.k8s.io",
        version: "v1",
        kind: "NetworkPolicy",
        namespaced: true,
    },
    Kind {
        plural: "rolebindings",
        group: "rbac.authorization.k8s.io",
        version: "v1",
        kind: "RoleBinding",
        namespaced: true,
    },
    Kind {
        plural: "deployments",
        group: "apps",
        version: "v1",
        kind: "Deployment",
        namespaced: true,
    },
];

impl Kind {
    fn find(group: &str, version: &str, plural: &str) -> Option<&'static Kind> {
        KINDS
            .iter()
            .find(|k| k.group == group && k.version == version && k.plural == plural)
    }

    /// For the test handle, where an unknown resource is a mistake in the test.
    fn by_plural(plural: &str) -> &'static Kind {
        KINDS
            .iter()
            .find(|k| k.plural == plural)
            .unwrap_or_else(|| panic!("the fake Kubernetes API server has no resource {plural:?}"))
    }

    fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_owned()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `deployments.apps`, as the real server names resources in messages.
    fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_owned()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    fn key(&'static self, namespace: Option<&str>, name: &str) -> Key {
        (
            self.plural,
            namespace.unwrap_or_default().to_owned(),
            name.to_owned(),
        )
    }
}

/// (plural, namespace or "" for cluster-scoped objects, name): sorts a list by
/// namespace, then name, as the real server does.
type Key = (&'static str, String, String);

/// A path of map keys to a leaf (a scalar, a list or an empty map).
type FieldPath = Vec<String>;

#[derive(Clone)]
struct Stored {
    object: Value,
    managers: BTreeMap<String, Manager>,
}

#[derive(Clone)]
struct Manager {
    operation: &'static str,
    /// The leaves this manager owns: what it last applied, minus what others
    /// took over since (by force or by an update).
    owned: BTreeSet<FieldPath>,
    time: String,
}

#[derive(Default)]
struct State {
    objects: BTreeMap<Key, Stored>,
    resource_version: u64,
    quota_used: HashMap<(String, String), Value>,
    rollout_failures: HashMap<(String, String), String>,
    namespace_deletion_delay: Duration,
    latency: Duration,
    fail_next: usize,
    fail_next_status: u16,
    fail_writes: Option<u16>,
    hang: bool,
    requests: u64,
    writes: u64,
    log: Vec<(String, String)>,
    inflight: HashMap<String, usize>,
    max_inflight: usize,
}

struct Inner {
    addr: SocketAddr,
    state: Mutex<State>,
    server: Mutex<Option<Server>>,
}

struct Server {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

/// Handle to a running fake; clones share the server.
#[derive(Clone)]
pub struct FakeKube {
    inner: Arc<Inner>,
}

impl FakeKube {
    pub async fn start() -> FakeKube {
        let listener = bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .expect("bind the fake Kubernetes API server");
        let addr = listener
            .local_addr()
            .expect("local address of the fake Kubernetes API server");
        let fake = FakeKube {
            inner: Arc::new(Inner {
                addr,
                state: Mutex::default(),
                server: Mutex::new(None),
            }),
        };
        fake.serve(listener);
        fake
    }

    fn serve(&self, listener: TcpListener) {
        let router = Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&self.inner));
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(accept_loop(listener, router, stopped));
        *lock(&self.inner.server) = Some(Server { stop, task });
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.inner.addr)
    }

    /// A kubeconfig whose cluster, user and context are all named `context`.
    /// The user is empty: the fake checks no credentials.
    pub fn kubeconfig_yaml(&self, context: &str) -> String {
        // A JSON string is a valid double-quoted YAML scalar.
        let name = Value::from(context).to_string();
        let server = Value::from(self.url()).to_string();
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: {name}\n  cluster:\n    server: {server}\n\
             users:\n- name: {name}\n  user: {{}}\ncontexts:\n- name: {name}\n  context:\n    \
             cluster: {name}\n    user: {name}\ncurrent-context: {name}\n"
        )
    }

    pub fn write_kubeconfig(&self, path: &Path, context: &str) {
        std::fs::write(path, self.kubeconfig_yaml(context))
            .unwrap_or_else(|e| panic!("write kubeconfig {}: {e}", path.display()));
    }

    pub fn get(&self, resource: &str, namespace: Option<&str>, name: &str) -> Option<Value> {
        let key = Kind::by_plural(resource).key(namespace, name);
        self.state().objects.get(&key).map(|s| s.object.clone())
    }

    pub fn list(&self, resource: &str) -> Vec<Value> {
        let kind = Kind::by_plural(resource);
        let state = self.state();
        state
            .objects
            .iter()
            .filter(|(k, _)| k.0 == kind.plural)
            .map(|(_, s)| s.object.clone())
            .collect()
    }

    /// Names of all namespaces, sorted, Terminating ones included.
    pub fn namespaces(&self) -> Vec<String> {
        let state = self.state();
        state
            .objects
            .keys()
            .filter(|k| k.0 == "namespaces")
            .map(|k| k.2.clone())
            .collect()
    }

    /// Requests answered, faults included; hanging ones are not answered.
    pub fn requests(&self) -> u64 {
        self.state().requests
    }

    /// PATCH, POST, PUT and DELETE requests received.
    pub fn writes(&self) -> u64 {
        self.state().writes
    }

    /// (method, path and query) of every request, in arrival order.
    pub fn request_log(&self) -> Vec<(String, String)> {
        self.state().log.clone()
    }

    pub fn reset_counters(&self) {
        let mut state = self.state();
        state.requests = 0;
        state.writes = 0;
        state.log.clear();
        state.max_inflight = state.inflight.values().copied().max().unwrap_or(0);
    }

    /// The most write requests that were in flight at once for one namespace
    /// (the URL's namespace, or the name for namespaces themselves), latency
    /// included: shows whether the provisioner serialises work per namespace.
    pub fn max_inflight_writes_per_namespace(&self) -> usize {
        self.state().max_inflight
    }

    /// Changes the live object like `kubectl edit`: the manager
    /// `kubectl-edit` takes over the fields that changed. Identity and
    /// bookkeeping fields are kept; controllers still write the status.
    pub fn edit(
        &self,
        resource: &str,
        namespace: Option<&str>,
        name: &str,
        f: impl FnOnce(&mut Value),
    ) {
        let kind = Kind::by_plural(resource);
        let key = kind.key(namespace, name);
        let old = self
            .get(resource, namespace, name)
            .unwrap_or_else(|| panic!("edit: no {resource} {key:?}"));
        // `f` runs without the lock so that it may look at the fake itself.
        let mut object = old.clone();
        f(&mut object);
        restore_identity(&old, &mut object);
        if let Err(e) = check_shape(&object) {
            panic!("edit: the API server would refuse this: {}", e.message);
        }
        let mut state = self.state();
        let still_there = state
            .objects
            .get(&key)
            .is_some_and(|s| s.object["metadata"]["uid"] == old["metadata"]["uid"]);
        assert!(
            still_there,
            "edit: {resource} {key:?} went away during the edit"
        );
        if let Err(e) = state.update(kind, &key, object, "kubectl-edit") {
            panic!("edit: the API server would refuse this: {}", e.message);
        }
    }

    /// What the quota controller reports as used, e.g.
    /// `json!({"requests.cpu": "250m", "pods": "3"})`; keys not in
    /// `spec.hard` are ignored, missing ones are "0".
    pub fn set_quota_used(&self, namespace: &str, name: &str, used: Value) {
        let mut state = self.state();
        state
            .quota_used
            .insert((namespace.to_owned(), name.to_owned()), used);
        state.refresh(Kind::by_plural("resourcequotas"), Some(namespace), name);
    }

    /// Makes the deployment's rollout fail with `message` (None: succeed).
    pub fn fail_rollout(&self, namespace: &str, name: &str, message: Option<&str>) {
        let mut state = self.state();
        let id = (namespace.to_owned(), name.to_owned());
        match message {
            Some(message) => state.rollout_failures.insert(id, message.to_owned()),
            None => state.rollout_failures.remove(&id),
        };
        state.refresh(Kind::by_plural("deployments"), Some(namespace), name);
    }

    /// How long a deleted namespace stays Terminating before it and its
    /// content disappear (zero: at once, after the DELETE has answered).
    pub fn set_namespace_deletion_delay(&self, delay: Duration) {
        self.state().namespace_deletion_delay = delay;
    }

    /// Added before every answer.
    pub fn set_latency(&self, latency: Duration) {
        self.state().latency = latency;
    }

    /// The next `n` requests get an error Status with this code.
    pub fn fail_next(&self, n: usize, status: u16) {
        let mut state = self.state();
        state.fail_next = n;
        state.fail_next_status = status;
    }

    /// Every write fails with this code until cleared with None.
    pub fn fail_writes(&self, status: Option<u16>) {
        self.state().fail_writes = status;
    }

    /// While on, requests are accepted but never answered; those that arrive
    /// meanwhile stay unanswered even after it is turned off.
    pub fn hang(&self, on: bool) {
        self.state().hang = on;
    }

    /// Closes the listening socket and drops every open connection, so
    /// clients see connection refused (or reset on a pooled connection).
    pub async fn stop(&self) {
        let server = lock(&self.inner.server).take();
        if let Some(Server { stop, task }) = server {
            let _ = stop.send(());
            let _ = task.await;
        }
    }

    /// Listens again on the same port, with the same objects.
    pub async fn resume(&self) {
        if lock(&self.inner.server).is_some() {
            return;
        }
        let mut attempts = 0;
        let listener = loop {
            match bind(self.inner.addr) {
                Ok(listener) => break listener,
                // The port can stay reserved for a moment after the close.
                Err(_) if attempts < 100 => {
                    attempts += 1;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(e) => panic!(
                    "the fake Kubernetes API server cannot listen on {} again: {e}",
                    self.inner.addr
                ),
            }
        };
        self.serve(listener);
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.inner.state)
    }
}

/// A panic in one test thread must not turn every later call into a second,
/// confusing panic.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// SO_REUSEADDR so that `resume` can take the same port again although the
/// dropped connections leave it in TIME_WAIT.
fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(1024)
}

/// Serves connections itself rather than through `axum::serve`, whose
/// graceful shutdown waits for keep-alive connections instead of dropping
/// them; on stop the listener closes and every connection task is aborted.
async fn accept_loop(listener: TcpListener, router: Router, mut stopped: oneshot::Receiver<()>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let service = TowerToHyperService::new(router.clone());
                    connections.spawn(async move {
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
                // Out of file descriptors or similar: try again shortly.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            Some(_) = connections.join_next() => {}
        }
    }
    drop(listener);
    connections.shutdown().await;
}

/// What a URL addresses: `name` is None for a collection.
enum Route {
    Version,
    Resource {
        kind: &'static Kind,
        namespace: Option<String>,
        name: Option<String>,
    },
    Unknown,
}

impl Route {
    fn parse(path: &str) -> Route {
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let (group, version, rest) = match segments.as_slice() {
            ["version"] => return Route::Version,
            ["api", "v1", rest @ ..] => ("", "v1", rest),
            ["apis", group, version, rest @ ..] => (*group, *version, rest),
            _ => return Route::Unknown,
        };
        // (plural, namespace, name); a namespaced resource listed without a
        // namespace is the list across all namespaces.
        let (plural, namespace, name) = match rest {
            [plural] => (*plural, None, None),
            [plural, name] => (*plural, None, Some(name)),
            ["namespaces", ns, plural] => (*plural, Some(ns), None),
            ["namespaces", ns, plural, name] => (*plural, Some(ns), Some(name)),
            _ => return Route::Unknown,
        };
        match Kind::find(group, version, plural) {
            Some(kind) if namespace.is_none() && name.is_some() && kind.namespaced => {
                Route::Unknown
            }
            Some(kind) if namespace.is_some() && !kind.namespaced => Route::Unknown,
            Some(kind) => Route::Resource {
                kind,
                namespace: namespace.map(|ns| ns.to_string()),
                name: name.map(|n| n.to_string()),
            },
            None => Route::Unknown,
        }
    }

    fn namespace_key(&self) -> String {
        match self {
            Route::Resource {
                kind,
                name: Some(name),
                ..
            } if kind.plural == "namespaces" => name.clone(),
            Route::Resource {
                namespace: Some(ns),
                ..
            } => ns.clone(),
            _ => String::new(),
        }
    }
}

/// A failure answered as a Kubernetes `Status`.
#[derive(Debug)]
struct ApiError {
    code: u16,
    reason: &'static str,
    message: String,
    details: Value,
}

impl ApiError {
    fn new(code: u16, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            reason: reason_for(code),
            message: message.into(),
            details: json!({}),
        }
    }

    fn details(mut self, details: Value) -> ApiError {
        self.details = details;
        self
    }

    fn not_found(kind: &Kind, name: &str) -> ApiError {
        ApiError::new(404, format!("{} \"{name}\" not found", kind.qualified())).details(json!({
            "name": name, "group": kind.group, "kind": kind.plural,
        }))
    }

    /// An injected fault, in the words the real server uses for that code.
    fn injected(code: u16) -> ApiError {
        let message = match code {
            429 => "the server has received too many requests and has asked us to try again later",
            500 => "Internal error occurred: injected by the fake API server",
            503 => "the server is currently unable to handle the request",
            _ => "injected by the fake API server",
        };
        let error = ApiError::new(code, message);
        if code == 429 {
            error.details(json!({"retryAfterSeconds": 1}))
        } else {
            error
        }
    }

    fn into_response(self) -> Response {
        let body = json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": self.message, "reason": self.reason, "details": self.details,
            "code": self.code,
        });
        let code = StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = json_response(code, &body);
        if self.code == 429 {
            // kube's default retry policy honours this.
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

fn reason_for(code: u16) -> &'static str {
    match code {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        409 => "Conflict",
        410 => "Gone",
        415 => "UnsupportedMediaType",
        422 => "Invalid",
        429 => "TooManyRequests",
        500 => "InternalError",
        503 => "ServiceUnavailable",
        504 => "Timeout",
        _ => "Unknown",
    }
}

fn json_response(code: StatusCode, body: &Value) -> Response {
    let mut response = (code, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// Decrements the in-flight gauge however the request ends, also when a
/// hanging request is dropped with its connection.
struct InFlight {
    inner: Arc<Inner>,
    namespace: String,
}

impl InFlight {
    fn enter(inner: &Arc<Inner>, namespace: String) -> InFlight {
        let mut state = lock(&inner.state);
        let count = state.inflight.entry(namespace.clone()).or_default();
        *count += 1;
        let count = *count;
        state.max_inflight = state.max_inflight.max(count);
        InFlight {
            inner: Arc::clone(inner),
            namespace,
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut state = lock(&self.inner.state);
        if let Some(count) = state.inflight.get_mut(&self.namespace) {
            *count = count.saturating_sub(1);
        }
    }
}

async fn handle(
    AxumState(inner): AxumState<Arc<Inner>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let route = Route::parse(uri.path());
    let write = matches!(
        method,
        Method::PATCH | Method::POST | Method::PUT | Method::DELETE
    );
    let (latency, hang, fault) = {
        let mut state = lock(&inner.state);
        let target = uri
            .path_and_query()
            .map_or_else(|| uri.path().to_owned(), |pq| pq.as_str().to_owned());
        state.log.push((method.to_string(), target));
        if write {
            state.writes += 1;
        }
        let fault = if state.hang {
            None
        } else if state.fail_next > 0 {
            state.fail_next -= 1;
            Some(state.fail_next_status)
        } else if write {
            state.fail_writes
        } else {
            None
        };
        (state.latency, state.hang, fault)
    };
    let _in_flight = write.then(|| InFlight::enter(&inner, route.namespace_key()));
    if hang {
        std::future::pending::<()>().await;
    }
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let query: HashMap<String, String> =
        url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let answer = match fault {
        Some(code) => Err(ApiError::injected(code)),
        None => answer(&inner, &method, &route, &query, &headers, &body),
    };
    lock(&inner.state).requests += 1;
    match answer {
        Ok((code, body)) => json_response(code, &body),
        Err(error) => error.into_response(),
    }
}

fn answer(
    inner: &Arc<Inner>,
    method: &Method,
    route: &Route,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(StatusCode, Value), ApiError> {
    let Route::Resource {
        kind,
        namespace,
        name,
    } = route
    else {
        return match (route, method) {
            (Route::Version, &Method::GET) => Ok((StatusCode::OK, version())),
            _ => Err(ApiError::new(
                404,
                "the server could not find the requested resource",
            )),
        };
    };
    let (kind, namespace) = (*kind, namespace.as_deref());
    let mut state = lock(&inner.state);
    // kube's `PatchParams::dry_run` (in the query) and `DeleteParams::dry_run`
    // (in the DeleteOptions body): answer as if, then put everything back.
    let delete_options = (method == Method::DELETE)
        .then(|| serde_json::from_slice::<Value>(body).ok())
        .flatten()
        .unwrap_or_default();
    let dry_run = query.get("dryRun").is_some_and(|d| d == "All")
        || delete_options["dryRun"]
            .as_array()
            .is_some_and(|d| d.contains(&json!("All")));
    let saved = dry_run.then(|| (state.objects.clone(), state.resource_version));
    let result = match (name, method) {
        (None, &Method::GET) => {
            let selector = parse_selector(query.get("labelSelector").map_or("", String::as_str))?;
            Ok((StatusCode::OK, state.list_json(kind, namespace, &selector)))
        }
        (Some(name), &Method::GET) => state
            .objects
            .get(&kind.key(namespace, name))
            .map(|s| (StatusCode::OK, s.object.clone()))
            .ok_or_else(|| ApiError::not_found(kind, name)),
        (Some(name), &Method::PATCH) => {
            let content_type = headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok());
            match content_type
                .unwrap_or_default()
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
            {
                "application/apply-patch+yaml" => state.apply(kind, namespace, name, body, query),
                "application/merge-patch+json" => {
                    let manager = query
                        .get("fieldManager")
                        .map_or("kubectl-edit", String::as_str);
                    state.merge_patch(kind, namespace, name, body, manager)
                }
                other => Err(ApiError::new(
                    415,
                    format!("the fake does not accept {other:?} patches"),
                )),
            }
        }
        (Some(name), &Method::DELETE) if kind.plural == "namespaces" => {
            let (snapshot, uid, delay) = state.begin_namespace_deletion(name)?;
            if delay.is_zero() || dry_run {
                state.purge_namespace(name);
            } else {
                let inner = Arc::clone(inner);
                let name = name.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    let mut state = lock(&inner.state);
                    let key = kind.key(None, &name);
                    // Not if it was deleted and created again meanwhile.
                    if state
                        .objects
                        .get(&key)
                        .is_some_and(|s| s.object["metadata"]["uid"] == uid)
                    {
                        state.purge_namespace(&name);
                    }
                });
            }
            Ok((StatusCode::OK, snapshot))
        }
        (Some(name), &Method::DELETE) => state
            .delete(kind, namespace, name)
            .map(|status| (StatusCode::OK, status)),
        _ => Err(ApiError::new(
            405,
            format!("the fake does not support {method} here"),
        )),
    };
    if let Some((objects, resource_version)) = saved {
        state.objects = objects;
        state.resource_version = resource_version;
    }
    result
}

fn version() -> Value {
    json!({
        "major": "1", "minor": "33", "emulationMajor": "1", "emulationMinor": "33",
        "minCompatibilityMajor": "1", "minCompatibilityMinor": "32",
        "gitVersion": "v1.33.0", "gitCommit": "60a317eadfcb839692a5ab4ac57fa4aa1f67a6e8",
        "gitTreeState": "clean", "buildDate": "2025-04-23T13:07:07Z",
        "goVersion": "go1.24.2", "compiler": "gc", "platform": "linux/amd64",
    })
}

/// Metadata the server owns; never part of a manager's fields.
const SYSTEM_METADATA: [&str; 8] = [
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "managedFields",
];

impl State {
    fn bump(&mut self) -> String {
        self.resource_version += 1;
        self.resource_version.to_string()
    }

    fn list_json(&self, kind: &Kind, namespace: Option<&str>, selector: &[Requirement]) -> Value {
        let items: Vec<Value> = self
            .objects
            .iter()
            .filter(|(k, s)| {
                k.0 == kind.plural
                    && namespace.is_none_or(|ns| k.1 == ns)
                    && selector
                        .iter()
                        .all(|r| r.matches(&s.object["metadata"]["labels"]))
            })
            .map(|(_, s)| s.object.clone())
            .collect();
        json!({
            "apiVersion": kind.api_version(),
            "kind": format!("{}List", kind.kind),
            "metadata": {"resourceVersion": self.resource_version.to_string()},
            "items": items,
        })
    }

    /// Server-side apply, as the module documentation describes it.
    fn apply(
        &mut self,
        kind: &'static Kind,
        namespace: Option<&str>,
        name: &str,
        body: &[u8],
        query: &HashMap<String, String>,
    ) -> Result<(StatusCode, Value), ApiError> {
        let manager = query
            .get("fieldManager")
            .filter(|m| !m.is_empty())
            .ok_or_else(|| {
                ApiError::new(
                    400,
                    "PATCH requests with application/apply-patch+yaml require fieldManager",
                )
            })?;
        let force = query.get("force").is_some_and(|f| f == "true");
        // kube sends JSON, which is YAML; other YAML is not worth a parser here.
        let mut config: Value = serde_json::from_slice(body)
            .map_err(|e| ApiError::new(400, format!("error decoding YAML: {e}")))?;
        check_identity(kind, namespace, name, &config)?;
        check_shape(&config)?;
        strip_nulls(&mut config);
        let key = kind.key(namespace, name);
        let previous = self.objects.get(&key).cloned();
        if previous.is_none()
            && let Some(namespace) = namespace
        {
            self.check_namespace_open(kind, namespace, name)?;
        }
        let (live, mut managers) = match previous {
            Some(stored) => (stored.object, stored.managers),
            None => (skeleton(kind, namespace, name), BTreeMap::new()),
        };
        let config = managed_part(&config);
        let applied = leaves(&config);

        // Another manager's field set to a different value is a conflict.
        let conflicts: Vec<(String, FieldPath)> = managers
            .iter()
            .filter(|(other, _)| *other != manager)
            .flat_map(|(other, m)| m.owned.iter().map(move |path| (other, path)))
            .filter(|(_, path)| {
                applied
                    .get(*path)
                    .is_some_and(|value| lookup(&live, path) != Some(value))
            })
            .map(|(other, path)| (other.clone(), path.clone()))
            .collect();
        if !conflicts.is_empty() && !force {
            return Err(conflict_error(kind, name, &conflicts));
        }
        for (other, path) in &conflicts {
            if let Some(m) = managers.get_mut(other) {
                m.owned.remove(path);
            }
        }

        // Fields this manager applied before but no longer does go away,
        // unless someone else still owns them.
        let mut object = live;
        if let Some(before) = managers.get(manager.as_str()) {
            for path in before.owned.iter().filter(|p| !applied.contains_key(*p)) {
                let shared = managers
                    .iter()
                    .any(|(other, m)| other != manager && m.owned.contains(path));
                if !shared {
                    remove_path(&mut object, path);
                }
            }
        }
        merge_into(&mut object, &config);
        managers.insert(
            manager.clone(),
            Manager {
                operation: "Apply",
                owned: applied.into_keys().collect(),
                time: now(),
            },
        );
        let (created, object) = self.commit(kind, &key, object, managers)?;
        Ok((
            if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            },
            object,
        ))
    }

    fn merge_patch(
        &mut self,
        kind: &'static Kind,
        namespace: Option<&str>,
        name: &str,
        body: &[u8],
        manager: &str,
    ) -> Result<(StatusCode, Value), ApiError> {
        let patch: Value = serde_json::from_slice(body)
            .map_err(|e| ApiError::new(400, format!("error decoding patch: {e}")))?;
        if !patch.is_object() {
            return Err(ApiError::new(400, "a merge patch must be a JSON object"));
        }
        let key = kind.key(namespace, name);
        let old = self
            .objects
            .get(&key)
            .ok_or_else(|| ApiError::not_found(kind, name))?
            .object
            .clone();
        let mut object = old.clone();
        json_merge_patch(&mut object, &patch);
        // The status is the controllers' (a status subresource in the real
        // server), identity and bookkeeping are the server's.
        restore_identity(&old, &mut object);
        restore_field(&old, &mut object, "status");
        check_shape(&object)?;
        self.update(kind, &key, object, manager)
            .map(|object| (StatusCode::OK, object))
    }

    /// An update by `manager` (operation Update): it takes over every field it
    /// changed, without conflicts, as with the real server.
    fn update(
        &mut self,
        kind: &'static Kind,
        key: &Key,
        object: Value,
        manager: &str,
    ) -> Result<Value, ApiError> {
        let Some(stored) = self.objects.get(key).cloned() else {
            return Err(ApiError::not_found(kind, &key.2));
        };
        let before = leaves(&managed_part(&stored.object));
        let after = leaves(&managed_part(&object));
        let changed: BTreeSet<FieldPath> = after
            .iter()
            .filter(|(path, value)| before.get(*path) != Some(*value))
            .map(|(p, _)| p.clone())
            .collect();
        let removed: BTreeSet<&FieldPath> =
            before.keys().filter(|p| !after.contains_key(*p)).collect();
        let mut managers = stored.managers;
        for m in managers.values_mut() {
            m.owned
                .retain(|p| !changed.contains(p) && !removed.contains(p));
        }
        if !changed.is_empty() {
            let entry = managers
                .entry(manager.to_owned())
                .or_insert_with(|| Manager {
                    operation: "Update",
                    owned: BTreeSet::new(),
                    time: now(),
                });
            entry.operation = "Update";
            entry.time = now();
            entry.owned.extend(changed);
        }
        self.commit(kind, key, object, managers)
            .map(|(_, object)| object)
    }

    /// Validates, runs the simulated controllers and stores the object;
    /// bumps the resourceVersion only when the content changed. Returns
    /// whether the object was created.
    fn commit(
        &mut self,
        kind: &'static Kind,
        key: &Key,
        mut object: Value,
        mut managers: BTreeMap<String, Manager>,
    ) -> Result<(bool, Value), ApiError> {
        validate(kind, &object)?;
        let previous = self.objects.get(key).cloned();
        self.reconcile(kind, key, previous.as_ref().map(|p| &p.object), &mut object);
        managers.retain(|_, m| !m.owned.is_empty());
        match &previous {
            Some(previous) if content(&previous.object) == content(&object) => {
                object["metadata"]["resourceVersion"] =
                    previous.object["metadata"]["resourceVersion"].clone();
                // A no-op leaves the managers' timestamps alone, as the real server does.
                for (name, m) in &mut managers {
                    if let Some(old) = previous.managers.get(name) {
                        m.time = old.time.clone();
                    }
                }
            }
            _ => object["metadata"]["resourceVersion"] = json!(self.bump()),
        }
        object["metadata"]["managedFields"] = managed_fields(kind, &managers);
        self.objects.insert(
            key.clone(),
            Stored {
                object: object.clone(),
                managers,
            },
        );
        Ok((previous.is_none(), object))
    }

    /// Runs the controllers again after the test changed their inputs.
    fn refresh(&mut self, kind: &'static Kind, namespace: Option<&str>, name: &str) {
        let key = kind.key(namespace, name);
        if let Some(stored) = self.objects.get(&key).cloned() {
            self.commit(kind, &key, stored.object, stored.managers)
                .expect("a stored object stays valid");
        }
    }

    /// What the namespace, quota and deployment controllers would write.
    fn reconcile(&self, kind: &Kind, key: &Key, previous: Option<&Value>, object: &mut Value) {
        let (_, namespace, name) = key;
        match kind.plural {
            "namespaces" => {
                // Set by the real API server on every namespace since 1.21.
                object["metadata"]["labels"]["kubernetes.io/metadata.name"] = json!(name);
                if object["spec"]["finalizers"].is_null() {
                    object["spec"]["finalizers"] = json!(["kubernetes"]);
                }
                let phase = if object["metadata"]["deletionTimestamp"].is_null() {
                    "Active"
                } else {
                    "Terminating"
                };
                object["status"] = json!({"phase": phase});
            }
            "resourcequotas" => {
                let hard = object["spec"]["hard"]
                    .as_object()
                    .cloned()
                    .unwrap_or_default();
                let reported = self.quota_used.get(&(namespace.clone(), name.clone()));
                let used: Map<String, Value> = hard
                    .keys()
                    .map(|k| {
                        (
                            k.clone(),
                            reported
                                .and_then(|u| u.get(k))
                                .cloned()
                                .unwrap_or_else(|| json!("0")),
                        )
                    })
                    .collect();
                object["status"] = json!({"hard": hard, "used": used});
            }
            "deployments" => {
                let generation = match previous {
                    None => 1,
                    Some(p) => {
                        let generation = p["metadata"]["generation"].as_u64().unwrap_or(1);
                        if p["spec"] == object["spec"] {
                            generation
                        } else {
                            generation + 1
                        }
                    }
                };
                object["metadata"]["generation"] = json!(generation);
                let replicas = object["spec"]["replicas"].as_u64().unwrap_or(1);
                let old_conditions = previous.and_then(|p| p["status"]["conditions"].as_array());
                let cond = |kind: &str, status: &str, reason: &str, message: &str| {
                    condition(old_conditions, kind, status, reason, message)
                };
                object["status"] = match self
                    .rollout_failures
                    .get(&(namespace.clone(), name.clone()))
                {
                    Some(message) => json!({
                        "observedGeneration": generation, "replicas": replicas,
                        "updatedReplicas": replicas, "readyReplicas": 0, "availableReplicas": 0,
                        "unavailableReplicas": replicas,
                        "conditions": [
                            cond("Available", "False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability."),
                            cond("Progressing", "False", "ProgressDeadlineExceeded", message),
                        ],
                    }),
                    None => json!({
                        "observedGeneration": generation, "replicas": replicas,
                        "updatedReplicas": replicas, "readyReplicas": replicas,
                        "availableReplicas": replicas,
                        "conditions": [
                            cond("Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability."),
                            cond("Progressing", "True", "NewReplicaSetAvailable", &format!("ReplicaSet \"{name}\" has successfully progressed.")),
                        ],
                    }),
                };
            }
            _ => {}
        }
    }

    /// The NamespaceLifecycle admission plugin: no new objects in a namespace
    /// that does not exist or is being deleted.
    fn check_namespace_open(
        &self,
        kind: &Kind,
        namespace: &str,
        name: &str,
    ) -> Result<(), ApiError> {
        match self.objects.get(&("namespaces", String::new(), namespace.to_owned())) {
            None => Err(ApiError::not_found(Kind::by_plural("namespaces"), namespace)),
            Some(ns) if !ns.object["metadata"]["deletionTimestamp"].is_null() => Err(ApiError::new(
                403,
                format!(
                    "{} \"{name}\" is forbidden: unable to create new content in namespace {namespace} because it is being terminated",
                    kind.qualified()
                ),
            )
            .details(json!({
                "name": name, "group": kind.group, "kind": kind.plural,
                "causes": [{
                    "reason": "NamespaceTerminating",
                    "message": format!("namespace {namespace} is being terminated"),
                    "field": "metadata.namespace",
                }],
            }))),
            Some(_) => Ok(()),
        }
    }

    /// Marks the namespace Terminating; returns it, its uid and the delay
    /// after which it and its content disappear.
    fn begin_namespace_deletion(
        &mut self,
        name: &str,
    ) -> Result<(Value, Value, Duration), ApiError> {
        let kind = Kind::by_plural("namespaces");
        let key = kind.key(None, name);
        let stored = self
            .objects
            .get(&key)
            .cloned()
            .ok_or_else(|| ApiError::not_found(kind, name))?;
        if !stored.object["metadata"]["deletionTimestamp"].is_null() {
            // What the real server answers to a second delete.
            return Err(ApiError::new(
                409,
                format!(
                    "Operation cannot be fulfilled on namespaces \"{name}\": The system is ensuring all content is removed from this namespace.  Upon completion, this namespace will automatically be purged by the system."
                ),
            )
            .details(json!({"name": name, "kind": "namespaces"})));
        }
        let mut object = stored.object;
        object["metadata"]["deletionTimestamp"] = json!(now());
        let (_, object) = self.commit(kind, &key, object, stored.managers)?;
        let uid = object["metadata"]["uid"].clone();
        Ok((object, uid, self.namespace_deletion_delay))
    }

    fn purge_namespace(&mut self, name: &str) {
        self.objects.retain(|(plural, namespace, object_name), _| {
            namespace != name && !(*plural == "namespaces" && object_name == name)
        });
        self.bump();
    }

    fn delete(
        &mut self,
        kind: &'static Kind,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Value, ApiError> {
        let key = kind.key(namespace, name);
        let stored = self
            .objects
            .remove(&key)
            .ok_or_else(|| ApiError::not_found(kind, name))?;
        self.bump();
        // Objects without graceful deletion answer with a Success Status.
        Ok(json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
            "details": {
                "name": name, "group": kind.group, "kind": kind.plural,
                "uid": stored.object["metadata"]["uid"],
            },
        }))
    }
}

/// A condition that keeps its timestamps while it stays the same, so that
/// recomputing an unchanged status is not a change.
fn condition(
    old: Option<&Vec<Value>>,
    kind: &str,
    status: &str,
    reason: &str,
    message: &str,
) -> Value {
    let old = old.and_then(|conditions| conditions.iter().find(|c| c["type"] == kind));
    let same_status = old.filter(|c| c["status"] == status);
    let unchanged = same_status.filter(|c| c["reason"] == reason && c["message"] == message);
    let time =
        |c: Option<&Value>, field: &str| c.map_or_else(|| json!(now()), |c| c[field].clone());
    json!({
        "type": kind,
        "status": status,
        "reason": reason,
        "message": message,
        "lastUpdateTime": time(unchanged, "lastUpdateTime"),
        "lastTransitionTime": time(same_status, "lastTransitionTime"),
    })
}

fn skeleton(kind: &Kind, namespace: Option<&str>, name: &str) -> Value {
    let mut metadata =
        json!({"name": name, "uid": uuid::Uuid::new_v4().to_string(), "creationTimestamp": now()});
    if let Some(namespace) = namespace {
        metadata["namespace"] = json!(namespace);
    }
    json!({"apiVersion": kind.api_version(), "kind": kind.kind, "metadata": metadata})
}

fn now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// The checks the real server makes before it looks at the object itself.
fn check_identity(
    kind: &Kind,
    namespace: Option<&str>,
    name: &str,
    body: &Value,
) -> Result<(), ApiError> {
    if !body.is_object() {
        return Err(ApiError::new(400, "the body of an apply must be an object"));
    }
    let api_version = body["apiVersion"].as_str().unwrap_or_default();
    if api_version != kind.api_version() {
        return Err(ApiError::new(
            400,
            format!(
                "the API version in the data ({api_version}) does not match the expected API version ({})",
                kind.api_version()
            ),
        ));
    }
    let body_kind = body["kind"].as_str().unwrap_or_default();
    if body_kind != kind.kind {
        return Err(ApiError::new(
            400,
            format!(
                "the kind in the data ({body_kind}) does not match the expected kind ({})",
                kind.kind
            ),
        ));
    }
    if let Some(body_name) = body["metadata"]["name"].as_str()
        && body_name != name
    {
        return Err(ApiError::new(
            400,
            format!(
                "the name of the object ({body_name}) does not match the name on the URL ({name})"
            ),
        ));
    }
    // The real server clears the namespace of cluster-scoped objects.
    if kind.namespaced
        && let Some(body_namespace) = body["metadata"]["namespace"].as_str()
        && Some(body_namespace) != namespace
    {
        return Err(ApiError::new(
            400,
            "the namespace of the provided object does not match the namespace sent on the request",
        ));
    }
    Ok(())
}

/// What would fail to decode into the typed object in the real server (400),
/// and what later code relies on.
fn check_shape(object: &Value) -> Result<(), ApiError> {
    for (field, value) in [
        ("metadata", &object["metadata"]),
        ("spec", &object["spec"]),
        ("status", &object["status"]),
    ] {
        if !value.is_null() && !value.is_object() {
            return Err(ApiError::new(400, format!("{field} must be an object")));
        }
    }
    for field in ["labels", "annotations"] {
        let value = &object["metadata"][field];
        let ok = value.is_null()
            || value
                .as_object()
                .is_some_and(|m| m.values().all(|v| v.is_string() || v.is_null()));
        if !ok {
            return Err(ApiError::new(
                400,
                format!("metadata.{field} must map strings to strings"),
            ));
        }
    }
    Ok(())
}

fn restore_identity(old: &Value, object: &mut Value) {
    restore_field(old, object, "apiVersion");
    restore_field(old, object, "kind");
    if !object["metadata"].is_object() {
        object["metadata"] = json!({});
    }
    for field in SYSTEM_METADATA {
        restore_field(&old["metadata"], &mut object["metadata"], field);
    }
}

/// Sets `object[field]` to `old[field]`, absent if it was absent.
fn restore_field(old: &Value, object: &mut Value, field: &str) {
    let Some(map) = object.as_object_mut() else {
        return;
    };
    match old.get(field) {
        Some(value) => map.insert(field.to_owned(), value.clone()),
        None => map.remove(field),
    };
}

fn validate(kind: &Kind, object: &Value) -> Result<(), ApiError> {
    let name = object["metadata"]["name"].as_str().unwrap_or_default();
    // (field, offending value as JSON, what is wrong)
    let mut errors: Vec<(String, String, &str)> = Vec::new();
    let name_value = object["metadata"]["name"].to_string();
    if kind.plural == "namespaces" {
        if !is_dns_label(name) {
            errors.push(("metadata.name".into(), name_value, "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character"));
        }
    } else if !is_dns_subdomain(name) {
        errors.push(("metadata.name".into(), name_value, "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"));
    }
    if let Some(labels) = object["metadata"]["labels"].as_object() {
        for (key, value) in labels {
            if !is_label_key(key) {
                errors.push(("metadata.labels".into(), Value::from(key.as_str()).to_string(), "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"));
            } else if !value.as_str().is_some_and(is_label_value) {
                errors.push((format!("metadata.labels[{key}]"), value.to_string(), "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"));
            }
        }
    }
    match kind.plural {
        "resourcequotas" => check_quantities(&mut errors, "spec.hard", &object["spec"]["hard"]),
        "limitranges" => {
            for (i, limit) in object["spec"]["limits"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
            {
                for field in [
                    "max",
                    "min",
                    "default",
                    "defaultRequest",
                    "maxLimitRequestRatio",
                ] {
                    check_quantities(
                        &mut errors,
                        &format!("spec.limits[{i}].{field}"),
                        &limit[field],
                    );
                }
            }
        }
        _ => {}
    }
    if errors.is_empty() {
        return Ok(());
    }
    let described: Vec<String> = errors
        .iter()
        .map(|(field, value, detail)| format!("{field}: Invalid value: {value}: {detail}"))
        .collect();
    let message = match described.as_slice() {
        [one] => format!("{} \"{name}\" is invalid: {one}", kind.kind),
        many => format!("{} \"{name}\" is invalid: [{}]", kind.kind, many.join(", ")),
    };
    let causes: Vec<Value> = errors
        .iter()
        .map(|(field, value, detail)| {
            json!({"reason": "FieldValueInvalid", "message": format!("Invalid value: {value}: {detail}"), "field": field})
        })
        .collect();
    Err(ApiError::new(422, message).details(json!({
        "name": name, "group": kind.group, "kind": kind.kind, "causes": causes,
    })))
}

fn check_quantities(errors: &mut Vec<(String, String, &str)>, field: &str, map: &Value) {
    for (key, value) in map.as_object().into_iter().flatten() {
        // The real Quantity also decodes from a JSON number.
        let ok = value.is_number() || value.as_str().is_some_and(is_quantity);
        if !ok {
            errors.push((
                format!("{field}[{key}]"),
                value.to_string(),
                "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
            ));
        }
    }
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`
fn is_rfc1123_part(s: &str) -> bool {
    let bytes = s.as_bytes();
    !bytes.is_empty()
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes[0] != b'-'
        && bytes[bytes.len() - 1] != b'-'
}

fn is_dns_label(s: &str) -> bool {
    s.len() <= 63 && is_rfc1123_part(s)
}

fn is_dns_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_rfc1123_part)
}

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`, at most 63 characters.
fn is_qualified_name_part(s: &str) -> bool {
    let bytes = s.as_bytes();
    (1..=63).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
}

fn is_label_key(key: &str) -> bool {
    match key.split_once('/') {
        Some((prefix, name)) => is_dns_subdomain(prefix) && is_qualified_name_part(name),
        None => is_qualified_name_part(key),
    }
}

fn is_label_value(value: &str) -> bool {
    value.is_empty() || is_qualified_name_part(value)
}

/// A Kubernetes quantity: a decimal number with a binary (`Ki`…`Ei`) or
/// decimal (`n`…`E`) suffix or a decimal exponent (`1e3`).
fn is_quantity(s: &str) -> bool {
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
    let split = unsigned
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(unsigned.len());
    let (number, suffix) = unsigned.split_at(split);
    let number_ok = number.chars().any(|c| c.is_ascii_digit()) && number.matches('.').count() <= 1;
    let suffix_ok = match suffix {
        "" | "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei" | "n" | "u" | "m" | "k" | "M" | "G" | "T"
        | "P" | "E" => true,
        _ => suffix.strip_prefix(['e', 'E']).is_some_and(|exponent| {
            let digits = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
            !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
        }),
    };
    number_ok && suffix_ok
}

/// One term of an equality-based label selector.
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    Exists(String),
    NotExists(String),
}

impl Requirement {
    fn matches(&self, labels: &Value) -> bool {
        match self {
            Requirement::Equals(k, v) => labels[k].as_str() == Some(v),
            // As in Kubernetes: an object without the label matches `k!=v`.
            Requirement::NotEquals(k, v) => labels[k].as_str() != Some(v),
            Requirement::Exists(k) => labels.get(k).is_some(),
            Requirement::NotExists(k) => labels.get(k).is_none(),
        }
    }
}

/// `k=v`, `k==v`, `k!=v`, `k` and `!k`, comma-separated; set-based terms
/// (`k in (a,b)`) are refused rather than silently mismatched.
fn parse_selector(selector: &str) -> Result<Vec<Requirement>, ApiError> {
    let mut requirements = Vec::new();
    for term in selector.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        let invalid = || {
            ApiError::new(
                400,
                format!(
                    "unable to parse requirement: {term:?} (the fake supports k=v, k==v, k!=v, k, !k)"
                ),
            )
        };
        if term.contains(['(', ')', ' ', '<', '>']) {
            return Err(invalid());
        }
        let requirement = if let Some((k, v)) = term.split_once("!=") {
            Requirement::NotEquals(k.to_owned(), v.to_owned())
        } else if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
            Requirement::Equals(k.to_owned(), v.to_owned())
        } else if let Some(k) = term.strip_prefix('!') {
            Requirement::NotExists(k.to_owned())
        } else {
            Requirement::Exists(term.to_owned())
        };
        requirements.push(requirement);
    }
    Ok(requirements)
}

/// The part of an object that field managers own: not identity, not
/// bookkeeping, not status (written by controllers, not by apply).
fn managed_part(object: &Value) -> Value {
    let mut part = object.clone();
    if let Some(map) = part.as_object_mut() {
        for field in ["apiVersion", "kind", "status"] {
            map.remove(field);
        }
        if let Some(metadata) = map.get_mut("metadata").and_then(Value::as_object_mut) {
            for field in SYSTEM_METADATA {
                metadata.remove(field);
            }
        }
    }
    part
}

/// What "changed" means for the resourceVersion.
fn content(object: &Value) -> Value {
    let mut content = object.clone();
    if let Some(metadata) = content["metadata"].as_object_mut() {
        metadata.remove("resourceVersion");
        metadata.remove("managedFields");
    }
    content
}

fn strip_nulls(value: &mut Value) {
    if let Value::Object(map) = value {
        map.retain(|_, v| !v.is_null());
        map.values_mut().for_each(strip_nulls);
    }
}

/// Maps are walked into; scalars, lists and empty maps are leaves.
fn leaves(value: &Value) -> BTreeMap<FieldPath, Value> {
    fn walk(value: &Value, path: &mut FieldPath, out: &mut BTreeMap<FieldPath, Value>) {
        match value {
            Value::Object(map) if !map.is_empty() => {
                for (key, child) in map {
                    path.push(key.clone());
                    walk(child, path, out);
                    path.pop();
                }
            }
            _ if path.is_empty() => {}
            _ => {
                out.insert(path.clone(), value.clone());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(value, &mut Vec::new(), &mut out);
    out
}

fn lookup<'a>(value: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(value, |v, key| v.get(key))
}

fn lookup_mut<'a>(value: &'a mut Value, path: &[String]) -> Option<&'a mut Value> {
    path.iter().try_fold(value, |v, key| v.get_mut(key))
}

/// Removes a leaf and the maps that it leaves empty, up to (not including)
/// the top-level fields such as `spec`.
fn remove_path(value: &mut Value, path: &[String]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    // An empty map that was applied is not a licence to remove what others
    // put into it since.
    if lookup(value, path)
        .and_then(Value::as_object)
        .is_some_and(|m| !m.is_empty())
    {
        return;
    }
    if let Some(parent) = lookup_mut(value, parents).and_then(Value::as_object_mut) {
        parent.remove(last);
    }
    for len in (2..=parents.len()).rev() {
        let empty = lookup(value, &path[..len])
            .and_then(Value::as_object)
            .is_some_and(Map::is_empty);
        if !empty {
            break;
        }
        if let Some(parent) = lookup_mut(value, &path[..len - 1]).and_then(Value::as_object_mut) {
            parent.remove(&path[len - 1]);
        }
    }
}

/// Apply's merge: maps merge recursively, everything else is replaced.
fn merge_into(target: &mut Value, config: &Value) {
    match (target, config) {
        (Value::Object(target), Value::Object(config)) => {
            for (key, value) in config {
                match target.get_mut(key) {
                    Some(existing) => merge_into(existing, value),
                    None => {
                        target.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (target, config) => *target = config.clone(),
    }
}

/// RFC 7386 JSON merge patch.
fn json_merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = json!({});
    }
    let Value::Object(target) = target else {
        unreachable!("just made an object")
    };
    for (key, value) in patch {
        if value.is_null() {
            target.remove(key);
        } else {
            json_merge_patch(target.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

fn conflict_error(kind: &Kind, name: &str, conflicts: &[(String, FieldPath)]) -> ApiError {
    let api_version = kind.api_version();
    let described: Vec<String> = conflicts
        .iter()
        .map(|(manager, path)| {
            format!(
                "conflict with \"{manager}\" using {api_version}: .{}",
                path.join(".")
            )
        })
        .collect();
    let plural = if conflicts.len() == 1 { "" } else { "s" };
    let causes: Vec<Value> = conflicts
        .iter()
        .map(|(manager, path)| {
            json!({
                "reason": "FieldManagerConflict",
                "message": format!("conflict with \"{manager}\" using {api_version}"),
                "field": format!(".{}", path.join(".")),
            })
        })
        .collect();
    ApiError::new(
        409,
        format!(
            "Apply failed with {} conflict{plural}: {}",
            conflicts.len(),
            described.join("\n")
        ),
    )
    .details(json!({"name": name, "group": kind.group, "kind": kind.plural, "causes": causes}))
}

/// `metadata.managedFields`, with fieldsV1 built from the owned leaves.
fn managed_fields(kind: &Kind, managers: &BTreeMap<String, Manager>) -> Value {
    managers
        .iter()
        .map(|(name, manager)| {
            let mut fields = json!({});
            for path in &manager.owned {
                let mut node = &mut fields;
                for key in path {
                    node = node
                        .as_object_mut()
                        .expect("every fieldsV1 node is a map")
                        .entry(format!("f:{key}"))
                        .or_insert_with(|| json!({}));
                }
            }
            json!({
                "manager": name,
                "operation": manager.operation,
                "apiVersion": kind.api_version(),
                "time": manager.time,
                "fieldsType": "FieldsV1",
                "fieldsV1": fields,
            })
        })
        .collect()
}
