//! Writing many rows at once: multi-row `INSERT`s with numbered parameters,
//! the same SQL on SQLite and PostgreSQL.

use std::fmt::Write as _;

use anyhow::Context as _;

use crate::db::{self, Tx};

/// At most this many bound values per statement: below SQLite's 32 766 and
/// PostgreSQL's 65 535.
const MAX_PARAMS: usize = 30_000;
/// At most this many rows per statement.
const MAX_ROWS: usize = 1_000;

/// One bound value of a generated row.
#[derive(Clone)]
pub(super) enum V {
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
pub(super) async fn insert(
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
