//! The test harness: one running Kontor per test, each with its own fresh
//! database (a SQLite file in a temporary directory, or a PostgreSQL
//! database created for the test and dropped afterwards), plus HTTP helpers,
//! fixture builders and problem+json assertions.

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
    db::{self, Db, applications, contracts, customers, seed, users},
    domain::Role,
    startup::Application,
};
use reqwest::{Method, RequestBuilder, Response, StatusCode, header};
use serde_json::Value;
use sqlx::{Connection as _, Executor as _, postgres::PgConnection};

use crate::fake_kube::FakeKube;

/// The PostgreSQL server the suite runs against; the test command
/// guarantees it is there, so an unreachable server fails the tests.
/// The maintenance database of the PostgreSQL server the tests use
/// (`KONTOR_TEST_POSTGRES_URL`, as set by scripts/test.sh).
pub fn postgres_admin_url() -> String {
    std::env::var("KONTOR_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// The URL of database `name` on the same server.
fn postgres_url_for(name: &str) -> String {
    let mut url =
        url::Url::parse(&postgres_admin_url()).expect("KONTOR_TEST_POSTGRES_URL is a URL");
    url.set_path(name);
    url.to_string()
}

/// Runs each test, written once as `async fn name(app: TestApp)`, on both
/// databases:
///
/// ```ignore
/// api_tests! {
///     a_sentence_saying_what_holds,
/// }
///
/// async fn a_sentence_saying_what_holds(app: TestApp) { … }
/// ```
///
/// expands to a module `a_sentence_saying_what_holds` (modules and functions
/// live in different namespaces) with the tests `sqlite` and `postgres`, so
/// `cargo test --test api postgres` runs one backend and
/// `cargo test --test api kontingent` one topic. A test function left out of
/// the list is dead code, which `clippy -D warnings` reports.
#[macro_export]
macro_rules! api_tests {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread")]
                async fn sqlite() {
                    super::$name($crate::helpers::TestApp::spawn($crate::helpers::Backend::Sqlite).await).await;
                }

                #[tokio::test(flavor = "multi_thread")]
                async fn postgres() {
                    super::$name($crate::helpers::TestApp::spawn($crate::helpers::Backend::Postgres).await).await;
                }
            }
        )*
    };
}

/// Like `api_tests!`, for tests that start their Kontor themselves (with
/// fake clusters or other settings): `async fn name(backend: Backend)` runs
/// on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! cluster_tests {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread")]
                async fn sqlite() {
                    super::$name($crate::helpers::Backend::Sqlite).await;
                }

                #[tokio::test(flavor = "multi_thread")]
                async fn postgres() {
                    super::$name($crate::helpers::Backend::Postgres).await;
                }
            }
        )*
    };
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
    pub client: reqwest::Client,
    db: Db,
    /// What the app was started with (database URL, data directory), for
    /// starting a second process on the same database.
    pub settings: Settings,
    _cleanup: Arc<Cleanup>,
}

static FIXTURE_COUNTER: AtomicU64 = AtomicU64::new(1);

fn unique() -> String {
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
            data_dir,
            database_url: Some(database_url),
            database_max_connections: 10,
            seed_demo,
            // Tests close months themselves, at the moment they choose.
            billing_close_every_minutes: 0,
            // Tests that want a resync or samples call them directly.
            resync_every_seconds: 0,
            metering_every_seconds: 0,
            // Retries within a test's patience.
            retry_base_ms: 50,
            retry_max_ms: 1000,
            reconcile_poll_ms: 100,
            ..Settings::default()
        };
        configure(&mut settings);
        let application = Application::build(settings.clone())
            .await
            .expect("the application builds against a fresh database");
        let port = application.port();
        let db = application.db();
        tokio::spawn(application.run_until_stopped());
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let app = TestApp {
            address: format!("http://127.0.0.1:{port}"),
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
        let db = application.db();
        tokio::spawn(application.run_until_stopped());
        TestApp {
            address: format!("http://127.0.0.1:{port}"),
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

    // ----- identities and fixtures ----------------------------------------

    /// A fresh API token of the user with this login.
    pub async fn token_for(&self, login: &str) -> String {
        kontor::cli::create_token(&self.db, login, None, "test")
            .await
            .unwrap_or_else(|e| panic!("token for {login}: {e}"))
    }

    /// A new customer with a contract that has room for `vcpu` vCPU (and
    /// plenty of everything else), one application, and a Systempfleger:in.
    pub async fn contract_with_room(&self, vcpu: i64) -> Tenant {
        self.tenant(ContractSpec {
            max_vcpu: vcpu,
            ..ContractSpec::default()
        })
        .await
    }

    /// A new customer whose only contract ended last year.
    pub async fn expired_contract(&self) -> Tenant {
        self.tenant(ContractSpec {
            valid_from: "2020-01-01".into(),
            valid_until: "2020-12-31".into(),
            ..ContractSpec::default()
        })
        .await
    }

    pub async fn tenant(&self, spec: ContractSpec) -> Tenant {
        let system = seed::system_user(&self.db).await.expect("system user");
        let tag = unique();
        let slug = format!("kunde{tag}");
        let customer_id = customers::create(
            &self.db,
            &system,
            &customers::CustomerInput {
                slug: slug.clone(),
                name: format!("Testkunde {tag}"),
            },
        )
        .await
        .expect("customer");
        let contract_id = contracts::create(
            &self.db,
            &system,
            &contracts::ContractInput {
                customer_id: customer_id.to_string(),
                number: format!("DLV-T-{tag}"),
                title: "Testvertrag".into(),
                valid_from: spec.valid_from,
                valid_until: spec.valid_until,
                kostenstelle: "4711-1".into(),
                haushaltsstelle: "0610.53100".into(),
                leitweg_id: "04011000-1234512345-06".into(),
                billing_model: "nutzung".into(),
                base_fee: String::new(),
                max_vcpu: spec.max_vcpu.to_string(),
                max_memory_gib: spec.max_memory_gib.to_string(),
                max_storage_gib: spec.max_storage_gib.to_string(),
                monthly_budget: spec.monthly_budget,
            },
        )
        .await
        .expect("contract");
        let application_id = applications::create(
            &self.db,
            &system,
            &applications::ApplicationInput {
                contract_id: contract_id.to_string(),
                slug: "fachverfahren".into(),
                name: "Testverfahren".into(),
            },
        )
        .await
        .expect("application");
        let login = format!("sp-{slug}");
        let mut tx = self.db.begin_write().await.expect("transaction");
        users::create(
            &mut tx,
            &login,
            "Test Pfleger",
            Some(customer_id),
            &[Role::Systempfleger],
            false,
            db::now(),
        )
        .await
        .expect("user");
        tx.commit().await.expect("commit");
        let token = self.token_for(&login).await;
        Tenant {
            customer_id,
            contract_id,
            application_id,
            login,
            token,
        }
    }

    /// Ids of the demo data.
    pub async fn demo(&self) -> Demo {
        Demo {
            musterhausen: self.demo_customer("musterhausen").await,
            lastat: self.demo_customer("lastat").await,
            nordkreis: self.demo_customer("nordkreis").await,
        }
    }

    async fn demo_customer(&self, slug: &str) -> DemoCustomer {
        let pool = &self.db.pool;
        let (id,): (i64,) = sqlx::query_as("SELECT id FROM customers WHERE slug = $1")
            .bind(slug)
            .fetch_one(pool)
            .await
            .expect("demo customer");
        let (contract_id,): (i64,) =
            sqlx::query_as("SELECT MIN(id) FROM contracts WHERE customer_id = $1")
                .bind(id)
                .fetch_one(pool)
                .await
                .expect("demo contract");
        let application_ids: Vec<i64> = sqlx::query_as::<_, (i64,)>(
            "SELECT id FROM applications WHERE customer_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(pool)
        .await
        .expect("demo applications")
        .into_iter()
        .map(|(id,)| id)
        .collect();
        let (booking_id,): (i64,) = sqlx::query_as(
            "SELECT MIN(id) FROM bookings WHERE customer_id = $1 AND state <> 'gekuendigt'",
        )
        .bind(id)
        .fetch_one(pool)
        .await
        .expect("demo booking");
        DemoCustomer {
            id,
            contract_id,
            application_ids,
            booking_id,
        }
    }

    // ----- database state -------------------------------------------------

    /// Rows in the tables a booking call may write.
    pub async fn counts(&self) -> Counts {
        Counts {
            bookings: self
                .count("SELECT CAST(COUNT(*) AS BIGINT) FROM bookings")
                .await,
            periods: self
                .count("SELECT CAST(COUNT(*) AS BIGINT) FROM booking_periods")
                .await,
            // The provisioning layer's reports come whenever it is done;
            // what people did is what a refused request must not add to.
            audit: self
                .count(
                    "SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log \
                     WHERE action NOT IN ('booking.provisioned', 'deployment.succeeded', \
                     'deployment.failed')",
                )
                .await,
            outbox: self
                .count(
                    "SELECT CAST(COALESCE(SUM(generation), 0) AS BIGINT) FROM provisioning_outbox",
                )
                .await,
            idempotency_keys: self
                .count("SELECT CAST(COUNT(*) AS BIGINT) FROM idempotency_keys")
                .await,
        }
    }

    async fn count(&self, sql: &'static str) -> i64 {
        let (n,): (i64,) = sqlx::query_as(sql)
            .fetch_one(&self.db.pool)
            .await
            .expect("count");
        n
    }

    /// Open (not cancelled) bookings under a contract, from the database.
    pub async fn open_bookings(&self, contract_id: i64) -> i64 {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM bookings WHERE contract_id = $1 AND state <> 'gekuendigt'",
        )
        .bind(contract_id)
        .fetch_one(&self.db.pool)
        .await
        .expect("count");
        n
    }

    /// The environment a booking is in.
    pub async fn environment_of(&self, booking_id: i64) -> i64 {
        let (id,): (i64,) = sqlx::query_as("SELECT environment_id FROM bookings WHERE id = $1")
            .bind(booking_id)
            .fetch_one(&self.db.pool)
            .await
            .expect("environment of the booking");
        id
    }

    /// The open (not cancelled) bookings of an environment.
    pub async fn open_bookings_in(&self, environment_id: i64) -> Vec<i64> {
        sqlx::query_as::<_, (i64,)>(
            "SELECT id FROM bookings WHERE environment_id = $1 AND state <> 'gekuendigt' ORDER BY id",
        )
        .bind(environment_id)
        .fetch_all(&self.db.pool)
        .await
        .expect("open bookings")
        .into_iter()
        .map(|(id,)| id)
        .collect()
    }

    /// An environment's namespace name.
    pub async fn namespace_of(&self, environment_id: i64) -> String {
        db::environments::spec(&self.db.pool, environment_id)
            .await
            .expect("environment")
            .expect("it exists")
            .namespace()
    }

    /// Audit actions people took on a booking, oldest first (without the
    /// provisioning layer's reports, which come whenever it is done).
    pub async fn audit_actions(&self, booking_id: i64) -> Vec<String> {
        db::audit::for_object(&self.db.pool, "booking", booking_id)
            .await
            .expect("audit log")
            .into_iter()
            .filter(|row| row.action != "booking.provisioned")
            .map(|row| row.action)
            .collect()
    }

    // ----- billing fixtures -----------------------------------------------

    /// A new user with these roles, of `customer_id` or (with `None`) of the
    /// provider; returns the user's API token.
    pub async fn user_with_roles(&self, customer_id: Option<i64>, roles: &[Role]) -> String {
        self.person(customer_id, roles).await.token
    }

    /// Like [`TestApp::user_with_roles`], also naming the login (what the
    /// audit log shows as the actor, as `Test Nutzer (<login>)`).
    pub async fn person(&self, customer_id: Option<i64>, roles: &[Role]) -> Person {
        let login = format!("nutzer-{}", unique());
        let mut tx = self.db.begin_write().await.expect("transaction");
        users::create(
            &mut tx,
            &login,
            "Test Nutzer",
            customer_id,
            roles,
            false,
            db::now(),
        )
        .await
        .expect("user");
        tx.commit().await.expect("commit");
        let token = self.token_for(&login).await;
        Person { login, token }
    }

    /// A further contract of the tenant's customer with its own application
    /// (`Zweitverfahren`) and its own Kostenstelle, Haushaltsstelle and
    /// Leitweg-ID, valid from `valid_from` to `valid_until`; the tenant's
    /// Systempfleger:in books on it. `billing_model` is `nutzung` or
    /// `gemischt` (then with `base_fee`, a German decimal like `"150,00"`).
    pub async fn second_contract(
        &self,
        of: &Tenant,
        billing_model: &str,
        base_fee: &str,
        (valid_from, valid_until): (&str, &str),
    ) -> Tenant {
        let system = seed::system_user(&self.db).await.expect("system user");
        let contract_id = contracts::create(
            &self.db,
            &system,
            &contracts::ContractInput {
                customer_id: of.customer_id.to_string(),
                number: format!("DLV-Z-{}", unique()),
                title: "Zweitvertrag".into(),
                valid_from: valid_from.into(),
                valid_until: valid_until.into(),
                kostenstelle: "4711-2".into(),
                haushaltsstelle: "0610.53200".into(),
                leitweg_id: "04011000-99999-42".into(),
                billing_model: billing_model.into(),
                base_fee: base_fee.into(),
                max_vcpu: "100".into(),
                max_memory_gib: "10000".into(),
                max_storage_gib: "100000".into(),
                monthly_budget: "100000,00".into(),
            },
        )
        .await
        .expect("second contract");
        let application_id = applications::create(
            &self.db,
            &system,
            &applications::ApplicationInput {
                contract_id: contract_id.to_string(),
                slug: format!("zweit-{}", unique()),
                name: "Zweitverfahren".into(),
            },
        )
        .await
        .expect("application of the second contract");
        Tenant {
            contract_id,
            application_id,
            ..of.clone()
        }
    }
}

/// What the contract of a test tenant allows.
pub struct ContractSpec {
    pub max_vcpu: i64,
    pub max_memory_gib: i64,
    pub max_storage_gib: i64,
    /// German decimal, e.g. `"100000,00"`.
    pub monthly_budget: String,
    pub valid_from: String,
    pub valid_until: String,
}

impl Default for ContractSpec {
    fn default() -> Self {
        ContractSpec {
            max_vcpu: 100,
            max_memory_gib: 10_000,
            max_storage_gib: 100_000,
            monthly_budget: "100000,00".into(),
            valid_from: "2020-01-01".into(),
            valid_until: "2099-12-31".into(),
        }
    }
}

/// A customer made for one test: its contract, one application, and the
/// API token of its Systempfleger:in.
#[derive(Debug, Clone)]
pub struct Tenant {
    pub customer_id: i64,
    pub contract_id: i64,
    pub application_id: i64,
    pub login: String,
    pub token: String,
}

/// A user made for one test: the login and an API token.
#[derive(Debug, Clone)]
pub struct Person {
    pub login: String,
    pub token: String,
}

impl Person {
    /// How the audit log names this person as the actor.
    pub fn actor(&self) -> String {
        format!("Test Nutzer ({})", self.login)
    }
}

#[derive(Debug, Clone)]
pub struct Demo {
    pub musterhausen: DemoCustomer,
    pub lastat: DemoCustomer,
    pub nordkreis: DemoCustomer,
}

#[derive(Debug, Clone)]
pub struct DemoCustomer {
    pub id: i64,
    pub contract_id: i64,
    pub application_ids: Vec<i64>,
    /// The first open booking.
    pub booking_id: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub bookings: i64,
    pub periods: i64,
    pub audit: i64,
    pub idempotency_keys: i64,
    /// The sum of outbox generations: grows with every enqueued change.
    pub outbox: i64,
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

// ----- assertions ---------------------------------------------------------

/// Insists on `status` and a JSON body, and returns the body.
pub async fn expect_json(resp: Response, status: StatusCode) -> Value {
    let actual = resp.status();
    let url = resp.url().path().to_owned();
    let text = resp.text().await.expect("body");
    assert_eq!(actual, status, "{url}: unexpected status; body: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{url}: body is not JSON ({e}): {text}"))
}

/// Insists on a problem+json answer of this status and kind (the last part
/// of `urn:kontor:problem:<kind>`); returns the problem document.
pub async fn assert_problem(resp: Response, status: StatusCode, kind: &str) -> Value {
    let content_type = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let problem = expect_json(resp, status).await;
    assert_eq!(
        content_type, "application/problem+json",
        "problem: {problem}"
    );
    assert_eq!(
        problem["type"],
        format!("urn:kontor:problem:{kind}"),
        "problem: {problem}"
    );
    assert_eq!(problem["status"], status.as_u16(), "problem: {problem}");
    assert!(problem["title"].is_string(), "problem: {problem}");
    assert!(problem["detail"].is_string(), "problem: {problem}");
    problem
}

pub async fn assert_not_found(resp: Response) -> Value {
    assert_problem(resp, StatusCode::NOT_FOUND, "not-found").await
}

pub async fn assert_forbidden(resp: Response) -> Value {
    assert_problem(resp, StatusCode::FORBIDDEN, "forbidden").await
}

/// A 422 that names `field` among its field errors.
pub async fn assert_validation(resp: Response, field: &str) -> Value {
    let problem = assert_problem(resp, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
    let errors = problem["errors"].as_array().expect("errors array");
    assert!(
        errors
            .iter()
            .any(|e| e["field"] == field && e["message"].is_string()),
        "expected a message for {field}: {problem}"
    );
    problem
}

pub async fn assert_unauthorized(resp: Response) -> Value {
    let challenge = resp
        .headers()
        .get(header::WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let problem = assert_problem(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
    assert!(
        challenge.starts_with("Bearer"),
        "401 must carry a Bearer challenge, got {challenge:?}"
    );
    problem
}

/// The id of a JSON object.
pub fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap_or_else(|| panic!("no id in {v}"))
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
    db::seed::catalogue(app.db(), 0)
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
