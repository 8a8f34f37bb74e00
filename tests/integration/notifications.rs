//! Notifications against a real SMTP server (aiosmtpd) and a real webhook
//! receiver that verifies the Standard Webhooks signatures with its own
//! implementation (tests/notifications/): what is delivered equals the
//! events, each once; a mail server down for a while loses nothing and
//! sends nothing twice; two `kontor serve` processes on one database send
//! each delivery once; provisioning failures and recoveries are told once.
//! On SQLite and PostgreSQL.

use std::{collections::BTreeSet, time::Duration};

use kontor::{
    config::{Settings, SmtpTls},
    db::{self, users},
    domain::{Role, actor::Via, text::Text},
};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{
    Backend, Person, Tenant, TestApp, expect_json, fake_kube::FakeKube, notify::SmtpServer,
    notify::WebhookReceiver, serve_command, spawn_on_fake, until_within,
};

cluster_tests! {
    every_event_is_delivered_once_by_email_and_as_a_signed_webhook,
    a_mail_server_down_for_a_while_loses_nothing_and_sends_nothing_twice,
    two_replicas_send_each_delivery_once,
    a_failing_environment_is_told_once_and_again_when_it_recovers,
}

/// Kontor's settings for sending through `smtp`.
fn with_smtp(settings: &mut Settings, smtp: &SmtpServer) {
    settings.smtp_host = Some("127.0.0.1".into());
    settings.smtp_port = Some(smtp.port);
    settings.smtp_tls = SmtpTls::None;
    settings.smtp_from = Some("Kontor <kontor@rz.example>".into());
    settings.smtp_timeout_seconds = 5;
    settings.webhook_allow_http = true;
}

async fn spawn(backend: Backend, smtp: &SmtpServer, workers: usize) -> TestApp {
    let app = TestApp::spawn_configured(backend, false, |s| {
        with_smtp(s, smtp);
        s.notify_workers = workers;
        s.public_url = Some("https://kontor.example".into());
    })
    .await;
    kontor::seed::catalogue(app.db(), 0)
        .await
        .expect("the catalogue goes into an empty database");
    app
}

async fn set_email(app: &TestApp, login: &str, email: &str) {
    sqlx::query("UPDATE users SET email = $1 WHERE login = $2")
        .bind(email)
        .bind(login)
        .execute(&app.db().pool)
        .await
        .expect("set the e-mail address");
}

async fn user(app: &TestApp, login: &str) -> kontor::domain::actor::CurrentUser {
    let row = users::by_login(&app.db().pool, login)
        .await
        .expect("user")
        .expect("user exists");
    users::by_id(&app.db().pool, row.id, Via::System)
        .await
        .expect("user")
        .expect("user exists")
}

/// A tenant whose Systempfleger:in has an address, and a webhook of the
/// customer (its secret, as shown once).
async fn tenant_with_webhook(app: &TestApp, url: impl FnOnce(&str) -> String) -> (Tenant, String) {
    let tenant = app.contract_with_room(100).await;
    set_email(app, &tenant.login, &format!("{}@amt.example", tenant.login)).await;
    let sp = user(app, &tenant.login).await;
    let url = url("placeholder");
    let created = kontor::app::notifications::create_webhook(
        app.db(),
        &sp,
        Some(tenant.customer_id),
        &url,
        &Text::parse("Leitstand", 200).unwrap(),
        db::now(),
    )
    .await
    .expect("the Systempfleger:in adds a webhook");
    assert!(created.secret.starts_with("whsec_"));
    (tenant, created.secret)
}

async fn point_webhooks_at(app: &TestApp, url: &str) {
    sqlx::query("UPDATE webhooks SET url = $1")
        .bind(url)
        .execute(&app.db().pool)
        .await
        .expect("webhook URL");
}

fn image(n: u64) -> String {
    format!("registry.rz.example/kontor/test@sha256:{n:064x}")
}

/// Delivers a release by the tenant's Systempfleger:in; with nothing booked
/// in Vorprüfung its deployment fails at once (an event).
async fn deliver(app: &TestApp, token: &str, application_id: i64, n: u64) -> i64 {
    let release = expect_json(
        app.post_json(
            &format!("/api/v1/applications/{application_id}/releases"),
            token,
            &json!({"version": format!("1.0.{n}"), "image": image(n)}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    release["id"].as_i64().expect("release id")
}

async fn count(app: &TestApp, sql: &'static str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sql)
        .fetch_one(&app.db().pool)
        .await
        .expect("count");
    n
}

/// Waits until no delivery is open; returns (e-mail, webhook) deliveries.
async fn all_delivered(app: &TestApp) -> (i64, i64) {
    until_within(Duration::from_secs(60), "every delivery is sent", async || {
        let open = count(
            app,
            "SELECT CAST(COUNT(*) AS BIGINT) FROM notification_deliveries WHERE state <> 'zugestellt'",
        )
        .await;
        (open == 0).then_some(())
    })
    .await;
    (
        count(
            app,
            "SELECT CAST(COUNT(*) AS BIGINT) FROM notification_deliveries WHERE channel = 'email'",
        )
        .await,
        count(
            app,
            "SELECT CAST(COUNT(*) AS BIGINT) FROM notification_deliveries WHERE channel = 'webhook'",
        )
        .await,
    )
}

/// Each delivery arrived once: as many messages as deliveries, no Message-ID
/// twice.
fn once_each(messages: &[Value], expected: i64) {
    let ids: BTreeSet<&str> = messages
        .iter()
        .map(|m| m["message_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), messages.len(), "no message twice: {messages:#?}");
    assert_eq!(messages.len() as i64, expected, "{messages:#?}");
}

/// Every accepted webhook request was verified by the receiver, each
/// message id accepted once, as many as deliveries.
fn verified_once_each(requests: &[Value], expected: i64) {
    assert!(
        requests.iter().all(|r| r["verified"] == true),
        "the receiver verified every signature: {requests:#?}"
    );
    let accepted: Vec<&str> = requests
        .iter()
        .filter(|r| r["answered"] == 204)
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let distinct: BTreeSet<&&str> = accepted.iter().collect();
    assert_eq!(
        distinct.len(),
        accepted.len(),
        "no webhook twice: {requests:#?}"
    );
    assert_eq!(accepted.len() as i64, expected, "{requests:#?}");
}

async fn every_event_is_delivered_once_by_email_and_as_a_signed_webhook(backend: Backend) {
    let dir = std::env::temp_dir().join(format!("kontor-notify-{}", crate::support::unique()));
    let smtp = SmtpServer::start(&dir);
    let app = spawn(backend, &smtp, 4).await;
    let (tenant, secret) = tenant_with_webhook(&app, |_| "http://127.0.0.1:9/x".into()).await;
    // The receiver answers its first two requests 503: the sender retries.
    let receiver = WebhookReceiver::start(&dir, &secret, 2);
    point_webhooks_at(&app, &receiver.url).await;

    // Three deliveries fail to deploy at once: nothing is booked.
    for n in 1..=3 {
        deliver(&app, &tenant.token, tenant.application_id, n).await;
    }

    // A promotion: requested by a developer, waiting for the Systempfleger:in,
    // decided by her.
    let dev: Person = app
        .person(Some(tenant.customer_id), &[Role::Entwickler])
        .await;
    set_email(&app, &dev.login, "entwickler@amt.example").await;
    for stage in ["vorpruefung", "abnahme"] {
        app.book_ok(
            &tenant.token,
            tenant.application_id,
            stage,
            "container-namespace",
            "S",
        )
        .await;
    }
    app.settle().await;
    let release = deliver(&app, &dev.token, tenant.application_id, 4).await;
    until_within(
        Duration::from_secs(30),
        "the release runs in Vorprüfung",
        async || {
            let (n,): (i64,) = sqlx::query_as(
                "SELECT CAST(COUNT(*) AS BIGINT) FROM deployments WHERE release_id = $1 \
             AND state = 'erfolgreich'",
            )
            .bind(release)
            .fetch_one(&app.db().pool)
            .await
            .unwrap();
            (n == 1).then_some(())
        },
    )
    .await;
    let promotion = expect_json(
        app.post_json(
            &format!("/api/v1/applications/{}/promotions", tenant.application_id),
            &dev.token,
            &json!({"release_id": release, "to_stage": "abnahme"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await["id"]
        .as_i64()
        .unwrap();
    expect_json(
        app.post(
            &format!("/api/v1/promotions/{promotion}/approve"),
            &tenant.token,
        )
        .await,
        StatusCode::OK,
    )
    .await;

    // The budget: far beyond it; told once, at 100 %, however often the
    // watch looks.
    sqlx::query("UPDATE contracts SET monthly_budget_cents = 100 WHERE id = $1")
        .bind(tenant.contract_id)
        .execute(&app.db().pool)
        .await
        .unwrap();
    let now = db::now();
    assert_eq!(
        kontor::billing::watch::check(app.db(), now).await.unwrap(),
        1
    );
    assert_eq!(
        kontor::billing::watch::check(app.db(), now).await.unwrap(),
        0
    );

    let (emails, webhooks) = all_delivered(&app).await;
    // 3 failures + waiting + budget to the Systempfleger:in, the decision
    // to the developer; every event of the customer to its webhook.
    assert_eq!((emails, webhooks), (6, 6));
    let messages = smtp.messages();
    once_each(&messages, emails);
    let to_dev: Vec<&Value> = messages
        .iter()
        .filter(|m| m["to"] == "entwickler@amt.example")
        .collect();
    assert_eq!(to_dev.len(), 1, "{messages:#?}");
    assert!(
        to_dev[0]["subject"]
            .as_str()
            .unwrap()
            .contains("wurde genehmigt"),
        "{to_dev:#?}"
    );
    let subjects: Vec<&str> = messages
        .iter()
        .map(|m| m["subject"].as_str().unwrap())
        .collect();
    assert_eq!(
        subjects
            .iter()
            .filter(|s| s.starts_with("Bereitstellung fehlgeschlagen"))
            .count(),
        3,
        "{subjects:?}"
    );
    assert!(
        subjects
            .iter()
            .any(|s| s.contains("wartet auf Ihre Entscheidung"))
    );
    assert!(subjects.iter().any(|s| s.starts_with("Budget")));
    for m in &messages {
        assert_eq!(m["auto_submitted"], "auto-generated");
        assert!(
            m["body"]
                .as_str()
                .unwrap()
                .contains("Im Portal: https://kontor.example/"),
            "the link to the page: {m:#?}"
        );
    }

    let requests = receiver.requests();
    verified_once_each(&requests, webhooks);
    let retried = requests.iter().filter(|r| r["answered"] == 503).count();
    assert_eq!(retried, 2, "two refused, then retried: {requests:#?}");
    let types: BTreeSet<&str> = requests
        .iter()
        .filter(|r| r["answered"] == 204)
        .map(|r| r["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        BTreeSet::from([
            "approval.decided",
            "approval.waiting",
            "budget.exceeded",
            "deployment.failed"
        ])
    );
    // The lower budget level is remembered as passed, not sent.
    assert_eq!(
        count(
            &app,
            "SELECT CAST(COUNT(*) AS BIGINT) FROM notification_events WHERE kind = 'budget.warning'"
        )
        .await,
        1
    );
    let _ = std::fs::remove_dir_all(&dir);
}

async fn a_mail_server_down_for_a_while_loses_nothing_and_sends_nothing_twice(backend: Backend) {
    let dir = std::env::temp_dir().join(format!("kontor-notify-{}", crate::support::unique()));
    let mut smtp = SmtpServer::start(&dir);
    let app = spawn(backend, &smtp, 4).await;
    let tenant = app.contract_with_room(100).await;
    set_email(&app, &tenant.login, "pflege@amt.example").await;

    smtp.stop();
    for n in 1..=6 {
        deliver(&app, &tenant.token, tenant.application_id, n).await;
    }
    // Every delivery was tried and failed at least twice while it was down.
    until_within(Duration::from_secs(30), "the sender retries", async || {
        let failing = count(
            &app,
            "SELECT CAST(COUNT(*) AS BIGINT) FROM notification_deliveries \
             WHERE state = 'offen' AND attempts >= 2 AND last_error IS NOT NULL",
        )
        .await;
        (failing == 6).then_some(())
    })
    .await;
    assert!(smtp.messages().is_empty());

    smtp.resume();
    let (emails, _) = all_delivered(&app).await;
    assert_eq!(emails, 6);
    once_each(&smtp.messages(), 6);
    // And stays so: nothing more arrives later.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    once_each(&smtp.messages(), 6);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A `kontor serve` process on the test's database, sending through `smtp`.
struct Serve(std::process::Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn serve(app: &TestApp, smtp: &SmtpServer) -> Serve {
    let port = crate::support::notify::free_port();
    std::fs::create_dir_all(&app.settings.data_dir).expect("data directory");
    let child = serve_command(&app.settings)
        .env("KONTOR_LISTEN", format!("127.0.0.1:{port}"))
        .env("KONTOR_SMTP_HOST", "127.0.0.1")
        .env("KONTOR_SMTP_PORT", smtp.port.to_string())
        .env("KONTOR_SMTP_TLS", "none")
        .env("KONTOR_SMTP_FROM", "kontor@rz.example")
        .env("KONTOR_WEBHOOK_ALLOW_HTTP", "true")
        .env("KONTOR_NOTIFY_POLL_MS", "20")
        .env("KONTOR_NOTIFY_WORKERS", "8")
        .env("KONTOR_RECONCILE_WORKERS", "0")
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start kontor serve");
    let ready = format!("http://127.0.0.1:{port}/readyz");
    until_within(
        Duration::from_secs(30),
        "the process is ready",
        async || {
            let ok = reqwest::get(&ready).await.ok()?.status() == StatusCode::OK;
            ok.then_some(())
        },
    )
    .await;
    Serve(child)
}

async fn two_replicas_send_each_delivery_once(backend: Backend) {
    let dir = std::env::temp_dir().join(format!("kontor-notify-{}", crate::support::unique()));
    let smtp = SmtpServer::start(&dir);
    // The test's own process writes the events and sends nothing; the two
    // replicas race for the deliveries.
    let app = spawn(backend, &smtp, 0).await;
    let (tenant, secret) = tenant_with_webhook(&app, |_| "http://127.0.0.1:9/x".into()).await;
    let receiver = WebhookReceiver::start(&dir, &secret, 0);
    point_webhooks_at(&app, &receiver.url).await;
    let _a = serve(&app, &smtp).await;
    let _b = serve(&app, &smtp).await;

    let n = 20;
    for i in 1..=n {
        deliver(&app, &tenant.token, tenant.application_id, i).await;
    }
    let (emails, webhooks) = all_delivered(&app).await;
    assert_eq!((emails, webhooks), (n as i64, n as i64));
    once_each(&smtp.messages(), emails);
    verified_once_each(&receiver.requests(), webhooks);
    // Both took part (each delivery records who sent it: claimed_by is
    // cleared, so the attempts tell): every delivery was tried once.
    assert_eq!(
        count(
            &app,
            "SELECT CAST(COUNT(*) AS BIGINT) FROM notification_deliveries WHERE attempts <> 1"
        )
        .await,
        0
    );
    let _ = std::fs::remove_dir_all(&dir);
}

async fn a_failing_environment_is_told_once_and_again_when_it_recovers(backend: Backend) {
    let fake = FakeKube::start().await;
    let app = spawn_on_fake(backend, &fake).await;
    let tenant = app.contract_with_room(100).await;
    fake.fail_writes(Some(500));
    app.book_ok(
        &tenant.token,
        tenant.application_id,
        "vorpruefung",
        "container-namespace",
        "S",
    )
    .await;
    // Several attempts fail; one event.
    until_within(
        Duration::from_secs(30),
        "several failed attempts",
        async || {
            let (attempts,): (i64,) =
                sqlx::query_as("SELECT COALESCE(MAX(attempts), 0) FROM provisioning_outbox")
                    .fetch_one(&app.db().pool)
                    .await
                    .unwrap();
            (attempts >= 3).then_some(())
        },
    )
    .await;
    let kinds = |app: TestApp| async move {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT kind FROM notification_events ORDER BY id")
                .fetch_all(&app.db().pool)
                .await
                .unwrap();
        rows.into_iter().map(|(k,)| k).collect::<Vec<_>>()
    };
    assert_eq!(kinds(app.clone()).await, ["provisioning.failed"]);
    fake.fail_writes(None);
    app.settle().await;
    assert_eq!(
        kinds(app.clone()).await,
        ["provisioning.failed", "provisioning.recovered"]
    );
}
