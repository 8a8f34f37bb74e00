//! Benachrichtigungen: each person chooses which e-mails they get
//! (`/einstellungen/benachrichtigungen`); the Betreiber and a customer's
//! Systempfleger:in manage webhooks (`/webhooks`, the secret shown once);
//! the Betreiber sees deliveries and failures (`/betrieb/benachrichtigungen`).

use askama::Template;
use axum::{
    Form, Router,
    extract::{Path, State},
    http::{HeaderValue, StatusCode, header},
    response::Response,
    routing::{get, post},
};
use serde::Deserialize;

use super::{
    Layout, Nav, PageError,
    admin::{field_errors, path_id, require_betreiber},
    lang::{Worded, t, t_with},
    render, see_other,
    session::PageUser,
    urls::{Route, Url},
};
use crate::{
    app::{self, FieldErrors},
    db::{self, notifications as store},
    domain::{notification::EventKind, policy},
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            Route::NotificationSettings.pattern(),
            get(settings).post(save_settings),
        )
        .route(
            Route::Webhooks.pattern(),
            get(webhooks).post(create_webhook),
        )
        .route(Route::WebhookDelete.pattern(), post(delete_webhook))
        .route(Route::Deliveries.pattern(), get(deliveries))
}

// ----- each person's e-mails ---------------------------------------------------

pub struct KindChoice {
    pub id: &'static str,
    pub label: String,
    pub on: bool,
}

#[derive(Template)]
#[template(path = "notification_settings.html")]
struct SettingsPage {
    layout: Layout,
    email: Option<String>,
    email_enabled: bool,
    kinds: Vec<KindChoice>,
    saved: bool,
}

async fn settings_page(
    state: &AppState,
    page: &PageUser,
    saved: bool,
) -> Result<Response, PageError> {
    let off = store::opt_outs(&state.db.pool, page.user.id).await?;
    let email = store::email_of(&state.db.pool, page.user.id).await?;
    render(&SettingsPage {
        layout: page.layout(t("nav-notifications"), Nav::Notifications),
        email,
        email_enabled: state.settings.email_enabled(),
        kinds: EventKind::ALL
            .into_iter()
            .map(|k| KindChoice {
                id: k.as_str(),
                label: t(&k.message_id()),
                on: !off.contains(&k),
            })
            .collect(),
        saved,
    })
}

async fn settings(State(state): State<AppState>, page: PageUser) -> Result<Response, PageError> {
    settings_page(&state, &page, false).await
}

/// The form sends a field `email` once per kind left on; every kind not
/// sent is switched off. Unknown kinds are refused.
async fn save_settings(
    State(state): State<AppState>,
    page: PageUser,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let mut on = Vec::new();
    for (name, value) in &fields {
        if name == "email" {
            let kind: EventKind = value
                .parse()
                .map_err(|e: crate::domain::ids::UnknownValue| PageError::BadForm(e.to_string()))?;
            on.push(kind);
        }
    }
    let off: Vec<EventKind> = EventKind::ALL
        .into_iter()
        .filter(|k| !on.contains(k))
        .collect();
    app::notifications::set_opt_outs(&state.db, &page.user, &off, db::now()).await?;
    settings_page(&state, &page, true).await
}

// ----- webhooks ------------------------------------------------------------------

pub struct WebhookView {
    pub id: i64,
    pub owner: String,
    pub url: String,
    pub description: String,
    pub created: String,
    pub pending: i64,
    pub given_up: i64,
}

#[derive(Debug, Default, Deserialize)]
pub struct WebhookForm {
    #[serde(default)]
    url: String,
    #[serde(default)]
    description: String,
    /// A customer's id, or `alle` (Betreiber: every customer).
    #[serde(default)]
    customer: String,
}

#[derive(Template)]
#[template(path = "webhooks.html")]
struct WebhooksPage {
    layout: Layout,
    webhooks: Vec<WebhookView>,
    form: WebhookForm,
    errors: FieldErrors,
    /// For the Betreiber: the customers to choose from.
    customers: Vec<(i64, String)>,
    /// The URL and secret of the webhook just added.
    created: Option<(String, String)>,
}

/// The page is the Betreiber's and the Systempfleger:innen's.
fn may_manage(page: &PageUser) -> Result<(), PageError> {
    policy::keep_webhooks(&page.user).map_err(|_| PageError::Forbidden)
}

async fn webhooks_page(
    state: &AppState,
    page: &PageUser,
    form: WebhookForm,
    errors: FieldErrors,
    created: Option<(String, String)>,
) -> Result<Response, PageError> {
    let webhooks = app::notifications::webhooks(&state.db, &page.user)
        .await?
        .into_iter()
        .map(|w| WebhookView {
            id: w.id,
            owner: w
                .customer_name
                .unwrap_or_else(|| t("webhook-all-customers")),
            url: w.url,
            description: w.description,
            created: crate::web::format::date_time(w.created_at),
            pending: w.pending,
            given_up: w.given_up,
        })
        .collect();
    let customers = if page.user.is_betreiber() {
        db::customers::list(&state.db.pool, crate::domain::actor::Scope::All)
            .await?
            .into_iter()
            .map(|c| (c.id, c.name))
            .collect()
    } else {
        Vec::new()
    };
    let status = match (&created, errors.is_empty()) {
        (Some(_), _) => StatusCode::CREATED,
        (None, true) => StatusCode::OK,
        (None, false) => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let mut response = render(&WebhooksPage {
        layout: page.layout(t("nav-webhooks"), Nav::Webhooks),
        webhooks,
        form,
        errors,
        customers,
        created,
    })?;
    *response.status_mut() = status;
    // The page may carry a secret: no cache may keep it.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

async fn webhooks(State(state): State<AppState>, page: PageUser) -> Result<Response, PageError> {
    may_manage(&page)?;
    webhooks_page(
        &state,
        &page,
        WebhookForm::default(),
        FieldErrors::default(),
        None,
    )
    .await
}

async fn create_webhook(
    State(state): State<AppState>,
    page: PageUser,
    Form(form): Form<WebhookForm>,
) -> Result<Response, PageError> {
    may_manage(&page)?;
    // Whose: the Betreiber chooses; everyone else adds their customer's.
    let customer_id = if page.user.is_betreiber() {
        match form.customer.trim() {
            "alle" => None,
            raw => Some(raw.parse::<i64>().map_err(|_| PageError::NotFound)?),
        }
    } else {
        page.user.customer_id
    };
    let parsed = app::notifications::parse_webhook(
        &form.url,
        &form.description,
        state.settings.webhook_allow_http,
    );
    let (url, description) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => {
            let errors = field_errors(e)?;
            return webhooks_page(&state, &page, form, errors, None).await;
        }
    };
    let created = app::notifications::create_webhook(
        &state.db,
        &page.user,
        customer_id,
        &url,
        &description,
        db::now(),
    )
    .await?;
    tracing::info!(login = %page.user.login, webhook = created.id, "webhook added");
    webhooks_page(
        &state,
        &page,
        WebhookForm::default(),
        FieldErrors::default(),
        Some((url, created.secret)),
    )
    .await
}

async fn delete_webhook(
    State(state): State<AppState>,
    page: PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = path_id(&id)?;
    app::notifications::delete_webhook(&state.db, &page.user, id, db::now()).await?;
    Ok(see_other(Url::Webhooks))
}

// ----- the Betreiber's view of deliveries -------------------------------------

pub struct DeliveryView {
    pub id: i64,
    pub channel: String,
    pub address: String,
    pub state: String,
    pub problem: bool,
    pub attempts: i64,
    pub when: String,
    pub subject: String,
    pub customer: String,
    pub error: String,
}

impl DeliveryView {
    fn new(d: store::Listed) -> DeliveryView {
        let when = match d.delivered_at_ms {
            Some(at) => t_with(
                "delivery-delivered-at",
                &[("at", crate::web::format::date_time(at / 1000).into())],
            ),
            None if d.state == crate::domain::notification::DeliveryState::Offen => t_with(
                "delivery-next-at",
                &[(
                    "at",
                    crate::web::format::date_time(d.due_at_ms / 1000).into(),
                )],
            ),
            None => t_with(
                "delivery-created-at",
                &[("at", crate::web::format::date_time(d.created_at).into())],
            ),
        };
        DeliveryView {
            id: d.id,
            channel: match d.channel {
                crate::domain::notification::Channel::Email => t("delivery-email"),
                crate::domain::notification::Channel::Webhook => "Webhook".to_owned(),
            },
            address: d.address,
            state: t(match d.state {
                crate::domain::notification::DeliveryState::Offen => "delivery-state-open",
                crate::domain::notification::DeliveryState::Zugestellt => {
                    "delivery-state-delivered"
                }
                crate::domain::notification::DeliveryState::Aufgegeben => "delivery-state-given-up",
            }),
            problem: d.last_error.is_some()
                && d.state != crate::domain::notification::DeliveryState::Zugestellt,
            attempts: d.attempts,
            when,
            subject: d.subject,
            customer: d.customer_name.unwrap_or_else(|| "–".into()),
            error: d.last_error.unwrap_or_default(),
        }
    }
}

#[derive(Template)]
#[template(path = "admin_notifications.html")]
struct DeliveriesPage {
    layout: Layout,
    email_enabled: bool,
    counts: store::Counts,
    problems: Vec<DeliveryView>,
    recent: Vec<DeliveryView>,
}

/// Rows shown per table.
const SHOWN: i64 = 100;

async fn deliveries(State(state): State<AppState>, page: PageUser) -> Result<Response, PageError> {
    require_betreiber(&page)?;
    policy::read_deliveries(&page.user).map_err(|_| PageError::Forbidden)?;
    let pool = &state.db.pool;
    render(&DeliveriesPage {
        layout: page.layout(t("nav-deliveries"), Nav::Deliveries),
        email_enabled: state.settings.email_enabled(),
        counts: store::counts(pool).await?,
        problems: store::recent(pool, true, SHOWN)
            .await?
            .into_iter()
            .map(DeliveryView::new)
            .collect(),
        recent: store::recent(pool, false, SHOWN)
            .await?
            .into_iter()
            .map(DeliveryView::new)
            .collect(),
    })
}
