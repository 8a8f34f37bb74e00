//! Releases (Lieferungen) and their Checkup, and the rules of promotion
//! (Freigabe) through the stages.

use std::{collections::BTreeMap, fmt};

use serde::Serialize;

use super::{Role, Stage, ids::id_enum};
use crate::i18n::{Arg, Lang, t, t_with};

id_enum! {
    /// The Checkup's verdict on a delivery.
    #[derive(Serialize, utoipa::ToSchema)]
    #[serde(rename_all = "lowercase")]
    pub enum Checkup ("unknown-checkup") {
        /// Well-formed, pinned by digest, from an allowed registry: may enter
        /// Vorprüfung.
        Bestanden = "bestanden",
        /// Refused; the refusal says why.
        Abgelehnt = "abgelehnt",
    }
}

id_enum! {
    /// The state of a deployment (Bereitstellung) of a release into a stage.
    #[derive(Serialize, utoipa::ToSchema)]
    #[serde(rename_all = "lowercase")]
    pub enum DeploymentState ("unknown-deployment-state") {
        /// Applied or being applied; the rollout is not decided yet.
        Laeuft = "laeuft",
        /// The cluster reports the rollout complete.
        Erfolgreich = "erfolgreich",
        /// The cluster reports the rollout failed.
        Fehlgeschlagen = "fehlgeschlagen",
        /// A newer deployment (or the dissolution of the environment) took
        /// its place before its rollout was decided.
        Abgeloest = "abgeloest",
    }
}

/// Why the Checkup refused a delivery; the `code` is the problem's
/// `reason` in the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Refusal {
    /// Not of the form `registry/path@sha256:<64 hex>`; the message id of
    /// what is wrong with it, so that the reason reads in any language.
    MalformedImage(&'static str),
    /// A tag or nothing instead of a digest: what runs could change later.
    NotPinned,
    /// The registry is not on the provider's allow-list.
    ForeignRegistry(String),
    /// This application already has an accepted release of this version.
    DuplicateVersion(String),
    /// A checksum that is not `sha256:<64 hex>`.
    MalformedChecksum(String),
}

impl Refusal {
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::MalformedImage(_) => "malformed-image",
            Refusal::NotPinned => "not-pinned",
            Refusal::ForeignRegistry(_) => "foreign-registry",
            Refusal::DuplicateVersion(_) => "duplicate-version",
            Refusal::MalformedChecksum(_) => "malformed-checksum",
        }
    }

    /// The reason in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            Refusal::MalformedImage(why) => lang.t_with(
                "refusal-malformed-image",
                &[("why", Arg::from(lang.t(why)))],
            ),
            Refusal::NotPinned => lang.t("refusal-not-pinned"),
            Refusal::ForeignRegistry(registry) => lang.t_with(
                "refusal-foreign-registry",
                &[("registry", Arg::from(registry.as_str()))],
            ),
            Refusal::DuplicateVersion(version) => lang.t_with(
                "refusal-duplicate-version",
                &[("version", Arg::from(version.as_str()))],
            ),
            Refusal::MalformedChecksum(name) => lang.t_with(
                "refusal-malformed-checksum",
                &[("name", Arg::from(name.as_str()))],
            ),
        }
    }

    /// The reason as the record of a refused delivery keeps it: German,
    /// whoever delivered in which language.
    pub fn recorded(&self) -> String {
        self.message(Lang::De)
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message(Lang::current()))
    }
}

/// An OCI image reference pinned by digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// Host (and port) of the registry, e.g. `registry.rz.example`.
    pub registry: String,
    /// Repository path within it, e.g. `kfz/portal`.
    pub repository: String,
    /// `sha256:<64 hex>`.
    pub digest: String,
}

fn is_sha256(digest: &str) -> bool {
    digest.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

impl ImageRef {
    /// Parses `registry/path[:tag]@sha256:<64 hex>`. The registry must be
    /// named (a host with a dot or a port, or `localhost`): a short name
    /// would silently mean Docker Hub.
    pub fn parse(text: &str) -> Result<ImageRef, Refusal> {
        let malformed = Refusal::MalformedImage;
        let text = text.trim();
        if text.is_empty() || text.len() > 512 {
            return Err(malformed("image-why-empty-or-long"));
        }
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(malformed("image-why-blank"));
        }
        let (name, digest) = match text.split_once('@') {
            Some((name, digest)) => (name, Some(digest)),
            None => (text, None),
        };
        let (registry, path) = name
            .split_once('/')
            .ok_or_else(|| malformed("image-why-no-registry"))?;
        let named = registry.contains('.') || registry.contains(':') || registry == "localhost";
        if !named
            || !registry
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':'))
        {
            return Err(malformed("image-why-no-registry"));
        }
        // A tag may stay for the reader; the digest decides.
        let repository = match path.rsplit_once(':') {
            Some((repo, tag)) if !tag.contains('/') => repo,
            _ => path,
        };
        let valid_repo = !repository.is_empty()
            && repository.split('/').all(|part| {
                !part.is_empty()
                    && part.bytes().all(|b| {
                        b.is_ascii_lowercase()
                            || b.is_ascii_digit()
                            || matches!(b, b'.' | b'_' | b'-')
                    })
            });
        if !valid_repo {
            return Err(malformed("image-why-path"));
        }
        let digest = digest.ok_or(Refusal::NotPinned)?;
        if !is_sha256(digest) {
            return Err(if digest.starts_with("sha256:") {
                malformed("image-why-digest")
            } else {
                Refusal::NotPinned
            });
        }
        Ok(ImageRef {
            registry: registry.to_ascii_lowercase(),
            repository: repository.to_owned(),
            digest: digest.to_owned(),
        })
    }

    /// What a Deployment runs: the digest only, never a tag.
    pub fn pinned(&self) -> String {
        format!("{}/{}@{}", self.registry, self.repository, self.digest)
    }
}

/// The automatic Checkup of a delivery, apart from the version's
/// uniqueness (which needs the database).
pub fn checkup(
    image: &str,
    checksums: &BTreeMap<String, String>,
    allowed_registries: &[String],
) -> Result<ImageRef, Refusal> {
    let image = ImageRef::parse(image)?;
    if !allowed_registries
        .iter()
        .any(|r| r.eq_ignore_ascii_case(&image.registry))
    {
        return Err(Refusal::ForeignRegistry(image.registry));
    }
    if let Some((name, _)) = checksums.iter().find(|(_, v)| !is_sha256(v)) {
        return Err(Refusal::MalformedChecksum(name.clone()));
    }
    Ok(image)
}

/// A release version: what developers call it (`1.4.2`, `2026.11-rc1`).
pub fn valid_version(version: &str) -> Result<&str, String> {
    let v = version.trim();
    if v.is_empty() {
        return Err(t("invalid-version-empty"));
    }
    if v.len() > 64 {
        return Err(t_with("invalid-text-too-long", &[("max", Arg::from("64"))]));
    }
    let ok = v.as_bytes()[0].is_ascii_alphanumeric()
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'+'));
    if !ok {
        return Err(t("invalid-version"));
    }
    Ok(v)
}

impl Stage {
    /// The stage a release is promoted to from here; none after Produktion.
    pub fn next(self) -> Option<Stage> {
        match self {
            Stage::Vorpruefung => Some(Stage::Abnahme),
            Stage::Abnahme => Some(Stage::Schulung),
            Stage::Schulung => Some(Stage::Produktion),
            Stage::Produktion => None,
        }
    }

    /// The stage a promotion into this one comes from; Vorprüfung is
    /// entered by delivery, not by promotion.
    pub fn previous(self) -> Option<Stage> {
        Stage::ALL.into_iter().find(|s| s.next() == Some(self))
    }

    /// Who releases a promotion into this stage.
    pub fn approver(self) -> Option<Role> {
        match self {
            Stage::Vorpruefung => None,
            Stage::Abnahme | Stage::Schulung => Some(Role::Systempfleger),
            Stage::Produktion => Some(Role::Verfahrensverantwortlicher),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn allowed() -> Vec<String> {
        vec!["registry.rz.example".into()]
    }

    #[test]
    fn an_image_pinned_by_digest_in_an_allowed_registry_passes() {
        let image = checkup(
            &format!("registry.rz.example/kfz/portal:1.4@{DIGEST}"),
            &BTreeMap::new(),
            &allowed(),
        )
        .unwrap();
        assert_eq!(image.registry, "registry.rz.example");
        assert_eq!(image.repository, "kfz/portal");
        assert_eq!(
            image.pinned(),
            format!("registry.rz.example/kfz/portal@{DIGEST}")
        );
    }

    #[test]
    fn a_tag_alone_is_not_pinned() {
        for image in [
            "registry.rz.example/kfz/portal:1.4",
            "registry.rz.example/kfz/portal",
        ] {
            assert_eq!(ImageRef::parse(image), Err(Refusal::NotPinned), "{image}");
        }
        assert_eq!(
            ImageRef::parse("registry.rz.example/kfz/portal@md5:abc"),
            Err(Refusal::NotPinned)
        );
    }

    #[test]
    fn malformed_references_are_refused_as_such() {
        for image in [
            "",
            "portal@sha256:00",
            "kfz/portal@sha256:0123",
            &format!("registry.rz.example/KFZ@{DIGEST}"),
            &format!("registry.rz.example/kfz/portal@{}", &DIGEST[..40]),
            &format!("registry.rz.example/ kfz@{DIGEST}"),
        ] {
            assert_eq!(
                ImageRef::parse(image).map_err(|r| r.code()),
                Err("malformed-image"),
                "{image:?}"
            );
        }
    }

    #[test]
    fn what_is_wrong_with_a_reference_reads_in_both_languages() {
        for image in [
            "",
            "a b/c@x",
            "portal@sha256:00",
            "r.example/KFZ@sha256:0",
            "r.example/k@sha256:0",
        ] {
            let refusal = ImageRef::parse(image).unwrap_err();
            let Refusal::MalformedImage(why) = refusal else {
                panic!("{image:?}: {refusal:?}");
            };
            for lang in Lang::ALL {
                assert_ne!(lang.t(why), why, "{why} missing in {}", lang.code());
            }
        }
        assert_eq!(
            ImageRef::parse("portal@sha256:00").unwrap_err().recorded(),
            "Die Image-Referenz ist ungültig (keine Registry); erwartet: \
             registry/pfad@sha256:<64 Hex-Zeichen>."
        );
    }

    #[test]
    fn a_registry_off_the_allow_list_is_foreign() {
        let refused = checkup(
            &format!("docker.io/library/nginx@{DIGEST}"),
            &BTreeMap::new(),
            &allowed(),
        );
        assert_eq!(refused, Err(Refusal::ForeignRegistry("docker.io".into())));
        assert_eq!(refused.unwrap_err().code(), "foreign-registry");
    }

    #[test]
    fn checksums_must_be_sha256() {
        let image = format!("registry.rz.example/kfz/portal@{DIGEST}");
        let good = BTreeMap::from([("sbom".to_owned(), DIGEST.to_owned())]);
        assert!(checkup(&image, &good, &allowed()).is_ok());
        let bad = BTreeMap::from([("sbom".to_owned(), "md5:abc".to_owned())]);
        assert_eq!(
            checkup(&image, &bad, &allowed()),
            Err(Refusal::MalformedChecksum("sbom".into()))
        );
    }

    #[test]
    fn versions_are_short_plain_names() {
        assert_eq!(valid_version(" 1.4.2 "), Ok("1.4.2"));
        assert!(valid_version("2026.11-rc1+b7").is_ok());
        for bad in ["", "-1", "1 2", "ä", &"1".repeat(65)] {
            assert!(valid_version(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn promotions_go_one_stage_at_a_time_and_need_the_right_role() {
        assert_eq!(Stage::Vorpruefung.next(), Some(Stage::Abnahme));
        assert_eq!(Stage::Produktion.next(), None);
        assert_eq!(Stage::Produktion.previous(), Some(Stage::Schulung));
        assert_eq!(Stage::Vorpruefung.previous(), None);
        assert_eq!(Stage::Abnahme.approver(), Some(Role::Systempfleger));
        assert_eq!(Stage::Schulung.approver(), Some(Role::Systempfleger));
        assert_eq!(
            Stage::Produktion.approver(),
            Some(Role::Verfahrensverantwortlicher)
        );
        assert_eq!(Stage::Vorpruefung.approver(), None);
    }
}
