//! Before an approval: what the approver checks on a promotion request
//! (Checkup, image digest, what it replaces, how it did in the stage
//! before), shown on the Freigaben cards and on the confirmation page that
//! the approve button opens.

use std::collections::{HashMap, hash_map::Entry};

use askama::Template;
use axum::{
    extract::{Path, Query, State},
    response::Response,
};
use serde::Deserialize;

use super::{
    Layout, Nav, PageError, Url,
    admin::path_id,
    lang::{Worded, t, t_with},
    releases::PromotionRow,
    render,
    session::PageUser,
};
use crate::{
    app::promotions,
    db::{self, deployments::Deployment, promotions::Promotion, releases::Release},
    domain::{
        actor::CurrentUser,
        release::{Checkup, DeploymentState},
    },
    state::AppState,
};

/// What an approver checks before approving a release into a stage: its
/// Checkup and image digest, what it replaces there, and how it did in the
/// stage before.
pub struct ApprovalDetails {
    pub checkup: Checkup,
    /// Why the Checkup refused it (never for a release in a stage).
    pub refusal: Option<String>,
    /// The digest the image is pinned by (`sha256:…`), and its first 12
    /// hex digits for a glance.
    pub digest: String,
    pub digest_short: String,
    /// The release running in the target stage now, in words; `None`:
    /// nothing, the first delivery into it.
    pub replaces: Option<String>,
    /// How the release did in the stage before, in words.
    pub before: String,
}

/// The digest of a pinned image reference (`…@sha256:<hex>`), whole and
/// shortened to `sha256:` and 12 hex digits.
fn digest_of(pinned_image: &str) -> (String, String) {
    let digest = pinned_image
        .rsplit_once('@')
        .map_or(pinned_image, |(_, d)| d)
        .to_owned();
    let short = match digest.split_once(':') {
        Some((algorithm, hex)) if hex.chars().count() > 12 => {
            format!("{algorithm}:{}…", hex.chars().take(12).collect::<String>())
        }
        _ => digest.clone(),
    };
    (digest, short)
}

/// A deployment's state and since when, in words: "läuft seit …".
fn deployment_words(d: &Deployment) -> String {
    let finished = d
        .finished_at
        .map(crate::web::format::date_time)
        .unwrap_or_default();
    let started = crate::web::format::date_time(d.started_at);
    let (id, at) = match d.state {
        DeploymentState::Erfolgreich if d.in_place() => ("deployment-runs-since", finished),
        DeploymentState::Erfolgreich => ("deployment-ran-since", finished),
        DeploymentState::Laeuft => ("deployment-deploying-since", started),
        DeploymentState::Fehlgeschlagen => ("deployment-failed-at", finished),
        DeploymentState::Abgeloest => ("deployment-superseded", started),
    };
    t_with(id, &[("at", at.into())])
}

/// The details of `p` from its release and its application's deployments
/// (newest first, as `db::deployments::of_application` gives them).
fn approval_details(
    p: &Promotion,
    release: &Release,
    deployments: &[Deployment],
) -> ApprovalDetails {
    let (digest, digest_short) = digest_of(&release.pinned_image);
    let replaces = deployments
        .iter()
        .find(|d| d.stage == p.to_stage)
        .filter(|d| d.in_place())
        .map(|d| {
            t_with(
                "approval-delivery",
                &[
                    ("version", d.version.clone().into()),
                    ("state", deployment_words(d).into()),
                ],
            )
        });
    let before = deployments
        .iter()
        .find(|d| d.stage == p.from_stage && d.release_id == p.release_id)
        .map_or_else(
            || {
                t_with(
                    "approval-not-deployed-in",
                    &[("stage", t(&p.from_stage.message_id()).into())],
                )
            },
            deployment_words,
        );
    ApprovalDetails {
        checkup: release.checkup,
        refusal: release.refusal.clone(),
        digest,
        digest_short,
        replaces,
        before,
    }
}

/// The details of each of `rows`, loading each release and each
/// application's deployments once.
pub(super) async fn with_details(
    state: &AppState,
    user: &CurrentUser,
    rows: &mut [PromotionRow],
) -> Result<(), PageError> {
    let mut deployments: HashMap<i64, Vec<Deployment>> = HashMap::new();
    for row in rows.iter_mut() {
        let app = row.p.application_id;
        let of_app = match deployments.entry(app) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => {
                e.insert(db::deployments::of_application(&state.db.pool, app).await?)
            }
        };
        let release = crate::app::releases::get(&state.db, user, row.p.release_id).await?;
        row.details = Some(approval_details(&row.p, &release, of_app));
    }
    Ok(())
}

#[derive(Template)]
#[template(path = "approval_confirm.html")]
struct ApproveConfirmPage {
    layout: Layout,
    r: PromotionRow,
    /// Where the card was: `stufen` (the pipeline) or the inbox.
    origin: String,
    back: Url,
}

#[derive(Deserialize, Default)]
pub(super) struct Origin {
    #[serde(default)]
    zurueck: String,
}

/// The confirmation before approving: what will be deployed where, and
/// what it replaces; only "Verbindlich genehmigen" (the POST) decides.
pub(super) async fn approve_confirm(
    State(state): State<AppState>,
    page: PageUser,
    Path(id): Path<String>,
    Query(origin): Query<Origin>,
) -> Result<Response, PageError> {
    let user = &page.user;
    let p = crate::app::promotions::get(&state.db, user, path_id(&id)?).await?;
    if !p.is_open() {
        return Err(PageError::Conflict(t("approval-already-decided")));
    }
    if p.requested_by == user.id {
        return Err(PageError::ForbiddenBecause(t("approval-four-eyes")));
    }
    if !promotions::decidable_by(&p, user) {
        return Err(PageError::Forbidden);
    }
    let back = if origin.zurueck == "stufen" {
        Url::Pipeline(p.application_id)
    } else {
        Url::Approvals
    };
    let mut rows = [super::releases::promotion_row(p, user)];
    with_details(&state, user, &mut rows).await?;
    let [r] = rows;
    render(&ApproveConfirmPage {
        layout: page.layout(t("approval-confirm-title"), Nav::Approvals),
        origin: if origin.zurueck == "stufen" {
            "stufen".into()
        } else {
            "freigaben".into()
        },
        back,
        r,
    })
}
