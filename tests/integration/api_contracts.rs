//! Contracts over the API (issue 18): the Betreiber creates and changes
//! them with the contract form's rules; a change made against an old
//! version is refused (412) instead of overwriting someone else's; lowering
//! a ceiling below what is booked needs `confirm_below_booked`.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{
    Browser, TestApp, assert_forbidden, assert_not_found, assert_problem, assert_refused_by_state,
    assert_validation, expect_json, id,
};

api_tests! {
    the_betreiber_creates_a_contract_with_the_forms_rules_and_nobody_else_may,
    a_change_against_an_old_version_is_refused_and_nothing_is_overwritten,
    lowering_a_ceiling_below_what_is_booked_needs_the_confirmation_and_names_the_figures,
    the_contract_form_refuses_to_save_over_a_change_made_since_it_was_opened,
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

fn number() -> String {
    format!(
        "DLV-API-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

async fn put(
    app: &TestApp,
    token: &str,
    id: i64,
    etag: Option<&str>,
    body: &Value,
) -> reqwest::Response {
    let mut request = app
        .request(Method::PUT, &format!("/api/v1/contracts/{id}"))
        .bearer_auth(token)
        .json(body);
    if let Some(etag) = etag {
        request = request.header("If-Match", etag);
    }
    request.send().await.expect("PUT")
}

async fn read(app: &TestApp, token: &str, id: i64) -> (String, Value) {
    let resp = app.get(&format!("/api/v1/contracts/{id}"), token).await;
    let etag = resp.headers()["etag"].to_str().unwrap().to_owned();
    (etag, expect_json(resp, StatusCode::OK).await)
}

async fn the_betreiber_creates_a_contract_with_the_forms_rules_and_nobody_else_may(app: TestApp) {
    let t = app.contract_with_room(4).await;
    let betreiber = app.token_for("betreiber").await;
    let mut body = terms(&number());
    body["customer_id"] = json!(t.customer_id);

    let before = app.counts().await;
    assert_forbidden(app.post_json("/api/v1/contracts", &t.token, &body).await).await;
    assert_eq!(app.counts().await, before);

    let created = app
        .request(Method::POST, "/api/v1/contracts")
        .bearer_auth(&betreiber)
        .header("Idempotency-Key", "vertrag-1")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(created.headers().contains_key("etag"));
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let created = expect_json(created, StatusCode::CREATED).await;
    let contract = id(&created);
    assert_eq!(location, format!("/api/v1/contracts/{contract}"));
    assert_eq!(created["customer_id"], t.customer_id);
    assert_eq!(created["kontingent"]["vcpu_millicores"], 8000, "{created}");
    assert_eq!(created["base_fee_cents"], 15000);
    // The customer's people see it now.
    let (_, seen) = read(&app, &t.token, contract).await;
    assert_eq!(seen["number"], body["number"]);
    // A retry is the same contract; the number again is a field message.
    let again = app
        .request(Method::POST, "/api/v1/contracts")
        .bearer_auth(&betreiber)
        .header("Idempotency-Key", "vertrag-1")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(id(&expect_json(again, StatusCode::CREATED).await), contract);
    // The number another contract has: the state of things, 409.
    assert_refused_by_state(
        app.post_json("/api/v1/contracts", &betreiber, &body).await,
        "number",
    )
    .await;

    let before = app.counts().await;
    for (change, field) in [
        (json!({"number": "DLV 2026"}), "number"),
        (json!({"leitweg_id": "04011000"}), "leitweg_id"),
        (json!({"valid_until": "2025-12-31"}), "valid_until"),
        (json!({"valid_from": "bald"}), "valid_from"),
        (json!({"billing_model": "nutzung"}), "base_fee_cents"),
        (json!({"title": ""}), "title"),
        (
            json!({"kontingent": {"vcpu_millicores": -1, "memory_mib": 1, "storage_gib": 1, "monthly_budget_cents": 1}}),
            "kontingent.vcpu_millicores",
        ),
    ] {
        let mut bad = body.clone();
        bad["number"] = json!(number());
        for (k, v) in change.as_object().unwrap() {
            bad[k] = v.clone();
        }
        assert_validation(
            app.post_json("/api/v1/contracts", &betreiber, &bad).await,
            field,
        )
        .await;
    }
    // A customer that does not exist: well-formed, refused by the state.
    let mut no_customer = body.clone();
    no_customer["number"] = json!(number());
    no_customer["customer_id"] = json!(999_999_999);
    assert_refused_by_state(
        app.post_json("/api/v1/contracts", &betreiber, &no_customer)
            .await,
        "customer_id",
    )
    .await;
    let mut unknown = body.clone();
    unknown["number"] = json!(number());
    unknown["rabatt"] = json!(10);
    assert_eq!(
        app.post_json("/api/v1/contracts", &betreiber, &unknown)
            .await
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "an unknown field is refused, not ignored"
    );
    assert_eq!(app.counts().await, before, "refusals write nothing");
}

async fn a_change_against_an_old_version_is_refused_and_nothing_is_overwritten(app: TestApp) {
    let t = app.contract_with_room(4).await;
    let betreiber = app.token_for("betreiber").await;
    let (etag, current) = read(&app, &betreiber, t.contract_id).await;

    // Two people read the contract; the first saves a new title.
    let mut first = terms(current["number"].as_str().unwrap());
    first["title"] = json!("Erste Änderung");
    first["kontingent"]["vcpu_millicores"] = json!(4000);
    let saved = put(&app, &betreiber, t.contract_id, Some(&etag), &first).await;
    let new_etag = saved.headers()["etag"].to_str().unwrap().to_owned();
    let saved = expect_json(saved, StatusCode::OK).await;
    assert_eq!(saved["title"], "Erste Änderung");
    assert_ne!(new_etag, etag, "a change is a new version");

    // The second saves on the version read before: refused, and the first
    // change stays.
    let mut second = first.clone();
    second["title"] = json!("Zweite Änderung");
    let before = app.counts().await;
    let stale = put(&app, &betreiber, t.contract_id, Some(&etag), &second).await;
    let problem = assert_problem(
        stale,
        StatusCode::PRECONDITION_FAILED,
        "precondition-failed",
    )
    .await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("inzwischen geändert"),
        "{problem}"
    );
    assert_eq!(app.counts().await, before);
    let (_, now) = read(&app, &betreiber, t.contract_id).await;
    assert_eq!(now["title"], "Erste Änderung");
    // Read again, it goes through.
    expect_json(
        put(&app, &betreiber, t.contract_id, Some(&new_etag), &second).await,
        StatusCode::OK,
    )
    .await;

    // A malformed If-Match is a message, not a guess; others are refused
    // before anything is compared; another id is not found.
    assert_validation(
        put(&app, &betreiber, t.contract_id, Some("*"), &second).await,
        "If-Match",
    )
    .await;
    assert_forbidden(put(&app, &t.token, t.contract_id, None, &second).await).await;
    assert_not_found(put(&app, &betreiber, 999_999_999, None, &second).await).await;
    let mut with_customer = second.clone();
    with_customer["customer_id"] = json!(1);
    assert_eq!(
        put(&app, &betreiber, t.contract_id, None, &with_customer)
            .await
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "the customer of a contract never changes"
    );
}

async fn lowering_a_ceiling_below_what_is_booked_needs_the_confirmation_and_names_the_figures(
    app: TestApp,
) {
    let t = app.contract_with_room(8).await;
    let betreiber = app.token_for("betreiber").await;
    // Two vCPU booked (S).
    app.book_ok(
        &t.token,
        t.application_id,
        "vorpruefung",
        "container-namespace",
        "S",
    )
    .await;
    let (etag, current) = read(&app, &betreiber, t.contract_id).await;
    let booked = current["used"]["vcpu_millicores"].as_i64().unwrap();
    assert!(booked > 1000, "{current}");
    let mut lower = terms(current["number"].as_str().unwrap());
    lower["valid_from"] = current["valid_from"].clone();
    lower["valid_until"] = current["valid_until"].clone();
    lower["kontingent"]["vcpu_millicores"] = json!(1000);
    let before = app.counts().await;
    let refused = put(&app, &betreiber, t.contract_id, Some(&etag), &lower).await;
    let problem = assert_problem(refused, StatusCode::CONFLICT, "below-booked").await;
    assert_eq!(
        problem["below_booked"],
        json!([{"limit": "vcpu", "ceiling": 1000, "booked": booked}]),
        "{problem}"
    );
    assert_eq!(app.counts().await, before);

    lower["confirm_below_booked"] = json!(true);
    let lowered = expect_json(
        put(&app, &betreiber, t.contract_id, Some(&etag), &lower).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(lowered["kontingent"]["vcpu_millicores"], 1000);
    assert_eq!(
        lowered["remaining"]["vcpu_millicores"],
        1000 - booked,
        "{lowered}"
    );
    // No room now: the next booking is refused.
    let refused = app
        .book(
            &t.token,
            t.application_id,
            "abnahme",
            "container-namespace",
            "S",
        )
        .await;
    assert_problem(refused, StatusCode::CONFLICT, "kontingent-exceeded").await;
}

/// The same protection on the Betreiber's contract form: it carries the
/// version it was filled from.
async fn the_contract_form_refuses_to_save_over_a_change_made_since_it_was_opened(app: TestApp) {
    let t = app.contract_with_room(4).await;
    let betreiber = app.token_for("betreiber").await;
    let person = Browser::log_in(&app, "betreiber").await;
    let path = format!("/betrieb/vertraege/{}", t.contract_id);
    let (status, form) = person.get(&path).await;
    assert_eq!(status, StatusCode::OK);
    let marker = "name=\"version\" value=\"";
    let version = form
        .split_once(marker)
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(v, _)| v.to_owned())
        .unwrap_or_else(|| panic!("no version in the form: {form}"));
    let (etag, k) = read(&app, &betreiber, t.contract_id).await;
    assert_eq!(
        etag,
        format!("\"{version}\""),
        "the form's version is the ETag"
    );

    // Meanwhile someone changes the title through the API.
    let mut other = terms(k["number"].as_str().unwrap());
    for field in [
        "valid_from",
        "valid_until",
        "kostenstelle",
        "haushaltsstelle",
        "leitweg_id",
        "billing_model",
        "base_fee_cents",
    ] {
        other[field] = k[field].clone();
    }
    other["kontingent"] = json!({"vcpu_millicores": k["kontingent"]["vcpu_millicores"],
        "memory_mib": k["kontingent"]["memory_mib"], "storage_gib": k["kontingent"]["storage_gib"],
        "monthly_budget_cents": k["kontingent"]["monthly_budget_cents"]});
    other["title"] = json!("Über die API geändert");
    expect_json(
        put(&app, &betreiber, t.contract_id, Some(&etag), &other).await,
        StatusCode::OK,
    )
    .await;

    // The form, saved as it was filled: refused, the API's change stays.
    let cents = |v: &Value| {
        let c = v.as_i64().unwrap();
        format!("{},{:02}", c / 100, c % 100)
    };
    let fields: Vec<(&str, String)> = vec![
        ("csrf", person.csrf.clone()),
        ("version", version.clone()),
        ("customer_id", t.customer_id.to_string()),
        ("number", k["number"].as_str().unwrap().to_owned()),
        ("title", "Im Formular geändert".to_owned()),
        ("valid_from", k["valid_from"].as_str().unwrap().to_owned()),
        ("valid_until", k["valid_until"].as_str().unwrap().to_owned()),
        (
            "kostenstelle",
            k["kostenstelle"].as_str().unwrap().to_owned(),
        ),
        (
            "haushaltsstelle",
            k["haushaltsstelle"].as_str().unwrap().to_owned(),
        ),
        ("leitweg_id", k["leitweg_id"].as_str().unwrap().to_owned()),
        (
            "billing_model",
            k["billing_model"].as_str().unwrap().to_owned(),
        ),
        ("base_fee", cents(&k["base_fee_cents"])),
        (
            "max_vcpu",
            (k["kontingent"]["vcpu_millicores"].as_i64().unwrap() / 1000).to_string(),
        ),
        (
            "max_memory_gib",
            (k["kontingent"]["memory_mib"].as_i64().unwrap() / 1024).to_string(),
        ),
        (
            "max_storage_gib",
            k["kontingent"]["storage_gib"].to_string(),
        ),
        (
            "monthly_budget",
            cents(&k["kontingent"]["monthly_budget_cents"]),
        ),
    ];
    let before = app.counts().await;
    let (status, page) = person.post_raw(&path, &fields).await;
    assert_eq!(status, StatusCode::CONFLICT, "{page}");
    assert!(page.contains("inzwischen geändert"), "{page}");
    assert_eq!(app.counts().await, before);
    let (_, now) = read(&app, &betreiber, t.contract_id).await;
    assert_eq!(now["title"], "Über die API geändert");

    // Opened again, the form saves.
    let (_, fresh) = person.get(&path).await;
    let version = fresh
        .split_once(marker)
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(v, _)| v.to_owned())
        .expect("version");
    let mut fields = fields;
    fields[1].1 = version;
    let (status, page) = person.post_raw(&path, &fields).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
    let (_, now) = read(&app, &betreiber, t.contract_id).await;
    assert_eq!(now["title"], "Im Formular geändert");
}
