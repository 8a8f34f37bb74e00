//! Customers: rows and the statements that write them.

use sqlx::{AnyConnection, AnyPool};

use super::{Tx, Visible};
use crate::domain::actor::Scope;

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Customer {
    pub id: i64,
    pub slug: String,
    pub name: String,
}

pub async fn list(pool: &AnyPool, scope: Scope) -> sqlx::Result<Vec<Customer>> {
    let Some(visible) = Visible::to(scope, "id") else {
        return Ok(Vec::new());
    };
    let sql = format!(
        "SELECT id, slug, name FROM customers{} ORDER BY name",
        visible.sql()
    );
    visible
        .bind(sqlx::query_as(super::sql(sql)))
        .fetch_all(pool)
        .await
}

pub async fn find(pool: &AnyPool, id: i64) -> sqlx::Result<Option<Customer>> {
    sqlx::query_as("SELECT id, slug, name FROM customers WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
}

pub async fn insert(tx: &mut Tx, slug: &str, name: &str, now: i64) -> sqlx::Result<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO customers (slug, name, created_at) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(slug)
    .bind(name)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    Ok(id)
}

/// The customer's name, its row locked with `lock` (`Db::for_update`).
pub async fn name_for_update(
    conn: &mut AnyConnection,
    id: i64,
    lock: &str,
) -> sqlx::Result<Option<String>> {
    let row: Option<(String,)> = sqlx::query_as(super::sql(format!(
        "SELECT name FROM customers WHERE id = $1{lock}"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(name,)| name))
}

pub async fn set_name(tx: &mut Tx, id: i64, name: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE customers SET name = $1 WHERE id = $2")
        .bind(name)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
