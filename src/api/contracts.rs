//! Contracts over the API: read by whoever sees them, with Kontingent use
//! and rest; created and changed by the Betreiber through the same use
//! cases as the contract form. A change carries the version it was made
//! against (`If-Match` with the `ETag` of the read), so that two people
//! editing one contract cannot overwrite each other unseen.

use axum::{
    Json, Router,
    extract::State,
    http::{HeaderMap, HeaderValue, header},
    response::{IntoResponse, Response},
    routing::get,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema, openapi::schema::Object};

use super::{
    extract::{ApiBytes, ApiQuery, ApiUser, PathId, idempotency_key, parse_json},
    paging::{self, Key, Listed, Page, Paging, Sort},
    problem::Problem,
};
use crate::{
    app::{self, Error, FieldErrors},
    db::{self, contracts::Contract},
    domain::{
        Cents, Kontingent,
        contract::{
            BillingModel, MAX_HAUSHALTSSTELLE, MAX_KOSTENSTELLE, MAX_LEITWEG_ID, MAX_NUMBER,
            MAX_TITLE, Terms, Validity, base_fee_only_mixed, ends_before_start, is_contract_number,
            is_leitweg_id, leitweg_rule, number_rule,
        },
        kontingent::Commitment,
        policy,
        text::Text,
    },
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/contracts", get(list).post(create))
        .route("/contracts/{id}", get(show).put(replace))
}

paging::page_schema!(ContractPage => ContractView);

/// Amounts of each Kontingent dimension.
#[derive(Serialize, ToSchema)]
pub struct Amounts {
    pub vcpu_millicores: i64,
    pub memory_mib: i64,
    pub storage_gib: i64,
    pub monthly_budget_cents: i64,
}

#[derive(Serialize, ToSchema)]
pub struct ContractView {
    pub id: i64,
    pub customer_id: i64,
    pub number: String,
    pub title: String,
    /// First day of validity (ISO 8601 date).
    pub valid_from: String,
    /// Last day of validity (ISO 8601 date).
    pub valid_until: String,
    pub kostenstelle: String,
    pub haushaltsstelle: String,
    pub leitweg_id: String,
    /// `nutzung` (pay as you go) or `gemischt` (base fee plus usage).
    pub billing_model: String,
    pub base_fee_cents: i64,
    /// The ceilings.
    pub kontingent: Amounts,
    /// Committed by bookings that are not cancelled (budget: 730 h of the
    /// current prices plus the base fee).
    pub used: Amounts,
    /// Ceiling minus used; negative if a ceiling was lowered below use.
    pub remaining: Amounts,
}

/// A commitment in the Kontingent's dimensions.
pub fn amounts(c: &Commitment) -> Amounts {
    Amounts {
        vcpu_millicores: c.resources.millicpu,
        memory_mib: c.resources.memory_mib,
        storage_gib: c.resources.storage_gib,
        monthly_budget_cents: c.monthly().0,
    }
}

pub fn view(k: &Contract, used: &Commitment) -> ContractView {
    let kontingent = k.kontingent();
    let rest = kontingent.remaining(used);
    ContractView {
        id: k.id,
        customer_id: k.customer_id,
        number: k.number.clone(),
        title: k.title.clone(),
        valid_from: k.valid_from.to_string(),
        valid_until: k.valid_until.to_string(),
        kostenstelle: k.kostenstelle.clone(),
        haushaltsstelle: k.haushaltsstelle.clone(),
        leitweg_id: k.leitweg_id.clone(),
        billing_model: k.billing_model.as_str().into(),
        base_fee_cents: k.base_fee_cents,
        kontingent: Amounts {
            vcpu_millicores: kontingent.millicpu,
            memory_mib: kontingent.memory_mib,
            storage_gib: kontingent.storage_gib,
            monthly_budget_cents: kontingent.monthly_budget.0,
        },
        used: amounts(used),
        remaining: Amounts {
            vcpu_millicores: rest.millicpu,
            memory_mib: rest.memory_mib,
            storage_gib: rest.storage_gib,
            monthly_budget_cents: rest.monthly_budget.0,
        },
    }
}

const SORTS: &[&str] = app::contracts::SORTS;
fn sorts() -> Object {
    paging::sort_schema(SORTS)
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContractFilter {
    /// Only this customer's contracts.
    #[param(schema_with = super::params::positive_or_empty)]
    customer_id: Option<String>,
    /// A part of the number, title, customer, Kostenstelle, Haushaltsstelle
    /// or Leitweg-ID, any case.
    #[param(schema_with = paging::search_schema)]
    q: Option<String>,
    /// Default `number`.
    #[param(schema_with = sorts)]
    sort: Option<String>,
}

/// Contracts the caller may see, with Kontingent use and rest.
#[utoipa::path(get, path = "/api/v1/contracts", tag = "Verträge",
    params(ContractFilter, Paging),
    responses(
        (status = 200, body = ContractPage),
    ))]
pub async fn list(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiQuery(q): ApiQuery<Listed<ContractFilter>>,
) -> Result<Json<Page<ContractView>>, Problem> {
    let customer_id = paging::id_filter("customer_id", q.filter.customer_id.as_deref())?;
    let sort = Sort::parse(q.filter.sort.as_deref(), SORTS, "number")?;
    let window = q.paging.window()?;
    let wanted = app::contracts::Wanted {
        customer_id,
        text: paging::search(q.filter.q.as_deref())?,
    };
    let found = app::contracts::search(&state.db, &user, &wanted, sort, db::now()).await?;
    let views = found.iter().map(|(k, used)| view(k, used)).collect();
    Ok(Json(paging::page_of(
        views,
        None::<Sort>,
        |_, _| Key::Int(0),
        window,
    )))
}

/// One contract with Kontingent use and rest; its `ETag` is the version to
/// send as `If-Match` with a change.
#[utoipa::path(get, path = "/api/v1/contracts/{id}", tag = "Verträge",
    params(("id" = i64, Path, description = "Vertrags-Id")),
    responses(
        (status = 200, body = ContractView, headers(("ETag" = String, description = "The version of the terms"))),
    ))]
pub async fn show(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    PathId(id): PathId,
) -> Result<Response, Problem> {
    let contract = app::contracts::get(&state.db, &user, id).await?;
    answer(&state, &contract, axum::http::StatusCode::OK).await
}

/// The contract with its `ETag`.
async fn answer(
    state: &AppState,
    contract: &Contract,
    status: axum::http::StatusCode,
) -> Result<Response, Problem> {
    let used = db::contracts::usage(&state.db.pool, contract, db::now()).await?;
    let mut response = (status, Json(view(contract, &used))).into_response();
    if let Ok(terms) = contract.terms()
        && let Ok(etag) = HeaderValue::from_str(&format!("\"{}\"", terms.version()))
    {
        response.headers_mut().insert(header::ETAG, etag);
    }
    Ok(response)
}

/// A contract's ceilings as the API writes them.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KontingentInput {
    #[schema(minimum = 0, maximum = 100_000_000)]
    pub vcpu_millicores: i64,
    #[schema(minimum = 0, maximum = 1_073_741_824)]
    pub memory_mib: i64,
    #[schema(minimum = 0, maximum = 100_000_000)]
    pub storage_gib: i64,
    #[schema(minimum = 0, maximum = 100_000_000_000i64)]
    pub monthly_budget_cents: i64,
}

/// Declares a request body with the terms of a contract (everything but
/// its customer) and the fields given: written out in each body rather than
/// flattened, so that the OpenAPI document has one closed object per body
/// (`allOf` of two closed objects can be satisfied by nothing).
macro_rules! with_terms {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $field:ident: $ty:ty,)* }) => {
        $(#[$meta])*
        #[derive(Deserialize, ToSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $($(#[$fmeta])* pub $field: $ty,)*
            /// E.g. `DLV-2026-0042`: letters, digits, `-` and `/`.
            #[schema(min_length = 1, max_length = 40, pattern = "^[A-Za-z0-9/-]+$")]
            pub number: String,
            #[schema(min_length = 1, max_length = 200, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$")]
            pub title: String,
            /// First day of validity (ISO 8601 date).
            #[schema(format = Date)]
            pub valid_from: String,
            /// Last day of validity (ISO 8601 date), not before the first.
            #[schema(format = Date)]
            pub valid_until: String,
            #[schema(min_length = 1, max_length = 40, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$")]
            pub kostenstelle: String,
            #[schema(min_length = 1, max_length = 60, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$")]
            pub haushaltsstelle: String,
            /// The XRechnung routing id, e.g. `04011000-1234512345-06`.
            #[schema(min_length = 1, max_length = 46, pattern = "^[0-9]{2,12}(-[A-Za-z0-9]{1,30})?-[0-9]{2}$")]
            pub leitweg_id: String,
            pub billing_model: BillingModel,
            /// Monthly base fee in cents; only in the `gemischt` model.
            #[serde(default)]
            #[schema(minimum = 0, maximum = 100_000_000_000i64)]
            pub base_fee_cents: i64,
            pub kontingent: KontingentInput,
        }

        impl $name {
            fn terms(&self) -> TermsInput<'_> {
                TermsInput {
                    number: &self.number,
                    title: &self.title,
                    valid_from: &self.valid_from,
                    valid_until: &self.valid_until,
                    kostenstelle: &self.kostenstelle,
                    haushaltsstelle: &self.haushaltsstelle,
                    leitweg_id: &self.leitweg_id,
                    billing_model: self.billing_model,
                    base_fee_cents: self.base_fee_cents,
                    kontingent: &self.kontingent,
                }
            }
        }
    };
}

with_terms! {
    CreateContract {
        #[schema(minimum = 1)]
        customer_id: i64,
    }
}

with_terms! {
    ReplaceContract {
        /// Lowering a ceiling below what is booked stops new bookings until
        /// use falls; without `true` such a change is refused (409
        /// `below-booked`, with the figures).
        #[serde(default)]
        confirm_below_booked: bool,
    }
}

/// The terms as a body carries them.
struct TermsInput<'a> {
    number: &'a str,
    title: &'a str,
    valid_from: &'a str,
    valid_until: &'a str,
    kostenstelle: &'a str,
    haushaltsstelle: &'a str,
    leitweg_id: &'a str,
    billing_model: BillingModel,
    base_fee_cents: i64,
    kontingent: &'a KontingentInput,
}

impl TermsInput<'_> {
    /// The terms, or a message per field that breaks a rule (the same rules
    /// and words as the contract form).
    fn parse(&self) -> Result<Terms, Error> {
        let mut e = FieldErrors::default();
        let mut text = |field: &str, value: &str, max: usize| {
            Text::parse(value, max)
                .map_err(|x| e.add(field, x.to_string()))
                .ok()
        };
        let number = text("number", self.number, MAX_NUMBER);
        let title = text("title", self.title, MAX_TITLE);
        let kostenstelle = text("kostenstelle", self.kostenstelle, MAX_KOSTENSTELLE);
        let haushaltsstelle = text("haushaltsstelle", self.haushaltsstelle, MAX_HAUSHALTSSTELLE);
        let leitweg_id = text("leitweg_id", self.leitweg_id, MAX_LEITWEG_ID);
        if number
            .as_ref()
            .is_some_and(|n| !is_contract_number(n.as_str()))
        {
            e.add("number", number_rule());
        }
        if leitweg_id
            .as_ref()
            .is_some_and(|l| !is_leitweg_id(l.as_str()))
        {
            e.add("leitweg_id", leitweg_rule());
        }
        let mut date = |field: &str, value: &str| {
            let parsed = crate::domain::calendar::parse_date(value);
            if parsed.is_none() {
                e.add(field, crate::i18n::t("invalid-date"));
            }
            parsed
        };
        let from = date("valid_from", self.valid_from);
        let until = date("valid_until", self.valid_until);
        if let (Some(from), Some(until)) = (from, until)
            && until < from
        {
            e.add("valid_until", ends_before_start());
        }
        if self.billing_model == BillingModel::Nutzung && self.base_fee_cents > 0 {
            e.add("base_fee_cents", base_fee_only_mixed());
        }
        let k = self.kontingent;
        for (field, value, max) in [
            ("base_fee_cents", self.base_fee_cents, 100_000_000_000),
            ("kontingent.vcpu_millicores", k.vcpu_millicores, 100_000_000),
            ("kontingent.memory_mib", k.memory_mib, 1_073_741_824),
            ("kontingent.storage_gib", k.storage_gib, 100_000_000),
            (
                "kontingent.monthly_budget_cents",
                k.monthly_budget_cents,
                100_000_000_000,
            ),
        ] {
            if !(0..=max).contains(&value) {
                e.add(field, super::paging::whole_number_between(0, max));
            }
        }
        e.into_result()?;
        let (
            Some(number),
            Some(title),
            Some(kostenstelle),
            Some(haushaltsstelle),
            Some(leitweg_id),
        ) = (number, title, kostenstelle, haushaltsstelle, leitweg_id)
        else {
            unreachable!("a field without a value has its message")
        };
        let (Some(from), Some(until)) = (from, until) else {
            unreachable!("a field without a value has its message")
        };
        Ok(Terms {
            number,
            title,
            validity: Validity { from, until },
            kostenstelle,
            haushaltsstelle,
            leitweg_id,
            billing_model: self.billing_model,
            base_fee: Cents(self.base_fee_cents),
            kontingent: Kontingent {
                millicpu: k.vcpu_millicores,
                memory_mib: k.memory_mib,
                storage_gib: k.storage_gib,
                monthly_budget: Cents(k.monthly_budget_cents),
            },
        })
    }
}

/// Creates a contract for a customer (Betreiber). A number already taken
/// is refused with a message for the field.
#[utoipa::path(post, path = "/api/v1/contracts", tag = "Verträge",
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "Client-chosen key that makes retries safe"),
    ),
    request_body = CreateContract,
    responses(
        (status = 201, body = ContractView, headers(("Location" = String), ("ETag" = String))),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "the Idempotency-Key was used for another request (`conflict`), or `validation`: no such customer (`customer_id`), or another contract has the number (`number`)"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> Result<Response, Problem> {
    policy::administer(&user).map_err(Error::from)?;
    let input: CreateContract = parse_json(&headers, &body)?;
    let key = idempotency_key(&headers, "contracts", 0, &body)?;
    let terms = input.terms().parse()?;
    let outcome = app::contracts::create_once(
        &state.db,
        &user,
        input.customer_id,
        &terms,
        key.as_ref(),
        db::now(),
    )
    .await
    // The terms are well-formed (parsed above); a customer that does not
    // exist or a number another contract has is the state of things.
    .map_err(Problem::refused_by_state)?;
    let id = outcome.id();
    let contract = app::contracts::get(&state.db, &user, id).await?;
    let mut response = answer(&state, &contract, axum::http::StatusCode::CREATED).await?;
    let headers = response.headers_mut();
    if let Ok(location) = HeaderValue::from_str(&format!("/api/v1/contracts/{id}")) {
        headers.insert(header::LOCATION, location);
    }
    if matches!(outcome, app::Created::Replayed(_)) {
        headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// Replaces a contract's terms (Betreiber); its customer never changes.
/// With `If-Match` (the `ETag` of the contract as read) a change someone
/// else made meanwhile is refused with 412 instead of being overwritten.
#[utoipa::path(put, path = "/api/v1/contracts/{id}", tag = "Verträge",
    params(
        ("id" = i64, Path, description = "Vertrags-Id"),
        ("If-Match" = Option<String>, Header, description = "The ETag of the contract as read"),
    ),
    request_body = ReplaceContract,
    responses(
        (status = 200, body = ContractView, headers(("ETag" = String))),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "ceilings below what is booked, not confirmed (`below-booked`, with the figures); `validation`: another contract has the number (`number`)"),
        (status = 412, body = Problem, content_type = "application/problem+json", description = "changed since the `If-Match` version (`precondition-failed`)"),
    ))]
pub async fn replace(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    PathId(id): PathId,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> Result<Response, Problem> {
    policy::administer(&user).map_err(Error::from)?;
    let input: ReplaceContract = parse_json(&headers, &body)?;
    let expected = match headers.get(header::IF_MATCH) {
        None => None,
        Some(value) => Some(if_match(value)?),
    };
    let terms = input.terms().parse()?;
    app::contracts::update(
        &state.db,
        &user,
        id,
        &terms,
        expected.as_deref(),
        input.confirm_below_booked,
        db::now(),
    )
    .await
    .map_err(Problem::refused_by_state)?;
    let contract = app::contracts::get(&state.db, &user, id).await?;
    answer(&state, &contract, axum::http::StatusCode::OK).await
}

/// The version an `If-Match` names: one strong entity tag as the `ETag`
/// gave it. `*` and lists are not what a client that read the contract
/// sends; they are refused rather than guessed at.
fn if_match(value: &HeaderValue) -> Result<String, Problem> {
    let tag = value
        .to_str()
        .ok()
        .and_then(|v| {
            v.trim()
                .strip_prefix('"')?
                .strip_suffix('"')
                .map(str::to_owned)
        })
        .filter(|v| !v.is_empty() && !v.contains('"'));
    tag.ok_or_else(|| Error::validation("If-Match", crate::i18n::t("api-if-match-contract")).into())
}
