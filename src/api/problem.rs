//! RFC 9457 problem details (`application/problem+json`) with one stable
//! `type` URI per kind of error, so clients can branch on it.

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{
    app::error::Error,
    domain::Limit,
    web::lang::{self, Arg},
};

/// Type URIs are URNs: stable across installations and never dereferenced.
pub const TYPE_PREFIX: &str = "urn:kontor:problem:";

#[derive(Debug, Serialize, ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// A problem document. Extension members appear only for their kind.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// `urn:kontor:problem:<kind>`, e.g. `urn:kontor:problem:kontingent-exceeded`.
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// For `validation`: a message per offending field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// For `kontingent-exceeded`: the ceiling that would be broken.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<Limit>,
    /// For `kontingent-exceeded`: what the change needs, in the limit's unit
    /// (millicores, MiB, GiB, cents per month).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requested: Option<i64>,
    /// For `kontingent-exceeded`: what remains under the ceiling.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remaining: Option<i64>,
    /// For `checkup-refused`: why, as a stable code (`not-pinned`,
    /// `foreign-registry`, `malformed-image`, `malformed-checksum`,
    /// `duplicate-version`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// For `rate-limited`: seconds until the next window, also sent as the
    /// `Retry-After` header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<i64>,
    /// What the client can do next, e.g. for `kontingent-exceeded` the
    /// Kontingent request that would make room, with its body pre-filled.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    /// For `below-booked`: each ceiling that would lie under what is booked.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub below_booked: Vec<BelowBooked>,
}

/// A ceiling lowered below what is booked under it, in the limit's unit
/// (millicores, MiB, GiB, cents per month).
#[derive(Debug, Serialize, ToSchema)]
pub struct BelowBooked {
    pub limit: Limit,
    pub ceiling: i64,
    pub booked: i64,
}

/// A follow-up request a problem offers.
#[derive(Debug, Serialize, ToSchema)]
pub struct Link {
    /// `kontingent-request`
    pub rel: String,
    pub method: String,
    pub href: String,
    /// A body for the request, pre-filled.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub body: Option<serde_json::Value>,
}

impl Problem {
    /// A problem of type `kind`; its title is the catalogue's
    /// `problem-<kind>` in the language the caller asked for
    /// (`Accept-Language`), German by default.
    pub fn new(status: StatusCode, kind: &str, detail: impl Into<String>) -> Problem {
        Problem {
            type_uri: format!("{TYPE_PREFIX}{kind}"),
            title: lang::t(&format!("problem-{kind}")),
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
            limit: None,
            requested: None,
            remaining: None,
            reason: None,
            retry_after: None,
            links: Vec::new(),
            below_booked: Vec::new(),
        }
    }

    pub fn rate_limited(retry_after: i64) -> Problem {
        let mut p = Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate-limited",
            lang::t_with(
                "problem-detail-rate-limited",
                &[("seconds", Arg::from(retry_after))],
            ),
        );
        p.retry_after = Some(retry_after);
        p
    }

    /// The database is restarting, down or busy: nothing was written, a
    /// retry (with the same `Idempotency-Key`) in a few seconds may pass.
    pub fn unavailable(e: &sqlx::Error) -> Problem {
        tracing::warn!(error = %e, "database unavailable");
        let mut p = Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "database-unavailable",
            lang::t("problem-detail-database-unavailable"),
        );
        p.retry_after = Some(5);
        p
    }

    pub fn no_access(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::FORBIDDEN, "no-access", detail)
    }

    pub fn not_found() -> Problem {
        Problem::new(
            StatusCode::NOT_FOUND,
            "not-found",
            lang::t("problem-detail-not-found"),
        )
    }

    pub fn unauthorized(detail: &str) -> Problem {
        Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", detail)
    }

    pub fn validation(field: &str, message: impl Into<String>) -> Problem {
        let message = message.into();
        let mut p = Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            format!("{field}: {message}"),
        );
        p.errors.push(FieldError {
            field: field.into(),
            message,
        });
        p
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let unauthorized = status == StatusCode::UNAUTHORIZED;
        let retry_after = self.retry_after;
        let mut response = (status, Json(self)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(secs) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if unauthorized {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"kontor\""),
            );
        }
        response
    }
}

impl Problem {
    /// For a request the handler has found well-formed: a `validation`
    /// refusal that the app layer still gives is about the state of things
    /// (a size booked already, a product or price the catalogue does not
    /// have, a name taken), so it is 409 Conflict, with the same type,
    /// message and fields; the request itself was fine and may succeed
    /// later or elsewhere. Other errors map as usual.
    pub fn refused_by_state(e: Error) -> Problem {
        let conflict = matches!(e, Error::Validation(_));
        let mut p = Problem::from(e);
        if conflict {
            p.status = StatusCode::CONFLICT.as_u16();
        }
        p
    }
}

impl From<Error> for Problem {
    fn from(e: Error) -> Problem {
        match e {
            Error::NotFound => Problem::not_found(),
            Error::Unauthorized => Problem::unauthorized(&lang::t("problem-detail-no-token")),
            Error::Forbidden => Problem::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                lang::t("problem-detail-forbidden"),
            ),
            Error::Validation(fields) => {
                let mut p = Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation",
                    fields.to_string(),
                );
                p.errors = fields
                    .0
                    .into_iter()
                    .map(|(field, message)| FieldError { field, message })
                    .collect();
                p
            }
            Error::Kontingent(refusal) => {
                let k = refusal.exceeded;
                let mut p =
                    Problem::new(StatusCode::CONFLICT, "kontingent-exceeded", k.to_string());
                p.limit = Some(k.limit);
                p.requested = Some(k.requested);
                p.remaining = Some(k.remaining.max(0));
                p.links.push(Link {
                    rel: "kontingent-request".into(),
                    method: "POST".into(),
                    href: format!(
                        "/api/v1/contracts/{}/kontingent-requests",
                        refusal.contract_id
                    ),
                    body: Some(serde_json::json!({
                        "kontingent": super::kontingent::ceiling_body(&refusal.fit),
                        "reason": "",
                    })),
                });
                p
            }
            Error::ContractNotValid(m) => {
                Problem::new(StatusCode::CONFLICT, "contract-not-valid", m)
            }
            Error::Conflict(m) => Problem::new(StatusCode::CONFLICT, "conflict", m),
            Error::BelowUse(ref below) => {
                let below_booked = below
                    .iter()
                    .map(|b| BelowBooked {
                        limit: b.limit,
                        ceiling: b.ceiling,
                        booked: b.booked,
                    })
                    .collect();
                let mut p = Problem::new(StatusCode::CONFLICT, "below-booked", e.to_string());
                p.below_booked = below_booked;
                p
            }
            e @ Error::Stale(_) => Problem::new(
                StatusCode::PRECONDITION_FAILED,
                "precondition-failed",
                e.to_string(),
            ),
            Error::Checkup(refusal) => {
                // A version the application has already, or a registry off
                // the provider's allow-list (configuration), refuses a
                // well-formed delivery: 409. A reference or checksum the
                // Checkup cannot read is invalid input: 422.
                use crate::domain::release::Refusal;
                let status = match refusal {
                    Refusal::DuplicateVersion(_) | Refusal::ForeignRegistry(_) => {
                        StatusCode::CONFLICT
                    }
                    _ => StatusCode::UNPROCESSABLE_ENTITY,
                };
                let mut p = Problem::new(status, "checkup-refused", refusal.to_string());
                p.reason = Some(refusal.code().to_owned());
                p
            }
            Error::FourEyes(m) => Problem::new(StatusCode::FORBIDDEN, "four-eyes", m),
            Error::Database(e) if crate::db::is_unavailable(&e) => Problem::unavailable(&e),
            Error::Database(e) => internal(anyhow::Error::from(e)),
            Error::Internal(e) => internal(e),
        }
    }
}

fn internal(e: anyhow::Error) -> Problem {
    let id = crate::secret::random_id(12);
    tracing::error!(error_id = %id, error = ?e, "internal error in the API");
    Problem::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        lang::t_with("problem-detail-internal", &[("id", Arg::from(id))]),
    )
}

impl From<sqlx::Error> for Problem {
    fn from(e: sqlx::Error) -> Problem {
        Error::from(e).into()
    }
}
