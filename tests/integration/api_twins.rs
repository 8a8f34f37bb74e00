//! API first (issue 18): whatever a person can change through a page, a
//! program can change through the REST API. Every state-changing page route
//! is listed here with its API twin, or with why it has none; the guard
//! fails when a page route appears that the table does not list, or when a
//! twin it names is not a route of the API.

use std::collections::BTreeSet;

use crate::role_matrix::declared_state_changing_routes;

/// What stands for a page route in the API.
enum Twin {
    /// The API route doing the same through the same use case.
    Api(&'static str, &'static str),
    /// Nothing should: the page route belongs to the browser (its session).
    BrowserOnly(&'static str),
}

use Twin::{Api, BrowserOnly};

#[rustfmt::skip]
const TWINS: &[(&str, Twin)] = &[
    ("/anmelden",                          BrowserOnly("the API authenticates each request with a token")),
    ("/abmelden",                          BrowserOnly("the API has no session to end; a token is revoked instead")),
    ("/api-tokens",                        Api("POST", "/api/v1/tokens")),
    ("/api-tokens/{id}/widerrufen",        Api("POST", "/api/v1/tokens/{id}/revoke")),
    ("/einstellungen/benachrichtigungen",  Api("PUT", "/api/v1/me/notifications")),
    ("/webhooks",                          Api("POST", "/api/v1/webhooks")),
    ("/webhooks/{id}/entfernen",           Api("DELETE", "/api/v1/webhooks/{id}")),
    ("/katalog/pruefen",                   Api("POST", "/api/v1/bookings/check")),
    ("/buchungen/neu",                     Api("POST", "/api/v1/bookings")),
    ("/buchungen/{id}/groesse/pruefen",    Api("POST", "/api/v1/bookings/{id}/resize/check")),
    ("/buchungen/{id}/groesse",            Api("POST", "/api/v1/bookings/{id}/resize")),
    ("/buchungen/{id}/kuendigen",          Api("POST", "/api/v1/bookings/{id}/cancel")),
    ("/umgebungen/{id}/aufloesen",         Api("POST", "/api/v1/environments/{id}/dissolve")),
    ("/verfahren/{id}/freigaben",          Api("POST", "/api/v1/applications/{id}/promotions")),
    ("/freigaben/{id}/genehmigen",         Api("POST", "/api/v1/promotions/{id}/approve")),
    ("/freigaben/{id}/ablehnen",           Api("POST", "/api/v1/promotions/{id}/reject")),
    ("/freigaben/{id}/zurueckziehen",      Api("POST", "/api/v1/promotions/{id}/withdraw")),
    ("/vertraege/{id}/kontingent-antrag",  Api("POST", "/api/v1/contracts/{id}/kontingent-requests")),
    ("/kontingent-antraege/{id}/mitzeichnen",   Api("POST", "/api/v1/kontingent-requests/{id}/cosign")),
    ("/kontingent-antraege/{id}/genehmigen",    Api("POST", "/api/v1/kontingent-requests/{id}/approve")),
    ("/kontingent-antraege/{id}/ablehnen",      Api("POST", "/api/v1/kontingent-requests/{id}/reject")),
    ("/kontingent-antraege/{id}/zurueckziehen", Api("POST", "/api/v1/kontingent-requests/{id}/withdraw")),
    ("/bereitstellungen/{id}/wiederholen", Api("POST", "/api/v1/deployments/{id}/retry")),
    ("/betrieb/kunden",                    Api("POST", "/api/v1/customers")),
    ("/betrieb/kunden/{id}",               Api("PATCH", "/api/v1/customers/{id}")),
    ("/betrieb/kunden/{id}/verfahren",     Api("POST", "/api/v1/customers/{id}/applications")),
    ("/betrieb/vertraege",                 Api("POST", "/api/v1/contracts")),
    ("/betrieb/vertraege/{id}",            Api("PUT", "/api/v1/contracts/{id}")),
    ("/betrieb/katalog/produkte",          Api("POST", "/api/v1/catalog/products")),
    ("/betrieb/katalog/groessen/{id}",     Api("PUT", "/api/v1/catalog/sizes/{id}")),
    ("/betrieb/katalog/preise",            Api("POST", "/api/v1/catalog/prices")),
    ("/betrieb/katalog/preise/{id}",       Api("PATCH", "/api/v1/catalog/prices/{id}")),
    ("/revision/pruefen",                  Api("POST", "/api/v1/audit/verify")),
];

#[test]
fn every_state_changing_page_route_has_an_api_twin_or_says_why_not() {
    let declared = declared_state_changing_routes();
    let pages: BTreeSet<&str> = declared
        .iter()
        .filter(|(_, path)| !path.starts_with("/api/v1/"))
        .map(|(_, path)| path.as_str())
        .collect();
    let listed: BTreeSet<&str> = TWINS.iter().map(|(page, _)| *page).collect();
    assert_eq!(listed.len(), TWINS.len(), "a page route is listed twice");
    let unlisted: Vec<_> = pages.difference(&listed).collect();
    assert!(
        unlisted.is_empty(),
        "state-changing page routes without an API twin in TWINS (tests/integration/api_twins.rs): \
         write the twin through the same use case, or say why there is none: {unlisted:#?}"
    );
    let gone: Vec<_> = listed.difference(&pages).collect();
    assert!(gone.is_empty(), "rows whose page route is gone: {gone:#?}");

    let mut twins = BTreeSet::new();
    for (page, twin) in TWINS {
        match twin {
            Api(method, path) => {
                assert!(
                    declared.contains(&(method.to_string(), path.to_string())),
                    "{page}: its twin {method} {path} is not a route of the API"
                );
                assert!(
                    twins.insert((method, path)),
                    "{method} {path} is the twin of two pages"
                );
            }
            BrowserOnly(why) => assert!(!why.is_empty()),
        }
    }
}
