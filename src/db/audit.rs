//! The audit log (Revision): append-only, written in the same transaction as
//! the change it records, each entry chained to the one before by a hash
//! (`domain::audit::chain`). The chain's head, retention and verification
//! records are in `db::audit_chain`.

use std::collections::BTreeSet;

use futures_util::{StreamExt as _, stream::BoxStream};
use serde_json::Value;
use sqlx::{AnyConnection, AnyPool};

use super::{Tx, Visible, audit_chain, like_pattern};
use crate::domain::{
    actor::{CurrentUser, SYSTEM_ACTOR, Scope, Via},
    audit::chain::{self, Content},
};

/// What the chain's hash covers of a [`Pending`] entry or an [`AuditRow`],
/// which name their fields alike.
macro_rules! content {
    ($e:expr) => {
        Content {
            at: $e.at,
            actor_user_id: $e.actor_user_id,
            actor: &$e.actor,
            actor_subject: $e.actor_subject.as_deref(),
            via: $e.via.as_str(),
            customer_id: $e.customer_id,
            action: &$e.action,
            object_type: &$e.object_type,
            object_id: $e.object_id,
            before_json: $e.before_json.as_deref(),
            after_json: $e.after_json.as_deref(),
        }
    };
}

/// One entry to append.
pub struct Entry<'a> {
    pub customer_id: Option<i64>,
    pub action: &'a str,
    pub object_type: &'a str,
    pub object_id: i64,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// An entry with its actor and time, owned, waiting to be appended (a
/// `Change` keeps its entries until it commits, so that the chain's lock is
/// the last one it takes and is held only for the moment of appending).
#[derive(Debug, Clone)]
pub struct Pending {
    pub at: i64,
    pub actor_user_id: Option<i64>,
    pub actor: String,
    pub actor_subject: Option<String>,
    pub via: Via,
    pub customer_id: Option<i64>,
    pub action: String,
    pub object_type: String,
    pub object_id: i64,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
}

impl Pending {
    /// An entry of `person`, or of Kontor itself when there is none.
    pub fn new(person: Option<&CurrentUser>, at: i64, entry: Entry<'_>) -> Pending {
        let (actor_user_id, actor, actor_subject, via) = match person {
            Some(p) => (Some(p.id), p.audit_label(), p.subject.clone(), p.via),
            None => (None, SYSTEM_ACTOR.to_owned(), None, Via::System),
        };
        Pending {
            at,
            actor_user_id,
            actor,
            actor_subject,
            via,
            customer_id: entry.customer_id,
            action: entry.action.to_owned(),
            object_type: entry.object_type.to_owned(),
            object_id: entry.object_id,
            before_json: entry.before.map(|v| v.to_string()),
            after_json: entry.after.map(|v| v.to_string()),
        }
    }

    fn content(&self) -> Content<'_> {
        content!(self)
    }
}

/// Appends an entry of `actor` now.
pub async fn record(
    tx: &mut Tx,
    actor: &CurrentUser,
    at: i64,
    entry: Entry<'_>,
) -> sqlx::Result<()> {
    append(tx, &[Pending::new(Some(actor), at, entry)]).await
}

/// An entry of Kontor itself, e.g. a booking the cluster now has.
pub async fn record_system(tx: &mut Tx, at: i64, entry: Entry<'_>) -> sqlx::Result<()> {
    append(tx, &[Pending::new(None, at, entry)]).await
}

/// Appends `entries` in order at the head of the chain. Takes the chain's
/// lock (its one row, `FOR UPDATE` on PostgreSQL; SQLite's writers are
/// serialised by `BEGIN IMMEDIATE` already), so every writer appends after
/// the one before it has committed; the lock is held until `tx` ends.
pub async fn append(tx: &mut Tx, entries: &[Pending]) -> sqlx::Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    if !audit_chain::chaining() {
        for e in entries {
            insert(tx, e, None).await?;
        }
        return Ok(());
    }
    let mut head = audit_chain::lock(tx).await?;
    if head.seal_until > 0 {
        audit_chain::seal_backlog(tx, &mut head).await?;
    }
    let (mut seq, mut prev) = (head.head_seq, head.head_hash);
    for e in entries {
        seq += 1;
        let hash = chain::entry_hash(seq, &prev, &e.content());
        insert(tx, e, Some((seq, &prev, &hash))).await?;
        prev = hash;
    }
    audit_chain::set_head(tx, seq, &prev).await
}

async fn insert(tx: &mut Tx, e: &Pending, link: Option<(i64, &str, &str)>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor_user_id, actor, actor_subject, via, customer_id, action, \
         object_type, object_id, before_json, after_json, chain_seq, prev_hash, entry_hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(e.at)
    .bind(e.actor_user_id)
    .bind(&e.actor)
    .bind(e.actor_subject.as_deref())
    .bind(e.via.as_str())
    .bind(e.customer_id)
    .bind(&e.action)
    .bind(&e.object_type)
    .bind(e.object_id)
    .bind(e.before_json.as_deref())
    .bind(e.after_json.as_deref())
    .bind(link.map(|l| l.0))
    .bind(link.map(|l| l.1))
    .bind(link.map(|l| l.2))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The columns of [`AuditRow`], with the customer's name.
pub(super) const COLUMNS: &str = "SELECT l.id, l.at, l.actor_user_id, l.actor, l.actor_subject, l.via, \
    l.customer_id, c.name AS customer_name, l.action, l.object_type, l.object_id, l.before_json, \
    l.after_json, l.chain_seq, l.prev_hash, l.entry_hash \
    FROM audit_log l LEFT JOIN customers c ON c.id = l.customer_id";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub at: i64,
    pub actor_user_id: Option<i64>,
    pub actor: String,
    pub actor_subject: Option<String>,
    pub via: Via,
    pub customer_id: Option<i64>,
    pub customer_name: Option<String>,
    pub action: String,
    pub object_type: String,
    pub object_id: i64,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
    /// Position in the chain; `None` for an entry that is not in it.
    pub chain_seq: Option<i64>,
    pub prev_hash: Option<String>,
    pub entry_hash: Option<String>,
}

impl AuditRow {
    /// What the chain's hash covers.
    pub fn content(&self) -> Content<'_> {
        content!(self)
    }
}

/// The entries about one object, oldest first.
pub async fn for_object(
    pool: &AnyPool,
    object_type: &str,
    object_id: i64,
) -> sqlx::Result<Vec<AuditRow>> {
    sqlx::query_as(super::sql(format!(
        "{COLUMNS} WHERE l.object_type = $1 AND l.object_id = $2 ORDER BY l.id"
    )))
    .bind(object_type)
    .bind(object_id)
    .fetch_all(pool)
    .await
}

/// Filters of the Revision; all optional, all must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// From this instant on (Unix seconds, inclusive).
    pub from: Option<i64>,
    /// Before this instant (exclusive).
    pub until: Option<i64>,
    pub customer_id: Option<i64>,
    pub object_type: Option<String>,
    pub object_id: Option<i64>,
    pub action: Option<String>,
    /// A part of the acting person's recorded name or login, any case.
    pub actor: Option<String>,
    /// A part of the person, the action or the recorded values, any case;
    /// also matches the actions in `text_actions` (those whose German
    /// label contains the text).
    pub text: Option<String>,
    pub text_actions: Vec<&'static str>,
}

/// What `scope` may see of the log, narrowed by `filter`; `None` when it
/// sees nothing.
fn visible(scope: Scope, filter: &Filter) -> Option<Visible> {
    Some(
        Visible::to(scope, "l.customer_id")?
            .at_least("l.at", filter.from)
            .below("l.at", filter.until)
            .id("l.customer_id", filter.customer_id)
            .text("l.object_type", filter.object_type.as_deref())
            .id("l.object_id", filter.object_id)
            .text("l.action", filter.action.as_deref())
            .contains(
                &["l.actor"],
                filter.actor.as_deref().map(like_pattern),
                ("", &[]),
            )
            .contains(
                &["l.actor", "l.action", "l.before_json", "l.after_json"],
                filter.text.as_deref().map(like_pattern),
                ("l.action", &filter.text_actions),
            ),
    )
}

/// Where a page of the list starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// The newest entries.
    Newest,
    /// Entries older than this id (the next page).
    Before(i64),
    /// Entries newer than this id (the previous page).
    After(i64),
}

/// Largest page `list` returns, whatever the caller asks for.
pub const MAX_LIMIT: i64 = 500;

/// Up to `limit` entries, newest first, from `start`.
pub async fn list(
    pool: &AnyPool,
    scope: Scope,
    filter: &Filter,
    start: Start,
    limit: i64,
) -> sqlx::Result<Vec<AuditRow>> {
    let Some(visible) = visible(scope, filter) else {
        return Ok(Vec::new());
    };
    let limit = limit.clamp(1, MAX_LIMIT);
    let (visible, order) = match start {
        Start::Newest => (visible, "DESC"),
        Start::Before(id) => (visible.below("l.id", Some(id)), "DESC"),
        Start::After(id) => (visible.above("l.id", Some(id)), "ASC"),
    };
    // LIMIT as a literal (clamped above): see `db::bookings::list`.
    let sql = format!(
        "{COLUMNS}{} ORDER BY l.id {order} LIMIT {limit}",
        visible.sql()
    );
    let mut rows = visible
        .bind(sqlx::query_as::<_, AuditRow>(super::sql(sql)))
        .fetch_all(pool)
        .await?;
    if order == "ASC" {
        rows.reverse();
    }
    Ok(rows)
}

/// Every entry `scope` may see that matches `filter`, oldest first, as a
/// stream (exports read them one by one).
pub fn stream<'p>(
    pool: &'p AnyPool,
    scope: Scope,
    filter: &Filter,
) -> BoxStream<'p, sqlx::Result<AuditRow>> {
    let Some(visible) = visible(scope, filter) else {
        return futures_util::stream::empty().boxed();
    };
    let sql = format!("{COLUMNS}{} ORDER BY l.id", visible.sql());
    visible
        .bind(sqlx::query_as::<_, AuditRow>(super::sql(sql)))
        .fetch(pool)
}

/// The chained entries after position `after_seq`, in chain order, read
/// on `conn` (the verification's snapshot).
pub fn chained_after(
    conn: &mut AnyConnection,
    after_seq: i64,
) -> BoxStream<'_, sqlx::Result<AuditRow>> {
    sqlx::query_as::<_, AuditRow>(super::sql(format!(
        "{COLUMNS} WHERE l.chain_seq > $1 ORDER BY l.chain_seq"
    )))
    .bind(after_seq)
    .fetch(conn)
}

/// The first entry not in the chain with an id above `above_id`.
pub async fn first_unchained(conn: &mut AnyConnection, above_id: i64) -> sqlx::Result<Option<i64>> {
    let row: Option<(i64,)> = sqlx::query_as(
        "SELECT id FROM audit_log WHERE chain_seq IS NULL AND id > $1 ORDER BY id LIMIT 1",
    )
    .bind(above_id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(id,)| id))
}

/// Names of what entries refer to by id, of the customers `scope` sees.
/// Like [`names`], only for what `wanted` mentions (a page of entries).
pub async fn names_for(
    pool: &AnyPool,
    scope: Scope,
    wanted: &crate::domain::audit::Referenced,
) -> sqlx::Result<crate::domain::audit::Names> {
    let (sizes, products) = match wanted.sizes.is_empty() && wanted.products.is_empty() {
        true => Default::default(),
        // The catalogue is small and everyone's: all of it.
        false => names_of_catalogue(pool).await?,
    };
    let (apps, contracts) = (&wanted.applications, &wanted.contracts);
    let names = crate::domain::audit::Names {
        applications: named(pool, scope, "applications", "name", "customer_id", apps)
            .await?
            .into_iter()
            .collect(),
        contracts: named(pool, scope, "contracts", "number", "customer_id", contracts)
            .await?
            .into_iter()
            .collect(),
        customers: named(pool, scope, "customers", "name", "id", &wanted.customers)
            .await?
            .into_iter()
            .collect(),
        sizes,
        products,
    };
    Ok(names)
}

/// `id` and `label` of the rows of `table` with these ids that the scope
/// may see (`customer` is the table's customer column).
async fn named(
    pool: &AnyPool,
    scope: Scope,
    table: &'static str,
    label: &'static str,
    customer: &'static str,
    ids: &BTreeSet<i64>,
) -> sqlx::Result<Vec<(i64, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let Some(visible) = Visible::to(scope, customer) else {
        return Ok(Vec::new());
    };
    let visible = visible.one_of("id", ids.iter().copied());
    let sql = format!("SELECT id, {label} FROM {table}{}", visible.sql());
    visible
        .bind(sqlx::query_as::<_, (i64, String)>(super::sql(sql)))
        .fetch_all(pool)
        .await
}

type Catalogue = (
    std::collections::HashMap<i64, String>,
    std::collections::HashMap<String, String>,
);

async fn names_of_catalogue(pool: &AnyPool) -> sqlx::Result<Catalogue> {
    let sizes = sqlx::query_as::<_, (i64, String)>(
        "SELECT s.id, p.name || ' ' || s.size FROM product_sizes s JOIN products p ON p.id = s.product_id",
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .collect();
    let products = sqlx::query_as::<_, (String, String)>("SELECT slug, name FROM products")
        .fetch_all(pool)
        .await?
        .into_iter()
        .collect();
    Ok((sizes, products))
}

pub async fn names(pool: &AnyPool, scope: Scope) -> sqlx::Result<crate::domain::audit::Names> {
    let mut names = crate::domain::audit::Names::default();
    let Some(visible) = Visible::to(scope, "customer_id") else {
        return Ok(names);
    };
    let of = |table: &str, label: &str| format!("SELECT id, {label} FROM {table}{}", visible.sql());
    let pairs = |sql: String| {
        visible
            .bind(sqlx::query_as::<_, (i64, String)>(super::sql(sql)))
            .fetch_all(pool)
    };
    names.applications = pairs(of("applications", "name"))
        .await?
        .into_iter()
        .collect();
    names.contracts = pairs(of("contracts", "number"))
        .await?
        .into_iter()
        .collect();
    names.customers = match scope {
        Scope::Customer(id) => sqlx::query_as("SELECT id, name FROM customers WHERE id = $1")
            .bind(id)
            .fetch_all(pool)
            .await?
            .into_iter()
            .collect(),
        _ => sqlx::query_as("SELECT id, name FROM customers")
            .fetch_all(pool)
            .await?
            .into_iter()
            .collect(),
    };
    (names.sizes, names.products) = names_of_catalogue(pool).await?;
    Ok(names)
}
