//! REST API under `/api/v1`: JSON, Bearer tokens, problem+json errors, and an
//! OpenAPI 3.1 document generated from the handlers at `/api/v1/openapi.json`.

// Handlers return `Result<_, Problem>`; a problem is built at most once per
// request, so its size on the stack does not matter and boxing would only
// add noise to every handler.
#![allow(clippy::result_large_err)]

pub mod applications;
pub mod audit;
pub mod body;
pub mod bookings;
pub mod catalog;
pub mod contracts;
pub mod customers;
pub mod environments;
pub mod extract;
pub mod kontingent;
pub mod me;
pub mod notifications;
pub mod paging;
pub mod params;
pub mod problem;
pub mod products;
pub mod promotions;
pub mod releases;
pub mod statements;
pub mod tokens;

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
        me::show,
        notifications::settings,
        notifications::choose,
        notifications::webhooks,
        notifications::show_webhook,
        notifications::create_webhook,
        notifications::delete_webhook,
        tokens::list,
        tokens::show,
        tokens::create,
        tokens::revoke,
        customers::list,
        customers::show,
        customers::create,
        customers::rename,
        catalog::list,
        catalog::prices,
        catalog::show_price,
        catalog::add_price,
        catalog::change_price,
        products::create_product,
        products::show_product,
        products::show_size,
        products::update_size,
        contracts::list,
        contracts::show,
        contracts::create,
        contracts::replace,
        kontingent::create,
        kontingent::list,
        kontingent::show,
        kontingent::approve,
        kontingent::reject,
        kontingent::withdraw,
        kontingent::cosign,
        applications::list,
        applications::show,
        applications::create,
        applications::rename,
        applications::move_to,
        bookings::list,
        bookings::create,
        bookings::show,
        bookings::resize,
        bookings::check,
        bookings::check_resize,
        bookings::cancel,
        environments::list,
        environments::show,
        environments::dissolve,
        releases::deliver,
        releases::list_releases,
        releases::pipeline,
        releases::request,
        promotions::list_promotions,
        promotions::show_promotion,
        promotions::approve,
        promotions::reject,
        promotions::withdraw,
        releases::show_deployment,
        releases::retry,
        statements::list,
        statements::show,
        statements::budget,
        statements::export_contract,
        statements::export_month,
        audit::list,
        audit::export_csv,
        audit::export_jsonl,
        audit::verify,
    ),
    modifiers(&BearerAuth, &CommonAnswers, &OperationIds, &ResponseDescriptions, &HeaderSchemas),
    security(("bearer" = [])),
    tags(
        (name = "Konto", description = "Die aufrufende Person: Rollen, Kunde, eigene API-Tokens"),
        (name = "Kunden", description = "Kunden (Behörden) des Anbieters; anlegen und umbenennen nur der Betreiber"),
        (name = "Katalog", description = "Produkte in S/M/L/XL mit Preisen"),
        (name = "Verträge", description = "Verträge mit Kontingent, Verbrauch und Rest; Kontingent-Änderungsanträge mit Entscheidung durch den Betreiber (Vier-Augen-Prinzip)"),
        (name = "Verfahren", description = "IT-Fachverfahren der Kunden"),
        (name = "Buchungen", description = "Buchen, Größe ändern, Kündigen"),
        (name = "Releases", description = "Lieferungen mit Checkup, Stufenkette, Freigabeanträge und Entscheidungen (Vier-Augen-Prinzip), Bereitstellungen"),
        (name = "Umgebungen", description = "Namespaces je Verfahren und Stufe, ihr Bereitstellungsstand, Umgebung auflösen"),
        (name = "Abrechnung", description = "Monatsabrechnungen je Vertrag, Budget und Prognose, CSV-Export für die Finanzen"),
        (name = "Revision", description = "Wer hat was wann geändert: gefiltert, mit Cursor geblättert, als CSV oder JSON Lines; jeder Eintrag in einer Hash-Kette (manipulationssicher)"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

/// Every operation of the document, with its path and method, for the
/// modifiers below.
fn operations(
    openapi: &mut utoipa::openapi::OpenApi,
) -> impl Iterator<Item = (&str, &'static str, &mut utoipa::openapi::path::Operation)> {
    openapi.paths.paths.iter_mut().flat_map(|(path, item)| {
        [
            ("get", &mut item.get),
            ("post", &mut item.post),
            ("put", &mut item.put),
            ("patch", &mut item.patch),
            ("delete", &mut item.delete),
        ]
        .into_iter()
        .filter_map(move |(method, operation)| {
            operation
                .as_mut()
                .map(|operation| (path.as_str(), method, operation))
        })
    })
}

/// Operation ids from method and path (`post_customers_id_applications`):
/// unique by construction, as OpenAPI requires, and stable when a handler
/// is renamed. Generated clients name their methods after them.
struct OperationIds;

impl Modify for OperationIds {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, method, operation) in operations(openapi) {
            let words: Vec<&str> = path
                .trim_start_matches("/api/v1/")
                .split('/')
                .map(|segment| segment.trim_matches(|c| c == '{' || c == '}'))
                .collect();
            let name = words.join("_").replace('-', "_");
            operation.operation_id = Some(format!("{method}_{name}"));
        }
    }
}

/// A description on every response, as OpenAPI requires of a Response
/// Object (3.1, § 4.8.17.1): where a handler's entry gives none, the status'
/// reason phrase (`OK`, `Created`). Client generators refuse a document
/// without them (openapi-python-client, scripts/client-journey.sh).
struct ResponseDescriptions;

impl Modify for ResponseDescriptions {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (_, _, operation) in operations(openapi) {
            for (status, response) in operation.responses.responses.iter_mut() {
                if let utoipa::openapi::RefOr::T(response) = response
                    && response.description.trim().is_empty()
                {
                    response.description = status
                        .parse::<u16>()
                        .ok()
                        .and_then(|code| axum::http::StatusCode::from_u16(code).ok())
                        .and_then(|code| code.canonical_reason())
                        .unwrap_or("Antwort")
                        .to_owned();
                }
            }
        }
    }
}

/// The request headers the handlers parse, documented as strictly as they
/// parse them, on every operation that takes them: `Idempotency-Key` is 1
/// to 255 visible ASCII characters, `If-Match` one strong entity tag. A
/// header is never `null` (utoipa writes an optional one as nullable).
struct HeaderSchemas;

impl Modify for HeaderSchemas {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{RefOr, path::ParameterIn};
        for (_, _, operation) in operations(openapi) {
            for parameter in operation.parameters.iter_mut().flatten() {
                let RefOr::T(p) = parameter else { continue };
                if !matches!(p.parameter_in, ParameterIn::Header) {
                    continue;
                }
                let schema = match p.name.to_ascii_lowercase().as_str() {
                    "idempotency-key" => params::idempotency_key(),
                    "if-match" => params::entity_tag(),
                    _ => continue,
                };
                p.schema = Some(RefOr::T(schema));
            }
        }
    }
}

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

/// The problem answers every operation may give, declared here once
/// instead of on each handler (a handler's own entry, with a description
/// that says more, wins): 401 and 403 for whoever is not let in, 404 where
/// the path names an object, 422 where the request carries input, 400, 413
/// and 415 where it carries a body, 409 where it takes an Idempotency-Key,
/// 429 over the rate limit (with `Retry-After`), 503 when an access token
/// cannot be checked because the OpenID provider is unreachable.
struct CommonAnswers;

impl Modify for CommonAnswers {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{
            ContentBuilder, Ref, Response, ResponseBuilder, header::HeaderBuilder, schema::Type,
        };
        let problem = |description: &str| -> Response {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/problem+json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Problem")))
                        .build(),
                )
                .build()
        };
        let mut rate_limited =
            problem("Zu viele Anfragen (`rate-limited`); erneut nach `Retry-After` Sekunden");
        rate_limited.headers.insert(
            "Retry-After".into(),
            HeaderBuilder::new()
                .schema(Some(
                    utoipa::openapi::ObjectBuilder::new().schema_type(Type::Integer),
                ))
                .description(Some("Sekunden bis zum nächsten Zeitfenster"))
                .build()
                .into(),
        );
        let common = [
            (
                "401",
                problem("Keine oder eine ungültige Anmeldung (`unauthorized`)"),
            ),
            (
                "403",
                problem(
                    "Die Rolle erlaubt das nicht, oder kein Zugang zu Kontor (`forbidden`, `no-access`)",
                ),
            ),
            ("429", rate_limited),
            (
                "503",
                problem(
                    "Der Anmeldedienst ist nicht erreichbar, das Access Token kann nicht geprüft werden (`provider-unavailable`)",
                ),
            ),
        ];
        let not_found = problem("Nicht gefunden, auch für Ids eines anderen Kunden (`not-found`)");
        let invalid = problem("Ungültige Eingabe, mit einer Meldung je Feld (`validation`)");
        let body_answers = [
            ("400", problem("Kein gültiges JSON (`malformed-body`)")),
            (
                "413",
                problem("Der Inhalt ist zu groß (`payload-too-large`)"),
            ),
            (
                "415",
                problem(
                    "Der Inhalt ist nicht als application/json gesendet (`unsupported-media-type`)",
                ),
            ),
        ];
        let reused_key = problem(
            "Der Idempotency-Key wurde schon für eine andere Anfrage verwendet (`conflict`)",
        );
        for (path, _, operation) in operations(openapi) {
            let names_an_object = path.contains('{');
            // Only operations that authenticate (not the document itself).
            if operation.security.as_ref().is_some_and(|s| s.is_empty()) {
                continue;
            }
            let takes_input = names_an_object
                || operation.request_body.is_some()
                || operation.parameters.as_ref().is_some_and(|p| !p.is_empty());
            let answers = &mut operation.responses.responses;
            for (status, response) in &common {
                answers
                    .entry((*status).into())
                    .or_insert_with(|| response.clone().into());
            }
            if names_an_object {
                answers
                    .entry("404".into())
                    .or_insert_with(|| not_found.clone().into());
            }
            if takes_input {
                answers
                    .entry("422".into())
                    .or_insert_with(|| invalid.clone().into());
            }
            // Whatever reads a body refuses what is not JSON, too large
            // or not declared as JSON; whatever takes an Idempotency-Key
            // refuses a key used for another request.
            if operation.request_body.is_some() {
                for (status, response) in &body_answers {
                    answers
                        .entry((*status).into())
                        .or_insert_with(|| response.clone().into());
                }
            }
            let idempotent = operation.parameters.as_ref().is_some_and(|ps| {
                ps.iter()
                    .any(|p| matches!(p, utoipa::openapi::RefOr::T(p) if p.name.eq_ignore_ascii_case("Idempotency-Key")))
            });
            if idempotent {
                answers
                    .entry("409".into())
                    .or_insert_with(|| reused_key.clone().into());
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
        .merge(me::router())
        .merge(notifications::router())
        .merge(tokens::router())
        .merge(customers::router())
        .merge(catalog::router())
        .merge(products::router())
        .merge(contracts::router())
        .merge(kontingent::router())
        .merge(applications::router())
        .merge(bookings::router())
        .merge(environments::router())
        .merge(releases::router())
        .merge(promotions::router())
        .merge(statements::router())
        .merge(audit::router())
        .fallback(|| async { problem::Problem::not_found() })
        .method_not_allowed_fallback(|| async {
            problem::Problem::new(
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                crate::web::lang::t("problem-detail-method-not-allowed"),
            )
        })
        .layer(axum::middleware::from_fn(body::read_whole))
}
