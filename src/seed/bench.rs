//! A generated dataset of realistic size for the benchmarks
//! (`kontor seed bench`, see `docs/benchmarks.md`).
//!
//! Deterministic: the same arguments give the same customers, applications,
//! bookings and history (times are spread between 1 January 2025 and the
//! moment of the run, so they move with the date, the shape does not).
//! Everything except the catalogue is written in one transaction with
//! multi-row `INSERT`s; the SQL is the same on SQLite and PostgreSQL.

use std::{
    collections::{HashMap, HashSet},
    fmt::Write as _,
    time::Instant,
};

use anyhow::Context as _;
use rand::{
    Rng, SeedableRng,
    distr::{Distribution, weighted::WeightedIndex},
    rngs::StdRng,
    seq::SliceRandom,
};
use serde_json::json;
use sqlx::Row as _;

use crate::db::{self, Backend, Db, Tx};
use crate::domain::{
    Role, Stage,
    calendar::{berlin_date, berlin_midnight},
    money::HOURS_PER_MONTH,
    slug::MAX_SLUG_LEN,
};

/// Fixed seed: the dataset is reproducible.
const SEED: u64 = 0x4B4F_4E54_4F52; // "KONTOR"

/// At most this many bound values per statement: below SQLite's 32 766 and
/// PostgreSQL's 65 535.
const MAX_PARAMS: usize = 30_000;
/// At most this many rows per statement.
const MAX_ROWS: usize = 1_000;

const PLACES: &[&str] = &[
    "Aachen",
    "Bamberg",
    "Bayreuth",
    "Bielefeld",
    "Bochum",
    "Bonn",
    "Bottrop",
    "Braunschweig",
    "Bremerhaven",
    "Celle",
    "Chemnitz",
    "Coburg",
    "Cottbus",
    "Darmstadt",
    "Dessau",
    "Detmold",
    "Dortmund",
    "Dresden",
    "Duisburg",
    "Düren",
    "Eisenach",
    "Erfurt",
    "Erlangen",
    "Essen",
    "Flensburg",
    "Freiburg",
    "Fulda",
    "Gera",
    "Gießen",
    "Görlitz",
    "Göttingen",
    "Greifswald",
    "Güstrow",
    "Hagen",
    "Halle",
    "Hameln",
    "Hamm",
    "Hanau",
    "Heilbronn",
    "Hildesheim",
    "Ingolstadt",
    "Jena",
    "Kaiserslautern",
    "Karlsruhe",
    "Kassel",
    "Kempten",
    "Kiel",
    "Koblenz",
    "Konstanz",
    "Krefeld",
    "Landshut",
    "Leipzig",
    "Lübeck",
    "Lüneburg",
    "Magdeburg",
    "Mainz",
    "Marburg",
    "Minden",
    "Münster",
    "Neubrandenburg",
    "Nürnberg",
    "Oldenburg",
    "Osnabrück",
    "Paderborn",
    "Passau",
    "Potsdam",
    "Regensburg",
    "Rosenheim",
    "Rostock",
    "Saarbrücken",
    "Schwerin",
    "Siegen",
    "Stralsund",
    "Suhl",
    "Trier",
    "Tübingen",
    "Ulm",
    "Weimar",
    "Wismar",
    "Worms",
    "Würzburg",
    "Zwickau",
];

/// (name template, slug prefix) of an authority at a place.
const AUTHORITIES: &[(&str, &str)] = &[
    ("Stadt {}", ""),
    ("Landkreis {}", "lk-"),
    ("Jobcenter {}", "jc-"),
    ("Polizeipräsidium {}", "pp-"),
    ("Amtsgericht {}", "ag-"),
    ("Finanzamt {}", "fa-"),
    ("Hochschule {}", "hs-"),
    ("Zweckverband Kommunale IT {}", "zv-"),
];

/// IT-Fachverfahren: (name, slug).
const APPLICATIONS: &[(&str, &str)] = &[
    ("Bürgerservice-Portal", "buergerservice"),
    ("Kfz-Zulassung", "kfz-zulassung"),
    ("Melderegister", "melderegister"),
    ("Gewerberegister", "gewerbe"),
    ("Digitaler Bauantrag", "bauantrag"),
    ("Sozialhilfe-Fachverfahren", "sozialhilfe"),
    ("Wohngeld", "wohngeld"),
    ("Elterngeld", "elterngeld"),
    ("Personalausweisbehörde", "ausweis"),
    ("Standesamt", "standesamt"),
    ("Ordnungswidrigkeiten", "owi"),
    ("Hundesteuer", "hundesteuer"),
    ("Grundsteuer", "grundsteuer"),
    ("E-Akte", "e-akte"),
    ("Ratsinformationssystem", "ratsinfo"),
    ("Schulverwaltung", "schulverwaltung"),
    ("Kita-Platzvergabe", "kita-portal"),
    ("BAföG-Antrag", "bafoeg"),
    ("Waffenrecht", "waffenrecht"),
    ("Fischereischein", "fischereischein"),
    ("Abfallwirtschaft", "abfall"),
    ("Friedhofsverwaltung", "friedhof"),
    ("E-Vergabe", "vergabe"),
    ("Haushaltswesen", "haushalt"),
    ("Personalverwaltung", "personal"),
    ("Zeiterfassung", "zeiterfassung"),
    ("Geodatenportal", "geoportal"),
    ("Wahlen", "wahlen"),
    ("Zensus-Auswertung", "zensus"),
    ("Ausländerbehörde", "auslaenderbehoerde"),
    ("Jugendhilfe", "jugendhilfe"),
    ("Unterhaltsvorschuss", "unterhaltsvorschuss"),
    ("Einbürgerung", "einbuergerung"),
    ("Bewohnerparkausweise", "parkausweise"),
    ("Sondernutzung", "sondernutzung"),
    ("Veranstaltungsanzeigen", "veranstaltungen"),
    ("Baumkataster", "baumkataster"),
    ("Denkmalschutz", "denkmalschutz"),
    ("Immissionsschutz", "immissionsschutz"),
    ("Lebensmittelüberwachung", "lebensmittel"),
    ("Veterinärwesen", "veterinaer"),
    ("Gesundheitsamt", "gesundheitsamt"),
    ("Fahrerlaubnis", "fahrerlaubnis"),
    ("Bußgeldstelle", "bussgeld"),
    ("Beihilfe", "beihilfe"),
    ("Kassenverfahren", "kasse"),
    ("Dokumentenmanagement", "dms"),
    ("Terminvereinbarung", "termine"),
    ("Online-Antragsportal", "antragsportal"),
    ("Schulstatistik", "schulstatistik"),
];

const FIRST_NAMES: &[&str] = &[
    "Anna", "Bernd", "Claudia", "Dieter", "Elif", "Frank", "Gabriele", "Hans", "Ines", "Jan",
    "Katrin", "Lukas", "Maria", "Nils", "Olga", "Peter", "Rita", "Stefan", "Tanja", "Uwe",
    "Vanessa", "Wolfgang", "Yasemin", "Zoran",
];
const LAST_NAMES: &[&str] = &[
    "Becker",
    "Braun",
    "Fischer",
    "Hoffmann",
    "Keller",
    "Klein",
    "Koch",
    "Krüger",
    "Lange",
    "Meyer",
    "Müller",
    "Neumann",
    "Öztürk",
    "Richter",
    "Schäfer",
    "Schmidt",
    "Schneider",
    "Schulz",
    "Wagner",
    "Weber",
    "Wolf",
    "Zimmermann",
];

/// One bound value of a generated row.
#[derive(Clone)]
enum V {
    I(i64),
    T(String),
    /// NULL in an integer column.
    NullInt,
    /// NULL in a text column (PostgreSQL wants the parameter typed).
    NullText,
}

impl From<i64> for V {
    fn from(v: i64) -> V {
        V::I(v)
    }
}
impl From<&str> for V {
    fn from(v: &str) -> V {
        V::T(v.to_owned())
    }
}
impl From<String> for V {
    fn from(v: String) -> V {
        V::T(v)
    }
}
impl From<Option<i64>> for V {
    fn from(v: Option<i64>) -> V {
        v.map_or(V::NullInt, V::I)
    }
}
impl From<Option<String>> for V {
    fn from(v: Option<String>) -> V {
        v.map_or(V::NullText, V::T)
    }
}

/// Inserts `rows` into `table` in multi-row statements; with `returning`,
/// gives back the rows of `RETURNING <returning>` of every statement.
async fn insert(
    tx: &mut Tx,
    table: &str,
    columns: &[&str],
    rows: &[Vec<V>],
    returning: Option<&str>,
) -> anyhow::Result<Vec<sqlx::any::AnyRow>> {
    let per_statement = (MAX_PARAMS / columns.len()).clamp(1, MAX_ROWS);
    let mut out = Vec::new();
    for chunk in rows.chunks(per_statement) {
        let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
        let mut n = 0;
        for (i, row) in chunk.iter().enumerate() {
            debug_assert_eq!(row.len(), columns.len());
            sql.push_str(if i == 0 { "(" } else { ", (" });
            for j in 0..row.len() {
                n += 1;
                let _ = write!(sql, "{}${n}", if j == 0 { "" } else { ", " });
            }
            sql.push(')');
        }
        if let Some(r) = returning {
            let _ = write!(sql, " RETURNING {r}");
        }
        let mut query = sqlx::query(db::sql(sql));
        for row in chunk {
            for v in row {
                query = match v {
                    V::I(i) => query.bind(*i),
                    V::T(t) => query.bind(t.clone()),
                    V::NullInt => query.bind(None::<i64>),
                    V::NullText => query.bind(None::<String>),
                };
            }
        }
        if returning.is_some() {
            out.extend(
                query
                    .fetch_all(&mut **tx)
                    .await
                    .with_context(|| format!("inserting into {table}"))?,
            );
        } else {
            query
                .execute(&mut **tx)
                .await
                .with_context(|| format!("inserting into {table}"))?;
        }
    }
    Ok(out)
}

/// `Görlitz` → `goerlitz`: a DNS-label-safe slug part.
fn slugify(s: &str) -> String {
    let mut out = String::new();
    for ch in s.chars().flat_map(char::to_lowercase) {
        match ch {
            'ä' => out.push_str("ae"),
            'ö' => out.push_str("oe"),
            'ü' => out.push_str("ue"),
            'ß' => out.push_str("ss"),
            'a'..='z' | '0'..='9' => out.push(ch),
            _ => {
                if !out.is_empty() && !out.ends_with('-') {
                    out.push('-');
                }
            }
        }
    }
    out.trim_end_matches('-').to_owned()
}

/// `base`, or `base-2`, `base-3` … whichever is free, within the slug length.
fn unique_slug(base: &str, taken: &mut HashSet<String>) -> String {
    let fit = |s: &str, room: usize| -> String {
        let mut s: String = s.chars().take(room).collect();
        while s.ends_with('-') {
            s.pop();
        }
        s
    };
    let mut candidate = fit(base, MAX_SLUG_LEN);
    let mut n = 2;
    while taken.contains(&candidate) {
        let suffix = format!("-{n}");
        candidate = format!("{}{suffix}", fit(base, MAX_SLUG_LEN - suffix.len()));
        n += 1;
    }
    taken.insert(candidate.clone());
    candidate
}

fn digits(rng: &mut StdRng, n: usize) -> String {
    (0..n)
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect()
}

/// A catalogue size as booked: its id, resource vector and price.
#[derive(Clone, Copy)]
struct SizeRow {
    id: i64,
    product_id: i64,
    millicpu: i64,
    memory_mib: i64,
    storage_gib: i64,
    pods: i64,
    rate: i64,
}

/// Size labels in catalogue order; a generated size is an index into it.
const SIZES: [&str; 4] = ["S", "M", "L", "XL"];

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

/// A product with its sizes in the order of [`SIZES`].
struct Product {
    id: i64,
    slug: String,
    sizes: Vec<SizeRow>,
}

struct GenCustomer {
    slug: String,
    name: String,
    /// Contract: monthly base fee in cents (0: pure pay-per-use).
    base_fee_cents: i64,
    headroom: f64,
    /// Sums over the open bookings, to size the Kontingent.
    millicpu: i64,
    memory_mib: i64,
    storage_gib: i64,
    rate_sum: i64,
}

struct GenApp {
    customer: usize,
    slug: String,
    name: String,
}

struct GenPeriod {
    size: usize,
    starts_at: i64,
    ends_at: Option<i64>,
}

struct GenBooking {
    app: usize,
    stage: Stage,
    product: usize,
    created_at: i64,
    cancelled_at: Option<i64>,
    via_token: bool,
    periods: Vec<GenPeriod>,
}

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

    let mut rng = StdRng::seed_from_u64(SEED);
    let start = berlin_midnight(jiff::civil::date(2025, 1, 1));
    let now = db::now();
    if now < start + 30 * 86_400 {
        anyhow::bail!(
            "die Systemuhr steht vor Februar 2025; die Bench-Daten beginnen am 1. Januar 2025"
        );
    }
    let valid_until = format!("{}-12-31", berlin_date(now).year() + 2);

    super::demo::catalogue(db, start)
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

    // Customers: authorities at places, shuffled, unique slugs.
    let mut names: Vec<(String, String)> = AUTHORITIES
        .iter()
        .flat_map(|(template, prefix)| {
            PLACES.iter().map(move |place| {
                (
                    template.replace("{}", place),
                    format!("{prefix}{}", slugify(place)),
                )
            })
        })
        .collect();
    names.shuffle(&mut rng);
    let mut taken = HashSet::new();
    let mut gen_customers: Vec<GenCustomer> = (0..customers)
        .map(|i| {
            let (name, slug) = &names[i % names.len()];
            let round = i / names.len();
            let name = if round == 0 {
                name.clone()
            } else {
                format!("{name} ({})", round + 1)
            };
            let mixed = rng.random_bool(0.3);
            GenCustomer {
                slug: unique_slug(slug, &mut taken),
                name,
                base_fee_cents: if mixed {
                    rng.random_range(5..=30) * 1_000
                } else {
                    0
                },
                headroom: rng.random_range(1.15..1.6),
                millicpu: 0,
                memory_mib: 0,
                storage_gib: 0,
                rate_sum: 0,
            }
        })
        .collect();

    // Applications: at least one per customer where there are enough,
    // the rest skewed towards some larger customers.
    let weights: Vec<f64> = (0..customers)
        .map(|_| (0.3 + rng.random::<f64>()).powi(2))
        .collect();
    let pick_customer = WeightedIndex::new(&weights).context("customer weights")?;
    let mut owners: Vec<usize> = (0..applications.min(customers)).collect();
    owners.extend((owners.len()..applications).map(|_| pick_customer.sample(&mut rng)));
    owners.sort_unstable();
    let mut app_slugs: Vec<HashSet<String>> = vec![HashSet::new(); customers];
    let gen_apps: Vec<GenApp> = owners
        .into_iter()
        .map(|customer| {
            let (name, slug) = APPLICATIONS[rng.random_range(0..APPLICATIONS.len())];
            let slug = unique_slug(slug, &mut app_slugs[customer]);
            let name = match slug.rsplit_once('-') {
                Some((_, n)) if n.parse::<u32>().is_ok() && !name.ends_with(n) => {
                    format!("{name} {n}")
                }
                _ => name.to_owned(),
            };
            GenApp {
                customer,
                slug,
                name,
            }
        })
        .collect();

    // Bookings with their size history.
    let pick_stage = WeightedIndex::new([30, 25, 15, 30]).expect("weights");
    let pick_size = WeightedIndex::new([40, 35, 18, 7]).expect("weights");
    let pick_periods = WeightedIndex::new([60, 30, 10]).expect("weights");
    let mut created_seen = HashSet::new();
    let span = now - 2 * 86_400 - (start + 86_400);
    let mut gen_bookings: Vec<GenBooking> = (0..bookings)
        .map(|_| {
            let app = rng.random_range(0..gen_apps.len());
            let stage = Stage::ALL[pick_stage.sample(&mut rng)];
            let product = usize::from(rng.random_bool(0.35));
            // Unique creation instants identify the rows RETURNING gives back.
            let mut created_at = start + 86_400 + rng.random_range(0..span);
            while !created_seen.insert(created_at) {
                created_at += 1;
            }
            let cancelled_at = rng
                .random_bool(0.15)
                .then(|| rng.random_range(created_at + 3_600..now - 3_600));
            let end = cancelled_at.unwrap_or(now);
            let mut cuts: Vec<i64> = (0..pick_periods.sample(&mut rng))
                .map(|_| rng.random_range(created_at + 60..end))
                .collect();
            cuts.sort_unstable();
            cuts.dedup();
            let mut periods = Vec::with_capacity(cuts.len() + 1);
            let mut size = pick_size.sample(&mut rng);
            let mut from = created_at;
            for cut in cuts {
                periods.push(GenPeriod {
                    size,
                    starts_at: from,
                    ends_at: Some(cut),
                });
                let mut next = pick_size.sample(&mut rng);
                while next == size {
                    next = pick_size.sample(&mut rng);
                }
                size = next;
                from = cut;
            }
            periods.push(GenPeriod {
                size,
                starts_at: from,
                ends_at: cancelled_at,
            });
            GenBooking {
                app,
                stage,
                product,
                created_at,
                cancelled_at,
                via_token: rng.random_bool(0.4),
                periods,
            }
        })
        .collect();
    gen_bookings.sort_by_key(|b| b.created_at);

    // Kontingent: what is booked now plus 15–60 % headroom.
    for b in gen_bookings.iter().filter(|b| b.cancelled_at.is_none()) {
        let size = products[b.product].sizes[b.periods.last().expect("one period").size];
        let c = &mut gen_customers[gen_apps[b.app].customer];
        c.millicpu += size.millicpu;
        c.memory_mib += size.memory_mib;
        c.storage_gib += size.storage_gib;
        c.rate_sum += size.rate;
    }
    let round_up = |v: f64, unit: i64| ((v / unit as f64).ceil() as i64).max(1) * unit;

    let mut tx = db.begin_write().await?;

    // The provider's operator, who created customers, contracts, applications.
    let users_cols = ["login", "display_name", "customer_id", "demo", "created_at"];
    let rows = insert(
        &mut tx,
        "users",
        &users_cols,
        &[vec![
            "bench-betreiber".into(),
            "Bruno Betrieb".into(),
            V::NullInt,
            1.into(),
            start.into(),
        ]],
        Some("id"),
    )
    .await?;
    let betreiber: i64 = rows[0].try_get(0)?;
    let betreiber_label = "Bruno Betrieb (bench-betreiber)";

    let rows: Vec<Vec<V>> = gen_customers
        .iter()
        .map(|c| vec![c.slug.as_str().into(), c.name.as_str().into(), start.into()])
        .collect();
    let returned = insert(
        &mut tx,
        "customers",
        &["slug", "name", "created_at"],
        &rows,
        Some("id, slug"),
    )
    .await?;
    let by_slug: HashMap<String, i64> = returned
        .iter()
        .map(|r| Ok((r.try_get::<String, _>(1)?, r.try_get::<i64, _>(0)?)))
        .collect::<sqlx::Result<_>>()?;
    let customer_ids: Vec<i64> = gen_customers.iter().map(|c| by_slug[&c.slug]).collect();

    let contract_cols = [
        "customer_id",
        "number",
        "title",
        "valid_from",
        "valid_until",
        "kostenstelle",
        "haushaltsstelle",
        "leitweg_id",
        "billing_model",
        "base_fee_cents",
        "max_millicpu",
        "max_memory_mib",
        "max_storage_gib",
        "monthly_budget_cents",
        "created_at",
    ];
    let mut contract_rows = Vec::with_capacity(customers);
    let mut contract_json = Vec::with_capacity(customers);
    for (i, c) in gen_customers.iter().enumerate() {
        let number = format!("DLV-2025-{:04}", i + 1);
        let max_millicpu = round_up(c.millicpu as f64 * c.headroom, 1_000).max(4_000);
        let max_memory_mib = round_up(c.memory_mib as f64 * c.headroom, 1_024).max(16 * 1_024);
        let max_storage_gib = round_up(c.storage_gib as f64 * c.headroom, 50).max(100);
        // rate_sum × 730 h is in 1/10 000 EUR; /100 gives cents; whole 100 EUR.
        let monthly_cents = (c.rate_sum * HOURS_PER_MONTH) as f64 / 100.0 + c.base_fee_cents as f64;
        let budget = round_up(monthly_cents * c.headroom, 10_000);
        let kostenstelle = format!("{}-{}", digits(&mut rng, 4), digits(&mut rng, 3));
        let haushaltsstelle = format!("{}.{}", digits(&mut rng, 4), digits(&mut rng, 5));
        let leitweg_id = format!(
            "{}-{}-{}",
            digits(&mut rng, 8),
            digits(&mut rng, 10),
            digits(&mut rng, 2)
        );
        let billing_model = if c.base_fee_cents > 0 {
            "gemischt"
        } else {
            "nutzung"
        };
        contract_json.push(json!({
            "number": number, "valid_from": "2025-01-01", "valid_until": valid_until,
            "billing_model": billing_model, "base_fee_cents": c.base_fee_cents,
            "max_millicpu": max_millicpu, "max_memory_mib": max_memory_mib,
            "max_storage_gib": max_storage_gib, "monthly_budget_cents": budget,
        }));
        contract_rows.push(vec![
            customer_ids[i].into(),
            number.into(),
            format!("Betrieb der IT-Fachverfahren – {}", c.name).into(),
            "2025-01-01".into(),
            valid_until.as_str().into(),
            kostenstelle.into(),
            haushaltsstelle.into(),
            leitweg_id.into(),
            billing_model.into(),
            c.base_fee_cents.into(),
            max_millicpu.into(),
            max_memory_mib.into(),
            max_storage_gib.into(),
            budget.into(),
            start.into(),
        ]);
    }
    let returned = insert(
        &mut tx,
        "contracts",
        &contract_cols,
        &contract_rows,
        Some("id, customer_id"),
    )
    .await?;
    let contract_of: HashMap<i64, i64> = returned
        .iter()
        .map(|r| Ok((r.try_get::<i64, _>(1)?, r.try_get::<i64, _>(0)?)))
        .collect::<sqlx::Result<_>>()?;
    let contract_ids: Vec<i64> = customer_ids.iter().map(|c| contract_of[c]).collect();

    let rows: Vec<Vec<V>> = gen_apps
        .iter()
        .map(|a| {
            vec![
                customer_ids[a.customer].into(),
                contract_ids[a.customer].into(),
                a.slug.as_str().into(),
                a.name.as_str().into(),
                start.into(),
            ]
        })
        .collect();
    let returned = insert(
        &mut tx,
        "applications",
        &["customer_id", "contract_id", "slug", "name", "created_at"],
        &rows,
        Some("id, customer_id, slug"),
    )
    .await?;
    let app_by_key: HashMap<(i64, String), i64> = returned
        .iter()
        .map(|r| {
            Ok((
                (r.try_get::<i64, _>(1)?, r.try_get::<String, _>(2)?),
                r.try_get::<i64, _>(0)?,
            ))
        })
        .collect::<sqlx::Result<_>>()?;
    let app_ids: Vec<i64> = gen_apps
        .iter()
        .map(|a| app_by_key[&(customer_ids[a.customer], a.slug.clone())])
        .collect();

    let rows: Vec<Vec<V>> = app_ids
        .iter()
        .flat_map(|&id| Stage::ALL.map(|s| vec![id.into(), s.as_str().into()]))
        .collect();
    let returned = insert(
        &mut tx,
        "environments",
        &["application_id", "stage"],
        &rows,
        Some("id, application_id, stage"),
    )
    .await?;
    let env_by_key: HashMap<(i64, String), i64> = returned
        .iter()
        .map(|r| {
            Ok((
                (r.try_get::<i64, _>(1)?, r.try_get::<String, _>(2)?),
                r.try_get::<i64, _>(0)?,
            ))
        })
        .collect::<sqlx::Result<_>>()?;
    let environments = rows.len();

    // One Systempfleger:in per customer, a demo user so the browser
    // benchmark can log in without an OpenID provider.
    let rows: Vec<Vec<V>> = (0..customers)
        .map(|i| {
            let name = format!(
                "{} {}",
                FIRST_NAMES[rng.random_range(0..FIRST_NAMES.len())],
                LAST_NAMES[rng.random_range(0..LAST_NAMES.len())]
            );
            vec![
                format!("bench-sp-{}", i + 1).into(),
                name.into(),
                customer_ids[i].into(),
                1.into(),
                start.into(),
            ]
        })
        .collect();
    let returned = insert(
        &mut tx,
        "users",
        &users_cols,
        &rows,
        Some("id, login, display_name"),
    )
    .await?;
    let mut sp: Vec<(i64, String)> = vec![(0, String::new()); customers];
    for r in &returned {
        let login: String = r.try_get(1)?;
        let n: usize = login.trim_start_matches("bench-sp-").parse()?;
        sp[n - 1] = (
            r.try_get(0)?,
            format!("{} ({login})", r.try_get::<String, _>(2)?),
        );
    }
    let mut role_rows = vec![vec![betreiber.into(), Role::Betreiber.as_str().into()]];
    role_rows.extend(
        sp.iter()
            .map(|(id, _)| vec![(*id).into(), Role::Systempfleger.as_str().into()]),
    );
    insert(
        &mut tx,
        "user_roles",
        &["user_id", "role"],
        &role_rows,
        None,
    )
    .await?;

    // Bookings.
    let booking_cols = [
        "customer_id",
        "contract_id",
        "application_id",
        "environment_id",
        "stage",
        "product_id",
        "size",
        "state",
        "created_at",
        "created_by",
        "cancelled_at",
    ];
    let size_label = |i: usize| SIZES[i];
    let rows: Vec<Vec<V>> = gen_bookings
        .iter()
        .map(|b| {
            let a = &gen_apps[b.app];
            let app_id = app_ids[b.app];
            let size = b.periods.last().expect("one period").size;
            vec![
                customer_ids[a.customer].into(),
                contract_ids[a.customer].into(),
                app_id.into(),
                env_by_key[&(app_id, b.stage.as_str().to_owned())].into(),
                b.stage.as_str().into(),
                products[b.product].id.into(),
                size_label(size).into(),
                if b.cancelled_at.is_some() {
                    "gekuendigt"
                } else {
                    "aktiv"
                }
                .into(),
                b.created_at.into(),
                sp[a.customer].0.into(),
                b.cancelled_at.into(),
            ]
        })
        .collect();
    let returned = insert(
        &mut tx,
        "bookings",
        &booking_cols,
        &rows,
        Some("id, created_at"),
    )
    .await?;
    let booking_by_created: HashMap<i64, i64> = returned
        .iter()
        .map(|r| Ok((r.try_get::<i64, _>(1)?, r.try_get::<i64, _>(0)?)))
        .collect::<sqlx::Result<_>>()?;
    let booking_ids: Vec<i64> = gen_bookings
        .iter()
        .map(|b| booking_by_created[&b.created_at])
        .collect();

    // Periods, oldest first, so the latest period has the highest id.
    let period_cols = [
        "booking_id",
        "product_size_id",
        "size",
        "millicpu",
        "memory_mib",
        "storage_gib",
        "pods",
        "starts_at",
        "ends_at",
    ];
    let mut period_rows = Vec::new();
    let audit_cols = [
        "at",
        "actor_user_id",
        "actor",
        "via",
        "customer_id",
        "action",
        "object_type",
        "object_id",
        "before_json",
        "after_json",
    ];
    let mut audit_rows: Vec<Vec<V>> = Vec::new();
    let operator = |at: i64,
                    customer: i64,
                    action: &str,
                    object_type: &str,
                    id: i64,
                    after: serde_json::Value| {
        vec![
            at.into(),
            betreiber.into(),
            betreiber_label.into(),
            "sitzung".into(),
            customer.into(),
            action.into(),
            object_type.into(),
            id.into(),
            V::NullText,
            after.to_string().into(),
        ]
    };
    for (i, c) in gen_customers.iter().enumerate() {
        audit_rows.push(operator(
            start,
            customer_ids[i],
            "customer.created",
            "customer",
            customer_ids[i],
            json!({"slug": c.slug, "name": c.name}),
        ));
        audit_rows.push(operator(
            start,
            customer_ids[i],
            "contract.created",
            "contract",
            contract_ids[i],
            contract_json[i].clone(),
        ));
    }
    for (i, a) in gen_apps.iter().enumerate() {
        let after =
            json!({"slug": a.slug, "name": a.name, "contract_id": contract_ids[a.customer]});
        audit_rows.push(operator(
            start,
            customer_ids[a.customer],
            "application.created",
            "application",
            app_ids[i],
            after,
        ));
    }
    let mut resized = 0;
    for (b, &id) in gen_bookings.iter().zip(&booking_ids) {
        let customer = gen_apps[b.app].customer;
        let (actor_id, actor) = &sp[customer];
        let via = if b.via_token { "token" } else { "sitzung" };
        let audit = |at: i64,
                     action: &str,
                     before: Option<serde_json::Value>,
                     after: serde_json::Value|
         -> Vec<V> {
            vec![
                at.into(),
                (*actor_id).into(),
                actor.as_str().into(),
                via.into(),
                customer_ids[customer].into(),
                action.into(),
                "booking".into(),
                id.into(),
                before.map(|v| v.to_string()).into(),
                after.to_string().into(),
            ]
        };
        let product = &products[b.product];
        for (n, p) in b.periods.iter().enumerate() {
            let s = product.sizes[p.size];
            debug_assert_eq!(s.product_id, product.id);
            period_rows.push(vec![
                id.into(),
                s.id.into(),
                size_label(p.size).into(),
                s.millicpu.into(),
                s.memory_mib.into(),
                s.storage_gib.into(),
                s.pods.into(),
                p.starts_at.into(),
                p.ends_at.into(),
            ]);
            if n == 0 {
                audit_rows.push(audit(
                    p.starts_at,
                    "booking.created",
                    None,
                    json!({
                        "application_id": app_ids[b.app], "stage": b.stage.as_str(),
                        "product": product.slug, "size": size_label(p.size), "state": "aktiv",
                    }),
                ));
            } else {
                resized += 1;
                let previous = size_label(b.periods[n - 1].size);
                audit_rows.push(audit(
                    p.starts_at,
                    "booking.resized",
                    Some(json!({"size": previous})),
                    json!({"size": size_label(p.size)}),
                ));
            }
        }
        if let Some(at) = b.cancelled_at {
            audit_rows.push(audit(
                at,
                "booking.cancelled",
                Some(json!({"state": "aktiv"})),
                json!({"state": "gekuendigt"}),
            ));
        }
    }
    insert(&mut tx, "booking_periods", &period_cols, &period_rows, None).await?;
    // The log in the order it happened.
    audit_rows.sort_by_key(|r| match r[0] {
        V::I(at) => at,
        _ => 0,
    });
    insert(&mut tx, "audit_log", &audit_cols, &audit_rows, None).await?;
    tx.commit().await?;
    // Fresh planner statistics and, on PostgreSQL, a vacuumed visibility map:
    // the state autovacuum reaches a minute later anyway, so every benchmark
    // run starts from the same one instead of racing it.
    let maintenance = match db.backend {
        Backend::Postgres => "VACUUM ANALYZE",
        Backend::Sqlite => "ANALYZE",
    };
    sqlx::query(maintenance).execute(&db.pool).await?;

    let cancelled = gen_bookings
        .iter()
        .filter(|b| b.cancelled_at.is_some())
        .count();
    let first_apps = gen_apps.iter().filter(|a| a.customer == 0).count();
    let first_bookings = gen_bookings
        .iter()
        .filter(|b| gen_apps[b.app].customer == 0)
        .count();
    Ok(format!(
        "Bench-Daten angelegt in {:.1} s: {customers} Kunden mit je einem Vertrag, {} Verfahren, \
         {environments} Umgebungen, {bookings} Buchungen ({} aktiv, {cancelled} gekündigt, \
         {resized} Größenänderungen), {} Buchungszeiträume, {} Revisionseinträge, {} Benutzer \
         (bench-betreiber, bench-sp-1 … bench-sp-{customers}).\n\
         bench-sp-1 gehört zu {} ({}): {first_apps} Verfahren, {first_bookings} Buchungen.",
        started.elapsed().as_secs_f64(),
        gen_apps.len(),
        bookings - cancelled,
        period_rows.len(),
        audit_rows.len(),
        customers + 1,
        gen_customers[0].name,
        gen_customers[0].slug,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_dns_friendly_and_unique() {
        assert_eq!(slugify("Görlitz"), "goerlitz");
        assert_eq!(slugify("Saarbrücken"), "saarbruecken");
        let mut taken = HashSet::new();
        assert_eq!(
            unique_slug("kv-neubrandenburg", &mut taken),
            "kv-neubrandenburg"
        );
        assert_eq!(
            unique_slug("kv-neubrandenburg", &mut taken),
            "kv-neubrandenburg-2"
        );
        let long = "zv-kaiserslautern-und-umgebung";
        let a = unique_slug(long, &mut taken);
        let b = unique_slug(long, &mut taken);
        assert!(a.len() <= MAX_SLUG_LEN && b.len() <= MAX_SLUG_LEN && a != b);
        assert!(crate::domain::Slug::parse(&b).is_ok());
    }
}
