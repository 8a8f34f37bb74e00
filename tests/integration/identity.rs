//! Login through a real OpenID provider (npm `oidc-provider` as a child
//! process), roles from its groups claim, users just in time, the refused
//! cases of the code flow, access tokens of the issuer on the API with key
//! rotation, RP-initiated logout, the API-token page, rate limits and the
//! security headers.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    oidc_provider::{Browser, Provider, kontor_with},
    support::{Backend, TestApp, assert_problem, assert_unauthorized, csrf_in},
};

cluster_tests!(
    a_login_through_the_provider_creates_the_user_and_follows_their_groups,
    without_a_kontor_group_the_user_sees_kein_zugang,
    groups_of_two_customers_are_refused_not_guessed,
    access_tokens_of_the_issuer_work_on_the_api_and_keep_the_actor,
    api_tokens_are_created_used_and_revoked_on_their_page,
    the_api_limit_is_shared_by_two_replicas,
);

/// A refusal a person or caller reads names no issuer, audience, clock or
/// library words (ASVS 7.4.1); those are in the log under the request id.
fn assert_tells_nothing(text: &str, issuer: &str, why: &str) {
    assert!(!text.contains(issuer), "{why}: the issuer URL: {text}");
    for leak in [
        "expected",
        "found",
        "current time",
        "Invalid",
        "invalid",
        "Error",
        "nonce",
        "audience",
        "signature",
        "JSON",
        "claim",
    ] {
        assert!(
            !text.contains(leak),
            "{why}: {leak:?} reaches the person: {text}"
        );
    }
}

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

async fn user_row(app: &TestApp, subject: &str) -> Option<(i64, String, Option<i64>)> {
    sqlx::query_as("SELECT id, login, customer_id FROM users WHERE oidc_subject = $1")
        .bind(subject)
        .fetch_optional(&app.db().pool)
        .await
        .unwrap()
}

async fn roles_of(app: &TestApp, user_id: i64) -> Vec<String> {
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT role FROM user_roles WHERE user_id = $1 ORDER BY role")
            .bind(user_id)
            .fetch_all(&app.db().pool)
            .await
            .unwrap();
    rows.into_iter().map(|(r,)| r).collect()
}

async fn audit_of_user(app: &TestApp, user_id: i64) -> Vec<(String, String, Option<String>)> {
    sqlx::query_as(
        "SELECT action, via, actor_subject FROM audit_log \
         WHERE object_type = 'user' AND object_id = $1 ORDER BY id",
    )
    .bind(user_id)
    .fetch_all(&app.db().pool)
    .await
    .unwrap()
}

async fn a_login_through_the_provider_creates_the_user_and_follows_their_groups(backend: Backend) {
    let provider = Provider::start().await;
    let app = kontor_with(backend, &provider).await;
    let demo = app.demo().await;
    let username = unique("pflege");
    let subject = provider
        .add_user(
            &username,
            "Paula Pflege",
            &["/nordkreis/systempfleger", "unrelated"],
        )
        .await;

    let browser = Browser::new();
    browser.get(&format!("{}/anmelden", app.address)).await;
    let before = browser
        .http
        .get(format!("{}/anmelden", app.address))
        .send()
        .await
        .unwrap();
    let html = before.text().await.unwrap();
    assert!(html.contains("Beim Anmeldedienst anmelden"), "{html}");
    assert!(
        !html.contains("data-login="),
        "no demo users when an issuer is set"
    );

    let back = browser.log_in(&app, &username).await;
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    assert_eq!(back.headers()["location"], "/uebersicht");
    let cookie = back
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("kontor_session="))
        .expect("the session cookie is set at login");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "plain http on loopback: {cookie}"
    );

    let overview = browser.get(&format!("{}/uebersicht", app.address)).await;
    assert_eq!(overview.status(), StatusCode::OK);
    let html = overview.text().await.unwrap();
    assert!(html.contains("Paula Pflege"), "the header names the user");

    let (id, login, customer) = user_row(&app, &subject).await.expect("created at login");
    assert_eq!(login, username, "preferred_username is the login");
    assert_eq!(customer, Some(demo.nordkreis.id));
    assert_eq!(roles_of(&app, id).await, ["systempfleger"]);
    let audit = audit_of_user(&app, id).await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].0, "user.created");
    assert_eq!(audit[0].1, "sitzung");
    assert_eq!(audit[0].2.as_deref(), Some(subject.as_str()));

    // The provider moves the person to development: the next login says so,
    // for the same user, and the audit log records the change.
    provider
        .add_user(
            &username,
            "Paula Pflege",
            &[
                "nordkreis/entwickler",
                "nordkreis/verfahrensverantwortliche",
            ],
        )
        .await;
    let again = Browser::new().log_in(&app, &username).await;
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    let (same_id, _, _) = user_row(&app, &subject).await.unwrap();
    assert_eq!(same_id, id);
    assert_eq!(
        roles_of(&app, id).await,
        ["entwickler", "verfahrensverantwortlicher"]
    );
    let audit = audit_of_user(&app, id).await;
    assert_eq!(
        audit.iter().map(|a| a.0.as_str()).collect::<Vec<_>>(),
        ["user.created", "user.roles_changed"]
    );

    // A third login with nothing changed writes no audit entry.
    Browser::new().log_in(&app, &username).await;
    assert_eq!(audit_of_user(&app, id).await.len(), 2);
}

async fn without_a_kontor_group_the_user_sees_kein_zugang(backend: Backend) {
    let provider = Provider::start().await;
    let app = kontor_with(backend, &provider).await;
    let browser = Browser::new();
    let page = browser.log_in(&app, "niemand").await;
    assert_eq!(page.status(), StatusCode::FORBIDDEN);
    let html = page.text().await.unwrap();
    assert!(html.contains("Kein Zugang zu Kontor"), "{html}");
    assert!(html.contains("Nora Niemand"));
    assert!(
        user_row(&app, "u-niemand").await.is_none(),
        "no user is created"
    );
    let overview = browser.get(&format!("{}/uebersicht", app.address)).await;
    assert_eq!(overview.status(), StatusCode::SEE_OTHER, "not logged in");

    // "Abmelden" from there ends the provider's session too.
    let logout = browser
        .http
        .post(format!("{}/abmelden", app.address))
        .form(&[("csrf", csrf_in(&html))])
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::SEE_OTHER);
    let location = logout.headers()["location"].to_str().unwrap();
    assert!(location.starts_with(&provider.issuer), "{location}");
    assert!(location.contains("id_token_hint="), "{location}");
    // Browsers apply form-action to the redirect after the form: the
    // provider's origin must be allowed, or the logout never gets there.
    let csp = logout.headers()["content-security-policy"]
        .to_str()
        .unwrap();
    assert!(
        csp.contains(&format!("form-action 'self' {}", provider.issuer)),
        "{csp}"
    );
}

async fn groups_of_two_customers_are_refused_not_guessed(backend: Backend) {
    let provider = Provider::start().await;
    let app = kontor_with(backend, &provider).await;
    let username = unique("doppelt");
    let subject = provider
        .add_user(
            &username,
            "Dora Doppelt",
            &["nordkreis/entwickler", "lastat/entwickler"],
        )
        .await;
    let page = Browser::new().log_in(&app, &username).await;
    assert_eq!(page.status(), StatusCode::FORBIDDEN);
    let html = page.text().await.unwrap();
    assert!(html.contains("mehreren Kunden"), "{html}");
    assert!(html.contains("lastat") && html.contains("nordkreis"));
    assert!(user_row(&app, &subject).await.is_none());
}

/// The refused cases of the code flow. They do not depend on the database,
/// so they run on SQLite only.
#[tokio::test(flavor = "multi_thread")]
async fn every_broken_login_is_refused_and_logs_nobody_in() {
    let provider = Provider::start().await;
    let app = kontor_with(Backend::Sqlite, &provider).await;
    let username = unique("pflege");
    provider
        .add_user(&username, "Paula Pflege", &["nordkreis/systempfleger"])
        .await;

    async fn refused(app: &TestApp, browser: &Browser, resp: reqwest::Response, why: &str) {
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{why}");
        let html = resp.text().await.unwrap();
        assert!(
            html.contains("role=\"alert\""),
            "{why}: the login page with a message"
        );
        assert_tells_nothing(&html, app.settings.oidc_issuer.as_deref().unwrap(), why);
        let overview = browser.get(&format!("{}/uebersicht", app.address)).await;
        assert_eq!(
            overview.status(),
            StatusCode::SEE_OTHER,
            "{why}: nobody is logged in"
        );
    }

    // A wrong state.
    let browser = Browser::new();
    let mut callback = browser.authorize(&app, &username).await;
    let pairs: Vec<(String, String)> = callback
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "state" {
                format!("{v}x")
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    callback.query_pairs_mut().clear().extend_pairs(pairs);
    refused(
        &app,
        &browser,
        browser.get(callback.as_str()).await,
        "wrong state",
    )
    .await;

    // A callback without any login started in this browser.
    let stranger = Browser::new();
    refused(
        &app,
        &stranger,
        stranger
            .get(&format!(
                "{}/anmelden/rueckkehr?code=x&state=y",
                app.address
            ))
            .await,
        "no pending login",
    )
    .await;

    // A replayed code: the first use logs in; the same code with the state
    // of a second login is refused by the provider.
    let browser = Browser::new();
    let first = browser.authorize(&app, &username).await;
    assert_eq!(
        browser.get(first.as_str()).await.status(),
        StatusCode::SEE_OTHER
    );
    let old_code = first
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let mut second = browser.authorize(&app, &username).await;
    let pairs: Vec<(String, String)> = second
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "code" {
                old_code.clone()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    second.query_pairs_mut().clear().extend_pairs(pairs);
    let replay = browser.get(second.as_str()).await;
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST, "replayed code");
    assert!(replay.text().await.unwrap().contains("abgelehnt"));

    // An authorization response naming another issuer (RFC 9207, mix-up),
    // or none although the provider promises it: refused before the code
    // goes anywhere.
    let discovery: Value = reqwest::get(format!(
        "{}/.well-known/openid-configuration",
        provider.issuer
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(
        discovery["authorization_response_iss_parameter_supported"], true,
        "the provider promises iss"
    );
    for iss in [Some("https://evil.example"), None] {
        let browser = Browser::new();
        let mut callback = browser.authorize(&app, &username).await;
        assert!(
            callback.query_pairs().any(|(k, _)| k == "iss"),
            "the provider sends iss: {callback}"
        );
        let pairs: Vec<(String, String)> = callback
            .query_pairs()
            .filter(|(k, _)| k != "iss")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .chain(iss.map(|i| ("iss".to_owned(), i.to_owned())))
            .collect();
        callback.query_pairs_mut().clear().extend_pairs(pairs);
        let why = format!("iss {iss:?}");
        refused(&app, &browser, browser.get(callback.as_str()).await, &why).await;
    }

    // ID tokens the provider (made to misbehave) sends back.
    for kind in [
        "wrong-nonce",
        "expired",
        "other-audience",
        "unknown-key",
        "tampered",
        "alg-none",
    ] {
        let browser = Browser::new();
        let callback = browser.authorize(&app, &username).await;
        provider.fault(kind).await;
        let resp = browser.get(callback.as_str()).await;
        refused(&app, &browser, resp, kind).await;
    }

    // And after all that, a plain login still works.
    let ok = Browser::new().log_in(&app, &username).await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
}

async fn access_tokens_of_the_issuer_work_on_the_api_and_keep_the_actor(backend: Backend) {
    let provider = Provider::start().await;
    let app = kontor_with(backend, &provider).await;
    let demo = app.demo().await;
    let claims = |extra: Value| {
        let mut c = json!({
            "sub": "u-api-pflege",
            "preferred_username": "api-pflege",
            "name": "Anton API",
            "groups": ["nordkreis/systempfleger"],
        });
        c.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        c
    };
    let token = provider.mint(claims(json!({})), None).await;
    let resp = app.get("/api/v1/bookings", &token).await;
    assert_eq!(resp.status(), StatusCode::OK);

    // A booking made with it names the person and their subject.
    let booking = app
        .book(
            &token,
            demo.nordkreis.application_ids[0],
            "vorpruefung",
            "container-namespace",
            "S",
        )
        .await;
    assert_eq!(
        booking.status(),
        StatusCode::CREATED,
        "{}",
        booking.text().await.unwrap()
    );
    let (via, subject, actor): (String, Option<String>, String) = sqlx::query_as(
        "SELECT via, actor_subject, actor FROM audit_log WHERE action = 'booking.created' \
         ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(&app.db().pool)
    .await
    .unwrap();
    assert_eq!(via, "oidc-token");
    assert_eq!(subject.as_deref(), Some("u-api-pflege"));
    assert!(actor.contains("Anton API"), "{actor}");

    // Refused: every claim checked, every forgery.
    let now = jiff::Timestamp::now().as_second();
    let bad = [
        (
            "expired",
            provider
                .mint(claims(json!({"exp": now - 120, "iat": now - 600})), None)
                .await,
        ),
        (
            "not yet valid",
            provider.mint(claims(json!({"nbf": now + 600})), None).await,
        ),
        (
            "other audience",
            provider
                .mint(claims(json!({"aud": "someone-else"})), None)
                .await,
        ),
        (
            "other issuer",
            provider
                .mint(claims(json!({"iss": "https://evil.example"})), None)
                .await,
        ),
        (
            "unknown key",
            provider.mint(claims(json!({})), Some("unknown-key")).await,
        ),
        (
            "tampered",
            provider.mint(claims(json!({})), Some("tampered")).await,
        ),
        (
            "alg none",
            provider.mint(claims(json!({})), Some("alg-none")).await,
        ),
        (
            "no exp",
            provider.mint(claims(json!({"exp": null})), None).await,
        ),
    ];
    for (why, token) in bad {
        let resp = app.get("/api/v1/bookings", &token).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{why}");
        let problem = assert_unauthorized(resp).await;
        assert_tells_nothing(&problem.to_string(), &provider.issuer, why);
        assert!(
            !problem.to_string().contains("evil.example"),
            "{why}: {problem}"
        );
        assert!(
            !problem.to_string().contains("kontor-api"),
            "{why}: the audience: {problem}"
        );
    }

    // Valid, but no Kontor group: 403, not 401.
    let outsider = provider
        .mint(
            claims(json!({"sub": "u-outsider", "groups": ["x/y"]})),
            None,
        )
        .await;
    assert_problem(
        app.get("/api/v1/bookings", &outsider).await,
        StatusCode::FORBIDDEN,
        "no-access",
    )
    .await;

    // Key rotation at the provider, without a restart of Kontor: the new
    // key is fetched on first sight; the retired one is no longer accepted.
    let kid = provider.rotate(false).await;
    let fresh = provider.mint(claims(json!({})), None).await;
    assert_eq!(
        app.get("/api/v1/bookings", &fresh).await.status(),
        StatusCode::OK,
        "new key {kid}"
    );
    assert_eq!(
        app.get("/api/v1/bookings", &token).await.status(),
        StatusCode::UNAUTHORIZED,
        "a token signed with the retired key"
    );
    // Browser logins validate ID tokens against the rotated keys too.
    let username = unique("nach-rotation");
    provider
        .add_user(&username, "Rita Rotation", &["nordkreis/finanzen"])
        .await;
    assert_eq!(
        Browser::new().log_in(&app, &username).await.status(),
        StatusCode::SEE_OTHER
    );
}

async fn api_tokens_are_created_used_and_revoked_on_their_page(backend: Backend) {
    let provider = Provider::start().await;
    let app = kontor_with(backend, &provider).await;
    let username = unique("entwicklerin");
    provider
        .add_user(&username, "Erika Entwicklerin", &["nordkreis/entwickler"])
        .await;
    let browser = Browser::new();
    assert_eq!(
        browser.log_in(&app, &username).await.status(),
        StatusCode::SEE_OTHER
    );
    let page = browser.get(&format!("{}/api-tokens", app.address)).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()["cache-control"], "no-store");
    let csrf = csrf_in(&page.text().await.unwrap());
    let post = |form: Vec<(&'static str, String)>| {
        browser
            .http
            .post(format!("{}/api-tokens", app.address))
            .form(&form)
            .send()
    };

    // Bad input: messages at the fields, nothing created.
    let resp = post(vec![
        ("csrf", csrf.clone()),
        ("name", "".into()),
        ("expires_on", "2001-01-01".into()),
    ])
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("f-name-error") && html.contains("f-expires_on-error"),
        "{html}"
    );
    let count = || async {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM api_tokens")
            .fetch_one(&app.db().pool)
            .await
            .unwrap();
        n
    };
    let before = count().await;

    let in_30_days = jiff::Zoned::now()
        .date()
        .checked_add(jiff::Span::new().days(30))
        .unwrap()
        .to_string();
    let resp = post(vec![
        ("csrf", csrf.clone()),
        ("name", "CI-Pipeline".into()),
        ("expires_on", in_30_days),
    ])
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let html = resp.text().await.unwrap();
    let start = html.find("kontor_").expect("the secret is shown once");
    let secret: String = html[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    assert_eq!(count().await, before + 1);
    let again = browser.get(&format!("{}/api-tokens", app.address)).await;
    assert!(
        !again.text().await.unwrap().contains(&secret),
        "and never again"
    );

    assert_eq!(
        app.get("/api/v1/bookings", &secret).await.status(),
        StatusCode::OK
    );
    let (token_id, used): (i64, Option<i64>) =
        sqlx::query_as("SELECT id, last_used_at FROM api_tokens WHERE name = 'CI-Pipeline'")
            .fetch_one(&app.db().pool)
            .await
            .unwrap();
    assert!(used.is_some(), "the use is noted");

    // Someone else's token id is "not found", and stays valid.
    let other = unique("andere");
    provider
        .add_user(&other, "Otto Anders", &["nordkreis/entwickler"])
        .await;
    let stranger = Browser::new();
    stranger.log_in(&app, &other).await;
    let page = stranger.get(&format!("{}/api-tokens", app.address)).await;
    let stranger_csrf = csrf_in(&page.text().await.unwrap());
    let resp = stranger
        .http
        .post(format!("{}/api-tokens/{token_id}/widerrufen", app.address))
        .form(&[("csrf", stranger_csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        app.get("/api/v1/bookings", &secret).await.status(),
        StatusCode::OK
    );

    let resp = browser
        .http
        .post(format!("{}/api-tokens/{token_id}/widerrufen", app.address))
        .form(&[("csrf", csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_unauthorized(app.get("/api/v1/bookings", &secret).await).await;
    let actions: Vec<(String,)> = sqlx::query_as(
        "SELECT action FROM audit_log WHERE object_type = 'api_token' AND object_id = $1 ORDER BY id",
    )
    .bind(token_id)
    .fetch_all(&app.db().pool)
    .await
    .unwrap();
    assert_eq!(
        actions.into_iter().map(|(a,)| a).collect::<Vec<_>>(),
        ["token.created", "token.revoked"]
    );
}

async fn the_api_limit_is_shared_by_two_replicas(backend: Backend) {
    let app = TestApp::spawn_configured(backend, true, |s| s.rate_limit_api_per_minute = 6).await;
    let other = app.sibling(|_| {}).await;
    let token = app.token_for("systempfleger").await;
    // Stay inside one minute window, or the count starts over.
    let second = jiff::Timestamp::now().as_second() % 60;
    if second > 50 {
        tokio::time::sleep(std::time::Duration::from_secs((61 - second) as u64)).await;
    }
    for i in 0..6 {
        let replica = if i % 2 == 0 { &app } else { &other };
        assert_eq!(
            replica.get("/api/v1/bookings", &token).await.status(),
            StatusCode::OK,
            "request {i}"
        );
    }
    for replica in [&app, &other] {
        let resp = replica.get("/api/v1/bookings", &token).await;
        let retry: i64 = resp.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&retry), "{retry}");
        assert_problem(resp, StatusCode::TOO_MANY_REQUESTS, "rate-limited").await;
    }
    // Another caller is not affected.
    let finance = app.token_for("finanzen").await;
    assert_eq!(
        app.get("/api/v1/statements", &finance).await.status(),
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn login_attempts_are_limited_per_address() {
    let provider = Provider::start().await;
    let issuer = provider.issuer.clone();
    let app = TestApp::spawn_configured(Backend::Sqlite, true, move |s| {
        s.oidc_issuer = Some(issuer);
        s.oidc_client_id = Some("kontor".into());
        s.rate_limit_login_per_minute = 3;
    })
    .await;
    let second = jiff::Timestamp::now().as_second() % 60;
    if second > 55 {
        tokio::time::sleep(std::time::Duration::from_secs((61 - second) as u64)).await;
    }
    let browser = Browser::new();
    for _ in 0..3 {
        let resp = browser.get(&format!("{}/anmelden/oidc", app.address)).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    }
    let resp = browser.get(&format!("{}/anmelden/oidc", app.address)).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(resp.headers().contains_key("retry-after"));
    assert!(resp.text().await.unwrap().contains("Zu viele Anfragen"));
}

#[tokio::test(flavor = "multi_thread")]
async fn demo_login_is_off_with_an_issuer_unless_kept_and_then_announced() {
    let provider = Provider::start().await;
    let app = kontor_with(Backend::Sqlite, &provider).await;
    // The login page offers no form then; the "kein Zugang" page has a
    // valid CSRF token of this session, so the refusal below is the demo
    // login's, not the CSRF check's.
    let browser = Browser::new();
    let page = browser.log_in(&app, "niemand").await;
    let csrf = csrf_in(&page.text().await.unwrap());
    let resp = browser
        .http
        .post(format!("{}/anmelden", app.address))
        .form(&[("csrf", csrf.as_str()), ("login", "systempfleger")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::FORBIDDEN,
        "the demo login is off"
    );

    let issuer = provider.issuer.clone();
    let kept = TestApp::spawn_configured(Backend::Sqlite, true, move |s| {
        s.oidc_issuer = Some(issuer);
        s.oidc_client_id = Some("kontor".into());
        s.demo_login = Some(true);
    })
    .await;
    let html = reqwest::get(format!("{}/anmelden", kept.address))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("data-login=\"systempfleger\""),
        "demo users offered"
    );
    assert!(
        html.contains("Neben dem Identitätsanbieter"),
        "and the banner says so"
    );
    assert!(html.contains("Beim Anmeldedienst anmelden"));
}

#[tokio::test(flavor = "multi_thread")]
async fn hsts_is_sent_only_behind_https() {
    let plain = TestApp::spawn_with(Backend::Sqlite, true).await;
    let resp = reqwest::get(format!("{}/anmelden", plain.address))
        .await
        .unwrap();
    assert!(!resp.headers().contains_key("strict-transport-security"));
    let csp = resp.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"));

    let secure = plain
        .sibling(|s| s.public_url = Some("https://kontor.example.de".into()))
        .await;
    let resp = reqwest::get(format!("{}/anmelden", secure.address))
        .await
        .unwrap();
    assert_eq!(
        resp.headers()["strict-transport-security"],
        "max-age=31536000; includeSubDomains"
    );
    let cookie = resp.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.contains("Secure"), "{cookie}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_provider_that_is_down_gives_a_clear_page_not_an_error() {
    // A port nobody listens on: the provider is "down".
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = TestApp::spawn_configured(Backend::Sqlite, true, move |s| {
        s.oidc_issuer = Some(format!("http://127.0.0.1:{port}"));
        s.oidc_client_id = Some("kontor".into());
    })
    .await;
    let resp = reqwest::get(format!("{}/anmelden/oidc", app.address))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(resp.text().await.unwrap().contains("nicht erreichbar"));
    // Portal API tokens keep working while the provider is down.
    let token = app.token_for("systempfleger").await;
    assert_eq!(
        app.get("/api/v1/bookings", &token).await.status(),
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn every_operation_documents_the_rate_limit_and_an_unreachable_provider() {
    let app = TestApp::spawn_with(Backend::Sqlite, false).await;
    let doc: Value = reqwest::get(format!("{}/api/v1/openapi.json", app.address))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let answers = &operation["responses"];
            assert!(
                answers["429"]["headers"]["Retry-After"].is_object(),
                "{method} {path}: 429 with Retry-After"
            );
            assert!(answers["503"].is_object(), "{method} {path}: 503");
            operations += 1;
        }
    }
    assert!(operations >= 29, "{operations}");
}
