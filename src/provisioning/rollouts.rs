//! The rollout watcher: once the reconciler has applied a deployment's
//! Deployment object, it asks the cluster how the rollout went and records
//! success or failure with the cluster's own words.

use serde_json::Value;

use super::{Provisioner, desired::DEPLOYMENT_ANNOTATION, target::Backend};
use crate::{
    db::{Db, deployments},
    domain::environment::namespace_name,
};

/// How a rollout stands, read off a live Deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rollout {
    Pending,
    Available,
    Failed(String),
}

/// Reads the verdict off a Deployment as the API server reports it. Only
/// the rollout of `deployment_id` counts: until the live object carries
/// it, an older rollout's state says nothing about this one.
pub fn verdict(live: &Value, deployment_id: i64) -> Rollout {
    let ours = live
        .pointer(&format!(
            "/spec/template/metadata/annotations/{}",
            DEPLOYMENT_ANNOTATION.replace('/', "~1")
        ))
        .and_then(Value::as_str)
        == Some(deployment_id.to_string().as_str());
    if !ours {
        return Rollout::Pending;
    }
    let generation = live.pointer("/metadata/generation").and_then(Value::as_i64);
    let observed = live
        .pointer("/status/observedGeneration")
        .and_then(Value::as_i64);
    if generation.is_some() && observed < generation {
        return Rollout::Pending;
    }
    let conditions = live
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let condition = |kind: &str| conditions.iter().find(|c| c["type"] == kind);
    if let Some(c) = condition("Progressing")
        && c["status"] == "False"
    {
        let message = c["message"].as_str().unwrap_or("Rollout kommt nicht voran");
        return Rollout::Failed(format!(
            "{message} ({})",
            c["reason"].as_str().unwrap_or("Progressing=False")
        ));
    }
    let want = live
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let number = |p: &str| live.pointer(p).and_then(Value::as_i64).unwrap_or(0);
    let available = condition("Available").is_some_and(|c| c["status"] == "True");
    if available
        && number("/status/updatedReplicas") >= want
        && number("/status/availableReplicas") >= want
    {
        Rollout::Available
    } else {
        Rollout::Pending
    }
}

/// Looks at every applied, undecided deployment once.
pub async fn watch(
    db: &Db,
    provisioner: &Provisioner,
    now: i64,
    timeout_seconds: i64,
) -> crate::app::Result<usize> {
    let mut decided = 0;
    for d in deployments::applied_running(&db.pool).await? {
        let stage = d.stage;
        let target = provisioner.target_for(stage);
        let verdict = match &target.backend {
            // Whoever syncs the directory rolls it out; Kontor's part is done.
            Backend::Manifests(_) => Rollout::Available,
            Backend::Cluster(cluster) => {
                let namespace = namespace_name(&d.customer_slug, &d.application_slug, stage);
                match cluster.deployment(&namespace, &d.application_slug).await {
                    Ok(Some(live)) => verdict(&live, d.id),
                    Ok(None) => Rollout::Pending,
                    Err(e) => {
                        provisioner.report(db, target, Some(&e)).await;
                        Rollout::Pending
                    }
                }
            }
        };
        let (succeeded, message) = match verdict {
            Rollout::Available => (
                true,
                if target.is_cluster() {
                    "Rollout abgeschlossen: verfügbar.".to_owned()
                } else {
                    "Als Manifest geschrieben; die Synchronisation (Argo CD, Flux) bringt es in den Cluster."
                        .to_owned()
                },
            ),
            Rollout::Failed(message) => (false, message),
            Rollout::Pending if now - d.started_at > timeout_seconds => (
                false,
                format!("Zeitüberschreitung: nach {timeout_seconds} s nicht verfügbar."),
            ),
            Rollout::Pending => continue,
        };
        if crate::app::deployments::finish(db, &d, succeeded, &message, now).await? {
            decided += 1;
        }
    }
    Ok(decided)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn live(annotation: &str, status: Value) -> Value {
        json!({
            "metadata": {"generation": 2},
            "spec": {"replicas": 1, "template": {"metadata": {"annotations": {"kontor/deployment": annotation}}}},
            "status": status,
        })
    }

    #[test]
    fn an_available_rollout_of_this_deployment_succeeds() {
        let status = json!({"observedGeneration": 2, "updatedReplicas": 1, "availableReplicas": 1,
            "conditions": [{"type": "Available", "status": "True"}]});
        assert_eq!(verdict(&live("7", status.clone()), 7), Rollout::Available);
        assert_eq!(
            verdict(&live("6", status), 7),
            Rollout::Pending,
            "an older rollout"
        );
    }

    #[test]
    fn a_rollout_past_its_deadline_fails_with_the_clusters_message() {
        let status = json!({"observedGeneration": 2, "conditions": [
            {"type": "Available", "status": "False"},
            {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
             "message": "ReplicaSet \"kfz-1\" has timed out progressing."}]});
        assert_eq!(
            verdict(&live("7", status), 7),
            Rollout::Failed(
                "ReplicaSet \"kfz-1\" has timed out progressing. (ProgressDeadlineExceeded)".into()
            )
        );
    }

    #[test]
    fn a_rollout_not_yet_observed_is_pending() {
        let status = json!({"observedGeneration": 1,
            "conditions": [{"type": "Available", "status": "True"}]});
        assert_eq!(verdict(&live("7", status), 7), Rollout::Pending);
    }
}
