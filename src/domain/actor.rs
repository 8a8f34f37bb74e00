//! Who is acting: the identity that a browser session, an API token or an
//! access token of the OpenID provider yields, and which customers' data it
//! may see. All paths end in the same [`CurrentUser`], so every rule is
//! written once (`policy`).

use super::{Role, ids::id_enum};

id_enum! {
    /// How the user reached Kontor; recorded in the audit log.
    #[derive(serde::Serialize, utoipa::ToSchema)]
    pub enum Via ("unknown-via") {
        /// A browser session.
        #[serde(rename = "sitzung")]
        Session = "sitzung",
        /// A portal API token.
        #[serde(rename = "token")]
        Token = "token",
        /// An access token of the OpenID provider.
        #[serde(rename = "oidc-token")]
        AccessToken = "oidc-token",
        /// Kontor itself (the provisioning layer reporting back, jobs).
        #[serde(rename = "system")]
        System = "system",
    }
}

/// How Kontor itself appears in the audit log when no person acted (the
/// provisioning layer reporting back, scheduled jobs).
pub const SYSTEM_ACTOR: &str = "Kontor (Bereitstellung)";

#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub id: i64,
    pub login: String,
    pub display_name: String,
    /// The tenant the user belongs to; `None` for the provider's own staff.
    pub customer_id: Option<i64>,
    pub roles: Vec<Role>,
    pub via: Via,
    /// The OpenID provider's subject, for users who came through it.
    pub subject: Option<String>,
}

/// Which customers' data a user may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    All,
    Customer(i64),
    /// A user with no role that grants any view.
    Nothing,
}

impl CurrentUser {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Betreiber see everything; so does finance of the provider (a Finanzen
    /// user without a customer). Everyone else sees their own customer.
    pub fn scope(&self) -> Scope {
        match self.customer_id {
            _ if self.has(Role::Betreiber) => Scope::All,
            None if self.has(Role::Finanzen) => Scope::All,
            Some(id) if !self.roles.is_empty() => Scope::Customer(id),
            _ => Scope::Nothing,
        }
    }

    pub fn can_see(&self, customer_id: i64) -> bool {
        match self.scope() {
            Scope::All => true,
            Scope::Customer(id) => id == customer_id,
            Scope::Nothing => false,
        }
    }

    /// May book, resize and cancel quotas of `customer_id`.
    pub fn can_book_for(&self, customer_id: i64) -> bool {
        self.has(Role::Systempfleger) && self.customer_id == Some(customer_id)
    }

    pub fn is_betreiber(&self) -> bool {
        self.has(Role::Betreiber)
    }

    /// How the actor appears in the audit log.
    pub fn audit_label(&self) -> String {
        format!("{} ({})", self.display_name, self.login)
    }

    pub fn role_labels(&self) -> String {
        let labels: Vec<&str> = self.roles.iter().map(|r| r.label()).collect();
        labels.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(customer_id: Option<i64>, roles: &[Role]) -> CurrentUser {
        CurrentUser {
            id: 1,
            login: "x".into(),
            display_name: "X".into(),
            customer_id,
            roles: roles.to_vec(),
            via: Via::Session,
            subject: None,
        }
    }

    #[test]
    fn a_systempfleger_sees_only_their_customer() {
        let u = user(Some(7), &[Role::Systempfleger]);
        assert!(u.can_see(7));
        assert!(!u.can_see(8));
        assert!(u.can_book_for(7));
        assert!(!u.can_book_for(8));
    }

    #[test]
    fn provider_finance_sees_all_but_customer_finance_does_not() {
        assert_eq!(user(None, &[Role::Finanzen]).scope(), Scope::All);
        assert_eq!(user(Some(3), &[Role::Finanzen]).scope(), Scope::Customer(3));
    }

    #[test]
    fn a_developer_cannot_book() {
        assert!(!user(Some(7), &[Role::Entwickler]).can_book_for(7));
    }

    #[test]
    fn a_betreiber_sees_all_but_books_nothing() {
        let u = user(None, &[Role::Betreiber]);
        assert!(u.can_see(42));
        assert!(!u.can_book_for(42));
    }

    #[test]
    fn a_user_without_roles_sees_nothing() {
        assert_eq!(user(Some(1), &[]).scope(), Scope::Nothing);
    }
}
