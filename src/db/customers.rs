use serde_json::json;
use sqlx::AnyPool;

use super::{Db, audit};
use crate::{
    app::error::{Error, FieldErrors, Result},
    domain::Slug,
    domain::actor::{CurrentUser, Scope},
};

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Customer {
    pub id: i64,
    pub slug: String,
    pub name: String,
}

pub async fn list(pool: &AnyPool, scope: Scope) -> sqlx::Result<Vec<Customer>> {
    match scope {
        Scope::All => {
            sqlx::query_as("SELECT id, slug, name FROM customers ORDER BY name")
                .fetch_all(pool)
                .await
        }
        Scope::Customer(id) => {
            sqlx::query_as("SELECT id, slug, name FROM customers WHERE id = $1")
                .bind(id)
                .fetch_all(pool)
                .await
        }
        Scope::Nothing => Ok(Vec::new()),
    }
}

pub async fn get(pool: &AnyPool, user: &CurrentUser, id: i64) -> Result<Customer> {
    let customer: Option<Customer> =
        sqlx::query_as("SELECT id, slug, name FROM customers WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?;
    customer
        .filter(|c| user.can_see(c.id))
        .ok_or(Error::NotFound)
}

/// Input of the Betreiber's customer form.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct CustomerInput {
    pub slug: String,
    pub name: String,
}

pub struct ValidCustomer {
    slug: Slug,
    name: String,
}

impl CustomerInput {
    pub fn validate(&self) -> Result<ValidCustomer> {
        let mut errors = FieldErrors::default();
        let slug = Slug::parse(&self.slug)
            .map_err(|e| errors.add("slug", e.to_string()))
            .ok();
        let name = self.name.trim();
        if name.is_empty() {
            errors.add("name", "Bitte den Namen der Behörde angeben.");
        } else if name.chars().count() > 200 {
            errors.add("name", "Höchstens 200 Zeichen.");
        }
        errors.into_result()?;
        Ok(ValidCustomer {
            slug: slug.expect("checked above"),
            name: name.to_owned(),
        })
    }
}

pub async fn create(db: &Db, user: &CurrentUser, input: &CustomerInput) -> Result<i64> {
    if !user.is_betreiber() {
        return Err(Error::Forbidden);
    }
    let valid = input.validate()?;
    let now = super::now();
    let mut tx = db.begin_write().await?;
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO customers (slug, name, created_at) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(valid.slug.as_str())
    .bind(&valid.name)
    .bind(now)
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| Error::taken(e, "slug", "Dieses Kürzel ist schon vergeben."))?;
    audit::record(
        &mut tx,
        user,
        now,
        audit::Entry {
            customer_id: Some(id),
            action: "customer.created",
            object_type: "customer",
            object_id: id,
            before: None,
            after: Some(json!({"slug": valid.slug.as_str(), "name": valid.name})),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Renames a customer. The slug is part of Kubernetes names and stays fixed.
pub async fn update_name(db: &Db, user: &CurrentUser, id: i64, name: &str) -> Result<()> {
    if !user.is_betreiber() {
        return Err(Error::Forbidden);
    }
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(Error::validation(
            "name",
            "Bitte einen Namen mit 1 bis 200 Zeichen angeben.",
        ));
    }
    let now = super::now();
    let mut tx = db.begin_write().await?;
    let before: Option<(String,)> = sqlx::query_as(super::sql(format!(
        "SELECT name FROM customers WHERE id = $1{}",
        db.for_update()
    )))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let (before,) = before.ok_or(Error::NotFound)?;
    sqlx::query("UPDATE customers SET name = $1 WHERE id = $2")
        .bind(name)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        user,
        now,
        audit::Entry {
            customer_id: Some(id),
            action: "customer.updated",
            object_type: "customer",
            object_id: id,
            before: Some(json!({"name": before})),
            after: Some(json!({"name": name})),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
