//! The catalogue the bookings are drawn from: the demo's products with their
//! sizes, seeded first and read back with ids and prices.

use anyhow::Context as _;

use crate::db::Db;

/// Size labels in catalogue order; a generated size is an index into it.
pub(super) const SIZES: [&str; 4] = ["S", "M", "L", "XL"];

/// A catalogue size as booked: its id, resource vector and price.
#[derive(Clone, Copy)]
pub(super) struct SizeRow {
    pub(super) id: i64,
    pub(super) product_id: i64,
    pub(super) millicpu: i64,
    pub(super) memory_mib: i64,
    pub(super) storage_gib: i64,
    pub(super) pods: i64,
    pub(super) rate: i64,
}

/// A product with its sizes in the order of [`SIZES`].
pub(super) struct Product {
    pub(super) id: i64,
    pub(super) slug: String,
    pub(super) sizes: Vec<SizeRow>,
}

#[derive(sqlx::FromRow)]
struct CatalogueRow {
    id: i64,
    product_id: i64,
    slug: String,
    size: String,
    millicpu: i64,
    memory_mib: i64,
    storage_gib: i64,
    pods: i64,
    rate: i64,
}

/// Seeds the demo catalogue, valid from `valid_from`, and reads it back;
/// refuses a catalogue of another shape than the generator draws from (two
/// products with the sizes S, M, L, XL each).
pub(super) async fn seed(db: &Db, valid_from: i64) -> anyhow::Result<Vec<Product>> {
    crate::seed::demo::catalogue(db, valid_from)
        .await
        .context("seeding catalogue")?;
    let catalogue: Vec<CatalogueRow> = sqlx::query_as(
        "SELECT ps.id, ps.product_id, p.slug, ps.size, ps.millicpu, ps.memory_mib, ps.storage_gib, \
         ps.pods, pr.rate FROM product_sizes ps JOIN products p ON p.id = ps.product_id \
         JOIN prices pr ON pr.product_size_id = ps.id ORDER BY p.id, ps.id",
    )
    .fetch_all(&db.pool)
    .await?;
    let mut products: Vec<Product> = Vec::new();
    for r in catalogue {
        if products.last().is_none_or(|p| p.id != r.product_id) {
            products.push(Product {
                id: r.product_id,
                slug: r.slug,
                sizes: Vec::new(),
            });
        }
        let product = products.last_mut().expect("pushed");
        anyhow::ensure!(
            SIZES.get(product.sizes.len()) == Some(&r.size.as_str()),
            "unexpected catalogue: sizes of {} not in the order S, M, L, XL",
            product.slug
        );
        product.sizes.push(SizeRow {
            id: r.id,
            product_id: r.product_id,
            millicpu: r.millicpu,
            memory_mib: r.memory_mib,
            storage_gib: r.storage_gib,
            pods: r.pods,
            rate: r.rate,
        });
    }
    let sizes_ok = products.len() == 2 && products.iter().all(|p| p.sizes.len() == SIZES.len());
    anyhow::ensure!(
        sizes_ok,
        "unexpected catalogue: two products with four sizes each expected"
    );
    Ok(products)
}
