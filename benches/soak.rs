//! Soak benchmark (see docs/benchmarks.md, "Soak").
//!
//! `kontor serve` as a process of its own on PostgreSQL, with the
//! `kontor seed bench` dataset, every stage on the fake Kubernetes API server
//! of the tests with 2 ms added to every call, and the product's scheduled
//! jobs at their defaults (resync, metering, budget watch, session pruning).
//! A steady, open-loop mixed load for an hour: Übersicht and Buchungen pages
//! of a Systempfleger:in and of the Betreiber, API reads of both, bookings
//! and cancellations that the reconciler carries into the fake cluster, and
//! a Prometheus scrape of the metrics listener every 15 s. Every minute it
//! records the server's resident memory, open file descriptors, threads, its
//! PostgreSQL connections, the outbox, the minute's requests, unexpected
//! answers and latency percentiles, and prints them as a table.
//!
//! It fails (exit code 1) when any answer had an unexpected status, or when
//! descriptors, connections or memory end above what the first minutes of
//! steady load set (see [`Verdict`]): a leak is a failure, not a figure.
//!
//! Run: `cargo bench --bench soak` (release build, then the hour). Under
//! `cargo test` (no `--bench` argument) it runs in miniature on SQLite —
//! a tiny dataset, three "minutes" of one second — so that it keeps working;
//! its figures then mean nothing. Settings (environment): BENCH_SOAK_MINUTES
//! (60), BENCH_SOAK_RATE (requests per second, 40), BENCH_PG_URL
//! (postgres://postgres@127.0.0.1:5432), BENCH_LATENCY_MS (2),
//! BENCH_CUSTOMERS / BENCH_APPLICATIONS / BENCH_BOOKINGS (200 / 2,000 /
//! 20,000), BENCH_RESULTS (bench/results-soak-<date>.md).

#[path = "../tests/integration/support/fake_kube.rs"]
mod fake_kube;

use std::{
    collections::{BTreeMap, VecDeque},
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use fake_kube::FakeKube;
use kontor::db::Db;
use reqwest::{Client, StatusCode, redirect::Policy};
use serde_json::{Value, json};
use sqlx::{Connection as _, Executor as _, postgres::PgConnection};
use tokio::sync::Semaphore;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// What the run is, from the command line and the environment.
struct Plan {
    measuring: bool,
    postgres: bool,
    minutes: usize,
    minute: Duration,
    rate: u32,
    latency: Duration,
    customers: usize,
    applications: usize,
    bookings: usize,
}

impl Plan {
    fn from_env() -> Plan {
        if std::env::args().any(|a| a == "--bench") {
            Plan {
                measuring: true,
                postgres: true,
                minutes: env_or("BENCH_SOAK_MINUTES", 60),
                minute: Duration::from_secs(60),
                rate: env_or("BENCH_SOAK_RATE", 40),
                latency: Duration::from_millis(env_or("BENCH_LATENCY_MS", 2)),
                customers: env_or("BENCH_CUSTOMERS", 200),
                applications: env_or("BENCH_APPLICATIONS", 2000),
                bookings: env_or("BENCH_BOOKINGS", 20000),
            }
        } else {
            Plan {
                measuring: false,
                postgres: false,
                minutes: 3,
                minute: Duration::from_secs(1),
                rate: 20,
                latency: Duration::ZERO,
                customers: 2,
                applications: 10,
                bookings: 30,
            }
        }
    }
}

/// One kind of request of the mix; `Load::pick` cycles through `MIX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Page,
    ApiRead,
    Write,
    Scrape,
}

/// Ten requests of the steady mix: four pages, four API reads, two writes.
const MIX: [Target; 10] = [
    Target::Page("/uebersicht", Who::Tenant),
    Target::Api("/api/v1/bookings", Who::Tenant),
    Target::Page("/uebersicht", Who::Betreiber),
    Target::Api("/api/v1/bookings?limit=50", Who::Betreiber),
    Target::Write,
    Target::Page("/buchungen", Who::Tenant),
    Target::Api("/api/v1/contracts", Who::Tenant),
    Target::Page("/buchungen", Who::Betreiber),
    Target::Api("/api/v1/applications", Who::Tenant),
    Target::Write,
];

#[derive(Debug, Clone, Copy)]
enum Who {
    Tenant,
    Betreiber,
}

#[derive(Debug, Clone, Copy)]
enum Target {
    Page(&'static str, Who),
    Api(&'static str, Who),
    /// A booking, or the cancellation of the oldest open one of the run.
    Write,
}

/// The signed-in clients and what the writes need.
struct Load {
    base: String,
    metrics: String,
    api: Client,
    tenant_token: String,
    betreiber_token: String,
    tenant_pages: Client,
    betreiber_pages: Client,
    applications: Vec<i64>,
    /// Bookings of this run still open, oldest first.
    open: Mutex<VecDeque<i64>>,
    next_application: Mutex<usize>,
    samples: Mutex<Samples>,
}

#[derive(Default)]
struct Samples {
    latencies: BTreeMap<Kind, Vec<Duration>>,
    /// Unexpected answers: "kind status" → count.
    unexpected: BTreeMap<String, u64>,
    /// Requests not sent because 64 were still in flight.
    shed: u64,
}

/// Bookings of the run kept open at once before cancelling the oldest.
const OPEN_BOOKINGS: usize = 8;

impl Load {
    async fn send(&self, target: Target) {
        let started = Instant::now();
        let (kind, outcome) = match target {
            Target::Page(path, who) => {
                let client = match who {
                    Who::Tenant => &self.tenant_pages,
                    Who::Betreiber => &self.betreiber_pages,
                };
                let sent = client.get(format!("{}{path}", self.base)).send().await;
                (Kind::Page, expect(sent, StatusCode::OK).await.map(drop))
            }
            Target::Api(path, who) => {
                let token = match who {
                    Who::Tenant => &self.tenant_token,
                    Who::Betreiber => &self.betreiber_token,
                };
                let sent = self
                    .api
                    .get(format!("{}{path}", self.base))
                    .bearer_auth(token)
                    .send()
                    .await;
                (Kind::ApiRead, expect(sent, StatusCode::OK).await.map(drop))
            }
            Target::Write => (Kind::Write, self.write().await),
        };
        let elapsed = started.elapsed();
        let mut samples = self.samples.lock().unwrap();
        samples.latencies.entry(kind).or_default().push(elapsed);
        if let Err(what) = outcome {
            *samples
                .unexpected
                .entry(format!("{kind:?} {what}"))
                .or_default() += 1;
        }
    }

    async fn write(&self) -> Result<(), String> {
        let oldest = {
            let mut open = self.open.lock().unwrap();
            if open.len() >= OPEN_BOOKINGS {
                open.pop_front()
            } else {
                None
            }
        };
        if let Some(id) = oldest {
            let sent = self
                .api
                .post(format!("{}/api/v1/bookings/{id}/cancel", self.base))
                .bearer_auth(&self.tenant_token)
                .send()
                .await;
            return expect(sent, StatusCode::OK).await.map(drop);
        }
        let application = {
            let mut next = self.next_application.lock().unwrap();
            *next = (*next + 1) % self.applications.len();
            self.applications[*next]
        };
        let sent = self
            .api
            .post(format!("{}/api/v1/bookings", self.base))
            .bearer_auth(&self.tenant_token)
            .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
            .json(
                &json!({"application_id": application, "stage": "vorpruefung",
                          "product": "container-namespace", "size": "S"}),
            )
            .send()
            .await;
        let booking = expect(sent, StatusCode::CREATED).await?;
        let id = booking["id"].as_i64().ok_or("no id")?;
        self.open.lock().unwrap().push_back(id);
        Ok(())
    }

    async fn scrape(&self) {
        let started = Instant::now();
        let sent = self.api.get(&self.metrics).send().await;
        let outcome = match sent {
            Ok(r) if r.status() == StatusCode::OK => match r.text().await {
                Ok(text) if text.contains("kontor_") => Ok(()),
                _ => Err("200 without Kontor's series".to_owned()),
            },
            Ok(r) => Err(r.status().as_u16().to_string()),
            Err(e) => Err(format!("error {e}")),
        };
        let mut samples = self.samples.lock().unwrap();
        samples
            .latencies
            .entry(Kind::Scrape)
            .or_default()
            .push(started.elapsed());
        if let Err(what) = outcome {
            *samples
                .unexpected
                .entry(format!("Scrape {what}"))
                .or_default() += 1;
        }
    }
}

/// The body of an answer with the expected status, or what came instead.
async fn expect(
    sent: reqwest::Result<reqwest::Response>,
    want: StatusCode,
) -> Result<Value, String> {
    let r = sent.map_err(|e| {
        format!(
            "error {}",
            if e.is_timeout() {
                "timeout"
            } else {
                "connection"
            }
        )
    })?;
    let status = r.status();
    if status != want {
        return Err(status.as_u16().to_string());
    }
    let json = r
        .headers()
        .get("content-type")
        .is_some_and(|c| c.as_bytes().starts_with(b"application/json"));
    let body = r.bytes().await.map_err(|_| "body cut".to_owned())?;
    Ok(if json {
        serde_json::from_slice(&body).map_err(|_| "bad JSON".to_owned())?
    } else {
        Value::Null
    })
}

/// One row of the table: the server process and the minute's requests.
struct Minute {
    at: usize,
    rss_kib: u64,
    fds: usize,
    threads: u64,
    db_connections: Option<i64>,
    outbox_pending: i64,
    requests: usize,
    unexpected: u64,
    shed: u64,
    p50: Duration,
    p99: Duration,
    p99_pages: Duration,
    p99_api: Duration,
    p99_writes: Duration,
    load: String,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

/// A `/proc/<pid>/status` field in its own unit (kB for memory).
fn proc_status(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The portal process; killed when dropped, also on a failed run.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

const DATABASE: &str = "kontor_bench_soak";
/// The `application_name` of the benchmark's own connection to the database.
const MONITOR: &str = "kontor-soak-monitor";

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let plan = Plan::from_env();
    // The commit the run measures: read now, not when the hour is over.
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let dir = std::env::temp_dir().join(format!("kontor-bench-soak-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let pg_server: String = env_or("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432".into());
    let database_url = if plan.postgres {
        let mut admin = PgConnection::connect(&format!("{pg_server}/postgres")).await?;
        admin
            .execute(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"
            )))
            .await?;
        admin
            .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {DATABASE}")))
            .await?;
        format!("{pg_server}/{DATABASE}")
    } else {
        format!("sqlite://{}?mode=rwc", dir.join("kontor.db").display())
    };

    // The dataset, with room in every contract for the run's bookings.
    {
        let db = Db::connect(&database_url, 4).await?;
        db.migrate().await?;
        let summary =
            kontor::seed::bench::generate(&db, plan.customers, plan.applications, plan.bookings)
                .await?;
        eprintln!("{summary}");
        db.pool
            .execute(
                "UPDATE contracts SET max_millicpu = max_millicpu + 1000000, \
                 max_memory_mib = max_memory_mib + 10000000, \
                 max_storage_gib = max_storage_gib + 1000000, \
                 monthly_budget_cents = monthly_budget_cents + 100000000, \
                 valid_until = '2099-12-31'",
            )
            .await?;
        db.pool.close().await;
    }

    let fake = FakeKube::start().await;
    fake.set_latency(plan.latency);
    let kubeconfig = dir.join("kubeconfig");
    fake.write_kubeconfig(&kubeconfig, "soak");
    let (port, metrics_port) = (free_port(), free_port());
    let server = start_server(&plan, &dir, &database_url, &kubeconfig, port, metrics_port)?;
    let pid = server.0.id();
    let base = format!("http://127.0.0.1:{port}");
    let load = Arc::new(sign_in(&base, metrics_port, &database_url).await?);

    let mut monitor = if plan.postgres {
        Some(PgConnection::connect(&format!("{pg_server}/postgres")).await?)
    } else {
        None
    };
    // The outbox is read from the side, on a connection named so that the
    // count of the server's connections leaves it out.
    let outbox = if plan.postgres {
        Db::connect(&format!("{database_url}?application_name={MONITOR}"), 1).await?
    } else {
        Db::connect(&database_url, 1).await?
    };

    eprintln!(
        "soak: {} minutes of {:?}, {} requests/s, server pid {pid}",
        plan.minutes, plan.minute, plan.rate
    );
    let in_flight = Arc::new(Semaphore::new(64));
    let mut tick = tokio::time::interval(Duration::from_secs(1) / plan.rate);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut scrape = tokio::time::interval(plan.minute / 4);
    let mut rows = Vec::with_capacity(plan.minutes);
    let mut sent = 0usize;
    for at in 1..=plan.minutes {
        let ends = Instant::now() + plan.minute;
        while Instant::now() < ends {
            tokio::select! {
                _ = tick.tick() => {
                    let Ok(permit) = in_flight.clone().try_acquire_owned() else {
                        load.samples.lock().unwrap().shed += 1;
                        continue;
                    };
                    let target = MIX[sent % MIX.len()];
                    sent += 1;
                    let load = load.clone();
                    tokio::spawn(async move {
                        load.send(target).await;
                        drop(permit);
                    });
                }
                _ = scrape.tick() => {
                    let load = load.clone();
                    tokio::spawn(async move { load.scrape().await });
                }
                _ = tokio::time::sleep_until(ends.into()) => {}
            }
        }
        let samples = std::mem::take(&mut *load.samples.lock().unwrap());
        let db_connections = match monitor.as_mut() {
            Some(c) => Some(
                sqlx::query_as::<_, (i64,)>(
                    "SELECT COUNT(*) FROM pg_stat_activity \
                     WHERE datname = $1 AND application_name <> $2",
                )
                .bind(DATABASE)
                .bind(MONITOR)
                .fetch_one(&mut *c)
                .await?
                .0,
            ),
            None => None,
        };
        let pending = kontor::db::outbox::depth(&outbox.pool).await?.pending;
        let row = Minute::of(at, pid, samples, db_connections, pending);
        eprintln!("{}", row.markdown());
        rows.push(row);
    }
    drop(server);

    let verdict = Verdict::of(&rows, plan.measuring);
    let report = report(&plan, &commit, &rows, &verdict);
    println!("{report}");
    if plan.measuring {
        let path: PathBuf = std::env::var("BENCH_RESULTS")
            .map(PathBuf::from)
            .unwrap_or_else(|_| {
                Path::new(env!("CARGO_MANIFEST_DIR")).join(format!(
                    "bench/results-soak-{}.md",
                    jiff::Zoned::now().date()
                ))
            });
        std::fs::write(&path, &report)?;
        eprintln!("soak: written to {}", path.display());
    }
    let _ = std::fs::remove_dir_all(&dir);
    anyhow::ensure!(
        verdict.failures.is_empty(),
        "{}",
        verdict.failures.join("; ")
    );
    Ok(())
}

fn start_server(
    plan: &Plan,
    dir: &Path,
    database_url: &str,
    kubeconfig: &Path,
    port: u16,
    metrics_port: u16,
) -> anyhow::Result<Server> {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kontor"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("KONTOR_") {
            command.env_remove(key);
        }
    }
    let log = std::fs::File::create(dir.join("kontor.log"))?;
    command
        .arg("serve")
        .current_dir(dir)
        .env("KONTOR_DATABASE_URL", database_url)
        .env("KONTOR_DATA_DIR", dir)
        .env("KONTOR_LISTEN", format!("127.0.0.1:{port}"))
        .env("KONTOR_METRICS_LISTEN", format!("127.0.0.1:{metrics_port}"))
        .env("KONTOR_KUBECONFIG", kubeconfig)
        .env("KONTOR_SEED_DEMO", "false")
        .env("KONTOR_DEMO_LOGIN", "true")
        .env("KONTOR_DATABASE_MAX_CONNECTIONS", "16")
        // The load is the benchmark's own; the product's limits per person
        // would refuse most of it (the limits are measured elsewhere).
        .env("KONTOR_RATE_LIMIT_API_PER_MINUTE", "0")
        .env("KONTOR_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    if !plan.measuring {
        // The miniature's "minutes" are seconds; so are the jobs' periods.
        command
            .env("KONTOR_RESYNC_EVERY_SECONDS", "2")
            .env("KONTOR_METERING_EVERY_SECONDS", "1")
            .env("KONTOR_BUDGET_WATCH_EVERY_SECONDS", "1")
            .env("KONTOR_SESSION_PRUNE_EVERY_SECONDS", "1");
    }
    Ok(Server(command.spawn()?))
}

/// Tokens for the API, signed-in page sessions (demo login) and the
/// tenant's applications, once the server answers.
async fn sign_in(base: &str, metrics_port: u16, database_url: &str) -> anyhow::Result<Load> {
    let api = Client::builder().timeout(Duration::from_secs(30)).build()?;
    let started = Instant::now();
    while !api
        .get(format!("{base}/readyz"))
        .send()
        .await
        .is_ok_and(|r| r.status() == StatusCode::OK)
    {
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(120),
            "the server did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let db = Db::connect(database_url, 2).await?;
    let tenant_token = kontor::cli::create_token(&db, "bench-sp-1", None, "soak").await?;
    let betreiber_token = kontor::cli::create_token(&db, "bench-betreiber", None, "soak").await?;
    db.pool.close().await;
    let page: Value = api
        .get(format!("{base}/api/v1/applications?limit=200"))
        .bearer_auth(&tenant_token)
        .send()
        .await?
        .json()
        .await?;
    let applications: Vec<i64> = page["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["id"].as_i64())
        .collect();
    anyhow::ensure!(!applications.is_empty(), "bench-sp-1 has no applications");
    Ok(Load {
        base: base.to_owned(),
        metrics: format!("http://127.0.0.1:{metrics_port}/metrics"),
        tenant_pages: page_session(base, "bench-sp-1").await?,
        betreiber_pages: page_session(base, "bench-betreiber").await?,
        api,
        tenant_token,
        betreiber_token,
        applications,
        open: Mutex::default(),
        next_application: Mutex::default(),
        samples: Mutex::default(),
    })
}

async fn page_session(base: &str, login: &str) -> anyhow::Result<Client> {
    let client = Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .timeout(Duration::from_secs(30))
        .build()?;
    let form = client
        .get(format!("{base}/anmelden"))
        .send()
        .await?
        .text()
        .await?;
    let marker = "name=\"csrf\" value=\"";
    let csrf = form
        .split_once(marker)
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(token, _)| token.to_owned())
        .ok_or_else(|| anyhow::anyhow!("no CSRF token on /anmelden"))?;
    let answer = client
        .post(format!("{base}/anmelden"))
        .form(&[("csrf", csrf.as_str()), ("login", login)])
        .send()
        .await?;
    anyhow::ensure!(
        answer.status() == StatusCode::SEE_OTHER,
        "demo login as {login}: {}",
        answer.status()
    );
    Ok(client)
}

impl Minute {
    fn of(
        at: usize,
        pid: u32,
        mut samples: Samples,
        db_connections: Option<i64>,
        outbox_pending: i64,
    ) -> Minute {
        let mut all: Vec<Duration> = samples
            .latencies
            .iter()
            .filter(|(k, _)| **k != Kind::Scrape)
            .flat_map(|(_, v)| v.iter().copied())
            .collect();
        all.sort_unstable();
        let mut p99_of = |kind| {
            let v = samples.latencies.entry(kind).or_default();
            v.sort_unstable();
            percentile(v, 0.99)
        };
        for (what, n) in &samples.unexpected {
            eprintln!("soak: minute {at}: {n} × unexpected {what}");
        }
        let (p99_pages, p99_api, p99_writes) = (
            p99_of(Kind::Page),
            p99_of(Kind::ApiRead),
            p99_of(Kind::Write),
        );
        Minute {
            at,
            rss_kib: proc_status(pid, "VmRSS"),
            fds: open_fds(pid),
            threads: proc_status(pid, "Threads"),
            db_connections,
            outbox_pending,
            requests: all.len(),
            unexpected: samples.unexpected.values().sum(),
            shed: samples.shed,
            p50: percentile(&all, 0.5),
            p99: percentile(&all, 0.99),
            p99_pages,
            p99_api,
            p99_writes,
            load: std::fs::read_to_string("/proc/loadavg")
                .ok()
                .and_then(|l| l.split_whitespace().next().map(str::to_owned))
                .unwrap_or_default(),
        }
    }

    const HEADER: &str = "| minute | RSS MiB | fds | threads | DB conns | outbox | requests | unexpected | shed | p50 ms | p99 ms | p99 pages | p99 API reads | p99 writes | load avg |\n\
                          | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |";

    fn markdown(&self) -> String {
        format!(
            "| {} | {:.1} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            self.at,
            self.rss_kib as f64 / 1024.0,
            self.fds,
            self.threads,
            self.db_connections
                .map_or("–".to_owned(), |n| n.to_string()),
            self.outbox_pending,
            self.requests,
            self.unexpected,
            self.shed,
            ms(self.p50),
            ms(self.p99),
            ms(self.p99_pages),
            ms(self.p99_api),
            ms(self.p99_writes),
            self.load,
        )
    }
}

/// Whether the curves stayed flat. The first minutes warm caches, pools and
/// the allocator; from then on (the "steady" minutes) memory may not grow by
/// more than a quarter, and descriptors and connections not past their
/// steady maximum plus a little slack (a pool may open a connection it had
/// not needed yet, a keep-alive connection may be in the middle of being
/// replaced).
struct Verdict {
    failures: Vec<String>,
    steady_from: usize,
}

impl Verdict {
    fn of(rows: &[Minute], measuring: bool) -> Verdict {
        let mut failures = Vec::new();
        let unexpected: u64 = rows.iter().map(|r| r.unexpected).sum();
        if unexpected > 0 {
            failures.push(format!("{unexpected} unexpected answers"));
        }
        let shed: u64 = rows.iter().map(|r| r.shed).sum();
        if shed > 0 {
            failures.push(format!("{shed} requests shed: the server did not keep up"));
        }
        let steady_from = (rows.len() / 6).clamp(1, 5);
        if measuring && rows.len() > steady_from + 1 {
            let steady = &rows[steady_from..steady_from + (rows.len() / 6).max(1)];
            let last = rows.last().expect("rows");
            let rss = steady.iter().map(|r| r.rss_kib).max().unwrap_or(0);
            if last.rss_kib * 4 > rss * 5 {
                failures.push(format!("memory grew from {} to {} KiB", rss, last.rss_kib));
            }
            let fds = steady.iter().map(|r| r.fds).max().unwrap_or(0);
            if last.fds > fds + 8 {
                failures.push(format!("descriptors grew from {fds} to {}", last.fds));
            }
            let conns = steady.iter().filter_map(|r| r.db_connections).max();
            if let (Some(c), Some(l)) = (conns, last.db_connections)
                && l > c + 2
            {
                failures.push(format!("database connections grew from {c} to {l}"));
            }
        }
        Verdict {
            failures,
            steady_from,
        }
    }
}

fn report(plan: &Plan, commit: &str, rows: &[Minute], verdict: &Verdict) -> String {
    let mut out = format!(
        "## Soak ({}, {} minutes, {} requests/s, fake API server with {} ms per call)\n\n\
         Dataset: {} customers, {} applications, {} bookings. Machine: {} cores, {}.\n\
         Commit: {}.\n\n{}\n",
        if plan.postgres {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        plan.minutes,
        plan.rate,
        plan.latency.as_millis(),
        plan.customers,
        plan.applications,
        plan.bookings,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        jiff::Zoned::now().strftime("%Y-%m-%d %H:%M %Z"),
        commit,
        Minute::HEADER,
    );
    for row in rows {
        out.push_str(&row.markdown());
        out.push('\n');
    }
    if let (Some(start), Some(end)) = (rows.get(verdict.steady_from), rows.last()) {
        out.push_str(&format!(
            "\nFrom minute {} (steady) to minute {}: RSS {:.1} → {:.1} MiB, descriptors {} → {}, \
             DB connections {} → {}, p99 {} → {} ms.\n",
            start.at,
            end.at,
            start.rss_kib as f64 / 1024.0,
            end.rss_kib as f64 / 1024.0,
            start.fds,
            end.fds,
            start.db_connections.map_or("–".into(), |n| n.to_string()),
            end.db_connections.map_or("–".into(), |n| n.to_string()),
            ms(start.p99),
            ms(end.p99),
        ));
    }
    out.push_str(&if verdict.failures.is_empty() {
        "\nVerdict: flat, and every answer as expected.\n".to_owned()
    } else {
        format!("\nVerdict: FAILED: {}.\n", verdict.failures.join("; "))
    });
    out
}
