//! The unique rules of the schema that a person can run into with what they
//! typed, recognised by name on PostgreSQL and by their columns on SQLite
//! (which does not report names). The use cases (src/app/error.rs) turn each into a message on
//! the field that broke it; any other violation stays a database error.

/// A unique constraint or unique index of the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unique {
    CustomerSlug,
    ContractNumber,
    ApplicationSlug,
    ProductSlug,
    PriceValidFrom,
    UserLogin,
    OpenApproval,
    AcceptedReleaseVersion,
}

/// Each rule: its name in both schemas, and the columns SQLite names in
/// "UNIQUE constraint failed: …".
pub const UNIQUE: &[(Unique, &str, &str)] = &[
    (Unique::CustomerSlug, "customers_slug_key", "customers.slug"),
    (
        Unique::ContractNumber,
        "contracts_number_key",
        "contracts.number",
    ),
    (
        Unique::ApplicationSlug,
        "applications_customer_slug_key",
        "applications.customer_id, applications.slug",
    ),
    (Unique::ProductSlug, "products_slug_key", "products.slug"),
    (
        Unique::PriceValidFrom,
        "prices_size_valid_from_key",
        "prices.product_size_id, prices.valid_from",
    ),
    (Unique::UserLogin, "users_login_key", "users.login"),
    (
        Unique::OpenApproval,
        "approvals_open_key",
        "approvals.open_key",
    ),
    (
        Unique::AcceptedReleaseVersion,
        "releases_version_key",
        "releases.application_id, releases.version",
    ),
];

/// Which of the known unique rules an error broke, if any.
pub fn violated(e: &sqlx::Error) -> Option<Unique> {
    let sqlx::Error::Database(db) = e else {
        return None;
    };
    if !db.is_unique_violation() {
        return None;
    }
    if let Some(name) = db.constraint() {
        return UNIQUE
            .iter()
            .find(|(_, n, _)| *n == name)
            .map(|(u, _, _)| *u);
    }
    let columns = db.message().strip_prefix("UNIQUE constraint failed: ")?;
    UNIQUE
        .iter()
        .find(|(_, _, c)| *c == columns)
        .map(|(u, _, _)| *u)
}
