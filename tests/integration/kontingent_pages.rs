//! Kontingent requests and lowered ceilings in the browser: one click from
//! a refused booking to the pre-filled request, the Betreiber's decision on
//! the Freigaben page, and the contract form that will not lower a ceiling
//! below what is booked without an explicit confirmation.

use kontor::{app, seed};
use reqwest::StatusCode;

use crate::support::{Browser, TestApp};

api_tests! {
    from_a_refused_booking_one_click_opens_the_request_and_after_the_decision_the_booking_fits,
    lowering_a_ceiling_below_what_is_booked_needs_a_confirmation_naming_the_consequence,
}

/// The `href` of the first link whose address starts with `prefix`.
fn link(page: &str, prefix: &str) -> String {
    let at = page
        .find(&format!("href=\"{prefix}"))
        .unwrap_or_else(|| panic!("no link to {prefix} in {page}"));
    let rest = &page[at + "href=\"".len()..];
    rest[..rest.find('"').expect("end of the href")]
        .replace("&amp;", "&")
        .replace("&#38;", "&")
}

async fn open_requests(app: &TestApp) -> i64 {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM approvals WHERE kind = 'kontingent' AND state = 'offen'",
    )
    .fetch_one(&app.db().pool)
    .await
    .expect("count");
    n
}

async fn from_a_refused_booking_one_click_opens_the_request_and_after_the_decision_the_booking_fits(
    app: TestApp,
) {
    let demo = app.demo().await;
    let contract = demo.musterhausen.contract_id;
    let application = demo.musterhausen.application_ids[1].to_string();
    let sp = Browser::log_in(&app, "systempfleger").await;
    // The demo contract has 32 vCPU with 20 booked: XL (16) does not fit.
    let booking = [
        ("application_id", application.as_str()),
        ("stage", "abnahme"),
        ("product", "container-namespace"),
        ("size", "XL"),
    ];
    let (status, refused) = sp.post("/buchungen/neu", &booking).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let link = link(
        &refused,
        &format!("/vertraege/{contract}/kontingent-antrag?"),
    );
    let (request, query) = link.split_once('?').expect("a query");
    let asked: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    // 32 + 16 − 12 = 36 vCPU and 80 + 64 = 144 GiB would have let it
    // through: both ceilings it breaks.
    let value = |name: &str| {
        asked
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    assert_eq!(value("vcpu"), "36", "{link}");
    assert_eq!(value("arbeitsspeicher"), "144", "{link}");

    let (status, form) = sp.get(&link).await;
    assert_eq!(status, StatusCode::OK, "{form}");
    assert!(
        form.contains("name=\"vcpu\" type=\"text\" value=\"36\""),
        "{form}"
    );
    assert!(
        form.contains("name=\"memory_gib\" type=\"text\" value=\"144\""),
        "{form}"
    );
    assert!(form.contains("derzeit 32 vCPU, gebucht 20 vCPU"), "{form}");
    let (memory, budget) = (value("arbeitsspeicher"), value("budget"));
    let ask = |reason: &'static str| {
        vec![
            ("vcpu", "36"),
            ("memory_gib", memory.as_str()),
            ("monthly_budget", budget.as_str()),
            ("reason", reason),
        ]
    };

    // Without a justification: the message beside the field, nothing asked.
    let (status, page) = sp.post(request, &ask("  ")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"f-reason-error\""), "{page}");
    assert!(page.contains("Bitte den Antrag begründen."), "{page}");
    assert!(page.contains("value=\"36\""), "the value typed is kept");
    let (status, page) = sp
        .post(request, &[("vcpu", "viele"), ("reason", "Abnahmetest")])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"f-vcpu-error\""), "{page}");
    assert_eq!(open_requests(&app).await, 0);

    let (status, location) = sp.post(request, &ask("Abnahmetest mit Lastspitzen")).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{location}");
    assert_eq!(location, "/freigaben?hinweis=kontingent-beantragt");
    let (_, inbox) = sp.get(&location).await;
    assert!(
        inbox.contains("Der Kontingent-Antrag ist gestellt"),
        "{inbox}"
    );
    assert!(inbox.contains("vCPU 32 → 36"), "{inbox}");
    assert!(inbox.contains("Antrag zurückziehen: Vertrag"), "{inbox}");
    assert!(
        !inbox.contains("Genehmigen: Vertrag"),
        "the requester never decides"
    );

    let betreiber = Browser::log_in(&app, "betreiber").await;
    let (_, overview) = betreiber.get("/uebersicht").await;
    assert!(overview.contains("Freigaben (1)"), "{overview}");
    let (_, inbox) = betreiber.get("/freigaben").await;
    assert!(inbox.contains("Genehmigen: Vertrag"), "{inbox}");
    assert!(inbox.contains("Abnahmetest mit Lastspitzen"), "{inbox}");
    let id: (i64,) = sqlx::query_as("SELECT id FROM approvals WHERE kind = 'kontingent'")
        .fetch_one(&app.db().pool)
        .await
        .expect("the request");
    let approve = format!("/kontingent-antraege/{}/genehmigen", id.0);
    // Below what is booked: refused on the card, nothing decided.
    let (status, page) = betreiber.post(&approve, &[("vcpu", "10")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("unter dem, was schon gebucht ist"), "{page}");
    assert_eq!(open_requests(&app).await, 1);
    let granted = [
        ("vcpu", "36"),
        ("memory_gib", memory.as_str()),
        ("monthly_budget", budget.as_str()),
    ];
    let (status, location) = betreiber.post(&approve, &granted).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{location}");
    assert_eq!(location, "/freigaben?hinweis=kontingent-genehmigt");
    assert_eq!(open_requests(&app).await, 0);

    let (status, location) = sp.post("/buchungen/neu", &booking).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "now it fits: {location}");
    let (_, inbox) = sp.get("/freigaben").await;
    assert!(inbox.contains("Zuletzt entschieden"), "{inbox}");
    assert!(inbox.contains("vCPU: 36 vCPU"), "{inbox}");
}

async fn lowering_a_ceiling_below_what_is_booked_needs_a_confirmation_naming_the_consequence(
    app: TestApp,
) {
    let demo = app.demo().await;
    let id = demo.musterhausen.contract_id;
    let betreiber = Browser::log_in(&app, "betreiber").await;
    let path = format!("/betrieb/vertraege/{id}");
    let (status, page) = betreiber.get(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("gebucht sind 20 vCPU"), "{page}");

    let system = seed::system_user(app.db()).await.expect("system user");
    let k = app::contracts::get(app.db(), &system, id)
        .await
        .expect("contract");
    let (base_fee, budget) = (
        k.base_fee().to_input(),
        k.kontingent().monthly_budget.to_input(),
    );
    let (memory, storage) = (
        (k.max_memory_mib / 1024).to_string(),
        k.max_storage_gib.to_string(),
    );
    let (from, until) = (k.valid_from.to_string(), k.valid_until.to_string());
    let fields = |vcpu: &'static str, confirm: bool| {
        let mut f = vec![
            ("number", k.number.clone()),
            ("title", k.title.clone()),
            ("valid_from", from.clone()),
            ("valid_until", until.clone()),
            ("kostenstelle", k.kostenstelle.clone()),
            ("haushaltsstelle", k.haushaltsstelle.clone()),
            ("leitweg_id", k.leitweg_id.clone()),
            ("billing_model", k.billing_model.as_str().to_owned()),
            ("base_fee", base_fee.clone()),
            ("max_vcpu", vcpu.to_owned()),
            ("max_memory_gib", memory.clone()),
            ("max_storage_gib", storage.clone()),
            ("monthly_budget", budget.clone()),
        ];
        if confirm {
            f.push(("confirm_below_use", "ja".to_owned()));
        }
        f
    };
    let post = |f: Vec<(&'static str, String)>| {
        let mut all = vec![("csrf", betreiber.csrf.clone())];
        all.extend(f);
        let betreiber = &betreiber;
        let path = path.clone();
        async move { betreiber.post_raw(&path, &all).await }
    };
    let before = app.counts().await;
    let (status, page) = post(fields("10", false)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{page}");
    assert!(page.contains("Obergrenzen unter dem Gebuchten"), "{page}");
    assert!(
        page.contains("vCPU: neu 10 vCPU, gebucht 20 vCPU"),
        "{page}"
    );
    assert!(page.contains("keine neuen Buchungen"), "{page}");
    assert!(page.contains("name=\"confirm_below_use\""), "{page}");
    assert!(page.contains("value=\"10\""), "the value typed is kept");
    assert_eq!(app.counts().await, before, "nothing changed");

    // Above what is booked: no question asked.
    let (status, _) = post(fields("24", false)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    // Confirmed: lowered, and the audit entry says it was knowingly.
    let (status, location) = post(fields("10", true)).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{location}");
    let (max, after): (i64, String) = sqlx::query_as(
        "SELECT k.max_millicpu, a.after_json FROM contracts k JOIN audit_log a \
         ON a.object_type = 'contract' AND a.object_id = k.id \
         WHERE k.id = $1 ORDER BY a.id DESC LIMIT 1",
    )
    .bind(id)
    .fetch_one(&app.db().pool)
    .await
    .expect("contract and audit");
    assert_eq!(max, 10_000);
    assert!(after.contains("below_use_confirmed"), "{after}");
}
