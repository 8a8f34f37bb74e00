//! Revision: who did what, when, to which object — each entry as a
//! sentence in the page's language with its before/after values; filters, paging, the exports,
//! and for the Betreiber the state of the hash chain with its last
//! verification and a button to verify now.

use askama::Template;
use axum::{
    Router,
    extract::{Query, State},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::Deserialize;

use super::{
    Layout, Nav, PageError,
    lang::{t, t_with},
    render, see_other,
    session::PageUser,
    urls::{RevisionFilter, RevisionStart, Route, Url},
};
use crate::{
    app::{
        Error, FieldErrors,
        export::Format,
        revision::{self, ExportKind, RawFilter, chain},
    },
    db::{
        self,
        audit::{AuditRow, Filter, Start},
        audit_chain::{Head, Verification},
    },
    domain::{
        actor::Scope,
        audit::{self, Described, Names},
        policy,
    },
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(Route::Revision.pattern(), get(show))
        .route(Route::RevisionCsv.pattern(), get(export_csv))
        .route(Route::RevisionJsonl.pattern(), get(export_jsonl))
        .route(Route::RevisionVerify.pattern(), post(verify))
}

const PER_PAGE: i64 = 50;

/// The filters of the page, as in the address.
#[derive(Debug, Default, Deserialize)]
struct Params {
    von: Option<String>,
    bis: Option<String>,
    kunde: Option<String>,
    objektart: Option<String>,
    objekt: Option<String>,
    aktion: Option<String>,
    person: Option<String>,
    suche: Option<String>,
    /// The next page: entries older than this id.
    vor: Option<String>,
    /// The previous page: entries newer than this id.
    nach: Option<String>,
    /// `rfc4180` for the machine CSV.
    format: Option<String>,
    /// After "Kette jetzt prüfen".
    geprueft: Option<String>,
}

/// The page's names for the API's parameters (error messages arrive keyed
/// by the latter).
const FIELD_NAMES: [(&str, &str); 8] = [
    ("from", "von"),
    ("to", "bis"),
    ("customer_id", "kunde"),
    ("object_type", "objektart"),
    ("object_id", "objekt"),
    ("action", "aktion"),
    ("actor", "person"),
    ("q", "suche"),
];

impl Params {
    fn raw(&self) -> RawFilter<'_> {
        RawFilter {
            from: self.von.as_deref(),
            to: self.bis.as_deref(),
            customer_id: self.kunde.as_deref(),
            object_type: self.objektart.as_deref(),
            object_id: self.objekt.as_deref(),
            action: self.aktion.as_deref(),
            actor: self.person.as_deref(),
            q: self.suche.as_deref(),
        }
    }

    /// The filter, or the messages keyed by the page's field names.
    fn filter(&self) -> Result<Filter, FieldErrors> {
        match revision::parse_filter(&self.raw()) {
            Ok(f) => Ok(f),
            Err(Error::Validation(e)) => Err(FieldErrors(
                e.0.into_iter()
                    .map(|(field, m)| {
                        let page = FIELD_NAMES
                            .iter()
                            .find(|(api, _)| *api == field)
                            .map_or(field, |(_, page)| (*page).to_owned());
                        (page, m)
                    })
                    .collect(),
            )),
            Err(_) => Err(FieldErrors::default()),
        }
    }

    /// The filters as typed, for links (paging, exports).
    fn typed(&self) -> RevisionFilter {
        let v = Params::value;
        RevisionFilter {
            from: v(&self.von),
            to: v(&self.bis),
            customer: v(&self.kunde),
            object_type: v(&self.objektart),
            object: v(&self.objekt),
            action: v(&self.aktion),
            person: v(&self.person),
            text: v(&self.suche),
        }
    }

    fn value(v: &Option<String>) -> String {
        v.clone().unwrap_or_default()
    }
}

/// An entry as the list shows it.
pub struct Row {
    pub id: i64,
    pub at: String,
    pub customer: String,
    pub entry: Described,
    /// "Buchung 17", linked where the object has a page.
    pub object: String,
    pub href: Option<Url>,
}

/// The page of an object, where it has one the person may open.
fn object_href(row: &AuditRow, betreiber: bool) -> Option<Url> {
    let id = row.object_id;
    match row.object_type.as_str() {
        "booking" => Some(Url::Booking(id)),
        "environment" => Some(Url::Environment(id)),
        "application" => Some(Url::Pipeline(id)),
        "contract" if betreiber => Some(Url::ContractEdit(id)),
        "customer" if betreiber => Some(Url::Customer(id)),
        _ => None,
    }
}

fn row(r: &AuditRow, names: &Names, betreiber: bool) -> Row {
    Row {
        id: r.id,
        at: crate::web::format::date_time(r.at),
        customer: r.customer_name.clone().unwrap_or_else(|| "–".into()),
        entry: revision::describe(r, names),
        object: format!("{} {}", audit::object_noun(&r.object_type), r.object_id),
        href: object_href(r, betreiber),
    }
}

/// The chain as the Betreiber sees it.
pub struct ChainView {
    pub head: Head,
    pub latest: Option<Verification>,
    pub latest_at: String,
    pub checkpoint_at: Option<String>,
}

pub struct Choice {
    pub value: String,
    pub label: String,
}

#[derive(Template)]
#[template(path = "revision.html")]
struct Page {
    layout: Layout,
    notice: Option<String>,
    betreiber: bool,
    chain: Option<ChainView>,
    errors: FieldErrors,
    f_von: String,
    f_bis: String,
    f_kunde: String,
    f_objektart: String,
    f_objekt: String,
    f_aktion: String,
    f_person: String,
    f_suche: String,
    customers: Vec<Choice>,
    object_types: Vec<Choice>,
    actions: Vec<Choice>,
    rows: Vec<Row>,
    /// The links of the page: to the newest entries (when paged), to
    /// newer and older ones, and the exports of this selection.
    newest: Option<Url>,
    newer: Option<Url>,
    older: Option<Url>,
    csv: Url,
    csv_rfc4180: Url,
    jsonl: Url,
}

fn start(p: &Params) -> Result<Start, PageError> {
    let id = |v: &str| {
        v.parse::<i64>()
            .ok()
            .filter(|id| *id > 0)
            .ok_or_else(|| PageError::BadForm(t("revision-no-such-page")))
    };
    match (p.vor.as_deref(), p.nach.as_deref()) {
        (Some(v), _) if !v.is_empty() => Ok(Start::Before(id(v)?)),
        (_, Some(n)) if !n.is_empty() => Ok(Start::After(id(n)?)),
        _ => Ok(Start::Newest),
    }
}

async fn show(
    State(state): State<AppState>,
    page: PageUser,
    Query(p): Query<Params>,
) -> Result<Response, PageError> {
    let user = &page.user;
    let scope = policy::read_audit(user).map_err(Error::from)?;
    let betreiber = scope == Scope::All;
    let start = start(&p)?;
    let (rows, older, newer, errors) = match p.filter() {
        Ok(filter) => {
            let listed = revision::list(&state.db, user, &filter, start, PER_PAGE).await?;
            let rows: Vec<Row> = listed
                .rows
                .iter()
                .map(|r| row(r, &listed.names, betreiber))
                .collect();
            let older = listed.older.then(|| rows.last().map(|r| r.id)).flatten();
            let newer = listed.newer.then(|| rows.first().map(|r| r.id)).flatten();
            (rows, older, newer, FieldErrors::default())
        }
        Err(errors) => (Vec::new(), None, None, errors),
    };
    let chain = if betreiber {
        let status = chain::status(&state.db, user).await?;
        Some(ChainView {
            latest_at: status
                .latest
                .as_ref()
                .map(|v| crate::web::format::date_time(v.finished_at))
                .unwrap_or_default(),
            checkpoint_at: status.head.checkpoint_at.map(crate::web::format::date_time),
            head: status.head,
            latest: status.latest,
        })
    } else {
        None
    };
    let customers = if betreiber {
        db::customers::list(&state.db.pool, Scope::All)
            .await?
            .into_iter()
            .map(|c| Choice {
                value: c.id.to_string(),
                label: c.name,
            })
            .collect()
    } else {
        Vec::new()
    };
    let notice = p
        .geprueft
        .as_ref()
        .and(chain.as_ref())
        .map(|c| match c.latest.as_ref() {
            Some(v) if v.intact == 1 => t_with(
                "revision-verified-intact",
                &[("entries", super::format::count(v.entries).into())],
            ),
            _ => t("revision-verified-broken"),
        });
    let invalid = !errors.is_empty();
    let typed = p.typed();
    let at = |start| Url::RevisionPage {
        filter: typed.clone(),
        start,
    };
    let page_html = Page {
        layout: page.layout(t("nav-revision"), Nav::Revision),
        notice,
        betreiber,
        chain,
        f_von: Params::value(&p.von),
        f_bis: Params::value(&p.bis),
        f_kunde: Params::value(&p.kunde),
        f_objektart: Params::value(&p.objektart),
        f_objekt: Params::value(&p.objekt),
        f_aktion: Params::value(&p.aktion),
        f_person: Params::value(&p.person),
        f_suche: Params::value(&p.suche),
        customers,
        object_types: audit::object_types()
            .map(|(value, label)| Choice {
                value: value.into(),
                label,
            })
            .collect(),
        actions: audit::actions()
            .map(|(value, label)| Choice {
                value: value.into(),
                label,
            })
            .collect(),
        rows,
        newest: (start != Start::Newest).then(|| at(RevisionStart::Newest)),
        newer: newer.map(|id| at(RevisionStart::Newer(id))),
        older: older.map(|id| at(RevisionStart::Older(id))),
        csv: Url::RevisionCsv {
            filter: typed.clone(),
            rfc4180: false,
        },
        csv_rfc4180: Url::RevisionCsv {
            filter: typed.clone(),
            rfc4180: true,
        },
        jsonl: Url::RevisionJsonl(typed.clone()),
        errors,
    };
    let mut response = render(&page_html)?;
    if invalid {
        *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

async fn export(
    state: &AppState,
    page: &PageUser,
    p: &Params,
    kind: ExportKind,
) -> Result<Response, PageError> {
    policy::read_audit(&page.user).map_err(Error::from)?;
    let filter = p.filter().map_err(|e| PageError::BadForm(e.to_string()))?;
    let export = revision::export(&state.db, &page.user, filter, kind, db::now()).await?;
    Ok(export.into_response())
}

async fn export_csv(
    State(state): State<AppState>,
    page: PageUser,
    Query(p): Query<Params>,
) -> Result<Response, PageError> {
    let format = Format::parse(p.format.as_deref())
        .ok_or_else(|| PageError::BadForm(t("list-bad-format")))?;
    export(&state, &page, &p, ExportKind::Csv(format)).await
}

async fn export_jsonl(
    State(state): State<AppState>,
    page: PageUser,
    Query(p): Query<Params>,
) -> Result<Response, PageError> {
    export(&state, &page, &p, ExportKind::JsonLines).await
}

/// "Kette jetzt prüfen" (Betreiber): walks the chain, stores the outcome,
/// and shows it on the page.
async fn verify(State(state): State<AppState>, page: PageUser) -> Result<Response, PageError> {
    chain::verify_as(&state.db, &page.user, db::now()).await?;
    Ok(see_other(Url::RevisionVerified))
}
