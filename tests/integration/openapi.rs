//! The OpenAPI document at /api/v1/openapi.json: version 3.1, every route,
//! the bearer scheme, references that resolve, and routes that really exist.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::support::{TestApp, assert_unauthorized, expect_json};

/// Every route of the public API: (method, OpenAPI path).
const ROUTES: [(&str, &str); 70] = [
    ("get", "/api/v1/me"),
    ("get", "/api/v1/tokens"),
    ("post", "/api/v1/tokens"),
    ("get", "/api/v1/tokens/{id}"),
    ("post", "/api/v1/tokens/{id}/revoke"),
    ("get", "/api/v1/customers"),
    ("post", "/api/v1/customers"),
    ("get", "/api/v1/customers/{id}"),
    ("patch", "/api/v1/customers/{id}"),
    ("post", "/api/v1/customers/{id}/applications"),
    ("patch", "/api/v1/applications/{id}"),
    ("post", "/api/v1/applications/{id}/move"),
    ("get", "/api/v1/me/notifications"),
    ("put", "/api/v1/me/notifications"),
    ("get", "/api/v1/webhooks"),
    ("post", "/api/v1/webhooks"),
    ("get", "/api/v1/webhooks/{id}"),
    ("delete", "/api/v1/webhooks/{id}"),
    ("post", "/api/v1/bookings/check"),
    ("post", "/api/v1/bookings/{id}/resize/check"),
    ("post", "/api/v1/catalog/products"),
    ("get", "/api/v1/catalog/products/{slug}"),
    ("get", "/api/v1/catalog/sizes/{id}"),
    ("put", "/api/v1/catalog/sizes/{id}"),
    ("post", "/api/v1/audit/verify"),
    ("get", "/api/v1/catalog"),
    ("get", "/api/v1/catalog/prices"),
    ("post", "/api/v1/catalog/prices"),
    ("get", "/api/v1/catalog/prices/{id}"),
    ("patch", "/api/v1/catalog/prices/{id}"),
    ("get", "/api/v1/contracts"),
    ("get", "/api/v1/contracts/{id}"),
    ("post", "/api/v1/contracts"),
    ("put", "/api/v1/contracts/{id}"),
    ("get", "/api/v1/applications"),
    ("get", "/api/v1/applications/{id}"),
    ("get", "/api/v1/bookings"),
    ("post", "/api/v1/bookings"),
    ("get", "/api/v1/bookings/{id}"),
    ("post", "/api/v1/bookings/{id}/resize"),
    ("post", "/api/v1/bookings/{id}/cancel"),
    ("get", "/api/v1/environments"),
    ("get", "/api/v1/environments/{id}"),
    ("post", "/api/v1/environments/{id}/dissolve"),
    ("get", "/api/v1/applications/{id}/releases"),
    ("post", "/api/v1/applications/{id}/releases"),
    ("get", "/api/v1/applications/{id}/pipeline"),
    ("post", "/api/v1/applications/{id}/promotions"),
    ("get", "/api/v1/promotions"),
    ("get", "/api/v1/promotions/{id}"),
    ("post", "/api/v1/promotions/{id}/approve"),
    ("post", "/api/v1/promotions/{id}/reject"),
    ("post", "/api/v1/promotions/{id}/withdraw"),
    ("get", "/api/v1/deployments/{id}"),
    ("post", "/api/v1/deployments/{id}/retry"),
    ("get", "/api/v1/statements"),
    ("get", "/api/v1/statements/{month}/csv"),
    ("get", "/api/v1/contracts/{id}/statements/{month}"),
    ("get", "/api/v1/contracts/{id}/statements/{month}/csv"),
    ("get", "/api/v1/contracts/{id}/budget"),
    ("post", "/api/v1/contracts/{id}/kontingent-requests"),
    ("get", "/api/v1/kontingent-requests"),
    ("get", "/api/v1/kontingent-requests/{id}"),
    ("post", "/api/v1/kontingent-requests/{id}/approve"),
    ("post", "/api/v1/kontingent-requests/{id}/reject"),
    ("post", "/api/v1/kontingent-requests/{id}/withdraw"),
    ("post", "/api/v1/kontingent-requests/{id}/cosign"),
    ("get", "/api/v1/audit"),
    ("get", "/api/v1/audit/csv"),
    ("get", "/api/v1/audit/jsonl"),
];

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

async fn document(app: &TestApp) -> Value {
    // The description is public: clients fetch it before they have a token.
    let resp = app
        .request(Method::GET, "/api/v1/openapi.json")
        .send()
        .await
        .unwrap();
    expect_json(resp, StatusCode::OK).await
}

fn collect_refs(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "$ref" {
                    out.insert(v.as_str().unwrap_or_default().to_owned());
                } else {
                    collect_refs(v, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

api_tests! {
    every_operation_has_an_operation_id_of_its_own,
    the_openapi_document_is_3_1_with_every_route_and_the_bearer_scheme,
    every_schema_reference_in_the_openapi_document_resolves,
    every_documented_operation_exists_and_asks_for_a_token,
    every_response_has_a_description,
    request_bodies_are_closed_and_parameters_never_null,
}

async fn the_openapi_document_is_3_1_with_every_route_and_the_bearer_scheme(app: TestApp) {
    let doc = document(&app).await;
    let version = doc["openapi"].as_str().unwrap_or_default();
    assert!(version.starts_with("3.1"), "openapi = {version:?}");
    assert!(doc["info"]["title"].is_string());

    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            METHODS
                .iter()
                .filter(|m| item.get(**m).is_some())
                .map(move |m| (m.to_string(), path.clone()))
        })
        .collect();
    let expected: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(documented, expected);

    let bearer = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(bearer["type"], "http", "{bearer}");
    assert_eq!(
        bearer["scheme"]
            .as_str()
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("bearer"),
        "{bearer}"
    );
    let security = doc["security"]
        .as_array()
        .expect("global security requirement");
    assert!(
        security.iter().any(|s| s.get("bearer").is_some()),
        "{security:?}"
    );

    // Creating calls document the Idempotency-Key and every answer kind.
    let create = &doc["paths"]["/api/v1/bookings"]["post"];
    let params = create["parameters"].as_array().expect("parameters");
    assert!(
        params
            .iter()
            .any(|p| p["name"] == "Idempotency-Key" && p["in"] == "header"),
        "{params:?}"
    );
    for status in [
        "201", "400", "401", "403", "404", "409", "413", "415", "422",
    ] {
        assert!(
            create["responses"].get(status).is_some(),
            "POST /bookings documents {status}"
        );
    }
    let resize = &doc["paths"]["/api/v1/bookings/{id}/resize"]["post"];
    for status in [
        "200", "400", "401", "403", "404", "409", "413", "415", "422",
    ] {
        assert!(
            resize["responses"].get(status).is_some(),
            "POST /bookings/{{id}}/resize documents {status}"
        );
    }
    for status in ["401", "404", "409", "422"] {
        let content = &create["responses"][status]["content"];
        assert!(
            content.get("application/problem+json").is_some(),
            "{status} is problem+json: {content}"
        );
    }
}

async fn every_schema_reference_in_the_openapi_document_resolves(app: TestApp) {
    let doc = document(&app).await;
    let mut refs = BTreeSet::new();
    collect_refs(&doc, &mut refs);
    assert!(!refs.is_empty());
    for r in refs {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("unexpected $ref {r}"));
        assert!(
            doc["components"]["schemas"].get(name).is_some(),
            "{r} does not resolve"
        );
    }
    for schema in [
        "Problem",
        "BookingView",
        "BookingPage",
        "ContractView",
        "CreateBooking",
    ] {
        assert!(
            doc["components"]["schemas"].get(schema).is_some(),
            "schema {schema}"
        );
    }
}

async fn every_documented_operation_exists_and_asks_for_a_token(app: TestApp) {
    let doc = document(&app).await;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS.iter().filter(|m| item.get(**m).is_some()) {
            let url = path.replace("{id}", "1").replace("{month}", "2026-01");
            let resp = app
                .request(method.to_uppercase().parse().unwrap(), &url)
                .send()
                .await
                .unwrap();
            // A 401 (not 404 or 405) shows the route exists as documented.
            assert_unauthorized(resp).await;
        }
    }
}

/// OpenAPI requires operation ids to be unique; generated clients name
/// their methods after them, and tools link operations by them.
async fn every_operation_has_an_operation_id_of_its_own(app: TestApp) {
    let doc = document(&app).await;
    let mut seen = std::collections::BTreeMap::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            let Some(operation) = item.get(method) else {
                continue;
            };
            let id = operation["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            if let Some(other) = seen.insert(id.to_owned(), format!("{method} {path}")) {
                panic!("operationId {id:?} of {method} {path} is also that of {other}");
            }
        }
    }
}

/// OpenAPI requires a description on every response; openapi-python-client
/// (scripts/client-journey.sh) refuses the whole document without one.
async fn every_response_has_a_description(app: TestApp) {
    let doc = document(&app).await;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            let Some(operation) = item.get(method) else {
                continue;
            };
            for (status, response) in operation["responses"].as_object().expect("responses") {
                let description = response["description"].as_str().unwrap_or_default();
                assert!(
                    !description.trim().is_empty(),
                    "{method} {path}: answer {status} has no description"
                );
            }
        }
    }
}

/// As strict as the handlers (Schemathesis' positive_data_acceptance):
/// every JSON request body refuses unknown fields, as the handlers do, and
/// no parameter is `null` (a query value or header is text or absent).
async fn request_bodies_are_closed_and_parameters_never_null(app: TestApp) {
    let doc = document(&app).await;
    let schemas = &doc["components"]["schemas"];
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            let Some(operation) = item.get(method) else {
                continue;
            };
            let body = &operation["requestBody"]["content"]["application/json"]["schema"];
            if !body.is_null() {
                let mut refs = BTreeSet::new();
                collect_refs(body, &mut refs);
                let name = refs
                    .iter()
                    .next()
                    .and_then(|r| r.strip_prefix("#/components/schemas/"))
                    .unwrap_or_else(|| panic!("{method} {path}: body without a named schema"));
                assert_eq!(
                    schemas[name]["additionalProperties"],
                    Value::Bool(false),
                    "{method} {path}: {name} admits unknown fields"
                );
            }
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                let text = parameter["schema"].to_string();
                assert!(
                    !text.contains("\"null\""),
                    "{method} {path}: parameter {} may be null: {text}",
                    parameter["name"]
                );
            }
        }
    }
}
