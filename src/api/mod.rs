//! REST API under `/api/v1`: JSON, Bearer tokens, problem+json errors, and an
//! OpenAPI 3.1 document generated from the handlers at `/api/v1/openapi.json`.

// Handlers return `Result<_, Problem>`; a problem is built at most once per
// request, so its size on the stack does not matter and boxing would only
// add noise to every handler.
#![allow(clippy::result_large_err)]

pub mod applications;
pub mod body;
pub mod bookings;
pub mod catalog;
pub mod contracts;
pub mod environments;
pub mod extract;
pub mod problem;
pub mod releases;
pub mod statements;

use axum::{Json, Router, routing::get};
use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};

use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Kontor API",
        description = "Selbstbedienungsportal für Cloud-Ressourcen: Katalog, Verträge mit Kontingent, Verfahren und Buchungen. Fehler sind application/problem+json (RFC 9457) mit einem stabilen `type` je Fehlerart (urn:kontor:problem:…).",
        version = "1.0.0"
    ),
    paths(
        catalog::list,
        contracts::list,
        contracts::show,
        applications::list,
        applications::show,
        bookings::list,
        bookings::create,
        bookings::show,
        bookings::resize,
        bookings::cancel,
        environments::list,
        environments::show,
        environments::dissolve,
        releases::deliver,
        releases::list_releases,
        releases::pipeline,
        releases::request,
        releases::list_promotions,
        releases::show_promotion,
        releases::approve,
        releases::reject,
        releases::withdraw,
        releases::show_deployment,
        releases::retry,
        statements::list,
        statements::show,
        statements::budget,
        statements::export_contract,
        statements::export_month,
    ),
    modifiers(&BearerAuth, &CommonAnswers),
    security(("bearer" = [])),
    tags(
        (name = "Katalog", description = "Produkte in S/M/L/XL mit Preisen"),
        (name = "Verträge", description = "Verträge mit Kontingent, Verbrauch und Rest"),
        (name = "Verfahren", description = "IT-Fachverfahren der Kunden"),
        (name = "Buchungen", description = "Buchen, Größe ändern, Kündigen"),
        (name = "Releases", description = "Lieferungen mit Checkup, Stufenkette, Freigabeanträge und Entscheidungen (Vier-Augen-Prinzip), Bereitstellungen"),
        (name = "Umgebungen", description = "Namespaces je Verfahren und Stufe, ihr Bereitstellungsstand, Umgebung auflösen"),
        (name = "Abrechnung", description = "Monatsabrechnungen je Vertrag, Budget und Prognose, CSV-Export für die Finanzen"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("Portal-API-Token (`kontor token create`) oder Access Token des OIDC-Anbieters"))
                    .build(),
            ),
        );
    }
}

/// Answers every authenticated operation may give whatever it does: 429
/// when the caller is over the rate limit, 503 when the caller's access
/// token cannot be checked because the OpenID provider is unreachable.
struct CommonAnswers;

impl Modify for CommonAnswers {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{
            ContentBuilder, Ref, ResponseBuilder, header::HeaderBuilder, schema::Type,
        };
        let problem = || {
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build()
        };
        let rate_limited = ResponseBuilder::new()
            .description("Zu viele Anfragen (`rate-limited`); erneut nach `Retry-After` Sekunden")
            .header(
                "Retry-After",
                HeaderBuilder::new()
                    .schema(Some(
                        utoipa::openapi::ObjectBuilder::new().schema_type(Type::Integer),
                    ))
                    .description(Some("Sekunden bis zum nächsten Zeitfenster"))
                    .build(),
            )
            .content("application/problem+json", problem())
            .build();
        let unavailable = ResponseBuilder::new()
            .description("Der Anmeldedienst ist nicht erreichbar, das Access Token kann nicht geprüft werden (`provider-unavailable`)")
            .content("application/problem+json", problem())
            .build();
        for item in openapi.paths.paths.values_mut() {
            for operation in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                // Only operations that authenticate (not the document itself).
                if operation.security.as_ref().is_some_and(|s| s.is_empty()) {
                    continue;
                }
                let answers = &mut operation.responses.responses;
                answers
                    .entry("429".into())
                    .or_insert_with(|| rate_limited.clone().into());
                answers
                    .entry("503".into())
                    .or_insert_with(|| unavailable.clone().into());
            }
        }
    }
}

/// `201 Created` with `Location`, marked `idempotent-replayed` when an
/// `Idempotency-Key` brought back an earlier answer.
pub fn created(
    body: impl axum::response::IntoResponse,
    location: &str,
    outcome: crate::app::Created,
) -> axum::response::Response {
    use axum::{
        http::{HeaderValue, StatusCode, header},
        response::IntoResponse,
    };
    let mut response = (StatusCode::CREATED, body).into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    if matches!(outcome, crate::app::Created::Replayed(_)) {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    response
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
        .merge(catalog::router())
        .merge(contracts::router())
        .merge(applications::router())
        .merge(bookings::router())
        .merge(environments::router())
        .merge(releases::router())
        .merge(statements::router())
        .fallback(|| async { problem::Problem::not_found() })
        .method_not_allowed_fallback(|| async {
            problem::Problem::new(
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Methode nicht erlaubt",
                "Diese Adresse unterstützt die Methode nicht.",
            )
        })
        .layer(axum::middleware::from_fn(body::read_whole))
}
