//! Demo data: a realistic catalogue, three customers with contracts and
//! bookings, and one demo user per role. Written through the same functions
//! as real changes, so the demo has audit entries and obeys the Kontingent.

use anyhow::Context as _;

use crate::db::{self, Db, users};
use crate::{
    app::{self, applications::NewApplication, customers::NewCustomer},
    domain::{
        Cents, Kontingent, Role, Size, Slug, Stage,
        actor::{CurrentUser, Via},
        calendar::berlin_midnight,
        contract::{BillingModel, Terms, Validity},
        text::Text,
    },
};

/// Catalogue: (slug, name, description, [(size, vCPU, GiB memory, GiB storage, pods, rate)]).
/// Compute sizes follow the Sovereign Cloud Stack flavour ratio of 1 vCPU to
/// 4 GiB memory; rates are in 1/10 000 EUR per hour.
type SizeSpec = (Size, i64, i64, i64, i64, i64);
const CATALOGUE: [(&str, &str, &str, [SizeSpec; 4]); 2] = [
    (
        "container-namespace",
        "Container-Namespace",
        "Ein Kubernetes-Namespace je Verfahren und Stufe mit garantierter Rechenleistung und Arbeitsspeicher (ResourceQuota), Netzwerkabschottung und Zugriff für das Team.",
        [
            (Size::S, 2, 8, 0, 20, 1180),
            (Size::M, 4, 16, 0, 40, 2360),
            (Size::L, 8, 32, 0, 80, 4720),
            (Size::XL, 16, 64, 0, 160, 9440),
        ],
    ),
    (
        "persistent-storage",
        "Persistenter Speicher",
        "Blockspeicher für Datenbanken und Dateiablagen, dreifach repliziert im Rechenzentrum, als PersistentVolumeClaims im Namespace nutzbar.",
        [
            (Size::S, 0, 0, 50, 0, 68),
            (Size::M, 0, 0, 100, 0, 137),
            (Size::L, 0, 0, 250, 0, 342),
            (Size::XL, 0, 0, 500, 0, 685),
        ],
    ),
];

/// Whether the demo (or any) data is present.
pub async fn is_empty(db: &Db) -> anyhow::Result<bool> {
    let (n,): (i64,) = sqlx::query_as("SELECT CAST(COUNT(*) AS BIGINT) FROM customers")
        .fetch_one(&db.pool)
        .await?;
    Ok(n == 0)
}

fn date(s: &str) -> i64 {
    berlin_midnight(s.parse().expect("valid literal date"))
}

pub async fn catalogue(db: &Db, valid_from: i64) -> anyhow::Result<()> {
    let mut tx = db.begin_write().await?;
    for (slug, name, description, sizes) in CATALOGUE {
        let (product_id,): (i64,) = sqlx::query_as(
            "INSERT INTO products (slug, name, description, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(slug)
        .bind(name)
        .bind(description)
        .bind(valid_from)
        .fetch_one(&mut *tx)
        .await?;
        for (size, vcpu, mem_gib, storage_gib, pods, rate) in sizes {
            let (size_id,): (i64,) = sqlx::query_as(
                "INSERT INTO product_sizes (product_id, size, millicpu, memory_mib, storage_gib, pods) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(product_id)
            .bind(size.as_str())
            .bind(vcpu * 1000)
            .bind(mem_gib * 1024)
            .bind(storage_gib)
            .bind(pods)
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO prices (product_size_id, valid_from, rate, created_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(size_id)
            .bind(valid_from)
            .bind(rate)
            .bind(valid_from)
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// A stand-in Betreiber for changes made by Kontor itself (seed, CLI).
pub async fn system_user(db: &Db) -> anyhow::Result<CurrentUser> {
    let existing = users::by_login(&db.pool, "system").await?;
    let id = match existing {
        Some(u) => u.id,
        None => {
            let mut tx = db.begin_write().await?;
            let id = users::create(
                &mut tx,
                "system",
                "Kontor (System)",
                None,
                &[Role::Betreiber],
                false,
                db::now(),
            )
            .await?;
            tx.commit().await?;
            id
        }
    };
    Ok(CurrentUser {
        id,
        login: "system".into(),
        display_name: "Kontor (System)".into(),
        customer_id: None,
        roles: vec![Role::Betreiber],
        via: Via::System,
        subject: None,
    })
}

struct DemoCustomer {
    slug: &'static str,
    name: &'static str,
    contract: Terms,
    applications: &'static [(&'static str, &'static str)],
}

/// Text of the demo, known to be valid.
fn text(s: &str) -> Text {
    Text::parse(s, 200).expect("demo text")
}

fn contract(
    number: &str,
    title: &str,
    kostenstelle: &str,
    haushaltsstelle: &str,
    leitweg_id: &str,
    base_fee: &str,
    limits: (i64, i64, i64, &str),
) -> Terms {
    let money = |s: &str| Cents::parse(s).expect("demo amount");
    Terms {
        number: text(number),
        title: text(title),
        validity: Validity {
            from: "2026-01-01".parse().expect("demo date"),
            until: "2028-12-31".parse().expect("demo date"),
        },
        kostenstelle: text(kostenstelle),
        haushaltsstelle: text(haushaltsstelle),
        leitweg_id: text(leitweg_id),
        billing_model: if base_fee.is_empty() {
            BillingModel::Nutzung
        } else {
            BillingModel::Gemischt
        },
        base_fee: if base_fee.is_empty() {
            Cents(0)
        } else {
            money(base_fee)
        },
        kontingent: Kontingent {
            millicpu: limits.0 * 1000,
            memory_mib: limits.1 * 1024,
            storage_gib: limits.2,
            monthly_budget: money(limits.3),
        },
    }
}

fn demo_customers() -> Vec<DemoCustomer> {
    vec![
        DemoCustomer {
            slug: "musterhausen",
            name: "Stadt Musterhausen",
            contract: contract(
                "DLV-2026-0042",
                "Betrieb der Fachverfahren des Bürgeramts",
                "4711-100",
                "0610.53100",
                "05315000-1234512345-06",
                "",
                (32, 128, 2000, "2500,00"),
            ),
            applications: &[
                ("buergerservice", "Bürgerservice-Portal"),
                ("kfz-zulassung", "Kfz-Zulassung"),
            ],
        },
        DemoCustomer {
            slug: "lastat",
            name: "Landesamt für Statistik Beispielland",
            contract: contract(
                "DLV-2026-0107",
                "Statistische Auswertungsplattform",
                "2300-40",
                "1110.51101",
                "991-01234-44",
                "",
                (48, 192, 5000, "4000,00"),
            ),
            applications: &[("zensus-auswertung", "Zensus-Auswertung")],
        },
        DemoCustomer {
            slug: "nordkreis",
            name: "Kreisverwaltung Nordkreis",
            contract: contract(
                "DLV-2026-0311",
                "Sozial- und Bauverfahren",
                "KV-5020",
                "4100.63300",
                "06434000-NK2026-12",
                "150,00",
                (16, 64, 1000, "1200,00"),
            ),
            applications: &[
                ("sozialhilfe", "Sozialhilfe-Fachverfahren"),
                ("bauantrag", "Digitaler Bauantrag"),
            ],
        },
    ]
}

/// Seeds the demo. Returns false (and changes nothing) if data exists.
pub async fn demo(db: &Db) -> anyhow::Result<bool> {
    if !is_empty(db).await? {
        return Ok(false);
    }
    let start = date("2026-01-01");
    catalogue(db, start).await.context("seeding catalogue")?;
    let system = system_user(db).await?;
    let now = db::now();

    let mut customer_ids = Vec::new();
    let mut app_ids = Vec::new();
    for demo in demo_customers() {
        let customer = NewCustomer {
            slug: Slug::parse(demo.slug)?,
            name: text(demo.name),
        };
        let customer_id = app::customers::create(db, &system, &customer, now).await?;
        let contract_id =
            app::contracts::create(db, &system, customer_id, &demo.contract, now).await?;
        for (slug, name) in demo.applications {
            let application = NewApplication {
                contract_id,
                slug: Slug::parse(slug)?,
                name: text(name),
            };
            let id = app::applications::create(db, &system, customer_id, &application, now).await?;
            app_ids.push(id);
        }
        customer_ids.push(customer_id);
    }

    let mut tx = db.begin_write().await?;
    users::create(
        &mut tx,
        "betreiber",
        "Bettina Betrieb",
        None,
        &[Role::Betreiber],
        true,
        now,
    )
    .await?;
    users::create(
        &mut tx,
        "finanzen-rz",
        "Frank Controlling",
        None,
        &[Role::Finanzen],
        true,
        now,
    )
    .await?;
    let musterhausen = Some(customer_ids[0]);
    let sp = users::create(
        &mut tx,
        "systempfleger",
        "Sabine Pfleger",
        musterhausen,
        &[Role::Systempfleger],
        true,
        now,
    )
    .await?;
    users::create(
        &mut tx,
        "verfahrensverantwortliche",
        "Vera Verantwortlich",
        musterhausen,
        &[Role::Verfahrensverantwortlicher],
        true,
        now,
    )
    .await?;
    users::create(
        &mut tx,
        "entwickler",
        "Erik Entwickler",
        musterhausen,
        &[Role::Entwickler],
        true,
        now,
    )
    .await?;
    users::create(
        &mut tx,
        "finanzen",
        "Fiona Haushalt",
        musterhausen,
        &[Role::Finanzen],
        true,
        now,
    )
    .await?;
    let sp_nord = users::create(
        &mut tx,
        "systempfleger-nordkreis",
        "Norbert Nord",
        Some(customer_ids[2]),
        &[Role::Systempfleger],
        true,
        now,
    )
    .await?;
    let sp_lastat = users::create(
        &mut tx,
        "systempfleger-lastat",
        "Lara Statistik",
        Some(customer_ids[1]),
        &[Role::Systempfleger],
        false,
        now,
    )
    .await?;
    // Addresses as the identity provider's `email` claim would give them,
    // so notifications have somewhere to go.
    for (login, email) in [
        ("betreiber", "bettina.betrieb@rz.example"),
        ("finanzen-rz", "frank.controlling@rz.example"),
        ("systempfleger", "sabine.pfleger@musterhausen.example"),
        (
            "verfahrensverantwortliche",
            "vera.verantwortlich@musterhausen.example",
        ),
        ("entwickler", "erik.entwickler@musterhausen.example"),
        ("finanzen", "fiona.haushalt@musterhausen.example"),
        ("systempfleger-nordkreis", "norbert.nord@nordkreis.example"),
        ("systempfleger-lastat", "lara.statistik@lastat.example"),
    ] {
        users::set_email(&mut tx, login, email).await?;
    }
    tx.commit().await?;

    // Demo bookings are made in the name of the customers' demo
    // Systempfleger:innen, so the audit log reads as it would in real use.
    let mut owners: Vec<CurrentUser> = Vec::new();
    for id in [sp, sp_lastat, sp_nord] {
        owners.push(
            users::by_id(&db.pool, id, Via::System)
                .await?
                .context("demo user just created")?,
        );
    }
    // (application index, stage, product, size, booked at)
    let plan: [(usize, Stage, &str, Size, &str); 13] = [
        (
            0,
            Stage::Vorpruefung,
            "container-namespace",
            Size::S,
            "2026-02-02",
        ),
        (
            0,
            Stage::Abnahme,
            "container-namespace",
            Size::S,
            "2026-03-02",
        ),
        (
            0,
            Stage::Schulung,
            "container-namespace",
            Size::S,
            "2026-05-04",
        ),
        (
            0,
            Stage::Produktion,
            "container-namespace",
            Size::M,
            "2026-06-01",
        ),
        (
            0,
            Stage::Produktion,
            "persistent-storage",
            Size::M,
            "2026-06-01",
        ),
        (
            1,
            Stage::Vorpruefung,
            "container-namespace",
            Size::S,
            "2026-03-16",
        ),
        (
            1,
            Stage::Produktion,
            "container-namespace",
            Size::L,
            "2026-09-01",
        ),
        (
            1,
            Stage::Produktion,
            "persistent-storage",
            Size::L,
            "2026-09-01",
        ),
        (
            2,
            Stage::Vorpruefung,
            "container-namespace",
            Size::M,
            "2026-04-01",
        ),
        (
            2,
            Stage::Produktion,
            "container-namespace",
            Size::XL,
            "2026-07-01",
        ),
        (
            2,
            Stage::Produktion,
            "persistent-storage",
            Size::XL,
            "2026-07-01",
        ),
        (
            3,
            Stage::Vorpruefung,
            "container-namespace",
            Size::S,
            "2026-05-11",
        ),
        (
            4,
            Stage::Produktion,
            "container-namespace",
            Size::M,
            "2026-08-03",
        ),
    ];
    let owner = |app: usize| match app {
        0 | 1 => &owners[0],
        2 => &owners[1],
        _ => &owners[2],
    };
    let mut first_booking = None;
    for (app, stage, product, size, at) in plan {
        let booking = app::bookings::NewBooking {
            application_id: app_ids[app],
            stage,
            product: Slug::parse(product)?,
            size,
        };
        let id = app::bookings::book(db, owner(app), &booking, None, date(at) + 9 * 3600)
            .await
            .with_context(|| format!("demo booking {product} {size} for application {app}"))?
            .id();
        first_booking.get_or_insert(id);
    }
    // A little history: the first booking was resized once.
    if let Some(id) = first_booking {
        app::bookings::resize(db, owner(0), id, Size::M, date("2026-10-05") + 10 * 3600).await?;
        app::bookings::resize(db, owner(0), id, Size::S, date("2026-11-02") + 10 * 3600).await?;
    }
    demo_usage(db, now).await.context("demo usage samples")?;
    Ok(true)
}

/// Measured use for the demo, as the metering collector would record it:
/// every six hours of the last 60 days, each environment at its own share of
/// what it has booked (one of them far below, so the Abrechnung shows a
/// right-sizing hint), with a daily rhythm.
async fn demo_usage(db: &Db, now: i64) -> anyhow::Result<()> {
    use sqlx::Row as _;
    let rows = sqlx::query(
        "SELECT b.environment_id, CAST(SUM(p.millicpu) AS BIGINT), CAST(SUM(p.memory_mib) AS BIGINT), \
           CAST(SUM(p.storage_gib) AS BIGINT), CAST(SUM(p.pods) AS BIGINT) \
         FROM booking_periods p JOIN bookings b ON b.id = p.booking_id \
         WHERE p.ends_at IS NULL GROUP BY b.environment_id ORDER BY b.environment_id",
    )
    .fetch_all(&db.pool)
    .await?;
    // Percent of the booked amount each environment uses on average.
    const SHARES: [i64; 6] = [55, 22, 70, 40, 65, 35];
    const STEP: i64 = 6 * 3600;
    let first = now - 60 * 86_400;
    let mut tx = db.begin_write().await?;
    for (i, row) in rows.iter().enumerate() {
        let env: i64 = row.try_get(0)?;
        let booked = [
            row.try_get::<i64, _>(1)?,
            row.try_get::<i64, _>(2)?,
            row.try_get::<i64, _>(3)?,
            row.try_get::<i64, _>(4)?,
        ];
        let share = SHARES[i % SHARES.len()];
        let mut samples = Vec::new();
        let mut at = first - first % STEP;
        let mut n = 0_i64;
        while at <= now {
            // Daytime (every second sample of four) runs 15 points higher.
            let pct = share
                + if n % 4 == 2 {
                    15
                } else {
                    (n * 7 + i as i64) % 11 - 5
                };
            let used = |b: i64| b * pct.clamp(0, 100) / 100;
            samples.push((
                at,
                [
                    used(booked[0]),
                    used(booked[1]),
                    booked[2] * (share + 10).min(100) / 100,
                    used(booked[3]),
                ],
            ));
            at += STEP;
            n += 1;
        }
        // One statement per environment: 240 rows, far below the limit of
        // bound values, and quick on PostgreSQL too.
        let mut sql = String::from(
            "INSERT INTO usage_samples (environment_id, sampled_at, millicpu, memory_mib, storage_gib, pods) VALUES ",
        );
        for k in 0..samples.len() {
            let b = k * 6;
            if k > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!(
                "(${}, ${}, ${}, ${}, ${}, ${})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6
            ));
        }
        let mut query = sqlx::query(db::sql(sql));
        for (at, used) in samples {
            query = query
                .bind(env)
                .bind(at)
                .bind(used[0])
                .bind(used[1])
                .bind(used[2])
                .bind(used[3]);
        }
        query.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}
