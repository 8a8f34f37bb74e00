//! Notifications over the API: the calling person's e-mail choices, and the
//! webhooks of a customer (the Betreiber's for every customer) — the API
//! twins of the pages "Benachrichtigungen" and "Webhooks", through the same
//! use cases.

use axum::{
    Json, Router,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema, openapi::schema::Object};

use super::{
    extract::{ApiBytes, ApiQuery, ApiUser, PathId, parse_json},
    paging::{self, Key, Listed, Page, Paging, Sort},
    problem::Problem,
};
use crate::{
    app::{self, Error},
    db::{self, notifications::Webhook},
    domain::{actor::CurrentUser, calendar::rfc3339, notification::EventKind, policy},
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/me/notifications", get(settings).put(choose))
        .route("/webhooks", get(webhooks).post(create_webhook))
        .route("/webhooks/{id}", get(show_webhook).delete(delete_webhook))
}

paging::page_schema!(WebhookPage => WebhookView);

#[derive(Serialize, ToSchema)]
pub struct KindChoice {
    pub kind: EventKind,
    /// What the settings page calls it.
    pub label: &'static str,
    /// Whether an e-mail is sent for it.
    pub email: bool,
}

#[derive(Serialize, ToSchema)]
pub struct NotificationSettings {
    /// Where e-mails go (from the login); absent: none are sent.
    pub email: Option<String>,
    /// Whether this Kontor sends e-mail at all.
    pub email_enabled: bool,
    pub kinds: Vec<KindChoice>,
}

async fn settings_of(
    state: &AppState,
    user: &CurrentUser,
) -> Result<NotificationSettings, Problem> {
    let (email, off) = app::notifications::settings(&state.db, user).await?;
    Ok(NotificationSettings {
        email,
        email_enabled: state.settings.email_enabled(),
        kinds: EventKind::ALL
            .into_iter()
            .map(|kind| KindChoice {
                kind,
                label: kind.label(),
                email: !off.contains(&kind),
            })
            .collect(),
    })
}

/// The calling person's e-mail notifications.
#[utoipa::path(get, path = "/api/v1/me/notifications", tag = "Konto",
    responses((status = 200, body = NotificationSettings)))]
pub async fn settings(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
) -> Result<Json<NotificationSettings>, Problem> {
    Ok(Json(settings_of(&state, &user).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChooseNotifications {
    /// The kinds of events to get no e-mail for; every other kind is sent.
    #[schema(value_type = Vec<EventKind>, max_items = 20)]
    pub email_off: Vec<String>,
}

/// Chooses the kinds of events the calling person gets no e-mail for.
#[utoipa::path(put, path = "/api/v1/me/notifications", tag = "Konto",
    request_body = ChooseNotifications,
    responses((status = 200, body = NotificationSettings)))]
pub async fn choose(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> Result<Json<NotificationSettings>, Problem> {
    let input: ChooseNotifications = parse_json(&headers, &body)?;
    if input.email_off.len() > 20 {
        return Err(Problem::validation(
            "email_off",
            crate::i18n::t_with("invalid-at-most-entries", &[("max", 20.into())]),
        ));
    }
    let mut off = Vec::new();
    for raw in &input.email_off {
        match raw.parse::<EventKind>() {
            Ok(kind) if !off.contains(&kind) => off.push(kind),
            Ok(_) => {}
            Err(e) => return Err(Problem::validation("email_off", e.to_string())),
        }
    }
    app::notifications::set_opt_outs(&state.db, &user, &off, db::now()).await?;
    Ok(Json(settings_of(&state, &user).await?))
}

#[derive(Serialize, ToSchema)]
pub struct WebhookView {
    pub id: i64,
    /// The customer whose events it receives; absent: every customer's
    /// (the Betreiber's).
    pub customer_id: Option<i64>,
    pub customer_name: Option<String>,
    pub url: String,
    pub description: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// Deliveries not made yet, and given up after the last attempt.
    pub pending: i64,
    pub given_up: i64,
}

fn view(w: Webhook) -> WebhookView {
    WebhookView {
        id: w.id,
        customer_id: w.customer_id,
        customer_name: w.customer_name,
        url: w.url,
        description: w.description,
        created_at: rfc3339(w.created_at),
        pending: w.pending,
        given_up: w.given_up,
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WebhookFilter {
    /// Only this customer's webhooks (the Betreiber's view).
    #[param(schema_with = super::params::positive_or_empty)]
    customer_id: Option<String>,
    /// Default `id`.
    #[param(schema_with = sorts)]
    sort: Option<String>,
}

const SORTS: &[&str] = &["id", "url"];
fn sorts() -> Object {
    paging::sort_schema(SORTS)
}

/// The webhooks the caller keeps: a Systempfleger:in their customer's, the
/// Betreiber all.
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "Konto",
    params(WebhookFilter, Paging),
    responses((status = 200, body = WebhookPage)))]
pub async fn webhooks(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiQuery(q): ApiQuery<Listed<WebhookFilter>>,
) -> Result<Json<Page<WebhookView>>, Problem> {
    policy::keep_webhooks(&user).map_err(Error::from)?;
    let customer_id = paging::id_filter("customer_id", q.filter.customer_id.as_deref())?;
    let sort = Sort::parse(q.filter.sort.as_deref(), SORTS, "id")?;
    let window = q.paging.window()?;
    let all = app::notifications::webhooks(&state.db, &user)
        .await?
        .into_iter()
        .filter(|w| customer_id.is_none_or(|c| w.customer_id == Some(c)))
        .map(view)
        .collect();
    Ok(Json(paging::page_of(
        all,
        sort,
        |w: &WebhookView, field| match field {
            "url" => Key::text(&w.url),
            _ => Key::Int(w.id),
        },
        window,
    )))
}

async fn find(state: &AppState, user: &CurrentUser, id: i64) -> Result<Webhook, Problem> {
    Ok(app::notifications::webhooks(&state.db, user)
        .await?
        .into_iter()
        .find(|w| w.id == id)
        .ok_or(Error::NotFound)?)
}

/// One webhook the caller keeps.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}", tag = "Konto",
    params(("id" = i64, Path, description = "Webhook-Id")),
    responses((status = 200, body = WebhookView)))]
pub async fn show_webhook(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    PathId(id): PathId,
) -> Result<Json<WebhookView>, Problem> {
    policy::keep_webhooks(&user).map_err(Error::from)?;
    Ok(Json(view(find(&state, &user, id).await?)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    /// An absolute `https://` address without credentials (`http://` only
    /// where the provider allows it for test systems; the document shows the
    /// rule without that exception).
    #[schema(
        min_length = 1,
        max_length = 2000,
        pattern = r"^https://[a-z][a-z0-9]*(-[a-z0-9]+)*(\.[a-z][a-z0-9]*(-[a-z0-9]+)*)*(:[1-9][0-9]{0,3})?(/[!-~]*)?$"
    )]
    pub url: String,
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub description: String,
    /// Whose events: the Betreiber names a customer, or leaves it out for
    /// every customer's; a Systempfleger:in's webhook is always their own
    /// customer's (another customer's id is not found).
    #[schema(minimum = 1)]
    pub customer_id: Option<i64>,
}

/// A webhook just created, with its signing secret: answered once.
#[derive(Serialize, ToSchema)]
pub struct CreatedWebhook {
    #[serde(flatten)]
    pub webhook: WebhookView,
    /// `whsec_…` (Standard Webhooks); it signs every delivery. Keep it: it
    /// is not shown again.
    pub secret: String,
}

/// Adds a webhook; its secret is in the answer, and never again.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "Konto",
    request_body = CreateWebhook,
    responses(
        (status = 201, body = CreatedWebhook, headers(("Location" = String))),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "unknown customer (or another customer's, for a Systempfleger:in)"),
    ))]
pub async fn create_webhook(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> Result<Response, Problem> {
    policy::keep_webhooks(&user).map_err(Error::from)?;
    let input: CreateWebhook = parse_json(&headers, &body)?;
    let customer_id = if user.is_betreiber() {
        input.customer_id
    } else {
        match (input.customer_id, user.customer_id) {
            (Some(asked), Some(own)) if asked != own => return Err(Error::NotFound.into()),
            (_, own) => own,
        }
    };
    let (url, description) = app::notifications::parse_webhook(
        &input.url,
        &input.description,
        state.settings.webhook_allow_http,
    )?;
    let created = app::notifications::create_webhook(
        &state.db,
        &user,
        customer_id,
        &url,
        &description,
        db::now(),
    )
    .await?;
    let webhook = find(&state, &user, created.id).await?;
    Ok(super::created(
        Json(CreatedWebhook {
            webhook: view(webhook),
            secret: created.secret,
        }),
        &format!("/api/v1/webhooks/{}", created.id),
        app::Created::New(created.id),
    ))
}

/// Removes a webhook; deliveries still waiting for it are given up.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "Konto",
    params(("id" = i64, Path, description = "Webhook-Id")),
    responses((status = 204, description = "Entfernt")))]
pub async fn delete_webhook(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    PathId(id): PathId,
) -> Result<Response, Problem> {
    app::notifications::delete_webhook(&state.db, &user, id, db::now()).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
