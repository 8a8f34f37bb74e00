//! Extractors that answer bad input with problem+json instead of axum's
//! plain-text rejections.

use axum::{
    body::Bytes,
    extract::{
        FromRef, FromRequest, FromRequestParts, Path, Query, Request, rejection::BytesRejection,
    },
    http::{StatusCode, header, request::Parts},
};
use serde::de::DeserializeOwned;

use super::problem::Problem;
use crate::{
    app::identities::{self, Resolved},
    auth::{groups, jwt, oidc::Identity, tokens},
    db,
    domain::actor::{CurrentUser, Via},
    state::AppState,
    web::lang::{self, Arg},
};

/// The caller of an API route, from `Authorization: Bearer <token>`: a
/// portal API token, or an access token (JWT) of the configured issuer.
/// Every caller is rate-limited per identity; failed attempts per client
/// address, so guessing tokens is limited too.
pub struct ApiUser(pub CurrentUser);

impl<S> FromRequestParts<S> for ApiUser
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let per_minute = state.settings.rate_limit_api_per_minute;
        let now = db::now();
        match authenticate(&state, parts).await {
            Ok(user) => {
                let bucket = format!("api:user:{}", user.id);
                state
                    .limiter
                    .hit(&bucket, per_minute, now)
                    .await
                    .map_err(|r| Problem::rate_limited(r.0))?;
                Ok(ApiUser(user))
            }
            Err(problem) if problem.status == StatusCode::UNAUTHORIZED.as_u16() => {
                let ip = crate::ratelimit::client_of(parts, state.settings.trusted_proxy_hops);
                state
                    .limiter
                    .hit(&format!("api:unauthenticated:{ip}"), per_minute, now)
                    .await
                    .map_err(|r| Problem::rate_limited(r.0))?;
                Err(problem)
            }
            Err(problem) => Err(problem),
        }
    }
}

async fn authenticate(state: &AppState, parts: &Parts) -> Result<CurrentUser, Problem> {
    let header = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| Problem::unauthorized(&lang::t("api-no-authorization")))?;
    // The scheme is case-insensitive (RFC 9110 § 11.1).
    let token = header
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Problem::unauthorized(&lang::t("api-bearer-only")))?;
    if let Some(oidc) = &state.oidc
        && jwt::looks_like_jwt(token)
    {
        return access_token_user(state, oidc, token, parts).await;
    }
    db::users::by_token_hash(&state.db.pool, &tokens::hash(token), db::now())
        .await?
        .ok_or_else(|| Problem::unauthorized(&lang::t("api-token-unknown")))
}

/// The user an access token of the issuer stands for, synced like at a
/// browser login (the token's groups decide, not what was stored before).
async fn access_token_user(
    state: &AppState,
    oidc: &crate::auth::oidc::Oidc,
    token: &str,
    parts: &Parts,
) -> Result<CurrentUser, Problem> {
    let audience = state.settings.oidc_audience().unwrap_or_default();
    let claims = jwt::verify(oidc, audience, token).await.map_err(|e| {
        // The detail names issuer, audience and clock: the log has it under
        // the request id (the answer's X-Request-Id), the caller does not.
        let request_id = crate::telemetry::request_id(&parts.headers);
        tracing::info!(%request_id, error = %e, "access token refused");
        match e {
            jwt::JwtError::Provider(p) => Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "provider-unavailable",
                p.public(),
            ),
            other => Problem::unauthorized(&other.public()),
        }
    })?;
    let identity = Identity {
        login: claims
            .preferred_username
            .clone()
            .filter(|u| !u.trim().is_empty())
            .unwrap_or_else(|| claims.sub.clone()),
        display_name: claims
            .name
            .clone()
            .or_else(|| claims.preferred_username.clone())
            .unwrap_or_else(|| claims.sub.clone()),
        email: claims.email.clone(),
        groups: groups::from_claim(claims.other.get(oidc.groups_claim())),
        subject: claims.sub,
    };
    let names = crate::auth::groups::GroupNames::from_settings(&state.settings);
    match identities::resolve(&state.db, &identity, &names).await? {
        Resolved::Granted { customer_id, roles } => Ok(identities::sync(
            &state.db,
            oidc.issuer(),
            &identity,
            customer_id,
            &roles,
            Via::AccessToken,
            false,
            db::now(),
        )
        .await?),
        Resolved::SeveralCustomers(slugs) => Err(Problem::no_access(lang::t_with(
            "api-token-several-customers",
            &[("customers", Arg::from(slugs.join(", ")))],
        ))),
        Resolved::NoAccess => Err(Problem::no_access(lang::t("api-token-no-role"))),
    }
}

/// A JSON body. Syntax errors are 400 `malformed-body`, well-formed JSON of
/// the wrong shape is 422 `validation`, another content type 415 (read as
/// [`parse_json`] reads it).
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let headers = req.headers().clone();
        let body = Bytes::from_request(req, state)
            .await
            .map_err(bytes_problem)?;
        parse_json(&headers, &body).map(ApiJson)
    }
}

/// Numbers with nothing after the point (`597.0`, `1e3`) as integers: JSON
/// knows one number type, and JSON Schema counts such a number as an
/// `integer`, so a client (or a generator) that writes one sends what the
/// document asks for. Anything else stays as it is.
fn integral_numbers(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64()
                && f.fract() == 0.0
                && f >= i64::MIN as f64
                && f < i64::MAX as f64
            {
                *value = Value::from(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_numbers),
        Value::Object(map) => map.values_mut().for_each(integral_numbers),
        _ => {}
    }
}

/// A body that could not be read: too large (axum's default limit, 2 MB) is
/// 413, anything else 400.
fn bytes_problem(rejection: BytesRejection) -> Problem {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            lang::t("problem-detail-payload-too-large"),
        )
    } else {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "malformed-body",
            lang::t_with(
                "problem-detail-unreadable-body",
                &[("why", Arg::from(rejection.body_text()))],
            ),
        )
    }
}

/// The raw body, for handlers that hash it (Idempotency-Key); read errors
/// answer like [`ApiJson`].
pub struct ApiBytes(pub Bytes);

impl<S> FromRequest<S> for ApiBytes
where
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Bytes::from_request(req, state)
            .await
            .map(ApiBytes)
            .map_err(bytes_problem)
    }
}

/// Query parameters. A query string that does not fit the parameters at all
/// (e.g. one parameter given twice) is 422; values are checked by the handler.
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| ApiQuery(v))
            .map_err(|e| {
                Problem::validation(
                    "query",
                    lang::t_with("api-query-unreadable", &[("why", Arg::from(e.body_text()))]),
                )
            })
    }
}

/// The `{id}` of the path. Anything that is not a positive integer, even
/// bytes that are not UTF-8, cannot name an object: 404.
pub struct PathId(pub i64);

impl<S> FromRequestParts<S> for PathId
where
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| Problem::not_found())?;
        path_id(&raw).map(PathId)
    }
}

/// Parses an id from the path; anything that is not an id cannot exist.
pub fn path_id(raw: &str) -> Result<i64, Problem> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(Problem::not_found)
}

/// Parses a JSON body that the handler also needs as bytes (to hash it for
/// the Idempotency-Key), with the same answers as [`ApiJson`].
pub fn parse_json<T: DeserializeOwned>(
    headers: &axum::http::HeaderMap,
    body: &[u8],
) -> Result<T, Problem> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            let mime = ct.split(';').next().unwrap_or_default().trim();
            mime == "application/json" || mime.ends_with("+json")
        });
    if !json {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            lang::t("problem-detail-content-type"),
        ));
    }
    let mut value: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "malformed-body",
            lang::t_with(
                "problem-detail-not-json",
                &[("why", Arg::from(e.to_string()))],
            ),
        )
    })?;
    integral_numbers(&mut value);
    T::deserialize(value).map_err(|e| {
        Problem::validation(
            "body",
            lang::t_with("api-body-schema", &[("why", Arg::from(e.to_string()))]),
        )
    })
}

/// All path parameters by name, for routes with more than one. Bytes that are
/// not UTF-8 cannot name anything: 404.
pub struct PathParams(pub std::collections::HashMap<String, String>);

impl<S> FromRequestParts<S> for PathParams
where
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<std::collections::HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map(|Path(p)| PathParams(p))
            .map_err(|_| Problem::not_found())
    }
}

impl PathParams {
    pub fn get(&self, name: &str) -> &str {
        self.0.get(name).map_or("", String::as_str)
    }
}

/// The `Idempotency-Key` of a creating call. The hash covers the route and
/// the body, so a key reused for another kind of request is a conflict,
/// not a replay of something else.
pub fn idempotency_key(
    headers: &axum::http::HeaderMap,
    route: &str,
    id: i64,
    body: &[u8],
) -> Result<Option<crate::domain::idempotency::Key>, Problem> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let mut hashed = format!("{route}/{id}\n").into_bytes();
    hashed.extend_from_slice(body);
    crate::domain::idempotency::Key::parse(value.to_str().unwrap_or_default(), &hashed)
        .map(Some)
        .map_err(|e| crate::app::Error::validation("Idempotency-Key", e.to_string()).into())
}
