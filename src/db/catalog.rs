//! The catalogue: products in S/M/L/XL with versioned hourly prices.

use serde_json::json;
use sqlx::AnyPool;

use super::{Db, audit};
use crate::{
    app::error::{Error, FieldErrors, Result},
    domain::actor::CurrentUser,
    domain::{
        HourlyRate, Resources, Size, Slug,
        calendar::{berlin_date, berlin_midnight, parse_date},
    },
};

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

pub async fn price_versions(pool: &AnyPool) -> sqlx::Result<Vec<PriceVersion>> {
    sqlx::query_as(
        "SELECT id, product_size_id, valid_from, rate FROM prices ORDER BY product_size_id, valid_from",
    )
    .fetch_all(pool)
    .await
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct PriceInput {
    pub product_size_id: String,
    pub valid_from: String,
    pub rate: String,
}

/// Adds a price version. Prices start at a German midnight, not before
/// tomorrow: a past price is what was billed and must not change.
pub async fn add_price(db: &Db, user: &CurrentUser, input: &PriceInput) -> Result<i64> {
    if !user.is_betreiber() {
        return Err(Error::Forbidden);
    }
    let mut e = FieldErrors::default();
    let size_id = input
        .product_size_id
        .trim()
        .parse::<i64>()
        .unwrap_or_else(|_| {
            e.add("product_size_id", "Bitte eine Größe wählen.");
            0
        });
    let now = super::now();
    let today = berlin_date(now);
    let date = parse_date(&input.valid_from);
    // The first price of a new size may start today: nothing can have been
    // booked (let alone billed) without a price.
    let (priced,): (i64,) =
        sqlx::query_as("SELECT CAST(COUNT(*) AS BIGINT) FROM prices WHERE product_size_id = $1")
            .bind(size_id)
            .fetch_one(&db.pool)
            .await?;
    let earliest = if priced == 0 {
        today
    } else {
        today.tomorrow().unwrap_or(today)
    };
    match date {
        None => e.add(
            "valid_from",
            "Bitte ein Datum im Format JJJJ-MM-TT angeben.",
        ),
        Some(d) if d < earliest => e.add(
            "valid_from",
            "Ein neuer Preis gilt frühestens ab morgen; vergangene Preise sind abgerechnet.",
        ),
        Some(_) => {}
    }
    let rate = HourlyRate::parse(&input.rate)
        .map_err(|err| e.add("rate", err.to_string()))
        .ok();
    e.into_result()?;
    let valid_from = berlin_midnight(date.expect("checked"));
    let rate = rate.expect("checked");
    let mut tx = db.begin_write().await?;
    let exists: Option<(i64,)> = sqlx::query_as("SELECT id FROM product_sizes WHERE id = $1")
        .bind(size_id)
        .fetch_optional(&mut *tx)
        .await?;
    if exists.is_none() {
        return Err(Error::validation(
            "product_size_id",
            "Diese Größe gibt es nicht.",
        ));
    }
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO prices (product_size_id, valid_from, rate, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(size_id)
    .bind(valid_from)
    .bind(rate.0)
    .bind(now)
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| {
        Error::taken(e, "valid_from", "Für diesen Tag gibt es schon eine Preisversion; bitte diese ändern.")
    })?;
    audit::record(
        &mut tx,
        user,
        now,
        audit::Entry {
            customer_id: None,
            action: "price.created",
            object_type: "price",
            object_id: id,
            before: None,
            after: Some(
                json!({"product_size_id": size_id, "valid_from": valid_from, "rate": rate.0}),
            ),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Changes the rate of a price version that has not started yet.
pub async fn update_price(db: &Db, user: &CurrentUser, id: i64, rate_input: &str) -> Result<()> {
    if !user.is_betreiber() {
        return Err(Error::Forbidden);
    }
    let rate =
        HourlyRate::parse(rate_input).map_err(|e| Error::validation("rate", e.to_string()))?;
    let now = super::now();
    let mut tx = db.begin_write().await?;
    let before: Option<PriceVersion> = sqlx::query_as(super::sql(format!(
        "SELECT id, product_size_id, valid_from, rate FROM prices WHERE id = $1{}",
        db.for_update()
    )))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let before = before.ok_or(Error::NotFound)?;
    if before.valid_from <= now {
        return Err(Error::Conflict(
            "Dieser Preis gilt schon und ist abgerechnet; bitte eine neue Preisversion anlegen."
                .into(),
        ));
    }
    sqlx::query("UPDATE prices SET rate = $1 WHERE id = $2")
        .bind(rate.0)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        user,
        now,
        audit::Entry {
            customer_id: None,
            action: "price.updated",
            object_type: "price",
            object_id: id,
            before: Some(json!({"rate": before.rate})),
            after: Some(json!({"rate": rate.0})),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct SizeInput {
    pub vcpu: String,
    pub memory_gib: String,
    pub storage_gib: String,
    pub pods: String,
}

fn parse_count(e: &mut FieldErrors, field: &str, value: &str, max: i64) -> i64 {
    match value.trim().parse::<i64>() {
        Ok(n) if (0..=max).contains(&n) => n,
        _ => {
            e.add(
                field,
                format!("Bitte eine ganze Zahl von 0 bis {max} angeben."),
            );
            0
        }
    }
}

impl SizeInput {
    pub fn validate(&self) -> Result<Resources> {
        let mut e = FieldErrors::default();
        let vcpu = parse_count(&mut e, "vcpu", &self.vcpu, 1024);
        let memory = parse_count(&mut e, "memory_gib", &self.memory_gib, 16_384);
        let storage = parse_count(&mut e, "storage_gib", &self.storage_gib, 1_000_000);
        let pods = parse_count(&mut e, "pods", &self.pods, 10_000);
        e.into_result()?;
        Ok(Resources {
            millicpu: vcpu * 1000,
            memory_mib: memory * 1024,
            storage_gib: storage,
            pods,
        })
    }
}

/// Changes what a size grants from now on. Existing bookings keep the vector
/// they were booked with (their periods hold a copy).
pub async fn update_size(db: &Db, user: &CurrentUser, id: i64, input: &SizeInput) -> Result<()> {
    if !user.is_betreiber() {
        return Err(Error::Forbidden);
    }
    let r = input.validate()?;
    let now = super::now();
    let mut tx = db.begin_write().await?;
    let before: Option<SizeRow> =
        sqlx::query_as(super::sql(format!("{SIZE_SQL} WHERE ps.id = $2")))
            .bind(now)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
    let before = before.ok_or(Error::NotFound)?;
    sqlx::query(
        "UPDATE product_sizes SET millicpu = $1, memory_mib = $2, storage_gib = $3, pods = $4 WHERE id = $5",
    )
    .bind(r.millicpu)
    .bind(r.memory_mib)
    .bind(r.storage_gib)
    .bind(r.pods)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        user,
        now,
        audit::Entry {
            customer_id: None,
            action: "product_size.updated",
            object_type: "product_size",
            object_id: id,
            before: Some(serde_json::to_value(before.resources()).unwrap_or_default()),
            after: Some(serde_json::to_value(r).unwrap_or_default()),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct ProductInput {
    pub slug: String,
    pub name: String,
    pub description: String,
}

/// Creates a product with its four sizes, all zero and without price; the
/// Betreiber then sets each size's resources and first price.
pub async fn create_product(db: &Db, user: &CurrentUser, input: &ProductInput) -> Result<i64> {
    if !user.is_betreiber() {
        return Err(Error::Forbidden);
    }
    let mut e = FieldErrors::default();
    let slug = Slug::parse(&input.slug)
        .map_err(|err| e.add("slug", err.to_string()))
        .ok();
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 120 {
        e.add("name", "Bitte einen Namen mit 1 bis 120 Zeichen angeben.");
    }
    let description = input.description.trim();
    if description.chars().count() > 1000 {
        e.add("description", "Höchstens 1000 Zeichen.");
    }
    e.into_result()?;
    let slug = slug.expect("checked");
    let now = super::now();
    let mut tx = db.begin_write().await?;
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO products (slug, name, description, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(slug.as_str())
    .bind(name)
    .bind(description)
    .bind(now)
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| Error::taken(e, "slug", "Dieses Kürzel ist schon vergeben."))?;
    for size in Size::ALL {
        sqlx::query(
            "INSERT INTO product_sizes (product_id, size, millicpu, memory_mib, storage_gib, pods) \
             VALUES ($1, $2, 0, 0, 0, 0)",
        )
        .bind(id)
        .bind(size.as_str())
        .execute(&mut *tx)
        .await?;
    }
    audit::record(
        &mut tx,
        user,
        now,
        audit::Entry {
            customer_id: None,
            action: "product.created",
            object_type: "product",
            object_id: id,
            before: None,
            after: Some(json!({"slug": slug.as_str(), "name": name})),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}
