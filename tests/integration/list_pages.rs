//! The Betreiber's lists on the pages (Buchungen, Kunden, Verträge):
//! search, sorting by column in both directions, the CSV download of
//! exactly the list shown, the tenant scope of the booking list, bad
//! parameters refused with a message; and the booking state fragment that
//! a page showing "Bereitstellung läuft" polls.

use reqwest::StatusCode;

use kontor::{
    app::{self, applications::NewApplication},
    domain::Slug,
    seed,
};

use crate::support::{Browser, TestApp, text};

api_tests! {
    the_booking_list_is_searched_and_sorted_both_ways_and_the_csv_is_exactly_that_list,
    a_customers_booking_list_and_its_csv_show_only_their_bookings,
    the_customer_and_contract_lists_are_searched_and_sorted_and_downloaded_alike,
    bad_search_or_sort_parameters_get_a_message_and_never_a_server_error,
    the_booking_state_fragment_polls_until_final_and_is_not_found_for_another_tenant,
    paging_keeps_search_and_sort_and_the_csv_has_every_page,
}

/// The ids of the table rows, in order: each row's header links to
/// `prefix` + id.
fn row_ids(html: &str, prefix: &str) -> Vec<i64> {
    let marker = format!("scope=\"row\"><a class=\"kern-link\" href=\"{prefix}");
    html.match_indices(&marker)
        .map(|(at, _)| {
            html[at + marker.len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse()
                .expect("a row id")
        })
        .collect()
}

/// A German CSV download: BOM, `;`, CRLF; its header and records.
fn german_csv(body: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let text = body
        .strip_prefix('\u{feff}')
        .unwrap_or_else(|| panic!("a byte order mark first: {body:.80}"));
    assert!(text.contains("\r\n"), "CRLF line ends");
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(text.as_bytes());
    let header = reader
        .headers()
        .expect("a header")
        .iter()
        .map(str::to_owned)
        .collect();
    let records = reader
        .records()
        .map(|r| r.expect("a record").iter().map(str::to_owned).collect())
        .collect();
    (header, records)
}

/// The first column of each record, as ids.
fn csv_ids(records: &[Vec<String>]) -> Vec<i64> {
    records
        .iter()
        .map(|r| r[0].parse().expect("an id in the first column"))
        .collect()
}

async fn customer_name(app: &TestApp, id: i64) -> String {
    let (name,): (String,) = sqlx::query_as("SELECT name FROM customers WHERE id = $1")
        .bind(id)
        .fetch_one(&app.db().pool)
        .await
        .expect("customer");
    name
}

async fn bookings_of(app: &TestApp, customer_id: i64) -> Vec<i64> {
    sqlx::query_as::<_, (i64,)>("SELECT id FROM bookings WHERE customer_id = $1 ORDER BY id")
        .bind(customer_id)
        .fetch_all(&app.db().pool)
        .await
        .expect("bookings")
        .into_iter()
        .map(|(id,)| id)
        .collect()
}

async fn the_booking_list_is_searched_and_sorted_both_ways_and_the_csv_is_exactly_that_list(
    app: TestApp,
) {
    let demo = app.demo().await;
    let betreiber = Browser::log_in(&app, "betreiber").await;
    let total: (i64,) = sqlx::query_as("SELECT CAST(COUNT(*) AS BIGINT) FROM bookings")
        .fetch_one(&app.db().pool)
        .await
        .unwrap();
    assert!(total.0 <= 50, "the demo bookings fit on one page");
    // A customer name a spreadsheet would run as a formula.
    sqlx::query("UPDATE customers SET name = $1 WHERE id = $2")
        .bind("=Landesamt für Statistik")
        .bind(demo.lastat.id)
        .execute(&app.db().pool)
        .await
        .unwrap();

    // Search: a part of a customer's name, in another case.
    let (status, html) = betreiber.get("/buchungen?suche=LANDESAMT").await;
    assert_eq!(status, StatusCode::OK);
    let mut found = row_ids(&html, "/buchungen/");
    found.sort_unstable();
    assert_eq!(found, bookings_of(&app, demo.lastat.id).await);
    assert!(html.contains(r#"id="f-suche""#) && html.contains(r#"value="LANDESAMT""#));

    // Sorted by customer, ascending then descending: the one list reversed
    // (ties go by id in the same direction).
    let (_, up) = betreiber.get("/buchungen?sortierung=customer").await;
    let (_, down) = betreiber.get("/buchungen?sortierung=-customer").await;
    let up_ids = row_ids(&up, "/buchungen/");
    let mut down_ids = row_ids(&down, "/buchungen/");
    assert_eq!(up_ids.len() as i64, total.0);
    down_ids.reverse();
    assert_eq!(up_ids, down_ids);
    let mut names = Vec::new();
    for id in &up_ids {
        let (customer,): (i64,) = sqlx::query_as("SELECT customer_id FROM bookings WHERE id = $1")
            .bind(id)
            .fetch_one(&app.db().pool)
            .await
            .unwrap();
        names.push(customer_name(&app, customer).await.to_lowercase());
    }
    assert!(names.is_sorted(), "ascending by customer: {names:?}");
    // The sorted column says so, and its link sorts the other way round.
    assert_eq!(up.matches(r#"aria-sort="ascending""#).count(), 1);
    assert!(up.contains("sortierung=-customer"));
    assert_eq!(down.matches(r#"aria-sort="descending""#).count(), 1);

    // Sorted by size, search and sort together, both ways.
    let (_, by_size) = betreiber
        .get("/buchungen?suche=landesamt&sortierung=-size")
        .await;
    let by_size_ids = row_ids(&by_size, "/buchungen/");
    let (_, by_size_up) = betreiber
        .get("/buchungen?suche=landesamt&sortierung=size")
        .await;
    let mut reversed = row_ids(&by_size_up, "/buchungen/");
    reversed.reverse();
    assert_eq!(by_size_ids, reversed);

    // The download: exactly the list, in its order, German spreadsheet
    // format, the formula neutralised.
    let (status, body) = betreiber
        .get("/buchungen/csv?suche=landesamt&sortierung=-size")
        .await;
    assert_eq!(status, StatusCode::OK);
    let (header, records) = german_csv(&body);
    assert_eq!(header[0], "Nr.");
    assert_eq!(header[1], "Kunde");
    assert_eq!(csv_ids(&records), by_size_ids);
    assert!(!records.is_empty());
    for r in &records {
        assert_eq!(r[1], "'=Landesamt für Statistik", "neutralised: {r:?}");
    }
    // The page links to that very download.
    let links = by_size.replace("&#38;", "&").replace("&amp;", "&");
    assert!(links.contains(r#"href="/buchungen/csv?suche=landesamt&sortierung=-size""#));
    // RFC 4180 on request: commas, no BOM.
    let (_, machine) = betreiber
        .get("/buchungen/csv?suche=landesamt&sortierung=-size&format=rfc4180")
        .await;
    assert!(machine.starts_with("Nr.,Kunde,"));
    // All rows, not one page: the whole list without search.
    let (_, all) = betreiber.get("/buchungen/csv?sortierung=customer").await;
    assert_eq!(csv_ids(&german_csv(&all).1), up_ids);
}

async fn a_customers_booking_list_and_its_csv_show_only_their_bookings(app: TestApp) {
    let demo = app.demo().await;
    let sp = Browser::log_in(&app, "systempfleger").await;
    let own = bookings_of(&app, demo.musterhausen.id).await;
    assert!(!own.is_empty());

    let (status, html) = sp.get("/buchungen?sortierung=id").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(row_ids(&html, "/buchungen/"), own);
    let (_, body) = sp.get("/buchungen/csv?sortierung=id").await;
    let (_, records) = german_csv(&body);
    assert_eq!(csv_ids(&records), own);

    // Searching another customer's name finds nothing of theirs.
    let other = customer_name(&app, demo.lastat.id).await;
    let query = format!("suche={}", other.replace(' ', "+"));
    let (status, html) = sp.get(&format!("/buchungen?{query}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(row_ids(&html, "/buchungen/").is_empty());
    assert!(html.contains("Keine Buchungen für diese Auswahl."));
    let (_, body) = sp.get(&format!("/buchungen/csv?{query}")).await;
    assert!(german_csv(&body).1.is_empty(), "{body}");

    // The Betreiber's lists stay closed to customers, downloads included.
    for path in ["/betrieb/kunden/csv", "/betrieb/vertraege/csv"] {
        let (status, _) = sp.get(path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }
}

async fn the_customer_and_contract_lists_are_searched_and_sorted_and_downloaded_alike(
    app: TestApp,
) {
    let demo = app.demo().await;
    let betreiber = Browser::log_in(&app, "betreiber").await;
    let customers: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, name FROM customers ORDER BY id")
            .fetch_all(&app.db().pool)
            .await
            .unwrap();

    // Kunden: sorted by name both ways, searched, downloaded.
    let (_, up) = betreiber.get("/betrieb/kunden?sortierung=name").await;
    let (_, down) = betreiber.get("/betrieb/kunden?sortierung=-name").await;
    let up_ids = row_ids(&up, "/betrieb/kunden/");
    let mut down_ids = row_ids(&down, "/betrieb/kunden/");
    assert_eq!(up_ids.len(), customers.len());
    down_ids.reverse();
    assert_eq!(up_ids, down_ids);
    let mut expected = customers.clone();
    expected.sort_by_key(|(_, name)| name.to_lowercase());
    assert_eq!(
        up_ids,
        expected.iter().map(|(id, _)| *id).collect::<Vec<_>>()
    );
    assert!(up.contains(r#"aria-sort="ascending""#));
    let (_, found) = betreiber.get("/betrieb/kunden?suche=nordkreis").await;
    assert_eq!(row_ids(&found, "/betrieb/kunden/"), [demo.nordkreis.id]);
    let (status, body) = betreiber
        .get("/betrieb/kunden/csv?suche=e&sortierung=-name")
        .await;
    assert_eq!(status, StatusCode::OK);
    let (header, records) = german_csv(&body);
    assert_eq!(header, ["Nr.", "Behörde", "Kürzel"]);
    let (_, page) = betreiber
        .get("/betrieb/kunden?suche=e&sortierung=-name")
        .await;
    assert_eq!(csv_ids(&records), row_ids(&page, "/betrieb/kunden/"));

    // Verträge: by customer both ways, searched by the number, downloaded.
    let (_, up) = betreiber
        .get("/betrieb/vertraege?sortierung=customer")
        .await;
    let (_, down) = betreiber
        .get("/betrieb/vertraege?sortierung=-customer")
        .await;
    let up_ids = row_ids(&up, "/betrieb/vertraege/");
    let mut down_ids = row_ids(&down, "/betrieb/vertraege/");
    assert!(up_ids.len() >= 3);
    down_ids.reverse();
    assert_eq!(up_ids, down_ids);
    let (number,): (String,) = sqlx::query_as("SELECT number FROM contracts WHERE id = $1")
        .bind(demo.nordkreis.contract_id)
        .fetch_one(&app.db().pool)
        .await
        .unwrap();
    let (_, found) = betreiber
        .get(&format!(
            "/betrieb/vertraege?suche={}",
            number.to_lowercase()
        ))
        .await;
    assert_eq!(
        row_ids(&found, "/betrieb/vertraege/"),
        [demo.nordkreis.contract_id]
    );
    let (_, body) = betreiber
        .get("/betrieb/vertraege/csv?sortierung=-customer")
        .await;
    let (header, records) = german_csv(&body);
    assert_eq!(header[0], "Vertragsnummer");
    let mut numbers = Vec::new();
    for id in &up_ids {
        let (n,): (String,) = sqlx::query_as("SELECT number FROM contracts WHERE id = $1")
            .bind(id)
            .fetch_one(&app.db().pool)
            .await
            .unwrap();
        numbers.push(n);
    }
    numbers.reverse();
    assert_eq!(
        records.iter().map(|r| r[0].clone()).collect::<Vec<_>>(),
        numbers
    );
}

async fn bad_search_or_sort_parameters_get_a_message_and_never_a_server_error(app: TestApp) {
    let betreiber = Browser::log_in(&app, "betreiber").await;
    let long = "x".repeat(201);
    for list in ["/buchungen", "/betrieb/kunden", "/betrieb/vertraege"] {
        let (status, html) = betreiber.get(&format!("{list}?sortierung=passwort")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{list}");
        assert!(
            html.contains("Nach dieser Spalte lässt sich die Liste nicht sortieren"),
            "{list}"
        );
        assert!(html.contains("<title>Fehler: "), "{list}");
        assert!(html.contains(r##"href="#f-sortierung""##), "{list}");

        let (status, html) = betreiber.get(&format!("{list}?suche={long}")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{list}");
        assert!(html.contains("höchstens 200 Zeichen"), "{list}");
        assert!(html.contains(r#"id="f-suche-error""#), "{list}");

        let (status, _) = betreiber.get(&format!("{list}?suche=a%0Ab")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{list}");

        for query in [
            "sortierung=passwort".to_owned(),
            format!("suche={long}"),
            "format=xlsx".to_owned(),
        ] {
            let (status, html) = betreiber.get(&format!("{list}/csv?{query}")).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{list}/csv?{query}");
            assert!(html.contains("Ungültige Eingabe"), "{list}/csv?{query}");
        }
    }
    // The API reads `q` and `sort` by the same rules.
    let token = app.token_for("betreiber").await;
    for list in ["bookings", "customers", "contracts"] {
        let resp = app
            .get(&format!("/api/v1/{list}?sort=passwort"), &token)
            .await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY, "{list}");
        let resp = app.get(&format!("/api/v1/{list}?q={long}"), &token).await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY, "{list}");
    }
}

async fn the_booking_state_fragment_polls_until_final_and_is_not_found_for_another_tenant(
    app: TestApp,
) {
    let demo = app.demo().await;
    app.settle().await;
    let sp = Browser::log_in(&app, "systempfleger").await;
    let own = demo.musterhausen.booking_id;

    // Final: the element no longer asks for itself.
    let (status, html) = sp.get(&format!("/buchungen/{own}/zustand")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&format!(r#"id="zustand-{own}""#)), "{html}");
    assert!(!html.contains("hx-get"), "{html}");
    assert!(!html.contains("<html"), "a fragment, not a page");

    // Not provisioned yet: it asks again, on every kind of page.
    sqlx::query("UPDATE bookings SET state = 'beantragt' WHERE id = $1")
        .bind(own)
        .execute(&app.db().pool)
        .await
        .unwrap();
    let (_, html) = sp.get(&format!("/buchungen/{own}/zustand")).await;
    assert!(html.contains(&format!(r#"hx-get="/buchungen/{own}/zustand""#)));
    assert!(html.contains(r#"hx-trigger="every 2s""#));
    assert!(html.contains("beantragt"));
    let (_, html) = sp
        .get(&format!("/buchungen/{own}/zustand?ansicht=detail"))
        .await;
    assert!(html.contains(&format!(
        r#"hx-get="/buchungen/{own}/zustand?ansicht=detail""#
    )));
    assert!(html.contains(r#"id="zustand-status" hx-swap-oob="true""#));
    let (_, html) = sp
        .get(&format!("/buchungen/{own}/zustand?ansicht=kurz"))
        .await;
    assert!(html.contains(&format!(
        r#"hx-get="/buchungen/{own}/zustand?ansicht=kurz""#
    )));
    // The pages poll it inside a live region, and keep a link for a
    // browser without JavaScript.
    let (_, page) = sp.get(&format!("/buchungen/{own}")).await;
    assert!(page.contains(r#"<span aria-live="polite"><span id="zustand-"#));
    assert!(page.contains(">Aktualisieren</a>"));
    let (_, list) = sp.get("/buchungen").await;
    assert!(list.contains(&format!(
        r#"<span aria-live="polite"><span id="zustand-{own}" hx-get="#
    )));
    assert!(list.contains(">Aktualisieren</a>"));
    let (_, overview) = sp.get("/uebersicht").await;
    assert!(overview.contains(&format!(r#"id="zustand-{own}" hx-get="#)));

    // Another customer's booking, a booking that does not exist, a view
    // that does not exist.
    let (status, _) = sp
        .get(&format!("/buchungen/{}/zustand", demo.lastat.booking_id))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = sp.get("/buchungen/999999/zustand").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = sp.get(&format!("/buchungen/{own}/zustand?ansicht=x")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// The link of the next page on a booking list page, unescaped.
fn next_page(html: &str) -> Option<String> {
    let html = html.replace("&#38;", "&").replace("&amp;", "&");
    let end = html.find("\">Nächste Seite</a>")?;
    let start = html[..end].rfind("href=\"")? + "href=\"".len();
    Some(html[start..end].to_owned())
}

async fn paging_keeps_search_and_sort_and_the_csv_has_every_page(app: TestApp) {
    // 56 bookings of one customer, in seven applications whose names the
    // search finds (eight per application: four stages, two products).
    let tenant = app.contract_with_room(1000).await;
    let system = seed::system_user(app.db()).await.expect("system user");
    let mut applications = vec![tenant.application_id];
    for n in 2..=7 {
        let new = NewApplication {
            contract_id: tenant.contract_id,
            slug: Slug::parse(&format!("probe{n}")).unwrap(),
            name: text(&format!("Seitenprobe {n}")),
        };
        applications.push(
            app::applications::create(app.db(), &system, tenant.customer_id, &new, 0)
                .await
                .expect("application"),
        );
    }
    sqlx::query("UPDATE applications SET name = 'Seitenprobe 1' WHERE id = $1")
        .bind(tenant.application_id)
        .execute(&app.db().pool)
        .await
        .unwrap();
    for application in &applications {
        for stage in ["vorpruefung", "abnahme", "schulung", "produktion"] {
            for product in ["container-namespace", "persistent-storage"] {
                app.book_ok(&tenant.token, *application, stage, product, "S")
                    .await;
            }
        }
    }
    let betreiber = Browser::log_in(&app, "betreiber").await;
    let mut seen = Vec::new();
    for order in ["application", "-application"] {
        let mut ids = Vec::new();
        let mut next = Some(format!("/buchungen?suche=SEITENPROBE&sortierung={order}"));
        let mut pages = 0;
        while let Some(path) = next {
            let (status, html) = betreiber.get(&path).await;
            assert_eq!(status, StatusCode::OK, "{path}");
            ids.extend(row_ids(&html, "/buchungen/"));
            next = next_page(&html);
            if let Some(to) = &next {
                assert!(
                    to.contains("suche=SEITENPROBE") && to.contains(&format!("sortierung={order}")),
                    "the next page keeps search and sort: {to}"
                );
            }
            pages += 1;
        }
        assert_eq!(pages, 2, "50 and 6");
        assert_eq!(ids.len(), 56);
        // The download has every page, in the same order.
        let (_, body) = betreiber
            .get(&format!(
                "/buchungen/csv?suche=SEITENPROBE&sortierung={order}"
            ))
            .await;
        let (_, records) = german_csv(&body);
        assert_eq!(csv_ids(&records), ids);
        assert!(records.iter().all(|r| r[3].starts_with("Seitenprobe ")));
        seen.push(ids);
    }
    let mut descending = seen.pop().unwrap();
    descending.reverse();
    assert_eq!(seen.pop().unwrap(), descending);
}
