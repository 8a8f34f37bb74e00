//! Writing a [`Plan`]: every row in one transaction, table by table in a
//! fixed order (so the ids are the same on every run), the audit log last.

use std::collections::HashMap;

use sqlx::Row as _;

use super::audit;
use super::catalogue::SIZES;
use super::insert::{V, insert};
use super::plan::Plan;
use crate::db::{Db, Tx};
use crate::domain::{Role, Stage};

/// The provider's operator, who created customers, contracts, applications.
const OPERATOR_LOGIN: &str = "bench-betreiber";
const OPERATOR_NAME: &str = "Bruno Betrieb";
/// The operator as the audit log names them: "Name (login)".
pub(super) const OPERATOR_LABEL: &str = "Bruno Betrieb (bench-betreiber)";

const USERS_COLS: [&str; 5] = ["login", "display_name", "customer_id", "demo", "created_at"];

/// How many rows of the kinds the plan does not count itself were written.
pub(super) struct Written {
    pub(super) environments: usize,
    pub(super) periods: usize,
    pub(super) audit_entries: usize,
}

/// The ids the database gave the plan's rows, by the plan's indices.
pub(super) struct Ids {
    pub(super) operator: i64,
    pub(super) customers: Vec<i64>,
    pub(super) contracts: Vec<i64>,
    pub(super) apps: Vec<i64>,
    /// By (application id, stage).
    pub(super) environments: HashMap<(i64, String), i64>,
    /// Id and audit label ("Name (login)") of each customer's Systempfleger:in.
    pub(super) systempfleger: Vec<(i64, String)>,
    pub(super) bookings: Vec<i64>,
}

pub(super) async fn write(db: &Db, plan: &Plan) -> anyhow::Result<Written> {
    let mut tx = db.begin_write().await?;
    let operator = operator(&mut tx, plan.start).await?;
    let customers = customers(&mut tx, plan).await?;
    let contracts = contracts(&mut tx, plan, &customers).await?;
    let apps = applications(&mut tx, plan, &customers, &contracts).await?;
    let environments = environments(&mut tx, &apps).await?;
    let systempfleger = systempfleger(&mut tx, plan, &customers, operator).await?;
    let mut ids = Ids {
        operator,
        customers,
        contracts,
        apps,
        environments,
        systempfleger,
        bookings: Vec::new(),
    };
    // A booking row refers to everything written before it.
    ids.bookings = bookings(&mut tx, plan, &ids).await?;

    let periods = periods(plan, &ids);
    insert(&mut tx, "booking_periods", &PERIOD_COLS, &periods, None).await?;
    let mut audit = audit::entries(plan, &ids);
    let head = crate::db::audit_chain::lock(&mut tx).await?;
    let (seq, hash) = audit::chain(&mut audit, head.head_seq, head.head_hash);
    insert(&mut tx, "audit_log", &audit::COLUMNS, &audit, None).await?;
    crate::db::audit_chain::set_head(&mut tx, seq, &hash).await?;
    tx.commit().await?;
    Ok(Written {
        environments: ids.environments.len(),
        periods: periods.len(),
        audit_entries: audit.len(),
    })
}

/// The provider's operator, who created customers, contracts, applications.
async fn operator(tx: &mut Tx, start: i64) -> anyhow::Result<i64> {
    let rows = insert(
        tx,
        "users",
        &USERS_COLS,
        &[vec![
            OPERATOR_LOGIN.into(),
            OPERATOR_NAME.into(),
            V::NullInt,
            1.into(),
            start.into(),
        ]],
        Some("id"),
    )
    .await?;
    Ok(rows[0].try_get(0)?)
}

async fn customers(tx: &mut Tx, plan: &Plan) -> anyhow::Result<Vec<i64>> {
    let rows: Vec<Vec<V>> = plan
        .customers
        .iter()
        .map(|c| {
            vec![
                c.slug.as_str().into(),
                c.name.as_str().into(),
                plan.start.into(),
            ]
        })
        .collect();
    let returned = insert(
        tx,
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
    Ok(plan.customers.iter().map(|c| by_slug[&c.slug]).collect())
}

async fn contracts(tx: &mut Tx, plan: &Plan, customer_ids: &[i64]) -> anyhow::Result<Vec<i64>> {
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
    let rows: Vec<Vec<V>> = plan
        .customers
        .iter()
        .zip(&plan.contracts)
        .enumerate()
        .map(|(i, (c, k))| {
            vec![
                customer_ids[i].into(),
                k.number.as_str().into(),
                format!("Betrieb der IT-Fachverfahren – {}", c.name).into(),
                "2025-01-01".into(),
                plan.valid_until.as_str().into(),
                k.kostenstelle.as_str().into(),
                k.haushaltsstelle.as_str().into(),
                k.leitweg_id.as_str().into(),
                k.billing_model.into(),
                c.base_fee_cents.into(),
                k.max_millicpu.into(),
                k.max_memory_mib.into(),
                k.max_storage_gib.into(),
                k.monthly_budget_cents.into(),
                plan.start.into(),
            ]
        })
        .collect();
    let returned = insert(
        tx,
        "contracts",
        &contract_cols,
        &rows,
        Some("id, customer_id"),
    )
    .await?;
    let contract_of: HashMap<i64, i64> = returned
        .iter()
        .map(|r| Ok((r.try_get::<i64, _>(1)?, r.try_get::<i64, _>(0)?)))
        .collect::<sqlx::Result<_>>()?;
    Ok(customer_ids.iter().map(|c| contract_of[c]).collect())
}

async fn applications(
    tx: &mut Tx,
    plan: &Plan,
    customer_ids: &[i64],
    contract_ids: &[i64],
) -> anyhow::Result<Vec<i64>> {
    let rows: Vec<Vec<V>> = plan
        .apps
        .iter()
        .map(|a| {
            vec![
                customer_ids[a.customer].into(),
                contract_ids[a.customer].into(),
                a.slug.as_str().into(),
                a.name.as_str().into(),
                plan.start.into(),
            ]
        })
        .collect();
    let returned = insert(
        tx,
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
    Ok(plan
        .apps
        .iter()
        .map(|a| app_by_key[&(customer_ids[a.customer], a.slug.clone())])
        .collect())
}

/// Every stage of every application.
async fn environments(tx: &mut Tx, app_ids: &[i64]) -> anyhow::Result<HashMap<(i64, String), i64>> {
    let rows: Vec<Vec<V>> = app_ids
        .iter()
        .flat_map(|&id| Stage::ALL.map(|s| vec![id.into(), s.as_str().into()]))
        .collect();
    let returned = insert(
        tx,
        "environments",
        &["application_id", "stage"],
        &rows,
        Some("id, application_id, stage"),
    )
    .await?;
    Ok(returned
        .iter()
        .map(|r| {
            Ok((
                (r.try_get::<i64, _>(1)?, r.try_get::<String, _>(2)?),
                r.try_get::<i64, _>(0)?,
            ))
        })
        .collect::<sqlx::Result<_>>()?)
}

/// One Systempfleger:in per customer, a demo user so the browser
/// benchmark can log in without an OpenID provider; and the roles of all
/// users, the operator's first.
async fn systempfleger(
    tx: &mut Tx,
    plan: &Plan,
    customer_ids: &[i64],
    operator: i64,
) -> anyhow::Result<Vec<(i64, String)>> {
    let rows: Vec<Vec<V>> = plan
        .systempfleger
        .iter()
        .enumerate()
        .map(|(i, name)| {
            vec![
                format!("bench-sp-{}", i + 1).into(),
                name.as_str().into(),
                customer_ids[i].into(),
                1.into(),
                plan.start.into(),
            ]
        })
        .collect();
    let returned = insert(
        tx,
        "users",
        &USERS_COLS,
        &rows,
        Some("id, login, display_name"),
    )
    .await?;
    let mut sp: Vec<(i64, String)> = vec![(0, String::new()); customer_ids.len()];
    for r in &returned {
        let login: String = r.try_get(1)?;
        let n: usize = login.trim_start_matches("bench-sp-").parse()?;
        sp[n - 1] = (
            r.try_get(0)?,
            format!("{} ({login})", r.try_get::<String, _>(2)?),
        );
    }
    let mut role_rows = vec![vec![operator.into(), Role::Betreiber.as_str().into()]];
    role_rows.extend(
        sp.iter()
            .map(|(id, _)| vec![(*id).into(), Role::Systempfleger.as_str().into()]),
    );
    insert(tx, "user_roles", &["user_id", "role"], &role_rows, None).await?;
    Ok(sp)
}

/// The bookings in their current state, made by the customer's
/// Systempfleger:in.
async fn bookings(tx: &mut Tx, plan: &Plan, ids: &Ids) -> anyhow::Result<Vec<i64>> {
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
    let rows: Vec<Vec<V>> = plan
        .bookings
        .iter()
        .map(|b| {
            let a = &plan.apps[b.app];
            let app_id = ids.apps[b.app];
            let size = b.periods.last().expect("one period").size;
            vec![
                ids.customers[a.customer].into(),
                ids.contracts[a.customer].into(),
                app_id.into(),
                ids.environments[&(app_id, b.stage.as_str().to_owned())].into(),
                b.stage.as_str().into(),
                plan.products[b.product].id.into(),
                SIZES[size].into(),
                if b.cancelled_at.is_some() {
                    "gekuendigt"
                } else {
                    "aktiv"
                }
                .into(),
                b.created_at.into(),
                ids.systempfleger[a.customer].0.into(),
                b.cancelled_at.into(),
            ]
        })
        .collect();
    let returned = insert(tx, "bookings", &booking_cols, &rows, Some("id, created_at")).await?;
    let booking_by_created: HashMap<i64, i64> = returned
        .iter()
        .map(|r| Ok((r.try_get::<i64, _>(1)?, r.try_get::<i64, _>(0)?)))
        .collect::<sqlx::Result<_>>()?;
    Ok(plan
        .bookings
        .iter()
        .map(|b| booking_by_created[&b.created_at])
        .collect())
}

const PERIOD_COLS: [&str; 9] = [
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

/// Periods, oldest first, so the latest period has the highest id.
fn periods(plan: &Plan, ids: &Ids) -> Vec<Vec<V>> {
    let mut rows = Vec::new();
    for (b, &id) in plan.bookings.iter().zip(&ids.bookings) {
        let product = &plan.products[b.product];
        for p in &b.periods {
            let s = product.sizes[p.size];
            debug_assert_eq!(s.product_id, product.id);
            rows.push(vec![
                id.into(),
                s.id.into(),
                SIZES[p.size].into(),
                s.millicpu.into(),
                s.memory_mib.into(),
                s.storage_gib.into(),
                s.pods.into(),
                p.starts_at.into(),
                p.ends_at.into(),
            ]);
        }
    }
    rows
}
