//! Katalog / Shop: products in S/M/L/XL, the booking form with what remains
//! of the Kontingent, a confirmation step and the booking itself.

use askama::Template;
use axum::{
    Form, Router,
    extract::{Query, State},
    response::Response,
    routing::{get, post},
};
use serde::Deserialize;

use super::{
    Layout, Nav, PageError, Route, Url,
    format::number_in,
    kontingent::Refusal,
    lang::{Lang, t},
    render, see_other,
    session::PageUser,
    urls::BookingNotice,
    view::{UsageBar, gib, usage_bars, vcpu},
};
use crate::{
    app::bookings::NewBooking,
    app::error::{Error, FieldErrors},
    db::{self, applications::Application, catalog::ProductWithSizes},
    domain::actor::Scope,
    domain::{Cents, HourlyRate, Size, Slug, Stage},
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(Route::Shop.pattern(), get(show))
        .route(Route::ShopCheck.pattern(), post(confirm))
        .route(Route::Book.pattern(), post(book))
}

/// The booking form as typed (strings, so a bad value can be shown again).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct BookingForm {
    #[serde(default)]
    pub application_id: String,
    #[serde(default)]
    pub stage: String,
    #[serde(default)]
    pub product: String,
    #[serde(default)]
    pub size: String,
}

impl BookingForm {
    fn parse(&self) -> Result<NewBooking, FieldErrors> {
        let mut e = FieldErrors::default();
        let application_id = self.application_id.parse::<i64>().ok();
        if application_id.is_none() {
            e.add("application_id", t("shop-choose-application"));
        }
        let stage = self.stage.parse::<Stage>().ok();
        if stage.is_none() {
            e.add("stage", t("shop-choose-stage"));
        }
        let product = Slug::parse(&self.product).ok();
        if product.is_none() {
            e.add("product", t("shop-choose-product"));
        }
        let size = self.size.parse::<Size>().ok();
        if size.is_none() {
            e.add("size", t("shop-choose-size"));
        }
        if !e.is_empty() {
            return Err(e);
        }
        Ok(NewBooking {
            application_id: application_id.expect("checked"),
            stage: stage.expect("checked"),
            product: product.expect("checked"),
            size: size.expect("checked"),
        })
    }
}

pub struct SizeCard {
    pub size: Size,
    pub resources: String,
    /// vCPU, memory and storage only (beside a refusal, where room is short).
    pub brief: String,
    pub per_hour: Option<String>,
    pub per_month: Option<String>,
}

pub struct ProductCard {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub sizes: Vec<SizeCard>,
}

pub(super) fn cards(products: Vec<ProductWithSizes>) -> Vec<ProductCard> {
    products
        .into_iter()
        .map(|p| ProductCard {
            slug: p.product.slug,
            name: p.product.name,
            description: p.product.description,
            sizes: p
                .sizes
                .iter()
                .map(|s| SizeCard {
                    size: s.size,
                    resources: describe(&s.resources()),
                    brief: describe(&crate::domain::Resources {
                        pods: 0,
                        ..s.resources()
                    }),
                    per_hour: s.rate().map(|r| number_in(Lang::current(), r.to_string())),
                    per_month: s
                        .rate()
                        .map(|r| number_in(Lang::current(), r.monthly().to_string())),
                })
                .collect(),
        })
        .collect()
}

/// A size that fits the Kontingent, offered beside a refusal.
pub struct FitChoice {
    pub size: Size,
    /// Where taking it leads (the form with this size chosen).
    pub url: Url,
    pub resources: String,
    pub per_month: Option<String>,
}

/// The sizes of the product `slug` that a refusal names as fitting, with
/// what they hold and cost (from the catalogue cards), S to XL; and the
/// product's name.
pub fn fit_choices(
    cards: &[ProductCard],
    slug: &str,
    refusal: Option<&Refusal>,
    take: impl Fn(Size) -> Url,
) -> (String, Vec<FitChoice>) {
    let (Some(card), Some(fitting)) = (
        cards.iter().find(|c| c.slug == slug),
        refusal.and_then(|r| r.fitting.as_ref()),
    ) else {
        return (String::new(), Vec::new());
    };
    let choices = card
        .sizes
        .iter()
        .filter(|s| fitting.contains(&s.size))
        .map(|s| FitChoice {
            size: s.size,
            url: take(s.size),
            resources: s.brief.clone(),
            per_month: s.per_month.clone(),
        })
        .collect();
    (card.name.clone(), choices)
}

pub struct RemainingView {
    pub number: String,
    pub bars: Vec<UsageBar>,
}

#[derive(Template)]
#[template(path = "shop.html")]
struct ShopPage {
    layout: Layout,
    products: Vec<ProductCard>,
    applications: Vec<Application>,
    stages: [Stage; 4],
    sizes: [Size; 4],
    remaining: Vec<RemainingView>,
    form: BookingForm,
    errors: FieldErrors,
    refusal: Option<super::kontingent::Refusal>,
    /// The product of a Kontingent refusal and its sizes that fit.
    fit_product: String,
    fit: Vec<FitChoice>,
    can_book: bool,
}

#[derive(Deserialize)]
struct Preselect {
    verfahren: Option<String>,
    stufe: Option<String>,
    produkt: Option<String>,
    groesse: Option<String>,
}

async fn shop_page(
    state: &AppState,
    page: &PageUser,
    form: BookingForm,
    errors: FieldErrors,
    refusal: Option<super::kontingent::Refusal>,
) -> Result<ShopPage, PageError> {
    let pool = &state.db.pool;
    let now = db::now();
    let products = cards(db::catalog::products(pool, now).await?);
    let user = &page.user;
    let can_book = user.has(crate::domain::Role::Systempfleger) && user.customer_id.is_some();
    let (applications, remaining) = match (can_book, user.scope()) {
        (true, Scope::Customer(id)) => {
            let scope = Scope::Customer(id);
            let contracts = db::contracts::list(pool, scope).await?;
            let usage = db::contracts::usage_of_all(pool, &contracts, scope, now).await?;
            let remaining = contracts
                .iter()
                .map(|k| RemainingView {
                    number: k.number.clone(),
                    bars: usage_bars(
                        &k.kontingent(),
                        &usage.get(&k.id).copied().unwrap_or_default(),
                    ),
                })
                .collect();
            (
                db::applications::list_for_customer(pool, id).await?,
                remaining,
            )
        }
        _ => (Vec::new(), Vec::new()),
    };
    // A Kontingent refusal comes only after the form parsed.
    let (fit_product, fit) = match form.parse() {
        Ok(chosen) => fit_choices(&products, &form.product, refusal.as_ref(), |size| {
            Url::ShopRetry {
                application: chosen.application_id,
                stage: chosen.stage,
                product: chosen.product.as_str().to_owned(),
                size,
            }
        }),
        Err(_) => (String::new(), Vec::new()),
    };
    Ok(ShopPage {
        layout: page.layout(t("nav-shop"), Nav::Shop),
        fit_product,
        fit,
        products,
        applications,
        stages: Stage::ALL,
        sizes: Size::ALL,
        remaining,
        form,
        errors,
        refusal,
        can_book,
    })
}

async fn show(
    State(state): State<AppState>,
    page: PageUser,
    Query(pre): Query<Preselect>,
) -> Result<Response, PageError> {
    let form = BookingForm {
        application_id: pre.verfahren.unwrap_or_default(),
        stage: pre.stufe.unwrap_or_default(),
        product: pre.produkt.unwrap_or_default(),
        size: pre.groesse.unwrap_or_default(),
    };
    render(&shop_page(&state, &page, form, FieldErrors::default(), None).await?)
}

#[derive(Template)]
#[template(path = "shop_confirm.html")]
struct ConfirmPage {
    layout: Layout,
    form: BookingForm,
    application: String,
    stage: Stage,
    product: String,
    size: Size,
    resources: String,
    per_hour: HourlyRate,
    per_month: Cents,
    after: Vec<UsageBar>,
}

/// Maps a refused booking back onto the form: field messages beside their
/// fields, Kontingent and contract refusals as a message above the form.
async fn refuse(
    state: &AppState,
    page: &PageUser,
    form: BookingForm,
    error: Error,
) -> Result<Response, PageError> {
    let (errors, refusal) = match error {
        Error::Validation(errors) => (errors, None),
        Error::NotFound => (
            FieldErrors::single("application_id", t("shop-no-such-application")),
            None,
        ),
        Error::Kontingent(k) => (FieldErrors::default(), Some(Refusal::of(&k))),
        Error::ContractNotValid(m) => (FieldErrors::default(), Some(Refusal::because(m))),
        other => return Err(other.into()),
    };
    let mut response = render(&shop_page(state, page, form, errors, refusal).await?)?;
    *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    Ok(response)
}

/// "4 vCPU, 16 GiB Arbeitsspeicher, bis 40 Pods", in the request's
/// language.
pub fn describe(r: &crate::domain::Resources) -> String {
    let lang = Lang::current();
    let mut parts = Vec::new();
    if r.millicpu > 0 {
        let n = number_in(lang, vcpu(&r.millicpu));
        parts.push(lang.t_with("resources-vcpu", &[("n", n.into())]));
    }
    if r.memory_mib > 0 {
        let n = number_in(lang, gib(&r.memory_mib));
        parts.push(lang.t_with("resources-memory", &[("n", n.into())]));
    }
    if r.storage_gib > 0 {
        let n = super::format::count_in(lang, r.storage_gib);
        parts.push(lang.t_with("resources-storage", &[("n", n.into())]));
    }
    if r.pods > 0 {
        let n = super::format::count_in(lang, r.pods);
        parts.push(lang.t_with("resources-pods", &[("n", n.into())]));
    }
    parts.join(", ")
}

async fn confirm(
    State(state): State<AppState>,
    page: PageUser,
    Form(form): Form<BookingForm>,
) -> Result<Response, PageError> {
    let request = match form.parse() {
        Ok(r) => r,
        Err(errors) => return refuse(&state, &page, form, Error::Validation(errors)).await,
    };
    let now = db::now();
    let plan = match crate::app::bookings::preview(&state.db, &page.user, &request, now).await {
        Ok(plan) => plan,
        Err(e) => return refuse(&state, &page, form, e).await,
    };
    let application =
        crate::app::applications::get(&state.db, &page.user, request.application_id).await?;
    let after = usage_bars(&plan.contract.kontingent(), &(plan.committed + plan.change));
    render(&ConfirmPage {
        layout: page.layout(t("shop-confirm-title"), Nav::Shop),
        resources: describe(&plan.size.resources()),
        application: application.name,
        stage: request.stage,
        product: plan.product.name.clone(),
        size: request.size,
        per_hour: plan.rate,
        per_month: plan.rate.monthly(),
        after,
        form,
    })
}

async fn book(
    State(state): State<AppState>,
    page: PageUser,
    Form(form): Form<BookingForm>,
) -> Result<Response, PageError> {
    let request = match form.parse() {
        Ok(r) => r,
        Err(errors) => return refuse(&state, &page, form, Error::Validation(errors)).await,
    };
    match crate::app::bookings::book(&state.db, &page.user, &request, None, db::now()).await {
        Ok(created) => Ok(see_other(Url::BookingNotice(
            created.id(),
            BookingNotice::Booked,
        ))),
        Err(e) => refuse(&state, &page, form, e).await,
    }
}
