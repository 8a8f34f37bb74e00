//! The Betreiber's everyday work from the command line (issue 18):
//! `kontor customer|contract|application|price` run as the real binary
//! against a running Kontor, each change read back through the API. Exit
//! codes: 0 done, 1 refused by Kontor (its German message printed), 2
//! wrong use, 3 not reachable; a refusal writes nothing.

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::{TestApp, expect_json, id, kontor_cli, unique};

api_tests! {
    the_betreiber_creates_shows_lists_and_renames_customers_and_nobody_else_may,
    the_betreiber_creates_a_contract_and_changes_only_the_fields_given,
    a_contract_change_against_a_version_changed_meanwhile_is_refused_and_overwrites_nothing,
    lowering_a_ceiling_below_what_is_booked_shows_the_figures_and_needs_the_confirmation,
    the_betreiber_creates_applications_and_another_tenants_are_not_found,
    the_betreiber_renames_an_application_and_moves_it_with_its_bookings,
    the_betreiber_adds_a_price_in_cents_exactly_and_changes_it_until_it_starts,
    wrong_use_exits_2_and_an_unreachable_kontor_3,
}

/// Runs `kontor` against the test's Kontor with this token.
async fn kontor(app: &TestApp, token: &str, args: &[&str]) -> (i32, String, String) {
    kontor_cli(Some(&app.address), Some(token), args).await
}

/// Runs `kontor`, expects exit code 0 and returns what it printed.
async fn done(app: &TestApp, token: &str, args: &[&str]) -> String {
    let (code, out, err) = kontor(app, token, args).await;
    assert_eq!(code, 0, "kontor {args:?}: {out}{err}");
    out
}

/// Runs `kontor` with `--json` and returns the API's answer.
async fn done_json(app: &TestApp, token: &str, args: &[&str]) -> Value {
    let mut args = args.to_vec();
    args.push("--json");
    let out = done(app, token, &args).await;
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("kontor {args:?}: {e}: {out}"))
}

/// Runs `kontor`, expects it refused by Kontor (1) without writing, and
/// returns the message.
async fn refused(app: &TestApp, token: &str, args: &[&str]) -> String {
    let before = app.counts().await;
    let (code, out, err) = kontor(app, token, args).await;
    assert_eq!(code, 1, "kontor {args:?}: {out}{err}");
    assert_eq!(
        app.counts().await,
        before,
        "kontor {args:?} wrote on refusal"
    );
    err
}

/// Runs `kontor`, expects it refused (1) without writing, saying `what`.
async fn refused_saying(app: &TestApp, token: &str, args: &[&str], what: &str) {
    let err = refused(app, token, args).await;
    assert!(err.contains(what), "kontor {args:?}: {err}");
}

const FORBIDDEN: &str = "Ihre Rolle erlaubt diese Aktion nicht";
const NOT_FOUND: &str = "gehört nicht zu Ihrem Bereich";

async fn read(app: &TestApp, token: &str, path: &str) -> Value {
    expect_json(app.get(path, token).await, StatusCode::OK).await
}

async fn the_betreiber_creates_shows_lists_and_renames_customers_and_nobody_else_may(app: TestApp) {
    let betreiber = app.token_for("betreiber").await;
    let t = app.contract_with_room(4).await;
    let other = app.contract_with_room(4).await;
    let slug = format!("amt{}", unique());

    // Created, with the key given: a retry is the same customer.
    let key = format!("kunde-{slug}");
    let args = [
        "customer",
        "create",
        "--slug",
        &slug,
        "--name",
        "Amt für Statistik",
        "--idempotency-key",
        &key,
    ];
    let out = done(&app, &betreiber, &args).await;
    assert!(out.starts_with("Kunde "), "{out}");
    assert!(out.contains("angelegt"), "{out}");
    let again = done_json(&app, &betreiber, &args).await;
    let customer_id = id(&again);
    assert!(
        out.contains(&format!("Kunde {customer_id} angelegt")),
        "{out}"
    );
    let read_back = read(
        &app,
        &betreiber,
        &format!("/api/v1/customers/{customer_id}"),
    )
    .await;
    assert_eq!(read_back["slug"], slug.as_str());
    assert_eq!(read_back["name"], "Amt für Statistik");

    // Listed in a table, ids first; --json is the API's answer unchanged.
    let table = done(&app, &betreiber, &["customer", "list"]).await;
    let header = table.lines().next().unwrap_or_default();
    assert!(header.starts_with("Id"), "{table}");
    assert!(
        table
            .lines()
            .any(|l| l.starts_with(&format!("{customer_id} ")) && l.contains(&slug)),
        "{table}"
    );
    assert_eq!(
        done_json(&app, &betreiber, &["customer", "list"]).await,
        read(&app, &betreiber, "/api/v1/customers?limit=200").await["items"]
    );
    let shown = done(
        &app,
        &betreiber,
        &["customer", "show", &customer_id.to_string()],
    )
    .await;
    assert!(shown.contains("Amt für Statistik"), "{shown}");

    // Renamed; the slug stays.
    let id_arg = customer_id.to_string();
    let out = done(
        &app,
        &betreiber,
        &[
            "customer",
            "rename",
            &id_arg,
            "--name",
            "Landesamt für Statistik",
        ],
    )
    .await;
    assert!(out.contains("Landesamt für Statistik"), "{out}");
    let read_back = read(
        &app,
        &betreiber,
        &format!("/api/v1/customers/{customer_id}"),
    )
    .await;
    assert_eq!(read_back["name"], "Landesamt für Statistik");
    assert_eq!(read_back["slug"], slug.as_str());

    // A bad slug: refused naming the field.
    let err = refused(
        &app,
        &betreiber,
        &[
            "customer",
            "create",
            "--slug",
            "Gross Buchstaben",
            "--name",
            "X",
        ],
    )
    .await;
    assert!(err.contains("422 validation"), "{err}");
    assert!(err.contains("\n  slug: "), "{err}");
    // A Systempfleger:in may not; another tenant's customer is not found.
    let slug2 = format!("amt{}", unique());
    refused_saying(
        &app,
        &t.token,
        &["customer", "create", "--slug", &slug2, "--name", "Y"],
        FORBIDDEN,
    )
    .await;
    let customer = t.customer_id.to_string();
    refused_saying(
        &app,
        &t.token,
        &["customer", "rename", &customer, "--name", "Z"],
        FORBIDDEN,
    )
    .await;
    let err = refused(
        &app,
        &t.token,
        &["customer", "show", &other.customer_id.to_string()],
    )
    .await;
    assert!(err.contains("404 not-found"), "{err}");
    assert!(err.contains(NOT_FOUND), "{err}");
}

/// The flags of a whole contract.
fn contract_flags(customer: &str, number: &str) -> Vec<String> {
    [
        "contract",
        "create",
        "--customer",
        customer,
        "--number",
        number,
        "--title",
        "Rahmenvertrag Statistik",
        "--valid-from",
        "2026-01-01",
        "--valid-until",
        "2027-12-31",
        "--kostenstelle",
        "4711-9",
        "--haushaltsstelle",
        "0610.53100",
        "--leitweg-id",
        "04011000-1234512345-06",
        "--billing-model",
        "gemischt",
        "--base-fee-cents",
        "15050",
        "--vcpu",
        "8",
        "--memory-gib",
        "16",
        "--storage-gib",
        "500",
        "--budget-eur",
        "2500",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect()
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

async fn the_betreiber_creates_a_contract_and_changes_only_the_fields_given(app: TestApp) {
    let betreiber = app.token_for("betreiber").await;
    let t = app.contract_with_room(4).await;
    let number = format!("DLV-CLI-{}", unique());
    let customer = t.customer_id.to_string();
    let flags = contract_flags(&customer, &number);

    // A term left out: wrong use, nothing sent.
    let before = app.counts().await;
    let (code, _, err) = kontor(&app, &betreiber, &strs(&flags[..flags.len() - 2])).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--budget-eur"), "{err}");
    // A Systempfleger:in may not.
    refused_saying(&app, &t.token, &strs(&flags), FORBIDDEN).await;
    assert_eq!(app.counts().await, before);

    let out = done(&app, &betreiber, &strs(&flags)).await;
    assert!(out.contains(&number), "{out}");
    let contracts = read(&app, &betreiber, "/api/v1/contracts").await;
    let created = contracts["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["number"] == number.as_str())
        .expect("the new contract")
        .clone();
    assert!(
        out.starts_with(&format!("Vertrag {} angelegt", id(&created))),
        "{out}"
    );
    assert_eq!(created["customer_id"], t.customer_id);
    assert_eq!(created["base_fee_cents"], 15050);
    assert_eq!(created["kontingent"]["vcpu_millicores"], 8000);
    assert_eq!(created["kontingent"]["memory_mib"], 16 * 1024);
    assert_eq!(created["kontingent"]["monthly_budget_cents"], 250_000);

    // Listed and shown.
    let table = done(&app, &betreiber, &["contract", "list"]).await;
    assert!(
        table
            .lines()
            .any(|l| l.starts_with(&format!("{} ", id(&created))) && l.contains(&number)),
        "{table}"
    );
    let contract_id = id(&created).to_string();
    let shown = done(&app, &betreiber, &["contract", "show", &contract_id]).await;
    assert!(shown.contains("Rahmenvertrag Statistik"), "{shown}");
    assert!(shown.contains("0 von 8000 Millicores"), "{shown}");

    // Changed: the title and one ceiling; the rest stays as it was.
    let changed = done_json(
        &app,
        &betreiber,
        &[
            "contract",
            "update",
            &contract_id,
            "--title",
            "Rahmenvertrag Statistik II",
            "--vcpu",
            "12",
        ],
    )
    .await;
    assert_eq!(changed["title"], "Rahmenvertrag Statistik II");
    let read_back = read(
        &app,
        &betreiber,
        &format!("/api/v1/contracts/{contract_id}"),
    )
    .await;
    assert_eq!(read_back["title"], "Rahmenvertrag Statistik II");
    assert_eq!(read_back["kontingent"]["vcpu_millicores"], 12_000);
    for same in ["number", "valid_from", "kostenstelle", "base_fee_cents"] {
        assert_eq!(read_back[same], created[same], "{same}");
    }
    assert_eq!(
        read_back["kontingent"]["memory_mib"],
        created["kontingent"]["memory_mib"]
    );

    // Nothing given: wrong use. A bad date: refused naming the field.
    let (code, _, err) = kontor(&app, &betreiber, &["contract", "update", &contract_id]).await;
    assert_eq!(code, 2, "{err}");
    let err = refused(
        &app,
        &betreiber,
        &["contract", "update", &contract_id, "--valid-until", "bald"],
    )
    .await;
    assert!(err.contains("\n  valid_until: "), "{err}");
    // Its customer's Systempfleger:in may not change it; another
    // customer's does not even see it.
    let own = t.contract_id.to_string();
    refused_saying(
        &app,
        &t.token,
        &["contract", "update", &own, "--title", "X"],
        FORBIDDEN,
    )
    .await;
    let other = app.contract_with_room(4).await;
    refused_saying(
        &app,
        &other.token,
        &["contract", "show", &contract_id],
        NOT_FOUND,
    )
    .await;
}

async fn a_contract_change_against_a_version_changed_meanwhile_is_refused_and_overwrites_nothing(
    app: TestApp,
) {
    let betreiber = app.token_for("betreiber").await;
    let t = app.contract_with_room(4).await;
    let path = format!("/api/v1/contracts/{}", t.contract_id);
    let first = app.get(&path, &betreiber).await;
    let old_version = first.headers()["etag"].to_str().unwrap().to_owned();
    let contract_id = t.contract_id.to_string();
    // Someone changes it after the version was read …
    done(
        &app,
        &betreiber,
        &[
            "contract",
            "update",
            &contract_id,
            "--title",
            "Geändert von Anna",
        ],
    )
    .await;
    // … and a change made against that version is refused.
    let err = refused(
        &app,
        &betreiber,
        &[
            "contract",
            "update",
            &contract_id,
            "--title",
            "Geändert von Bert",
            "--if-match",
            &old_version,
        ],
    )
    .await;
    assert!(err.contains("412 precondition-failed"), "{err}");
    assert!(err.contains("inzwischen geändert"), "{err}");
    assert!(
        err.contains(&format!("kontor contract show {contract_id}")),
        "{err}"
    );
    assert_eq!(
        read(&app, &betreiber, &path).await["title"],
        "Geändert von Anna"
    );
}

async fn lowering_a_ceiling_below_what_is_booked_shows_the_figures_and_needs_the_confirmation(
    app: TestApp,
) {
    let betreiber = app.token_for("betreiber").await;
    let t = app.contract_with_room(8).await;
    app.book_ok(
        &t.token,
        t.application_id,
        "vorpruefung",
        "container-namespace",
        "S",
    )
    .await;
    let path = format!("/api/v1/contracts/{}", t.contract_id);
    let booked = read(&app, &betreiber, &path).await["used"]["vcpu_millicores"]
        .as_i64()
        .unwrap();
    assert!(booked > 1000);
    let contract_id = t.contract_id.to_string();
    let lower = ["contract", "update", &contract_id, "--vcpu", "1"];
    let err = refused(&app, &betreiber, &lower).await;
    assert!(err.contains("409 below-booked"), "{err}");
    assert!(
        err.contains(&format!(
            "vCPU (Millicores): Obergrenze 1000, gebucht {booked}"
        )),
        "{err}"
    );
    assert!(err.contains("--confirm-below-booked"), "{err}");
    assert_eq!(
        read(&app, &betreiber, &path).await["kontingent"]["vcpu_millicores"],
        8000
    );

    let mut confirmed = lower.to_vec();
    confirmed.push("--confirm-below-booked");
    done(&app, &betreiber, &confirmed).await;
    let read_back = read(&app, &betreiber, &path).await;
    assert_eq!(read_back["kontingent"]["vcpu_millicores"], 1000);
    assert_eq!(read_back["remaining"]["vcpu_millicores"], 1000 - booked);
}

async fn the_betreiber_creates_applications_and_another_tenants_are_not_found(app: TestApp) {
    let betreiber = app.token_for("betreiber").await;
    let t = app.contract_with_room(4).await;
    let other = app.contract_with_room(4).await;
    let slug = format!("fv{}", unique());
    let customer = t.customer_id.to_string();
    let contract = t.contract_id.to_string();
    let args = [
        "application",
        "create",
        "--customer",
        &customer,
        "--contract",
        &contract,
        "--slug",
        &slug,
        "--name",
        "Meldewesen",
    ];
    refused_saying(&app, &t.token, &args, FORBIDDEN).await;

    let created = done_json(&app, &betreiber, &args).await;
    let app_id = id(&created).to_string();
    let read_back = read(&app, &t.token, &format!("/api/v1/applications/{app_id}")).await;
    assert_eq!(read_back["slug"], slug.as_str());
    assert_eq!(read_back["contract_id"], t.contract_id);
    // The customer's own people see it in the list and by id.
    let table = done(&app, &t.token, &["application", "list"]).await;
    assert!(
        table
            .lines()
            .any(|l| l.starts_with(&format!("{app_id} ")) && l.contains("Meldewesen")),
        "{table}"
    );
    let shown = done(&app, &t.token, &["application", "show", &app_id]).await;
    assert!(shown.contains(&slug), "{shown}");

    // The slug again: refused naming the field. Another customer's contract
    // or application: not found.
    let err = refused(&app, &betreiber, &args).await;
    assert!(err.contains("\n  slug: "), "{err}");
    let slug2 = format!("fv{}", unique());
    let other_contract = other.contract_id.to_string();
    let err = refused(
        &app,
        &betreiber,
        &[
            "application",
            "create",
            "--customer",
            &customer,
            "--contract",
            &other_contract,
            "--slug",
            &slug2,
            "--name",
            "Fremd",
        ],
    )
    .await;
    assert!(err.contains("\n  contract_id: "), "{err}");
    refused_saying(
        &app,
        &other.token,
        &["application", "show", &app_id],
        NOT_FOUND,
    )
    .await;
}

async fn the_betreiber_renames_an_application_and_moves_it_with_its_bookings(app: TestApp) {
    let betreiber = app.token_for("betreiber").await;
    let t = app.contract_with_room(8).await;
    let other = app.contract_with_room(8).await;
    app.book_ok(
        &t.token,
        t.application_id,
        "vorpruefung",
        "container-namespace",
        "S",
    )
    .await;
    let second = app
        .second_contract(&t, "nutzung", "", ("2020-01-01", "2099-12-31"))
        .await;
    let app_id = t.application_id.to_string();
    let path = format!("/api/v1/applications/{app_id}");

    // Renamed; the slug stays.
    let before = read(&app, &betreiber, &path).await;
    let rename = ["application", "rename", &app_id, "--name", "Meldewesen 2.0"];
    refused_saying(&app, &t.token, &rename, FORBIDDEN).await;
    let out = done(&app, &betreiber, &rename).await;
    assert!(
        out.contains("umbenannt") && out.contains("Meldewesen 2.0"),
        "{out}"
    );
    let read_back = read(&app, &betreiber, &path).await;
    assert_eq!(read_back["name"], "Meldewesen 2.0");
    assert_eq!(read_back["slug"], before["slug"]);

    // Moved to another contract of its customer, its booking along.
    let target = second.contract_id.to_string();
    let elsewhere = other.contract_id.to_string();
    let own = t.contract_id.to_string();
    refused_saying(
        &app,
        &t.token,
        &["application", "move", &app_id, "--contract", &target],
        FORBIDDEN,
    )
    .await;
    let err = refused(
        &app,
        &betreiber,
        &["application", "move", &app_id, "--contract", &own],
    )
    .await;
    assert!(err.contains("409 conflict"), "{err}");
    refused(
        &app,
        &betreiber,
        &["application", "move", &app_id, "--contract", &elsewhere],
    )
    .await;
    let moved = done_json(
        &app,
        &betreiber,
        &["application", "move", &app_id, "--contract", &target],
    )
    .await;
    assert_eq!(moved["contract_id"], second.contract_id);
    let read_back = read(&app, &betreiber, &path).await;
    assert_eq!(read_back["contract_id"], second.contract_id);
    let new_contract = read(
        &app,
        &betreiber,
        &format!("/api/v1/contracts/{}", second.contract_id),
    )
    .await;
    assert!(
        new_contract["used"]["vcpu_millicores"].as_i64() > Some(0),
        "{new_contract}"
    );
    // And back, in words.
    let out = done(
        &app,
        &betreiber,
        &["application", "move", &app_id, "--contract", &own],
    )
    .await;
    assert!(
        out.starts_with(&format!("Verfahren {app_id} verschoben")),
        "{out}"
    );
    assert!(out.contains(&format!("Vertrag {own} (")), "{out}");
}

async fn the_betreiber_adds_a_price_in_cents_exactly_and_changes_it_until_it_starts(app: TestApp) {
    let betreiber = app.token_for("betreiber").await;
    let t = app.contract_with_room(4).await;
    let tomorrow = kontor::domain::calendar::berlin_date(kontor::db::now())
        .tomorrow()
        .unwrap()
        .to_string();
    let add = [
        "price",
        "add",
        "--product",
        "container-namespace",
        "--size",
        "M",
        "--cents-per-hour",
        "33,33",
        "--valid-from",
        &tomorrow,
    ];
    refused_saying(&app, &t.token, &add, FORBIDDEN).await;

    let out = done(&app, &betreiber, &add).await;
    assert!(out.contains("0.3333 EUR/Stunde"), "{out}");
    assert!(out.contains(&format!("ab {tomorrow}")), "{out}");
    let list_m = [
        "price",
        "list",
        "--product",
        "container-namespace",
        "--size",
        "M",
    ];
    let history = done_json(&app, &t.token, &list_m).await;
    let latest = history.as_array().unwrap().last().unwrap().clone();
    assert_eq!(latest["price_per_hour"], "0.3333");
    let price_id = id(&latest).to_string();
    let table = done(&app, &t.token, &list_m).await;
    let row = table
        .lines()
        .find(|l| l.starts_with(&format!("{price_id} ")))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(row.contains(&tomorrow) && row.ends_with("0.3333"), "{row}");

    // Changed before it starts, in euros; read back through the API.
    let out = done(
        &app,
        &betreiber,
        &["price", "change", &price_id, "--eur-per-hour", "0,3"],
    )
    .await;
    assert!(out.contains("geändert"), "{out}");
    let read_back = read(
        &app,
        &t.token,
        &format!("/api/v1/catalog/prices/{price_id}"),
    )
    .await;
    assert_eq!(read_back["price_per_hour"], "0.3000");

    // Too precise in euros: Kontor names the field. Cents with three
    // places, or both units: wrong use before anything is sent.
    let err = refused(
        &app,
        &betreiber,
        &["price", "change", &price_id, "--eur-per-hour", "1,23456"],
    )
    .await;
    assert!(err.contains("\n  price_per_hour: "), "{err}");
    for wrong in [
        vec!["price", "change", &price_id, "--cents-per-hour", "1.234"],
        vec![
            "price",
            "change",
            &price_id,
            "--cents-per-hour",
            "1",
            "--eur-per-hour",
            "1",
        ],
        vec!["price", "change", &price_id],
    ] {
        let (code, _, err) = kontor(&app, &betreiber, &wrong).await;
        assert_eq!(code, 2, "{wrong:?}: {err}");
    }
    // The same day again, from tomorrow by default: refused naming the field.
    let err = refused(
        &app,
        &betreiber,
        &[
            "price",
            "add",
            "--product",
            "container-namespace",
            "--size",
            "M",
            "--cents-per-hour",
            "40",
        ],
    )
    .await;
    assert!(err.contains("\n  valid_from: "), "{err}");
    let err = refused(&app, &t.token, &["price", "list", "--size", "XXL"]).await;
    assert!(err.contains("\n  size: "), "{err}");
    assert_eq!(
        read(
            &app,
            &t.token,
            &format!("/api/v1/catalog/prices/{price_id}")
        )
        .await["price_per_hour"],
        "0.3000"
    );
}

async fn wrong_use_exits_2_and_an_unreachable_kontor_3(app: TestApp) {
    let betreiber = app.token_for("betreiber").await;
    let before = app.counts().await;
    // No KONTOR_URL, no KONTOR_TOKEN: 2, saying which.
    let (code, _, err) = kontor_cli(None, Some(&betreiber), &["customer", "list"]).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("KONTOR_URL"), "{err}");
    let (code, _, err) = kontor_cli(Some(&app.address), None, &["contract", "list"]).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("KONTOR_TOKEN"), "{err}");
    // A required argument missing, or an id that is not a number: 2.
    for args in [
        &["customer", "create", "--slug", "x"][..],
        &["application", "move", "1"][..],
        &["contract", "show", "eins"][..],
        &[
            "price",
            "add",
            "--product",
            "container-namespace",
            "--cents-per-hour",
            "1",
        ][..],
    ] {
        let (code, _, err) = kontor(&app, &betreiber, args).await;
        assert_eq!(code, 2, "{args:?}: {err}");
    }
    // Nobody listening: 3.
    let (code, _, err) = kontor_cli(
        Some("http://127.0.0.1:9"),
        Some(&betreiber),
        &[
            "customer", "create", "--slug", "nirgends", "--name", "Nirgends",
        ],
    )
    .await;
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("nicht erreichbar"), "{err}");
    assert_eq!(app.counts().await, before);
    // And a wrong token is refused by Kontor: 1.
    let (code, _, err) = kontor(&app, "kein-token", &["customer", "list"]).await;
    assert_eq!(code, 1, "{err}");
}
