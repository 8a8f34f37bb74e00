use crate::web::lang::t;
use askama::Template;
use axum::{
    Form, Router,
    extract::{Path, State},
    http::StatusCode,
    response::Response,
    routing::{get, post},
};

use super::{field_errors, path_id, require_betreiber};
use crate::{
    app::{
        self,
        catalog::{NewPrice, NewProduct},
        error::{Error, FieldErrors},
    },
    db::{
        self,
        catalog::{PriceVersion, SizeRow},
    },
    domain::{HourlyRate, Resources, Slug, calendar::berlin_date},
    state::AppState,
    web::{
        Layout, Nav, PageError, Route, Url, form::Fields, format, render, see_other,
        session::PageUser,
    },
};

/// The form for a new price version, as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct PriceInput {
    pub product_size_id: String,
    pub valid_from: String,
    pub rate: String,
}

impl PriceInput {
    fn parse(&self) -> Result<NewPrice, FieldErrors> {
        let mut f = Fields::default();
        let size = f.choice(
            "product_size_id",
            &self.product_size_id,
            &t("shop-choose-size"),
        );
        let valid_from = f.date("valid_from", &self.valid_from);
        let rate = HourlyRate::parse(&self.rate)
            .map_err(|e| f.add("rate", e.to_string()))
            .ok();
        f.finish(|| NewPrice {
            product_size_id: size.expect("checked"),
            valid_from: valid_from.expect("checked"),
            rate: rate.expect("checked"),
        })
    }
}

/// The form of a size's resources, as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct SizeInput {
    pub vcpu: String,
    pub memory_gib: String,
    pub storage_gib: String,
    pub pods: String,
}

impl SizeInput {
    fn parse(&self) -> Result<Resources, FieldErrors> {
        let mut f = Fields::default();
        let vcpu = f.whole_number("vcpu", &self.vcpu, 1024);
        let memory = f.whole_number("memory_gib", &self.memory_gib, 16_384);
        let storage = f.whole_number("storage_gib", &self.storage_gib, 1_000_000);
        let pods = f.whole_number("pods", &self.pods, 10_000);
        f.finish(|| Resources {
            millicpu: vcpu.expect("checked") * 1000,
            memory_mib: memory.expect("checked") * 1024,
            storage_gib: storage.expect("checked"),
            pods: pods.expect("checked"),
        })
    }
}

/// The form for a new product, as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct ProductInput {
    pub slug: String,
    pub name: String,
    pub description: String,
}

impl ProductInput {
    fn parse(&self) -> Result<NewProduct, FieldErrors> {
        let mut f = Fields::default();
        let slug = Slug::parse(&self.slug)
            .map_err(|e| f.add("slug", e.to_string()))
            .ok();
        let name = f.text("name", &self.name, 120);
        let description = f.lines("description", &self.description, 1000);
        f.finish(|| NewProduct {
            slug: slug.expect("checked"),
            name: name.expect("checked"),
            description: description.expect("checked"),
        })
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route(Route::Catalogue.pattern(), get(show))
        .route(Route::ProductCreate.pattern(), post(create_product))
        .route(Route::SizeUpdate.pattern(), post(update_size))
        .route(Route::PriceAdd.pattern(), post(add_price))
        .route(Route::PriceUpdate.pattern(), post(update_price))
}

pub struct PriceLine {
    pub id: i64,
    pub from: String,
    pub rate: HourlyRate,
    pub future: bool,
    pub current: bool,
}

pub struct SizeBlock {
    pub row: SizeRow,
    pub label: String,
    pub input: SizeInput,
    pub errors: FieldErrors,
    pub prices: Vec<PriceLine>,
}

pub struct ProductBlock {
    pub name: String,
    pub slug: String,
    pub sizes: Vec<SizeBlock>,
}

#[derive(Template)]
#[template(path = "admin_catalog.html")]
struct CataloguePage {
    layout: Layout,
    products: Vec<ProductBlock>,
    size_options: Vec<(i64, String)>,
    price_form: PriceInput,
    price_errors: FieldErrors,
    price_edit_error: Option<(i64, String)>,
    product_form: ProductInput,
    product_errors: FieldErrors,
}

impl CataloguePage {
    fn edit_error(&self, price_id: &i64) -> Option<&str> {
        self.price_edit_error
            .as_ref()
            .filter(|(id, _)| id == price_id)
            .map(|(_, m)| m.as_str())
    }
}

#[derive(Default)]
struct Failed {
    size: Option<(i64, SizeInput, FieldErrors)>,
    price: Option<(PriceInput, FieldErrors)>,
    price_edit: Option<(i64, String)>,
    product: Option<(ProductInput, FieldErrors)>,
}

fn size_input(s: &SizeRow) -> SizeInput {
    SizeInput {
        vcpu: (s.millicpu / 1000).to_string(),
        memory_gib: (s.memory_mib / 1024).to_string(),
        storage_gib: s.storage_gib.to_string(),
        pods: s.pods.to_string(),
    }
}

async fn page_with(
    state: &AppState,
    page: &PageUser,
    mut failed: Failed,
) -> Result<Response, PageError> {
    let pool = &state.db.pool;
    let now = db::now();
    let products = db::catalog::products(pool, now).await?;
    let versions: Vec<PriceVersion> = db::catalog::price_versions(pool).await?;
    let any_failed = failed.size.is_some()
        || failed.price.is_some()
        || failed.price_edit.is_some()
        || failed.product.is_some();
    let mut size_options = Vec::new();
    let blocks = products
        .into_iter()
        .map(|p| {
            let sizes = p
                .sizes
                .into_iter()
                .map(|s| {
                    let mine: Vec<&PriceVersion> = versions
                        .iter()
                        .filter(|v| v.product_size_id == s.id)
                        .collect();
                    let current_id = mine
                        .iter()
                        .filter(|v| v.valid_from <= now)
                        .map(|v| v.id)
                        .next_back();
                    let prices = mine
                        .iter()
                        .map(|v| PriceLine {
                            id: v.id,
                            // A price starts at a German midnight: the day says it.
                            from: format::date(berlin_date(v.valid_from)),
                            rate: HourlyRate(v.rate),
                            future: v.valid_from > now,
                            current: Some(v.id) == current_id,
                        })
                        .collect();
                    let (input, errors) = match failed.size.take() {
                        Some((id, input, errors)) if id == s.id => (input, errors),
                        other => {
                            failed.size = other;
                            (size_input(&s), FieldErrors::default())
                        }
                    };
                    size_options.push((s.id, format!("{} {}", p.product.name, s.size)));
                    SizeBlock {
                        label: format!("{} {}", p.product.name, s.size),
                        row: s,
                        input,
                        errors,
                        prices,
                    }
                })
                .collect();
            ProductBlock {
                name: p.product.name,
                slug: p.product.slug,
                sizes,
            }
        })
        .collect();
    let (price_form, price_errors) = failed.price.unwrap_or_default();
    let (product_form, product_errors) = failed.product.unwrap_or_default();
    let mut response = render(&CataloguePage {
        layout: page.layout(t("nav-catalogue"), Nav::Catalogue),
        products: blocks,
        size_options,
        price_form,
        price_errors,
        price_edit_error: failed.price_edit,
        product_form,
        product_errors,
    })?;
    if any_failed {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

async fn show(State(state): State<AppState>, page: PageUser) -> Result<Response, PageError> {
    require_betreiber(&page)?;
    page_with(&state, &page, Failed::default()).await
}

async fn create_product(
    State(state): State<AppState>,
    page: PageUser,
    Form(form): Form<ProductInput>,
) -> Result<Response, PageError> {
    require_betreiber(&page)?;
    let created = match form.parse() {
        Ok(new) => app::catalog::create_product(&state.db, &page.user, &new, db::now()).await,
        Err(errors) => Err(Error::Validation(errors)),
    };
    match created {
        Ok(_) => Ok(see_other(Url::Catalogue)),
        Err(e) => {
            let errors = field_errors(e)?;
            page_with(
                &state,
                &page,
                Failed {
                    product: Some((form, errors)),
                    ..Failed::default()
                },
            )
            .await
        }
    }
}

async fn update_size(
    State(state): State<AppState>,
    page: PageUser,
    Path(id): Path<String>,
    Form(form): Form<SizeInput>,
) -> Result<Response, PageError> {
    require_betreiber(&page)?;
    let id = path_id(&id)?;
    let updated = match form.parse() {
        Ok(r) => app::catalog::update_size(&state.db, &page.user, id, &r, db::now()).await,
        Err(errors) => Err(Error::Validation(errors)),
    };
    match updated {
        Ok(()) => Ok(see_other(Url::CatalogueSize(id))),
        Err(e) => {
            let errors = field_errors(e)?;
            page_with(
                &state,
                &page,
                Failed {
                    size: Some((id, form, errors)),
                    ..Failed::default()
                },
            )
            .await
        }
    }
}

async fn add_price(
    State(state): State<AppState>,
    page: PageUser,
    Form(form): Form<PriceInput>,
) -> Result<Response, PageError> {
    require_betreiber(&page)?;
    let added = match form.parse() {
        Ok(new) => app::catalog::add_price(&state.db, &page.user, &new, db::now()).await,
        Err(errors) => Err(Error::Validation(errors)),
    };
    match added {
        Ok(_) => Ok(see_other(Url::Catalogue)),
        Err(e) => {
            let errors = field_errors(e)?;
            page_with(
                &state,
                &page,
                Failed {
                    price: Some((form, errors)),
                    ..Failed::default()
                },
            )
            .await
        }
    }
}

#[derive(serde::Deserialize)]
struct RateForm {
    #[serde(default)]
    rate: String,
}

async fn update_price(
    State(state): State<AppState>,
    page: PageUser,
    Path(id): Path<String>,
    Form(form): Form<RateForm>,
) -> Result<Response, PageError> {
    require_betreiber(&page)?;
    let id = path_id(&id)?;
    let updated = match HourlyRate::parse(&form.rate) {
        Ok(rate) => app::catalog::update_price(&state.db, &page.user, id, rate, db::now()).await,
        Err(e) => Err(Error::validation("rate", e.to_string())),
    };
    match updated {
        Ok(()) => Ok(see_other(Url::Catalogue)),
        Err(Error::Validation(e)) => {
            let message = e
                .get("rate")
                .map(str::to_owned)
                .unwrap_or_else(|| t("catalog-bad-price"));
            page_with(
                &state,
                &page,
                Failed {
                    price_edit: Some((id, message)),
                    ..Failed::default()
                },
            )
            .await
        }
        Err(Error::Conflict(message)) => {
            page_with(
                &state,
                &page,
                Failed {
                    price_edit: Some((id, message)),
                    ..Failed::default()
                },
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}
