//! The messages the domain and the app write (refusals, conflicts, field
//! messages) follow `Accept-Language` in the API's problem details like
//! the titles do; without it they are German. What is recorded (a refused
//! delivery's reason) stays German, whoever asked in which language.

use kontor::domain::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{
    ContractSpec, ENGLISH, TestApp, assert_problem, assert_validation, expect_json,
    in_english_then_german,
};

api_tests! {
    a_checkup_refusal_reads_in_the_callers_language_and_is_recorded_in_german,
    a_kontingent_refusal_reads_in_the_callers_language_with_its_figures,
    a_stale_change_and_a_ceiling_below_use_read_in_the_callers_language,
    field_messages_read_in_the_callers_language,
}

fn detail(problem: &Value) -> &str {
    problem["detail"].as_str().unwrap_or_default()
}

/// The message on `field` of a validation problem.
fn field_message<'a>(problem: &'a Value, field: &str) -> &'a str {
    problem["errors"]
        .as_array()
        .and_then(|errors| errors.iter().find(|e| e["field"] == field))
        .and_then(|e| e["message"].as_str())
        .unwrap_or_else(|| panic!("no message on {field}: {problem}"))
}

async fn a_checkup_refusal_reads_in_the_callers_language_and_is_recorded_in_german(app: TestApp) {
    let t = app.contract_with_room(4).await;
    let dev = app.person(Some(t.customer_id), &[Role::Entwickler]).await;
    let path = format!("/api/v1/applications/{}/releases", t.application_id);
    let delivery =
        |version: &str, image: &str| json!({"version": version, "image": image, "checksums": {}});

    let deliver = |lang: Option<&str>, body: Value| {
        app.request_in(lang, Method::POST, &path, &dev.token)
            .json(&body)
            .send()
    };

    let refused = deliver(
        Some(ENGLISH),
        delivery("1.0.0", "registry.rz.example/kfz/portal:1.0.0"),
    )
    .await
    .expect("delivery");
    let en = assert_problem(refused, StatusCode::UNPROCESSABLE_ENTITY, "checkup-refused").await;
    assert_eq!(en["reason"], "not-pinned", "{en}");
    assert_eq!(
        detail(&en),
        "The image is not pinned by digest (…@sha256:<64 hex characters>); a tag can change later."
    );

    // What is wrong with the reference is translated inside the sentence.
    let digest = format!("sha256:{}", "0a".repeat(32));
    let refused = deliver(
        Some(ENGLISH),
        delivery("1.0.1", &format!("portal@{digest}")),
    )
    .await
    .expect("delivery");
    let en = assert_problem(refused, StatusCode::UNPROCESSABLE_ENTITY, "checkup-refused").await;
    assert_eq!(
        detail(&en),
        "The image reference is invalid (no registry); expected: \
         registry/path@sha256:<64 hex characters>."
    );

    let refused = deliver(
        None,
        delivery("1.0.2", "registry.rz.example/kfz/portal:1.0.2"),
    )
    .await
    .expect("delivery");
    let de = assert_problem(refused, StatusCode::UNPROCESSABLE_ENTITY, "checkup-refused").await;
    assert_eq!(de["type"], en["type"]);
    assert_eq!(
        detail(&de),
        "Das Image ist nicht per Digest festgelegt (…@sha256:<64 Hex-Zeichen>); ein Tag kann \
         sich später ändern."
    );

    // The record of the refusals asked for in English is German.
    let list = expect_json(
        app.request_in(Some(ENGLISH), Method::GET, &path, &dev.token)
            .send()
            .await
            .expect("list"),
        StatusCode::OK,
    )
    .await;
    let recorded = |version: &str| -> String {
        list["items"]
            .as_array()
            .and_then(|items| items.iter().find(|r| r["version"] == version))
            .and_then(|r| r["refusal"]["message"].as_str())
            .unwrap_or_else(|| panic!("no refusal of {version}: {list}"))
            .to_owned()
    };
    assert_eq!(recorded("1.0.0"), detail(&de));
    assert_eq!(
        recorded("1.0.1"),
        "Die Image-Referenz ist ungültig (keine Registry); erwartet: \
         registry/pfad@sha256:<64 Hex-Zeichen>."
    );
}

async fn a_kontingent_refusal_reads_in_the_callers_language_with_its_figures(app: TestApp) {
    // S costs 86,14 € a month; 100 € fit it once.
    let t = app
        .tenant(ContractSpec {
            monthly_budget: "100,00".into(),
            ..ContractSpec::default()
        })
        .await;
    app.book_ok(
        &t.token,
        t.application_id,
        "vorpruefung",
        "container-namespace",
        "S",
    )
    .await;
    let booking = json!({
        "application_id": t.application_id, "stage": "abnahme",
        "product": "container-namespace", "size": "S",
    });

    let (en, de) = in_english_then_german(|lang| {
        app.request_in(lang, Method::POST, "/api/v1/bookings", &t.token)
            .json(&booking)
    })
    .await;
    let en = assert_problem(en, StatusCode::CONFLICT, "kontingent-exceeded").await;
    assert_eq!(en["title"], "Quota exceeded");
    assert_eq!(
        detail(&en),
        "The quota is not enough: Monthly budget – needed 86.14 € per month, available \
         13.86 € per month of 100.00 € per month."
    );

    let de = assert_problem(de, StatusCode::CONFLICT, "kontingent-exceeded").await;
    assert_eq!(
        detail(&de),
        "Das Kontingent reicht nicht: Monatsbudget – benötigt 86,14 € pro Monat, verfügbar \
         13,86 € pro Monat von 100,00 € pro Monat."
    );
}

fn terms(number: &str) -> Value {
    json!({
        "number": number, "title": "Rahmenvertrag Fachverfahren",
        "valid_from": "2026-01-01", "valid_until": "2027-12-31",
        "kostenstelle": "4711-1", "haushaltsstelle": "0610.53100",
        "leitweg_id": "04011000-1234512345-06", "billing_model": "gemischt",
        "base_fee_cents": 15000,
        "kontingent": {"vcpu_millicores": 8000, "memory_mib": 16384,
                       "storage_gib": 500, "monthly_budget_cents": 250000},
    })
}

async fn read(app: &TestApp, token: &str, id: i64) -> (String, Value) {
    let resp = app.get(&format!("/api/v1/contracts/{id}"), token).await;
    let etag = resp.headers()["etag"].to_str().unwrap().to_owned();
    (etag, expect_json(resp, StatusCode::OK).await)
}

async fn a_stale_change_and_a_ceiling_below_use_read_in_the_callers_language(app: TestApp) {
    let t = app.contract_with_room(4).await;
    app.book_ok(
        &t.token,
        t.application_id,
        "vorpruefung",
        "container-namespace",
        "S",
    )
    .await;
    let betreiber = app.token_for("betreiber").await;
    let path = format!("/api/v1/contracts/{}", t.contract_id);
    let (etag, current) = read(&app, &betreiber, t.contract_id).await;
    let mut changed = terms(current["number"].as_str().unwrap());
    changed["valid_from"] = current["valid_from"].clone();
    changed["valid_until"] = current["valid_until"].clone();

    // Below what is booked (2 vCPU), not confirmed.
    let mut lower = changed.clone();
    lower["kontingent"]["vcpu_millicores"] = json!(1000);
    let change = |lang: Option<&str>, body: &Value| {
        app.request_in(lang, Method::PUT, &path, &betreiber)
            .json(body)
            .header("If-Match", &etag)
    };
    let (en, de) = in_english_then_german(|lang| change(lang, &lower)).await;
    let en = assert_problem(en, StatusCode::CONFLICT, "below-booked").await;
    assert_eq!(
        detail(&en),
        "The new ceilings would be below what is booked (vCPU: new 1 vCPU, booked 2 vCPU). \
         Until use falls, no new bookings and no enlargements are then possible; please \
         confirm explicitly."
    );
    let de = assert_problem(de, StatusCode::CONFLICT, "below-booked").await;
    assert_eq!(
        detail(&de),
        "Die neuen Obergrenzen lägen unter dem, was gebucht ist (vCPU: neu 1 vCPU, gebucht 2 \
         vCPU). Bis der Verbrauch sinkt, sind dann keine neuen Buchungen und keine \
         Vergrößerungen möglich; bitte ausdrücklich bestätigen."
    );

    // Someone saves first; a change on the version read before is stale.
    changed["title"] = json!("Erste Änderung");
    expect_json(
        change(None, &changed).send().await.expect("change"),
        StatusCode::OK,
    )
    .await;
    changed["title"] = json!("Zweite Änderung");
    let (en, de) = in_english_then_german(|lang| change(lang, &changed)).await;
    let en = assert_problem(en, StatusCode::PRECONDITION_FAILED, "precondition-failed").await;
    assert_eq!(en["title"], "Changed in the meantime");
    assert_eq!(
        detail(&en),
        "The contract has been changed in the meantime. Nothing was saved; please load the \
         current version and make the change again."
    );
    let de = assert_problem(de, StatusCode::PRECONDITION_FAILED, "precondition-failed").await;
    assert_eq!(
        detail(&de),
        "Der Vertrag wurde inzwischen geändert. Es wurde nichts gespeichert; bitte die \
         aktuelle Fassung laden und die Änderung erneut vornehmen."
    );
}

async fn field_messages_read_in_the_callers_language(app: TestApp) {
    let t = app.contract_with_room(4).await;
    let betreiber = app.token_for("betreiber").await;

    // The contract's own rules, a text's length and a number's range.
    let mut body = terms("DLV 2026?");
    body["customer_id"] = json!(t.customer_id);
    body["title"] = json!("x".repeat(201));
    body["billing_model"] = json!("nutzung");
    body["kontingent"]["storage_gib"] = json!(-1);
    let (en, de) = in_english_then_german(|lang| {
        app.request_in(lang, Method::POST, "/api/v1/contracts", &betreiber)
            .json(&body)
    })
    .await;
    let en = assert_validation(en, "number").await;
    assert_eq!(en["title"], "Invalid input");
    assert_eq!(
        field_message(&en, "number"),
        "Only letters, digits, “-” and “/”, e.g. DLV-2026-0042."
    );
    assert_eq!(field_message(&en, "title"), "At most 200 characters.");
    assert_eq!(
        field_message(&en, "base_fee_cents"),
        "A base fee exists only in the mixed model."
    );
    assert_eq!(
        field_message(&en, "kontingent.storage_gib"),
        "Please give a whole number from 0 to 100000000."
    );
    let de = assert_validation(de, "number").await;
    assert_eq!(
        field_message(&de, "number"),
        "Nur Buchstaben, Ziffern, „-“ und „/“, z. B. DLV-2026-0042."
    );
    assert_eq!(field_message(&de, "title"), "Höchstens 200 Zeichen.");
    assert_eq!(
        field_message(&de, "base_fee_cents"),
        "Eine Grundgebühr gibt es nur im Mischmodell."
    );
    assert_eq!(
        field_message(&de, "kontingent.storage_gib"),
        "Bitte eine ganze Zahl von 0 bis 100000000 angeben."
    );

    // A value none of an enum's ids: what was expected, and what would do.
    let booking = json!({
        "application_id": t.application_id, "stage": "abnahme",
        "product": "container-namespace", "size": "XXL",
    });
    let (en, de) = in_english_then_german(|lang| {
        app.request_in(lang, Method::POST, "/api/v1/bookings", &t.token)
            .json(&booking)
    })
    .await;
    let en = assert_validation(en, "size").await;
    assert_eq!(
        field_message(&en, "size"),
        "unknown size “XXL” (allowed: S, M, L, XL)"
    );
    let de = assert_validation(de, "size").await;
    assert_eq!(
        field_message(&de, "size"),
        "unbekannte Größe „XXL“ (erlaubt: S, M, L, XL)"
    );

    // A page size out of range, in a list's query.
    let en = assert_validation(
        app.request_in(
            Some(ENGLISH),
            Method::GET,
            "/api/v1/bookings?limit=0",
            &t.token,
        )
        .send()
        .await
        .expect("list"),
        "limit",
    )
    .await;
    assert_eq!(
        field_message(&en, "limit"),
        "Please give a whole number from 1 to 200."
    );
}
