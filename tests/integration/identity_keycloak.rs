//! Login through a real Keycloak (`keycloak`), set up by the realm file
//! `tests/keycloak/realm-verwaltung.json` exactly as the README tells an
//! administrator: roles from Keycloak's groups, a group change arriving at
//! the next login, Keycloak's access tokens on the API (with the audience
//! mapper, and refused without it), and a new signing key accepted without a
//! restart. The browser journey, axe on the pages after it and the logout at
//! Keycloak are in `tests/browser/keycloak.test.mjs`. The faults Keycloak
//! cannot be made to produce stay with `oidc-provider` (`identity`).

use reqwest::StatusCode;
use serde_json::Value;

use crate::{
    keycloak::{
        Browser, Keycloak, OTHER_CLIENT, REALM, claims_of, header_of, kontor_with_keycloak,
        tokens_for,
    },
    support::{Backend, TestApp, assert_problem, assert_unauthorized, id},
};

cluster_tests!(
    every_group_of_the_realm_gives_its_role_and_customer,
    a_group_change_in_keycloak_arrives_at_the_next_login,
    keycloaks_access_tokens_work_on_the_api_with_the_kontor_audience_only,
);

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

/// The user Kontor made for a Keycloak login: id, login, customer slug,
/// roles.
async fn kontor_user(
    app: &TestApp,
    issuer: &str,
    login: &str,
) -> Option<(i64, Option<String>, Vec<String>)> {
    let row: Option<(i64, Option<String>)> = sqlx::query_as(
        "SELECT u.id, c.slug FROM users u LEFT JOIN customers c ON c.id = u.customer_id \
         WHERE u.oidc_issuer = $1 AND u.login = $2",
    )
    .bind(issuer)
    .bind(login)
    .fetch_optional(&app.db().pool)
    .await
    .unwrap();
    let (id, customer) = row?;
    let roles: Vec<(String,)> =
        sqlx::query_as("SELECT role FROM user_roles WHERE user_id = $1 ORDER BY role")
            .bind(id)
            .fetch_all(&app.db().pool)
            .await
            .unwrap();
    Some((id, customer, roles.into_iter().map(|(r,)| r).collect()))
}

async fn audit_actions_of_user(app: &TestApp, user_id: i64) -> Vec<String> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT action FROM audit_log WHERE object_type = 'user' AND object_id = $1 ORDER BY id",
    )
    .bind(user_id)
    .fetch_all(&app.db().pool)
    .await
    .unwrap();
    rows.into_iter().map(|(a,)| a).collect()
}

async fn every_group_of_the_realm_gives_its_role_and_customer(backend: Backend) {
    let kc = Keycloak::shared().await;
    let app = kontor_with_keycloak(backend, kc, REALM).await;
    let issuer = kc.issuer(REALM);
    // The users of the realm file, one per group the README names.
    let expected: [(&str, Option<&str>, &[&str]); 8] = [
        ("bernd.betrieb", None, &["betreiber"]),
        ("frida.controlling", None, &["finanzen"]),
        ("paula.pflege", Some("musterhausen"), &["systempfleger"]),
        (
            "vera.verfahren",
            Some("musterhausen"),
            &["verfahrensverantwortlicher"],
        ),
        ("erik.entwicklung", Some("musterhausen"), &["entwickler"]),
        ("fiona.haushalt", Some("musterhausen"), &["finanzen"]),
        ("lars.statistik", Some("lastat"), &["systempfleger"]),
        ("norbert.nord", Some("nordkreis"), &["systempfleger"]),
    ];
    for (username, customer, roles) in expected {
        let browser = Browser::new();
        let back = browser.log_in(&app, username).await;
        assert_eq!(back.status(), StatusCode::SEE_OTHER, "{username}");
        assert_eq!(back.headers()["location"], "/uebersicht", "{username}");
        let (_, slug, granted) = kontor_user(&app, &issuer, username)
            .await
            .unwrap_or_else(|| panic!("{username} was not created at login"));
        assert_eq!(slug.as_deref(), customer, "{username}'s customer");
        assert_eq!(granted, roles, "{username}'s roles");
        let overview = browser.get(&format!("{}/uebersicht", app.address)).await;
        assert_eq!(overview.status(), StatusCode::OK, "{username}");
    }
    // The header names the person as Keycloak's `name` claim does.
    let browser = Browser::new();
    browser.log_in(&app, "paula.pflege").await;
    let html = browser
        .get(&format!("{}/uebersicht", app.address))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Paula Pflege"), "{html}");
    assert!(html.contains("Stadt Musterhausen"), "{html}");

    // A group of another application of the realm is no Kontor group.
    let page = Browser::new().log_in(&app, "otto.ohnegruppe").await;
    assert_eq!(page.status(), StatusCode::FORBIDDEN);
    let html = page.text().await.unwrap();
    assert!(html.contains("Kein Zugang zu Kontor"), "{html}");
    assert!(html.contains("Otto Ohnegruppe"), "{html}");
    assert!(
        kontor_user(&app, &issuer, "otto.ohnegruppe")
            .await
            .is_none(),
        "no user is created without a Kontor group"
    );
}

async fn a_group_change_in_keycloak_arrives_at_the_next_login(backend: Backend) {
    let kc = Keycloak::shared().await;
    let app = kontor_with_keycloak(backend, kc, REALM).await;
    let issuer = kc.issuer(REALM);
    let admin = kc.admin().await;
    let username = unique("wechsel");
    let user_id = admin
        .create_user(
            REALM,
            &username,
            "Wanda",
            "Wechsel",
            &["/nordkreis/systempfleger"],
        )
        .await;

    let browser = Browser::new();
    assert_eq!(
        browser.log_in(&app, &username).await.status(),
        StatusCode::SEE_OTHER
    );
    let (kontor_id, customer, roles) = kontor_user(&app, &issuer, &username).await.unwrap();
    assert_eq!(customer.as_deref(), Some("nordkreis"));
    assert_eq!(roles, ["systempfleger"]);

    // The administrator moves Wanda to development in Keycloak. Kontor
    // learns it at the next login, here through Keycloak's single sign-on
    // (no password asked), for the same user, with an audit entry.
    admin
        .leave_group(REALM, &user_id, "/nordkreis/systempfleger")
        .await;
    admin
        .join_group(REALM, &user_id, "/nordkreis/entwickler")
        .await;
    admin
        .join_group(REALM, &user_id, "/nordkreis/verfahrensverantwortliche")
        .await;
    assert_eq!(
        admin.groups_of(REALM, &user_id).await,
        [
            "/nordkreis/entwickler",
            "/nordkreis/verfahrensverantwortliche"
        ]
    );
    let (_, _, still) = kontor_user(&app, &issuer, &username).await.unwrap();
    assert_eq!(still, ["systempfleger"], "nothing changes before a login");
    assert_eq!(
        browser.log_in(&app, &username).await.status(),
        StatusCode::SEE_OTHER
    );
    let (same_id, customer, roles) = kontor_user(&app, &issuer, &username).await.unwrap();
    assert_eq!(same_id, kontor_id);
    assert_eq!(customer.as_deref(), Some("nordkreis"));
    assert_eq!(roles, ["entwickler", "verfahrensverantwortlicher"]);

    // To another customer: the user follows.
    admin
        .leave_group(REALM, &user_id, "/nordkreis/entwickler")
        .await;
    admin
        .leave_group(REALM, &user_id, "/nordkreis/verfahrensverantwortliche")
        .await;
    admin.join_group(REALM, &user_id, "/lastat/finanzen").await;
    assert_eq!(
        Browser::new().log_in(&app, &username).await.status(),
        StatusCode::SEE_OTHER
    );
    let (same_id, customer, roles) = kontor_user(&app, &issuer, &username).await.unwrap();
    assert_eq!(same_id, kontor_id);
    assert_eq!(customer.as_deref(), Some("lastat"));
    assert_eq!(roles, ["finanzen"]);
    assert_eq!(
        audit_actions_of_user(&app, kontor_id).await,
        ["user.created", "user.roles_changed", "user.roles_changed"]
    );

    // Out of every Kontor group: no way in any more.
    admin.leave_group(REALM, &user_id, "/lastat/finanzen").await;
    let page = Browser::new().log_in(&app, &username).await;
    assert_eq!(page.status(), StatusCode::FORBIDDEN);
    assert!(page.text().await.unwrap().contains("Kein Zugang zu Kontor"));
}

/// Whether a JWT's `aud` (a string or a list) names `who`.
fn audience_names(claims: &Value, who: &str) -> bool {
    match &claims["aud"] {
        Value::String(aud) => aud == who,
        Value::Array(auds) => auds.iter().any(|a| a == who),
        _ => false,
    }
}

async fn keycloaks_access_tokens_work_on_the_api_with_the_kontor_audience_only(backend: Backend) {
    let kc = Keycloak::shared().await;
    let app = kontor_with_keycloak(backend, kc, REALM).await;
    let demo = app.demo().await;
    let tokens = tokens_for(
        kc,
        REALM,
        ("kontor", crate::keycloak::CLIENT_SECRET),
        "/anmelden/rueckkehr",
        "paula.pflege",
    )
    .await;
    let claims = claims_of(&tokens.access_token);
    assert!(audience_names(&claims, "kontor"), "{claims}");
    assert_eq!(
        claims["groups"],
        serde_json::json!(["/musterhausen/systempfleger"])
    );

    // Accepted: Paula sees her customer's bookings, and only those.
    let resp = app.get("/api/v1/bookings", &tokens.access_token).await;
    let body = crate::support::expect_json(resp, StatusCode::OK).await;
    let items = body["items"].as_array().expect("items");
    assert!(!items.is_empty(), "{body}");
    assert!(
        items
            .iter()
            .all(|b| b["customer_id"] == demo.musterhausen.id),
        "{body}"
    );
    // A booking made with it names her and Keycloak's subject.
    let booking = app
        .book_ok(
            &tokens.access_token,
            demo.musterhausen.application_ids[0],
            "vorpruefung",
            "container-namespace",
            "S",
        )
        .await;
    let (via, subject, actor): (String, Option<String>, String) = sqlx::query_as(
        "SELECT via, actor_subject, actor FROM audit_log \
         WHERE action = 'booking.created' AND object_id = $1",
    )
    .bind(id(&booking))
    .fetch_one(&app.db().pool)
    .await
    .unwrap();
    assert_eq!(via, "oidc-token");
    assert_eq!(subject.as_deref(), claims["sub"].as_str());
    assert!(actor.contains("Paula Pflege"), "{actor}");

    // Refused: the same person's token for another application of the
    // realm. It carries her groups, but not the audience `kontor`.
    let other = tokens_for(kc, REALM, OTHER_CLIENT, "/rueckkehr", "paula.pflege").await;
    let other_claims = claims_of(&other.access_token);
    assert_eq!(other_claims["groups"], claims["groups"]);
    assert!(!audience_names(&other_claims, "kontor"), "{other_claims}");
    // Same person, same groups, same realm and keys: only the audience
    // differs, and the answer says no more than that the token is not
    // valid here (which claim failed is in the log, ASVS 7.4.1).
    let problem = assert_unauthorized(app.get("/api/v1/bookings", &other.access_token).await).await;
    assert_eq!(
        problem["detail"], "Das Token ist ungültig oder abgelaufen.",
        "{problem}"
    );

    // Refused: the ID token of Kontor's own login. Its audience is `kontor`
    // too, but it is no access token, and it travels through the browser
    // (the logout redirect's id_token_hint).
    let id_claims = claims_of(&tokens.id_token);
    assert!(audience_names(&id_claims, "kontor"), "{id_claims}");
    assert_unauthorized(app.get("/api/v1/bookings", &tokens.id_token).await).await;

    // A person without a Kontor group: a valid token, but 403, not 401.
    let outsider = tokens_for(
        kc,
        REALM,
        ("kontor", crate::keycloak::CLIENT_SECRET),
        "/anmelden/rueckkehr",
        "otto.ohnegruppe",
    )
    .await;
    assert_problem(
        app.get("/api/v1/bookings", &outsider.access_token).await,
        StatusCode::FORBIDDEN,
        "no-access",
    )
    .await;
}

/// Changes the realm's keys, so it works on a realm of its own (the realm
/// file under another name). Does not depend on the database: SQLite only.
#[tokio::test(flavor = "multi_thread")]
async fn a_new_signing_key_in_keycloak_is_accepted_without_restarting_kontor() {
    let kc = Keycloak::shared().await;
    let admin = kc.admin().await;
    let realm = unique("verwaltung-schluessel");
    admin.copy_of_the_realm(&realm).await;
    let app = kontor_with_keycloak(Backend::Sqlite, kc, &realm).await;
    let kontor_client = ("kontor", crate::keycloak::CLIENT_SECRET);

    // Kontor knows the realm's first key after a login and a token.
    let old_kid = admin.active_rs256_kid(&realm).await;
    assert_eq!(
        Browser::new().log_in(&app, "paula.pflege").await.status(),
        StatusCode::SEE_OTHER
    );
    let before = tokens_for(
        kc,
        &realm,
        kontor_client,
        "/anmelden/rueckkehr",
        "paula.pflege",
    )
    .await;
    assert_eq!(header_of(&before.access_token)["kid"], old_kid.as_str());
    assert_eq!(
        app.get("/api/v1/bookings", &before.access_token)
            .await
            .status(),
        StatusCode::OK
    );

    // The administrator adds a generated RSA key of higher priority: from
    // now on Keycloak signs with it.
    admin.add_rsa_key(&realm, "rsa-neu", 200).await;
    let new_kid = admin.active_rs256_kid(&realm).await;
    assert_ne!(new_kid, old_kid, "the new key is the active one");

    // A browser login: the ID token is signed with the new key, which
    // Kontor fetches on first sight.
    let browser = Browser::new();
    let back = browser.log_in(&app, "vera.verfahren").await;
    assert_eq!(
        back.status(),
        StatusCode::SEE_OTHER,
        "login after the new key: {}",
        back.text().await.unwrap_or_default()
    );
    assert_eq!(
        browser
            .get(&format!("{}/uebersicht", app.address))
            .await
            .status(),
        StatusCode::OK
    );
    // An access token signed with the new key works on the API, and so
    // does the one signed before, with the old key Keycloak still
    // publishes.
    let after = tokens_for(
        kc,
        &realm,
        kontor_client,
        "/anmelden/rueckkehr",
        "paula.pflege",
    )
    .await;
    assert_eq!(header_of(&after.access_token)["kid"], new_kid.as_str());
    assert_eq!(
        app.get("/api/v1/bookings", &after.access_token)
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        app.get("/api/v1/bookings", &before.access_token)
            .await
            .status(),
        StatusCode::OK
    );
    admin.drop_realm(&realm).await;
}
