//! Answers that keep tenant data out of caches and say enough but no more:
//! `Cache-Control: no-store` and a `Permissions-Policy` on pages, API
//! answers and downloads; the Bearer scheme in any case; 413 for an
//! oversized form; a refused token's detail only in the log, under the
//! request id the answer names.

use std::io::Read as _;

use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use crate::{
    oidc_provider::Provider,
    support::{Backend, Browser, TestApp, serve_command, until_within},
};

api_tests! {
    pages_api_answers_and_downloads_are_not_stored_and_may_use_no_device,
    the_bearer_scheme_is_case_insensitive,
    an_oversized_form_answers_413_and_changes_nothing,
}

fn assert_private(resp: &reqwest::Response, what: &str) {
    assert_eq!(
        resp.headers()
            .get(header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok()),
        Some("no-store"),
        "{what}"
    );
    let policy = resp
        .headers()
        .get("permissions-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    for feature in ["camera=()", "microphone=()", "geolocation=()", "payment=()"] {
        assert!(policy.contains(feature), "{what}: {policy}");
    }
}

async fn pages_api_answers_and_downloads_are_not_stored_and_may_use_no_device(app: TestApp) {
    let demo = app.demo().await;
    let browser = Browser::log_in(&app, "finanzen").await;
    let get = |path: String| {
        let client = browser.client.clone();
        let url = format!("{}{path}", app.address);
        async move { client.get(url).send().await.expect("GET") }
    };
    let page = get("/uebersicht".into()).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_private(&page, "the Übersicht");
    let month = kontor::domain::billing::Month::containing(kontor::db::now());
    let csv = get(format!(
        "/abrechnung/{month}/vertrag/{}/csv",
        demo.musterhausen.contract_id
    ))
    .await;
    assert_eq!(
        csv.status(),
        StatusCode::OK,
        "{}",
        csv.text().await.unwrap()
    );
    assert_private(&csv, "a statement's CSV");
    let login = reqwest::get(format!("{}/anmelden", app.address))
        .await
        .unwrap();
    assert_private(&login, "the login page");

    let token = app.token_for("finanzen").await;
    let api = app.get("/api/v1/contracts", &token).await;
    assert_eq!(api.status(), StatusCode::OK);
    assert_private(&api, "an API answer");
    let download = app
        .get(&format!("/api/v1/statements/{month}/csv"), &token)
        .await;
    assert_eq!(download.status(), StatusCode::OK);
    assert_private(&download, "an API download");

    // Static files hold no data and may be cached.
    let css = reqwest::get(format!("{}/static/kontor.css", app.address))
        .await
        .unwrap();
    assert_eq!(css.status(), StatusCode::OK);
    assert!(css.headers().get(header::CACHE_CONTROL).is_none());
}

async fn the_bearer_scheme_is_case_insensitive(app: TestApp) {
    let token = app.token_for("systempfleger").await;
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let resp = app
            .request(reqwest::Method::GET, "/api/v1/bookings")
            .header(header::AUTHORIZATION, format!("{scheme} {token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{scheme}");
    }
    for header_value in [
        format!("Basic {token}"),
        format!("Bearer{token}"),
        "Bearer ".into(),
    ] {
        let resp = app
            .request(reqwest::Method::GET, "/api/v1/bookings")
            .header(header::AUTHORIZATION, header_value.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{header_value}");
    }
}

async fn an_oversized_form_answers_413_and_changes_nothing(app: TestApp) {
    let browser = Browser::log_in(&app, "systempfleger").await;
    let before = app.counts().await;
    let big = "x".repeat(70 * 1024);
    let (status, page) = browser
        .post(
            "/api-tokens",
            &[("name", big.as_str()), ("expires_on", "2099-01-01")],
        )
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(page.contains("Formular zu groß"), "{page}");
    assert_eq!(app.counts().await, before);
}

/// A refused access token: the caller reads a plain reason and the request
/// id (header); the log of the process has the library's detail under that
/// id. (A process of its own, so that its log can be read.)
#[tokio::test(flavor = "multi_thread")]
async fn a_refused_tokens_detail_is_in_the_log_under_the_request_id() {
    let provider = Provider::start().await;
    let app = TestApp::spawn_with(Backend::Sqlite, true).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = app.settings.data_dir.join("serve.log");
    std::fs::create_dir_all(&app.settings.data_dir).unwrap();
    let mut child = serve_command(&app.settings)
        .env("KONTOR_LISTEN", format!("127.0.0.1:{port}"))
        .env("KONTOR_OIDC_ISSUER", &provider.issuer)
        .env("KONTOR_OIDC_CLIENT_ID", "kontor")
        .env("KONTOR_OIDC_CLIENT_SECRET", "kontor-test-secret")
        .env("KONTOR_OIDC_AUDIENCE", "kontor-api")
        .env("KONTOR_LOG", "info")
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("kontor serve");
    let address = format!("http://127.0.0.1:{port}");
    until_within(
        std::time::Duration::from_secs(30),
        "the process is ready",
        async || {
            let ok = reqwest::get(format!("{address}/readyz"))
                .await
                .ok()?
                .status()
                == StatusCode::OK;
            ok.then_some(())
        },
    )
    .await;
    let claims = json!({
        "sub": "u-log", "preferred_username": "log", "groups": ["nordkreis/systempfleger"],
        "aud": "someone-else",
    });
    let token = provider.mint(claims, None).await;
    let resp = reqwest::Client::new()
        .get(format!("{address}/api/v1/bookings"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let request_id = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
    let problem: Value = resp.json().await.unwrap();
    assert_eq!(problem["detail"], "Das Token ist ungültig oder abgelaufen.");
    let english: Value = reqwest::Client::new()
        .get(format!("{address}/api/v1/bookings"))
        .bearer_auth(&token)
        .header("accept-language", "en")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(english["detail"], "The token is invalid or has expired.");
    let line = until_within(
        std::time::Duration::from_secs(10),
        "the refusal in the log",
        async || {
            let mut text = String::new();
            std::fs::File::open(&log)
                .ok()?
                .read_to_string(&mut text)
                .ok()?;
            text.lines()
                .find(|l| l.contains(&request_id) && l.contains("access token refused"))
                .map(str::to_owned)
        },
    )
    .await;
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        line.to_lowercase().contains("aud"),
        "the log names what failed: {line}"
    );
}
