//! Every `Url` against its `Route`, and every `Route` against the routers.

use std::collections::HashSet;

use super::*;

fn month() -> Month {
    Month::parse("2026-03").expect("a month")
}

/// Every variant with the address it must give; the addresses are the
/// ones the portal has always used (the browser tests and bookmarks
/// rely on them).
fn examples() -> Vec<(Url, &'static str)> {
    vec![
        (Url::Home, "/"),
        (Url::Overview, "/uebersicht"),
        (Url::CustomerOverview(7), "/uebersicht?kunde=7"),
        (Url::Login, "/anmelden"),
        (Url::LoginWithProvider, "/anmelden/oidc"),
        (Url::LoginReturn, "/anmelden/rueckkehr"),
        (Url::Logout, "/abmelden"),
        (Url::Accessibility, "/barrierefreiheit"),
        (Url::Glossary, "/glossar"),
        (Url::GlossaryTerm(Term::Kontingent), "/glossar#kontingent"),
        (Url::GlossaryTerm(Term::Groesse), "/glossar#groesse"),
        (
            Url::Language {
                to: crate::web::lang::Lang::En,
                back: "/katalog?produkt=x".into(),
            },
            "/sprache?zu=en&zurueck=%2Fkatalog%3Fprodukt%3Dx",
        ),
        (Url::Tokens, "/api-tokens"),
        (Url::TokenRevoke(3), "/api-tokens/3/widerrufen"),
        (Url::Shop, "/katalog"),
        (
            Url::ShopChoice {
                product: "postgresql".into(),
                size: Size::XL,
            },
            "/katalog?produkt=postgresql&groesse=XL#buchen",
        ),
        (
            Url::ShopRetry {
                application: 4,
                stage: Stage::Schulung,
                product: "container-namespace".into(),
                size: Size::M,
            },
            "/katalog?verfahren=4&stufe=schulung&produkt=container-namespace&groesse=M#buchen",
        ),
        (Url::ShopCheck, "/katalog/pruefen"),
        (Url::Book, "/buchungen/neu"),
        (Url::Bookings, "/buchungen"),
        (
            Url::BookingsOf {
                application: 4,
                stage: Stage::Abnahme,
            },
            "/buchungen?verfahren=4&stufe=abnahme",
        ),
        (
            Url::BookingsPage {
                filter: BookingFilter::default(),
                page: 2,
            },
            "/buchungen?verfahren=&stufe=&status=&produkt=&groesse=&seite=2",
        ),
        (
            Url::BookingsPage {
                filter: BookingFilter {
                    text: "amt".into(),
                    sort: "-customer".into(),
                    ..BookingFilter::default()
                },
                page: 2,
            },
            "/buchungen?verfahren=&stufe=&status=&produkt=&groesse=&suche=amt&sortierung=-customer&seite=2",
        ),
        (
            Url::BookingsCsv(BookingFilter {
                stage: "abnahme".into(),
                sort: "size".into(),
                ..BookingFilter::default()
            }),
            "/buchungen/csv?stufe=abnahme&sortierung=size",
        ),
        (Url::Booking(12), "/buchungen/12"),
        (
            Url::BookingState(12, BookingStateView::Liste),
            "/buchungen/12/zustand",
        ),
        (
            Url::BookingState(12, BookingStateView::Detail),
            "/buchungen/12/zustand?ansicht=detail",
        ),
        (
            Url::BookingNotice(12, BookingNotice::Booked),
            "/buchungen/12?gebucht=1",
        ),
        (
            Url::BookingNotice(12, BookingNotice::Resized),
            "/buchungen/12?geaendert=1",
        ),
        (
            Url::BookingNotice(12, BookingNotice::Cancelled),
            "/buchungen/12?gekuendigt=1",
        ),
        (Url::BookingResize(12), "/buchungen/12/groesse"),
        (
            Url::BookingResizeTo(12, Size::S),
            "/buchungen/12/groesse?groesse=S",
        ),
        (Url::BookingResizeCheck(12), "/buchungen/12/groesse/pruefen"),
        (Url::BookingCancel(12), "/buchungen/12/kuendigen"),
        (Url::Environments, "/umgebungen"),
        (Url::Environment(5), "/umgebungen/5"),
        (Url::EnvironmentDissolved(5), "/umgebungen/5?aufgeloest=1"),
        (Url::EnvironmentDissolve(5), "/umgebungen/5/aufloesen"),
        (Url::Stages, "/stufen"),
        (Url::Pipeline(4), "/verfahren/4/stufen"),
        (
            Url::PipelineNotice(4, Hinweis::Beantragt),
            "/verfahren/4/stufen?hinweis=beantragt",
        ),
        (Url::Releases(4), "/verfahren/4/releases"),
        (Url::PromotionRequest(4), "/verfahren/4/freigaben"),
        (Url::Approvals, "/freigaben"),
        (
            Url::ApprovalsNotice(Hinweis::Zurueckgezogen),
            "/freigaben?hinweis=zurueckgezogen",
        ),
        (Url::PromotionApprove(9), "/freigaben/9/genehmigen"),
        (Url::PromotionReject(9), "/freigaben/9/ablehnen"),
        (Url::PromotionWithdraw(9), "/freigaben/9/zurueckziehen"),
        (
            Url::KontingentRequestNew {
                contract: 2,
                ask: KontingentAsk::default(),
            },
            "/vertraege/2/kontingent-antrag",
        ),
        (
            Url::KontingentRequestNew {
                contract: 2,
                ask: KontingentAsk {
                    vcpu: "10".into(),
                    monthly_budget: "2500,01".into(),
                    ..KontingentAsk::default()
                },
            },
            "/vertraege/2/kontingent-antrag?vcpu=10&budget=2500%2C01",
        ),
        (
            Url::KontingentApprove(3),
            "/kontingent-antraege/3/genehmigen",
        ),
        (Url::KontingentReject(3), "/kontingent-antraege/3/ablehnen"),
        (
            Url::KontingentWithdraw(3),
            "/kontingent-antraege/3/zurueckziehen",
        ),
        (
            Url::KontingentCosign(3),
            "/kontingent-antraege/3/mitzeichnen",
        ),
        (Url::DeploymentRetry(8), "/bereitstellungen/8/wiederholen"),
        (Url::Billing, "/abrechnung"),
        (Url::BillingMonth(month()), "/abrechnung?monat=2026-03"),
        (
            Url::MonthCsv {
                month: month(),
                rfc4180: false,
            },
            "/abrechnung/2026-03/csv",
        ),
        (
            Url::MonthCsv {
                month: month(),
                rfc4180: true,
            },
            "/abrechnung/2026-03/csv?format=rfc4180",
        ),
        (
            Url::Statement {
                month: month(),
                contract: 2,
            },
            "/abrechnung/2026-03/vertrag/2",
        ),
        (
            Url::StatementCsv {
                month: month(),
                contract: 2,
                rfc4180: false,
            },
            "/abrechnung/2026-03/vertrag/2/csv",
        ),
        (
            Url::StatementCsv {
                month: month(),
                contract: 2,
                rfc4180: true,
            },
            "/abrechnung/2026-03/vertrag/2/csv?format=rfc4180",
        ),
        (Url::Revision, "/revision"),
        (
            Url::RevisionPage {
                filter: RevisionFilter {
                    from: "2026-03-01".into(),
                    action: "booking.resized".into(),
                    text: "Größe S".into(),
                    ..RevisionFilter::default()
                },
                start: RevisionStart::Older(40),
            },
            "/revision?von=2026-03-01&aktion=booking.resized&suche=Gr%C3%B6%C3%9Fe+S&vor=40",
        ),
        (
            Url::RevisionPage {
                filter: RevisionFilter::default(),
                start: RevisionStart::Newer(41),
            },
            "/revision?nach=41",
        ),
        (Url::RevisionVerified, "/revision?geprueft=1"),
        (
            Url::RevisionCsv {
                filter: RevisionFilter {
                    customer: "3".into(),
                    ..RevisionFilter::default()
                },
                rfc4180: true,
            },
            "/revision/csv?kunde=3&format=rfc4180",
        ),
        (
            Url::RevisionJsonl(RevisionFilter::default()),
            "/revision/jsonl",
        ),
        (Url::RevisionVerify, "/revision/pruefen"),
        (Url::Customers, "/betrieb/kunden"),
        (
            Url::CustomersListed(ListQuery {
                text: "amt".into(),
                sort: "-name".into(),
            }),
            "/betrieb/kunden?suche=amt&sortierung=-name",
        ),
        (
            Url::CustomersCsv(ListQuery::default()),
            "/betrieb/kunden/csv",
        ),
        (Url::Customer(6), "/betrieb/kunden/6"),
        (Url::CustomerApplications(6), "/betrieb/kunden/6/verfahren"),
        (Url::Contracts, "/betrieb/vertraege"),
        (
            Url::ContractsListed(ListQuery {
                text: String::new(),
                sort: "customer".into(),
            }),
            "/betrieb/vertraege?sortierung=customer",
        ),
        (
            Url::ContractsCsv(ListQuery {
                text: "DLV".into(),
                sort: String::new(),
            }),
            "/betrieb/vertraege/csv?suche=DLV",
        ),
        (Url::ContractNew, "/betrieb/vertraege/neu"),
        (Url::ContractNewFor(6), "/betrieb/vertraege/neu?kunde=6"),
        (Url::ContractEdit(2), "/betrieb/vertraege/2"),
        (Url::Catalogue, "/betrieb/katalog"),
        (Url::CatalogueSize(11), "/betrieb/katalog#groesse-11"),
        (Url::ProductCreate, "/betrieb/katalog/produkte"),
        (Url::SizeUpdate(11), "/betrieb/katalog/groessen/11"),
        (Url::PriceAdd, "/betrieb/katalog/preise"),
        (Url::PriceUpdate(13), "/betrieb/katalog/preise/13"),
        (Url::Provisioning, "/betrieb/bereitstellung"),
        (
            Url::NotificationSettings,
            "/einstellungen/benachrichtigungen",
        ),
        (Url::Webhooks, "/webhooks"),
        (Url::WebhookDelete(4), "/webhooks/4/entfernen"),
        (Url::Deliveries, "/betrieb/benachrichtigungen"),
    ]
}

/// Whether `path` is one that `pattern` matches, segment by segment:
/// `{id}` takes a positive number, `{month}` a billing month, anything
/// else itself.
fn matches(pattern: &str, path: &str) -> bool {
    let (want, got): (Vec<_>, Vec<_>) = (pattern.split('/').collect(), path.split('/').collect());
    want.len() == got.len()
        && want.iter().zip(&got).all(|(w, g)| match *w {
            "{id}" => g.parse::<i64>().is_ok_and(|n| n > 0) && !g.starts_with('+'),
            "{month}" => Month::parse(g).is_some_and(|m| m.to_string() == *g),
            literal => {
                assert!(
                    !literal.contains('{'),
                    "a parameter this test does not know: {pattern}"
                );
                literal == *g
            }
        })
}

/// Splits an address into path, query and anchor.
fn parts(address: &str) -> (&str, Option<&str>, Option<&str>) {
    let (rest, anchor) = match address.split_once('#') {
        Some((rest, anchor)) => (rest, Some(anchor)),
        None => (address, None),
    };
    match rest.split_once('?') {
        Some((path, query)) => (path, Some(query), anchor),
        None => (rest, None, anchor),
    }
}

#[test]
fn every_url_gives_the_address_the_portal_has_always_used() {
    for (url, address) in examples() {
        assert_eq!(url.to_string(), address, "{url:?}");
    }
}

#[test]
fn every_url_lands_on_the_pattern_of_its_route() {
    for (url, _) in examples() {
        let address = url.to_string();
        let (path, _, _) = parts(&address);
        let pattern = Route::of(&url).pattern();
        assert!(
            matches(pattern, path),
            "{url:?} gives {path}, which the route {pattern} does not match"
        );
        // And no other route matches it (axum would pick one of them).
        let others: Vec<_> = Route::ALL
            .iter()
            .filter(|r| **r != Route::of(&url) && matches(r.pattern(), path))
            .collect();
        assert!(others.is_empty(), "{path} also matches {others:?}");
    }
}

#[test]
fn every_route_has_an_example_and_every_variant_is_tried() {
    let examples = examples();
    for route in Route::ALL {
        assert!(
            examples.iter().any(|(u, _)| Route::of(u) == *route),
            "no example reaches {route:?}; add one to examples()"
        );
    }
    // Each variant of `Url` at least once: a new variant without an
    // example shows up here as a missing discriminant.
    let tried: HashSet<_> = examples
        .iter()
        .map(|(u, _)| std::mem::discriminant(u))
        .collect();
    assert_eq!(tried.len(), VARIANTS, "a variant of Url has no example");
}

/// The page routers' sources, as the compiler read them.
const ROUTERS: [&str; 20] = [
    include_str!("../mod.rs"),
    include_str!("../accessibility.rs"),
    include_str!("../glossary.rs"),
    include_str!("../lang.rs"),
    include_str!("../login.rs"),
    include_str!("../tokens.rs"),
    include_str!("../overview.rs"),
    include_str!("../shop.rs"),
    include_str!("../bookings.rs"),
    include_str!("../booking_change.rs"),
    include_str!("../environments.rs"),
    include_str!("../releases.rs"),
    include_str!("../kontingent.rs"),
    include_str!("../billing.rs"),
    include_str!("../admin/customers.rs"),
    include_str!("../admin/contracts.rs"),
    include_str!("../admin/catalog.rs"),
    include_str!("../admin/provisioning.rs"),
    include_str!("../notifications.rs"),
    include_str!("../revision.rs"),
];

#[test]
fn every_route_is_registered_by_exactly_one_router() {
    for route in Route::ALL {
        let named = format!("Route::{route:?}.pattern()");
        let times: usize = ROUTERS.iter().map(|s| s.matches(&named).count()).sum();
        assert_eq!(times, 1, "{named} in the page routers");
    }
}

#[test]
fn the_provider_sends_the_browser_back_to_the_login_return() {
    // The redirect URI is built in auth, which may not import web.
    let oidc = include_str!("../../auth/oidc.rs");
    assert!(
        oidc.contains(&format!("{{public_base}}{}", Route::LoginReturn.pattern())),
        "auth/oidc.rs builds a redirect URI other than {}",
        Route::LoginReturn.pattern()
    );
}

#[test]
fn a_query_value_is_percent_encoded() {
    let shop = Url::ShopChoice {
        product: "a b&c/ä".into(),
        size: Size::M,
    };
    assert_eq!(
        shop.to_string(),
        "/katalog?produkt=a+b%26c%2F%C3%A4&groesse=M#buchen"
    );
    let page = Url::BookingsPage {
        filter: BookingFilter {
            product: "x=y#z".into(),
            ..BookingFilter::default()
        },
        page: 3,
    };
    let address = page.to_string();
    assert_eq!(
        address,
        "/buchungen?verfahren=&stufe=&status=&produkt=x%3Dy%23z&groesse=&seite=3"
    );
    let (_, query, anchor) = parts(&address);
    assert_eq!(anchor, None);
    let pairs: Vec<_> = form_urlencoded::parse(query.expect("a query").as_bytes()).collect();
    assert_eq!(pairs[3], ("produkt".into(), "x=y#z".into()));
}

#[test]
fn a_note_in_an_address_reads_back_as_itself() {
    for h in Hinweis::ALL {
        assert_eq!(Hinweis::parse(h.as_str()), Some(h));
    }
    assert_eq!(Hinweis::parse("unbekannt"), None);
}

/// Counts the patterns given, after checking (at compile time) that
/// they cover every variant of `Url`.
macro_rules! variants {
    ($($variant:pat),+ $(,)?) => {{
        fn _exhaustive(url: &Url) {
            match url {
                $($variant => {})+
            }
        }
        [$(stringify!($variant)),+].len()
    }};
}

/// The number of variants of `Url`: adding one fails to compile here
/// until it is listed, and then the test above wants an example of it.
const VARIANTS: usize = variants!(
    Url::Home,
    Url::Overview,
    Url::CustomerOverview(_),
    Url::Login,
    Url::LoginWithProvider,
    Url::LoginReturn,
    Url::Logout,
    Url::Accessibility,
    Url::Glossary,
    Url::GlossaryTerm(_),
    Url::Language { .. },
    Url::Tokens,
    Url::TokenRevoke(_),
    Url::Shop,
    Url::ShopChoice { .. },
    Url::ShopRetry { .. },
    Url::ShopCheck,
    Url::Book,
    Url::Bookings,
    Url::BookingsOf { .. },
    Url::BookingsPage { .. },
    Url::BookingsCsv(_),
    Url::Booking(_),
    Url::BookingState(..),
    Url::BookingNotice(..),
    Url::BookingResize(_),
    Url::BookingResizeTo(..),
    Url::BookingResizeCheck(_),
    Url::BookingCancel(_),
    Url::Environments,
    Url::Environment(_),
    Url::EnvironmentDissolved(_),
    Url::EnvironmentDissolve(_),
    Url::Stages,
    Url::Pipeline(_),
    Url::PipelineNotice(..),
    Url::Releases(_),
    Url::PromotionRequest(_),
    Url::Approvals,
    Url::ApprovalsNotice(_),
    Url::PromotionApprove(_),
    Url::PromotionReject(_),
    Url::PromotionWithdraw(_),
    Url::KontingentRequestNew { .. },
    Url::KontingentApprove(_),
    Url::KontingentReject(_),
    Url::KontingentWithdraw(_),
    Url::KontingentCosign(_),
    Url::DeploymentRetry(_),
    Url::Billing,
    Url::BillingMonth(_),
    Url::MonthCsv { .. },
    Url::Statement { .. },
    Url::StatementCsv { .. },
    Url::Customers,
    Url::CustomersListed(_),
    Url::CustomersCsv(_),
    Url::Customer(_),
    Url::CustomerApplications(_),
    Url::Contracts,
    Url::ContractsListed(_),
    Url::ContractsCsv(_),
    Url::ContractNew,
    Url::ContractNewFor(_),
    Url::ContractEdit(_),
    Url::Catalogue,
    Url::CatalogueSize(_),
    Url::ProductCreate,
    Url::SizeUpdate(_),
    Url::PriceAdd,
    Url::PriceUpdate(_),
    Url::Provisioning,
    Url::NotificationSettings,
    Url::Webhooks,
    Url::WebhookDelete(_),
    Url::Deliveries,
    Url::Revision,
    Url::RevisionPage { .. },
    Url::RevisionVerified,
    Url::RevisionCsv { .. },
    Url::RevisionJsonl(_),
    Url::RevisionVerify,
);
