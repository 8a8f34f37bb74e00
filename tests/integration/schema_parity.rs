//! The two migration trees (`migrations/sqlite`, `migrations/postgres`) must
//! describe the same schema, since the same queries run on both. This
//! migrates a fresh database of each kind and compares them table by table:
//! columns with their type family and nullability, unique rules, foreign
//! keys and the number of check constraints.

use std::collections::{BTreeMap, BTreeSet};

use kontor::db::Db;

use crate::support::{Backend, TestApp};

/// One table as both databases can describe it.
#[derive(Debug, Default, PartialEq, Eq)]
struct Table {
    /// column → (type family, nullable)
    columns: BTreeMap<String, (&'static str, bool)>,
    /// Column sets that must be unique (primary key included), with the
    /// condition of a partial index, if any.
    unique: BTreeSet<(Vec<String>, bool)>,
    /// (column, referenced table)
    foreign_keys: BTreeSet<(String, String)>,
    checks: usize,
}

fn family(declared: &str) -> &'static str {
    let t = declared.to_ascii_lowercase();
    if t.contains("int") {
        "integer"
    } else if t.contains("char") || t.contains("text") {
        "text"
    } else if t.contains("bool") {
        "boolean"
    } else {
        "other"
    }
}

async fn sqlite_schema(db: &Db) -> BTreeMap<String, Table> {
    let pool = &db.pool;
    let tables: Vec<(String, String)> = sqlx::query_as(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '\\_sqlx%' ESCAPE '\\'",
    )
    .fetch_all(pool)
    .await
    .expect("tables");
    let mut out = BTreeMap::new();
    for (name, sql) in tables {
        let mut t = Table::default();
        let columns: Vec<(i64, String, String, i64, Option<String>, i64)> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("PRAGMA table_info({name})")))
                .fetch_all(pool)
                .await
                .expect("columns");
        let mut pk = Vec::new();
        for (_, column, declared, notnull, _, in_pk) in columns {
            if in_pk > 0 {
                pk.push((in_pk, column.clone()));
            }
            t.columns
                .insert(column, (family(&declared), notnull == 0 && in_pk == 0));
        }
        pk.sort();
        if !pk.is_empty() {
            t.unique
                .insert((pk.into_iter().map(|(_, c)| c).collect(), false));
        }
        let indexes: Vec<(i64, String, i64, String, i64)> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("PRAGMA index_list({name})")))
                .fetch_all(pool)
                .await
                .expect("indexes");
        for (_, index, unique, origin, partial) in indexes {
            if unique == 0 || origin == "pk" {
                continue;
            }
            let cols: Vec<(i64, i64, String)> =
                sqlx::query_as(sqlx::AssertSqlSafe(format!("PRAGMA index_info({index})")))
                    .fetch_all(pool)
                    .await
                    .expect("index columns");
            t.unique
                .insert((cols.into_iter().map(|(_, _, c)| c).collect(), partial == 1));
        }
        let fks: Vec<(i64, i64, String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT id, seq, \"table\", \"from\" FROM pragma_foreign_key_list('{name}')"
        )))
        .fetch_all(pool)
        .await
        .expect("foreign keys");
        t.foreign_keys = fks.into_iter().map(|(_, _, to, from)| (from, to)).collect();
        t.checks = sql.matches("CHECK (").count() + sql.matches("CHECK(").count();
        out.insert(name, t);
    }
    out
}

async fn postgres_schema(db: &Db) -> BTreeMap<String, Table> {
    let pool = &db.pool;
    let columns: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text \
         FROM information_schema.columns WHERE table_schema = 'public' \
         AND table_name NOT LIKE '\\_sqlx%'",
    )
    .fetch_all(pool)
    .await
    .expect("columns");
    let mut out: BTreeMap<String, Table> = BTreeMap::new();
    for (table, column, data_type, nullable) in columns {
        out.entry(table)
            .or_default()
            .columns
            .insert(column, (family(&data_type), nullable == "YES"));
    }
    // Unique indexes (primary keys and unique constraints have one each),
    // their columns in index order, and whether they are partial.
    let grouped: Vec<(String, String, Vec<String>, bool)> =
        sqlx::query_as::<_, (String, String, String, bool)>(
            "SELECT t.relname::text, i.relname::text, \
           string_agg(a.attname::text, ',' ORDER BY k.ord), (ix.indpred IS NOT NULL) \
         FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid \
         JOIN pg_class t ON t.oid = ix.indrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         JOIN LATERAL unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord) ON true \
         JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum \
         WHERE n.nspname = 'public' AND ix.indisunique AND t.relname NOT LIKE '\\_sqlx%' \
         GROUP BY t.relname, i.relname, ix.indpred",
        )
        .fetch_all(pool)
        .await
        .expect("unique indexes")
        .into_iter()
        .map(|(t, i, cols, partial)| (t, i, cols.split(',').map(str::to_owned).collect(), partial))
        .collect();
    for (table, _, cols, partial) in grouped {
        out.entry(table).or_default().unique.insert((cols, partial));
    }
    let fks: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT c.conrelid::regclass::text, a.attname::text, c.confrelid::regclass::text \
         FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace \
         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] \
         WHERE n.nspname = 'public' AND c.contype = 'f'",
    )
    .fetch_all(pool)
    .await
    .expect("foreign keys");
    for (table, column, to) in fks {
        out.entry(table)
            .or_default()
            .foreign_keys
            .insert((column, to));
    }
    let checks: Vec<(String, i64)> = sqlx::query_as(
        "SELECT c.conrelid::regclass::text, CAST(COUNT(*) AS BIGINT) FROM pg_constraint c \
         JOIN pg_namespace n ON n.oid = c.connamespace \
         WHERE n.nspname = 'public' AND c.contype = 'c' GROUP BY c.conrelid",
    )
    .fetch_all(pool)
    .await
    .expect("checks");
    for (table, n) in checks {
        out.entry(table).or_default().checks = n as usize;
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_and_postgresql_migrations_give_the_same_schema() {
    let sqlite = TestApp::spawn_with(Backend::Sqlite, false).await;
    let postgres = TestApp::spawn_with(Backend::Postgres, false).await;
    let a = sqlite_schema(sqlite.db()).await;
    let b = postgres_schema(postgres.db()).await;
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "the same tables"
    );
    for (name, table) in &a {
        assert_eq!(
            table, &b[name],
            "table {name}: SQLite (left) against PostgreSQL (right)"
        );
    }
}
