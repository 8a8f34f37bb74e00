//! Provisioning: the database holds the desired state; this layer drives
//! each stage's target (a Kubernetes cluster, or the manifest directory) to
//! it and measures what is used there.
//!
//! - [`desired`]: an environment as Kubernetes objects.
//! - [`target`], [`cluster`], [`manifests`]: the two backends.
//! - [`reconciler`]: works off the outbox, with claims, retries and backoff.
//! - [`resync`]: finds drift and enqueues it.
//! - [`rollouts`]: how a deployment's rollout went.
//! - [`collector`]: the metering samples.

pub mod cluster;
pub mod collector;
pub mod desired;
pub mod manifests;
pub mod reconciler;
pub mod resync;
pub mod rollouts;
pub mod target;

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use tokio::{sync::Mutex, task::JoinHandle};

use self::{
    cluster::Cluster,
    manifests::ManifestDir,
    reconciler::{Options, Reconciler},
    target::{Backend, ProvisionError, Target},
};
use crate::{
    config::{MANIFESTS, Settings},
    db::{self, Db, targets},
    domain::Stage,
};

/// A target's state is written again after this long even if it did not
/// change here: another replica may have written the opposite.
const REPORT_AGAIN_AFTER: Duration = Duration::from_secs(60);

/// Whether a target answered, and the message if not.
type Reachability = (bool, Option<String>);

/// The targets and which stage goes where.
pub struct Provisioner {
    targets: Vec<Arc<Target>>,
    by_stage: HashMap<Stage, Arc<Target>>,
    /// Last recorded reachability per target and when, so that the
    /// database is written when it changes (and now and then, since another
    /// replica may have recorded otherwise), not on every call.
    reported: Mutex<HashMap<String, (Reachability, Instant)>>,
}

impl Provisioner {
    /// Builds every configured target; a kubeconfig that cannot be read
    /// stops the start with a clear message, an unreachable cluster does
    /// not (it shows as unreachable and is retried).
    pub async fn from_settings(settings: &Settings) -> anyhow::Result<Provisioner> {
        let timeout = Duration::from_secs(settings.kube_timeout_seconds);
        let clusters = settings.all_clusters();
        let mut built: HashMap<String, Arc<Target>> = HashMap::new();
        for (stage, name) in settings.stage_targets() {
            if !built.contains_key(&name) {
                let backend = if name == MANIFESTS {
                    Backend::Manifests(ManifestDir::new(settings.manifest_dir()))
                } else {
                    let cluster = clusters.get(&name).ok_or_else(|| {
                        anyhow::anyhow!("stage {stage}: no cluster named {name:?} is configured")
                    })?;
                    Backend::Cluster(Cluster::connect(&name, cluster, timeout).await?)
                };
                built.insert(
                    name.clone(),
                    Arc::new(Target {
                        name: name.clone(),
                        backend,
                    }),
                );
            }
        }
        let by_stage = settings
            .stage_targets()
            .into_iter()
            .map(|(stage, name)| (stage, built[&name].clone()))
            .collect();
        let mut targets: Vec<Arc<Target>> = built.into_values().collect();
        targets.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Provisioner {
            targets,
            by_stage,
            reported: Mutex::new(HashMap::new()),
        })
    }

    pub fn targets(&self) -> &[Arc<Target>] {
        &self.targets
    }

    pub fn target_for(&self, stage: Stage) -> &Arc<Target> {
        &self.by_stage[&stage]
    }

    /// The stages provisioned by the target called `name`.
    pub fn stages_of(&self, name: &str) -> Vec<Stage> {
        Stage::ALL
            .into_iter()
            .filter(|s| self.by_stage[s].name == name)
            .collect()
    }

    /// Records whether a target answered; an object the target refused
    /// says nothing about its reachability.
    pub async fn report(&self, db: &Db, target: &Target, error: Option<&ProvisionError>) {
        let state = match error {
            None => (true, None),
            Some(e) if e.kind.is_outage() || e.kind == target::ErrorKind::Storage => {
                (false, Some(e.message.clone()))
            }
            Some(_) => return,
        };
        let mut reported = self.reported.lock().await;
        if reported
            .get(&target.name)
            .is_some_and(|(last, at)| *last == state && at.elapsed() < REPORT_AGAIN_AFTER)
        {
            return;
        }
        match targets::record(
            &db.pool,
            &target.name,
            state.0,
            state.1.as_deref(),
            db::now(),
        )
        .await
        {
            Ok(()) => {
                reported.insert(target.name.clone(), (state, Instant::now()));
            }
            Err(e) => {
                tracing::warn!(target = %target.name, error = %e, "recording target state failed")
            }
        }
    }
}

/// The provisioning tasks of a serving process.
pub struct Running {
    handles: Vec<JoinHandle<()>>,
    reconciler: Option<(Arc<Reconciler>, JoinHandle<()>)>,
}

/// How long a stopping process waits for the environments it is working on;
/// below Kubernetes' default grace period of 30 s. What is not done by then
/// is given back and another replica takes it over.
const DRAIN: Duration = Duration::from_secs(20);

impl Running {
    /// Stops the tasks: the reconciler finishes the environments it has
    /// claimed (within [`DRAIN`]), then whatever claims remain are given
    /// back, so another replica carries on at once.
    pub async fn stop(self) {
        for handle in &self.handles {
            handle.abort();
        }
        if let Some((reconciler, mut task)) = self.reconciler {
            reconciler.stop();
            if tokio::time::timeout(DRAIN, &mut task).await.is_err() {
                tracing::warn!("claimed provisioning work not done in time; giving it back");
                task.abort();
            }
            match reconciler.release().await {
                Ok(n) if n > 0 => tracing::info!(claims = n, "released provisioning claims"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "releasing provisioning claims failed"),
            }
        }
    }
}

/// Starts the reconciler, the resync and the metering collector as the
/// settings say.
pub fn spawn(db: Db, provisioner: Arc<Provisioner>, settings: &Settings) -> Running {
    let mut handles = Vec::new();
    let mut reconciler = None;
    if settings.reconcile_workers > 0 {
        let r = Arc::new(Reconciler::new(
            db.clone(),
            provisioner.clone(),
            Options {
                workers: settings.reconcile_workers,
                poll: Duration::from_millis(settings.reconcile_poll_ms),
                lease: Duration::from_secs(settings.reconcile_lease_seconds),
                retry_base: Duration::from_millis(settings.retry_base_ms),
                retry_max: Duration::from_millis(settings.retry_max_ms),
            },
        ));
        // The task owns one handle; `Running::stop` uses the other.
        reconciler = Some((r.clone(), tokio::spawn(r.run())));
        let (db, provisioner) = (db.clone(), provisioner.clone());
        let poll = Duration::from_millis(settings.reconcile_poll_ms);
        let timeout = i64::try_from(settings.rollout_timeout_seconds).unwrap_or(i64::MAX);
        handles.push(tokio::spawn(async move {
            loop {
                if let Err(e) = rollouts::watch(&db, &provisioner, db::now(), timeout).await {
                    tracing::warn!(error = %e, "watching rollouts failed; trying again");
                }
                tokio::time::sleep(poll).await;
            }
        }));
    }
    if settings.resync_every_seconds > 0 {
        let (db_job, provisioner) = (db.clone(), provisioner.clone());
        let every = Duration::from_secs(settings.resync_every_seconds);
        handles.push(crate::jobs::spawn_scheduled(
            db.clone(),
            "resync",
            every,
            move || {
                let (db, provisioner) = (db_job.clone(), provisioner.clone());
                async move {
                    if let Err(e) = resync::resync(&db, &provisioner).await {
                        tracing::warn!(error = %e, "resync failed; trying again next slot");
                    }
                }
            },
        ));
    }
    if settings.metering_every_seconds > 0 {
        let every = settings.metering_every_seconds;
        let (db_job, provisioner) = (db.clone(), provisioner.clone());
        handles.push(crate::jobs::spawn_scheduled(
            db.clone(),
            "metering",
            Duration::from_secs(every),
            move || {
                let (db, provisioner) = (db_job.clone(), provisioner.clone());
                let every = i64::try_from(every).unwrap_or(i64::MAX);
                async move {
                    if let Err(e) = collector::collect(&db, &provisioner, db::now(), every).await {
                        tracing::warn!(error = %e, "metering failed; trying again next slot");
                    }
                }
            },
        ));
    }
    Running {
        handles,
        reconciler,
    }
}
