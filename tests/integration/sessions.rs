//! Sessions cost nothing until someone logs in: the login form's token lives
//! in a cookie, the login page is rate-limited per address, and a scheduled
//! job deletes expired sessions.

use reqwest::{StatusCode, header, redirect::Policy};

use crate::support::{Backend, Browser, TestApp, csrf_in, until};

cluster_tests! {
    an_anonymous_flood_of_the_login_page_writes_no_session,
    the_login_form_needs_its_cookie_and_the_same_token,
    expired_sessions_are_deleted_by_the_scheduled_job,
}

async fn sessions(app: &TestApp) -> i64 {
    let (n,): (i64,) = sqlx::query_as("SELECT CAST(COUNT(*) AS BIGINT) FROM sessions")
        .fetch_one(&app.db().pool)
        .await
        .expect("count sessions");
    n
}

/// `n` views of the login page without cookies, eight at a time; the
/// statuses seen, counted.
async fn anonymous_views(app: &TestApp, n: usize) -> (usize, usize) {
    let client = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("client");
    let url = format!("{}/anmelden", app.address);
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..8 {
        let (client, url) = (client.clone(), url.clone());
        tasks.spawn(async move {
            let (mut ok, mut limited) = (0, 0);
            for _ in (worker..n).step_by(8) {
                let resp = client.get(&url).send().await.expect("GET /anmelden");
                match resp.status() {
                    StatusCode::OK => ok += 1,
                    StatusCode::TOO_MANY_REQUESTS => limited += 1,
                    other => panic!("GET /anmelden answered {other}"),
                }
            }
            (ok, limited)
        });
    }
    let (mut ok, mut limited) = (0, 0);
    while let Some(done) = tasks.join_next().await {
        let (o, l) = done.expect("worker");
        ok += o;
        limited += l;
    }
    (ok, limited)
}

async fn an_anonymous_flood_of_the_login_page_writes_no_session(backend: Backend) {
    // Without the rate limit every view is served, and none writes a row.
    let open =
        TestApp::spawn_configured(backend, true, |s| s.rate_limit_login_per_minute = 0).await;
    let before = sessions(&open).await;
    let (ok, limited) = anonymous_views(&open, 2_000).await;
    assert_eq!((ok, limited), (2_000, 0));
    assert_eq!(
        sessions(&open).await,
        before,
        "2,000 login pages, no session"
    );

    // With the default limit a flood from one address is cut off after the
    // limit; still no session.
    let app = TestApp::spawn(backend).await;
    let before = sessions(&app).await;
    let (ok, limited) = anonymous_views(&app, 10_000).await;
    assert_eq!(ok + limited, 10_000);
    assert!(
        ok <= 60 * 2,
        "at most a minute's (or two minutes') allowance: {ok}"
    );
    assert!(limited >= 10_000 - 120, "{limited}");
    assert_eq!(
        sessions(&app).await,
        before,
        "10,000 login pages, no session"
    );
}

async fn the_login_form_needs_its_cookie_and_the_same_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = || {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            .build()
            .expect("client")
    };
    let url = |path: &str| format!("{}{path}", app.address);
    let browser = client();
    let page = browser.get(url("/anmelden")).send().await.expect("GET");
    let cookie = page
        .headers()
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .expect("the login page hands over its token as a cookie")
        .to_owned();
    assert!(cookie.starts_with("kontor_csrf="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    let token = csrf_in(&page.text().await.expect("body"));
    assert!(
        cookie.contains(&token),
        "the form and the cookie carry one token"
    );
    // The same browser gets the same token again (two tabs both work).
    let again = browser.get(url("/anmelden")).send().await.expect("GET");
    assert!(again.headers().get(header::SET_COOKIE).is_none());
    assert_eq!(csrf_in(&again.text().await.expect("body")), token);

    let login = |client: reqwest::Client, token: String| {
        let url = url("/anmelden");
        async move {
            client
                .post(url)
                .form(&[("csrf", token.as_str()), ("login", "systempfleger")])
                .send()
                .await
                .expect("POST")
                .status()
        }
    };
    // The token without its cookie (another browser), or another token
    // with the cookie: refused, nobody logged in, no session.
    let before = sessions(&app).await;
    assert_eq!(login(client(), token.clone()).await, StatusCode::FORBIDDEN);
    assert_eq!(
        login(browser.clone(), kontor::secret::random_token()).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(sessions(&app).await, before);
    // Both: logged in, and only now a session row.
    assert_eq!(login(browser.clone(), token).await, StatusCode::SEE_OTHER);
    assert_eq!(sessions(&app).await, before + 1);
    let overview = browser.get(url("/uebersicht")).send().await.expect("GET");
    assert_eq!(overview.status(), StatusCode::OK);
}

async fn expired_sessions_are_deleted_by_the_scheduled_job(backend: Backend) {
    let app = TestApp::spawn_configured(backend, true, |s| s.session_prune_every_seconds = 1).await;
    let live = Browser::log_in(&app, "systempfleger").await;
    let other = Browser::log_in(&app, "betreiber").await;
    assert_eq!(sessions(&app).await, 2);
    // One of them expired (as after 30 idle minutes).
    sqlx::query(
        "UPDATE sessions SET expires_at = 0 WHERE id = (SELECT MIN(id) FROM sessions) \
         AND id <> (SELECT MAX(id) FROM sessions)",
    )
    .execute(&app.db().pool)
    .await
    .expect("expire a session");
    until("the expired session deleted by the job", async || {
        (sessions(&app).await == 1).then_some(())
    })
    .await;
    // The other one still works.
    let (status, _) = live.get("/uebersicht").await;
    let (status_b, _) = other.get("/uebersicht").await;
    assert!(
        [status, status_b].contains(&StatusCode::OK)
            && [status, status_b].contains(&StatusCode::SEE_OTHER),
        "one session alive, one gone: {status}, {status_b}"
    );
}
