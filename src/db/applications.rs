//! Applications (IT-Fachverfahren): rows and the statements that write them.

use sqlx::AnyPool;

use super::{Tx, Visible};
use crate::domain::actor::Scope;

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
    let Some(visible) = Visible::to(scope, "a.customer_id") else {
        return Ok(Vec::new());
    };
    let sql = format!("{SELECT}{} ORDER BY a.name, a.id", visible.sql());
    visible
        .bind(sqlx::query_as(super::sql(sql)))
        .fetch_all(pool)
        .await
}

pub async fn list_for_customer(pool: &AnyPool, customer_id: i64) -> sqlx::Result<Vec<Application>> {
    list(pool, Scope::Customer(customer_id)).await
}

/// One application, on the pool or inside a change.
pub async fn find<'e, E>(executor: E, id: i64) -> sqlx::Result<Option<Application>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query_as(super::sql(format!("{SELECT} WHERE a.id = $1")))
        .bind(id)
        .fetch_optional(executor)
        .await
}

pub async fn insert(
    tx: &mut Tx,
    customer_id: i64,
    contract_id: i64,
    slug: &str,
    name: &str,
    now: i64,
) -> sqlx::Result<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO applications (customer_id, contract_id, slug, name, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(customer_id)
    .bind(contract_id)
    .bind(slug)
    .bind(name)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
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

/// An application's name, for messages.
pub async fn name_of(conn: &mut sqlx::AnyConnection, id: i64) -> sqlx::Result<String> {
    let (name,): (String,) = sqlx::query_as("SELECT name FROM applications WHERE id = $1")
        .bind(id)
        .fetch_one(conn)
        .await?;
    Ok(name)
}

pub async fn set_name(tx: &mut Tx, id: i64, name: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE applications SET name = $1 WHERE id = $2")
        .bind(name)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn set_contract(tx: &mut Tx, id: i64, contract_id: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE applications SET contract_id = $1 WHERE id = $2")
        .bind(contract_id)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
