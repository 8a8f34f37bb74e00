//! A real Kubernetes control plane for the tests, started once per test
//! process from the binaries `scripts/kube-binaries.sh` builds from Go
//! modules (tests/kube/go.mod): one etcd, and two API servers on it (own
//! `--etcd-prefix` each) that stand for two security zones, each with its
//! kube-controller-manager; zone A also has a kube-scheduler and kwok, which
//! plays a node, so Deployments roll out there. Zone B has no node: a rollout
//! there never becomes available.
//!
//! Everything listens on loopback; the certificates, the service-account
//! signing key and the data live in a directory made for this run. The API
//! servers run with RBAC and the standard admission plugins (PodSecurity,
//! LimitRanger, ResourceQuota, ServiceAccount, NamespaceLifecycle), and
//! Kontor gets a kubeconfig with a token of the ServiceAccount `kontor/kontor`
//! bound to `deploy/kubernetes/target-cluster/` as shipped, so the real
//! authorizer judges its least privilege. The tests' own checks use an admin
//! (system:masters) kubeconfig.
//!
//! `benches/provisioning.rs` includes this file by path, so it depends on
//! nothing else of the test support.
//!
//! Every process is started by one supervisor thread that lives as long as
//! the test process, with `PR_SET_PDEATHSIG`: when the test process ends —
//! done, panicked or SIGKILLed — the kernel kills them too.

use std::{
    io::{BufRead as _, Seek as _},
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Mutex, OnceLock, mpsc},
    time::{Duration, Instant},
};

use k8s_openapi::api::{
    authentication::v1::{TokenRequest, TokenRequestSpec},
    authorization::v1::{ResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec},
    core::v1::{Node, ServiceAccount},
};
use kube::{
    Api, Client, Config,
    api::{DynamicObject, Patch, PatchParams, PostParams},
    config::{KubeConfigOptions, Kubeconfig},
    core::{ApiResource, GroupVersionKind},
};
use serde_json::{Value, json};

/// The field manager of the tests' own changes ("someone with kubectl").
pub const ADMIN_MANAGER: &str = "kontor-tests";

// ----- processes -------------------------------------------------------------

type SpawnRequest = (Command, mpsc::Sender<std::io::Result<Child>>);

/// Spawns `command` from the supervisor thread, so that the child dies with
/// the test process (the parent-death signal fires when the *thread* that
/// forked ends; this one never does).
pub fn spawn_supervised(command: Command) -> Child {
    static SUPERVISOR: OnceLock<Mutex<mpsc::Sender<SpawnRequest>>> = OnceLock::new();
    let sender = SUPERVISOR.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<SpawnRequest>();
        std::thread::Builder::new()
            .name("kube-supervisor".into())
            .spawn(move || {
                for (mut command, reply) in rx {
                    let _ = reply.send(spawn_with_parent_death_signal(&mut command));
                }
            })
            .expect("the supervisor thread starts");
        Mutex::new(tx)
    });
    let (reply, answer) = mpsc::channel();
    let program = format!("{:?}", command.get_program());
    sender
        .lock()
        .expect("supervisor")
        .send((command, reply))
        .expect("the supervisor runs");
    answer
        .recv()
        .expect("the supervisor answers")
        .unwrap_or_else(|e| panic!("start {program}: {e}"))
}

fn spawn_with_parent_death_signal(command: &mut Command) -> std::io::Result<Child> {
    use std::os::unix::process::CommandExt as _;
    let parent = std::process::id();
    // SAFETY: only async-signal-safe calls (prctl, getppid, _exit) run
    // between fork and exec.
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // The parent may have died before the signal was armed.
            if u32::try_from(libc::getppid()).ok() != Some(parent) {
                libc::_exit(1);
            }
            Ok(())
        });
    }
    command.spawn()
}

fn signal(child: &Child, sig: libc::c_int) {
    let pid = libc::pid_t::try_from(child.id()).expect("pid");
    // SAFETY: kill(2) on a child we own and have not reaped.
    unsafe {
        libc::kill(pid, sig);
    }
}

/// A free port on loopback (free when asked; the process that gets it
/// binds it a moment later).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// The last lines of a log, for failure messages.
fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

/// One process of the control plane, with its command line kept so that it
/// can be started again (the outage tests stop an API server and start it
/// on the same port).
struct Process {
    name: String,
    program: PathBuf,
    args: Vec<String>,
    log: PathBuf,
    child: Mutex<Option<Child>>,
}

impl Process {
    fn new(name: &str, program: PathBuf, args: Vec<String>, dir: &Path) -> Process {
        Process {
            name: name.to_owned(),
            program,
            args,
            log: dir.join(format!("{name}.log")),
            child: Mutex::new(None),
        }
    }

    fn start(&self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("log file");
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log);
        *self.child.lock().expect("process") = Some(spawn_supervised(command));
    }

    fn stop(&self) {
        if let Some(mut child) = self.child.lock().expect("process").take() {
            signal(&child, libc::SIGCONT);
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Fails with the log if the process has ended.
    fn assert_running(&self) {
        let mut guard = self.child.lock().expect("process");
        if let Some(child) = guard.as_mut()
            && let Ok(Some(status)) = child.try_wait()
        {
            panic!(
                "{} ended ({status}); its log ({}):\n{}",
                self.name,
                self.log.display(),
                tail(&self.log)
            );
        }
    }

    fn signal(&self, sig: libc::c_int) {
        if let Some(child) = self.child.lock().expect("process").as_ref() {
            signal(child, sig);
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.stop();
    }
}

// ----- the control plane -----------------------------------------------------

/// The binaries and what they are, from `scripts/kube-binaries.sh --dir`.
struct Binaries {
    dir: PathBuf,
    versions: String,
}

fn binaries() -> Binaries {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/kube-binaries.sh");
    let out = Command::new("bash")
        .arg(&script)
        .arg("--dir")
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", script.display()));
    assert!(
        out.status.success(),
        "{} --dir failed: {}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let missing: Vec<&str> = [
        "etcd",
        "kube-apiserver",
        "kube-controller-manager",
        "kube-scheduler",
        "kwok",
        "kwok-stages.yaml",
        "VERSIONS",
    ]
    .into_iter()
    .filter(|b| !dir.join(b).exists())
    .collect();
    assert!(
        missing.is_empty(),
        "the test control plane is not built ({missing:?} missing in {}): run scripts/kube-binaries.sh \
         (scripts/test.sh does it first; it takes several minutes once)",
        dir.display()
    );
    let versions = std::fs::read_to_string(dir.join("VERSIONS"))
        .unwrap_or_default()
        .lines()
        .collect::<Vec<_>>()
        .join(", ");
    Binaries { dir, versions }
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs (the test control plane makes its certificates with it)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA, the API servers' serving certificate (127.0.0.1, localhost), an
/// admin client certificate (group system:masters) and the key that signs
/// service-account tokens, all made for this run.
fn make_certificates(dir: &Path) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509", "-days", "2", "-subj", "/CN=kontor-test-ca"];
    ca.extend(ec);
    ca.extend(["-keyout", "ca.key", "-out", "ca.crt"]);
    openssl(dir, &ca);
    let signed = |name: &str, subject: &str, ext: &[&str]| {
        let key = format!("{name}.key");
        let crt = format!("{name}.crt");
        let mut args = vec![
            "req", "-x509", "-CA", "ca.crt", "-CAkey", "ca.key", "-days", "2", "-subj", subject,
        ];
        args.extend(ec);
        for e in ext {
            args.extend(["-addext", e]);
        }
        args.extend(["-keyout", &key, "-out", &crt]);
        openssl(dir, &args);
    };
    signed(
        "apiserver",
        "/CN=kube-apiserver",
        &[
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "extendedKeyUsage=serverAuth",
            "basicConstraints=critical,CA:FALSE",
        ],
    );
    signed(
        "admin",
        "/O=system:masters/CN=kontor-test-admin",
        &[
            "extendedKeyUsage=clientAuth",
            "basicConstraints=critical,CA:FALSE",
        ],
    );
    openssl(dir, &["genrsa", "-out", "sa.key", "2048"]);
    openssl(dir, &["rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub"]);
}

/// What the API servers write to their audit logs: every request of an
/// identity in the namespace `kontor` (Kontor's ServiceAccounts), at
/// metadata level, once the response is complete. Tests count Kontor's
/// writes with it.
const AUDIT_POLICY: &str = "\
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
    userGroups: [\"system:serviceaccounts:kontor\"]
  - level: None
";

fn kubeconfig_yaml(name: &str, server: &str, ca: &Path, user: &Value) -> String {
    let config = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {"server": server, "certificate-authority": ca}}],
        "users": [{"name": name, "user": user}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
        "current-context": name,
    });
    // JSON is YAML.
    serde_json::to_string_pretty(&config).expect("kubeconfig")
}

/// The one control plane of this test process.
pub struct ControlPlane {
    /// Kubernetes, etcd, kwok and Go versions of the binaries.
    pub versions: String,
    pub zone_a: Zone,
    pub zone_b: Zone,
    bin: PathBuf,
    dir: PathBuf,
    etcd_url: String,
    _etcd: Process,
}

/// One API server: a security zone.
pub struct Zone {
    /// The cluster's name in Kontor's settings.
    pub name: String,
    pub url: String,
    pub admin_kubeconfig: PathBuf,
    /// A token of `kontor/kontor`, bound to the shipped ClusterRole.
    pub kontor_kubeconfig: PathBuf,
    pub audit_log: PathBuf,
    dir: PathBuf,
    ca: PathBuf,
    apiserver: Process,
    others: Vec<Process>,
}

/// The control plane, started on first use and shared by every test of
/// this process (each test works in the namespaces of its own fresh
/// customer). Fails, never skips, when it cannot start.
pub fn control_plane() -> &'static ControlPlane {
    static PLANE: OnceLock<ControlPlane> = OnceLock::new();
    PLANE.get_or_init(|| {
        // Starting takes a while and needs a runtime of its own: the
        // calling test's runtime must not be blocked from within.
        tokio::task::block_in_place(|| {
            std::thread::spawn(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime")
                    .block_on(ControlPlane::start())
            })
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    })
}

impl ControlPlane {
    async fn start() -> ControlPlane {
        let started = Instant::now();
        let binaries = binaries();
        let dir = run_directory();
        make_certificates(&dir);
        std::fs::write(dir.join("audit-policy.yaml"), AUDIT_POLICY).expect("audit policy");

        let (client_port, peer_port) = (free_port(), free_port());
        let etcd_url = format!("http://127.0.0.1:{client_port}");
        let peer = format!("http://127.0.0.1:{peer_port}");
        let etcd = Process::new(
            "etcd",
            binaries.dir.join("etcd"),
            [
                "--name=kontor-test".to_owned(),
                format!("--data-dir={}", dir.join("etcd").display()),
                format!("--listen-client-urls={etcd_url}"),
                format!("--advertise-client-urls={etcd_url}"),
                format!("--listen-peer-urls={peer}"),
                format!("--initial-advertise-peer-urls={peer}"),
                format!("--initial-cluster=kontor-test={peer}"),
                "--unsafe-no-fsync=true".to_owned(),
                "--log-level=warn".to_owned(),
            ]
            .into(),
            &dir,
        );
        etcd.start();
        wait_for_etcd(&etcd, &etcd_url).await;

        let zone_a = Zone::new(&binaries.dir, &dir, "zone_a", &etcd_url);
        let zone_b = Zone::new(&binaries.dir, &dir, "zone_b", &etcd_url);
        zone_a.apiserver.start();
        zone_b.apiserver.start();
        zone_a.wait_ready().await;
        zone_b.wait_ready().await;
        zone_a.install_kontor().await;
        zone_b.install_kontor().await;
        let mut zone_a = zone_a;
        let mut zone_b = zone_b;
        zone_a.start_controllers(&binaries.dir, true);
        zone_b.start_controllers(&binaries.dir, false);
        zone_a.add_kwok_node().await;
        eprintln!(
            "real Kubernetes control plane ({}) up in {:.1} s: {} (zone_a, with a kwok node), {} (zone_b, no node); files in {}",
            binaries.versions,
            started.elapsed().as_secs_f64(),
            zone_a.url,
            zone_b.url,
            dir.display()
        );
        ControlPlane {
            versions: binaries.versions,
            zone_a,
            zone_b,
            bin: binaries.dir,
            dir,
            etcd_url,
            _etcd: etcd,
        }
    }

    /// An API server of its own (on the shared etcd, with its own prefix)
    /// for a test that stops or freezes it; without controllers. Stopped
    /// when dropped.
    pub async fn private_zone(&self, name: &str) -> Zone {
        let zone = Zone::new(
            &self.bin,
            &self.dir,
            &format!("{name}_{}", &uuid::Uuid::new_v4().simple().to_string()[..8]),
            &self.etcd_url,
        );
        zone.apiserver.start();
        zone.wait_ready().await;
        zone.install_kontor().await;
        zone
    }
}

/// A directory for this run under the temporary directory; those of runs
/// whose process is gone are removed first.
fn run_directory() -> PathBuf {
    let base = std::env::temp_dir().join("kontor-kube");
    if let Ok(entries) = std::fs::read_dir(&base) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let pid = name.split('-').next().unwrap_or_default();
            if !Path::new("/proc").join(pid).exists() {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    let dir = base.join(format!(
        "{}-{}",
        std::process::id(),
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    ));
    std::fs::create_dir_all(&dir).expect("run directory");
    dir
}

async fn wait_for_etcd(etcd: &Process, url: &str) {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        etcd.assert_running();
        if let Ok(resp) = client.get(format!("{url}/health")).send().await
            && resp.status().is_success()
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "etcd did not become healthy:\n{}",
            tail(&etcd.log)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

impl Zone {
    fn new(bin: &Path, run: &Path, name: &str, etcd_url: &str) -> Zone {
        let dir = run.join(name);
        std::fs::create_dir_all(&dir).expect("zone directory");
        let port = free_port();
        let url = format!("https://127.0.0.1:{port}");
        let ca = run.join("ca.crt");
        let admin_kubeconfig = dir.join("admin.kubeconfig");
        std::fs::write(
            &admin_kubeconfig,
            kubeconfig_yaml(
                name,
                &url,
                &ca,
                &json!({"client-certificate": run.join("admin.crt"), "client-key": run.join("admin.key")}),
            ),
        )
        .expect("admin kubeconfig");
        let audit_log = dir.join("audit.log");
        let file = |f: &str| run.join(f).display().to_string();
        let args = vec![
            format!("--etcd-servers={etcd_url}"),
            format!("--etcd-prefix=/{name}"),
            "--bind-address=127.0.0.1".to_owned(),
            "--advertise-address=127.0.0.1".to_owned(),
            format!("--secure-port={port}"),
            format!("--tls-cert-file={}", file("apiserver.crt")),
            format!("--tls-private-key-file={}", file("apiserver.key")),
            format!("--client-ca-file={}", file("ca.crt")),
            format!("--service-account-key-file={}", file("sa.pub")),
            format!("--service-account-signing-key-file={}", file("sa.key")),
            "--service-account-issuer=https://kubernetes.default.svc".to_owned(),
            "--service-cluster-ip-range=10.96.0.0/24".to_owned(),
            "--authorization-mode=Node,RBAC".to_owned(),
            "--enable-admission-plugins=NamespaceLifecycle,LimitRanger,ServiceAccount,PodSecurity,\
             ResourceQuota,DefaultStorageClass,DefaultTolerationSeconds,MutatingAdmissionWebhook,\
             ValidatingAdmissionPolicy,ValidatingAdmissionWebhook"
                .to_owned(),
            // Privileged containers are allowed by the server, so that a
            // refusal comes from Pod Security in the namespace.
            "--allow-privileged=true".to_owned(),
            format!("--audit-policy-file={}", file("audit-policy.yaml")),
            format!("--audit-log-path={}", audit_log.display()),
            "--audit-log-format=json".to_owned(),
            "--audit-log-maxbackup=0".to_owned(),
            "--profiling=false".to_owned(),
            "--v=1".to_owned(),
        ];
        let apiserver = Process::new(
            &format!("{name}-kube-apiserver"),
            bin.join("kube-apiserver"),
            args,
            run,
        );
        Zone {
            name: name.to_owned(),
            url,
            kontor_kubeconfig: dir.join("kontor.kubeconfig"),
            admin_kubeconfig,
            audit_log,
            dir,
            ca,
            apiserver,
            others: Vec::new(),
        }
    }

    fn start_controllers(&mut self, bin: &Path, with_node: bool) {
        let kubeconfig = format!("--kubeconfig={}", self.admin_kubeconfig.display());
        let run = self.ca.parent().expect("run directory").to_owned();
        let mut processes = vec![Process::new(
            &format!("{}-kube-controller-manager", self.name),
            bin.join("kube-controller-manager"),
            vec![
                kubeconfig.clone(),
                "--bind-address=127.0.0.1".to_owned(),
                "--secure-port=0".to_owned(),
                "--leader-elect=false".to_owned(),
                "--use-service-account-credentials=true".to_owned(),
                format!(
                    "--service-account-private-key-file={}",
                    run.join("sa.key").display()
                ),
                format!("--root-ca-file={}", self.ca.display()),
                "--controllers=namespace,resourcequota,serviceaccount,serviceaccount-token,\
                 deployment,replicaset,clusterrole-aggregation,root-ca-cert-publisher"
                    .to_owned(),
                "--v=1".to_owned(),
            ],
            &run,
        )];
        if with_node {
            processes.push(Process::new(
                &format!("{}-kube-scheduler", self.name),
                bin.join("kube-scheduler"),
                vec![
                    kubeconfig.clone(),
                    "--bind-address=127.0.0.1".to_owned(),
                    "--secure-port=0".to_owned(),
                    "--leader-elect=false".to_owned(),
                    "--v=1".to_owned(),
                ],
                &run,
            ));
            processes.push(Process::new(
                &format!("{}-kwok", self.name),
                bin.join("kwok"),
                vec![
                    kubeconfig,
                    format!("--config={}", bin.join("kwok-stages.yaml").display()),
                    "--manage-all-nodes=false".to_owned(),
                    "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake".to_owned(),
                    "--node-lease-duration-seconds=40".to_owned(),
                ],
                &run,
            ));
        }
        for p in &processes {
            p.start();
        }
        self.others = processes;
    }

    /// A client with the admin's rights, for the test's own checks; made in
    /// the caller's runtime.
    pub async fn admin(&self) -> Client {
        client_for(&self.admin_kubeconfig).await
    }

    async fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(180);
        let client = self.admin().await;
        loop {
            self.apiserver.assert_running();
            let request = http::Request::get("/readyz")
                .body(Vec::new())
                .expect("request");
            if client.request_text(request).await.is_ok_and(|t| t == "ok") {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not become ready:\n{}",
                self.apiserver.name,
                tail(&self.apiserver.log)
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Applies `deploy/kubernetes/target-cluster/` as shipped (the files its
    /// kustomization lists) and writes Kontor's kubeconfig with a token of
    /// the ServiceAccount.
    async fn install_kontor(&self) {
        let admin = self.admin().await;
        let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/kubernetes/target-cluster");
        let kustomization: Value = serde_saphyr::from_str(
            &std::fs::read_to_string(base.join("kustomization.yaml")).expect("kustomization"),
        )
        .expect("kustomization.yaml parses");
        for file in kustomization["resources"].as_array().expect("resources") {
            let path = base.join(file.as_str().expect("a file name"));
            let text = std::fs::read_to_string(&path).expect("manifest");
            let documents: Vec<Value> =
                serde_saphyr::from_multiple(&text).expect("the manifest parses");
            for document in documents.into_iter().filter(|d| !d.is_null()) {
                apply_as_admin(&admin, &document).await;
            }
        }
        write_token_kubeconfig(self, &admin, "kontor", "kontor", &self.kontor_kubeconfig).await;
    }

    /// A kubeconfig with a fresh token of ServiceAccount `namespace/name`.
    pub async fn kubeconfig_for_service_account(&self, namespace: &str, name: &str) -> PathBuf {
        let path = self.dir.join(format!("{namespace}-{name}.kubeconfig"));
        write_token_kubeconfig(self, &self.admin().await, namespace, name, &path).await;
        path
    }

    async fn add_kwok_node(&self) {
        let admin = self.admin().await;
        let node: Node = serde_json::from_value(json!({
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": "kwok-node-0",
                "annotations": {"kwok.x-k8s.io/node": "fake"},
                "labels": {"type": "kwok", "kubernetes.io/hostname": "kwok-node-0"}
            },
            "status": {
                "allocatable": {"cpu": "64", "memory": "256Gi", "pods": "500"},
                "capacity": {"cpu": "64", "memory": "256Gi", "pods": "500"}
            }
        }))
        .expect("node");
        let nodes = Api::<Node>::all(admin);
        nodes
            .patch(
                "kwok-node-0",
                &PatchParams::apply(ADMIN_MANAGER).force(),
                &Patch::Apply(&node),
            )
            .await
            .expect("the kwok node is created");
        // The API server taints a new node not-ready; the node lifecycle
        // controller (not run here: kwok keeps the node alive) would lift
        // the taint once kwok reports the node Ready. Lift it at once.
        nodes
            .patch(
                "kwok-node-0",
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {"taints": null}})),
            )
            .await
            .expect("the kwok node is untainted");
    }

    /// Stops the API server (SIGKILL); etcd keeps the state.
    pub fn stop(&self) {
        self.apiserver.stop();
    }

    /// Starts the stopped API server again on the same port and waits until
    /// it is ready.
    pub async fn start(&self) {
        self.apiserver.start();
        self.wait_ready().await;
    }

    /// Freezes the API server (SIGSTOP): connections stay open and
    /// nothing answers.
    pub fn freeze(&self) {
        self.apiserver.signal(libc::SIGSTOP);
    }

    pub fn thaw(&self) {
        self.apiserver.signal(libc::SIGCONT);
    }

    /// The audit log's length now: pass it to [`Zone::audit_since`].
    pub fn audit_mark(&self) -> u64 {
        std::fs::metadata(&self.audit_log).map_or(0, |m| m.len())
    }

    /// Audit events (Kontor's requests) written after `mark`.
    pub fn audit_since(&self, mark: u64) -> Vec<Value> {
        let Ok(mut file) = std::fs::File::open(&self.audit_log) else {
            return Vec::new();
        };
        file.seek(std::io::SeekFrom::Start(mark)).expect("seek");
        std::io::BufReader::new(file)
            .lines()
            .map_while(Result::ok)
            .filter_map(|line| serde_json::from_str(&line).ok())
            .collect()
    }
}

/// Whether an audit event is a write (anything but get, list, watch).
pub fn is_write(event: &Value) -> bool {
    !matches!(event["verb"].as_str(), Some("get" | "list" | "watch"))
}

/// Whether an audit event concerns one of `namespaces` (an object in it,
/// or the namespace itself).
pub fn concerns(event: &Value, namespaces: &[String]) -> bool {
    let object = &event["objectRef"];
    let within = object["namespace"]
        .as_str()
        .is_some_and(|ns| namespaces.iter().any(|n| n == ns));
    let itself = object["resource"] == "namespaces"
        && object["name"]
            .as_str()
            .is_some_and(|ns| namespaces.iter().any(|n| n == ns));
    within || itself
}

impl Drop for Zone {
    fn drop(&mut self) {
        for p in &self.others {
            p.stop();
        }
        self.apiserver.stop();
    }
}

pub async fn client_for(kubeconfig: &Path) -> Client {
    let config = Kubeconfig::read_from(kubeconfig)
        .unwrap_or_else(|e| panic!("kubeconfig {}: {e}", kubeconfig.display()));
    let config = Config::from_custom_kubeconfig(config, &KubeConfigOptions::default())
        .await
        .expect("kubeconfig usable");
    Client::try_from(config).expect("client")
}

/// Server-side apply of one manifest (any kind) with the admin client.
pub async fn apply_as_admin(admin: &Client, document: &Value) {
    let (group, version) = match document["apiVersion"].as_str().expect("apiVersion") {
        gv if gv.contains('/') => gv.split_once('/').expect("group/version"),
        v => ("", v),
    };
    let gvk = GroupVersionKind::gvk(group, version, document["kind"].as_str().expect("kind"));
    let (resource, caps): (ApiResource, _) = kube::discovery::pinned_kind(admin, &gvk)
        .await
        .unwrap_or_else(|e| panic!("discover {gvk:?}: {e}"));
    let name = document["metadata"]["name"].as_str().expect("name");
    let api: Api<DynamicObject> = match document["metadata"]["namespace"].as_str() {
        Some(ns) if caps.scope == kube::discovery::Scope::Namespaced => {
            Api::namespaced_with(admin.clone(), ns, &resource)
        }
        _ => Api::all_with(admin.clone(), &resource),
    };
    api.patch(
        name,
        &PatchParams::apply(ADMIN_MANAGER).force(),
        &Patch::Apply(document),
    )
    .await
    .unwrap_or_else(|e| panic!("apply {gvk:?} {name}: {e}"));
}

async fn write_token_kubeconfig(
    zone: &Zone,
    admin: &Client,
    namespace: &str,
    name: &str,
    path: &Path,
) {
    let request = TokenRequest {
        spec: TokenRequestSpec {
            audiences: vec![],
            expiration_seconds: Some(24 * 3600),
            bound_object_ref: None,
        },
        ..TokenRequest::default()
    };
    let token = Api::<ServiceAccount>::namespaced(admin.clone(), namespace)
        .create_token_request(name, &PostParams::default(), &request)
        .await
        .unwrap_or_else(|e| panic!("a token for {namespace}/{name}: {e}"))
        .status
        .expect("the token request's status")
        .token;
    std::fs::write(
        path,
        kubeconfig_yaml(&zone.name, &zone.url, &zone.ca, &json!({ "token": token })),
    )
    .expect("kubeconfig");
}

/// Whether the API server's authorizer lets `user` do `verb` on
/// `resource` (of `group`) — asked with a SubjectAccessReview.
pub async fn allowed(admin: &Client, user: &str, verb: &str, group: &str, resource: &str) -> bool {
    let review = SubjectAccessReview {
        spec: SubjectAccessReviewSpec {
            user: Some(user.to_owned()),
            resource_attributes: Some(ResourceAttributes {
                verb: Some(verb.to_owned()),
                group: Some(group.to_owned()),
                resource: Some(resource.to_owned()),
                namespace: Some("default".to_owned()),
                ..ResourceAttributes::default()
            }),
            ..SubjectAccessReviewSpec::default()
        },
        ..SubjectAccessReview::default()
    };
    Api::<SubjectAccessReview>::all(admin.clone())
        .create(&PostParams::default(), &review)
        .await
        .expect("a SubjectAccessReview")
        .status
        .is_some_and(|s| s.allowed)
}
