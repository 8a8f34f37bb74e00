//! Text with control characters (a NUL byte above all, which PostgreSQL
//! refuses in text) never reaches the database: the API answers 422 naming
//! the field, a page form comes back with the message beside the field, a
//! query string is refused, and nothing is written. And an answer given
//! before a request's body was read leaves the keep-alive connection usable.

use reqwest::{Method, StatusCode};
use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::support::{Browser, TestApp, assert_validation};

api_tests! {
    api_bodies_with_a_control_character_are_refused_naming_the_field_and_write_nothing,
    api_queries_with_a_control_character_are_refused,
    page_forms_with_a_control_character_come_back_with_the_message_and_write_nothing,
    page_queries_with_a_control_character_are_refused,
    an_early_answer_leaves_the_keep_alive_connection_usable,
}

/// Every table a refused request could have written to.
const TABLES: [&str; 13] = [
    "customers",
    "contracts",
    "applications",
    "products",
    "prices",
    "bookings",
    "booking_periods",
    "releases",
    "promotions",
    "deployments",
    "api_tokens",
    "idempotency_keys",
    "audit_log",
];

async fn rows(app: &TestApp) -> Vec<(&'static str, i64, String)> {
    let mut out = Vec::new();
    for table in TABLES {
        let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM {table}"
        )))
        .fetch_one(&app.db().pool)
        .await
        .expect("count");
        out.push((table, n, String::new()));
    }
    // Renames change no count: compare the names too.
    let names: Vec<(String,)> = sqlx::query_as("SELECT name FROM customers ORDER BY id")
        .fetch_all(&app.db().pool)
        .await
        .expect("names");
    out.push((
        "customer names",
        0,
        names
            .into_iter()
            .map(|(n,)| n)
            .collect::<Vec<_>>()
            .join("|"),
    ));
    out
}

async fn api_bodies_with_a_control_character_are_refused_naming_the_field_and_write_nothing(
    app: TestApp,
) {
    let t = app.contract_with_room(10).await;
    let before = rows(&app).await;
    let cases = [
        (
            "/api/v1/bookings".to_owned(),
            json!({"application_id": t.application_id, "stage": "vorpruefung",
                   "product": "container\u{0}namespace", "size": "S"}),
            "product",
        ),
        (
            format!("/api/v1/applications/{}/releases", t.application_id),
            json!({"version": "1.0.0", "image": "registry.example/app\u{0}@sha256:x"}),
            "image",
        ),
        (
            format!("/api/v1/applications/{}/releases", t.application_id),
            json!({"version": "1.0.0", "image": "registry.example/app:1",
                   "checksums": {"app": "sha256:\u{7}"}}),
            "checksums.app",
        ),
        (
            "/api/v1/promotions/1/reject".to_owned(),
            json!({"reason": "abgelehnt\u{0}"}),
            "reason",
        ),
        (
            "/api/v1/bookings/1/resize".to_owned(),
            json!({"size": "M\u{1b}"}),
            "size",
        ),
    ];
    for (path, body, field) in cases {
        assert_validation(app.post_json(&path, &t.token, &body).await, field).await;
    }
    assert_eq!(rows(&app).await, before, "nothing written");
}

async fn api_queries_with_a_control_character_are_refused(app: TestApp) {
    let t = app.contract_with_room(10).await;
    assert_validation(
        app.get("/api/v1/bookings?product=a%00b", &t.token).await,
        "product",
    )
    .await;
    assert_validation(
        app.get("/api/v1/statements?month=2026-1%001", &t.token)
            .await,
        "month",
    )
    .await;
}

/// Who posts, where, and which fields (without the CSRF token).
type FormPost<'a> = (&'a Browser, String, Vec<(&'a str, &'a str)>);

async fn page_forms_with_a_control_character_come_back_with_the_message_and_write_nothing(
    app: TestApp,
) {
    let demo = app.demo().await;
    let betreiber = Browser::log_in(&app, "betreiber").await;
    let systempfleger = Browser::log_in(&app, "systempfleger").await;
    let customer = format!("/betrieb/kunden/{}", demo.musterhausen.id);
    let contract = demo.musterhausen.contract_id.to_string();
    let message = "Steuerzeichen (etwa Null-Bytes) sind hier nicht erlaubt.";
    let before = rows(&app).await;
    let cases: Vec<FormPost> = vec![
        (
            &betreiber,
            "/betrieb/kunden".into(),
            vec![("slug", "neukunde"), ("name", "Neue\u{0}Behörde")],
        ),
        (&betreiber, customer.clone(), vec![("name", "Stadt\u{0}")]),
        (
            &betreiber,
            format!("{customer}/verfahren"),
            vec![
                ("contract_id", &contract),
                ("slug", "neuverfahren"),
                ("name", "Verfahren\u{7}"),
            ],
        ),
        (
            &betreiber,
            "/betrieb/vertraege".into(),
            vec![
                ("customer_id", "1"),
                ("number", "DLV-2026-9999"),
                ("title", "Titel"),
                ("valid_from", "2026-01-01"),
                ("valid_until", "2026-12-31"),
                ("kostenstelle", "4711\u{0}"),
                ("haushaltsstelle", "0610.1"),
                ("leitweg_id", "04011000-1234512345-06"),
                ("billing_model", "nutzung"),
                ("base_fee", ""),
                ("max_vcpu", "4"),
                ("max_memory_gib", "16"),
                ("max_storage_gib", "100"),
                ("monthly_budget", "100,00"),
            ],
        ),
        (
            &betreiber,
            "/betrieb/katalog/produkte".into(),
            vec![
                ("slug", "neuprodukt"),
                ("name", "Produkt\u{0}"),
                ("description", ""),
            ],
        ),
        (
            &systempfleger,
            "/api-tokens".into(),
            vec![("name", "CI\u{0}"), ("expires_on", "2099-01-01")],
        ),
    ];
    for (browser, path, fields) in cases {
        let (status, page) = browser.post(&path, &fields).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {page}");
        assert!(
            page.contains(message),
            "{path}: the message beside the field"
        );
    }
    assert_eq!(rows(&app).await, before, "nothing written");
}

async fn page_queries_with_a_control_character_are_refused(app: TestApp) {
    let systempfleger = Browser::log_in(&app, "systempfleger").await;
    let (status, page) = systempfleger.get("/buchungen?produkt=a%00b").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
    assert!(page.contains("Steuerzeichen"));
}

/// Sends two requests on one connection: a POST whose handler answers
/// before reading the body (a path id that cannot exist), then a GET.
/// Both must be answered.
async fn an_early_answer_leaves_the_keep_alive_connection_usable(app: TestApp) {
    let t = app.contract_with_room(10).await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let body = "x".repeat(200_000);
    let mut stream = tokio::net::TcpStream::connect(&address)
        .await
        .expect("connect");
    for (method, path, body) in [
        (
            Method::POST,
            "/api/v1/promotions/keine-zahl/withdraw",
            body.as_str(),
        ),
        (Method::POST, "/api/v1/deployments/1/retry", body.as_str()),
        (Method::GET, "/healthz", ""),
    ] {
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            t.token,
            body.len()
        );
        stream.write_all(request.as_bytes()).await.expect("send");
        let answer = read_response(&mut stream).await;
        assert!(
            answer.starts_with("HTTP/1.1 "),
            "{method} {path}: an answer on the same connection, got {answer:?}"
        );
        assert!(
            !answer.to_ascii_lowercase().contains("connection: close"),
            "{method} {path}: the connection stays open: {answer}"
        );
    }
}

/// Reads one HTTP/1.1 response (headers and a Content-Length body).
async fn read_response(stream: &mut tokio::net::TcpStream) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let header_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut chunk))
            .await
            .expect("an answer within 10 s")
            .expect("read");
        assert!(
            n > 0,
            "connection closed before an answer: {:?}",
            String::from_utf8_lossy(&buf)
        );
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).to_string();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    while buf.len() < header_end + length {
        let n = stream.read(&mut chunk).await.expect("read body");
        assert!(n > 0, "connection closed mid-body");
        buf.extend_from_slice(&chunk[..n]);
    }
    head
}
