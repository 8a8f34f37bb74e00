//! The web UI in English (issue 16): chosen by `Accept-Language` or by the
//! switch's cookie, German otherwise; `<html lang>` says which; an English
//! page holds none of the German catalogue's texts; the switch returns only
//! to a page of the portal.

use std::collections::BTreeSet;

use fluent_syntax::ast::{Entry, Expression, PatternElement};
use reqwest::{StatusCode, header};

use crate::support::{Browser, TestApp};

api_tests! {
    english_pages_for_each_role_hold_none_of_the_german_catalogue,
    without_a_preference_the_same_pages_are_german,
    the_switchs_cookie_wins_over_accept_language,
    the_switch_sets_the_cookie_and_returns_only_to_a_page_of_the_portal,
    the_glossary_and_the_error_pages_speak_english_too,
}

/// The pages converted to the catalogues, per demo role. In braces the
/// pages whose address depends on the data (see `path_of`).
const PAGES: &[(&str, &[&str])] = &[
    (
        "systempfleger",
        &[
            "/uebersicht",
            "/katalog",
            "/buchungen",
            "/buchungen/1",
            "/buchungen/1/groesse",
            "/buchungen/1/kuendigen",
            "/umgebungen",
            "{environment}",
            "/stufen",
            "/verfahren/1/stufen",
            "/verfahren/1/releases",
            "/freigaben",
            "{kontingent-request}",
            "/abrechnung",
            "{statement}",
            "/api-tokens",
            "/einstellungen/benachrichtigungen",
            "/webhooks",
            "/barrierefreiheit",
            "/revision",
        ],
    ),
    (
        "finanzen",
        &["/uebersicht", "/abrechnung", "{statement}", "/revision"],
    ),
    ("entwickler", &["/uebersicht", "/freigaben", "/stufen"]),
    (
        "betreiber",
        &[
            "/uebersicht",
            "/katalog",
            "/buchungen",
            "/umgebungen",
            "/freigaben",
            "/abrechnung",
            "/webhooks",
            "/betrieb/kunden",
            "{customer}",
            "/betrieb/vertraege",
            "/betrieb/vertraege/neu",
            "{contract}",
            "/betrieb/katalog",
            "/betrieb/bereitstellung",
            "/betrieb/benachrichtigungen",
            "/revision",
        ],
    ),
];

/// Every text of the German catalogue that an English page must not show:
/// the pieces of text between placeables (select expressions left out),
/// longer than four characters, unless the English catalogue has the same
/// message text (names such as "Webhooks" or "Leitweg-ID").
fn german_texts() -> BTreeSet<String> {
    let english = catalogue_pieces("en");
    catalogue_pieces("de")
        .into_iter()
        .filter(|(id, piece)| {
            !english
                .iter()
                .any(|(i, p)| i == id && p.trim() == piece.trim())
        })
        .map(|(_, piece)| piece.trim().to_owned())
        .filter(|piece| piece.chars().count() > 4)
        .collect()
}

/// `(message id, piece of text)` of every message of a language.
fn catalogue_pieces(lang: &str) -> Vec<(String, String)> {
    let dir = format!("{}/locales/{lang}", env!("CARGO_MANIFEST_DIR"));
    let mut pieces = Vec::new();
    for file in std::fs::read_dir(dir).expect("the catalogue directory") {
        let path = file.expect("a catalogue file").path();
        let source = std::fs::read_to_string(&path).expect("a catalogue");
        let resource = fluent_syntax::parser::parse(source.as_str()).expect("a valid catalogue");
        for entry in resource.body {
            let Entry::Message(message) = entry else {
                continue;
            };
            let Some(value) = message.value else {
                continue;
            };
            let mut piece = String::new();
            for element in value.elements {
                match element {
                    PatternElement::TextElement { value } => piece.push_str(value),
                    PatternElement::Placeable {
                        expression: Expression::Inline(_) | Expression::Select { .. },
                    } => {
                        pieces.push((message.id.name.to_owned(), std::mem::take(&mut piece)));
                    }
                }
            }
            pieces.push((message.id.name.to_owned(), piece));
        }
    }
    pieces
}

/// The text a person sees, without the markup.
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
    text.replace("&#39;", "'")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether `needle` stands in `text` as whole words.
fn contains_words(text: &str, needle: &str) -> bool {
    text.match_indices(needle).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + needle.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

/// What the people of the demo entered (names, titles, descriptions) is in
/// their language, whichever the page's; it is taken out before looking
/// for the catalogue's German.
async fn entered_data(app: &TestApp) -> Vec<String> {
    let pool = &app.db().pool;
    let mut data = Vec::new();
    for sql in [
        "SELECT name FROM products",
        "SELECT description FROM products",
        "SELECT name FROM customers",
        "SELECT name FROM applications",
        "SELECT title FROM contracts",
        "SELECT display_name FROM users",
    ] {
        let rows: Vec<(String,)> = sqlx::query_as(sql).fetch_all(pool).await.expect(sql);
        data.extend(rows.into_iter().map(|(v,)| v));
    }
    // The provider's name is configured, like the data.
    data.push(app.settings.provider_name.clone());
    // Longest first, so that a name inside a longer one goes with it.
    data.sort_by_key(|d| std::cmp::Reverse(d.len()));
    data
}

/// The page's text without what the catalogues do not cover: the data
/// above. The Revision's sentences, labels and display words (on its page
/// and in a booking's history) are the catalogue's and stay in.
fn ui_text(html: &str, data: &[String]) -> String {
    let mut text = visible_text(html);
    for d in data {
        text = text.replace(d.as_str(), " ");
    }
    text
}

fn current_month() -> String {
    let now = jiff::Timestamp::now()
        .in_tz("Europe/Berlin")
        .expect("the bundled tz database knows Europe/Berlin");
    format!("{:04}-{:02}", now.year(), now.month())
}

async fn path_of(app: &TestApp, path: &str) -> String {
    let demo = app.demo().await.musterhausen;
    let environment = || async {
        let (id,): (i64,) = sqlx::query_as(
            "SELECT e.id FROM environments e JOIN applications a ON a.id = e.application_id \
             WHERE a.customer_id = $1 ORDER BY e.id LIMIT 1",
        )
        .bind(demo.id)
        .fetch_one(&app.db().pool)
        .await
        .expect("an environment of Musterhausen");
        id
    };
    match path {
        "{statement}" => format!(
            "/abrechnung/{}/vertrag/{}",
            current_month(),
            demo.contract_id
        ),
        "{kontingent-request}" => format!("/vertraege/{}/kontingent-antrag", demo.contract_id),
        "{customer}" => format!("/betrieb/kunden/{}", demo.id),
        "{contract}" => format!("/betrieb/vertraege/{}", demo.contract_id),
        "{environment}" => format!("/umgebungen/{}", environment().await),
        "{dissolve}" => format!("/umgebungen/{}/aufloesen", environment().await),
        other => other.to_owned(),
    }
}

async fn get(browser: &Browser, app: &TestApp, path: &str, accept: Option<&str>) -> String {
    let mut request = browser.client.get(format!("{}{path}", app.address));
    if let Some(accept) = accept {
        request = request.header(header::ACCEPT_LANGUAGE, accept);
    }
    let response = request.send().await.expect("GET");
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.text().await.expect("body")
}

fn html_lang(html: &str) -> &str {
    let at = html.find("<html lang=\"").expect("<html lang>") + "<html lang=\"".len();
    &html[at..at + html[at..].find('"').expect("the attribute's end")]
}

/// An anonymous browser, for the login page.
fn stranger() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

fn assert_english(path: &str, who: &str, html: &str, german: &BTreeSet<String>, data: &[String]) {
    assert_eq!(html_lang(html), "en", "{who} {path}");
    let text = ui_text(html, data);
    let found: Vec<&String> = german.iter().filter(|g| contains_words(&text, g)).collect();
    assert!(
        found.is_empty(),
        "{who} {path} in English shows German catalogue texts {found:?}:\n{text}"
    );
}

async fn english_pages_for_each_role_hold_none_of_the_german_catalogue(app: TestApp) {
    let german = german_texts();
    assert!(german.contains("Übersicht") && german.contains("Buchungen"));
    let data = entered_data(&app).await;
    let mut pages = 0;
    for (login, paths) in PAGES {
        let browser = Browser::log_in(&app, login).await;
        for path in *paths {
            let path = path_of(&app, path).await;
            let html = get(&browser, &app, &path, Some("en-GB,en;q=0.9,de;q=0.5")).await;
            assert_english(&path, login, &html, &german, &data);
            pages += 1;
        }
    }
    let response = stranger()
        .get(format!("{}/anmelden", app.address))
        .header(header::ACCEPT_LANGUAGE, "en")
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.expect("body");
    assert_english("/anmelden", "nobody", &html, &german, &data);
    assert!(pages > 15, "{pages} pages");
}

async fn without_a_preference_the_same_pages_are_german(app: TestApp) {
    let german = german_texts();
    let data = entered_data(&app).await;
    for (login, paths) in PAGES {
        let browser = Browser::log_in(&app, login).await;
        for path in *paths {
            let path = path_of(&app, path).await;
            let html = get(&browser, &app, &path, None).await;
            assert_eq!(html_lang(&html), "de", "{login} {path}");
            // The check of the English pages finds German where there is.
            let text = ui_text(&html, &data);
            let found = german.iter().filter(|g| contains_words(&text, g)).count();
            assert!(found >= 10, "{login} {path}: {found} German texts");
            assert!(
                html.contains(">Zum Inhalt springen</a>"),
                "{login} {path}: {html}"
            );
            // The switch offers English, named in English.
            assert!(
                html.contains("hreflang=\"en\"><span lang=\"en\">English</span></a>"),
                "{login} {path}"
            );
        }
    }
    let browser = Browser::log_in(&app, "systempfleger").await;
    // A browser that prefers another language the portal does not speak.
    let html = get(&browser, &app, "/uebersicht", Some("fr-FR, it;q=0.8")).await;
    assert_eq!(html_lang(&html), "de");
}

async fn the_switchs_cookie_wins_over_accept_language(app: TestApp) {
    let browser = Browser::log_in(&app, "systempfleger").await;
    let response = browser
        .client
        .get(format!("{}/sprache?zu=de&zurueck=%2Fkatalog", app.address))
        .header(header::ACCEPT_LANGUAGE, "en")
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let html = get(&browser, &app, "/katalog", Some("en")).await;
    assert_eq!(html_lang(&html), "de", "the cookie says German");
    assert!(html.contains("<h1 class=\"kern-heading-large\">Katalog</h1>"));

    // And the other way round, also without being logged in.
    let html = stranger()
        .get(format!("{}/anmelden", app.address))
        .header(header::ACCEPT_LANGUAGE, "de-DE")
        .header(header::COOKIE, "kontor_lang=en")
        .send()
        .await
        .expect("GET")
        .text()
        .await
        .expect("body");
    assert_eq!(html_lang(&html), "en");
    assert!(html.contains(">Log in</h1>"), "{html}");
}

async fn the_switch_sets_the_cookie_and_returns_only_to_a_page_of_the_portal(app: TestApp) {
    let switch = |query: &str| {
        stranger()
            .get(format!("{}/sprache?{query}", app.address))
            .send()
    };
    let response = switch("zu=en&zurueck=%2Fbuchungen%3Fstufe%3Dabnahme")
        .await
        .expect("GET");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        response.headers()[header::LOCATION],
        "/buchungen?stufe=abnahme"
    );
    let cookie = response.headers()[header::SET_COOKIE]
        .to_str()
        .expect("ASCII")
        .to_owned();
    for part in [
        "kontor_lang=en",
        "Path=/",
        "HttpOnly",
        "SameSite=Lax",
        "Max-Age=31536000",
    ] {
        assert!(cookie.contains(part), "{part} in {cookie}");
    }
    // The test server speaks plain http, so the cookie is not Secure
    // (as the session cookie); behind https it is.
    assert!(!cookie.contains("Secure"), "{cookie}");

    for bad in [
        "%2F%2Fevil.example",
        "%2F%5Cevil.example",
        "https%3A%2F%2Fevil.example%2F",
        "evil.example",
    ] {
        let response = switch(&format!("zu=en&zurueck={bad}")).await.expect("GET");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
        assert!(response.headers().get(header::LOCATION).is_none(), "{bad}");
        assert!(
            response.headers().get(header::SET_COOKIE).is_none(),
            "{bad}"
        );
    }
    let response = switch("zu=fr&zurueck=%2F").await.expect("GET");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    // Every page's switch returns to that page.
    let html = stranger()
        .get(format!("{}/anmelden", app.address))
        .send()
        .await
        .expect("GET")
        .text()
        .await
        .expect("body");
    assert!(
        html.contains("href=\"/sprache?zu=en&#38;zurueck=%2Fanmelden\""),
        "{html}"
    );
}

async fn the_glossary_and_the_error_pages_speak_english_too(app: TestApp) {
    let english = |path: &str| {
        stranger()
            .get(format!("{}{path}", app.address))
            .header(header::ACCEPT_LANGUAGE, "en-US")
            .send()
    };
    // The German term once, beside the English one, where contracts and
    // letters use it.
    let html = english("/glossar")
        .await
        .expect("GET")
        .text()
        .await
        .expect("body");
    assert_eq!(html_lang(&html), "en");
    assert!(html.contains(">Quota (Kontingent)</dt>"), "{html}");
    assert!(html.contains(">Approval (Freigabe)</dt>"), "{html}");

    let response = english("/gibt-es-nicht").await.expect("GET");
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let html = response.text().await.expect("body");
    assert_eq!(html_lang(&html), "en");
    assert!(html.contains("<title>Not found – Kontor</title>"), "{html}");

    // A refused form: its title says so first, in the page's language.
    let browser = Browser::log_in(&app, "systempfleger").await;
    let response = browser
        .client
        .post(format!("{}/katalog/pruefen", app.address))
        .header(header::ACCEPT_LANGUAGE, "en")
        .form(&[("csrf", browser.csrf.as_str())])
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.expect("body");
    assert!(
        html.contains("<title>Error: Catalogue – Kontor</title>"),
        "{html}"
    );
    assert!(html.contains("Please choose an application."), "{html}");

    // A booking the quota refuses: the reason in English, as the page.
    // The demo contract has 32 vCPU with 20 booked: XL (16) does not fit.
    let application = app.demo().await.musterhausen.application_ids[1].to_string();
    let response = browser
        .client
        .post(format!("{}/katalog/pruefen", app.address))
        .header(header::ACCEPT_LANGUAGE, "en")
        .form(&[
            ("csrf", browser.csrf.as_str()),
            ("application_id", application.as_str()),
            ("stage", "abnahme"),
            ("product", "container-namespace"),
            ("size", "XL"),
        ])
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.expect("body");
    assert!(
        html.contains(
            "The quota is not enough: vCPU – needed 16 vCPU, available 12 vCPU of 32 vCPU."
        ),
        "{html}"
    );
    assert!(html.contains(">Booking not possible</span>"), "{html}");
}
