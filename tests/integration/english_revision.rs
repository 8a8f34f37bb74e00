//! The Revision (audit log) in the reader's language: the API's sentences,
//! action labels, field labels and display words follow `Accept-Language`
//! (German without it), so does the page; the free text finds actions by
//! their German and their English label; the exports stay German, the
//! record for auditors, whoever asks for them.

use kontor::{app::revision::CSV_COLUMNS, domain::Role};
use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use crate::{
    revision::history,
    support::{Browser, TestApp},
};

api_tests! {
    the_api_reads_entries_in_the_language_asked_for,
    the_free_text_finds_actions_by_their_german_and_english_label,
    the_exports_stay_german_when_asked_for_in_english,
    the_page_speaks_english,
}

const ENGLISH: &str = "en-GB,en;q=0.9,de;q=0.5";

async fn get(app: &TestApp, path: &str, token: &str, lang: Option<&str>) -> reqwest::Response {
    app.request_in(lang, reqwest::Method::GET, path, token)
        .send()
        .await
        .expect("GET")
}

async fn items(app: &TestApp, token: &str, query: &str, lang: Option<&str>) -> Vec<Value> {
    let resp = get(
        app,
        &format!("/api/v1/audit?limit=200&{query}"),
        token,
        lang,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK, "{query}");
    let page: Value = resp.json().await.expect("JSON");
    page["items"].as_array().expect("items").clone()
}

fn actions(items: &[Value]) -> Vec<&str> {
    items
        .iter()
        .map(|i| i["action"].as_str().expect("action"))
        .collect()
}

async fn the_api_reads_entries_in_the_language_asked_for(app: TestApp) {
    let (t, first, _) = history(&app).await;
    let token = app.user_with_roles(None, &[Role::Betreiber]).await;
    let query = format!("object_type=booking&object_id={first}");

    let english = items(&app, &token, &query, Some(ENGLISH)).await;
    assert_eq!(
        actions(&english),
        [
            "booking.cancelled",
            "booking.resized",
            "booking.provisioned",
            "booking.created"
        ],
        "the identifiers stay as recorded"
    );
    let resized = &english[1];
    assert_eq!(
        resized["sentence"],
        format!("Test Pfleger resized booking {first} from size S to M.")
    );
    assert_eq!(resized["action_label"], "size changed");
    assert_eq!(resized["object_type"], "booking");
    assert_eq!(
        resized["changes"],
        json!([{"field": "Size", "before": "S", "after": "M"}])
    );
    // What the hash covers is the same in every language.
    assert_eq!(resized["before_json"], r#"{"size":"S"}"#);
    assert_eq!(
        english[0]["changes"],
        json!([{"field": "Status", "before": "active", "after": "cancelled"}])
    );
    assert_eq!(english[0]["action_label"], "cancelled");
    let created = &english[3];
    assert_eq!(
        created["sentence"],
        format!("Test Pfleger booked booking {first} in size S for Acceptance.")
    );
    let change = |field: &str| {
        created["changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["field"] == field)
            .map(|c| c["after"].clone())
            .unwrap_or_else(|| panic!("no {field} in {created}"))
    };
    assert_eq!(change("Stage"), "Acceptance");
    assert_eq!(
        change("Application"),
        format!("Testverfahren (No. {})", t.application_id)
    );

    // Without a preference, and asked for German: German, as before.
    for lang in [None, Some("de-DE")] {
        let german = items(&app, &token, &query, lang).await;
        assert_eq!(
            german[1]["sentence"],
            format!("Test Pfleger hat die Buchung {first} von Größe S auf M geändert.")
        );
        assert_eq!(german[1]["action_label"], "Größe geändert");
        assert_eq!(german[1]["changes"][0]["field"], "Größe");
        // The same entries, the same recorded values.
        for (de, en) in german.iter().zip(&english) {
            for key in [
                "id",
                "action",
                "object_type",
                "before_json",
                "after_json",
                "chain",
            ] {
                assert_eq!(de[key], en[key], "{key}");
            }
        }
    }

    // A refused filter explains itself in English too.
    let resp = get(&app, "/api/v1/audit?from=gestern", &token, Some(ENGLISH)).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = resp.json().await.expect("problem+json");
    assert_eq!(
        problem["errors"],
        json!([{
            "field": "from",
            "message": "Please enter a date (YYYY-MM-DD) or an instant according to RFC 3339 (2026-12-01T08:00:00Z)."
        }]),
        "{problem}"
    );
}

async fn the_free_text_finds_actions_by_their_german_and_english_label(app: TestApp) {
    let (t, first, _) = history(&app).await;
    let token = app.user_with_roles(None, &[Role::Betreiber]).await;
    let mine = format!("customer_id={}", t.customer_id);
    // Neither word is in the action's identifier or the recorded values:
    // only the labels find them, in either language, whichever the
    // reader's.
    for lang in [None, Some(ENGLISH)] {
        for q in [
            "size%20changed",
            "Gr%C3%B6%C3%9Fe%20ge%C3%A4ndert",
            "SIZE%20CHANGED",
        ] {
            let hits = items(&app, &token, &format!("{mine}&q={q}"), lang).await;
            assert_eq!(actions(&hits), ["booking.resized"], "{q} {lang:?}");
            assert_eq!(hits[0]["object_id"], first);
        }
    }
}

/// The rows of a German spreadsheet CSV (BOM, `;`), header first.
fn csv_rows(raw: &[u8]) -> Vec<Vec<String>> {
    let body = raw.strip_prefix(b"\xEF\xBB\xBF").expect("a BOM");
    csv::ReaderBuilder::new()
        .delimiter(b';')
        .has_headers(false)
        .from_reader(body)
        .records()
        .map(|r| r.expect("CSV").iter().map(str::to_owned).collect())
        .collect()
}

async fn the_exports_stay_german_when_asked_for_in_english(app: TestApp) {
    let (t, first, _) = history(&app).await;
    let token = app.user_with_roles(None, &[Role::Betreiber]).await;
    let query = format!("customer_id={}&action=booking.resized", t.customer_id);

    let resp = get(
        &app,
        &format!("/api/v1/audit/csv?{query}"),
        &token,
        Some(ENGLISH),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let rows = csv_rows(&resp.bytes().await.expect("body"));
    assert_eq!(
        rows[0], CSV_COLUMNS,
        "the header is the auditors' as before"
    );
    assert_eq!(rows.len(), 2, "{rows:?}");
    let column = |name: &str| {
        let at = CSV_COLUMNS.iter().position(|c| *c == name).expect(name);
        rows[1][at].as_str()
    };
    assert_eq!(column("Aktion"), "Größe geändert");
    assert_eq!(column("Aktion (Kennung)"), "booking.resized");
    assert_eq!(column("Objektart"), "Buchung");
    assert_eq!(
        column("Beschreibung"),
        format!("Test Pfleger hat die Buchung {first} von Größe S auf M geändert.")
    );
    assert_eq!(column("Änderung"), "Größe: S → M");

    let resp = get(
        &app,
        &format!("/api/v1/audit/jsonl?{query}"),
        &token,
        Some(ENGLISH),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body = resp.text().await.expect("body");
    let lines: Vec<Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 1, "{body}");
    assert_eq!(lines[0]["action_label"], "Größe geändert");
    assert_eq!(lines[0]["changes"][0]["field"], "Größe");
    assert_eq!(
        lines[0]["sentence"],
        format!("Test Pfleger hat die Buchung {first} von Größe S auf M geändert.")
    );
}

async fn the_page_speaks_english(app: TestApp) {
    let d = app.demo().await;
    let booking = d.musterhausen.booking_id;
    let sp = Browser::log_in(&app, "systempfleger").await;
    let page = |path: String, lang: &'static str| {
        let request = sp
            .client
            .get(format!("{}{path}", app.address))
            .header(header::ACCEPT_LANGUAGE, lang);
        async move {
            let resp = request.send().await.expect("GET");
            (resp.status(), resp.text().await.expect("body"))
        }
    };
    let path = format!("/revision?objektart=booking&objekt={booking}");
    let (status, html) = page(path.clone(), ENGLISH).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&format!(" booked booking {booking} in size ")),
        "{html}"
    );
    assert!(html.contains(&format!(">Booking {booking}</a>")), "{html}");
    // The filters' choices in English, their values the identifiers.
    assert!(
        html.contains("<option value=\"booking.resized\">size changed</option>"),
        "{html}"
    );
    assert!(
        html.contains("<option value=\"booking\" selected>Booking</option>"),
        "{html}"
    );
    assert!(!html.contains("hat die Buchung"), "{html}");
    // A bad date is explained in English beside its field.
    let (status, html) = page("/revision?von=morgen".into(), ENGLISH).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("Please enter a date (YYYY-MM-DD)"), "{html}");

    let (_, html) = page(path, "de").await;
    assert!(
        html.contains(&format!("hat die Buchung {booking} in Größe")),
        "{html}"
    );
    assert!(html.contains(&format!(">Buchung {booking}</a>")), "{html}");
}
