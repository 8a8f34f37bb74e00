use serde_json::json;
use sqlx::AnyPool;

use super::{Db, audit};
use crate::{
    app::error::{Error, FieldErrors, Result},
    domain::actor::{CurrentUser, Scope},
    domain::{Slug, Stage},
};

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Application {
    pub id: i64,
    pub customer_id: i64,
    pub contract_id: i64,
    pub contract_number: String,
    pub slug: String,
    pub name: String,
}

const SELECT: &str = "SELECT a.id, a.customer_id, a.contract_id, k.number AS contract_number, a.slug, a.name \
    FROM applications a JOIN contracts k ON k.id = a.contract_id";

pub async fn list(pool: &AnyPool, scope: Scope) -> sqlx::Result<Vec<Application>> {
    match scope {
        Scope::All => {
            sqlx::query_as(super::sql(format!("{SELECT} ORDER BY a.name, a.id")))
                .fetch_all(pool)
                .await
        }
        Scope::Customer(id) => {
            sqlx::query_as(super::sql(format!(
                "{SELECT} WHERE a.customer_id = $1 ORDER BY a.name, a.id"
            )))
            .bind(id)
            .fetch_all(pool)
            .await
        }
        Scope::Nothing => Ok(Vec::new()),
    }
}

pub async fn list_for_customer(pool: &AnyPool, customer_id: i64) -> sqlx::Result<Vec<Application>> {
    list(pool, Scope::Customer(customer_id)).await
}

pub async fn get(pool: &AnyPool, user: &CurrentUser, id: i64) -> Result<Application> {
    let app: Option<Application> = sqlx::query_as(super::sql(format!("{SELECT} WHERE a.id = $1")))
        .bind(id)
        .fetch_optional(pool)
        .await?;
    app.filter(|a| user.can_see(a.customer_id))
        .ok_or(Error::NotFound)
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct ApplicationInput {
    pub contract_id: String,
    pub slug: String,
    pub name: String,
}

/// Creates an application (IT-Fachverfahren) under a contract, with one
/// environment per stage.
pub async fn create(db: &Db, user: &CurrentUser, input: &ApplicationInput) -> Result<i64> {
    if !user.is_betreiber() {
        return Err(Error::Forbidden);
    }
    let mut e = FieldErrors::default();
    let contract_id = input.contract_id.trim().parse::<i64>().unwrap_or_else(|_| {
        e.add("contract_id", "Bitte einen Vertrag wählen.");
        0
    });
    let slug = Slug::parse(&input.slug)
        .map_err(|err| e.add("slug", err.to_string()))
        .ok();
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        e.add("name", "Bitte einen Namen mit 1 bis 200 Zeichen angeben.");
    }
    e.into_result()?;
    let slug = slug.expect("checked");
    let now = super::now();
    let mut tx = db.begin_write().await?;
    let contract: Option<(i64,)> =
        sqlx::query_as("SELECT customer_id FROM contracts WHERE id = $1")
            .bind(contract_id)
            .fetch_optional(&mut *tx)
            .await?;
    let (customer_id,) = contract
        .ok_or_else(|| Error::validation("contract_id", "Diesen Vertrag gibt es nicht."))?;
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO applications (customer_id, contract_id, slug, name, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(customer_id)
    .bind(contract_id)
    .bind(slug.as_str())
    .bind(name)
    .bind(now)
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| {
        Error::taken(
            e,
            "slug",
            "Dieses Kürzel hat der Kunde schon für ein anderes Verfahren.",
        )
    })?;
    for stage in Stage::ALL {
        sqlx::query("INSERT INTO environments (application_id, stage) VALUES ($1, $2)")
            .bind(id)
            .bind(stage.as_str())
            .execute(&mut *tx)
            .await?;
    }
    audit::record(
        &mut tx,
        user,
        now,
        audit::Entry {
            customer_id: Some(customer_id),
            action: "application.created",
            object_type: "application",
            object_id: id,
            before: None,
            after: Some(json!({"slug": slug.as_str(), "name": name, "contract_id": contract_id})),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Whose application it is: the customer and the contract its bookings count
/// against.
pub async fn owner(conn: &mut sqlx::AnyConnection, id: i64) -> sqlx::Result<Option<(i64, i64)>> {
    sqlx::query_as("SELECT customer_id, contract_id FROM applications WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await
}
