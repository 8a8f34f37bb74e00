//! A running Kontor per test on a fresh database, its HTTP client, and
//! the same process as a child (`serve_command`) or on fake clusters.

use std::{
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use kontor::{
    config::{ClusterSettings, Settings},
    db::{self, Db},
    startup::Application,
};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::Value;
use sqlx::{Connection as _, Executor as _, postgres::PgConnection};

use super::{expect_json, fake_kube::FakeKube, real_kube::Zone};

/// The PostgreSQL server the suite runs against; the test command
/// guarantees it is there, so an unreachable server fails the tests.
/// The maintenance database of the PostgreSQL server the tests use
/// (`KONTOR_TEST_POSTGRES_URL`, as set by scripts/test.sh).
pub fn postgres_admin_url() -> String {
    std::env::var("KONTOR_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// The URL of database `name` on the same server.
pub fn postgres_url_for(name: &str) -> String {
    let mut url =
        url::Url::parse(&postgres_admin_url()).expect("KONTOR_TEST_POSTGRES_URL is a URL");
    url.set_path(name);
    url.to_string()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Removes the test's database when the last handle to the app goes away,
/// also when the test panicked.
struct Cleanup {
    sqlite_dir: Option<PathBuf>,
    postgres_db: Option<String>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Some(dir) = &self.sqlite_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
        if let Some(name) = self.postgres_db.take() {
            // Drop runs inside the test's runtime, which cannot be blocked
            // on; a short-lived thread with its own runtime does the work.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime for cleanup");
                rt.block_on(async move {
                    if let Ok(mut conn) = PgConnection::connect(&postgres_admin_url()).await {
                        let _ = conn
                            .execute(sqlx::AssertSqlSafe(format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            )))
                            .await;
                        let _ = conn.close().await;
                    }
                });
            })
            .join();
        }
    }
}

/// A running Kontor with the demo data, and a client for it. Cheap to clone
/// (for concurrent requests); the database goes with the last clone.
#[derive(Clone)]
pub struct TestApp {
    pub address: String,
    /// Where its `/metrics` is served (a listener of its own).
    pub metrics_address: String,
    pub client: reqwest::Client,
    db: Db,
    /// What the app was started with (database URL, data directory), for
    /// starting a second process on the same database.
    pub settings: Settings,
    _cleanup: Arc<Cleanup>,
}

static FIXTURE_COUNTER: AtomicU64 = AtomicU64::new(1);

pub fn unique() -> String {
    let n = FIXTURE_COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{n}{}", &uuid::Uuid::new_v4().simple().to_string()[..6])
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        TestApp::spawn_with(backend, true).await
    }

    /// A running Kontor, with or without the demo data.
    pub async fn spawn_with(backend: Backend, seed_demo: bool) -> TestApp {
        TestApp::spawn_configured(backend, seed_demo, |_| {}).await
    }

    /// A running Kontor whose settings `configure` adjusts first (clusters,
    /// reconciler intervals, …).
    pub async fn spawn_configured(
        backend: Backend,
        seed_demo: bool,
        configure: impl FnOnce(&mut Settings),
    ) -> TestApp {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let (database_url, cleanup, data_dir) = match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(format!("kontor_test_{id}"));
                std::fs::create_dir_all(&dir).expect("temporary directory");
                let url = format!("sqlite://{}?mode=rwc", dir.join("kontor.db").display());
                let cleanup = Cleanup {
                    sqlite_dir: Some(dir.clone()),
                    postgres_db: None,
                };
                (url, cleanup, dir)
            }
            Backend::Postgres => {
                let name = format!("kontor_test_{id}");
                let mut admin = PgConnection::connect(&postgres_admin_url())
                    .await
                    .unwrap_or_else(|e| {
                        panic!(
                            "PostgreSQL must be reachable at {}: {e}",
                            postgres_admin_url()
                        )
                    });
                admin
                    .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .await
                    .expect("create the test database");
                admin.close().await.expect("close the admin connection");
                let dir = std::env::temp_dir().join(format!("kontor_test_{id}"));
                let cleanup = Cleanup {
                    sqlite_dir: Some(dir.clone()),
                    postgres_db: Some(name.clone()),
                };
                (postgres_url_for(&name), cleanup, dir)
            }
        };
        let mut settings = Settings {
            listen: "127.0.0.1:0".parse().unwrap(),
            metrics_listen: "127.0.0.1:0".into(),
            data_dir,
            database_url: Some(database_url),
            database_max_connections: 10,
            seed_demo,
            // Tests close months themselves, at the moment they choose.
            billing_close_every_minutes: 0,
            // … and verify the Revision's chain themselves.
            audit_verify_every_minutes: 0,
            // Tests that want a resync or samples call them directly.
            resync_every_seconds: 0,
            metering_every_seconds: 0,
            // Retries within a test's patience.
            retry_base_ms: 50,
            retry_max_ms: 1000,
            reconcile_poll_ms: 100,
            // Tests that want the budget watch call it directly.
            budget_watch_every_seconds: 0,
            notify_retry_base_ms: 50,
            notify_retry_max_ms: 1000,
            notify_poll_ms: 100,
            ..Settings::default()
        };
        configure(&mut settings);
        let application = Application::build(settings.clone())
            .await
            .expect("the application builds against a fresh database");
        let port = application.port();
        let metrics_port = application.metrics_port().expect("a metrics listener");
        let db = application.db();
        tokio::spawn(application.run_until_stopped());
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let app = TestApp {
            address: format!("http://127.0.0.1:{port}"),
            metrics_address: format!("http://127.0.0.1:{metrics_port}"),
            client,
            db,
            settings,
            _cleanup: Arc::new(cleanup),
        };
        // Every test starts from a provisioned demo (bookings `aktiv`).
        app.settle().await;
        app
    }

    /// A second Kontor process (in this test process) on the same database
    /// and data directory, as a second replica would be; `configure`
    /// adjusts its settings. Shares this app's cleanup.
    pub async fn sibling(&self, configure: impl FnOnce(&mut Settings)) -> TestApp {
        let mut settings = Settings {
            seed_demo: false,
            ..self.settings.clone()
        };
        configure(&mut settings);
        let application = Application::build(settings.clone())
            .await
            .expect("a second process builds against the same database");
        let port = application.port();
        let metrics_port = application.metrics_port().expect("a metrics listener");
        let db = application.db();
        tokio::spawn(application.run_until_stopped());
        TestApp {
            address: format!("http://127.0.0.1:{port}"),
            metrics_address: format!("http://127.0.0.1:{metrics_port}"),
            client: self.client.clone(),
            db,
            settings,
            _cleanup: self._cleanup.clone(),
        }
    }

    /// Waits until the reconciler has worked off the outbox: every booking
    /// change made so far is in the manifest directory (or cluster).
    pub async fn settle(&self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let depth = db::outbox::depth(&self.db.pool)
                .await
                .expect("outbox depth");
            if depth.pending == 0 {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the reconciler did not settle: {depth:?}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    // ----- HTTP -----------------------------------------------------------

    /// A request to `path` (e.g. `/api/v1/bookings`) without credentials.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.address))
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.request(Method::GET, path)
            .bearer_auth(token)
            .send()
            .await
            .expect("GET")
    }

    pub async fn post_json(&self, path: &str, token: &str, body: &Value) -> Response {
        self.request(Method::POST, path)
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("POST")
    }

    /// A POST without a body (cancel).
    pub async fn post(&self, path: &str, token: &str) -> Response {
        self.request(Method::POST, path)
            .bearer_auth(token)
            .send()
            .await
            .expect("POST")
    }

    pub async fn book(
        &self,
        token: &str,
        application_id: i64,
        stage: &str,
        product: &str,
        size: &str,
    ) -> Response {
        self.post_json(
            "/api/v1/bookings",
            token,
            &serde_json::json!({
                "application_id": application_id, "stage": stage, "product": product, "size": size,
            }),
        )
        .await
    }

    /// Books and insists on 201; returns the booking.
    pub async fn book_ok(
        &self,
        token: &str,
        application_id: i64,
        stage: &str,
        product: &str,
        size: &str,
    ) -> Value {
        let resp = self.book(token, application_id, stage, product, size).await;
        expect_json(resp, StatusCode::CREATED).await
    }

    pub async fn resize(&self, token: &str, booking_id: i64, size: &str) -> Response {
        self.post_json(
            &format!("/api/v1/bookings/{booking_id}/resize"),
            token,
            &serde_json::json!({ "size": size }),
        )
        .await
    }

    pub async fn cancel(&self, token: &str, booking_id: i64) -> Response {
        self.post(&format!("/api/v1/bookings/{booking_id}/cancel"), token)
            .await
    }
}

/// `kontor serve` as a process of its own on `settings`' database and data
/// directory, with only what is set here (and what the caller adds): no
/// KONTOR_* of the test's environment, no kontor.toml from the working
/// directory, no demo seed, and the scheduled jobs off.
pub fn serve_command(settings: &Settings) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_kontor"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("KONTOR_") {
            command.env_remove(key);
        }
    }
    command
        .arg("serve")
        .current_dir(&settings.data_dir)
        .env("KONTOR_DATABASE_URL", settings.database_url())
        .env("KONTOR_DATA_DIR", &settings.data_dir)
        .env("KONTOR_SEED_DEMO", "false")
        .env("KONTOR_RECONCILE_POLL_MS", "50")
        .env("KONTOR_RESYNC_EVERY_SECONDS", "0")
        .env("KONTOR_METERING_EVERY_SECONDS", "0")
        .env("KONTOR_BILLING_CLOSE_EVERY_MINUTES", "0")
        .env("KONTOR_BUDGET_WATCH_EVERY_SECONDS", "0")
        // Several processes at once: each its own metrics port.
        .env("KONTOR_METRICS_LISTEN", "127.0.0.1:0")
        .env("KONTOR_AUDIT_VERIFY_EVERY_MINUTES", "0")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null());
    command
}

/// The CSRF token in a page's forms (the hidden field `csrf`).
pub fn csrf_in(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("no CSRF field in page:\n{html}"))
        + marker.len();
    let end = start + html[start..].find('"').expect("end of CSRF value");
    html[start..end].to_owned()
}

// ----- fake clusters and waiting ------------------------------------------

pub const ALL_STAGES: [&str; 4] = ["vorpruefung", "abnahme", "schulung", "produktion"];

/// A fake cluster as Kontor is to know it: its name, the fake, and the
/// stages it serves.
pub type ClusterSpec<'a> = (&'a str, &'a FakeKube, &'a [&'a str]);

/// A Kontor without demo data (but with the catalogue, so tenants can book)
/// whose stages are provisioned in the given fake clusters; `configure`
/// adjusts the remaining settings. The kubeconfigs go into the data
/// directory, which the test's cleanup removes.
pub async fn spawn_on(
    backend: Backend,
    clusters: &[ClusterSpec<'_>],
    configure: impl FnOnce(&mut Settings),
) -> TestApp {
    let app = TestApp::spawn_configured(backend, false, |settings| {
        std::fs::create_dir_all(&settings.data_dir).expect("data directory");
        for (name, fake, stages) in clusters {
            let path = settings.data_dir.join(format!("kubeconfig-{name}.yaml"));
            fake.write_kubeconfig(&path, name);
            settings.clusters.insert(
                (*name).to_owned(),
                ClusterSettings {
                    kubeconfig: Some(path),
                    context: None,
                    in_cluster: false,
                },
            );
            for stage in *stages {
                settings
                    .stages
                    .insert((*stage).to_owned(), (*name).to_owned());
            }
        }
        configure(settings);
    })
    .await;
    kontor::seed::catalogue(app.db(), 0)
        .await
        .expect("the catalogue goes into an empty database");
    app
}

/// A Kontor whose every stage is provisioned in `fake`, as cluster `fake`.
pub async fn spawn_on_fake(backend: Backend, fake: &FakeKube) -> TestApp {
    spawn_on(backend, &[("fake", fake, &ALL_STAGES)], |_| {}).await
}

/// Polls `probe` until it gives a value; fails after 30 s saying what it
/// waited for.
pub async fn until<T>(what: &str, probe: impl AsyncFnMut() -> Option<T>) -> T {
    until_within(Duration::from_secs(30), what, probe).await
}

/// Like [`until`], with another patience.
pub async fn until_within<T>(
    patience: Duration,
    what: &str,
    mut probe: impl AsyncFnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + patience;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(Instant::now() < deadline, "gave up waiting: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

// ----- the real control plane -------------------------------------------

/// A Kontor without demo data (but with the catalogue) whose stages are
/// provisioned in the given zones of the real control plane, as Kontor's
/// ServiceAccount; `configure` adjusts the rest.
pub async fn spawn_on_zones(
    backend: Backend,
    zones: &[(&Zone, &[&str])],
    configure: impl FnOnce(&mut Settings),
) -> TestApp {
    let kubeconfigs: Vec<(String, PathBuf, Vec<String>)> = zones
        .iter()
        .map(|(zone, stages)| {
            (
                zone.name.clone(),
                zone.kontor_kubeconfig.clone(),
                stages.iter().map(|s| (*s).to_owned()).collect(),
            )
        })
        .collect();
    spawn_on_kubeconfigs(backend, &kubeconfigs, configure).await
}

/// Like [`spawn_on_zones`], with kubeconfig files: `(cluster name, file,
/// stages)`.
pub async fn spawn_on_kubeconfigs(
    backend: Backend,
    clusters: &[(String, PathBuf, Vec<String>)],
    configure: impl FnOnce(&mut Settings),
) -> TestApp {
    let app = TestApp::spawn_configured(backend, false, |settings| {
        // A real API server on a busy machine: more patience than the fake.
        settings.kube_timeout_seconds = 30;
        for (name, kubeconfig, stages) in clusters {
            settings.clusters.insert(
                name.clone(),
                ClusterSettings {
                    kubeconfig: Some(kubeconfig.clone()),
                    context: None,
                    in_cluster: false,
                },
            );
            for stage in stages {
                settings.stages.insert(stage.clone(), name.clone());
            }
        }
        configure(settings);
    })
    .await;
    kontor::seed::catalogue(app.db(), 0)
        .await
        .expect("the catalogue goes into an empty database");
    app
}
