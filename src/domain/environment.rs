//! An environment (Umgebung): one application in one stage, which the
//! provisioning layer turns into one Kubernetes namespace.

use serde::Serialize;

use super::{Resources, Stage, ids::id_enum};

id_enum! {
    /// Whether an environment should exist in its cluster.
    #[derive(Serialize, utoipa::ToSchema)]
    #[serde(rename_all = "lowercase")]
    pub enum Lifecycle ("unknown-lifecycle") {
        /// Never booked: nothing in the cluster.
        Leer = "leer",
        /// Booked at least once: the namespace exists, with a quota of what is
        /// booked now (zero once everything is cancelled).
        Aktiv = "aktiv",
        /// Dissolved by the Systempfleger:in ("Umgebung auflösen"): the
        /// namespace is deleted; the next booking brings it back.
        Aufgeloest = "aufgeloest",
    }
}

/// `<customer>-<application>-<stage>`: slugs are DNS label parts of at most
/// 24 characters, so the name is always a valid namespace name (≤ 63).
pub fn namespace_name(customer: &str, application: &str, stage: Stage) -> String {
    format!("{customer}-{application}-{}", stage.as_str())
}

/// One environment's desired state, as the database holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvironmentSpec {
    pub id: i64,
    pub customer: String,
    pub application: String,
    pub stage: Stage,
    pub contract: String,
    pub lifecycle: Lifecycle,
    /// The sum of the open bookings there.
    pub booked: Resources,
    /// The release to run there, if any.
    pub workload: Option<Workload>,
}

/// The application's workload in an environment: the release's pinned
/// image, and the deployment that put it there (a new one restarts the
/// rollout even for the same image, e.g. a retry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workload {
    pub image: String,
    pub deployment_id: i64,
}

impl EnvironmentSpec {
    pub fn namespace(&self) -> String {
        namespace_name(&self.customer, &self.application, self.stage)
    }
}

/// How far the cluster has caught up with a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum SyncState {
    /// The cluster has it.
    Bereit,
    /// The reconciler has not finished it yet.
    Laeuft,
    /// The last attempt failed; the reconciler keeps retrying.
    Fehler { message: String },
}

impl SyncState {
    /// The state of a change carried by `generation`, given how far the
    /// environment's reconciliation got.
    pub fn of(generation: i64, done_generation: i64, last_error: Option<&str>) -> SyncState {
        match last_error {
            _ if done_generation >= generation => SyncState::Bereit,
            Some(message) => SyncState::Fehler {
                message: message.to_owned(),
            },
            None => SyncState::Laeuft,
        }
    }

    /// The German text shown in the portal.
    pub fn label(&self) -> String {
        match self {
            SyncState::Bereit => "bereit".into(),
            SyncState::Laeuft => "Bereitstellung läuft".into(),
            SyncState::Fehler { message } => format!("Fehler: {message}"),
        }
    }

    /// KERN badge variant.
    pub fn badge(&self) -> &'static str {
        match self {
            SyncState::Bereit => "success",
            SyncState::Laeuft => "info",
            SyncState::Fehler { .. } => "danger",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::slug::MAX_SLUG_LEN;

    #[test]
    fn the_longest_namespace_name_is_still_a_dns_label() {
        let longest = "a".repeat(MAX_SLUG_LEN);
        let name = namespace_name(&longest, &longest, Stage::Vorpruefung);
        assert!(name.len() <= 63, "{} characters", name.len());
    }

    #[test]
    fn a_change_is_ready_once_its_generation_is_done() {
        assert_eq!(SyncState::of(3, 3, None), SyncState::Bereit);
        assert_eq!(SyncState::of(3, 4, Some("alt")), SyncState::Bereit);
        assert_eq!(SyncState::of(4, 3, None), SyncState::Laeuft);
        assert_eq!(
            SyncState::of(4, 3, Some("Cluster nicht erreichbar")).label(),
            "Fehler: Cluster nicht erreichbar"
        );
    }

    #[test]
    fn lifecycle_ids_read_back() {
        for l in [Lifecycle::Leer, Lifecycle::Aktiv, Lifecycle::Aufgeloest] {
            assert_eq!(l.as_str().parse::<Lifecycle>(), Ok(l));
        }
    }
}
