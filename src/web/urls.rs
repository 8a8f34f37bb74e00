//! The portal's own addresses in one typed place (as kanidm's `Urls`): a
//! [`Url`] is where a link, a form or a redirect goes, and [`Route`] is the
//! pattern the page routers register for it. Templates and handlers build
//! `Url` values instead of writing paths, so the portal's paths are spelt
//! in this file; the tests (`urls/tests.rs`) check that every `Url` lands on
//! its `Route`'s pattern and that every `Route` is registered once, so the
//! two cannot drift apart. The one path spelt elsewhere is the login
//! return in `auth/oidc.rs` (auth may not import web); a test compares it.
//!
//! Not here: the REST API under `/api/v1` (its own router and OpenAPI
//! document) and the files under `/static`.

use std::fmt::{self, Write};

use url::form_urlencoded;

use crate::domain::{Size, Stage, billing::Month};

pub use params::{BookingNotice, Hinweis, RevisionStart, Term};

/// Declares [`Route`]: one variant per pattern, with its pattern and the
/// list of all of them, from a single table.
macro_rules! routes {
    ($($(#[doc = $doc:literal])* $name:ident = $pattern:literal,)+) => {
        /// A path pattern of the page router, in axum's syntax (`{id}` is an
        /// object's number, `{month}` a billing month `YYYY-MM`). Each
        /// router registers its paths with `Route::….pattern()`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Route {
            $($(#[doc = $doc])* $name,)+
        }

        impl Route {
            /// Every pattern, in the order of the table.
            pub const ALL: &[Route] = &[$(Route::$name,)+];

            /// The pattern as the router registers it.
            pub const fn pattern(self) -> &'static str {
                match self {
                    $(Route::$name => $pattern,)+
                }
            }
        }
    };
}

routes! {
    /// Sends the browser on to the overview.
    Home = "/",
    Overview = "/uebersicht",
    /// The login page (GET) and the demo login (POST).
    Login = "/anmelden",
    /// Starts a login at the OpenID provider.
    LoginWithProvider = "/anmelden/oidc",
    /// Where the OpenID provider sends the browser back (the redirect URI).
    LoginReturn = "/anmelden/rueckkehr",
    Logout = "/abmelden",
    /// The Barrierefreiheitserklärung (BITV 2.0 § 7), without login.
    Accessibility = "/barrierefreiheit",
    /// What the portal's words mean (Kontingent, Stufe, …), without login.
    Glossary = "/glossar",
    /// The language switch in the header (`?zu=en&zurueck=/pfad`).
    Language = "/sprache",
    Tokens = "/api-tokens",
    TokenRevoke = "/api-tokens/{id}/widerrufen",
    /// The catalogue with the booking form.
    Shop = "/katalog",
    /// The booking form's confirmation step.
    ShopCheck = "/katalog/pruefen",
    /// Books what the confirmation step showed.
    Book = "/buchungen/neu",
    Bookings = "/buchungen",
    /// The filtered, sorted booking list as CSV.
    BookingsCsv = "/buchungen/csv",
    Booking = "/buchungen/{id}",
    /// A booking's provisioning state alone, the fragment that a page
    /// showing "Bereitstellung läuft" fetches until it is final.
    BookingState = "/buchungen/{id}/zustand",
    BookingResize = "/buchungen/{id}/groesse",
    BookingResizeCheck = "/buchungen/{id}/groesse/pruefen",
    BookingCancel = "/buchungen/{id}/kuendigen",
    Environments = "/umgebungen",
    Environment = "/umgebungen/{id}",
    EnvironmentDissolve = "/umgebungen/{id}/aufloesen",
    /// Every application the person may see, each with what runs in its
    /// stages and the way to its Stufen page (the navigation's "Stufen").
    Stages = "/stufen",
    /// An application's stages (the `{id}` is the application's).
    Pipeline = "/verfahren/{id}/stufen",
    Releases = "/verfahren/{id}/releases",
    PromotionRequest = "/verfahren/{id}/freigaben",
    /// The Freigaben inbox.
    Approvals = "/freigaben",
    /// The Systempfleger:in's form asking for new ceilings of a contract.
    KontingentRequestNew = "/vertraege/{id}/kontingent-antrag",
    KontingentApprove = "/kontingent-antraege/{id}/genehmigen",
    KontingentReject = "/kontingent-antraege/{id}/ablehnen",
    KontingentWithdraw = "/kontingent-antraege/{id}/zurueckziehen",
    KontingentCosign = "/kontingent-antraege/{id}/mitzeichnen",
    PromotionApprove = "/freigaben/{id}/genehmigen",
    PromotionReject = "/freigaben/{id}/ablehnen",
    PromotionWithdraw = "/freigaben/{id}/zurueckziehen",
    DeploymentRetry = "/bereitstellungen/{id}/wiederholen",
    Billing = "/abrechnung",
    MonthCsv = "/abrechnung/{month}/csv",
    /// One contract's statement (the `{id}` is the contract's).
    Statement = "/abrechnung/{month}/vertrag/{id}",
    StatementCsv = "/abrechnung/{month}/vertrag/{id}/csv",
    Customers = "/betrieb/kunden",
    CustomersCsv = "/betrieb/kunden/csv",
    Customer = "/betrieb/kunden/{id}",
    CustomerApplications = "/betrieb/kunden/{id}/verfahren",
    Contracts = "/betrieb/vertraege",
    ContractsCsv = "/betrieb/vertraege/csv",
    ContractNew = "/betrieb/vertraege/neu",
    ContractEdit = "/betrieb/vertraege/{id}",
    /// Katalogpflege.
    Catalogue = "/betrieb/katalog",
    ProductCreate = "/betrieb/katalog/produkte",
    SizeUpdate = "/betrieb/katalog/groessen/{id}",
    PriceAdd = "/betrieb/katalog/preise",
    PriceUpdate = "/betrieb/katalog/preise/{id}",
    Provisioning = "/betrieb/bereitstellung",
    /// Each person's choice of e-mails.
    NotificationSettings = "/einstellungen/benachrichtigungen",
    Webhooks = "/webhooks",
    WebhookDelete = "/webhooks/{id}/entfernen",
    /// The Betreiber's view of notification deliveries.
    Deliveries = "/betrieb/benachrichtigungen",
    /// The Revision (audit log), filtered and paged.
    Revision = "/revision",
    RevisionCsv = "/revision/csv",
    RevisionJsonl = "/revision/jsonl",
    /// The Betreiber's "Kette jetzt prüfen".
    RevisionVerify = "/revision/pruefen",
}

/// A page or form target of the portal, with its parameters. `Display`
/// gives the address to put into `href`, `action` or `Location`: the path,
/// then the query (percent-encoded) and the anchor where the variant has
/// them. Unless said otherwise a variant is its [`Route`] of the same name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Url {
    Home,
    Overview,
    /// The overview of one customer, as the Betreiber sees it (`?kunde=`).
    CustomerOverview(i64),
    Login,
    LoginWithProvider,
    LoginReturn,
    Logout,
    Accessibility,
    Glossary,
    /// The Glossar at one term (`#kontingent`).
    GlossaryTerm(Term),
    /// Switches to `to` and returns to `back`, a path of the portal.
    Language {
        to: super::lang::Lang,
        back: String,
    },
    Tokens,
    TokenRevoke(i64),
    Shop,
    /// The catalogue with a product and size chosen, at the booking form
    /// (`?produkt=…&groesse=…#buchen`). The product is its slug.
    ShopChoice {
        product: String,
        size: Size,
    },
    /// The booking form filled in again with another size, all choices
    /// kept (`?verfahren=…&stufe=…&produkt=…&groesse=…#buchen`): a size
    /// that fits, offered beside a Kontingent refusal.
    ShopRetry {
        application: i64,
        stage: Stage,
        product: String,
        size: Size,
    },
    ShopCheck,
    Book,
    Bookings,
    /// The bookings of one application in one stage (`?verfahren=…&stufe=…`).
    BookingsOf {
        application: i64,
        stage: Stage,
    },
    /// One page of the filtered list (`?verfahren=…&…&seite=…`).
    BookingsPage {
        filter: BookingFilter,
        page: i64,
    },
    /// The filtered, sorted list as CSV (only the filters given are written).
    BookingsCsv(BookingFilter),
    Booking(i64),
    /// A booking's state fragment for one kind of page (`?ansicht=…`
    /// unless a list row).
    BookingState(i64, BookingStateView),
    /// A booking's page with the note of what just happened to it.
    BookingNotice(i64, BookingNotice),
    BookingResize(i64),
    /// The size form with a size chosen (`?groesse=…`): a size that fits,
    /// offered beside a Kontingent refusal.
    BookingResizeTo(i64, Size),
    BookingResizeCheck(i64),
    BookingCancel(i64),
    Environments,
    Environment(i64),
    /// An environment's page after its dissolution began (`?aufgeloest=1`).
    EnvironmentDissolved(i64),
    EnvironmentDissolve(i64),
    Stages,
    /// An application's stages; the number is the application's.
    Pipeline(i64),
    /// An application's stages with a note (`?hinweis=…`).
    PipelineNotice(i64, Hinweis),
    Releases(i64),
    PromotionRequest(i64),
    Approvals,
    /// The inbox with a note (`?hinweis=…`).
    ApprovalsNotice(Hinweis),
    PromotionApprove(i64),
    PromotionReject(i64),
    PromotionWithdraw(i64),
    /// The request form of a contract, pre-filled (`?vcpu=…&…`) with what
    /// would have let a refused booking through.
    KontingentRequestNew {
        contract: i64,
        ask: KontingentAsk,
    },
    KontingentApprove(i64),
    KontingentReject(i64),
    KontingentWithdraw(i64),
    KontingentCosign(i64),
    DeploymentRetry(i64),
    Billing,
    /// The statements of one month (`?monat=…`).
    BillingMonth(Month),
    /// All contracts' lines of a month as CSV; `rfc4180` asks for commas and
    /// decimal points (`?format=rfc4180`) instead of the spreadsheet dialect.
    MonthCsv {
        month: Month,
        rfc4180: bool,
    },
    Statement {
        month: Month,
        contract: i64,
    },
    StatementCsv {
        month: Month,
        contract: i64,
        rfc4180: bool,
    },
    Customers,
    /// The customer list searched and sorted (`?suche=…&sortierung=…`).
    CustomersListed(ListQuery),
    CustomersCsv(ListQuery),
    Customer(i64),
    CustomerApplications(i64),
    Contracts,
    /// The contract list searched and sorted (`?suche=…&sortierung=…`).
    ContractsListed(ListQuery),
    ContractsCsv(ListQuery),
    ContractNew,
    /// The new-contract form with the customer chosen (`?kunde=…`).
    ContractNewFor(i64),
    ContractEdit(i64),
    Catalogue,
    /// Katalogpflege at one size's card (`#groesse-…`).
    CatalogueSize(i64),
    ProductCreate,
    SizeUpdate(i64),
    PriceAdd,
    PriceUpdate(i64),
    Provisioning,
    NotificationSettings,
    Webhooks,
    WebhookDelete(i64),
    Deliveries,
    Revision,
    /// The Revision filtered (only the filters given are written), from
    /// `start` (`?…&vor=…` / `?…&nach=…`).
    RevisionPage {
        filter: RevisionFilter,
        start: RevisionStart,
    },
    /// The Revision after "Kette jetzt prüfen" (`?geprueft=1`).
    RevisionVerified,
    /// The filtered Revision as CSV, with `?format=rfc4180` for commas.
    RevisionCsv {
        filter: RevisionFilter,
        rfc4180: bool,
    },
    RevisionJsonl(RevisionFilter),
    RevisionVerify,
}

impl Route {
    /// The pattern that serves `url`.
    pub fn of(url: &Url) -> Route {
        match url {
            Url::Home => Route::Home,
            Url::Overview | Url::CustomerOverview(_) => Route::Overview,
            Url::Login => Route::Login,
            Url::LoginWithProvider => Route::LoginWithProvider,
            Url::LoginReturn => Route::LoginReturn,
            Url::Logout => Route::Logout,
            Url::Accessibility => Route::Accessibility,
            Url::Glossary | Url::GlossaryTerm(_) => Route::Glossary,
            Url::Language { .. } => Route::Language,
            Url::Tokens => Route::Tokens,
            Url::TokenRevoke(_) => Route::TokenRevoke,
            Url::Shop | Url::ShopChoice { .. } | Url::ShopRetry { .. } => Route::Shop,
            Url::ShopCheck => Route::ShopCheck,
            Url::Book => Route::Book,
            Url::Bookings | Url::BookingsOf { .. } | Url::BookingsPage { .. } => Route::Bookings,
            Url::BookingsCsv(_) => Route::BookingsCsv,
            Url::Booking(_) | Url::BookingNotice(..) => Route::Booking,
            Url::BookingState(..) => Route::BookingState,
            Url::BookingResize(_) | Url::BookingResizeTo(..) => Route::BookingResize,
            Url::BookingResizeCheck(_) => Route::BookingResizeCheck,
            Url::BookingCancel(_) => Route::BookingCancel,
            Url::Environments => Route::Environments,
            Url::Environment(_) | Url::EnvironmentDissolved(_) => Route::Environment,
            Url::EnvironmentDissolve(_) => Route::EnvironmentDissolve,
            Url::Stages => Route::Stages,
            Url::Pipeline(_) | Url::PipelineNotice(..) => Route::Pipeline,
            Url::Releases(_) => Route::Releases,
            Url::PromotionRequest(_) => Route::PromotionRequest,
            Url::Approvals | Url::ApprovalsNotice(_) => Route::Approvals,
            Url::PromotionApprove(_) => Route::PromotionApprove,
            Url::PromotionReject(_) => Route::PromotionReject,
            Url::PromotionWithdraw(_) => Route::PromotionWithdraw,
            Url::KontingentRequestNew { .. } => Route::KontingentRequestNew,
            Url::KontingentApprove(_) => Route::KontingentApprove,
            Url::KontingentReject(_) => Route::KontingentReject,
            Url::KontingentWithdraw(_) => Route::KontingentWithdraw,
            Url::KontingentCosign(_) => Route::KontingentCosign,
            Url::DeploymentRetry(_) => Route::DeploymentRetry,
            Url::Billing | Url::BillingMonth(_) => Route::Billing,
            Url::MonthCsv { .. } => Route::MonthCsv,
            Url::Statement { .. } => Route::Statement,
            Url::StatementCsv { .. } => Route::StatementCsv,
            Url::Customers | Url::CustomersListed(_) => Route::Customers,
            Url::CustomersCsv(_) => Route::CustomersCsv,
            Url::Customer(_) => Route::Customer,
            Url::CustomerApplications(_) => Route::CustomerApplications,
            Url::Contracts | Url::ContractsListed(_) => Route::Contracts,
            Url::ContractsCsv(_) => Route::ContractsCsv,
            Url::ContractNew | Url::ContractNewFor(_) => Route::ContractNew,
            Url::ContractEdit(_) => Route::ContractEdit,
            Url::Catalogue | Url::CatalogueSize(_) => Route::Catalogue,
            Url::ProductCreate => Route::ProductCreate,
            Url::SizeUpdate(_) => Route::SizeUpdate,
            Url::PriceAdd => Route::PriceAdd,
            Url::PriceUpdate(_) => Route::PriceUpdate,
            Url::Provisioning => Route::Provisioning,
            Url::NotificationSettings => Route::NotificationSettings,
            Url::Webhooks => Route::Webhooks,
            Url::WebhookDelete(_) => Route::WebhookDelete,
            Url::Deliveries => Route::Deliveries,
            Url::Revision | Url::RevisionPage { .. } | Url::RevisionVerified => Route::Revision,
            Url::RevisionCsv { .. } => Route::RevisionCsv,
            Url::RevisionJsonl(_) => Route::RevisionJsonl,
            Url::RevisionVerify => Route::RevisionVerify,
        }
    }
}

impl Url {
    /// The path: the route's pattern with the parameters filled in.
    fn write_path(&self, f: &mut impl Write) -> fmt::Result {
        match self {
            Url::TokenRevoke(id) => write!(f, "/api-tokens/{id}/widerrufen"),
            Url::Booking(id) | Url::BookingNotice(id, _) => write!(f, "/buchungen/{id}"),
            Url::BookingResize(id) | Url::BookingResizeTo(id, _) => {
                write!(f, "/buchungen/{id}/groesse")
            }
            Url::BookingResizeCheck(id) => write!(f, "/buchungen/{id}/groesse/pruefen"),
            Url::BookingCancel(id) => write!(f, "/buchungen/{id}/kuendigen"),
            Url::BookingState(id, _) => write!(f, "/buchungen/{id}/zustand"),
            Url::Environment(id) | Url::EnvironmentDissolved(id) => {
                write!(f, "/umgebungen/{id}")
            }
            Url::EnvironmentDissolve(id) => write!(f, "/umgebungen/{id}/aufloesen"),
            Url::Pipeline(id) | Url::PipelineNotice(id, _) => write!(f, "/verfahren/{id}/stufen"),
            Url::Releases(id) => write!(f, "/verfahren/{id}/releases"),
            Url::PromotionRequest(id) => write!(f, "/verfahren/{id}/freigaben"),
            Url::PromotionApprove(id) => write!(f, "/freigaben/{id}/genehmigen"),
            Url::PromotionReject(id) => write!(f, "/freigaben/{id}/ablehnen"),
            Url::PromotionWithdraw(id) => write!(f, "/freigaben/{id}/zurueckziehen"),
            Url::KontingentRequestNew { contract, .. } => {
                write!(f, "/vertraege/{contract}/kontingent-antrag")
            }
            Url::KontingentApprove(id) => write!(f, "/kontingent-antraege/{id}/genehmigen"),
            Url::KontingentReject(id) => write!(f, "/kontingent-antraege/{id}/ablehnen"),
            Url::KontingentWithdraw(id) => write!(f, "/kontingent-antraege/{id}/zurueckziehen"),
            Url::KontingentCosign(id) => write!(f, "/kontingent-antraege/{id}/mitzeichnen"),
            Url::DeploymentRetry(id) => write!(f, "/bereitstellungen/{id}/wiederholen"),
            Url::MonthCsv { month, .. } => write!(f, "/abrechnung/{month}/csv"),
            Url::Statement { month, contract } => {
                write!(f, "/abrechnung/{month}/vertrag/{contract}")
            }
            Url::StatementCsv {
                month, contract, ..
            } => write!(f, "/abrechnung/{month}/vertrag/{contract}/csv"),
            Url::Customer(id) => write!(f, "/betrieb/kunden/{id}"),
            Url::CustomerApplications(id) => write!(f, "/betrieb/kunden/{id}/verfahren"),
            Url::ContractEdit(id) => write!(f, "/betrieb/vertraege/{id}"),
            Url::SizeUpdate(id) => write!(f, "/betrieb/katalog/groessen/{id}"),
            Url::PriceUpdate(id) => write!(f, "/betrieb/katalog/preise/{id}"),
            Url::WebhookDelete(id) => write!(f, "/webhooks/{id}/entfernen"),
            // Without parameters in the path, the path is the pattern.
            other => f.write_str(Route::of(other).pattern()),
        }
    }

    /// The query parameters, in the order they are written.
    fn query(&self) -> Vec<(&'static str, String)> {
        let rfc4180 = |yes: &bool| match yes {
            true => vec![("format", "rfc4180".to_owned())],
            false => Vec::new(),
        };
        match self {
            Url::CustomerOverview(id) | Url::ContractNewFor(id) => vec![("kunde", id.to_string())],
            Url::ShopChoice { product, size } => {
                vec![("produkt", product.clone()), ("groesse", size.to_string())]
            }
            Url::ShopRetry {
                application,
                stage,
                product,
                size,
            } => vec![
                ("verfahren", application.to_string()),
                ("stufe", stage.as_str().to_owned()),
                ("produkt", product.clone()),
                ("groesse", size.to_string()),
            ],
            Url::BookingResizeTo(_, size) => vec![("groesse", size.to_string())],
            Url::BookingsOf { application, stage } => vec![
                ("verfahren", application.to_string()),
                ("stufe", stage.as_str().to_owned()),
            ],
            Url::BookingsPage { filter, page } => {
                let mut q = vec![
                    ("verfahren", filter.application.clone()),
                    ("stufe", filter.stage.clone()),
                    ("status", filter.state.clone()),
                    ("produkt", filter.product.clone()),
                    ("groesse", filter.size.clone()),
                ];
                q.extend(
                    [("suche", &filter.text), ("sortierung", &filter.sort)]
                        .into_iter()
                        .filter(|(_, v)| !v.is_empty())
                        .map(|(k, v)| (k, v.clone())),
                );
                q.push(("seite", page.to_string()));
                q
            }
            Url::BookingsCsv(filter) => filter.given(),
            Url::BookingState(_, view) => match view {
                BookingStateView::Liste => Vec::new(),
                other => vec![("ansicht", other.as_str().to_owned())],
            },
            Url::CustomersListed(q)
            | Url::CustomersCsv(q)
            | Url::ContractsListed(q)
            | Url::ContractsCsv(q) => q.query(),
            Url::BookingNotice(_, notice) => vec![(notice.key(), "1".to_owned())],
            Url::EnvironmentDissolved(_) => vec![("aufgeloest", "1".to_owned())],
            Url::PipelineNotice(_, hinweis) | Url::ApprovalsNotice(hinweis) => {
                vec![("hinweis", hinweis.as_str().to_owned())]
            }
            Url::BillingMonth(month) => vec![("monat", month.to_string())],
            Url::Language { to, back } => {
                vec![("zu", to.code().to_owned()), ("zurueck", back.clone())]
            }
            Url::KontingentRequestNew { ask, .. } => [
                ("vcpu", &ask.vcpu),
                ("arbeitsspeicher", &ask.memory_gib),
                ("speicher", &ask.storage_gib),
                ("budget", &ask.monthly_budget),
            ]
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k, v.clone()))
            .collect(),
            Url::MonthCsv { rfc4180: yes, .. } | Url::StatementCsv { rfc4180: yes, .. } => {
                rfc4180(yes)
            }
            Url::RevisionPage { filter, start } => {
                let mut q = filter.query();
                match start {
                    RevisionStart::Newest => {}
                    RevisionStart::Older(id) => q.push(("vor", id.to_string())),
                    RevisionStart::Newer(id) => q.push(("nach", id.to_string())),
                }
                q
            }
            Url::RevisionVerified => vec![("geprueft", "1".to_owned())],
            Url::RevisionCsv {
                filter,
                rfc4180: yes,
            } => {
                let mut q = filter.query();
                q.extend(rfc4180(yes));
                q
            }
            Url::RevisionJsonl(filter) => filter.query(),
            _ => Vec::new(),
        }
    }

    /// The anchor on the page, without its `#`.
    fn anchor(&self) -> Option<String> {
        match self {
            Url::ShopChoice { .. } | Url::ShopRetry { .. } => Some("buchen".to_owned()),
            Url::CatalogueSize(id) => Some(format!("groesse-{id}")),
            Url::GlossaryTerm(term) => Some(term.anchor().to_owned()),
            _ => None,
        }
    }
}

impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_path(f)?;
        let query = self.query();
        if !query.is_empty() {
            let encoded = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(query)
                .finish();
            write!(f, "?{encoded}")?;
        }
        if let Some(anchor) = self.anchor() {
            write!(f, "#{anchor}")?;
        }
        Ok(())
    }
}

mod params;
mod queries;
pub use queries::{BookingFilter, BookingStateView, KontingentAsk, ListQuery, RevisionFilter};

#[cfg(test)]
mod tests;
