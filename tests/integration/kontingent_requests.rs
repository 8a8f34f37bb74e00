//! Kontingent-Änderungsantrag through the API: instead of a ticket, the
//! Systempfleger:in asks for more and the Betreiber decides — someone else,
//! once, with the contract changed in the same transaction.

use kontor::domain::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::support::{
    Backend, TestApp, assert_forbidden, assert_not_found, assert_problem, assert_validation,
    expect_json, id, kontor_cli,
};

api_tests! {
    a_refused_booking_offers_the_request_that_makes_room_and_after_approval_it_succeeds,
    the_requester_never_decides_and_only_the_betreiber_does,
    a_rejection_needs_a_reason_and_a_withdrawal_is_the_requesters,
    of_simultaneous_decisions_exactly_one_counts,
    another_tenants_requests_are_not_found_and_theirs_cannot_be_asked_for,
    bad_requests_are_refused_naming_the_field_and_write_nothing,
    the_betreiber_may_grant_other_values_but_not_below_what_is_booked,
    one_open_request_per_contract_and_a_retry_with_the_same_key_is_the_same_request,
    a_script_asks_with_kontor_kontingent_request_and_learns_from_the_exit_code,
}

cluster_tests! {
    with_the_cosign_setting_a_budget_increase_needs_the_customers_finance_first,
}

async fn betreiber(app: &TestApp) -> String {
    app.token_for("betreiber").await
}

fn requests_path(contract_id: i64) -> String {
    format!("/api/v1/contracts/{contract_id}/kontingent-requests")
}

async fn ask(app: &TestApp, token: &str, contract_id: i64, body: &Value) -> reqwest::Response {
    app.post_json(&requests_path(contract_id), token, body)
        .await
}

async fn ask_ok(app: &TestApp, token: &str, contract_id: i64, vcpu_millicores: i64) -> Value {
    expect_json(
        ask(
            app,
            token,
            contract_id,
            &json!({"kontingent": {"vcpu_millicores": vcpu_millicores}, "reason": "Lasttest im Dezember"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await
}

async fn contract(app: &TestApp, token: &str, contract_id: i64) -> Value {
    expect_json(
        app.get(&format!("/api/v1/contracts/{contract_id}"), token)
            .await,
        StatusCode::OK,
    )
    .await
}

async fn a_refused_booking_offers_the_request_that_makes_room_and_after_approval_it_succeeds(
    app: TestApp,
) {
    // Room for one S (2 vCPU) of container-namespace.
    let t = app.contract_with_room(2).await;
    app.book_ok(
        &t.token,
        t.application_id,
        "vorpruefung",
        "container-namespace",
        "S",
    )
    .await;
    let refused = assert_problem(
        app.book(
            &t.token,
            t.application_id,
            "abnahme",
            "container-namespace",
            "S",
        )
        .await,
        StatusCode::CONFLICT,
        "kontingent-exceeded",
    )
    .await;
    let link = &refused["links"][0];
    assert_eq!(link["rel"], "kontingent-request", "{refused}");
    assert_eq!(link["method"], "POST");
    assert_eq!(link["href"], requests_path(t.contract_id));
    assert_eq!(
        link["body"]["kontingent"]["vcpu_millicores"], 4000,
        "{refused}"
    );

    // The offered request, as it is, with a reason.
    let mut body = link["body"].clone();
    body["reason"] = json!("Abnahme beginnt nächste Woche.");
    let request = expect_json(
        app.post_json(link["href"].as_str().unwrap(), &t.token, &body)
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(request["state"], "offen");
    assert_eq!(
        request["may_decide"], false,
        "not the requester's to decide"
    );

    let b = betreiber(&app).await;
    let waiting = expect_json(
        app.get("/api/v1/kontingent-requests?state=offen", &b).await,
        StatusCode::OK,
    )
    .await;
    let mine = waiting["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["id"] == request["id"])
        .expect("the Betreiber sees the open request");
    assert_eq!(mine["may_decide"], true);

    let approved = expect_json(
        app.post_json(
            &format!("/api/v1/kontingent-requests/{}/approve", id(&request)),
            &b,
            &json!({"reason": "Passt."}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(approved["state"], "genehmigt");
    assert_eq!(approved["granted"]["vcpu_millicores"], 4000);
    assert_eq!(
        contract(&app, &t.token, t.contract_id).await["kontingent"]["vcpu_millicores"],
        4000
    );
    app.book_ok(
        &t.token,
        t.application_id,
        "abnahme",
        "container-namespace",
        "S",
    )
    .await;

    // Audited with before and after, in the same transaction.
    let (before, after): (String, String) = sqlx::query_as(
        "SELECT before_json, after_json FROM audit_log WHERE action = 'contract.kontingent_changed' \
         AND object_id = $1",
    )
    .bind(t.contract_id)
    .fetch_one(&app.db().pool)
    .await
    .expect("the contract's change is audited");
    assert!(before.contains("\"vcpu_millicores\":2000"), "{before}");
    assert!(after.contains("\"vcpu_millicores\":4000"), "{after}");
}

async fn the_requester_never_decides_and_only_the_betreiber_does(app: TestApp) {
    let t = app.contract_with_room(4).await;
    // Someone who is Betreiber and the customer's Systempfleger:in at once
    // asks; as Betreiber they still may not decide their own request.
    let both = app
        .user_with_roles(Some(t.customer_id), &[Role::Systempfleger, Role::Betreiber])
        .await;
    let request = ask_ok(&app, &both, t.contract_id, 8000).await;
    let approve = format!("/api/v1/kontingent-requests/{}/approve", id(&request));
    let p = assert_problem(
        app.post_json(&approve, &both, &json!({})).await,
        StatusCode::FORBIDDEN,
        "four-eyes",
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("Vier-Augen"), "{p}");
    for roles in [
        &[Role::Systempfleger][..],
        &[Role::Finanzen],
        &[Role::Entwickler],
        &[Role::Verfahrensverantwortlicher],
    ] {
        let someone = app.user_with_roles(Some(t.customer_id), roles).await;
        assert_forbidden(app.post_json(&approve, &someone, &json!({})).await).await;
    }
    // Asking is the Systempfleger:in's.
    for roles in [
        &[Role::Finanzen][..],
        &[Role::Entwickler],
        &[Role::Betreiber],
    ] {
        let customer = if roles == [Role::Betreiber] {
            None
        } else {
            Some(t.customer_id)
        };
        let someone = app.user_with_roles(customer, roles).await;
        assert_forbidden(
            ask(
                &app,
                &someone,
                t.contract_id,
                &json!({"kontingent": {"storage_gib": 999}, "reason": "x"}),
            )
            .await,
        )
        .await;
    }
    let approved = expect_json(
        app.post_json(&approve, &betreiber(&app).await, &json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(approved["state"], "genehmigt");
}

async fn a_rejection_needs_a_reason_and_a_withdrawal_is_the_requesters(app: TestApp) {
    let t = app.contract_with_room(4).await;
    let b = betreiber(&app).await;
    let request = ask_ok(&app, &t.token, t.contract_id, 6000).await;
    let reject = format!("/api/v1/kontingent-requests/{}/reject", id(&request));
    assert_validation(app.post_json(&reject, &b, &json!({})).await, "reason").await;
    let rejected = expect_json(
        app.post_json(
            &reject,
            &b,
            &json!({"reason": "Bitte erst S-Größen nutzen."}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(rejected["state"], "abgelehnt");
    assert_eq!(rejected["decision_reason"], "Bitte erst S-Größen nutzen.");
    assert_eq!(
        contract(&app, &t.token, t.contract_id).await["kontingent"]["vcpu_millicores"],
        4000,
        "a rejection changes nothing"
    );
    // Closed: no second decision, no withdrawal.
    assert_problem(
        app.post_json(
            &format!("/api/v1/kontingent-requests/{}/approve", id(&request)),
            &b,
            &json!({}),
        )
        .await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;

    let again = ask_ok(&app, &t.token, t.contract_id, 6000).await;
    let withdraw = format!("/api/v1/kontingent-requests/{}/withdraw", id(&again));
    let colleague = app
        .user_with_roles(Some(t.customer_id), &[Role::Systempfleger])
        .await;
    assert_forbidden(app.post(&withdraw, &colleague).await).await;
    let withdrawn = expect_json(app.post(&withdraw, &t.token).await, StatusCode::OK).await;
    assert_eq!(withdrawn["state"], "zurueckgezogen");
}

async fn of_simultaneous_decisions_exactly_one_counts(app: TestApp) {
    let t = app.contract_with_room(4).await;
    let request = ask_ok(&app, &t.token, t.contract_id, 10_000).await;
    let deciders = [
        betreiber(&app).await,
        app.user_with_roles(None, &[Role::Betreiber]).await,
        app.user_with_roles(None, &[Role::Betreiber]).await,
        app.user_with_roles(None, &[Role::Betreiber]).await,
    ];
    let mut decisions = JoinSet::new();
    for (i, token) in deciders.into_iter().enumerate() {
        let app = app.clone();
        let id = id(&request);
        decisions.spawn(async move {
            let (path, body) = if i % 2 == 0 {
                ("approve", json!({}))
            } else {
                ("reject", json!({"reason": "Nein."}))
            };
            app.post_json(
                &format!("/api/v1/kontingent-requests/{id}/{path}"),
                &token,
                &body,
            )
            .await
            .status()
        });
    }
    let mut ok = 0;
    while let Some(status) = decisions.join_next().await {
        match status.expect("task") {
            StatusCode::OK => ok += 1,
            StatusCode::CONFLICT => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(ok, 1, "exactly one decision");
    let (decisions,): (i64,) = sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE object_type = 'kontingent' \
         AND object_id = $1 AND action IN ('kontingent_request.approved', 'kontingent_request.rejected')",
    )
    .bind(id(&request))
    .fetch_one(&app.db().pool)
    .await
    .unwrap();
    assert_eq!(decisions, 1, "one decision in the audit log");
}

async fn another_tenants_requests_are_not_found_and_theirs_cannot_be_asked_for(app: TestApp) {
    let ours = app.contract_with_room(4).await;
    let theirs = app.contract_with_room(4).await;
    let request = ask_ok(&app, &theirs.token, theirs.contract_id, 6000).await;
    let path = format!("/api/v1/kontingent-requests/{}", id(&request));
    assert_not_found(app.get(&path, &ours.token).await).await;
    for step in ["approve", "withdraw", "cosign"] {
        assert_not_found(app.post(&format!("{path}/{step}"), &ours.token).await).await;
    }
    assert_not_found(
        app.post_json(
            &format!("{path}/reject"),
            &ours.token,
            &json!({"reason": "x"}),
        )
        .await,
    )
    .await;
    assert_not_found(
        ask(
            &app,
            &ours.token,
            theirs.contract_id,
            &json!({"kontingent": {"vcpu_millicores": 8000}, "reason": "x"}),
        )
        .await,
    )
    .await;
    let listed = expect_json(
        app.get("/api/v1/kontingent-requests", &ours.token).await,
        StatusCode::OK,
    )
    .await;
    assert!(
        listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|q| q["id"] != request["id"]),
        "{listed}"
    );
}

async fn bad_requests_are_refused_naming_the_field_and_write_nothing(app: TestApp) {
    let t = app.contract_with_room(4).await;
    let before = app.counts().await;
    for (body, field) in [
        (json!({"kontingent": {}, "reason": "x"}), "kontingent"),
        (
            json!({"kontingent": {"vcpu_millicores": 4000}, "reason": "x"}),
            "kontingent",
        ),
        (
            json!({"kontingent": {"vcpu_millicores": -1}, "reason": "x"}),
            "kontingent.vcpu_millicores",
        ),
        (
            json!({"kontingent": {"storage_gib": 10}, "reason": "  "}),
            "reason",
        ),
        (
            json!({"kontingent": {"storage_gib": 10}, "reason": "a".repeat(2001)}),
            "reason",
        ),
        (
            json!({"kontingent": {"storage_gib": 10, "gpus": 1}, "reason": "x"}),
            "body",
        ),
    ] {
        assert_validation(ask(&app, &t.token, t.contract_id, &body).await, field).await;
    }
    assert_eq!(app.counts().await, before, "nothing written");
    let (n,): (i64,) = sqlx::query_as("SELECT CAST(COUNT(*) AS BIGINT) FROM kontingent_requests")
        .fetch_one(&app.db().pool)
        .await
        .unwrap();
    assert_eq!(n, 0);
}

async fn the_betreiber_may_grant_other_values_but_not_below_what_is_booked(app: TestApp) {
    let t = app.contract_with_room(8).await;
    // Two S namespaces: 4 vCPU booked.
    for stage in ["vorpruefung", "abnahme"] {
        app.book_ok(
            &t.token,
            t.application_id,
            stage,
            "container-namespace",
            "S",
        )
        .await;
    }
    let b = betreiber(&app).await;
    let request = ask_ok(&app, &t.token, t.contract_id, 32_000).await;
    let approve = format!("/api/v1/kontingent-requests/{}/approve", id(&request));
    assert_problem(
        app.post_json(
            &approve,
            &b,
            &json!({"kontingent": {"vcpu_millicores": 2000}}),
        )
        .await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    let approved = expect_json(
        app.post_json(
            &approve,
            &b,
            &json!({"kontingent": {"vcpu_millicores": 16_000}, "reason": "Die Hälfte reicht."}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(approved["kontingent"]["vcpu_millicores"], 32_000, "asked");
    assert_eq!(approved["granted"]["vcpu_millicores"], 16_000, "granted");
    assert_eq!(
        contract(&app, &t.token, t.contract_id).await["kontingent"]["vcpu_millicores"],
        16_000
    );
}

async fn one_open_request_per_contract_and_a_retry_with_the_same_key_is_the_same_request(
    app: TestApp,
) {
    let t = app.contract_with_room(4).await;
    let body = json!({"kontingent": {"memory_mib": 65_536}, "reason": "Mehr Speicher."});
    let send = || {
        app.request(reqwest::Method::POST, &requests_path(t.contract_id))
            .bearer_auth(&t.token)
            .header("Idempotency-Key", "antrag-1")
            .json(&body)
            .send()
    };
    let first = expect_json(send().await.unwrap(), StatusCode::CREATED).await;
    let replay = send().await.unwrap();
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    assert_eq!(
        id(&expect_json(replay, StatusCode::CREATED).await),
        id(&first)
    );
    assert_problem(
        ask(
            &app,
            &t.token,
            t.contract_id,
            &json!({"kontingent": {"storage_gib": 5}, "reason": "Noch einer."}),
        )
        .await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
}

async fn with_the_cosign_setting_a_budget_increase_needs_the_customers_finance_first(
    backend: Backend,
) {
    let app = TestApp::spawn_configured(backend, true, |s| s.kontingent_budget_cosign = true).await;
    let t = app.contract_with_room(4).await;
    let request = expect_json(
        ask(
            &app,
            &t.token,
            t.contract_id,
            &json!({"kontingent": {"monthly_budget_cents": 20_000_000}, "reason": "Mehr Budget."}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(request["awaits_cosign"], true, "{request}");
    let path = format!("/api/v1/kontingent-requests/{}", id(&request));
    let b = betreiber(&app).await;
    let p = assert_problem(
        app.post_json(&format!("{path}/approve"), &b, &json!({}))
            .await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    assert!(
        p["detail"].as_str().unwrap().contains("Zweitunterschrift"),
        "{p}"
    );
    // Finance of another customer and the Betreiber cannot sign for them.
    let other = app.contract_with_room(4).await;
    let foreign_finance = app
        .user_with_roles(Some(other.customer_id), &[Role::Finanzen])
        .await;
    assert_not_found(app.post(&format!("{path}/cosign"), &foreign_finance).await).await;
    assert_forbidden(app.post(&format!("{path}/cosign"), &b).await).await;
    let finance = app
        .user_with_roles(Some(t.customer_id), &[Role::Finanzen])
        .await;
    let signed = expect_json(
        app.post(&format!("{path}/cosign"), &finance).await,
        StatusCode::OK,
    )
    .await;
    assert!(signed["cosigned_by"].is_string(), "{signed}");
    assert_eq!(signed["awaits_cosign"], false, "{signed}");
    assert_problem(
        app.post(&format!("{path}/cosign"), &finance).await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    let approved = expect_json(
        app.post_json(&format!("{path}/approve"), &b, &json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(approved["state"], "genehmigt");
    // A request that does not raise the budget needs no second signature,
    // and takes none.
    let more_cpu = ask_ok(&app, &t.token, t.contract_id, 8000).await;
    assert_eq!(more_cpu["awaits_cosign"], false, "{more_cpu}");
    let p = assert_problem(
        app.post(
            &format!("/api/v1/kontingent-requests/{}/cosign", id(&more_cpu)),
            &finance,
        )
        .await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("keine Zweitunterschrift"),
        "{p}"
    );
    expect_json(
        app.post_json(
            &format!("/api/v1/kontingent-requests/{}/approve", id(&more_cpu)),
            &b,
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
}

async fn a_script_asks_with_kontor_kontingent_request_and_learns_from_the_exit_code(app: TestApp) {
    let t = app.contract_with_room(4).await;
    let number: (String,) = sqlx::query_as("SELECT number FROM contracts WHERE id = $1")
        .bind(t.contract_id)
        .fetch_one(&app.db().pool)
        .await
        .expect("contract number");
    let run = |args: Vec<String>| {
        let token = t.token.clone();
        let url = app.address.clone();
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            kontor_cli(Some(&url), Some(&token), &args).await
        }
    };
    let base = |extra: &[&str]| {
        let mut args: Vec<String> = ["kontingent", "request", "--contract", number.0.as_str()]
            .into_iter()
            .map(str::to_owned)
            .collect();
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        args
    };
    // No ceiling named: wrong usage (2), nothing asked.
    let (code, _, err) = run(base(&["--reason", "Mehr"])).await;
    assert_eq!(code, 2, "{err}");
    // Asked: 0, and the request is there as the API shows it.
    let (code, out, err) = run(base(&[
        "--vcpu",
        "16",
        "--budget-eur",
        "3000",
        "--reason",
        "Lasttest",
    ]))
    .await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Kontingent-Antrag"), "{out}");
    let list = expect_json(
        app.get("/api/v1/kontingent-requests", &t.token).await,
        StatusCode::OK,
    )
    .await;
    let list = &list["items"];
    assert_eq!(list[0]["kontingent"]["vcpu_millicores"], 16_000, "{list}");
    assert_eq!(
        list[0]["kontingent"]["monthly_budget_cents"], 300_000,
        "{list}"
    );
    // A second one while it is open: refused by Kontor (1), with the reason.
    let (code, _, err) = run(base(&["--vcpu", "20", "--reason", "Noch mehr"])).await;
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("bereits ein Kontingent-Antrag offen"), "{err}");
}
