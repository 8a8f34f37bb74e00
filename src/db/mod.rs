//! Queries and transactions. The same SQL runs on SQLite (embedded default)
//! and PostgreSQL through sqlx's `Any` driver; the few dialect differences are
//! named methods on [`Db`] so they are visible where they matter.

pub mod api_tokens;
pub mod applications;
pub mod approvals;
pub mod audit;
pub mod audit_chain;
pub mod bookings;
pub mod catalog;
pub mod codec;
pub mod constraints;
pub mod contracts;
pub mod customers;
pub mod deployments;
pub mod environments;
pub mod idempotency;
pub mod kontingent_requests;
pub mod metering;
pub mod notifications;
pub mod outbox;
pub mod promotions;
pub mod rate_limits;
pub mod releases;
pub mod schedule;
pub mod sessions;
pub mod statements;
pub mod targets;
pub mod users;

use std::{path::Path, str::FromStr, sync::Arc, time::Duration};

use anyhow::Context as _;
use sqlx::{
    AnyPool, Executor, Transaction,
    any::{Any, AnyPoolOptions},
};
use tokio::sync::Notify;

use crate::domain::actor::Scope;

pub type Tx = Transaction<'static, Any>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
    /// Rung after a commit that enqueued provisioning work, so this
    /// process's reconciler starts at once instead of at its next poll.
    provisioning: Arc<Notify>,
    /// Rung after a commit that recorded notifications, for this process's
    /// sender.
    notifications: Arc<Notify>,
    /// Whether e-mail is configured (`KONTOR_SMTP_HOST`); without it no
    /// e-mail deliveries are written.
    email: Arc<std::sync::atomic::AtomicBool>,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Whether `e` says the database is unreachable for now (restarting, down,
/// every connection busy) rather than that a statement is wrong: the caller
/// may try again shortly, and nothing was written.
pub fn is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => true,
        sqlx::Error::Tls(_) => true,
        // 57P01-03: shutting down, crashed, not yet accepting; 08: the
        // connection failed.
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|c| c.starts_with("57P0") || c.starts_with("08")),
        _ => false,
    }
}

impl Db {
    pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Db> {
        Db::connect_with(url, max_connections, Duration::from_secs(30)).await
    }

    /// Connects with `acquire_timeout`: how long a request waits for a free
    /// connection before it is answered 503.
    pub async fn connect_with(
        url: &str,
        max_connections: u32,
        acquire_timeout: Duration,
    ) -> anyhow::Result<Db> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            anyhow::bail!(
                "KONTOR_DATABASE_URL must start with sqlite: or postgres:, got {:?}",
                url.split(':').next().unwrap_or_default()
            );
        };
        if backend == Backend::Sqlite {
            ensure_sqlite_dir(url)?;
        }
        let options = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(acquire_timeout)
            // A ping before every query doubles the round trips; a broken
            // connection shows up as an error on use and is replaced, and
            // idle connections are recycled anyway.
            .test_before_acquire(false)
            .idle_timeout(Duration::from_secs(300))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // busy_timeout makes a writer wait for the lock
                        // instead of failing at once; foreign keys are off
                        // in SQLite unless asked for.
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute("PRAGMA busy_timeout = 30000").await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                    }
                    Ok(())
                })
            });
        let pool = options
            .connect(url)
            .await
            .with_context(|| format!("cannot connect to the database ({})", redact(url)))?;
        if backend == Backend::Sqlite {
            // WAL lets readers proceed while one writer commits; the setting
            // is stored in the file, so once is enough.
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await?;
        }
        Ok(Db {
            pool,
            backend,
            provisioning: Arc::new(Notify::new()),
            notifications: Arc::new(Notify::new()),
            email: Arc::new(std::sync::atomic::AtomicBool::new(false)),
        })
    }

    pub async fn migrate(&self) -> anyhow::Result<()> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator
            .run(&self.pool)
            .await
            .context("database migration failed")?;
        Ok(())
    }

    /// Whether every migration of this binary is applied (readiness).
    pub async fn schema_current(&self) -> sqlx::Result<bool> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        let newest = migrator.iter().map(|m| m.version).max().unwrap_or(0);
        let (applied,): (Option<i64>,) =
            sqlx::query_as("SELECT MAX(version) FROM _sqlx_migrations WHERE success = TRUE")
                .fetch_one(&self.pool)
                .await?;
        Ok(applied.unwrap_or(0) >= newest)
    }

    /// Starts a transaction that will write. On SQLite it takes the write
    /// lock up front (`BEGIN IMMEDIATE`): a deferred transaction that reads
    /// and then writes can fail with SQLITE_BUSY when another one got there
    /// first, and busy_timeout cannot help with that upgrade.
    pub async fn begin_write(&self) -> sqlx::Result<Tx> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }

    /// Tells this process's reconciler that work was committed.
    pub fn wake_provisioning(&self) {
        self.provisioning.notify_one();
    }

    /// Resolves when [`Db::wake_provisioning`] was called (also if that
    /// happened before anyone waited: the wake-up is kept).
    pub async fn provisioning_woken(&self) {
        self.provisioning.notified().await;
    }

    /// Tells this process's notification sender that deliveries were
    /// committed.
    pub fn wake_notifications(&self) {
        self.notifications.notify_one();
    }

    /// Resolves when [`Db::wake_notifications`] was called (kept like the
    /// provisioning wake-up).
    pub async fn notifications_woken(&self) {
        self.notifications.notified().await;
    }

    /// Says whether e-mail is configured (set once at start).
    pub fn set_email_enabled(&self, enabled: bool) {
        self.email
            .store(enabled, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn email_enabled(&self) -> bool {
        self.email.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Row lock suffix for a `SELECT` inside a write transaction. SQLite
    /// needs none: `BEGIN IMMEDIATE` already serialises writers.
    pub fn for_update(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        }
    }
}

fn ensure_sqlite_dir(url: &str) -> anyhow::Result<()> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let path = path.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    if let Some(dir) = Path::new(path)
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create data directory {}", dir.display()))?;
    }
    Ok(())
}

/// The URL without its password, for error messages and logs.
pub fn redact(url: &str) -> String {
    match url::Url::from_str(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

/// `%text%` for LIKE, with `\` escaping the wildcards in the text.
pub fn like_pattern(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// A value bound to a placeholder of a [`Visible`] clause.
#[derive(Debug, Clone)]
enum Bind {
    Int(i64),
    Text(&'static str),
    Owned(String),
}

/// The WHERE clause of a list query: what a scope may see, and further
/// conditions, with the values bound in placeholder order. The one place
/// where the tenant filter is written.
pub struct Visible {
    clauses: Vec<String>,
    binds: Vec<Bind>,
    /// Placeholders bound before this clause's (e.g. `$1` = now).
    before: usize,
}

impl Visible {
    /// Rows of `customer_column` the scope may see; `None` when it sees
    /// nothing at all.
    pub fn to(scope: Scope, customer_column: &str) -> Option<Visible> {
        Visible::after(0, scope, customer_column)
    }

    /// Like [`Visible::to`], numbering its placeholders after `before`
    /// bound by the caller first.
    pub fn after(before: usize, scope: Scope, customer_column: &str) -> Option<Visible> {
        let visible = Visible {
            clauses: Vec::new(),
            binds: Vec::new(),
            before,
        };
        match scope {
            Scope::All => Some(visible),
            Scope::Customer(id) => Some(visible.id(customer_column, Some(id))),
            Scope::Nothing => None,
        }
    }

    fn push(mut self, column: &str, bind: Bind) -> Visible {
        self.binds.push(bind);
        self.clauses
            .push(format!("{column} = ${}", self.before + self.binds.len()));
        self
    }

    /// Also `column = id`, when there is an id.
    pub fn id(self, column: &str, id: Option<i64>) -> Visible {
        match id {
            Some(id) => self.push(column, Bind::Int(id)),
            None => self,
        }
    }

    /// Also `column = value` for an id value (a stage, a state), when given.
    pub fn value(self, column: &str, value: Option<&'static str>) -> Visible {
        match value {
            Some(v) => self.push(column, Bind::Text(v)),
            None => self,
        }
    }

    /// Also `column = text`, when given.
    pub fn text(self, column: &str, text: Option<&str>) -> Visible {
        match text {
            Some(t) => self.push(column, Bind::Owned(t.to_owned())),
            None => self,
        }
    }

    fn compare(mut self, column: &str, op: &str, value: Option<i64>) -> Visible {
        if let Some(v) = value {
            self.binds.push(Bind::Int(v));
            self.clauses
                .push(format!("{column} {op} ${}", self.before + self.binds.len()));
        }
        self
    }

    /// Also `column >= value`, when given.
    pub fn at_least(self, column: &str, value: Option<i64>) -> Visible {
        self.compare(column, ">=", value)
    }

    /// Also `column < value`, when given.
    pub fn below(self, column: &str, value: Option<i64>) -> Visible {
        self.compare(column, "<", value)
    }

    /// Also `column > value`, when given.
    pub fn above(self, column: &str, value: Option<i64>) -> Visible {
        self.compare(column, ">", value)
    }

    /// Also: one of `columns` is LIKE `pattern` in any case (`\` escapes
    /// the wildcards), or `or_column` is one of `or_values`; when a
    /// pattern is given.
    pub fn contains(
        mut self,
        columns: &[&str],
        pattern: Option<String>,
        (or_column, or_values): (&str, &[&'static str]),
    ) -> Visible {
        let Some(pattern) = pattern else {
            return self;
        };
        self.binds.push(Bind::Owned(pattern));
        let n = self.before + self.binds.len();
        let mut alternatives: Vec<String> = columns
            .iter()
            .map(|c| format!("LOWER({c}) LIKE LOWER(${n}) ESCAPE '\\'"))
            .collect();
        if !or_values.is_empty() {
            let mut placeholders = Vec::new();
            for v in or_values {
                self.binds.push(Bind::Text(v));
                placeholders.push(format!("${}", self.before + self.binds.len()));
            }
            alternatives.push(format!("{or_column} IN ({})", placeholders.join(", ")));
        }
        self.clauses
            .push(format!("({})", alternatives.join(" OR ")));
        self
    }

    /// Also `column IN (ids…)`; no row at all for no ids.
    pub fn one_of(mut self, column: &str, ids: impl IntoIterator<Item = i64>) -> Visible {
        let mut placeholders = Vec::new();
        for id in ids {
            self.binds.push(Bind::Int(id));
            placeholders.push(format!("${}", self.before + self.binds.len()));
        }
        self.clauses.push(match placeholders.is_empty() {
            true => "1 = 0".to_owned(),
            false => format!("{column} IN ({})", placeholders.join(", ")),
        });
        self
    }

    /// Also a fixed condition (static SQL, no input).
    pub fn and(mut self, condition: &'static str, when: bool) -> Visible {
        if when {
            self.clauses.push(condition.to_owned());
        }
        self
    }

    /// How many placeholders the clause binds.
    pub fn len(&self) -> usize {
        self.binds.len()
    }

    pub fn is_empty(&self) -> bool {
        self.binds.is_empty()
    }

    /// ` WHERE …`, or nothing.
    pub fn sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.clauses.join(" AND "))
        }
    }

    /// The conditions joined with ` AND `, for a query that has its own
    /// WHERE; empty when there are none.
    pub fn and_sql(&self) -> String {
        self.clauses.iter().map(|c| format!(" AND {c}")).collect()
    }

    pub fn bind<'q, O>(
        &self,
        mut query: sqlx::query::QueryAs<'q, Any, O, sqlx::any::AnyArguments>,
    ) -> sqlx::query::QueryAs<'q, Any, O, sqlx::any::AnyArguments> {
        for b in &self.binds {
            query = match b {
                Bind::Int(v) => query.bind(*v),
                Bind::Text(v) => query.bind(*v),
                Bind::Owned(v) => query.bind(v.clone()),
            };
        }
        query
    }
}

/// Marks SQL assembled at run time from static fragments (never from input;
/// values are always bound) as safe to execute.
pub fn sql(text: String) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(text)
}

/// Current time as Unix milliseconds (the provisioning queue's clock).
pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// Current time as Unix seconds.
pub fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}
