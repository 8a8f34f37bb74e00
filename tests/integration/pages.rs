//! The browser side over plain HTTP: demo login, CSRF on every state-changing
//! form, the booking flow through the pages, and tenant isolation of pages.
//! (The real-browser journey and accessibility checks live in tests/browser.)

use reqwest::StatusCode;

use crate::support::{Browser, TestApp};

/// Who posts, where, and which fields (without the CSRF token).
type FormPost<'a> = (&'a Browser, String, Vec<(&'a str, &'a str)>);

api_tests! {
    every_state_changing_form_without_a_valid_csrf_token_is_refused_and_changes_nothing,
    a_booking_through_the_pages_is_confirmed_first_and_written_once,
    a_booking_page_past_the_kontingent_shows_the_refusal_beside_the_form,
    another_tenants_booking_pages_are_not_found_and_cannot_be_changed,
    the_betreiber_area_is_closed_to_customers,
    a_logged_out_browser_is_sent_to_the_login_page,
    an_environment_is_dissolved_through_the_pages_only_once_nothing_is_booked_there,
    the_accessibility_statement_is_public_and_names_the_feedback_route_and_the_schlichtungsstelle,
}

async fn every_state_changing_form_without_a_valid_csrf_token_is_refused_and_changes_nothing(
    app: TestApp,
) {
    let demo = app.demo().await;
    let application = demo.musterhausen.application_ids[0].to_string();
    let booking = demo.musterhausen.booking_id;
    let sp = Browser::log_in(&app, "systempfleger").await;
    let betreiber = Browser::log_in(&app, "betreiber").await;
    let booking_form = [
        ("application_id", application.as_str()),
        ("stage", "abnahme"),
        ("product", "container-namespace"),
        ("size", "S"),
    ];
    let customer_id = demo.musterhausen.id.to_string();
    let forms: Vec<FormPost> = vec![
        (&sp, "/buchungen/neu".into(), booking_form.to_vec()),
        (
            &sp,
            format!("/buchungen/{booking}/groesse"),
            vec![("size", "L")],
        ),
        (&sp, format!("/buchungen/{booking}/kuendigen"), vec![]),
        (
            &sp,
            format!(
                "/umgebungen/{}/aufloesen",
                app.environment_of(booking).await
            ),
            vec![],
        ),
        (
            &sp,
            format!("/verfahren/{application}/freigaben"),
            vec![("release_id", "1"), ("to_stage", "abnahme")],
        ),
        (&sp, "/freigaben/1/genehmigen".into(), vec![]),
        (
            &sp,
            "/freigaben/1/ablehnen".into(),
            vec![("reason", "nein")],
        ),
        (&sp, "/freigaben/1/zurueckziehen".into(), vec![]),
        (&sp, "/bereitstellungen/1/wiederholen".into(), vec![]),
        (&sp, "/abmelden".into(), vec![]),
        (
            &sp,
            "/api-tokens".into(),
            vec![("name", "CI"), ("expires_on", "2099-01-01")],
        ),
        (&sp, "/api-tokens/1/widerrufen".into(), vec![]),
        (&sp, "/anmelden".into(), vec![("login", "betreiber")]),
        (
            &betreiber,
            "/betrieb/kunden".into(),
            vec![("name", "Amt X"), ("slug", "amt-x")],
        ),
        (
            &betreiber,
            format!("/betrieb/kunden/{customer_id}"),
            vec![("name", "Umbenannt")],
        ),
        (
            &betreiber,
            format!("/betrieb/kunden/{customer_id}/verfahren"),
            vec![("contract_id", "1"), ("name", "Neu"), ("slug", "neu")],
        ),
        (
            &betreiber,
            "/betrieb/katalog/produkte".into(),
            vec![("name", "P"), ("slug", "p"), ("description", "")],
        ),
        (
            &betreiber,
            "/betrieb/katalog/groessen/1".into(),
            vec![
                ("vcpu", "3"),
                ("memory_gib", "12"),
                ("storage_gib", "0"),
                ("pods", "20"),
            ],
        ),
        (
            &betreiber,
            "/betrieb/katalog/preise".into(),
            vec![
                ("product_size_id", "1"),
                ("valid_from", "2099-01-01"),
                ("rate", "1,0000"),
            ],
        ),
        (
            &betreiber,
            "/betrieb/katalog/preise/1".into(),
            vec![("rate", "9,9999")],
        ),
        (
            &betreiber,
            "/betrieb/vertraege".into(),
            vec![("number", "X-1")],
        ),
        (
            &betreiber,
            format!("/betrieb/vertraege/{}", demo.musterhausen.contract_id),
            vec![("number", "X-2")],
        ),
    ];
    // API tokens are not among the counts (tests make them as they go).
    let tokens = || async {
        let (n,): (i64,) =
            sqlx::query_as("SELECT CAST(COUNT(*) + COUNT(revoked_at) AS BIGINT) FROM api_tokens")
                .fetch_one(&app.db().pool)
                .await
                .unwrap();
        n
    };
    let tokens_before = tokens().await;
    let before = app.counts().await;
    for (browser, path, form) in &forms {
        for token in [None, Some("falsch"), Some("")] {
            let mut fields: Vec<(&str, String)> =
                form.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
            if let Some(t) = token {
                fields.push(("csrf", t.to_owned()));
            }
            let (status, body) = browser.post_raw(path, &fields).await;
            assert_eq!(
                status,
                StatusCode::FORBIDDEN,
                "{path} with csrf {token:?}: {body}"
            );
            assert!(body.contains("Formular abgelaufen"), "{path}: {body}");
        }
    }
    assert_eq!(app.counts().await, before, "a refused form wrote something");
    assert_eq!(
        tokens().await,
        tokens_before,
        "a refused token form wrote something"
    );
    // Still logged in: /abmelden without a token did not log out.
    assert_eq!(sp.get("/uebersicht").await.0, StatusCode::OK);
    // A token of another session is no better than none.
    let (status, _) = sp
        .post_raw(
            "/buchungen/neu",
            &booking_form
                .iter()
                .map(|(k, v)| (*k, (*v).to_owned()))
                .chain([("csrf", betreiber.csrf.clone())])
                .collect::<Vec<_>>(),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(app.counts().await, before);
}

async fn a_booking_through_the_pages_is_confirmed_first_and_written_once(app: TestApp) {
    let demo = app.demo().await;
    let application = demo.musterhausen.application_ids[0].to_string();
    let sp = Browser::log_in(&app, "systempfleger").await;
    let form = [
        ("application_id", application.as_str()),
        ("stage", "schulung"),
        ("product", "persistent-storage"),
        ("size", "S"),
    ];
    let before = app.counts().await;
    let (status, page) = sp.post("/katalog/pruefen", &form).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Buchung bestätigen"));
    assert!(page.contains("0,0068 €"), "the hourly price is shown");
    assert_eq!(
        app.counts().await,
        before,
        "the confirmation page wrote something"
    );

    let (status, location) = sp.post("/buchungen/neu", &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{location}");
    assert!(
        location.starts_with("/buchungen/") && location.ends_with("?gebucht=1"),
        "{location}"
    );
    let after = app.counts().await;
    assert_eq!(after.bookings, before.bookings + 1);
    assert_eq!(after.audit, before.audit + 1);

    let (status, detail) = sp.get(&location).await;
    assert_eq!(status, StatusCode::OK);
    assert!(detail.contains("Die Buchung ist angenommen."));
    assert!(detail.contains("Persistenter Speicher S"));
}

async fn a_booking_page_past_the_kontingent_shows_the_refusal_beside_the_form(app: TestApp) {
    let demo = app.demo().await;
    let application = demo.musterhausen.application_ids[1].to_string();
    let sp = Browser::log_in(&app, "systempfleger").await;
    // The demo contract has 32 vCPU with 20 booked: XL (16) does not fit.
    let form = [
        ("application_id", application.as_str()),
        ("stage", "abnahme"),
        ("product", "container-namespace"),
        ("size", "XL"),
    ];
    let before = app.counts().await;
    for path in ["/katalog/pruefen", "/buchungen/neu"] {
        let (status, page) = sp.post(path, &form).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        assert!(page.contains("Buchung nicht möglich"), "{path}");
        assert!(
            page.contains("Das Kontingent reicht nicht: vCPU – benötigt 16 vCPU, verfügbar 12 vCPU von 32 vCPU."),
            "{path}: {page}"
        );
        // The choices are kept.
        assert!(page.contains("value=\"XL\" checked"), "{path}");
    }
    assert_eq!(app.counts().await, before);

    // Nothing chosen: a message beside each field.
    let (status, page) = sp.post("/katalog/pruefen", &[]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    for field in ["application_id", "stage", "product", "size"] {
        assert!(
            page.contains(&format!("id=\"f-{field}-error\"")),
            "no message for {field}"
        );
    }
}

async fn another_tenants_booking_pages_are_not_found_and_cannot_be_changed(app: TestApp) {
    let demo = app.demo().await;
    let foreign = demo.musterhausen.booking_id;
    let nord = Browser::log_in(&app, "systempfleger-nordkreis").await;
    for path in [
        format!("/buchungen/{foreign}"),
        format!("/buchungen/{foreign}/groesse"),
        format!("/buchungen/{foreign}/kuendigen"),
        "/buchungen/987654321".to_owned(),
        "/buchungen/keine-zahl".to_owned(),
    ] {
        let (status, page) = nord.get(&path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(page.contains("Nicht gefunden"), "{path}");
    }
    let before = app.counts().await;
    for (path, form) in [
        (format!("/buchungen/{foreign}/kuendigen"), vec![]),
        (format!("/buchungen/{foreign}/groesse"), vec![("size", "S")]),
        (
            format!("/buchungen/{foreign}/groesse/pruefen"),
            vec![("size", "S")],
        ),
    ] {
        let (status, _) = nord.post(&path, &form).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    // Booking into another customer's application through the form.
    let foreign_app = demo.musterhausen.application_ids[0].to_string();
    let (status, page) = nord
        .post(
            "/buchungen/neu",
            &[
                ("application_id", foreign_app.as_str()),
                ("stage", "abnahme"),
                ("product", "container-namespace"),
                ("size", "S"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("Dieses Verfahren gibt es nicht."));
    assert_eq!(app.counts().await, before);
    // The list does not show them either.
    let (_, list) = nord.get("/buchungen").await;
    assert!(!list.contains(&format!("href=\"/buchungen/{foreign}\"")));
}

async fn the_betreiber_area_is_closed_to_customers(app: TestApp) {
    for login in ["systempfleger", "entwickler", "finanzen", "finanzen-rz"] {
        let browser = Browser::log_in(&app, login).await;
        for path in [
            "/betrieb/kunden",
            "/betrieb/vertraege",
            "/betrieb/vertraege/neu",
            "/betrieb/katalog",
            "/betrieb/bereitstellung",
        ] {
            let (status, _) = browser.get(path).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{login} on {path}");
        }
        let before = app.counts().await;
        let (status, _) = browser
            .post("/betrieb/kunden", &[("name", "Amt X"), ("slug", "amt-x")])
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{login}");
        assert_eq!(app.counts().await, before);
    }
}

async fn a_logged_out_browser_is_sent_to_the_login_page(app: TestApp) {
    let sp = Browser::log_in(&app, "systempfleger").await;
    let (status, location) = sp.post("/abmelden", &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, "/anmelden");
    for path in ["/uebersicht", "/katalog", "/buchungen", "/betrieb/kunden"] {
        let resp = sp
            .client
            .get(format!("{}{path}", app.address))
            .send()
            .await
            .expect("GET");
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(resp.headers()["location"], "/anmelden");
    }
}

async fn an_environment_is_dissolved_through_the_pages_only_once_nothing_is_booked_there(
    app: TestApp,
) {
    let demo = app.demo().await;
    let env = app.environment_of(demo.musterhausen.booking_id).await;
    let sp = Browser::log_in(&app, "systempfleger").await;
    let page_path = format!("/umgebungen/{env}");
    let dissolve_path = format!("/umgebungen/{env}/aufloesen");

    // Bookings are open there: no button, and the action itself refuses.
    let (status, page) = sp.get(&page_path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains(&dissolve_path), "{page}");
    let before = app.counts().await;
    let (status, page) = sp.get(&dissolve_path).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        page.contains("bitte erst alle Buchungen kündigen"),
        "{page}"
    );
    assert_eq!(sp.post(&dissolve_path, &[]).await.0, StatusCode::CONFLICT);
    assert_eq!(app.counts().await, before);

    // Others may look but not dissolve; another customer does not see it.
    let developer = Browser::log_in(&app, "entwickler").await;
    assert_eq!(developer.get(&page_path).await.0, StatusCode::OK);
    assert_eq!(developer.get(&dissolve_path).await.0, StatusCode::FORBIDDEN);
    let nord = Browser::log_in(&app, "systempfleger-nordkreis").await;
    assert_eq!(nord.get(&page_path).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        nord.post(&dissolve_path, &[]).await.0,
        StatusCode::NOT_FOUND
    );

    for booking in app.open_bookings_in(env).await {
        let (status, _) = sp
            .post(&format!("/buchungen/{booking}/kuendigen"), &[])
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
    }
    let (_, page) = sp.get(&page_path).await;
    assert!(page.contains(&dissolve_path), "the button is offered now");
    let (status, confirm) = sp.get(&dissolve_path).await;
    assert_eq!(status, StatusCode::OK);
    let namespace = app.namespace_of(env).await;
    assert!(confirm.contains(&namespace), "{confirm}");
    for kind in [
        "ResourceQuota",
        "LimitRange",
        "NetworkPolicy",
        "ServiceAccount",
        "RoleBinding",
    ] {
        assert!(confirm.contains(kind), "the confirmation names the {kind}");
    }
    let manifests = app.settings.manifest_dir().join(&namespace);
    app.settle().await;
    assert!(manifests.exists(), "{} before", manifests.display());

    let (status, location) = sp.post(&dissolve_path, &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, format!("{page_path}?aufgeloest=1"));
    app.settle().await;
    assert!(!manifests.exists(), "{} after", manifests.display());
    let (_, page) = sp.get(&page_path).await;
    assert!(page.contains("aufgelöst"), "{page}");
    // Twice is once: there is nothing left to dissolve.
    assert_eq!(sp.post(&dissolve_path, &[]).await.0, StatusCode::CONFLICT);
}

async fn the_accessibility_statement_is_public_and_names_the_feedback_route_and_the_schlichtungsstelle(
    app: TestApp,
) {
    // Without login, with the defaults: Kontor's own assessment, the
    // service desk as the feedback route, no Impressum link.
    let anonymous = reqwest::Client::new();
    let page = anonymous
        .get(format!("{}/barrierefreiheit", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    for expected in [
        "Erklärung zur Barrierefreiheit",
        "teilweise vereinbar",
        "Der Betreiber dieses Portals ist bemüht",
        "an den Service-Desk des Anbieters",
        "https://www.schlichtungsstelle-bgg.de",
        concat!("Kontor ", env!("CARGO_PKG_VERSION")),
    ] {
        assert!(html.contains(expected), "{expected} missing");
    }
    assert!(
        !html.contains(">Impressum<"),
        "no Impressum link while none is set"
    );

    // The provider's own words, contact and links.
    let statement = std::env::temp_dir().join(format!(
        "kontor-erklaerung-{}.txt",
        crate::support::unique()
    ));
    std::fs::write(
        &statement,
        "Die Seiten sind vollständig vereinbar.\n\nStand: 1. Dezember 2026.",
    )
    .unwrap();
    let configured = app
        .sibling(|s| {
            s.provider_name = "Das ITZ Musterland".into();
            s.accessibility_contact = Some("barrierefreiheit@itz.example".into());
            s.imprint_url = Some("https://itz.example/impressum".into());
            s.privacy_url = Some("https://itz.example/datenschutz".into());
            s.accessibility_statement_file = Some(statement.clone());
        })
        .await;
    let html = anonymous
        .get(format!("{}/barrierefreiheit", configured.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for expected in [
        "Das ITZ Musterland ist bemüht",
        "href=\"mailto:barrierefreiheit@itz.example\"",
        "<p class=\"kern-body\">Die Seiten sind vollständig vereinbar.</p>",
        "Stand: 1. Dezember 2026.",
        "href=\"https://itz.example/impressum\"",
        "href=\"https://itz.example/datenschutz\"",
    ] {
        assert!(html.contains(expected), "{expected} missing in {html}");
    }
    assert!(
        !html.contains("teilweise vereinbar"),
        "the provider's words replace Kontor's"
    );
    // Every page's footer carries the links, the login page as well as a
    // signed-in one.
    let login = anonymous
        .get(format!("{}/anmelden", configured.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(login.contains("href=\"/barrierefreiheit\""));
    assert!(login.contains("href=\"https://itz.example/impressum\""));
    let browser = Browser::log_in(&configured, "systempfleger").await;
    let (_, overview) = browser.get("/uebersicht").await;
    assert!(overview.contains("href=\"https://itz.example/datenschutz\""));
    assert!(overview.contains("href=\"/barrierefreiheit\""));
    std::fs::remove_file(&statement).ok();
}
