//! Pages that help the person through (issue 16): the sizes that fit beside
//! a Kontingent refusal, the approval card's details and its confirmation,
//! the warning before persistent storage is cancelled, and the Stufen pages
//! reachable from the navigation.

use reqwest::StatusCode;

use crate::support::{Browser, ContractSpec, TestApp};

api_tests! {
    a_refused_booking_offers_exactly_the_sizes_that_fit_and_each_leads_to_the_form_with_it,
    a_refused_booking_where_no_size_fits_says_so_and_offers_the_request,
    a_refused_resize_offers_exactly_the_other_sizes_that_fit,
    cancelling_persistent_storage_warns_and_needs_the_box_ticked_while_compute_does_not,
    the_navigation_leads_to_the_stufen_of_every_application_the_person_may_see,
}

/// Logs a test tenant's user in through the demo login (which offers only
/// users marked as demo users).
pub(crate) async fn log_in(app: &TestApp, login: &str) -> Browser {
    sqlx::query("UPDATE users SET demo = 1 WHERE login = $1")
        .bind(login)
        .execute(&app.db().pool)
        .await
        .expect("mark as demo user");
    Browser::log_in(app, login).await
}

/// The sizes a refusal offers, in page order (`data-passt="…"`).
fn offered(page: &str) -> Vec<String> {
    page.split("data-passt=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap_or_default().to_owned())
        .collect()
}

/// The `href` of the link that offers `size`.
fn offer_link(page: &str, size: &str) -> String {
    let marker = format!("data-passt=\"{size}\"");
    let at = page.find(&marker).expect("the offer");
    let before = &page[..at];
    let href = before.rfind("href=\"").expect("a link") + "href=\"".len();
    before[href..]
        .split('"')
        .next()
        .unwrap_or_default()
        .replace("&amp;", "&")
        .replace("&#38;", "&")
}

const SIZES: [&str; 4] = ["S", "M", "L", "XL"];

async fn a_refused_booking_offers_exactly_the_sizes_that_fit_and_each_leads_to_the_form_with_it(
    app: TestApp,
) {
    // 6 vCPU: S (2) and M (4) fit, L (8) and XL (16) do not.
    let tenant = app.contract_with_room(6).await;
    let sp = log_in(&app, &tenant.login).await;
    let application = tenant.application_id.to_string();
    let form = |size: &'static str| {
        vec![
            ("application_id", application.clone()),
            ("stage", "schulung".to_owned()),
            ("product", "container-namespace".to_owned()),
            ("size", size.to_owned()),
        ]
    };
    let post = |size| {
        let fields = form(size);
        let sp = &sp;
        async move {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            sp.post("/katalog/pruefen", &fields).await
        }
    };
    let before = app.counts().await;
    let (status, page) = post("XL").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("Das Kontingent reicht nicht"), "{page}");
    let offers = offered(&page);
    // Exactly the sizes whose own check passes.
    let mut fitting = Vec::new();
    for size in SIZES {
        if post(size).await.0 == StatusCode::OK {
            fitting.push(size.to_owned());
        }
    }
    assert_eq!(fitting, ["S", "M"]);
    assert_eq!(offers, fitting);
    assert!(
        page.contains("Von Container-Namespace passen noch:"),
        "{page}"
    );
    // The refusal with its offers comes before the catalogue's cards, so
    // that it is in sight without scrolling.
    let refusal_at = page.find("id=\"ablehnung\"").expect("the refusal");
    assert!(refusal_at < page.find("id=\"produkte-heading\"").expect("the cards"));
    // Each offer is the form again with that size and every other choice.
    let link = offer_link(&page, "M");
    assert_eq!(
        link,
        format!(
            "/katalog?verfahren={application}&stufe=schulung&produkt=container-namespace&groesse=M#buchen"
        )
    );
    let (status, again) = sp.get(link.split('#').next().unwrap_or_default()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(again.contains("value=\"M\" checked"), "{again}");
    assert!(again.contains("value=\"schulung\" checked"), "{again}");
    assert!(
        again.contains(&format!("value=\"{application}\" selected")),
        "{again}"
    );
    // The request for more is still offered; nothing was written.
    assert!(page.contains("/kontingent-antrag?"), "{page}");
    assert_eq!(app.counts().await, before);

    // Booking it (not only checking) is refused the same way.
    let fields = form("L");
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, page) = sp.post("/buchungen/neu", &fields).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(offered(&page), ["S", "M"]);
    assert_eq!(app.counts().await, before);
}

async fn a_refused_booking_where_no_size_fits_says_so_and_offers_the_request(app: TestApp) {
    let tenant = app
        .tenant(ContractSpec {
            max_vcpu: 1,
            ..ContractSpec::default()
        })
        .await;
    let sp = log_in(&app, &tenant.login).await;
    let application = tenant.application_id.to_string();
    let before = app.counts().await;
    let (status, page) = sp
        .post(
            "/katalog/pruefen",
            &[
                ("application_id", application.as_str()),
                ("stage", "abnahme"),
                ("product", "container-namespace"),
                ("size", "S"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(offered(&page).is_empty(), "{page}");
    assert!(
        page.contains("Keine Größe von Container-Namespace passt in das verbleibende Kontingent."),
        "{page}"
    );
    assert!(
        page.contains(&format!(
            "href=\"/vertraege/{}/kontingent-antrag?",
            tenant.contract_id
        )),
        "{page}"
    );
    assert_eq!(app.counts().await, before);
}

async fn a_refused_resize_offers_exactly_the_other_sizes_that_fit(app: TestApp) {
    // 6 vCPU with M (4) booked: S (shrinking) fits, L (+4) and XL do not.
    let tenant = app.contract_with_room(6).await;
    let booking = app
        .book_ok(
            &tenant.token,
            tenant.application_id,
            "abnahme",
            "container-namespace",
            "M",
        )
        .await;
    let id = booking["id"].as_i64().expect("booking id");
    let sp = log_in(&app, &tenant.login).await;
    let before = app.counts().await;
    let path = format!("/buchungen/{id}/groesse/pruefen");
    let (status, page) = sp.post(&path, &[("size", "XL")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("Größenänderung nicht möglich"), "{page}");
    let mut fitting = Vec::new();
    for size in SIZES {
        if size != "M" && sp.post(&path, &[("size", size)]).await.0 == StatusCode::OK {
            fitting.push(size.to_owned());
        }
    }
    assert_eq!(fitting, ["S"]);
    assert_eq!(offered(&page), fitting);
    let link = offer_link(&page, "S");
    assert_eq!(link, format!("/buchungen/{id}/groesse?groesse=S"));
    let (status, form) = sp.get(&link).await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains("value=\"S\" checked"), "{form}");
    // The resize itself is refused the same way, and nothing is written.
    let (status, page) = sp
        .post(&format!("/buchungen/{id}/groesse"), &[("size", "L")])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(offered(&page), ["S"]);
    assert_eq!(app.counts().await, before);
}

async fn cancelling_persistent_storage_warns_and_needs_the_box_ticked_while_compute_does_not(
    app: TestApp,
) {
    let tenant = app.contract_with_room(8).await;
    let book = |product: &'static str| {
        let (app, token) = (&app, tenant.token.clone());
        async move {
            let b = app
                .book_ok(&token, tenant.application_id, "abnahme", product, "S")
                .await;
            b["id"].as_i64().expect("booking id")
        }
    };
    let storage = book("persistent-storage").await;
    let compute = book("container-namespace").await;
    let sp = log_in(&app, &tenant.login).await;
    let state = async |id: i64| -> String {
        let (s,): (String,) = sqlx::query_as("SELECT state FROM bookings WHERE id = $1")
            .bind(id)
            .fetch_one(&app.db().pool)
            .await
            .expect("booking state");
        s
    };

    // The storage page warns and asks for the box.
    let path = format!("/buchungen/{storage}/kuendigen");
    let (status, page) = sp.get(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("Die Daten in diesem Speicher werden gelöscht"),
        "{page}"
    );
    assert!(page.contains("kern-alert--danger"), "{page}");
    assert!(
        page.contains("name=\"daten_loeschen\" type=\"checkbox\""),
        "{page}"
    );

    // Without it: refused beside the field, with the summary; nothing written.
    let before = app.counts().await;
    for form in [vec![], vec![("daten_loeschen", "nein")]] {
        let (status, page) = sp.post(&path, &form).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
        assert!(page.contains("kontor-error-summary"), "{page}");
        assert!(page.contains("href=\"#f-daten_loeschen\""), "{page}");
        assert!(page.contains("id=\"f-daten_loeschen-error\""), "{page}");
        assert!(
            page.contains("Bitte bestätigen, dass die Daten dieses Speichers gelöscht werden."),
            "{page}"
        );
        assert!(page.contains("<title>Fehler: "), "{page}");
    }
    assert_eq!(app.counts().await, before);
    assert_ne!(state(storage).await, "gekuendigt");

    // With it: cancelled.
    let (status, location) = sp.post(&path, &[("daten_loeschen", "ja")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{location}");
    assert_eq!(state(storage).await, "gekuendigt");

    // Compute holds no data: no box, cancelled as before.
    let path = format!("/buchungen/{compute}/kuendigen");
    let (_, page) = sp.get(&path).await;
    assert!(!page.contains("daten_loeschen"), "{page}");
    assert!(page.contains("Kündigung ab sofort"), "{page}");
    let (status, _) = sp.post(&path, &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(state(compute).await, "gekuendigt");
}

async fn the_navigation_leads_to_the_stufen_of_every_application_the_person_may_see(app: TestApp) {
    let demo = app.demo().await;
    let pipeline = |id: &i64| format!("href=\"/verfahren/{id}/stufen\"");
    for login in ["systempfleger", "entwickler", "verfahrensverantwortliche"] {
        let who = Browser::log_in(&app, login).await;
        let (_, overview) = who.get("/uebersicht").await;
        assert!(overview.contains(">Stufen</a>"), "{login}: {overview}");
        assert!(overview.contains("href=\"/stufen\""), "{login}");
        let (status, page) = who.get("/stufen").await;
        assert_eq!(status, StatusCode::OK, "{login}");
        assert!(
            page.contains("href=\"/stufen\" aria-current=\"page\""),
            "{login}: {page}"
        );
        for id in &demo.musterhausen.application_ids {
            assert!(page.contains(&pipeline(id)), "{login}: no Stufen of {id}");
        }
        // Never another customer's application.
        for id in demo
            .nordkreis
            .application_ids
            .iter()
            .chain(&demo.lastat.application_ids)
        {
            assert!(!page.contains(&pipeline(id)), "{login}: sees {id}");
        }
    }
    // An application's Stufen page is under "Stufen" in the navigation.
    let sp = Browser::log_in(&app, "systempfleger").await;
    let (_, page) = sp
        .get(&format!(
            "/verfahren/{}/stufen",
            demo.musterhausen.application_ids[0]
        ))
        .await;
    assert!(
        page.contains("href=\"/stufen\" aria-current=\"page\""),
        "{page}"
    );
    // The Betreiber sees every customer's.
    let betreiber = Browser::log_in(&app, "betreiber").await;
    let (status, page) = betreiber.get("/stufen").await;
    assert_eq!(status, StatusCode::OK);
    for id in demo
        .musterhausen
        .application_ids
        .iter()
        .chain(&demo.nordkreis.application_ids)
    {
        assert!(page.contains(&pipeline(id)), "betreiber: no Stufen of {id}");
    }
}
