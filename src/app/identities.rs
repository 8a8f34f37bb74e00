//! Users from the OpenID provider, created or brought up to date just in
//! time: at every browser login and whenever an access token says something
//! different from what the database holds. The provider is the source of
//! truth for names and roles; Kontor keeps a copy because bookings, audit
//! entries and tokens refer to users by id.

use serde_json::json;

use super::{Change, Result};
use crate::{
    auth::{
        groups::{self, Access, GroupNames},
        oidc::Identity,
        tokens,
    },
    db::{self, Db, audit},
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
pub async fn resolve(db: &Db, identity: &Identity, names: &GroupNames) -> Result<Resolved> {
    let candidates: Vec<&str> = identity
        .groups
        .iter()
        .filter_map(|g| {
            let g = g.strip_prefix('/').unwrap_or(g);
            g.strip_prefix(names.prefix.as_str())?.split_once('/')
        })
        .map(|(slug, _)| slug)
        .collect();
    let known = db::users::customers_by_slug(&db.pool, &candidates).await?;
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
) -> Result<CurrentUser> {
    let existing = db::users::by_subject(&db.pool, issuer, &identity.subject, via).await?;
    if let Some(user) = &existing
        && !login
        && user.display_name == identity.display_name
        && user.customer_id == customer_id
        && user.roles == roles
    {
        return Ok(user.clone());
    }
    // The person changes their own record: the audit entry is theirs, so
    // the change starts as Kontor's and names them once they have an id.
    let mut change = Change::system(db, now).await?;
    let profile = db::users::Profile {
        display_name: &identity.display_name,
        email: identity.email.as_deref(),
        customer_id,
    };
    let id = match &existing {
        Some(user) => {
            db::users::update_profile(change.tx(), user.id, &profile, login.then_some(now)).await?;
            user.id
        }
        None => {
            let login_name = free_login(&mut change, identity).await?;
            db::users::insert_from_provider(
                change.tx(),
                &login_name,
                &profile,
                (issuer, &identity.subject),
                login.then_some(now),
                now,
            )
            .await?
        }
    };
    let before_roles: Vec<Role> = existing
        .as_ref()
        .map(|u| u.roles.clone())
        .unwrap_or_default();
    let before_customer = existing.as_ref().and_then(|u| u.customer_id);
    let changed = existing.is_none() || before_roles != roles || before_customer != customer_id;
    if changed {
        db::users::set_roles(change.tx(), id, roles).await?;
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
        change
            .audit_by(
                &user,
                audit::Entry {
                    customer_id: customer_id.or(before_customer),
                    action: if existing.is_none() {
                        "user.created"
                    } else {
                        "user.roles_changed"
                    },
                    object_type: "user",
                    object_id: id,
                    before: existing.as_ref().map(
                        |u| json!({"customer_id": u.customer_id, "roles": role_names(&u.roles)}),
                    ),
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
    change.commit().await?;
    // The login name may have been made unique; read what was stored.
    Ok(db::users::by_id(&db.pool, id, via).await?.unwrap_or(user))
}

/// The provider's `preferred_username`, unless another user (a demo user,
/// or someone at another issuer) has it; then it is made unique with a
/// piece of the subject's hash.
async fn free_login(change: &mut Change<'_>, identity: &Identity) -> Result<String> {
    if !db::users::login_taken(change.conn(), &identity.login).await? {
        return Ok(identity.login.clone());
    }
    let hash = tokens::hash(&identity.subject);
    Ok(format!("{}~{}", identity.login, &hash[..8]))
}
