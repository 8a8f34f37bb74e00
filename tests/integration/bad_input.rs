//! Bad input gets a clear problem+json answer, never a 500, and changes
//! nothing: every test compares the rows of bookings, periods, audit log and
//! idempotency keys before and after.

use reqwest::{Method, StatusCode, header};
use serde_json::json;

use crate::support::{
    TestApp, assert_not_found, assert_problem, assert_refused_by_state, assert_unauthorized,
    assert_validation,
};

/// Every API route with a placeholder for ids, and whether it is a POST.
const ROUTES: [(Method, &str); 10] = [
    (Method::GET, "/api/v1/catalog"),
    (Method::GET, "/api/v1/contracts"),
    (Method::GET, "/api/v1/contracts/{id}"),
    (Method::GET, "/api/v1/applications"),
    (Method::GET, "/api/v1/applications/{id}"),
    (Method::GET, "/api/v1/bookings"),
    (Method::POST, "/api/v1/bookings"),
    (Method::GET, "/api/v1/bookings/{id}"),
    (Method::POST, "/api/v1/bookings/{id}/resize"),
    (Method::POST, "/api/v1/bookings/{id}/cancel"),
];

async fn post_raw(
    app: &TestApp,
    path: &str,
    token: &str,
    content_type: Option<&str>,
    body: &str,
) -> reqwest::Response {
    let mut req = app
        .request(Method::POST, path)
        .bearer_auth(token)
        .body(body.to_owned());
    if let Some(ct) = content_type {
        req = req.header(header::CONTENT_TYPE, ct);
    }
    req.send().await.expect("POST")
}

/// Posts a body past the server's limit. The server answers once it has read
/// the limit and then closes the connection with the rest unread, so the
/// client may see a reset instead of the answer (TCP discards it); only such
/// transport errors are retried, every answer that arrives is checked.
async fn post_oversized(app: &TestApp, path: &str, token: &str, body: &str) -> reqwest::Response {
    let mut last_error = None;
    for _ in 0..10 {
        let sent = app
            .request(Method::POST, path)
            .bearer_auth(token)
            .header(header::CONTENT_TYPE, "application/json")
            .body(body.to_owned())
            .send()
            .await;
        match sent {
            Ok(resp) => return resp,
            Err(e) => last_error = Some(e),
        }
    }
    panic!("no answer to an oversized body: {last_error:?}");
}

api_tests! {
    booking_requests_with_unknown_values_are_refused_field_by_field,
    malformed_json_is_400_and_another_content_type_is_415,
    every_route_answers_401_with_a_bearer_challenge_without_a_valid_token,
    ids_that_are_not_ids_are_404_on_every_route,
    list_parameters_out_of_range_are_a_validation_error,
    query_strings_and_path_ids_that_cannot_be_read_are_problems_too,
    a_method_a_route_does_not_have_is_405_with_a_problem,
    an_oversized_body_is_413_and_writes_nothing,
}

async fn booking_requests_with_unknown_values_are_refused_field_by_field(app: TestApp) {
    let t = app.contract_with_room(20).await;
    let token = &t.token;
    let a = t.application_id;
    let before = app.counts().await;

    assert_validation(
        app.book(token, a, "vorpruefung", "container-namespace", "XXL")
            .await,
        "size",
    )
    .await;
    assert_validation(
        app.book(token, a, "vorpruefung", "container-namespace", "s")
            .await,
        "size",
    )
    .await;
    assert_validation(
        app.book(token, a, "entwicklung", "container-namespace", "S")
            .await,
        "stage",
    )
    .await;
    assert_validation(
        app.book(token, a, "", "container-namespace", "S").await,
        "stage",
    )
    .await;
    // A well-formed product slug the catalogue does not have: 409.
    assert_refused_by_state(
        app.book(token, a, "vorpruefung", "quantencomputer", "S")
            .await,
        "product",
    )
    .await;
    assert_validation(
        app.book(token, a, "vorpruefung", "  ", "S").await,
        "product",
    )
    .await;
    assert_validation(
        app.book(token, -1, "vorpruefung", "container-namespace", "S")
            .await,
        "application_id",
    )
    .await;
    assert_validation(
        app.book(token, 0, "vorpruefung", "container-namespace", "S")
            .await,
        "application_id",
    )
    .await;
    // Both at once: every field gets its message.
    let p = assert_validation(
        app.book(token, a, "entwicklung", "container-namespace", "XXL")
            .await,
        "stage",
    )
    .await;
    assert!(
        p["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["field"] == "size"),
        "{p}"
    );

    // An id that could exist but does not is simply not there.
    assert_not_found(
        app.book(token, i64::MAX, "vorpruefung", "container-namespace", "S")
            .await,
    )
    .await;
    assert_not_found(
        app.book(
            token,
            999_999_999,
            "vorpruefung",
            "container-namespace",
            "S",
        )
        .await,
    )
    .await;

    // Well-formed JSON of the wrong shape is 422, not 400 and not 500.
    for body in [
        json!({"application_id": "1", "stage": "vorpruefung", "product": "container-namespace", "size": "S"}),
        json!({"application_id": 1.5, "stage": "vorpruefung", "product": "container-namespace", "size": "S"}),
        json!({"application_id": 1e30, "stage": "vorpruefung", "product": "container-namespace", "size": "S"}),
        json!({"application_id": u64::MAX, "stage": "vorpruefung", "product": "container-namespace", "size": "S"}),
        json!({"application_id": null, "stage": "vorpruefung", "product": "container-namespace", "size": "S"}),
        json!({"stage": "vorpruefung", "product": "container-namespace", "size": "S"}),
        json!({"application_id": a, "stage": 3, "product": "container-namespace", "size": "S"}),
        json!([a, "vorpruefung", "container-namespace"]),
        json!("S"),
    ] {
        let resp = app.post_json("/api/v1/bookings", token, &body).await;
        assert_problem(resp, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
    }
    assert_eq!(app.counts().await, before, "nothing written");
}

async fn malformed_json_is_400_and_another_content_type_is_415(app: TestApp) {
    let t = app.contract_with_room(20).await;
    let d = app.demo().await;
    let sp = app.token_for("systempfleger").await;
    let before = app.counts().await;
    let good = format!(
        r#"{{"application_id": {}, "stage": "vorpruefung", "product": "container-namespace", "size": "S"}}"#,
        t.application_id
    );

    for body in [
        "{",
        "",
        "{\"application_id\": 1,}",
        "nicht json",
        &good[..good.len() - 1],
        &format!("{good} {good}"),
    ] {
        let resp = post_raw(
            &app,
            "/api/v1/bookings",
            &t.token,
            Some("application/json"),
            body,
        )
        .await;
        assert_problem(resp, StatusCode::BAD_REQUEST, "malformed-body").await;
    }
    for ct in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("application/xml"),
    ] {
        let resp = post_raw(&app, "/api/v1/bookings", &t.token, ct, &good).await;
        assert_problem(
            resp,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
        )
        .await;
    }

    // The same for resize.
    let resize = format!("/api/v1/bookings/{}/resize", d.musterhausen.booking_id);
    let resp = post_raw(&app, &resize, &sp, Some("application/json"), "{\"size\": ").await;
    assert_problem(resp, StatusCode::BAD_REQUEST, "malformed-body").await;
    let resp = post_raw(&app, &resize, &sp, Some("text/plain"), "{\"size\": \"L\"}").await;
    assert_problem(
        resp,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported-media-type",
    )
    .await;
    let resp = post_raw(&app, &resize, &sp, None, "").await;
    assert_problem(
        resp,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported-media-type",
    )
    .await;

    assert_eq!(app.counts().await, before, "nothing written");
}

async fn every_route_answers_401_with_a_bearer_challenge_without_a_valid_token(app: TestApp) {
    let d = app.demo().await;
    let before = app.counts().await;
    let body = json!({"application_id": d.musterhausen.application_ids[0], "stage": "vorpruefung",
                      "product": "container-namespace", "size": "S"});
    // Revoked tokens are refused like unknown ones.
    let revoked = app.token_for("systempfleger").await;
    sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE token_hash = $2")
        .bind(kontor::db::now())
        .bind(kontor::auth::tokens::hash(&revoked))
        .execute(&app.db().pool)
        .await
        .unwrap();
    let expired = app.token_for("systempfleger").await;
    sqlx::query("UPDATE api_tokens SET expires_at = $1 WHERE token_hash = $2")
        .bind(kontor::db::now() - 1)
        .bind(kontor::auth::tokens::hash(&expired))
        .execute(&app.db().pool)
        .await
        .unwrap();

    for (method, route) in ROUTES {
        let path = route.replace("{id}", &d.musterhausen.booking_id.to_string());
        let credentials: [Option<String>; 7] = [
            None,
            Some("Bearer kontor_falsch".into()),
            Some("Bearer ".into()),
            Some("Basic c3lzdGVtcGZsZWdlcjpnZWhlaW0=".into()),
            Some(revoked.clone()),
            Some(format!("Bearer {revoked}")),
            Some(format!("Bearer {expired}")),
        ];
        for auth in credentials {
            let mut req = app.request(method.clone(), &path).json(&body);
            if let Some(auth) = &auth {
                req = req.header(header::AUTHORIZATION, auth);
            }
            let resp = req.send().await.unwrap();
            assert_unauthorized(resp).await;
        }
    }
    assert_eq!(app.counts().await, before, "nothing written");
}

async fn ids_that_are_not_ids_are_404_on_every_route(app: TestApp) {
    let sp = app.token_for("systempfleger").await;
    let before = app.counts().await;
    for (method, route) in ROUTES.iter().filter(|(_, r)| r.contains("{id}")) {
        for bad in [
            "abc",
            "-1",
            "0",
            "1.5",
            "1e3",
            "99999999999999999999",
            "%20",
            "1;DROP",
        ] {
            let path = route.replace("{id}", bad);
            let resp = app
                .request(method.clone(), &path)
                .bearer_auth(&sp)
                .json(&json!({"size": "L"}))
                .send()
                .await
                .unwrap();
            assert_not_found(resp).await;
        }
    }
    // Unknown API paths answer problem+json too.
    assert_not_found(app.get("/api/v1/buchungen", &sp).await).await;
    assert_eq!(app.counts().await, before, "nothing written");
}

async fn list_parameters_out_of_range_are_a_validation_error(app: TestApp) {
    let sp = app.token_for("systempfleger").await;
    for (query, field) in [
        ("limit=1000", "limit"),
        ("limit=201", "limit"),
        ("limit=0", "limit"),
        ("limit=-5", "limit"),
        ("limit=zehn", "limit"),
        ("cursor=-1", "cursor"),
        ("cursor=abc", "cursor"),
        ("cursor=99999999999999999999", "cursor"),
        ("sort=name", "sort"),
        ("sort=--id", "sort"),
        ("stage=entwicklung", "stage"),
        ("state=storniert", "state"),
        ("size=XXL", "size"),
        ("customer_id=-1", "customer_id"),
        ("application_id=x", "application_id"),
    ] {
        let resp = app.get(&format!("/api/v1/bookings?{query}"), &sp).await;
        assert_validation(resp, field).await;
    }
    // The largest allowed page size is fine, and a page past the end is
    // empty.
    let resp = app
        .get("/api/v1/bookings?limit=200&cursor=1000000", &sp)
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
}

async fn query_strings_and_path_ids_that_cannot_be_read_are_problems_too(app: TestApp) {
    let sp = app.token_for("systempfleger").await;
    let d = app.demo().await;
    let before = app.counts().await;
    // A repeated parameter is well-formed but ambiguous.
    assert_validation(
        app.get("/api/v1/bookings?limit=1&limit=2", &sp).await,
        "query",
    )
    .await;
    let repeated = format!(
        "/api/v1/bookings?customer_id={0}&customer_id={0}",
        d.musterhausen.id
    );
    assert_validation(app.get(&repeated, &sp).await, "query").await;
    // Bytes that are not UTF-8 cannot be an id.
    for path in [
        "/api/v1/contracts/%FF",
        "/api/v1/applications/%C3%28",
        "/api/v1/bookings/%FF",
    ] {
        assert_not_found(app.get(path, &sp).await).await;
    }
    assert_not_found(app.resize(&sp, 0, "L").await).await;
    let resp = app
        .request(Method::POST, "/api/v1/bookings/%FF/resize")
        .bearer_auth(&sp)
        .json(&json!({"size": "L"}))
        .send()
        .await
        .unwrap();
    assert_not_found(resp).await;
    assert_not_found(app.post("/api/v1/bookings/%FF/cancel", &sp).await).await;
    assert_eq!(app.counts().await, before, "nothing written");
}

async fn a_method_a_route_does_not_have_is_405_with_a_problem(app: TestApp) {
    let sp = app.token_for("systempfleger").await;
    let d = app.demo().await;
    let before = app.counts().await;
    let booking = format!("/api/v1/bookings/{}", d.musterhausen.booking_id);
    for (method, path) in [
        (Method::DELETE, booking.as_str()),
        (Method::PUT, booking.as_str()),
        (Method::PATCH, "/api/v1/bookings"),
        (Method::POST, "/api/v1/catalog"),
        (Method::GET, &*format!("{booking}/cancel")),
    ] {
        let resp = app
            .request(method, path)
            .bearer_auth(&sp)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        let allow = resp
            .headers()
            .get(header::ALLOW)
            .map(|v| v.to_str().unwrap().to_owned());
        assert_problem(resp, StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed").await;
        assert!(
            allow.is_some_and(|a| !a.is_empty()),
            "405 names the allowed methods"
        );
    }
    assert_eq!(app.counts().await, before, "nothing written");
}

async fn an_oversized_body_is_413_and_writes_nothing(app: TestApp) {
    let t = app.contract_with_room(20).await;
    let b = app
        .book_ok(
            &t.token,
            t.application_id,
            "vorpruefung",
            "container-namespace",
            "S",
        )
        .await;
    let before = app.counts().await;
    // Three MiB of whitespace around a valid request.
    let padding = " ".repeat(3 << 20);
    let create = format!(
        r#"{{"application_id": {}, "stage": "vorpruefung", "product": "container-namespace", "size": "S"{padding}}}"#,
        t.application_id
    );
    let resp = post_oversized(&app, "/api/v1/bookings", &t.token, &create).await;
    assert_problem(resp, StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large").await;
    let resize = format!(r#"{{"size": "M"{padding}}}"#);
    let path = format!("/api/v1/bookings/{}/resize", crate::support::id(&b));
    let resp = post_oversized(&app, &path, &t.token, &resize).await;
    assert_problem(resp, StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large").await;
    assert_eq!(app.counts().await, before, "nothing written");
}
