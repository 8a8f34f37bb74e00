//! Migrations that move data keep it: an installation with requests in the
//! old `promotions` table finds them, decided or open, in `approvals` after
//! `0008_approvals`, and the next request gets a fresh id. An installation
//! that had the notifications (`0010`) before the Revision (`0009`) gets the
//! Revision's migration afterwards, and its entries chained.

use kontor::{app::revision::chain, db::Db};
use sqlx::{AnyConnection, Connection as _, Executor as _};

use crate::support::{Backend, postgres_admin_url, postgres_url_for, unique};

cluster_tests! {
    promotions_of_an_older_schema_become_approvals_with_their_decisions,
    a_database_with_the_notifications_but_not_the_revision_gets_the_chain_when_it_migrates,
}

/// The migration files of `backend` up to and including `last`, in order.
pub(crate) fn migrations(backend: Backend, last: &str) -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(match backend {
        Backend::Sqlite => "migrations/sqlite",
        Backend::Postgres => "migrations/postgres",
    });
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("migrations")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| *n <= *last)
        })
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| std::fs::read_to_string(p).expect("migration"))
        .collect()
}

async fn run(conn: &mut AnyConnection, sql: &str) {
    conn.execute(sqlx::AssertSqlSafe(sql.to_owned()))
        .await
        .unwrap_or_else(|e| panic!("{e}: {}", &sql[..sql.len().min(200)]));
}

/// id, kind, state, open_key, decided_by, reason
type ApprovalRow = (
    i64,
    String,
    String,
    Option<String>,
    Option<i64>,
    Option<String>,
);

async fn promotions_of_an_older_schema_become_approvals_with_their_decisions(backend: Backend) {
    sqlx::any::install_default_drivers();
    let name = format!("kontor_test_mig_{}", unique());
    let dir = std::env::temp_dir().join(&name);
    let url = match backend {
        Backend::Sqlite => {
            std::fs::create_dir_all(&dir).expect("dir");
            format!("sqlite://{}?mode=rwc", dir.join("old.db").display())
        }
        Backend::Postgres => {
            let mut admin = sqlx::postgres::PgConnection::connect(&postgres_admin_url())
                .await
                .expect("admin");
            admin
                .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .await
                .expect("create database");
            postgres_url_for(&name)
        }
    };
    let mut conn = AnyConnection::connect(&url).await.expect("connect");
    for sql in migrations(backend, "0007") {
        run(&mut conn, &sql).await;
    }
    run(
        &mut conn,
        "INSERT INTO customers (id, slug, name, created_at) VALUES (1, 'kunde', 'Kunde', 0); \
         INSERT INTO contracts (id, customer_id, number, title, valid_from, valid_until, kostenstelle, \
           haushaltsstelle, leitweg_id, billing_model, max_millicpu, max_memory_mib, max_storage_gib, \
           monthly_budget_cents, created_at) VALUES (1, 1, 'DLV-1', 'V', '2026-01-01', '2026-12-31', \
           'K', 'H', '05315000-44', 'nutzung', 1000, 1024, 10, 100, 0); \
         INSERT INTO applications (id, customer_id, contract_id, slug, name, created_at) \
           VALUES (1, 1, 1, 'app', 'App', 0); \
         INSERT INTO users (id, login, display_name, customer_id, created_at) VALUES \
           (1, 'dev', 'Dev', 1, 0), (2, 'sp', 'SP', 1, 0); \
         INSERT INTO releases (id, customer_id, application_id, version, image, pinned_image, \
           checksums_json, checkup, delivered_at) VALUES (1, 1, 1, '1.0', 'r/a@sha256:x', 'r/a@sha256:x', \
           '{}', 'bestanden', 0); \
         INSERT INTO promotions (id, customer_id, application_id, release_id, from_stage, to_stage, \
           state, requested_by, requested_at, decided_by, decided_at, reason) VALUES \
           (5, 1, 1, 1, 'vorpruefung', 'abnahme', 'abgelehnt', 1, 10, 2, 20, 'nein'), \
           (6, 1, 1, 1, 'vorpruefung', 'abnahme', 'offen', 1, 30, NULL, NULL, NULL);",
    )
    .await;
    let all = migrations(backend, "0008_approvals.sql");
    run(&mut conn, all.last().expect("0008")).await;
    let rows: Vec<ApprovalRow> = sqlx::query_as(
        "SELECT ap.id, ap.kind, ap.state, ap.open_key, ap.decided_by, ap.reason \
             FROM approvals ap JOIN promotions p ON p.id = ap.id ORDER BY ap.id",
    )
    .fetch_all(&mut conn)
    .await
    .expect("approvals");
    assert_eq!(
        rows,
        vec![
            (
                5,
                "promotion".into(),
                "abgelehnt".into(),
                None,
                Some(2),
                Some("nein".into())
            ),
            (
                6,
                "promotion".into(),
                "offen".into(),
                Some("promotion:1:abnahme".into()),
                None,
                None
            ),
        ]
    );
    let (next,): (i64,) = sqlx::query_as(
        "INSERT INTO approvals (kind, customer_id, state, open_key, requested_by, requested_at) \
         VALUES ('kontingent', 1, 'offen', 'kontingent:1', 2, 40) RETURNING id",
    )
    .fetch_one(&mut conn)
    .await
    .expect("a new request");
    assert!(next > 6, "the next id follows the old ones, got {next}");
    let dup = sqlx::query(
        "INSERT INTO approvals (kind, customer_id, state, open_key, requested_by, requested_at) \
         VALUES ('promotion', 1, 'offen', 'promotion:1:abnahme', 1, 50)",
    )
    .execute(&mut conn)
    .await;
    assert!(
        dup.is_err(),
        "one open request per subject, also for migrated ones"
    );
    conn.close().await.expect("close");
    match backend {
        Backend::Sqlite => {
            let _ = std::fs::remove_dir_all(&dir);
        }
        Backend::Postgres => {
            let mut admin = sqlx::postgres::PgConnection::connect(&postgres_admin_url())
                .await
                .expect("admin");
            let _ = admin
                .execute(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .await;
        }
    }
}

/// An empty database for a migration test: its URL, and a directory that
/// holds the SQLite file (and whatever else the test puts there).
async fn empty_database(backend: Backend, name: &str) -> (String, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(name);
    std::fs::create_dir_all(&dir).expect("dir");
    let url = match backend {
        Backend::Sqlite => format!("sqlite://{}?mode=rwc", dir.join("old.db").display()),
        Backend::Postgres => {
            let mut admin = sqlx::postgres::PgConnection::connect(&postgres_admin_url())
                .await
                .expect("admin");
            admin
                .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .await
                .expect("create database");
            postgres_url_for(name)
        }
    };
    (url, dir)
}

async fn a_database_with_the_notifications_but_not_the_revision_gets_the_chain_when_it_migrates(
    backend: Backend,
) {
    sqlx::any::install_default_drivers();
    let name = format!("kontor_test_mig_{}", unique());
    let (url, dir) = empty_database(backend, &name).await;
    // The release before the Revision: every migration but 0009, applied
    // by sqlx as that release did (same files, same checksums).
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(match backend {
        Backend::Sqlite => "migrations/sqlite",
        Backend::Postgres => "migrations/postgres",
    });
    let older = dir.join("older-migrations");
    std::fs::create_dir_all(&older).expect("dir");
    for entry in std::fs::read_dir(&source).expect("migrations") {
        let path = entry.expect("entry").path();
        let file = path.file_name().expect("name").to_owned();
        if !file.to_string_lossy().starts_with("0009_") {
            std::fs::copy(&path, older.join(file)).expect("copy");
        }
    }
    let pool = sqlx::AnyPool::connect(&url).await.expect("connect");
    sqlx::migrate::Migrator::new(older.as_path())
        .await
        .expect("older migrations")
        .run(&pool)
        .await
        .expect("the older release's migrations");
    pool.execute(
        "INSERT INTO audit_log (at, actor, via, customer_id, action, object_type, object_id, after_json) VALUES \
         (100, 'Anna (a)', 'sitzung', NULL, 'webhook.created', 'webhook', 1, '{\"url\":\"https://x.example\"}'), \
         (200, 'Anna (a)', 'sitzung', NULL, 'webhook.deleted', 'webhook', 1, NULL)",
    )
    .await
    .expect("older entries");
    pool.close().await;

    // This release: 0009 after 0010, then the entries chained.
    let db = Db::connect(&url, 2).await.expect("connect");
    db.migrate().await.expect("0009 after 0010");
    assert!(db.schema_current().await.expect("schema"));
    let (applied,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM _sqlx_migrations WHERE version IN (9, 10)")
            .fetch_one(&db.pool)
            .await
            .expect("applied");
    assert_eq!(applied, 2);
    assert_eq!(chain::seal_backlog(&db).await.expect("sealed"), 2);
    let verdict = chain::walk(&db).await.expect("walk");
    assert!(verdict.intact() && verdict.entries == 2, "{verdict:?}");
    // The notifications' tables are still there, and the log still refuses
    // to be changed.
    let (webhooks,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM webhooks")
        .fetch_one(&db.pool)
        .await
        .expect("webhooks");
    assert_eq!(webhooks, 0);
    assert!(
        sqlx::query("UPDATE audit_log SET actor = 'X'")
            .execute(&db.pool)
            .await
            .is_err()
    );
    db.pool.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    if backend == Backend::Postgres {
        let mut admin = sqlx::postgres::PgConnection::connect(&postgres_admin_url())
            .await
            .expect("admin");
        let _ = admin
            .execute(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .await;
    }
}
