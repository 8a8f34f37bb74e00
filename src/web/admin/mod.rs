//! Betreiber area: customers, contracts with their Kontingent, catalogue and
//! price versions. Every handler starts by requiring the Betreiber role.

pub mod catalog;
pub mod contracts;
pub mod customers;
pub mod provisioning;

use axum::Router;

use super::{PageError, session::PageUser};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(customers::router())
        .merge(contracts::router())
        .merge(catalog::router())
        .merge(provisioning::router())
}

/// The Betreiber area is closed to everyone else.
pub fn require_betreiber(page: &PageUser) -> Result<(), PageError> {
    if page.user.is_betreiber() {
        Ok(())
    } else {
        Err(PageError::Forbidden)
    }
}

/// Parses an id from the path; anything else cannot exist.
pub fn path_id(raw: &str) -> Result<i64, PageError> {
    raw.parse::<i64>().map_err(|_| PageError::NotFound)
}

/// Turns a refused form into its field messages; other errors propagate.
pub fn field_errors(
    e: crate::app::error::Error,
) -> Result<crate::app::error::FieldErrors, PageError> {
    match e {
        crate::app::error::Error::Validation(errors) => Ok(errors),
        other => Err(other.into()),
    }
}
