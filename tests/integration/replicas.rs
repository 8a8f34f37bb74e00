//! Several replicas: two `kontor serve` processes on one PostgreSQL, behind
//! no balancer (the test talks to both in turn). Sessions, bookings against
//! the Kontingent and idempotency keys behave as with one process; a
//! scheduled job runs once per slot, not once per replica; SIGTERM during a
//! slow request lets the request finish, exits 0 and loses no work.

use std::{
    fs::File,
    path::PathBuf,
    process::{Child, Command},
    time::Duration,
};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Backend, TestApp, csrf_in, expect_json, serve_command, until_within};

/// A `kontor serve` process on the test's database; killed when dropped.
struct Serve {
    child: Child,
    address: String,
    metrics: String,
    log: PathBuf,
}

impl Serve {
    async fn start(app: &TestApp, name: &str, extra: &[(&str, &str)]) -> Serve {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let settings = &app.settings;
        let log = settings.data_dir.join(format!("serve-{name}.log"));
        let metrics_port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut command = serve_command(settings);
        command
            .env("KONTOR_LISTEN", format!("127.0.0.1:{port}"))
            .env("KONTOR_METRICS_LISTEN", format!("127.0.0.1:{metrics_port}"))
            .envs(extra.iter().copied())
            .stderr(File::create(&log).expect("log file"));
        let child = command.spawn().expect("start kontor serve");
        let serve = Serve {
            child,
            address: format!("http://127.0.0.1:{port}"),
            metrics: format!("http://127.0.0.1:{metrics_port}"),
            log,
        };
        let ready = format!("{}/readyz", serve.address);
        until_within(
            Duration::from_secs(30),
            "the process is ready",
            async || {
                let ok = reqwest::get(&ready).await.ok()?.status() == StatusCode::OK;
                ok.then_some(())
            },
        )
        .await;
        serve
    }

    fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
    }

    /// Counter `kontor_job_runs_total{job="<job>"}` of this process.
    async fn job_runs(&self, job: &str) -> u64 {
        let text = reqwest::get(format!("{}/metrics", self.metrics))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let series = format!("kontor_job_runs_total{{job=\"{job}\"}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(series.as_str()))
            .map(|v| v.trim().parse().unwrap())
            .unwrap_or(0)
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "--- log of {} ---\n{}",
                self.address,
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
        }
    }
}

async fn book(
    address: &str,
    token: &str,
    application_id: i64,
    key: Option<&str>,
) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{address}/api/v1/bookings"))
        .bearer_auth(token)
        .json(&json!({
            "application_id": application_id, "stage": "vorpruefung",
            "product": "container-namespace", "size": "S",
        }));
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    let resp = request.send().await.unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread")]
async fn two_processes_on_one_postgresql_share_sessions_limits_keys_and_jobs() {
    let app = TestApp::spawn(Backend::Postgres).await;
    let jobs = [("KONTOR_RESYNC_EVERY_SECONDS", "1")];
    let a = Serve::start(&app, "a", &jobs).await;
    let b = Serve::start(&app, "b", &jobs).await;

    // A login at one process is a login at the other (the session is in
    // the database); a logout at the other ends it for both.
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = browser
        .get(format!("{}/anmelden", a.address))
        .send()
        .await
        .unwrap();
    let csrf = csrf_in(&page.text().await.unwrap());
    let login = browser
        .post(format!("{}/anmelden", a.address))
        .form(&[("csrf", csrf.as_str()), ("login", "systempfleger")])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::SEE_OTHER);
    let at_b = browser
        .get(format!("{}/uebersicht", b.address))
        .send()
        .await
        .unwrap();
    assert_eq!(at_b.status(), StatusCode::OK, "B knows A's session");
    let csrf = csrf_in(&at_b.text().await.unwrap());
    let logout = browser
        .post(format!("{}/abmelden", b.address))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::SEE_OTHER);
    let at_a = browser
        .get(format!("{}/uebersicht", a.address))
        .send()
        .await
        .unwrap();
    assert_eq!(at_a.status(), StatusCode::SEE_OTHER, "logged out at A too");

    // Room for three S bookings (2 vCPU each); ten attempts alternate
    // between the processes, all at once: exactly three succeed.
    let tenant = app.contract_with_room(6).await;
    let attempts = (0..10).map(|i| {
        let address = if i % 2 == 0 {
            a.address.clone()
        } else {
            b.address.clone()
        };
        let token = tenant.token.clone();
        let application = tenant.application_id;
        tokio::spawn(async move { book(&address, &token, application, None).await.0 })
    });
    let mut created = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            StatusCode::CREATED => created += 1,
            StatusCode::CONFLICT => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(created, 3);

    // One Idempotency-Key, sent to A and then (a retry through another
    // path) to B: one booking, the same answer.
    let other = app.contract_with_room(6).await;
    let (first_status, first) =
        book(&a.address, &other.token, other.application_id, Some("k-1")).await;
    assert_eq!(first_status, StatusCode::CREATED);
    let (again_status, again) =
        book(&b.address, &other.token, other.application_id, Some("k-1")).await;
    assert_eq!(again_status, StatusCode::CREATED);
    assert_eq!(first["id"], again["id"]);
    let (open,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM bookings WHERE contract_id = $1 AND state <> 'gekuendigt'",
    )
    .bind(other.contract_id)
    .fetch_one(&app.db().pool)
    .await
    .unwrap();
    assert_eq!(open, 1);

    // The resync, scheduled every second on both processes, ran once per
    // slot: the runs counted by both processes add up to the slots claimed.
    // The jobs go on while they are counted, and a run is counted after its
    // slot is claimed: a reading between the two is one run short. So read
    // until the slots did not move during a reading; a slot run twice shows
    // as more runs than slots, which fails at once.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let slots = || async {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM job_runs WHERE job = 'resync'")
            .fetch_one(&app.db().pool)
            .await
            .unwrap();
        u64::try_from(n).unwrap()
    };
    let mut reading = None;
    for _ in 0..50 {
        let before = slots().await;
        let runs = a.job_runs("resync").await + b.job_runs("resync").await;
        let after = slots().await;
        assert!(
            runs <= after,
            "a slot ran on two processes: {runs} runs, {after} slots"
        );
        if before == after && runs == after {
            reading = Some(after);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let slots = reading.expect("each slot ran on exactly one process, counted");
    assert!(slots >= 3, "a slot a second: {slots}");
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_during_a_slow_request_finishes_it_exits_0_and_loses_no_work() {
    let app = TestApp::spawn(Backend::Postgres).await;
    let mut a = Serve::start(&app, "a", &[]).await;
    let tenant = app.contract_with_room(6).await;

    // The booking waits for the contract's row lock, which the test holds:
    // a request that is slow for as long as the test wants.
    let mut lock = app.db().pool.begin().await.unwrap();
    sqlx::query("SELECT id FROM contracts WHERE id = $1 FOR UPDATE")
        .bind(tenant.contract_id)
        .execute(&mut *lock)
        .await
        .unwrap();
    let slow = {
        let (address, token, application) = (
            a.address.clone(),
            tenant.token.clone(),
            tenant.application_id,
        );
        tokio::spawn(async move { book(&address, &token, application, None).await })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    a.terminate();
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Stopped accepting: a new connection is refused.
    let refused = reqwest::get(format!("{}/healthz", a.address)).await;
    assert!(
        refused.is_err(),
        "no new requests after SIGTERM: {refused:?}"
    );
    assert!(
        a.child.try_wait().unwrap().is_none(),
        "still finishing the request"
    );
    lock.rollback().await.unwrap();

    let (status, booking) = slow.await.unwrap();
    assert_eq!(
        status,
        StatusCode::CREATED,
        "the slow request completed: {booking}"
    );
    let exit = until_within(Duration::from_secs(25), "the process exits", async || {
        a.child.try_wait().unwrap()
    })
    .await;
    assert!(exit.success(), "exit status {exit}");

    // Its work is not lost: the booking is provisioned (here by the test's
    // own process, as by any other replica).
    let id = booking["id"].as_i64().unwrap();
    let state = until_within(
        Duration::from_secs(20),
        "the booking is provisioned",
        async || {
            let b = expect_json(
                app.get(&format!("/api/v1/bookings/{id}"), &tenant.token)
                    .await,
                StatusCode::OK,
            )
            .await;
            (b["state"] == "aktiv").then_some(b["state"].clone())
        },
    )
    .await;
    assert_eq!(state, "aktiv");
}
