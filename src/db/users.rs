//! Users: who they are, their roles, and the lookups by id, login, the
//! OpenID provider's subject and a token's hash.

use sqlx::AnyPool;

use super::Tx;
use crate::domain::{
    Role,
    actor::{CurrentUser, Via},
};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub login: String,
    pub display_name: String,
    pub customer_id: Option<i64>,
}

/// A user with one role per row (no row's role for a user without roles).
#[derive(sqlx::FromRow)]
struct UserRoleRow {
    id: i64,
    login: String,
    display_name: String,
    customer_id: Option<i64>,
    subject: Option<String>,
    role: Option<String>,
}

/// A user's row with the API token that named them.
#[derive(sqlx::FromRow)]
struct TokenUserRow {
    #[sqlx(flatten)]
    user: UserRoleRow,
    token_id: i64,
    last_used_at: Option<i64>,
}

/// Folds the rows of one user into a `CurrentUser`: user and roles come in
/// one round trip, which every request pays for.
fn fold(rows: Vec<UserRoleRow>, via: Via) -> Option<CurrentUser> {
    let mut rows = rows.into_iter();
    let first = rows.next()?;
    let mut roles: Vec<Role> = first
        .role
        .as_deref()
        .and_then(|r| r.parse().ok())
        .into_iter()
        .collect();
    roles.extend(rows.filter_map(|r| r.role.and_then(|r| r.parse::<Role>().ok())));
    roles.sort();
    roles.dedup();
    Some(CurrentUser {
        id: first.id,
        login: first.login,
        display_name: first.display_name,
        customer_id: first.customer_id,
        roles,
        via,
        subject: first.subject,
    })
}

/// Selects a user with one role per row; `FROM users u` and the join on
/// roles come after it.
const USER_COLUMNS: &str =
    "SELECT u.id, u.login, u.display_name, u.customer_id, u.oidc_subject AS subject, r.role";

pub async fn by_id(pool: &AnyPool, id: i64, via: Via) -> sqlx::Result<Option<CurrentUser>> {
    let rows: Vec<UserRoleRow> = sqlx::query_as(super::sql(format!(
        "{USER_COLUMNS} FROM users u LEFT JOIN user_roles r ON r.user_id = u.id WHERE u.id = $1"
    )))
    .bind(id)
    .fetch_all(pool)
    .await?;
    Ok(fold(rows, via))
}

/// A user who came through the OpenID provider, by issuer and subject.
pub async fn by_subject(
    pool: &AnyPool,
    issuer: &str,
    subject: &str,
    via: Via,
) -> sqlx::Result<Option<CurrentUser>> {
    let rows: Vec<UserRoleRow> = sqlx::query_as(super::sql(format!(
        "{USER_COLUMNS} FROM users u LEFT JOIN user_roles r ON r.user_id = u.id \
         WHERE u.oidc_issuer = $1 AND u.oidc_subject = $2"
    )))
    .bind(issuer)
    .bind(subject)
    .fetch_all(pool)
    .await?;
    Ok(fold(rows, via))
}

pub async fn by_login(pool: &AnyPool, login: &str) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as("SELECT id, login, display_name, customer_id FROM users WHERE login = $1")
        .bind(login)
        .fetch_optional(pool)
        .await
}

/// The user behind a valid (known, unexpired, unrevoked) API token. Notes
/// the token's use, at most once a minute, so that a busy token costs no
/// write per request.
pub async fn by_token_hash(
    pool: &AnyPool,
    hash: &str,
    now: i64,
) -> sqlx::Result<Option<CurrentUser>> {
    // The token's id and last use ride along on every row of the user, so
    // an API call costs one round trip (and a write once a minute).
    let rows: Vec<TokenUserRow> = sqlx::query_as(super::sql(format!(
        "{USER_COLUMNS}, t.id AS token_id, t.last_used_at FROM api_tokens t \
         JOIN users u ON u.id = t.user_id LEFT JOIN user_roles r ON r.user_id = u.id \
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL \
           AND (t.expires_at IS NULL OR t.expires_at > $2)"
    )))
    .bind(hash)
    .bind(now)
    .fetch_all(pool)
    .await?;
    let Some(&TokenUserRow {
        token_id,
        last_used_at,
        ..
    }) = rows.first()
    else {
        return Ok(None);
    };
    if last_used_at.is_none_or(|at| now - at >= 60) {
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(now)
            .bind(token_id)
            .execute(pool)
            .await?;
    }
    Ok(fold(rows.into_iter().map(|r| r.user).collect(), Via::Token))
}

/// Users offered on the demo login page.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DemoUser {
    pub id: i64,
    pub login: String,
    pub display_name: String,
    pub customer_name: Option<String>,
    pub roles: Vec<Role>,
}

/// A demo user with one of its roles per row.
#[derive(sqlx::FromRow)]
struct DemoRoleRow {
    id: i64,
    login: String,
    display_name: String,
    customer_name: Option<String>,
    role: Option<Role>,
}

pub async fn demo_users(pool: &AnyPool) -> sqlx::Result<Vec<DemoUser>> {
    let rows: Vec<DemoRoleRow> = sqlx::query_as(
        "SELECT u.id, u.login, u.display_name, c.name AS customer_name, r.role FROM users u \
         LEFT JOIN customers c ON c.id = u.customer_id \
         LEFT JOIN user_roles r ON r.user_id = u.id \
         WHERE u.demo = 1 ORDER BY u.id, r.role",
    )
    .fetch_all(pool)
    .await?;
    let mut users: Vec<DemoUser> = Vec::new();
    for DemoRoleRow {
        id,
        login,
        display_name,
        customer_name,
        role,
    } in rows
    {
        match users.last_mut() {
            Some(last) if last.id == id => last.roles.extend(role),
            _ => users.push(DemoUser {
                id,
                login,
                display_name,
                customer_name,
                roles: role.into_iter().collect(),
            }),
        }
    }
    Ok(users)
}

pub async fn is_demo(pool: &AnyPool, id: i64) -> sqlx::Result<bool> {
    let row: Option<(i64,)> = sqlx::query_as("SELECT demo FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    Ok(matches!(row, Some((1,))))
}

/// Creates a user with roles; used by the seed and by tests.
pub async fn create(
    tx: &mut super::Tx,
    login: &str,
    display_name: &str,
    customer_id: Option<i64>,
    roles: &[Role],
    demo: bool,
    now: i64,
) -> sqlx::Result<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO users (login, display_name, customer_id, demo, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(login)
    .bind(display_name)
    .bind(customer_id)
    .bind(i64::from(demo))
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    for role in roles {
        sqlx::query("INSERT INTO user_roles (user_id, role) VALUES ($1, $2)")
            .bind(id)
            .bind(role.as_str())
            .execute(&mut **tx)
            .await?;
    }
    Ok(id)
}

/// Sets the e-mail address of the user with `login` (demo data).
pub async fn set_email(tx: &mut super::Tx, login: &str, email: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE users SET email = $1 WHERE login = $2")
        .bind(email)
        .bind(login)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The customers of these slugs that exist: `(id, slug)`.
pub async fn customers_by_slug(pool: &AnyPool, slugs: &[&str]) -> sqlx::Result<Vec<(i64, String)>> {
    if slugs.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (1..=slugs.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT id, slug FROM customers WHERE slug IN ({})",
        placeholders.join(", ")
    );
    let mut query = sqlx::query_as(super::sql(sql));
    for slug in slugs {
        query = query.bind(*slug);
    }
    query.fetch_all(pool).await
}

/// What the OpenID provider says about a person.
pub struct Profile<'a> {
    pub display_name: &'a str,
    pub email: Option<&'a str>,
    pub customer_id: Option<i64>,
}

/// Brings a user up to date with the provider; `login_at` records a browser
/// login.
pub async fn update_profile(
    tx: &mut Tx,
    id: i64,
    p: &Profile<'_>,
    login_at: Option<i64>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE users SET display_name = $1, email = $2, customer_id = $3, \
         last_login_at = COALESCE($4, last_login_at) WHERE id = $5",
    )
    .bind(p.display_name)
    .bind(p.email)
    .bind(p.customer_id)
    .bind(login_at)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A user who came from the OpenID provider `(issuer, subject)`.
pub async fn insert_from_provider(
    tx: &mut Tx,
    login: &str,
    p: &Profile<'_>,
    (issuer, subject): (&str, &str),
    login_at: Option<i64>,
    now: i64,
) -> sqlx::Result<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO users (login, display_name, customer_id, demo, created_at, \
         oidc_issuer, oidc_subject, email, last_login_at) \
         VALUES ($1, $2, $3, 0, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(login)
    .bind(p.display_name)
    .bind(p.customer_id)
    .bind(now)
    .bind(issuer)
    .bind(subject)
    .bind(p.email)
    .bind(login_at)
    .fetch_one(&mut **tx)
    .await?;
    Ok(id)
}

/// Replaces a user's roles.
pub async fn set_roles(tx: &mut Tx, id: i64, roles: &[Role]) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM user_roles WHERE user_id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    for role in roles {
        sqlx::query("INSERT INTO user_roles (user_id, role) VALUES ($1, $2)")
            .bind(id)
            .bind(role)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

pub async fn login_taken(conn: &mut sqlx::AnyConnection, login: &str) -> sqlx::Result<bool> {
    let taken: Option<(i64,)> = sqlx::query_as("SELECT id FROM users WHERE login = $1")
        .bind(login)
        .fetch_optional(conn)
        .await?;
    Ok(taken.is_some())
}
