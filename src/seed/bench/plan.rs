//! The dataset drawn in memory before anything is written: customers with
//! their contracts, applications, bookings with their size history, and one
//! Systempfleger:in per customer.
//!
//! Everything random comes from one RNG with a fixed seed, drawn in a fixed
//! order — customers, applications, bookings, contract numbers, names. The
//! order is part of the dataset: moving a draw changes every row after it.

use std::collections::HashSet;

use anyhow::Context as _;
use rand::{
    Rng, SeedableRng,
    distr::{Distribution, weighted::WeightedIndex},
    rngs::StdRng,
    seq::SliceRandom,
};

use super::catalogue::Product;
use super::names::{
    APPLICATIONS, AUTHORITIES, FIRST_NAMES, LAST_NAMES, PLACES, slugify, unique_slug,
};
use crate::domain::{Stage, calendar::berlin_date, money::HOURS_PER_MONTH};

/// Fixed seed: the dataset is reproducible.
const SEED: u64 = 0x4B4F_4E54_4F52; // "KONTOR"

/// Everything to write, in the order it is written; the vectors of
/// customers, contracts and Systempfleger:innen share their index.
pub(super) struct Plan {
    /// 1 January 2025 in Berlin: when the customers, contracts and
    /// applications were created, and the history begins.
    pub(super) start: i64,
    /// Last day of every contract, two years after the current one.
    pub(super) valid_until: String,
    pub(super) products: Vec<Product>,
    pub(super) customers: Vec<GenCustomer>,
    pub(super) contracts: Vec<GenContract>,
    pub(super) apps: Vec<GenApp>,
    /// Oldest first.
    pub(super) bookings: Vec<GenBooking>,
    /// Display name of each customer's Systempfleger:in.
    pub(super) systempfleger: Vec<String>,
}

pub(super) struct GenCustomer {
    pub(super) slug: String,
    pub(super) name: String,
    /// Contract: monthly base fee in cents (0: pure pay-per-use).
    pub(super) base_fee_cents: i64,
    /// Factor between what is booked now and the Kontingent.
    headroom: f64,
}

/// The customer's one contract, its Kontingent sized from the open bookings.
pub(super) struct GenContract {
    pub(super) number: String,
    pub(super) kostenstelle: String,
    pub(super) haushaltsstelle: String,
    pub(super) leitweg_id: String,
    pub(super) billing_model: &'static str,
    pub(super) max_millicpu: i64,
    pub(super) max_memory_mib: i64,
    pub(super) max_storage_gib: i64,
    pub(super) monthly_budget_cents: i64,
}

pub(super) struct GenApp {
    pub(super) customer: usize,
    pub(super) slug: String,
    pub(super) name: String,
}

pub(super) struct GenPeriod {
    /// Index into [`super::catalogue::SIZES`].
    pub(super) size: usize,
    pub(super) starts_at: i64,
    pub(super) ends_at: Option<i64>,
}

pub(super) struct GenBooking {
    pub(super) app: usize,
    pub(super) stage: Stage,
    /// Index into [`Plan::products`].
    pub(super) product: usize,
    pub(super) created_at: i64,
    pub(super) cancelled_at: Option<i64>,
    pub(super) via_token: bool,
    /// Oldest first; the last one is open unless the booking is cancelled.
    pub(super) periods: Vec<GenPeriod>,
}

/// Sums over a customer's open bookings, to size the Kontingent.
#[derive(Default)]
struct Usage {
    millicpu: i64,
    memory_mib: i64,
    storage_gib: i64,
    rate_sum: i64,
}

impl Plan {
    /// Draws the dataset; its history runs from `start` to `now`.
    pub(super) fn draw(
        products: Vec<Product>,
        customers: usize,
        applications: usize,
        bookings: usize,
        start: i64,
        now: i64,
    ) -> anyhow::Result<Plan> {
        let mut rng = StdRng::seed_from_u64(SEED);
        let gen_customers = draw_customers(&mut rng, customers);
        let apps = draw_applications(&mut rng, customers, applications)?;
        let bookings = draw_bookings(&mut rng, bookings, apps.len(), start, now);
        let usage = open_usage(customers, &products, &apps, &bookings);
        let contracts = draw_contracts(&mut rng, &gen_customers, &usage);
        let systempfleger = draw_names(&mut rng, customers);
        Ok(Plan {
            start,
            valid_until: format!("{}-12-31", berlin_date(now).year() + 2),
            products,
            customers: gen_customers,
            contracts,
            apps,
            bookings,
            systempfleger,
        })
    }
}

fn digits(rng: &mut StdRng, n: usize) -> String {
    (0..n)
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect()
}

/// Customers: authorities at places, shuffled, unique slugs.
fn draw_customers(rng: &mut StdRng, customers: usize) -> Vec<GenCustomer> {
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
    names.shuffle(rng);
    let mut taken = HashSet::new();
    (0..customers)
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
            }
        })
        .collect()
}

/// Applications: at least one per customer where there are enough,
/// the rest skewed towards some larger customers.
fn draw_applications(
    rng: &mut StdRng,
    customers: usize,
    applications: usize,
) -> anyhow::Result<Vec<GenApp>> {
    let weights: Vec<f64> = (0..customers)
        .map(|_| (0.3 + rng.random::<f64>()).powi(2))
        .collect();
    let pick_customer = WeightedIndex::new(&weights).context("customer weights")?;
    let mut owners: Vec<usize> = (0..applications.min(customers)).collect();
    owners.extend((owners.len()..applications).map(|_| pick_customer.sample(rng)));
    owners.sort_unstable();
    let mut app_slugs: Vec<HashSet<String>> = vec![HashSet::new(); customers];
    Ok(owners
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
        .collect())
}

/// Bookings with their size history, oldest first.
fn draw_bookings(
    rng: &mut StdRng,
    bookings: usize,
    apps: usize,
    start: i64,
    now: i64,
) -> Vec<GenBooking> {
    let pick_stage = WeightedIndex::new([30, 25, 15, 30]).expect("weights");
    let pick_size = WeightedIndex::new([40, 35, 18, 7]).expect("weights");
    let pick_periods = WeightedIndex::new([60, 30, 10]).expect("weights");
    let mut created_seen = HashSet::new();
    let span = now - 2 * 86_400 - (start + 86_400);
    let mut gen_bookings: Vec<GenBooking> = (0..bookings)
        .map(|_| {
            let app = rng.random_range(0..apps);
            let stage = Stage::ALL[pick_stage.sample(rng)];
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
            let mut cuts: Vec<i64> = (0..pick_periods.sample(rng))
                .map(|_| rng.random_range(created_at + 60..end))
                .collect();
            cuts.sort_unstable();
            cuts.dedup();
            let mut periods = Vec::with_capacity(cuts.len() + 1);
            let mut size = pick_size.sample(rng);
            let mut from = created_at;
            for cut in cuts {
                periods.push(GenPeriod {
                    size,
                    starts_at: from,
                    ends_at: Some(cut),
                });
                let mut next = pick_size.sample(rng);
                while next == size {
                    next = pick_size.sample(rng);
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
    gen_bookings
}

/// What each customer has booked now: the sizes of the open bookings.
fn open_usage(
    customers: usize,
    products: &[Product],
    apps: &[GenApp],
    bookings: &[GenBooking],
) -> Vec<Usage> {
    let mut usage: Vec<Usage> = (0..customers).map(|_| Usage::default()).collect();
    for b in bookings.iter().filter(|b| b.cancelled_at.is_none()) {
        let size = products[b.product].sizes[b.periods.last().expect("one period").size];
        let c = &mut usage[apps[b.app].customer];
        c.millicpu += size.millicpu;
        c.memory_mib += size.memory_mib;
        c.storage_gib += size.storage_gib;
        c.rate_sum += size.rate;
    }
    usage
}

/// `v` rounded up to a whole, positive multiple of `unit`.
fn round_up(v: f64, unit: i64) -> i64 {
    ((v / unit as f64).ceil() as i64).max(1) * unit
}

/// Kontingent: what is booked now plus 15–60 % headroom; and the contract's
/// numbers in the public administration's formats.
fn draw_contracts(
    rng: &mut StdRng,
    customers: &[GenCustomer],
    usage: &[Usage],
) -> Vec<GenContract> {
    customers
        .iter()
        .zip(usage)
        .enumerate()
        .map(|(i, (c, u))| {
            // rate_sum × 730 h is in 1/10 000 EUR; /100 gives cents; whole 100 EUR.
            let monthly_cents =
                (u.rate_sum * HOURS_PER_MONTH) as f64 / 100.0 + c.base_fee_cents as f64;
            GenContract {
                number: format!("DLV-2025-{:04}", i + 1),
                max_millicpu: round_up(u.millicpu as f64 * c.headroom, 1_000).max(4_000),
                max_memory_mib: round_up(u.memory_mib as f64 * c.headroom, 1_024).max(16 * 1_024),
                max_storage_gib: round_up(u.storage_gib as f64 * c.headroom, 50).max(100),
                monthly_budget_cents: round_up(monthly_cents * c.headroom, 10_000),
                kostenstelle: format!("{}-{}", digits(rng, 4), digits(rng, 3)),
                haushaltsstelle: format!("{}.{}", digits(rng, 4), digits(rng, 5)),
                leitweg_id: format!("{}-{}-{}", digits(rng, 8), digits(rng, 10), digits(rng, 2)),
                billing_model: if c.base_fee_cents > 0 {
                    "gemischt"
                } else {
                    "nutzung"
                },
            }
        })
        .collect()
}

/// A person's name for each customer's Systempfleger:in.
fn draw_names(rng: &mut StdRng, customers: usize) -> Vec<String> {
    (0..customers)
        .map(|_| {
            format!(
                "{} {}",
                FIRST_NAMES[rng.random_range(0..FIRST_NAMES.len())],
                LAST_NAMES[rng.random_range(0..LAST_NAMES.len())]
            )
        })
        .collect()
}
