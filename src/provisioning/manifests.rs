//! The manifest-directory backend: the desired state as YAML files that
//! Argo CD or Flux can sync, for installations without a cluster of their
//! own (the embedded default, demos, GitOps shops).
//!
//! Layout: one directory per namespace, one file per object, named
//! `<position>-<kind>-<name>.yaml` in apply order, so a directory listing
//! reads like the cluster. A file is written only when its content changes
//! (and then atomically, through a rename), so re-rendering unchanged state
//! touches nothing and a Git commit of the directory shows only real changes.

use std::{
    io::ErrorKind as IoKind,
    path::{Path, PathBuf},
};

use serde_json::Value;

use super::{
    desired::{Kind, Manifest},
    target::{ErrorKind, Live, ProvisionError, key_of},
};

const HEADER: &str = "# Managed by Kontor: changes here are overwritten.\n";

pub struct ManifestDir {
    root: PathBuf,
}

impl ManifestDir {
    pub fn new(root: PathBuf) -> ManifestDir {
        ManifestDir { root }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub async fn apply(&self, objects: &[Manifest]) -> Result<(), ProvisionError> {
        let Some(first) = objects.first() else {
            return Ok(());
        };
        let namespace = if first.kind == Kind::Namespace {
            first.name.clone()
        } else {
            first.namespace.clone()
        };
        let dir = self.root.join(&namespace);
        let files: Vec<(String, String)> = objects
            .iter()
            .enumerate()
            .map(|(i, o)| (file_name(i, o), render(&o.body)))
            .collect();
        tokio::task::spawn_blocking(move || write_namespace(&dir, &files))
            .await
            .map_err(|e| storage(e.to_string()))?
            .map_err(|e| storage(e.to_string()))
    }

    pub async fn remove(&self, namespace: &str) -> Result<(), ProvisionError> {
        match tokio::fs::remove_dir_all(self.root.join(namespace)).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == IoKind::NotFound => Ok(()),
            Err(e) => Err(storage(e.to_string())),
        }
    }

    /// Reads every file back, as a cluster's list calls would answer.
    pub async fn observe(&self) -> Result<Live, ProvisionError> {
        let root = self.root.clone();
        tokio::task::spawn_blocking(move || read_all(&root))
            .await
            .map_err(|e| storage(e.to_string()))?
            .map_err(|e| storage(e.to_string()))
    }
}

fn storage(detail: String) -> ProvisionError {
    ProvisionError {
        kind: ErrorKind::Storage,
        message: format!("Manifest-Verzeichnis nicht beschreibbar ({detail})"),
    }
}

fn file_name(position: usize, object: &Manifest) -> String {
    format!(
        "{position:02}-{}-{}.yaml",
        object.kind.as_str().to_lowercase(),
        object.name
    )
}

fn render(body: &Value) -> String {
    // Serialising a JSON value to YAML cannot fail: every value has a form.
    let yaml = serde_saphyr::to_string(body).unwrap_or_default();
    format!("{HEADER}{yaml}")
}

fn write_namespace(dir: &Path, files: &[(String, String)]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (name, content) in files {
        let path = dir.join(name);
        match std::fs::read_to_string(&path) {
            Ok(existing) if existing == *content => continue,
            Ok(_) => {}
            Err(e) if e.kind() == IoKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let temporary = dir.join(format!(".{name}.tmp"));
        std::fs::write(&temporary, content)?;
        std::fs::rename(&temporary, &path)?;
    }
    // Objects Kontor no longer wants there go, so the directory is the
    // whole truth for whoever syncs it.
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".yaml") && !files.iter().any(|(f, _)| *f == name) {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

fn read_all(root: &Path) -> std::io::Result<Live> {
    let mut live = Live::new();
    let namespaces = match std::fs::read_dir(root) {
        Ok(entries) => entries,
        Err(e) if e.kind() == IoKind::NotFound => return Ok(live),
        Err(e) => return Err(e),
    };
    for namespace in namespaces {
        let namespace = namespace?;
        if !namespace.file_type()?.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(namespace.path())? {
            let path = file?.path();
            if path.extension().is_none_or(|e| e != "yaml") {
                continue;
            }
            let text = std::fs::read_to_string(&path)?;
            // A file someone broke by hand is simply not there: the next
            // reconciliation writes it anew.
            let Ok(value) = serde_saphyr::from_str::<Value>(&text) else {
                continue;
            };
            let kind = value
                .get("kind")
                .and_then(Value::as_str)
                .and_then(|k| Kind::ALL.into_iter().find(|kind| kind.as_str() == k));
            if let Some(key) = kind.and_then(|kind| key_of(kind, &value)) {
                live.insert(key, value);
            }
        }
    }
    Ok(live)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        domain::{Lifecycle, Resources, Stage, environment::EnvironmentSpec},
        provisioning::desired::{covered_by, manifests},
    };

    fn spec() -> EnvironmentSpec {
        EnvironmentSpec {
            id: 3,
            customer: "kreis-x".into(),
            application: "wahl".into(),
            stage: Stage::Schulung,
            contract: "DLV-1".into(),
            lifecycle: Lifecycle::Aktiv,
            booked: Resources {
                millicpu: 2000,
                memory_mib: 4096,
                storage_gib: 10,
                pods: 10,
            },
            workload: None,
        }
    }

    fn temp_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "kontor-manifests-{}-{}",
            std::process::id(),
            rand::random::<u64>()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[tokio::test]
    async fn rendered_files_read_back_as_the_objects_they_came_from() {
        let root = temp_dir();
        let dir = ManifestDir::new(root.clone());
        let objects = manifests(&spec());
        dir.apply(&objects).await.unwrap();
        let live = dir.observe().await.unwrap();
        assert_eq!(live.len(), objects.len());
        for o in &objects {
            assert!(covered_by(&o.body, &live[&o.key()]), "{:?}", o.key());
        }
        let files: Vec<String> = std::fs::read_dir(root.join("kreis-x-wahl-schulung"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(files.contains(&"00-namespace-kreis-x-wahl-schulung.yaml".to_owned()));
        assert!(files.contains(&"01-resourcequota-kontor.yaml".to_owned()));
        std::fs::remove_dir_all(root).unwrap();
    }

    #[tokio::test]
    async fn rendering_unchanged_state_again_touches_no_file() {
        let root = temp_dir();
        let dir = ManifestDir::new(root.clone());
        dir.apply(&manifests(&spec())).await.unwrap();
        let quota = root.join("kreis-x-wahl-schulung/01-resourcequota-kontor.yaml");
        let before = std::fs::metadata(&quota).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        dir.apply(&manifests(&spec())).await.unwrap();
        assert_eq!(
            std::fs::metadata(&quota).unwrap().modified().unwrap(),
            before
        );

        let mut bigger = spec();
        bigger.booked.millicpu = 3000;
        dir.apply(&manifests(&bigger)).await.unwrap();
        let text = std::fs::read_to_string(&quota).unwrap();
        assert!(text.contains("3"), "{text}");
        assert!(text.starts_with(HEADER));
        std::fs::remove_dir_all(root).unwrap();
    }

    #[tokio::test]
    async fn removing_an_environment_removes_its_directory_and_is_idempotent() {
        let root = temp_dir();
        let dir = ManifestDir::new(root.clone());
        dir.apply(&manifests(&spec())).await.unwrap();
        std::fs::write(
            root.join("kreis-x-wahl-schulung/99-old-object.yaml"),
            "x: 1",
        )
        .unwrap();
        dir.apply(&manifests(&spec())).await.unwrap();
        assert!(
            !root
                .join("kreis-x-wahl-schulung/99-old-object.yaml")
                .exists()
        );
        dir.remove("kreis-x-wahl-schulung").await.unwrap();
        assert!(!root.join("kreis-x-wahl-schulung").exists());
        dir.remove("kreis-x-wahl-schulung").await.unwrap();
        assert!(dir.observe().await.unwrap().is_empty());
        std::fs::remove_dir_all(root).unwrap();
    }
}
