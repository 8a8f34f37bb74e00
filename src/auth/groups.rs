//! From the groups the identity provider names to Kontor roles.
//!
//! The provider's groups are `kontor-betreiber` and `kontor-finanzen` (both
//! configurable) for the provider's own staff, and `<customer-slug>/<role>`
//! per customer, with the role one of `systempfleger`,
//! `verfahrensverantwortliche`, `entwickler`, `finanzen`. Keycloak's group
//! mapper writes full paths (`/nordkreis/systempfleger`), so a leading `/`
//! is ignored; an optional prefix (`kontor/`) is stripped first.

use crate::domain::Role;

/// The configured names of the provider-wide groups and the prefix.
#[derive(Debug, Clone)]
pub struct GroupNames {
    pub betreiber: String,
    pub finanzen: String,
    pub prefix: String,
}

impl GroupNames {
    /// The provider's group names as configured.
    pub fn from_settings(settings: &crate::config::Settings) -> GroupNames {
        GroupNames {
            betreiber: settings.oidc_betreiber_group.clone(),
            finanzen: settings.oidc_finanzen_group.clone(),
            prefix: settings.oidc_group_prefix.clone(),
        }
    }
}

/// What the groups grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// Staff of the provider: no customer.
    Provider(Vec<Role>),
    /// People of one customer, by slug.
    Customer { slug: String, roles: Vec<Role> },
    /// Customer groups of several customers: one account may speak for one
    /// customer only, so nobody can tell which one is meant.
    SeveralCustomers(Vec<String>),
    /// No group Kontor knows.
    None,
}

fn customer_role(name: &str) -> Option<Role> {
    match name {
        "systempfleger" => Some(Role::Systempfleger),
        // The group name and the role's own name both count.
        "verfahrensverantwortliche" | "verfahrensverantwortlicher" => {
            Some(Role::Verfahrensverantwortlicher)
        }
        "entwickler" => Some(Role::Entwickler),
        "finanzen" => Some(Role::Finanzen),
        _ => None,
    }
}

/// Maps the groups; `customer_known` tells whether a slug is a customer of
/// this Kontor (groups of unknown customers grant nothing).
pub fn map(groups: &[String], names: &GroupNames, customer_known: impl Fn(&str) -> bool) -> Access {
    let mut provider = Vec::new();
    let mut customers: Vec<(String, Role)> = Vec::new();
    for group in groups {
        let group = group.strip_prefix('/').unwrap_or(group);
        let Some(group) = group.strip_prefix(names.prefix.as_str()) else {
            continue;
        };
        if group == names.betreiber {
            provider.push(Role::Betreiber);
        } else if group == names.finanzen {
            provider.push(Role::Finanzen);
        } else if let Some((slug, role)) = group.split_once('/')
            && let Some(role) = customer_role(role)
            && customer_known(slug)
        {
            customers.push((slug.to_owned(), role));
        }
    }
    // The provider's staff act for no customer; customer groups they may
    // also hold (e.g. from an earlier job) must not narrow their view.
    if !provider.is_empty() {
        provider.sort();
        provider.dedup();
        return Access::Provider(provider);
    }
    let mut slugs: Vec<String> = customers.iter().map(|(s, _)| s.clone()).collect();
    slugs.sort();
    slugs.dedup();
    match slugs.len() {
        0 => Access::None,
        1 => {
            let mut roles: Vec<Role> = customers.into_iter().map(|(_, r)| r).collect();
            roles.sort();
            roles.dedup();
            Access::Customer {
                slug: slugs.remove(0),
                roles,
            }
        }
        _ => Access::SeveralCustomers(slugs),
    }
}

/// The groups in a claim's JSON value: an array of strings, or one string.
pub fn from_claim(value: Option<&serde_json::Value>) -> Vec<String> {
    match value {
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        Some(serde_json::Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(prefix: &str) -> GroupNames {
        GroupNames {
            betreiber: "kontor-betreiber".into(),
            finanzen: "kontor-finanzen".into(),
            prefix: prefix.into(),
        }
    }

    fn groups(g: &[&str]) -> Vec<String> {
        g.iter().map(|s| s.to_string()).collect()
    }

    fn known(slug: &str) -> bool {
        matches!(slug, "nordkreis" | "suedstadt")
    }

    #[test]
    fn customer_groups_give_the_customer_and_its_roles() {
        let access = map(
            &groups(&[
                "/nordkreis/systempfleger",
                "nordkreis/verfahrensverantwortliche",
                "other",
            ]),
            &names(""),
            known,
        );
        assert_eq!(
            access,
            Access::Customer {
                slug: "nordkreis".into(),
                roles: vec![Role::Systempfleger, Role::Verfahrensverantwortlicher],
            }
        );
    }

    #[test]
    fn provider_groups_win_over_customer_groups() {
        let access = map(
            &groups(&[
                "nordkreis/entwickler",
                "kontor-finanzen",
                "kontor-betreiber",
            ]),
            &names(""),
            known,
        );
        assert_eq!(
            access,
            Access::Provider(vec![Role::Betreiber, Role::Finanzen])
        );
    }

    #[test]
    fn two_customers_are_refused_not_guessed() {
        let access = map(
            &groups(&["nordkreis/entwickler", "suedstadt/entwickler"]),
            &names(""),
            known,
        );
        assert_eq!(
            access,
            Access::SeveralCustomers(vec!["nordkreis".into(), "suedstadt".into()])
        );
    }

    #[test]
    fn unknown_customers_roles_and_deeper_paths_grant_nothing() {
        let access = map(
            &groups(&[
                "unbekannt/systempfleger",
                "nordkreis/admin",
                "x/nordkreis/systempfleger",
                "nordkreis",
            ]),
            &names(""),
            known,
        );
        assert_eq!(access, Access::None);
    }

    #[test]
    fn a_prefix_is_required_when_configured() {
        let n = names("kontor/");
        assert_eq!(
            map(&groups(&["/kontor/nordkreis/entwickler"]), &n, known),
            Access::Customer {
                slug: "nordkreis".into(),
                roles: vec![Role::Entwickler]
            }
        );
        assert_eq!(
            map(&groups(&["nordkreis/entwickler"]), &n, known),
            Access::None
        );
        assert_eq!(
            map(&groups(&["kontor/kontor-betreiber"]), &n, known),
            Access::Provider(vec![Role::Betreiber])
        );
    }

    #[test]
    fn the_claim_may_be_a_list_or_one_string() {
        let list = serde_json::json!(["a", 1, "b"]);
        assert_eq!(from_claim(Some(&list)), groups(&["a", "b"]));
        assert_eq!(from_claim(Some(&serde_json::json!("a"))), groups(&["a"]));
        assert!(from_claim(None).is_empty());
    }
}
