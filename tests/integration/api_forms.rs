//! The API twins of the remaining forms (issue 18): notification settings,
//! webhooks, the booking and resize checks, products and sizes, and the
//! Revision's chain check — each with the form's rules, its refusals per
//! field, and nothing written on refusal. Who may use them is the role
//! matrix's part.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{
    TestApp, assert_forbidden, assert_not_found, assert_problem, assert_refused_by_state,
    assert_validation, expect_json, id,
};

api_tests! {
    e_mail_choices_are_set_as_a_whole_and_unknown_kinds_refused,
    a_webhook_is_added_with_its_secret_once_listed_and_removed,
    the_checks_answer_price_and_contract_afterwards_or_the_bookings_refusal_and_write_nothing,
    the_betreiber_adds_a_product_and_sets_what_a_size_grants,
    the_betreiber_checks_the_chain_through_the_api,
}

async fn put(app: &TestApp, path: &str, token: &str, body: &Value) -> reqwest::Response {
    app.request(Method::PUT, path)
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("PUT")
}

async fn e_mail_choices_are_set_as_a_whole_and_unknown_kinds_refused(app: TestApp) {
    let t = app.contract_with_room(4).await;
    let read = expect_json(
        app.get("/api/v1/me/notifications", &t.token).await,
        StatusCode::OK,
    )
    .await;
    assert!(
        read["kinds"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k["email"] == true),
        "everything on at first: {read}"
    );

    let before = app.counts().await;
    assert_validation(
        put(
            &app,
            "/api/v1/me/notifications",
            &t.token,
            &json!({"email_off": ["budget.warning", "wetter"]}),
        )
        .await,
        "email_off",
    )
    .await;
    assert_eq!(app.counts().await, before, "nothing written on refusal");

    let chosen = expect_json(
        put(
            &app,
            "/api/v1/me/notifications",
            &t.token,
            &json!({"email_off": ["budget.warning", "deployment.failed"]}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let off = |v: &Value| -> Vec<String> {
        v["kinds"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|k| k["email"] == false)
            .map(|k| k["kind"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(off(&chosen), ["budget.warning", "deployment.failed"]);
    // A whole choice replaces the one before.
    let again = expect_json(
        put(
            &app,
            "/api/v1/me/notifications",
            &t.token,
            &json!({"email_off": []}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert!(off(&again).is_empty(), "{again}");
    let read = expect_json(
        app.get("/api/v1/me/notifications", &t.token).await,
        StatusCode::OK,
    )
    .await;
    assert!(off(&read).is_empty(), "{read}");
}

async fn a_webhook_is_added_with_its_secret_once_listed_and_removed(app: TestApp) {
    let t = app.contract_with_room(4).await;
    let other = app.contract_with_room(4).await;
    let betreiber = app.token_for("betreiber").await;

    let before = app.counts().await;
    let refused = assert_validation(
        app.post_json(
            "/api/v1/webhooks",
            &t.token,
            &json!({"url": "http://empfang.example.de/k", "description": " "}),
        )
        .await,
        "url",
    )
    .await;
    assert!(
        refused["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["field"] == "description"),
        "both fields at once: {refused}"
    );
    assert_validation(
        app.post_json(
            "/api/v1/webhooks",
            &t.token,
            &json!({"url": "https://nutzer:geheim@empfang.example.de/", "description": "x"}),
        )
        .await,
        "url",
    )
    .await;
    // Another customer's id is not found for a Systempfleger:in.
    assert_not_found(
        app.post_json(
            "/api/v1/webhooks",
            &t.token,
            &json!({"url": "https://empfang.example.de/k",
            "description": "fremd", "customer_id": other.customer_id}),
        )
        .await,
    )
    .await;
    let (hooks_before,): (i64,) = sqlx::query_as("SELECT CAST(COUNT(*) AS BIGINT) FROM webhooks")
        .fetch_one(&app.db().pool)
        .await
        .unwrap();
    assert_eq!(app.counts().await, before);

    let resp = app
        .post_json(
            "/api/v1/webhooks",
            &t.token,
            &json!({"url": "https://empfang.example.de/kontor", "description": "Leitstelle"}),
        )
        .await;
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let made = expect_json(resp, StatusCode::CREATED).await;
    assert!(
        made["secret"].as_str().unwrap().starts_with("whsec_"),
        "{made}"
    );
    assert_eq!(made["customer_id"], t.customer_id);
    assert_eq!(location, format!("/api/v1/webhooks/{}", id(&made)));
    let shown = expect_json(app.get(&location, &t.token).await, StatusCode::OK).await;
    assert!(
        shown.get("secret").is_none(),
        "the secret is answered once: {shown}"
    );
    assert_eq!(shown["url"], "https://empfang.example.de/kontor");
    let (hooks_after,): (i64,) = sqlx::query_as("SELECT CAST(COUNT(*) AS BIGINT) FROM webhooks")
        .fetch_one(&app.db().pool)
        .await
        .unwrap();
    assert_eq!(hooks_after, hooks_before + 1);

    // Another customer's people do not see it; the Betreiber sees it among all.
    assert_not_found(app.get(&location, &other.token).await).await;
    let all = expect_json(
        app.get("/api/v1/webhooks", &betreiber).await,
        StatusCode::OK,
    )
    .await;
    assert!(
        all["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["id"] == made["id"]),
        "{all}"
    );
    let theirs = expect_json(
        app.get("/api/v1/webhooks", &other.token).await,
        StatusCode::OK,
    )
    .await;
    assert!(theirs["items"].as_array().unwrap().is_empty(), "{theirs}");

    let delete = |token: String| {
        app.request(Method::DELETE, &location)
            .bearer_auth(token)
            .send()
    };
    assert_not_found(delete(other.token.clone()).await.unwrap()).await;
    let gone = delete(t.token.clone()).await.unwrap();
    assert_eq!(gone.status(), StatusCode::NO_CONTENT);
    assert_not_found(app.get(&location, &t.token).await).await;
    assert_not_found(delete(t.token.clone()).await.unwrap()).await;
}

async fn the_checks_answer_price_and_contract_afterwards_or_the_bookings_refusal_and_write_nothing(
    app: TestApp,
) {
    let t = app.contract_with_room(4).await;
    let body = |size: &str| {
        json!({"application_id": t.application_id, "stage": "vorpruefung",
               "product": "container-namespace", "size": size})
    };
    let before = app.counts().await;
    let fits = expect_json(
        app.post_json("/api/v1/bookings/check", &t.token, &body("S"))
            .await,
        StatusCode::OK,
    )
    .await;
    let contract = expect_json(
        app.get(&format!("/api/v1/contracts/{}", t.contract_id), &t.token)
            .await,
        StatusCode::OK,
    )
    .await;
    let adds = fits["adds"]["vcpu_millicores"].as_i64().unwrap();
    assert!(adds > 0, "{fits}");
    assert_eq!(
        fits["contract_after"]["used"]["vcpu_millicores"]
            .as_i64()
            .unwrap(),
        contract["used"]["vcpu_millicores"].as_i64().unwrap() + adds,
        "{fits}"
    );
    assert!(
        fits["price_per_hour"].as_str().unwrap().contains('.'),
        "{fits}"
    );
    // What the booking would refuse, the check refuses the same way.
    assert_problem(
        app.post_json("/api/v1/bookings/check", &t.token, &body("XL"))
            .await,
        StatusCode::CONFLICT,
        "kontingent-exceeded",
    )
    .await;
    assert_validation(
        app.post_json("/api/v1/bookings/check", &t.token, &body("XXL"))
            .await,
        "size",
    )
    .await;
    assert_not_found(
        app.post_json("/api/v1/bookings/check", &t.token,
            &json!({"application_id": 999_999, "stage": "vorpruefung", "product": "container-namespace", "size": "S"}))
            .await,
    )
    .await;
    assert_eq!(app.counts().await, before, "a check writes nothing");

    let booking = id(&app
        .book_ok(
            &t.token,
            t.application_id,
            "vorpruefung",
            "container-namespace",
            "S",
        )
        .await);
    let before = app.counts().await;
    let path = format!("/api/v1/bookings/{booking}/resize/check");
    let grows = expect_json(
        app.post_json(&path, &t.token, &json!({"size": "M"})).await,
        StatusCode::OK,
    )
    .await;
    assert!(
        grows["adds"]["vcpu_millicores"].as_i64() > Some(0),
        "{grows}"
    );
    assert_problem(
        app.post_json(&path, &t.token, &json!({"size": "XL"})).await,
        StatusCode::CONFLICT,
        "kontingent-exceeded",
    )
    .await;
    // The size booked already: the request is fine, the booking's state
    // refuses it (409, as the resize itself).
    assert_refused_by_state(
        app.post_json(&path, &t.token, &json!({"size": "S"})).await,
        "size",
    )
    .await;
    assert_eq!(app.counts().await, before, "a check writes nothing");
}

async fn the_betreiber_adds_a_product_and_sets_what_a_size_grants(app: TestApp) {
    let betreiber = app.token_for("betreiber").await;
    let t = app.contract_with_room(4).await;
    let slug = format!("db{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let before = app.counts().await;
    assert_forbidden(
        app.post_json(
            "/api/v1/catalog/products",
            &t.token,
            &json!({"slug": slug, "name": "Datenbank"}),
        )
        .await,
    )
    .await;
    let refused = assert_validation(
        app.post_json(
            "/api/v1/catalog/products",
            &betreiber,
            &json!({"slug": "Groß", "name": ""}),
        )
        .await,
        "slug",
    )
    .await;
    assert!(
        refused["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["field"] == "name"),
        "{refused}"
    );
    assert_eq!(app.counts().await, before);

    let resp = app
        .post_json(
            "/api/v1/catalog/products",
            &betreiber,
            &json!({"slug": slug, "name": "Datenbank", "description": "PostgreSQL als Dienst"}),
        )
        .await;
    assert_eq!(
        resp.headers()["location"],
        format!("/api/v1/catalog/products/{slug}").as_str()
    );
    let product = expect_json(resp, StatusCode::CREATED).await;
    let sizes = product["sizes"].as_array().unwrap();
    assert_eq!(sizes.len(), 4, "{product}");
    assert!(
        sizes.iter().all(|s| s["price_per_hour"].is_null()),
        "no price yet: {product}"
    );
    assert_refused_by_state(
        app.post_json(
            "/api/v1/catalog/products",
            &betreiber,
            &json!({"slug": slug, "name": "Nochmal"}),
        )
        .await,
        "slug",
    )
    .await;
    let read = expect_json(
        app.get(&format!("/api/v1/catalog/products/{slug}"), &t.token)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(read["name"], "Datenbank");

    let size = sizes[0]["id"].as_i64().unwrap();
    let path = format!("/api/v1/catalog/sizes/{size}");
    let before = app.counts().await;
    assert_validation(
        put(
            &app,
            &path,
            &betreiber,
            &json!({"millicpu": -1, "memory_mib": 1024, "storage_gib": 0, "pods": 10}),
        )
        .await,
        "millicpu",
    )
    .await;
    assert_forbidden(
        put(
            &app,
            &path,
            &t.token,
            &json!({"millicpu": 500, "memory_mib": 1024, "storage_gib": 5, "pods": 10}),
        )
        .await,
    )
    .await;
    assert_not_found(
        put(
            &app,
            "/api/v1/catalog/sizes/999999",
            &betreiber,
            &json!({"millicpu": 500, "memory_mib": 1024, "storage_gib": 5, "pods": 10}),
        )
        .await,
    )
    .await;
    assert_eq!(app.counts().await, before);
    let set = expect_json(
        put(
            &app,
            &path,
            &betreiber,
            &json!({"millicpu": 500, "memory_mib": 1024, "storage_gib": 5, "pods": 10}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        set["resources"],
        json!({"millicpu": 500, "memory_mib": 1024, "storage_gib": 5, "pods": 10})
    );
    let read = expect_json(app.get(&path, &t.token).await, StatusCode::OK).await;
    assert_eq!(read["resources"]["storage_gib"], 5);
}

async fn the_betreiber_checks_the_chain_through_the_api(app: TestApp) {
    let betreiber = app.token_for("betreiber").await;
    let t = app.contract_with_room(4).await;
    assert_forbidden(app.post("/api/v1/audit/verify", &t.token).await).await;
    let verdict = expect_json(
        app.post("/api/v1/audit/verify", &betreiber).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(verdict["intact"], true, "{verdict}");
    assert!(verdict["entries"].as_i64() > Some(0), "{verdict}");
    assert!(verdict["problem"].is_null());
    let (checks,): (i64,) =
        sqlx::query_as("SELECT CAST(COUNT(*) AS BIGINT) FROM audit_verifications")
            .fetch_one(&app.db().pool)
            .await
            .unwrap();
    assert!(checks >= 1, "the check is recorded");
}
