//! Users from the OpenID provider, created or brought up to date just in
//! time: at every browser login and whenever an access token says something
//! different from what the database holds. The provider is the source of
//! truth for names and roles; Kontor keeps a copy because bookings, audit
//! entries and tokens refer to users by id.

use serde_json::json;

use super::{Db, audit};
use crate::{
    auth::{
        groups::{self, Access, GroupNames},
        oidc::Identity,
    },
    domain::{
        Role,
        actor::{CurrentUser, Via},
    },
};

/// What an identity amounts to in this Kontor.
pub enum Resolved {
    Granted {
        customer_id: Option<i64>,
        roles: Vec<Role>,
    },
    /// No Kontor group, or only groups of unknown customers.
    NoAccess,
    /// Groups of several customers.
    SeveralCustomers(Vec<String>),
}

/// Maps the identity's groups, looking up the customers they name.
pub async fn resolve(db: &Db, identity: &Identity, names: &GroupNames) -> sqlx::Result<Resolved> {
    let candidates: Vec<&str> = identity
        .groups
        .iter()
        .filter_map(|g| {
            let g = g.strip_prefix('/').unwrap_or(g);
            g.strip_prefix(names.prefix.as_str())?.split_once('/')
        })
        .map(|(slug, _)| slug)
        .collect();
    let known: Vec<(i64, String)> = if candidates.is_empty() {
        Vec::new()
    } else {
        let placeholders: Vec<String> = (1..=candidates.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT id, slug FROM customers WHERE slug IN ({})",
            placeholders.join(", ")
        );
        let mut query = sqlx::query_as(super::sql(sql));
        for slug in &candidates {
            query = query.bind(*slug);
        }
        query.fetch_all(&db.pool).await?
    };
    let access = groups::map(&identity.groups, names, |slug| {
        known.iter().any(|(_, s)| s == slug)
    });
    Ok(match access {
        Access::Provider(roles) => Resolved::Granted {
            customer_id: None,
            roles,
        },
        Access::Customer { slug, roles } => Resolved::Granted {
            customer_id: known.iter().find(|(_, s)| *s == slug).map(|(id, _)| *id),
            roles,
        },
        Access::SeveralCustomers(slugs) => Resolved::SeveralCustomers(slugs),
        Access::None => Resolved::NoAccess,
    })
}

/// The user for `identity` with exactly these customer and roles, created or
/// updated as needed. `login` marks a browser login (its time is kept).
#[allow(clippy::too_many_arguments)]
pub async fn sync(
    db: &Db,
    issuer: &str,
    identity: &Identity,
    customer_id: Option<i64>,
    roles: &[Role],
    via: Via,
    login: bool,
    now: i64,
) -> sqlx::Result<CurrentUser> {
    let existing = super::users::by_subject(&db.pool, issuer, &identity.subject, via).await?;
    if let Some(user) = &existing
        && !login
        && user.display_name == identity.display_name
        && user.customer_id == customer_id
        && user.roles == roles
    {
        return Ok(user.clone());
    }
    let mut tx = db.begin_write().await?;
    let id = match &existing {
        Some(user) => {
            sqlx::query(
                "UPDATE users SET display_name = $1, email = $2, customer_id = $3, \
                 last_login_at = CASE WHEN $4 = 1 THEN $5 ELSE last_login_at END WHERE id = $6",
            )
            .bind(&identity.display_name)
            .bind(&identity.email)
            .bind(customer_id)
            .bind(i64::from(login))
            .bind(now)
            .bind(user.id)
            .execute(&mut *tx)
            .await?;
            user.id
        }
        None => {
            let login_name = free_login(&mut tx, identity).await?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO users (login, display_name, customer_id, demo, created_at, \
                 oidc_issuer, oidc_subject, email, last_login_at) \
                 VALUES ($1, $2, $3, 0, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(&login_name)
            .bind(&identity.display_name)
            .bind(customer_id)
            .bind(now)
            .bind(issuer)
            .bind(&identity.subject)
            .bind(&identity.email)
            .bind(login.then_some(now))
            .fetch_one(&mut *tx)
            .await?;
            id
        }
    };
    let before_roles: Vec<Role> = existing
        .as_ref()
        .map(|u| u.roles.clone())
        .unwrap_or_default();
    let before_customer = existing.as_ref().and_then(|u| u.customer_id);
    let changed = existing.is_none() || before_roles != roles || before_customer != customer_id;
    if changed {
        sqlx::query("DELETE FROM user_roles WHERE user_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        for role in roles {
            sqlx::query("INSERT INTO user_roles (user_id, role) VALUES ($1, $2)")
                .bind(id)
                .bind(role.as_str())
                .execute(&mut *tx)
                .await?;
        }
    }
    let user = CurrentUser {
        id,
        login: existing
            .as_ref()
            .map(|u| u.login.clone())
            .unwrap_or_else(|| identity.login.clone()),
        display_name: identity.display_name.clone(),
        customer_id,
        roles: roles.to_vec(),
        via,
        subject: Some(identity.subject.clone()),
    };
    if changed {
        let role_names = |r: &[Role]| r.iter().map(|r| r.as_str()).collect::<Vec<_>>();
        audit::record(
            &mut tx,
            &user,
            now,
            audit::Entry {
                customer_id: customer_id.or(before_customer),
                action: if existing.is_none() {
                    "user.created"
                } else {
                    "user.roles_changed"
                },
                object_type: "user",
                object_id: id,
                before: existing
                    .as_ref()
                    .map(|u| json!({"customer_id": u.customer_id, "roles": role_names(&u.roles)})),
                after: Some(json!({
                    "login": user.login,
                    "subject": identity.subject,
                    "customer_id": customer_id,
                    "roles": role_names(roles),
                    "groups": identity.groups,
                })),
            },
        )
        .await?;
    }
    tx.commit().await?;
    // The login name may have been made unique; read what was stored.
    Ok(super::users::by_id(&db.pool, id, via)
        .await?
        .unwrap_or(user))
}

/// The provider's `preferred_username`, unless another user (a demo user,
/// or someone at another issuer) has it; then it is made unique with a
/// piece of the subject's hash.
async fn free_login(tx: &mut super::Tx, identity: &Identity) -> sqlx::Result<String> {
    let taken: Option<(i64,)> = sqlx::query_as("SELECT id FROM users WHERE login = $1")
        .bind(&identity.login)
        .fetch_optional(&mut **tx)
        .await?;
    if taken.is_none() {
        return Ok(identity.login.clone());
    }
    let hash = crate::auth::tokens::hash(&identity.subject);
    Ok(format!("{}~{}", identity.login, &hash[..8]))
}
