//! The API twins of the account pages and of the Betreiber's customer
//! pages (issue 18): `GET /api/v1/me`, a person's own tokens, customers.
//! The same rules, audit entries and problem types as the pages, since the
//! handlers call the same use cases.

use kontor::domain::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{
    TestApp, assert_forbidden, assert_not_found, assert_refused_by_state, assert_unauthorized,
    assert_validation, expect_json, id,
};

api_tests! {
    me_names_the_person_their_roles_and_customer,
    a_token_made_through_the_api_works_until_it_is_revoked_and_its_secret_is_answered_once,
    tokens_are_the_persons_own_and_bad_input_names_the_field,
    the_betreiber_creates_and_renames_customers_and_everyone_else_is_refused,
    customers_are_listed_and_read_within_the_callers_scope,
    the_betreiber_creates_an_application_under_a_contract_of_its_customer,
}

fn in_days(days: i64) -> String {
    kontor::domain::calendar::berlin_date(kontor::db::now())
        .checked_add(jiff::Span::new().days(days))
        .expect("a date")
        .to_string()
}

async fn audit_count(app: &TestApp, action: &str) -> i64 {
    sqlx::query_as::<_, (i64,)>("SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE action = $1")
        .bind(action)
        .fetch_one(&app.db().pool)
        .await
        .expect("audit count")
        .0
}

async fn me_names_the_person_their_roles_and_customer(app: TestApp) {
    let t = app.contract_with_room(4).await;
    let me = expect_json(app.get("/api/v1/me", &t.token).await, StatusCode::OK).await;
    assert_eq!(me["login"], t.login.as_str(), "{me}");
    assert_eq!(me["roles"], json!(["systempfleger"]), "{me}");
    assert_eq!(me["customer"]["id"], t.customer_id, "{me}");
    assert_eq!(me["via"], "token", "{me}");
    assert_eq!(me["language"], "de", "{me}");

    let betreiber = app.token_for("betreiber").await;
    let me = expect_json(app.get("/api/v1/me", &betreiber).await, StatusCode::OK).await;
    assert_eq!(me["roles"], json!(["betreiber"]), "{me}");
    assert_eq!(me["customer"], Value::Null, "provider staff: no customer");

    let finance = app
        .user_with_roles(Some(t.customer_id), &[Role::Finanzen, Role::Entwickler])
        .await;
    let me = expect_json(app.get("/api/v1/me", &finance).await, StatusCode::OK).await;
    assert_eq!(me["roles"], json!(["entwickler", "finanzen"]), "{me}");

    // Without a role a person sees nothing of the customer, but still
    // learns whom they belong to (and that they have no role).
    let no_roles = app.user_with_roles(Some(t.customer_id), &[]).await;
    let me = expect_json(app.get("/api/v1/me", &no_roles).await, StatusCode::OK).await;
    assert_eq!(
        (&me["roles"], &me["customer"]["id"]),
        (&json!([]), &json!(t.customer_id))
    );

    assert_unauthorized(app.get("/api/v1/me", "kontor_nicht-echt").await).await;
}

async fn a_token_made_through_the_api_works_until_it_is_revoked_and_its_secret_is_answered_once(
    app: TestApp,
) {
    let t = app.contract_with_room(4).await;
    let expires_on = in_days(30);
    let body = json!({"name": "Pipeline Abnahme", "expires_on": expires_on});
    let (created_before, revoked_before) = (
        audit_count(&app, "token.created").await,
        audit_count(&app, "token.revoked").await,
    );
    let key = format!("token-{}", uuid::Uuid::new_v4());
    let created = app
        .request(Method::POST, "/api/v1/tokens")
        .bearer_auth(&t.token)
        .header("Idempotency-Key", &key)
        .json(&body)
        .send()
        .await
        .expect("POST");
    assert_eq!(
        created.headers()["cache-control"],
        "no-store",
        "the answer carries a secret"
    );
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let created = expect_json(created, StatusCode::CREATED).await;
    let secret = created["secret"].as_str().expect("the secret").to_owned();
    let token_id = id(&created);
    assert_eq!(location, format!("/api/v1/tokens/{token_id}"));
    assert_eq!(created["expires_on"], expires_on.as_str(), "{created}");
    assert_eq!(created["active"], true, "{created}");

    // The new secret is the person: the API knows who it is.
    let me = expect_json(app.get("/api/v1/me", &secret).await, StatusCode::OK).await;
    assert_eq!(me["login"], t.login.as_str());

    // A retry with the same key: the same token, and no secret.
    let again = app
        .request(Method::POST, "/api/v1/tokens")
        .bearer_auth(&t.token)
        .header("Idempotency-Key", &key)
        .json(&body)
        .send()
        .await
        .expect("POST");
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again = expect_json(again, StatusCode::CREATED).await;
    assert_eq!(id(&again), token_id);
    assert_eq!(again["secret"], Value::Null, "a secret is answered once");

    // Listed without a secret, alongside the token the test began with.
    let list = expect_json(app.get("/api/v1/tokens", &t.token).await, StatusCode::OK).await;
    let list = list["items"].as_array().expect("a list");
    assert_eq!(list.len(), 2, "{list:?}");
    assert_eq!(id(&list[0]), token_id, "newest first");
    assert!(list.iter().all(|t| t.get("secret").is_none()), "{list:?}");
    assert_eq!(audit_count(&app, "token.created").await, created_before + 1);

    // Revoked: it no longer opens anything; revoking again changes nothing.
    let revoked = expect_json(
        app.post(&format!("/api/v1/tokens/{token_id}/revoke"), &t.token)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(revoked["active"], false, "{revoked}");
    assert!(revoked["revoked_at"].is_string(), "{revoked}");
    assert_unauthorized(app.get("/api/v1/me", &secret).await).await;
    expect_json(
        app.post(&format!("/api/v1/tokens/{token_id}/revoke"), &t.token)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(audit_count(&app, "token.revoked").await, revoked_before + 1);
}

async fn tokens_are_the_persons_own_and_bad_input_names_the_field(app: TestApp) {
    let t = app.contract_with_room(4).await;
    let other = app.contract_with_room(4).await;
    let colleague = app
        .user_with_roles(Some(t.customer_id), &[Role::Systempfleger])
        .await;
    let created = expect_json(
        app.post_json(
            "/api/v1/tokens",
            &t.token,
            &json!({"name": "mein Token", "expires_on": in_days(10)}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let token_id = id(&created);
    let before = app.counts().await;
    // Nobody else reads or revokes it: not even the Betreiber or a
    // colleague of the same customer, and it looks like a missing one.
    let betreiber = app.token_for("betreiber").await;
    for stranger in [&colleague, &other.token, &betreiber] {
        assert_not_found(
            app.get(&format!("/api/v1/tokens/{token_id}"), stranger)
                .await,
        )
        .await;
        assert_not_found(
            app.post(&format!("/api/v1/tokens/{token_id}/revoke"), stranger)
                .await,
        )
        .await;
        let theirs = expect_json(app.get("/api/v1/tokens", stranger).await, StatusCode::OK).await;
        assert!(
            theirs["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|t| id(t) != token_id),
            "{theirs}"
        );
    }
    assert_not_found(app.post("/api/v1/tokens/999999999/revoke", &t.token).await).await;

    for (body, field) in [
        (json!({"name": "", "expires_on": in_days(10)}), "name"),
        (
            json!({"name": "x".repeat(81), "expires_on": in_days(10)}),
            "name",
        ),
        (
            json!({"name": "kein Datum", "expires_on": "morgen"}),
            "expires_on",
        ),
    ] {
        assert_validation(
            app.post_json("/api/v1/tokens", &t.token, &body).await,
            field,
        )
        .await;
    }
    // A well-formed day the calendar does not allow: 409.
    for days in [0, 400] {
        let body = json!({"name": "Tag", "expires_on": in_days(days)});
        assert_refused_by_state(
            app.post_json("/api/v1/tokens", &t.token, &body).await,
            "expires_on",
        )
        .await;
    }
    let unknown = app
        .post_json(
            "/api/v1/tokens",
            &t.token,
            &json!({"name": "x", "expires_on": in_days(10), "scope": "alles"}),
        )
        .await;
    assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.counts().await, before, "a refusal writes nothing");
    let (tokens,): (i64,) = sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM api_tokens WHERE revoked_at IS NULL AND id = $1",
    )
    .bind(token_id)
    .fetch_one(&app.db().pool)
    .await
    .unwrap();
    assert_eq!(tokens, 1, "still valid");
}

async fn the_betreiber_creates_and_renames_customers_and_everyone_else_is_refused(app: TestApp) {
    let t = app.contract_with_room(4).await;
    let betreiber = app.token_for("betreiber").await;
    let slug = format!("amt-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let body = json!({"slug": slug, "name": "Amt für Beispiele"});

    // Nobody but the Betreiber, and a refusal writes nothing.
    let provider_finance = app.user_with_roles(None, &[Role::Finanzen]).await;
    let before = app.counts().await;
    for who in [&t.token, &provider_finance] {
        assert_forbidden(app.post_json("/api/v1/customers", who, &body).await).await;
        let rename = app
            .request(
                Method::PATCH,
                &format!("/api/v1/customers/{}", t.customer_id),
            )
            .bearer_auth(who)
            .json(&json!({"name": "Umbenannt"}))
            .send()
            .await
            .unwrap();
        assert_forbidden(rename).await;
    }
    assert_eq!(app.counts().await, before);

    let customers_before = audit_count(&app, "customer.created").await;
    let created = app
        .request(Method::POST, "/api/v1/customers")
        .bearer_auth(&betreiber)
        .header("Idempotency-Key", "kunde-1")
        .json(&body)
        .send()
        .await
        .unwrap();
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let created = expect_json(created, StatusCode::CREATED).await;
    let customer = id(&created);
    assert_eq!(location, format!("/api/v1/customers/{customer}"));
    assert_eq!(
        (&created["slug"], &created["name"]),
        (&json!(slug), &json!("Amt für Beispiele"))
    );
    // The retry is the same customer; another create of the slug is a
    // message for the field.
    let again = app
        .request(Method::POST, "/api/v1/customers")
        .bearer_auth(&betreiber)
        .header("Idempotency-Key", "kunde-1")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(id(&expect_json(again, StatusCode::CREATED).await), customer);
    assert_refused_by_state(
        app.post_json("/api/v1/customers", &betreiber, &body).await,
        "slug",
    )
    .await;
    for (bad, field) in [
        (json!({"slug": "Gross", "name": "x"}), "slug"),
        (json!({"slug": "a--b", "name": "x"}), "slug"),
        (json!({"slug": "ok", "name": " "}), "name"),
        (json!({"slug": "x".repeat(25), "name": "x"}), "slug"),
    ] {
        assert_validation(
            app.post_json("/api/v1/customers", &betreiber, &bad).await,
            field,
        )
        .await;
    }
    assert_eq!(
        audit_count(&app, "customer.created").await,
        customers_before + 1
    );

    let renamed = app
        .request(Method::PATCH, &format!("/api/v1/customers/{customer}"))
        .bearer_auth(&betreiber)
        .json(&json!({"name": "Amt für gute Beispiele"}))
        .send()
        .await
        .unwrap();
    let renamed = expect_json(renamed, StatusCode::OK).await;
    assert_eq!(renamed["name"], "Amt für gute Beispiele");
    assert_eq!(renamed["slug"], slug.as_str(), "the slug never changes");
    let (before, after): (String, String) = sqlx::query_as(
        "SELECT before_json, after_json FROM audit_log WHERE action = 'customer.updated' AND object_id = $1",
    )
    .bind(customer)
    .fetch_one(&app.db().pool)
    .await
    .expect("the rename in the Revision");
    assert!(
        before.contains("Amt für Beispiele") && after.contains("gute"),
        "{before} → {after}"
    );
    let missing = app
        .request(Method::PATCH, "/api/v1/customers/999999999")
        .bearer_auth(&betreiber)
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_not_found(missing).await;
    let empty = app
        .request(Method::PATCH, &format!("/api/v1/customers/{customer}"))
        .bearer_auth(&betreiber)
        .json(&json!({"name": ""}))
        .send()
        .await
        .unwrap();
    assert_validation(empty, "name").await;
}

async fn customers_are_listed_and_read_within_the_callers_scope(app: TestApp) {
    let t = app.contract_with_room(4).await;
    let other = app.contract_with_room(4).await;
    let mine = expect_json(app.get("/api/v1/customers", &t.token).await, StatusCode::OK).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1, "{mine}");
    assert_eq!(id(&mine["items"][0]), t.customer_id);
    expect_json(
        app.get(&format!("/api/v1/customers/{}", t.customer_id), &t.token)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_not_found(
        app.get(
            &format!("/api/v1/customers/{}", other.customer_id),
            &t.token,
        )
        .await,
    )
    .await;
    let no_roles = app.user_with_roles(Some(t.customer_id), &[]).await;
    let none = expect_json(
        app.get("/api/v1/customers", &no_roles).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        none,
        json!({"items": [], "next": null, "total": 0}),
        "no role, nothing to see"
    );

    let betreiber = app.token_for("betreiber").await;
    let all = expect_json(
        app.get("/api/v1/customers?limit=200", &betreiber).await,
        StatusCode::OK,
    )
    .await;
    let ids: Vec<i64> = all["items"].as_array().unwrap().iter().map(id).collect();
    assert!(
        ids.contains(&t.customer_id) && ids.contains(&other.customer_id),
        "{all}"
    );
}

async fn the_betreiber_creates_an_application_under_a_contract_of_its_customer(app: TestApp) {
    let t = app.contract_with_room(4).await;
    let other = app.contract_with_room(4).await;
    let betreiber = app.token_for("betreiber").await;
    let path = format!("/api/v1/customers/{}/applications", t.customer_id);
    let slug = format!("fv{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let body = json!({"contract_id": t.contract_id, "slug": slug, "name": "Wohngeld"});

    let before = app.counts().await;
    assert_forbidden(app.post_json(&path, &t.token, &body).await).await;
    assert_eq!(app.counts().await, before);

    let created = app
        .request(Method::POST, &path)
        .bearer_auth(&betreiber)
        .header("Idempotency-Key", "verfahren-1")
        .json(&body)
        .send()
        .await
        .unwrap();
    let created = expect_json(created, StatusCode::CREATED).await;
    let application = id(&created);
    assert_eq!(
        (
            &created["customer_id"],
            &created["contract_id"],
            &created["slug"]
        ),
        (&json!(t.customer_id), &json!(t.contract_id), &json!(slug))
    );
    // One environment per stage, and the customer's people see it.
    let (environments,): (i64,) = sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM environments WHERE application_id = $1",
    )
    .bind(application)
    .fetch_one(&app.db().pool)
    .await
    .unwrap();
    assert_eq!(environments, 4);
    expect_json(
        app.get(&format!("/api/v1/applications/{application}"), &t.token)
            .await,
        StatusCode::OK,
    )
    .await;
    let again = app
        .request(Method::POST, &path)
        .bearer_auth(&betreiber)
        .header("Idempotency-Key", "verfahren-1")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        id(&expect_json(again, StatusCode::CREATED).await),
        application
    );

    // The same slug again, another customer's contract, bad names: each a
    // message for its field, nothing written.
    let before = app.counts().await;
    assert_refused_by_state(app.post_json(&path, &betreiber, &body).await, "slug").await;
    let foreign = json!({"contract_id": other.contract_id, "slug": "anderes", "name": "x"});
    assert_refused_by_state(
        app.post_json(&path, &betreiber, &foreign).await,
        "contract_id",
    )
    .await;
    let bad = json!({"contract_id": t.contract_id, "slug": "Gross", "name": ""});
    let problem = assert_validation(app.post_json(&path, &betreiber, &bad).await, "slug").await;
    assert!(
        problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["field"] == "name"),
        "{problem}"
    );
    assert_not_found(
        app.post_json(
            "/api/v1/customers/999999999/applications",
            &betreiber,
            &foreign,
        )
        .await,
    )
    .await;
    assert_eq!(app.counts().await, before);
}
