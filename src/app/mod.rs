//! Use cases: one public function per thing a person does (book, resize,
//! cancel, deliver, approve, …), called by the pages (`web`), the REST API
//! (`api`) and the command line alike. Each one checks the person against
//! `domain::policy`, and every change runs through [`Change`]: one
//! transaction holding the change, its audit entry and its provisioning
//! work, with the reconciler woken after the commit.
//!
//! Below this layer `db` knows only SQL and rows, `domain` only rules.

pub mod error;

mod change;
pub mod export;

pub use change::{Begun, Change, Created};
pub use error::{Error, FieldErrors, Result};

pub mod applications;
pub mod approvals;
pub mod bookings;
pub mod catalog;
pub mod contracts;
pub mod customers;
pub mod deployments;
pub mod environments;
pub mod identities;
pub mod kontingent;
pub mod listing;
pub mod notifications;
pub mod notify;
pub mod promotions;
pub mod releases;
pub mod revision;
pub mod tokens;

/// A row the person may see. A missing row and another customer's row
/// answer alike (`NotFound`), so no one learns what exists elsewhere.
fn visible<T>(
    user: &crate::domain::actor::CurrentUser,
    row: Option<T>,
    customer_of: impl FnOnce(&T) -> i64,
) -> Result<T> {
    let row = row.ok_or(Error::NotFound)?;
    crate::domain::policy::see(user, customer_of(&row))?;
    Ok(row)
}
