//! Provisioning benchmark (see docs/benchmarks.md, "Provisioning").
//!
//! In one run, twice: against the fake Kubernetes API server of the tests,
//! with a fixed latency added to every call (default 2 ms, like a cluster in
//! the same data centre), and against the real control plane of the tests
//! (kube-apiserver, etcd and controllers built from Go modules by
//! `scripts/kube-binaries.sh`; `BENCH_REAL=0` leaves it out), with Kontor as
//! its least-privilege ServiceAccount. On PostgreSQL (or SQLite with
//! `BENCH_DB=sqlite`), a fresh database for each:
//!
//! 1. `kontor seed bench` data (500 applications → 2,000 environments, all
//!    set up), the portal running with its reconciler, every stage on the
//!    cluster, which starts empty. The real API server's calls are counted
//!    from its audit log (Kontor's ServiceAccount only).
//! 2. A full resync from the empty cluster: wall time until every
//!    environment is applied, and the API calls it took.
//! 3. A second resync with nothing to change: its calls (reads only).
//! 4. Bookings through the REST API, one after the other: the time from the
//!    201 answer (the booking is committed) until the fake holds the new
//!    quota, and until the booking reads `aktiv`; p50/p99/max.
//!
//! Run: `cargo bench --bench provisioning` (builds in release mode). Under
//! `cargo test` (no `--bench` argument) it runs in miniature on SQLite — five
//! applications, three bookings, no latency — so that the benchmark keeps
//! working; its figures then mean nothing. Settings
//! (environment): BENCH_DB (postgres|sqlite), BENCH_PG_URL
//! (postgres://postgres@127.0.0.1:5432), BENCH_LATENCY_MS (2),
//! BENCH_APPLICATIONS (500), BENCH_BOOKINGS (200), BENCH_WORKERS (16).

#[path = "../tests/integration/support/fake_kube.rs"]
mod fake_kube;
#[path = "../tests/integration/support/real_kube.rs"]
#[allow(dead_code)]
mod real_kube;

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use fake_kube::FakeKube;
use kontor::{
    config::Settings,
    db::{self, Db},
    domain::environment::namespace_name,
    provisioning::{Provisioner, resync},
    startup::Application,
};
use kube::{Api, Client};
use real_kube::Zone;
use serde_json::{Value, json};
use sqlx::{Connection as _, Executor as _, postgres::PgConnection};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

async fn wait_drained(db: &Db, deadline: Duration) -> Duration {
    let start = Instant::now();
    loop {
        let depth = db::outbox::depth(&db.pool).await.expect("outbox depth");
        if depth.pending == 0 {
            return start.elapsed();
        }
        assert!(start.elapsed() < deadline, "not drained: {depth:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let measuring = std::env::args().any(|a| a == "--bench");
    let (backend, latency, applications, bookings): (String, Duration, usize, usize) = if measuring
    {
        (
            env_or("BENCH_DB", "postgres".to_owned()),
            Duration::from_millis(env_or("BENCH_LATENCY_MS", 2)),
            env_or("BENCH_APPLICATIONS", 500),
            env_or("BENCH_BOOKINGS", 200),
        )
    } else {
        ("sqlite".to_owned(), Duration::ZERO, 5, 3)
    };
    let workers: usize = env_or("BENCH_WORKERS", 16);

    let real = !matches!(std::env::var("BENCH_REAL").as_deref(), Ok("0"));
    let fake = FakeKube::start().await;
    fake.set_latency(latency);
    let figures = Bench {
        backend: backend.clone(),
        applications,
        bookings,
        workers,
    };
    figures.run(Cluster::Fake(fake), latency).await?;
    if real {
        figures
            .run(Cluster::Real(&real_kube::control_plane().zone_a), latency)
            .await?;
    }
    Ok(())
}

/// The cluster the benchmark provisions into.
enum Cluster {
    Fake(FakeKube),
    Real(&'static Zone),
}

impl Cluster {
    fn name(&self) -> &'static str {
        match self {
            Cluster::Fake(_) => "fake",
            Cluster::Real(_) => "real",
        }
    }

    fn kubeconfig(&self, dir: &std::path::Path) -> std::path::PathBuf {
        match self {
            Cluster::Fake(fake) => {
                let path = dir.join("kubeconfig");
                fake.write_kubeconfig(&path, "bench");
                path
            }
            Cluster::Real(zone) => zone.kontor_kubeconfig.clone(),
        }
    }

    /// Starts counting Kontor's calls.
    fn mark(&self) -> u64 {
        match self {
            Cluster::Fake(fake) => {
                fake.reset_counters();
                0
            }
            Cluster::Real(zone) => zone.audit_mark(),
        }
    }

    /// Kontor's calls since `mark`: (all, writes). The audit log is written
    /// as responses complete: it is read once it has been quiet a moment.
    async fn calls(&self, mark: u64) -> (u64, u64) {
        match self {
            Cluster::Fake(fake) => (fake.requests(), fake.writes()),
            Cluster::Real(zone) => {
                let mut last = None;
                loop {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    let events = zone.audit_since(mark);
                    let writes = events.iter().filter(|e| real_kube::is_write(e)).count();
                    let counted = (events.len() as u64, writes as u64);
                    if last == Some(counted) {
                        return counted;
                    }
                    last = Some(counted);
                }
            }
        }
    }

    /// The `requests.cpu` of a namespace's quota, as the cluster has it.
    async fn quota_cpu(&self, admin: Option<&Client>, namespace: &str) -> Option<String> {
        match self {
            Cluster::Fake(fake) => fake
                .get("resourcequotas", Some(namespace), "kontor")
                .and_then(|q| {
                    q["spec"]["hard"]["requests.cpu"]
                        .as_str()
                        .map(str::to_owned)
                }),
            Cluster::Real(_) => {
                let quotas: Api<k8s_openapi::api::core::v1::ResourceQuota> =
                    Api::namespaced(admin?.clone(), namespace);
                let quota = quotas.get_opt("kontor").await.ok()??;
                quota.spec?.hard?.get("requests.cpu").map(|q| q.0.clone())
            }
        }
    }
}

struct Bench {
    backend: String,
    applications: usize,
    bookings: usize,
    workers: usize,
}

impl Bench {
    async fn run(&self, cluster: Cluster, latency: Duration) -> anyhow::Result<()> {
        let (backend, applications, bookings, workers) = (
            self.backend.clone(),
            self.applications,
            self.bookings,
            self.workers,
        );
        let which = cluster.name();
        let dir =
            std::env::temp_dir().join(format!("kontor-bench-prov-{which}-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let database_url = if backend == "sqlite" {
            format!("sqlite://{}?mode=rwc", dir.join("kontor.db").display())
        } else {
            let server: String =
                env_or("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432".into());
            let mut admin = PgConnection::connect(&format!("{server}/postgres")).await?;
            admin
                .execute(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS kontor_bench_prov_{which} WITH (FORCE)"
                )))
                .await?;
            admin
                .execute(sqlx::AssertSqlSafe(format!(
                    "CREATE DATABASE kontor_bench_prov_{which}"
                )))
                .await?;
            format!("{server}/kontor_bench_prov_{which}")
        };

        let kubeconfig = cluster.kubeconfig(&dir);
        let admin = match &cluster {
            Cluster::Real(zone) => Some(zone.admin().await),
            Cluster::Fake(_) => None,
        };

        // The dataset first, without a reconciler, so that the cluster starts
        // empty and the resync below is the whole job.
        let db = Db::connect(&database_url, 8).await?;
        db.migrate().await?;
        let summary = kontor::seed::bench::generate(
            &db,
            applications.div_ceil(10),
            applications,
            applications * 6,
        )
        .await?;
        eprintln!("{summary}");
        // Every environment set up (also those without a booking: a quota of
        // zero is still an environment), and room in every contract for the
        // bookings of step 4.
        db.pool
            .execute("UPDATE environments SET lifecycle = 'aktiv'")
            .await?;
        db.pool
            .execute(
                "UPDATE contracts SET max_millicpu = max_millicpu * 10 + 1000000, \
             max_memory_mib = max_memory_mib * 10 + 10000000, \
             max_storage_gib = max_storage_gib * 10 + 1000000, \
             monthly_budget_cents = monthly_budget_cents * 10 + 100000000, \
             valid_until = '2099-12-31'",
            )
            .await?;
        let (environments,): (i64,) =
            sqlx::query_as("SELECT CAST(COUNT(*) AS BIGINT) FROM environments")
                .fetch_one(&db.pool)
                .await?;

        let mut settings = Settings {
            listen: "127.0.0.1:0".parse()?,
            // Nothing scrapes the metrics of a benchmark portal.
            metrics_listen: "off".into(),
            data_dir: dir.clone(),
            database_url: Some(database_url.clone()),
            database_max_connections: 16,
            seed_demo: false,
            billing_close_every_minutes: 0,
            kubeconfig: Some(kubeconfig),
            reconcile_workers: workers,
            resync_every_seconds: 0,
            metering_every_seconds: 0,
            log: "warn".into(),
            ..Settings::default()
        };
        if matches!(cluster, Cluster::Real(_)) {
            // A real API server on two shared cores: more patience, and no
            // API rate limit in the way of the booking loop.
            settings.kube_timeout_seconds = 60;
            settings.rate_limit_api_per_minute = 0;
        }
        let provisioner = Provisioner::from_settings(&settings).await?;
        let app = Application::build(settings).await?;
        let base = format!("http://127.0.0.1:{}", app.port());
        let app_db = app.db();
        tokio::spawn(app.run_until_stopped());

        // 2. Full resync from an empty cluster.
        let mark = cluster.mark();
        let started = Instant::now();
        let report = resync::resync(&app_db, &provisioner).await?;
        let found = started.elapsed();
        wait_drained(&app_db, Duration::from_secs(1800)).await;
        let full = started.elapsed();
        let (full_requests, full_writes) = cluster.calls(mark).await;

        // 3. Nothing to change.
        let mark = cluster.mark();
        let started = Instant::now();
        let noop = resync::resync(&app_db, &provisioner).await?;
        let noop_time = started.elapsed();
        let (noop_requests, noop_writes) = cluster.calls(mark).await;
        assert!(noop.drifted.is_empty(), "{noop:?}");
        assert_eq!(noop_writes, 0, "the idle resync writes nothing");

        // 4. Bookings, one after the other.
        let token = kontor::cli::create_token(&app_db, "bench-sp-1", None, "bench").await?;
        let client = reqwest::Client::new();
        let page: Value = client
            .get(format!("{base}/api/v1/applications?limit=200"))
            .bearer_auth(&token)
            .send()
            .await?
            .json()
            .await?;
        let apps: Vec<Value> = serde_json::from_value(page["items"].clone())?;
        let slugs: HashMap<i64, String> = sqlx::query_as::<_, (i64, String)>(
            "SELECT a.id, c.slug FROM applications a JOIN customers c ON c.id = a.customer_id",
        )
        .fetch_all(&app_db.pool)
        .await?
        .into_iter()
        .collect();
        let stages = ["vorpruefung", "abnahme", "schulung", "produktion"];
        let mut to_quota = Vec::with_capacity(bookings);
        let mut to_active = Vec::with_capacity(bookings);
        for i in 0..bookings {
            let app = &apps[i % apps.len()];
            let app_id = app["id"].as_i64().expect("application id");
            let stage = stages[(i / apps.len()) % stages.len()];
            let resp = client
                .post(format!("{base}/api/v1/bookings"))
                .bearer_auth(&token)
                .json(&json!({"application_id": app_id, "stage": stage,
                "product": "container-namespace", "size": "S"}))
                .send()
                .await?;
            let accepted = Instant::now();
            anyhow::ensure!(
                resp.status() == 201,
                "booking refused: {}",
                resp.text().await?
            );
            let booking: Value = resp.json().await?;
            let environment_id = booking["environment_id"].as_i64().expect("environment");
            let expected = db::environments::spec(&app_db.pool, environment_id)
                .await?
                .expect("environment")
                .booked
                .millicpu;
            let namespace = namespace_name(
                &slugs[&app_id],
                app["slug"].as_str().expect("slug"),
                stage.parse().expect("stage"),
            );
            let want = kontor::domain::quantity::cpu(expected);
            loop {
                let applied = cluster.quota_cpu(admin.as_ref(), &namespace).await;
                if applied.as_deref() == Some(want.as_str()) {
                    to_quota.push(accepted.elapsed());
                    break;
                }
                anyhow::ensure!(
                    accepted.elapsed() < Duration::from_secs(30),
                    "quota never applied"
                );
                tokio::time::sleep(Duration::from_micros(200)).await;
            }
            let id = booking["id"].as_i64().expect("id");
            loop {
                let (state,): (String,) =
                    sqlx::query_as("SELECT state FROM bookings WHERE id = $1")
                        .bind(id)
                        .fetch_one(&app_db.pool)
                        .await?;
                if state == "aktiv" {
                    to_active.push(accepted.elapsed());
                    break;
                }
                tokio::time::sleep(Duration::from_micros(200)).await;
            }
        }
        to_quota.sort();
        to_active.sort();

        match &cluster {
            Cluster::Fake(_) => println!(
                "## Provisioning ({backend}, fake API server with {} per call)\n",
                ms(latency)
            ),
            Cluster::Real(_) => println!(
                "## Provisioning ({backend}, real API server: {})\n",
                real_kube::control_plane().versions
            ),
        }
        println!("| measurement | figure |\n| --- | --- |");
        println!(
            "| environments | {environments} ({} checked by the resync) |",
            report.checked
        );
        println!(
            "| full resync from an empty cluster: drift found | {} |",
            ms(found)
        );
        println!(
            "| full resync from an empty cluster: all applied ({workers} workers) | {:.2} s |",
            full.as_secs_f64()
        );
        println!("| … API calls | {full_requests} ({full_writes} writes) |");
        println!("| resync with nothing to change | {} |", ms(noop_time));
        println!("| … API calls | {noop_requests} ({noop_writes} writes) |");
        for (label, sorted) in [
            ("booking accepted → quota in the cluster", &to_quota),
            ("booking accepted → booking `aktiv`", &to_active),
        ] {
            println!(
                "| {label} ({} bookings): p50 / p99 / max | {} / {} / {} |",
                sorted.len(),
                ms(percentile(sorted, 0.5)),
                ms(percentile(sorted, 0.99)),
                ms(*sorted.last().expect("measured"))
            );
        }
        println!();
        std::fs::remove_dir_all(&dir).ok();
        Ok(())
    }
}
