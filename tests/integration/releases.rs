//! Releases and stage promotions through the API: a delivery passes the
//! Checkup and runs in Vorprüfung; promotion requests move it one stage at a
//! time, each approved by another person with the role the target stage
//! needs; approvals deploy. Every refusal is tested and writes nothing
//! (except the record of a refused delivery); simultaneous approvals start
//! one deployment; a rollout that fails in the (fake) cluster shows the
//! cluster's message and succeeds on retry.

use std::{collections::BTreeMap, time::Duration};

use futures_util::future::join_all;
use kontor::{
    db::audit::{self, AuditRow},
    domain::{Role, actor::SYSTEM_ACTOR},
};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::{
    support::fake_kube::FakeKube,
    support::{
        ALL_STAGES, Backend, ENGLISH, Person, Tenant, TestApp, assert_forbidden, assert_not_found,
        assert_problem, assert_refused_by_state, assert_validation, expect_json, id, kontor_cli,
        spawn_on, spawn_on_fake, until, until_within,
    },
};

// The embedded default: no cluster, the manifest directory.
api_tests! {
    the_developers_cli_pushes_and_promotes_with_exit_codes_a_pipeline_can_branch_on,
    a_release_goes_from_delivery_through_every_stage_into_produktion_with_an_audit_trail,
    promotions_never_skip_a_stage_and_move_only_the_release_running_successfully_in_the_stage_before,
    approving_your_own_request_is_refused_by_the_four_eyes_rule_and_writes_nothing,
    approving_needs_the_role_the_target_stage_asks_for_and_a_refusal_writes_nothing,
    another_tenants_request_is_not_found_exactly_like_a_missing_one_and_stays_untouched,
    a_request_is_decided_once_and_deciding_again_is_a_conflict,
    the_checkup_refuses_unpinned_foreign_malformed_and_duplicate_deliveries_and_records_only_the_refusal,
    a_rejection_needs_a_reason_which_the_requester_then_sees,
    only_the_requester_withdraws_a_request_and_a_withdrawn_request_cannot_be_decided,
    simultaneous_approvals_of_one_request_start_exactly_one_deployment,
    simultaneous_deliveries_of_one_version_accept_exactly_one,
    a_delivery_with_nothing_booked_in_vorpruefung_fails_to_deploy_saying_so_and_succeeds_on_retry_after_booking,
    a_rollback_is_the_promotion_of_an_earlier_release_approved_like_any_other,
    a_delivery_and_a_request_retried_with_the_same_idempotency_key_are_made_once,
    a_release_whose_environment_was_dissolved_no_longer_runs_there_and_is_not_promoted_from_it,
    an_approval_card_shows_checkup_digest_what_it_replaces_and_the_stage_before_and_approving_asks_first,
}

cluster_tests! {
    a_rollout_that_fails_in_the_cluster_shows_the_clusters_message_and_succeeds_on_retry,
    the_registry_allow_list_comes_from_the_settings,
    a_deployment_superseded_before_its_rollout_is_closed_promptly_and_not_failed_by_the_timeout,
}

/// The slug `contract_with_room` gives the tenant's application: the name
/// of its Deployment object.
const APP_SLUG: &str = "fachverfahren";

// ----- fixtures ----------------------------------------------------------

/// A `sha256:` digest, different for every `n`.
fn digest(n: u64) -> String {
    format!("sha256:{n:064x}")
}

/// An image on the default allow-list, pinned by digest.
fn image(n: u64) -> String {
    format!("registry.rz.example/kfz/portal@{}", digest(n))
}

/// A tenant with container-namespace S booked in every stage, and the
/// people of the chain: `t.token` is its Systempfleger:in.
struct Chain {
    t: Tenant,
    dev: Person,
    owner: Person,
}

impl Chain {
    fn app_id(&self) -> i64 {
        self.t.application_id
    }

    fn customer(&self) -> Option<i64> {
        Some(self.t.customer_id)
    }

    /// How the audit log names the tenant's Systempfleger:in.
    fn maintainer(&self) -> String {
        format!("Test Pfleger ({})", self.t.login)
    }
}

async fn chain(app: &TestApp) -> Chain {
    let t = app.contract_with_room(20).await;
    for stage in ALL_STAGES {
        app.book_ok(
            &t.token,
            t.application_id,
            stage,
            "container-namespace",
            "S",
        )
        .await;
    }
    app.settle().await;
    let dev = app.person(Some(t.customer_id), &[Role::Entwickler]).await;
    let owner = app
        .person(Some(t.customer_id), &[Role::Verfahrensverantwortlicher])
        .await;
    Chain { t, dev, owner }
}

// ----- calls -------------------------------------------------------------

async fn deliver(
    app: &TestApp,
    token: &str,
    application_id: i64,
    version: &str,
    image: &str,
) -> Response {
    deliver_body(
        app,
        token,
        application_id,
        &json!({"version": version, "image": image}),
    )
    .await
}

async fn deliver_body(app: &TestApp, token: &str, application_id: i64, body: &Value) -> Response {
    app.post_json(
        &format!("/api/v1/applications/{application_id}/releases"),
        token,
        body,
    )
    .await
}

/// Delivers and insists on 201; returns the release.
async fn deliver_ok(
    app: &TestApp,
    token: &str,
    application_id: i64,
    version: &str,
    image: &str,
) -> Value {
    let release = expect_json(
        deliver(app, token, application_id, version, image).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(release["checkup"], "bestanden", "{release}");
    release
}

async fn request(
    app: &TestApp,
    token: &str,
    application_id: i64,
    release_id: i64,
    to: &str,
) -> Response {
    app.post_json(
        &format!("/api/v1/applications/{application_id}/promotions"),
        token,
        &json!({"release_id": release_id, "to_stage": to}),
    )
    .await
}

/// Requests and insists on 201; returns the request.
async fn request_ok(
    app: &TestApp,
    token: &str,
    application_id: i64,
    release_id: i64,
    to: &str,
) -> Value {
    let p = expect_json(
        request(app, token, application_id, release_id, to).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(p["state"], "offen", "{p}");
    assert_eq!(p["to_stage"], to, "{p}");
    assert_eq!(p["may_decide"], false, "the requester never decides: {p}");
    p
}

/// Approves without a body.
async fn approve(app: &TestApp, token: &str, promotion_id: i64) -> Response {
    app.post(&format!("/api/v1/promotions/{promotion_id}/approve"), token)
        .await
}

async fn approve_with(app: &TestApp, token: &str, promotion_id: i64, body: &Value) -> Response {
    app.post_json(
        &format!("/api/v1/promotions/{promotion_id}/approve"),
        token,
        body,
    )
    .await
}

async fn reject(app: &TestApp, token: &str, promotion_id: i64, body: &Value) -> Response {
    app.post_json(
        &format!("/api/v1/promotions/{promotion_id}/reject"),
        token,
        body,
    )
    .await
}

async fn withdraw(app: &TestApp, token: &str, promotion_id: i64) -> Response {
    app.post(
        &format!("/api/v1/promotions/{promotion_id}/withdraw"),
        token,
    )
    .await
}

async fn retry(app: &TestApp, token: &str, deployment_id: i64) -> Response {
    app.post(&format!("/api/v1/deployments/{deployment_id}/retry"), token)
        .await
}

async fn get_ok(app: &TestApp, token: &str, path: &str) -> Value {
    expect_json(app.get(path, token).await, StatusCode::OK).await
}

async fn promotion(app: &TestApp, token: &str, promotion_id: i64) -> Value {
    get_ok(app, token, &format!("/api/v1/promotions/{promotion_id}")).await
}

async fn deployment(app: &TestApp, token: &str, deployment_id: i64) -> Value {
    get_ok(app, token, &format!("/api/v1/deployments/{deployment_id}")).await
}

async fn pipeline(app: &TestApp, token: &str, application_id: i64) -> Value {
    get_ok(
        app,
        token,
        &format!("/api/v1/applications/{application_id}/pipeline"),
    )
    .await
}

async fn releases(app: &TestApp, token: &str, application_id: i64) -> Vec<Value> {
    get_ok(
        app,
        token,
        &format!("/api/v1/applications/{application_id}/releases"),
    )
    .await["items"]
        .as_array()
        .expect("a list")
        .clone()
}

/// The ids of the requests `token`'s user may decide now (the inbox).
async fn inbox(app: &TestApp, token: &str) -> Vec<i64> {
    get_ok(app, token, "/api/v1/promotions?mine_to_decide=true").await["items"]
        .as_array()
        .expect("a list")
        .iter()
        .map(id)
        .collect()
}

/// One stage's column of a pipeline.
fn column<'a>(pipeline: &'a Value, stage: &str) -> &'a Value {
    pipeline["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .find(|s| s["stage"] == stage)
        .unwrap_or_else(|| panic!("no {stage} in {pipeline}"))
}

/// Waits until the deployment is decided (no longer `laeuft`).
async fn finished(app: &TestApp, token: &str, deployment_id: i64) -> Value {
    until(
        &format!("deployment {deployment_id} is decided"),
        async || {
            let d = deployment(app, token, deployment_id).await;
            (d["state"] != "laeuft").then_some(d)
        },
    )
    .await
}

/// Waits until the latest deployment in `stage` is one of `release_id` and
/// decided; returns it as the pipeline shows it.
async fn deployed(
    app: &TestApp,
    token: &str,
    application_id: i64,
    release_id: i64,
    stage: &str,
) -> Value {
    until(
        &format!("release {release_id} is decided in {stage}"),
        async || {
            let p = pipeline(app, token, application_id).await;
            let d = &column(&p, stage)["deployment"];
            (d["release_id"] == release_id && d["state"] != "laeuft").then(|| d.clone())
        },
    )
    .await
}

/// Delivers as `dev` and waits for the release to run in Vorprüfung.
async fn delivered_and_running(app: &TestApp, c: &Chain, version: &str, image: &str) -> i64 {
    let release = id(&deliver_ok(app, &c.dev.token, c.app_id(), version, image).await);
    let d = deployed(app, &c.dev.token, c.app_id(), release, "vorpruefung").await;
    assert_eq!(d["state"], "erfolgreich", "{d}");
    release
}

/// `dev` requests `to` for the release and `approver` approves; waits for
/// the rollout and insists it succeeded. Returns the deployment.
async fn promoted(app: &TestApp, c: &Chain, release_id: i64, to: &str, approver: &str) -> Value {
    let p = request_ok(app, &c.dev.token, c.app_id(), release_id, to).await;
    let approved = expect_json(approve(app, approver, id(&p)).await, StatusCode::OK).await;
    assert_eq!(approved["state"], "genehmigt", "{approved}");
    let d = finished(
        app,
        approver,
        approved["deployment_id"].as_i64().expect("a deployment"),
    )
    .await;
    assert_eq!(d["state"], "erfolgreich", "{d}");
    assert_eq!(
        (&d["stage"], &d["release_id"]),
        (&json!(to), &json!(release_id))
    );
    d
}

// ----- database state ----------------------------------------------------

/// Everything a release call may write, read off the database.
#[derive(Debug, PartialEq, Eq)]
struct Written {
    releases: Vec<(i64, String)>,
    promotions: Vec<(i64, String, Option<i64>, Option<i64>)>,
    deployments: Vec<(i64, i64, String)>,
    environments: Vec<(i64, Option<i64>)>,
    audit: i64,
    outbox: i64,
}

async fn written(app: &TestApp) -> Written {
    let pool = &app.db().pool;
    let (audit,): (i64,) = sqlx::query_as("SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log")
        .fetch_one(pool)
        .await
        .unwrap();
    Written {
        releases: sqlx::query_as("SELECT id, checkup FROM releases ORDER BY id")
            .fetch_all(pool)
            .await
            .unwrap(),
        promotions: sqlx::query_as(
            "SELECT p.id, ap.state, ap.decided_by, p.deployment_id FROM promotions p \
             JOIN approvals ap ON ap.id = p.id ORDER BY p.id",
        )
        .fetch_all(pool)
        .await
        .unwrap(),
        deployments: sqlx::query_as(
            "SELECT id, environment_id, state FROM deployments ORDER BY id",
        )
        .fetch_all(pool)
        .await
        .unwrap(),
        environments: sqlx::query_as("SELECT id, deployment_id FROM environments ORDER BY id")
            .fetch_all(pool)
            .await
            .unwrap(),
        audit,
        outbox: app.counts().await.outbox,
    }
}

/// Waits until nothing is in flight: the outbox worked off and every
/// deployment decided (so no report of the provisioning layer comes later).
async fn quiet(app: &TestApp) {
    app.settle().await;
    until("every deployment is decided", async || {
        let (running,): (i64,) = sqlx::query_as(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM deployments WHERE state = 'laeuft'",
        )
        .fetch_one(&app.db().pool)
        .await
        .unwrap();
        (running == 0).then_some(())
    })
    .await;
}

/// The state now, once nothing is in flight.
async fn at_rest(app: &TestApp) -> Written {
    quiet(app).await;
    written(app).await
}

async fn audit_of(app: &TestApp, object_type: &str, object_id: i64) -> Vec<AuditRow> {
    audit::for_object(&app.db().pool, object_type, object_id)
        .await
        .expect("audit log")
}

/// (action, actor) of each entry, oldest first.
fn who_did_what(rows: &[AuditRow]) -> Vec<(String, String)> {
    rows.iter()
        .map(|r| (r.action.clone(), r.actor.clone()))
        .collect()
}

fn after(row: &AuditRow) -> Value {
    serde_json::from_str(row.after_json.as_deref().unwrap_or("null")).expect("after_json")
}

/// The deployments of an environment.
async fn deployments_in(app: &TestApp, environment_id: i64) -> Vec<(i64, String)> {
    sqlx::query_as("SELECT id, state FROM deployments WHERE environment_id = $1 ORDER BY id")
        .bind(environment_id)
        .fetch_all(&app.db().pool)
        .await
        .unwrap()
}

async fn environment_in(app: &TestApp, application_id: i64, stage: &str) -> i64 {
    let (id,): (i64,) =
        sqlx::query_as("SELECT id FROM environments WHERE application_id = $1 AND stage = $2")
            .bind(application_id)
            .bind(stage)
            .fetch_one(&app.db().pool)
            .await
            .unwrap();
    id
}

async fn namespace_in(app: &TestApp, application_id: i64, stage: &str) -> String {
    app.namespace_of(environment_in(app, application_id, stage).await)
        .await
}

// ----- the chain ---------------------------------------------------------

async fn a_release_goes_from_delivery_through_every_stage_into_produktion_with_an_audit_trail(
    app: TestApp,
) {
    let c = chain(&app).await;
    let sp = c.t.token.as_str();
    let pinned = image(1);

    // Delivered by the developer, with a checksum; it runs in Vorprüfung.
    let delivered = expect_json(
        deliver_body(
            &app,
            &c.dev.token,
            c.app_id(),
            &json!({"version": "1.0.0", "image": format!("registry.rz.example/kfz/portal:1.0.0@{}", digest(1)),
                "checksums": {"sbom": digest(99)}}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(delivered["checkup"], "bestanden", "{delivered}");
    assert_eq!(delivered["version"], "1.0.0", "{delivered}");
    assert_eq!(
        delivered["pinned_image"],
        pinned.as_str(),
        "the digest, not the tag: {delivered}"
    );
    assert_eq!(
        delivered["checksums"],
        json!({"sbom": digest(99)}),
        "{delivered}"
    );
    assert!(delivered.get("refusal").is_none(), "{delivered}");
    let release = id(&delivered);
    let vorpruefung = deployed(&app, &c.dev.token, c.app_id(), release, "vorpruefung").await;
    assert_eq!(vorpruefung["state"], "erfolgreich", "{vorpruefung}");
    assert_eq!(vorpruefung["version"], "1.0.0", "{vorpruefung}");

    // Abnahme: requested by the developer, in the Systempfleger:in's inbox
    // only, approved by her with a reason.
    let to_abnahme = request_ok(&app, &c.dev.token, c.app_id(), release, "abnahme").await;
    assert_eq!(to_abnahme["from_stage"], "vorpruefung", "{to_abnahme}");
    assert_eq!(to_abnahme["version"], "1.0.0", "{to_abnahme}");
    assert_eq!(to_abnahme["release_id"], release, "{to_abnahme}");
    assert_eq!(inbox(&app, sp).await, vec![id(&to_abnahme)]);
    assert_eq!(inbox(&app, &c.dev.token).await, Vec::<i64>::new());
    assert_eq!(inbox(&app, &c.owner.token).await, Vec::<i64>::new());
    assert_eq!(
        promotion(&app, sp, id(&to_abnahme)).await["may_decide"],
        true
    );
    let pending = pipeline(&app, sp, c.app_id()).await;
    assert_eq!(
        column(&pending, "abnahme")["pending"]["id"],
        id(&to_abnahme),
        "{pending}"
    );

    let approved = expect_json(
        approve_with(
            &app,
            sp,
            id(&to_abnahme),
            &json!({"reason": "Fachtest bestanden"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(approved["state"], "genehmigt", "{approved}");
    assert_eq!(approved["decided_by"], "Test Pfleger", "{approved}");
    assert_eq!(approved["reason"], "Fachtest bestanden", "{approved}");
    assert_eq!(approved["may_decide"], false, "{approved}");
    assert_eq!(
        inbox(&app, sp).await,
        Vec::<i64>::new(),
        "decided: out of the inbox"
    );
    let abnahme = finished(&app, sp, approved["deployment_id"].as_i64().unwrap()).await;
    assert_eq!(abnahme["state"], "erfolgreich", "{abnahme}");
    assert_eq!(abnahme["stage"], "abnahme", "{abnahme}");
    assert_eq!(abnahme["release_id"], release, "{abnahme}");

    // Schulung: approved by the Systempfleger:in.
    let schulung = promoted(&app, &c, release, "schulung", sp).await;

    // Produktion: only the Verfahrensverantwortliche:r decides.
    let to_produktion = request_ok(&app, &c.dev.token, c.app_id(), release, "produktion").await;
    assert_eq!(to_produktion["from_stage"], "schulung", "{to_produktion}");
    assert_eq!(inbox(&app, sp).await, Vec::<i64>::new());
    assert_eq!(inbox(&app, &c.owner.token).await, vec![id(&to_produktion)]);
    let approved = expect_json(
        approve(&app, &c.owner.token, id(&to_produktion)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(approved["state"], "genehmigt", "{approved}");
    let produktion = finished(&app, sp, approved["deployment_id"].as_i64().unwrap()).await;
    assert_eq!(produktion["state"], "erfolgreich", "{produktion}");
    assert_eq!(produktion["stage"], "produktion", "{produktion}");
    assert!(
        produktion["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{produktion}"
    );

    // 1.0.0 in all four stages, nothing pending.
    let p = pipeline(&app, &c.dev.token, c.app_id()).await;
    for stage in ALL_STAGES {
        let col = column(&p, stage);
        assert_eq!(col["deployment"]["version"], "1.0.0", "{stage}: {p}");
        assert_eq!(col["deployment"]["state"], "erfolgreich", "{stage}: {p}");
        assert!(col.get("pending").is_none(), "{stage}: {p}");
    }
    let history = get_ok(
        &app,
        &c.dev.token,
        &format!("/api/v1/promotions?application_id={}", c.app_id()),
    )
    .await;
    let states: Vec<(&Value, &Value)> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (&p["to_stage"], &p["state"]))
        .collect();
    assert_eq!(
        states,
        vec![
            (&json!("produktion"), &json!("genehmigt")),
            (&json!("schulung"), &json!("genehmigt")),
            (&json!("abnahme"), &json!("genehmigt")),
        ],
        "newest first: {history}"
    );

    // Produktion's Deployment in the manifest directory runs the digest.
    let env = produktion["environment_id"].as_i64().unwrap();
    let namespace = app.namespace_of(env).await;
    let file = app
        .settings
        .data_dir
        .join("manifests")
        .join(&namespace)
        .join(format!("08-deployment-{APP_SLUG}.yaml"));
    let yaml = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    assert!(yaml.contains("kind: Deployment"), "{yaml}");
    assert!(yaml.contains(&pinned), "names the pinned image: {yaml}");
    assert!(!yaml.contains(":1.0.0@"), "never the tag: {yaml}");
    assert!(yaml.contains(&format!("namespace: {namespace}")), "{yaml}");

    // The audit trail: who delivered, requested, decided; the deployments'
    // results by Kontor itself.
    let dev = c.dev.actor();
    let owner = c.owner.actor();
    let sp_actor = c.maintainer();
    let delivery = audit_of(&app, "release", release).await;
    assert_eq!(
        who_did_what(&delivery),
        vec![("release.delivered".into(), dev.clone())]
    );
    assert_eq!(
        after(&delivery[0])["release"]["version"],
        "1.0.0",
        "{delivery:?}"
    );
    let to_schulung = history["items"][1]["id"].as_i64().unwrap();
    for (promotion_id, approver) in [
        (id(&to_abnahme), &sp_actor),
        (to_schulung, &sp_actor),
        (id(&to_produktion), &owner),
    ] {
        let rows = audit_of(&app, "promotion", promotion_id).await;
        assert_eq!(
            who_did_what(&rows),
            vec![
                ("promotion.requested".into(), dev.clone()),
                ("promotion.approved".into(), approver.clone()),
            ],
            "promotion {promotion_id}"
        );
    }
    let approval = &audit_of(&app, "promotion", id(&to_abnahme)).await[1];
    assert_eq!(
        after(approval)["reason"],
        "Fachtest bestanden",
        "{approval:?}"
    );
    for d in [&vorpruefung, &abnahme, &schulung, &produktion] {
        let rows = audit_of(&app, "deployment", id(d)).await;
        assert_eq!(
            who_did_what(&rows),
            vec![("deployment.succeeded".into(), SYSTEM_ACTOR.into())],
            "deployment {d}"
        );
    }
}

// ----- refusals ----------------------------------------------------------

async fn promotions_never_skip_a_stage_and_move_only_the_release_running_successfully_in_the_stage_before(
    app: TestApp,
) {
    let c = chain(&app).await;
    let dev = c.dev.token.as_str();
    let first = delivered_and_running(&app, &c, "1.0.0", &image(1)).await;
    let refused = deliver(
        &app,
        dev,
        c.app_id(),
        "1.0.1",
        "registry.rz.example/kfz/portal:1.0.1",
    )
    .await;
    assert_problem(refused, StatusCode::UNPROCESSABLE_ENTITY, "checkup-refused").await;
    let refused = id(&releases(&app, dev, c.app_id()).await[0]);
    let other = app
        .second_contract(&c.t, "nutzung", "", ("2020-01-01", "2099-12-31"))
        .await;

    let before = at_rest(&app).await;
    // Skipping: straight from Vorprüfung into Schulung or Produktion.
    for to in ["schulung", "produktion"] {
        let problem = assert_problem(
            request(&app, dev, c.app_id(), first, to).await,
            StatusCode::CONFLICT,
            "conflict",
        )
        .await;
        assert!(
            problem["detail"].as_str().unwrap().contains("1.0.0"),
            "{problem}"
        );
    }
    // Vorprüfung is entered by delivery; there is no stage "staging".
    assert_validation(
        request(&app, dev, c.app_id(), first, "vorpruefung").await,
        "to_stage",
    )
    .await;
    assert_validation(
        request(&app, dev, c.app_id(), first, "staging").await,
        "to_stage",
    )
    .await;
    // Only accepted releases of this application: the request is
    // well-formed, the application's deliveries refuse it (409).
    assert_refused_by_state(
        request(&app, dev, c.app_id(), refused, "abnahme").await,
        "release_id",
    )
    .await;
    assert_refused_by_state(
        request(&app, dev, c.app_id(), first + 1_000_000, "abnahme").await,
        "release_id",
    )
    .await;
    assert_refused_by_state(
        request(&app, dev, other.application_id, first, "abnahme").await,
        "release_id",
    )
    .await;
    assert_eq!(
        written(&app).await,
        before,
        "refused requests write nothing"
    );

    // A release superseded in Vorprüfung is no longer promoted from there.
    let second = delivered_and_running(&app, &c, "1.1.0", &image(2)).await;
    let before = at_rest(&app).await;
    assert_problem(
        request(&app, dev, c.app_id(), first, "abnahme").await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    assert_eq!(written(&app).await, before);

    // One open request per stage.
    let open = request_ok(&app, dev, c.app_id(), second, "abnahme").await;
    let before = at_rest(&app).await;
    assert_problem(
        request(&app, &c.t.token, c.app_id(), second, "abnahme").await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    assert_eq!(written(&app).await, before);

    // A request whose release no longer runs in the stage before by the
    // time it is approved is not approved.
    delivered_and_running(&app, &c, "1.2.0", &image(3)).await;
    let before = at_rest(&app).await;
    assert_problem(
        approve(&app, &c.t.token, id(&open)).await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    assert_eq!(written(&app).await, before);
    assert_eq!(promotion(&app, dev, id(&open)).await["state"], "offen");

    // A release whose deployment into Vorprüfung failed (nothing booked in
    // the other application) is not promoted either.
    let failed = id(&deliver_ok(&app, dev, other.application_id, "1.0.0", &image(4)).await);
    let d = deployed(&app, dev, other.application_id, failed, "vorpruefung").await;
    assert_eq!(d["state"], "fehlgeschlagen", "{d}");
    let before = at_rest(&app).await;
    assert_problem(
        request(&app, dev, other.application_id, failed, "abnahme").await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    assert_eq!(written(&app).await, before);
}

async fn approving_your_own_request_is_refused_by_the_four_eyes_rule_and_writes_nothing(
    app: TestApp,
) {
    let c = chain(&app).await;
    // Someone who both develops and maintains.
    let both = app
        .person(c.customer(), &[Role::Systempfleger, Role::Entwickler])
        .await;
    let release = id(&deliver_ok(&app, &both.token, c.app_id(), "1.0.0", &image(1)).await);
    deployed(&app, &both.token, c.app_id(), release, "vorpruefung").await;
    let own = request_ok(&app, &both.token, c.app_id(), release, "abnahme").await;
    assert_eq!(
        promotion(&app, &both.token, id(&own)).await["may_decide"],
        false
    );
    assert_eq!(inbox(&app, &both.token).await, Vec::<i64>::new());
    assert_eq!(inbox(&app, &c.t.token).await, vec![id(&own)]);

    let before = at_rest(&app).await;
    let problem = assert_problem(
        approve(&app, &both.token, id(&own)).await,
        StatusCode::FORBIDDEN,
        "four-eyes",
    )
    .await;
    assert_eq!(
        problem["detail"],
        "Den eigenen Antrag entscheidet eine andere Person (Vier-Augen-Prinzip)."
    );
    // The same refusal for someone who reads English.
    let approve_path = format!("/api/v1/promotions/{}/approve", id(&own));
    let english = assert_problem(
        app.request_in(Some(ENGLISH), Method::POST, &approve_path, &both.token)
            .send()
            .await
            .expect("approve"),
        StatusCode::FORBIDDEN,
        "four-eyes",
    )
    .await;
    assert_eq!(
        english["detail"],
        "Someone else decides your own request (four-eyes principle)."
    );
    assert_problem(
        reject(
            &app,
            &both.token,
            id(&own),
            &json!({"reason": "doch nicht"}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "four-eyes",
    )
    .await;
    assert_eq!(written(&app).await, before);
    assert_eq!(
        promotion(&app, &both.token, id(&own)).await["state"],
        "offen"
    );

    // The Systempfleger:in requesting and approving herself.
    expect_json(withdraw(&app, &both.token, id(&own)).await, StatusCode::OK).await;
    let hers = request_ok(&app, &c.t.token, c.app_id(), release, "abnahme").await;
    let before = at_rest(&app).await;
    assert_problem(
        approve(&app, &c.t.token, id(&hers)).await,
        StatusCode::FORBIDDEN,
        "four-eyes",
    )
    .await;
    assert_eq!(written(&app).await, before);

    // Another person approves it.
    let approved = expect_json(approve(&app, &both.token, id(&hers)).await, StatusCode::OK).await;
    assert_eq!(approved["state"], "genehmigt", "{approved}");
}

async fn approving_needs_the_role_the_target_stage_asks_for_and_a_refusal_writes_nothing(
    app: TestApp,
) {
    let c = chain(&app).await;
    let finance = app.user_with_roles(c.customer(), &[Role::Finanzen]).await;
    let betreiber = app.user_with_roles(None, &[Role::Betreiber]).await;
    let release = delivered_and_running(&app, &c, "1.0.0", &image(1)).await;

    let before = at_rest(&app).await;
    // Neither the owner nor finance requests or delivers.
    for token in [&c.owner.token, &finance] {
        assert_forbidden(request(&app, token, c.app_id(), release, "abnahme").await).await;
        assert_forbidden(deliver(&app, token, c.app_id(), "2.0.0", &image(2)).await).await;
    }
    assert_eq!(written(&app).await, before);

    // Abnahme: the Systempfleger:in's; nobody else's.
    let to_abnahme = request_ok(&app, &c.dev.token, c.app_id(), release, "abnahme").await;
    let before = at_rest(&app).await;
    for token in [&c.dev.token, &c.owner.token, &finance, &betreiber] {
        assert_forbidden(approve(&app, token, id(&to_abnahme)).await).await;
        assert_forbidden(reject(&app, token, id(&to_abnahme), &json!({"reason": "nein"})).await)
            .await;
    }
    assert_eq!(written(&app).await, before);
    expect_json(
        approve(&app, &c.t.token, id(&to_abnahme)).await,
        StatusCode::OK,
    )
    .await;
    quiet(&app).await;
    promoted(&app, &c, release, "schulung", &c.t.token).await;

    // Produktion: the Verfahrensverantwortliche:r's, not the Systempfleger:in's.
    let to_produktion = request_ok(&app, &c.dev.token, c.app_id(), release, "produktion").await;
    assert_eq!(
        promotion(&app, &c.t.token, id(&to_produktion)).await["may_decide"],
        false
    );
    assert_eq!(
        promotion(&app, &c.owner.token, id(&to_produktion)).await["may_decide"],
        true
    );
    let before = at_rest(&app).await;
    for token in [&c.t.token, &c.dev.token, &finance, &betreiber] {
        assert_forbidden(approve(&app, token, id(&to_produktion)).await).await;
    }
    assert_eq!(written(&app).await, before);
    let approved = expect_json(
        approve(&app, &c.owner.token, id(&to_produktion)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(approved["state"], "genehmigt", "{approved}");
}

async fn another_tenants_request_is_not_found_exactly_like_a_missing_one_and_stays_untouched(
    app: TestApp,
) {
    let c = chain(&app).await;
    let release = delivered_and_running(&app, &c, "1.0.0", &image(1)).await;
    let vorpruefung = deployed(&app, &c.dev.token, c.app_id(), release, "vorpruefung").await;
    let p = id(&request_ok(&app, &c.dev.token, c.app_id(), release, "abnahme").await);
    // Its own Systempfleger:in, developer and owner; eligible at home.
    let other = app.contract_with_room(20).await;
    let other_dev = app
        .user_with_roles(Some(other.customer_id), &[Role::Entwickler])
        .await;
    let other_owner = app
        .user_with_roles(Some(other.customer_id), &[Role::Verfahrensverantwortlicher])
        .await;
    let missing = p + 1_000_000;
    let missing_deployment = id(&vorpruefung) + 1_000_000;

    let before = at_rest(&app).await;
    for token in [&other.token, &other_dev, &other_owner] {
        for (theirs, none) in [
            (
                approve(&app, token, p).await,
                approve(&app, token, missing).await,
            ),
            (
                reject(&app, token, p, &json!({"reason": "nein"})).await,
                reject(&app, token, missing, &json!({"reason": "nein"})).await,
            ),
            (
                withdraw(&app, token, p).await,
                withdraw(&app, token, missing).await,
            ),
            (
                app.get(&format!("/api/v1/promotions/{p}"), token).await,
                app.get(&format!("/api/v1/promotions/{missing}"), token)
                    .await,
            ),
            (
                app.get(&format!("/api/v1/deployments/{}", id(&vorpruefung)), token)
                    .await,
                app.get(&format!("/api/v1/deployments/{missing_deployment}"), token)
                    .await,
            ),
            (
                retry(&app, token, id(&vorpruefung)).await,
                retry(&app, token, missing_deployment).await,
            ),
        ] {
            assert_eq!(assert_not_found(theirs).await, assert_not_found(none).await);
        }
        // Nor the application's releases, pipeline or promotions.
        assert_not_found(
            app.get(
                &format!("/api/v1/applications/{}/releases", c.app_id()),
                token,
            )
            .await,
        )
        .await;
        assert_not_found(
            app.get(
                &format!("/api/v1/applications/{}/pipeline", c.app_id()),
                token,
            )
            .await,
        )
        .await;
        assert_not_found(deliver(&app, token, c.app_id(), "9.0.0", &image(9)).await).await;
        assert_not_found(request(&app, token, c.app_id(), release, "abnahme").await).await;
        let listed = get_ok(&app, token, "/api/v1/promotions").await;
        assert_eq!(
            listed,
            json!({"items": [], "next": null, "total": 0}),
            "another tenant's requests are not listed"
        );
        let listed = get_ok(
            &app,
            token,
            &format!("/api/v1/promotions?application_id={}", c.app_id()),
        )
        .await;
        assert_eq!(listed, json!({"items": [], "next": null, "total": 0}));
    }
    assert_eq!(written(&app).await, before);
    assert_eq!(promotion(&app, &c.t.token, p).await["state"], "offen");
}

async fn a_request_is_decided_once_and_deciding_again_is_a_conflict(app: TestApp) {
    let c = chain(&app).await;
    let second = app.person(c.customer(), &[Role::Systempfleger]).await;
    let release = delivered_and_running(&app, &c, "1.0.0", &image(1)).await;

    // Approved, then decided again.
    let p = id(&request_ok(&app, &c.dev.token, c.app_id(), release, "abnahme").await);
    let approved = expect_json(approve(&app, &c.t.token, p).await, StatusCode::OK).await;
    finished(
        &app,
        &c.t.token,
        approved["deployment_id"].as_i64().unwrap(),
    )
    .await;
    let before = at_rest(&app).await;
    for again in [
        approve(&app, &second.token, p).await,
        approve(&app, &c.t.token, p).await,
        reject(&app, &second.token, p, &json!({"reason": "zu spät"})).await,
        withdraw(&app, &c.dev.token, p).await,
    ] {
        assert_problem(again, StatusCode::CONFLICT, "conflict").await;
    }
    assert_eq!(written(&app).await, before);
    let abnahme = environment_in(&app, c.app_id(), "abnahme").await;
    assert_eq!(deployments_in(&app, abnahme).await.len(), 1);

    // Rejected, then decided again.
    let p = id(&request_ok(&app, &c.dev.token, c.app_id(), release, "schulung").await);
    expect_json(
        reject(&app, &c.t.token, p, &json!({"reason": "Schulung ruht"})).await,
        StatusCode::OK,
    )
    .await;
    let before = at_rest(&app).await;
    for again in [
        approve(&app, &second.token, p).await,
        reject(&app, &second.token, p, &json!({"reason": "noch einmal"})).await,
        withdraw(&app, &c.dev.token, p).await,
    ] {
        assert_problem(again, StatusCode::CONFLICT, "conflict").await;
    }
    assert_eq!(written(&app).await, before);
    let view = promotion(&app, &c.dev.token, p).await;
    assert_eq!(
        (&view["state"], &view["reason"]),
        (&json!("abgelehnt"), &json!("Schulung ruht"))
    );
}

async fn the_checkup_refuses_unpinned_foreign_malformed_and_duplicate_deliveries_and_records_only_the_refusal(
    app: TestApp,
) {
    let c = chain(&app).await;
    let dev = c.dev.token.as_str();
    let first = delivered_and_running(&app, &c, "1.0.0", &image(1)).await;

    let cases: Vec<(&str, String, Value, &str)> = vec![
        (
            "1.1.0",
            "registry.rz.example/kfz/portal:1.1.0".into(),
            json!({}),
            "not-pinned",
        ),
        (
            "1.1.0",
            "registry.rz.example/kfz/portal".into(),
            json!({}),
            "not-pinned",
        ),
        (
            "1.1.0",
            format!("docker.io/library/nginx@{}", digest(2)),
            json!({}),
            "foreign-registry",
        ),
        (
            "1.1.0",
            format!("ghcr.io/kfz/portal:1.1.0@{}", digest(2)),
            json!({}),
            "foreign-registry",
        ),
        // The same version once more, even with another image.
        ("1.0.0", image(2), json!({}), "duplicate-version"),
        (
            "1.1.0",
            image(2),
            json!({"sbom": "md5:abc"}),
            "malformed-checksum",
        ),
        (
            "1.1.0",
            image(2),
            json!({"sbom": format!("sha256:{}", "AB".repeat(32))}),
            "malformed-checksum",
        ),
        (
            "1.1.0",
            format!("registry.rz.example/kfz/portal@{}", &digest(2)[..47]),
            json!({}),
            "malformed-image",
        ),
        (
            "1.1.0",
            format!("registry.rz.example/KFZ@{}", digest(2)),
            json!({}),
            "malformed-image",
        ),
        (
            "1.1.0",
            format!("portal@{}", digest(2)),
            json!({}),
            "malformed-image",
        ),
    ];
    let before = at_rest(&app).await;
    for (version, image, checksums, reason) in &cases {
        // A version taken or a registry off the allow-list refuses a
        // well-formed delivery (409); what the Checkup cannot read is 422.
        let status = match *reason {
            "duplicate-version" | "foreign-registry" => StatusCode::CONFLICT,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        let problem = assert_problem(
            deliver_body(
                &app,
                dev,
                c.app_id(),
                &json!({"version": version, "image": image, "checksums": checksums}),
            )
            .await,
            status,
            "checkup-refused",
        )
        .await;
        assert_eq!(problem["reason"], *reason, "{image}: {problem}");
        assert!(!problem["detail"].as_str().unwrap().is_empty(), "{problem}");
    }

    // Recorded as refused, each with its reason, and nothing else: no
    // deployment, no provisioning work, no request.
    let after_refusals = at_rest(&app).await;
    let recorded: Vec<_> = after_refusals.releases[before.releases.len()..].to_vec();
    assert_eq!(recorded.len(), cases.len(), "{after_refusals:?}");
    assert!(
        recorded.iter().all(|(_, checkup)| checkup == "abgelehnt"),
        "{recorded:?}"
    );
    assert_eq!(
        after_refusals,
        Written {
            releases: [before.releases.clone(), recorded.clone()].concat(),
            audit: before.audit + cases.len() as i64,
            ..before
        }
    );
    let listed = releases(&app, dev, c.app_id()).await;
    assert_eq!(listed.len(), cases.len() + 1, "{listed:?}");
    // Newest first: the refusals in reverse order of delivery, then 1.0.0.
    for (view, (version, image, _, reason)) in listed.iter().zip(cases.iter().rev()) {
        assert_eq!(view["checkup"], "abgelehnt", "{view}");
        assert_eq!(view["version"], *version, "{view}");
        assert_eq!(view["image"], image.as_str(), "as delivered: {view}");
        assert_eq!(view["refusal"]["reason"], *reason, "{view}");
        assert!(
            view["refusal"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{view}"
        );
        assert!(view.get("pinned_image").is_none(), "{view}");
        let rows = audit_of(&app, "release", id(view)).await;
        assert_eq!(
            who_did_what(&rows),
            vec![("release.refused".into(), c.dev.actor())]
        );
        assert_eq!(after(&rows[0])["reason"], *reason, "{rows:?}");
    }
    assert_eq!(listed.last().map(id), Some(first));
    assert_eq!(listed.last().unwrap()["checkup"], "bestanden");
    let p = pipeline(&app, dev, c.app_id()).await;
    assert_eq!(
        column(&p, "vorpruefung")["deployment"]["release_id"],
        first,
        "{p}"
    );

    // Input that is no delivery at all is not recorded.
    let before = at_rest(&app).await;
    for (body, field) in [
        (json!({"version": "", "image": image(5)}), "version"),
        (json!({"version": "1 0", "image": image(5)}), "version"),
        (json!({"version": "1.5.0", "image": "  "}), "image"),
    ] {
        assert_validation(deliver_body(&app, dev, c.app_id(), &body).await, field).await;
    }
    assert_eq!(written(&app).await, before);

    // A refused attempt does not take the version.
    let fixed = deliver_ok(&app, dev, c.app_id(), "1.1.0", &image(6)).await;
    assert_eq!(fixed["pinned_image"], image(6).as_str());
}

async fn a_rejection_needs_a_reason_which_the_requester_then_sees(app: TestApp) {
    let c = chain(&app).await;
    let release = delivered_and_running(&app, &c, "1.0.0", &image(1)).await;
    let p = id(&request_ok(&app, &c.dev.token, c.app_id(), release, "abnahme").await);

    let before = at_rest(&app).await;
    for body in [
        json!({}),
        json!({"reason": null}),
        json!({"reason": "   "}),
        json!({"reason": "x".repeat(2001)}),
    ] {
        assert_validation(reject(&app, &c.t.token, p, &body).await, "reason").await;
    }
    assert_eq!(written(&app).await, before);

    let rejected = expect_json(
        reject(
            &app,
            &c.t.token,
            p,
            &json!({"reason": "  Die Abnahmeumgebung ist diese Woche gesperrt. "}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(rejected["state"], "abgelehnt", "{rejected}");
    assert!(rejected.get("deployment_id").is_none(), "{rejected}");
    let seen = promotion(&app, &c.dev.token, p).await;
    assert_eq!(seen["state"], "abgelehnt", "{seen}");
    assert_eq!(
        seen["reason"], "Die Abnahmeumgebung ist diese Woche gesperrt.",
        "{seen}"
    );
    assert_eq!(seen["decided_by"], "Test Pfleger", "{seen}");
    assert!(seen["decided_at"].is_string(), "{seen}");

    // No deployment; one audit entry with the reason.
    let now = at_rest(&app).await;
    assert_eq!(
        (now.deployments.clone(), now.outbox),
        (before.deployments.clone(), before.outbox)
    );
    assert_eq!(now.audit, before.audit + 1);
    let rows = audit_of(&app, "promotion", p).await;
    assert_eq!(
        who_did_what(&rows),
        vec![
            ("promotion.requested".into(), c.dev.actor()),
            ("promotion.rejected".into(), c.maintainer()),
        ]
    );
    assert_eq!(
        after(&rows[1])["reason"],
        "Die Abnahmeumgebung ist diese Woche gesperrt."
    );
    let p = pipeline(&app, &c.dev.token, c.app_id()).await;
    assert!(column(&p, "abnahme").get("deployment").is_none(), "{p}");
    assert!(column(&p, "abnahme").get("pending").is_none(), "{p}");

    // The developer may ask again.
    request_ok(&app, &c.dev.token, c.app_id(), release, "abnahme").await;
}

async fn only_the_requester_withdraws_a_request_and_a_withdrawn_request_cannot_be_decided(
    app: TestApp,
) {
    let c = chain(&app).await;
    let colleague = app.user_with_roles(c.customer(), &[Role::Entwickler]).await;
    let release = delivered_and_running(&app, &c, "1.0.0", &image(1)).await;
    let p = id(&request_ok(&app, &c.dev.token, c.app_id(), release, "abnahme").await);

    let before = at_rest(&app).await;
    for token in [&c.t.token, &c.owner.token, &colleague] {
        assert_forbidden(withdraw(&app, token, p).await).await;
    }
    assert_eq!(written(&app).await, before);

    let withdrawn = expect_json(withdraw(&app, &c.dev.token, p).await, StatusCode::OK).await;
    assert_eq!(withdrawn["state"], "zurueckgezogen", "{withdrawn}");
    assert_eq!(inbox(&app, &c.t.token).await, Vec::<i64>::new());
    let before = at_rest(&app).await;
    for again in [
        approve(&app, &c.t.token, p).await,
        reject(&app, &c.t.token, p, &json!({"reason": "zu spät"})).await,
        withdraw(&app, &c.dev.token, p).await,
    ] {
        assert_problem(again, StatusCode::CONFLICT, "conflict").await;
    }
    assert_eq!(written(&app).await, before);
    let rows = audit_of(&app, "promotion", p).await;
    assert_eq!(
        who_did_what(&rows),
        vec![
            ("promotion.requested".into(), c.dev.actor()),
            ("promotion.withdrawn".into(), c.dev.actor()),
        ]
    );

    // The stage is free for a new request.
    let again = request_ok(&app, &c.dev.token, c.app_id(), release, "abnahme").await;
    expect_json(approve(&app, &c.t.token, id(&again)).await, StatusCode::OK).await;
}

// ----- at the same moment ------------------------------------------------

async fn simultaneous_approvals_of_one_request_start_exactly_one_deployment(app: TestApp) {
    let c = chain(&app).await;
    let second_maintainer = app.person(c.customer(), &[Role::Systempfleger]).await;
    let second_owner = app
        .person(c.customer(), &[Role::Verfahrensverantwortlicher])
        .await;
    let release = delivered_and_running(&app, &c, "1.0.0", &image(1)).await;

    let maintainers = [c.t.token.clone(), second_maintainer.token.clone()];
    let owners = [c.owner.token.clone(), second_owner.token.clone()];
    for (stage, approvers, names) in [
        ("abnahme", &maintainers, ["Test Pfleger", "Test Nutzer"]),
        ("schulung", &maintainers, ["Test Pfleger", "Test Nutzer"]),
        ("produktion", &owners, ["Test Nutzer", "Test Nutzer"]),
    ] {
        let p = id(&request_ok(&app, &c.dev.token, c.app_id(), release, stage).await);
        quiet(&app).await;
        let answers = join_all((0..8).map(|i| {
            let app = app.clone();
            let token = approvers[i % 2].clone();
            tokio::spawn(async move {
                let resp = approve(&app, &token, p).await;
                let status = resp.status();
                (i % 2, status, resp.text().await.unwrap())
            })
        }))
        .await;
        let answers: Vec<_> = answers.into_iter().map(Result::unwrap).collect();
        let won: Vec<_> = answers
            .iter()
            .filter(|(_, s, _)| *s == StatusCode::OK)
            .collect();
        assert_eq!(
            won.len(),
            1,
            "{stage}: exactly one approval takes effect: {answers:?}"
        );
        for (_, status, body) in answers.iter().filter(|(_, s, _)| *s != StatusCode::OK) {
            assert_eq!(*status, StatusCode::CONFLICT, "{stage}: {body}");
            let problem: Value = serde_json::from_str(body).unwrap();
            assert_eq!(problem["type"], "urn:kontor:problem:conflict", "{body}");
        }
        let approved: Value = serde_json::from_str(&won[0].2).unwrap();
        assert_eq!(approved["decided_by"], names[won[0].0], "{approved}");

        let env = environment_in(&app, c.app_id(), stage).await;
        let deployments = deployments_in(&app, env).await;
        assert_eq!(deployments.len(), 1, "{stage}: {deployments:?}");
        assert_eq!(approved["deployment_id"], deployments[0].0, "{approved}");
        let approvals: Vec<_> = audit_of(&app, "promotion", p)
            .await
            .into_iter()
            .filter(|r| r.action == "promotion.approved")
            .collect();
        assert_eq!(approvals.len(), 1, "{stage}: {approvals:?}");
        let d = finished(&app, &c.t.token, deployments[0].0).await;
        assert_eq!(d["state"], "erfolgreich", "{d}");
    }
}

async fn simultaneous_deliveries_of_one_version_accept_exactly_one(app: TestApp) {
    let c = chain(&app).await;
    let answers = join_all((0..8u64).map(|i| {
        let app = app.clone();
        let (token, application_id) = (c.dev.token.clone(), c.app_id());
        tokio::spawn(async move {
            let resp = deliver(&app, &token, application_id, "2.0.0", &image(i)).await;
            let status = resp.status();
            (status, resp.text().await.unwrap())
        })
    }))
    .await;
    let answers: Vec<_> = answers.into_iter().map(Result::unwrap).collect();
    let accepted = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    assert_eq!(accepted, 1, "{answers:?}");
    for (status, body) in answers.iter().filter(|(s, _)| *s != StatusCode::CREATED) {
        assert_eq!(*status, StatusCode::CONFLICT, "{body}");
        let problem: Value = serde_json::from_str(body).unwrap();
        assert_eq!(problem["reason"], "duplicate-version", "{body}");
    }
    let listed = releases(&app, &c.dev.token, c.app_id()).await;
    let accepted: Vec<_> = listed
        .iter()
        .filter(|r| r["checkup"] == "bestanden")
        .collect();
    assert_eq!(accepted.len(), 1, "{listed:?}");
    let vorpruefung = environment_in(&app, c.app_id(), "vorpruefung").await;
    assert_eq!(deployments_in(&app, vorpruefung).await.len(), 1);
    quiet(&app).await;
    // A refused delivery is recorded however it was refused, also when it
    // lost the race to the partial unique index on PostgreSQL (both saw no
    // accepted version before either committed).
    let refused: Vec<_> = listed
        .iter()
        .filter(|r| r["checkup"] == "abgelehnt")
        .collect();
    assert_eq!(refused.len(), 7, "every refusal is recorded: {listed:?}");
    for r in refused {
        assert_eq!(r["refusal"]["reason"], "duplicate-version", "{r}");
        let rows = audit_of(&app, "release", id(r)).await;
        assert_eq!(
            who_did_what(&rows),
            vec![("release.refused".into(), c.dev.actor())]
        );
    }
}

// ----- deployments that fail ---------------------------------------------

async fn a_delivery_with_nothing_booked_in_vorpruefung_fails_to_deploy_saying_so_and_succeeds_on_retry_after_booking(
    app: TestApp,
) {
    let t = app.contract_with_room(20).await;
    let dev = app.person(Some(t.customer_id), &[Role::Entwickler]).await;
    let before = at_rest(&app).await;

    let delivered = expect_json(
        deliver(&app, &dev.token, t.application_id, "1.0.0", &image(1)).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(delivered["checkup"], "bestanden", "{delivered}");
    let release = id(&delivered);
    let failed = deployed(&app, &dev.token, t.application_id, release, "vorpruefung").await;
    assert_eq!(failed["state"], "fehlgeschlagen", "{failed}");
    let message = failed["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("nichts gebucht"),
        "says nothing is booked: {failed}"
    );
    assert!(failed["finished_at"].is_string(), "{failed}");
    assert_eq!(deployment(&app, &dev.token, id(&failed)).await, failed);
    // Nothing for the reconciler to do.
    assert_eq!(at_rest(&app).await.outbox, before.outbox);
    // Booked: the developer retries in Vorprüfung, and it runs.
    app.book_ok(
        &t.token,
        t.application_id,
        "vorpruefung",
        "container-namespace",
        "S",
    )
    .await;
    let again = expect_json(
        retry(&app, &dev.token, id(&failed)).await,
        StatusCode::CREATED,
    )
    .await;
    assert_ne!(id(&again), id(&failed));
    assert_eq!(again["release_id"], release, "{again}");
    let done = finished(&app, &dev.token, id(&again)).await;
    assert_eq!(done["state"], "erfolgreich", "{done}");
    let namespace = app
        .namespace_of(done["environment_id"].as_i64().unwrap())
        .await;
    let file = app
        .settings
        .data_dir
        .join("manifests")
        .join(&namespace)
        .join(format!("08-deployment-{APP_SLUG}.yaml"));
    let yaml = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    assert!(yaml.contains(&image(1)), "{yaml}");
    let retried = audit_of(&app, "deployment", id(&again)).await;
    assert_eq!(
        who_did_what(&retried),
        vec![
            ("deployment.retried".into(), dev.actor()),
            ("deployment.succeeded".into(), SYSTEM_ACTOR.into()),
        ]
    );
    // The old failure is superseded; the success is no failure.
    assert_problem(
        retry(&app, &dev.token, id(&failed)).await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    assert_problem(
        retry(&app, &dev.token, id(&again)).await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;

    // A deployment that fails at once (nothing booked) is a deployment
    // result like any other: it is in the audit log, by the system actor.
    let rows = audit_of(&app, "deployment", id(&failed)).await;
    assert_eq!(
        rows.iter().map(|r| r.action.as_str()).collect::<Vec<_>>(),
        vec!["deployment.failed"],
        "the immediate failure is a deployment result: {rows:?}"
    );
    assert!(
        after(&rows[0])["message"]
            .as_str()
            .is_some_and(|m| m.contains("nichts gebucht")),
        "{rows:?}"
    );
}

async fn a_rollout_that_fails_in_the_cluster_shows_the_clusters_message_and_succeeds_on_retry(
    backend: Backend,
) {
    let fake = FakeKube::start().await;
    let app = spawn_on_fake(backend, &fake).await;
    let c = chain(&app).await;
    let sp = c.t.token.as_str();
    let vorpruefung = namespace_in(&app, c.app_id(), "vorpruefung").await;
    let pull = "Back-off pulling image \"registry.rz.example/kfz/portal\": ErrImagePull";
    fake.fail_rollout(&vorpruefung, APP_SLUG, Some(pull));

    // The rollout fails in the cluster: failed, with the cluster's words.
    let release = id(&deliver_ok(&app, &c.dev.token, c.app_id(), "1.0.0", &image(1)).await);
    let failed = deployed(&app, &c.dev.token, c.app_id(), release, "vorpruefung").await;
    assert_eq!(failed["state"], "fehlgeschlagen", "{failed}");
    let message = failed["message"].as_str().unwrap_or_default();
    assert!(message.contains(pull), "the cluster's message: {failed}");
    assert_eq!(deployment(&app, &c.dev.token, id(&failed)).await, failed);
    let live = fake
        .get("deployments", Some(&vorpruefung), APP_SLUG)
        .expect("the Deployment was applied");
    assert_eq!(
        live["spec"]["template"]["spec"]["containers"][0]["image"],
        image(1).as_str()
    );
    let rows = audit_of(&app, "deployment", id(&failed)).await;
    assert_eq!(
        who_did_what(&rows),
        vec![("deployment.failed".into(), SYSTEM_ACTOR.into())]
    );
    assert!(
        after(&rows[0])["message"].as_str().unwrap().contains(pull),
        "{rows:?}"
    );
    // Not promoted while it fails.
    assert_problem(
        request(&app, &c.dev.token, c.app_id(), release, "abnahme").await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;

    // The image can be pulled now; the developer retries in Vorprüfung.
    fake.fail_rollout(&vorpruefung, APP_SLUG, None);
    let again = expect_json(
        retry(&app, &c.dev.token, id(&failed)).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(again["state"], "laeuft", "{again}");
    let done = finished(&app, &c.dev.token, id(&again)).await;
    assert_eq!(done["state"], "erfolgreich", "{done}");
    let live = fake
        .get("deployments", Some(&vorpruefung), APP_SLUG)
        .unwrap();
    assert_eq!(
        live["spec"]["template"]["metadata"]["annotations"]["kontor/deployment"],
        id(&again).to_string(),
        "the retry is a new rollout: {live}"
    );
    let p = pipeline(&app, sp, c.app_id()).await;
    assert_eq!(
        column(&p, "vorpruefung")["deployment"]["id"],
        id(&again),
        "{p}"
    );
    assert_eq!(
        column(&p, "vorpruefung")["deployment"]["state"],
        "erfolgreich",
        "{p}"
    );

    // Neither a superseded failure nor a success is retried.
    let before = at_rest(&app).await;
    assert_problem(
        retry(&app, sp, id(&failed)).await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    assert_problem(
        retry(&app, sp, id(&again)).await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    assert_eq!(written(&app).await, before);

    // In Abnahme: failed in the cluster; a developer may not retry there,
    // the Systempfleger:in may.
    let abnahme = namespace_in(&app, c.app_id(), "abnahme").await;
    let deadline = "ReplicaSet \"fachverfahren-5d8f\" has timed out progressing.";
    fake.fail_rollout(&abnahme, APP_SLUG, Some(deadline));
    let p = request_ok(&app, &c.dev.token, c.app_id(), release, "abnahme").await;
    let approved = expect_json(approve(&app, sp, id(&p)).await, StatusCode::OK).await;
    let failed = finished(&app, sp, approved["deployment_id"].as_i64().unwrap()).await;
    assert_eq!(failed["state"], "fehlgeschlagen", "{failed}");
    assert!(
        failed["message"].as_str().unwrap().contains(deadline),
        "{failed}"
    );
    let shown = pipeline(&app, &c.dev.token, c.app_id()).await;
    let col = column(&shown, "abnahme");
    assert_eq!(col["deployment"]["state"], "fehlgeschlagen", "{shown}");
    assert!(
        col["deployment"]["message"]
            .as_str()
            .unwrap()
            .contains(deadline),
        "{shown}"
    );

    fake.fail_rollout(&abnahme, APP_SLUG, None);
    let before = at_rest(&app).await;
    assert_forbidden(retry(&app, &c.dev.token, id(&failed)).await).await;
    assert_forbidden(retry(&app, &c.owner.token, id(&failed)).await).await;
    assert_eq!(written(&app).await, before);
    let again = expect_json(retry(&app, sp, id(&failed)).await, StatusCode::CREATED).await;
    let done = finished(&app, sp, id(&again)).await;
    assert_eq!(done["state"], "erfolgreich", "{done}");
    assert_eq!(done["stage"], "abnahme", "{done}");
    let live = fake.get("deployments", Some(&abnahme), APP_SLUG).unwrap();
    assert_eq!(
        live["spec"]["template"]["spec"]["containers"][0]["image"],
        image(1).as_str()
    );
    let rows = audit_of(&app, "deployment", id(&again)).await;
    assert_eq!(
        who_did_what(&rows),
        vec![
            ("deployment.retried".into(), c.maintainer()),
            ("deployment.succeeded".into(), SYSTEM_ACTOR.into()),
        ]
    );
    // Now it can go on.
    request_ok(&app, &c.dev.token, c.app_id(), release, "schulung").await;
}

async fn the_registry_allow_list_comes_from_the_settings(backend: Backend) {
    let app = TestApp::spawn_configured(backend, true, |settings| {
        settings.registries = " harbor.land.example , registry.rz.example:5000 ".into();
    })
    .await;
    let t = app.contract_with_room(20).await;
    let dev = app
        .user_with_roles(Some(t.customer_id), &[Role::Entwickler])
        .await;
    let accepted: BTreeMap<&str, String> = [
        (
            "1.0.0",
            format!("harbor.land.example/kfz/portal@{}", digest(1)),
        ),
        (
            "1.0.1",
            format!("HARBOR.land.example/kfz/portal@{}", digest(2)),
        ),
        (
            "1.0.2",
            format!("registry.rz.example:5000/kfz/portal@{}", digest(3)),
        ),
    ]
    .into();
    for (version, image) in &accepted {
        let release = deliver_ok(&app, &dev, t.application_id, version, image).await;
        assert_eq!(
            release["pinned_image"],
            image.replace("HARBOR", "harbor"),
            "{release}"
        );
    }
    // The default is no longer on the list.
    let problem = assert_problem(
        deliver(&app, &dev, t.application_id, "1.0.3", &image(4)).await,
        StatusCode::CONFLICT,
        "checkup-refused",
    )
    .await;
    assert_eq!(problem["reason"], "foreign-registry", "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("registry.rz.example"),
        "names the registry: {problem}"
    );
}

async fn a_deployment_superseded_before_its_rollout_is_closed_promptly_and_not_failed_by_the_timeout(
    backend: Backend,
) {
    let fake = FakeKube::start().await;
    // A short rollout timeout, so that what becomes of the superseded
    // deployment shows within the test's patience.
    let app = spawn_on(backend, &[("fake", &fake, &ALL_STAGES)], |settings| {
        settings.rollout_timeout_seconds = 3;
    })
    .await;
    let c = chain(&app).await;
    let dev = c.dev.token.as_str();
    // The cluster refuses writes for a moment (500: the client does not
    // retry that by itself): both deliveries wait in the outbox, and only
    // the second one's Deployment is ever applied.
    fake.fail_writes(Some(500));
    let first = id(&deliver_ok(&app, dev, c.app_id(), "1.0.0", &image(1)).await);
    let second = id(&deliver_ok(&app, dev, c.app_id(), "1.1.0", &image(2)).await);
    // An attempt that read the desired state before the second delivery
    // may still send its write; the one after it read it afterwards.
    let seen = fake.request_log().len();
    until("two more refused attempts", async || {
        (fake.request_log().len() >= seen + 2).then_some(())
    })
    .await;
    fake.fail_writes(None);
    let latest = deployed(&app, dev, c.app_id(), second, "vorpruefung").await;
    assert_eq!(latest["state"], "erfolgreich", "{latest}");
    let namespace = namespace_in(&app, c.app_id(), "vorpruefung").await;
    let live = fake.get("deployments", Some(&namespace), APP_SLUG).unwrap();
    assert_eq!(
        live["spec"]["template"]["spec"]["containers"][0]["image"],
        image(2).as_str()
    );

    let env = environment_in(&app, c.app_id(), "vorpruefung").await;
    let superseded = deployments_in(&app, env).await[0].0;
    assert_eq!(deployment(&app, dev, superseded).await["release_id"], first);
    // A deployment whose rollout was never decided before a newer one took
    // its place is closed as superseded at once, not left running until the
    // rollout timeout reports a failure that never happened.
    let closed = until_within(
        Duration::from_secs(10),
        "the superseded deployment is closed",
        async || {
            let d = deployment(&app, dev, superseded).await;
            (d["state"] != "laeuft").then_some(d)
        },
    )
    .await;
    assert_ne!(closed["state"], "erfolgreich", "it never ran: {closed}");
    assert!(
        !closed["message"]
            .as_str()
            .unwrap_or_default()
            .contains("Zeitüberschreitung"),
        "{closed}"
    );
}

async fn a_rollback_is_the_promotion_of_an_earlier_release_approved_like_any_other(app: TestApp) {
    let c = chain(&app).await;
    let sp = c.t.token.clone();
    let owner = c.owner.token.clone();
    let old = delivered_and_running(&app, &c, "1.0.0", &image(1)).await;
    promoted(&app, &c, old, "abnahme", &sp).await;
    promoted(&app, &c, old, "schulung", &sp).await;
    promoted(&app, &c, old, "produktion", &owner).await;
    let new = delivered_and_running(&app, &c, "1.1.0", &image(2)).await;
    promoted(&app, &c, new, "abnahme", &sp).await;
    promoted(&app, &c, new, "schulung", &sp).await;
    promoted(&app, &c, new, "produktion", &owner).await;

    // 1.1.0 misbehaves in Produktion: back to 1.0.0, which ran there before.
    // A rollback is the promotion of an earlier release: a release may
    // return to a stage it has run in successfully before, approved like
    // any promotion (it could never reach the stage before it again).
    let back = request_ok(&app, &c.dev.token, c.app_id(), old, "produktion").await;
    assert_eq!(back["version"], "1.0.0", "{back}");
    let approved = expect_json(approve(&app, &owner, id(&back)).await, StatusCode::OK).await;
    let d = finished(&app, &sp, approved["deployment_id"].as_i64().unwrap()).await;
    assert_eq!(d["state"], "erfolgreich", "{d}");
    assert_eq!(d["version"], "1.0.0", "{d}");
    let p = pipeline(&app, &sp, c.app_id()).await;
    assert_eq!(
        column(&p, "produktion")["deployment"]["version"],
        "1.0.0",
        "{p}"
    );
    assert_eq!(
        column(&p, "schulung")["deployment"]["version"],
        "1.1.0",
        "{p}"
    );
    let namespace = app
        .namespace_of(d["environment_id"].as_i64().unwrap())
        .await;
    let file = app
        .settings
        .data_dir
        .join("manifests")
        .join(&namespace)
        .join(format!("08-deployment-{APP_SLUG}.yaml"));
    let yaml = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    assert!(
        yaml.contains(&image(1)),
        "runs 1.0.0's digest again: {yaml}"
    );
}

async fn post_with_key(
    app: &TestApp,
    path: &str,
    token: &str,
    key: &str,
    body: &Value,
) -> Response {
    app.request(Method::POST, path)
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .expect("POST")
}

fn replayed(resp: &Response) -> bool {
    resp.headers()
        .get("idempotent-replayed")
        .is_some_and(|v| v == "true")
}

async fn a_delivery_and_a_request_retried_with_the_same_idempotency_key_are_made_once(
    app: TestApp,
) {
    let c = chain(&app).await;
    let dev = c.dev.token.as_str();
    // Creating calls accept an `Idempotency-Key` (DESIGN.md): a delivery or
    // a request retried after a lost answer gets the first answer back,
    // marked as a replay, instead of a duplicate-version refusal or a 409.
    let releases_path = format!("/api/v1/applications/{}/releases", c.app_id());
    let body = json!({"version": "1.0.0", "image": image(1)});
    let first = post_with_key(&app, &releases_path, dev, "lieferung-1.0.0", &body).await;
    assert!(!replayed(&first));
    let first = expect_json(first, StatusCode::CREATED).await;
    let again = post_with_key(&app, &releases_path, dev, "lieferung-1.0.0", &body).await;
    assert!(replayed(&again), "the retry says it is a replay");
    assert_eq!(
        id(&expect_json(again, StatusCode::CREATED).await),
        id(&first)
    );
    assert_eq!(
        releases(&app, dev, c.app_id()).await.len(),
        1,
        "one delivery"
    );
    let env = environment_in(&app, c.app_id(), "vorpruefung").await;
    assert_eq!(deployments_in(&app, env).await.len(), 1, "one deployment");

    deployed(&app, dev, c.app_id(), id(&first), "vorpruefung").await;
    let promotions_path = format!("/api/v1/applications/{}/promotions", c.app_id());
    let body = json!({"release_id": id(&first), "to_stage": "abnahme"});
    let request = expect_json(
        post_with_key(&app, &promotions_path, dev, "antrag-abnahme", &body).await,
        StatusCode::CREATED,
    )
    .await;
    let again = post_with_key(&app, &promotions_path, dev, "antrag-abnahme", &body).await;
    assert!(replayed(&again), "the retry says it is a replay");
    assert_eq!(
        id(&expect_json(again, StatusCode::CREATED).await),
        id(&request)
    );
}

async fn a_release_whose_environment_was_dissolved_no_longer_runs_there_and_is_not_promoted_from_it(
    app: TestApp,
) {
    let c = chain(&app).await;
    let release = delivered_and_running(&app, &c, "1.0.0", &image(1)).await;
    promoted(&app, &c, release, "abnahme", &c.t.token).await;
    let env = environment_in(&app, c.app_id(), "abnahme").await;
    for booking in app.open_bookings_in(env).await {
        expect_json(app.cancel(&c.t.token, booking).await, StatusCode::OK).await;
    }
    expect_json(
        app.post(&format!("/api/v1/environments/{env}/dissolve"), &c.t.token)
            .await,
        StatusCode::ACCEPTED,
    )
    .await;
    app.settle().await;
    let namespace = app.namespace_of(env).await;
    assert!(
        !app.settings
            .data_dir
            .join("manifests")
            .join(&namespace)
            .exists(),
        "the namespace is gone"
    );

    // A dissolved environment runs nothing: what ran there is no longer
    // promotable from it, and the pipeline shows the stage empty.
    let before = at_rest(&app).await;
    assert_problem(
        request(&app, &c.dev.token, c.app_id(), release, "schulung").await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    assert_eq!(written(&app).await, before);
}

// ----- the developers' CLI -----------------------------------------------

async fn the_developers_cli_pushes_and_promotes_with_exit_codes_a_pipeline_can_branch_on(
    app: TestApp,
) {
    let c = chain(&app).await;
    let url = Some(app.address.as_str());
    let dev = Some(c.dev.token.as_str());
    let app_id = c.app_id().to_string();
    let push = |version: &'static str, image: String| {
        let app_id = app_id.clone();
        async move {
            kontor_cli(
                url,
                dev,
                &[
                    "release",
                    "push",
                    "--app",
                    &app_id,
                    "--version",
                    version,
                    "--image",
                    &image,
                ],
            )
            .await
        }
    };

    let (code, out, err) = push("1.0.0", image(1)).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("1.0.0") && out.contains("angenommen"), "{out}");
    let (code, _, err) = push("1.0.1", "registry.rz.example/kfz/portal:1.0.1".into()).await;
    assert_eq!(code, 1, "refused: {err}");
    assert!(err.contains("[not-pinned]"), "{err}");

    let release = releases(&app, &c.dev.token, c.app_id())
        .await
        .into_iter()
        .find(|r| r["version"] == "1.0.0")
        .map(|r| id(&r))
        .expect("1.0.0 delivered");
    deployed(&app, &c.dev.token, c.app_id(), release, "vorpruefung").await;
    let promote = |to: &'static str| {
        let app_id = app_id.clone();
        async move { kontor_cli(url, dev, &["promote", "--app", &app_id, "--to", to]).await }
    };
    let (code, out, err) = promote("abnahme").await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Freigabe beantragt"), "{out}");
    let (code, _, err) = promote("abnahme").await;
    assert_eq!(code, 1, "a request is open already: {err}");
    let (code, _, err) = promote("schulung").await;
    assert_eq!(code, 1, "nothing runs in Abnahme yet: {err}");
    let (code, _, err) = promote("vorpruefung").await;
    assert_eq!(code, 2, "Vorprüfung is entered by delivery: {err}");

    let (code, _, err) =
        kontor_cli(url, None, &["promote", "--app", &app_id, "--to", "abnahme"]).await;
    assert_eq!(code, 2, "no token: {err}");
    assert!(err.contains("KONTOR_TOKEN"), "{err}");
    let (code, _, err) = kontor_cli(
        Some("http://127.0.0.1:1"),
        dev,
        &["promote", "--app", &app_id, "--to", "abnahme"],
    )
    .await;
    assert_eq!(code, 3, "nobody listens there: {err}");
}

async fn an_approval_card_shows_checkup_digest_what_it_replaces_and_the_stage_before_and_approving_asks_first(
    app: TestApp,
) {
    let c = chain(&app).await;
    // 1.0.0 runs in Vorprüfung and Abnahme; 2.0.0 in Vorprüfung, asked
    // into Abnahme (replacing 1.0.0); 1.0.0 asked into Schulung (empty).
    let first = delivered_and_running(&app, &c, "1.0.0", &image(1)).await;
    promoted(&app, &c, first, "abnahme", &c.t.token).await;
    let second = delivered_and_running(&app, &c, "2.0.0", &image(2)).await;
    let into_abnahme = id(&request_ok(&app, &c.dev.token, c.app_id(), second, "abnahme").await);
    request_ok(&app, &c.dev.token, c.app_id(), first, "schulung").await;

    let sp = crate::pages_help::log_in(&app, &c.t.login).await;
    let (status, inbox) = sp.get("/freigaben").await;
    assert_eq!(status, StatusCode::OK);
    let card = |title: &str| {
        let at = inbox
            .find(title)
            .unwrap_or_else(|| panic!("no card {title}"));
        let rest = &inbox[at..];
        rest[..rest.find("</article>").expect("card end")].to_owned()
    };
    let abnahme = card("Lieferung 2.0.0 nach Abnahme");
    assert!(abnahme.contains("Checkup"), "{abnahme}");
    assert!(abnahme.contains(">bestanden<"), "{abnahme}");
    // The digest short, and whole (wrapping) a click away.
    assert!(
        abnahme.contains("<code>sha256:000000000000…</code>"),
        "{abnahme}"
    );
    assert!(
        abnahme.contains(&format!(">{}</code>", digest(2))),
        "{abnahme}"
    );
    assert!(abnahme.contains("Ersetzt in Abnahme"), "{abnahme}");
    assert!(
        abnahme.contains("Lieferung 1.0.0, läuft seit "),
        "{abnahme}"
    );
    assert!(abnahme.contains("In Vorprüfung"), "{abnahme}");
    let schulung = card("Lieferung 1.0.0 nach Schulung");
    assert!(
        schulung.contains("nichts – erste Lieferung in dieser Stufe"),
        "{schulung}"
    );
    // Its stage before is Abnahme, where it runs.
    assert!(schulung.contains("In Abnahme"), "{schulung}");
    assert!(schulung.contains("läuft seit "), "{schulung}");
    // The approve button opens the confirmation (a GET form, no token).
    let approve_form =
        format!("<form method=\"get\" action=\"/freigaben/{into_abnahme}/genehmigen\">");
    assert!(abnahme.contains(&approve_form), "{abnahme}");

    // The confirmation names what is replaced and decides nothing.
    let before = written(&app).await;
    let confirm = format!("/freigaben/{into_abnahme}/genehmigen?zurueck=freigaben");
    let (status, page) = sp.get(&confirm).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Freigabe bestätigen"), "{page}");
    assert!(
        page.contains("Verbindlich genehmigen: 2.0.0 nach Abnahme"),
        "{page}"
    );
    assert!(
        page.contains("und löst dort ab: Lieferung 1.0.0, läuft seit"),
        "{page}"
    );
    assert!(
        page.contains(&format!(
            "<form method=\"post\" action=\"/freigaben/{into_abnahme}/genehmigen\">"
        )),
        "{page}"
    );
    assert_eq!(
        written(&app).await,
        before,
        "the confirmation page writes nothing"
    );
    assert_eq!(
        promotion(&app, &c.t.token, into_abnahme).await["state"],
        "offen"
    );
    // The requester may not decide; another tenant's id is not found.
    let dev = crate::pages_help::log_in(&app, &c.dev.login).await;
    let (status, page) = dev.get(&confirm).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{page}");
    assert!(page.contains("Vier-Augen-Prinzip"), "{page}");
    let other = app.contract_with_room(4).await;
    let stranger = crate::pages_help::log_in(&app, &other.login).await;
    assert_eq!(stranger.get(&confirm).await.0, StatusCode::NOT_FOUND);

    // "Verbindlich genehmigen" decides, once.
    let (status, location) = sp
        .post(
            &format!("/freigaben/{into_abnahme}/genehmigen"),
            &[("zurueck", "freigaben")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{location}");
    assert_eq!(
        promotion(&app, &c.t.token, into_abnahme).await["state"],
        "genehmigt"
    );
    let (status, page) = sp.get(&confirm).await;
    assert_eq!(status, StatusCode::CONFLICT, "{page}");
    assert!(page.contains("bereits entschieden"), "{page}");
}
