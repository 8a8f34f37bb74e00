//! The role matrix (issue 3): for every state-changing route, page and API,
//! each role gets exactly what the roles table of DESIGN.md grants. A role
//! that may see the object but not change it gets 403; one that may not
//! see it (a user of another customer, a user without any role) gets 404,
//! as for an id that does not exist ("another tenant's ids answer 404, not
//! 403"). A refused request changes nothing, compared row by row.
//!
//! `RULES` is the table; `every_state_changing_route_of_the_routers_is_in_the_matrix`
//! reads the routers in src/ and fails when a state-changing route appears
//! that the table does not list (or the table lists one that is gone), and
//! each matrix test fails when a cell of its half of the table was not run.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

use kontor::{domain::Role, web::urls::Route};
use reqwest::{Method, Response, StatusCode, header, redirect::Policy};
use serde_json::{Value, json};

use crate::support::{ALL_STAGES, Backend, Counts, Person, Tenant, TestApp, csrf_in, id, until};

cluster_tests! {
    every_api_route_answers_each_role_as_the_roles_table_says,
    every_page_form_answers_each_role_as_the_roles_table_says,
}

// ----- who --------------------------------------------------------------

/// The people of the matrix. "The tenant" is the customer whose objects
/// the requests address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Who {
    /// The provider's platform team, no customer.
    Betreiber,
    /// Finanzen of the provider, no customer (sees every customer).
    ProviderFinanzen,
    /// The tenant's Systempfleger:in.
    Systempfleger,
    /// The tenant's Verfahrensverantwortliche:r.
    Verfahrensverantwortlicher,
    /// The tenant's Entwickler:in.
    Entwickler,
    /// The tenant's Finanzen.
    Finanzen,
    /// A user of another customer with every customer role.
    OtherCustomer,
    /// A user of the tenant's customer without any role.
    NoRoles,
}

const EVERYONE: [Who; 8] = [
    Who::Betreiber,
    Who::ProviderFinanzen,
    Who::Systempfleger,
    Who::Verfahrensverantwortlicher,
    Who::Entwickler,
    Who::Finanzen,
    Who::OtherCustomer,
    Who::NoRoles,
];

impl Who {
    /// Whether the user may see the tenant's objects at all: provider
    /// staff see every customer, the customer's people with a role their
    /// own. Whoever does not see an object is told it does not exist.
    fn sees_tenant(self) -> bool {
        !matches!(self, Who::OtherCustomer | Who::NoRoles)
    }
}

// ----- the table ----------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Surface {
    Api,
    Page,
}

/// How a route refuses whoever is not among those who may use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// An object of the tenant (or a parent id under which something is
    /// created): 403 to whoever sees the tenant, 404 to everyone else.
    Tenant,
    /// The booking form: 403 to whoever sees the tenant; to everyone else
    /// the form comes back (422) saying the application does not exist,
    /// exactly as for an id that does not exist — the page's form of 404.
    TenantForm,
    /// The Betreiber area: 403 to everyone else, whatever the id (the
    /// refusal comes before any lookup, so it tells nothing about ids).
    Provider,
    /// A user's own API token: to everyone else it does not exist (404).
    Owner,
    /// Open to everyone.
    Nobody,
}

/// One row of the matrix: a state-changing route (in one case), what the
/// test sends, who may use it and what they get.
struct Rule {
    surface: Surface,
    method: &'static str,
    /// As in the router; `{id}` is the object's (or parent's) id.
    path: &'static str,
    /// Routes whose rule depends on the object: which object.
    case: &'static str,
    /// What the request carries (JSON fields or form fields), besides the
    /// CSRF token of the pages.
    body: &'static str,
    may: &'static [Who],
    /// The status of success.
    ok: u16,
    refusal: Refusal,
}

const SYSTEMPFLEGER: &[Who] = &[Who::Systempfleger];
const DELIVERERS: &[Who] = &[Who::Systempfleger, Who::Entwickler];
const OWNER_OF_APPLICATION: &[Who] = &[Who::Verfahrensverantwortlicher];
/// Only the requester withdraws; in the test the Entwickler:in requested.
const REQUESTER: &[Who] = &[Who::Entwickler];
const BETREIBER: &[Who] = &[Who::Betreiber];
/// The second signature of a budget increase: the customer's own finance.
const CUSTOMER_FINANZEN: &[Who] = &[Who::Finanzen];
/// Webhooks are added by the Betreiber (for any customer) and by a
/// customer's Systempfleger:in (for their own customer, which for the user
/// of another customer is that customer).
const WEBHOOK_KEEPERS: &[Who] = &[Who::Betreiber, Who::Systempfleger, Who::OtherCustomer];
/// A customer's webhook is removed by the Betreiber and the customer's
/// Systempfleger:in.
const CUSTOMER_WEBHOOKS: &[Who] = &[Who::Betreiber, Who::Systempfleger];

const INTO_ABNAHME_OR_SCHULUNG: &str = "into Abnahme or Schulung";
const INTO_PRODUKTION: &str = "into Produktion";
const OWN_REQUEST: &str = "requested by the Entwickler:in";
const IN_VORPRUEFUNG: &str = "in Vorprüfung";
const IN_A_LATER_STAGE: &str = "in a later stage";
const BUDGET_INCREASE: &str = "a budget increase, with the cosign setting on";
const OWN_KONTINGENT_REQUEST: &str = "requested by the Systempfleger:in";
const OWN_TOKEN: &str = "the Systempfleger:in's own token";

const fn api(
    path: &'static str,
    case: &'static str,
    body: &'static str,
    may: &'static [Who],
    ok: u16,
) -> Rule {
    Rule {
        surface: Surface::Api,
        method: "POST",
        path,
        case,
        body,
        may,
        ok,
        refusal: Refusal::Tenant,
    }
}

/// An API row with its own method and refusal.
const fn api_with(
    method: &'static str,
    path: &'static str,
    case: &'static str,
    body: &'static str,
    may: &'static [Who],
    ok: u16,
    refusal: Refusal,
) -> Rule {
    Rule {
        surface: Surface::Api,
        method,
        path,
        case,
        body,
        may,
        ok,
        refusal,
    }
}

const fn page(
    path: &'static str,
    case: &'static str,
    body: &'static str,
    may: &'static [Who],
    ok: u16,
    refusal: Refusal,
) -> Rule {
    Rule {
        surface: Surface::Page,
        method: "POST",
        path,
        case,
        body,
        may,
        ok,
        refusal,
    }
}

/// Every state-changing route with who may use it, as DESIGN.md's roles
/// table says: the Betreiber manages customers, contracts, catalogue and
/// prices, verifies the Revision's hash chain, and books nothing; the
/// Systempfleger:in books, resizes, cancels, dissolves environments,
/// delivers and requests promotions and approves them into Abnahme and
/// Schulung; the Verfahrensverantwortliche:r approves into Produktion; the
/// Entwickler:in delivers and requests promotions and approves nothing; Finanzen only reads. Rejecting goes
/// with approving; withdrawing is the requester's; a failed deployment is
/// retried by the Systempfleger:in, and in Vorprüfung (where developers may
/// change things themselves) also by the Entwickler:in. A Kontingent
/// request is asked and withdrawn by the Systempfleger:in, decided by the
/// Betreiber and, when it raises the budget and the provider wants it,
/// co-signed first by the customer's Finanzen. Everyone logs in
/// and out and manages their own API tokens.
///
/// Everyone else: see `Refusal`. Approving or rejecting one's own request
/// is the four-eyes case, tested beside the matrix (403 `four-eyes`).
#[rustfmt::skip]
const RULES: &[Rule] = &[
    // ----- REST API under /api/v1 (refusal: Tenant) -----
    //  path                                    case                       body                                         may                   ok
    api("/api/v1/bookings",                     "",                        "{application_id, stage, product, size}",    SYSTEMPFLEGER,        201),
    api("/api/v1/bookings/{id}/resize",         "",                        "{size}",                                    SYSTEMPFLEGER,        200),
    api("/api/v1/bookings/{id}/cancel",         "",                        "-",                                         SYSTEMPFLEGER,        200),
    api("/api/v1/environments/{id}/dissolve",   "",                        "-",                                         SYSTEMPFLEGER,        202),
    api("/api/v1/applications/{id}/releases",   "",                        "{version, image}",                          DELIVERERS,           201),
    api("/api/v1/applications/{id}/promotions", "",                        "{release_id, to_stage}",                    DELIVERERS,           201),
    api("/api/v1/promotions/{id}/approve",      INTO_ABNAHME_OR_SCHULUNG,  "- (optional {reason})",                     SYSTEMPFLEGER,        200),
    api("/api/v1/promotions/{id}/approve",      INTO_PRODUKTION,           "- (optional {reason})",                     OWNER_OF_APPLICATION, 200),
    api("/api/v1/promotions/{id}/reject",       INTO_ABNAHME_OR_SCHULUNG,  "{reason}",                                  SYSTEMPFLEGER,        200),
    api("/api/v1/promotions/{id}/reject",       INTO_PRODUKTION,           "{reason}",                                  OWNER_OF_APPLICATION, 200),
    api("/api/v1/promotions/{id}/withdraw",     OWN_REQUEST,               "-",                                         REQUESTER,            200),
    api("/api/v1/deployments/{id}/retry",       IN_VORPRUEFUNG,            "-",                                         DELIVERERS,           201),
    api("/api/v1/deployments/{id}/retry",       IN_A_LATER_STAGE,          "-",                                         SYSTEMPFLEGER,        201),
    api("/api/v1/contracts/{id}/kontingent-requests", "",                  "{kontingent, reason}",                      SYSTEMPFLEGER,        201),
    api("/api/v1/kontingent-requests/{id}/cosign", BUDGET_INCREASE,        "-",                                         CUSTOMER_FINANZEN,    200),
    api("/api/v1/kontingent-requests/{id}/approve", "",                    "- (optional {kontingent, reason})",         BETREIBER,            200),
    api("/api/v1/kontingent-requests/{id}/reject", "",                     "{reason}",                                  BETREIBER,            200),
    api("/api/v1/kontingent-requests/{id}/withdraw", OWN_KONTINGENT_REQUEST, "-",                                       SYSTEMPFLEGER,        200),
    api_with("POST", "/api/v1/tokens",          "",                        "{name, expires_on}",                        &EVERYONE,            201, Refusal::Nobody),
    api_with("POST", "/api/v1/tokens/{id}/revoke", OWN_TOKEN,              "-",                                         SYSTEMPFLEGER,        200, Refusal::Owner),
    api_with("POST", "/api/v1/customers",       "",                        "{slug, name}",                              BETREIBER,            201, Refusal::Provider),
    api_with("PATCH", "/api/v1/customers/{id}", "",                        "{name}",                                    BETREIBER,            200, Refusal::Provider),
    api_with("POST", "/api/v1/customers/{id}/applications", "",            "{contract_id, slug, name}",                 BETREIBER,            201, Refusal::Provider),
    api_with("PATCH", "/api/v1/applications/{id}", "",                     "{name}",                                    BETREIBER,            200, Refusal::Provider),
    api_with("POST", "/api/v1/applications/{id}/move", "",                 "{contract_id}",                             BETREIBER,            200, Refusal::Provider),
    api_with("POST", "/api/v1/contracts",       "",                        "{customer_id and the terms}",               BETREIBER,            201, Refusal::Provider),
    api_with("PUT", "/api/v1/contracts/{id}",   "",                        "the terms",                                 BETREIBER,            200, Refusal::Provider),
    api_with("POST", "/api/v1/catalog/prices",  "",                        "{product, size, valid_from, price_per_hour}", BETREIBER,          201, Refusal::Provider),
    api_with("PATCH", "/api/v1/catalog/prices/{id}", "",                   "{price_per_hour}",                          BETREIBER,            200, Refusal::Provider),
    // ----- pages: forms, each with the session's CSRF token -----
    //   path                                   case                       body                                         may                   ok   refusal
    page("/anmelden",                           "demo login",              "login",                                     &EVERYONE,            303, Refusal::Nobody),
    page("/abmelden",                           "",                        "-",                                         &EVERYONE,            303, Refusal::Nobody),
    page("/api-tokens",                         "",                        "name, expires_on",                          &EVERYONE,            201, Refusal::Nobody),
    page("/api-tokens/{id}/widerrufen",         OWN_TOKEN,                 "-",                                         SYSTEMPFLEGER,        303, Refusal::Owner),
    page("/einstellungen/benachrichtigungen",   "",                        "email (once per kind left on)",             &EVERYONE,            200, Refusal::Nobody),
    page("/webhooks",                           "",                        "url, description (Betreiber: customer)",    WEBHOOK_KEEPERS,      201, Refusal::Provider),
    page("/webhooks/{id}/entfernen",            "",                        "-",                                         CUSTOMER_WEBHOOKS,    303, Refusal::Tenant),
    page("/katalog/pruefen",                    "",                        "application_id, stage, product, size",      SYSTEMPFLEGER,        200, Refusal::TenantForm),
    page("/buchungen/neu",                      "",                        "application_id, stage, product, size",      SYSTEMPFLEGER,        303, Refusal::TenantForm),
    page("/buchungen/{id}/groesse/pruefen",     "",                        "size",                                      SYSTEMPFLEGER,        200, Refusal::Tenant),
    page("/buchungen/{id}/groesse",             "",                        "size",                                      SYSTEMPFLEGER,        303, Refusal::Tenant),
    page("/buchungen/{id}/kuendigen",           "",                        "-",                                         SYSTEMPFLEGER,        303, Refusal::Tenant),
    page("/umgebungen/{id}/aufloesen",          "",                        "-",                                         SYSTEMPFLEGER,        303, Refusal::Tenant),
    page("/verfahren/{id}/freigaben",           "",                        "release_id, to_stage",                      DELIVERERS,           303, Refusal::Tenant),
    page("/freigaben/{id}/genehmigen",          INTO_ABNAHME_OR_SCHULUNG,  "- (optional reason, zurueck)",              SYSTEMPFLEGER,        303, Refusal::Tenant),
    page("/freigaben/{id}/genehmigen",          INTO_PRODUKTION,           "- (optional reason, zurueck)",              OWNER_OF_APPLICATION, 303, Refusal::Tenant),
    page("/freigaben/{id}/ablehnen",            INTO_ABNAHME_OR_SCHULUNG,  "reason",                                    SYSTEMPFLEGER,        303, Refusal::Tenant),
    page("/freigaben/{id}/ablehnen",            INTO_PRODUKTION,           "reason",                                    OWNER_OF_APPLICATION, 303, Refusal::Tenant),
    page("/freigaben/{id}/zurueckziehen",       OWN_REQUEST,               "-",                                         REQUESTER,            303, Refusal::Tenant),
    page("/vertraege/{id}/kontingent-antrag",   "",                        "vcpu, monthly_budget, reason",              SYSTEMPFLEGER,        303, Refusal::Tenant),
    page("/kontingent-antraege/{id}/mitzeichnen", BUDGET_INCREASE,         "-",                                         CUSTOMER_FINANZEN,    303, Refusal::Tenant),
    page("/kontingent-antraege/{id}/genehmigen", "",                       "vcpu (the ceilings granted), optional reason", BETREIBER,         303, Refusal::Tenant),
    page("/kontingent-antraege/{id}/ablehnen",  "",                        "reason",                                    BETREIBER,            303, Refusal::Tenant),
    page("/kontingent-antraege/{id}/zurueckziehen", OWN_KONTINGENT_REQUEST, "-",                                        SYSTEMPFLEGER,        303, Refusal::Tenant),
    page("/bereitstellungen/{id}/wiederholen",  IN_VORPRUEFUNG,            "-",                                         DELIVERERS,           303, Refusal::Tenant),
    page("/bereitstellungen/{id}/wiederholen",  IN_A_LATER_STAGE,          "-",                                         SYSTEMPFLEGER,        303, Refusal::Tenant),
    page("/betrieb/kunden",                     "",                        "slug, name",                                BETREIBER,            303, Refusal::Provider),
    page("/betrieb/kunden/{id}",                "",                        "name",                                      BETREIBER,            303, Refusal::Provider),
    page("/betrieb/kunden/{id}/verfahren",      "",                        "contract_id, slug, name",                   BETREIBER,            303, Refusal::Provider),
    page("/betrieb/vertraege",                  "",                        "customer_id and the contract fields",       BETREIBER,            303, Refusal::Provider),
    page("/betrieb/vertraege/{id}",             "",                        "the contract fields",                       BETREIBER,            303, Refusal::Provider),
    page("/betrieb/katalog/produkte",           "",                        "slug, name, description",                   BETREIBER,            303, Refusal::Provider),
    page("/betrieb/katalog/groessen/{id}",      "",                        "vcpu, memory_gib, storage_gib, pods",       BETREIBER,            303, Refusal::Provider),
    page("/betrieb/katalog/preise",             "",                        "product_size_id, valid_from, rate",         BETREIBER,            303, Refusal::Provider),
    page("/betrieb/katalog/preise/{id}",        "",                        "rate",                                      BETREIBER,            303, Refusal::Provider),
    page("/revision/pruefen",                   "",                        "-",                                         BETREIBER,            303, Refusal::Provider),
];

fn rule(surface: Surface, path: &str, case: &str) -> (usize, &'static Rule) {
    RULES
        .iter()
        .enumerate()
        .find(|(_, r)| r.surface == surface && r.path == path && r.case == case)
        .unwrap_or_else(|| panic!("no {surface:?} row for {path} ({case:?}) in RULES"))
}

/// What a role that may not use a route gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refused {
    Forbidden,
    NotFound,
    /// The booking form again, saying the application does not exist.
    UnknownApplication,
}

fn refusal_for(rule: &Rule, who: Who) -> Refused {
    match rule.refusal {
        Refusal::Tenant if who.sees_tenant() => Refused::Forbidden,
        Refusal::Tenant => Refused::NotFound,
        Refusal::TenantForm if who.sees_tenant() => Refused::Forbidden,
        // Someone who does not see the tenant learns no more than for an id
        // that does not exist: the form's own message.
        Refusal::TenantForm => Refused::UnknownApplication,
        Refusal::Provider => Refused::Forbidden,
        Refusal::Owner => Refused::NotFound,
        Refusal::Nobody => panic!(
            "{} {} refuses nobody, yet {who:?} is not among those who may use it",
            rule.method, rule.path
        ),
    }
}

// ----- the guard ----------------------------------------------------------

/// Every state-changing `(METHOD, path)` the routers in src/ declare, API
/// paths with their `/api/v1` prefix.
pub fn declared_state_changing_routes() -> BTreeSet<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    // The API router is nested under /api/v1; nothing else is nested (a
    // nest would put a prefix before routes that this guard cannot see).
    let startup = std::fs::read_to_string(src.join("startup.rs")).expect("src/startup.rs");
    assert!(
        startup.contains(".nest(\"/api/v1\", crate::api::router()"),
        "the API is no longer nested at /api/v1: teach this guard the new prefix"
    );
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut declared = BTreeSet::new();
    for file in &files {
        let source = std::fs::read_to_string(file).expect("source file");
        if file.ends_with("startup.rs") {
            assert_eq!(
                source.matches(".nest(").count(),
                1,
                "another nested router in startup.rs: teach this guard its prefix"
            );
        } else {
            assert!(
                !source.contains(".nest("),
                "{}: a nested router; teach this guard its prefix",
                file.display()
            );
        }
        let prefix = if file.starts_with(src.join("api")) {
            "/api/v1"
        } else {
            ""
        };
        for (path, handlers) in route_calls(&source) {
            for name in ["any", "on", "on_service", "any_service"] {
                assert!(
                    !calls_fn(&handlers, name),
                    "{}: route {path} uses {name}(…), which this guard cannot read",
                    file.display()
                );
            }
            for method in ["post", "put", "patch", "delete"] {
                if calls_fn(&handlers, method) {
                    declared.insert((method.to_uppercase(), format!("{prefix}{path}")));
                }
            }
        }
    }
    declared
}

#[test]
fn every_state_changing_route_of_the_routers_is_in_the_matrix() {
    let declared = declared_state_changing_routes();
    let listed: BTreeSet<(String, String)> = RULES
        .iter()
        .map(|r| (r.method.to_owned(), r.path.to_owned()))
        .collect();
    let unlisted: Vec<_> = declared.difference(&listed).collect();
    assert!(
        unlisted.is_empty(),
        "state-changing routes that the role matrix (RULES in tests/integration/role_matrix.rs) does not list; \
         add a row saying who may use each, and test its cells: {unlisted:#?}"
    );
    let gone: Vec<_> = listed.difference(&declared).collect();
    assert!(
        gone.is_empty(),
        "rows of the role matrix whose route the routers no longer declare: {gone:#?}"
    );
    // No row twice, and each row's roles are a clean list.
    let mut seen = BTreeSet::new();
    for r in RULES {
        assert!(
            seen.insert((r.surface == Surface::Api, r.path, r.case)),
            "{} ({}) is listed twice",
            r.path,
            r.case
        );
        assert!(!r.may.is_empty(), "{}: nobody may use it?", r.path);
        assert_eq!(
            r.refusal == Refusal::Nobody,
            r.may.len() == EVERYONE.len(),
            "{}: open to everyone exactly when it refuses nobody",
            r.path
        );
        assert!(!r.body.is_empty(), "{}: say what it carries", r.path);
    }
    // The guard reads what it should: the routers name these.
    assert!(declared.contains(&("POST".to_owned(), "/api/v1/bookings".to_owned())));
    assert!(declared.contains(&("POST".to_owned(), "/betrieb/katalog/preise/{id}".to_owned())));
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a source directory") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `(path, handlers)` of every `.route("<path>", <handlers>)` in `source`,
/// and of every `.route(Route::<Name>.pattern(), <handlers>)` (the page
/// routers name their paths in `kontor::web::urls::Route`).
fn route_calls(source: &str) -> Vec<(String, String)> {
    const CALL: &str = ".route(";
    let mut calls = Vec::new();
    let mut rest = source;
    while let Some(at) = rest.find(CALL) {
        let after = &rest[at + CALL.len()..];
        let args = up_to_closing_paren(after);
        let first = args.trim_start();
        if let Some(literal) = first.strip_prefix('"') {
            let end = literal.find('"').expect("the end of the path literal");
            calls.push((literal[..end].to_owned(), literal[end + 1..].to_owned()));
        } else if let Some((name, handlers)) = first
            .strip_prefix("Route::")
            .and_then(|named| named.split_once(".pattern()"))
        {
            let route = Route::ALL
                .iter()
                .find(|r| format!("{r:?}") == name)
                .unwrap_or_else(|| panic!("a .route( naming Route::{name}, which is no Route"));
            calls.push((route.pattern().to_owned(), handlers.to_owned()));
        } else {
            panic!(
                "a .route( whose path is neither a string literal nor a Route, which this guard cannot read: {args}"
            );
        }
        rest = &after[args.len()..];
    }
    calls
}

/// The text up to the parenthesis that closes an already open one,
/// skipping string literals.
fn up_to_closing_paren(text: &str) -> &str {
    let (mut depth, mut in_string, mut escaped) = (1, false, false);
    for (i, c) in text.char_indices() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return &text[..i];
                }
            }
            _ => {}
        }
    }
    panic!("a .route( call without its closing parenthesis")
}

/// Whether `text` calls a function or method named exactly `name`.
fn calls_fn(text: &str, name: &str) -> bool {
    let needle = format!("{name}(");
    text.match_indices(&needle).any(|(i, _)| {
        !text[..i]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

// ----- the people ---------------------------------------------------------

struct Cast {
    /// The customer the requests address; `tenant.token` is its
    /// Systempfleger:in's.
    tenant: Tenant,
    people: BTreeMap<Who, Person>,
}

impl Cast {
    async fn new(app: &TestApp) -> Cast {
        let tenant = app.contract_with_room(100).await;
        let other = app.contract_with_room(10).await;
        let mine = Some(tenant.customer_id);
        let mut people = BTreeMap::new();
        people.insert(
            Who::Systempfleger,
            Person {
                login: tenant.login.clone(),
                token: tenant.token.clone(),
            },
        );
        let roles: [(Who, Option<i64>, &[Role]); 7] = [
            (Who::Betreiber, None, &[Role::Betreiber]),
            (Who::ProviderFinanzen, None, &[Role::Finanzen]),
            (
                Who::Verfahrensverantwortlicher,
                mine,
                &[Role::Verfahrensverantwortlicher],
            ),
            (Who::Entwickler, mine, &[Role::Entwickler]),
            (Who::Finanzen, mine, &[Role::Finanzen]),
            (
                Who::OtherCustomer,
                Some(other.customer_id),
                &[
                    Role::Systempfleger,
                    Role::Verfahrensverantwortlicher,
                    Role::Entwickler,
                    Role::Finanzen,
                ],
            ),
            (Who::NoRoles, mine, &[]),
        ];
        for (who, customer_id, roles) in roles {
            people.insert(who, app.person(customer_id, roles).await);
        }
        Cast { tenant, people }
    }

    fn person(&self, who: Who) -> &Person {
        &self.people[&who]
    }

    fn token(&self, who: Who) -> &str {
        &self.person(who).token
    }
}

// ----- requests and answers -----------------------------------------------

enum Body {
    Empty,
    Json(Value),
    Form(Vec<(&'static str, String)>),
}

fn form(fields: &[(&'static str, &str)]) -> Body {
    Body::Form(fields.iter().map(|(k, v)| (*k, (*v).to_owned())).collect())
}

struct Answer {
    status: StatusCode,
    content_type: String,
    location: String,
    body: String,
}

impl Answer {
    async fn read(resp: Response) -> Answer {
        let header = |name| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        let (content_type, location) = (header(header::CONTENT_TYPE), header(header::LOCATION));
        Answer {
            status: resp.status(),
            content_type,
            location,
            body: resp.text().await.expect("a body"),
        }
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.short()))
    }

    /// The start of the body, for messages.
    fn short(&self) -> String {
        // Of a page, the text of its main part; of anything else, the body.
        let text = match self.body.find("<main") {
            Some(start) => {
                let main = &self.body[start..];
                let main = &main[..main.find("</main>").unwrap_or(main.len())];
                let mut text = String::new();
                let mut in_tag = false;
                for c in main.chars() {
                    match c {
                        '<' => in_tag = true,
                        '>' => {
                            in_tag = false;
                            text.push(' ');
                        }
                        _ if !in_tag => text.push(c),
                        _ => {}
                    }
                }
                text.split_whitespace().collect::<Vec<_>>().join(" ")
            }
            None => self.body.clone(),
        };
        let end = text.char_indices().nth(600).map_or(text.len(), |(i, _)| i);
        format!("{} {}", self.status, &text[..end])
    }

    /// Whether this is a problem+json of `status` and `kind`.
    fn problem(&self, status: StatusCode, kind: &str) -> Result<(), String> {
        let kind = format!("urn:kontor:problem:{kind}");
        let is = self.status == status
            && self.content_type == "application/problem+json"
            && serde_json::from_str::<Value>(&self.body).is_ok_and(|p| p["type"] == kind);
        is.then_some(())
            .ok_or_else(|| format!("expected {status} {kind}, got {}", self.short()))
    }

    /// Whether this is a page of `status` that says `says`.
    fn page(&self, status: StatusCode, says: &str) -> Result<(), String> {
        (self.status == status && self.body.contains(says))
            .then_some(())
            .ok_or_else(|| format!("expected {status} saying {says:?}, got {}", self.short()))
    }

    fn assert_problem(&self, status: StatusCode, kind: &str, context: &str) {
        if let Err(e) = self.problem(status, kind) {
            panic!("{context}: {e}");
        }
    }

    fn assert_page(&self, status: StatusCode, says: &str, context: &str) {
        if let Err(e) = self.page(status, says) {
            panic!("{context}: {e}");
        }
    }
}

/// A browser-like client: keeps cookies, does not follow redirects, knows
/// its session's CSRF token.
struct Browser {
    client: reqwest::Client,
    csrf: String,
}

// ----- what the database holds ----------------------------------------------

/// Everything a state-changing route may write, one line per row (without
/// what the provisioning layer reports in its own time).
const FINGERPRINT: [(&str, &str); 16] = [
    (
        "booking",
        "SELECT id, state || '|' || size || '|' || COALESCE(CAST(cancelled_at AS TEXT), '-') FROM bookings",
    ),
    (
        "period",
        "SELECT id, size || '|' || COALESCE(CAST(ends_at AS TEXT), '-') FROM booking_periods",
    ),
    ("environment", "SELECT id, lifecycle FROM environments"),
    (
        "release",
        "SELECT id, version || '|' || checkup FROM releases",
    ),
    (
        "approval",
        "SELECT id, state || '|' || COALESCE(CAST(decided_by AS TEXT), '-') || '|' || COALESCE(reason, '-') \
         || '|' || COALESCE(CAST(cosigned_by AS TEXT), '-') FROM approvals",
    ),
    (
        "deployment",
        "SELECT id, CAST(release_id AS TEXT) FROM deployments",
    ),
    ("customer", "SELECT id, slug || '|' || name FROM customers"),
    (
        "contract",
        "SELECT id, number || '|' || title || '|' || valid_until || '|' || CAST(max_millicpu AS TEXT) \
         || '|' || CAST(monthly_budget_cents AS TEXT) FROM contracts",
    ),
    (
        "application",
        "SELECT id, slug || '|' || name FROM applications",
    ),
    ("product", "SELECT id, slug || '|' || name FROM products"),
    (
        "size",
        "SELECT id, size || '|' || CAST(millicpu AS TEXT) || '|' || CAST(memory_mib AS TEXT) || '|' \
         || CAST(storage_gib AS TEXT) || '|' || CAST(pods AS TEXT) FROM product_sizes",
    ),
    (
        "price",
        "SELECT id, CAST(valid_from AS TEXT) || '|' || CAST(rate AS TEXT) FROM prices",
    ),
    (
        "token",
        "SELECT id, name || '|' || COALESCE(CAST(revoked_at AS TEXT), '-') FROM api_tokens",
    ),
    ("user", "SELECT id, login FROM users"),
    (
        "audit",
        "SELECT id, action FROM audit_log WHERE action NOT IN ('booking.provisioned', \
         'deployment.succeeded', 'deployment.failed')",
    ),
    (
        "outbox",
        "SELECT environment_id, CAST(generation AS TEXT) FROM provisioning_outbox",
    ),
];

#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    counts: Counts,
    rows: Vec<String>,
}

/// The database at rest: once the reconciler has worked off the outbox.
async fn snapshot(app: &TestApp) -> Snapshot {
    app.settle().await;
    let mut rows = Vec::new();
    for (what, sql) in FINGERPRINT {
        let found: Vec<(i64, String)> = sqlx::query_as(sql)
            .fetch_all(&app.db().pool)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        let mut found: Vec<String> = found
            .into_iter()
            .map(|(id, v)| format!("{what} {id}: {v}"))
            .collect();
        found.sort();
        rows.extend(found);
    }
    Snapshot {
        counts: app.counts().await,
        rows,
    }
}

fn assert_unchanged(before: &Snapshot, after: &Snapshot, what: &str) {
    if before == after {
        return;
    }
    let gone: Vec<&String> = before
        .rows
        .iter()
        .filter(|r| !after.rows.contains(r))
        .collect();
    let new: Vec<&String> = after
        .rows
        .iter()
        .filter(|r| !before.rows.contains(r))
        .collect();
    panic!(
        "{what} changed something: {:?} -> {:?}; rows gone {gone:#?}; rows new {new:#?}",
        before.counts, after.counts
    );
}

// ----- running the cells ----------------------------------------------------

/// Runs the cells of one half of the matrix and remembers which ran.
struct Run<'a> {
    app: &'a TestApp,
    cast: &'a Cast,
    surface: Surface,
    browsers: BTreeMap<Who, Browser>,
    done: BTreeSet<(usize, Who)>,
    /// Refusals that came otherwise than the table says; reported together
    /// at the end, so one run shows every wrong cell.
    failures: Vec<String>,
}

impl<'a> Run<'a> {
    fn api(app: &'a TestApp, cast: &'a Cast) -> Run<'a> {
        Run {
            app,
            cast,
            surface: Surface::Api,
            browsers: BTreeMap::new(),
            done: BTreeSet::new(),
            failures: Vec::new(),
        }
    }

    /// Logs everyone in through the demo login: the `/anmelden` cells.
    ///
    /// The demo login accepts only users marked `demo`; the test marks its
    /// people so. That is fine: the demo login is only the test's way to a
    /// browser session of a given user (what a session may do does not
    /// depend on how it began), and the OpenID Connect login has its own
    /// tests.
    async fn pages(app: &'a TestApp, cast: &'a Cast) -> Run<'a> {
        let mut run = Run {
            surface: Surface::Page,
            ..Run::api(app, cast)
        };
        let (index, rule) = rule(Surface::Page, "/anmelden", "demo login");
        for who in EVERYONE {
            let login = &cast.person(who).login;
            sqlx::query("UPDATE users SET demo = 1 WHERE login = $1")
                .bind(login)
                .execute(&app.db().pool)
                .await
                .expect("mark a demo user");
            let client = reqwest::Client::builder()
                .cookie_store(true)
                .redirect(Policy::none())
                .build()
                .expect("client");
            let url = |path: &str| format!("{}{path}", app.address);
            let login_page = client.get(url("/anmelden")).send().await.expect("GET");
            assert_eq!(login_page.status(), StatusCode::OK);
            let csrf = csrf_in(&login_page.text().await.expect("body"));
            let answer = Answer::read(
                client
                    .post(url("/anmelden"))
                    .form(&[("csrf", csrf.as_str()), ("login", login.as_str())])
                    .send()
                    .await
                    .expect("POST"),
            )
            .await;
            assert_eq!(
                answer.status.as_u16(),
                rule.ok,
                "{who:?} logs in: {}",
                answer.short()
            );
            assert_eq!(answer.location, "/uebersicht", "{who:?}");
            run.done.insert((index, who));
            // The token is renewed at login; every user may see their
            // tokens page, which carries the new one.
            let tokens = client.get(url("/api-tokens")).send().await.expect("GET");
            assert_eq!(tokens.status(), StatusCode::OK, "{who:?} on /api-tokens");
            let csrf = csrf_in(&tokens.text().await.expect("body"));
            run.browsers.insert(who, Browser { client, csrf });
        }
        run
    }

    async fn send(&self, who: Who, method: &str, path: &str, body: &Body) -> Answer {
        let url = format!("{}{path}", self.app.address);
        let request = match self.surface {
            Surface::Api => {
                let method = Method::from_bytes(method.as_bytes()).expect("a method");
                let request = self
                    .app
                    .request(method, path)
                    .bearer_auth(self.cast.token(who));
                match body {
                    Body::Empty => request,
                    Body::Json(v) => request.json(v),
                    Body::Form(_) => panic!("the API takes JSON"),
                }
            }
            Surface::Page => {
                assert_eq!(method, "POST", "forms are posted");
                let browser = &self.browsers[&who];
                let mut fields = vec![("csrf", browser.csrf.clone())];
                match body {
                    Body::Empty => {}
                    Body::Form(f) => fields.extend(f.iter().cloned()),
                    Body::Json(_) => panic!("the pages take forms"),
                }
                browser.client.post(url).form(&fields)
            }
        };
        Answer::read(request.send().await.expect("POST")).await
    }

    /// Every role that may not use the route tries, on the same object;
    /// each gets the refusal the table says, and nothing changes.
    async fn refused(&mut self, path: &str, case: &str, id: Option<i64>, body: &Body) {
        let (index, rule) = rule(self.surface, path, case);
        let concrete = concrete(path, id);
        let before = snapshot(self.app).await;
        for who in EVERYONE {
            if rule.may.contains(&who) {
                continue;
            }
            let answer = self.send(who, rule.method, &concrete, body).await;
            let verdict = match (self.surface, refusal_for(rule, who)) {
                (Surface::Api, Refused::Forbidden) => {
                    answer.problem(StatusCode::FORBIDDEN, "forbidden")
                }
                (Surface::Api, Refused::NotFound) => {
                    answer.problem(StatusCode::NOT_FOUND, "not-found")
                }
                (Surface::Page, Refused::Forbidden) => {
                    answer.page(StatusCode::FORBIDDEN, "Keine Berechtigung")
                }
                (Surface::Page, Refused::NotFound) => {
                    answer.page(StatusCode::NOT_FOUND, "Nicht gefunden")
                }
                (Surface::Page, Refused::UnknownApplication) => answer.page(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Dieses Verfahren gibt es nicht.",
                ),
                (Surface::Api, Refused::UnknownApplication) => {
                    unreachable!("the API has no forms")
                }
            };
            let after = snapshot(self.app).await;
            let cell = format!("{who:?} × {} {concrete} ({case})", rule.method);
            if let Err(e) = verdict {
                self.failures.push(format!("{cell}: {e}"));
            }
            if after != before {
                // What else this cell's requests see is no longer what the
                // table assumes: stop here.
                assert_unchanged(&before, &after, &cell);
            }
            self.done.insert((index, who));
        }
    }

    /// A role that may use the route does; returns the answer of success.
    async fn allowed(
        &mut self,
        path: &str,
        case: &str,
        who: Who,
        id: Option<i64>,
        body: &Body,
    ) -> Answer {
        let (index, rule) = rule(self.surface, path, case);
        assert!(
            rule.may.contains(&who),
            "the table does not let {who:?} use {path} ({case})"
        );
        let concrete = concrete(path, id);
        let answer = self.send(who, rule.method, &concrete, body).await;
        assert_eq!(
            answer.status.as_u16(),
            rule.ok,
            "{who:?} on {} {concrete} ({case}): {}",
            rule.method,
            answer.short()
        );
        self.done.insert((index, who));
        answer
    }

    /// Every cell of this half of the table ran.
    fn assert_complete(&self) {
        let missing: Vec<String> = RULES
            .iter()
            .enumerate()
            .filter(|(_, r)| r.surface == self.surface)
            .flat_map(|(i, r)| {
                EVERYONE
                    .into_iter()
                    .filter(move |who| !self.done.contains(&(i, *who)))
                    .map(move |who| format!("{who:?} × {} {} ({})", r.method, r.path, r.case))
            })
            .collect();
        assert!(missing.is_empty(), "cells no test ran: {missing:#?}");
        assert!(
            self.failures.is_empty(),
            "cells of the role matrix that answered otherwise than the table says: {:#?}",
            self.failures
        );
    }
}

fn concrete(path: &str, id: Option<i64>) -> String {
    match id {
        Some(id) => {
            assert!(path.contains("{id}"), "{path} takes no id");
            path.replace("{id}", &id.to_string())
        }
        None => {
            assert!(!path.contains("{id}"), "{path} needs an id");
            path.to_owned()
        }
    }
}

// ----- fixtures -------------------------------------------------------------

/// An image on the default allow-list, pinned by digest, different for
/// every `n`.
fn image(n: u64) -> String {
    format!("registry.rz.example/kfz/portal@sha256:{n:064x}")
}

/// A further application of the tenant's customer (on a contract of its
/// own), nothing booked.
async fn another_application(app: &TestApp, t: &Tenant) -> i64 {
    app.second_contract(t, "nutzung", "", ("2020-01-01", "2099-12-31"))
        .await
        .application_id
}

async fn deliver(app: &TestApp, token: &str, application_id: i64, version: &str, n: u64) -> i64 {
    let resp = app
        .post_json(
            &format!("/api/v1/applications/{application_id}/releases"),
            token,
            &json!({"version": version, "image": image(n)}),
        )
        .await;
    let release = Answer::read(resp).await;
    assert_eq!(release.status, StatusCode::CREATED, "{}", release.short());
    assert_eq!(
        release.json()["checkup"],
        "bestanden",
        "{}",
        release.short()
    );
    id(&release.json())
}

async fn request(app: &TestApp, token: &str, application_id: i64, release: i64, to: &str) -> i64 {
    let resp = app
        .post_json(
            &format!("/api/v1/applications/{application_id}/promotions"),
            token,
            &json!({"release_id": release, "to_stage": to}),
        )
        .await;
    let p = Answer::read(resp).await;
    assert_eq!(p.status, StatusCode::CREATED, "{}", p.short());
    id(&p.json())
}

async fn approve(app: &TestApp, token: &str, promotion: i64) {
    let resp = app
        .post(&format!("/api/v1/promotions/{promotion}/approve"), token)
        .await;
    let p = Answer::read(resp).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.short());
    assert_eq!(p.json()["state"], "genehmigt");
}

async fn withdraw(app: &TestApp, token: &str, promotion: i64) {
    let resp = app
        .post(&format!("/api/v1/promotions/{promotion}/withdraw"), token)
        .await;
    let p = Answer::read(resp).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.short());
    assert_eq!(p.json()["state"], "zurueckgezogen");
}

async fn retry(app: &TestApp, token: &str, deployment: i64) {
    let resp = app
        .post(&format!("/api/v1/deployments/{deployment}/retry"), token)
        .await;
    let d = Answer::read(resp).await;
    assert_eq!(d.status, StatusCode::CREATED, "{}", d.short());
}

/// The latest deployment of an application in a stage, once decided:
/// `(id, release, state)`.
async fn decided(app: &TestApp, application_id: i64, stage: &str) -> (i64, i64, String) {
    until(
        &format!("the latest deployment of {application_id} in {stage} is decided"),
        async || {
            let latest: Option<(i64, i64, String)> = sqlx::query_as(
                "SELECT d.id, d.release_id, d.state FROM deployments d \
                 JOIN environments e ON e.id = d.environment_id \
                 WHERE e.application_id = $1 AND e.stage = $2 ORDER BY d.id DESC LIMIT 1",
            )
            .bind(application_id)
            .bind(stage)
            .fetch_optional(&app.db().pool)
            .await
            .expect("deployments");
            latest.filter(|(_, _, state)| state != "laeuft")
        },
    )
    .await
}

/// Waits until `release` runs in `stage`.
async fn running(app: &TestApp, application_id: i64, stage: &str, release: i64) {
    let (_, r, state) = decided(app, application_id, stage).await;
    assert_eq!(
        (r, state.as_str()),
        (release, "erfolgreich"),
        "release {release} in {stage}"
    );
}

/// Waits until the latest deployment in `stage` has failed; returns it.
async fn failed(app: &TestApp, application_id: i64, stage: &str) -> i64 {
    let (id, _, state) = decided(app, application_id, stage).await;
    assert_eq!(state, "fehlgeschlagen", "deployment {id} in {stage}");
    id
}

async fn one_value<T>(app: &TestApp, sql: &'static str, bind: i64) -> T
where
    T: Send + Unpin + for<'r> sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    let (value,): (T,) = sqlx::query_as(sql)
        .bind(bind)
        .fetch_one(&app.db().pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    value
}

async fn latest_promotion(app: &TestApp, application_id: i64) -> i64 {
    one_value(
        app,
        "SELECT MAX(id) FROM promotions WHERE application_id = $1",
        application_id,
    )
    .await
}

async fn booking_state(app: &TestApp, booking: i64) -> String {
    one_value(
        app,
        "SELECT state || '|' || size FROM bookings WHERE id = $1",
        booking,
    )
    .await
}

async fn promotion_state(app: &TestApp, promotion: i64) -> String {
    one_value(app, "SELECT state FROM approvals WHERE id = $1", promotion).await
}

async fn lifecycle(app: &TestApp, environment: i64) -> String {
    one_value(
        app,
        "SELECT lifecycle FROM environments WHERE id = $1",
        environment,
    )
    .await
}

/// The tenant's booking of container-namespace S in `stage`, provisioned.
async fn booked(app: &TestApp, t: &Tenant, application_id: i64, stage: &str) -> i64 {
    let b = id(&app
        .book_ok(&t.token, application_id, stage, "container-namespace", "S")
        .await);
    app.settle().await;
    b
}

// ----- the API half -----------------------------------------------------------

/// With the provider's cosign setting on, so that the second signature of a
/// budget increase has its cells too.
async fn every_api_route_answers_each_role_as_the_roles_table_says(backend: Backend) {
    let app = TestApp::spawn_configured(backend, true, |s| s.kontingent_budget_cosign = true).await;
    let cast = Cast::new(&app).await;
    let t = &cast.tenant;
    let sp = cast.token(Who::Systempfleger);
    let dev = cast.token(Who::Entwickler);
    let mut run = Run::api(&app, &cast);

    // Bookings: one booking is booked, resized and cancelled; then its
    // environment, empty now, is dissolved.
    let new_booking = Body::Json(json!({
        "application_id": t.application_id, "stage": "vorpruefung",
        "product": "container-namespace", "size": "S",
    }));
    run.refused("/api/v1/bookings", "", None, &new_booking)
        .await;
    let created = run
        .allowed(
            "/api/v1/bookings",
            "",
            Who::Systempfleger,
            None,
            &new_booking,
        )
        .await
        .json();
    assert_eq!(created["application_id"], t.application_id, "{created}");
    let booking = id(&created);
    app.settle().await;

    let resize = Body::Json(json!({"size": "M"}));
    run.refused("/api/v1/bookings/{id}/resize", "", Some(booking), &resize)
        .await;
    let resized = run
        .allowed(
            "/api/v1/bookings/{id}/resize",
            "",
            Who::Systempfleger,
            Some(booking),
            &resize,
        )
        .await
        .json();
    assert_eq!(resized["size"], "M", "{resized}");

    run.refused(
        "/api/v1/bookings/{id}/cancel",
        "",
        Some(booking),
        &Body::Empty,
    )
    .await;
    let cancelled = run
        .allowed(
            "/api/v1/bookings/{id}/cancel",
            "",
            Who::Systempfleger,
            Some(booking),
            &Body::Empty,
        )
        .await
        .json();
    assert_eq!(cancelled["state"], "gekuendigt", "{cancelled}");

    let environment = app.environment_of(booking).await;
    app.settle().await;
    run.refused(
        "/api/v1/environments/{id}/dissolve",
        "",
        Some(environment),
        &Body::Empty,
    )
    .await;
    let dissolved = run
        .allowed(
            "/api/v1/environments/{id}/dissolve",
            "",
            Who::Systempfleger,
            Some(environment),
            &Body::Empty,
        )
        .await
        .json();
    assert_eq!(dissolved["lifecycle"], "aufgeloest", "{dissolved}");

    // Releases and promotions, on an application booked in every stage.
    let chain = another_application(&app, t).await;
    for stage in ALL_STAGES {
        booked(&app, t, chain, stage).await;
    }
    let deliveries = Some(chain);
    run.refused(
        "/api/v1/applications/{id}/releases",
        "",
        deliveries,
        &Body::Json(json!({"version": "0.9.0", "image": image(9)})),
    )
    .await;
    for (who, version, n) in [
        (Who::Systempfleger, "1.0.0", 1),
        (Who::Entwickler, "1.1.0", 2),
    ] {
        let release = run
            .allowed(
                "/api/v1/applications/{id}/releases",
                "",
                who,
                deliveries,
                &Body::Json(json!({"version": version, "image": image(n)})),
            )
            .await
            .json();
        assert_eq!(release["checkup"], "bestanden", "{release}");
    }
    let release: i64 = one_value(
        &app,
        "SELECT id FROM releases WHERE application_id = $1 AND version = '1.1.0'",
        chain,
    )
    .await;
    running(&app, chain, "vorpruefung", release).await;

    let to_abnahme = Body::Json(json!({"release_id": release, "to_stage": "abnahme"}));
    run.refused(
        "/api/v1/applications/{id}/promotions",
        "",
        Some(chain),
        &to_abnahme,
    )
    .await;
    let by_sp = run
        .allowed(
            "/api/v1/applications/{id}/promotions",
            "",
            Who::Systempfleger,
            Some(chain),
            &to_abnahme,
        )
        .await
        .json();
    // One open request per step: the first goes before the second comes.
    withdraw(&app, sp, id(&by_sp)).await;
    let by_dev = id(&run
        .allowed(
            "/api/v1/applications/{id}/promotions",
            "",
            Who::Entwickler,
            Some(chain),
            &to_abnahme,
        )
        .await
        .json());

    run.refused(
        "/api/v1/promotions/{id}/withdraw",
        OWN_REQUEST,
        Some(by_dev),
        &Body::Empty,
    )
    .await;
    let withdrawn = run
        .allowed(
            "/api/v1/promotions/{id}/withdraw",
            OWN_REQUEST,
            Who::Entwickler,
            Some(by_dev),
            &Body::Empty,
        )
        .await
        .json();
    assert_eq!(withdrawn["state"], "zurueckgezogen", "{withdrawn}");

    // Into Abnahme: approved by the Systempfleger:in.
    let p = request(&app, dev, chain, release, "abnahme").await;
    run.refused(
        "/api/v1/promotions/{id}/approve",
        INTO_ABNAHME_OR_SCHULUNG,
        Some(p),
        &Body::Empty,
    )
    .await;
    let approved = run
        .allowed(
            "/api/v1/promotions/{id}/approve",
            INTO_ABNAHME_OR_SCHULUNG,
            Who::Systempfleger,
            Some(p),
            &Body::Empty,
        )
        .await
        .json();
    assert_eq!(approved["state"], "genehmigt", "{approved}");
    running(&app, chain, "abnahme", release).await;

    // Four eyes: the Systempfleger:in's own request is decided by someone
    // else; approving or rejecting it is refused as such and writes nothing.
    let own = request(&app, sp, chain, release, "schulung").await;
    let before = snapshot(&app).await;
    for (verb, body) in [
        ("approve", Body::Empty),
        ("reject", Body::Json(json!({"reason": "eigener Antrag"}))),
    ] {
        let answer = run
            .send(
                Who::Systempfleger,
                "POST",
                &format!("/api/v1/promotions/{own}/{verb}"),
                &body,
            )
            .await;
        answer.assert_problem(
            StatusCode::FORBIDDEN,
            "four-eyes",
            &format!("{verb} of one's own request"),
        );
        assert_unchanged(&before, &snapshot(&app).await, verb);
    }
    withdraw(&app, sp, own).await;

    // Into Schulung: rejected by the Systempfleger:in, then approved.
    let reason = Body::Json(json!({"reason": "Schulungsunterlagen fehlen"}));
    let p = request(&app, dev, chain, release, "schulung").await;
    run.refused(
        "/api/v1/promotions/{id}/reject",
        INTO_ABNAHME_OR_SCHULUNG,
        Some(p),
        &reason,
    )
    .await;
    let rejected = run
        .allowed(
            "/api/v1/promotions/{id}/reject",
            INTO_ABNAHME_OR_SCHULUNG,
            Who::Systempfleger,
            Some(p),
            &reason,
        )
        .await
        .json();
    assert_eq!(rejected["state"], "abgelehnt", "{rejected}");
    let p = request(&app, dev, chain, release, "schulung").await;
    approve(&app, sp, p).await;
    running(&app, chain, "schulung", release).await;

    // Into Produktion: only the Verfahrensverantwortliche:r decides — not
    // the Systempfleger:in.
    let p = request(&app, dev, chain, release, "produktion").await;
    run.refused(
        "/api/v1/promotions/{id}/reject",
        INTO_PRODUKTION,
        Some(p),
        &reason,
    )
    .await;
    let rejected = run
        .allowed(
            "/api/v1/promotions/{id}/reject",
            INTO_PRODUKTION,
            Who::Verfahrensverantwortlicher,
            Some(p),
            &reason,
        )
        .await
        .json();
    assert_eq!(rejected["state"], "abgelehnt", "{rejected}");
    let p = request(&app, dev, chain, release, "produktion").await;
    run.refused(
        "/api/v1/promotions/{id}/approve",
        INTO_PRODUKTION,
        Some(p),
        &Body::Empty,
    )
    .await;
    let approved = run
        .allowed(
            "/api/v1/promotions/{id}/approve",
            INTO_PRODUKTION,
            Who::Verfahrensverantwortlicher,
            Some(p),
            &Body::Empty,
        )
        .await
        .json();
    assert_eq!(approved["state"], "genehmigt", "{approved}");
    running(&app, chain, "produktion", release).await;

    // Retries: on an application with nothing booked, a delivery fails to
    // deploy, and so does every retry.
    let bare = another_application(&app, t).await;
    let release = deliver(&app, dev, bare, "2.0.0", 20).await;
    let first = failed(&app, bare, "vorpruefung").await;
    run.refused(
        "/api/v1/deployments/{id}/retry",
        IN_VORPRUEFUNG,
        Some(first),
        &Body::Empty,
    )
    .await;
    let mut latest = first;
    for who in [Who::Systempfleger, Who::Entwickler] {
        let again = run
            .allowed(
                "/api/v1/deployments/{id}/retry",
                IN_VORPRUEFUNG,
                who,
                Some(latest),
                &Body::Empty,
            )
            .await
            .json();
        assert_eq!(again["release_id"], release, "{again}");
        latest = failed(&app, bare, "vorpruefung").await;
        assert_eq!(latest, id(&again));
    }
    // Booked in Vorprüfung it runs there; approved into Abnahme, where
    // nothing is booked, it fails there.
    booked(&app, t, bare, "vorpruefung").await;
    retry(&app, sp, latest).await;
    running(&app, bare, "vorpruefung", release).await;
    let p = request(&app, dev, bare, release, "abnahme").await;
    approve(&app, sp, p).await;
    let in_abnahme = failed(&app, bare, "abnahme").await;
    run.refused(
        "/api/v1/deployments/{id}/retry",
        IN_A_LATER_STAGE,
        Some(in_abnahme),
        &Body::Empty,
    )
    .await;
    let again = run
        .allowed(
            "/api/v1/deployments/{id}/retry",
            IN_A_LATER_STAGE,
            Who::Systempfleger,
            Some(in_abnahme),
            &Body::Empty,
        )
        .await
        .json();
    assert_eq!(again["stage"], "abnahme", "{again}");

    kontingent_requests(&mut run, &app, &cast).await;
    account_and_customers(&mut run, &cast).await;
    run.assert_complete();
}

/// The API twins of the account page and the Betreiber's customer pages.
async fn account_and_customers(run: &mut Run<'_>, cast: &Cast) {
    let expires = kontor::domain::calendar::berlin_date(kontor::db::now())
        .checked_add(jiff::Span::new().days(30))
        .expect("a date")
        .to_string();
    let new_token = Body::Json(json!({"name": "matrix", "expires_on": expires}));
    let mut systempfleger_token = None;
    for who in EVERYONE {
        let made = run
            .allowed("/api/v1/tokens", "", who, None, &new_token)
            .await
            .json();
        assert!(made["secret"].is_string(), "{who:?}: {made}");
        if who == Who::Systempfleger {
            systempfleger_token = Some(id(&made));
        }
    }
    let token = systempfleger_token.expect("the Systempfleger:in's token");
    run.refused(
        "/api/v1/tokens/{id}/revoke",
        OWN_TOKEN,
        Some(token),
        &Body::Empty,
    )
    .await;
    let revoked = run
        .allowed(
            "/api/v1/tokens/{id}/revoke",
            OWN_TOKEN,
            Who::Systempfleger,
            Some(token),
            &Body::Empty,
        )
        .await
        .json();
    assert_eq!(revoked["active"], false, "{revoked}");

    let slug = format!("matrix-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let new_customer = Body::Json(json!({"slug": slug, "name": "Matrixamt"}));
    run.refused("/api/v1/customers", "", None, &new_customer)
        .await;
    let created = run
        .allowed("/api/v1/customers", "", Who::Betreiber, None, &new_customer)
        .await
        .json();
    let rename = Body::Json(json!({"name": "Matrixamt (neu)"}));
    // The tenant's own customer: its people see it, and still may not rename it.
    run.refused(
        "/api/v1/customers/{id}",
        "",
        Some(cast.tenant.customer_id),
        &rename,
    )
    .await;
    let renamed = run
        .allowed(
            "/api/v1/customers/{id}",
            "",
            Who::Betreiber,
            Some(id(&created)),
            &rename,
        )
        .await
        .json();
    assert_eq!(renamed["name"], "Matrixamt (neu)", "{renamed}");

    let terms = json!({
        "number": format!("DLV-M-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]),
        "title": "Matrixvertrag", "valid_from": "2026-01-01", "valid_until": "2099-12-31",
        "kostenstelle": "1", "haushaltsstelle": "2", "leitweg_id": "05315000-44",
        "billing_model": "nutzung",
        "kontingent": {"vcpu_millicores": 1000, "memory_mib": 1024, "storage_gib": 10,
                       "monthly_budget_cents": 10000},
    });
    let mut new_contract = terms.clone();
    new_contract["customer_id"] = json!(cast.tenant.customer_id);
    let new_contract = Body::Json(new_contract);
    run.refused("/api/v1/contracts", "", None, &new_contract)
        .await;
    let contract = run
        .allowed("/api/v1/contracts", "", Who::Betreiber, None, &new_contract)
        .await
        .json();
    let new_application = Body::Json(json!({"contract_id": id(&contract),
        "slug": format!("mx{}", &uuid::Uuid::new_v4().simple().to_string()[..8]), "name": "Matrixverfahren"}));
    run.refused(
        "/api/v1/customers/{id}/applications",
        "",
        Some(cast.tenant.customer_id),
        &new_application,
    )
    .await;
    let application = run
        .allowed(
            "/api/v1/customers/{id}/applications",
            "",
            Who::Betreiber,
            Some(cast.tenant.customer_id),
            &new_application,
        )
        .await
        .json();
    assert_eq!(application["contract_id"], id(&contract), "{application}");
    let rename = Body::Json(json!({"name": "Matrixverfahren (neu)"}));
    run.refused(
        "/api/v1/applications/{id}",
        "",
        Some(id(&application)),
        &rename,
    )
    .await;
    let renamed = run
        .allowed(
            "/api/v1/applications/{id}",
            "",
            Who::Betreiber,
            Some(id(&application)),
            &rename,
        )
        .await
        .json();
    assert_eq!(renamed["name"], "Matrixverfahren (neu)", "{renamed}");
    let back = Body::Json(json!({"contract_id": cast.tenant.contract_id}));
    run.refused(
        "/api/v1/applications/{id}/move",
        "",
        Some(id(&application)),
        &back,
    )
    .await;
    let moved = run
        .allowed(
            "/api/v1/applications/{id}/move",
            "",
            Who::Betreiber,
            Some(id(&application)),
            &back,
        )
        .await
        .json();
    assert_eq!(moved["contract_id"], cast.tenant.contract_id, "{moved}");
    let mut changed = terms.clone();
    changed["title"] = json!("Matrixvertrag (neu)");
    let changed = Body::Json(changed);
    run.refused("/api/v1/contracts/{id}", "", Some(id(&contract)), &changed)
        .await;
    let replaced = run
        .allowed(
            "/api/v1/contracts/{id}",
            "",
            Who::Betreiber,
            Some(id(&contract)),
            &changed,
        )
        .await
        .json();
    assert_eq!(replaced["title"], "Matrixvertrag (neu)", "{replaced}");

    let tomorrow = kontor::domain::calendar::berlin_date(kontor::db::now())
        .tomorrow()
        .expect("a date")
        .to_string();
    let new_price = Body::Json(json!({"product": "persistent-storage", "size": "XL",
        "valid_from": tomorrow, "price_per_hour": "9.9999"}));
    run.refused("/api/v1/catalog/prices", "", None, &new_price)
        .await;
    let price = run
        .allowed(
            "/api/v1/catalog/prices",
            "",
            Who::Betreiber,
            None,
            &new_price,
        )
        .await
        .json();
    let change = Body::Json(json!({"price_per_hour": "8.8888"}));
    run.refused("/api/v1/catalog/prices/{id}", "", Some(id(&price)), &change)
        .await;
    let changed = run
        .allowed(
            "/api/v1/catalog/prices/{id}",
            "",
            Who::Betreiber,
            Some(id(&price)),
            &change,
        )
        .await
        .json();
    assert_eq!(changed["price_per_hour"], "8.8888", "{changed}");
}

/// The same through the forms of the pages.
async fn kontingent_request_forms(run: &mut Run<'_>, app: &TestApp, cast: &Cast) {
    let t = &cast.tenant;
    let ask = form(&[
        ("vcpu", "300"),
        ("monthly_budget", "990000,00"),
        ("reason", "Lasttest vor der Einführung"),
    ]);
    let path = "/vertraege/{id}/kontingent-antrag";
    run.refused(path, "", Some(t.contract_id), &ask).await;
    let asked = run
        .allowed(path, "", Who::Systempfleger, Some(t.contract_id), &ask)
        .await;
    assert_eq!(asked.location, "/freigaben?hinweis=kontingent-beantragt");
    let open = || async {
        one_value::<i64>(
            app,
            "SELECT MAX(id) FROM approvals WHERE kind = 'kontingent' AND customer_id = $1",
            t.customer_id,
        )
        .await
    };
    let raise = open().await;
    let cosign = "/kontingent-antraege/{id}/mitzeichnen";
    run.refused(cosign, BUDGET_INCREASE, Some(raise), &Body::Empty)
        .await;
    run.allowed(
        cosign,
        BUDGET_INCREASE,
        Who::Finanzen,
        Some(raise),
        &Body::Empty,
    )
    .await;
    let approve = "/kontingent-antraege/{id}/genehmigen";
    let granted = form(&[("vcpu", "250"), ("monthly_budget", "990000,00")]);
    run.refused(approve, "", Some(raise), &granted).await;
    run.allowed(approve, "", Who::Betreiber, Some(raise), &granted)
        .await;
    let ceiling: i64 = one_value(
        app,
        "SELECT max_millicpu FROM contracts WHERE id = $1",
        t.contract_id,
    )
    .await;
    assert_eq!(ceiling, 250_000, "the Betreiber's other value counts");

    let again = form(&[("vcpu", "400"), ("reason", "Noch mehr")]);
    run.allowed(path, "", Who::Systempfleger, Some(t.contract_id), &again)
        .await;
    let second = open().await;
    let reject = "/kontingent-antraege/{id}/ablehnen";
    let reason = form(&[("reason", "Nicht im Haushalt.")]);
    run.refused(reject, "", Some(second), &reason).await;
    run.allowed(reject, "", Who::Betreiber, Some(second), &reason)
        .await;

    run.allowed(path, "", Who::Systempfleger, Some(t.contract_id), &again)
        .await;
    let third = open().await;
    let withdraw = "/kontingent-antraege/{id}/zurueckziehen";
    run.refused(withdraw, OWN_KONTINGENT_REQUEST, Some(third), &Body::Empty)
        .await;
    run.allowed(
        withdraw,
        OWN_KONTINGENT_REQUEST,
        Who::Systempfleger,
        Some(third),
        &Body::Empty,
    )
    .await;
    for (id, state) in [
        (raise, "genehmigt"),
        (second, "abgelehnt"),
        (third, "zurueckgezogen"),
    ] {
        let found: String = one_value(app, "SELECT state FROM approvals WHERE id = $1", id).await;
        assert_eq!(found, state, "request {id}");
    }
}

/// A Kontingent request that raises the budget is asked, co-signed and
/// approved; a second one rejected, a third withdrawn.
async fn kontingent_requests(run: &mut Run<'_>, app: &TestApp, cast: &Cast) {
    let t = &cast.tenant;
    let asks = |budget: i64| {
        Body::Json(json!({
            "kontingent": {"vcpu_millicores": 200_000, "monthly_budget_cents": budget},
            "reason": "Lasttest vor der Einführung",
        }))
    };
    let path = "/api/v1/contracts/{id}/kontingent-requests";
    run.refused(path, "", Some(t.contract_id), &asks(99_000_000))
        .await;
    let raise = run
        .allowed(
            path,
            "",
            Who::Systempfleger,
            Some(t.contract_id),
            &asks(99_000_000),
        )
        .await
        .json();
    assert_eq!(raise["awaits_cosign"], true, "{raise}");
    let raise = id(&raise);
    let cosign = "/api/v1/kontingent-requests/{id}/cosign";
    run.refused(cosign, BUDGET_INCREASE, Some(raise), &Body::Empty)
        .await;
    run.allowed(
        cosign,
        BUDGET_INCREASE,
        Who::Finanzen,
        Some(raise),
        &Body::Empty,
    )
    .await;
    let approve = "/api/v1/kontingent-requests/{id}/approve";
    run.refused(approve, "", Some(raise), &Body::Empty).await;
    let approved = run
        .allowed(approve, "", Who::Betreiber, Some(raise), &Body::Empty)
        .await
        .json();
    assert_eq!(approved["state"], "genehmigt", "{approved}");

    let sp = cast.token(Who::Systempfleger);
    let open = |budget| async move {
        let resp = app
            .post_json(
                &concrete(path, Some(t.contract_id)),
                sp,
                &json!({"kontingent": {"vcpu_millicores": 300_000}, "reason": budget}),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        id(&resp.json::<Value>().await.expect("JSON"))
    };
    let second = open("Noch mehr").await;
    let reject = "/api/v1/kontingent-requests/{id}/reject";
    let reason = Body::Json(json!({"reason": "Nicht im Haushalt."}));
    run.refused(reject, "", Some(second), &reason).await;
    let rejected = run
        .allowed(reject, "", Who::Betreiber, Some(second), &reason)
        .await
        .json();
    assert_eq!(rejected["state"], "abgelehnt", "{rejected}");

    let third = open("Doch nicht").await;
    let withdraw = "/api/v1/kontingent-requests/{id}/withdraw";
    run.refused(withdraw, OWN_KONTINGENT_REQUEST, Some(third), &Body::Empty)
        .await;
    let withdrawn = run
        .allowed(
            withdraw,
            OWN_KONTINGENT_REQUEST,
            Who::Systempfleger,
            Some(third),
            &Body::Empty,
        )
        .await
        .json();
    assert_eq!(withdrawn["state"], "zurueckgezogen", "{withdrawn}");
}

// ----- the page half ----------------------------------------------------------

/// With the cosign setting on, as the API half.
async fn every_page_form_answers_each_role_as_the_roles_table_says(backend: Backend) {
    let app = TestApp::spawn_configured(backend, true, |s| s.kontingent_budget_cosign = true).await;
    let cast = Cast::new(&app).await;
    let t = &cast.tenant;
    let sp = cast.token(Who::Systempfleger);
    let dev = cast.token(Who::Entwickler);
    let mut run = Run::pages(&app, &cast).await;

    // API tokens: everyone makes their own; only the owner revokes one.
    let expires = kontor::domain::calendar::berlin_date(kontor::db::now())
        .checked_add(jiff::Span::new().days(30))
        .expect("a date")
        .to_string();
    for who in EVERYONE {
        let answer = run
            .allowed(
                "/api-tokens",
                "",
                who,
                None,
                &form(&[("name", "matrix"), ("expires_on", &expires)]),
            )
            .await;
        assert!(
            answer.body.contains("matrix"),
            "{who:?}: {}",
            answer.short()
        );
    }
    let token: i64 = sqlx::query_as::<_, (i64,)>(
        "SELECT t.id FROM api_tokens t JOIN users u ON u.id = t.user_id \
         WHERE u.login = $1 AND t.name = 'matrix'",
    )
    .bind(&cast.person(Who::Systempfleger).login)
    .fetch_one(&app.db().pool)
    .await
    .expect("the Systempfleger:in's new token")
    .0;
    run.refused(
        "/api-tokens/{id}/widerrufen",
        OWN_TOKEN,
        Some(token),
        &Body::Empty,
    )
    .await;
    let revoked = run
        .allowed(
            "/api-tokens/{id}/widerrufen",
            OWN_TOKEN,
            Who::Systempfleger,
            Some(token),
            &Body::Empty,
        )
        .await;
    assert_eq!(revoked.location, "/api-tokens");
    let revoked_at: Option<i64> = one_value(
        &app,
        "SELECT revoked_at FROM api_tokens WHERE id = $1",
        token,
    )
    .await;
    assert!(revoked_at.is_some(), "the token is revoked");

    // Benachrichtigungen: everyone chooses their own e-mails.
    for who in EVERYONE {
        let answer = run
            .allowed(
                "/einstellungen/benachrichtigungen",
                "",
                who,
                None,
                &form(&[("email", "approval.waiting"), ("email", "budget.exceeded")]),
            )
            .await;
        assert!(
            answer.body.contains("Gespeichert"),
            "{who:?}: {}",
            answer.short()
        );
    }
    // Webhooks: the Betreiber and the Systempfleger:innen add them (to a
    // loopback port nothing listens on); the tenant's is removed by the
    // Betreiber or its Systempfleger:in.
    let tenant_field = t.customer_id.to_string();
    let hook = form(&[
        ("url", "https://127.0.0.1:9/kontor"),
        ("description", "Rollenmatrix"),
        ("customer", &tenant_field),
    ]);
    run.refused("/webhooks", "", None, &hook).await;
    for who in WEBHOOK_KEEPERS {
        let answer = run.allowed("/webhooks", "", *who, None, &hook).await;
        assert!(answer.body.contains("whsec_"), "{who:?}: the secret, once");
    }
    let webhook: i64 =
        sqlx::query_as::<_, (i64,)>("SELECT MAX(id) FROM webhooks WHERE customer_id = $1")
            .bind(t.customer_id)
            .fetch_one(&app.db().pool)
            .await
            .expect("the tenant's webhook")
            .0;
    run.refused("/webhooks/{id}/entfernen", "", Some(webhook), &Body::Empty)
        .await;
    for who in CUSTOMER_WEBHOOKS {
        let one: i64 = sqlx::query_as::<_, (i64,)>(
            "SELECT MAX(id) FROM webhooks WHERE customer_id = $1 AND deleted_at IS NULL",
        )
        .bind(t.customer_id)
        .fetch_one(&app.db().pool)
        .await
        .expect("a webhook of the tenant")
        .0;
        let answer = run
            .allowed(
                "/webhooks/{id}/entfernen",
                "",
                *who,
                Some(one),
                &Body::Empty,
            )
            .await;
        assert_eq!(answer.location, "/webhooks");
    }

    // The shop: the confirmation step writes nothing, the booking one.
    let application = t.application_id.to_string();
    let booking_form = form(&[
        ("application_id", &application),
        ("stage", "vorpruefung"),
        ("product", "container-namespace"),
        ("size", "S"),
    ]);
    run.refused("/katalog/pruefen", "", None, &booking_form)
        .await;
    let before = snapshot(&app).await;
    let confirm = run
        .allowed(
            "/katalog/pruefen",
            "",
            Who::Systempfleger,
            None,
            &booking_form,
        )
        .await;
    assert!(
        confirm.body.contains("/buchungen/neu"),
        "{}",
        confirm.short()
    );
    assert_unchanged(&before, &snapshot(&app).await, "the booking confirmation");
    run.refused("/buchungen/neu", "", None, &booking_form).await;
    let booked_page = run
        .allowed(
            "/buchungen/neu",
            "",
            Who::Systempfleger,
            None,
            &booking_form,
        )
        .await;
    let booking: i64 = booked_page
        .location
        .strip_prefix("/buchungen/")
        .and_then(|rest| rest.strip_suffix("?gebucht=1"))
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("where the booking went: {}", booked_page.location));
    app.settle().await;

    // Größe ändern (confirmation, then the change) and Kündigen.
    let bigger = form(&[("size", "M")]);
    run.refused(
        "/buchungen/{id}/groesse/pruefen",
        "",
        Some(booking),
        &bigger,
    )
    .await;
    let before = snapshot(&app).await;
    run.allowed(
        "/buchungen/{id}/groesse/pruefen",
        "",
        Who::Systempfleger,
        Some(booking),
        &bigger,
    )
    .await;
    assert_unchanged(&before, &snapshot(&app).await, "the resize confirmation");
    run.refused("/buchungen/{id}/groesse", "", Some(booking), &bigger)
        .await;
    run.allowed(
        "/buchungen/{id}/groesse",
        "",
        Who::Systempfleger,
        Some(booking),
        &bigger,
    )
    .await;
    assert!(booking_state(&app, booking).await.ends_with("|M"));
    app.settle().await;
    run.refused("/buchungen/{id}/kuendigen", "", Some(booking), &Body::Empty)
        .await;
    run.allowed(
        "/buchungen/{id}/kuendigen",
        "",
        Who::Systempfleger,
        Some(booking),
        &Body::Empty,
    )
    .await;
    assert!(
        booking_state(&app, booking)
            .await
            .starts_with("gekuendigt|")
    );

    // Umgebung auflösen, now that nothing is booked there.
    let environment = app.environment_of(booking).await;
    app.settle().await;
    run.refused(
        "/umgebungen/{id}/aufloesen",
        "",
        Some(environment),
        &Body::Empty,
    )
    .await;
    run.allowed(
        "/umgebungen/{id}/aufloesen",
        "",
        Who::Systempfleger,
        Some(environment),
        &Body::Empty,
    )
    .await;
    assert_eq!(lifecycle(&app, environment).await, "aufgeloest");

    // Freigaben, on an application booked in every stage with a release
    // (delivered through the API: the pages deliver nothing) running in
    // Vorprüfung.
    let chain = another_application(&app, t).await;
    for stage in ALL_STAGES {
        booked(&app, t, chain, stage).await;
    }
    let release = deliver(&app, dev, chain, "1.0.0", 1).await;
    running(&app, chain, "vorpruefung", release).await;
    let release_field = release.to_string();
    let to_abnahme = form(&[("release_id", &release_field), ("to_stage", "abnahme")]);
    run.refused("/verfahren/{id}/freigaben", "", Some(chain), &to_abnahme)
        .await;
    for who in [Who::Systempfleger, Who::Entwickler] {
        let answer = run
            .allowed(
                "/verfahren/{id}/freigaben",
                "",
                who,
                Some(chain),
                &to_abnahme,
            )
            .await;
        assert_eq!(
            answer.location,
            format!("/verfahren/{chain}/stufen?hinweis=beantragt")
        );
        let p = latest_promotion(&app, chain).await;
        assert_eq!(promotion_state(&app, p).await, "offen");
        if who == Who::Systempfleger {
            // One open request per step: the first goes before the second.
            withdraw(&app, sp, p).await;
        }
    }
    let by_dev = latest_promotion(&app, chain).await;
    run.refused(
        "/freigaben/{id}/zurueckziehen",
        OWN_REQUEST,
        Some(by_dev),
        &Body::Empty,
    )
    .await;
    run.allowed(
        "/freigaben/{id}/zurueckziehen",
        OWN_REQUEST,
        Who::Entwickler,
        Some(by_dev),
        &Body::Empty,
    )
    .await;
    assert_eq!(promotion_state(&app, by_dev).await, "zurueckgezogen");

    let p = request(&app, dev, chain, release, "abnahme").await;
    run.refused(
        "/freigaben/{id}/genehmigen",
        INTO_ABNAHME_OR_SCHULUNG,
        Some(p),
        &Body::Empty,
    )
    .await;
    run.allowed(
        "/freigaben/{id}/genehmigen",
        INTO_ABNAHME_OR_SCHULUNG,
        Who::Systempfleger,
        Some(p),
        &Body::Empty,
    )
    .await;
    assert_eq!(promotion_state(&app, p).await, "genehmigt");
    running(&app, chain, "abnahme", release).await;

    // Four eyes through the pages: refused, nothing written.
    let own = request(&app, sp, chain, release, "schulung").await;
    let before = snapshot(&app).await;
    for (verb, body) in [
        ("genehmigen", Body::Empty),
        ("ablehnen", form(&[("reason", "eigener Antrag")])),
    ] {
        let answer = run
            .send(
                Who::Systempfleger,
                "POST",
                &format!("/freigaben/{own}/{verb}"),
                &body,
            )
            .await;
        assert_eq!(
            answer.status,
            StatusCode::FORBIDDEN,
            "{verb}: {}",
            answer.short()
        );
        assert_unchanged(&before, &snapshot(&app).await, verb);
    }
    withdraw(&app, sp, own).await;

    let reason = form(&[("reason", "Schulungsunterlagen fehlen")]);
    let p = request(&app, dev, chain, release, "schulung").await;
    run.refused(
        "/freigaben/{id}/ablehnen",
        INTO_ABNAHME_OR_SCHULUNG,
        Some(p),
        &reason,
    )
    .await;
    run.allowed(
        "/freigaben/{id}/ablehnen",
        INTO_ABNAHME_OR_SCHULUNG,
        Who::Systempfleger,
        Some(p),
        &reason,
    )
    .await;
    assert_eq!(promotion_state(&app, p).await, "abgelehnt");
    let p = request(&app, dev, chain, release, "schulung").await;
    approve(&app, sp, p).await;
    running(&app, chain, "schulung", release).await;

    let p = request(&app, dev, chain, release, "produktion").await;
    run.refused(
        "/freigaben/{id}/ablehnen",
        INTO_PRODUKTION,
        Some(p),
        &reason,
    )
    .await;
    run.allowed(
        "/freigaben/{id}/ablehnen",
        INTO_PRODUKTION,
        Who::Verfahrensverantwortlicher,
        Some(p),
        &reason,
    )
    .await;
    assert_eq!(promotion_state(&app, p).await, "abgelehnt");
    let p = request(&app, dev, chain, release, "produktion").await;
    run.refused(
        "/freigaben/{id}/genehmigen",
        INTO_PRODUKTION,
        Some(p),
        &Body::Empty,
    )
    .await;
    run.allowed(
        "/freigaben/{id}/genehmigen",
        INTO_PRODUKTION,
        Who::Verfahrensverantwortlicher,
        Some(p),
        &Body::Empty,
    )
    .await;
    assert_eq!(promotion_state(&app, p).await, "genehmigt");
    running(&app, chain, "produktion", release).await;

    // Bereitstellung wiederholen.
    let bare = another_application(&app, t).await;
    let release = deliver(&app, dev, bare, "2.0.0", 20).await;
    let mut latest = failed(&app, bare, "vorpruefung").await;
    run.refused(
        "/bereitstellungen/{id}/wiederholen",
        IN_VORPRUEFUNG,
        Some(latest),
        &Body::Empty,
    )
    .await;
    for who in [Who::Systempfleger, Who::Entwickler] {
        let answer = run
            .allowed(
                "/bereitstellungen/{id}/wiederholen",
                IN_VORPRUEFUNG,
                who,
                Some(latest),
                &Body::Empty,
            )
            .await;
        assert_eq!(
            answer.location,
            format!("/verfahren/{bare}/stufen?hinweis=wiederholt")
        );
        let again = failed(&app, bare, "vorpruefung").await;
        assert!(again > latest, "a new deployment");
        latest = again;
    }
    booked(&app, t, bare, "vorpruefung").await;
    retry(&app, sp, latest).await;
    running(&app, bare, "vorpruefung", release).await;
    let p = request(&app, dev, bare, release, "abnahme").await;
    approve(&app, sp, p).await;
    let in_abnahme = failed(&app, bare, "abnahme").await;
    run.refused(
        "/bereitstellungen/{id}/wiederholen",
        IN_A_LATER_STAGE,
        Some(in_abnahme),
        &Body::Empty,
    )
    .await;
    run.allowed(
        "/bereitstellungen/{id}/wiederholen",
        IN_A_LATER_STAGE,
        Who::Systempfleger,
        Some(in_abnahme),
        &Body::Empty,
    )
    .await;
    assert!(decided(&app, bare, "abnahme").await.0 > in_abnahme);

    // The Betreiber area: customers, their applications, contracts.
    let new_customer = form(&[("slug", "matrixamt"), ("name", "Matrixamt")]);
    run.refused("/betrieb/kunden", "", None, &new_customer)
        .await;
    let created = run
        .allowed("/betrieb/kunden", "", Who::Betreiber, None, &new_customer)
        .await;
    assert!(
        created.location.starts_with("/betrieb/kunden/"),
        "{}",
        created.location
    );
    let customer = Some(t.customer_id);
    let rename = form(&[("name", "Umbenanntes Amt")]);
    run.refused("/betrieb/kunden/{id}", "", customer, &rename)
        .await;
    run.allowed(
        "/betrieb/kunden/{id}",
        "",
        Who::Betreiber,
        customer,
        &rename,
    )
    .await;
    let name: String = one_value(
        &app,
        "SELECT name FROM customers WHERE id = $1",
        t.customer_id,
    )
    .await;
    assert_eq!(name, "Umbenanntes Amt");
    let contract = t.contract_id.to_string();
    let new_application = form(&[
        ("contract_id", &contract),
        ("slug", "matrixverfahren"),
        ("name", "Matrixverfahren"),
    ]);
    run.refused(
        "/betrieb/kunden/{id}/verfahren",
        "",
        customer,
        &new_application,
    )
    .await;
    run.allowed(
        "/betrieb/kunden/{id}/verfahren",
        "",
        Who::Betreiber,
        customer,
        &new_application,
    )
    .await;
    let customer_field = t.customer_id.to_string();
    let contract_form = |number: &str, title: &str| {
        form(&[
            ("customer_id", &customer_field),
            ("number", number),
            ("title", title),
            ("valid_from", "2020-01-01"),
            ("valid_until", "2099-12-31"),
            ("kostenstelle", "4711-1"),
            ("haushaltsstelle", "0610.53100"),
            ("leitweg_id", "04011000-1234512345-06"),
            ("billing_model", "nutzung"),
            ("base_fee", ""),
            ("max_vcpu", "100"),
            ("max_memory_gib", "10000"),
            ("max_storage_gib", "100000"),
            ("monthly_budget", "100000,00"),
        ])
    };
    let new_contract = contract_form("DLV-MATRIX-1", "Matrixvertrag");
    run.refused("/betrieb/vertraege", "", None, &new_contract)
        .await;
    run.allowed(
        "/betrieb/vertraege",
        "",
        Who::Betreiber,
        None,
        &new_contract,
    )
    .await;
    let number: String = one_value(
        &app,
        "SELECT number FROM contracts WHERE id = $1",
        t.contract_id,
    )
    .await;
    let changed_contract = contract_form(&number, "Umbenannter Vertrag");
    run.refused(
        "/betrieb/vertraege/{id}",
        "",
        Some(t.contract_id),
        &changed_contract,
    )
    .await;
    run.allowed(
        "/betrieb/vertraege/{id}",
        "",
        Who::Betreiber,
        Some(t.contract_id),
        &changed_contract,
    )
    .await;
    let title: String = one_value(
        &app,
        "SELECT title FROM contracts WHERE id = $1",
        t.contract_id,
    )
    .await;
    assert_eq!(title, "Umbenannter Vertrag");

    // The catalogue: a product, its size, a price and its change.
    let new_product = form(&[
        ("slug", "matrix-produkt"),
        ("name", "Matrixprodukt"),
        ("description", "für die Rollenmatrix"),
    ]);
    run.refused("/betrieb/katalog/produkte", "", None, &new_product)
        .await;
    run.allowed(
        "/betrieb/katalog/produkte",
        "",
        Who::Betreiber,
        None,
        &new_product,
    )
    .await;
    let (size,): (i64,) = sqlx::query_as(
        "SELECT ps.id FROM product_sizes ps JOIN products p ON p.id = ps.product_id \
         WHERE p.slug = 'matrix-produkt' AND ps.size = 'S'",
    )
    .fetch_one(&app.db().pool)
    .await
    .expect("the new product's size S");
    let resources = form(&[
        ("vcpu", "1"),
        ("memory_gib", "2"),
        ("storage_gib", "0"),
        ("pods", "10"),
    ]);
    run.refused("/betrieb/katalog/groessen/{id}", "", Some(size), &resources)
        .await;
    run.allowed(
        "/betrieb/katalog/groessen/{id}",
        "",
        Who::Betreiber,
        Some(size),
        &resources,
    )
    .await;
    let millicpu: i64 = one_value(
        &app,
        "SELECT millicpu FROM product_sizes WHERE id = $1",
        size,
    )
    .await;
    assert_eq!(millicpu, 1000);
    let size_field = size.to_string();
    let new_price = form(&[
        ("product_size_id", &size_field),
        ("valid_from", "2099-01-01"),
        ("rate", "1,0000"),
    ]);
    run.refused("/betrieb/katalog/preise", "", None, &new_price)
        .await;
    run.allowed(
        "/betrieb/katalog/preise",
        "",
        Who::Betreiber,
        None,
        &new_price,
    )
    .await;
    let price: i64 = one_value(
        &app,
        "SELECT id FROM prices WHERE product_size_id = $1",
        size,
    )
    .await;
    let new_rate = form(&[("rate", "2,0000")]);
    run.refused("/betrieb/katalog/preise/{id}", "", Some(price), &new_rate)
        .await;
    run.allowed(
        "/betrieb/katalog/preise/{id}",
        "",
        Who::Betreiber,
        Some(price),
        &new_rate,
    )
    .await;
    let rate: i64 = one_value(&app, "SELECT rate FROM prices WHERE id = $1", price).await;
    assert_eq!(
        rate,
        kontor::domain::HourlyRate::parse("2,0000")
            .expect("a rate")
            .0
    );

    // Ids of the Betreiber area tell nothing: an id that does not exist
    // is refused just the same.
    for (path, body) in [
        ("/betrieb/kunden/987654321", &rename),
        ("/betrieb/vertraege/987654321", &changed_contract),
    ] {
        let answer = run.send(Who::OtherCustomer, "POST", path, body).await;
        answer.assert_page(StatusCode::FORBIDDEN, "Keine Berechtigung", path);
    }

    kontingent_request_forms(&mut run, &app, &cast).await;
    // The Revision: the Betreiber walks the hash chain now ("Kette jetzt
    // prüfen"); the outcome is stored, nothing else changes.
    run.refused("/revision/pruefen", "", None, &Body::Empty)
        .await;
    let verified = run
        .allowed("/revision/pruefen", "", Who::Betreiber, None, &Body::Empty)
        .await;
    assert_eq!(verified.location, "/revision?geprueft=1");

    // Everyone logs out.
    for who in EVERYONE {
        let answer = run.allowed("/abmelden", "", who, None, &Body::Empty).await;
        assert_eq!(answer.location, "/anmelden", "{who:?}");
        let after = run.browsers[&who]
            .client
            .get(format!("{}/api-tokens", app.address))
            .send()
            .await
            .expect("GET");
        assert_eq!(
            after.status(),
            StatusCode::SEE_OTHER,
            "{who:?} is logged out"
        );
    }

    run.assert_complete();
}
