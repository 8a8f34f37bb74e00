//! The Kubernetes backend: server-side apply with field manager `kontor`,
//! lists by label for resync and metering, namespace deletion for removal.

use std::{path::Path, time::Duration};

use anyhow::Context as _;
use kube::{
    Api, Client,
    api::{DeleteParams, DynamicObject, ListParams, Patch, PatchParams},
    config::{KubeConfigOptions, Kubeconfig},
    core::ApiResource,
};

use super::{
    desired::{ENVIRONMENT_LABEL, Kind, Manifest, selector},
    target::{ErrorKind, Live, ProvisionError, key_of},
};
use crate::{
    config::ClusterSettings,
    domain::{Resources, quantity::Quantity},
};

/// Kontor's field manager: the fields it applies are its own, and a resync
/// takes back what someone changed by hand (`force`).
pub const FIELD_MANAGER: &str = "kontor";

pub struct Cluster {
    name: String,
    client: Client,
}

impl Cluster {
    /// Reads the kubeconfig (or the pod's service account) and builds a
    /// client; nothing is called yet, so a cluster that is down does not
    /// stop Kontor from starting.
    pub async fn connect(
        name: &str,
        settings: &ClusterSettings,
        timeout: Duration,
    ) -> anyhow::Result<Cluster> {
        let mut config = if settings.in_cluster {
            kube::Config::incluster()
                .with_context(|| format!("cluster {name:?}: not running inside a cluster"))?
        } else {
            let path = settings.kubeconfig.as_deref().unwrap_or(Path::new(""));
            let kubeconfig = Kubeconfig::read_from(path).with_context(|| {
                format!(
                    "cluster {name:?}: cannot read kubeconfig {}",
                    path.display()
                )
            })?;
            let options = KubeConfigOptions {
                context: settings.context.clone(),
                ..KubeConfigOptions::default()
            };
            kube::Config::from_custom_kubeconfig(kubeconfig, &options)
                .await
                .with_context(|| {
                    format!("cluster {name:?}: unusable kubeconfig {}", path.display())
                })?
        };
        config.connect_timeout = Some(timeout);
        config.read_timeout = Some(timeout);
        config.write_timeout = Some(timeout);
        let client = Client::try_from(config)
            .with_context(|| format!("cluster {name:?}: cannot build a client"))?;
        Ok(Cluster {
            name: name.to_owned(),
            client,
        })
    }

    fn api(&self, kind: Kind, namespace: Option<&str>) -> Api<DynamicObject> {
        let resource = ApiResource {
            group: kind.group().into(),
            version: "v1".into(),
            api_version: kind.api_version().into(),
            kind: kind.as_str().into(),
            plural: kind.plural().into(),
        };
        match namespace {
            Some(ns) if kind.namespaced() => {
                Api::namespaced_with(self.client.clone(), ns, &resource)
            }
            _ => Api::all_with(self.client.clone(), &resource),
        }
    }

    /// One call after the other: the namespace must exist before anything
    /// can go into it, and an environment is never worked on by two calls at
    /// once.
    pub async fn apply(&self, objects: &[Manifest]) -> Result<(), ProvisionError> {
        let params = PatchParams::apply(FIELD_MANAGER).force();
        for object in objects {
            let applied = self
                .api(object.kind, Some(&object.namespace))
                .patch(&object.name, &params, &Patch::Apply(&object.body))
                .await
                .map_err(|e| self.error(e))?;
            // A namespace that is being deleted still accepts updates of
            // what is in it, and then takes it all with it. Until it is
            // gone, the environment is not there, whatever the calls say.
            if object.kind == Kind::Namespace && applied.metadata.deletion_timestamp.is_some() {
                return Err(ProvisionError {
                    kind: ErrorKind::Server,
                    message: format!(
                        "Namespace „{}“ im Cluster „{}“ wird noch gelöscht; Kontor legt ihn danach neu an",
                        object.name, self.name
                    ),
                });
            }
        }
        Ok(())
    }

    /// The live Deployment of an environment, if there is one.
    pub async fn deployment(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<serde_json::Value>, ProvisionError> {
        let live = self
            .api(Kind::Deployment, Some(namespace))
            .get_opt(name)
            .await
            .map_err(|e| self.error(e))?;
        Ok(live.map(|d| serde_json::to_value(d).unwrap_or_default()))
    }

    pub async fn remove(&self, namespace: &str) -> Result<(), ProvisionError> {
        match self
            .api(Kind::Namespace, None)
            .delete(namespace, &DeleteParams::background())
            .await
        {
            Ok(_) => Ok(()),
            // Gone already, or being deleted (the API server answers 409 to
            // a second delete of a terminating namespace): what we wanted.
            Err(kube::Error::Api(status)) if status.code == 404 || status.code == 409 => Ok(()),
            Err(e) => Err(self.error(e)),
        }
    }

    /// One list call per kind for the whole cluster, however many
    /// environments there are.
    pub async fn observe(&self) -> Result<Live, ProvisionError> {
        let params = ListParams::default().labels(&selector());
        let mut live = Live::new();
        for kind in Kind::ALL {
            let list = self
                .api(kind, None)
                .list(&params)
                .await
                .map_err(|e| self.error(e))?;
            for item in list.items {
                let value = serde_json::to_value(&item).unwrap_or_default();
                if let Some(key) = key_of(kind, &value) {
                    live.insert(key, value);
                }
            }
        }
        Ok(live)
    }

    /// Each quota's environment id, namespace and `status.used`.
    pub async fn usage(&self) -> Result<Vec<(i64, String, Resources)>, ProvisionError> {
        let params = ListParams::default().labels(&selector());
        let list = self
            .api(Kind::ResourceQuota, None)
            .list(&params)
            .await
            .map_err(|e| self.error(e))?;
        Ok(list
            .items
            .iter()
            .filter_map(|quota| {
                let env = quota.metadata.labels.as_ref()?.get(ENVIRONMENT_LABEL)?;
                let namespace = quota.metadata.namespace.clone()?;
                let used = quota.data.get("status")?.get("used")?;
                Some((env.parse().ok()?, namespace, used_resources(used)))
            })
            .collect())
    }

    fn error(&self, e: kube::Error) -> ProvisionError {
        classify(&self.name, e)
    }
}

/// A quota's `status.used` as a resource vector; a missing or unreadable
/// entry counts as nothing used.
pub fn used_resources(used: &serde_json::Value) -> Resources {
    let read = |key: &str| {
        used.get(key)
            .and_then(|v| v.as_str())
            .and_then(|s| Quantity::parse(s).ok())
    };
    Resources {
        millicpu: read("requests.cpu").map_or(0, Quantity::millicpu),
        memory_mib: read("requests.memory").map_or(0, Quantity::mebibytes),
        storage_gib: read("requests.storage").map_or(0, Quantity::gibibytes),
        pods: read("pods").map_or(0, Quantity::count),
    }
}

/// Sorts an error by what it means for the reconciler and words it for the
/// portal.
fn classify(cluster: &str, e: kube::Error) -> ProvisionError {
    let (kind, message) = match &e {
        kube::Error::Api(status) => {
            let kind = match status.code {
                409 => ErrorKind::Conflict,
                429 | 500..=599 => ErrorKind::Server,
                _ => ErrorKind::Rejected,
            };
            let verb = if kind == ErrorKind::Server {
                "meldet einen Fehler"
            } else {
                "lehnt ab"
            };
            (
                kind,
                format!(
                    "Cluster „{cluster}“ {verb}: {} (HTTP {})",
                    status.message, status.code
                ),
            )
        }
        other => {
            let chain = error_chain(other);
            if chain.contains("timed out")
                || chain.contains("deadline")
                || chain.contains("elapsed")
            {
                (
                    ErrorKind::Timeout,
                    format!("Cluster „{cluster}“ antwortet nicht (Zeitüberschreitung)"),
                )
            } else {
                (
                    ErrorKind::Unreachable,
                    format!("Cluster „{cluster}“ nicht erreichbar ({chain})"),
                )
            }
        }
    };
    ProvisionError { kind, message }
}

/// The error and its causes in one line; kube wraps the interesting part
/// (connection refused, timed out) a few levels down.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn used_quota_is_read_into_kontor_units() {
        let used = json!({"requests.cpu": "1500m", "requests.memory": "1Gi",
            "requests.storage": "10Gi", "pods": "4", "limits.cpu": "3"});
        assert_eq!(
            used_resources(&used),
            Resources {
                millicpu: 1500,
                memory_mib: 1024,
                storage_gib: 10,
                pods: 4
            }
        );
        assert_eq!(used_resources(&json!({"pods": "x"})), Resources::default());
    }
}
