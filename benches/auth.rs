//! Authentication and rate-limit benchmark (see docs/benchmarks.md,
//! "Authentication").
//!
//! What one API request pays to find out who is asking: a portal API token
//! (hash lookup, user and roles), the same with the shared rate limit on
//! (one upsert per request), and an access token of the OpenID provider (JWT
//! signature with RS256, claims, the user synced from its groups). Measured
//! end to end on `GET /api/v1/bookings` of a demo customer (a few rows), so
//! the authentication is a large part of each request: sequentially
//! (latency) and with 16 clients (throughput).
//!
//! The provider is the tests' real one (`tests/oidc/provider.mjs`, needs
//! `tests/oidc/node_modules`); without it the JWT rows are skipped.
//!
//! Run: `cargo bench --bench auth`. Under `cargo test` it runs in miniature
//! on SQLite (50 requests) so that it keeps working; its figures then mean
//! nothing. Settings (environment): BENCH_DB (postgres|sqlite), BENCH_PG_URL
//! (postgres://postgres@127.0.0.1:5432), BENCH_REQUESTS (2000).

use std::{
    io::{BufRead as _, BufReader},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use kontor::{config::Settings, startup::Application};
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
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

struct Provider {
    issuer: String,
    child: Child,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The tests' OpenID provider, if its packages are installed.
fn provider() -> Option<Provider> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oidc");
    if !std::path::Path::new(dir)
        .join("node_modules/oidc-provider")
        .exists()
    {
        return None;
    }
    let mut child = Command::new("node")
        .arg(format!("{dir}/provider.mjs"))
        .args(["--port", "0", "--exit-with-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut line = String::new();
    BufReader::new(child.stdout.take()?)
        .read_line(&mut line)
        .ok()?;
    let ready: Value = serde_json::from_str(&line).ok()?;
    Some(Provider {
        issuer: ready["issuer"].as_str()?.to_owned(),
        child,
    })
}

async fn start(settings: Settings) -> String {
    let app = Application::build(settings).await.expect("portal");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    address
}

/// Sequential latency, then throughput with 16 clients.
async fn measure(label: &str, address: &str, token: &str, requests: usize) -> String {
    let client = reqwest::Client::new();
    let url = format!("{address}/api/v1/bookings");
    let one = |client: reqwest::Client, url: String, token: String| async move {
        let resp = client.get(&url).bearer_auth(&token).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
        resp.bytes().await.unwrap();
    };
    for _ in 0..10 {
        one(client.clone(), url.clone(), token.to_owned()).await;
    }
    let mut latencies = Vec::with_capacity(requests);
    for _ in 0..requests {
        let started = Instant::now();
        one(client.clone(), url.clone(), token.to_owned()).await;
        latencies.push(started.elapsed());
    }
    latencies.sort();
    let started = Instant::now();
    let per_client = requests / 16;
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (client, url, token) = (client.clone(), url.clone(), token.to_owned());
        tasks.push(tokio::spawn(async move {
            for _ in 0..per_client {
                one(client.clone(), url.clone(), token.clone()).await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let rate = (per_client * 16) as f64 / started.elapsed().as_secs_f64();
    format!(
        "| {label} | {} | {} | {:.0} |",
        ms(percentile(&latencies, 0.5)),
        ms(percentile(&latencies, 0.99)),
        rate
    )
}

#[tokio::main]
async fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let requests: usize = if full {
        env_or("BENCH_REQUESTS", 2000)
    } else {
        48
    };
    let postgres = full && env_or("BENCH_DB", "postgres".to_owned()) == "postgres";
    let dir = std::env::temp_dir().join(format!("kontor_bench_auth_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let database_url = if postgres {
        let base = env_or(
            "BENCH_PG_URL",
            "postgres://postgres@127.0.0.1:5432".to_owned(),
        );
        let mut admin = PgConnection::connect(&format!("{base}/postgres"))
            .await
            .unwrap();
        admin
            .execute("DROP DATABASE IF EXISTS kontor_bench_auth WITH (FORCE)")
            .await
            .unwrap();
        admin
            .execute("CREATE DATABASE kontor_bench_auth")
            .await
            .unwrap();
        format!("{base}/kontor_bench_auth")
    } else {
        format!("sqlite://{}?mode=rwc", dir.join("kontor.db").display())
    };
    let provider = provider();
    let settings = |limit: u32| Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        // Several portals in one process: nothing scrapes their metrics.
        metrics_listen: "off".into(),
        data_dir: dir.clone(),
        database_url: Some(database_url.clone()),
        seed_demo: true,
        billing_close_every_minutes: 0,
        resync_every_seconds: 0,
        metering_every_seconds: 0,
        rate_limit_api_per_minute: limit,
        oidc_issuer: provider.as_ref().map(|p| p.issuer.clone()),
        oidc_client_id: Some("kontor".into()),
        oidc_audience: Some("kontor-api".into()),
        ..Settings::default()
    };
    // Off, and on with a ceiling no run reaches: every request is counted.
    let unlimited = start(settings(0)).await;
    let limited = start(settings(u32::MAX)).await;
    let db = kontor::db::Db::connect(&database_url, 2).await.unwrap();
    let token = kontor::cli::create_token(&db, "systempfleger", Some(1), "bench")
        .await
        .unwrap();

    let mut rows = vec![
        measure("portal API token", &unlimited, &token, requests).await,
        measure(
            "portal API token, rate limit on",
            &limited,
            &token,
            requests,
        )
        .await,
    ];
    if let Some(p) = &provider {
        let resp: Value = reqwest::Client::new()
            .post(format!("{}/__test/mint", p.issuer))
            .json(&json!({"claims": {
                "sub": "u-bench", "preferred_username": "bench", "name": "Bench",
                "groups": ["musterhausen/systempfleger"], "exp": 4_102_444_800_i64,
            }}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let jwt = resp["token"].as_str().unwrap().to_owned();
        rows.push(
            measure(
                "access token of the issuer (RS256 JWT)",
                &unlimited,
                &jwt,
                requests,
            )
            .await,
        );
        rows.push(
            measure(
                "access token of the issuer, rate limit on",
                &limited,
                &jwt,
                requests,
            )
            .await,
        );
    } else {
        rows.push(
            "| access token of the issuer | skipped: tests/oidc/node_modules missing | | |".into(),
        );
    }
    println!(
        "\n{} — {requests} requests each, {}\n",
        if full {
            "Authentication benchmark"
        } else {
            "Authentication benchmark (miniature)"
        },
        if postgres { "PostgreSQL" } else { "SQLite" }
    );
    println!("| caller | p50 | p99 | requests/s (16 clients) |\n| --- | --- | --- | --- |");
    for row in rows {
        println!("{row}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
