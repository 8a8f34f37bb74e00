//! A generated dataset of realistic size for the benchmarks
//! (`kontor seed bench`, see `docs/benchmarks.md`).
//!
//! Deterministic: the same arguments give the same customers, applications,
//! bookings and history (times are spread between 1 January 2025 and the
//! moment of the run, so they move with the date, the shape does not).
//! Everything except the catalogue is written in one transaction with
//! multi-row `INSERT`s; the SQL is the same on SQLite and PostgreSQL.
//!
//! The dataset is first drawn in memory (`plan`, from the pools in `names`
//! and the seeded `catalogue`), then written (`write`, the history's audit
//! entries built in `audit`) with the multi-row `INSERT`s of `insert`.

mod audit;
mod catalogue;
mod insert;
mod names;
mod plan;
mod write;

use std::time::Instant;

use crate::db::{self, Backend, Db};
use crate::domain::calendar::berlin_midnight;

use plan::Plan;

/// Fills an empty database with `customers` customers (one contract each),
/// `applications` applications and `bookings` bookings with their history;
/// gives back a summary of what it wrote, for the person who ran it.
pub async fn generate(
    db: &Db,
    customers: usize,
    applications: usize,
    bookings: usize,
) -> anyhow::Result<String> {
    let started = Instant::now();
    if customers == 0 {
        anyhow::bail!("--customers muss mindestens 1 sein");
    }
    if bookings > 0 && applications == 0 {
        anyhow::bail!("Buchungen brauchen Verfahren: --applications muss mindestens 1 sein");
    }
    refuse_data(db).await?;

    let start = berlin_midnight(jiff::civil::date(2025, 1, 1));
    let now = db::now();
    if now < start + 30 * 86_400 {
        anyhow::bail!(
            "die Systemuhr steht vor Februar 2025; die Bench-Daten beginnen am 1. Januar 2025"
        );
    }
    let products = catalogue::seed(db, start).await?;
    let plan = Plan::draw(products, customers, applications, bookings, start, now)?;
    let written = write::write(db, &plan).await?;
    // The seeded history closes periods without the cost a real close
    // stores; store it now, as the start-up would, before the statistics.
    crate::app::bookings::settle_unsettled(db, now).await?;

    // Fresh planner statistics and, on PostgreSQL, a vacuumed visibility map:
    // the state autovacuum reaches a minute later anyway, so every benchmark
    // run starts from the same one instead of racing it.
    let maintenance = match db.backend {
        Backend::Postgres => "VACUUM ANALYZE",
        Backend::Sqlite => "ANALYZE",
    };
    if db.backend == Backend::Postgres {
        // The trigger that keeps the counts wrote a version of a customer's
        // row and of a shard for every seeded booking, all in one
        // transaction, so none could be pruned: `booking_counts` took 1,082
        // pages for 2,000 rows at ×10. A database that grows one booking at
        // a time keeps both tables compact (see migrations 0012 and 0013).
        for vacuum in [
            "VACUUM FULL booking_counts",
            "VACUUM FULL booking_count_shards",
        ] {
            sqlx::query(vacuum).execute(&db.pool).await?;
        }
    }
    sqlx::query(maintenance).execute(&db.pool).await?;

    Ok(summary(&plan, &written, started))
}

/// Refuses a database with customers, users or a catalogue: the generated
/// ids and names would collide with them.
async fn refuse_data(db: &Db) -> anyhow::Result<()> {
    for table in ["customers", "users", "products"] {
        let (n,): (i64,) = sqlx::query_as(db::sql(format!(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM {table}"
        )))
        .fetch_one(&db.pool)
        .await?;
        if n > 0 {
            anyhow::bail!(
                "Die Datenbank ist nicht leer (Tabelle {table}: {n} Zeilen). `kontor seed bench` \
                 füllt nur eine leere Datenbank; bitte eine neue anlegen (PostgreSQL: dropdb/createdb, \
                 SQLite: neue Datei) und KONTOR_DATABASE_URL darauf zeigen lassen. \
                 Beim Start von `kontor serve` KONTOR_SEED_DEMO=false setzen, sonst legt er Demo-Daten an."
            );
        }
    }
    Ok(())
}

fn summary(plan: &Plan, written: &write::Written, started: Instant) -> String {
    let customers = plan.customers.len();
    let bookings = plan.bookings.len();
    let cancelled = plan
        .bookings
        .iter()
        .filter(|b| b.cancelled_at.is_some())
        .count();
    let resized: usize = plan.bookings.iter().map(|b| b.periods.len() - 1).sum();
    let first_apps = plan.apps.iter().filter(|a| a.customer == 0).count();
    let first_bookings = plan
        .bookings
        .iter()
        .filter(|b| plan.apps[b.app].customer == 0)
        .count();
    format!(
        "Bench-Daten angelegt in {:.1} s: {customers} Kunden mit je einem Vertrag, {} Verfahren, \
         {} Umgebungen, {bookings} Buchungen ({} aktiv, {cancelled} gekündigt, \
         {resized} Größenänderungen), {} Buchungszeiträume, {} Revisionseinträge, {} Benutzer \
         (bench-betreiber, bench-sp-1 … bench-sp-{customers}).\n\
         bench-sp-1 gehört zu {} ({}): {first_apps} Verfahren, {first_bookings} Buchungen.",
        started.elapsed().as_secs_f64(),
        plan.apps.len(),
        written.environments,
        bookings - cancelled,
        written.periods,
        written.audit_entries,
        customers + 1,
        plan.customers[0].name,
        plan.customers[0].slug,
    )
}
