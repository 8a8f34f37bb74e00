//! The catalogue: products in S/M/L/XL with versioned hourly prices.

use sqlx::{AnyConnection, AnyPool};

use super::Tx;
use crate::domain::{HourlyRate, Resources, Size};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Product {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub description: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SizeRow {
    pub id: i64,
    pub product_id: i64,
    pub size: Size,
    pub millicpu: i64,
    pub memory_mib: i64,
    pub storage_gib: i64,
    pub pods: i64,
    /// Price valid now; `None` before the first price version starts.
    pub rate: Option<i64>,
}

impl SizeRow {
    pub fn resources(&self) -> Resources {
        Resources {
            millicpu: self.millicpu,
            memory_mib: self.memory_mib,
            storage_gib: self.storage_gib,
            pods: self.pods,
        }
    }

    pub fn rate(&self) -> Option<HourlyRate> {
        self.rate.map(HourlyRate)
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PriceVersion {
    pub id: i64,
    pub product_size_id: i64,
    pub valid_from: i64,
    pub rate: i64,
}

/// A product with its sizes in S, M, L, XL order.
#[derive(Debug, Clone)]
pub struct ProductWithSizes {
    pub product: Product,
    pub sizes: Vec<SizeRow>,
}

const SIZE_SQL: &str = "SELECT ps.id, ps.product_id, ps.size, ps.millicpu, ps.memory_mib, ps.storage_gib, ps.pods, \
      (SELECT pr.rate FROM prices pr WHERE pr.product_size_id = ps.id AND pr.valid_from <= $1 \
       ORDER BY pr.valid_from DESC LIMIT 1) AS rate \
    FROM product_sizes ps";

pub async fn products(pool: &AnyPool, now: i64) -> sqlx::Result<Vec<ProductWithSizes>> {
    let products: Vec<Product> =
        sqlx::query_as("SELECT id, slug, name, description FROM products ORDER BY id")
            .fetch_all(pool)
            .await?;
    let mut sizes: Vec<SizeRow> = sqlx::query_as(SIZE_SQL).bind(now).fetch_all(pool).await?;
    sizes.sort_by_key(|s| (s.product_id, s.size));
    Ok(products
        .into_iter()
        .map(|product| ProductWithSizes {
            sizes: sizes
                .iter()
                .filter(|s| s.product_id == product.id)
                .cloned()
                .collect(),
            product,
        })
        .collect())
}

/// One product size by the product's slug, with the price valid at `now`.
pub async fn size(
    conn: &mut sqlx::AnyConnection,
    product_slug: &str,
    size: Size,
    now: i64,
) -> sqlx::Result<Option<(Product, SizeRow)>> {
    let product: Option<Product> =
        sqlx::query_as("SELECT id, slug, name, description FROM products WHERE slug = $1")
            .bind(product_slug)
            .fetch_optional(&mut *conn)
            .await?;
    let Some(product) = product else {
        return Ok(None);
    };
    let row: Option<SizeRow> = sqlx::query_as(super::sql(format!(
        "{SIZE_SQL} WHERE ps.product_id = $2 AND ps.size = $3"
    )))
    .bind(now)
    .bind(product.id)
    .bind(size.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|r| (product, r)))
}

/// The sizes of one product, S to XL, with the prices valid at `now`.
pub async fn sizes_of(
    conn: &mut AnyConnection,
    product_id: i64,
    now: i64,
) -> sqlx::Result<Vec<SizeRow>> {
    let mut sizes: Vec<SizeRow> =
        sqlx::query_as(super::sql(format!("{SIZE_SQL} WHERE ps.product_id = $2")))
            .bind(now)
            .bind(product_id)
            .fetch_all(&mut *conn)
            .await?;
    sizes.sort_by_key(|s| s.size);
    Ok(sizes)
}

pub async fn price_versions(pool: &AnyPool) -> sqlx::Result<Vec<PriceVersion>> {
    sqlx::query_as(
        "SELECT id, product_size_id, valid_from, rate FROM prices ORDER BY product_size_id, valid_from",
    )
    .fetch_all(pool)
    .await
}

/// A price version with the product and size it belongs to.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PriceHistoryRow {
    pub id: i64,
    pub product_slug: String,
    pub size: Size,
    pub valid_from: i64,
    pub rate: i64,
}

/// Every price version, of one product and one size where given, by
/// product, size and start.
pub async fn price_history(
    pool: &AnyPool,
    product_slug: Option<&str>,
    size: Option<Size>,
) -> sqlx::Result<Vec<PriceHistoryRow>> {
    let mut rows: Vec<PriceHistoryRow> = sqlx::query_as(
        "SELECT pr.id, p.slug AS product_slug, ps.size, pr.valid_from, pr.rate FROM prices pr \
         JOIN product_sizes ps ON ps.id = pr.product_size_id \
         JOIN products p ON p.id = ps.product_id \
         WHERE ($1 IS NULL OR p.slug = $1) AND ($2 IS NULL OR ps.size = $2)",
    )
    .bind(product_slug)
    .bind(size.map(|s| s.as_str()))
    .fetch_all(pool)
    .await?;
    // Sizes in S, M, L, XL order, not alphabetically.
    rows.sort_by(|a, b| {
        (&a.product_slug, a.size, a.valid_from).cmp(&(&b.product_slug, b.size, b.valid_from))
    });
    Ok(rows)
}

/// The id of a product's size, by the product's slug.
pub async fn size_id(
    conn: &mut AnyConnection,
    product_slug: &str,
    size: Size,
) -> sqlx::Result<Option<i64>> {
    let row: Option<(i64,)> = sqlx::query_as(
        "SELECT ps.id FROM product_sizes ps JOIN products p ON p.id = ps.product_id \
         WHERE p.slug = $1 AND ps.size = $2",
    )
    .bind(product_slug)
    .bind(size.as_str())
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(id,)| id))
}

/// Whether a product with this slug exists.
pub async fn product_exists(pool: &AnyPool, slug: &str) -> sqlx::Result<bool> {
    let row: Option<(i64,)> = sqlx::query_as("SELECT id FROM products WHERE slug = $1")
        .bind(slug)
        .fetch_optional(pool)
        .await?;
    Ok(row.is_some())
}

/// How many price versions a size has.
pub async fn price_count(conn: &mut AnyConnection, size_id: i64) -> sqlx::Result<i64> {
    let (n,): (i64,) =
        sqlx::query_as("SELECT CAST(COUNT(*) AS BIGINT) FROM prices WHERE product_size_id = $1")
            .bind(size_id)
            .fetch_one(conn)
            .await?;
    Ok(n)
}

pub async fn size_exists(conn: &mut AnyConnection, size_id: i64) -> sqlx::Result<bool> {
    let row: Option<(i64,)> = sqlx::query_as("SELECT id FROM product_sizes WHERE id = $1")
        .bind(size_id)
        .fetch_optional(conn)
        .await?;
    Ok(row.is_some())
}

pub async fn insert_price(
    tx: &mut Tx,
    size_id: i64,
    valid_from: i64,
    rate: HourlyRate,
    now: i64,
) -> sqlx::Result<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO prices (product_size_id, valid_from, rate, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(size_id)
    .bind(valid_from)
    .bind(rate.0)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    Ok(id)
}

/// A price version, its row locked with `lock` (`Db::for_update`).
pub async fn price_for_update(
    conn: &mut AnyConnection,
    id: i64,
    lock: &str,
) -> sqlx::Result<Option<PriceVersion>> {
    sqlx::query_as(super::sql(format!(
        "SELECT id, product_size_id, valid_from, rate FROM prices WHERE id = $1{lock}"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await
}

pub async fn set_rate(tx: &mut Tx, id: i64, rate: HourlyRate) -> sqlx::Result<()> {
    sqlx::query("UPDATE prices SET rate = $1 WHERE id = $2")
        .bind(rate.0)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// One size with the price valid at `now`.
pub async fn size_by_id(
    conn: &mut AnyConnection,
    id: i64,
    now: i64,
) -> sqlx::Result<Option<SizeRow>> {
    sqlx::query_as(super::sql(format!("{SIZE_SQL} WHERE ps.id = $2")))
        .bind(now)
        .bind(id)
        .fetch_optional(conn)
        .await
}

pub async fn set_resources(tx: &mut Tx, id: i64, r: &Resources) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE product_sizes SET millicpu = $1, memory_mib = $2, storage_gib = $3, pods = $4 WHERE id = $5",
    )
    .bind(r.millicpu)
    .bind(r.memory_mib)
    .bind(r.storage_gib)
    .bind(r.pods)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A product with its four sizes, all zero and without price.
pub async fn insert_product(
    tx: &mut Tx,
    slug: &str,
    name: &str,
    description: &str,
    now: i64,
) -> sqlx::Result<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO products (slug, name, description, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(slug)
    .bind(name)
    .bind(description)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    for size in Size::ALL {
        sqlx::query(
            "INSERT INTO product_sizes (product_id, size, millicpu, memory_mib, storage_gib, pods) \
             VALUES ($1, $2, 0, 0, 0, 0)",
        )
        .bind(id)
        .bind(size)
        .execute(&mut **tx)
        .await?;
    }
    Ok(id)
}
