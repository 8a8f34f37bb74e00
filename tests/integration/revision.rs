//! The Revision (issue 15, part 3), read: `GET /api/v1/audit` with every
//! filter and cursor paging, entries as German sentences with their
//! changes in display words, tenant scoping for every role, the exports
//! (CSV in both formats and JSON Lines) read back and checked against the
//! database and against the hash each entry carries, and the page.

use std::collections::BTreeSet;

use kontor::{
    app::{self, customers::NewCustomer, revision::CSV_COLUMNS},
    domain::{
        Role, Slug,
        audit::chain::{Content, entry_hash},
    },
    seed,
};
use reqwest::{StatusCode, header};
use serde_json::Value;

use crate::support::{
    Backend, Browser, Tenant, TestApp, assert_forbidden, assert_validation, expect_json, id, text,
    unique,
};

api_tests! {
    the_api_filters_and_reads_each_entry_as_a_sentence,
    a_cursor_pages_through_every_entry_once,
    bad_filters_are_refused_naming_the_parameter,
    each_role_reads_what_the_policy_says_and_no_other_customers_entries,
    both_csv_formats_and_json_lines_read_back_complete_and_formula_safe,
    the_page_filters_pages_and_shows_the_chain_to_the_betreiber,
}

cluster_tests! {
    the_betreibers_page_answers_many_at_once_from_a_small_pool,
}

/// A tenant with some history: a booking booked, resized to M and
/// cancelled, and a second one booked. Returns (tenant, first, second).
pub(crate) async fn history(app: &TestApp) -> (Tenant, i64, i64) {
    let t = app.contract_with_room(100).await;
    let first = id(&app
        .book_ok(
            &t.token,
            t.application_id,
            "abnahme",
            "container-namespace",
            "S",
        )
        .await);
    // Provisioned before it changes, so its history has every step.
    app.settle().await;
    expect_json(app.resize(&t.token, first, "M").await, StatusCode::OK).await;
    expect_json(app.cancel(&t.token, first).await, StatusCode::OK).await;
    let second = id(&app
        .book_ok(
            &t.token,
            t.application_id,
            "vorpruefung",
            "container-namespace",
            "L",
        )
        .await);
    app.settle().await;
    (t, first, second)
}

async fn betreiber(app: &TestApp) -> String {
    app.user_with_roles(None, &[Role::Betreiber]).await
}

async fn items(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let page = expect_json(
        app.get(&format!("/api/v1/audit?limit=200&{query}"), token)
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(page["next"].is_null(), "one page is enough here: {query}");
    page["items"].as_array().expect("items").clone()
}

fn actions(items: &[Value]) -> Vec<&str> {
    items
        .iter()
        .map(|i| i["action"].as_str().expect("action"))
        .collect()
}

/// Entry ids in the database, newest first, for a condition on `audit_log`.
async fn ids_where(app: &TestApp, condition: &str, bind: i64) -> Vec<i64> {
    sqlx::query_as::<_, (i64,)>(sqlx::AssertSqlSafe(format!(
        "SELECT id FROM audit_log WHERE {condition} ORDER BY id DESC"
    )))
    .bind(bind)
    .fetch_all(&app.db().pool)
    .await
    .expect("audit ids")
    .into_iter()
    .map(|(id,)| id)
    .collect()
}

async fn the_api_filters_and_reads_each_entry_as_a_sentence(app: TestApp) {
    let (t, first, _) = history(&app).await;
    let token = betreiber(&app).await;

    // One object: newest first, every step of its life.
    let of_first = items(
        &app,
        &token,
        &format!("object_type=booking&object_id={first}"),
    )
    .await;
    assert_eq!(
        actions(&of_first),
        [
            "booking.cancelled",
            "booking.resized",
            "booking.provisioned",
            "booking.created"
        ]
    );
    let resized = &of_first[1];
    assert_eq!(
        resized["sentence"],
        format!("Test Pfleger hat die Buchung {first} von Größe S auf M geändert.")
    );
    assert_eq!(resized["action_label"], "Größe geändert");
    assert_eq!(
        resized["changes"],
        serde_json::json!([{"field": "Größe", "before": "S", "after": "M"}])
    );
    assert_eq!(resized["customer_id"], t.customer_id);
    assert_eq!(resized["via"], "token");
    assert_eq!(resized["before_json"], r#"{"size":"S"}"#);
    let chain = &resized["chain"];
    assert!(chain["seq"].as_i64().is_some_and(|s| s > 0), "{resized}");
    assert_eq!(chain["hash"].as_str().map(str::len), Some(64), "{resized}");
    let created = &of_first[3];
    assert_eq!(
        created["sentence"],
        format!("Test Pfleger hat die Buchung {first} in Größe S für Abnahme angelegt.")
    );
    let change = |label: &str| {
        created["changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["field"] == label)
            .map(|c| c["after"].clone())
            .unwrap_or_else(|| panic!("no {label} in {created}"))
    };
    // Display words, not ids: the stage, the application's name.
    assert_eq!(change("Stufe"), "Abnahme");
    assert_eq!(
        change("Verfahren"),
        format!("Testverfahren (Nr. {})", t.application_id)
    );
    assert_eq!(change("Produkt"), "Container-Namespace");
    let cancelled = &of_first[0];
    assert_eq!(
        cancelled["changes"],
        serde_json::json!([{"field": "Status", "before": "aktiv", "after": "gekündigt"}])
    );

    // The action, the customer and the person.
    let mine = format!("customer_id={}", t.customer_id);
    let resizes = items(&app, &token, &format!("{mine}&action=booking.resized")).await;
    assert_eq!(resizes.len(), 1);
    assert_eq!(resizes[0]["object_id"], first);
    let by_person = items(&app, &token, &format!("actor={}", t.login.to_uppercase())).await;
    assert_eq!(
        actions(&by_person),
        [
            "booking.created",
            "booking.cancelled",
            "booking.resized",
            "booking.created"
        ]
    );
    // Free text: the German label of an action, or a recorded value.
    let text_hits = items(&app, &token, &format!("{mine}&q=gek%C3%BCndigt")).await;
    assert_eq!(actions(&text_hits), ["booking.cancelled"]);
    let large = items(&app, &token, &format!("{mine}&q=%22L%22")).await;
    assert_eq!(actions(&large), ["booking.created"]);
    // A pattern character is searched for, not a wildcard.
    assert!(
        items(&app, &token, &format!("{mine}&q=%25"))
            .await
            .is_empty()
    );

    // The period: today holds everything, tomorrow nothing, days inclusive.
    let today = kontor::domain::calendar::berlin_date(kontor::db::now());
    let tomorrow = today.tomorrow().unwrap();
    assert_eq!(
        items(&app, &token, &format!("{mine}&from={today}&to={today}"))
            .await
            .len(),
        ids_where(&app, "customer_id = $1", t.customer_id)
            .await
            .len()
    );
    assert!(
        items(&app, &token, &format!("{mine}&from={tomorrow}"))
            .await
            .is_empty()
    );
    assert!(
        items(&app, &token, &format!("{mine}&to=2020-01-01"))
            .await
            .is_empty()
    );
    let instant = items(&app, &token, &format!("{mine}&from=2020-01-01T00:00:00Z")).await;
    assert!(!instant.is_empty());
}

async fn a_cursor_pages_through_every_entry_once(app: TestApp) {
    let (t, _, _) = history(&app).await;
    let _ = history(&app).await;
    let token = betreiber(&app).await;
    for (query, expected) in [
        (
            format!("customer_id={}", t.customer_id),
            ids_where(&app, "customer_id = $1", t.customer_id).await,
        ),
        (
            "object_type=booking".to_owned(),
            ids_where(&app, "object_type = 'booking' AND $1 = $1", 0).await,
        ),
    ] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut url = format!("/api/v1/audit?limit=3&{query}");
            if let Some(c) = &cursor {
                url.push_str(&format!("&cursor={c}"));
            }
            let page = expect_json(app.get(&url, &token).await, StatusCode::OK).await;
            let items = page["items"].as_array().unwrap();
            assert!(items.len() <= 3);
            seen.extend(items.iter().map(id));
            pages += 1;
            match page["next"].as_str() {
                Some(next) => {
                    assert_eq!(items.len(), 3, "only a full page has a next one");
                    cursor = Some(next.to_owned());
                }
                None => break,
            }
        }
        assert_eq!(seen, expected, "{query}: every entry once, newest first");
        assert!(pages > 1, "{query}: paged");
    }
}

async fn bad_filters_are_refused_naming_the_parameter(app: TestApp) {
    let token = betreiber(&app).await;
    for (query, field) in [
        ("from=gestern", "from"),
        ("to=2026-02-30", "to"),
        ("from=2026-12-02&to=2026-12-01", "to"),
        ("customer_id=abc", "customer_id"),
        ("object_id=-1", "object_id"),
        ("object_type=Buchung", "object_type"),
        ("action=booking", "action"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("cursor=nicht-von-uns", "cursor"),
        ("q=a%00b", "q"),
    ] {
        let resp = app.get(&format!("/api/v1/audit?{query}"), &token).await;
        assert_validation(resp, field).await;
    }
    for path in ["/api/v1/audit/csv?from=x", "/api/v1/audit/jsonl?from=x"] {
        assert_validation(app.get(path, &token).await, "from").await;
    }
    assert_validation(
        app.get("/api/v1/audit/csv?format=xlsx", &token).await,
        "format",
    )
    .await;
}

async fn each_role_reads_what_the_policy_says_and_no_other_customers_entries(app: TestApp) {
    let (own, _, _) = history(&app).await;
    let (other, other_booking, _) = history(&app).await;
    let in_db = ids_where(&app, "customer_id = $1", own.customer_id).await;
    let mine = Some(own.customer_id);
    let readers = [
        own.token.clone(),
        app.user_with_roles(mine, &[Role::Verfahrensverantwortlicher])
            .await,
        app.user_with_roles(mine, &[Role::Finanzen]).await,
    ];
    for token in &readers {
        // Everything of their customer, nothing else.
        let all = items(&app, token, "").await;
        assert_eq!(all.iter().map(id).collect::<Vec<_>>(), in_db);
        assert!(all.iter().all(|i| i["customer_id"] == own.customer_id));
        // Asking for another customer narrows to nothing; so does another
        // customer's object.
        for query in [
            format!("customer_id={}", other.customer_id),
            format!("object_type=booking&object_id={other_booking}"),
        ] {
            assert!(items(&app, token, &query).await.is_empty(), "{query}");
        }
        for format in ["csv", "jsonl"] {
            let body = app
                .get(&format!("/api/v1/audit/{format}"), token)
                .await
                .text()
                .await
                .unwrap();
            assert!(
                !body.contains(&format!("\"customer_id\":{}", other.customer_id))
                    && !body.contains(&format!(
                        "Testkunde {}",
                        other.login.trim_start_matches("sp-kunde")
                    )),
                "{format} export of one customer holds another's entries"
            );
        }
    }
    // Developers, provider finance and people without a role read nothing.
    let refused = [
        app.user_with_roles(mine, &[Role::Entwickler]).await,
        app.user_with_roles(None, &[Role::Finanzen]).await,
        app.user_with_roles(mine, &[]).await,
    ];
    for token in &refused {
        for path in ["/api/v1/audit", "/api/v1/audit/csv", "/api/v1/audit/jsonl"] {
            assert_forbidden(app.get(path, token).await).await;
        }
    }
    // The Betreiber reads every customer's entries.
    let token = betreiber(&app).await;
    let both = items(&app, &token, &format!("customer_id={}", other.customer_id)).await;
    assert_eq!(
        both.iter().map(id).collect::<Vec<_>>(),
        ids_where(&app, "customer_id = $1", other.customer_id).await
    );
}

/// Reads a CSV export: BOM and `;` for German, `,` without BOM for RFC 4180,
/// CRLF; checks the header and returns the rows.
fn read_csv(raw: &[u8], german: bool) -> Vec<Vec<String>> {
    const BOM: &[u8] = b"\xEF\xBB\xBF";
    assert_eq!(
        raw.starts_with(BOM),
        german,
        "a BOM exactly in the German format"
    );
    let body = if german { &raw[BOM.len()..] } else { raw };
    let newlines = body.iter().filter(|b| **b == b'\n').count();
    assert_eq!(
        newlines,
        body.windows(2).filter(|w| *w == b"\r\n").count(),
        "CRLF"
    );
    let mut rows: Vec<Vec<String>> = csv::ReaderBuilder::new()
        .delimiter(if german { b';' } else { b',' })
        .has_headers(false)
        .from_reader(body)
        .records()
        .map(|r| r.expect("CSV").iter().map(str::to_owned).collect())
        .collect();
    assert_eq!(rows.remove(0), CSV_COLUMNS);
    rows
}

async fn download(app: &TestApp, path: &str, token: &str, content_type: &str) -> Vec<u8> {
    let resp = app.get(path, token).await;
    assert_eq!(resp.status(), StatusCode::OK, "{path}");
    let header = |name| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(header(header::CONTENT_TYPE), content_type, "{path}");
    assert!(header(header::CONTENT_DISPOSITION).starts_with("attachment; filename=\"revision-"));
    resp.bytes().await.unwrap().to_vec()
}

async fn both_csv_formats_and_json_lines_read_back_complete_and_formula_safe(app: TestApp) {
    // A customer whose name a spreadsheet would run as a formula.
    let system = seed::system_user(app.db()).await.unwrap();
    let sneaky = app::customers::create(
        app.db(),
        &system,
        &NewCustomer {
            slug: Slug::parse(&format!("formel{}", unique())).unwrap(),
            name: text("=HYPERLINK(\"http://x\")"),
        },
        kontor::db::now(),
    )
    .await
    .unwrap();
    let _ = history(&app).await;
    let token = betreiber(&app).await;
    let all = ids_where(&app, "$1 = $1", 0).await;
    let oldest_first: Vec<i64> = all.iter().rev().copied().collect();

    for (query, german) in [("", true), ("?format=rfc4180", false)] {
        let raw = download(
            &app,
            &format!("/api/v1/audit/csv{query}"),
            &token,
            "text/csv; charset=utf-8",
        )
        .await;
        let rows = read_csv(&raw, german);
        let ids: Vec<i64> = rows.iter().map(|r| r[0].parse().unwrap()).collect();
        assert_eq!(ids, oldest_first, "every entry once, oldest first");
        let sneaky_row = rows
            .iter()
            .find(|r| r[10] == "customer.created" && r[8] == sneaky.to_string())
            .expect("the sneaky customer's creation");
        assert_eq!(
            sneaky_row[7], "'=HYPERLINK(\"http://x\")",
            "the formula is neutralised"
        );
        let resized = rows.iter().find(|r| r[10] == "booking.resized").unwrap();
        assert_eq!(resized[9], "Größe geändert");
        assert_eq!(resized[14], "Größe: S → M");
        assert_eq!(resized[15], r#"{"size":"S"}"#);
        assert_eq!(resized[19].len(), 64, "the hash");
    }

    // JSON Lines: the same entries; each line's hash recomputed from the
    // line alone matches, and each points to the line before.
    let raw = download(&app, "/api/v1/audit/jsonl", &token, "application/jsonl").await;
    let text = String::from_utf8(raw).unwrap();
    assert!(text.ends_with('\n'));
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.iter().map(id).collect::<Vec<_>>(), oldest_first);
    let mut prev: Option<String> = None;
    for line in &lines {
        let chain = &line["chain"];
        let s = |k: &str| line[k].as_str();
        let content = Content {
            at: line["at_unix"].as_i64().unwrap(),
            actor_user_id: line["actor_user_id"].as_i64(),
            actor: s("actor").unwrap(),
            actor_subject: s("actor_subject"),
            via: s("via").unwrap(),
            customer_id: line["customer_id"].as_i64(),
            action: s("action").unwrap(),
            object_type: s("object_type").unwrap(),
            object_id: line["object_id"].as_i64().unwrap(),
            before_json: s("before_json"),
            after_json: s("after_json"),
        };
        let prev_hash = chain["prev_hash"].as_str().unwrap();
        assert_eq!(
            entry_hash(chain["seq"].as_i64().unwrap(), prev_hash, &content),
            chain["hash"].as_str().unwrap(),
            "{line}"
        );
        if let Some(p) = &prev {
            assert_eq!(p, prev_hash, "{line}");
        }
        prev = Some(chain["hash"].as_str().unwrap().to_owned());
    }
    let sneaky_line = lines
        .iter()
        .find(|l| l["action"] == "customer.created" && l["object_id"] == sneaky)
        .unwrap();
    assert_eq!(
        sneaky_line["customer"], "=HYPERLINK(\"http://x\")",
        "JSON keeps text as it is"
    );

    // The filters apply to the exports as to the list.
    let raw = download(
        &app,
        "/api/v1/audit/csv?action=booking.resized&format=rfc4180",
        &token,
        "text/csv; charset=utf-8",
    )
    .await;
    let resizes = ids_where(&app, "action = 'booking.resized' AND $1 = $1", 0).await;
    assert_eq!(read_csv(&raw, false).len(), resizes.len());
}

async fn the_page_filters_pages_and_shows_the_chain_to_the_betreiber(app: TestApp) {
    let d = app.demo().await;
    let sp = Browser::log_in(&app, "systempfleger").await;
    let (status, html) = sp.get("/revision").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("die Einträge zu Ihrer Behörde"), "{html}");
    assert!(
        !html.contains("Manipulationsschutz"),
        "the chain is the Betreiber's"
    );
    // Only Musterhausen's entries, never another customer's.
    let own: BTreeSet<i64> = ids_where(&app, "customer_id = $1", d.musterhausen.id)
        .await
        .into_iter()
        .collect();
    let shown: BTreeSet<i64> = html
        .match_indices("id=\"eintrag-")
        .map(|(i, m)| {
            let rest = &html[i + m.len()..];
            rest[..rest.find('"').unwrap()].parse().unwrap()
        })
        .collect();
    assert!(!shown.is_empty());
    assert!(shown.is_subset(&own), "{shown:?} ⊄ {own:?}");
    for other in [d.lastat.id, d.nordkreis.id] {
        for id in ids_where(&app, "customer_id = $1", other).await {
            assert!(!shown.contains(&id));
        }
    }

    // A filter by object: the booking's history as sentences.
    let booking = d.musterhausen.booking_id;
    let (status, html) = sp
        .get(&format!("/revision?objektart=booking&objekt={booking}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&format!("hat die Buchung {booking} in Größe")),
        "{html}"
    );
    // A bad date comes back beside its field, with 422.
    let (status, html) = sp.get("/revision?von=morgen").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("id=\"f-von-error\"") && html.contains("aria-invalid=\"true\""),
        "{html}"
    );
    // The booking's own page reads the same sentences.
    let (_, page) = sp.get(&format!("/buchungen/{booking}")).await;
    assert!(
        page.contains(&format!("hat die Buchung {booking} in Größe")),
        "{page}"
    );

    // The Betreiber sees the chain and verifies it.
    let b = Browser::log_in(&app, "betreiber").await;
    let (_, html) = b.get("/revision").await;
    assert!(
        html.contains("Manipulationsschutz") && html.contains("Letzte Prüfung"),
        "{html}"
    );
    let (status, location) = b.post("/revision/pruefen", &[]).await;
    assert_eq!(
        (status, location.as_str()),
        (StatusCode::SEE_OTHER, "/revision?geprueft=1")
    );
    let (_, html) = b.get("/revision?geprueft=1").await;
    assert!(
        html.contains("Die Kette ist geprüft und unversehrt"),
        "{html}"
    );

    // Paging: 50 per page, older entries behind a link, none twice.
    let t = app.contract_with_room(100).await;
    for _ in 0..30 {
        app.book_ok(
            &t.token,
            t.application_id,
            "vorpruefung",
            "container-namespace",
            "S",
        )
        .await;
    }
    app.settle().await;
    let shown_on = |html: &str| -> Vec<i64> {
        html.match_indices("id=\"eintrag-")
            .map(|(i, m)| {
                let rest = &html[i + m.len()..];
                rest[..rest.find('"').unwrap()].parse().unwrap()
            })
            .collect()
    };
    let (_, first) = b.get("/revision").await;
    let first_ids = shown_on(&first);
    assert_eq!(first_ids.len(), 50);
    assert_eq!(first_ids, ids_where(&app, "$1 = $1", 0).await[..50]);
    let older = first_ids[49];
    assert!(
        first.contains(&format!("vor={older}\">Ältere Einträge")),
        "{first}"
    );
    let (status, second) = b.get(&format!("/revision?vor={older}")).await;
    assert_eq!(status, StatusCode::OK);
    let second_ids = shown_on(&second);
    assert!(second_ids.iter().all(|id| *id < older), "{second_ids:?}");
    assert!(second.contains(&format!("nach={}\">Neuere Einträge", second_ids[0])));
    let (_, back) = b.get(&format!("/revision?nach={}", second_ids[0])).await;
    assert_eq!(shown_on(&back), first_ids, "back to the first page");

    // Developers do not read the Revision, nor find it in the navigation.
    let dev = Browser::log_in(&app, "entwickler").await;
    let (status, _) = dev.get("/revision").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, overview) = dev.get("/uebersicht").await;
    assert!(!overview.contains("href=\"/revision\""));
    let (status, csv) = sp.get("/revision/csv?format=rfc4180").await;
    assert_eq!(status, StatusCode::OK);
    assert!(csv.starts_with("Nr.,Zeitpunkt"));
}

/// The Betreiber's page reads the chain's head and its newest verification
/// on one connection: a request holding one connection while waiting for a
/// second starved the pool as soon as as many asked at once as it had
/// connections (found by the HTTP benchmark: 64 at once, 16 connections,
/// one page in eight seconds).
async fn the_betreibers_page_answers_many_at_once_from_a_small_pool(backend: Backend) {
    let app = TestApp::spawn_configured(backend, true, |s| s.database_max_connections = 2).await;
    let b = Browser::log_in(&app, "betreiber").await;
    let started = std::time::Instant::now();
    let pages = futures_util::future::join_all((0..8).map(|_| b.get("/revision"))).await;
    for (status, html) in pages {
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(html.contains("Kopf der Kette"), "{html}");
    }
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "eight pages took {:?}",
        started.elapsed()
    );
}
