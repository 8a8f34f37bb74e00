use askama::Template;
use axum::{
    Form, Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse as _, Response},
    routing::get,
};
use serde::Deserialize;

use super::{field_errors, path_id, require_betreiber};
use crate::web::lang::t;
use crate::{
    app,
    app::{error::FieldErrors, export},
    db::{self, contracts::Contract, customers::Customer},
    domain::{
        Kontingent,
        actor::Scope,
        contract::{
            BillingModel, MAX_HAUSHALTSSTELLE, MAX_KOSTENSTELLE, MAX_LEITWEG_ID, MAX_NUMBER,
            MAX_TITLE, Terms, Validity, base_fee_only_mixed, ends_before_start, is_contract_number,
            is_leitweg_id, leitweg_rule, number_rule,
        },
        kontingent::{BelowUse, Commitment, Limit},
        money::format_plain,
    },
    state::AppState,
    web::{
        Layout, Nav, PageError, Route, Url,
        form::Fields,
        listing::{self as web_listing, Column, ListParams, Listing},
        render, see_other,
        session::PageUser,
        urls::ListQuery,
        view::{UsageBar, usage_bars},
    },
};

/// The Betreiber's contract form, as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct ContractForm {
    #[serde(default)]
    pub customer_id: String,
    pub number: String,
    pub title: String,
    pub valid_from: String,
    pub valid_until: String,
    pub kostenstelle: String,
    pub haushaltsstelle: String,
    pub leitweg_id: String,
    pub billing_model: String,
    pub base_fee: String,
    pub max_vcpu: String,
    pub max_memory_gib: String,
    pub max_storage_gib: String,
    pub monthly_budget: String,
    /// The checkbox that confirms ceilings below what is booked.
    #[serde(default)]
    pub confirm_below_use: String,
    /// The version of the terms the form was filled from
    /// ([`Terms::version`]): a save over someone else's change is refused.
    #[serde(default)]
    pub version: String,
}

impl ContractForm {
    /// The form pre-filled with a contract, for editing.
    pub fn of(k: &Contract) -> ContractForm {
        ContractForm {
            customer_id: k.customer_id.to_string(),
            number: k.number.clone(),
            title: k.title.clone(),
            valid_from: k.valid_from.to_string(),
            valid_until: k.valid_until.to_string(),
            kostenstelle: k.kostenstelle.clone(),
            haushaltsstelle: k.haushaltsstelle.clone(),
            leitweg_id: k.leitweg_id.clone(),
            billing_model: k.billing_model.as_str().into(),
            base_fee: k.base_fee().to_input(),
            max_vcpu: (k.max_millicpu / 1000).to_string(),
            max_memory_gib: (k.max_memory_mib / 1024).to_string(),
            max_storage_gib: k.max_storage_gib.to_string(),
            monthly_budget: k.kontingent().monthly_budget.to_input(),
            confirm_below_use: String::new(),
            version: k.terms().map(|t| t.version()).unwrap_or_default(),
        }
    }

    fn confirms_below_use(&self) -> bool {
        self.confirm_below_use == "ja"
    }

    /// The customer chosen and the terms, or every field's message.
    pub fn parse(&self) -> Result<(i64, Terms), FieldErrors> {
        let mut f = Fields::default();
        let customer_id = f.choice(
            "customer_id",
            &self.customer_id,
            &t("admin-choose-customer"),
        );
        let number = f.text("number", &self.number, MAX_NUMBER);
        if number
            .as_ref()
            .is_some_and(|n| !is_contract_number(n.as_str()))
        {
            f.add("number", number_rule());
        }
        let title = f.text("title", &self.title, MAX_TITLE);
        let from = f.date("valid_from", &self.valid_from);
        let until = f.date("valid_until", &self.valid_until);
        if let (Some(from), Some(until)) = (from, until)
            && until < from
        {
            f.add("valid_until", ends_before_start());
        }
        let kostenstelle = f.text("kostenstelle", &self.kostenstelle, MAX_KOSTENSTELLE);
        let haushaltsstelle = f.text(
            "haushaltsstelle",
            &self.haushaltsstelle,
            MAX_HAUSHALTSSTELLE,
        );
        let leitweg_id = f.text("leitweg_id", &self.leitweg_id, MAX_LEITWEG_ID);
        if leitweg_id
            .as_ref()
            .is_some_and(|l| !is_leitweg_id(l.as_str()))
        {
            f.add("leitweg_id", leitweg_rule());
        }
        let billing_model = self.billing_model.parse::<BillingModel>().ok();
        if billing_model.is_none() {
            f.add("billing_model", t("admin-choose-billing-model"));
        }
        let base_fee = f.money("base_fee", &self.base_fee, true);
        if billing_model == Some(BillingModel::Nutzung) && base_fee.is_some_and(|c| c.0 > 0) {
            f.add("base_fee", base_fee_only_mixed());
        }
        let max_vcpu = f.whole_number("max_vcpu", &self.max_vcpu, 100_000);
        let max_memory_gib = f.whole_number("max_memory_gib", &self.max_memory_gib, 1_000_000);
        let max_storage_gib = f.whole_number("max_storage_gib", &self.max_storage_gib, 100_000_000);
        let monthly_budget = f.money("monthly_budget", &self.monthly_budget, false);
        f.finish(|| {
            (
                customer_id.expect("checked"),
                Terms {
                    number: number.expect("checked"),
                    title: title.expect("checked"),
                    validity: Validity {
                        from: from.expect("checked"),
                        until: until.expect("checked"),
                    },
                    kostenstelle: kostenstelle.expect("checked"),
                    haushaltsstelle: haushaltsstelle.expect("checked"),
                    leitweg_id: leitweg_id.expect("checked"),
                    billing_model: billing_model.expect("checked"),
                    base_fee: base_fee.expect("checked"),
                    kontingent: Kontingent {
                        millicpu: max_vcpu.expect("checked") * 1000,
                        memory_mib: max_memory_gib.expect("checked") * 1024,
                        storage_gib: max_storage_gib.expect("checked"),
                        monthly_budget: monthly_budget.expect("checked"),
                    },
                },
            )
        })
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route(Route::Contracts.pattern(), get(list).post(create))
        .route(Route::ContractsCsv.pattern(), get(list_csv))
        .route(Route::ContractNew.pattern(), get(new))
        .route(Route::ContractEdit.pattern(), get(edit).post(update))
}

pub struct Line {
    pub contract: Contract,
    pub bars: Vec<UsageBar>,
}

#[derive(Template)]
#[template(path = "admin_contracts.html")]
struct ListPage {
    layout: Layout,
    lines: Vec<Line>,
    /// The search and order as typed.
    f_text: String,
    f_sort: String,
    columns: Vec<Column>,
    csv: Url,
    errors: FieldErrors,
}

/// Search and order of the list, as the API's `q` and `sort`.
fn listing(p: &ListParams) -> Listing {
    Listing::parse(
        p.suche.as_deref(),
        p.sortierung.as_deref(),
        app::contracts::SORTS,
        "number",
    )
}

async fn list(
    State(state): State<AppState>,
    page: PageUser,
    Query(p): Query<ListParams>,
) -> Result<Response, PageError> {
    require_betreiber(&page)?;
    let listing = listing(&p);
    let wanted = app::contracts::Wanted {
        customer_id: None,
        text: listing.text.clone(),
    };
    let found =
        app::contracts::search(&state.db, &page.user, &wanted, listing.sort, db::now()).await?;
    let lines = found
        .into_iter()
        .map(|(k, used)| Line {
            bars: usage_bars(&k.kontingent(), &used),
            contract: k,
        })
        .collect();
    let text = p.suche.clone().unwrap_or_default();
    let sort = match listing.errors.get("sortierung") {
        Some(_) => String::new(),
        None => p.sortierung.clone().unwrap_or_default(),
    };
    let sorted = |sort: String| {
        Url::ContractsListed(ListQuery {
            text: text.clone(),
            sort,
        })
    };
    let columns = vec![
        Column::new("col-contract", "number", listing.sort, sorted),
        Column::new("col-customer", "customer", listing.sort, sorted),
        Column::new("col-term", "valid_from", listing.sort, sorted),
    ];
    let invalid = !listing.errors.is_empty();
    let mut response = render(&ListPage {
        layout: page.layout(t("nav-contracts"), Nav::Contracts),
        lines,
        csv: Url::ContractsCsv(ListQuery {
            text: text.clone(),
            sort: sort.clone(),
        }),
        f_text: text,
        f_sort: sort,
        columns,
        errors: listing.errors,
    })?;
    if invalid {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

/// The columns of the contract list's CSV.
const CSV_COLUMNS: [&str; 16] = [
    "Vertragsnummer",
    "Titel",
    "Kunde",
    "Gültig ab",
    "Gültig bis",
    "Abrechnung",
    "Grundgebühr (EUR)",
    "Kostenstelle",
    "Haushaltsstelle",
    "Leitweg-ID",
    "vCPU gebucht",
    "vCPU Kontingent",
    "Arbeitsspeicher gebucht (GiB)",
    "Arbeitsspeicher Kontingent (GiB)",
    "Speicher gebucht (GiB)",
    "Speicher Kontingent (GiB)",
];

/// The list as CSV, searched and sorted as on the page.
async fn list_csv(
    State(state): State<AppState>,
    page: PageUser,
    Query(p): Query<ListParams>,
) -> Result<Response, PageError> {
    require_betreiber(&page)?;
    let listing = listing(&p);
    if let Some(message) = listing.refusal() {
        return Err(PageError::BadForm(message));
    }
    let format = web_listing::format(p.format.as_deref()).map_err(PageError::BadForm)?;
    let wanted = app::contracts::Wanted {
        customer_id: None,
        text: listing.text,
    };
    let found =
        app::contracts::search(&state.db, &page.user, &wanted, listing.sort, db::now()).await?;
    let d = format.decimal();
    let rows = found.into_iter().map(|(k, used)| {
        let max = k.kontingent();
        vec![
            k.number.clone(),
            k.title.clone(),
            k.customer_name.clone(),
            k.valid_from.to_string(),
            k.valid_until.to_string(),
            k.billing_model_label().to_owned(),
            format_plain(k.base_fee_cents, 2, d),
            k.kostenstelle.clone(),
            k.haushaltsstelle.clone(),
            k.leitweg_id.clone(),
            format_plain(used.resources.millicpu, 3, d),
            format_plain(max.millicpu, 3, d),
            format_plain(used.resources.memory_mib * 1000 / 1024, 3, d),
            format_plain(max.memory_mib * 1000 / 1024, 3, d),
            used.resources.storage_gib.to_string(),
            max.storage_gib.to_string(),
        ]
    });
    Ok(export::table("vertraege.csv", format, &CSV_COLUMNS, rows).into_response())
}

#[derive(Template)]
#[template(path = "admin_contract_form.html")]
struct FormPage {
    layout: Layout,
    /// `None` for a new contract.
    id: Option<i64>,
    /// Where the form posts: the contract, or the list for a new one.
    action: Url,
    customers: Vec<Customer>,
    form: ContractForm,
    errors: FieldErrors,
    hints: Hints,
    /// Ceilings lowered below what is booked: the form asks to confirm.
    below: Vec<BelowUse>,
}

/// The hints beside the Kontingent fields: of a contract, what is booked
/// under it now.
struct Hints {
    vcpu: String,
    memory: String,
    storage: String,
    budget: String,
}

impl Hints {
    fn of(booked: Option<&Commitment>) -> Hints {
        let lang = crate::web::lang::Lang::current();
        let with = |hint: &str, limit: Limit| match booked {
            Some(b) => lang.t_with(
                "contract-hint-booked",
                &[
                    ("hint", lang.t(hint).into()),
                    (
                        "booked",
                        crate::web::view::limit_value(lang, limit, b.of(limit)).into(),
                    ),
                ],
            ),
            None => lang.t(hint),
        };
        Hints {
            vcpu: with("contract-hint-whole", Limit::Vcpu),
            memory: with("contract-hint-whole", Limit::Memory),
            storage: with("contract-hint-whole", Limit::Storage),
            budget: with("contract-hint-money", Limit::MonthlyBudget),
        }
    }
}

/// What the form shows besides the typed values.
#[derive(Default)]
struct Shown {
    errors: FieldErrors,
    below: Vec<BelowUse>,
}

impl Shown {
    /// A refused save: the messages by field, or the ceilings to confirm.
    fn of(e: app::Error) -> Result<Shown, PageError> {
        match e {
            app::Error::BelowUse(below) => Ok(Shown {
                errors: FieldErrors::default(),
                below,
            }),
            e => Ok(Shown {
                errors: field_errors(e)?,
                below: Vec::new(),
            }),
        }
    }
}

async fn form_page(
    state: &AppState,
    page: &PageUser,
    contract: Option<&Contract>,
    form: ContractForm,
    shown: Shown,
) -> Result<Response, PageError> {
    let customers = db::customers::list(&state.db.pool, Scope::All).await?;
    let booked = match contract {
        Some(k) => Some(db::contracts::usage(&state.db.pool, k, db::now()).await?),
        None => None,
    };
    let status = if !shown.below.is_empty() {
        StatusCode::CONFLICT
    } else if !shown.errors.is_empty() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let id = contract.map(|k| k.id);
    let title = t(if id.is_some() {
        "contract-edit-title"
    } else {
        "admin-contract-new"
    });
    let mut response = render(&FormPage {
        layout: page.layout(title, Nav::Contracts),
        action: id.map_or(Url::Contracts, Url::ContractEdit),
        id,
        customers,
        form,
        errors: shown.errors,
        hints: Hints::of(booked.as_ref()),
        below: shown.below,
    })?;
    *response.status_mut() = status;
    Ok(response)
}

#[derive(Deserialize)]
struct NewParams {
    kunde: Option<String>,
}

async fn new(
    State(state): State<AppState>,
    page: PageUser,
    Query(p): Query<NewParams>,
) -> Result<Response, PageError> {
    require_betreiber(&page)?;
    let form = ContractForm {
        customer_id: p.kunde.unwrap_or_default(),
        billing_model: BillingModel::Nutzung.as_str().into(),
        ..ContractForm::default()
    };
    form_page(&state, &page, None, form, Shown::default()).await
}

async fn create(
    State(state): State<AppState>,
    page: PageUser,
    Form(form): Form<ContractForm>,
) -> Result<Response, PageError> {
    require_betreiber(&page)?;
    let created = match form.parse() {
        Ok((customer_id, terms)) => {
            app::contracts::create(&state.db, &page.user, customer_id, &terms, db::now()).await
        }
        Err(errors) => Err(app::Error::Validation(errors)),
    };
    match created {
        Ok(_) => Ok(see_other(Url::Contracts)),
        Err(e) => form_page(&state, &page, None, form, Shown::of(e)?).await,
    }
}

async fn edit(
    State(state): State<AppState>,
    page: PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    require_betreiber(&page)?;
    let id = path_id(&id)?;
    let contract = app::contracts::get(&state.db, &page.user, id).await?;
    let form = ContractForm::of(&contract);
    form_page(&state, &page, Some(&contract), form, Shown::default()).await
}

async fn update(
    State(state): State<AppState>,
    page: PageUser,
    Path(id): Path<String>,
    Form(mut form): Form<ContractForm>,
) -> Result<Response, PageError> {
    require_betreiber(&page)?;
    let id = path_id(&id)?;
    // The customer of a contract never changes: what the form says of it
    // does not count.
    let contract = app::contracts::get(&state.db, &page.user, id).await?;
    form.customer_id = contract.customer_id.to_string();
    let updated = match form.parse() {
        Ok((_, terms)) => {
            let confirmed = form.confirms_below_use();
            let version = Some(form.version.as_str()).filter(|v| !v.is_empty());
            app::contracts::update(
                &state.db,
                &page.user,
                id,
                &terms,
                version,
                confirmed,
                db::now(),
            )
            .await
        }
        Err(errors) => Err(app::Error::Validation(errors)),
    };
    match updated {
        Ok(()) => Ok(see_other(Url::Contracts)),
        Err(e) => form_page(&state, &page, Some(&contract), form, Shown::of(e)?).await,
    }
}
