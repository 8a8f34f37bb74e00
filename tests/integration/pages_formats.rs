//! Formats and words on the pages (issue 16): German dates (`01.01.2026`,
//! with the time where it matters), numbers grouped by thousands
//! (`2.000 GiB`), measured use with at most two decimals, and the Glossar
//! that the pages link their terms to. The API, the CSV exports and the CLI
//! keep ISO dates; their tests say so.

use kontor::domain::billing::Month;
use reqwest::StatusCode;

use crate::support::{Browser, TestApp};

api_tests! {
    the_main_pages_write_dates_the_german_way_and_no_iso_date_in_their_text,
    quantities_are_grouped_by_thousands_and_measured_use_has_at_most_two_decimals,
    the_glossar_explains_the_terms_without_login_and_the_pages_link_to_it,
    the_contract_and_price_forms_ask_for_days_with_date_fields,
}

/// The text a person sees: the markup (and with it every attribute, where
/// ISO dates belong, e.g. in `value` of a date field) taken out.
fn visible_text(html: &str) -> String {
    let body = html.split("<body").nth(1).unwrap_or(html);
    let mut text = String::new();
    let mut in_tag = false;
    for c in body.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn digits(s: &[char]) -> bool {
    s.iter().all(char::is_ascii_digit)
}

/// Whether `w` (ten characters) is `yyyy-mm-dd`.
fn is_iso_date(w: &[char]) -> bool {
    digits(&w[0..4]) && w[4] == '-' && digits(&w[5..7]) && w[7] == '-' && digits(&w[8..10])
}

/// Whether `w` (ten characters) is `dd.mm.yyyy`.
fn is_german_date(w: &[char]) -> bool {
    digits(&w[0..2]) && w[2] == '.' && digits(&w[3..5]) && w[5] == '.' && digits(&w[6..10])
}

/// Every `yyyy-mm-dd` in `text`.
fn iso_dates(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars
        .windows(10)
        .filter(|w| is_iso_date(w))
        .map(|w| w.iter().collect())
        .collect()
}

/// Whether `text` holds a `dd.mm.yyyy` date.
fn has_german_date(text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    chars.windows(10).any(is_german_date)
}

/// Whether `text` holds a `dd.mm.yyyy hh:mm` instant.
fn has_german_instant(text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    chars.windows(16).any(|w| {
        is_german_date(&w[0..10])
            && w[10] == ' '
            && digits(&w[11..13])
            && w[13] == ':'
            && digits(&w[14..16])
    })
}

/// The current month in Germany, computed here rather than by the code
/// under test.
fn current_month() -> Month {
    let now = jiff::Timestamp::now()
        .in_tz("Europe/Berlin")
        .expect("the bundled tz database knows Europe/Berlin");
    Month::parse(&format!("{:04}-{:02}", now.year(), now.month())).expect("a month")
}

async fn musterhausen(app: &TestApp) -> (i64, i64) {
    let demo = app.demo().await;
    (demo.musterhausen.id, demo.musterhausen.contract_id)
}

async fn page(browser: &Browser, path: &str) -> (String, String) {
    let (status, html) = browser.get(path).await;
    assert_eq!(status, StatusCode::OK, "{path}: {html}");
    let text = visible_text(&html);
    (html, text)
}

fn assert_no_iso_date(path: &str, text: &str) {
    let found = iso_dates(text);
    assert!(found.is_empty(), "{path} shows ISO dates {found:?}: {text}");
}

async fn the_main_pages_write_dates_the_german_way_and_no_iso_date_in_their_text(app: TestApp) {
    let (customer, contract) = musterhausen(&app).await;
    let month = current_month();
    let betreiber = Browser::log_in(&app, "betreiber").await;
    let pfleger = Browser::log_in(&app, "systempfleger").await;

    // The demo contracts run from 1 January 2026 to 31 December 2028.
    let validity = "01.01.2026 bis 31.12.2028";
    for path in [
        "/betrieb/vertraege".to_owned(),
        format!("/betrieb/kunden/{customer}"),
    ] {
        let (_, text) = page(&betreiber, &path).await;
        assert!(text.contains(validity), "{path}: {text}");
        assert_no_iso_date(&path, &text);
    }
    let (_, text) = page(&pfleger, "/uebersicht").await;
    assert!(text.contains(&format!("gültig {validity}")), "{text}");
    assert_no_iso_date("/uebersicht", &text);
    let (_, text) = page(&betreiber, "/uebersicht").await;
    assert_no_iso_date("/uebersicht (Betreiber)", &text);

    // Events carry the time as well.
    let statement = format!("/abrechnung/{month}/vertrag/{contract}");
    let (html, text) = page(&pfleger, &statement).await;
    assert!(has_german_instant(&text), "{statement}: {text}");
    assert_no_iso_date(&statement, &text);
    if html.contains("id=\"days-cap\"") {
        let days = &html[html.find("id=\"days-cap\"").unwrap()..];
        assert!(has_german_date(&visible_text(days)), "{days}");
    }

    let (_, text) = page(&betreiber, "/revision").await;
    assert!(has_german_instant(&text), "/revision: {text}");
    assert_no_iso_date("/revision", &text);

    let (_, text) = page(&pfleger, "/buchungen").await;
    assert!(has_german_instant(&text), "/buchungen: {text}");
    assert_no_iso_date("/buchungen", &text);

    // The token page's hint names the last possible day in German; the date
    // field itself keeps ISO, as `<input type="date">` wants it.
    let (html, text) = page(&pfleger, "/api-tokens").await;
    assert!(text.contains("(spätestens "), "{text}");
    assert_no_iso_date("/api-tokens", &text);
    assert!(html.contains("type=\"date\""), "{html}");
}

async fn quantities_are_grouped_by_thousands_and_measured_use_has_at_most_two_decimals(
    app: TestApp,
) {
    let (_, contract) = musterhausen(&app).await;
    let betreiber = Browser::log_in(&app, "betreiber").await;
    // Storage ceilings of the demo contracts: 2000, 5000 and 1000 GiB.
    let (_, text) = page(&betreiber, "/betrieb/vertraege").await;
    for grouped in [
        "von 2.000 GiB",
        "von 5.000 GiB",
        "von 1.000 GiB",
        "2.500,00 €",
    ] {
        assert!(text.contains(grouped), "{grouped} in {text}");
    }
    assert!(!text.contains("2000 GiB"), "{text}");
    let (_, text) = page(&betreiber, "/uebersicht").await;
    assert!(text.contains("von 5.000 GiB"), "{text}");

    // The statement's booked-and-measured table and its line hours.
    let pfleger = Browser::log_in(&app, "systempfleger").await;
    let path = format!("/abrechnung/{}/vertrag/{contract}", current_month());
    let (html, _) = page(&pfleger, &path).await;
    if let Some(at) = html.find("id=\"usage-cap\"") {
        let table = &html[at..at + html[at..].find("</table>").expect("the table's end")];
        let text = visible_text(table);
        for number in text.split([' ', '/']).filter(|w| w.contains(',')) {
            let decimals = number.split(',').nth(1).unwrap_or_default();
            assert!(
                decimals.len() <= 2,
                "{number} has more than two decimals: {text}"
            );
        }
    }
    if let Some(at) = html.find("id=\"pos-cap\"") {
        let table = &html[at..at + html[at..].find("</table>").expect("the table's end")];
        // Hours with two decimals, no longer four ("720,0000").
        let cells: Vec<&str> = table
            .split("kern-table__cell--numeric\">")
            .skip(1)
            .map(|c| c.split('<').next().unwrap_or_default())
            .collect();
        let hours = cells.first().expect("a line with hours");
        let decimals = hours.split(',').nth(1).unwrap_or_default();
        assert_eq!(decimals.len(), 2, "hours {hours:?} in {cells:?}");
    }
}

async fn the_glossar_explains_the_terms_without_login_and_the_pages_link_to_it(app: TestApp) {
    let anonymous = reqwest::Client::new();
    let response = anonymous
        .get(format!("{}/glossar", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    for (anchor, term) in [
        ("kontingent", "Kontingent"),
        ("buchung", "Buchung"),
        ("groesse", "Größe (S, M, L, XL)"),
        ("stufe", "Stufe"),
        ("umgebung", "Umgebung"),
        ("lieferung", "Lieferung"),
        ("checkup", "Checkup"),
        ("freigabe", "Freigabe"),
    ] {
        assert!(
            html.contains(&format!("id=\"{anchor}\">{term}</dt>")),
            "{term} in {html}"
        );
    }
    assert!(html.contains("<title>Glossar – Kontor</title>"), "{html}");

    // The footer of every page, and the terms where a page first names them.
    let pfleger = Browser::log_in(&app, "systempfleger").await;
    let (_, overview) = pfleger.get("/uebersicht").await;
    assert!(
        overview.contains("href=\"/glossar\">Glossar</a>"),
        "{overview}"
    );
    assert!(
        overview.contains("href=\"/glossar#kontingent\""),
        "{overview}"
    );
    let (_, shop) = pfleger.get("/katalog").await;
    assert!(shop.contains("href=\"/glossar#groesse\""), "{shop}");
    let (_, approvals) = pfleger.get("/freigaben").await;
    assert!(
        approvals.contains("href=\"/glossar#freigabe\""),
        "{approvals}"
    );
    // Logged in, the Glossar keeps the navigation.
    let (status, glossary) = pfleger.get("/glossar").await;
    assert_eq!(status, StatusCode::OK);
    assert!(glossary.contains("Hauptnavigation"), "{glossary}");
    assert!(!html.contains("Hauptnavigation"), "anonymous: {html}");
}

async fn the_contract_and_price_forms_ask_for_days_with_date_fields(app: TestApp) {
    let (customer, _) = musterhausen(&app).await;
    let betreiber = Browser::log_in(&app, "betreiber").await;
    let (_, form) = betreiber.get("/betrieb/vertraege/neu").await;
    for field in ["valid_from", "valid_until"] {
        assert!(
            form.contains(&format!("name=\"{field}\" type=\"date\"")),
            "{field} in {form}"
        );
    }
    let (_, catalogue) = betreiber.get("/betrieb/katalog").await;
    assert!(
        catalogue.contains("name=\"valid_from\" type=\"date\""),
        "{catalogue}"
    );
    assert!(!catalogue.contains("JJJJ-MM-TT"), "{catalogue}");
    // A day the server cannot read still gets its message beside the field.
    let (status, page) = betreiber
        .post(
            "/betrieb/vertraege",
            &[
                ("customer_id", &customer.to_string()),
                ("number", "DLV-2026-9999"),
                ("title", "Test"),
                ("valid_from", "1.1.2026"),
                ("valid_until", "2026-12-31"),
                ("kostenstelle", "4711"),
                ("haushaltsstelle", "0610.1"),
                ("leitweg_id", "04011000-1234512345-06"),
                ("billing_model", "nutzung"),
                ("base_fee", ""),
                ("max_vcpu", "4"),
                ("max_memory_gib", "16"),
                ("max_storage_gib", "100"),
                ("monthly_budget", "100,00"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(page.contains("id=\"f-valid_from-error\""), "{page}");
}
