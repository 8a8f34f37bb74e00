//! Where a stage's environments are provisioned: a Kubernetes cluster, or
//! the manifest directory. Both take the same desired objects and answer the
//! same questions, so the reconciler, the resync and the metering collector
//! never ask which one they talk to.

use std::collections::HashMap;

use serde_json::Value;

use super::{
    cluster::Cluster,
    desired::{Kind, Manifest, ObjectKey},
    manifests::ManifestDir,
};
use crate::domain::Resources;

/// Why a call failed, by what to do about it; counted and shown by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// No connection (refused, reset, DNS, TLS).
    Unreachable,
    /// Connected, but no answer in time.
    Timeout,
    /// The API server failed (5xx) or asked us to slow down (429).
    Server,
    /// The API server refused the request (4xx): retrying the same thing
    /// will not help until someone fixes the cause.
    Rejected,
    /// Someone else holds the fields (409).
    Conflict,
    /// The manifest directory could not be written.
    Storage,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Unreachable => "unreachable",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Server => "server",
            ErrorKind::Rejected => "rejected",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Storage => "storage",
        }
    }

    /// Whether the target itself is down (as opposed to refusing one
    /// object).
    pub fn is_outage(self) -> bool {
        matches!(self, ErrorKind::Unreachable | ErrorKind::Timeout)
    }
}

/// A failed call, with a German message for the portal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ProvisionError {
    pub kind: ErrorKind,
    pub message: String,
}

/// What a target holds now: Kontor's objects by identity.
pub type Live = HashMap<ObjectKey, Value>;

pub enum Backend {
    Cluster(Cluster),
    Manifests(ManifestDir),
}

/// A named provisioning target.
pub struct Target {
    pub name: String,
    pub backend: Backend,
}

impl Target {
    pub fn is_cluster(&self) -> bool {
        matches!(self.backend, Backend::Cluster(_))
    }

    /// Brings one environment's objects about, in order.
    pub async fn apply(&self, objects: &[Manifest]) -> Result<(), ProvisionError> {
        match &self.backend {
            Backend::Cluster(c) => c.apply(objects).await,
            Backend::Manifests(d) => d.apply(objects).await,
        }
    }

    /// Removes one environment: its namespace and everything in it.
    pub async fn remove(&self, namespace: &str) -> Result<(), ProvisionError> {
        match &self.backend {
            Backend::Cluster(c) => c.remove(namespace).await,
            Backend::Manifests(d) => d.remove(namespace).await,
        }
    }

    /// Everything Kontor manages there now.
    pub async fn observe(&self) -> Result<Live, ProvisionError> {
        match &self.backend {
            Backend::Cluster(c) => c.observe().await,
            Backend::Manifests(d) => d.observe().await,
        }
    }

    /// Each environment's used resources, as its quota reports them, with
    /// the quota's namespace; a manifest directory measures nothing.
    pub async fn usage(&self) -> Result<Vec<(i64, String, Resources)>, ProvisionError> {
        match &self.backend {
            Backend::Cluster(c) => c.usage().await,
            Backend::Manifests(_) => Ok(Vec::new()),
        }
    }
}

/// The identity of a live object as a list answer gives it.
pub fn key_of(kind: Kind, object: &Value) -> Option<ObjectKey> {
    let meta = object.get("metadata")?;
    let name = meta.get("name")?.as_str()?.to_owned();
    let namespace = if kind.namespaced() {
        meta.get("namespace")?.as_str()?.to_owned()
    } else {
        String::new()
    };
    Some((kind, namespace, name))
}
