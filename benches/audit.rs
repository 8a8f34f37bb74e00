//! The Revision's hash chain benchmark (see docs/benchmarks.md, "Revision").
//!
//! 1. What appending to the chain costs a booking: `BENCH_BOOKINGS` bookings
//!    through `POST /api/v1/bookings`, `BENCH_PARALLEL` (50) at a time, with
//!    the chain and without it (`db::audit_chain::bench_without_chain`, the
//!    same binary and database: entries then go in as before the chain, no
//!    lock, no hash). Each run is a process of its own on fresh demo data
//!    (the contract's bookings make every next booking's Kontingent check a
//!    little dearer, so runs must not inherit each other's), in the order
//!    without, with, with, without. A run ends when the reconciler has
//!    finished too (every booking `aktiv`, which writes a second entry).
//! 2. `kontor audit verify` (`app::revision::chain::verify`) over at least
//!    100,000 entries: `kontor seed bench` with `BENCH_VERIFY_BOOKINGS`
//!    bookings (60,000: about 100,000 entries), twice.
//!
//! On SQLite and PostgreSQL (`BENCH_DB`: `sqlite`, `postgres` or `both`,
//! the default). Run: `cargo bench --bench audit --features bench-seed`.
//! Under `cargo test` it runs in miniature on SQLite so that it keeps
//! working; its figures then mean nothing. Settings (environment):
//! BENCH_DB, BENCH_PG_URL (postgres://postgres@127.0.0.1:5432),
//! BENCH_BOOKINGS (2000), BENCH_PARALLEL (50), BENCH_VERIFY_BOOKINGS (60000).

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use kontor::{
    app::revision::chain,
    config::Settings,
    db::{Db, audit_chain},
    startup::Application,
};
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
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

/// An empty database of `backend` named after `what`.
async fn fresh(backend: &str, what: &str, dir: &std::path::Path) -> String {
    if backend == "postgres" {
        let base = env_or(
            "BENCH_PG_URL",
            "postgres://postgres@127.0.0.1:5432".to_owned(),
        );
        let mut admin = PgConnection::connect(&format!("{base}/postgres"))
            .await
            .expect("PostgreSQL (BENCH_PG_URL)");
        let name = format!("kontor_bench_audit_{what}");
        admin
            .execute(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .await
            .unwrap();
        admin
            .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .unwrap();
        format!("{base}/{name}")
    } else {
        let file = dir.join(format!("{what}.db"));
        let _ = std::fs::remove_file(&file);
        format!("sqlite://{}?mode=rwc", file.display())
    }
}

/// One of the clients booking at the same time: its token and the
/// applications × stages it books into, in turn.
#[derive(Clone)]
struct Caller {
    token: String,
    targets: Vec<(i64, &'static str)>,
}

/// One run: `n` bookings, one client per caller at a time; a table row.
async fn book(
    label: &str,
    scenario: &str,
    address: &str,
    callers: Vec<Caller>,
    n: usize,
    db: &Db,
) -> String {
    let client = reqwest::Client::new();
    let next = Arc::new(AtomicUsize::new(0));
    let parallel = callers.len();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for caller in callers {
        let (client, next) = (client.clone(), next.clone());
        let url = format!("{address}/api/v1/bookings");
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return latencies;
                }
                let (application, stage) = caller.targets[i % caller.targets.len()];
                let t = Instant::now();
                let resp = client
                    .post(&url)
                    .bearer_auth(&caller.token)
                    .json(&json!({
                        "application_id": application, "stage": stage,
                        "product": "container-namespace", "size": "S",
                    }))
                    .send()
                    .await
                    .unwrap();
                let status = resp.status();
                let body = resp.text().await.unwrap();
                assert_eq!(status, 201, "{body}");
                latencies.push(t.elapsed());
            }
        }));
    }
    let mut latencies = Vec::with_capacity(n);
    for t in tasks {
        latencies.extend(t.await.unwrap());
    }
    let wall = started.elapsed();
    // The reconciler's half: every booking aktiv (its second entry).
    loop {
        let (open,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM bookings WHERE state = 'beantragt'")
                .fetch_one(&db.pool)
                .await
                .unwrap();
        if open == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let settled = started.elapsed();
    latencies.sort();
    format!(
        "| {label} | {scenario} | {n} | {parallel} | {:.2} | {:.0} | {} | {} | {:.2} | {:.0} |",
        wall.as_secs_f64(),
        n as f64 / wall.as_secs_f64(),
        ms(percentile(&latencies, 0.5)),
        ms(percentile(&latencies, 0.99)),
        settled.as_secs_f64(),
        n as f64 / settled.as_secs_f64(),
    )
}

/// One run in this process on fresh data, `n` bookings with the chain or
/// without; the table row. `one`: the demo data, every client the same
/// Systempfleger:in, so every booking locks the same contract. `many`: a
/// generated dataset with one customer (contract) per client, so that
/// nothing but the chain (and on SQLite the database's one writer) is
/// shared.
async fn bookings(
    backend: &str,
    dir: &std::path::Path,
    chained: bool,
    n: usize,
    parallel: usize,
    scenario: &str,
) -> String {
    audit_chain::bench_without_chain(!chained);
    let database_url = fresh(backend, "bookings", dir).await;
    let db = Db::connect(&database_url, 2).await.unwrap();
    db.migrate().await.unwrap();
    let many = scenario == "many";
    if many {
        kontor::seed::bench::generate(&db, parallel, parallel * 4, parallel * 20)
            .await
            .unwrap();
    }
    let settings = Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        // Several portals in one process: nothing scrapes their metrics.
        metrics_listen: "off".into(),
        data_dir: dir.join(format!("data-{backend}")),
        database_url: Some(database_url.clone()),
        database_max_connections: 16,
        seed_demo: !many,
        billing_close_every_minutes: 0,
        resync_every_seconds: 0,
        metering_every_seconds: 0,
        budget_watch_every_seconds: 0,
        audit_verify_every_minutes: 0,
        rate_limit_api_per_minute: 0,
        // Woken by each commit anyway; a shorter poll only sharpens the
        // "until all aktiv" figure.
        reconcile_poll_ms: 200,
        log: "warn".into(),
        ..Settings::default()
    };
    let _ = std::fs::remove_dir_all(&settings.data_dir);
    std::fs::create_dir_all(&settings.data_dir).unwrap();
    let app = Application::build(settings).await.expect("portal");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    // Ceilings no run reaches: the runs measure the write path, not the
    // Kontingent's refusals.
    db.pool
        .execute(
            "UPDATE contracts SET max_millicpu = 1000000000, max_memory_mib = 1000000000, \
             max_storage_gib = 1000000000, monthly_budget_cents = 100000000000",
        )
        .await
        .unwrap();
    let logins: Vec<String> = match many {
        true => (1..=parallel).map(|i| format!("bench-sp-{i}")).collect(),
        false => vec!["systempfleger".to_owned()],
    };
    let mut callers = Vec::new();
    for login in &logins {
        let token = kontor::cli::create_token(&db, login, Some(1), "bench")
            .await
            .unwrap();
        // Spread over the customer's applications and stages, so that no
        // one environment (its quota is the sum of its bookings) grows
        // very large.
        let apps: Value = reqwest::Client::new()
            .get(format!("{address}/api/v1/applications?limit=200"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let mut targets = Vec::new();
        for a in apps["items"].as_array().expect("applications") {
            for stage in ["vorpruefung", "abnahme", "schulung", "produktion"] {
                targets.push((a["id"].as_i64().expect("id"), stage));
            }
        }
        assert!(!targets.is_empty(), "{login} has no application");
        callers.push(Caller { token, targets });
    }
    let callers: Vec<Caller> = callers.into_iter().cycle().take(parallel).collect();
    let label = if chained {
        "with chain"
    } else {
        "without chain"
    };
    let scenario = format!("{backend}, {scenario}");
    let row = book(label, &scenario, &address, callers, n, &db).await;
    if chained {
        let verdict = chain::walk(&db).await.unwrap();
        assert!(verdict.intact(), "{verdict:?}");
    }
    row
}

/// Runs [`bookings`] in a process of its own (this program again, told by
/// `BENCH_AUDIT_RUN`), so that no run inherits another's state.
fn bookings_apart(
    backend: &str,
    chained: bool,
    n: usize,
    parallel: usize,
    scenario: &str,
) -> String {
    let out = std::process::Command::new(std::env::current_exe().expect("this program"))
        .env(
            "BENCH_AUDIT_RUN",
            format!("{backend}:{chained}:{n}:{parallel}:{scenario}"),
        )
        .stderr(std::process::Stdio::inherit())
        .output()
        .expect("a run");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "a run failed: {text}");
    text.lines().last().unwrap_or_default().to_owned()
}

async fn verify(backend: &str, dir: &std::path::Path, bookings: usize) -> Vec<String> {
    let database_url = fresh(backend, "verify", dir).await;
    let db = Db::connect(&database_url, 4).await.unwrap();
    db.migrate().await.unwrap();
    let summary =
        kontor::seed::bench::generate(&db, 200.min(bookings), 2000.min(bookings), bookings)
            .await
            .unwrap();
    eprintln!("{summary}");
    let (entries,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_log")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    let mut rows = Vec::new();
    for run in 1..=2 {
        let started = Instant::now();
        let verdict = chain::verify(&db, "bench", kontor::db::now())
            .await
            .unwrap();
        let wall = started.elapsed();
        assert!(verdict.intact(), "{verdict:?}");
        assert_eq!(verdict.entries, entries);
        rows.push(format!(
            "| {backend} | {entries} | {run} | {:.2} | {:.0} |",
            wall.as_secs_f64(),
            entries as f64 / wall.as_secs_f64()
        ));
        eprintln!("{}", rows.last().unwrap());
    }
    db.pool.close().await;
    rows
}

#[tokio::main]
async fn main() {
    let dir = std::env::temp_dir().join(format!("kontor_bench_audit_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    if let Ok(run) = std::env::var("BENCH_AUDIT_RUN") {
        let parts: Vec<&str> = run.split(':').collect();
        let [backend, chained, n, parallel, scenario] = parts[..] else {
            panic!("BENCH_AUDIT_RUN={run}");
        };
        let row = bookings(
            backend,
            &dir,
            chained == "true",
            n.parse().unwrap(),
            parallel.parse().unwrap(),
            scenario,
        )
        .await;
        println!("{row}");
        let _ = std::fs::remove_dir_all(&dir);
        std::process::exit(0);
    }
    let full = std::env::args().any(|a| a == "--bench");
    let (n, parallel, verify_bookings) = if full {
        (
            env_or("BENCH_BOOKINGS", 2000),
            env_or("BENCH_PARALLEL", 50),
            env_or("BENCH_VERIFY_BOOKINGS", 60_000),
        )
    } else {
        (20, 5, 100)
    };
    let backends: Vec<&str> = match (full, env_or("BENCH_DB", "both".to_owned()).as_str()) {
        (false, _) => vec!["sqlite"],
        (true, "sqlite") => vec!["sqlite"],
        (true, "postgres") => vec!["postgres"],
        _ => vec!["sqlite", "postgres"],
    };

    let mut booking_rows = Vec::new();
    let mut verify_rows = Vec::new();
    for backend in &backends {
        for scenario in ["one", "many"] {
            for chained in [false, true, true, false] {
                booking_rows.push(bookings_apart(backend, chained, n, parallel, scenario));
                eprintln!("{}", booking_rows.last().unwrap());
            }
        }
        verify_rows.extend(verify(backend, &dir, verify_bookings).await);
    }
    println!(
        "\n{}: {n} bookings per run, {parallel} at a time\n",
        if full {
            "Revision benchmark"
        } else {
            "Revision benchmark (miniature)"
        }
    );
    println!(
        "| run | database, contracts | bookings | clients | wall (s) | bookings/s | p50 (ms) | p99 (ms) | until all aktiv (s) | bookings/s incl. reconciler |\n\
         | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    for row in booking_rows {
        println!("{row}");
    }
    println!(
        "\n`kontor audit verify`\n\n| database | entries | run | wall (s) | entries/s |\n| --- | ---: | ---: | ---: | ---: |"
    );
    for row in verify_rows {
        println!("{row}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
