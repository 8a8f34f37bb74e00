//! The Abrechnung pages over plain HTTP: tenant isolation of statements and
//! CSV downloads, bad months, ids and formats (a page with the reason, never
//! a 500), and the budget block on the Übersicht. (The browser side, with
//! axe-core and the chart, lives in tests/browser/billing.test.mjs.)

use kontor::domain::billing::Month;
use reqwest::{StatusCode, header, redirect::Policy};

use crate::support::{TestApp, csrf_in};

/// The current month in Germany, computed here rather than by the code
/// under test.
fn current_month() -> Month {
    let now = jiff::Timestamp::now()
        .in_tz("Europe/Berlin")
        .expect("the bundled tz database knows Europe/Berlin");
    Month::parse(&format!("{:04}-{:02}", now.year(), now.month())).expect("a month")
}

/// Closes a month that is over, as the scheduled job would.
async fn close(app: &TestApp, month: Month) {
    kontor::billing::close::close_month(app.db(), month, kontor::db::now())
        .await
        .expect("close the month");
}

/// An answer: status, content type, body.
struct Page {
    status: StatusCode,
    content_type: String,
    body: String,
}

impl Page {
    fn is_html(&self) -> bool {
        self.content_type.starts_with("text/html")
    }

    fn is_csv(&self) -> bool {
        self.content_type.starts_with("text/csv")
    }

    /// The data rows of a German CSV (BOM, `;`, CRLF), after the header.
    fn csv_rows(&self) -> Vec<&str> {
        let text = self
            .body
            .strip_prefix('\u{feff}')
            .unwrap_or_else(|| panic!("the CSV starts with the UTF-8 BOM: {:?}", self.head()));
        let mut lines = text.split("\r\n");
        let header = lines.next().unwrap_or_default();
        assert!(
            header.starts_with("Vertragsnummer;"),
            "CSV header: {header}"
        );
        lines.filter(|l| !l.is_empty()).collect()
    }

    fn head(&self) -> &str {
        &self.body[..self.body.len().min(300)]
    }
}

/// A browser-like client logged in with a demo login: keeps cookies, does
/// not follow redirects.
struct Browser {
    app: TestApp,
    client: reqwest::Client,
}

impl Browser {
    async fn log_in(app: &TestApp, login: &str) -> Browser {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            .build()
            .expect("client");
        let browser = Browser {
            app: app.clone(),
            client,
        };
        let page = browser.get("/anmelden").await;
        assert_eq!(page.status, StatusCode::OK);
        let resp = browser
            .client
            .post(format!("{}/anmelden", app.address))
            .form(&[("csrf", csrf_in(&page.body)), ("login", login.into())])
            .send()
            .await
            .expect("POST /anmelden");
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "login as {login}");
        browser
    }

    async fn get(&self, path: &str) -> Page {
        let resp = self
            .client
            .get(format!("{}{path}", self.app.address))
            .send()
            .await
            .expect("GET");
        let status = resp.status();
        let content_type = resp
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = resp.text().await.expect("body");
        Page {
            status,
            content_type,
            body,
        }
    }

    /// GETs `path` and insists on `status` and an HTML page.
    async fn page(&self, path: &str, status: StatusCode) -> Page {
        let page = self.get(path).await;
        assert_eq!(page.status, status, "{path}: status; body: {}", page.head());
        assert!(
            page.is_html(),
            "{path}: an HTML page, got {:?}: {}",
            page.content_type,
            page.head()
        );
        page
    }
}

const NOT_FOUND: &str = "Diese Seite oder dieses Objekt gibt es nicht";
const BAD_MONTH: &str = "ist kein Monat im Format JJJJ-MM";
const NOT_BEGUN: &str = "der Monat hat nicht begonnen";

api_tests! {
    another_customers_statement_and_its_csv_are_not_found_through_the_pages,
    a_customers_month_csv_holds_only_its_own_contract,
    bad_months_ids_and_formats_answer_with_a_page_never_500,
    the_overview_shows_the_budget_block_only_to_roles_that_read_money,
}

async fn another_customers_statement_and_its_csv_are_not_found_through_the_pages(app: TestApp) {
    let demo = app.demo().await;
    let (month, previous) = (current_month(), current_month().prev());
    close(&app, previous).await;
    let nordkreis = Browser::log_in(&app, "systempfleger-nordkreis").await;
    let foreign = demo.musterhausen.contract_id;
    let own = demo.nordkreis.contract_id;

    for m in [month, previous] {
        let path = format!("/abrechnung/{m}/vertrag/{foreign}");
        let page = nordkreis.page(&path, StatusCode::NOT_FOUND).await;
        assert!(page.body.contains(NOT_FOUND), "{path}: {}", page.body);
        assert!(
            !page.body.contains("DLV-2026-0042"),
            "{path} names the contract"
        );
        for csv in [format!("{path}/csv"), format!("{path}/csv?format=rfc4180")] {
            let page = nordkreis.page(&csv, StatusCode::NOT_FOUND).await;
            assert!(page.body.contains(NOT_FOUND), "{csv}: {}", page.body);
            assert!(!page.body.contains("DLV-2026-0042"), "{csv} leaks rows");
        }

        let path = format!("/abrechnung/{m}/vertrag/{own}");
        let page = nordkreis.page(&path, StatusCode::OK).await;
        assert!(page.body.contains("DLV-2026-0311"), "{path}: own contract");
        assert!(page.body.contains("Grundgebühr"), "{path}: base fee line");
        assert!(page.body.contains("150,00"), "{path}: base fee amount");
        assert!(!page.body.contains("DLV-2026-0042"), "{path}");

        let list = nordkreis
            .page(&format!("/abrechnung?monat={m}"), StatusCode::OK)
            .await;
        assert!(list.body.contains("DLV-2026-0311"), "month list: own");
        for other in ["DLV-2026-0042", "DLV-2026-0107", "Musterhausen"] {
            assert!(!list.body.contains(other), "month list shows {other}");
        }
    }
    // A Systempfleger:in reads statements but downloads none, not even the
    // own contract's.
    let csv = nordkreis
        .get(&format!("/abrechnung/{month}/vertrag/{own}/csv"))
        .await;
    assert_eq!(csv.status, StatusCode::FORBIDDEN, "{}", csv.head());
    let csv = nordkreis.get(&format!("/abrechnung/{month}/csv")).await;
    assert_eq!(csv.status, StatusCode::FORBIDDEN, "{}", csv.head());
}

async fn a_customers_month_csv_holds_only_its_own_contract(app: TestApp) {
    let (month, previous) = (current_month(), current_month().prev());
    close(&app, previous).await;
    let finanzen = Browser::log_in(&app, "finanzen").await;
    let finanzen_rz = Browser::log_in(&app, "finanzen-rz").await;

    for (m, status) in [(month, "vorläufig"), (previous, "endgültig")] {
        let path = format!("/abrechnung/{m}/csv");
        let csv = finanzen.get(&path).await;
        assert_eq!(csv.status, StatusCode::OK, "{path}: {}", csv.head());
        assert!(csv.is_csv(), "{path}: {:?}", csv.content_type);
        let rows = csv.csv_rows();
        assert!(!rows.is_empty(), "{path}: the month has line items");
        for row in &rows {
            assert!(
                row.starts_with("DLV-2026-0042;"),
                "{path}: a row of another contract: {row}"
            );
            assert!(row.contains(&format!(";{m};{status};")), "{path}: {row}");
        }
        for other in ["DLV-2026-0107", "DLV-2026-0311", "Nordkreis", "Landesamt"] {
            assert!(!csv.body.contains(other), "{path} contains {other}");
        }

        // The same as RFC 4180.
        let path = format!("/abrechnung/{m}/csv?format=rfc4180");
        let csv = finanzen.get(&path).await;
        assert_eq!(csv.status, StatusCode::OK, "{path}");
        assert!(!csv.body.starts_with('\u{feff}'), "{path}: no BOM");
        let data: Vec<&str> = csv
            .body
            .split("\r\n")
            .skip(1)
            .filter(|l| !l.is_empty())
            .collect();
        assert_eq!(data.len(), rows.len(), "{path}: as many rows");
        assert!(
            data.iter().all(|r| r.starts_with("DLV-2026-0042,")),
            "{path}: {data:?}"
        );

        // The provider's finance staff export all customers' contracts.
        let all = finanzen_rz.get(&format!("/abrechnung/{m}/csv")).await;
        assert_eq!(all.status, StatusCode::OK);
        let all_rows = all.csv_rows();
        for number in ["DLV-2026-0042", "DLV-2026-0107", "DLV-2026-0311"] {
            assert!(
                all_rows
                    .iter()
                    .any(|r| r.starts_with(&format!("{number};"))),
                "finanzen-rz {m}: no rows of {number}"
            );
        }
    }
}

async fn bad_months_ids_and_formats_answer_with_a_page_never_500(app: TestApp) {
    let demo = app.demo().await;
    let id = demo.musterhausen.contract_id;
    let month = current_month();
    let future = month.next();
    let finanzen = Browser::log_in(&app, "finanzen").await;

    // (path, status, text the page must contain)
    let cases: Vec<(String, StatusCode, &str)> = vec![
        (
            format!("/abrechnung/2026-13/vertrag/{id}"),
            StatusCode::BAD_REQUEST,
            BAD_MONTH,
        ),
        (
            format!("/abrechnung/2026-13/vertrag/{id}/csv"),
            StatusCode::BAD_REQUEST,
            BAD_MONTH,
        ),
        (
            "/abrechnung/2026-13/csv".into(),
            StatusCode::BAD_REQUEST,
            BAD_MONTH,
        ),
        (
            format!("/abrechnung/2026-1/vertrag/{id}"),
            StatusCode::BAD_REQUEST,
            BAD_MONTH,
        ),
        (
            format!("/abrechnung/2026-00/vertrag/{id}"),
            StatusCode::BAD_REQUEST,
            BAD_MONTH,
        ),
        (
            format!("/abrechnung/November/vertrag/{id}"),
            StatusCode::BAD_REQUEST,
            BAD_MONTH,
        ),
        (
            format!("/abrechnung/{}/vertrag/{id}", "9".repeat(300)),
            StatusCode::BAD_REQUEST,
            BAD_MONTH,
        ),
        (
            format!("/abrechnung/{month}/vertrag/abc"),
            StatusCode::NOT_FOUND,
            NOT_FOUND,
        ),
        (
            format!("/abrechnung/{month}/vertrag/abc/csv"),
            StatusCode::NOT_FOUND,
            NOT_FOUND,
        ),
        (
            format!("/abrechnung/{month}/vertrag/0"),
            StatusCode::NOT_FOUND,
            NOT_FOUND,
        ),
        (
            format!("/abrechnung/{month}/vertrag/-1"),
            StatusCode::NOT_FOUND,
            NOT_FOUND,
        ),
        (
            format!("/abrechnung/{month}/vertrag/99999999999999999999"),
            StatusCode::NOT_FOUND,
            NOT_FOUND,
        ),
        (
            format!("/abrechnung/{month}/vertrag/999999"),
            StatusCode::NOT_FOUND,
            NOT_FOUND,
        ),
        (
            format!("/abrechnung/{month}/vertrag/{id}/csv?format=xlsx"),
            StatusCode::BAD_REQUEST,
            "Unbekanntes Format",
        ),
        (
            format!("/abrechnung/{month}/csv?format=xlsx"),
            StatusCode::BAD_REQUEST,
            "Unbekanntes Format",
        ),
        (
            format!("/abrechnung/{future}/vertrag/{id}"),
            StatusCode::BAD_REQUEST,
            NOT_BEGUN,
        ),
        (
            format!("/abrechnung/{future}/vertrag/{id}/csv"),
            StatusCode::BAD_REQUEST,
            NOT_BEGUN,
        ),
        (
            format!("/abrechnung/{future}/csv"),
            StatusCode::BAD_REQUEST,
            NOT_BEGUN,
        ),
        (
            format!("/abrechnung/2099-01/vertrag/{id}"),
            StatusCode::BAD_REQUEST,
            NOT_BEGUN,
        ),
        // Before the contract began (the demo contracts start 2026-01).
        (
            format!("/abrechnung/2025-12/vertrag/{id}"),
            StatusCode::BAD_REQUEST,
            "gilt im Dezember 2025 nicht",
        ),
        (
            format!("/abrechnung/2025-12/vertrag/{id}/csv"),
            StatusCode::BAD_REQUEST,
            "gilt im Dezember 2025 nicht",
        ),
    ];
    for (path, status, text) in &cases {
        let page = finanzen.page(path, *status).await;
        assert!(
            page.body.contains(text),
            "{path}: expected {text:?} on the page:\n{}",
            page.body
        );
        assert!(
            !page.body.contains("Fehlerkennung"),
            "{path}: an internal error"
        );
    }

    // The month list shows a bad month's reason beside the selector (with
    // the current month's statements), never an error page.
    for (query, text) in [
        ("2026-13", BAD_MONTH),
        ("13-2026", BAD_MONTH),
        ("%E2%80%9E%3Cscript%3E", BAD_MONTH),
        ("2099-01", NOT_BEGUN),
    ] {
        let path = format!("/abrechnung?monat={query}");
        let page = finanzen.page(&path, StatusCode::OK).await;
        assert!(page.body.contains(text), "{path}: {text:?}:\n{}", page.body);
        assert!(
            page.body.contains("id=\"f-monat-error\""),
            "{path}: the message sits beside the selector"
        );
        assert!(
            page.body.contains("aria-describedby=\"f-monat-error\""),
            "{path}: the selector points at the message"
        );
        assert!(!page.body.contains("<script>"), "{path}: input is escaped");
        assert!(
            page.body
                .contains(&format!("<option value=\"{month}\" selected")),
            "{path}: falls back to the current month"
        );
    }
    // A month before any contract: no statements, and no error either.
    let page = finanzen
        .page("/abrechnung?monat=2025-12", StatusCode::OK)
        .await;
    assert!(
        page.body
            .contains("In diesem Monat gilt keiner Ihrer Verträge."),
        "{}",
        page.body
    );
}

async fn the_overview_shows_the_budget_block_only_to_roles_that_read_money(app: TestApp) {
    const BLOCK: &str = "Kosten im laufenden Monat";
    let systempfleger = Browser::log_in(&app, "systempfleger").await;
    let page = systempfleger.page("/uebersicht", StatusCode::OK).await;
    assert!(page.body.contains(BLOCK), "systempfleger: {}", page.body);
    assert!(
        page.body
            .contains(&format!("href=\"/abrechnung/{}/vertrag/", current_month())),
        "systempfleger: a link to the current statement"
    );

    let entwickler = Browser::log_in(&app, "entwickler").await;
    let page = entwickler.page("/uebersicht", StatusCode::OK).await;
    assert!(
        !page.body.contains(BLOCK),
        "entwickler sees the budget block"
    );
    assert!(
        !page.body.contains("href=\"/abrechnung"),
        "entwickler: no link to the Abrechnung"
    );
    entwickler.page("/abrechnung", StatusCode::FORBIDDEN).await;
}
